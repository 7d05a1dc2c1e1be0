"""What the respondent's path does to the database; each function owns its transaction."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, joinedload

from app import sources
from app.db import begin_write
from app.extensions import db
from app.main.security import sha256
from app.models import Draft, Response, Survey, SurveyVersion, WithdrawnSubmission, utcnow
from forms import names
from forms.loader import load_document, load_path, load_text
from forms.schema import Questionnaire
from geo import boundaries, places

#: Age bands used everywhere an age is published.
AGE_BANDS = ((16, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 200))


class SubmissionConflict(Exception):
    """The submission id was already used for different answers."""


class SubmissionWithdrawn(Exception):
    """The submission id belongs to a withdrawn response and cannot be used again."""


@dataclass(frozen=True)
class Submitted:
    """A stored response and whether this call stored it (False for an identical re-send)."""

    response_id: int
    submission_id: str
    created: bool
    receipt: str


# -- questionnaires -------------------------------------------------------------------------


def canonical_json(value: Any) -> str:
    """Return JSON with sorted keys and dates as ISO text, the form hashes are taken of."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def load_questionnaire_file(path: str | Path) -> tuple[SurveyVersion, bool]:
    """Load a questionnaire file as a new version of its survey, unless it is unchanged.

    :return: the version and whether it is new.
    :raises forms.loader.QuestionnaireError: when the file has problems.
    """
    return store_questionnaire(load_path(path))


def load_questionnaire_text(text: str, filename: str) -> tuple[SurveyVersion, bool]:
    """Load questionnaire YAML text (an uploaded file) as a new version, unless it is unchanged.

    :param filename: the name problems are reported under.
    :return: the version and whether it is new.
    :raises forms.loader.QuestionnaireError: when the text has problems.
    """
    return store_questionnaire(load_text(text, filename))


def store_questionnaire(questionnaire: Questionnaire) -> tuple[SurveyVersion, bool]:
    """Store a checked questionnaire as a new version of its survey, unless it is unchanged.

    Older versions and the responses given under them are never touched.

    :return: the version and whether it is new.
    """
    # Store the document as JSON (dates as text) so it loads back the same from any database.
    document = json.loads(canonical_json(questionnaire.source))
    digest = sha256(canonical_json(document))
    survey = db.session.scalar(select(Survey).filter_by(slug=questionnaire.slug))
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
    version = SurveyVersion(
        survey=survey,
        number=number,
        label=questionnaire.version_label,
        content_hash=digest,
        definition=document,
    )
    db.session.add(version)
    db.session.commit()
    return version, True


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


def find_survey(slug: str) -> Survey | None:
    """Return the survey with this slug, or None."""
    return db.session.scalar(select(Survey).filter_by(slug=slug))


def latest_version(survey: Survey) -> SurveyVersion | None:
    """Return the newest version of a survey, the one new respondents get."""
    return db.session.scalar(
        select(SurveyVersion)
        .filter_by(survey_id=survey.id)
        .order_by(SurveyVersion.number.desc())
        .limit(1)
        # The definition is only read when this process has not parsed the version yet.
        .options(defer(SurveyVersion.definition))
    )


def is_accepting(
    survey: Survey, questionnaire: Questionnaire, today: dt.date | None = None
) -> bool:
    """Return whether the survey takes answers today."""
    return survey.is_open and questionnaire.is_open_on(today or dt.date.today())


# -- places ---------------------------------------------------------------------------------

#: At most this many city suggestions per region (the most populous, then sorted by name).
CITY_SUGGESTIONS = 300


def city_suggestions(country: str, region: str | None, lang: str) -> list[str]:
    """Return city names to suggest for a country or region, by population, then collated."""
    if not country or country.upper() not in names.country_codes():
        return []
    found = places.cities(country.upper(), region.upper()[:8] if region else None, lang)
    keep = {c.id for c in sorted(found, key=lambda c: -c.population)[:CITY_SUGGESTIONS]}
    return list(dict.fromkeys(c.name for c in found if c.id in keep))


# -- drafts -----------------------------------------------------------------------------------


