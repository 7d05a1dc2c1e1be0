"""Aggregation of responses, the estimates table and the synthetic generator."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import synthetic
from geo.aggregate import (
    AGE_BANDS,
    age_band,
    age_bands,
    citizenship_category,
    counts_by,
    coverage,
    cross,
    share_naming,
)
from geo.disclosure import KEY_RANGE, TOTAL, PerturbationTable, Policy
from geo.estimates import load_estimates

#: No noise: these tests check which cells are hidden and what the published ones count.
EXACT = Policy(10, frozenset(), PerturbationTable.from_weights({0: KEY_RANGE}))


@pytest.mark.parametrize(
    ("age", "band"),
    [(16, "16-24"), (24.9, "16-24"), (25, "25-34"), (44, "35-44"), (64, "55-64"), (65, "65+"),
     (101, "65+")],
)  # fmt: skip
def test_age_band_edges(age, band):
    assert age_band(age) == band


@pytest.mark.parametrize("age", [15.9, -1, float("nan"), None])
def test_age_band_rejects_under_16_and_missing(age):
    with pytest.raises(ValueError, match="no age band"):
        age_band(age)


def test_age_bands_vectorised_matches_scalar():
    ages = [15, 16, 30, None, 55, 80]
    got = age_bands(ages)
    assert pd.isna(got[0]) and pd.isna(got[3])
    assert [got[i] for i in (1, 2, 4, 5)] == ["16-24", "25-34", "55-64", "65+"]
    assert list(got.categories) == list(AGE_BANDS)


def _people(rows: list[dict]) -> pd.DataFrame:
    """Respondents with what disclosure control reads: a record key each, all independent."""
    df = pd.DataFrame(rows)
    df["record_key"] = np.random.default_rng(0).integers(0, KEY_RANGE, len(df))
    df["independent"] = True
    return df


def _responses(rows: dict[tuple[str, str], int]) -> pd.DataFrame:
    return _people([{"country": c, "sex": s} for (c, s), n in rows.items() for _ in range(n)])


def test_counts_by_one_column_is_a_suppressed_series_with_total():
    df = _responses({("KZ", "f"): 30, ("RU", "f"): 4, ("UZ", "m"): 12, ("TR", "m"): 15})
    s = counts_by(df, ["country"], EXACT)
    assert s.ndim == 1 and s.total == 61
    assert s.display("RU") == "fewer than 10"
    # RU alone would be total - the others: the next smallest (UZ) is hidden too.
    assert s.mask.to_dict() == {"KZ": False, "RU": True, "TR": False, "UZ": True}


def test_cross_has_suppressed_margins():
    df = _responses({("KZ", "f"): 30, ("KZ", "m"): 3, ("RU", "f"): 20, ("RU", "m"): 25})
    s = cross(df, "country", "sex", EXACT)
    assert s.values.loc["KZ", "f"] != s.values.loc["KZ", "f"]  # hidden (NaN)
    assert s.display(("KZ", "m")) == "fewer than 10"
    assert s.display((TOTAL, "m")) == "28" and s.display(("KZ", TOTAL)) == "33"
    for line in (*s.mask.to_numpy(), *s.mask.to_numpy().T):
        assert line.sum() != 1


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([5, 10]))
def test_counts_by_never_publishes_small_counts(seed, k):
    df = synthetic.generate(400, seed=seed)
    for by in (["country"], ["country", "sex"], ["region", "age_band"]):
        s = counts_by(df, by, Policy(k, frozenset()))
        published = np.ravel(s.values.to_numpy(dtype=float))
        if s.row_totals is not None:
            published = np.concatenate([published, s.row_totals, s.col_totals])
        published = published[~np.isnan(published)]
        assert not (published < k).any()


def test_share_naming_hides_small_counts_and_small_complements():
    rows = (
        [{"country": "KZ", "needs": ("a", "b")}] * 39
        + [{"country": "KZ", "needs": ["b", "b"]}]  # lists count too, an item once per person
        + [{"country": "RU", "needs": ("a",)}] * 5
        + [{"country": "RU", "needs": None}] * 10
        + [{"country": "UZ", "needs": ("a",)}] * 3
    )
    rows += [{"country": "TR", "needs": ("a",)}] * 12 + [{"country": "TR", "needs": ("b",)}] * 10
    s = share_naming(_people(rows), "needs", EXACT)
    assert np.isnan(s.share.loc["KZ", "b"])  # all 40: as telling as nobody
    assert np.isnan(s.share.loc["KZ", "a"])  # 39 of 40: the one who did not name it
    assert s.display("KZ", "a") == "fewer than 10"
    assert np.isnan(s.share.loc["RU", "a"])  # 5 of 15
    assert np.isnan(s.share.loc["RU", "b"])  # nobody: reads like a small count
    assert s.mask.loc["UZ"].all() and np.isnan(s.n["UZ"])  # 3 respondents in all
    assert s.share.loc["TR", "a"] == pytest.approx(12 / 22)
    assert s.n["KZ"] == 40 and s.n["RU"] == 15


def test_citizenship_category():
    df = pd.DataFrame(
        {"country": ["RU", "RU", "CN", "DE", "TR"], "citizenship": ["RU", "KZ", "TR", None, ""]}
    )
    assert list(citizenship_category(df)) == ["residence", "KZ", "other", "none", "none"]


def test_coverage_shows_the_uncertainty():
    est = load_estimates()
    counts = pd.Series({"TR": 400.0, "CN": np.nan, "DE": 170.0})
    cov = coverage(counts, est)
    assert cov.loc["TR", "ratio_low"] == pytest.approx(400 / 40_000)
    assert cov.loc["TR", "ratio_high"] == pytest.approx(400 / 10_000)
    assert cov.loc["TR", "ratio"] == pytest.approx(400 / 25_000)
    assert math.isnan(cov.loc["CN", "ratio"])  # hidden stays hidden
    assert math.isnan(cov.loc["UZ", "n"])  # not published: as unknown as a hidden count
    assert cov.loc["DE", "ratio_low"] <= cov.loc["DE", "ratio"] <= cov.loc["DE", "ratio_high"]


def test_estimates_table():
    est = load_estimates()
    assert est.loc["CN", "central"] == 1_562_518 and est.loc["CN", "year"] == 2020
    assert est.loc["RU", "source"].startswith("Rosstat")
    assert (est.low <= est.central).all() and (est.central <= est.high).all()
    assert {"TM", "TR", "DE", "IR"} <= set(est.index[est.low < est.high])
    assert set(est.confidence) <= {"high", "medium", "low"}
    assert pd.isna(est.loc["AF", "year"])


def test_synthetic_is_reproducible_and_realistic():
    a, b = synthetic.generate(5_000, seed=3), synthetic.generate(5_000, seed=3)
    pd.testing.assert_frame_equal(a, b)
    expected = {
        "country", "region", "city", "lat", "lon", "sex", "age_band", "citizenship", "language",
        "link", "skills", "languages", "needs", "contribution", "education", "occupation",
        "return_intention", "record_key", "independent",
    }  # fmt: skip
    assert set(a.columns) == expected
    top = a.country.value_counts().index[:3]
    assert set(top) == {"CN", "UZ", "RU"}
    located = a.dropna(subset=["lat"])
    assert located.lat.between(-90, 90).all() and (located.lat.round(2) == located.lat).all()
    # Near the hard-coded places: Chinese respondents around Xinjiang or Beijing.
    cn = located[located.country == "CN"]
    assert cn.lon.between(78, 118).all()
    assert a.region[a.country == "MN"].isin(["MN-071", "MN-043", "MN-1"]).mean() > 0.9
    assert isinstance(a.needs.iloc[0], tuple)
    assert set(a.age_band.dropna()) <= set(AGE_BANDS)
    assert a.record_key.between(0, KEY_RANGE - 1).all() and a.independent.all()


def test_synthetic_carries_hostile_strings():
    df = synthetic.generate(50_000, seed=1)
    for column in ("city", "occupation", "link"):
        assert df[column].isin(synthetic.HOSTILE_STRINGS).sum() > 20
    assert df.region.isin(synthetic.HOSTILE_STRINGS).any()
