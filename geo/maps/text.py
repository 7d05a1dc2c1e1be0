"""Words on the maps: msgids, escaping, and numbers and names in the map's language.

Every string a map shows is HTML by the time it reaches an element: translated text and values
go through :func:`_t` (translate, escape, fill in), names and labels through
:func:`escape_label`. Data for a ``<script>`` goes through :func:`script_json`.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from babel.numbers import format_percent

from geo.i18n import N_, Translate, babel_locale, format_count, format_share
from geo.maps.assets import ASSETS_DIR

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
L_CREDIT = N_("Place data © %(geonames)s, %(licence)s; boundaries made with %(natural_earth)s.")
#: What fills in :data:`L_CREDIT`: the credits the data's licences ask for (``geo/data/README.md``:
#: GeoNames is CC BY 4.0, Natural Earth asks for "Made with Natural Earth"), never translated.
CREDIT_NAMES = {
    "geonames": "GeoNames (geonames.org)",
    "licence": "CC BY 4.0",
    "natural_earth": "Natural Earth",
}


# --- escaping -----------------------------------------------------------------------------

_LABEL_ESCAPES = str.maketrans(
    {"$": "&#36;", "`": "&#96;", "\\": "&#92;", "{": "&#123;", "}": "&#125;"}
)


def escape_label(text: object) -> str:
    """Escape text for a map label: HTML, and whatever a JS template literal would run."""
    return html.escape(str(text), quote=True).translate(_LABEL_ESCAPES)


def script_json(obj: Any) -> str:
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


# --- numbers and names in a language ------------------------------------------------------


@dataclass(frozen=True)
class Style:
    """What a rendering needs besides the data: language, direction, assets, tiles."""

    translate: Translate
    language: str = "en"
    rtl: bool = False
    assets: str = ASSETS_DIR
    tile_url: str | None = None
    tile_attribution: str = ""

    def start_corner(self, edge: str) -> str:
        """Return the Leaflet corner of ``edge`` (top, bottom) where a line of text starts."""
        return edge + ("right" if self.rtl else "left")

    def end_corner(self, edge: str) -> str:
        """Return the Leaflet corner of ``edge`` (top, bottom) where a line of text ends."""
        return edge + ("left" if self.rtl else "right")

    def count(self, n: float) -> str:
        """Format a count in this language."""
        return format_count(n, self.language)

    def share(self, x: float) -> str:
        """Format a share (0..1) as a percentage in this language."""
        return format_share(x, self.language)

    def ratio(self, x: float) -> str:
        """Format a small ratio as a percentage with enough digits to tell 0.1 % from 0.5 %."""
        pattern = "#,##0.##%" if x < 0.1 else "#,##0%"
        return format_percent(x, format=pattern, locale=babel_locale(self.language))

    def country_names(self, fallback: Mapping[str, str]) -> dict[str, str]:
        """Return escaped country names in this language (CLDR), else the ``fallback`` name.

        :param fallback: per ISO2 code, the layer's own name
            (:attr:`~geo.maps.geometry.WorldGeometry.names`).
        """
        territories = babel_locale(self.language).territories
        return {
            code: escape_label(territories.get(code) or name) for code, name in fallback.items()
        }
