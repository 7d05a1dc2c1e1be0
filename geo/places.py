"""Place lists for answering "where do you live" without a map: regions, cities, name matching.

Regions are ISO 3166-2 subdivisions (pycountry). Cities come from GeoNames (CC BY 4.0) through
``geo/data/cities.json.gz``, built by ``python -m geo.build_places``; see ``geo/data/README.md``.
"""

from __future__ import annotations

import csv
import functools
import gettext
import gzip
import hashlib
import json
import math
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import icu
import numpy as np
import pycountry

DATA_DIR = Path(__file__).resolve().parent / "data"
CITIES_FILE = DATA_DIR / "cities.json.gz"
#: Derived from CITIES_FILE by geo.build_places: where maps draw places (see place_point).
POINTS_FILE = DATA_DIR / "city_points.json.gz"
#: Derived from CITIES_FILE by geo.build_places: the cities and their match keys as arrays.
INDEX_FILE = DATA_DIR / "city_index.npz"
REGION_NAMES_FILE = DATA_DIR / "region_names.csv"
EARTH_RADIUS_KM = 6371.0088
#: Bump when normalise_name changes: the city file stores keys made by it, and a file with
#: another version has its keys made afresh on loading (slow) until it is rebuilt.
NORMALISATION_VERSION = 1


@dataclass(frozen=True, slots=True)
class City:
    """A populated place from GeoNames."""

    id: int  #: GeoNames geonameid
    name: str  #: GeoNames' main name, usually the local name in Latin letters
    country: str  #: ISO 3166-1 alpha-2
    region: str | None  #: top-level ISO 3166-2 code, None where GeoNames' admin1 has none
    lat: float
    lon: float
    population: int


# --- Name normalisation -------------------------------------------------------------------------

#: Letters that differ between the Arabic, Persian, Urdu, Uyghur and Kazakh Arabic orthographies
#: of one name: all hamza forms, yeh, kaf, alef and heh variants are folded together.
_ARABIC_FOLDS = str.maketrans(
    {
        "\u0674": "\u0621",  # ٴ high hamza (Kazakh Arabic front-vowel mark) -> ء hamza
        "\u0623": "\u0627",  # أ alef with hamza above -> ا alef
        "\u0625": "\u0627",  # إ alef with hamza below -> ا
        "\u0622": "\u0627",  # آ alef with madda -> ا
        "\u0671": "\u0627",  # ٱ alef wasla -> ا
        "\u06cc": "\u064a",  # ی Farsi yeh -> ي
        "\u0649": "\u064a",  # ى alef maksura (Uyghur and Kazakh i) -> ي
        "\u06d2": "\u064a",  # ے yeh barree -> ي
        "\u06a9": "\u0643",  # ک keheh -> ك kaf
        "\u06aa": "\u0643",  # ڪ swash kaf -> ك
        "\u06c1": "\u0647",  # ہ heh goal -> ه
        "\u0629": "\u0647",  # ة teh marbuta -> ه
        "\u0640": None,  # tatweel
    }
)
#: Latin letters that carry no combining mark to strip but are still "a letter with a mark".
_LATIN_FOLDS = str.maketrans(
    {"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ħ": "h"}
)
#: Apostrophe-like modifier letters that romanisations sprinkle in (Oʻrumchi, Nursultʻan).
_APOSTROPHES = "\u02bb\u02bc\u02bd\u02be\u02bf\u02c8\u02ca\u02cb"
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@functools.cache
def _to_simplified() -> icu.Transliterator:
    """Return ICU's traditional-to-simplified Chinese transliterator."""
    return icu.Transliterator.createInstance("Traditional-Simplified")


def _is_latin(char: str) -> bool:
    """Return True for a Latin letter (Basic Latin to Latin Extended Additional)."""
    code = ord(char)
    return code < 0x0250 or 0x1E00 <= code <= 0x1EFF


