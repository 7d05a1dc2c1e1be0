"""Translation helpers for geo/ that need neither Flask nor Flask-Babel.

Map builders receive a ``translate(msgid) -> str`` callable (gettext of one language). Strings
they show are written as ``N_("...")`` so that ``pybabel extract`` (``N_`` is one of babel's
default keywords) finds them, and are translated only when a map is rendered in a language.
Placeholders use the ``%(name)s`` form and are filled *after* translation, never with f-strings.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal, format_percent

Translate = Callable[[str], str]


def N_(msgid: str) -> str:
    """Mark ``msgid`` for extraction without translating it."""
    return msgid


def identity(msgid: str) -> str:
    """Return ``msgid`` unchanged (the source-language translation)."""
    return msgid


@cache
def babel_locale(language: str) -> Locale:
    """Return the CLDR locale for numbers and direction of a catalog language.

    ``kk_Latn`` has no CLDR data (docs/background.md): it falls back to ``kk``; unknown codes
    to ``en``.
    """
    code = language.replace("-", "_")
    if code.startswith("kk_Latn"):
        code = "kk"
    try:
        return Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def is_rtl(language: str) -> bool:
    """Tell whether ``language`` is written right to left (e.g. ``kk_Arab``, ``fa``)."""
    return babel_locale(language).character_order == "right-to-left"


def html_lang(language: str) -> str:
    """Return the BCP 47 tag for ``<html lang>`` (``kk_Arab`` -> ``kk-Arab``)."""
    return language.replace("_", "-")


def format_count(n: float, language: str) -> str:
    """Format a whole number with the grouping of ``language``."""
    return format_decimal(int(n), locale=babel_locale(language))


def format_share(x: float, language: str) -> str:
    """Format a proportion (0..1) as a percentage in ``language``."""
    return format_percent(x, format="#,##0%", locale=babel_locale(language))
