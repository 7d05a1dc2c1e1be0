"""Database engine tuning: SQLite that does not lose or refuse writes, PostgreSQL as is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
        connection.exec_driver_sql("BEGIN IMMEDIATE")
