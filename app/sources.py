"""Which responses count towards the k respondents a published cell needs.

Disclosure control (:mod:`geo.disclosure`) publishes a cell only when it holds k *independent*
respondents. Without this, one person could send k-1 answers naming a small town and make the
one real respondent there visible on a map. So a response is independent unless another one came
from the same address within ``SOURCE_WINDOW_MINUTES`` before it, or the address withdrew a
response within ``WITHDRAWAL_HOLD_HOURS``: a burst from one address, or a withdraw-and-resend,
counts once. Such responses are still stored and counted; they just never make a cell reach k.

Nothing here stores an address: only a keyed hash of it (an IPv6 address by its /64, which one
subscriber usually holds whole), kept until its window ends. Households and internet cafés behind
one address count once per window too; that hides more, never less.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import UTC, datetime, timedelta

from flask import current_app, has_request_context, request
from sqlalchemy import case, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import SubmissionSource, utcnow


def client_source() -> str | None:
    """Return the keyed hash of the requesting client's address, or None outside a request."""
    if not has_request_context() or not request.remote_addr:
        return None
    return source_hash(request.remote_addr)


def source_hash(address: str) -> str:
    """Return the keyed hash of an address (IPv6 by its /64 prefix)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        text = address
    else:
        mapped = getattr(parsed, "ipv4_mapped", None)
        if mapped is not None:
            text = str(mapped)
        elif parsed.version == 6:
            text = str(ipaddress.ip_network(f"{parsed}/64", strict=False))
        else:
            text = str(parsed)
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"source:" + text.encode(), hashlib.sha256).hexdigest()[:32]


def note_submission(source: str | None, now: datetime | None = None) -> bool:
    """Record a response from a source in the current transaction; return if it is independent.

    :param source: :func:`client_source` of the request (None: no address, e.g. the CLI).
    """
    if source is None:
        return True
    window = timedelta(minutes=current_app.config["SOURCE_WINDOW_MINUTES"])
    previous = _extend(source, (now or utcnow()) + window, now)
    return previous is None or previous <= (now or utcnow())


def note_withdrawal(source: str | None, now: datetime | None = None) -> None:
    """Record a withdrawal from a source: what it sends for a while after is not independent."""
    if source is None:
        return
    hold = timedelta(hours=current_app.config["WITHDRAWAL_HOLD_HOURS"])
    _extend(source, (now or utcnow()) + hold, now)


def _extend(source: str, until: datetime, now: datetime | None) -> datetime | None:
    """Make a source's window last at least until ``until``; return when it ended before.

    One statement (an upsert returning the old expiry), so two requests from one address at the
    same moment cannot both find it quiet: PostgreSQL locks the row for the second, SQLite has
    one writer.
    """
    now = now or utcnow()
    db.session.execute(delete(SubmissionSource).where(SubmissionSource.expires_at < now))
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(SubmissionSource).values(
        source_hash=source, expires_at=until, previous_expiry=None
    )
    statement = statement.on_conflict_do_update(
        index_elements=[SubmissionSource.source_hash],
        set_={
            "previous_expiry": SubmissionSource.expires_at,
            "expires_at": case(
                (SubmissionSource.expires_at > until, SubmissionSource.expires_at), else_=until
            ),
        },
    ).returning(SubmissionSource.previous_expiry)
    previous = db.session.execute(statement).scalar()
    if previous is not None and previous.tzinfo is None:
        previous = previous.replace(tzinfo=UTC)  # SQLite gives back naive UTC
    return previous
