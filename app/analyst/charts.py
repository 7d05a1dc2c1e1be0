"""Server-side SVG charts for the analyst pages: no script, no third-party code.

Every chart is drawn from numbers that were already published (suppressed cells arrive as None
and are drawn as a grey stub of fixed length, never as their value). Every text placed in the
SVG goes through :func:`markupsafe.escape`; the SVG is assembled from escaped pieces and numbers
only, so respondent text (city names) cannot become markup. Charts carry presentation attributes,
never ``style`` (the site's CSP forbids inline styles). In a right-to-left page the bars grow
from the right: the x coordinates are mirrored, so the chart reads the same way as the text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

#: Colours: published bars, hidden cells, the two sides of a pyramid, outlines.
BAR = "#2c7fb8"
HIDDEN = "#b0b0b0"
LEFT = "#7b3294"
RIGHT = "#008837"
OUTLINE = "#8c8c8c"
LAND = "#f2f2f2"

WIDTH = 640
ROW_HEIGHT = 22
LABEL_WIDTH = 220
VALUE_WIDTH = 150
#: A hidden cell is drawn this long (a fraction of the scale), whatever its value.
HIDDEN_STUB = 0.04


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its published value (None when hidden) and the text shown for it."""

    label: str
    value: float | None
    text: str


def _svg(width: float, height: float, title: str, body: list[str]) -> Markup:
    """Wrap escaped SVG parts in an accessible ``<svg>`` element (the table beside it is the
    accessible form: the chart itself is labelled and otherwise presentational)."""
    head = (
        # direction="ltr": text anchors are physical here, mirrored for RTL by the x values
        # (each label's own script still sets the order of its letters).
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" direction="ltr" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every part escaped above


def _x(x: float, width: float, rtl: bool) -> float:
    """Return x, mirrored in a right-to-left chart."""
    return width - x if rtl else x


def _text_at(left_edge: bool, rtl: bool) -> str:
    """Return the attributes of text whose left (or right) edge is at its x.

    In a right-to-left chart the text's own direction is right-to-left too (so an ellipsis or
    a bracket lands where a reader expects it), and there ``start`` is the right edge.
    """
    if rtl:
        return f'direction="rtl" text-anchor="{"end" if left_edge else "start"}"'
    return f'text-anchor="{"start" if left_edge else "end"}"'


def bar_chart(bars: Sequence[Bar], title: str, rtl: bool = False) -> Markup:
    """Draw horizontal bars, one per row, labelled, with the published text after each bar."""
    height = max(1, len(bars)) * ROW_HEIGHT + 8
    scale_width = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    top = max((b.value for b in bars if b.value is not None), default=0) or 1
    body: list[str] = []
    for i, bar in enumerate(bars):
        y = 4 + i * ROW_HEIGHT
        length = scale_width * HIDDEN_STUB if bar.value is None else scale_width * bar.value / top
        x0 = LABEL_WIDTH
        left = min(_x(x0, WIDTH, rtl), _x(x0 + length, WIDTH, rtl))
        colour = HIDDEN if bar.value is None else BAR
        body.append(
            f'<text x="{_x(x0 - 6, WIDTH, rtl):.1f}" y="{y + 14}" font-size="12" '
            f"{_text_at(rtl, rtl)}>{escape(_clip(bar.label))}</text>"
            f'<rect x="{left:.1f}" y="{y + 3}" width="{max(length, 0.5):.1f}" height="14" '
            f'fill="{colour}"/>'
            f'<text x="{_x(x0 + length + 6, WIDTH, rtl):.1f}" y="{y + 14}" font-size="12" '
            f"{_text_at(not rtl, rtl)}>{escape(_clip(bar.text, 24))}</text>"
        )
    return _svg(WIDTH, height, title, body)


def column_chart(bars: Sequence[Bar], title: str, rtl: bool = False) -> Markup:
    """Draw vertical columns (a time series), oldest first; hidden ones as grey stubs."""
    height = 180
    base = height - 24
    n = max(1, len(bars))
    step = (WIDTH - 20) / n
    top = max((b.value for b in bars if b.value is not None), default=0) or 1
    body: list[str] = [
        f'<line x1="10" y1="{base}" x2="{WIDTH - 10}" y2="{base}" stroke="{OUTLINE}"/>'
    ]
    for i, bar in enumerate(bars):
        h = (base - 10) * (HIDDEN_STUB if bar.value is None else bar.value / top)
        x = 10 + i * step + step * 0.1
        w = step * 0.8
        x = _x(x + w, WIDTH, rtl) if rtl else x
        colour = HIDDEN if bar.value is None else BAR
        body.append(
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{w:.1f}" height="{max(h, 0.5):.1f}" '
            f'fill="{colour}"><title>{escape(bar.label)}: {escape(bar.text)}</title></rect>'
        )
    if bars:
        for i in (0, len(bars) - 1):
            x = 10 + i * step + step / 2
            body.append(
                f'<text x="{_x(x, WIDTH, rtl):.1f}" y="{height - 6}" font-size="11" '
                f'text-anchor="middle">{escape(bars[i].label)}</text>'
            )
    return _svg(WIDTH, height, title, body)


def pyramid(
    bands: Sequence[str],
    left: Sequence[Bar],
    right: Sequence[Bar],
    title: str,
    left_title: str,
    right_title: str,
    rtl: bool = False,
) -> Markup:
    """Draw a population pyramid: age bands bottom-up, one group to each side of the axis."""
    middle = WIDTH / 2
    label_half = 40
    half = middle - label_half - 70
    height = (len(bands) + 1) * ROW_HEIGHT + 8
    top = max((b.value for b in (*left, *right) if b.value is not None), default=0) or 1
    # The first group sits on the reading side of the axis: left in LTR, right in RTL.
    first_sign = 1 if rtl else -1
    body = [
        f'<text x="{middle + first_sign * (label_half + 4):.1f}" y="14" font-size="12" '
        f'font-weight="bold" text-anchor="{"start" if rtl else "end"}">{escape(left_title)}</text>'
        f'<text x="{middle - first_sign * (label_half + 4):.1f}" y="14" font-size="12" '
        f'font-weight="bold" text-anchor="{"end" if rtl else "start"}">{escape(right_title)}</text>'
    ]
    rows = len(bands)
    for i, band in enumerate(bands):
        y = 4 + (rows - i) * ROW_HEIGHT  # youngest at the bottom
        body.append(
            f'<text x="{middle:.1f}" y="{y + 14}" font-size="12" text-anchor="middle">'
            f"{escape(band)}</text>"
        )
        for bar, sign, colour in ((left[i], first_sign, LEFT), (right[i], -first_sign, RIGHT)):
            length = half * (HIDDEN_STUB if bar.value is None else bar.value / top)
            start = middle + sign * label_half
            end = start + sign * length
            fill = HIDDEN if bar.value is None else colour
            text_x = end + sign * 4
            anchor = "start" if sign > 0 else "end"
            # A hidden cell's text is long and the middle is narrow: it is the stub's tooltip
            # (and in the table beside the chart).
            visible = "" if bar.value is None else escape(bar.text)
            body.append(
                f'<rect x="{min(start, end):.1f}" y="{y + 3}" width="{max(length, 0.5):.1f}" '
                f'height="14" fill="{fill}"><title>{escape(bar.text)}</title></rect>'
                f'<text x="{text_x:.1f}" y="{y + 14}" font-size="11" text-anchor="{anchor}">'
                f"{visible}</text>"
            )
    return _svg(WIDTH, height, title, body)


@dataclass(frozen=True)
class Place:
    """A published place on a country sketch map: position, label, published count."""

    lat: float
    lon: float
    label: str
    n: float


def country_sketch(
    outline: Sequence[Sequence[tuple[float, float]]],
    places: Sequence[Place],
    title: str,
) -> Markup:
    """Draw a country's outline and its published places as circles (area ~ respondents).

    :param outline: rings of (lon, lat) points (already simplified).
    """
    points = [p for ring in outline for p in ring] + [(p.lon, p.lat) for p in places]
    if not points:
        return _svg(WIDTH, 40, title, [])
    west = min(p[0] for p in points)
    east = max(p[0] for p in points)
    south = min(p[1] for p in points)
    north = max(p[1] for p in points)
    # Equirectangular, with longitudes shrunk by cos(latitude) at the middle of the country.
    shrink = max(0.2, math.cos(math.radians((north + south) / 2)))
    span_x = max((east - west) * shrink, 1e-6)
    span_y = max(north - south, 1e-6)
    inner = WIDTH - 40
    scale = inner / max(span_x, span_y * 1.6)
    height = span_y * scale + 40

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return 20 + (lon - west) * shrink * scale, 20 + (north - lat) * scale

    body = []
    for ring in outline:
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}"
            for i, (x, y) in enumerate(xy(lon, lat) for lon, lat in ring)
        )
        body.append(f'<path d="{path} Z" fill="{LAND}" stroke="{OUTLINE}" stroke-width="1"/>')
    biggest = max((p.n for p in places), default=1) or 1
    for place in places:
        x, y = xy(place.lon, place.lat)
        r = max(4.0, 26 * math.sqrt(place.n / biggest))
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{BAR}" fill-opacity="0.55" '
            f'stroke="{BAR}"><title>{escape(place.label)}</title></circle>'
        )
    return _svg(WIDTH, height, title, body)


