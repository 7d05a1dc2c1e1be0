"""Stored responses: recorded once per submission id, with their indexed role columns and a
receipt code, withdrawn by that code. Each function owns its transaction."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError

from app import counts, sources
from app.extensions import db
from app.main.security import sha256
from app.models import Draft, Response, SurveyVersion, WithdrawnSubmission
from app.questionnaires import canonical_json, questionnaire_of
from forms.schema import Questionnaire
from geo import boundaries, places
from geo.aggregate import age_band


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


# -- receipts ---------------------------------------------------------------------------------


def receipt_for(submission_id: str) -> str:
    """Return the receipt code of a submission: 128 bits, grouped for reading aloud.

    The code is an HMAC of the submission id under the instance secret, so an identical re-send
    gets the same receipt while the database keeps only the code's hash.
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


# -- role columns -----------------------------------------------------------------------------


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
        "age_band": _age_band(role("age")),
        "citizenship": role("citizenship"),
    }


def _short(value: Any) -> str | None:
    return value[:32] if isinstance(value, str) else None


def _age_band(age: Any) -> str | None:
    """Return the band of an answered age, or None (no answer, or under the survey's minimum)."""
    if not isinstance(age, int | float) or isinstance(age, bool):
        return None
    try:
        return age_band(age)
    except ValueError:
        return None


# -- recording and withdrawing ----------------------------------------------------------------


def _lock_submission(submission_id: str) -> None:
    """Serialise work on one submission id across PostgreSQL sessions (SQLite already is)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": submission_id})


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
    questionnaire = questionnaire_of(version)
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
                **role_columns(questionnaire, answers),
            )
            db.session.add(response)
            db.session.flush()
            counts.add(response, questionnaire)
            response_id = response.id
            db.session.commit()
            return Submitted(response_id, submission_id, True, receipt)
        except IntegrityError:
            # Another request stored the same id between our check and insert: look again.
            db.session.rollback()
    raise SubmissionConflict(submission_id)


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
    counts.add(response, sign=-1)
    db.session.execute(delete(Response).where(Response.id == response.id))
    counts.remove_drafts(Draft.submission_id == submission_id)
    db.session.commit()
    return True
