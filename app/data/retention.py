"""Retention: anonymise old responses and drop stale drafts.

After ``RETENTION_DAYS`` (default three years, within the five years the consent statement
promises at most) a response keeps what the aggregates need and loses what could identify its
respondent:

* every free-text and e-mail answer (in the bundled questionnaire: occupation_detail, experience,
  languages_other, needs_other, proposals, association_name, contact_email), found by the
  question type (:attr:`forms.types.QuestionType.identifying`), so a new free-text question is
  covered without a change here;
* the parts of an answer its type names as identifying: the city and the coordinates of a
  location answer; and the indexed city, city_id, lat and lon columns (country, region and the
  country the coordinates fell in stay).

Choice answers stay, so counts and shares still add up. The response's ``answers_hash`` is left
as it was: an identical re-send is still recognised as already stored.

Unsubmitted drafts not touched for ``DRAFT_RETENTION_DAYS`` (default 30) are deleted with the
answers they hold. Submitted drafts hold no answers and stay for the drop-off figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import or_, select

from app import counts
from app.accounts.services import record
from app.extensions import db
from app.models import Draft, Response, SurveyVersion, utcnow
from app.questionnaires import questionnaire_of
from forms.schema import Questionnaire

BATCH = 500


@dataclass(frozen=True)
class RetentionReport:
    """What one run changed."""

    anonymised: int
    drafts_deleted: int
    cutoff: dt.datetime
    draft_cutoff: dt.datetime


def identifying_questions(
    questionnaire: Questionnaire,
) -> tuple[set[str], dict[str, tuple[str, ...]]]:
    """Return the questions whose whole answer may identify a person (free text, e-mail), and
    the others' identifying parts by question (a location's city and coordinates)."""
    whole = {q.name for q in questionnaire.questions() if q.kind.identifying}
    target = questionnaire.role_question("contact_email")
    if target:
        whole.add(target[0])
    parts = {
        q.name: q.kind.identifying_parts
        for q in questionnaire.questions()
        if q.kind.identifying_parts
    }
    return whole, parts


def anonymised_answers(
    answers: dict[str, Any], whole: set[str], parts: dict[str, tuple[str, ...]]
) -> dict:
    """Return a copy of ``answers`` without identifying answers and parts of answers."""
    out = {k: v for k, v in answers.items() if k not in whole}
    for name, keys in parts.items():
        value = out.get(name)
        if isinstance(value, dict):
            out[name] = {**value, **dict.fromkeys(keys)}
    return out


def apply_retention(
    now: dt.datetime | None = None, days: int | None = None, draft_days: int | None = None
) -> RetentionReport:
    """Anonymise responses older than the retention period and delete stale drafts.

    :param days: overrides ``RETENTION_DAYS``; ``draft_days`` overrides ``DRAFT_RETENTION_DAYS``.
    :return: how many responses and drafts were changed.
    """
    now = now or utcnow()
    days = current_app.config["RETENTION_DAYS"] if days is None else days
    draft_days = current_app.config["DRAFT_RETENTION_DAYS"] if draft_days is None else draft_days
    cutoff = now - dt.timedelta(days=days)
    draft_cutoff = now - dt.timedelta(days=draft_days)
    anonymised = 0
    for version in db.session.scalars(select(SurveyVersion)).all():
        questionnaire = questionnaire_of(version)
        whole, parts = identifying_questions(questionnaire)
        has_identifying = [
            Response.city.is_not(None),
            Response.city_id.is_not(None),
            Response.lat.is_not(None),
            Response.lon.is_not(None),
            *(Response.answers[name].as_string().is_not(None) for name in sorted(whole)),
        ]
        last = 0
        while True:
            rows = db.session.scalars(
                select(Response)
                .where(
                    Response.version_id == version.id,
                    Response.submitted_at < cutoff,
                    Response.id > last,
                    or_(*has_identifying),
                )
                .order_by(Response.id)
                .limit(BATCH)
            ).all()
            if not rows:
                break
            for response in rows:
                counts.add(response, questionnaire, sign=-1)  # what it counted before...
                response.answers = anonymised_answers(response.answers or {}, whole, parts)
                response.city = response.city_id = response.lat = response.lon = None
                counts.add(response, questionnaire)  # ...and what it counts now
            anonymised += len(rows)
            last = rows[-1].id
            db.session.commit()
    drafts = counts.remove_drafts(Draft.submitted_at.is_(None) & (Draft.updated_at < draft_cutoff))
    db.session.commit()
    record(
        "apply_retention",
        details={"via": "cli", "days": days, "draft_days": draft_days, "drafts": drafts},
        rows=anonymised,
        user=None,
    )
    return RetentionReport(anonymised, drafts or 0, cutoff, draft_cutoff)