def _clip(text: str, limit: int = 34) -> str:
    """Shorten a long label for the chart (the table beside it has it in full)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: Sequential colours of the world sketch (ColorBrewer YlGnBu), as on the published maps.
CLASSES = ("#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494")
WORLD_WIDTH = 1000
WORLD_HEIGHT = 470


def world_sketch(
    paths: Sequence[tuple[str, str]],
    shades: dict[str, tuple[str, str]],
    title: str,
    legend: Sequence[tuple[str, str]],
) -> Markup:
    """Draw the world's countries (equirectangular), shaded where respondents live.

    :param paths: ``(ISO2, SVG path data)`` in a 1000 x 470 frame (see ``world_path_data``).
    :param shades: per ISO2: (colour, tooltip text).
    :param legend: (colour, text) pairs drawn under the map.
    """
    body = []
    for code, d in paths:
        colour, tip = shades.get(code, (LAND, ""))
        tip_svg = f"<title>{escape(tip)}</title>" if tip else ""
        body.append(
            f'<path d="{escape(d)}" fill="{escape(colour)}" stroke="#ffffff" '
            f'stroke-width="0.5">{tip_svg}</path>'
        )
    y = WORLD_HEIGHT + 8
    for i, (colour, text) in enumerate(legend):
        x = 10 + (i % 3) * 330
        row = y + (i // 3) * 22
        body.append(
            f'<rect x="{x}" y="{row}" width="14" height="14" fill="{escape(colour)}" '
            f'stroke="{OUTLINE}"/><text x="{x + 20}" y="{row + 12}" font-size="13">'
            f"{escape(text)}</text>"
        )
    height = y + ((len(legend) + 2) // 3) * 22 + 4
    return _svg(WORLD_WIDTH, height, title, body)


def world_path_data(
    rings_by_country: Sequence[tuple[str, Sequence[Sequence[tuple[float, float]]]]],
) -> list[tuple[str, str]]:
    """Project (lon, lat) rings to SVG path data in the world sketch's frame."""
    out = []
    for code, rings in rings_by_country:
        parts = []
        for ring in rings:
            points = []
            last = None
            for lon, lat in ring:
                x = round((lon + 180) / 360 * WORLD_WIDTH)
                y = round((84 - lat) / 144 * WORLD_HEIGHT)
                if (x, y) != last:
                    points.append(f"{x} {y}")
                    last = (x, y)
            if len(points) >= 3:
                parts.append("M" + "L".join(points) + "Z")
        if parts:
            out.append((code, "".join(parts)))
    return out
