"""Properties of what is published, for random data and random pairs of filters.

An attacker who sees a cell under two filters (a date range and a longer one, a country and all
countries, the dashboard and an export) learns the difference of the two published values.
Without perturbation that difference *is* the count of the respondents in between, however
small. These properties say what is true now, for any data: the attacker's set of possible true
differences is never inside 1..k-1, and padding a cell with m of one's own responses moves its
published value by m-6..m+6 (:data:`geo.disclosure.PTABLE`: noise in -3..+3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.aggregate import counts_by, share_naming
from geo.disclosure import KEY_RANGE, PTABLE, Policy, Tally, consistent_counts, publish, roll_up

COUNTRIES = ["KZ", "RU", "CN", "MN", "TR"]
SEXES = ["female", "male"]
D = PTABLE.max_noise


@dataclass(frozen=True)
class Published:
    """A published column: its values (NaN where hidden) and why hidden."""

    values: pd.Series
    primary: pd.Series


def people(draw_sizes: list[int], seed: int) -> pd.DataFrame:
    """Respondents over a few countries and regions, with days, sexes and record keys."""
    rng = np.random.default_rng(seed)
    rows = []
    for country, size in zip(COUNTRIES, draw_sizes, strict=False):
        for _ in range(size):
            rows.append(
                {
                    "country": country,
                    "region": f"{country}-{rng.integers(0, 3)}",
                    "city": None,
                    "sex": SEXES[rng.integers(0, 2)],
                    "day": int(rng.integers(0, 30)),
                    "needs": tuple(n for n in ("a", "b", "c") if rng.random() < 0.5),
                }
            )
    df = pd.DataFrame(rows, columns=["country", "region", "city", "sex", "day", "needs"])
    df["record_key"] = rng.integers(0, KEY_RANGE, len(df))
    df["independent"] = rng.random(len(df)) < 0.9
    return df


def possible(value: float, small: bool, k: int) -> range:
    """Return the true counts an attacker must allow for one published cell."""
    if np.isnan(value):
        return range(0, k) if small else range(k, 10**6)  # hidden: small, or kept for another
    return consistent_counts(int(value), Policy(k, frozenset()))


def differences(a: range, b: range) -> range:
    return range(b.start - (a.stop - 1), (b.stop - 1) - a.start + 1)


def assert_no_small_difference(first, second, k: int) -> None:
    """No cell's possible differences lie inside 1..k-1 (nor is any pinned to one value)."""
    for key in first.values.index.intersection(second.values.index):
        a = possible(float(first.values[key]), bool(first.primary[key]), k)
        b = possible(float(second.values[key]), bool(second.primary[key]), k)
        both = differences(a, b)
        assert not (both.start >= 1 and both.stop - 1 <= k - 1), (key, a, b)
        assert len(both) > 1


SIZES = st.lists(st.integers(0, 60), min_size=5, max_size=5)
K = st.sampled_from([5, 10])


@settings(max_examples=120, deadline=None)
@given(SIZES, st.integers(0, 10**6), K, st.integers(1, 29), st.sampled_from(SEXES + [None]))
def test_two_filters_never_reveal_a_small_count_by_difference(sizes, seed, k, day, sex):
    df = people(sizes, seed)
    policy = Policy(k, frozenset())
    narrow = df[(df.day < day) & ((df.sex == sex) if sex else True)]
    wide = df[df.day < max(day, 15)]
    for by in ("country", "region"):
        assert_no_small_difference(
            counts_by(narrow, [by], policy), counts_by(wide, [by], policy), k
        )
    shares = [share_naming(part, "needs", policy) for part in (narrow, wide)]
    for item in ("a", "b", "c"):
        pair = []
        for s in shares:
            counts = s.counts[item] if item in s.counts.columns else pd.Series(dtype=float)
            primary = s.primary[item] if item in s.primary.columns else pd.Series(dtype=bool)
            pair.append(Published(counts, primary))
        assert_no_small_difference(*pair, k)


@settings(max_examples=120, deadline=None)
@given(SIZES, st.integers(0, 10**6), K)
def test_the_same_respondents_get_the_same_value_whatever_the_filter(sizes, seed, k):
    df = people(sizes, seed)
    policy = Policy(k, frozenset())
    everyone = counts_by(df, ["country"], policy)
    for country in COUNTRIES:
        # A filter that keeps all of a country's respondents publishes the same value for it.
        alone = counts_by(df[df.country == country], ["country"], policy)
        if country in everyone.values.index and not everyone.mask[country]:
            if not alone.mask[country]:
                assert alone.values[country] == everyone.values[country]


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 200),
    st.integers(0, 200),
    st.integers(1, 30),
    st.integers(0, 10**6),
    K,
)
def test_padding_moves_the_published_value_by_a_bounded_amount(real, sources, m, seed, k):
    sources = min(sources, real)
    rng = np.random.default_rng(seed)
    keys = int(rng.integers(0, KEY_RANGE, real).sum())
    fake_keys = int(rng.integers(0, KEY_RANGE, m).sum())
    policy = Policy(k, frozenset())

    def published(n: int, key: int, independent: int) -> tuple[float, bool]:
        s = publish(Tally(*(pd.Series({"cell": v}) for v in (n, key, independent))), policy)
        return float(s.values["cell"]), bool(s.primary["cell"])

    before, _ = published(real, keys, sources)
    after, _ = published(real + m, keys + fake_keys, sources + m)
    if not np.isnan(after):
        assert abs(after - (real + m)) <= D
    if not (np.isnan(before) or np.isnan(after)):
        assert m - 2 * D <= after - before <= m + 2 * D
    # Fakes that do not count as independent never make a small cell published.
    burst, _ = published(real + m, keys + fake_keys, sources)
    assert np.isnan(burst) == np.isnan(before)


@settings(max_examples=80, deadline=None)
@given(SIZES, st.integers(0, 10**6), K)
def test_places_are_never_published_below_k_independent_respondents(sizes, seed, k):
    df = people(sizes, seed)
    leaves = df[["country", "region", "city"]].assign(
        n=1, key=df.record_key, sources=df.independent.astype(int)
    )
    units = roll_up(leaves, ["country", "region", "city"], Policy(k, frozenset({"CN"})))
    assert (units.n >= k).all()
    for unit in units.itertuples():
        inside = df[df.country == unit.country]
        if unit.level == "region" and not unit.rest:
            inside = inside[inside.region == unit.region]
            assert inside.independent.sum() >= k
