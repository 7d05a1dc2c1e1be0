"""Counts and shares of survey responses, suppressed for publication.

Input is a DataFrame of responses, one row per respondent, with the columns country, region, city,
lat, lon, sex, age_band, citizenship, language, link (scalars), skills, languages, needs,
contribution (multi-select: list-likes) and education, occupation, return_intention (scalars).
Countries and citizenships are ISO 3166-1 alpha-2 codes, regions ISO 3166-2 codes.

Every function that returns counts takes ``k`` and returns them already suppressed
(:mod:`geo.disclosure`); nothing here returns a raw count of 1..k-1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.disclosure import K_PUBLISHED, Suppressed, as_category, display_count, suppress
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


def _plain_index(index: pd.Index) -> pd.Index:
    """Return labels as a plain object index (not categorical), for lookups by any label."""
    return (
        index
        if isinstance(index, pd.MultiIndex)
        else pd.Index(index.astype(object), name=index.name)
    )


def counts_by(df: pd.DataFrame, by: Sequence[str], k: int = K_PUBLISHED) -> Suppressed:
    """Count respondents by one or more columns and suppress the table.

    One column gives a series with its total; two a table with margins (see :func:`cross`); more
    than two a table whose rows are the combinations of all but the last column. Respondents
    with a missing value in a grouping column are left out.
    """
    by = list(by)
    if not by:
        raise ValueError("counts_by needs at least one column")
    keys = pd.DataFrame({c: _column(df, c) for c in by})
    counts = keys.groupby(by, sort=True, observed=True, dropna=True).size()
    if len(by) == 1:
        counts.index = _plain_index(counts.index)
        counts.index.name = by[0]
        return suppress(counts.rename("n"), k)
    table = counts.unstack(by[-1], fill_value=0)
    table.index = _plain_index(table.index)
    table.columns = _plain_index(table.columns)
    return suppress(table, k)


def cross(df: pd.DataFrame, row: str, col: str, k: int = K_PUBLISHED) -> Suppressed:
    """Cross-tabulate respondents by ``row`` x ``col``, with suppressed margins."""
    return counts_by(df, [row, col], k)


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

    ``counts`` holds published counts (NaN where hidden), ``n`` the respondents per group (the
    denominator; NaN where hidden), ``share`` = counts / n (NaN where hidden), ``mask`` True where
    hidden, ``primary`` True where the count or its complement is 1..k-1.
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


def share_naming(df: pd.DataFrame, role: str, k: int = K_PUBLISHED, by: str = "country") -> Shares:
    """Return the share of respondents in each ``by`` group naming each item of ``role``.

    The denominator is every respondent of the group (not naming an item includes not
    answering). A share is hidden when the group has fewer than k respondents, or when the
    number naming the item *or the number not naming it* is 1..k-1 (a share of 97 % of 40 people
    would single out the one who did not). Items are not additive, so no other cell can give a
    hidden one away; groups hidden elsewhere must be dropped by the caller beforehand.
    """
    group = _column(df, by)
    n = group.value_counts(dropna=True, sort=False)
    n = n[n > 0].sort_index()
    n.index = _plain_index(n.index)
    counts = _naming_counts(group, df[role], n.index)
    counts.columns.name = role
    true_n = n.to_numpy()[:, None]
    c = counts.to_numpy()
    complement = true_n - c
    primary = ((c >= 1) & (c < k)) | ((complement >= 1) & (complement < k))
    primary |= np.broadcast_to(true_n < k, c.shape)
    published = np.where(primary, np.nan, c.astype(float))

    def frame(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(a, index=counts.index, columns=counts.columns)

    n_published = n.astype(float).where(n >= k)
    return Shares(
        k=k,
        role=role,
        counts=frame(published),
        n=n_published,
        share=frame(published / np.where(true_n > 0, true_n, 1)),
        mask=frame(primary),
        primary=frame(primary),
    )


def _is_listlike(value: object) -> bool:
    return isinstance(value, list | tuple | set | frozenset | np.ndarray)


def _naming_counts(group: pd.Series, answers: pd.Series, groups: pd.Index) -> pd.DataFrame:
    """Count respondents per group naming each item, without exploding a million rows.

    Answers repeat a lot (a few hundred distinct selections), so they are factorised first and
    each distinct selection is expanded into items once.
    """
    try:
        codes, uniques = pd.factorize(answers, use_na_sentinel=True)
    except TypeError:  # unhashable lists: make them tuples first
        as_tuples = answers.map(lambda v: tuple(v) if _is_listlike(v) else None)
        codes, uniques = pd.factorize(as_tuples, use_na_sentinel=True)
    selections = [set(v) if _is_listlike(v) else set() for v in uniques]
    items = sorted({item for sel in selections for item in sel if item is not None}, key=str)
    incidence = np.array(
        [[item in sel for item in items] for sel in selections], dtype=np.int64
    ).reshape(len(selections), len(items))
    # Map each row's category to its position in ``groups`` (-1: missing or not a group).
    position = pd.Index(groups).get_indexer(group.cat.categories)
    codes_of_group = group.cat.codes.to_numpy()
    group_code = np.where(codes_of_group >= 0, position[codes_of_group], -1)
    ok = (group_code >= 0) & (codes >= 0)
    flat = group_code[ok].astype(np.int64) * len(selections) + codes[ok]
    per_selection = np.bincount(flat, minlength=len(groups) * len(selections)).reshape(
        len(groups), len(selections)
    )
    return pd.DataFrame(per_selection @ incidence, index=groups, columns=pd.Index(items))


def coverage(df_counts: Suppressed | pd.Series, estimates: pd.DataFrame) -> pd.DataFrame:
    """Return respondents relative to the estimated number of Kazakhs, with its uncertainty.

    :param df_counts: published respondents per country (a suppressed 1-D table, or a Series
        with NaN where hidden).
    :param estimates: :func:`geo.estimates.load_estimates` (indexed by ISO2; low/high/central).
    :return: per estimated country: n, low, high, central, ``ratio`` = n / central,
        ``ratio_low`` = n / high and ``ratio_high`` = n / low (NaN where n is hidden),
        year, source, confidence, note.
    """
    counts = df_counts.values if isinstance(df_counts, Suppressed) else df_counts
    out = estimates.copy()
    out.insert(0, "n", counts.reindex(out.index).astype(float))
    # A country absent from the published counts has 0 respondents (structural zero).
    absent = ~out.index.isin(counts.index)
    out.loc[absent, "n"] = 0.0
    out["ratio"] = out.n / out.central
    out["ratio_low"] = out.n / out.high
    out["ratio_high"] = out.n / out.low
    return out
