"""Where things are drawn: the country layer, simplified and rounded once, and published places."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo.maps.text import script_json


@dataclass(frozen=True)
class WorldGeometry:
    """The country layer, simplified and serialised once per build."""

    #: FeatureCollection JSON; each feature's ``id`` is its ISO2 code, no properties.
    geojson: str
    #: Per ISO2 code: a FeatureCollection with that country alone (for profile maps).
    features: dict[str, str]
    #: Per ISO2 code: (south, west, north, east).
    bounds: dict[str, tuple[float, float, float, float]]
    #: Per ISO2 code: the layer's own (English) name, used when CLDR has none.
    names: dict[str, str]


def prepare_world(
    countries: pd.DataFrame, tolerance: float = 0.08, decimals: int = 2, min_area: float = 0.02
) -> WorldGeometry:
    """Simplify, round and serialise a country layer for world maps.

    :param countries: :func:`geo.boundaries.load_countries` (iso_a2, name, geometry; EPSG:4326).
    :param tolerance: simplification tolerance in degrees (shared borders stay shared).
    :param decimals: decimals kept in coordinates (2 = about 1 km).
    :param min_area: islands smaller than this (square degrees) are dropped, except a country's
        largest part.
    """
    geoms = np.asarray(countries.geometry.to_numpy(), dtype=object)
    try:
        simple = shapely.coverage_simplify(geoms, tolerance)
    except Exception:  # noqa: BLE001 - not a clean coverage: simplify country by country
        simple = shapely.simplify(geoms, tolerance, preserve_topology=True)
    features: dict[str, str] = {}
    bounds: dict[str, tuple[float, float, float, float]] = {}
    names: dict[str, str] = {}
    parts_json: list[str] = []
    for code, name, geom in zip(countries["iso_a2"], countries["name"], simple, strict=True):
        if geom is None or geom.is_empty or not isinstance(code, str):
            continue
        coords = _polygon_coords(geom, decimals, min_area)
        if not coords:  # smaller than the rounding (Vatican): a small square keeps it on the map
            x, y = np.round(shapely.get_coordinates(geom.centroid)[0], decimals)
            d = 2 * 10.0**-decimals
            square = np.array([[-d, -d], [d, -d], [d, d], [-d, d], [-d, -d]]) + [x, y]
            coords = [[np.round(square, decimals).tolist()]]
        feature = script_json(
            {"type": "Feature", "id": code, "properties": {},
             "geometry": {"type": "MultiPolygon", "coordinates": coords}}
        )  # fmt: skip
        parts_json.append(feature)
        features[code] = '{"type":"FeatureCollection","features":[' + feature + "]}"
        bounds[code] = _bounds(geom)
        names[code] = str(name)
    geojson = '{"type":"FeatureCollection","features":[' + ",".join(parts_json) + "]}"
    return WorldGeometry(geojson=geojson, features=features, bounds=bounds, names=names)


def _bounds(geom: Any) -> tuple[float, float, float, float]:
    """Return (south, west, north, east); across the antimeridian, those of the largest part."""
    west, south, east, north = geom.bounds
    if east - west > 180 and hasattr(geom, "geoms"):
        west, south, east, north = max(geom.geoms, key=lambda p: p.area).bounds
    return south, west, north, east


def _polygon_coords(geom: Any, decimals: int, min_area: float) -> list:
    polygons = list(getattr(geom, "geoms", [geom]))
    polygons = [p for p in polygons if p.geom_type == "Polygon" and not p.is_empty]
    if not polygons:
        return []
    largest = max(polygons, key=lambda p: p.area)
    out = []
    for polygon in polygons:
        if polygon is not largest and polygon.area < min_area:
            continue
        rings = [_ring(polygon.exterior, decimals)]
        rings += [
            _ring(r, decimals) for r in polygon.interiors if shapely.Polygon(r).area >= min_area
        ]
        rings = [r for r in rings if len(r) >= 4]
        if rings and len(rings[0]) >= 4:
            out.append(rings)
    return out


def _ring(ring: Any, decimals: int) -> list:
    xy = np.round(np.asarray(ring.coords)[:, :2], decimals)
    keep = np.ones(len(xy), dtype=bool)
    keep[1:] = np.any(xy[1:] != xy[:-1], axis=1)  # drop points that rounding made equal
    return xy[keep].tolist()