def normalise_name(text: str) -> str:
    """Return the key under which a place name is matched, whatever its script or spelling."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if _HAN.search(text):
        text = _to_simplified().transliterate(text)
    text = text.translate(_ARABIC_FOLDS).translate(_LATIN_FOLDS)
    kept: list[str] = []
    base_is_latin = False
    for char in unicodedata.normalize("NFD", text):
        category = unicodedata.category(char)
        if category.startswith("M"):
            # Diacritics do not matter on Latin letters (Ürümqi = Urumqi); in other scripts they
            # can be letters of their own (Devanagari vowel signs), except Arabic short vowels.
            if base_is_latin or "\u064b" <= char <= "\u065f" or char == "\u0670":
                continue
        elif category[0] in "PSZC" or char in _APOSTROPHES:
            continue
        else:
            base_is_latin = _is_latin(char)
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


# --- Loading ------------------------------------------------------------------------------------


def key_hash(key: str) -> int:
    """Return the stable 64-bit hash of a match key that the city index stores instead of it.

    Among the index's 315,000 keys a collision is a chance of about one in 10^8, and it would
    only add a candidate city that the country and region filters and the population order
    then weigh like any other.
    """
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


def index_arrays(head: dict, rows: Iterable[list]) -> dict[str, np.ndarray]:
    """Return the city index: the city file's cities and match keys as flat arrays.

    ``geo.build_places`` writes it to ``INDEX_FILE``; it is built from the city file here too
    when that file's keys were made by another ``normalise_name``. Arrays, not Python objects:
    every worker holds them (about 10 MB, where a dictionary of the keys took 70 MB).
    """
    fields = head["fields"]
    fresh_keys = head.get("normalisation_version") != NORMALISATION_VERSION
    columns: dict[str, list] = {name: [] for name in ("id", "country", "region", "population")}
    coordinates: list[tuple[float, float]] = []
    names: list[bytes] = []
    pairs: list[tuple[int, int]] = []
    for number, row in enumerate(rows):
        record = dict(zip(fields, row, strict=True))
        columns["id"].append(record["geonameid"])
        columns["country"].append(record["country"])
        columns["region"].append(record["region"] or "")
        columns["population"].append(record["population"])
        coordinates.append((record["lat"], record["lon"]))
        names.append(record["name"].encode("utf-8"))
        if fresh_keys:
            spellings = (record["name"], *record["alternate_names"])
            keys = {normalise_name(name) for name in spellings}
        else:
            keys = set(record["match_keys"])
        pairs.extend((key_hash(key), number) for key in sorted(keys - {""}))
    pairs.sort()
    return {
        "id": np.array(columns["id"], dtype=np.int64),
        "country": np.array(columns["country"], dtype="S2"),
        "region": np.array(columns["region"], dtype="S8"),
        "population": np.array(columns["population"], dtype=np.int64),
        "coordinates": np.array(coordinates, dtype=np.float64).reshape(-1, 2),
        "names": np.frombuffer(b"".join(names), dtype=np.uint8),
        "name_ends": np.cumsum([len(name) for name in names], dtype=np.int64),
        "key_hashes": np.array([h for h, _ in pairs], dtype=np.uint64),
        "key_cities": np.array([n for _, n in pairs], dtype=np.int32),
        "normalisation_version": np.array(NORMALISATION_VERSION, dtype=np.int64),
    }


@dataclass(frozen=True)
class _Gazetteer:
    """All cities, the cities each match key names, and arrays for nearest-city lookups."""

    cities: tuple[City, ...]
    key_hashes: np.ndarray  #: sorted
    key_cities: np.ndarray  #: the city number of each key hash
    lat_rad: np.ndarray
    lon_rad: np.ndarray

    def named(self, key: str) -> tuple[int, ...]:
        """Return the numbers of the cities that bear a name with this match key."""
        wanted = np.uint64(key_hash(key))
        start = int(np.searchsorted(self.key_hashes, wanted, side="left"))
        end = int(np.searchsorted(self.key_hashes, wanted, side="right"))
        return tuple(self.key_cities[start:end].tolist())


def _read_index() -> dict[str, np.ndarray]:
    """Return the city index: the committed file, or one built from the city file if stale."""
    with np.load(INDEX_FILE, allow_pickle=False) as stored:
        if int(stored["normalisation_version"]) == NORMALISATION_VERSION:
            return {name: stored[name] for name in stored.files}
    with gzip.open(CITIES_FILE, "rt", encoding="utf-8") as handle:
        return index_arrays(*_city_rows(handle))


@functools.cache
def _gazetteer() -> _Gazetteer:
    """Read the city index once."""
    index = _read_index()
    names = index["names"].tobytes()
    starts = [0, *index["name_ends"][:-1].tolist()]
    ends = index["name_ends"].tolist()
    lat, lon = index["coordinates"][:, 0], index["coordinates"][:, 1]
    cities = tuple(
        City(
            id=geoname_id,
            name=names[start:end].decode("utf-8"),
            country=sys.intern(country.decode("ascii")),
            region=sys.intern(region.decode("ascii")) if region else None,
            lat=la,
            lon=lo,
            population=population,
        )
        for geoname_id, start, end, country, region, la, lo, population in zip(
            index["id"].tolist(),
            starts,
            ends,
            index["country"].tolist(),
            index["region"].tolist(),
            lat.tolist(),
            lon.tolist(),
            index["population"].tolist(),
            strict=True,
        )
    )
    return _Gazetteer(
        cities=cities,
        key_hashes=index["key_hashes"],
        key_cities=index["key_cities"],
        lat_rad=np.radians(lat),
        lon_rad=np.radians(lon),
    )


def _city_rows(handle: Any) -> tuple[dict, Iterator[list]]:
    """Return the city file's header and its rows, read a line at a time.

    ``geo.build_places`` writes one city per line after a first line ending in ``"cities":[``
    (parsing the whole document at once takes twice the memory of the result); a file written
    as a single line is parsed whole.
    """
    first = handle.readline()
    if not first.rstrip().endswith('"cities":['):
        data = json.loads(first + handle.read())
        return data, iter(data.pop("cities"))
    head = json.loads(first.rstrip() + "]}")
    del head["cities"]
    rows = (json.loads(line.rstrip().removesuffix(",")) for line in handle if line[0] == "[")
    return head, rows


@functools.cache
def _cities_by_country() -> dict[str, tuple[City, ...]]:
    """Group the cities by country."""
    grouped: dict[str, list[City]] = {}
    for city in _gazetteer().cities:
        grouped.setdefault(city.country, []).append(city)
    return {country: tuple(cities) for country, cities in grouped.items()}


# --- Regions ------------------------------------------------------------------------------------


@functools.cache
def _curated_region_names() -> dict[tuple[str, str], str]:
    """Read the project's own region names, keyed by (ISO 3166-2 code, locale)."""
    with REGION_NAMES_FILE.open(encoding="utf-8", newline="") as handle:
        return {(row["code"], row["locale"]): row["name"] for row in csv.DictReader(handle)}


def _locale_chain(locale: str) -> list[str]:
    """Return the locale and its fallbacks, most specific first (kk_Arab -> kk_Arab, kk)."""
    parsed = icu.Locale(locale.replace("-", "_"))
    language, script, region = parsed.getLanguage(), parsed.getScript(), parsed.getCountry()
    chain = [locale.replace("-", "_")]
    if language == "zh":
        # iso-codes names its Chinese catalogs by region, CLDR by script.
        chain.append("zh_TW" if script == "Hant" or region in ("TW", "HK", "MO") else "zh_CN")
    likely_script = icu.Locale(language).addLikelySubtags().getScript()
    if not script or script == likely_script:
        # kk_Arab readers (China, Iran) may not read Cyrillic: they get English, not kk.
        chain.append(language)
    return list(dict.fromkeys(chain))


@functools.cache
def _iso_codes_translation(locale: str) -> gettext.NullTranslations:
    """Return pycountry's (iso-codes') ISO 3166-2 catalog for the locale, or a null one."""
    return gettext.translation(
        "iso3166-2", pycountry.LOCALES_DIR, languages=_locale_chain(locale), fallback=True
    )


def region_name(code: str, locale: str = "en") -> str:
    """Return the display name of an ISO 3166-2 subdivision in the locale, as best known."""
    subdivision = pycountry.subdivisions.get(code=code)
    if subdivision is None:
        raise LookupError(f"unknown ISO 3166-2 code {code!r}")
    curated = _curated_region_names()
    for candidate in _locale_chain(locale):
        if (code, candidate) in curated:
            return curated[(code, candidate)]
    translated = _iso_codes_translation(locale).gettext(subdivision.name)
    if translated != subdivision.name:
        return translated
    return curated.get((code, "en"), subdivision.name)


def region_label(code: object, language: str) -> str:
    """Return a region's name in ``language`` for display, or the code itself when unknown.

    The one name of a region that maps, profiles and pages show (not escaped: escape it where
    it goes into markup). ``language``: a catalog name or a BCP 47 tag (``kk_Arab``, ``kk-Arab``).
    """
    try:
        return region_name(str(code), language)
    except LookupError:
        return str(code)


@functools.lru_cache(maxsize=32)  # one per language offered; bounded whatever callers send
def collator(locale: str) -> icu.Collator:
    """Return an ICU collator for a BCP 47 tag (or a Babel locale name).

    ICU's ``kk`` rules are for Cyrillic; Latin Kazakh (ä after a, ğ after g, ı before i, ñ after
    n, ş after s, ū and ü after u) sorts like Turkish, whose rules put these letters where the
    2021 alphabet does.
    """
    tag = locale.replace("_", "-")
    if tag == "kk-Latn":
        tag = "tr"
    return icu.Collator.createInstance(icu.Locale.forLanguageTag(tag))


def regions(country: str, locale: str = "en") -> list[tuple[str, str]]:
    """Return the top-level subdivisions of a country as (ISO 3166-2 code, name) in name order."""
    subdivisions = pycountry.subdivisions.get(country_code=country.upper()) or []
    named = [
        (subdivision.code, region_name(subdivision.code, locale))
        for subdivision in subdivisions
        if subdivision.parent_code is None
    ]
    key = collator(locale).getSortKey
    return sorted(named, key=lambda item: (key(item[1]), item[0]))


# --- Cities -------------------------------------------------------------------------------------


def cities(country: str, region: str | None = None, locale: str = "en") -> list[City]:
    """Return the cities of a country (or of one of its regions), sorted by name for the locale."""
    found = _cities_by_country().get(country.upper(), ())
    if region is not None:
        found = tuple(city for city in found if city.region == region.upper())
    key = collator(locale).getSortKey
    return sorted(found, key=lambda city: (key(city.name), -city.population, city.id))


@functools.cache
def _cities_by_id() -> dict[int, City]:
    return {city.id: city for city in _gazetteer().cities}


def city_by_id(geoname_id: int) -> City | None:
    """Return the city with this GeoNames id, or None."""
    return _cities_by_id().get(geoname_id)


def match_city(text: str, country: str | None = None, region: str | None = None) -> City | None:
    """Return the city a typed name most likely means, in any script, or None."""
    gazetteer = _gazetteer()
    # "Almaty, Kazakhstan": when the whole text is no name, try its first part.
    for attempt in (text, text.split(",")[0]):
        key = normalise_name(attempt)
        candidates = [gazetteer.cities[number] for number in gazetteer.named(key)]
        if country is not None:
            candidates = [city for city in candidates if city.country == country.upper()]
        if region is not None:
            candidates = [city for city in candidates if city.region == region.upper()]
        if candidates:
            return max(candidates, key=lambda city: (city.population, -city.id))
    return None


def nearest_city(lat: float, lon: float, max_km: float = 50) -> City | None:
    """Return the nearest city within max_km of a point, or None."""
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    gazetteer = _gazetteer()
    lat_rad, lon_rad = math.radians(lat), math.radians(lon)
    # Haversine distance to every city: a few ms for some ten thousand cities.
    half_chord = (
        np.sin((gazetteer.lat_rad - lat_rad) / 2) ** 2
        + math.cos(lat_rad)
        * np.cos(gazetteer.lat_rad)
        * np.sin((gazetteer.lon_rad - lon_rad) / 2) ** 2
    )
    distances = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(half_chord, 0, 1)))
    nearest = int(np.argmin(distances))
    return gazetteer.cities[nearest] if distances[nearest] <= max_km else None


