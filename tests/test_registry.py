"""The specialists registry (consent, fields, audit, withdrawal) and retention of personal data."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from app import questionnaires, responses
from app.accounts.models import AuditEvent
from app.data.commands import apply_retention_command
from app.models import Draft, Response
from app.survey import services
from tests.respondent import csrf_token

EMAIL = "asel.specialist@example.org"
CONSENTER = {
    "specialist_consent": "yes",
    "contact_email": EMAIL,
    "occupation_detail": "Нейрохирург",
    "experience": "Twenty years of surgery",
    "years_experience": 20,
    "languages_other": "Ұйғыр тілі",
    "proposals": "A PRIVATE PROPOSAL",
    "association_name": "Secret Society",
    "sex": "female",
    "age": 47,
}


@pytest.fixture
def people(db, make_response):
    """A consenting specialist, a respondent who only wants news, and one who said no."""
    consenter = make_response(**CONSENTER)
    news_only = make_response(contact_ok="yes", contact_email="news@example.org")
    refused = make_response(occupation_detail="Refuser's job")
    return {"consenter": consenter, "news_only": news_only, "refused": refused}


def search(client, **filters):
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    return client.get(f"/analyst/data/registry?lang=en&search=1&{query}")


def entries(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'id="specialist-(\d+)"', page)]


def test_only_consenters_appear_with_only_consented_fields(client, db, people, signed_in):
    signed_in("analyst")
    page = search(client)
    assert page.status_code == 200
    assert entries(page.text) == [people["consenter"].response_id]
    text = page.text
    for shown in ("Нейрохирург", "Twenty years of surgery", "Ұйғыр тілі", "China"):
        assert shown in text
    # Region, city, free text outside the consent, sex, age and the e-mail are not shown.
    for hidden in (
        "Үрімжі",
        "Xinjiang",
        "CN-XJ",
        "A PRIVATE PROPOSAL",
        "Secret Society",
        "news@example.org",
        EMAIL,
        "Refuser",
    ):
        assert hidden not in text
    assert page.headers["Cache-Control"] == "no-store"


def test_search_by_skill_occupation_country_language_and_contribution(
    client, db, people, signed_in, make_response
):
    other = make_response(
        **CONSENTER,
        skills=["it"],
        occupation="it",
        languages=["ru"],
        contribution=["investment"],
        country="MN",
        region=None,
    ).response_id
    first = people["consenter"].response_id
    signed_in("analyst")
    assert entries(search(client).text) == [first, other]
    assert entries(search(client, skill="it").text) == [other]
    assert entries(search(client, occupation="health").text) == [first]
    assert entries(search(client, country="MN").text) == [other]
    assert entries(search(client, language="zh").text) == [first]
    assert entries(search(client, contribution="investment").text) == [other]
    assert entries(search(client, skill="it", country="CN").text) == []
    assert search(client, skill="<script>").status_code == 400


def test_searches_are_audited_with_filters_and_counts(client, db, people, signed_in):
    signed_in("analyst")
    search(client, skill="healthcare", country="CN")
    event = db.session.scalar(select(AuditEvent).filter_by(action="registry_search"))
    assert event.details == {"skill": "healthcare", "country": "CN"}
    assert event.rows == 1
    assert event.user.email == "analyst@example.org"
    # Opening the page without searching is not a search.
    client.get("/analyst/data/registry")
    assert (
        len(db.session.scalars(select(AuditEvent).filter_by(action="registry_search")).all()) == 1
    )


def test_contact_is_shown_only_on_an_explicit_audited_post(client, db, people, signed_in):
    signed_in("analyst")
    rid = people["consenter"].response_id
    page = search(client)
    assert EMAIL not in page.text
    url = f"/analyst/data/registry/{rid}/contact"
    assert f'action="{url}"' in page.text
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 400  # no CSRF token
    assert db.session.scalar(select(AuditEvent).filter_by(action="registry_contact_shown")) is None
    shown = client.post(url, data={"csrf_token": csrf_token(page.text), "back": "//evil.example"})
    assert shown.status_code == 200
    assert EMAIL in shown.text
    assert "evil.example" not in shown.text
    event = db.session.scalar(select(AuditEvent).filter_by(action="registry_contact_shown"))
    assert event.target == f"response:{rid}"
    assert EMAIL not in str(event.details)


def test_contact_of_someone_outside_the_registry_is_404(client, db, people, signed_in):
    signed_in("analyst")
    token = csrf_token(search(client).text)
    for key in ("news_only", "refused"):
        rid = people[key].response_id
        response = client.post(f"/analyst/data/registry/{rid}/contact", data={"csrf_token": token})
        assert response.status_code == 404
        assert "news@example.org" not in response.text
    assert (
        client.post("/analyst/data/registry/999999/contact", data={"csrf_token": token}).status_code
        == 404
    )


def test_withdrawal_removes_a_specialist_at_once(client, db, people, signed_in):
    signed_in("analyst")
    rid, receipt = people["consenter"].response_id, people["consenter"].receipt
    token = csrf_token(search(client).text)
    assert responses.withdraw(receipt)
    assert entries(search(client).text) == []
    assert db.session.get(Response, rid) is None
    response = client.post(f"/analyst/data/registry/{rid}/contact", data={"csrf_token": token})
    assert response.status_code == 404


def test_respondent_text_is_escaped(client, db, signed_in, make_response):
    make_response(**{**CONSENTER, "occupation_detail": "<script>alert(1)</script>"})
    signed_in("analyst")
    page = search(client)
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_coordinators_cannot_search(client, db, people, signed_in):
    signed_in("coordinator")
    assert search(client).status_code == 403
    assert db.session.scalar(select(AuditEvent).filter_by(action="registry_search")) is None


# -- retention --------------------------------------------------------------------------------


def _age(db, response_id: int, days: int) -> None:
    response = db.session.get(Response, response_id)
    response.submitted_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    db.session.commit()


def _draft(db, days: int, submitted: bool = False) -> int:
    version = questionnaires.latest(questionnaires.find("kazakh-diaspora"))
    draft, _token = services.start_draft(version, "kk", "1")
    services.save_page(draft, {"proposals": "half-written"}, {}, 2)
    if submitted:
        draft.submitted_at = dt.datetime.now(dt.UTC)
    draft.updated_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    db.session.commit()
    return draft.id


def test_retention_anonymises_old_responses_and_keeps_recent_ones(runner, db, app, make_response):
    app.config.update(RETENTION_DAYS=365, DRAFT_RETENTION_DAYS=30)
    old = make_response(**CONSENTER).response_id
    recent = make_response(**CONSENTER).response_id
    _age(db, old, 400)
    _age(db, recent, 100)
    stale, fresh, finished = _draft(db, 40), _draft(db, 5), _draft(db, 40, submitted=True)

    result = runner.invoke(apply_retention_command)
    assert result.exit_code == 0, result.output
    assert "1 responses" in result.output

    db.session.expire_all()
    anonymised = db.session.get(Response, old)
    for name in ("contact_email", "experience", "proposals", "occupation_detail"):
        assert name not in anonymised.answers
    assert "association_name" not in anonymised.answers
    assert anonymised.answers["residence"]["city"] is None
    assert anonymised.answers["residence"]["geo"] is None
    assert anonymised.answers["residence"]["country"] == "CN"
    assert anonymised.answers["residence"]["region"] == "CN-XJ"
    assert anonymised.answers["skills"] == ["healthcare", "teaching"]
    assert (anonymised.city, anonymised.lat, anonymised.lon) == (None, None, None)
    assert anonymised.country == "CN" and anonymised.region == "CN-XJ"

    kept = db.session.get(Response, recent)
    assert kept.answers["contact_email"] == EMAIL
    assert kept.answers["residence"]["city"] == "Үрімжі"
    assert kept.lat == 43.83

    assert db.session.get(Draft, stale) is None
    assert db.session.get(Draft, fresh) is not None
    assert db.session.get(Draft, finished) is not None

    event = db.session.scalar(select(AuditEvent).filter_by(action="apply_retention"))
    assert event.user_id is None and event.rows == 1 and event.details["via"] == "cli"

    # Running it again changes nothing more.
    result = runner.invoke(apply_retention_command)
    assert "0 responses" in result.output


def test_an_anonymised_specialist_has_no_contact_left(
    client, db, runner, app, signed_in, make_response
):
    app.config.update(RETENTION_DAYS=30)
    rid = make_response(**CONSENTER).response_id
    _age(db, rid, 31)
    runner.invoke(apply_retention_command)
    signed_in("analyst")
    page = search(client)
    assert entries(page.text) == [rid]
    assert "Show contact" not in page.text
    assert "Twenty years" not in page.text
