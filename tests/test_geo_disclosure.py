"""Disclosure control: nothing small is published, no hidden cell can be solved, counts are
perturbed by the cell-key method exactly as the ONS's implementation does, places roll up."""

from collections import deque

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from geo.aggregate import tally
from geo.disclosure import (
    KEY_RANGE,
    OTHER,
    PTABLE,
    TOTAL,
    PerturbationTable,
    Policy,
    Tally,
    _component_without,
    _first_bridge,
    _with_margins,
    consistent_counts,
    fold_small,
    hidden_cells_determined,
    perturb,
    publish,
    roll_up,
    suppress_grid,
)

K_VALUES = st.sampled_from([3, 5, 10])
# Small tables, rich in small counts and zeros, so that suppression has work to do.
CELL = st.one_of(st.integers(0, 12), st.integers(0, 60))
TABLES = hnp.arrays(
    np.int64, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=5), elements=CELL
)
SERIES = hnp.arrays(np.int64, st.integers(1, 8), elements=CELL)
#: No noise: for the tests of suppression alone.
EXACT = PerturbationTable.from_weights({0: KEY_RANGE})


def policy(k: int = 10, exact: bool = False, high_risk=frozenset()) -> Policy:
    return Policy(k, frozenset(high_risk), EXACT if exact else PTABLE)


def counts_tally(counts, seed: int = 0, sources=None) -> Tally:
    """A tally of these counts, every respondent independent, with random key sums."""
    counts = counts if isinstance(counts, pd.Series | pd.DataFrame) else pd.DataFrame(counts)
    rng = np.random.default_rng(seed)
    keys = counts.map(lambda n: int(rng.integers(0, KEY_RANGE, n).sum()))
    return Tally(counts, keys, counts if sources is None else sources)


def small_mask(grid: np.ndarray, k: int) -> np.ndarray:
    return (grid >= 1) & (grid < k)


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
@given(TABLES, K_VALUES, st.booleans())
def test_no_published_count_below_k_and_empty_cells_look_small(counts, k, exact):
    s = publish(counts_tally(counts), policy(k, exact))
    for value in _published_numbers(s):
        assert np.isnan(value) or value >= k
    empty = counts == 0
    assert s.mask.to_numpy()[empty].all() and s.primary.to_numpy()[empty].all()


@settings(max_examples=300, deadline=None)
@given(TABLES, K_VALUES)
def test_every_line_has_zero_or_at_least_two_hidden_cells(counts, k):
    grid = _with_margins(counts)
    hidden = suppress_grid(grid, small_mask(grid, k))
    for line in (*hidden, *hidden.T):
        assert line.sum() != 1


@settings(max_examples=200, deadline=None)
@given(TABLES, K_VALUES)
def test_published_equations_leave_every_hidden_cell_undetermined(counts, k):
    grid = _with_margins(counts)
    small = small_mask(grid, k)
    hidden = suppress_grid(grid, small)
    assert not hidden_cells_determined(hidden).any()
    assert (small <= hidden).all()
    assert (grid[hidden] >= 1).all()  # the mask is made as if zeros were published


@settings(max_examples=200, deadline=None)
@given(TABLES, K_VALUES)
def test_each_hidden_cell_has_two_nonnegative_completions(counts, k):
    grid = _with_margins(counts)
    hidden = suppress_grid(grid, small_mask(grid, k))
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
    s = publish(counts_tally(pd.Series(counts)), policy(k))
    for value in _published_numbers(s):
        assert np.isnan(value) or value >= k
    nonzero_hidden = s.mask.to_numpy() & (counts > 0)
    if s.total is not None:
        assert nonzero_hidden.sum() != 1


def test_row_with_one_small_cell_hides_next_smallest():
    table = pd.DataFrame({"f": [3, 40], "m": [25, 50], "x": [30, 60]}, index=["KZ", "RU"])
    s = publish(counts_tally(table), policy(10, exact=True))
    assert s.mask.loc["KZ"].tolist() == [True, True, False]
    assert s.mask.loc["RU"].tolist() == [True, True, False]
    assert s.primary.loc["KZ", "f"] and not s.primary.loc["KZ", "m"]
    assert s.row_totals.tolist() == [58, 150] and s.total == 208
    assert s.display(("KZ", "f")) == "fewer than 10"
    assert s.display(("KZ", "m")) == "not shown (protects a small count)"
    assert s.display(("KZ", "x")) == "30"
    assert s.display(("KZ", TOTAL)) == "58"


