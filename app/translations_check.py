"""What is left to translate or review: ``flask --app wsgi atlas check-translations``.

For every language the site offers it lists the UI strings (gettext catalogs) and questionnaire
labels that are missing, fuzzy or unreviewed. Drafted translations carry the gettext flag
``unreviewed`` in the catalogs; in a questionnaire, ``settings.unreviewed`` lists the languages
whose labels were drafted and not yet read by a native speaker. Latin Kazakh is generated from
Cyrillic Kazakh, so it shares the state of ``kk``.

Missing, fuzzy and unreviewed text is reported but is not an error: the command fails only when
a published (or bundled) questionnaire lacks a label in a language it offers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app import ROOT
from app.i18n import ENDONYMS, catalog_name
from forms.loader import QuestionnaireError, load_path
from forms.schema import Questionnaire
from forms.translit import to_latin

#: The language the msgids are written in: its catalog only needs to exist.
SOURCE_LANGUAGE = "en"
#: Languages whose catalog is generated from another's, never edited by hand.
GENERATED_CATALOGS = {"kk-Latn": "kk"}


@dataclass
class CatalogState:
    """The UI strings of one language that still need work."""

    total: int = 0
    missing: list[str] = field(default_factory=list)
    fuzzy: list[str] = field(default_factory=list)
    unreviewed: list[str] = field(default_factory=list)
    note: str = ""


def catalog_path(lang: str, root: Path | None = None) -> Path:
    """Return the .po file of a language."""
    root = root or ROOT / "translations"
    return root / catalog_name(lang) / "LC_MESSAGES" / "messages.po"


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def catalog_state(lang: str, root: Path | None = None) -> CatalogState:
    """Compare a language's catalog with messages.pot."""
    root = root or ROOT / "translations"
    template = _read(root / "messages.pot")
    state = CatalogState(total=sum(1 for m in template if m.id))
    source = GENERATED_CATALOGS.get(lang)
    path = catalog_path(source or lang, root)
    if not path.exists():
        state.missing = [str(m.id) for m in template if m.id]
        state.note = f"no catalog {path.relative_to(root.parent)}"
        return state
    catalog = _read(path)
    if source:
        generated = catalog_path(lang, root)
        state.note = f"generated from {source}"
        if not generated.exists() or generated.stat().st_mtime < path.stat().st_mtime:
            state.note += "; out of date: run `make catalogs`"
    for message in template:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        found = catalog.get(message.id, message.context)
        strings = found.string if found else ""
        if isinstance(strings, tuple | list):
            empty = not all(strings)
        else:
            empty = not strings
        if lang == SOURCE_LANGUAGE and (found is None or empty):
            continue  # gettext shows the msgid itself, which is the English text
        if found is None or empty:
            state.missing.append(key)
        elif found.fuzzy:
            state.fuzzy.append(key)
        elif "unreviewed" in found.flags:
            state.unreviewed.append(key)
    return state


def questionnaire_texts(q: Questionnaire) -> Iterator[tuple[str, dict[str, str]]]:
    """Yield ``(where, texts)`` for every per-language text of a questionnaire."""
    yield "settings.title", dict(q.title)
    if q.description:
        yield "settings.description", dict(q.description)
    yield "settings.consent.text", dict(q.consent.text)
    for group in q.groups:
        yield f"groups.{group.name}.label", dict(group.label)
        for question in group.questions:
            for what in ("label", "hint", "constraint_message"):
                texts = getattr(question, what)
                if texts:
                    yield f"survey.{question.name}.{what}", dict(texts)
    for list_name, choices in q.choices.items():
        for choice in choices:
            yield f"choices.{list_name}.{choice.name}", dict(choice.label)


def unreviewed_languages(q: Questionnaire) -> set[str]:
    """Return the languages a questionnaire declares as drafted (``settings.unreviewed``)."""
    declared = (q.source.get("settings") or {}).get("unreviewed") or []
    langs = {str(lang) for lang in declared}
    # Generated text is exactly as reviewed as its source.
    for target, source in GENERATED_CATALOGS.items():
        if source in langs and target in q.languages:
            langs.add(target)
    return langs


