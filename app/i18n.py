"""Which language a request is served in, and the names languages call themselves."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from babel import negotiate_locale, support
from babel.core import get_global
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import Domain, get_babel, refresh

from forms.i18n import cldr_locale, format_locale

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


def endonym(tag: str) -> str:
    """Return a language's name for itself: :data:`ENDONYMS`, else CLDR's, capitalised."""
    if tag in ENDONYMS:
        return ENDONYMS[tag]
    locale = cldr_locale(tag)
    name = locale.get_display_name(locale) or tag
    return name[:1].upper() + name[1:]


def negotiate(preferred: Iterable[str], available: Sequence[str]) -> str | None:
    """Return the best of ``available`` for the browser's ``preferred`` tags.

    Each preferred tag in turn is matched exactly, then by language and likely script (CLDR's
    likely subtags: ``zh-CN`` is Simplified Chinese, ``kk-CN`` Kazakh in Arabic script, ``uz``
    Latin Uzbek), then by Babel's negotiation. Werkzeug's ``best_match`` would pick ``ru`` for
    ``kk-KZ,ru;q=0.8``; this picks ``kk``.
    """
    offered = {tag.replace("-", "_").lower(): tag for tag in available}
    scripts = {_language_script(tag): tag for tag in reversed(available)}
    for tag in preferred:
        if not tag or tag == "*":
            continue
        wanted = tag.replace("-", "_")
        match = offered.get(wanted.lower()) or scripts.get(_language_script(wanted))
        if not match:
            found = negotiate_locale([wanted], [t.replace("-", "_") for t in available], sep="_")
            match = offered.get(found.lower()) if found else None
        if match:
            return match
    return None


def _language_script(tag: str) -> tuple[str, str]:
    """Return ``(language, script)`` of a tag, the script filled in from CLDR's likely subtags."""
    parts = tag.replace("-", "_").split("_")
    language = parts[0].lower()
    script = next((p.title() for p in parts[1:] if len(p) == 4 and p.isalpha()), "")
    if not script:
        likely = get_global("likely_subtags")
        region = next((p.upper() for p in parts[1:] if len(p) in (2, 3)), "")
        full = (region and likely.get(f"{language}_{region}")) or likely.get(language) or ""
        script = next((p for p in full.split("_")[1:] if len(p) == 4), "")
    return language, script


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


def catalog_name(lang: str) -> str:
    """Return the directory of a language's catalog in translations/: ``kk-Latn`` -> ``kk_Latn``."""
    return lang.replace("-", "_")


def select_locale() -> str:
    """Return the CLDR locale for dates and numbers (Flask-Babel's ``get_locale``).

    This is not the catalog: CLDR has no Latin Kazakh, so ``kk-Latn`` formats dates and numbers
    as ``kk`` while :class:`CatalogDomain` serves the ``kk_Latn`` catalog.
    """
    return format_locale(current_language())


class CatalogDomain(Domain):
    """Flask-Babel's message domain, choosing the catalog by language tag, not by CLDR locale.

    Flask-Babel loads the catalog of ``get_locale()``, and ``Locale.parse("kk_Latn")`` silently
    gives Cyrillic ``kk``, so the Latin catalog would never be served. Here the catalog is
    looked up by the page's language tag, with the bare language as the fallback.
    """

    def get_translations(self) -> support.NullTranslations:
        """Return the merged catalogs of this request's language (cached per language)."""
        if not g:
            return support.NullTranslations()
        if has_request_context():
            lang = current_language()
        else:  # a CLI command: the language set with set_language(), else the source text
            lang = g.get("lang")
            if lang is None:
                return support.NullTranslations()
        name = catalog_name(lang)
        directories = tuple(self.translation_directories)
        key = (name, self.domain[0], directories)
        translations = self.cache.get(key)
        if translations is None:
            translations = support.Translations()
            for index, dirname in enumerate(directories):
                domain = self.domain[0] if len(self.domain) == 1 else self.domain[index]
                catalog = support.Translations.load(dirname, [name], domain)
                translations.merge(catalog)
                if hasattr(catalog, "plural"):  # merge() does not copy the plural rule
                    translations.plural = catalog.plural
            self.cache[key] = translations
        return translations


def init_babel(app: Flask) -> None:
    """Bind Flask-Babel: dates and numbers from :func:`select_locale`, text from the catalog."""
    from app.extensions import babel

    babel.init_app(app, locale_selector=select_locale)
    # Babel.domain_instance is a cached property: give it our domain once, for every app.
    if not isinstance(babel.__dict__.get("domain_instance"), CatalogDomain):
        babel.domain_instance = CatalogDomain(domain=get_babel(app).default_domain)


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
        "language_choices": [(tag, endonym(tag)) for tag in offered],
    }