def test_empty_reads_like_small_and_small_margins_are_hidden():
    s = publish(
        counts_tally(pd.DataFrame({"a": [0, 4], "b": [0, 3]}, index=["x", "y"])), policy(10)
    )
    assert s.display(("x", "a")) == s.display(("y", "a")) == "fewer than 10"
    assert s.display(("x", TOTAL)) == "fewer than 10"
    assert s.is_hidden(("y", TOTAL)) and s.is_hidden(TOTAL)
    assert s.display(TOTAL, translate=lambda m: "[" + m + "]") == "[fewer than 10]"


def test_k_is_a_parameter():
    counts = pd.Series({"a": 7, "b": 7, "c": 30})
    s5, s10 = (publish(counts_tally(counts), policy(k)) for k in (5, 10))
    assert not s5.mask.any()
    assert s10.mask.tolist() == [True, True, False] and s10.total is not None


def test_rejects_negative_or_fractional_counts():
    with pytest.raises(ValueError, match="nonnegative"):
        publish(Tally(*(pd.Series([1, -1]),) * 3), policy())
    with pytest.raises(ValueError, match="nonnegative"):
        publish(Tally(*(pd.Series([1.5]),) * 3), policy())


def test_policy_has_no_defaults_and_refuses_k_below_one():
    with pytest.raises(TypeError):
        Policy(10)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="at least 1"):
        Policy(0, frozenset())


# -- independent respondents ------------------------------------------------------------------


def test_a_cell_needs_k_independent_respondents_not_k_responses():
    counts = pd.Series({"Görlitz": 10, "Dresden": 40, "Leipzig": 35})
    sources = pd.Series({"Görlitz": 2, "Dresden": 40, "Leipzig": 35})  # 9 came in one burst
    s = publish(counts_tally(counts, sources=sources), policy(10))
    assert s.display("Görlitz") == "fewer than 10"
    assert s.is_hidden("Leipzig")  # secondary: Görlitz would be the total minus the others
    with pytest.raises(ValueError, match="independent"):
        publish(counts_tally(counts, sources=counts + 1), policy(10))


# -- cell-key perturbation --------------------------------------------------------------------


def test_the_perturbation_table_is_as_documented():
    assert PTABLE.max_noise == 3
    assert len(PTABLE.noise) == KEY_RANGE
    assert sum(PTABLE.noise) == 0  # unbiased away from k
    assert PTABLE.p_unchanged == pytest.approx(76 / 256)
    assert PTABLE.variance == pytest.approx(2.125)
    with pytest.raises(ValueError, match="add up"):
        PerturbationTable.from_weights({0: 100})


def test_published_counts_match_the_ons_cell_key_implementation():
    from cell_key_perturbation.create_perturbed_table import create_perturbed_table

    rng = np.random.default_rng(7)
    n = 20_000
    people = pd.DataFrame(
        {
            "country": rng.choice(["KZ", "RU", "CN", "MN", "TR", "DE"], n),
            "band": rng.choice(["16-24", "25-34", "35-44", "65+"], n, p=[0.4, 0.4, 0.19, 0.01]),
            "record_key": rng.integers(0, KEY_RANGE, n),
            "independent": True,
        }
    )
    for k in (5, 10):
        ons = create_perturbed_table(
            people,
            PTABLE.as_ons_ptable(k),
            geog=["country"],
            tab_vars=["band"],
            record_key="record_key",
            threshold=k,
        ).set_index(["country", "band"])
        table = tally(people, "country", "band")
        ours = perturb(table.n.to_numpy(), table.key.to_numpy(), policy(k))
        for (i, country), (j, band) in (
            (a, b) for a in enumerate(table.n.index) for b in enumerate(table.n.columns)
        ):
            expected = ons.loc[(country, band), "count"]
            if table.n.iloc[i, j] >= k:
                assert ours[i, j] == expected, (country, band)
            else:
                assert pd.isna(expected)


