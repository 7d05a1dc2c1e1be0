"""Questionnaires as stored: surveys, their versions, the parsed questionnaire of a version.

The one place every part of the app finds a questionnaire: the respondent's path, the API, the
exports, the registry, the analyst pages and the admin pages all call these.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import defer

from app.extensions import db
from app.ids import MAX_ID
from app.main.security import sha256
from app.models import Survey, SurveyVersion
from forms.loader import load_document, load_path, load_text
from forms.schema import Questionnaire


def canonical_json(value: Any) -> str:
    """Return JSON with sorted keys and dates as ISO text, the form hashes are taken of."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


# -- finding ----------------------------------------------------------------------------------


def find(slug: str) -> Survey | None:
    """Return the survey with this slug, or None."""
    return db.session.scalar(select(Survey).filter_by(slug=slug))


def slugs() -> list[str]:
    """Return every survey's slug, oldest first."""
    return list(db.session.scalars(select(Survey.slug).order_by(Survey.id)))


def latest(survey: Survey) -> SurveyVersion | None:
    """Return the newest version of a survey, the one new respondents get."""
    return db.session.scalar(
        select(SurveyVersion)
        .filter_by(survey_id=survey.id)
        .order_by(SurveyVersion.number.desc())
        .limit(1)
        # The definition is only read when this process has not parsed the version yet.
        .options(defer(SurveyVersion.definition))
    )


def newest_by_slug(slug: str) -> tuple[Survey, SurveyVersion] | None:
    """Return a survey and its newest version in one query (None: no such survey, or no version).

    What every respondent request starts with: one round trip where find and latest took two.
    """
    found = db.session.execute(
        select(Survey, SurveyVersion)
        .join(SurveyVersion, SurveyVersion.survey_id == Survey.id)
        .where(Survey.slug == slug)
        .order_by(SurveyVersion.number.desc())
        .limit(1)
        .options(defer(SurveyVersion.definition))
    ).first()
    return (found[0], found[1]) if found is not None else None


def versions(survey: Survey | str | None, number: int | None = None) -> list[SurveyVersion]:
    """Return a survey's versions (by the survey or its slug), oldest first.

    :param number: only the version with this number (an empty list if there is none).
    """
    if survey is None:
        return []
    # Definitions are read only by questionnaire_of, and only once per process and version.
    query = (
        select(SurveyVersion)
        .order_by(SurveyVersion.number)
        .options(defer(SurveyVersion.definition))
    )
    if isinstance(survey, Survey):
        query = query.where(SurveyVersion.survey_id == survey.id)
    else:
        query = query.join(Survey).where(Survey.slug == survey)
    if number is not None:
        if not 0 < number <= MAX_ID:
            return []
        query = query.where(SurveyVersion.number == number)
    return list(db.session.scalars(query))


def version(survey: Survey, number: int | None) -> SurveyVersion | None:
    """Return a version of a survey by number; None means the newest."""
    if number is None:
        return latest(survey)
    found = versions(survey, number)
    return found[0] if found else None


def newest_questionnaire(survey: Survey | str | None) -> Questionnaire | None:
    """Return the questionnaire of a survey's newest version (None without one)."""
    if isinstance(survey, str):
        survey = find(survey)
    newest = latest(survey) if survey is not None else None
    return questionnaire_of(newest) if newest is not None else None


def is_accepting(
    survey: Survey, questionnaire: Questionnaire, today: dt.date | None = None
) -> bool:
    """Return whether the survey takes answers today."""
    return survey.is_open and questionnaire.is_open_on(today or dt.date.today())


#: Parsed questionnaires by (version id, content hash); a stored version never changes.
_PARSED: dict[tuple[int, str], Questionnaire] = {}


def questionnaire_of(version: SurveyVersion) -> Questionnaire:
    """Return the parsed questionnaire of a stored version (parsed once per process).

    The key is the content hash stored with the version, so a hit neither reads nor
    re-serialises the definition (a large document: that cost was most of a submission's).
    """
    key = (version.id, version.content_hash)
    questionnaire = _PARSED.get(key)
    if questionnaire is None:
        if len(_PARSED) >= 64:
            _PARSED.clear()
        definition = json.loads(canonical_json(version.definition))
        questionnaire = _PARSED[key] = load_document(definition, f"version {version.id}")
    return questionnaire


