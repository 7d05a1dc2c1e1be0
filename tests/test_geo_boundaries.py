"""Country boundaries: the bundled layer is complete and points land in the right country."""

import numpy as np
import pycountry
import pytest
import shapely

from geo.boundaries import COUNTRIES_FILE, assign_countries, check_country, load_countries

PLACES = [
    ("Almaty", 43.2389, 76.8897, "KZ"),
    ("Astana", 51.1694, 71.4491, "KZ"),
    ("Ürümqi", 43.8256, 87.6168, "CN"),
    ("Ölgii, Bayan-Ölgii", 48.97, 89.96, "MN"),
    ("Istanbul, historic peninsula", 41.0082, 28.9784, "TR"),
    ("Istanbul, Asian side", 40.9903, 29.0290, "TR"),
    ("Tashkent", 41.2995, 69.2401, "UZ"),
    ("Bishkek", 42.8746, 74.5698, "KG"),
    ("Zharkent, near the Chinese border", 44.1662, 80.0074, "KZ"),
    ("Orenburg", 51.7727, 55.0988, "RU"),
    ("Pristina", 42.6629, 21.1655, "XK"),
    ("Paris", 48.8566, 2.3522, "FR"),
    ("Oslo", 59.9139, 10.7522, "NO"),
    ("Saint-Denis, Réunion", -20.8821, 55.4507, "RE"),
]


@pytest.fixture(scope="module")
def countries():
    return load_countries()


def test_layer_columns_and_crs(countries):
    assert list(countries.columns) == ["iso_a2", "iso_a3", "iso_n3", "name", "geometry"]
    assert countries.crs.to_epsg() == 4326


def test_every_feature_has_iso_codes(countries):
    assert countries["iso_a2"].str.fullmatch(r"[A-Z]{2}").all()
    assert countries["iso_a3"].str.fullmatch(r"[A-Z]{3}").all()
    assert countries["iso_n3"].str.fullmatch(r"\d{3}").all()
    assert countries["name"].str.len().gt(0).all()
    assert countries["iso_a2"].is_unique
    assert countries["iso_a3"].is_unique
    assert countries["iso_n3"].is_unique


def test_codes_agree_with_iso_3166(countries):
    for a2, a3, n3 in countries[["iso_a2", "iso_a3", "iso_n3"]].itertuples(index=False):
        if a2 == "XK":  # Kosovo: user-assigned codes, not in ISO 3166-1
            assert (a3, n3) == ("XKX", "900")
            continue
        country = pycountry.countries.get(alpha_2=a2)
        assert (country.alpha_3, country.numeric) == (a3, n3)


def test_layer_covers_every_inhabited_iso_country(countries):
    missing = {c.alpha_2 for c in pycountry.countries} - set(countries["iso_a2"])
    # Natural Earth draws Gibraltar and the like, but not these uninhabited specks.
    assert missing <= {"AQ", "BV", "HM", "IO", "TF", "UM", "TK"}


def test_geometries_are_valid_polygons(countries):
    assert countries.geometry.is_valid.all()
    assert not countries.geometry.is_empty.any()
    assert set(countries.geom_type) <= {"Polygon", "MultiPolygon"}


def test_countries_do_not_overlap(countries):
    assert shapely.coverage_is_valid(countries.geometry.to_numpy())


def test_published_file_is_small():
    assert COUNTRIES_FILE.stat().st_size < 600_000


def test_load_countries_returns_a_copy():
    first = load_countries()
    first["extra"] = 1
    assert "extra" not in load_countries().columns


@pytest.mark.parametrize(("place", "lat", "lon", "iso2"), PLACES, ids=[p[0] for p in PLACES])
def test_point_lands_in_its_country(place, lat, lon, iso2):
    assert assign_countries([lat], [lon]).tolist() == [iso2]


def test_points_at_sea_or_invalid_have_no_country():
    lat = [0.0, -40.0, 35.0, np.nan, 91.0, 10.0]
    lon = [-30.0, -140.0, -40.0, 10.0, 0.0, np.inf]
    assert assign_countries(lat, lon).tolist() == [None] * 6


def test_assign_countries_is_vectorised():
    lat = np.array([43.2389, 43.8256, 48.97, 41.0082, 0.0] * 1000)
    lon = np.array([76.8897, 87.6168, 89.96, 28.9784, -30.0] * 1000)
    codes = assign_countries(lat, lon)
    assert codes.shape == (5000,)
    assert codes[:5].tolist() == ["KZ", "CN", "MN", "TR", None]
    assert (codes.reshape(1000, 5) == codes[:5]).all()


def test_assign_countries_handles_no_points():
    assert assign_countries([], []).tolist() == []


def test_assign_countries_rejects_mismatched_arrays():
    with pytest.raises(ValueError, match="same shape"):
        assign_countries([1.0, 2.0], [1.0])


def test_every_country_contains_its_own_inner_point(countries):
    inner = countries.geometry.representative_point()
    codes = assign_countries(inner.y.to_numpy(), inner.x.to_numpy())
    assert codes.tolist() == countries["iso_a2"].tolist()


def test_check_country_flags_a_mismatch():
    assert check_country("KZ", 43.2389, 76.8897)
    assert check_country("kz", 43.2389, 76.8897)
    assert not check_country("CN", 43.2389, 76.8897)
    assert not check_country("TR", 43.8256, 87.6168)


def test_check_country_accepts_missing_or_uninformative_points():
    assert check_country("KZ", None, None)
    assert check_country("KZ", 0.0, -30.0)  # open ocean: nothing to disagree with


def test_check_country_tolerates_points_just_across_a_border():
    # The Kazakh-Chinese border runs near 80.35 E at Khorgos.
    assert assign_countries([44.3], [80.37]).tolist() == ["CN"]
    assert check_country("KZ", 44.3, 80.37)  # about 2 km across: within the tolerance
    assert not check_country("KZ", 44.3, 80.6)  # about 20 km across
