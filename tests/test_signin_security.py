"""Sign-in that an attacker cannot turn against its users (issue 10).

Throttling slows the guesser, never the owner at a browser they used before; behind a reverse
proxy each client counts for itself; an unknown e-mail costs the same Argon2 check as a known
one; a password change ends the other sessions and refuses weak passwords; the SQLite file is
private. Time is moved on by moving recorded failures into the past, never by sleeping.
"""

from __future__ import annotations

import os
import re
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher, extract_parameters
from sqlalchemy import select

from app import ROOT, create_app
from app.accounts import services
from app.accounts.models import AuditEvent, LoginFailure
from app.admin.services import one_time_password
from app.extensions import db as _db
from tests.conftest import PASSWORD, log_in
from tests.respondent import csrf_token

NEW_PASSWORD = "another long enough password"
WRONG = "not the password at all"


def browser(app, address="192.0.2.10", forwarded_for=None):
    """Return a test client standing for one browser at one network address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    if forwarded_for:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client


def sign_out(client):
    page = client.get("/account/password")
    client.post("/account/logout", data={"csrf_token": csrf_token(page.text)})


def change_password(client, current, new, language="en"):
    headers = {"Accept-Language": language}
    page = client.get("/account/password", headers=headers)
    return client.post(
        "/account/password",
        data={"csrf_token": csrf_token(page.text), "current": current, "new": new},
        headers=headers,
    )


def age_failures(db, seconds):
    """Move every recorded sign-in failure ``seconds`` into the past: the clock moving on."""
    for failure in db.session.scalars(select(LoginFailure)):
        failure.at -= timedelta(seconds=seconds)
    db.session.commit()


def attack(app, failures=50):
    """Guess the analyst's password ``failures`` times, five guesses from each of many addresses."""
    statuses = []
    for n in range(failures):
        attacker = browser(app, f"203.0.113.{n // 5}")
        statuses.append(log_in(attacker, password=f"guess number {n:04d}").status_code)
    return statuses


# -- 1. throttling that slows the attacker, not the owner -----------------------------------------


def test_an_attack_from_many_addresses_does_not_stop_the_owner_at_a_known_browser(app, analyst):
    owner = browser(app, "192.0.2.10")
    assert log_in(owner).status_code == 302  # this browser is known from now on
    sign_out(owner)
    statuses = attack(app, failures=50)
    assert set(statuses) <= {401, 429}
    # A browser that never signed in to this account is refused, even with the right password...
    stranger = log_in(browser(app, "198.51.100.7"))
    assert stranger.status_code == 429
    assert "locked" in stranger.text
    assert int(stranger.headers["Retry-After"]) > 0
    # ...while the owner, at the browser they used before, still gets in.
    assert log_in(owner).status_code == 302


def test_a_browser_known_to_another_account_or_a_forged_cookie_does_not_pass_the_lock(app, analyst):
    services.create_user("guesser@example.org", PASSWORD, "analyst")
    guesser = browser(app, "203.0.113.99")
    assert log_in(guesser, "guesser@example.org").status_code == 302  # known to their account
    sign_out(guesser)
    attack(app, failures=50)
    assert log_in(guesser).status_code == 429
    forger = browser(app, "203.0.113.98")
    forger.set_cookie(services.DEVICE_COOKIE, "eyJ1c2VyIjoxfQ.forged.signature", path="/account")
    assert log_in(forger).status_code == 429


def test_failures_from_one_address_make_it_wait_longer_each_time(app, db, analyst):
    app.config["LOGIN_DELAY_MAX"] = 300
    attacker = browser(app, "203.0.113.5")
    for _ in range(5):
        assert log_in(attacker, password=WRONG).status_code == 401
    waits = []
    for step in range(4):
        refused = log_in(attacker)  # even the right password waits its turn
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        age_failures(db, waits[-1])
        assert log_in(attacker, password=WRONG).status_code == 401, step
    # 1 minute, then 2, then 4, capped at LOGIN_DELAY_MAX (a little less as the test runs).
    for wait, expected in zip(waits, (60, 120, 240, 300), strict=True):
        assert expected - 10 < wait <= expected
    # The owner at their own address is not slowed at all.
    assert log_in(browser(app, "192.0.2.10")).status_code == 302


