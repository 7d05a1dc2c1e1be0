"""The respondent's path: city suggestions, drafts, the receipt shown once.

Stored responses are :mod:`app.responses`; questionnaires :mod:`app.questionnaires`. Each
function owns its transaction.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from app import counts
from app.db import begin_write
from app.extensions import db
from app.main.security import sha256
from app.models import Draft, SurveyVersion, utcnow
from app.responses import receipt_for
from forms import names
from geo import places

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
    db.session.flush()  # its record key
    counts.apply(counts.draft_totals([draft]))
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
    before = (draft.furthest_page, draft.submitted_at is not None)
    draft.answers = answers
    draft.pending = pending
    draft.furthest_page = max(draft.furthest_page or 0, page)
    counts.move_draft(draft, before)
    if language:
        draft.language = language
    db.session.commit()


# -- the end of a draft -----------------------------------------------------------------------


def finish_draft(draft: Draft) -> None:
    """Mark a draft submitted and drop its copy of the answers."""
    before = (draft.furthest_page, draft.submitted_at is not None)
    draft.submitted_at = utcnow()
    counts.move_draft(draft, before)
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
