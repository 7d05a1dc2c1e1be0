"""Shared fixtures: the app on a real SQLite file and, with TEST_DATABASE_URL, on PostgreSQL.

Every test that takes ``app``, ``client``, ``runner`` or ``db`` runs once per database engine.
PostgreSQL tests run in a throwaway database created on the server and dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import text

from app import ROOT, create_app
from app.extensions import db as _db

ENGINES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
BUNDLED = ROOT / "forms" / "questionnaires" / "kazakh-diaspora.yaml"


class FreshClient(FlaskClient):
    """A test client whose every request starts with an empty ``g``, as in production.

    Tests that hold an app context (the ``db`` fixture) share it with the client's requests,
    so per-request caches on ``g`` (the signed-in user, the language) would leak between them.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Workspace tests read English text unless they ask for a language themselves.
        self.environ_base.setdefault("HTTP_ACCEPT_LANGUAGE", "en")

    def open(self, *args, **kwargs):
        if has_app_context():
            g.__dict__.clear()
        return super().open(*args, **kwargs)


def _server_url() -> str:
    url = os.environ["TEST_DATABASE_URL"]
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="session", params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Yield a URL of an empty, migrated database of one engine, removed afterwards."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "atlas.db"
        url = f"sqlite:///{path}"
        _migrate(url)
        yield url
        return
    name = f"atlas_test_{uuid.uuid4().hex[:12]}"
    server = _server_url()
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = server.rsplit("/", 1)[0] + "/" + name
    try:
        _migrate(url)
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        _db.engine.dispose()


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Yield the app on a clean database holding the bundled questionnaire."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret-key",
            "SESSION_COOKIE_SECURE": False,
            "BASE_URL": "http://atlas.example",
            "RATELIMIT_ENABLED": False,
            "MIN_FILL_SECONDS": 0,  # tests post the consent form at once
        }
    )
    from app.extensions import limiter

    app.test_client_class = FreshClient
    with app.app_context():
        limiter.reset()  # counters live in the process's memory: start every test from zero
        _clear()
        from app.questionnaires import load_file

        load_file(BUNDLED)
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def _clear() -> None:
    """Empty every table, children first."""
    for table in reversed(_db.metadata.sorted_tables):
        _db.session.execute(text(f"DELETE FROM {table.name}"))
    _db.session.commit()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def db(app: Flask):
    """The database session inside an app context."""
    with app.app_context():
        yield _db