def start_draft(
    version: SurveyVersion, language: str, consent_version: str, link_id: int | None = None
) -> tuple[Draft, str]:
    """Record consent and open a draft; return it with its resume token (shown once)."""
    token = secrets.token_urlsafe(24)
    now = utcnow()
    draft = Draft(
        token_hash=sha256(token),
        version_id=version.id,
        submission_id=str(uuid.uuid4()),
        language=language,
        answers={},
        pending={},
        consent_version=consent_version,
        consent_language=language,
        consented_at=now,
        link_id=link_id,
        created_at=now,
    )
    db.session.add(draft)
    db.session.commit()
    return draft, token


def find_draft(token: str) -> Draft | None:
    """Return the draft a resume token opens, or None."""
    if not token or len(token) > 64:
        return None
    # One query for the draft, its version and survey; the version's large definition is read
    # only if this process has not parsed that version yet (see questionnaire_of).
    return db.session.scalar(
        select(Draft)
        .filter_by(token_hash=sha256(token))
        .options(
            joinedload(Draft.version).defer(SurveyVersion.definition),
            joinedload(Draft.version).joinedload(SurveyVersion.survey),
        )
    )


def save_page(
    draft: Draft,
    answers: dict[str, Any],
    pending: dict[str, Any],
    page: int,
    language: str | None = None,
) -> None:
    """Store a page's answers (and what did not pass the checks) in the draft."""
    begin_write(db.session)  # a GET saving a language switch writes too
    draft.answers = answers
    draft.pending = pending
    draft.furthest_page = max(draft.furthest_page or 0, page)
    if language:
        draft.language = language
    db.session.commit()


# -- submissions ------------------------------------------------------------------------------


def receipt_for(submission_id: str) -> str:
    """Return the receipt code of a submission: 128 bits, grouped for reading aloud.

    The code is an HMAC of the submission id under the instance secret, so an identical re-send
    gets the same thank-you page while the database keeps only the code's hash.
    """
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, b"receipt:" + submission_id.encode(), hashlib.sha256).digest()[:16]
    code = base64.b32encode(digest).decode().rstrip("=")
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise_receipt(code: str) -> str:
    """Return a typed receipt code in its canonical form (case, spaces and dashes ignored)."""
    letters = "".join(ch for ch in code.upper() if ch.isalnum())
    letters = letters.replace("0", "O").replace("1", "I").replace("8", "B")
    return "-".join(letters[i : i + 4] for i in range(0, len(letters), 4))


def _lock_submission(submission_id: str) -> None:
    """Serialise work on one submission id across PostgreSQL sessions (SQLite already is)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": submission_id})


def role_columns(questionnaire: Questionnaire, answers: dict[str, Any]) -> dict[str, Any]:
    """Extract the indexed columns (country, region, city, coordinates, sex, age band,
    citizenship) from the answers through the questionnaire's roles."""

    def role(name: str) -> Any:
        return questionnaire.role_answer(name, answers)

    geo = role("geopoint")
    country = role("residence_country")
    lat = lon = geo_country = mismatch = None
    if isinstance(geo, list) and len(geo) == 2:
        lat, lon = geo
        geo_country = boundaries.assign_countries([lat], [lon])[0]
        # Only a point outside the chosen country needs the slower check near borders.
        mismatch = (
            bool(country)
            and geo_country != country
            and not boundaries.check_country(country, lat, lon)
        )
    city = role("residence_city")
    city_id = None
    target = questionnaire.role_question("residence_city")
    place_answer = answers.get(target[0]) if target else None
    if isinstance(place_answer, dict) and place_answer.get("city_id"):
        city_id = place_answer["city_id"]
        place = places.city_by_id(city_id)
        city = place.name if place else city
    return {
        "country": country,
        "region": role("residence_region"),
        "city": city[:200] if isinstance(city, str) else None,
        "city_id": city_id,
        "lat": lat,
        "lon": lon,
        "geo_country": geo_country,
        "geo_mismatch": mismatch,
        "sex": _short(role("sex")),
        "age_band": age_band(role("age")),
        "citizenship": role("citizenship"),
    }


def _short(value: Any) -> str | None:
    return value[:32] if isinstance(value, str) else None