# -- labels -----------------------------------------------------------------------------------


def choice_labels(questionnaire: Questionnaire | None, question: str, lang: str) -> dict[str, str]:
    """Return ``{choice name: label}`` of a question in a language (empty if it is missing)."""
    if questionnaire is None:
        return {}
    try:
        q = questionnaire.question(question)
    except KeyError:
        return {}
    return {c.name: questionnaire.text(c.label, lang) for c in questionnaire.choice_list(q)}


def role_labels(questionnaire: Questionnaire | None, role: str, lang: str) -> dict[str, str]:
    """Return ``{choice name: label}`` of the question that plays a role (``needs``, ...)."""
    target = questionnaire.role_question(role) if questionnaire else None
    return choice_labels(questionnaire, target[0] if target else role, lang)


# -- storing ----------------------------------------------------------------------------------


def load_file(path: str | Path) -> tuple[SurveyVersion, bool]:
    """Load a questionnaire file as a new version of its survey, unless it is unchanged.

    :return: the version and whether it is new.
    :raises forms.loader.QuestionnaireError: when the file has problems.
    """
    return store(load_path(path))


def load_xlsform_file(path: str | Path, slug: str | None = None) -> tuple[SurveyVersion, bool]:
    """Load an XLSForm workbook as a new version of its survey, unless it is unchanged.

    :param slug: the survey's slug, instead of the one made from the workbook's ``form_id``.
    :return: the version and whether it is new.
    :raises forms.loader.QuestionnaireError: when the workbook has problems.
    """
    from forms.xlsform import load_xlsform

    return store(load_xlsform(path, slug))


def load_upload(text: str, filename: str) -> tuple[SurveyVersion, bool]:
    """Load questionnaire YAML text (an uploaded file) as a new version, unless it is unchanged.

    :param filename: the name problems are reported under.
    :return: the version and whether it is new.
    :raises forms.loader.QuestionnaireError: when the text has problems.
    """
    return store(load_text(text, filename))


def load_workbook_upload(data: bytes, filename: str, suffix: str) -> tuple[SurveyVersion, bool]:
    """Load an uploaded XLSForm workbook as a new version of its survey, unless unchanged.

    The workbook is written to a temporary file (pyxform's readers take a path) named by
    ``suffix`` (``.xlsx`` or ``.xls``) alone: the uploaded name only names the problems.

    :param filename: the name problems are reported under.
    :return: the version and whether it is new.
    :raises forms.loader.QuestionnaireError: when the workbook has problems.
    """
    from forms.xlsform import load_xlsform

    with tempfile.TemporaryDirectory(prefix="atlas-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        questionnaire = load_xlsform(path, filename=filename)
    return store(questionnaire)


def store(questionnaire: Questionnaire) -> tuple[SurveyVersion, bool]:
    """Store a checked questionnaire as a new version of its survey, unless it is unchanged.

    Older versions and the responses given under them are never touched.

    :return: the version and whether it is new.
    """
    # Store the document as JSON (dates as text) so it loads back the same from any database.
    document = json.loads(canonical_json(questionnaire.source))
    digest = sha256(canonical_json(document))
    survey = find(questionnaire.slug)
    if survey is None:
        survey = Survey(slug=questionnaire.slug)
        db.session.add(survey)
        db.session.flush()
    existing = db.session.scalar(
        select(SurveyVersion).filter_by(survey_id=survey.id, content_hash=digest)
    )
    if existing is not None:
        db.session.commit()
        return existing, False
    number = (
        db.session.scalar(
            select(func.max(SurveyVersion.number)).where(SurveyVersion.survey_id == survey.id)
        )
        or 0
    ) + 1
    stored = SurveyVersion(
        survey=survey,
        number=number,
        label=questionnaire.version_label,
        content_hash=digest,
        definition=document,
    )
    db.session.add(stored)
    db.session.commit()
    return stored, True
