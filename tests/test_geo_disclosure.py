"""Small-cell suppression: no small count is published and no hidden cell can be solved."""

from collections import deque

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from geo.disclosure import (
    TOTAL,
    _component_without,
    _first_bridge,
    _with_margins,
    hidden_cells_determined,
    roll_up,
    suppress,
    suppress_grid,
)

K_VALUES = st.sampled_from([3, 5, 10])
# Small tables, rich in small counts and zeros, so that suppression has work to do.
CELL = st.one_of(st.integers(0, 12), st.integers(0, 60))
TABLES = hnp.arrays(
    np.int64, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=5), elements=CELL
)
SERIES = hnp.arrays(np.int64, st.integers(1, 8), elements=CELL)


def _published_numbers(s) -> list[float]:
    values = [*np.ravel(s.values.to_numpy(dtype=float))]
    if s.row_totals is not None:
        values += [*s.row_totals, *s.col_totals]
    values.append(np.nan if s.total is None else s.total)
    return values


def _cycle_through(hidden: np.ndarray, cell: tuple[int, int]) -> list[tuple[int, int]] | None:
    """Return a cycle of hidden cells (alternating row/column moves) through ``cell``."""
    i, j = cell
    adj: dict = {}
    for a, b in zip(*np.nonzero(hidden), strict=True):
        if (a, b) == (i, j):
            continue
        adj.setdefault(("r", a), []).append(("c", b))
        adj.setdefault(("c", b), []).append(("r", a))
    start, goal = ("c", j), ("r", i)
    parent = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            break
        for nxt in adj.get(node, []):
            if nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    if goal not in parent:
        return None
    path = [goal]
    while parent[path[-1]] is not None:
        path.append(parent[path[-1]])
    # path runs row i ... column j; its edges, then the cell itself close the cycle.
    edges = []
    for u, v in zip(path, path[1:], strict=False):
        r, c = (u, v) if u[0] == "r" else (v, u)
        edges.append((r[1], c[1]))
    return [cell, *edges]


def _consistent(grid: np.ndarray) -> bool:
    inner = grid[:-1, :-1]
    return (
        np.array_equal(inner.sum(axis=1), grid[:-1, -1])
        and np.array_equal(inner.sum(axis=0), grid[-1, :-1])
        and inner.sum() == grid[-1, -1]
    )


@settings(max_examples=300, deadline=None)
@given(TABLES, K_VALUES)
def test_no_published_count_between_1_and_k_minus_1(counts, k):
    s = suppress(pd.DataFrame(counts), k)
    for value in _published_numbers(s):
        assert np.isnan(value) or value == 0 or value >= k


@settings(max_examples=300, deadline=None)
@given(TABLES, K_VALUES)
def test_every_line_has_zero_or_at_least_two_hidden_cells(counts, k):
    hidden, _ = suppress_grid(_with_margins(counts), k)
    for line in (*hidden, *hidden.T):
        assert line.sum() != 1


@settings(max_examples=200, deadline=None)
@given(TABLES, K_VALUES)
def test_published_equations_leave_every_hidden_cell_undetermined(counts, k):
    grid = _with_margins(counts)
    hidden, primary = suppress_grid(grid, k)
    assert not hidden_cells_determined(hidden).any()
    assert (primary <= hidden).all()
    assert (grid[hidden] >= 1).all()  # zeros are structural and never hidden


@settings(max_examples=200, deadline=None)
@given(TABLES, K_VALUES)
def test_each_hidden_cell_has_two_nonnegative_completions(counts, k):
    grid = _with_margins(counts)
    hidden, _ = suppress_grid(grid, k)
    for cell in zip(*np.nonzero(hidden), strict=True):
        cycle = _cycle_through(hidden, cell)
        assert cycle is not None, f"hidden cell {cell} lies on no cycle"
        other = grid.copy()
        last_row, last_col = grid.shape[0] - 1, grid.shape[1] - 1
        for n, (a, b) in enumerate(cycle):
            # Alternate +1/-1 around the cycle; a row or column total moves with its cells.
            margin_sign = -1 if (a == last_row) != (b == last_col) else 1
            other[a, b] += (-1 if n % 2 else 1) * margin_sign
        assert other[cell] != grid[cell]
        assert (other >= 0).all()
        assert _consistent(other)
        assert np.array_equal(other[~hidden], grid[~hidden])  # same published numbers


@settings(max_examples=300, deadline=None)
@given(SERIES, K_VALUES)
def test_series_with_total(counts, k):
    s = suppress(pd.Series(counts), k)
    for value in _published_numbers(s):
        assert np.isnan(value) or value == 0 or value >= k
    if s.total is not None:
        assert s.mask.sum() != 1
    assert (counts[s.mask.to_numpy()] >= 1).all()


