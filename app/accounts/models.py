"""People who work in the workspace: organisations, users, their sessions, and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models import JSONDocument, utcnow

#: What each role may do; see app.accounts.access for the checks.
ROLES = ("admin", "analyst", "coordinator")


class Organisation(db.Model):
    """A diaspora association or partner body; every coordinator belongs to one."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    #: The name per language, e.g. {"kk": "...", "en": "..."}.
    name: Mapped[dict[str, str]] = mapped_column(JSONDocument)
    #: ISO 3166-1 alpha-2 of the country it works in.
    country: Mapped[str | None] = mapped_column(String(2))
    contact: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organisation")

    def display_name(self, lang: str) -> str:
        """Return the name in ``lang``, else any name given."""
        return self.name.get(lang) or self.name.get("en") or next(iter(self.name.values()), "")

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"


class User(UserMixin, db.Model):
    """A workspace account: admin, analyst or coordinator."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lower-cased.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    #: Argon2id hash.
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Set for the first admin's one-time password and after an admin reset.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    organisation: Mapped[Organisation | None] = relationship(back_populates="users")

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.is_active_account

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class LoginSession(db.Model):
    """A signed-in session, kept on the server so logout and timeouts end it for certain."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the random session id carried in the signed cookie.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<LoginSession {self.id} user {self.user_id}>"


class LoginFailure(db.Model):
    """A failed sign-in, kept for a day to slow down and lock out password guessing.

    Counted per account and address (or per account and known browser) for growing delays,
    per account over browsers it has never signed in with for the account lock, and per address
    over every account for password spraying: see app.accounts.throttle.
    """

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_account_at", "account", "at"),
        Index("ix_login_failure_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Indexed alone too: failures past LOGIN_FAILURE_MEMORY are deleted by age.
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    #: SHA-256 of the lower-cased e-mail typed, known or not: typed text is never stored.
    account: Mapped[str] = mapped_column(String(64))
    #: The client's address (as the trusted proxies forward it, see PROXY_FIX_X_FOR).
    address: Mapped[str] = mapped_column(String(64))
    #: SHA-256 of the nonce of the device cookie the browser showed for this account, if any.
    device: Mapped[str | None] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"<LoginFailure {self.account[:12]} from {self.address}>"


class AuditEvent(db.Model):
    """Who did what, when, with which filters: never the answers themselves."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: A verb such as "export", "view_response", "registry_search", "login_failed".
    action: Mapped[str] = mapped_column(String(64), index=True)
    #: What it was done to: "survey:kazakh-diaspora", "response:123", "user:4".
    target: Mapped[str | None] = mapped_column(String(200))
    #: Filters and counts, never answer values.
    details: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    address: Mapped[str | None] = mapped_column(String(64))
    #: Number of rows involved, when that makes sense.
    rows: Mapped[int | None] = mapped_column(Integer)

    user: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} {self.target}>"
