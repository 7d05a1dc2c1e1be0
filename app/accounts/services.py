"""Accounts: passwords, sign-in with throttling, server-side sessions, the audit log."""

from __future__ import annotations

import functools
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import (
    Response,
    after_this_request,
    current_app,
    has_request_context,
    request,
    session,
    url_for,
)
from flask_login import current_user
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import func, select, true, update

from app.accounts import throttle
from app.accounts.models import ROLES, AuditEvent, LoginSession, Organisation, User
from app.accounts.passwords import password_weakness
from app.extensions import db
from app.main.security import sha256
from app.models import utcnow
from forms.i18n import N_

MIN_PASSWORD_LENGTH = 12
#: The cookie that makes a browser known to the account that last signed in with it.
DEVICE_COOKIE = "atlas_device"
_hasher = PasswordHasher()


class AccountError(ValueError):
    """A request about accounts that cannot be met; the message is a msgid."""


class SignInRefused(Exception):
    """Sign-in must wait; no password was looked at (see app.accounts.throttle)."""

    def __init__(self, refusal: throttle.Refusal) -> None:
        super().__init__(refusal.seconds)
        #: Seconds to wait, for Retry-After.
        self.seconds = refusal.seconds
        #: True when the account is locked to browsers it does not know.
        self.account_locked = refusal.account_locked


def hash_password(password: str) -> str:
    """Return an Argon2id hash of a password of at least 12 characters."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(N_("Use a password of at least 12 characters."))
    return _hasher.hash(password)


def check_new_password(password: str, email: str) -> None:
    """Refuse a chosen password that is short, common or trivial for this account.

    :raises AccountError: saying why.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(N_("Use a password of at least 12 characters."))
    weakness = password_weakness(password, email)
    if weakness is not None:
        raise AccountError(weakness)


def password_matches(user: User, password: str) -> bool:
    """Check a password against the stored hash (and re-hash if parameters changed)."""
    if not _verify(user.password_hash, password):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return True


@functools.cache
def dummy_password_hash() -> str:
    """Return a hash of a random password, made once with the parameters of every new hash."""
    return _hasher.hash(secrets.token_urlsafe(16))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# -- organisations and users ------------------------------------------------------------------


def create_organisation(
    slug: str, names: dict[str, str], country: str | None = None, contact: str | None = None
) -> Organisation:
    """Create an organisation; slugs are unique."""
    if db.session.scalar(select(Organisation).filter_by(slug=slug)) is not None:
        raise AccountError(N_("An organisation with this short name exists already."))
    org = Organisation(slug=slug, name=names, country=country, contact=contact)
    db.session.add(org)
    db.session.commit()
    return org


def create_user(
    email: str,
    password: str,
    role: str,
    organisation: Organisation | None = None,
    must_change_password: bool = False,
) -> User:
    """Create a user; a coordinator must belong to an organisation."""
    email = email.strip().lower()
    if role not in ROLES:
        raise AccountError(N_("Unknown role."))
    if role == "coordinator" and organisation is None:
        raise AccountError(N_("A coordinator must belong to an organisation."))
    if "@" not in email or len(email) > 254:
        raise AccountError(N_("Enter an email address such as name@example.org."))
    if db.session.scalar(select(User).filter_by(email=email)) is not None:
        raise AccountError(N_("A user with this email exists already."))
    check_new_password(password, email)
    user = User(
        email=email,
        password_hash=hash_password(password),
        role=role,
        organisation=organisation,
        must_change_password=must_change_password,
    )
    db.session.add(user)
    db.session.commit()
    return user


def ensure_first_admin() -> tuple[str, str] | None:
    """Create an admin with a one-time password when no user exists; return (email, password)."""
    if db.session.scalar(select(func.count()).select_from(User)):
        return None
    password = secrets.token_urlsafe(15)
    email = "admin@localhost"
    create_user(email, password, "admin", must_change_password=True)
    return email, password


def change_password(user: User, current: str, new: str) -> None:
    """Change a user's password after checking the current one; end their other sessions.

    :raises AccountError: when the current password is wrong, or the new one is the current
        (or one-time) password, short, common or trivial.
    """
    if not password_matches(user, current):
        raise AccountError(N_("The current password is not right."))
    # ``current`` matches the stored hash, so comparing the texts tells whether ``new`` does.
    if secrets.compare_digest(new.encode(), current.encode()):
        raise AccountError(N_("The new password must not be the current or one-time password."))
    check_new_password(new, user.email)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    end_other_sessions(user)
    db.session.commit()


def end_other_sessions(user: User) -> None:
    """End every login session of ``user`` but this request's; the caller commits."""
    token = session.get("sid") if has_request_context() else None
    others = LoginSession.token_hash != sha256(token) if token else true()
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None), others)
        .values(ended_at=utcnow())
    )


