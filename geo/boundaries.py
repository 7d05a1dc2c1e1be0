"""Country boundaries: load the bundled world layer and assign points to countries.

The layer ``geo/data/countries.geojson`` is built by ``python -m geo.build_boundaries`` from
Natural Earth (public domain); ``geo/data/README.md`` says how, and which rules it follows for
disputed areas.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import shapely

COUNTRIES_FILE = Path(__file__).resolve().parent / "data" / "countries.geojson"
COLUMNS = ["iso_a2", "iso_a3", "iso_n3", "name", "geometry"]

#: A point outside every country but this close (degrees) to one gets the nearest country: the
#: simplified coastline is a few km off in places, and coastal cities must not fall in the sea.
COAST_TOLERANCE = 0.1
#: check_country accepts a point this close (degrees) to the chosen country: borders in the
#: simplified layer are a few km off in places, and stored points are rounded to about 1 km.
BORDER_TOLERANCE = 0.05
#: Size (degrees) of the grid cells the country polygons are cut into for fast lookup.
CELL_SIZE = 10.0
_COLUMNS_OF_CELLS = int(360 / CELL_SIZE)
_ROWS_OF_CELLS = int(180 / CELL_SIZE)

if TYPE_CHECKING:
    import geopandas as gpd


@dataclass(frozen=True)
class _Layer:
    """The bundled countries as plain arrays: what point lookups need, without geopandas.

    geopandas (and its import, some 20 MB a process) is only loaded by :func:`load_countries`,
    for the map builds and the GeoJSON/GeoPackage exports; the site's workers never need it.
    """

    iso_a2: npt.NDArray[np.object_]
    properties: tuple[dict, ...]
    geometry: npt.NDArray[np.object_]


@functools.cache
def _layer() -> _Layer:
    """Read the bundled country layer once (GeoJSON with shapely: no geopandas)."""
    features = json.loads(COUNTRIES_FILE.read_text(encoding="utf-8"))["features"]
    properties = tuple(
        {**f["properties"], "iso_n3": str(f["properties"]["iso_n3"]).zfill(3)} for f in features
    )
    geometry = shapely.from_geojson([json.dumps(f["geometry"]) for f in features])
    return _Layer(
        iso_a2=np.array([p["iso_a2"] for p in properties], dtype=object),
        properties=properties,
        geometry=np.asarray(geometry, dtype=object),
    )


@functools.cache
def _countries() -> gpd.GeoDataFrame:
    import geopandas as gpd

    layer = _layer()
    frame = gpd.GeoDataFrame(
        [{name: p[name] for name in COLUMNS[:-1]} for p in layer.properties],
        geometry=list(layer.geometry),
        crs="EPSG:4326",
    )
    return frame[COLUMNS]


def load_countries() -> gpd.GeoDataFrame:
    """Return the world country layer (iso_a2, iso_a3, iso_n3, name, geometry; EPSG:4326)."""
    # A copy, so that a caller who adds a column does not change what everyone else gets.
    return _countries().copy()


def country_geometry(iso2: str) -> shapely.Geometry | None:
    """Return one country's polygon from the bundled layer, or None."""
    layer = _layer()
    found = np.flatnonzero(layer.iso_a2 == iso2.upper())
    return layer.geometry[found[0]] if len(found) else None


def country_geometries() -> list[tuple[str, shapely.Geometry]]:
    """Return every country's (ISO 3166-1 alpha-2 code, polygon), in the layer's order."""
    layer = _layer()
    return list(zip(layer.iso_a2.tolist(), layer.geometry.tolist(), strict=True))


@dataclass(frozen=True)
class _Tile:
    """A piece of one country's polygon that lies inside one grid cell."""

    country: int
    geometry: shapely.Geometry


@dataclass(frozen=True)
class _CountryIndex:
    """The country polygons cut into grid cells, prepared for point-in-polygon tests."""

    codes: npt.NDArray[np.object_]
    tiles_by_cell: dict[int, list[_Tile]]
    tree: shapely.STRtree
    tree_countries: npt.NDArray[np.intp]