def test_the_same_respondents_always_get_the_same_published_count():
    rng = np.random.default_rng(3)
    people = pd.DataFrame(
        {
            "country": rng.choice(["KZ", "RU"], 400),
            "sex": rng.choice(["female", "male"], 400),
            "record_key": rng.integers(0, KEY_RANGE, 400),
            "independent": True,
        }
    )
    alone = publish(tally(people, "country"), policy(10))
    crossed = publish(tally(people, "country", "sex"), policy(5))
    shuffled = publish(tally(people.sample(frac=1, random_state=1), "country"), policy(10))
    for country in ("KZ", "RU"):
        assert alone.value(country) == crossed.value((country, TOTAL)) == shuffled.value(country)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 500), st.integers(0, 10_000), K_VALUES)
def test_a_published_count_is_within_three_and_the_truth_is_among_the_consistent(n, key, k):
    value = int(perturb([n], [key], policy(k))[0])
    if n >= k:
        assert value >= k and abs(value - n) <= 3
        assert n in consistent_counts(value, policy(k))
    assert int(perturb([0], [key], policy(k))[0]) == 0


# -- folding small categories -----------------------------------------------------------------


def test_fold_small_lists_only_categories_of_k_and_folds_a_small_remainder():
    counts = pd.Series({"KZ": 30, "CN": 2, "TR": 1, "RU": 12, "DE": 40})
    s = fold_small(counts_tally(counts), policy(10, exact=True))
    # CN and TR (3) fold into "other", which is then small: RU, the smallest listed, joins it.
    assert list(s.values.index) == ["KZ", "DE", OTHER]
    assert s.display(OTHER) == "15"
    big = fold_small(counts_tally(pd.Series({"KZ": 30, "DE": 40})), policy(10, exact=True))
    assert big.display(OTHER) == "fewer than 10"  # nothing else: said as of a small group


def _leaves(rows):
    return pd.DataFrame(
        [
            {"country": c, "region": r, "city": t, "n": n, "key": 7 * n, "sources": n}
            for c, r, t, n in rows
        ]
    )


def test_roll_up_merges_small_places_and_recoverable_remainders():
    leaves = _leaves(
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
    units = roll_up(leaves, ["country", "region", "city"], policy(10, True, {"CN"}))
    assert set(units.country) == {"KZ", "CN"}
    cn = units[units.country == "CN"]
    assert cn.level.tolist() == ["country"] and cn.n.tolist() == [40]
    kz = units[units.country == "KZ"].set_index(["level", "rest"])
    assert kz.n.sum() == 55
    assert (units.n >= 10).all()
    assert kz.loc[("city", False), "city"] == "Almaty"
    assert kz.loc[("region", True), "n"] == 13  # Talgar + Esik
    assert kz.loc[("country", True), "n"] == 12  # Astana + unknown region
    assert not {"lat", "lon"} & set(units.columns)  # positions come from the gazetteer


def test_roll_up_counts_independent_respondents():
    leaves = pd.DataFrame(
        [
            {
                "country": "DE",
                "region": "DE-SN",
                "city": "Görlitz",
                "n": 10,
                "key": 5,
                "sources": 2,
            },
            {
                "country": "DE",
                "region": "DE-SN",
                "city": "Leipzig",
                "n": 30,
                "key": 9,
                "sources": 30,
            },
        ]
    )
    units = roll_up(leaves, ["country", "region", "city"], policy(10, exact=True))
    assert "Görlitz" not in set(units.city.dropna())


PLACES = st.tuples(
    st.sampled_from(["KZ", "RU", "CN"]),
    st.sampled_from(["A", "B", "C", None]),
    st.sampled_from(["x", "y", "z", ""]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(PLACES, st.integers(1, 15)), max_size=12), K_VALUES, st.booleans())
def test_roll_up_units_are_disjoint_and_never_small(groups, k, exact):
    leaves = pd.DataFrame(
        [{"country": c, "region": r, "city": t, "n": n, "key": n * 3, "sources": n}
         for (c, r, t), n in groups],
        columns=["country", "region", "city", "n", "key", "sources"],
    )  # fmt: skip
    units = roll_up(leaves, ["country", "region", "city"], policy(k, exact, {"CN"}))
    assert (units.n >= k).all()
    sizes = leaves.groupby("country").n.sum()
    for country, n in sizes.items():
        published = units[units.country == country]
        if exact:  # every respondent exactly once
            assert published.n.sum() == (n if n >= k else 0)
        else:
            assert abs(published.n.sum() - (n if n >= k else 0)) <= 3 * len(published)
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