def test_the_account_lock_expires(app, db, analyst):
    attack(app, failures=50)
    assert log_in(browser(app, "198.51.100.7")).status_code == 429
    age_failures(db, 15 * 60)
    assert log_in(browser(app, "198.51.100.7")).status_code == 302


def test_an_admin_reset_lets_the_owner_in_from_a_new_browser_during_an_attack(app, db, analyst):
    services.create_user("admin@example.org", PASSWORD, "admin")
    admin = browser(app, "192.0.2.20")
    assert log_in(admin, "admin@example.org").status_code == 302
    attack(app, failures=50)
    token = csrf_token(admin.get(f"/admin/users/{analyst.id}").text)
    page = admin.post(f"/admin/users/{analyst.id}/reset-password", data={"csrf_token": token})
    one_time = re.search(r"<code>([^<]+)</code>", page.text).group(1)
    response = log_in(browser(app, "198.51.100.7"), password=one_time)
    assert response.headers["Location"].endswith("/account/password")


def test_unknown_emails_are_throttled_like_known_ones(app):
    attacker = browser(app, "203.0.113.5")
    for _ in range(5):
        assert log_in(attacker, "nobody@example.org", WRONG).status_code == 401
    assert log_in(attacker, "nobody@example.org", WRONG).status_code == 429


# -- 2. the client's address behind a reverse proxy -----------------------------------------------


@pytest.fixture
def site_behind_proxy(app, database_url):
    """Return a factory of apps on the test database with ``PROXY_FIX_X_FOR`` set."""
    made = []

    def make(hops):
        site = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": database_url,
                "SECRET_KEY": "test-secret-key",
                "SESSION_COOKIE_SECURE": False,
                "RATELIMIT_ENABLED": False,
                "PROXY_FIX_X_FOR": hops,
            }
        )
        made.append(site)
        return site

    yield make
    for site in made:
        with site.app_context():
            _db.session.remove()
            _db.engine.dispose()


def test_no_proxy_is_trusted_by_default(app):
    assert app.config["PROXY_FIX_X_FOR"] == 0


def test_behind_one_proxy_each_forwarded_client_is_throttled_on_its_own(
    site_behind_proxy, db, analyst
):
    site = site_behind_proxy(1)
    guesser = browser(site, "127.0.0.1", forwarded_for="203.0.113.1")
    owner = browser(site, "127.0.0.1", forwarded_for="203.0.113.2")
    for _ in range(5):
        assert log_in(guesser, password=WRONG).status_code == 401
    assert log_in(guesser).status_code == 429
    assert log_in(owner).status_code == 302
    addresses = set(db.session.scalars(select(AuditEvent.address)))
    assert addresses == {"203.0.113.1", "203.0.113.2"}


def test_without_a_proxy_setting_the_forwarded_header_is_ignored(site_behind_proxy, db, analyst):
    site = site_behind_proxy(0)
    guesser = browser(site, "127.0.0.1", forwarded_for="203.0.113.1")
    owner = browser(site, "127.0.0.1", forwarded_for="203.0.113.2")
    for _ in range(5):
        assert log_in(guesser, password=WRONG).status_code == 401
    assert log_in(owner).status_code == 429  # one peer address: one counter
    assert set(db.session.scalars(select(AuditEvent.address))) == {"127.0.0.1"}


# -- 3. no account enumeration by timing ----------------------------------------------------------


class RecordingHasher(PasswordHasher):
    """Argon2 exactly as the app uses it, noting each hash it verifies a password against."""

    def __init__(self):
        super().__init__()
        self.verified = []

    def verify(self, hash, password):  # noqa: A002 - argon2's own parameter name
        self.verified.append(hash)
        return super().verify(hash, password)


@pytest.fixture
def hasher(monkeypatch):
    recording = RecordingHasher()
    monkeypatch.setattr(services, "_hasher", recording)
    return recording


def test_an_unknown_email_costs_the_same_argon2_check_as_a_known_one(client, analyst, hasher):
    assert log_in(client, "analyst@example.org", WRONG).status_code == 401
    assert log_in(client, "nobody@example.org", WRONG).status_code == 401
    assert log_in(client, "nobody-else@example.org", WRONG).status_code == 401
    real, dummy, dummy_again = hasher.verified
    assert real == analyst.password_hash
    assert dummy != real
    assert dummy_again == dummy  # computed once
    assert extract_parameters(dummy) == extract_parameters(real)