# -- sign-in ----------------------------------------------------------------------------------


def client_address() -> str:
    """Return the client's address (the proxy's view is configured with ProxyFix, if any)."""
    return request.remote_addr or "unknown"


def authenticate(email: str, password: str) -> User | None:
    """Return the user for valid credentials, else None, counting the failure.

    Every attempt that is not refused costs one Argon2 verification, against a dummy hash when
    the account is unknown or deactivated.

    :raises SignInRefused: when this address or browser must wait, or the account is locked to
        browsers it does not know.
    """
    email = email.strip().lower()
    user = db.session.scalar(select(User).filter_by(email=email))
    attempt = throttle.Attempt(sha256(email), client_address(), known_device(user))
    # A one-time password is random: the account lock, there to stop a distributed guess of a
    # chosen password, does not stand between the owner and the password an admin gave them.
    one_time = user is not None and user.must_change_password
    refusal = throttle.refusal(attempt, lockable=not one_time)
    if refusal is not None:
        raise SignInRefused(refusal)
    if user is None or not user.is_active:
        # As long as checking a real password: the time taken does not tell who has an account.
        _verify(dummy_password_hash(), password)
    elif password_matches(user, password):
        throttle.forget_failures(attempt)
        db.session.commit()
        return user
    throttle.record_failure(attempt)
    record("login_failed", target=f"email:{sha256(email)[:12]}", user=None)
    return None


def _device_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="atlas-device-cookie")


def known_device(user: User | None) -> str | None:
    """Return the SHA-256 of this browser's device cookie nonce if the cookie is ``user``'s."""
    token = request.cookies.get(DEVICE_COOKIE)
    if user is None or not token:
        return None
    max_age = current_app.config["DEVICE_COOKIE_DAYS"] * 86400
    try:
        data = _device_signer().loads(token, max_age=max_age)
    except BadData:
        return None
    if not isinstance(data, dict) or data.get("user") != user.id or not data.get("nonce"):
        return None
    return sha256(str(data["nonce"]))


def remember_device(user: User) -> None:
    """Give this browser a new device cookie for ``user`` with the response (OWASP)."""
    token = _device_signer().dumps({"user": user.id, "nonce": secrets.token_urlsafe(16)})
    config = current_app.config

    @after_this_request
    def set_device_cookie(response: Response) -> Response:
        response.set_cookie(
            DEVICE_COOKIE,
            token,
            max_age=config["DEVICE_COOKIE_DAYS"] * 86400,
            path=url_for("accounts.login_page"),  # sent to the sign-in page only
            secure=config["SESSION_COOKIE_SECURE"],
            httponly=True,
            samesite="Lax",
        )
        return response


def start_session(user: User) -> None:
    """Rotate the session, record a new server-side login session, remember the browser."""
    session.clear()
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(token_hash=sha256(token), user_id=user.id))
    user.last_login_at = utcnow()
    db.session.commit()
    session["sid"] = token
    session.permanent = True
    remember_device(user)


def end_session() -> None:
    """End the current login session on the server and clear the cookie."""
    token = session.get("sid")
    if token:
        row = db.session.scalar(select(LoginSession).filter_by(token_hash=sha256(token)))
        if row is not None and row.ended_at is None:
            row.ended_at = utcnow()
            db.session.commit()
    session.clear()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def load_session_user(user_id: str) -> User | None:
    """Return the signed-in user if the session is live; end it after idle or absolute time."""
    token = session.get("sid")
    if not token:
        return None
    row = db.session.scalar(select(LoginSession).filter_by(token_hash=sha256(token)))
    if row is None or row.ended_at is not None or str(row.user_id) != str(user_id):
        return None
    now = utcnow()
    idle = timedelta(seconds=current_app.config["SESSION_IDLE_TIMEOUT"])
    absolute = timedelta(seconds=current_app.config["SESSION_ABSOLUTE_TIMEOUT"])
    if now - _aware(row.last_seen_at) > idle or now - _aware(row.created_at) > absolute:
        row.ended_at = now
        db.session.commit()
        return None
    if now - _aware(row.last_seen_at) > timedelta(seconds=30):
        row.last_seen_at = now
        db.session.commit()
    user = row.user
    return user if user.is_active else None


# -- audit ------------------------------------------------------------------------------------


def record(
    action: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
    rows: int | None = None,
    user: User | None | bool = True,
) -> None:
    """Add an event to the audit log (who, what, when, filters; never answer values).

    :param user: the acting user; True means the signed-in user.
    """
    if user is True:
        user = current_user if getattr(current_user, "is_authenticated", False) else None
    db.session.add(
        AuditEvent(
            user_id=user.id if user else None,
            action=action,
            target=target,
            details=details or {},
            rows=rows,
            address=client_address() if has_request_context() else None,
        )
    )
    db.session.commit()
