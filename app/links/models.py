"""Distribution links, how often they are opened, and invitations for coordinators.

``Response.link_id`` and ``Draft.link_id`` (app/models.py) hold a :class:`DistributionLink` id as
a plain indexed integer, without a foreign key: a link is never deleted (it is revoked and kept,
so the figures of a campaign stay whole), and the respondent's tables stay free of a constraint
that would make writing a response depend on the workspace's tables.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Organisation, User
from app.extensions import db
from app.models import Survey, utcnow

#: What a link can be set to by people; "closed" and "full" follow from its dates and cap.
LINK_STATUSES = ("active", "paused", "revoked")


class DistributionLink(db.Model):
    """A short link an organisation shares to bring respondents to a questionnaire."""

    __tablename__ = "distribution_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 72 random bits, URL-safe (secrets.token_urlsafe(9)); it grants nothing but attribution.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True)
    #: The organisation's own name for the link ("Friday prayers flyer", "Telegram group").
    label: Mapped[str] = mapped_column(String(200))
    #: BCP 47 tag the questionnaire opens in; None lets the respondent's browser choose.
    language: Mapped[str | None] = mapped_column(String(16))
    #: ISO 3166-1 alpha-2 of the country the link is meant for (for the organisation's figures).
    country: Mapped[str | None] = mapped_column(String(2))
    #: First and last day (UTC) the link takes respondents; None means no limit.
    opens_on: Mapped[date | None] = mapped_column(Date)
    closes_on: Mapped[date | None] = mapped_column(Date)
    #: The link stops taking responses once this many came through it.
    response_cap: Mapped[int | None] = mapped_column(Integer)
    #: One of LINK_STATUSES.
    status: Mapped[str] = mapped_column(String(8), default="active")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    survey: Mapped[Survey] = relationship()
    creator: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<DistributionLink {self.id} {self.label!r} {self.status}>"


class LinkDay(db.Model):
    """How many times a link was opened on one day (no address or other trace is kept)."""

    __tablename__ = "link_day"

    link_id: Mapped[int] = mapped_column(ForeignKey("distribution_link.id"), primary_key=True)
    #: The UTC day.
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    opens: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<LinkDay {self.link_id} {self.day} {self.opens}>"


class Invitation(db.Model):
    """A single-use invitation to become an organisation's coordinator; it expires."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the token; the token itself is shown once, in the invitation link.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: Lower-cased; the account is created under it.
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16), default="coordinator")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: Set when the invitation is accepted; it cannot be used again.
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    organisation: Mapped[Organisation] = relationship()

    def __repr__(self) -> str:
        return f"<Invitation {self.id} {self.organisation_id} used={self.used_at is not None}>"


__all__ = ["LINK_STATUSES", "DistributionLink", "Invitation", "LinkDay"]
