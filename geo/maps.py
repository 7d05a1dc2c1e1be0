"""Folium maps of the diaspora that are safe to publish.

What "safe" means here:

* **Disclosure.** Maps only show aggregates that went through :mod:`geo.disclosure`: counts per
  country (perturbed, with secondary suppression), shares per country, and places rolled up to
  >= k respondents. No marker per response and no position computed from respondents: a place
  is drawn at its gazetteer point (:func:`geo.places.place_point`). High-risk countries are at
  country level only. A country hidden in the world table is left out of every other table (its
  row totals elsewhere would give its count away), and every country below k, empty or not,
  reads "fewer than k".
* **No respondent markup.** folium's ``popup=str``/``tooltip=str`` render raw HTML,
  ``Popup(parse_html=True)`` and ``Tooltip`` use JS template literals where ``${...}`` runs, and
  ``GeoJsonTooltip`` assigns ``innerHTML``. So none of them is used: the map layers here are two
  small elements (:class:`ChoroplethLayers`, :class:`PlaceCircles`) that take labels already
  escaped by :func:`escape_label` (HTML-escaped, with ``$``, backtick, backslash and braces as
  character references) and embed data with ``<``/``>``/``&`` as JSON escapes.
* **No third-party requests.** Every script and stylesheet comes from a local ``assets/`` folder
  next to the HTML (relative URLs), copied from ``node_modules`` (see ``package.json``). folium's
  jQuery, Bootstrap, Font Awesome and awesome-markers are not needed and not loaded. No tile
  layer unless a tile URL is given.
* **Small files.** The country layer is simplified and rounded once per build
  (:func:`prepare_world`) and serialised once; every map and every language reuses that string,
  and a map with several layers embeds it once and styles it per layer in the browser.

Text on maps comes from ``translate(msgid)`` with msgids marked ``N_()`` (:mod:`geo.i18n`).
"""

from __future__ import annotations

import html
import json
import math
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import branca.element
import folium
import numpy as np
import pandas as pd
import shapely
from babel.numbers import format_percent
from folium.template import Template

from geo.aggregate import CITIZENSHIP_CATEGORIES, MapData, aggregate_for_maps
from geo.disclosure import Policy, display_count
from geo.i18n import N_, Translate, babel_locale, format_count, format_share, html_lang, is_rtl
from geo.places import place_point, region_label

#: Files of ``assets/`` (next to every map) and where they are in the installed npm packages
#: (the directory the caller passes: the app's ``node_modules``, see ``package.json``).
ASSET_SOURCES: dict[str, str] = {
    "leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet.css": "leaflet/dist/leaflet.css",
    # leaflet.css refers to these by relative URL (layer control icon, default marker).
    "images/layers.png": "leaflet/dist/images/layers.png",
    "images/layers-2x.png": "leaflet/dist/images/layers-2x.png",
    "images/marker-icon.png": "leaflet/dist/images/marker-icon.png",
    "images/marker-icon-2x.png": "leaflet/dist/images/marker-icon-2x.png",
    "images/marker-shadow.png": "leaflet/dist/images/marker-shadow.png",
}
ASSETS_DIR = "assets"

#: Sequential colours (ColorBrewer YlGnBu, 6 classes), hidden and empty countries.
PALETTE = ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494")
HIDDEN_COLOUR = "#b0b0b0"
EMPTY_COLOUR = "#f2f2f2"
CIRCLE_COLOUR = "#2c7fb8"
SHARE_BREAKS = (0.1, 0.2, 0.3, 0.4, 0.6)
COVERAGE_BREAKS = (0.001, 0.005, 0.01, 0.05, 0.1)
MAX_CIRCLE_RADIUS = 28