# --- Fixed positions for published places -------------------------------------------------------


@functools.cache
def _points() -> dict:
    """Read the small points file once (not the whole city list: maps need only this)."""
    with gzip.open(POINTS_FILE, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def region_point(code: str) -> tuple[float, float] | None:
    """Return a fixed point for an ISO 3166-2 region (its cities' population-weighted centre)."""
    point = _points()["regions"].get(str(code).upper())
    return (point[0], point[1]) if point else None


def place_point(
    country: str, region: str | None = None, city: str | None = None
) -> tuple[float, float] | None:
    """Return where a published place is drawn: the gazetteer's point, never a respondent's.

    A city is drawn at the GeoNames point of the place of that main name in that region (the
    name stored when a respondent's answer matched a place); a name no place in the region bears
    is listed, not drawn (None). A region is drawn at :func:`region_point`.
    """
    if city:
        named = _points()["cities"].get(country, {}).get(region or "", {})
        point = named.get(normalise_name(city))
        return (point[0], point[1]) if point else None
    if region:
        return region_point(region)
    return None


def unit_points(units: Any) -> list[tuple[float, float] | None]:
    """Return where each published unit (:func:`geo.disclosure.roll_up`) is drawn: its
    gazetteer point (None: not drawn).

    Cities sit at their GeoNames point, regions and "elsewhere in a region" at the region's
    fixed point; country-level units are not drawn. Nothing depends on where respondents are.
    """
    points: list[tuple[float, float] | None] = []
    for unit in units.itertuples(index=False):
        if unit.level == "country":
            points.append(None)
        elif unit.level == "city":
            points.append(place_point(unit.country, unit.region, unit.city))
        else:
            points.append(place_point(unit.country, unit.region))
    return points
