"""Folium maps of the diaspora that are safe to publish.

What "safe" means here:

* **Disclosure.** Maps only show aggregates that went through :mod:`geo.disclosure`
  (:func:`geo.aggregate.aggregate_for_maps`): counts per country (perturbed, with secondary
  suppression), shares per country, and places rolled up to >= k respondents. No marker per
  response and no position computed from respondents: a place is drawn at its gazetteer point
  (:func:`geo.places.place_point`). High-risk countries are at country level only. A country
  hidden in the world table is left out of every other table (its row totals elsewhere would
  give its count away), and every country below k, empty or not, reads "fewer than k".
* **No respondent markup.** folium's ``popup=str``/``tooltip=str`` render raw HTML,
  ``Popup(parse_html=True)`` and ``Tooltip`` use JS template literals where ``${...}`` runs, and
  ``GeoJsonTooltip`` assigns ``innerHTML``. So none of them is used: the map layers here are two
  small elements (:class:`~geo.maps.elements.ChoroplethLayers`,
  :class:`~geo.maps.elements.PlaceCircles`) that take labels already escaped by
  :func:`escape_label` (HTML-escaped, with ``$``, backtick, backslash and braces as character
  references) and embed data with ``<``/``>``/``&`` as JSON escapes.
* **No third-party requests.** Every script and stylesheet comes from a local ``assets/`` folder
  next to the HTML (relative URLs), copied from the installed npm packages whose directory the
  caller passes (the app's ``node_modules``; see ``package.json``). folium's jQuery, Bootstrap,
  Font Awesome and awesome-markers are not needed and not loaded. No tile layer unless a tile
  URL is given.
* **Small files.** The country layer is simplified and rounded once per build
  (:func:`prepare_world`) and serialised once; every map and every language reuses that string,
  and a map with several layers embeds it once and styles it per layer in the browser.

Text on maps comes from ``translate(msgid)`` with msgids marked ``N_()`` (:mod:`geo.i18n`).

The modules: :mod:`~geo.maps.text` (msgids, escaping, numbers and names in a language),
:mod:`~geo.maps.assets` (the files next to every map), :mod:`~geo.maps.geometry` (the country
layer, where places are drawn), :mod:`~geo.maps.elements` (folium/branca elements),
:mod:`~geo.maps.builders` (one function per map) and :mod:`~geo.maps.build` (every map in every
language, and the manifest).
"""

from geo.aggregate import MapData
from geo.maps.assets import ASSET_SOURCES, ASSETS_DIR, copy_assets
from geo.maps.build import MAP_KINDS, Progress, build_maps
from geo.maps.builders import (
    ChoiceLabel,
    citizenship_map,
    coverage_map,
    profile_map,
    shares_map,
    world_choropleth,
)
from geo.maps.geometry import WorldGeometry, prepare_world
from geo.maps.text import Style, escape_label
from geo.places import unit_points

__all__ = [
    "ASSETS_DIR",
    "ASSET_SOURCES",
    "MAP_KINDS",
    "ChoiceLabel",
    "MapData",
    "Progress",
    "Style",
    "WorldGeometry",
    "build_maps",
    "citizenship_map",
    "copy_assets",
    "coverage_map",
    "escape_label",
    "prepare_world",
    "profile_map",
    "shares_map",
    "unit_points",
    "world_choropleth",
]