# --- msgids -------------------------------------------------------------------------------
T_WORLD = N_("Survey respondents by country of residence")
T_COVERAGE = N_("Respondents relative to the estimated number of Kazakhs")
T_CITIZENSHIP = N_("Citizenship of respondents by country of residence")
T_NEEDS = N_("What respondents need, by country")
T_CONTRIBUTION = N_("How respondents would contribute, by country")
T_PROFILE = N_("Respondents in %(country)s")
L_RESPONDENTS = N_("Respondents: %(n)s")
L_RANGE = N_("%(low)s to %(high)s")
L_OR_MORE = N_("%(low)s or more")
L_BELOW = N_("below %(high)s")
L_HIDDEN = N_("Fewer than %(k)s respondents, or hidden to protect a small count")
L_NO_ESTIMATE = N_("No estimate available")
L_ESTIMATE = N_(
    "Estimated Kazakhs: %(low)s to %(high)s (%(source)s, %(year)s; confidence: %(confidence)s)"
)
L_ESTIMATE_ONE = N_(
    "Estimated Kazakhs: %(central)s (%(source)s, %(year)s; confidence: %(confidence)s)"
)
L_COVERAGE = N_("Coverage: %(low)s to %(high)s of the estimate")
L_COVERAGE_ONE = N_("Coverage: %(ratio)s of the estimate")
L_COVERAGE_NOTE = N_(
    "Estimates are uncertain: the colour uses the central figure, the tooltip shows the range."
)
L_YEAR_UNKNOWN = N_("year unknown")
L_CONFIDENCE = {"high": N_("high"), "medium": N_("medium"), "low": N_("low")}
L_SHARE_OF = N_("%(share)s of respondents (%(n)s)")
L_SHARE_NOTE = N_("Share of all respondents in the country; a respondent may name several.")
L_K_NOTE = N_("Counts below %(k)s are not shown, nor any count from which one could be worked out.")
L_PLACE = N_("%(place)s: %(n)s respondents")
L_REST_OF = N_("other places in %(place)s")
L_COUNTRY_REST = N_("Elsewhere in the country or place not given: %(n)s respondents")
L_UNPLACED = N_("In places without enough located respondents to map: %(n)s respondents")
L_HIGH_RISK = N_("Shown at country level only, to protect respondents.")
L_TOTAL = N_("Total: %(n)s respondents")
L_CIRCLE_NOTE = N_(
    "Circle area is proportional to respondents; places with fewer than %(k)s "
    "are grouped into their region or country."
)

Progress = Callable[[int, int, str], None]
ChoiceLabel = Callable[[str, str, str], str]


# --- escaping -----------------------------------------------------------------------------

_LABEL_ESCAPES = str.maketrans(
    {"$": "&#36;", "`": "&#96;", "\\": "&#92;", "{": "&#123;", "}": "&#125;"}
)


def escape_label(text: object) -> str:
    """Escape text for a map label: HTML, and whatever a JS template literal would run."""
    return html.escape(str(text), quote=True).translate(_LABEL_ESCAPES)


def _js(obj: Any) -> str:
    """Serialise data for a ``<script>``: JSON that cannot close the script or open a comment."""
    return (
        json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _t(translate: Translate, msgid: str, **values: object) -> str:
    """Translate, escape and fill a msgid; values are escaped before they are filled in."""
    safe = {name: escape_label(value) for name, value in values.items()}
    text = escape_label(translate(msgid))
    try:
        return text % safe if values else text
    except (KeyError, ValueError, TypeError):  # a broken translation: fall back to the msgid
        return escape_label(msgid) % safe if values else escape_label(msgid)


# --- assets -------------------------------------------------------------------------------


def copy_assets(source: Path, dest: Path) -> list[str]:
    """Copy the map assets from ``source`` (installed npm packages) into ``dest`` (``assets/``).

    :param source: the directory :data:`ASSET_SOURCES` paths are relative to.
    :raises FileNotFoundError: when an asset is missing (install the packages with ``npm ci``).
    :return: the copied file names, relative to ``dest``.
    """
    source = Path(source)
    missing = [src for src in ASSET_SOURCES.values() if not (source / src).is_file()]
    if missing:
        raise FileNotFoundError(
            f"map assets missing under {source}: {missing}; install them with `npm ci`"
        )
    for name, src in ASSET_SOURCES.items():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / src, target)
    return sorted(ASSET_SOURCES)


