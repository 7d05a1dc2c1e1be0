"""The published maps, one function each, from aggregates that went through disclosure control."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable

import folium
import numpy as np
import pandas as pd

from geo.aggregate import CITIZENSHIP_CATEGORIES, MapData
from geo.disclosure import display_count
from geo.maps.elements import (
    EMPTY_COLOUR,
    HIDDEN_COLOUR,
    PALETTE,
    ChoroplethLayers,
    Legend,
    PlaceCircles,
    base_map,
)
from geo.maps.geometry import WorldGeometry
from geo.maps.text import (
    L_BELOW,
    L_CIRCLE_NOTE,
    L_CONFIDENCE,
    L_COUNTRY_REST,
    L_COVERAGE,
    L_COVERAGE_NOTE,
    L_COVERAGE_ONE,
    L_ESTIMATE,
    L_ESTIMATE_ONE,
    L_HIDDEN,
    L_HIGH_RISK,
    L_K_NOTE,
    L_NO_ESTIMATE,
    L_OR_MORE,
    L_PLACE,
    L_RANGE,
    L_RESPONDENTS,
    L_REST_OF,
    L_SHARE_NOTE,
    L_SHARE_OF,
    L_TOTAL,
    L_UNPLACED,
    L_YEAR_UNKNOWN,
    T_CITIZENSHIP,
    T_CONTRIBUTION,
    T_COVERAGE,
    T_NEEDS,
    T_PROFILE,
    T_WORLD,
    Style,
    _t,
    escape_label,
)
from geo.places import region_label, unit_points

SHARE_BREAKS = (0.1, 0.2, 0.3, 0.4, 0.6)
COVERAGE_BREAKS = (0.001, 0.005, 0.01, 0.05, 0.1)
MAX_CIRCLE_RADIUS = 28

#: ``(question, choice, language) -> label`` of a needs/contribution choice.
ChoiceLabel = Callable[[str, str, str], str]


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
    ChoroplethLayers(world.geojson, style.country_names(world.names), [layer]).add_to(m)
    key = _key(breaks, style.count, style, whole=True)[1:]
    items = [*key, (HIDDEN_COLOUR, _t(t, L_HIDDEN, k=data.k))]
    notes = [_t(t, L_K_NOTE, k=data.k)]
    if data.world.total is not None:
        notes.insert(0, _t(t, L_TOTAL, n=style.count(data.world.total)))
    Legend(title, items, notes, style.end_corner("top")).add_to(m)
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
            parts.append(_t(t, L_COVERAGE_ONE, ratio=style.ratio(row.ratio)))
        else:
            parts.append(
                _t(t, L_COVERAGE, low=style.ratio(row.ratio_low), high=style.ratio(row.ratio_high))
            )
        tip[code] = "<br>".join(parts)
    layer = {
        "name": title,
        "fill": fill,
        "tip": tip,
        "none": hidden + "<br>" + _t(t, L_NO_ESTIMATE),
    }
    ChoroplethLayers(world.geojson, style.country_names(world.names), [layer]).add_to(m)
    items = [
        *_key(COVERAGE_BREAKS, style.ratio, style),
        (HIDDEN_COLOUR, _t(t, L_HIDDEN, k=data.k)),
        (EMPTY_COLOUR, _t(t, L_NO_ESTIMATE)),
    ]
    Legend(
        title, items, [_t(t, L_COVERAGE_NOTE), _t(t, L_K_NOTE, k=data.k)], style.end_corner("top")
    ).add_to(m)
    return m


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
        world.geojson, style.country_names(world.names), layers, position=style.end_corner("bottom")
    ).add_to(m)
    items = [*_key(SHARE_BREAKS, style.share, style), (HIDDEN_COLOUR, _t(t, L_HIDDEN, k=data.k))]
    Legend(title, items, [_t(t, L_K_NOTE, k=data.k)], style.end_corner("top")).add_to(m)
    return m


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
        world.geojson, style.country_names(world.names), layers, position=style.end_corner("bottom")
    ).add_to(m)
    items = [*_key(SHARE_BREAKS, style.share, style), (HIDDEN_COLOUR, _t(t, L_HIDDEN, k=data.k))]
    notes = [_t(t, L_SHARE_NOTE), _t(t, L_K_NOTE, k=data.k)]
    Legend(title, items, notes, style.end_corner("top")).add_to(m)
    return m


def _pretty(code: object) -> str:
    return str(code).replace("_", " ").capitalize()


def profile_map(data: MapData, country: str, world: WorldGeometry, style: Style) -> folium.Map:
    """Map one country: its outline and places of >= k respondents as proportional circles."""
    t = style.translate
    names = style.country_names(world.names)
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
    Legend(title, [], notes, style.end_corner("top")).add_to(m)
    return m


def _unescape(text: str) -> str:
    return html.unescape(text)


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
