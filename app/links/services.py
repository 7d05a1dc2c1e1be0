"""Distribution links and coordinator invitations; each function owns its transaction."""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
import segno
from flask import current_app
from sqlalchemy import case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app import questionnaires
from app.accounts import services as accounts
from app.accounts.models import Organisation, User
from app.extensions import db
from app.links.models import LINK_STATUSES, DistributionLink, Invitation, LinkDay
from app.main.security import sha256
from app.models import Draft, Response, Survey, utcnow
from app.privacy import published_policy
from app.questionnaires import questionnaire_of
from forms.i18n import N_
from forms.names import country_codes
from geo.disclosure import Policy, Suppressed, Tally, fold_small, publish

#: Codes look like what secrets.token_urlsafe makes; anything else is unknown without a query.
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,32}$")
#: Random bytes in a link code: 9 bytes = 72 bits, 12 characters.
CODE_BYTES = 9
#: Longest label accepted.
LABEL_LENGTH = 200


class LinkError(ValueError):
    """A request about links or invitations that cannot be met; the message is a msgid.

    ``params`` fill its placeholders: show it as ``_(str(error), **error.params)``.
    """

    def __init__(self, msgid: str, **params: Any) -> None:
        super().__init__(msgid)
        self.params = params


def today() -> date:
    """Return today's date in UTC, the calendar links open and close by."""
    return datetime.now(UTC).date()


# -- links ------------------------------------------------------------------------------------


def create_link(
    survey: Survey,
    organisation: Organisation,
    label: str,
    *,
    language: str | None = None,
    country: str | None = None,
    opens_on: date | None = None,
    closes_on: date | None = None,
    response_cap: int | None = None,
    created_by: User | None = None,
) -> DistributionLink:
    """Create an active link with a fresh unguessable code.

    :raises LinkError: an empty label, a language the questionnaire does not offer, an unknown
        country, a closing day before the opening day, or a cap below the published k (the
        link's state, "full", also shown to respondents, would tell how many answered).
    """
    label = (label or "").strip()
    if not label or len(label) > LABEL_LENGTH:
        raise LinkError(N_("Give the link a label of at most 200 characters."))
    version = questionnaires.latest(survey)
    if version is None:
        raise LinkError(N_("This questionnaire has no version yet."))
    if language and language not in questionnaire_of(version).languages:
        raise LinkError(N_("The questionnaire is not offered in this language."))
    country = country.upper() if country else None
    if country and country not in country_codes():
        raise LinkError(N_("Choose a country from the list."))
    if opens_on and closes_on and closes_on < opens_on:
        raise LinkError(N_("The closing day comes before the opening day."))
    k = published_policy().k
    if response_cap is not None and response_cap < k:
        raise LinkError(
            N_(
                "A response cap must be at least %(k)d: a smaller one would tell how many "
                "people answered."
            ),
            k=k,
        )
    link = DistributionLink(
        code=secrets.token_urlsafe(CODE_BYTES),
        organisation_id=organisation.id,
        survey_id=survey.id,
        label=label,
        language=language or None,
        country=country,
        opens_on=opens_on,
        closes_on=closes_on,
        response_cap=response_cap,
        status="active",
        created_by=created_by.id if created_by else None,
    )
    db.session.add(link)
    db.session.commit()
    return link


def find_link(code: str) -> DistributionLink | None:
    """Return the link with this code, or None."""
    if not code or not CODE_PATTERN.match(code):
        return None
    return db.session.scalar(select(DistributionLink).filter_by(code=code))


def link_url(link: DistributionLink) -> str:
    """Return the link's full address under the configured BASE_URL (never the Host header)."""
    return current_app.config["BASE_URL"].rstrip("/") + "/l/" + link.code


def responses_through(link_id: int) -> int:
    """Return how many stored responses came through a link."""
    return db.session.scalar(
        select(func.count()).select_from(Response).where(Response.link_id == link_id)
    )


