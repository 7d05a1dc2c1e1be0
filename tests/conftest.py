"""Shared fixtures: the app on a real SQLite file and, with TEST_DATABASE_URL, on PostgreSQL.

Every test that takes ``app``, ``client``, ``runner`` or ``db`` runs once per database engine.
PostgreSQL tests run in a throwaway database created on the server and dropped afterwards.

What tests build on, in one place: :data:`PASSWORD` and :func:`log_in` (the real sign-in form),
the ``signed_in`` fixture (a user of a role, signed in), :func:`valid_answers` (a respondent's
complete answers to the bundled questionnaire) and the ``make_response`` fixture (a response
stored through :func:`app.responses.record_submission`, as the survey stores it).
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import select, text

from app import ROOT, create_app
from app.extensions import db as _db
from tests.respondent import SLUG, csrf_token

ENGINES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
BUNDLED = ROOT / "forms" / "questionnaires" / "kazakh-diaspora.yaml"

#: The password of every workspace user a test creates.
PASSWORD = "a long enough password"

#: Complete, valid answers of the bundled questionnaire: a doctor living in Ürümqi.
_VALID_ANSWERS: dict[str, Any] = {
    "residence": {
        "country": "CN",
        "region": "CN-XJ",
        "city": "Үрімжі",
        "city_id": None,
        "geo": [43.83, 87.62],
    },
    "arrival_reason": "born_there",
    "citizenship": "CN",
    "sex": "female",
    "age": 34,
    "education": "master",
    "occupation": "health",
    "occupation_detail": "Дәрігер",
    "skills": ["healthcare", "teaching"],
    "experience": "Ten years in a regional hospital",
    "years_experience": 10,
    "languages": ["kk", "zh"],
    "scripts": ["arabic", "cyrillic"],
    "ties": ["family"],
    "return_intention": "maybe",
    "needs": ["kazakh_language"],
    "proposals": "Open Kazakh classes",
    "contribution": ["mentoring"],
    "association_member": "no",
    "specialist_consent": "no",
    "contact_ok": "no",
}
#: The parts of the residence answer that :func:`valid_answers` takes as keywords.
_PLACE_PARTS = ("country", "region", "city", "city_id", "geo")


def valid_answers(**changes: Any) -> dict[str, Any]:
    """Return complete, valid answers of the bundled questionnaire, with ``changes``.

    ``changes`` replace top-level answers (``sex="male"``, ``residence={...}``); ``country``,
    ``region``, ``city``, ``city_id`` and ``geo`` replace that part of the residence alone.
    """
    place = {part: changes.pop(part) for part in _PLACE_PARTS if part in changes}
    if place and "residence" in changes:
        raise TypeError("give either residence= or its parts, not both")
    answers = copy.deepcopy(_VALID_ANSWERS)
    answers.update(changes)
    answers["residence"] = {**answers["residence"], **place}
    return answers


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


# -- workspace users ----------------------------------------------------------------------------


def log_in(
    client: FlaskClient,
    email: str = "analyst@example.org",
    password: str = PASSWORD,
    next_url: str | None = None,
):
    """Post the sign-in form (with the CSRF token of the page); return the response."""
    page = client.get("/account/login")
    url = "/account/login" + (f"?next={next_url}" if next_url else "")
    return client.post(
        url, data={"csrf_token": csrf_token(page.text), "email": email, "password": password}
    )


@pytest.fixture
def analyst(db) -> Any:
    """An analyst, ``analyst@example.org``, not signed in."""
    from app.accounts import services as accounts

    return accounts.create_user("analyst@example.org", PASSWORD, "analyst")


@pytest.fixture
def signed_in(client: FlaskClient, db) -> Callable[..., Any]:
    """Return ``signed_in(role, organisation=None, *, client=None, email=None) -> User``.

    It creates a user with ``role`` (``<role>@example.org`` unless ``email`` is given; a user
    already there is reused), a coordinator in an association unless ``organisation`` is given,
    and signs ``client`` (the test's client by default) in through the sign-in form.
    """
    from app.accounts import services as accounts
    from app.accounts.models import Organisation, User

    default_client = client

    def sign(
        role: str,
        organisation: Any = None,
        *,
        client: FlaskClient | None = None,
        email: str | None = None,
    ) -> User:
        email = email or f"{role}@example.org"
        user = db.session.scalar(select(User).filter_by(email=email))
        if user is None:
            if role == "coordinator" and organisation is None:
                organisation = db.session.scalar(select(Organisation).filter_by(slug="assoc"))
                organisation = organisation or accounts.create_organisation(
                    "assoc", {"en": "An association"}, "TR"
                )
            user = accounts.create_user(email, PASSWORD, role, organisation)
        assert user.role == role, (email, user.role)
        response = log_in(client or default_client, email)
        assert response.status_code == 302, response.status_code
        return user

    return sign


# -- stored responses ---------------------------------------------------------------------------


@pytest.fixture
def make_response(db) -> Callable[..., Any]:
    """Return ``make_response(language="kk", link_id=None, columns=None, submission_id=None,
    **changes)``, which stores :func:`valid_answers` with ``changes`` through the real service
    and returns what it returns (``response_id``, ``receipt``, ``created``).

    ``columns`` are set on the stored row afterwards (``{"created_at": ...}``).
    """
    from app import questionnaires, responses
    from app.models import Response

    def store(
        language: str = "kk",
        link_id: int | None = None,
        columns: dict[str, Any] | None = None,
        submission_id: str | None = None,
        **changes: Any,
    ):
        version = questionnaires.latest(questionnaires.find(SLUG))
        stored = responses.record_submission(
            version,
            submission_id or str(uuid.uuid4()),
            valid_answers(**changes),
            language=language,
            consent_version="1",
            consent_language=language,
            consented_at=dt.datetime.now(dt.UTC),
            link_id=link_id,
        )
        if columns:
            row = db.session.get(Response, stored.response_id)
            for key, value in columns.items():
                setattr(row, key, value)
            db.session.commit()
        return stored

    return store


def seed_completions(link: Any, n: int, country: str = "CN", lang: str = "kk") -> None:
    """Store ``n`` responses that came through a distribution link, each from its own draft
    (as a respondent following the link does). Needs an app context."""
    from app import questionnaires, responses
    from app.survey import services as survey_services

    version = questionnaires.latest(questionnaires.find(SLUG))
    for _ in range(n):
        draft, _token = survey_services.start_draft(version, lang, "1", link_id=link.id)
        responses.record_submission(
            version,
            draft.submission_id,
            {"residence": {"country": country}},
            language=lang,
            consent_version="1",
            consent_language=lang,
            consented_at=draft.consented_at,
            link_id=link.id,
        )
        survey_services.finish_draft(draft)
