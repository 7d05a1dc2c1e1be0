"""Country and region names for the location and country questions, sorted for the reader.

Country names come from CLDR (through Babel) in the page language (Latin Kazakh: the Cyrillic
names transliterated; questionable CLDR names overridden, see NAME_OVERRIDES); regions are
ISO 3166-2 subdivisions, named by :mod:`geo.places`. Lists are sorted with ICU's collation for
the language: plain ``sorted()`` puts Kazakh letters such as Ә, Қ, Ү last.
"""

from __future__ import annotations

from functools import lru_cache

import pycountry

from forms.i18n import cldr_locale
from forms.translit import to_latin
from geo import places

#: Codes in use that ISO 3166-1 has not assigned but CLDR names (Kosovo).
EXTRA_COUNTRIES = ("XK",)

#: CLDR names replaced for a language; translations/STATUS.md lists them for review. CLDR 47
#: kk_Arab calls Kazakhstan "قازاق ەلى" ("the Kazakh land") and Russia "حەسەي" (an old Xinjiang
#: name); a survey about Kazakhstan uses the names current in Kazakh Arabic-script print.
NAME_OVERRIDES: dict[str, dict[str, str]] = {
    "kk-Arab": {"KZ": "قازاقستان", "RU": "رەسەي"},
}

#: Hamza forms a respondent may type for one another: ٴ (U+0674, the Kazakh front-vowel mark)
#: and ء (U+0621); keyboards in Xinjiang produce either.
_HAMZA = str.maketrans({"\u0674": "\u0621"})


def match_key(text: str) -> str:
    """Return the key typed text is matched under: case-folded, hamza variants made equal."""
    return " ".join(text.translate(_HAMZA).casefold().split())


def find_by_name(typed: str, names: dict[str, str]) -> str | None:
    """Return the code whose name matches what was typed (ٴ and ء count as the same letter)."""
    wanted = match_key(typed)
    for code, name in names.items():
        if match_key(name) == wanted:
            return code
    return None


def sort_names(pairs: list[tuple[str, str]], lang: str) -> list[tuple[str, str]]:
    """Sort ``(code, name)`` pairs by name with the language's collation."""
    key = places.collator(lang).getSortKey
    return sorted(pairs, key=lambda pair: key(pair[1]))


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    """Return every ISO 3166-1 alpha-2 code offered, plus Kosovo."""
    return frozenset(c.alpha_2 for c in pycountry.countries) | frozenset(EXTRA_COUNTRIES)


@lru_cache(maxsize=32)
def country_names(lang: str) -> dict[str, str]:
    """Return ``{ISO2: name}`` in the language, from CLDR, English where CLDR has no name.

    Latin Kazakh has no CLDR data: its names are the Cyrillic ``kk`` names transliterated.
    """
    tag = lang.replace("_", "-")
    territories = cldr_locale(lang).territories
    english = cldr_locale("en").territories
    overrides = NAME_OVERRIDES.get(tag, {})
    names = {}
    for code in country_codes():
        name = overrides.get(code) or territories.get(code) or english.get(code)
        if not name:
            country = pycountry.countries.get(alpha_2=code)
            name = country.name if country else code
        names[code] = to_latin(name) if tag == "kk-Latn" else name
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
    if lang.replace("_", "-") == "kk-Latn":  # no Latin Kazakh names: transliterate Cyrillic
        latin = [(code, to_latin(name)) for code, name in places.regions(country.upper(), "kk")]
        return tuple(sort_names(latin, lang))
    return tuple(places.regions(country.upper(), lang))


def region_codes(country: str) -> frozenset[str]:
    """Return every ISO 3166-2 code of a country (any level), for validation."""
    subdivisions = pycountry.subdivisions.get(country_code=country.upper()) or []
    return frozenset(s.code for s in subdivisions)
