"""Database engine tuning: SQLite that does not lose or refuse writes, PostgreSQL as is."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine


def tune_engine(engine: Engine, config: Mapping[str, Any]) -> None:
    """Open SQLite in WAL mode with full sync, foreign keys and immediate write locks.

    pysqlite starts transactions lazily, so two requests that read and then write can both hold
    a read snapshot and one of them fails with "database is locked" when it tries to write,
    whatever the busy timeout. Taking the write lock at BEGIN (``BEGIN IMMEDIATE``) makes a
    writer wait its turn instead; WAL keeps readers of committed data unblocked meanwhile.
    """
    if engine.dialect.name != "sqlite":
        return
    timeout_ms = int(config.get("SQLITE_BUSY_TIMEOUT", 30) * 1000)

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {timeout_ms}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN" if _reads_only() else "BEGIN IMMEDIATE")


def keep_private(engine: Engine) -> None:
    """Create a SQLite database file readable by its owner only (0600), before SQLite does.

    SQLite creates the file with the process's umask, usually leaving it readable by every local
    user, and gives its -wal, -shm and -journal files the mode of the database file: one created
    0600 keeps all of them private, as the secret key next to it is. An existing file keeps the
    mode it has (an operator may have chosen it).
    """
    if engine.dialect.name != "sqlite":
        return
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return

    @event.listens_for(engine, "do_connect")
    def create_private(*_args: Any) -> None:
        try:
            os.close(os.open(Path(database), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except (FileExistsError, FileNotFoundError):  # there already, or no folder: SQLite says
            pass


#: Blueprints whose GET views only read, or call begin_write before writing (audited). Others
#: (link opens counted on GET, staff session upkeep) keep BEGIN IMMEDIATE until they do too.
READ_ONLY_GET_BLUEPRINTS = frozenset({"survey", "main", "api"})


def _reads_only() -> bool:
    """Return whether the transaction being opened belongs to a page view that only reads.

    Taking the write lock at BEGIN in every transaction made every request, page views
    included, wait in one queue for one lock held while templates render: under load that
    queue, not the work, set the response time. WAL lets readers run beside the writer, so a
    GET or HEAD request reads in a deferred transaction unless it announced a write with
    :func:`begin_write`.
    """
    return (
        has_request_context()
        and request.method in ("GET", "HEAD")
        and request.blueprint in READ_ONLY_GET_BLUEPRINTS
        and not g.get("atlas_write_lock", False)
    )


def begin_write(session: Any) -> None:
    """Make what follows in this request write under SQLite's write lock taken at BEGIN.

    A GET request that writes (saving a language switch) calls this before it reads what it
    will change: its read transaction ends and the next one begins with ``BEGIN IMMEDIATE``.
    Upgrading a deferred transaction instead fails at once with SQLITE_BUSY when another
    writer committed since it began, whatever the busy timeout. No-op outside GET requests.
    """
    if _reads_only():
        g.atlas_write_lock = True
        session.commit()