def link_state(link: DistributionLink, day: date | None = None) -> str:
    """Return whether a link takes respondents: "open", "paused", "revoked", "not_yet",
    "closed" or "full"."""
    if link.status != "active":
        return link.status
    day = day or today()
    if link.opens_on and day < link.opens_on:
        return "not_yet"
    if link.closes_on and day > link.closes_on:
        return "closed"
    if link.response_cap is not None and responses_through(link.id) >= link.response_cap:
        return "full"
    return "open"


def refusal(link_id: int | None) -> tuple[DistributionLink, str] | None:
    """Return the link and its state when a link a respondent came through no longer takes
    responses; None when it does (or there is no link)."""
    if link_id is None:
        return None
    link = db.session.get(DistributionLink, link_id)
    if link is None:
        return None
    state = link_state(link)
    return None if state == "open" else (link, state)


def count_open(link: DistributionLink) -> None:
    """Add one to the link's opens today (one row per link and day, updated in place)."""
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(LinkDay).values(link_id=link.id, day=today(), opens=1)
    statement = statement.on_conflict_do_update(
        index_elements=[LinkDay.link_id, LinkDay.day], set_={"opens": LinkDay.opens + 1}
    )
    db.session.execute(statement)
    db.session.commit()


def set_status(link: DistributionLink, status: str) -> None:
    """Pause, resume or revoke a link; a revoked link stays revoked."""
    if status not in LINK_STATUSES:
        raise LinkError(N_("Unknown link status."))
    if link.status == "revoked" and status != "revoked":
        raise LinkError(N_("A revoked link cannot be used again; create a new one."))
    link.status = status
    db.session.commit()


def links_for(user: User, organisation_id: int | None = None) -> list[DistributionLink]:
    """Return the links a user may see: a coordinator's organisation's, else every one."""
    query = select(DistributionLink).order_by(DistributionLink.created_at.desc())
    if user.role == "coordinator":
        query = query.where(DistributionLink.organisation_id == user.organisation_id)
    elif organisation_id is not None:
        query = query.where(DistributionLink.organisation_id == organisation_id)
    return list(db.session.scalars(query))


def qr_code(link: DistributionLink, kind: str, scalable: bool = False) -> bytes:
    """Return the QR code of a link's full address as SVG or PNG bytes.

    :param kind: "svg" or "png".
    :param scalable: an SVG with a viewBox and no fixed size, to fill a printed page.
    """
    code = segno.make(link_url(link), error="m", micro=False)
    out = io.BytesIO()
    if kind == "svg":
        code.save(
            out,
            kind="svg",
            scale=1 if scalable else 8,
            border=4,
            xmldecl=False,
            svgclass="qr",
            omitsize=scalable,
        )
    else:
        code.save(out, kind="png", scale=10, border=4)
    return out.getvalue()


# -- figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Funnel:
    """How far people who came through a link got, as published.

    ``started`` (consented) is the total of ``completed`` and ``in_progress``; all three come
    from one published line (:func:`geo.disclosure.publish`), so none can be worked out from the
    others. ``opened`` is published on its own.
    """

    k: int
    steps: Suppressed
    opened: Suppressed

    @property
    def completion_rate(self) -> float | None:
        """Return completed / started when both are shown."""
        completed, started = self.steps.value("completed"), self.steps.total
        if started and completed is not None:
            return completed / started
        return None


@dataclass(frozen=True)
class LinkFigures:
    """What a link's page shows. ``shown`` is False while fewer than k independent respondents
    answered through the link: then the page shows no figure at all."""

    shown: bool
    funnel: Funnel | None = None
    by_country: Suppressed | None = None
    by_language: Suppressed | None = None
    completed_by_month: Suppressed | None = None
    opened_by_month: Suppressed | None = None


#: Key of respondents who gave no country, in the by-country breakdown.
NOT_GIVEN = "-"
_TALLY = ["n", "key", "sources"]


