"""Synthetic survey responses for benchmarks, demos and tests (never real people).

:func:`generate` draws respondents from a fixed list of real places where Kazakh communities live,
weighted roughly like the estimates in ``data/estimates.csv``, and jitters their coordinates around
those places. A small share of rows carries hostile strings (markup, template-literal, formula and
SQL payloads) in the name-like and free-text-like columns, so every consumer is exercised against
them. Everything is vectorised with numpy: a million rows take a few seconds.

Low-cardinality text columns are pandas categoricals; the multi-select columns (``skills``,
``languages``, ``needs``, ``contribution``) hold tuples (read-only lists; rows share them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.disclosure import KEY_RANGE

#: Hostile strings injected into name and free-text columns.
HOSTILE_STRINGS: tuple[str, ...] = (
    "<img src=x onerror=alert(1)>",
    "${alert(1)}",
    '=HYPERLINK("http://x")',
    "'; DROP TABLE--",
    "</script><script>alert(1)</script>",
    "`${alert(document.cookie)}`",
)
#: Share of rows with a hostile city, occupation or link (region: a tenth of that).
HOSTILE_RATE = 0.002

AGE_BANDS: tuple[str, ...] = ("16-24", "25-34", "35-44", "45-54", "55-64", "65+")
SEXES: tuple[str, ...] = ("female", "male", "other")
SKILLS: tuple[str, ...] = (
    "agriculture", "construction", "education", "engineering", "finance", "healthcare",
    "it", "law", "logistics", "media", "research", "trade",
)  # fmt: skip
LANGUAGES: tuple[str, ...] = ("kk", "ru", "zh", "mn", "uz", "tr", "en", "de", "fa", "ky")
NEEDS: tuple[str, ...] = (
    "language_courses", "kazakh_schools", "cultural_centre", "consular_help",
    "return_support", "business_contacts", "scholarships", "media_in_kazakh",
)  # fmt: skip
CONTRIBUTIONS: tuple[str, ...] = (
    "investment", "trade", "mentoring", "teaching", "research", "volunteering",
    "tourism", "philanthropy",
)  # fmt: skip
EDUCATION: tuple[str, ...] = ("secondary", "vocational", "bachelor", "master", "doctorate")
OCCUPATIONS: tuple[str, ...] = (
    "teacher", "engineer", "doctor", "student", "farmer", "driver", "trader",
    "programmer", "researcher", "retired", "homemaker", "entrepreneur",
)  # fmt: skip
RETURN_INTENTIONS: tuple[str, ...] = ("yes", "maybe", "no", "undecided")
SURVEY_LANGUAGES: tuple[str, ...] = ("kk", "kk_Latn", "kk_Arab", "ru", "en", "zh_Hans", "tr", "mn")

#: Relative number of respondents per country (roughly the estimates, smaller ones boosted).
COUNTRY_WEIGHTS: dict[str, float] = {
    "CN": 30, "UZ": 20, "RU": 20, "MN": 6, "KZ": 3, "TR": 4, "DE": 3, "US": 3, "KG": 2,
    "TM": 1.5, "IR": 1, "AF": 0.5, "UA": 1, "GB": 1, "CA": 0.5, "KR": 0.5, "AE": 0.5, "CZ": 0.3,
}  # fmt: skip
#: Main survey language per country (others are drawn at random).
COUNTRY_LANGUAGE: dict[str, str] = {"CN": "kk_Arab", "IR": "kk_Arab", "AF": "kk_Arab", "MN": "kk"}

#: (country, ISO 3166-2 region, city, lat, lon, weight within the country)
PLACES: tuple[tuple[str, str, str, float, float, float], ...] = (
    ("CN", "CN-XJ", "Ürümqi", 43.83, 87.62, 4),
    ("CN", "CN-XJ", "Ghulja", 43.91, 81.28, 4),
    ("CN", "CN-XJ", "Altay", 47.85, 88.13, 3),
    ("CN", "CN-XJ", "Tacheng", 46.75, 82.98, 3),
    ("CN", "CN-BJ", "Beijing", 39.90, 116.41, 0.5),
    ("UZ", "UZ-TK", "Tashkent", 41.30, 69.24, 4),
    ("UZ", "UZ-QR", "Nukus", 42.46, 59.60, 3),
    ("UZ", "UZ-NW", "Navoiy", 40.10, 65.37, 2),
    ("UZ", "UZ-BU", "Bukhara", 39.77, 64.42, 1),
    ("UZ", "UZ-SA", "Samarkand", 39.65, 66.96, 1),
    ("RU", "RU-ORE", "Orenburg", 51.77, 55.10, 3),
    ("RU", "RU-AST", "Astrakhan", 46.35, 48.04, 3),
    ("RU", "RU-OMS", "Omsk", 54.99, 73.37, 2),
    ("RU", "RU-SAR", "Saratov", 51.53, 46.03, 1.5),
    ("RU", "RU-MOW", "Moscow", 55.76, 37.62, 2),
    ("RU", "RU-NVS", "Novosibirsk", 55.03, 82.92, 1),
    ("MN", "MN-071", "Ölgii", 48.97, 89.96, 6),
    ("MN", "MN-043", "Khovd", 48.01, 91.64, 1.5),
    ("MN", "MN-1", "Ulaanbaatar", 47.92, 106.92, 2),
    ("KZ", "KZ-75", "Almaty", 43.24, 76.89, 2),
    ("KZ", "KZ-71", "Astana", 51.17, 71.45, 1),
    ("TR", "TR-34", "Istanbul", 41.01, 28.98, 4),
    ("TR", "TR-45", "Salihli", 38.48, 28.14, 1),
    ("TR", "TR-38", "Kayseri", 38.72, 35.49, 1),
    ("TR", "TR-06", "Ankara", 39.93, 32.86, 1),
    ("DE", "DE-BE", "Berlin", 52.52, 13.40, 2),
    ("DE", "DE-BY", "Munich", 48.14, 11.58, 1),
    ("DE", "DE-HE", "Frankfurt am Main", 50.11, 8.68, 1),
    ("US", "US-NY", "New York", 40.71, -74.01, 2),
    ("US", "US-DC", "Washington", 38.91, -77.04, 1),
    ("US", "US-CA", "Los Angeles", 34.05, -118.24, 1),
    ("KG", "KG-GB", "Bishkek", 42.87, 74.59, 1),
    ("TM", "TM-S", "Ashgabat", 37.95, 58.38, 1),
    ("TM", "TM-B", "Türkmenbaşy", 40.02, 52.97, 1),
    ("IR", "IR-27", "Gorgan", 36.84, 54.43, 1),
    ("AF", "AF-BAL", "Mazar-i-Sharif", 36.71, 67.11, 1),
    ("UA", "UA-30", "Kyiv", 50.45, 30.52, 1),
    ("GB", "GB-LND", "London", 51.51, -0.13, 1),
    ("CA", "CA-ON", "Toronto", 43.65, -79.38, 1),
    ("KR", "KR-11", "Seoul", 37.57, 126.98, 1),
    ("AE", "AE-DU", "Dubai", 25.20, 55.27, 1),
    ("CZ", "CZ-10", "Prague", 50.08, 14.44, 1),
)

_MISSING_LOCATION = 0.15  # respondents who did not share a location
_JITTER_DEGREES = 0.2


def generate(n: int, seed: int = 0) -> pd.DataFrame:
    """Return ``n`` synthetic responses (same ``seed``, same rows).

    :return: columns country, region, city, lat, lon, sex, age_band, citizenship, language,
        link, skills, languages, needs, contribution, education, occupation, return_intention,
        record_key and independent (see :mod:`geo.disclosure`).
    """
    rng = np.random.default_rng(seed)
    places = pd.DataFrame(PLACES, columns=["country", "region", "city", "lat", "lon", "w"])
    share = places.w / places.groupby("country").w.transform("sum")
    p = (share * places.country.map(COUNTRY_WEIGHTS)).to_numpy()
    place = rng.choice(len(places), size=n, p=p / p.sum())

    countries = tuple(COUNTRY_WEIGHTS)
    country_code = places.country.map(countries.index).to_numpy()[place]
    regions = tuple(dict.fromkeys(places.region))
    region_code = places.region.map(regions.index).to_numpy()[place]
    cities = tuple(dict.fromkeys(places.city))
    city_code = places.city.map(cities.index).to_numpy()[place]

    located = rng.random(n) >= _MISSING_LOCATION
    lat = places.lat.to_numpy()[place] + rng.normal(0, _JITTER_DEGREES, n)
    lon = places.lon.to_numpy()[place] + rng.normal(0, _JITTER_DEGREES, n)
    # Stored like real answers: at most 2 decimals (about 1 km), or nothing.
    lat = np.where(located, np.round(np.clip(lat, -89.99, 89.99), 2), np.nan)
    lon = np.where(located, np.round(lon, 2), np.nan)

    # Citizenship: mostly the country of residence, then Kazakhstan, another, or none given.
    kind = rng.choice(4, size=n, p=[0.70, 0.20, 0.08, 0.02])
    citizenship_values = (*countries, "")
    other = rng.integers(0, len(countries), n)
    kz = countries.index("KZ")
    citizenship_code = np.select(
        [kind == 0, kind == 1, kind == 2], [country_code, kz, other], len(countries)
    )

    main_language = np.array(
        [SURVEY_LANGUAGES.index(COUNTRY_LANGUAGE.get(c, "ru")) for c in countries]
    )[country_code]
    language_code = np.where(
        rng.random(n) < 0.6, main_language, rng.integers(0, len(SURVEY_LANGUAGES), n)
    )
    links = tuple(f"assoc-{c.lower()}-{i}" for c in countries for i in range(3))
    link_code = country_code * 3 + rng.integers(0, 3, n)

    df = pd.DataFrame(
        {
            "country": _categorical(country_code, countries),
            "region": _hostile(rng, region_code, regions, HOSTILE_RATE / 10),
            "city": _hostile(rng, city_code, cities, HOSTILE_RATE),
            "lat": lat,
            "lon": lon,
            "sex": _choice(rng, n, SEXES, [0.49, 0.47, 0.01], missing=0.03),
            "age_band": _choice(rng, n, AGE_BANDS, [0.18, 0.27, 0.22, 0.16, 0.11, 0.06]),
            "citizenship": _categorical(citizenship_code, citizenship_values).astype(str),
            "language": _categorical(language_code, SURVEY_LANGUAGES),
            "link": _hostile(rng, link_code, links, HOSTILE_RATE),
            "skills": _multi(rng, n, SKILLS, 0.15),
            "languages": _multi(rng, n, LANGUAGES, 0.2, always=(0,)),
            "needs": _multi(rng, n, NEEDS, 0.25),
            "contribution": _multi(rng, n, CONTRIBUTIONS, 0.2),
            "education": _choice(rng, n, EDUCATION, [0.25, 0.2, 0.3, 0.18, 0.05], missing=0.02),
            "occupation": _hostile(
                rng, rng.integers(0, len(OCCUPATIONS), n), OCCUPATIONS, HOSTILE_RATE
            ),
            "return_intention": _choice(
                rng, n, RETURN_INTENTIONS, [0.15, 0.3, 0.35, 0.15], missing=0.05
            ),
        }
    )
    df["citizenship"] = df["citizenship"].replace("", None)
    # What disclosure control reads: a record key each, and every synthetic respondent counts.
    df["record_key"] = rng.integers(0, KEY_RANGE, n)
    df["independent"] = True
    return df


def _categorical(codes: np.ndarray, values: tuple[str, ...]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int32), categories=list(values))


def _choice(
    rng: np.random.Generator, n: int, values: tuple[str, ...], p: list[float], missing: float = 0
) -> pd.Categorical:
    weights = np.array([*p, missing], dtype=float)
    codes = rng.choice(len(values) + 1, size=n, p=weights / weights.sum())
    codes[codes == len(values)] = -1  # missing answer
    return _categorical(codes, values)


def _hostile(
    rng: np.random.Generator, codes: np.ndarray, values: tuple[str, ...], rate: float
) -> pd.Categorical:
    """Replace a share ``rate`` of the values with hostile strings."""
    n = len(codes)
    hit = rng.random(n) < rate
    payload = len(values) + rng.integers(0, len(HOSTILE_STRINGS), n)
    return _categorical(np.where(hit, payload, codes), (*values, *HOSTILE_STRINGS))


def _multi(
    rng: np.random.Generator, n: int, items: tuple[str, ...], p: float, always: tuple[int, ...] = ()
) -> np.ndarray:
    """Return an object array of tuples: each item named with probability ``p``."""
    bits = np.zeros(n, dtype=np.int64)
    for i in range(len(items)):
        chosen = rng.random(n) < p if i not in always else np.ones(n, dtype=bool)
        bits |= chosen.astype(np.int64) << i
    lookup = np.empty(1 << len(items), dtype=object)
    for mask in range(1 << len(items)):
        lookup[mask] = tuple(item for i, item in enumerate(items) if mask >> i & 1)
    return lookup[bits]