# --- geometry -----------------------------------------------------------------------------


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
        feature = _js(
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


# --- map elements -------------------------------------------------------------------------


class AtlasFigure(branca.element.Figure):
    """A branca Figure whose ``<html>`` carries ``lang`` and ``dir``."""

    _template = Template(
        "<!DOCTYPE html>\n"
        '<html lang="{{ this.lang }}" dir="{{ this.dir }}">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        "{% if this.title %}<title>{{ this.title }}</title>{% endif %}\n"
        "{{ this.header.render(**kwargs) }}\n"
        "</head>\n"
        "<body>\n"
        "{{ this.html.render(**kwargs) }}\n"
        "</body>\n"
        "<script>\n"
        "{{ this.script.render(**kwargs) }}\n"
        "</script>\n"
        "</html>\n"
    )

    def __init__(self, title: str, language: str, rtl: bool) -> None:
        super().__init__(title=title)  # title: already escaped
        self.lang = escape_label(html_lang(language))
        self.dir = "rtl" if rtl else "ltr"


class ChoroplethLayers(folium.MacroElement):
    """One embedded GeoJSON, shown as one or more colour layers (radio buttons if several).

    ``layers``: ``[{"name": html, "fill": {iso: colour}, "tip": {iso: html}, "none": html}]``;
    ``names``: ``{iso: html}``. All HTML must come from :func:`escape_label` / :func:`_t`.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var geo = {{ this.geojson }};
            var names = {{ this.names_json }};
            var layers = {{ this.layers_json }};
            var base = {};
            layers.forEach(function (spec, i) {
                var layer = L.geoJSON(geo, {
                    style: function (f) {
                        var c = spec.fill[f.id];
                        return {fillColor: c || {{ this.empty|tojson }},
                                fillOpacity: c ? 0.85 : 0.6, color: "#ffffff", weight: 0.6};
                    },
                    onEachFeature: function (f, l) {
                        var tip = spec.tip[f.id] || spec.none;
                        if (names[f.id] !== undefined) {
                            l.bindTooltip("<b>" + names[f.id] + "</b><br>" + tip, {sticky: true});
                        }
                    }
                });
                base[spec.name] = layer;
                if (i === 0) { layer.addTo(map); }
            });
            if (layers.length > 1) {
                L.control.layers(base, null, {collapsed: false,
                                              position: {{ this.position|tojson }}}).addTo(map);
            }
            {% if this.fit %}map.fitBounds({{ this.fit|tojson }});{% endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        geojson: str,
        names: Mapping[str, str],
        layers: list[dict[str, Any]],
        position: str = "bottomright",
        fit: list[list[float]] | None = None,
    ) -> None:
        super().__init__()
        self._name = "ChoroplethLayers"
        self.geojson = geojson
        self.names_json = _js(dict(names))
        self.layers_json = _js(layers)
        # A country with no entry is one below k (empty or not: they look the same).
        self.empty = HIDDEN_COLOUR
        self.position = position
        self.fit = fit


class PlaceCircles(folium.MacroElement):
    """Proportional circles for places of >= k respondents (labels already escaped)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            {{ this.places_json }}.forEach(function (p) {
                L.circleMarker([p[0], p[1]], {radius: p[2], color: {{ this.colour|tojson }},
                    weight: 1, fillOpacity: 0.55}).bindTooltip(p[3]).addTo(map);
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, places: list[tuple[float, float, float, str]]) -> None:
        super().__init__()
        self._name = "PlaceCircles"
        self.places_json = _js([list(p) for p in places])
        self.colour = CIRCLE_COLOUR


class Legend(folium.MacroElement):
    """Title, colour key and notes in a box; every string already escaped."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
            .atlas-legend { position: absolute; z-index: 1000; top: 10px; {{ this.side }}: 10px;
                max-width: 22rem; background: rgba(255,255,255,0.92); padding: 8px 10px;
                border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,0.3);
                font: 13px/1.4 "Noto Sans", "Noto Naskh Arabic", "Noto Sans Arabic", sans-serif; }
            .atlas-legend h1 { font-size: 15px; margin: 0 0 6px; }
            .atlas-legend ul { list-style: none; margin: 0; padding: 0; }
            .atlas-legend i { display: inline-block; width: 14px; height: 14px;
                margin-inline-end: 6px; vertical-align: -2px; border: 1px solid #999; }
            .atlas-legend p { margin: 6px 0 0; font-size: 12px; color: #333; }
        </style>
        {% endmacro %}
        {% macro html(this, kwargs) %}
        <div class="atlas-legend">
            <h1>{{ this.title }}</h1>
            <ul>{% for colour, label in this.items %}
                <li><i style="background:{{ colour }}"></i>{{ label }}</li>{% endfor %}
            </ul>{% for note in this.notes %}
            <p>{{ note }}</p>{% endfor %}
        </div>
        {% endmacro %}
        """
    )

    def __init__(
        self, title: str, items: list[tuple[str, str]], notes: list[str], rtl: bool
    ) -> None:
        super().__init__()
        self._name = "Legend"
        self.title = title
        self.items = items
        self.notes = notes
        self.side = "left" if rtl else "right"


@dataclass(frozen=True)
class Style:
    """What a rendering needs besides the data: language, direction, assets, tiles."""

    translate: Translate
    language: str = "en"
    rtl: bool = False
    assets: str = ASSETS_DIR
    tile_url: str | None = None
    tile_attribution: str = ""

    def count(self, n: float) -> str:
        """Format a count in this language."""
        return format_count(n, self.language)

    def share(self, x: float) -> str:
        """Format a share (0..1) as a percentage in this language."""
        return format_share(x, self.language)

    def country_names(self, world: WorldGeometry) -> dict[str, str]:
        """Return escaped country names in this language (CLDR), for every feature."""
        territories = babel_locale(self.language).territories
        return {
            code: escape_label(territories.get(code) or fallback)
            for code, fallback in world.names.items()
        }


def base_map(title: str, style: Style, location=(40.0, 60.0), zoom: int = 3) -> folium.Map:
    """Return an empty map whose scripts and styles come from ``assets/``, without tiles."""
    fig = AtlasFigure(title=title, language=style.language, rtl=style.rtl)
    m = folium.Map(
        location=list(location),
        zoom_start=zoom,
        tiles=None,
        prefer_canvas=True,
        world_copy_jump=False,
        zoom_control="topright" if style.rtl else "topleft",
    )
    # Instance attributes: folium's class-level lists stay untouched for everyone else.
    m.default_js = [("leaflet", f"{style.assets}/leaflet.js")]
    m.default_css = [("leaflet_css", f"{style.assets}/leaflet.css")]
    fig.add_child(m)
    if style.tile_url:
        folium.TileLayer(
            tiles=style.tile_url, attr=escape_label(style.tile_attribution or " "), name="tiles"
        ).add_to(m)
    return m


def _classes(breaks: tuple[float, ...] | list[float]) -> Callable[[float], str]:
    def colour(value: float) -> str:
        return PALETTE[int(np.searchsorted(np.asarray(breaks), value, side="right"))]

    return colour


def _key(
    breaks: Iterable[float], fmt: Callable[[float], str], style: Style, whole: bool = False
) -> list[tuple[str, str]]:
    """Return the legend's colour key; ``whole``: counts, so "10 to 19" rather than "to 20"."""
    breaks = list(breaks)
    t = style.translate
    last = (lambda x: fmt(x - 1)) if whole else fmt
    items = [(PALETTE[0], _t(t, L_BELOW, high=fmt(breaks[0])))]
    for i, (low, high) in enumerate(zip(breaks, breaks[1:], strict=False), start=1):
        items.append((PALETTE[i], _t(t, L_RANGE, low=fmt(low), high=last(high))))
    items.append((PALETTE[len(breaks)], _t(t, L_OR_MORE, low=fmt(breaks[-1]))))
    return items


def count_breaks(values: Iterable[float], k: int) -> list[float]:
    """Return 5 round class breaks (1-2-5 series) spanning the published counts."""
    vals = np.asarray([v for v in values if v and np.isfinite(v)], dtype=float)
    top = max(float(vals.max()) if len(vals) else k * 10.0, k * 10.0)
    series = [m * 10**e for e in range(0, 9) for m in (1, 2, 5)]
    candidates = [s for s in series if k < s < top] or [k * 2]
    picks = np.unique(np.round(np.linspace(0, len(candidates) - 1, 5)).astype(int))
    breaks = [float(k)] + [float(candidates[i]) for i in picks]
    return sorted(set(breaks))[:5]


def _hidden_text(small: bool, k: int, style: Style) -> str:
    return escape_label(display_count(np.nan, small, k, style.translate, style.count))


# --- the maps -----------------------------------------------------------------------------


def world_choropleth(data: MapData, world: WorldGeometry, style: Style) -> folium.Map:
    """Map respondents by country of residence."""
    t = style.translate
    title = _t(t, T_WORLD)
    m = base_map(title, style)
    published = data.world.values
    # The first break is k: the "below k" class is the hidden grey, not a colour of the key.
    breaks = count_breaks(published.to_numpy(dtype=float), data.k)
    colour = _classes(breaks)
    fill, tip = {}, {}
    for code, value in published.items():
        if np.isnan(value):
            if not data.world.primary[code]:  # hidden to protect another: it holds k or more
                fill[code] = HIDDEN_COLOUR
                tip[code] = _hidden_text(False, data.k, style)
        else:
            fill[code] = colour(value)
            tip[code] = _t(t, L_RESPONDENTS, n=style.count(value))
    layer = {"name": title, "fill": fill, "tip": tip, "none": _hidden_text(True, data.k, style)}
    ChoroplethLayers(world.geojson, style.country_names(world), [layer]).add_to(m)
    key = _key(breaks, style.count, style, whole=True)[1:]
    items = [*key, (HIDDEN_COLOUR, _t(t, L_HIDDEN, k=data.k))]
    notes = [_t(t, L_K_NOTE, k=data.k)]
    if data.world.total is not None:
        notes.insert(0, _t(t, L_TOTAL, n=style.count(data.world.total)))
    Legend(title, items, notes, style.rtl).add_to(m)
    return m


def coverage_map(data: MapData, world: WorldGeometry, style: Style) -> folium.Map:
    """Map respondents relative to the estimated Kazakhs per country, with the uncertainty."""
    t = style.translate
    title = _t(t, T_COVERAGE)
    m = base_map(title, style)
    colour = _classes(COVERAGE_BREAKS)
    fill, tip = {}, {}
    hidden = _hidden_text(True, data.k, style)
    for code, value in data.world.values.items():
        if not np.isnan(value):
            fill[code] = EMPTY_COLOUR
            tip[code] = _t(t, L_RESPONDENTS, n=style.count(value)) + "<br>" + _t(t, L_NO_ESTIMATE)
        elif not data.world.primary[code]:
            tip[code] = _hidden_text(False, data.k, style) + "<br>" + _t(t, L_NO_ESTIMATE)
    for code, row in data.coverage.iterrows():
        estimate = _estimate_text(row, style)
        if np.isnan(row.n):
            tip[code] = tip.get(code, hidden).split("<br>")[0] + "<br>" + estimate
            continue
        fill[code] = colour(row.ratio)
        parts = [_t(t, L_RESPONDENTS, n=style.count(row.n)), estimate]
        if row.ratio_low == row.ratio_high:
            parts.append(_t(t, L_COVERAGE_ONE, ratio=_pct(row.ratio, style)))
        else:
            parts.append(
                _t(t, L_COVERAGE, low=_pct(row.ratio_low, style), high=_pct(row.ratio_high, style))
            )
        tip[code] = "<br>".join(parts)
    layer = {
        "name": title,
        "fill": fill,
        "tip": tip,
        "none": hidden + "<br>" + _t(t, L_NO_ESTIMATE),
    }
    ChoroplethLayers(world.geojson, style.country_names(world), [layer]).add_to(m)
    items = [
        *_key(COVERAGE_BREAKS, lambda x: _pct(x, style), style),
        (HIDDEN_COLOUR, _t(t, L_HIDDEN, k=data.k)),
        (EMPTY_COLOUR, _t(t, L_NO_ESTIMATE)),
    ]
    Legend(title, items, [_t(t, L_COVERAGE_NOTE), _t(t, L_K_NOTE, k=data.k)], style.rtl).add_to(m)
    return m


def _pct(x: float, style: Style) -> str:
    """Format a small ratio as a percentage with enough digits to tell 0.1 % from 0.5 %."""
    pattern = "#,##0.##%" if x < 0.1 else "#,##0%"
    return format_percent(x, format=pattern, locale=babel_locale(style.language))


def _estimate_text(row: pd.Series, style: Style) -> str:
    t = style.translate
    year = str(int(row.year)) if not pd.isna(row.year) else t(L_YEAR_UNKNOWN)
    confidence = t(L_CONFIDENCE.get(row.confidence, row.confidence))
    if row.low == row.high:
        return _t(t, L_ESTIMATE_ONE, central=style.count(row.central), source=row.source,
                  year=year, confidence=confidence)  # fmt: skip
    return _t(t, L_ESTIMATE, low=style.count(row.low), high=style.count(row.high),
              source=row.source, year=year, confidence=confidence)  # fmt: skip


def citizenship_map(data: MapData, world: WorldGeometry, style: Style) -> folium.Map:
    """Map, per country of residence, the share of respondents by citizenship (one layer each)."""
    t = style.translate
    title = _t(t, T_CITIZENSHIP)
    m = base_map(title, style)
    colour = _classes(SHARE_BREAKS)
    layers = []
    table = data.citizenship
    for category, msgid in CITIZENSHIP_CATEGORIES.items():
        fill, tip = {}, {}
        if table is not None and category in table.values.columns:
            for code in table.values.index:
                total = table.row_totals[code]
                value = table.values.loc[code, category]
                if np.isnan(total) or np.isnan(value):
                    fill[code] = HIDDEN_COLOUR
                    tip[code] = _hidden_text(bool(table.primary.loc[code, category]), data.k, style)
                    continue
                fill[code] = colour(value / total)
                tip[code] = _t(
                    t, L_SHARE_OF, share=style.share(value / total), n=style.count(value)
                )
        none = _hidden_text(True, data.k, style)
        layers.append({"name": _t(t, msgid), "fill": fill, "tip": tip, "none": none})
    ChoroplethLayers(
        world.geojson, style.country_names(world), layers, position=_corner(style)
    ).add_to(m)
    items = [*_key(SHARE_BREAKS, style.share, style), (HIDDEN_COLOUR, _t(t, L_HIDDEN, k=data.k))]
    Legend(title, items, [_t(t, L_K_NOTE, k=data.k)], style.rtl).add_to(m)
    return m


def _corner(style: Style) -> str:
    return "bottomleft" if style.rtl else "bottomright"


def shares_map(
    data: MapData,
    role: str,
    world: WorldGeometry,
    style: Style,
    choice_label: ChoiceLabel | None = None,
) -> folium.Map:
    """Map the share of respondents naming each item of ``role`` (one layer per item)."""
    t = style.translate
    title = _t(t, T_NEEDS if role == "needs" else T_CONTRIBUTION)
    m = base_map(title, style)
    colour = _classes(SHARE_BREAKS)
    shares = data.shares[role]
    layers = []
    for item in shares.share.columns:
        fill, tip = {}, {}
        for code in shares.share.index:
            value = shares.share.loc[code, item]
            if np.isnan(value):
                fill[code] = HIDDEN_COLOUR
                tip[code] = _hidden_text(bool(shares.primary.loc[code, item]), data.k, style)
            else:
                fill[code] = colour(value)
                n = shares.counts.loc[code, item]
                tip[code] = _t(t, L_SHARE_OF, share=style.share(value), n=style.count(n))
        label = choice_label(role, item, style.language) if choice_label else _pretty(item)
        none = _hidden_text(True, data.k, style)
        layers.append({"name": escape_label(label), "fill": fill, "tip": tip, "none": none})
    ChoroplethLayers(
        world.geojson, style.country_names(world), layers, position=_corner(style)
    ).add_to(m)
    items = [*_key(SHARE_BREAKS, style.share, style), (HIDDEN_COLOUR, _t(t, L_HIDDEN, k=data.k))]
    notes = [_t(t, L_SHARE_NOTE), _t(t, L_K_NOTE, k=data.k)]
    Legend(title, items, notes, style.rtl).add_to(m)
    return m


def _pretty(code: object) -> str:
    return str(code).replace("_", " ").capitalize()


def profile_map(data: MapData, country: str, world: WorldGeometry, style: Style) -> folium.Map:
    """Map one country: its outline and places of >= k respondents as proportional circles."""
    t = style.translate
    names = style.country_names(world)
    name = names.get(country, escape_label(country))
    title = _t(t, T_PROFILE, country=_unescape(name))
    m = base_map(title, style)
    total = data.world.values.get(country, np.nan)
    south, west, north, east = world.bounds.get(country, (-60.0, -180.0, 80.0, 180.0))
    if country in world.features:
        layer = {"name": title, "fill": {country: PALETTE[1]},
                 "tip": {country: _t(t, L_TOTAL, n=style.count(total))}, "none": ""}  # fmt: skip
        ChoroplethLayers(
            world.features[country], {country: name}, [layer],
            fit=[[south, west], [north, east]],
        ).add_to(m)  # fmt: skip
    notes = [_t(t, L_TOTAL, n=style.count(total))]
    units = data.places[data.places.country == country]
    if country in data.high_risk:
        notes.append(_t(t, L_HIGH_RISK))
    else:
        circles, unplaced = _circles(units, style)
        if circles:
            PlaceCircles(circles).add_to(m)
        rest = units[(units.level == "country") & units.rest]
        if len(rest):
            notes.append(_t(t, L_COUNTRY_REST, n=style.count(rest.n.sum())))
        if unplaced:
            notes.append(_t(t, L_UNPLACED, n=style.count(unplaced)))
        notes.append(_t(t, L_CIRCLE_NOTE, k=data.k))
    Legend(title, [], notes, style.rtl).add_to(m)
    return m


def _unescape(text: str) -> str:
    return html.unescape(text)


def unit_points(units: pd.DataFrame) -> list[tuple[float, float] | None]:
    """Return where each published unit is drawn: its gazetteer point (None: not drawn).

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


def _circles(units: pd.DataFrame, style: Style) -> tuple[list, int]:
    """Return circles for city and region units (country remainders are told in the legend)."""
    t = style.translate
    mappable = units[units.level != "country"]
    points = unit_points(mappable)
    drawn = np.array([point is not None for point in points], dtype=bool)
    placed = mappable[drawn]
    unplaced = int(mappable.n.sum() - placed.n.sum())
    biggest = float(placed.n.max()) if len(placed) else 1.0
    circles = []
    for unit, (lat, lon) in zip(
        placed.itertuples(index=False), [p for p in points if p is not None], strict=True
    ):
        region = region_label(unit.region, style.language)
        if unit.level == "city":
            place = f"{unit.city} ({region})"
        elif unit.rest:
            place = html.unescape(_t(t, L_REST_OF, place=region))  # escaped once, below
        else:
            place = region
        radius = max(4.0, MAX_CIRCLE_RADIUS * math.sqrt(unit.n / biggest))
        label = _t(t, L_PLACE, place=place, n=style.count(unit.n))
        circles.append((round(lat, 2), round(lon, 2), round(radius, 1), label))
    return circles, unplaced


# --- the build ----------------------------------------------------------------------------

MAP_KINDS = ("world", "coverage", "citizenship", "needs", "contribution")


def build_maps(
    responses: pd.DataFrame,
    out_dir: Path,
    languages: list[str],
    translate_for: Callable[[str], Translate],
    policy: Policy,
    tile_url: str | None = None,
    progress: Progress | None = None,
    *,
    asset_source: Path,
    countries: pd.DataFrame | None = None,
    choice_label: ChoiceLabel | None = None,
    tile_attribution: str = "",
) -> dict[str, Any]:
    """Write every map in every language, the ``assets/`` folder and ``manifest.json``.

    Aggregation and geometry are done once; each language only re-renders. Files are flat in
    ``out_dir``: ``<map>.<language>.html``, ``profile-<ISO2>.<language>.html``, ``assets/``.

    :param responses: one row per respondent (see :mod:`geo.aggregate`).
    :param translate_for: returns the gettext function of a language.
    :param policy: disclosure control (k, high-risk countries, perturbation).
    :param tile_url: a background tile URL template; none by default (no third-party requests).
    :param progress: called as ``progress(done, total, label)`` after each step.
    :param asset_source: where the npm packages holding :data:`ASSET_SOURCES` are installed
        (the app's ``node_modules``).
    :param countries: the country layer (default :func:`geo.boundaries.load_countries`).
    :param choice_label: ``(question, choice, language) -> label`` for needs/contributions.
    :return: the manifest (also written to ``manifest.json``).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if countries is None:
        from geo.boundaries import load_countries

        countries = load_countries()
    data = aggregate_for_maps(responses, policy)
    world = prepare_world(countries)
    profiles = [c for c in data.published_countries if c in world.features]
    total_steps = 1 + len(languages) * (len(MAP_KINDS) + len(profiles))
    done = 1
    if progress:
        progress(done, total_steps, "aggregate")
    assets = copy_assets(asset_source, out_dir / ASSETS_DIR)

    written: list[dict[str, Any]] = []
    for language in languages:
        style = Style(
            translate=translate_for(language),
            language=language,
            rtl=is_rtl(language),
            tile_url=tile_url,
            tile_attribution=tile_attribution,
        )
        renders: list[tuple[str, str | None, Callable[[], folium.Map]]] = [
            ("world", None, lambda s=style: world_choropleth(data, world, s)),
            ("coverage", None, lambda s=style: coverage_map(data, world, s)),
            ("citizenship", None, lambda s=style: citizenship_map(data, world, s)),
            *[
                (role, None, lambda s=style, r=role: shares_map(data, r, world, s, choice_label))
                for role in ("needs", "contribution")
                if role in data.shares
            ],
            *[
                ("profile", c, lambda s=style, c=c: profile_map(data, c, world, s))
                for c in profiles
            ],
        ]
        for kind, country, render in renders:
            name = (
                f"{kind}.{language}.html"
                if country is None
                else f"profile-{country}.{language}.html"
            )
            path = out_dir / name
            render().get_root().save(str(path))
            entry = {"map": kind, "language": language, "file": name, "bytes": path.stat().st_size}
            if country:
                entry["country"] = country
            written.append(entry)
            done += 1
            if progress:
                progress(done, total_steps, name)

    manifest = {
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        # The published total (None if it is itself below k).
        "responses": None if data.world.total is None else int(data.world.total),
        "k": policy.k,
        "languages": list(languages),
        "high_risk": sorted(data.high_risk),
        "countries_published": data.published_countries,
        "tile_url": tile_url,
        "maps": written,
        "assets": [f"{ASSETS_DIR}/{a}" for a in assets],
    }
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return manifest
