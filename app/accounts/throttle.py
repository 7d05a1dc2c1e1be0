"""Sign-in throttling that slows a password guesser and never locks the owner out.

What OWASP's Authentication Cheat Sheet describes, with the settings in app/config.py:

- **Growing delays per account and address.** After ``LOGIN_FAILURES_BEFORE_DELAY`` failures
  from one address on one account, that pair waits ``LOGIN_DELAY`` seconds after its last
  failure, then twice as long after each further one, up to ``LOGIN_DELAY_MAX``. A browser
  that shows the account's device cookie is counted by that cookie instead of its address, so
  a guesser sharing the owner's address (an office, a proxy) does not slow the owner down.
- **An account lock for unknown browsers.** ``LOGIN_ACCOUNT_LOCK_FAILURES`` failures on one
  account from browsers without its device cookie within ``LOGIN_LOCK_WINDOW`` seconds, from
  any number of addresses, refuse such browsers until the failures age out. Browsers the owner
  signed in with before still get in with the right password (OWASP's "device cookies").
- **An address lock** against password spraying: ``LOGIN_ADDRESS_LOCK_FAILURES`` failures from
  one address over every account, from browsers without a device cookie, in the same window.

A refused attempt looks at no password and counts as no failure, so a lock expires once the
guessing stops. Failures are rows in the database, so every worker and server counts the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, and_, delete, func, select

from app.accounts.models import LoginFailure
from app.extensions import db
from app.models import utcnow

#: Doubling stops long before this; it only keeps the arithmetic small under a long attack.
_MAX_DOUBLINGS = 32


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt: which account, from where, from which known browser."""

    #: SHA-256 of the lower-cased e-mail typed.
    account: str
    address: str
    #: SHA-256 of the nonce of a device cookie valid for this account, if the browser sent one.
    device: str | None = None


@dataclass(frozen=True)
class Refusal:
    """How long an attempt must wait, and whether the account lock is the reason."""

    seconds: int
    account_locked: bool


def refusal(attempt: Attempt, lockable: bool = True) -> Refusal | None:
    """Return why and how long ``attempt`` must wait, or None if it may try now.

    :param lockable: False when the account lock must not apply (the account holds a random
        one-time password, which no distributed guessing can find).
    """
    config = current_app.config
    now = utcnow()
    waits = [_growing_delay(attempt, now)]
    account_lock = 0
    if attempt.device is None:
        unknown = LoginFailure.device.is_(None)
        if lockable:
            account_lock = _lock(
                and_(LoginFailure.account == attempt.account, unknown),
                config["LOGIN_ACCOUNT_LOCK_FAILURES"],
                now,
            )
        waits += [
            account_lock,
            _lock(
                and_(LoginFailure.address == attempt.address, unknown),
                config["LOGIN_ADDRESS_LOCK_FAILURES"],
                now,
            ),
        ]
    seconds = max(waits)
    return Refusal(seconds, account_lock > 0) if seconds > 0 else None


def record_failure(attempt: Attempt) -> None:
    """Count a failed attempt (and forget failures past memory); the caller commits."""
    now = utcnow()
    memory = timedelta(seconds=current_app.config["LOGIN_FAILURE_MEMORY"])
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < now - memory))
    db.session.add(
        LoginFailure(
            at=now, account=attempt.account, address=attempt.address, device=attempt.device
        )
    )


def forget_failures(attempt: Attempt) -> None:
    """Forget the failures of this account from this address or browser; the caller commits."""
    db.session.execute(delete(LoginFailure).where(_pair(attempt)))


def _pair(attempt: Attempt) -> ColumnElement[bool]:
    """Select the failures of this account from this known browser, else from this address."""
    if attempt.device is not None:
        return and_(LoginFailure.account == attempt.account, LoginFailure.device == attempt.device)
    return and_(
        LoginFailure.account == attempt.account,
        LoginFailure.address == attempt.address,
        LoginFailure.device.is_(None),
    )


def _growing_delay(attempt: Attempt, now: datetime) -> int:
    """Return the seconds this account and address (or browser) still has to wait."""
    config = current_app.config
    since = now - timedelta(seconds=config["LOGIN_FAILURE_MEMORY"])
    count, last = db.session.execute(
        select(func.count(), func.max(LoginFailure.at)).where(
            _pair(attempt), LoginFailure.at > since
        )
    ).one()
    allowed = config["LOGIN_FAILURES_BEFORE_DELAY"]
    if count < allowed or last is None:
        return 0
    doublings = min(count - allowed, _MAX_DOUBLINGS)
    delay = min(config["LOGIN_DELAY"] * 2**doublings, config["LOGIN_DELAY_MAX"])
    return _seconds_until(_aware(last) + timedelta(seconds=delay), now)


def _lock(failures: ColumnElement[bool], threshold: int, now: datetime) -> int:
    """Return the seconds until fewer than ``threshold`` of ``failures`` fall in the window."""
    window = timedelta(seconds=current_app.config["LOGIN_LOCK_WINDOW"])
    # The lock lifts when the threshold-th newest failure leaves the window.
    nth_newest = db.session.scalar(
        select(LoginFailure.at)
        .where(failures, LoginFailure.at > now - window)
        .order_by(LoginFailure.at.desc())
        .offset(threshold - 1)
        .limit(1)
    )
    return 0 if nth_newest is None else _seconds_until(_aware(nth_newest) + window, now)


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(0, math.ceil((moment - now).total_seconds()))


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
