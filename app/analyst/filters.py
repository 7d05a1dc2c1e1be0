"""The dashboard's filters: read from the query, validated, applied to a survey's frame."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import Survey, SurveyVersion
from forms import names


@dataclass(frozen=True)
class Filters:
    """The dashboard's filters, validated: survey, version number, date range, country."""

    survey: str | None = None
    version: int | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    country: str | None = None

    def as_query(self) -> dict[str, str]:
        """Return the filters as query parameters (to keep them in links)."""
        values = {
            "survey": self.survey,
            "version": self.version,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "country": self.country,
        }
        return {key: str(value) for key, value in values.items() if value is not None}

    def audit(self) -> dict[str, str]:
        """Return the filters for the audit log (no answer values)."""
        return self.as_query()


def read_filters(args: Mapping[str, str]) -> tuple[Filters, list[str]]:
    """Validate filters from query parameters; a bad value is dropped with a message.

    :return: the filters that passed and the messages (localised) about the others.
    """
    errors: list[str] = []
    surveys = [s.slug for s in db.session.scalars(select(Survey).order_by(Survey.id))]
    survey = (args.get("survey") or "").strip() or None
    if survey is not None and survey not in surveys:
        errors.append(_("There is no questionnaire called “%(name)s”.", name=survey[:64]))
        survey = None
    survey = survey or (surveys[0] if surveys else None)

    version: int | None = None
    raw_version = (args.get("version") or "").strip()
    if raw_version:
        numbers = set(
            db.session.scalars(
                select(SurveyVersion.number).join(Survey).where(Survey.slug == survey)
            )
        )
        if raw_version.isdigit() and len(raw_version) < 6 and int(raw_version) in numbers:
            version = int(raw_version)
        else:
            errors.append(_("Choose a version of the questionnaire from the list."))

    since = _date(args.get("since"), _("The start date"), errors)
    until = _date(args.get("until"), _("The end date"), errors)
    if since and until and since > until:
        errors.append(_("The start date is after the end date."))
        since = until = None

    country: str | None = (args.get("country") or "").strip().upper() or None
    if country is not None and country not in names.country_codes():
        errors.append(_("Choose a country from the list."))
        country = None
    return Filters(survey, version, since, until, country), errors


def _date(raw: str | None, what: str, errors: list[str]) -> dt.date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = dt.date.fromisoformat(raw[:10]) if len(raw) == 10 else None
    except ValueError:
        value = None
    if value is None or not 2000 <= value.year <= 2100:
        errors.append(_("%(what)s is not a date (use YYYY-MM-DD).", what=what))
        return None
    return value
