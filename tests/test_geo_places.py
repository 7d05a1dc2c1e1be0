"""Place lists: regions and cities to pick from, and typed city names matched in any script."""

import gzip
import json

import numpy as np
import pycountry
import pytest

from geo import places
from geo.places import (
    CITIES_FILE,
    NORMALISATION_VERSION,
    cities,
    match_city,
    nearest_city,
    normalise_name,
    region_label,
    region_name,
    regions,
)

URUMQI_SPELLINGS = [
    "Үрімжі",
    "Urumqi",
    "Ürümqi",
    "URUMQI",
    "乌鲁木齐",
    "烏魯木齊",
    "ئۈرۈمچى",
    "Урумчи",
]
ALMATY_SPELLINGS = [
    "Алматы",
    "Almaty",
    "almaty",
    "Alma-Ata",
    "Alma Ata",
    "阿拉木图",
    "阿拉木圖",
    "ألماتي",
]


@pytest.mark.parametrize("text", URUMQI_SPELLINGS)
def test_urumqi_in_every_script(text):
    city = match_city(text)
    assert (city.name, city.country, city.region) == ("Ürümqi", "CN", "CN-XJ")


@pytest.mark.parametrize("text", ALMATY_SPELLINGS)
def test_almaty_in_every_script(text):
    city = match_city(text)
    assert (city.name, city.country) == ("Almaty", "KZ")


@pytest.mark.parametrize(
    ("text", "name", "country"),
    [
        ("Өлгий", "Ölgii", "MN"),
        ("Olgii", "Ölgii", "MN"),
        ("İstanbul", "Istanbul", "TR"),
        ("Стамбул", "Istanbul", "TR"),
        ("Астана", "Astana", "KZ"),
        ("Nur-Sultan", "Astana", "KZ"),
        ("伊宁", "Ghulja", "CN"),
        ("  almaty ,  Kazakhstan ", "Almaty", "KZ"),
    ],
)
def test_other_diaspora_cities(text, name, country):
    city = match_city(text)
    assert (city.name, city.country) == (name, country)


def test_ambiguous_name_prefers_the_most_populous():
    # Many places are called Alexandria; without a country the Egyptian city wins.
    assert match_city("Alexandria").country == "EG"
    assert match_city("Alexandria", country="US").country == "US"


def test_country_and_region_filters():
    assert match_city("Almaty", country="CN") is None
    assert match_city("Almaty", country="kz", region="KZ-75").name == "Almaty"
    assert match_city("Almaty", country="KZ", region="KZ-19") is None


def test_unknown_or_empty_text_matches_nothing():
    assert match_city("Qwxzyplok") is None
    assert match_city("") is None
    assert match_city(" - ") is None


def test_arabic_hamza_yeh_and_kaf_variants_are_equal():
    assert normalise_name("\u0674\u0627") == normalise_name("\u0621\u0627")  # ٴ and ء
    assert normalise_name("الماتی") == normalise_name("الماتى") == normalise_name("الماتي")
    assert normalise_name("کابل") == normalise_name("كابل")


def test_latin_diacritics_case_and_punctuation_do_not_matter():
    assert normalise_name("Ürümqi") == normalise_name("urumqi")
    assert normalise_name("Oʻrumchi") == normalise_name("O'rumchi") == normalise_name("Orumchi")
    assert normalise_name("Alma-Ata") == normalise_name("alma ata")


def test_kazakh_and_russian_letters_stay_distinct():
    # Ә, Қ, Ө, Ү, І are letters of their own, not А, К, О, У, И with a mark.
    assert normalise_name("Қала") != normalise_name("Кала")
    assert normalise_name("Өлгий") != normalise_name("Олгий")
    assert normalise_name("Й") != normalise_name("И")


@pytest.mark.parametrize(
    ("locale", "name"),
    [("kk", "Алматы облысы"), ("ru", "Алматинская область"), ("en", "Almaty Region")],
)
def test_kazakhstan_regions_include_almaty_region(locale, name):
    assert ("KZ-19", name) in regions("KZ", locale)


