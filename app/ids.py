"""Database ids in addresses, queries and forms: only numbers a row can have reach the database.

SQLite refuses a Python int above 2**63 - 1 with ``OverflowError``, and every id column is a
PostgreSQL ``integer`` (see ``migrations/versions``), so an id outside 1..2**31 - 1 names no row
on either engine: an address holding one is not found, a form holding one is refused.
"""

from __future__ import annotations

from typing import Any

from flask import abort, request
from werkzeug.routing import IntegerConverter, Map

from app.extensions import db

#: The largest id a row can have (PostgreSQL ``integer``, the id columns' type).
MAX_ID = 2**31 - 1


def parse_id(value: Any) -> int | None:
    """Return the database id a query or form value names, or None when it can name no row."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        # isdecimal() also takes other scripts' digits ("٣"), which int() reads: ASCII only.
        if not (value.isascii() and value.isdecimal() and len(value) <= len(str(MAX_ID))):
            return None
        value = int(value)
    if not isinstance(value, int):
        return None
    return value if 0 < value <= MAX_ID else None


class IdConverter(IntegerConverter):
    """``<id:name>`` in a route: an integer in 1..MAX_ID, a row that can exist; else a 404."""

    regex = r"[0-9]+"  # ASCII digits only: int() also reads other scripts' digits

    def __init__(self, map: Map) -> None:
        super().__init__(map, min=1, max=MAX_ID)


def id_from_query(name: str) -> int | None:
    """Return the id a query parameter names, None when it is absent or empty.

    A value that can name no row (``?org=99999999999999999999``, ``?org=x``) is a 404: the
    thing asked for does not exist.
    """
    raw = request.args.get(name)
    if not raw:
        return None
    number = parse_id(raw)
    if number is None:
        abort(404)
    return number


def find_row(model: type[Any], value: Any) -> Any:
    """Return the row of ``model`` whose id a form value names, or None when none can have it."""
    number = parse_id(value)
    return db.session.get(model, number) if number is not None else None
