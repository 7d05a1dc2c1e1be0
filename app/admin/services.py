"""What admins do to accounts, organisations, questionnaires and surveys; each owns its commit.

Every change is written to the audit log in the same transaction as the change itself
(:func:`app.accounts.services.record` commits both). Passwords never reach the log.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import DataError
from sqlalchemy.orm import selectinload

from app import questionnaires
from app.accounts.models import ROLES, AuditEvent, LoginSession, Organisation, User
from app.accounts.services import AccountError, create_user, hash_password, record
from app.extensions import db
from app.ids import MAX_ID
from app.models import Response, Survey, SurveyVersion, utcnow
from forms.i18n import N_
from forms.loader import Problem, QuestionnaireError
from forms.names import country_codes
from forms.xlsform import sniff_workbook

#: Organisation short names: the same rule as questionnaire slugs (they appear in URLs).
ORG_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
#: Audit events per page.
AUDIT_PAGE_SIZE = 50
#: Uploaded file names are shown back to the admin; keep them short.
FILENAME_LENGTH = 100
#: Uploaded names read as XLSForm workbooks; any other name is read as YAML.
WORKBOOK_SUFFIXES = (".xlsx", ".xls")


def one_time_password() -> str:
    """Return a random password of 20 characters, shown once to the admin who set it."""
    return secrets.token_urlsafe(15)


def _end_sessions(user: User) -> None:
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


# -- users ------------------------------------------------------------------------------------


def list_users() -> list[User]:
    """Return every user, admins first, then by email."""
    order = {role: n for n, role in enumerate(ROLES)}
    users = db.session.scalars(select(User).order_by(User.email)).all()
    return sorted(users, key=lambda u: (order.get(u.role, len(order)), u.email))


def _storable(number: int | None) -> bool:
    """Return whether a number from a URL fits a database integer (larger ones match nothing)."""
    return number is not None and 0 < number <= MAX_ID


def find_user(user_id: int) -> User | None:
    """Return the user with this id, or None."""
    return db.session.get(User, user_id) if _storable(user_id) else None


def find_organisation(organisation_id: int | None) -> Organisation | None:
    """Return the organisation with this id, or None."""
    return db.session.get(Organisation, organisation_id) if _storable(organisation_id) else None


def invite_user(email: str, role: str, organisation_id: int | None) -> tuple[User, str]:
    """Create a user with a one-time password they must change at first sign-in.

    :return: the user and the password, to show once.
    :raises AccountError: with a msgid when the request cannot be met.
    """
    organisation = find_organisation(organisation_id) if role == "coordinator" else None
    if role == "coordinator" and organisation_id and organisation is None:
        raise AccountError(N_("Choose an organisation from the list."))
    password = one_time_password()
    user = create_user(email, password, role, organisation, must_change_password=True)
    record(
        "user_created",
        target=f"user:{user.id}",
        details={"role": role, "organisation_id": user.organisation_id},
    )
    return user, password


def change_role(actor: User, user: User, role: str, organisation_id: int | None) -> None:
    """Give a user another role or organisation; a coordinator needs an organisation.

    :raises AccountError: for an unknown role, a coordinator without organisation, or an admin
        taking away their own admin role (which could leave nobody to manage accounts).
    """
    if role not in ROLES:
        raise AccountError(N_("Unknown role."))
    if user.id == actor.id and role != "admin":
        raise AccountError(N_("You cannot take away your own admin role."))
    organisation = find_organisation(organisation_id) if role == "coordinator" else None
    if role == "coordinator" and organisation is None:
        raise AccountError(N_("A coordinator must belong to an organisation."))
    before = {"role": user.role, "organisation_id": user.organisation_id}
    user.role = role
    user.organisation = organisation
    # A changed role changes what the open sessions may see: make the user sign in again.
    _end_sessions(user)
    record(
        "user_role_changed",
        target=f"user:{user.id}",
        details={"from": before, "to": {"role": role, "organisation_id": user.organisation_id}},
    )


def set_active(actor: User, user: User, active: bool) -> None:
    """Deactivate (ending every session) or reactivate a user.

    :raises AccountError: when an admin tries to deactivate their own account.
    """
    if user.id == actor.id and not active:
        raise AccountError(N_("You cannot deactivate your own account."))
    user.is_active_account = active
    if not active:
        _end_sessions(user)
    record("user_reactivated" if active else "user_deactivated", target=f"user:{user.id}")


def reset_password(user: User) -> str:
    """Give a user a new one-time password and end their sessions; return it to show once."""
    password = one_time_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    _end_sessions(user)
    record("user_password_reset", target=f"user:{user.id}")
    return password


# -- organisations ----------------------------------------------------------------------------


def list_organisations() -> list[Organisation]:
    """Return every organisation by short name."""
    return list(db.session.scalars(select(Organisation).order_by(Organisation.slug)))


def _clean_organisation(
    names: dict[str, str], country: str | None, contact: str | None
) -> tuple[dict[str, str], str | None, str | None]:
    kept = {lang: name.strip()[:200] for lang, name in names.items() if name and name.strip()}
    if not kept:
        raise AccountError(N_("Give the organisation's name in at least one language."))
    country = (country or "").strip().upper() or None
    if country and country not in country_codes():
        raise AccountError(N_("Choose a country from the list."))
    contact = (contact or "").strip()[:200] or None
    return kept, country, contact


def add_organisation(
    slug: str, names: dict[str, str], country: str | None, contact: str | None
) -> Organisation:
    """Create an organisation with its name in each language given.

    :raises AccountError: for a bad or taken short name, no name at all, or an unknown country.
    """
    slug = slug.strip().lower()
    if not ORG_SLUG_RE.match(slug):
        raise AccountError(
            N_("Use lower-case Latin letters, digits and hyphens for the short name.")
        )
    names, country, contact = _clean_organisation(names, country, contact)
    if db.session.scalar(select(Organisation).filter_by(slug=slug)) is not None:
        raise AccountError(N_("An organisation with this short name exists already."))
    organisation = Organisation(slug=slug, name=names, country=country, contact=contact)
    db.session.add(organisation)
    db.session.flush()
    record(
        "organisation_created",
        target=f"organisation:{organisation.id}",
        details={"slug": slug, "country": country},
    )
    return organisation


def edit_organisation(
    organisation: Organisation, names: dict[str, str], country: str | None, contact: str | None
) -> None:
    """Change an organisation's names, country and contact.

    :raises AccountError: when no name is left or the country is unknown.
    """
    names, country, contact = _clean_organisation(names, country, contact)
    organisation.name = names
    organisation.country = country
    organisation.contact = contact
    record(
        "organisation_updated",
        target=f"organisation:{organisation.id}",
        details={"country": country, "languages": sorted(names)},
    )


# -- questionnaires and surveys ---------------------------------------------------------------


@dataclass(frozen=True)
class VersionSummary:
    """One stored version of a survey, with how many responses were given under it."""

    version: SurveyVersion
    responses: int


def list_surveys() -> list[tuple[Survey, SurveyVersion | None, int]]:
    """Return each survey with its newest version and its number of responses."""
    counts = dict(
        db.session.execute(
            select(SurveyVersion.survey_id, func.count(Response.id))
            .join(Response, Response.version_id == SurveyVersion.id)
            .group_by(SurveyVersion.survey_id)
        ).all()
    )
    surveys = db.session.scalars(select(Survey).order_by(Survey.slug)).all()
    return [(s, questionnaires.latest(s), counts.get(s.id, 0)) for s in surveys]


def version_summaries(survey: Survey) -> list[VersionSummary]:
    """Return every version of a survey, newest first, with its response count."""
    counts = dict(
        db.session.execute(
            select(Response.version_id, func.count(Response.id))
            .join(SurveyVersion, Response.version_id == SurveyVersion.id)
            .where(SurveyVersion.survey_id == survey.id)
            .group_by(Response.version_id)
        ).all()
    )
    versions = db.session.scalars(
        select(SurveyVersion).filter_by(survey_id=survey.id).order_by(SurveyVersion.number.desc())
    )
    return [VersionSummary(v, counts.get(v.id, 0)) for v in versions]


def safe_filename(filename: str | None) -> str:
    """Return the last part of an uploaded file's name, shortened, for messages.

    A long name keeps its extension (up to 10 characters), which tells a workbook from YAML.
    """
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable())
    stem, dot, extension = name.rpartition(".")
    if len(name) > FILENAME_LENGTH and stem and len(extension) <= 10:
        return stem[: FILENAME_LENGTH - len(extension) - 1] + dot + extension
    return name[:FILENAME_LENGTH] or "questionnaire.yaml"


def upload_kind(data: bytes, filename: str) -> str:
    """Return how an uploaded file is read: ``.xlsx`` or ``.xls`` (a workbook), or ``.yaml``.

    The name decides; a workbook's content is checked against its name when it is read
    (:mod:`forms.xlsform`), and a workbook under any other name is refused here.

    :raises QuestionnaireError: for a workbook that is not named as one.
    """
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix in WORKBOOK_SUFFIXES:
        return suffix
    if sniff_workbook(data[:8]) is not None:
        raise QuestionnaireError(
            [
                Problem(
                    filename,
                    "file",
                    N_(
                        "is an Excel workbook: to upload it as an XLSForm, save it as .xlsx or .xls"
                    ),
                )
            ]
        )
    return ".yaml"


def _load_upload(data: bytes, filename: str) -> tuple[SurveyVersion, bool]:
    kind = upload_kind(data, filename)
    if kind != ".yaml":
        return questionnaires.load_workbook_upload(data, filename, kind)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problem = Problem(filename, "file", N_("cannot be read: %(reason)s"), {"reason": str(exc)})
        raise QuestionnaireError([problem]) from exc
    return questionnaires.load_upload(text, filename)


def upload_questionnaire(data: bytes, filename: str) -> tuple[SurveyVersion, bool]:
    """Check an uploaded questionnaire file and store it as a new version, unless unchanged.

    The file is a YAML questionnaire or an XLSForm workbook (.xlsx, .xls), told apart by its
    name (:func:`upload_kind`). A new version never alters the answers given under an older
    one: responses keep their version and are not touched.

    :return: the version and whether it is new.
    :raises QuestionnaireError: with every problem found (file, row, what is wrong).
    """
    try:
        version, created = _load_upload(data, filename)
    except QuestionnaireError as exc:
        db.session.rollback()
        record("questionnaire_rejected", details={"file": filename, "problems": len(exc.problems)})
        raise
    except DataError as exc:
        # PostgreSQL refuses some text the loader lets through (a "\0" escape gives U+0000).
        db.session.rollback()
        record("questionnaire_rejected", details={"file": filename, "problems": 1})
        reason = {"reason": "U+0000"}
        raise QuestionnaireError(
            [Problem(filename, "file", N_("cannot be read: %(reason)s"), reason)]
        ) from exc
    record(
        "questionnaire_uploaded",
        target=f"survey:{version.survey.slug}",
        details={"file": filename, "version": version.number, "new": created},
    )
    return version, created


def set_survey_open(survey: Survey, is_open: bool) -> None:
    """Open or close a survey to respondents, whatever its own dates say."""
    survey.is_open = is_open
    record("survey_opened" if is_open else "survey_closed", target=f"survey:{survey.slug}")


# -- audit log --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    """What the audit log page is narrowed to."""

    action: str | None = None
    user_id: int | None = None
    since: date | None = None
    until: date | None = None


def audit_actions() -> list[str]:
    """Return every action found in the audit log, sorted."""
    return sorted(db.session.scalars(select(AuditEvent.action).distinct()))


def audit_events(wanted: AuditFilter, page: int = 1) -> tuple[list[AuditEvent], int, int]:
    """Return one page of audit events, newest first, how many match in all, and the page
    shown (``page`` brought within the pages there are)."""
    query = select(AuditEvent)
    if wanted.action:
        query = query.where(AuditEvent.action == wanted.action)
    if wanted.user_id:
        query = query.where(AuditEvent.user_id == wanted.user_id)
    if wanted.since:
        start = datetime.combine(wanted.since, time.min).replace(tzinfo=utcnow().tzinfo)
        query = query.where(AuditEvent.at >= start)
    if wanted.until:
        end = datetime.combine(wanted.until + timedelta(days=1), time.min)
        query = query.where(AuditEvent.at < end.replace(tzinfo=utcnow().tzinfo))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = min(max(page, 1), max(math.ceil(total / AUDIT_PAGE_SIZE), 1))
    events = db.session.scalars(
        query.options(selectinload(AuditEvent.user))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * AUDIT_PAGE_SIZE)
        .limit(AUDIT_PAGE_SIZE)
    ).all()
    return list(events), total, page


def describe_details(details: Any) -> list[tuple[str, str]]:
    """Return an event's details as ``(key, value)`` text pairs for display."""
    if not isinstance(details, dict):
        return []
    return [(str(key), str(value)) for key, value in sorted(details.items())]