def _questionnaires(echo: Callable[[str], None]) -> tuple[list[tuple[str, Questionnaire]], bool]:
    """Load the bundled files and the published versions; return them and whether all loaded."""
    from app.models import Survey
    from app.questionnaires import latest as latest_version
    from app.questionnaires import questionnaire_of

    found: list[tuple[str, Questionnaire]] = []
    ok = True
    bundled = ROOT / current_app.config["BUNDLED_QUESTIONNAIRES"]
    for path in sorted(bundled.glob("*.yaml")):
        try:
            found.append((f"{path.name} (bundled)", load_path(path)))
        except QuestionnaireError as exc:
            ok = False
            echo(f"ERROR {path.name}:")
            for line in exc.format():
                echo(f"  {line}")
    from app.extensions import db

    try:
        surveys = list(db.session.scalars(select(Survey).order_by(Survey.slug)))
    except SQLAlchemyError:
        db.session.rollback()
        echo("(no database: checked the bundled questionnaires only)")
        return found, ok
    for survey in surveys:
        version = latest_version(survey)
        if version is None:
            continue
        name = f"{survey.slug} v{version.number} (published)"
        try:
            found.append((name, questionnaire_of(version)))
        except QuestionnaireError as exc:
            ok = False
            echo(f"ERROR {name}:")
            for line in exc.format():
                echo(f"  {line}")
    return found, ok


def _list(echo: Callable[[str], None], what: str, items: list[str], limit: int | None) -> None:
    shown = items if limit is None else items[:limit]
    for item in shown:
        echo(f"    {what}: {item}")
    if len(shown) < len(items):
        echo(f"    ... and {len(items) - len(shown)} more {what}")


def check_translations(
    languages: list[str] | None = None,
    echo: Callable[[str], None] = print,
    limit: int | None = None,
) -> bool:
    """Print what needs translating or reviewing, per language; return False on a hard failure.

    :param languages: BCP 47 tags to check (default: every language in ``LANGUAGES``).
    :param echo: where lines go.
    :param limit: at most this many strings listed per kind and language (None: all).
    :return: False when a published or bundled questionnaire lacks a label it must have.
    """
    offered = list(current_app.config["LANGUAGES"])
    languages = languages or offered
    questionnaires, ok = _questionnaires(echo)
    for lang in languages:
        state = catalog_state(lang)
        name = ENDONYMS.get(lang, lang)
        note = f" ({state.note})" if state.note else ""
        echo(
            f"{lang} {name}: UI {state.total} strings, {len(state.missing)} missing, "
            f"{len(state.fuzzy)} fuzzy, {len(state.unreviewed)} unreviewed{note}"
        )
        _list(echo, "missing", state.missing, limit)
        _list(echo, "fuzzy", state.fuzzy, limit)
        _list(echo, "unreviewed", state.unreviewed, limit)
        for label, q in questionnaires:
            texts = list(questionnaire_texts(q))
            if lang not in q.languages:
                echo(f"  questionnaire {label}: not offered in {lang}")
                continue
            missing = [where for where, t in texts if not t.get(lang, "").strip()]
            if missing:
                ok = False
            drafted = lang in unreviewed_languages(q)
            stale = []
            if lang in GENERATED_CATALOGS:
                source = GENERATED_CATALOGS[lang]
                raw = dict(_raw_texts(q, lang))
                stale = [w for w, t in texts if w in raw and raw[w] != to_latin(t.get(source, ""))]
            state_word = "unreviewed (drafted)" if drafted else "not flagged unreviewed"
            echo(
                f"  questionnaire {label}: {len(texts)} labels, {len(missing)} missing, "
                f"{state_word}"
                + (f", {len(stale)} hand-written instead of generated" if stale else "")
            )
            _list(echo, "MISSING label", missing, None)
            _list(echo, "hand-written", stale, limit)
    if not ok:
        echo("FAILED: a questionnaire lacks a label in a language it offers")
    return ok


def _raw_texts(q: Questionnaire, lang: str) -> Iterator[tuple[str, str]]:
    """Yield texts written in the file itself for ``lang`` (not generated by the loader)."""
    source = q.source
    settings = source.get("settings") or {}
    for key in ("title", "description"):
        value = settings.get(key)
        if isinstance(value, dict) and lang in value:
            yield f"settings.{key}", str(value[lang]).strip()
    consent = (settings.get("consent") or {}).get("text")
    if isinstance(consent, dict) and lang in consent:
        yield "settings.consent.text", str(consent[lang]).strip()
    for group in source.get("groups") or []:
        label = group.get("label") if isinstance(group, dict) else None
        if isinstance(label, dict) and lang in label:
            yield f"groups.{group.get('name')}.label", str(label[lang]).strip()
    for row in source.get("survey") or []:
        for what in ("label", "hint", "constraint_message"):
            value = row.get(what) if isinstance(row, dict) else None
            if isinstance(value, dict) and lang in value:
                yield f"survey.{row.get('name')}.{what}", str(value[lang]).strip()
    for list_name, options in (source.get("choices") or {}).items():
        for option in options or []:
            label = option.get("label") if isinstance(option, dict) else None
            if isinstance(label, dict) and lang in label:
                yield f"choices.{list_name}.{option.get('name')}", str(label[lang]).strip()
