"""Language helpers for questionnaires, free of Flask.

Strings in ``forms/`` are marked with :func:`N_` so that ``pybabel extract`` finds them, and are
translated when they are shown, by a ``gettext`` callable the caller passes in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache

from babel import Locale, UnknownLocaleError

Gettext = Callable[[str], str]


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet."""
    return message


def identity(message: str) -> str:
    """Return the message untranslated (the default gettext)."""
    return message


@lru_cache(maxsize=64)
def cldr_locale(tag: str) -> Locale:
    """Return the CLDR locale for a BCP 47 tag, falling back to the bare language.

    CLDR has no Latin-script Kazakh, so ``kk-Latn`` resolves to ``kk`` for names, dates and
    numbers (the Latin text itself comes from the catalogs and questionnaire labels).
    """
    parts = tag.replace("-", "_").split("_")
    for n in range(len(parts), 0, -1):
        try:
            return Locale.parse("_".join(parts[:n]))
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse("en")


def format_locale(tag: str) -> str:
    """Return the CLDR locale name used for dates and numbers in a BCP 47 language.

    Where CLDR lacks the requested script (``kk-Latn``), the bare language is used (``kk``).
    """
    locale = cldr_locale(tag)
    parts = tag.replace("-", "_").split("_")
    scripts = [p for p in parts[1:] if len(p) == 4]
    if scripts and locale.script and locale.script != scripts[0]:
        return locale.language
    return str(locale)


def pick(texts: Mapping[str, str] | None, lang: str, fallback: str | None = None) -> str:
    """Return the text for ``lang`` from a per-language mapping, or the fallback language's."""
    if not texts:
        return ""
    if lang in texts and texts[lang]:
        return texts[lang]
    if fallback and texts.get(fallback):
        return texts[fallback]
    return next(iter(texts.values()), "")