def age_band(age: Any) -> str | None:
    """Return the band an age falls in (``25-34``, ``65+``), or None."""
    if not isinstance(age, int | float) or isinstance(age, bool):
        return None
    for low, high in AGE_BANDS:
        if low <= age <= high:
            return f"{low}+" if high >= 200 else f"{low}-{high}"
    return None


def record_submission(
    version: SurveyVersion,
    submission_id: str,
    answers: dict[str, Any],
    *,
    language: str,
    consent_version: str,
    consent_language: str,
    consented_at: dt.datetime,
    started_at: dt.datetime | None = None,
    channel: str = "web",
    link_id: int | None = None,
    source: str | None = None,
) -> Submitted:
    """Store a checked response exactly once under its submission id, in one transaction.

    :param source: the client's :func:`app.sources.client_source` (None: counts as independent).
    :return: the stored response; ``created`` is False for an identical re-send.
    :raises SubmissionConflict: the id was used for different answers.
    :raises SubmissionWithdrawn: the id's response was withdrawn.
    """
    digest = sha256(canonical_json(answers))
    receipt = receipt_for(submission_id)
    for _attempt in range(2):
        try:
            _lock_submission(submission_id)
            if db.session.get(WithdrawnSubmission, submission_id) is not None:
                db.session.rollback()
                raise SubmissionWithdrawn(submission_id)
            existing = db.session.scalar(select(Response).filter_by(submission_id=submission_id))
            if existing is not None:
                same = existing.answers_hash == digest and existing.version_id == version.id
                result = Submitted(existing.id, submission_id, False, receipt)
                db.session.rollback()
                if not same:
                    raise SubmissionConflict(submission_id)
                return result
            response = Response(
                submission_id=submission_id,
                version_id=version.id,
                answers=answers,
                answers_hash=digest,
                receipt_hash=sha256(normalise_receipt(receipt)),
                language=language,
                consent_version=consent_version,
                consent_language=consent_language,
                consented_at=consented_at,
                started_at=started_at,
                channel=channel,
                link_id=link_id,
                independent=sources.note_submission(source),
                **role_columns(questionnaire_of(version), answers),
            )
            db.session.add(response)
            db.session.flush()
            response_id = response.id
            db.session.commit()
            return Submitted(response_id, submission_id, True, receipt)
        except IntegrityError:
            # Another request stored the same id between our check and insert: look again.
            db.session.rollback()
    raise SubmissionConflict(submission_id)


def finish_draft(draft: Draft) -> None:
    """Mark a draft submitted and drop its copy of the answers."""
    draft.submitted_at = utcnow()
    draft.answers = {}
    draft.pending = {}
    db.session.commit()


def take_receipt(draft: Draft) -> str | None:
    """Return a submitted draft's receipt code the first time only; None ever after.

    Anyone with the resume link (a shared device's history) could otherwise read the code and
    withdraw the answers.
    """
    begin_write(db.session)  # the thank-you page is a GET that writes
    # One conditional update: of two pages loading at once, only one gets the code.
    taken = db.session.execute(
        update(Draft)
        .where(Draft.id == draft.id, Draft.receipt_shown_at.is_(None))
        .values(receipt_shown_at=utcnow())
    ).rowcount
    db.session.commit()
    return receipt_for(draft.submission_id) if taken == 1 else None


def withdraw(code: str, source: str | None = None) -> bool:
    """Delete the response a receipt code belongs to; return whether there was one.

    The submission id is remembered (and nothing else) so the same response cannot be sent again,
    and what the same address sends next is not independent for a while (:mod:`app.sources`).
    """
    digest = sha256(normalise_receipt(code))
    response = db.session.scalar(select(Response).filter_by(receipt_hash=digest))
    if response is None:
        db.session.rollback()
        return False
    submission_id = response.submission_id
    _lock_submission(submission_id)
    db.session.add(WithdrawnSubmission(submission_id=submission_id))
    sources.note_withdrawal(source)
    db.session.execute(delete(Response).where(Response.id == response.id))
    db.session.execute(delete(Draft).where(Draft.submission_id == submission_id))
    db.session.commit()
    return True