def _cell_of(lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
    """Return the grid cell number of each point."""
    column = np.clip(np.floor((lon + 180.0) / CELL_SIZE), 0, _COLUMNS_OF_CELLS - 1)
    row = np.clip(np.floor((lat + 90.0) / CELL_SIZE), 0, _ROWS_OF_CELLS - 1)
    return (row * _COLUMNS_OF_CELLS + column).astype(np.intp)


def _cell_box(cell: int) -> shapely.Geometry:
    """Return the rectangle of a grid cell."""
    row, column = divmod(cell, _COLUMNS_OF_CELLS)
    west, south = column * CELL_SIZE - 180.0, row * CELL_SIZE - 90.0
    return shapely.box(west, south, west + CELL_SIZE, south + CELL_SIZE)


def _cells_covering(bounds: tuple[float, float, float, float]) -> list[int]:
    """Return the grid cells that a bounding box (west, south, east, north) touches."""
    west, south, east, north = bounds
    first = _cell_of(np.array([south]), np.array([west]))[0]
    last = _cell_of(np.array([north]), np.array([east]))[0]
    first_row, first_column = divmod(int(first), _COLUMNS_OF_CELLS)
    last_row, last_column = divmod(int(last), _COLUMNS_OF_CELLS)
    return [
        row * _COLUMNS_OF_CELLS + column
        for row in range(first_row, last_row + 1)
        for column in range(first_column, last_column + 1)
    ]


@functools.cache
def _index() -> _CountryIndex:
    """Cut the countries into grid tiles and prepare them, once."""
    layer = _layer()
    tiles_by_cell: dict[int, list[_Tile]] = {}
    pieces: list[shapely.Geometry] = []
    owners: list[int] = []
    for country, geometry in enumerate(layer.geometry):
        for part in shapely.get_parts(geometry):
            cells = _cells_covering(part.bounds)
            clipped = (
                [part]
                if len(cells) == 1
                else shapely.intersection(part, [_cell_box(c) for c in cells])
            )
            for cell, piece in zip(cells, clipped, strict=True):
                if piece.is_empty or shapely.area(piece) == 0:
                    continue
                shapely.prepare(piece)
                tiles_by_cell.setdefault(cell, []).append(_Tile(country, piece))
                pieces.append(piece)
                owners.append(country)
    return _CountryIndex(
        codes=layer.iso_a2,
        tiles_by_cell=tiles_by_cell,
        tree=shapely.STRtree(pieces),
        tree_countries=np.array(owners, dtype=np.intp),
    )


def _country_numbers(lat: npt.ArrayLike, lon: npt.ArrayLike) -> npt.NDArray[np.intp]:
    """Return the row of the country of each point in the layer, or -1 for none."""
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    if lat.shape != lon.shape:
        raise ValueError("lat and lon must have the same shape")
    lat, lon = lat.ravel(), lon.ravel()
    index = _index()
    found = np.full(lat.shape, -1, dtype=np.intp)
    valid = np.flatnonzero(
        np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    )
    cells = _cell_of(lat[valid], lon[valid])
    order = np.argsort(cells, kind="stable")
    points, cells = valid[order], cells[order]
    edges = [*np.flatnonzero(np.diff(cells, prepend=-1)), len(cells)]
    for start, end in zip(edges[:-1], edges[1:], strict=True):
        in_cell = points[start:end]
        for tile in index.tiles_by_cell.get(int(cells[start]), ()):
            # A point on a shared border touches both countries: the first one keeps it.
            open_points = in_cell[found[in_cell] < 0]
            if not len(open_points):
                break
            hit = shapely.intersects_xy(tile.geometry, lon[open_points], lat[open_points])
            found[open_points[hit]] = tile.country
    _assign_near_coast(found, valid, lat, lon, index)
    return found


def _assign_near_coast(
    found: npt.NDArray[np.intp],
    valid: npt.NDArray[np.intp],
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    index: _CountryIndex,
) -> None:
    """Give points just outside every country the nearest country within COAST_TOLERANCE."""
    outside = valid[found[valid] < 0]
    if not len(outside):
        return
    points = shapely.points(lon[outside], lat[outside])
    which, tiles = index.tree.query_nearest(points, max_distance=COAST_TOLERANCE, all_matches=False)
    found[outside[which]] = index.tree_countries[tiles]


def assign_countries(lat: npt.ArrayLike, lon: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """Return the ISO 3166-1 alpha-2 code of the country of each point, or None."""
    numbers = _country_numbers(lat, lon)
    codes = np.full(numbers.shape, None, dtype=object)
    inside = numbers >= 0
    codes[inside] = _index().codes[numbers[inside]]
    return codes


def check_country(iso2_chosen: str, lat: float | None, lon: float | None) -> bool:
    """Return False when the point lies clearly outside the country chosen, else True."""
    if lat is None or lon is None or not (math.isfinite(lat) and math.isfinite(lon)):
        return True
    found = assign_countries([lat], [lon])[0]
    if found is None or found == iso2_chosen.upper():
        return True
    chosen = country_geometry(iso2_chosen)
    if chosen is None:
        return False
    return bool(shapely.dwithin(chosen, shapely.Point(lon, lat), BORDER_TOLERANCE))