def test_an_inactive_account_costs_the_same_argon2_check(client, db, analyst, hasher):
    analyst.is_active_account = False
    db.session.commit()
    assert log_in(client).status_code == 401
    (verified,) = hasher.verified
    assert verified != analyst.password_hash
    assert extract_parameters(verified) == extract_parameters(analyst.password_hash)


# -- 4. password changes --------------------------------------------------------------------------


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, analyst):
    here, elsewhere = browser(app, "192.0.2.10"), browser(app, "192.0.2.11")
    assert log_in(here).status_code == 302
    assert log_in(elsewhere).status_code == 302
    assert change_password(here, PASSWORD, NEW_PASSWORD).status_code == 302
    assert here.get("/account/password").status_code == 200
    assert elsewhere.get("/account/password").status_code == 302


def test_the_one_time_password_cannot_become_the_new_password(app, db):
    one_time = one_time_password()
    user = services.create_user("new@example.org", one_time, "analyst", must_change_password=True)
    client = browser(app)
    assert log_in(client, "new@example.org", one_time).headers["Location"].endswith("/password")
    response = change_password(client, one_time, one_time)
    assert response.status_code == 200
    assert "must not be the current or one-time password" in response.text
    db.session.refresh(user)
    assert user.must_change_password


@pytest.mark.parametrize(
    "weak",
    [
        "password1234",  # a common password with digits added
        "1qaz2wsx3edc",  # a common password of 12 characters
        "iloveyou2024!",
        "aaaaaaaaaaaa",  # one character
        "abababababab",  # a short unit repeated
        "123456789012",  # a sequence
        "qwertyuiopas",  # the keyboard
        "йцукенгшщзхъ",  # the Russian keyboard
        "analyst@example.org",  # the e-mail
        "Analyst.2024!",  # its local part
        "Diaspora Atlas",  # the site's name
        "diasporaatlas2026",
    ],
)
def test_common_and_trivial_passwords_are_refused(app, db, analyst, weak):
    client = browser(app)
    log_in(client)
    response = change_password(client, PASSWORD, weak)
    assert response.status_code == 200
    assert "Choose another" in response.text
    db.session.refresh(analyst)
    assert services.password_matches(analyst, PASSWORD)


def test_the_refusal_is_in_the_users_language(app, analyst):
    client = browser(app)
    log_in(client)
    response = change_password(client, PASSWORD, "password1234", language="ru")
    assert "Выберите другой" in response.text


@pytest.mark.parametrize(
    "strong", [PASSWORD, "Қазақ тілі — ана тілім 1991", "correct horse battery staple"]
)
def test_ordinary_long_passwords_pass(strong):
    assert services.password_weakness(strong, "analyst@example.org") is None


def test_the_cli_refuses_a_common_password(runner, db):
    result = runner.invoke(
        args=["atlas", "create-user", "x@example.org", "--role", "analyst"],
        input="password1234\n",
    )
    assert result.exit_code != 0
    assert "common" in result.output


# -- 5. a private database file -------------------------------------------------------------------


def test_the_sqlite_database_and_its_journal_are_created_private(tmp_path, monkeypatch):
    from flask_migrate import upgrade

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("ATLAS_SECRET_KEY", raising=False)
    instance = tmp_path / "instance"
    previous = os.umask(0o022)  # the usual umask: new files readable by every local user
    try:
        app = create_app({"TESTING": True}, instance_path=instance)
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            database = instance / "atlas.db"
            files = [database] + [
                Path(f"{database}{suffix}")
                for suffix in ("-wal", "-shm", "-journal")
                if Path(f"{database}{suffix}").exists()
            ]
            assert Path(f"{database}-wal") in files  # written to, so the journal is there
            modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in files}
            _db.engine.dispose()
    finally:
        os.umask(previous)
    assert modes == dict.fromkeys(modes, 0o600)
    assert stat.S_IMODE((instance / "secret_key").stat().st_mode) == 0o600