def _month(moment: Any) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def _response_tally(link_ids: list[int], by: Any = None, label: str = "") -> pd.DataFrame:
    """Tally the responses of links by a column (or not: ``label`` for all): rows (link,
    label, n, key, sources)."""
    parts = (
        func.count(),
        func.sum(Response.record_key),
        func.sum(case((Response.independent, 1), else_=0)),
    )
    where = Response.link_id.in_(link_ids)
    if by is None:
        query = select(Response.link_id, *parts).where(where).group_by(Response.link_id)
        rows = [(i, label, *rest) for i, *rest in db.session.execute(query)]
    else:
        query = select(Response.link_id, by, *parts).where(where).group_by(Response.link_id, by)
        rows = [tuple(row) for row in db.session.execute(query)]
    return pd.DataFrame(rows, columns=["link", "label", *_TALLY])


def _month_of(column: Any) -> Any:
    """Return SQL for the calendar month (YYYY-MM, UTC) of a timestamp column."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _opens_key(link_id: int, label: str, n: int) -> int:
    """Return a cell key for a count of opens, which has no records to take keys from.

    A keyed hash of the cell and its count (HMAC under the secret key): the same count gets the
    same noise every time, and nobody without the key can compute it.
    """
    secret = current_app.config["SECRET_KEY"].encode()
    message = f"opens:{link_id}:{label}:{n}".encode()
    return hmac.new(secret, message, hashlib.sha256).digest()[0]


def _opens_tally(rows: list[tuple[int, str, int]]) -> pd.DataFrame:
    """Tally opens (link, label, n): every open counts as independent, keys from the cell."""
    merged: dict[tuple[int, str], int] = {}
    for link_id, label, n in rows:
        merged[(link_id, label)] = merged.get((link_id, label), 0) + int(n)
    return pd.DataFrame(
        [
            (link_id, label, n, _opens_key(link_id, label, n), n)
            for (link_id, label), n in merged.items()
        ],
        columns=["link", "label", *_TALLY],
    )


def link_figures(link: DistributionLink, policy: Policy) -> LinkFigures:
    """Count opens, starts and completions of a link, by country, language and month.

    Nothing is shown until k independent respondents have answered through the link; then the
    breakdowns fold every category below k into one unlabelled row
    (:func:`geo.disclosure.fold_small`), so not even the names of small groups appear.
    """
    ids = [link.id]
    steps = _funnel_tallies(ids)
    completed_sources = int(steps[steps.label == "completed"]["sources"].sum())
    if completed_sources < policy.k:
        db.session.rollback()
        return LinkFigures(shown=False)
    country = func.coalesce(Response.country, NOT_GIVEN)
    by_country = _response_tally(ids, country)
    by_language = _response_tally(ids, Response.language)
    months = _response_tally(ids, _month_of(Response.submitted_at))
    opens = _opens_by_day(ids)
    db.session.rollback()
    opened = _opens_tally([(i, "all", n) for i, _day, n in opens])
    opened_by_month = _opens_tally([(i, _month(day), n) for i, day, n in opens])
    return LinkFigures(
        shown=True,
        funnel=funnel(
            Tally.from_rows(steps, ["label"], index=FUNNEL_STEPS),
            Tally.from_rows(opened, ["label"], index=["all"]),
            policy,
        ),
        by_country=fold_small(Tally.from_rows(by_country, ["label"]), policy),
        by_language=fold_small(Tally.from_rows(by_language, ["label"]), policy),
        completed_by_month=fold_small(Tally.from_rows(months, ["label"]), policy),
        opened_by_month=fold_small(Tally.from_rows(opened_by_month, ["label"]), policy),
    )


#: The funnel's line: its total is "started".
FUNNEL_STEPS = ("completed", "in_progress")


def funnel(steps: Tally, opened: Tally, policy: Policy) -> Funnel:
    """Publish a link's funnel: completed and in progress on one line with their total.

    A small number still in progress would be the total minus the completed: then the total
    is hidden, which keeps the figure coordinators care about (completed) whenever it holds k.
    """
    return Funnel(policy.k, publish(steps, policy, keep_cells=True), publish(opened, policy))


def _funnel_tallies(link_ids: list[int]) -> pd.DataFrame:
    """Return rows (link, "completed" or "in_progress", n, key, sources) of links."""
    completed = _response_tally(link_ids, label="completed")
    drafts = db.session.execute(
        select(Draft.link_id, func.count(), func.sum(Draft.record_key))
        .where(Draft.link_id.in_(link_ids), Draft.submitted_at.is_(None))
        .group_by(Draft.link_id)
    ).all()
    # Drafts carry no address information: each counts as independent.
    in_progress = pd.DataFrame(
        [(i, "in_progress", n, key or 0, n) for i, n, key in drafts],
        columns=["link", "label", *_TALLY],
    )
    frames = [f for f in (completed, in_progress) if len(f)]
    if not frames:
        return pd.DataFrame(columns=["link", "label", *_TALLY])
    return pd.concat(frames, ignore_index=True).astype({part: "int64" for part in _TALLY})


def _opens_by_day(link_ids: list[int]) -> list[tuple[int, Any, int]]:
    return [
        (int(i), day, int(n))
        for i, day, n in db.session.execute(
            select(LinkDay.link_id, LinkDay.day, LinkDay.opens).where(LinkDay.link_id.in_(link_ids))
        )
    ]


@dataclass(frozen=True)
class Comparison:
    """The analysts' table of links: completed and in-progress counts per link, published."""

    links: list[DistributionLink]
    table: Suppressed
    opened: Suppressed


