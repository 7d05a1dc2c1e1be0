"""Which language a request is served in, and the names languages call themselves."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from babel import negotiate_locale
from flask import current_app, g, request, session
from flask_babel import refresh

from forms.i18n import cldr_locale

#: Each language offered by its own name in its own script (the same in every UI language).
ENDONYMS = {
    "kk": "Қазақша",
    "kk-Latn": "Qazaqşa",
    "kk-Arab": "قازاقشا",
    "ru": "Русский",
    "en": "English",
    "zh-Hans": "中文",
    "tr": "Türkçe",
    "mn": "Монгол",
    "uz-Latn": "Oʻzbekcha",
}


def negotiate(preferred: Iterable[str], available: Sequence[str]) -> str | None:
    """Return the best of ``available`` for the browser's ``preferred`` tags.

    Babel's negotiation, not Werkzeug's ``best_match``: for ``kk-KZ,ru;q=0.8`` it picks ``kk``
    where ``best_match`` picks ``ru``.
    """
    wanted = [tag.replace("-", "_") for tag in preferred if tag and tag != "*"]
    offered = {tag.replace("-", "_"): tag for tag in available}
    found = negotiate_locale(wanted, list(offered), sep="_")
    return offered.get(found) if found else None


def resolve_language(available: Sequence[str], default: str, explicit: str | None = None) -> str:
    """Pick the language of a page: explicit choice, session, browser, then ``default``."""
    for candidate in (explicit, session.get("lang")):
        if candidate:
            match = _match(candidate, available)
            if match:
                return match
    header = [value for value, _quality in request.accept_languages]
    return negotiate(header, available) or (default if default in available else available[0])


def _match(tag: str, available: Sequence[str]) -> str | None:
    lowered = {a.lower(): a for a in available}
    return lowered.get(tag.strip().lower().replace("_", "-"))


def set_language(lang: str, remember: bool = False) -> None:
    """Use ``lang`` for the rest of this request; ``remember`` an explicit choice for later."""

    g.lang = lang
    refresh()
    if remember and session.get("lang") != lang:
        session["lang"] = lang


def current_language() -> str:
    """Return the language of this request (negotiated once, then cached on ``g``)."""
    lang = g.get("lang")
    if lang is None:
        lang = resolve_language(
            current_app.config["LANGUAGES"],
            current_app.config["DEFAULT_LANGUAGE"],
            request.args.get("lang") if request else None,
        )
        g.lang = lang
    return lang


def select_locale() -> str:
    """Return the catalog name for Flask-Babel: ``kk-Latn`` -> ``kk_Latn``."""
    return current_language().replace("-", "_")


def text_direction(lang: str) -> str:
    """Return ``rtl`` or ``ltr`` from the locale's character order in CLDR."""
    return "rtl" if cldr_locale(lang).character_order == "right-to-left" else "ltr"


def inject_language() -> dict[str, Any]:
    """Give every template ``lang``, ``dir`` and the languages to switch to."""
    lang = current_language()
    offered = g.get("offered_languages") or current_app.config["LANGUAGES"]
    return {
        "lang": lang,
        "dir": text_direction(lang),
        "language_choices": [(tag, ENDONYMS.get(tag, tag)) for tag in offered],
    }
