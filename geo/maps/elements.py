"""The folium/branca pieces every map is made of, each taking text already escaped.

folium's ``popup=str``/``tooltip=str``, ``Popup(parse_html=True)``, ``Tooltip`` and
``GeoJsonTooltip`` would run markup or ``${...}`` in a label, so none is used: the layers here
take labels from :func:`geo.maps.text._t` / :func:`~geo.maps.text.escape_label` and embed data
with :func:`~geo.maps.text.script_json`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import branca.element
import folium
from folium.template import Template

from geo.i18n import html_lang
from geo.maps.text import CREDIT_NAMES, L_CREDIT, Style, _t, escape_label, script_json

#: Sequential colours (ColorBrewer YlGnBu, 6 classes), hidden and empty countries.
PALETTE = ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494")
HIDDEN_COLOUR = "#b0b0b0"
EMPTY_COLOUR = "#f2f2f2"
CIRCLE_COLOUR = "#2c7fb8"


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
    ``names``: ``{iso: html}``. All HTML must come from :func:`~geo.maps.text.escape_label` /
    :func:`~geo.maps.text._t`.
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
        self.names_json = script_json(dict(names))
        self.layers_json = script_json(layers)
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
        self.places_json = script_json([list(p) for p in places])
        self.colour = CIRCLE_COLOUR


class Legend(folium.MacroElement):
    """Title, colour key and notes in a box; every string already escaped."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
            .atlas-legend { position: absolute; z-index: 1000; max-width: 22rem;
                background: rgba(255,255,255,0.92); padding: 8px 10px;
                border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,0.3);
                font: 13px/1.4 "Noto Sans", "Noto Naskh Arabic", "Noto Sans Arabic", sans-serif; }
            .atlas-legend-topleft { top: 10px; left: 10px; }
            .atlas-legend-topright { top: 10px; right: 10px; }
            .atlas-legend-bottomleft { bottom: 10px; left: 10px; }
            .atlas-legend-bottomright { bottom: 10px; right: 10px; }
            .atlas-legend h1 { font-size: 15px; margin: 0 0 6px; }
            .atlas-legend ul { list-style: none; margin: 0; padding: 0; }
            .atlas-legend i { display: inline-block; width: 14px; height: 14px;
                margin-inline-end: 6px; vertical-align: -2px; border: 1px solid #999; }
            .atlas-legend p { margin: 6px 0 0; font-size: 12px; color: #333; }
        </style>
        {% endmacro %}
        {% macro html(this, kwargs) %}
        <div class="atlas-legend atlas-legend-{{ this.position }}">
            <h1>{{ this.title }}</h1>
            <ul>{% for colour, label in this.items %}
                <li><i style="background:{{ colour }}"></i>{{ label }}</li>{% endfor %}
            </ul>{% for note in this.notes %}
            <p>{{ note }}</p>{% endfor %}
        </div>
        {% endmacro %}
        """
    )

    #: Leaflet's names for the corners of a map.
    CORNERS = ("topleft", "topright", "bottomleft", "bottomright")

    def __init__(
        self, title: str, items: list[tuple[str, str]], notes: list[str], position: str
    ) -> None:
        super().__init__()
        if position not in self.CORNERS:
            raise ValueError(f"a legend goes in a corner {self.CORNERS}, not {position!r}")
        self._name = "Legend"
        self.title = title
        self.items = items
        self.notes = notes
        self.position = position


class Credit(folium.MacroElement):
    """The data's credits in the map's attribution corner (text already escaped)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text_json }});
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Credit"
        self.text_json = script_json(text)


def base_map(title: str, style: Style, location=(40.0, 60.0), zoom: int = 3) -> folium.Map:
    """Return an empty map whose scripts and styles come from ``assets/``, without tiles.

    Every map credits the boundaries and places it draws, as their licences ask.
    """
    fig = AtlasFigure(title=title, language=style.language, rtl=style.rtl)
    m = folium.Map(
        location=list(location),
        zoom_start=zoom,
        tiles=None,
        prefer_canvas=True,
        world_copy_jump=False,
        zoom_control=style.start_corner("top"),
    )
    # Instance attributes: folium's class-level lists stay untouched for everyone else.
    m.default_js = [("leaflet", f"{style.assets}/leaflet.js")]
    m.default_css = [("leaflet_css", f"{style.assets}/leaflet.css")]
    fig.add_child(m)
    Credit(_t(style.translate, L_CREDIT, **CREDIT_NAMES)).add_to(m)
    if style.tile_url:
        folium.TileLayer(
            tiles=style.tile_url, attr=escape_label(style.tile_attribution or " "), name="tiles"
        ).add_to(m)
    return m