def test_kazakhstan_has_all_its_top_level_regions():
    codes = {code for code, _ in regions("KZ")}
    expected = {s.code for s in pycountry.subdivisions.get(country_code="KZ") if not s.parent_code}
    assert codes == expected
    assert {"KZ-19", "KZ-75", "KZ-71", "KZ-33", "KZ-10", "KZ-62"} <= codes


def test_regions_are_sorted_with_the_locale_collation():
    names = [name for _, name in regions("KZ", "kk")]
    # Kazakh order puts Ақ... before Ал... and Ұ before Ш, unlike code point order.
    assert names.index("Ақмола облысы") < names.index("Алматы облысы")
    assert names.index("Ұлытау облысы") < names.index("Шығыс Қазақстан облысы")
    assert names != sorted(names)


def test_region_names_fall_back_sensibly():
    assert region_name("CN-XJ", "kk") == "Шыңжаң Ұйғыр автономиялық ауданы"
    assert region_name("KZ-19", "kk_Arab") == "Almaty Region"  # not Cyrillic for Arabic readers
    assert region_name("CN-GD", "zh_Hans") == "广东省"  # from iso-codes' catalog
    assert region_name("TR-34", "en") == "İstanbul"
    with pytest.raises(LookupError):
        region_name("KZ-99")


def test_region_label_is_the_name_or_the_code():
    assert region_label("KZ-75", "ru") == region_name("KZ-75", "ru")
    assert region_label("KZ-19", "kk-Arab") == region_label("KZ-19", "kk_Arab") == "Almaty Region"
    assert region_label("KZ-99", "ru") == "KZ-99"  # unknown: shown as given, never an error
    assert region_label("<b>", "en") == "<b>"  # not escaped here: markup escapes it


def test_regions_of_unknown_country_is_empty():
    assert regions("QQ") == []


def test_cities_of_a_region():
    almaty_region = cities("KZ", "KZ-19", locale="kk")
    assert almaty_region
    assert {city.region for city in almaty_region} == {"KZ-19"}
    assert "Almaty" not in {city.name for city in almaty_region}  # a city region of its own
    assert "Almaty" in {city.name for city in cities("kz")}


def test_cities_are_sorted_by_name():
    names = [city.name for city in cities("MN")]
    # Collation, not code points: Ö sorts with O (before U), ü with u.
    assert names.index("Ölgii") < names.index("Ulaangom")
    assert names.index("Dzüünharaa") < names.index("Dzuunmod")
    assert names[0] == "Altai"


def test_nearest_city_to_a_point_in_almaty():
    assert nearest_city(43.26, 76.93).name == "Almaty"
    assert nearest_city(43.80, 87.58).name == "Ürümqi"
    assert nearest_city(48.97, 89.96).name == "Ölgii"


def test_nearest_city_respects_the_distance_limit():
    assert nearest_city(0.0, -30.0) is None  # mid-Atlantic
    assert nearest_city(43.26, 76.93, max_km=0.01) is None
    assert nearest_city(float("nan"), 0.0) is None


def test_city_file_is_compact_attributed_and_current():
    assert CITIES_FILE.stat().st_size < 5_000_000
    with gzip.open(CITIES_FILE, "rt", encoding="utf-8") as handle:
        data = json.load(handle)
    assert "GeoNames" in data["attribution"]
    assert "CC BY" in data["attribution"]
    assert data["normalisation_version"] == NORMALISATION_VERSION
    fields = data["fields"]
    rows = [dict(zip(fields, row, strict=True)) for row in data["cities"][::997]]
    for row in rows:
        names = [row["name"], *row["alternate_names"]]
        assert set(row["match_keys"]) == {normalise_name(name) for name in names} - {""}


def test_every_city_region_is_a_top_level_iso_subdivision():
    codes = {
        city.region for country in ("KZ", "CN", "MN", "RU", "TR", "UZ") for city in cities(country)
    }
    codes.discard(None)
    for code in codes:
        subdivision = pycountry.subdivisions.get(code=code)
        assert subdivision is not None
        assert subdivision.parent_code is None


