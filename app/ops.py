"""Backup and restore: ``flask --app wsgi atlas backup FILE`` and ``atlas restore FILE``.

SQLite is copied with SQLite's online backup API, which reads one consistent snapshot while
other processes keep writing (WAL mode lets them). PostgreSQL is dumped with ``pg_dump -Fc``
from a snapshot exported by the same transaction that counts the rows, so the counts printed
are exactly what the file holds, and restored with ``pg_restore`` in one transaction.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import click
import psycopg
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from app.extensions import db
from app.jobs import enqueue, job

#: Tables whose row counts a backup reports, parents first.
COUNTED = ("survey", "survey_version", "draft", "response", "withdrawn_submission")
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore could not be made."""


@dataclass(frozen=True)
class BackupReport:
    """What a backup file holds: its path, the engine and the row count of each table."""

    path: Path
    engine: str
    counts: dict[str, int]

    def describe(self) -> str:
        """Return one line for the console."""
        figures = ", ".join(f"{table} {n}" for table, n in self.counts.items())
        return f"{self.path} ({self.engine}): {figures}"


def _url():
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _libpq_url(url) -> str:
    """Return the URL as libpq (psql, pg_dump, psycopg) reads it."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _count_sqlite(conn: sqlite3.Connection) -> dict[str, int]:
    # Table names come from COUNTED above, never from input.
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED}  # noqa: S608


def backup_database(target: str | Path) -> BackupReport:
    """Write a consistent copy of the app's database to ``target``.

    :return: the file and the row counts it holds.
    :raises BackupError: when the database cannot be copied.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    url = _url()
    if url.get_backend_name() == "sqlite":
        return _backup_sqlite(_sqlite_path(url), target)
    if url.get_backend_name() == "postgresql":
        return _backup_postgresql(_libpq_url(url), target)
    raise BackupError(f"no backup method for {url.get_backend_name()}")


def _backup_sqlite(source: Path, target: Path) -> BackupReport:
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        # One step (pages=-1): a single read transaction, so the copy is one snapshot; WAL mode
        # lets writers carry on meanwhile.
        src.backup(dst, pages=-1)
        if dst.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError("the copy failed SQLite's integrity check")
        counts = _count_sqlite(dst)
    finally:
        dst.close()
        src.close()
    partial.replace(target)
    return BackupReport(target, "sqlite", counts)


def _backup_postgresql(dsn: str, target: Path) -> BackupReport:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError("pg_dump is not installed (Debian: apt-get install postgresql-client)")
    partial = target.with_name(target.name + ".partial")
    with psycopg.connect(dsn) as conn:
        # Count and dump the same snapshot: the counts describe exactly what the file holds.
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608 - fixed names
            for t in COUNTED
        }
        command = [pg_dump, "-Fc", "--no-owner", "--no-acl", f"--snapshot={snapshot}"]
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [*command, "-f", str(partial), f"--dbname={dsn}"],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode:
        partial.unlink(missing_ok=True)
        raise BackupError("pg_dump failed: " + done.stderr.strip())
    partial.replace(target)
    return BackupReport(target, "postgresql", counts)


def restore_database(source: str | Path) -> BackupReport:
    """Replace the app's database with the contents of a backup file.

    :return: the row counts now in the database.
    :raises BackupError: when the file is not a backup of this database engine.
    """
    source = Path(source)
    with source.open("rb") as f:
        head = f.read(16)
    url = _url()
    engine = url.get_backend_name()
    # Close the app's own connections first so nothing holds the old tables open.
    db.session.remove()
    db.engine.dispose()
    if engine == "sqlite":
        if head != SQLITE_MAGIC:
            raise BackupError(f"{source} is not a SQLite backup")
        return _restore_sqlite(source, _sqlite_path(url))
    if engine == "postgresql":
        if not head.startswith(PG_DUMP_MAGIC):
            raise BackupError(f"{source} is not a pg_dump custom-format backup")
        return _restore_postgresql(source, _libpq_url(url))
    raise BackupError(f"no restore method for {engine}")


def _restore_sqlite(source: Path, target: Path) -> BackupReport:
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target, timeout=30)
    try:
        if src.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"{source} fails SQLite's integrity check")
        # The backup API writes the whole file under one lock, pages and schema alike.
        src.backup(dst, pages=-1)
        counts = _count_sqlite(dst)
    finally:
        dst.close()
        src.close()
    return BackupReport(target, "sqlite", counts)


def _restore_postgresql(source: Path, dsn: str) -> BackupReport:
    pg_restore = shutil.which("pg_restore")
    if pg_restore is None:
        raise BackupError("pg_restore is not installed (Debian: apt-get install postgresql-client)")
    done = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-acl",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={dsn}",
            str(source),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise BackupError("pg_restore failed: " + done.stderr.strip())
    with psycopg.connect(dsn) as conn:
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608 - fixed names
            for t in COUNTED
        }
    return BackupReport(source, "postgresql", counts)


def _holds_responses() -> bool:
    from sqlalchemy import func, select

    from app.models import Response

    try:
        return bool(db.session.scalar(select(func.count()).select_from(Response)))
    except Exception:  # noqa: BLE001 - an empty or unmigrated database holds nothing to lose
        return False
    finally:
        db.session.rollback()


@job("backup")
def backup_job(path: str) -> dict[str, object]:
    """Back up the database to ``path``; return the file and its row counts."""
    report = backup_database(path)
    return {"path": str(report.path), "engine": report.engine, "counts": report.counts}


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--background", is_flag=True, help="Queue the backup for `atlas worker`.")
@with_appcontext
def backup(file: Path, background: bool) -> None:
    """Copy the database to FILE while the site keeps running (SQLite copy or pg_dump -Fc)."""
    if background:
        queued = enqueue("backup", path=str(file.resolve()))
        click.echo(f"queued backup job {queued.id}")
        return
    try:
        report = backup_database(file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("backup " + report.describe())


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace a database that holds responses, unasked.")
@with_appcontext
def restore(file: Path, yes: bool) -> None:
    """Replace the database with the backup in FILE (stop the site first)."""
    if not yes and _holds_responses():
        click.confirm("The database holds responses; replace them with the backup?", abort=True)
    try:
        report = restore_database(file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("restored " + report.describe())