def compare_links(links: list[DistributionLink], policy: Policy) -> Comparison:
    """Return completed and in-progress counts of each link as one published table.

    Rows are links, columns "completed" and "in_progress"; the row totals are the starts.
    """
    ids = [link.id for link in links]
    steps = _funnel_tallies(ids)
    opens = _opens_by_day(ids)
    db.session.rollback()
    opened = _opens_tally([(i, "all", n) for i, _day, n in opens])
    table = Tally.from_rows(
        steps.astype({"link": "int64"}), ["link", "label"], index=ids, columns=FUNNEL_STEPS
    )
    return Comparison(
        links,
        publish(table, policy),
        publish(Tally.from_rows(opened, ["link"], index=ids), policy),
    )


# -- invitations ------------------------------------------------------------------------------


def create_invitation(
    organisation: Organisation, email: str, created_by: User | None = None
) -> tuple[Invitation, str]:
    """Create a coordinator invitation; return it with its token (shown once)."""
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 254:
        raise LinkError(N_("Enter an email address such as name@example.org."))
    token = secrets.token_urlsafe(32)
    days = current_app.config.get("INVITATION_DAYS", 7)
    invitation = Invitation(
        token_hash=sha256(token),
        organisation_id=organisation.id,
        email=email,
        role="coordinator",
        created_by=created_by.id if created_by else None,
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(invitation)
    db.session.commit()
    return invitation, token


def invitation_url(token: str) -> str:
    """Return an invitation's full address under the configured BASE_URL."""
    return current_app.config["BASE_URL"].rstrip("/") + "/links/invite/" + token


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def find_invitation(token: str) -> Invitation | None:
    """Return the unused, unexpired invitation a token opens, or None."""
    if not token or len(token) > 64:
        return None
    invitation = db.session.scalar(select(Invitation).filter_by(token_hash=sha256(token)))
    if invitation is None or invitation.used_at is not None:
        return None
    if _aware(invitation.expires_at) <= utcnow():
        return None
    return invitation


def accept_invitation(token: str, password: str) -> User:
    """Use an invitation once: create the coordinator account with the chosen password.

    :raises LinkError: the invitation is unknown, used or expired.
    :raises app.accounts.services.AccountError: the password is too short, or the email is taken.
    """
    invitation = find_invitation(token)
    if invitation is None:
        raise LinkError(N_("This invitation is not valid any more. Ask for a new one."))
    accounts.hash_password(password)  # refuse a short password before using the invitation
    # Mark it used in the same transaction as the account: a second request finds no row.
    claimed = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        raise LinkError(N_("This invitation is not valid any more. Ask for a new one."))
    try:
        return accounts.create_user(
            invitation.email, password, invitation.role, invitation.organisation
        )
    except accounts.AccountError:
        db.session.rollback()
        raise


def pending_invitations() -> list[Invitation]:
    """Return the invitations not used yet, newest first."""
    return list(
        db.session.scalars(
            select(Invitation)
            .where(Invitation.used_at.is_(None))
            .order_by(Invitation.created_at.desc())
        )
    )
