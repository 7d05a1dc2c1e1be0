"""Fake responses are not a cheap way to reach k: bursts count once, withdraw-and-resend is held,
and every door a script could use is rate-limited per address, per questionnaire and per link."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import select, update

from app import create_app
from app.accounts import services as accounts
from app.extensions import db as database
from app.extensions import limiter
from app.links import services as links
from app.models import Response, SubmissionSource, Survey
from tests.privacy.conftest import answers, new_address, submit, withdraw
from tests.respondent import API_URL, SLUG, Respondent, csrf_token


def independent_flags(db) -> list[bool]:
    return list(db.session.scalars(select(Response.independent).order_by(Response.id)))


def test_a_burst_from_one_address_counts_once_towards_k(client, db):
    attacker, other = new_address(), new_address()
    for _ in range(3):
        submit(client, "DE", address=attacker)
    submit(client, "DE", address=other)
    assert independent_flags(db) == [True, False, False, True]
    # Once the window has passed, the same address counts again.
    db.session.execute(
        update(SubmissionSource).values(
            expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        )
    )
    db.session.commit()
    submit(client, "DE", address=attacker)
    assert independent_flags(db)[-1] is True


def test_an_ipv6_subscriber_is_one_source_whatever_its_addresses(client, db):
    submit(client, "DE", address="2001:db8:1:2::10")
    submit(client, "DE", address="2001:db8:1:2:aaaa::99")  # same /64
    submit(client, "DE", address="2001:db8:1:3::10")  # another subscriber
    assert independent_flags(db) == [True, False, True]


def test_withdrawing_and_sending_again_does_not_count_again(client, db):
    address = new_address()
    sent = submit(client, "DE", address=address)
    db.session.execute(  # long after the burst window
        update(SubmissionSource).values(expires_at=dt.datetime.now(dt.UTC))
    )
    db.session.commit()
    withdraw(client, sent["receipt"], address=address)
    submit(client, "DE", address=address)
    assert independent_flags(db) == [False]


def test_no_address_is_stored(client, db):
    submit(client, "DE", address="203.0.113.77")
    stored = [row.source_hash for row in db.session.scalars(select(SubmissionSource))]
    assert len(stored) == 1 and "203.0.113" not in stored[0]
    assert "203.0.113" not in str(db.session.scalar(select(Response)).answers)


# -- rate limits ------------------------------------------------------------------------------


@contextmanager
def limited(database_url: str, **config) -> Iterator[Flask]:
    """Yield the app with rate limits on (the test fixtures turn them off)."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret-key",
            "SESSION_COOKIE_SECURE": False,
            "MIN_FILL_SECONDS": 0,
            "RATELIMIT_ENABLED": True,
            **config,
        }
    )
    try:
        with app.app_context():
            limiter.reset()
        yield app
    finally:
        with app.app_context():
            limiter.reset()
            database.session.remove()
            database.engine.dispose()


def _payload(country: str = "DE") -> dict:
    import uuid

    return {
        "submission_id": str(uuid.uuid4()),
        "language": "en",
        "consent": {"given": True, "version": "1"},
        "answers": answers(country),
    }


def test_the_api_limits_submissions_per_address(app, database_url):
    with limited(database_url, RATELIMIT_SUBMISSIONS="3 per minute") as other:
        client = other.test_client()

        def status(address: str) -> int:
            response = client.post(API_URL, json=_payload(), environ_base={"REMOTE_ADDR": address})
            return response.status_code

        assert [status("198.51.100.9") for _ in range(4)] == [201, 201, 201, 429]
        assert status("198.51.100.10") == 201


def test_one_address_cannot_fill_a_link(app, db, database_url):
    org = accounts.create_organisation("assoc", {"en": "An association"}, "DE")
    link = links.create_link(db.session.scalar(select(Survey).filter_by(slug=SLUG)), org, "Flyer")
    code = link.code
    db.session.commit()
    db.session.close()  # the other app writes: hold no transaction open here
    with limited(database_url, RATELIMIT_LINK_SUBMISSIONS="2 per day") as other:
        client = other.test_client()
        client.environ_base["REMOTE_ADDR"] = "198.51.100.20"
        statuses = []
        for _ in range(3):
            assert client.get(f"/l/{code}").status_code == 302
            respondent = Respondent(client, lang="en")
            respondent.answer_all()
            statuses.append(respondent.submit().status_code)
        assert statuses == [303, 303, 429]
        # The third respondent's answers are kept: the review page shows them, with the reason.
        review = client.get(f"/s/{SLUG}/d/{respondent.token}/review").text
        assert "Open Kazakh classes in Ürümqi" in review
        assert (
            client.post(
                f"/s/{SLUG}/d/{respondent.token}/review",
                data={"csrf_token": csrf_token(review)},
            ).status_code
            == 429
        )
        assert (
            "send them again tomorrow"
            in client.post(
                f"/s/{SLUG}/d/{respondent.token}/review", data={"csrf_token": csrf_token(review)}
            ).text
        )


def test_one_questionnaire_cannot_be_driven_by_a_script(app, database_url):
    with limited(database_url, RATELIMIT_DRAFT_PAGES="3 per minute") as other:
        client = other.test_client()
        respondent = Respondent(client, lang="en")
        respondent.start()
        statuses = [respondent.send({}, action="refresh").status_code for _ in range(4)]
        assert statuses[:3] != [429] * 3 and statuses[3] == 429


def test_starting_questionnaires_is_limited_per_address(app, database_url):
    with limited(database_url, RATELIMIT_DRAFTS="2 per minute") as other:
        client = other.test_client()
        page = client.get(f"/s/{SLUG}?lang=en")
        token = csrf_token(page.text)
        statuses = [
            client.post(
                f"/s/{SLUG}?lang=en", data={"csrf_token": token, "agree": "y", "lang": "en"}
            ).status_code
            for _ in range(3)
        ]
        assert statuses == [303, 303, 429]