def test_row_with_one_small_cell_hides_next_smallest():
    table = pd.DataFrame({"f": [3, 40], "m": [25, 50], "x": [30, 60]}, index=["KZ", "RU"])
    s = suppress(table, 10)
    assert s.mask.loc["KZ"].tolist() == [True, True, False]
    assert s.mask.loc["RU"].tolist() == [True, True, False]
    assert s.primary.loc["KZ", "f"] and not s.primary.loc["KZ", "m"]
    assert s.row_totals.tolist() == [58, 150] and s.total == 208
    assert s.display(("KZ", "f")) == "fewer than 10"
    assert s.display(("KZ", "m")) == "not shown (protects a small count)"
    assert s.display(("KZ", "x")) == "30"
    assert s.display(("KZ", TOTAL)) == "58"


def test_zero_is_published_and_small_margins_hidden():
    s = suppress(pd.DataFrame({"a": [0, 4], "b": [0, 3]}, index=["x", "y"]), 10)
    assert s.display(("x", "a")) == "0" and s.display(("x", TOTAL)) == "0"
    assert s.is_hidden(("y", TOTAL)) and s.is_hidden(TOTAL)
    assert s.display(TOTAL, translate=lambda m: "[" + m + "]") == "[fewer than 10]"


def test_k_is_a_parameter():
    s5, s10 = (
        suppress(pd.Series({"a": 7, "b": 7, "c": 30}), 5),
        suppress(pd.Series({"a": 7, "b": 7, "c": 30}), 10),
    )
    assert not s5.mask.any()
    assert s10.mask.tolist() == [True, True, False] and s10.total == 44


def test_rejects_negative_or_fractional_counts():
    with pytest.raises(ValueError, match="nonnegative"):
        suppress(pd.Series([1, -1]))
    with pytest.raises(ValueError, match="nonnegative"):
        suppress(pd.Series([1.5]))


def _people(rows):
    return pd.DataFrame(
        [
            {"country": c, "region": r, "city": t, "lat": 40.0 + i * 0.01, "lon": 70.0}
            for c, r, t, n in rows
            for i in range(n)
        ]
    )


def test_roll_up_merges_small_places_and_recoverable_remainders():
    df = _people(
        [
            ("KZ", "KZ-75", "Almaty", 30),
            ("KZ", "KZ-75", "Talgar", 3),  # small city: joins "elsewhere in KZ-75" (3)...
            ("KZ", "KZ-75", "Esik", 10),  # ...so the smallest published city joins it too
            ("KZ", "KZ-71", "Astana", 4),  # small region: elsewhere in KZ
            ("KZ", None, None, 8),
            ("RU", "RU-ORE", "Orenburg", 9),  # whole country below k: left out
            ("CN", "CN-XJ", "Urumqi", 40),  # high risk: country level only
        ]
    )
    units = roll_up(df, k=10)
    assert set(units.country) == {"KZ", "CN"}
    cn = units[units.country == "CN"]
    assert cn.level.tolist() == ["country"] and cn.n.tolist() == [40]
    kz = units[units.country == "KZ"].set_index(["level", "rest"])
    assert kz.n.sum() == 55
    assert (units.n >= 10).all()
    assert kz.loc[("city", False), "city"] == "Almaty"
    assert kz.loc[("region", True), "n"] == 13  # Talgar + Esik
    assert kz.loc[("country", True), "n"] == 12  # Astana + unknown region
    assert units.lat.notna().all()


def test_roll_up_no_individual_coordinates():
    df = _people([("KZ", "KZ-75", "Almaty", 12)])
    df.loc[1:, ["lat", "lon"]] = np.nan  # only one respondent gave a location
    units = roll_up(df, k=10)
    assert units.n.tolist() == [12] and units.lat.isna().all()


PLACES = st.tuples(
    st.sampled_from(["KZ", "RU", "CN"]),
    st.sampled_from(["A", "B", "C", None]),
    st.sampled_from(["x", "y", "z", ""]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(PLACES, st.integers(1, 15)), max_size=12), K_VALUES)
def test_roll_up_units_are_disjoint_and_never_small(groups, k):
    rows = [
        {"country": c, "region": r, "city": t, "lat": 1.0, "lon": 2.0}
        for (c, r, t), n in groups
        for _ in range(n)
    ]
    df = pd.DataFrame(rows, columns=["country", "region", "city", "lat", "lon"])
    units = roll_up(df, k=k, high_risk=frozenset({"CN"}))
    assert (units.n >= k).all()
    sizes = df.country.value_counts()
    for country, n in sizes.items():
        published = units[units.country == country]
        assert published.n.sum() == (n if n >= k else 0)  # every respondent exactly once
    assert set(units[units.country == "CN"].level) <= {"country"}


def test_bridge_between_two_cycles_is_found():
    hidden = np.zeros((4, 4), dtype=bool)
    hidden[:2, :2] = True
    hidden[2:, 2:] = True
    assert _first_bridge(hidden) is None
    hidden[1, 2] = True  # joins the two cycles: on no cycle itself
    assert _first_bridge(hidden) == (1, 2)


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(bool, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6)))
def test_bridge_search_matches_brute_force(hidden):
    brute = [
        (int(a), int(b))
        for a, b in zip(*np.nonzero(hidden), strict=True)
        if ("c", int(b)) not in _component_without(hidden, (int(a), int(b)))
    ]
    assert _first_bridge(hidden) == (brute[0] if brute else None)