def test_the_points_file_is_derived_from_the_city_list():
    """Maps draw places from city_points.json.gz: it must say what cities.json.gz says."""
    from geo import build_places

    with gzip.open(places.CITIES_FILE, "rt", encoding="utf-8") as handle:
        expected = build_places.points(json.load(handle))
    with gzip.open(places.POINTS_FILE, "rt", encoding="utf-8") as handle:
        assert json.load(handle) == expected


def test_published_places_are_drawn_at_gazetteer_points():
    gorlitz = places.match_city("Görlitz", "DE", "DE-SN")
    assert places.place_point("DE", "DE-SN", "Görlitz") == (gorlitz.lat, gorlitz.lon)
    assert places.place_point("DE", "DE-SN", "görlitz") == (gorlitz.lat, gorlitz.lon)
    assert places.place_point("DE", "DE-BY", "Görlitz") is None  # not a place of that region
    assert places.place_point("DE", "DE-SN", "<img src=x>") is None
    lat, lon = places.region_point("DE-SN")
    assert 50.1 < lat < 51.7 and 11.8 < lon < 15.1  # inside Saxony's bounding box
    assert places.place_point("DE", "DE-SN") == (lat, lon)


def test_the_city_file_is_read_a_city_at_a_time_and_says_what_the_whole_document_says(tmp_path):
    """Workers read the city list line by line (half the memory of parsing it whole)."""
    from geo import build_places

    with gzip.open(CITIES_FILE, "rt", encoding="utf-8") as handle:
        whole = json.load(handle)
    with gzip.open(CITIES_FILE, "rt", encoding="utf-8") as handle:
        first = handle.readline()
    assert first.endswith('"cities":[\n'), "the city file is no longer one city per line"
    with gzip.open(CITIES_FILE, "rt", encoding="utf-8") as handle:
        head, rows = places._city_rows(handle)
        assert list(rows) == whole["cities"]
    assert head == {key: value for key, value in whole.items() if key != "cities"}
    # What the build script writes reads back the same, and so does a single-line file.
    sample = {**head, "cities": whole["cities"][:3]}
    for name, text in (
        ("cities.json.gz", None),
        ("one-line.json.gz", json.dumps(sample, ensure_ascii=False)),
    ):
        path = tmp_path / name
        if text is None:
            build_places.write_cities(sample, path)
        else:
            path.write_bytes(gzip.compress(text.encode("utf-8")))
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            read_head, read_rows = places._city_rows(handle)
            assert (read_head, list(read_rows)) == (head, sample["cities"])


def test_the_city_index_is_derived_from_the_city_list():
    """Lookups read city_index.npz: it must hold what cities.json.gz says, key for key."""
    with gzip.open(CITIES_FILE, "rt", encoding="utf-8") as handle:
        content = json.load(handle)
    head = {key: value for key, value in content.items() if key != "cities"}
    expected = places.index_arrays(head, content["cities"])
    with np.load(places.INDEX_FILE, allow_pickle=False) as stored:
        assert sorted(stored.files) == sorted(expected)
        for name, array in expected.items():
            np.testing.assert_array_equal(stored[name], array, err_msg=name)
    urumqi = next(n for n, row in enumerate(content["cities"]) if row[0] == 1529102)
    hashes = expected["key_hashes"]
    found = expected["key_cities"][hashes == np.uint64(places.key_hash("urumqi"))]
    assert urumqi in found.tolist()


def test_an_index_made_by_another_normalisation_is_rebuilt_from_the_city_list(
    tmp_path, monkeypatch
):
    with np.load(places.INDEX_FILE, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    stale = {**arrays, "normalisation_version": np.array(NORMALISATION_VERSION - 1)}
    # Keys hashed under another normalisation find nothing: a stale index must not be used.
    stale["key_hashes"] = np.sort(stale["key_hashes"] ^ np.uint64(1))
    np.savez(tmp_path / "city_index.npz", **stale)
    monkeypatch.setattr(places, "INDEX_FILE", tmp_path / "city_index.npz")
    places._gazetteer.cache_clear()
    try:
        assert match_city("Ürümqi").id == 1529102
        assert match_city("Görlitz", "DE").region == "DE-SN"
    finally:
        places._gazetteer.cache_clear()
