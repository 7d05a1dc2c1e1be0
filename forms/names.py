"""Country and region names for the location and country questions, sorted for the reader.

Country names come from CLDR (through Babel) in the page language; regions are ISO 3166-2
subdivisions, named by :mod:`geo.places`. Lists are sorted with ICU's collation for the language:
plain ``sorted()`` puts Kazakh letters such as Ә, Қ, Ү last.
"""

from __future__ import annotations

from functools import lru_cache

import icu
import pycountry

from forms.i18n import cldr_locale
from geo import places

#: Codes in use that ISO 3166-1 has not assigned but CLDR names (Kosovo).
EXTRA_COUNTRIES = ("XK",)


@lru_cache(maxsize=32)
def collator(lang: str) -> icu.Collator:
    """Return an ICU collator for a BCP 47 tag (Latin Kazakh sorts by the root order)."""
    tag = lang.replace("_", "-")
    return icu.Collator.createInstance(icu.Locale.forLanguageTag(tag))


def sort_names(pairs: list[tuple[str, str]], lang: str) -> list[tuple[str, str]]:
    """Sort ``(code, name)`` pairs by name with the language's collation."""
    key = collator(lang).getSortKey
    return sorted(pairs, key=lambda pair: key(pair[1]))


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    """Return every ISO 3166-1 alpha-2 code offered, plus Kosovo."""
    return frozenset(c.alpha_2 for c in pycountry.countries) | frozenset(EXTRA_COUNTRIES)


@lru_cache(maxsize=32)
def country_names(lang: str) -> dict[str, str]:
    """Return ``{ISO2: name}`` in the language, from CLDR, English where CLDR has no name."""
    territories = cldr_locale(lang).territories
    english = cldr_locale("en").territories
    names = {}
    for code in country_codes():
        name = territories.get(code) or english.get(code)
        if not name:
            country = pycountry.countries.get(alpha_2=code)
            name = country.name if country else code
        names[code] = name
    return names


@lru_cache(maxsize=32)
def country_choices(lang: str) -> tuple[tuple[str, str], ...]:
    """Return ``(ISO2, name)`` pairs for a drop-down, collated in the language."""
    return tuple(sort_names(list(country_names(lang).items()), lang))


@lru_cache(maxsize=1024)
def region_choices(country: str, lang: str) -> tuple[tuple[str, str], ...]:
    """Return the top-level ISO 3166-2 subdivisions of a country as ``(code, name)``, collated.

    Only top-level subdivisions are listed: a respondent picks a province or region, not a
    district inside it. Names come from the place lists in :mod:`geo.places`.
    """
    if not country:
        return ()
    return tuple(places.regions(country.upper(), lang))


def region_codes(country: str) -> frozenset[str]:
    """Return every ISO 3166-2 code of a country (any level), for validation."""
    subdivisions = pycountry.subdivisions.get(country_code=country.upper()) or []
    return frozenset(s.code for s in subdivisions)
