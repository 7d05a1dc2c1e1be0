"""Accounts: passwords, throttling, server-side sessions, timeouts, safe redirects, the CLI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts import services
from app.accounts.access import safe_next
from app.accounts.models import AuditEvent, LoginSession, User
from app.models import utcnow
from tests.conftest import PASSWORD, log_in
from tests.respondent import csrf_token


def test_short_passwords_are_refused(db):
    with pytest.raises(services.AccountError):
        services.create_user("x@example.org", "short", "analyst")


def test_passwords_are_stored_with_argon2(analyst):
    assert analyst.password_hash.startswith("$argon2id$")
    assert PASSWORD not in analyst.password_hash


def test_sign_in_rotates_the_session_and_sign_out_ends_it_on_the_server(client, db, analyst):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    response = log_in(client)
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
        cookie_copy = dict(session)
    assert client.get("/account/password").status_code == 200
    page = client.get("/account/password")
    client.post("/account/logout", data={"csrf_token": csrf_token(page.text)})
    assert db.session.scalar(select(LoginSession)).ended_at is not None
    # Replaying the old cookie after logout does not sign anyone in.
    with client.session_transaction() as session:
        session.update(cookie_copy)
    assert client.get("/account/password").status_code == 302


def test_wrong_password_is_refused_and_audited(client, db, analyst):
    response = log_in(client, password="not the password at all")
    assert response.status_code == 401
    assert "not right" in response.text
    assert db.session.scalar(select(AuditEvent).filter_by(action="login_failed")) is not None


def test_five_failures_per_account_then_429(client, analyst):
    for _ in range(5):
        assert log_in(client, password="wrong password here").status_code == 401
    assert log_in(client).status_code == 429  # even the right password waits


def test_failures_over_many_accounts_from_one_address_then_429(app, client, analyst):
    app.config["LOGIN_ADDRESS_LOCK_FAILURES"] = 5  # password spraying, in fewer steps
    for n in range(5):
        assert log_in(client, email=f"nobody{n}@example.org").status_code == 401
    assert log_in(client).status_code == 429


def test_idle_timeout(client, db, analyst):
    log_in(client)
    row = db.session.scalar(select(LoginSession))
    row.last_seen_at = utcnow() - timedelta(minutes=31)
    db.session.commit()
    response = client.get("/account/password")
    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]


def test_absolute_timeout(client, db, analyst):
    log_in(client)
    row = db.session.scalar(select(LoginSession))
    row.created_at = utcnow() - timedelta(hours=12, minutes=1)
    db.session.commit()
    assert client.get("/account/password").status_code == 302


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/analyst/countries/KZ", "/analyst/countries/KZ"),
        ("//evil.example/x", None),
        ("https://evil.example/", None),
        ("/\\evil.example", None),
        ("javascript:alert(1)", None),
        (None, None),
    ],
)
def test_next_accepts_only_local_paths(target, expected):
    assert safe_next(target) == expected


def test_sign_in_never_redirects_off_site(client, analyst):
    response = log_in(client, next_url="https://evil.example/")
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def test_cookies_are_httponly_and_samesite(client, app, analyst):
    app.config["SESSION_COOKIE_SECURE"] = True
    response = log_in(client)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie


def test_first_admin_has_a_one_time_password(client, db, runner):
    result = runner.invoke(args=["atlas", "ensure-admin"])
    assert "shown once" in result.output
    password = result.output.split("password: ")[1].split()[0]
    again = runner.invoke(args=["atlas", "ensure-admin"])
    assert again.output.strip() == ""
    response = log_in(client, "admin@localhost", password)
    assert response.headers["Location"].endswith("/account/password")
    assert client.get("/").status_code == 200


def test_cli_creates_organisations_and_users_with_password_from_stdin(runner, db):
    result = runner.invoke(
        args=["atlas", "create-org", "otandastar", "--name", "Otandastar", "--country", "KZ"]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=[
            "atlas",
            "create-user",
            "c@example.org",
            "--role",
            "coordinator",
            "--org",
            "otandastar",
        ],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).filter_by(email="c@example.org"))
    assert user.organisation.slug == "otandastar"
    assert services.password_matches(user, PASSWORD)
    refused = runner.invoke(
        args=["atlas", "create-user", "d@example.org", "--role", "coordinator"], input=PASSWORD
    )
    assert refused.exit_code != 0
    bad_country = runner.invoke(args=["atlas", "create-org", "x", "--name", "X", "--country", "QQ"])
    assert bad_country.exit_code != 0
