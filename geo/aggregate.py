"""Counts and shares of survey responses, suppressed for publication.

Input is a DataFrame of responses, one row per respondent, with the columns country, region, city,
lat, lon, sex, age_band, citizenship, language, link (scalars), skills, languages, needs,
contribution (multi-select: list-likes) and education, occupation, return_intention (scalars).
Countries and citizenships are ISO 3166-1 alpha-2 codes, regions ISO 3166-2 codes.

Every row also carries ``record_key`` (0..255) and ``independent`` (whether it counts towards k),
which :mod:`geo.disclosure` needs. Every function that returns counts takes a
:class:`~geo.disclosure.Policy` and returns them published (:func:`geo.disclosure.publish`);
nothing here returns a raw count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geo.disclosure import (
    Policy,
    Suppressed,
    Tally,
    as_category,
    display_count,
    perturb,
    publish,
    roll_up,
)
from geo.estimates import load_estimates
from geo.i18n import N_, Translate, identity

AGE_BANDS: tuple[str, ...] = ("16-24", "25-34", "35-44", "45-54", "55-64", "65+")
_AGE_EDGES = np.array([16, 25, 35, 45, 55, 65])
MIN_AGE = 16

MULTI_SELECT = ("skills", "languages", "needs", "contribution")

#: Citizenship relative to the country of residence (see :func:`citizenship_category`).
CITIZENSHIP_CATEGORIES: dict[str, str] = {
    "KZ": N_("Citizens of Kazakhstan"),
    "residence": N_("Citizens of their country of residence"),
    "other": N_("Citizens of another country"),
    "none": N_("No citizenship given"),
}


def age_band(age: float) -> str:
    """Return the age band of an age in years (16-24, 25-34, ..., 65+).

    :raises ValueError: for a missing age or one below 16 (the survey's minimum age).
    """
    if age is None or not np.isfinite(age) or age < MIN_AGE:
        raise ValueError(f"no age band for {age!r}")
    return AGE_BANDS[int(np.searchsorted(_AGE_EDGES, age, side="right")) - 1]


def age_bands(ages: Sequence[float] | pd.Series) -> pd.Categorical:
    """Return the age bands of many ages at once (missing or under 16 -> missing)."""
    a = pd.to_numeric(pd.Series(ages), errors="coerce").to_numpy(dtype=float)
    codes = np.searchsorted(_AGE_EDGES, np.nan_to_num(a, nan=-1.0), side="right") - 1
    codes[~np.isfinite(a) | (a < MIN_AGE)] = -1
    return pd.Categorical.from_codes(codes, categories=list(AGE_BANDS), ordered=True)


def _column(df: pd.DataFrame, name: str) -> pd.Series:
    """Return a grouping column as a categorical, with empty values missing."""
    return as_category(df[name])


def group_counts(
    df: pd.DataFrame, by: Sequence[str | pd.Series], keep_missing: bool = False
) -> pd.DataFrame:
    """Return one row per combination of ``by`` values found, with ``n``, ``key``, ``sources``.

    ``df`` holds one row per respondent with ``record_key`` and ``independent`` (see
    :class:`geo.disclosure.Tally`). Counted on categorical codes with ``np.bincount``: a million
    respondents take tens of milliseconds, not a pandas group-by of three sums.

    :param by: column names, or Series aligned with ``df`` (named by their ``name``).
    :param keep_missing: keep respondents with a missing value (as None) instead of leaving
        them out (the roll-up of places needs "region unknown").
    """
    names = [b if isinstance(b, str) else (b.name or f"by{i}") for i, b in enumerate(by)]
    columns = [as_category(df[b] if isinstance(b, str) else b) for b in by]
    flat = np.zeros(len(df), dtype=np.int64)
    ok = np.ones(len(df), dtype=bool)
    sizes = []
    for column in columns:
        codes = column.cat.codes.to_numpy().astype(np.int64)
        size = len(column.cat.categories) + 1  # the last slot: missing
        ok &= keep_missing | (codes >= 0)
        flat = flat * size + np.where(codes >= 0, codes, size - 1)
        sizes.append(size)
    flat = flat[ok]
    cells = int(np.prod(sizes)) if sizes else 1
    n = np.bincount(flat, minlength=cells)
    found = np.flatnonzero(n)
    parts = {
        "n": n[found],
        "key": _sums(flat, np.asarray(df["record_key"], dtype=np.int64)[ok], cells)[found],
        "sources": _sums(flat, np.asarray(df["independent"], dtype=np.int64)[ok], cells)[found],
    }
    out: dict[str, Any] = {}
    rest = found
    for name, column, size in reversed(list(zip(names, columns, sizes, strict=True))):
        codes = rest % size
        rest = rest // size
        labels = np.asarray(list(column.cat.categories) + [None], dtype=object)
        out[name] = labels[codes]
    frame = pd.DataFrame({name: out[name] for name in names})
    for part, values in parts.items():
        frame[part] = values.astype(np.int64)
    return frame


def _sums(flat: np.ndarray, weights: np.ndarray, cells: int) -> np.ndarray:
    """Return exact integer sums of ``weights`` per cell (bincount adds floats: < 2**53 here)."""
    return np.rint(np.bincount(flat, weights=weights, minlength=cells)).astype(np.int64)


def tally(
    df: pd.DataFrame,
    *by: str | pd.Series,
    index: Sequence[object] | None = None,
    columns: Sequence[object] | None = None,
) -> Tally:
    """Count respondents by one or two columns (names, or Series aligned with ``df``).

    Respondents with a missing value in a grouping column are left out. Without ``index`` /
    ``columns`` the labels are those found; with them, exactly those, in order (missing ones 0).
    Counted on categorical codes, as :func:`group_counts`.
    """
    if not by or len(by) > 2:
        raise ValueError("tally counts by one or two columns")
    grouping = [as_category(df[b] if isinstance(b, str) else b) for b in by]
    sizes = [len(g.cat.categories) for g in grouping]
    codes = [g.cat.codes.to_numpy().astype(np.int64) for g in grouping]
    ok = np.logical_and.reduce([c >= 0 for c in codes])
    flat = codes[0][ok] if len(by) == 1 else codes[0][ok] * sizes[1] + codes[1][ok]
    cells = int(np.prod(sizes))
    arrays = [
        np.bincount(flat, minlength=cells),
        _sums(flat, np.asarray(df["record_key"], dtype=np.int64)[ok], cells),
        _sums(flat, np.asarray(df["independent"], dtype=np.int64)[ok], cells),
    ]
    labels = [pd.Index(list(g.cat.categories), dtype=object) for g in grouping]
    if len(by) == 1:
        wanted = _wanted(labels[0], index, arrays[0] > 0)
        pick = _picker(labels[0], wanted)
        return Tally(*(pd.Series(pick(a), index=wanted) for a in arrays))
    shaped = [a.reshape(sizes) for a in arrays]
    rows = _wanted(labels[0], index, shaped[0].sum(axis=1) > 0)
    cols = _wanted(labels[1], columns, shaped[0].sum(axis=0) > 0)
    pick_rows, pick_cols = _picker(labels[0], rows), _picker(labels[1], cols)
    return Tally(
        *(pd.DataFrame(pick_cols(pick_rows(a).T).T, index=rows, columns=cols) for a in shaped)
    )


def _wanted(labels: pd.Index, asked: Sequence[object] | None, found: np.ndarray) -> pd.Index:
    """Return the labels asked for, else those found (nonzero), as a plain object index."""
    return pd.Index(list(asked) if asked is not None else list(labels[found]), dtype=object)


def _picker(labels: pd.Index, wanted: pd.Index) -> Any:
    """Return a function taking an array's first axis from ``labels`` to ``wanted`` (0 if new)."""
    position = labels.get_indexer(wanted)
    missing = position < 0

    def pick(array: np.ndarray) -> np.ndarray:
        out = (
            array[np.where(missing, 0, position)]
            if len(array)
            else np.zeros((len(wanted), *array.shape[1:]), dtype=np.int64)
        )
        out = np.asarray(out, dtype=np.int64)
        out[missing] = 0
        return out

    return pick


def counts_by(df: pd.DataFrame, by: Sequence[str], policy: Policy) -> Suppressed:
    """Count respondents by one column (with its total) or two (with margins), published."""
    return publish(tally(df, *by), policy)


def cross(df: pd.DataFrame, row: str, col: str, policy: Policy) -> Suppressed:
    """Cross-tabulate respondents by ``row`` x ``col``, with published margins."""
    return counts_by(df, [row, col], policy)


def citizenship_category(df: pd.DataFrame) -> pd.Series:
    """Classify citizenship as KZ, residence (same as country of residence), other or none."""
    cit = _column(df, "citizenship")
    country = _column(df, "country")
    # Compare codes over a shared set of categories rather than a million strings.
    shared = cit.cat.categories.union(country.cat.categories)
    cit_codes = pd.Categorical(cit, categories=shared).codes
    country_codes = pd.Categorical(country, categories=shared).codes
    kz = shared.get_loc("KZ") if "KZ" in shared else -2
    out = np.select(
        [cit_codes < 0, cit_codes == kz, cit_codes == country_codes], [3, 0, 1], 2
    ).astype(np.int8)
    return pd.Series(
        pd.Categorical.from_codes(out, categories=["KZ", "residence", "other", "none"]),
        index=df.index,
        name="citizenship_category",
    )


@dataclass(frozen=True)
class Shares:
    """Share of respondents naming each item of a multi-select question, per group.

    ``counts`` holds published counts (NaN where hidden), ``n`` the published respondents per
    group (the denominator; NaN where hidden), ``share`` = counts / n (NaN where hidden),
    ``mask`` True where hidden, ``primary`` True where hidden because the count, its complement
    or the group is small or empty.
    """

    k: int
    role: str
    counts: pd.DataFrame
    n: pd.Series
    share: pd.DataFrame
    mask: pd.DataFrame
    primary: pd.DataFrame

    def display(
        self,
        group: str,
        item: str,
        translate: Translate = identity,
        number: Callable[[float], str] | None = None,
    ) -> str:
        """Return the published share as text (or "fewer than k")."""
        value = self.share.loc[group, item]
        if np.isnan(value):
            return display_count(np.nan, bool(self.primary.loc[group, item]), self.k, translate)
        return number(value) if number else f"{value:.0%}"


def share_naming(
    df: pd.DataFrame, role: str, policy: Policy, by: str = "country", items: Sequence[str] = ()
) -> Shares:
    """Return the share of respondents in each ``by`` group naming each item of ``role``.

    The denominator is every respondent of the group (not naming an item includes not
    answering). A share is published only when the group, the respondents naming the item *and
    those not naming it* each hold at least k independent respondents (a share of 97 % of 40
    people would single out the one who did not; 0 % and 100 % are hidden alike). Counts and
    group sizes are perturbed (:func:`geo.disclosure.perturb`) and the share is their ratio.
    Items are not additive, so no other cell can give a hidden one away; groups hidden
    elsewhere must be dropped by the caller beforehand.

    :param items: items to report even if nobody named them (they are hidden: 0 %).
    """
    group = _column(df, by)
    groups = tally(df, group.rename(by))
    keep = groups.n > 0
    groups = Tally(groups.n[keep], groups.key[keep], groups.sources[keep])
    naming = _naming_tally(group, df[role], df, groups.n.index, items)
    return shares_from(groups, naming, policy, role)


def shares_from(groups: Tally, naming: Tally, policy: Policy, role: str) -> Shares:
    """Publish shares from tallies (as :func:`share_naming` does from respondents).

    :param groups: respondents per group (1-D), the denominators.
    :param naming: respondents naming each item, per group (2-D: the same groups x items).
    """
    k = policy.k
    naming = Tally(
        *(
            part.reindex(index=groups.n.index, fill_value=0)
            for part in (naming.n, naming.key, naming.sources)
        )
    )
    c, c_key, c_src = (part.to_numpy() for part in (naming.n, naming.key, naming.sources))
    n = groups.n.to_numpy()[:, None]
    n_src = groups.sources.to_numpy()[:, None]
    primary = (c_src < k) | (n_src - c_src < k) | (n_src < k)
    published_c = perturb(c, c_key, policy).astype(float)
    published_n = perturb(n, groups.key.to_numpy()[:, None], policy).astype(float)
    counts = np.where(primary, np.nan, published_c)

    def frame(a: np.ndarray) -> pd.DataFrame:
        out = pd.DataFrame(a, index=naming.n.index, columns=naming.n.columns)
        out.columns.name = role
        return out

    n_shown = groups.sources.to_numpy() >= k
    return Shares(
        k=k,
        role=role,
        counts=frame(counts),
        n=pd.Series(np.where(n_shown, published_n[:, 0], np.nan), index=groups.n.index),
        share=frame(counts / np.where(published_n > 0, published_n, 1)),
        mask=frame(primary),
        primary=frame(primary),
    )


def _is_listlike(value: object) -> bool:
    return isinstance(value, list | tuple | set | frozenset | np.ndarray)


def _naming_tally(
    group: pd.Series,
    answers: pd.Series,
    df: pd.DataFrame,
    groups: pd.Index,
    extra_items: Sequence[str] = (),
) -> Tally:
    """Tally respondents per group naming each item, without exploding a million rows.

    Answers repeat a lot (a few hundred distinct selections), so they are factorised first and
    each distinct selection is expanded into items once.
    """
    try:
        codes, uniques = pd.factorize(answers, use_na_sentinel=True)
    except TypeError:  # unhashable lists: make them tuples first
        as_tuples = answers.map(lambda v: tuple(v) if _is_listlike(v) else None)
        codes, uniques = pd.factorize(as_tuples, use_na_sentinel=True)
    selections = [set(v) if _is_listlike(v) else set() for v in uniques]
    named = {item for sel in selections for item in sel if item is not None}
    items = list(dict.fromkeys([*extra_items, *sorted(named, key=str)]))
    incidence = np.array(
        [[item in sel for item in items] for sel in selections], dtype=np.int64
    ).reshape(len(selections), len(items))
    # Map each row's category to its position in ``groups`` (-1: missing or not a group).
    position = pd.Index(groups).get_indexer(group.cat.categories)
    codes_of_group = group.cat.codes.to_numpy()
    group_code = np.where(codes_of_group >= 0, position[codes_of_group], -1)
    ok = (group_code >= 0) & (codes >= 0)
    flat = group_code[ok].astype(np.int64) * len(selections) + codes[ok]
    size = len(groups) * len(selections)
    parts = []
    for weights in (
        None,
        np.asarray(df["record_key"], dtype=np.int64)[ok],
        np.asarray(df["independent"], dtype=np.int64)[ok],
    ):
        per_selection = np.bincount(flat, weights=weights, minlength=size)
        per_selection = np.rint(per_selection).astype(np.int64)
        per_selection = per_selection.reshape(len(groups), len(selections))
        parts.append(pd.DataFrame(per_selection @ incidence, index=groups, columns=pd.Index(items)))
    return Tally(*parts)


def coverage(df_counts: Suppressed | pd.Series, estimates: pd.DataFrame) -> pd.DataFrame:
    """Return respondents relative to the estimated number of Kazakhs, with its uncertainty.

    :param df_counts: published respondents per country (a suppressed 1-D table, or a Series
        with NaN where hidden).
    :param estimates: :func:`geo.estimates.load_estimates` (indexed by ISO2; low/high/central).
    :return: per estimated country: n, low, high, central, ``ratio`` = n / central,
        ``ratio_low`` = n / high and ``ratio_high`` = n / low (NaN where n is hidden),
        year, source, confidence, note. A country with no published count has NaN.
    """
    counts = df_counts.values if isinstance(df_counts, Suppressed) else df_counts
    out = estimates.copy()
    out.insert(0, "n", counts.reindex(out.index).astype(float))
    # A country absent from the published counts is below k, like a hidden one: an empty
    # country must read like a small one.
    out["ratio"] = out.n / out.central
    out["ratio_low"] = out.n / out.high
    out["ratio_high"] = out.n / out.low
    return out


# --- what the published maps show --------------------------------------------------------


@dataclass(frozen=True)
class MapData:
    """Everything the maps show, aggregated and suppressed once (no respondent rows)."""

    k: int
    high_risk: frozenset[str]
    #: Respondents per country of residence, with the total.
    world: Suppressed
    #: :func:`coverage` of ``world`` against the estimates.
    coverage: pd.DataFrame
    #: Country x citizenship category (None: no published country).
    citizenship: Suppressed | None
    #: Per multi-select role (needs, contribution): :func:`share_naming` by country.
    shares: dict[str, Shares]
    #: Places rolled up to >= k respondents (:func:`geo.disclosure.roll_up`).
    places: pd.DataFrame
    #: Countries shown in ``world``, the only ones the other tables include.
    published_countries: list[str] = field(default_factory=list)


def aggregate_for_maps(
    responses: pd.DataFrame,
    policy: Policy,
    estimates: pd.DataFrame | None = None,
    roles: Iterable[str] = ("needs", "contribution"),
) -> MapData:
    """Aggregate and publish the responses for every map at once.

    :param responses: one row per respondent (see :mod:`geo.aggregate`).
    :param policy: threshold, high-risk countries and perturbation (no defaults here).
    """
    with_category = responses.assign(citizenship_category=citizenship_category(responses))
    country = _column(responses, "country")
    naming = {}
    groups = tally(responses, "country")
    for role in roles:
        if role in responses.columns:
            naming[role] = _naming_tally(country, responses[role], responses, groups.n.index)
    leaves = group_counts(responses, ["country", "region", "city"], keep_missing=True)
    return map_data(
        groups,
        tally(with_category, "country", "citizenship_category"),
        naming,
        leaves,
        policy,
        estimates,
    )


def map_data(
    by_country: Tally,
    citizenship: Tally,
    naming: Mapping[str, Tally],
    leaves: pd.DataFrame,
    policy: Policy,
    estimates: pd.DataFrame | None = None,
) -> MapData:
    """Publish what every map shows from tallies (of respondents, or of counts kept elsewhere).

    :param by_country: respondents per country (1-D).
    :param citizenship: country x citizenship category (2-D).
    :param naming: per multi-select role, country x item (2-D): respondents naming each item.
    :param leaves: rows of ``country``, ``region``, ``city`` with ``n``, ``key``, ``sources``.
    """
    world = publish(by_country, policy)
    published = [str(c) for c in world.values.index[world.values.notna()]]
    # A country hidden in the world table stays out of every other table: its row totals
    # there would give its count away.
    groups = Tally(*(part.reindex(published) for part in by_country))
    inside = citizenship.n.index.isin(published)
    kept = Tally(*(part[inside] for part in citizenship))
    shares = {role: shares_from(groups, table, policy, role) for role, table in naming.items()}
    places = roll_up(
        leaves[leaves["country"].isin(published)], ["country", "region", "city"], policy
    )
    return MapData(
        k=policy.k,
        high_risk=policy.high_risk,
        world=world,
        coverage=coverage(world, load_estimates() if estimates is None else estimates),
        citizenship=publish(kept, policy) if published else None,
        shares=shares,
        places=places,
        published_countries=published,
    )
