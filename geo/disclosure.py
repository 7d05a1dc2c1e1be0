"""Small-cell suppression of count tables, with secondary suppression.

A published count of 1..k-1 respondents could single people out, so such cells are *hidden* and
shown as "fewer than k" (k = 10 for anything a coordinator or the public sees, k = 5 inside the
analyst workspace; see REFERENCE.md). Zero is structural and published as "0".

Hiding the small cells alone is not enough when totals are published: a row total minus the other
cells gives back a hidden cell. :func:`suppress` therefore also hides *secondary* cells until no
hidden cell can be solved from what is published.

How the secondary suppression works (2-D table with row, column and grand totals):

* Think of the table *with its margins* as an (r+1) x (c+1) grid. Every line of that grid (a row
  with its row total, a column with its column total, the row of column totals with the grand
  total, ...) is one published linear equation ``sum(cells) = total``.
* Draw a bipartite graph with one node per grid row and one per grid column; every hidden cell is
  an edge between its row and its column. After flipping the sign of margin cells, each equation
  says "the edges at this node add up to a known number", so the values the hidden cells can take
  differ by combinations of even cycles with alternating +1/-1. A hidden cell is determined by
  the published equations exactly when its edge is a *bridge* (lies on no cycle).
* Step 1 (the classic rule): while some line holds exactly one hidden cell, also hide the smallest
  nonzero published cell of that line (interior cells before its margin).
* Step 2: if a hidden cell is still a bridge, hide the smallest nonzero published cell that joins
  the two sides the bridge separates (which puts it on a cycle); failing that, the smallest
  nonzero cell in one of its lines, then anywhere. Go back to step 1.
* Every step hides one more cell, and hiding every nonzero cell is safe (each nonzero cell lies on
  the 4-cycle cell - row total - grand total - column total), so this reaches a fixed point.
  Because every hidden cell is >= 1, adding or removing 1 around a cycle gives a second
  nonnegative table with the same published numbers: no hidden cell can be recovered exactly.

A 1-D series with a published total is one line: it never has exactly one hidden cell.

Only the published values (NaN where hidden) and the masks are kept on :class:`Suppressed`; the
true values of hidden cells are not carried along, so they cannot leak through it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geo.i18n import N_, Translate, identity

#: Default k for anything a coordinator, an association or the public sees.
K_PUBLISHED = 10
#: Default k inside the analyst workspace.
K_ANALYST = 5
#: Countries shown at country level only (respondents there risk harm if located).
DEFAULT_HIGH_RISK: frozenset[str] = frozenset({"CN"})

#: Key for a margin in :meth:`Suppressed.display`: ``(row, TOTAL)``, ``(TOTAL, col)``, ``TOTAL``.
TOTAL = "__total__"

MSG_FEWER_THAN = N_("fewer than %(k)s")
MSG_HIDDEN = N_("not shown (protects a small count)")


@dataclass(frozen=True)
class Suppressed:
    """A count table made safe to publish.

    ``values`` holds the published counts as floats with NaN where hidden; ``mask`` is True where
    hidden; ``primary`` is True where hidden because the count was 1..k-1 (the others are
    secondary). Margins are computed from the true data and suppressed in the same way; for a 1-D
    table ``row_totals``/``col_totals`` are None and only ``total`` is published.
    """

    k: int
    values: pd.DataFrame | pd.Series
    mask: pd.DataFrame | pd.Series
    primary: pd.DataFrame | pd.Series
    total: float | None
    total_primary: bool = False
    row_totals: pd.Series | None = None
    row_totals_mask: pd.Series | None = None
    row_totals_primary: pd.Series | None = None
    col_totals: pd.Series | None = None
    col_totals_mask: pd.Series | None = None
    col_totals_primary: pd.Series | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def ndim(self) -> int:
        """Return 1 for a series, 2 for a table."""
        return self.values.ndim

    def _lookup(self, key: Hashable) -> tuple[float, bool]:
        """Return (published value or NaN, hidden-because-small) for a cell or margin key."""
        if key == TOTAL:
            return (np.nan if self.total is None else self.total), self.total_primary
        if self.ndim == 1:
            return float(self.values[key]), bool(self.primary[key])
        row, col = key  # type: ignore[misc]
        if col == TOTAL:
            return float(self.row_totals[row]), bool(self.row_totals_primary[row])  # type: ignore[index]
        if row == TOTAL:
            return float(self.col_totals[col]), bool(self.col_totals_primary[col])  # type: ignore[index]
        return float(self.values.loc[row, col]), bool(self.primary.loc[row, col])  # type: ignore[union-attr]

    def is_hidden(self, key: Hashable) -> bool:
        """Tell whether a cell (or margin, see :data:`TOTAL`) is hidden."""
        return bool(np.isnan(self._lookup(key)[0]))

    def display(
        self,
        key: Hashable,
        translate: Translate = identity,
        number: Callable[[float], str] = lambda n: str(int(n)),
    ) -> str:
        """Return the text to publish for a cell: the count, "0", or "fewer than k".

        :param key: a label (1-D), ``(row, col)`` (2-D), or with :data:`TOTAL` for margins.
        :param translate: gettext of the output language.
        :param number: formats a published count (e.g. with locale grouping).
        """
        value, small = self._lookup(key)
        return display_count(value, small, self.k, translate, number)

    def as_text(self, translate: Translate = identity) -> pd.DataFrame | pd.Series:
        """Return the published table (with margins) as display strings."""
        if self.ndim == 1:
            out = pd.Series({key: self.display(key, translate) for key in self.values.index})
            out[TOTAL] = self.display(TOTAL, translate)
            return out
        rows = [*self.values.index, TOTAL]
        cols = [*self.values.columns, TOTAL]
        return pd.DataFrame(
            [
                [
                    self.display(TOTAL if r == TOTAL and c == TOTAL else (r, c), translate)
                    for c in cols
                ]
                for r in rows
            ],
            index=rows,
            columns=cols,
        )


def display_count(
    value: float | None,
    small: bool,
    k: int,
    translate: Translate = identity,
    number: Callable[[float], str] = lambda n: str(int(n)),
) -> str:
    """Return the published text of one count (hidden counts say so, never their value)."""
    if value is None or np.isnan(value):
        if small:
            return translate(MSG_FEWER_THAN) % {"k": number(k)}
        return translate(MSG_HIDDEN)
    return number(value)


def suppress(table: pd.DataFrame | pd.Series, k: int = K_PUBLISHED) -> Suppressed:
    """Hide counts of 1..k-1 and enough other cells that none can be recovered from totals.

    :param table: nonnegative integer counts; a Series (published with its total) or a DataFrame
        (published with row, column and grand totals).
    :param k: smallest count that may be published.
    :return: the published table, masks and margins.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    counts = _as_counts(table)
    if isinstance(table, pd.Series):
        hidden, primary, total_hidden, total_primary = _suppress_line(counts, k)
        true_total = int(counts.sum())
        return Suppressed(
            k=k,
            values=pd.Series(np.where(hidden, np.nan, counts), index=table.index, name=table.name),
            mask=pd.Series(hidden, index=table.index, name=table.name),
            primary=pd.Series(primary, index=table.index, name=table.name),
            total=None if total_hidden else float(true_total),
            total_primary=total_primary,
        )

    grid = _with_margins(counts)
    hidden_grid, primary_grid = suppress_grid(grid, k)
    r, c = counts.shape
    published = np.where(hidden_grid, np.nan, grid.astype(float))

    def frame(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(a, index=table.index, columns=table.columns)

    def rows(a: np.ndarray) -> pd.Series:
        return pd.Series(a, index=table.index)

    def cols(a: np.ndarray) -> pd.Series:
        return pd.Series(a, index=table.columns)

    return Suppressed(
        k=k,
        values=frame(published[:r, :c]),
        mask=frame(hidden_grid[:r, :c]),
        primary=frame(primary_grid[:r, :c]),
        total=None if hidden_grid[r, c] else float(grid[r, c]),
        total_primary=bool(primary_grid[r, c]),
        row_totals=rows(published[:r, c]),
        row_totals_mask=rows(hidden_grid[:r, c]),
        row_totals_primary=rows(primary_grid[:r, c]),
        col_totals=cols(published[r, :c]),
        col_totals_mask=cols(hidden_grid[r, :c]),
        col_totals_primary=cols(primary_grid[r, :c]),
    )


def _as_counts(table: pd.DataFrame | pd.Series) -> np.ndarray:
    """Return the table as an int64 array, refusing negative or fractional counts."""
    raw = np.asarray(table.fillna(0).to_numpy(dtype=float))
    if (raw < 0).any() or not np.array_equal(raw, np.round(raw)):
        raise ValueError("counts must be nonnegative integers")
    return raw.astype(np.int64)


def _with_margins(counts: np.ndarray) -> np.ndarray:
    """Return the (r+1) x (c+1) grid: counts, row totals, column totals, grand total."""
    r, c = counts.shape
    grid = np.zeros((r + 1, c + 1), dtype=np.int64)
    grid[:r, :c] = counts
    grid[:r, c] = counts.sum(axis=1)
    grid[r, :c] = counts.sum(axis=0)
    grid[r, c] = counts.sum()
    return grid


def _suppress_line(counts: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, bool, bool]:
    """Suppress one additive line: cells plus their total."""
    total = int(counts.sum())
    primary = (counts >= 1) & (counts < k)
    hidden = primary.copy()
    total_primary = 1 <= total < k
    if total_primary:
        # Every nonzero cell is <= total < k, hence already hidden; the total is hidden too.
        return hidden, primary, True, True
    if hidden.sum() == 1:
        candidates = np.flatnonzero(~hidden & (counts > 0))
        # A single hidden cell below k beside a total >= k implies another nonzero cell.
        hidden[candidates[np.argmin(counts[candidates])]] = True
    return hidden, primary, False, False


def suppress_grid(grid: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Suppress an (r+1) x (c+1) grid whose last row and column are the margins.

    :return: (hidden, primary) boolean arrays of the grid's shape.
    """
    primary = (grid >= 1) & (grid < k)
    hidden = primary.copy()
    rows, cols = grid.shape
    while True:
        _fix_single_hidden_lines(grid, hidden)
        bridge = _first_bridge(hidden)
        if bridge is None:
            return hidden, primary
        i, j = bridge
        side = _component_without(hidden, bridge)
        published = ~hidden & (grid > 0)
        # Cells that join row-side and column-side of the bridge put it on a cycle.
        row_side = np.array([("r", a) in side for a in range(rows)])
        col_side = np.array([("c", b) in side for b in range(cols)])
        joins = published & (row_side[:, None] != col_side[None, :])
        for choice in (joins, _line_mask(grid.shape, i, j) & published, published):
            if choice.any():
                hidden[_smallest(grid, choice)] = True
                break
        else:  # pragma: no cover - unreachable: hiding every nonzero cell leaves no bridge
            raise AssertionError("secondary suppression found no cell to hide")


def _line_mask(shape: tuple[int, int], i: int, j: int) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[i, :] = True
    mask[:, j] = True
    return mask


def _smallest(grid: np.ndarray, choice: np.ndarray) -> tuple[int, int]:
    """Return the smallest chosen cell, interior cells before margins on ties."""
    rows, cols = grid.shape
    best: tuple[int, int, int] | None = None
    best_cell = (0, 0)
    for a, b in zip(*np.nonzero(choice), strict=True):
        is_margin = int(a == rows - 1 or b == cols - 1)
        key = (int(grid[a, b]), is_margin, int(a) * cols + int(b))
        if best is None or key < best:
            best, best_cell = key, (int(a), int(b))
    return best_cell


def _fix_single_hidden_lines(grid: np.ndarray, hidden: np.ndarray) -> None:
    """Until no line holds exactly one hidden cell, hide the next-smallest nonzero cell there."""
    rows, cols = grid.shape
    while True:
        changed = False
        for axis in (0, 1):
            per_line = hidden.sum(axis=1 - axis)
            for line in np.flatnonzero(per_line == 1):
                choice = np.zeros_like(hidden)
                if axis == 0:
                    choice[line, :] = True
                else:
                    choice[:, line] = True
                choice &= ~hidden & (grid > 0)
                if choice.any():
                    hidden[_smallest(grid, choice)] = True
                    changed = True
        if not changed:
            return


def _adjacency(hidden: np.ndarray) -> dict[tuple[str, int], set[tuple[str, int]]]:
    adj: dict[tuple[str, int], set[tuple[str, int]]] = {}
    for a, b in zip(*np.nonzero(hidden), strict=True):
        adj.setdefault(("r", int(a)), set()).add(("c", int(b)))
        adj.setdefault(("c", int(b)), set()).add(("r", int(a)))
    return adj


def _component_without(hidden: np.ndarray, edge: tuple[int, int]) -> set[tuple[str, int]]:
    """Return the nodes reachable from the edge's row node without using the edge."""
    adj = _adjacency(hidden)
    start, banned = ("r", edge[0]), ("c", edge[1])
    seen = {start}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in adj.get(node, ()):
            if {node, nxt} == {start, banned} or nxt in seen:
                continue
            seen.add(nxt)
            queue.append(nxt)
    return seen


def _first_bridge(hidden: np.ndarray) -> tuple[int, int] | None:
    """Return a hidden cell lying on no cycle of the hidden-cell graph, if any.

    Tarjan's bridge search, iterative, linear in the number of hidden cells.
    """
    rows = hidden.shape[0]
    ii, jj = np.nonzero(hidden)
    size = rows + hidden.shape[1]
    adj: list[list[tuple[int, int]]] = [[] for _ in range(size)]
    for edge, (a, b) in enumerate(zip(ii.tolist(), jj.tolist(), strict=True)):
        adj[a].append((rows + b, edge))
        adj[rows + b].append((a, edge))
    disc = [-1] * size
    low = [0] * size
    timer = 0
    bridges: list[int] = []
    for root in range(size):
        if disc[root] != -1 or not adj[root]:
            continue
        disc[root] = low[root] = timer
        timer += 1
        stack = [(root, -1, iter(adj[root]))]
        while stack:
            node, via, neighbours = stack[-1]
            for nxt, edge in neighbours:
                if edge == via:
                    continue
                if disc[nxt] == -1:
                    disc[nxt] = low[nxt] = timer
                    timer += 1
                    stack.append((nxt, edge, iter(adj[nxt])))
                    break
                low[node] = min(low[node], disc[nxt])
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > disc[parent]:
                        bridges.append(via)
    if not bridges:
        return None
    first = min(bridges)  # row-major order, for a deterministic result
    return int(ii[first]), int(jj[first])


def hidden_cells_determined(hidden: np.ndarray) -> np.ndarray:
    """Return which hidden cells of a margin grid the published equations determine exactly.

    Independent of the graph argument above (used to check it): the unknowns are the hidden cells,
    the equations are the grid's lines; a cell is determined iff its unit vector lies in the row
    space of the constraint matrix, i.e. adding it as an equation does not raise the rank.
    """
    rows, cols = hidden.shape
    cells = list(zip(*np.nonzero(hidden), strict=True))
    if not cells:
        return np.zeros(0, dtype=bool)
    # Row i reads "cells of row i - row total = 0", column j "cells of column j - column total
    # = 0"; published cells move to the right-hand side, hidden ones keep their coefficient.
    a = np.zeros((rows + cols, len(cells)))
    for n, (i, j) in enumerate(cells):
        a[i, n] = -1 if j == cols - 1 else 1
        a[rows + j, n] = -1 if i == rows - 1 else 1
    rank = np.linalg.matrix_rank(a)
    determined = np.zeros(len(cells), dtype=bool)
    for n in range(len(cells)):
        unit = np.zeros((1, len(cells)))
        unit[0, n] = 1
        determined[n] = np.linalg.matrix_rank(np.vstack([a, unit])) == rank
    return determined


# --- roll-up of places ---------------------------------------------------------------------


def as_category(column: pd.Series) -> pd.Series:
    """Return a grouping column as a categorical, with empty strings as missing.

    Grouping a million rows on categorical codes is several times faster than on Python strings.
    """
    if not isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype("category")
    if "" in column.cat.categories:
        column = column.cat.remove_categories([""])
    return column


def roll_up(
    df: pd.DataFrame,
    levels: list[str] | tuple[str, ...] = ("country", "region", "city"),
    k: int = K_PUBLISHED,
    high_risk: frozenset[str] = DEFAULT_HIGH_RISK,
    coords: tuple[str, str] | None = ("lat", "lon"),
    decimals: int = 1,
) -> pd.DataFrame:
    """Group respondents into disjoint places of at least k, rolling small ones up a level.

    A city with fewer than k respondents joins "elsewhere in its region", a region with fewer than
    k joins "elsewhere in the country". If such a remainder would itself be 1..k-1 (and so be
    recoverable as parent minus published children), the smallest published sibling joins it too,
    until the remainder is 0 or >= k. Countries in ``high_risk`` are one country-level unit;
    countries with fewer than k respondents are left out.

    :param df: one row per respondent with the ``levels`` columns (missing = unknown).
    :param coords: latitude/longitude columns; each unit gets their mean, rounded to
        ``decimals``, computed over its >= k respondents only (never one person's point).
    :return: one row per unit: ``level`` (the deepest level it is specific to), the level
        columns (None below ``level``), ``n``, ``rest`` (True for an "elsewhere in" remainder),
        ``lat``, ``lon``.
    """
    levels = list(levels)
    leaf = pd.DataFrame({name: as_category(df[name]) for name in levels}, index=df.index)
    leaf["_n"] = 1
    if coords is not None:
        lat, lon = (pd.to_numeric(df[c], errors="coerce") for c in coords)
        ok = lat.notna() & lon.notna()
        leaf = leaf.assign(_lat=lat.where(ok, 0.0), _lon=lon.where(ok, 0.0), _w=ok.astype(int))
    else:
        leaf = leaf.assign(_lat=0.0, _lon=0.0, _w=0)
    leaves = leaf.groupby(levels, dropna=False, sort=True, observed=True)[
        ["_n", "_lat", "_lon", "_w"]
    ].sum()
    leaves = leaves.reset_index()
    for name in levels:
        values = leaves[name].astype(object)
        leaves[name] = values.where(values.notna(), None)

    units: list[dict[str, Any]] = []
    for top, group in leaves.groupby(levels[0], dropna=True, sort=True):
        if group["_n"].sum() < k:
            continue
        depth = 1 if top in high_risk else len(levels)
        _unitize(group, levels, 1, depth, k, {levels[0]: top}, units)
    columns = ["level", *levels, "n", "rest", "lat", "lon"]
    out = pd.DataFrame(units, columns=columns)
    for c in ("lat", "lon"):
        out[c] = out[c].round(decimals)
    out["n"] = out["n"].astype("int64")
    return out


def _unitize(
    group: pd.DataFrame,
    levels: list[str],
    pos: int,
    depth: int,
    k: int,
    where: dict[str, Any],
    units: list[dict[str, Any]],
) -> None:
    """Split ``group`` (>= k respondents, fixed down to ``levels[pos-1]``) into units."""
    if pos >= depth:
        units.append(_unit(group, levels, pos - 1, where, k, rest=False))
        return
    child = levels[pos]
    sizes = group.groupby(child, dropna=True, sort=True)["_n"].sum()
    published = sizes[sizes >= k].sort_values(kind="stable")
    rest = int(group["_n"].sum() - published.sum())
    while 0 < rest < k and len(published):
        rest += int(published.iloc[0])
        published = published.iloc[1:]
    for name in published.index:
        sub = group[group[child] == name]
        _unitize(sub, levels, pos + 1, depth, k, {**where, child: name}, units)
    if rest:
        remainder = group[~group[child].isin(published.index) | group[child].isna()]
        units.append(_unit(remainder, levels, pos - 1, where, k, rest=bool(len(published))))


def _unit(
    group: pd.DataFrame, levels: list[str], pos: int, where: dict[str, Any], k: int, rest: bool
) -> dict[str, Any]:
    # A mean over fewer than k located respondents could be one person's point: leave it out.
    w = int(group["_w"].sum())
    w = w if w >= k else 0
    return {
        "level": levels[pos],
        **{name: where.get(name) for name in levels},
        "n": int(group["_n"].sum()),
        "rest": rest,
        "lat": group["_lat"].sum() / w if w else np.nan,
        "lon": group["_lon"].sum() / w if w else np.nan,
    }
