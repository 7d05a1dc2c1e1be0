"""Distribution links: creation, the respondent's /l/<code>, states, bots, figures at k, QR
codes and posters, the CLI, invitations, and the cross-organisation access matrix."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pandas as pd
import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from app import create_app, questionnaires
from app.accounts import services as accounts
from app.accounts.models import User
from app.extensions import limiter
from app.links import services
from app.links.commands import create_link as create_link_command
from app.links.models import DistributionLink, Invitation, LinkDay
from app.models import Draft, Response, Survey, utcnow
from app.survey import services as survey_services
from tests.conftest import PASSWORD, log_in, seed_completions
from tests.respondent import SLUG, Respondent, csrf_token

# -- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def orgs(db):
    """Two associations, each with a coordinator, and an analyst."""
    a = accounts.create_organisation("assoc-a", {"en": "Association A", "kk": "А қауымдастығы"})
    b = accounts.create_organisation("assoc-b", {"en": "Association B"})
    accounts.create_user("coord-a@example.org", PASSWORD, "coordinator", a)
    accounts.create_user("coord-b@example.org", PASSWORD, "coordinator", b)
    accounts.create_user("analyst@example.org", PASSWORD, "analyst")
    return a, b


def survey(db) -> Survey:
    return db.session.scalar(select(Survey).filter_by(slug=SLUG))


def new_link(db, org, **options) -> DistributionLink:
    return services.create_link(survey(db), org, options.pop("label", "Flyer"), **options)


def seed_drafts(db, link: DistributionLink, n: int) -> None:
    version = questionnaires.latest(survey(db))
    for _ in range(n):
        survey_services.start_draft(version, "kk", "1", link_id=link.id)


def visit_link(client, link: DistributionLink) -> Respondent:
    """Open the link; return a respondent on the questionnaire it leads to."""
    response = client.get(f"/l/{link.code}")
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    lang = re.search(r"lang=([\w-]+)", location)
    return Respondent(client, lang=lang.group(1) if lang else None)


# -- creating links ---------------------------------------------------------------------------


def test_coordinator_creates_a_link_for_their_own_organisation(client, db, orgs):
    a, b = orgs
    log_in(client, "coord-a@example.org")
    page = client.get("/links/new")
    assert page.status_code == 200
    response = client.post(
        "/links/new",
        data={
            "csrf_token": csrf_token(page.text),
            "organisation": str(b.id),  # ignored: a coordinator creates for their own
            "survey": str(survey(db).id),
            "label": "Friday <b>flyer</b>",
            "language": "kk-Arab",
            "country": "CN",
            "response_cap": "50",
        },
    )
    assert response.status_code == 303, response.text
    link = db.session.scalar(select(DistributionLink))
    assert (link.organisation_id, link.language, link.country) == (a.id, "kk-Arab", "CN")
    assert link.response_cap == 50
    # 12 URL-safe characters from 9 random bytes: 72 bits.
    assert re.fullmatch(r"[A-Za-z0-9_-]{12}", link.code)
    detail = client.get(response.headers["Location"])
    assert f"http://atlas.example/l/{link.code}" in detail.text
    assert "Friday &lt;b&gt;flyer&lt;/b&gt;" in detail.text
    assert link.label in client.get("/links/").text.replace("&lt;", "<").replace("&gt;", ">")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("label", ""),
        ("language", "xx"),
        ("country", "ZZ"),
        ("response_cap", "0"),
        ("response_cap", "3"),  # below k: the link's state would count its respondents
        ("response_cap", "many"),
        ("opens_on", "not a date"),
    ],
)
def test_bad_link_input_gets_a_message_not_a_500(client, db, orgs, field, value):
    log_in(client, "coord-a@example.org")
    page = client.get("/links/new")
    data = {"csrf_token": csrf_token(page.text), "survey": str(survey(db).id), "label": "x"}
    data[field] = value
    response = client.post("/links/new", data=data)
    assert response.status_code == 422
    assert 'class="error"' in response.text
    assert db.session.scalar(select(func.count()).select_from(DistributionLink)) == 0


def test_closing_day_before_opening_day_is_refused(db, orgs):
    today = services.today()
    with pytest.raises(services.LinkError):
        new_link(db, orgs[0], opens_on=today, closes_on=today - timedelta(days=1))


def test_link_addresses_use_base_url_never_the_host_header(app, db, orgs):
    link = new_link(db, orgs[0])
    with app.test_request_context("/links/", headers={"Host": "evil.example"}):
        assert services.link_url(link) == f"http://atlas.example/l/{link.code}"
        _invitation, token = services.create_invitation(orgs[0], "x@example.org")
        assert services.invitation_url(token).startswith("http://atlas.example/links/invite/")


# -- the respondent's path --------------------------------------------------------------------


def test_link_opens_in_its_language_and_the_response_records_it(client, db, orgs):
    link = new_link(db, orgs[0], language="ru")
    response = client.get(f"/l/{link.code}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/s/{SLUG}?lang=ru")
    respondent = visit_link(client, link)
    respondent.complete()
    stored = db.session.scalar(select(Response))
    assert stored.link_id == link.id
    assert stored.language == "ru"
    assert db.session.scalar(select(LinkDay.opens)) == 2  # the test opened it twice
    # The next survey started in the same browser is not counted for the link.
    Respondent(client).complete()
    assert db.session.scalar(select(func.count()).where(Response.link_id.is_(None))) == 1


def test_unknown_codes_get_the_same_localised_404(client, db, orgs):
    new_link(db, orgs[0])
    pages = [
        client.get(f"/l/{code}?lang=ru")
        for code in ("AAAAAAAAAAAA", "zzzzzzzzzzzz", "short", "x" * 300, "%3Cscript%3E")
    ]
    assert {p.status_code for p in pages} == {404}
    # The same page, but for the language switcher's links back to the address asked for.
    bodies = {re.sub(r'href="/[^"?]*\?lang=', 'href="?lang=', p.text) for p in pages}
    assert len(bodies) == 1
    assert "Такой страницы нет" in pages[0].text
    other = client.get("/no/such/page?lang=ru").text
    assert re.sub(r'href="/[^"?]*\?lang=', 'href="?lang=', other) in bodies


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ({"status": "paused"}, "paused"),
        ({"status": "revoked"}, "no longer in use"),
        ({"closes_on": -1}, "has closed"),
        ({"opens_on": 1}, "not open yet"),
        ({"response_cap": 10, "responses": 10}, "all the responses"),
    ],
)
def test_links_that_take_no_responses_say_why_in_the_respondents_language(
    client, db, orgs, setup, message
):
    day = services.today()
    link = new_link(
        db,
        orgs[0],
        language="en",
        response_cap=setup.get("response_cap"),
        closes_on=day + timedelta(days=setup["closes_on"]) if "closes_on" in setup else None,
        opens_on=day + timedelta(days=setup["opens_on"]) if "opens_on" in setup else None,
    )
    if "status" in setup:
        services.set_status(link, setup["status"])
    seed_completions(link, setup.get("responses", 0))
    drafts = db.session.scalar(select(func.count()).select_from(Draft))
    page = client.get(f"/l/{link.code}")
    assert page.status_code == 410
    assert message in page.text
    assert '<html lang="en"' in page.text
    # In Kazakh when the respondent asks for it.
    kazakh = client.get(f"/l/{link.code}?lang=kk")
    assert '<html lang="kk"' in kazakh.text
    assert db.session.scalar(select(func.count()).select_from(Draft)) == drafts
    assert db.session.scalar(select(func.sum(LinkDay.opens))) is None


def test_revoked_link_at_submission_keeps_the_draft_and_says_so(client, db, orgs):
    link = new_link(db, orgs[0], language="en")
    respondent = visit_link(client, link)
    respondent.answer_all()
    services.set_status(link, "revoked")
    response = respondent.submit()
    assert response.status_code == 410
    assert "no longer in use" in response.text
    assert "already answered is kept" in response.text
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0
    draft = survey_services.find_draft(respondent.token)
    db.session.refresh(draft)
    assert draft.submitted_at is None
    assert draft.answers["sex"] == "female"


def test_full_link_at_submission_keeps_the_second_draft(client, app, db, orgs):
    link = new_link(db, orgs[0], response_cap=10)
    seed_completions(link, 9)
    first = visit_link(client, link)
    first.answer_all()
    other = app.test_client()
    second = visit_link(other, link)
    second.answer_all()
    assert first.submit().status_code == 303
    response = second.submit()
    assert response.status_code == 410
    assert db.session.scalar(select(func.count()).select_from(Response)) == 10
    assert survey_services.find_draft(second.token).answers


def test_paused_link_refuses_at_consent_then_works_when_resumed(client, db, orgs):
    link = new_link(db, orgs[0])
    page = client.get(f"/l/{link.code}")
    assert page.status_code == 302
    consent = client.get(page.headers["Location"])
    services.set_status(link, "paused")
    refused = client.post(
        page.headers["Location"], data={"csrf_token": csrf_token(consent.text), "agree": "y"}
    )
    assert refused.status_code == 410
    assert db.session.scalar(select(func.count()).select_from(Draft)) == 0
    services.set_status(link, "active")
    visit_link(client, link).complete()
    assert db.session.scalar(select(Response.link_id)) == link.id


def test_revoked_link_cannot_be_resumed(client, db, orgs):
    link = new_link(db, orgs[0])
    services.set_status(link, "revoked")
    with pytest.raises(services.LinkError):
        services.set_status(link, "active")


# -- bots -------------------------------------------------------------------------------------


def _consent_post(client, extra):
    page = client.get(f"/s/{SLUG}?lang=en")
    served = re.search(r'name="served" value="([^"]+)"', page.text).group(1)
    data = {"csrf_token": csrf_token(page.text), "agree": "y", "lang": "en", "served": served}
    data.update(extra)
    return client.post(f"/s/{SLUG}?lang=en", data=data)


def test_honeypot_refuses_with_a_message_and_no_draft(client, db):
    response = _consent_post(client, {"website": "http://spam.example"})
    assert response.status_code == 422
    assert "press Start again" in response.text
    assert db.session.scalar(select(func.count()).select_from(Draft)) == 0


def test_too_fast_or_unsigned_consent_is_refused(app, client, db):
    app.config["MIN_FILL_SECONDS"] = 3
    assert _consent_post(client, {}).status_code == 422
    assert _consent_post(client, {"served": "forged"}).status_code == 422
    forged = URLSafeSerializer("another secret", salt="consent-served").dumps(time.time() - 60)
    assert _consent_post(client, {"served": forged}).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Draft)) == 0
    earlier = URLSafeSerializer(app.config["SECRET_KEY"], salt="consent-served").dumps(
        time.time() - 4
    )
    assert _consent_post(client, {"served": earlier}).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Draft)) == 1


def test_bot_refusal_is_announced_to_screen_readers(client, db):
    response = _consent_post(client, {"website": "x", "lang": "kk"})
    assert response.status_code == 422
    assert 'role="alert"' in response.text


def test_link_traffic_is_rate_limited_per_address_and_per_link(database_url, db, orgs):
    busy, other = new_link(db, orgs[0]).code, new_link(db, orgs[0]).code
    db.session.rollback()  # end this session's transaction: the other app writes
    limited = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret-key",
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_LINK_ADDRESS": "3 per minute",
            "RATELIMIT_LINK": "5 per minute",
        }
    )
    try:
        with limited.app_context():
            limiter.reset()
        client = limited.test_client()

        def status(code: str, address: str) -> int:
            return client.get(f"/l/{code}", environ_base={"REMOTE_ADDR": address}).status_code

        # One link, many addresses: the link's own budget of 5.
        assert [status(busy, f"203.0.113.{n}") for n in range(1, 8)] == [302] * 5 + [429] * 2
        # One address, another link: the address's budget of 3.
        assert [status(other, "198.51.100.1") for _ in range(4)] == [302] * 3 + [429]
        assert status(other, "198.51.100.2") == 302
    finally:
        with limited.app_context():
            limiter.reset()
            from app.extensions import db as database

            database.session.remove()
            database.engine.dispose()


# -- figures ----------------------------------------------------------------------------------


def coordinator_page(client, link) -> str:
    log_in(client, "coord-a@example.org")
    page = client.get(f"/links/{link.id}")
    assert page.status_code == 200
    return page.text


def cell(page: str, name: str) -> str:
    return re.search(rf'<td id="{name}">([^<]*)</td>', page).group(1)


def number(text: str) -> int | None:
    """Return the count a cell shows, or None for a hidden one."""
    digits = re.sub(r"\D", "", text)
    return int(digits) if digits and "fewer" not in text and "not shown" not in text else None


def test_coordinator_sees_no_figure_until_ten_complete(client, db, orgs):
    link = new_link(db, orgs[0])
    seed_completions(link, 9)
    page = coordinator_page(client, link)
    assert 'id="no-figures"' in page and 'id="completed"' not in page
    assert not re.search(r"<td[^>]*>9</td>", page)
    seed_completions(link, 1)
    page = client.get(f"/links/{link.id}").text
    completed = number(cell(page, "completed"))
    assert completed is not None and 10 <= completed <= 13  # perturbed, never below k
    assert number(cell(page, "started")) == completed
    assert cell(page, "rate") == "100%"


def test_a_small_number_of_unfinished_drafts_cannot_be_worked_out(client, db, orgs):
    link = new_link(db, orgs[0])
    seed_completions(link, 12)
    seed_drafts(db, link, 3)
    page = coordinator_page(client, link)
    assert number(cell(page, "completed")) in range(10, 16)
    # The total would give the 3 away (as started minus completed): it is hidden instead.
    assert cell(page, "started") == "not shown (protects a small count)"


def test_breakdowns_fold_small_groups_without_naming_them(client, db, orgs):
    link = new_link(db, orgs[0])
    seed_completions(link, 20, country="CN", lang="kk")
    seed_completions(link, 3, country="RU", lang="ru")
    page = coordinator_page(client, link)
    by_country = page.split("Responses by country")[1].split("</table>")[0]
    # RU (3) is folded into "all others", which would then be small: China joins it. Neither
    # country is named; the 23 are counted together.
    assert "Russia" not in by_country and "China" not in by_country
    others = re.search(r"All others together</th><td>([^<]*)</td>", by_country).group(1)
    assert number(others) in range(20, 27)
    by_language = page.split("Responses by language")[1].split("</table>")[0]
    assert "Русский" not in by_language


@pytest.mark.parametrize(
    ("completed", "in_progress"),
    [(c, p) for c in (0, 1, 5, 9, 10, 12, 30) for p in (0, 1, 3, 9, 10, 25)],
)
def test_funnel_never_shows_or_implies_a_count_below_k(completed, in_progress):
    from geo.disclosure import TOTAL, Policy, Tally

    steps = pd.Series({"completed": completed, "in_progress": in_progress})
    shown = services.funnel(
        Tally(steps, steps * 5, steps),
        Tally(pd.Series({"all": 40}), pd.Series({"all": 3}), pd.Series({"all": 40})),
        Policy(10, frozenset()),
    ).steps
    for key in ("completed", "in_progress", TOTAL):
        value = shown.value(key)
        assert value is None or value >= 10
    if 1 <= in_progress < 10:  # never both the total and the completed beside it
        assert shown.value(TOTAL) is None or shown.value("completed") is None
    if completed >= 10:
        assert abs(shown.value("completed") - completed) <= 3


def test_analysts_compare_links_at_k5(client, db, orgs):
    a, b = orgs
    for label, org, n in (("Mosque", a, 8), ("Telegram", b, 7), ("Radio", b, 4)):
        seed_completions(new_link(db, org, label=label), n)
    log_in(client, "analyst@example.org")
    page = client.get("/links/compare")
    assert page.status_code == 200
    rows = {
        label: re.search(rf"{label}.*?</tr>", page.text, re.S).group(0)
        for label in ("Mosque", "Telegram", "Radio")
    }
    # 4 is below k = 5; 7 is hidden too, or the column total 19 would give the 4 away.
    assert "fewer than 5" in rows["Radio"]
    assert "not shown" in rows["Telegram"]
    assert not re.search(r"<td[^>]*>\s*[4-9]\s*</td>", rows["Radio"] + rows["Telegram"])
    assert re.search(r"<td[^>]*>\s*([5-9]|1[01])\s*</td>", rows["Mosque"])
    assert client.get(f"/links/compare?org={b.id}").text.count("Mosque") == 0


# -- QR codes and posters ---------------------------------------------------------------------


def test_qr_codes_and_posters(client, db, orgs):
    link = new_link(db, orgs[0])
    log_in(client, "coord-a@example.org")
    svg = client.get(f"/links/{link.id}/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.data.startswith(b"<svg")
    png = client.get(f"/links/{link.id}/qr.png")
    assert png.mimetype == "image/png" and png.data.startswith(b"\x89PNG")
    assert client.get(f"/links/{link.id}/qr.gif").status_code == 404
    questionnaire = questionnaires.questionnaire_of(questionnaires.latest(survey(db)))
    for lang in questionnaire.languages:
        poster = client.get(f"/links/{link.id}/poster?lang={lang}")
        assert poster.status_code == 200
        html = poster.text
        assert f'<html lang="{lang}" dir="{"rtl" if lang == "kk-Arab" else "ltr"}"' in html
        title = questionnaire.text(questionnaire.title, lang)
        assert f"<h1>{title}</h1>" in html
        assert f"http://atlas.example/l/{link.code}" in html
        assert "<svg" in html
        assert not re.search(r'(src|href)="(https?:)?//', html), lang
    assert "Qazaq" in client.get(f"/links/{link.id}/poster?lang=kk-Latn").text  # Latin script


# -- who may see what -------------------------------------------------------------------------


def test_coordinators_never_reach_another_organisations_links(client, db, orgs):
    a, b = orgs
    theirs = new_link(db, b, label="B only")
    seed_completions(theirs, 12)
    log_in(client, "coord-a@example.org")
    for path in ("", "/qr.svg", "/qr.png", "/poster", "/poster?lang=kk"):
        assert client.get(f"/links/{theirs.id}{path}").status_code == 404, path
    page = client.get("/links/")
    token = csrf_token(client.get("/links/new").text)
    for action in ("pause", "revoke"):
        response = client.post(
            f"/links/{theirs.id}/status", data={"csrf_token": token, "action": action}
        )
        assert response.status_code == 404
    db.session.refresh(theirs)
    assert theirs.status == "active"
    assert "B only" not in page.text
    assert client.get(f"/links/?org={b.id}").text.count("B only") == 0
    assert client.get("/links/compare").status_code == 403
    assert client.get("/links/invitations").status_code == 403
    # A link that does not exist looks the same as another organisation's.
    assert client.get("/links/999999").status_code == 404


def test_coordinator_manages_own_link_status(client, db, orgs):
    link = new_link(db, orgs[0])
    log_in(client, "coord-a@example.org")
    token = csrf_token(client.get(f"/links/{link.id}").text)
    assert (
        client.post(
            f"/links/{link.id}/status", data={"csrf_token": token, "action": "pause"}
        ).status_code
        == 303
    )
    db.session.refresh(link)
    assert link.status == "paused"
    assert (
        client.post(f"/links/{link.id}/status", data={"action": "resume"}).status_code == 400
    )  # no CSRF token


def test_workspace_pages_need_sign_in(client, db, orgs):
    link = new_link(db, orgs[0])
    for path in ("/links/", "/links/new", f"/links/{link.id}", f"/links/{link.id}/qr.svg"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/account/login" in response.headers["Location"]


# -- the command line -------------------------------------------------------------------------


def test_create_link_command_prints_the_full_address(runner, db, orgs):
    result = runner.invoke(
        create_link_command,
        ["--org", "assoc-a", "--survey", SLUG, "--lang", "kk-Arab", "--label", "Ürümqi"],
    )
    assert result.exit_code == 0, result.output
    link = db.session.scalar(select(DistributionLink))
    assert result.output.strip() == f"http://atlas.example/l/{link.code}"
    assert (link.language, link.label) == ("kk-Arab", "Ürümqi")
    assert runner.invoke(create_link_command, ["--org", "nope", "--survey", SLUG]).exit_code
    assert runner.invoke(
        create_link_command, ["--org", "assoc-a", "--survey", SLUG, "--lang", "xx"]
    ).exit_code


# -- invitations ------------------------------------------------------------------------------


def invite(client, org) -> str:
    page = client.get("/links/invitations")
    response = client.post(
        "/links/invitations",
        data={
            "csrf_token": csrf_token(page.text),
            "organisation": str(org.id),
            "email": "New@Example.org",
        },
    )
    assert response.status_code == 200
    return re.search(r'id="invitation-url">([^<]+)<', response.text).group(1)


def accept(client, url, password, confirm=None):
    path = url.replace("http://atlas.example", "")
    page = client.get(path)
    if page.status_code != 200:
        return page
    return client.post(
        path,
        data={
            "csrf_token": csrf_token(page.text),
            "password": password,
            "confirm": confirm or password,
        },
    )


def test_invitation_creates_a_coordinator_once(app, client, db, orgs):
    a, _b = orgs
    log_in(client, "analyst@example.org")
    url = invite(client, a)
    assert url.startswith("http://atlas.example/links/invite/")
    assert url not in client.get("/links/invitations").text  # shown once
    newcomer = app.test_client()
    assert accept(newcomer, url, "short").status_code == 422
    assert (
        accept(newcomer, url, "long enough passphrase", "different passphrase").status_code == 422
    )
    done = accept(newcomer, url, "long enough passphrase")
    assert done.status_code == 200
    assert 'href="/account/login"' in done.text
    user = db.session.scalar(select(User).filter_by(email="new@example.org"))
    assert (user.role, user.organisation_id) == ("coordinator", a.id)
    assert accept(app.test_client(), url, "another long passphrase").status_code == 404
    assert log_in(newcomer, "new@example.org", "long enough passphrase").status_code == 302


def test_expired_invitation_is_refused(client, db, orgs):
    log_in(client, "analyst@example.org")
    url = invite(client, orgs[0])
    invitation = db.session.scalar(select(Invitation))
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert accept(client, url, "long enough passphrase").status_code == 404
    assert db.session.scalar(select(User).filter_by(email="new@example.org")) is None


def test_invitation_for_a_taken_email_is_refused_and_stays_usable(client, db, orgs):
    invitation, token = services.create_invitation(orgs[0], "coord-b@example.org")
    response = accept(
        client, f"http://atlas.example/links/invite/{token}", "long enough passphrase"
    )
    assert response.status_code == 422
    db.session.refresh(invitation)
    assert invitation.used_at is None
