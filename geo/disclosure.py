"""Disclosure control: the only way a count of respondents leaves the database.

Every figure the Atlas shows or writes (maps, profiles, reports, coordinator pages, GeoJSON and
GeoPackage layers, the analyst dashboard) is made here from a :class:`Tally` and a
:class:`Policy`, by :func:`publish`, :func:`fold_small` or :func:`roll_up`. Four rules, applied in
this order, make the published numbers hold against someone who can submit, withdraw, filter and
compare:

1. **Small cells are hidden, and empty ones look the same.** A cell is published only when it
   holds at least ``k`` *independent* respondents (k = 10 for anything a coordinator or the public
   sees, 5 in the analyst workspace). Responses sent within a short time of each other from one
   address count once towards k, however many there are (the app decides which responses are
   independent, at submission); that makes padding a cell to k with one's own submissions cost
   k-1 addresses or days rather than one script. A hidden cell reads "fewer than k", and so does
   an empty one: no page distinguishes 0 from 1..k-1.

2. **Secondary suppression.** Hiding the small cells alone is not enough when totals are
   published: a row total minus the other cells gives back a hidden cell. :func:`suppress_grid`
   also hides *secondary* cells until no hidden cell can be solved from what is published:

   * Think of the table *with its margins* as an (r+1) x (c+1) grid. Every line of that grid is
     one published linear equation ``sum(cells) = total``.
   * Draw a bipartite graph with one node per grid row and one per grid column; every hidden
     cell is an edge between its row and its column. The values the hidden cells can take differ
     by combinations of even cycles with alternating +1/-1, so a hidden cell is determined by the
     published equations exactly when its edge is a *bridge* (lies on no cycle).
   * Step 1: while some line holds exactly one hidden cell, also hide the smallest nonzero
     published cell of that line (interior cells before its margin).
   * Step 2: if a hidden cell is still a bridge, hide the smallest nonzero published cell that
     joins the two sides the bridge separates; failing that, the smallest nonzero cell in one of
     its lines, then anywhere. Go back to step 1.
   * Every step hides one more cell and hiding every nonzero cell is safe, so this ends. Because
     every hidden cell is >= 1, adding or removing 1 around a cycle gives a second nonnegative
     table with the same published numbers. The mask is computed as if zeros were published;
     hiding them too (rule 1) only takes information away.

3. **Cell-key perturbation** (the method of the Australian Bureau of Statistics' TableBuilder,
   used by the UK's 2021 census; Thompson, Broadfoot and Elazar, "Methodology for the automatic
   confidentialisation of statistical outputs from remote servers at the Australian Bureau of
   Statistics", UNECE work session on statistical data confidentiality, 2013). Every stored
   response carries a random *record key*, uniform on 0..255 and never shown. A cell's *cell
   key* is the sum of its records' keys modulo 256, and the published count is
   ``max(n + noise[cell key], k)`` with ``noise`` from :data:`PTABLE`: -3..+3, unchanged for
   30 % of cells, variance 2.1, no noise on 0. The same set of respondents always makes the same
   cell key, so a cell gets the same value in every product (map, profile, export, dashboard) and
   under every filter that leaves its respondents alone: asking again, or through another door,
   gives nothing new. A cell that differs by one respondent gets an unrelated key. The
   implementation is checked against the ONS's ``cell-key-perturbation`` package (tests).

4. **Places roll up** (:func:`roll_up`): a city below k joins "elsewhere in its region", a region
   below k "elsewhere in the country"; a remainder that would be small takes in the smallest
   published sibling. High-risk countries are one country-level unit. Positions on maps are the
   gazetteer's points of the place (never a mean of respondents' coordinates): no published
   number or position is computed from a respondent's own point.

What this guarantees, and what it does not:

* A published count p means the true count is in ``max(k, p-3)..p+3`` (:func:`consistent_counts`).
  The difference of two published counts is the true difference plus noise in -6..+6: a set of
  13 values, so it can never pin a hidden count to 1..k-1 (k <= 10), and cannot tell 0 from 6.
* Padding a unit with m of one's own independent responses moves its published value by m-6..m+6.
* This is not differential privacy: the noise is bounded, so an attacker who can make many
  *different* versions of a cell (adding and withdrawing fakes between publications, each from a
  new address, each counted only once the maps are rebuilt) can average them. The app bounds how
  fast one client can do that (rate limits, one independent response per address and hour, a
  day's hold after a withdrawal); the README's privacy section gives the cost.
* Membership of a unit at k: an attacker who controls k-1 independent sources and waits for a
  publication learns whether at least one other independent respondent is in that unit.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geo.i18n import N_, Translate, identity

#: Record keys are drawn uniformly from 0..KEY_RANGE-1 (as the ONS's method and package do).
KEY_RANGE = 256

#: Key for a margin in :meth:`Suppressed.display`: ``(row, TOTAL)``, ``(TOTAL, col)``, ``TOTAL``.
TOTAL = "__total__"
#: Key of the row that :func:`fold_small` folds small categories into.
OTHER = "__other__"

MSG_FEWER_THAN = N_("fewer than %(k)s")
MSG_HIDDEN = N_("not shown (protects a small count)")


# --- policy and perturbation table ---------------------------------------------------------


@dataclass(frozen=True)
class PerturbationTable:
    """Noise added to a published count, looked up by its cell key.

    ``noise[key]`` for every cell key 0..KEY_RANGE-1; each noise value occupies as many keys as
    its probability times KEY_RANGE.
    """

    noise: tuple[int, ...]

    @classmethod
    def from_weights(cls, weights: Mapping[int, int]) -> PerturbationTable:
        """Build a table from {noise: number of keys}; the numbers must add up to KEY_RANGE."""
        if sum(weights.values()) != KEY_RANGE or min(weights.values()) < 0:
            raise ValueError(f"weights must be nonnegative and add up to {KEY_RANGE}")
        noise: list[int] = []
        for value in sorted(weights):
            noise.extend([value] * weights[value])
        return cls(tuple(noise))

    @property
    def max_noise(self) -> int:
        """Return the largest change a count can get (D)."""
        return max(abs(v) for v in self.noise)

    @property
    def variance(self) -> float:
        """Return the variance of the noise (for counts far from k)."""
        return float(np.mean(np.square(self.noise)) - np.mean(self.noise) ** 2)

    @property
    def p_unchanged(self) -> float:
        """Return the probability that a count is published as it is (far from k)."""
        return self.noise.count(0) / KEY_RANGE

    def as_array(self) -> np.ndarray:
        """Return the noise by cell key as an array."""
        return np.asarray(self.noise, dtype=np.int64)

    def as_ons_ptable(self, k: int, max_count: int = 750) -> pd.DataFrame:
        """Return this table in the ONS package's format (``pcv``, ``ckey``, ``pvalue``).

        Counts below k are perturbed to 0 (the package then suppresses them); counts from k up
        are clamped at k, as :func:`perturb` does.
        """
        pcv = np.repeat(np.arange(1, max_count + 1), KEY_RANGE)
        ckey = np.tile(np.arange(KEY_RANGE), max_count)
        noise = self.as_array()[ckey]
        pvalue = np.where(pcv < k, -pcv, np.maximum(noise, k - pcv))
        return pd.DataFrame({"pcv": pcv, "ckey": ckey, "pvalue": pvalue})


#: The perturbation used everywhere: -3..+3, published unchanged 30 % of the time (76 keys of
#: 256), +-1 40 %, +-2 20 %, +-3 10 %; mean 0, variance 2.1.
PTABLE = PerturbationTable.from_weights({-3: 13, -2: 26, -1: 51, 0: 76, 1: 51, 2: 26, 3: 13})


@dataclass(frozen=True)
class Policy:
    """What may be published: the threshold, the high-risk countries, the perturbation.

    There are no defaults: the app builds its policies from its configuration (one place).
    """

    #: Smallest number of independent respondents a published cell holds.
    k: int
    #: ISO 3166-1 alpha-2 codes of countries published at country level only.
    high_risk: frozenset[str]
    ptable: PerturbationTable = PTABLE

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError("k must be at least 1")
        object.__setattr__(self, "high_risk", frozenset(self.high_risk))


def perturb(n: Any, key: Any, policy: Policy) -> np.ndarray:
    """Return published values of counts whose cells hold at least k: ``max(n + noise, k)``.

    :param n: true counts (0 stays 0).
    :param key: the cells' key sums (any nonnegative integers; taken modulo KEY_RANGE).
    """
    n = np.asarray(n, dtype=np.int64)
    key = np.asarray(key, dtype=np.int64) % KEY_RANGE
    noisy = np.maximum(n + policy.ptable.as_array()[key], policy.k)
    return np.where(n > 0, noisy, 0)


def consistent_counts(published: int, policy: Policy) -> range:
    """Return every true count that could have been published as ``published``."""
    d = policy.ptable.max_noise
    return range(max(policy.k, published - d), published + d + 1)


# --- tallies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """Respondents per cell, with what publishing them takes.

    Three tables of one shape (a Series, or a DataFrame of rows x columns): ``n`` respondents,
    ``key`` the sum of their record keys, ``sources`` how many of them are independent (count
    towards k). All three add up over cells, so margins are sums. Nothing here is publishable as
    it is: pass it to :func:`publish`.
    """

    n: pd.Series | pd.DataFrame
    key: pd.Series | pd.DataFrame
    sources: pd.Series | pd.DataFrame

    @property
    def ndim(self) -> int:
        """Return 1 for a series, 2 for a table."""
        return self.n.ndim

    def __iter__(self) -> Iterator[pd.Series | pd.DataFrame]:
        """Iterate over the three parts (n, key, sources), to reshape them alike."""
        return iter((self.n, self.key, self.sources))

    @classmethod
    def from_rows(
        cls,
        rows: pd.DataFrame,
        by: list[str] | tuple[str, ...],
        index: Iterable[Hashable] | None = None,
        columns: Iterable[Hashable] | None = None,
    ) -> Tally:
        """Make a tally from rows of ``by`` values with ``n``, ``key`` and ``sources`` columns.

        One ``by`` column gives a series, two a table (rows by the first, columns by the second).
        Repeated labels are added up; ``index``/``columns`` list every label wanted (missing
        ones are 0, in that order).
        """
        by = list(by)
        if len(by) not in (1, 2):
            raise ValueError("a tally has one or two dimensions")
        values = ["n", "key", "sources"]
        grouped = (
            rows.groupby(by, sort=True, observed=True, dropna=True)[values].sum()
            if len(rows)
            else pd.DataFrame(
                {v: pd.Series(dtype="int64") for v in values},
                index=pd.MultiIndex.from_arrays([[]] * len(by), names=by)
                if len(by) > 1
                else pd.Index([], name=by[0]),
            )
        )
        grouped = grouped.astype("int64")
        if len(by) == 1:
            grouped.index = _plain(grouped.index, by[0])
            if index is not None:
                grouped = grouped.reindex(list(index), fill_value=0)
            return cls(*(grouped[v].rename(None) for v in values))
        parts = []
        for value in values:
            table = grouped[value].unstack(by[1], fill_value=0)
            table.index = _plain(table.index, by[0])
            table.columns = _plain(table.columns, by[1])
            if index is not None:
                table = table.reindex(index=list(index), fill_value=0)
            if columns is not None:
                table = table.reindex(columns=list(columns), fill_value=0)
            parts.append(table.fillna(0).astype("int64"))
        n, key, sources = parts
        key = key.reindex_like(n).fillna(0).astype("int64")
        sources = sources.reindex_like(n).fillna(0).astype("int64")
        return cls(n, key, sources)

    def reindex(self, labels: Iterable[Hashable]) -> Tally:
        """Return a 1-D tally with exactly these labels, in this order (missing ones 0)."""
        labels = list(labels)
        return Tally(
            *(part.reindex(labels, fill_value=0) for part in (self.n, self.key, self.sources))
        )


def _plain(index: pd.Index, name: str) -> pd.Index:
    """Return labels as a plain object index (not categorical), for lookups by any label."""
    return pd.Index(list(index), dtype=object, name=name)


# --- publishing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Suppressed:
    """A count table made safe to publish.

    ``values`` holds the published (perturbed) counts as floats with NaN where hidden; ``mask``
    is True where hidden; ``primary`` is True where hidden because the cell is small or empty
    (the others are secondary). Margins are published in the same way; for a 1-D table
    ``row_totals``/``col_totals`` are None and only ``total`` is published. True counts are not
    kept here, so they cannot leak through it.
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

    def value(self, key: Hashable) -> float | None:
        """Return a cell's (or margin's) published value, or None where hidden."""
        value = self._lookup(key)[0]
        return None if np.isnan(value) else value

    def is_hidden(self, key: Hashable) -> bool:
        """Tell whether a cell (or margin, see :data:`TOTAL`) is hidden."""
        return bool(np.isnan(self._lookup(key)[0]))

    def display(
        self,
        key: Hashable,
        translate: Translate = identity,
        number: Callable[[float], str] = lambda n: str(int(n)),
    ) -> str:
        """Return the text to publish for a cell: the count or "fewer than k".

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


def publish(tally: Tally, policy: Policy, keep_cells: bool = False) -> Suppressed:
    """Hide small and empty cells and enough others that none can be solved; perturb the rest.

    :param tally: a 1-D tally (published with its total) or a 2-D one (published with row,
        column and grand totals).
    :param keep_cells: (1-D) when one cell alone is small, hide the total rather than a second
        cell: for a line whose cells matter more than their sum (a link's completed and
        in-progress counts).
    :return: the published table, masks and margins.
    """
    k = policy.k
    n, key, sources = (_as_counts(part) for part in (tally.n, tally.key, tally.sources))
    if np.any(sources > n):
        raise ValueError("a cell cannot hold more independent respondents than respondents")
    if tally.ndim == 1:
        index = tally.n.index
        hidden, primary, total_hidden, total_small = _suppress_line(n, sources, k, keep_cells)
        shown = perturb(n, key, policy).astype(float)
        empty = n == 0
        total = int(n.sum())
        total_value = float(perturb([total], [int(key.sum())], policy)[0])

        def series(a: np.ndarray) -> pd.Series:
            return pd.Series(a, index=index)

        return Suppressed(
            k=k,
            values=series(np.where(hidden | empty, np.nan, shown)),
            mask=series(hidden | empty),
            primary=series(primary | empty),
            total=None if total_hidden or total == 0 else total_value,
            total_primary=total_small or total == 0,
        )

    grid = _with_margins(n)
    key_grid = _with_margins(key)
    source_grid = _with_margins(sources)
    small = (grid >= 1) & (source_grid < k)
    hidden = suppress_grid(grid, small)
    empty = grid == 0
    shown = np.where(hidden | empty, np.nan, perturb(grid, key_grid, policy).astype(float))
    hidden_any, primary = hidden | empty, small | empty
    r, c = n.shape

    def frame(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(a, index=tally.n.index, columns=tally.n.columns)

    def rows(a: np.ndarray) -> pd.Series:
        return pd.Series(a, index=tally.n.index)

    def cols(a: np.ndarray) -> pd.Series:
        return pd.Series(a, index=tally.n.columns)

    return Suppressed(
        k=k,
        values=frame(shown[:r, :c]),
        mask=frame(hidden_any[:r, :c]),
        primary=frame(primary[:r, :c]),
        total=None if np.isnan(shown[r, c]) else float(shown[r, c]),
        total_primary=bool(primary[r, c]),
        row_totals=rows(shown[:r, c]),
        row_totals_mask=rows(hidden_any[:r, c]),
        row_totals_primary=rows(primary[:r, c]),
        col_totals=cols(shown[r, :c]),
        col_totals_mask=cols(hidden_any[r, :c]),
        col_totals_primary=cols(primary[r, :c]),
    )


def fold_small(tally: Tally, policy: Policy) -> Suppressed:
    """Publish a 1-D tally with its small categories folded into one unlabelled row.

    For pages where even the labels of small categories would tell something (which countries
    or languages a link's few respondents have): categories below k are added up under
    :data:`OTHER`, and if that remainder would itself be small, the smallest listed categories
    join it until it is empty or holds k. The result lists only categories of at least k, plus
    :data:`OTHER` (shown as "fewer than k" when empty or small).
    """
    if tally.ndim != 1:
        raise ValueError("fold_small takes a 1-D tally")
    n, key, sources = (_as_counts(part) for part in (tally.n, tally.key, tally.sources))
    labels = list(tally.n.index)
    listed = [i for i in np.argsort(sources, kind="stable") if sources[i] >= policy.k]
    other = [i for i in range(len(labels)) if i not in set(listed)]
    while listed and 0 < n[other].sum() and sources[other].sum() < policy.k:
        other.append(listed.pop(0))
    keep = sorted(listed)
    folded = Tally(
        pd.Series([*n[keep], n[other].sum()], index=[*(labels[i] for i in keep), OTHER]),
        pd.Series([*key[keep], key[other].sum()], index=[*(labels[i] for i in keep), OTHER]),
        pd.Series(
            [*sources[keep], sources[other].sum()], index=[*(labels[i] for i in keep), OTHER]
        ),
    )
    return publish(folded, policy)


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


def _suppress_line(
    n: np.ndarray, sources: np.ndarray, k: int, keep_cells: bool = False
) -> tuple[np.ndarray, np.ndarray, bool, bool]:
    """Suppress one additive line: cells plus their total.

    :param keep_cells: with one small cell, hide the total instead of another cell.
    :return: (hidden, small, total hidden, total small).
    """
    small = (n >= 1) & (sources < k)
    hidden = small.copy()
    total_small = n.sum() >= 1 and sources.sum() < k
    if total_small:
        # Every nonzero cell holds at most the total's independent respondents: all hidden.
        return hidden, small, True, True
    if hidden.sum() == 1 and keep_cells:
        return hidden, small, True, False
    if hidden.sum() == 1:
        candidates = np.flatnonzero(~hidden & (n > 0))
        # The total holds k independent respondents and the small cell fewer: another is nonzero.
        hidden[candidates[np.argmin(n[candidates])]] = True
    return hidden, small, False, False


def suppress_grid(grid: np.ndarray, small: np.ndarray) -> np.ndarray:
    """Return which cells of an (r+1) x (c+1) margin grid to hide, the ``small`` ones included.

    :param grid: counts, last row and column the margins.
    :param small: the cells that must be hidden (primary suppression; all nonzero).
    """
    hidden = small.copy()
    rows, cols = grid.shape
    while True:
        _fix_single_hidden_lines(grid, hidden)
        bridge = _first_bridge(hidden)
        if bridge is None:
            return hidden
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


def roll_up(
    leaves: pd.DataFrame,
    levels: list[str] | tuple[str, ...],
    policy: Policy,
) -> pd.DataFrame:
    """Group respondents into disjoint places of at least k, rolling small ones up a level.

    A city with fewer than k independent respondents joins "elsewhere in its region", a region
    with fewer than k joins "elsewhere in the country". If such a remainder would itself be small
    (and so be recoverable as parent minus published children), the smallest published sibling
    joins it too, until the remainder is empty or holds k. Countries in ``policy.high_risk`` are
    one country-level unit; countries with fewer than k are left out.

    :param leaves: one row per respondent or per group of them, with the ``levels`` columns
        (missing = unknown) and ``n``, ``key``, ``sources`` (see :class:`Tally`).
    :return: one row per unit: ``level`` (the deepest level it is specific to), the level
        columns (None below ``level``), ``n`` (published, perturbed) and ``rest`` (True for an
        "elsewhere in" remainder). No positions: see :func:`geo.places.place_point`.
    """
    levels = list(levels)
    frame = pd.DataFrame({name: as_category(leaves[name]) for name in levels}, index=leaves.index)
    for part in ("n", "key", "sources"):
        frame[part] = np.asarray(leaves[part], dtype=np.int64)
    grouped = frame.groupby(levels, dropna=False, sort=True, observed=True)[
        ["n", "key", "sources"]
    ].sum()
    grouped = grouped.reset_index()
    for name in levels:
        values = grouped[name].astype(object)
        grouped[name] = values.where(values.notna(), None)

    units: list[dict[str, Any]] = []
    for top, group in grouped.groupby(levels[0], dropna=True, sort=True):
        if group["sources"].sum() < policy.k:
            continue
        depth = 1 if top in policy.high_risk else len(levels)
        _unitize(group, levels, 1, depth, policy.k, {levels[0]: top}, units)
    out = pd.DataFrame(units, columns=["level", *levels, "n", "key", "rest"])
    out["n"] = perturb(out["n"].to_numpy(dtype=np.int64), out["key"], policy)
    return out.drop(columns="key").astype({"n": "int64"})


def _unitize(
    group: pd.DataFrame,
    levels: list[str],
    pos: int,
    depth: int,
    k: int,
    where: dict[str, Any],
    units: list[dict[str, Any]],
) -> None:
    """Split ``group`` (>= k independent respondents, fixed down to ``levels[pos-1]``)."""
    if pos >= depth:
        units.append(_unit(group, levels, pos - 1, where, rest=False))
        return
    child = levels[pos]
    sizes = group.groupby(child, dropna=True, sort=True)[["n", "sources"]].sum()
    published = sizes[sizes["sources"] >= k].sort_values(["sources", "n"], kind="stable")
    rest_n = int(group["n"].sum() - published["n"].sum())
    rest_sources = int(group["sources"].sum() - published["sources"].sum())
    while rest_n > 0 and rest_sources < k and len(published):
        rest_n += int(published["n"].iloc[0])
        rest_sources += int(published["sources"].iloc[0])
        published = published.iloc[1:]
    for name in published.index:
        sub = group[group[child] == name]
        _unitize(sub, levels, pos + 1, depth, k, {**where, child: name}, units)
    if rest_n:
        remainder = group[~group[child].isin(published.index) | group[child].isna()]
        units.append(_unit(remainder, levels, pos - 1, where, rest=bool(len(published))))


def _unit(
    group: pd.DataFrame, levels: list[str], pos: int, where: dict[str, Any], rest: bool
) -> dict[str, Any]:
    return {
        "level": levels[pos],
        **{name: where.get(name) for name in levels},
        "n": int(group["n"].sum()),
        "key": int(group["key"].sum()),
        "rest": rest,
    }


def as_category(column: pd.Series) -> pd.Series:
    """Return a grouping column as a categorical, with empty strings as missing.

    Grouping a million rows on categorical codes is several times faster than on Python strings.
    """
    if not isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype("category")
    if "" in column.cat.categories:
        column = column.cat.remove_categories([""])
    return column
