"""The analyst workspace: who may see it, small counts, escaping, filters, reports, audit."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from app import questionnaires
from app.accounts import services as accounts
from app.accounts.models import AuditEvent
from app.analyst.dashboard import link_labels
from app.extensions import db
from app.models import Response
from app.questionnaires import questionnaire_of
from geo.synthetic import HOSTILE_STRINGS
from tests.conftest import valid_answers

SLUG = "kazakh-diaspora"
IMG = "<img src=x onerror=alert(1)>"
TEMPLATE = "${alert(1)}"


def answers_for(country: str, **extra: Any) -> dict[str, Any]:
    """Return valid answers of the bundled questionnaire for a respondent living in ``country``
    (no region, city or point given), a citizen of it, aged 30, there for 12 years."""
    defaults: dict[str, Any] = {
        "country": country,
        "region": None,
        "city": None,
        "geo": None,
        "citizenship": country,
        "age": 30,
        "skills": ["healthcare"],
        "languages": ["kk", "ru"],
        "scripts": ["cyrillic"],
        "years_in_country": 12,
    }
    return valid_answers(**{**defaults, **extra})


@pytest.fixture
def seed(make_response):
    """Return ``seed(country, n, **extra)``, which stores ``n`` responses of :func:`answers_for`."""

    def seed(country: str, n: int, **extra: Any) -> None:
        for _ in range(n):
            make_response(**answers_for(country, **extra))

    return seed


def small_numbers(page: str, k: int) -> list[str]:
    """Return counts 1..k-1 that a page shows in a table cell or a chart's text."""
    cells = re.findall(r"<td>([^<]*)</td>", page) + re.findall(r"<text[^>]*>([^<]*)</text>", page)
    found = []
    for cell in cells:
        text = html.unescape(cell).replace("\u00a0", "").replace("\u202f", "").replace(",", "")
        text = text.replace(" ", "")
        if text.isdigit() and 1 <= int(text) < k:
            found.append(cell)
    return found


def shows_about(row: str, n: int, k: int = 5) -> bool:
    """Tell whether a table row's first count is ``n`` as published: perturbed by at most 3,
    never below k."""
    match = re.search(r"<td>([\d,\u00a0\u202f ]+)</td>", row)
    if not match:
        return False
    shown = int(re.sub(r"\D", "", match.group(1)))
    return shown >= k and abs(shown - n) <= 3


def table_row(page: str, label: str) -> str:
    """Return the table row whose header cell is ``label``."""
    match = re.search(
        r"<tr><th scope=\"row\">(?:<a [^>]*>)?" + re.escape(label) + r".*?</tr>", page
    )
    assert match, f"no row {label!r}"
    return match.group(0)


# -- access -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "analyst"])
def test_dashboard_and_profiles_render_for_admin_and_analyst(client, role, signed_in, seed):
    seed("RU", 6)
    signed_in(role)
    page = client.get("/analyst/?lang=en")
    assert page.status_code == 200
    assert "<h1>Dashboard</h1>" in page.text
    assert "Respondents by country of residence" in page.text
    countries = client.get("/analyst/countries?lang=en")
    assert countries.status_code == 200
    assert 'href="/analyst/countries/RU"' in countries.text
    profile = client.get("/analyst/countries/RU?lang=en")
    assert profile.status_code == 200
    assert "Kazakhs in Russia" in profile.text
    assert "Respondents by sex and age" in profile.text
    assert "<script" not in profile.text  # no script of any kind, let alone a third party's


def test_coordinators_are_refused_and_visitors_sent_to_sign_in(client, signed_in):
    for url in (
        "/analyst/",
        "/analyst/countries",
        "/analyst/countries/RU",
        "/analyst/countries/RU/report?lang=en",
        "/analyst/maps/world.en.html",
    ):
        anonymous = client.get(url)
        assert anonymous.status_code == 302, url
        assert "/account/login" in anonymous.headers["Location"]
    signed_in("coordinator")
    for url in (
        "/analyst/",
        "/analyst/countries",
        "/analyst/countries/RU",
        "/analyst/countries/RU/report?lang=en",
    ):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("iso2", ["XX", "ru", "RUS", "R1", "%3Cb%3E"])
def test_unknown_or_invalid_country_codes_are_not_found(client, iso2, signed_in):
    signed_in("analyst")
    assert client.get(f"/analyst/countries/{iso2}").status_code == 404
    assert client.get(f"/analyst/countries/{iso2}/report?lang=en").status_code == 404


# -- small counts -------------------------------------------------------------------------------


def test_every_number_on_the_analyst_pages_respects_k5(client, signed_in, seed):
    seed("MN", 3)
    seed("RU", 12)
    signed_in("analyst")
    dashboard = client.get("/analyst/?lang=en").text
    assert "fewer than 5" in dashboard
    assert ">3<" not in table_row(dashboard, "Mongolia")
    assert "fewer than 5" in table_row(dashboard, "Mongolia")
    assert small_numbers(dashboard, 5) == []
    countries = client.get("/analyst/countries?lang=en").text
    assert "fewer than 5" in table_row(countries, "Mongolia")
    assert small_numbers(countries, 5) == []
    profile = client.get("/analyst/countries/MN?lang=en").text
    assert "fewer than 5" in profile
    assert "Too few respondents live here" in profile
    assert small_numbers(profile, 5) == []
    # Russia's 12 would give Mongolia's 3 away from the total of 15: it is hidden too.
    assert shows_about(table_row(dashboard, "Total"), 15)
    assert "not shown" in table_row(dashboard, "Russia")
    profile = client.get("/analyst/countries/RU?lang=en").text
    assert "Too few respondents live here" in profile


def test_breakdowns_hide_small_answers_and_their_complements(client, signed_in, seed):
    seed("RU", 20)
    seed("RU", 2, sex="male", education="doctorate", skills=["law"])
    seed("TR", 20)
    signed_in("analyst")
    page = client.get("/analyst/countries/RU?lang=en").text
    assert small_numbers(page, 5) == []
    assert "fewer than 5" in table_row(page, "Doctorate (PhD, candidate or doctor of sciences)")
    assert ">20<" not in table_row(page, "Master&#39;s degree")  # 22 - 20 = 2: hidden too
    dashboard = client.get("/analyst/?lang=en").text
    assert small_numbers(dashboard, 5) == []
    assert shows_about(table_row(dashboard, "Total"), 42)


def test_country_filter_and_k_hold_together(client, signed_in, seed):
    seed("RU", 7)
    seed("TR", 9)
    signed_in("analyst")
    page = client.get("/analyst/?lang=en&country=RU").text
    assert small_numbers(page, 5) == []
    assert shows_about(table_row(page, "Russia"), 7)
    assert "Türkiye" not in page and "Turkey" not in page


# -- filters ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "since=yesterday",
        "since=2026-02-30",
        "until=99999-01-01",
        "since=2026-05-01&until=2026-01-01",
        "version=abc",
        "version=-1",
        "version=99999999999999999999",
        "country=ZZ",
        "country=%3Cimg%20src%3Dx%3E",
        "survey=%3Cscript%3Ealert(1)%3C/script%3E",
        "since=%00",
        "country=ru&since=2000-01-01&until=2100-12-31&version=1",
    ],
)
def test_bad_filters_get_a_message_not_an_error(client, query, signed_in, seed):
    seed("RU", 5)
    signed_in("analyst")
    response = client.get(f"/analyst/?lang=en&{query}")
    assert response.status_code in (200, 400), response.status_code
    if response.status_code == 200:
        assert "<script>alert(1)" not in response.text
        assert "<img src=x>" not in response.text
        if query.startswith("country=ru&"):
            assert "Some filters were not applied" not in response.text
        else:
            assert "Some filters were not applied" in response.text


def test_date_and_version_filters_select_responses(client, signed_in, seed):
    seed("RU", 6)
    signed_in("analyst")
    today = dt.date.today()
    empty = client.get(f"/analyst/?lang=en&until={today - dt.timedelta(days=3)}").text
    assert "Russia" not in empty
    full = client.get(f"/analyst/?lang=en&since={today}&version=1").text
    assert shows_about(table_row(full, "Russia"), 6)


# -- escaping -----------------------------------------------------------------------------------


def test_hostile_text_is_escaped_wherever_it_is_shown(client, signed_in, make_response):
    for payload in (IMG, TEMPLATE):
        for _ in range(5):
            make_response(**answers_for("TR", city=payload, proposals=payload))
    signed_in("analyst")
    escaped = html.escape(IMG, quote=False)
    for url in ("/analyst/?lang=en", "/analyst/countries?lang=en", "/analyst/countries/TR?lang=en"):
        page = client.get(url).text
        assert IMG not in page, url
        assert "<script" not in page, url
    page = client.get("/analyst/countries/TR?lang=en").text
    assert escaped in page  # in the proposals and the places table
    assert page.count(escaped) >= 2
    assert f'<li dir="auto">{TEMPLATE}</li>' in page  # shown as text, in no script at all


def test_hostile_strings_from_synthetic_data_are_escaped(client, runner, signed_in):
    result = runner.invoke(args=["atlas", "generate-synthetic", "3000", "--seed", "7"])
    assert result.exit_code == 0, result.output
    signed_in("analyst")
    shown = 0
    for country in ("CN", "UZ", "RU", "TR", "MN"):
        page = client.get(f"/analyst/countries/{country}?lang=en").text
        for payload in HOSTILE_STRINGS:
            if "<" in payload:
                assert payload not in page
            if html.escape(payload, quote=False) in page or html.escape(payload) in page:
                shown += 1
        assert "<script" not in page
        assert "onerror=alert" not in page.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    assert shown, "no hostile string reached a page: the test checked nothing"


# -- proposals and the audit log ------------------------------------------------------------------


def test_viewing_proposals_is_recorded_and_only_analysts_see_them(client, signed_in, seed):
    seed("RU", 5, proposals="Open a Kazakh school in Omsk")
    signed_in("admin")
    page = client.get("/analyst/countries/RU?lang=en").text
    assert "Open a Kazakh school" not in page
    assert db.session.scalar(select(AuditEvent).filter_by(action="view_proposals")) is None
    analyst = client.application.test_client()
    signed_in("analyst", client=analyst)
    page = analyst.get("/analyst/countries/RU?lang=en").text
    assert "Open a Kazakh school in Omsk" in page
    event = db.session.scalar(select(AuditEvent).filter_by(action="view_proposals"))
    assert event is not None
    assert event.target == "country:RU"
    assert "Omsk" not in str(event.details)  # who/what/when, never the answers


# -- the printable report -------------------------------------------------------------------------


def test_report_uses_k10_carries_no_free_text_and_stands_alone(client, signed_in, seed):
    seed("RU", 12, proposals="My own words", occupation_detail="Surgeon")
    seed("RU", 7, sex="male")
    seed("RU", 6, region="RU-OMS", city=IMG)
    seed("TR", 3)
    seed("UZ", 10)  # Türkiye's 3 is hidden, and Uzbekistan's 10 with it (not Russia's 25)
    signed_in("analyst")
    response = client.get("/analyst/countries/RU/report?lang=ru")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert "diaspora-profile-RU-ru.html" in response.headers["Content-Disposition"]
    csp = response.headers["Content-Security-Policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp
    report = response.text
    style = re.search(r"<style>(.*?)</style>", report, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp  # its own stylesheet, and only that
    assert '<html lang="ru"' in report
    assert "<script" not in report and "<link" not in report
    assert not re.search(r"(src|href|url)[=(][\"']?(https?:)?//", report)
    assert "My own words" not in report and "Surgeon" not in report
    assert IMG not in report and html.escape(IMG, quote=False) not in report  # typed cities
    assert small_numbers(report, 10) == []
    assert "менее 10" in report and "fewer than" not in report  # the public k, in Russian
    assert db.session.scalar(select(AuditEvent).filter_by(action="download_country_report"))


def test_pages_credit_the_boundary_and_place_data(client, signed_in, seed):
    """GeoNames (CC BY 4.0) and Natural Earth are credited wherever their data are drawn."""
    seed("RU", 12)
    signed_in("analyst")
    for url in (
        "/analyst/?lang=en",
        "/analyst/countries/RU?lang=en",
        "/analyst/countries/RU/report?lang=en",
    ):
        page = client.get(url).text
        assert "Made with Natural Earth" in page and "GeoNames" in page and "CC BY 4.0" in page


@pytest.mark.parametrize("lang", ["kk", "kk-Arab", "en", "zh-Hans"])
def test_report_in_every_offered_language(client, lang, signed_in, seed):
    seed("RU", 10)
    signed_in("analyst")
    response = client.get(f"/analyst/countries/RU/report?lang={lang}")
    assert response.status_code == 200
    assert f'lang="{lang}"' in response.text
    assert ('dir="rtl"' in response.text) == (lang == "kk-Arab")


def test_report_in_a_language_not_offered_is_not_found(client, signed_in):
    signed_in("analyst")
    assert client.get("/analyst/countries/RU/report?lang=xx").status_code == 404


# -- data -----------------------------------------------------------------------------------------


def test_kept_counts_read_indexed_columns_and_role_answers(db, make_response):
    from app import counts

    make_response(
        language="tr", link_id=4, **answers_for("TR", skills=["law", "it"], scripts=["latin"])
    )
    make_response(**answers_for("RU"))
    scope = counts.scope_of(SLUG)
    rows = counts.rows(scope, counts.FACT_NAMES)
    found = {(f, v): n for f, v, n in rows[["fact", "value", "n"]].itertuples(index=False)}
    assert found[("all", "")] == 2
    assert found[("language", "tr")] == 1 and found[("link", "4")] == 1
    assert found[("age_sex", f"25-34{counts.SEP}female")] == 2
    assert found[("skills", "law")] == found[("skills", "it")] == 1
    assert found[("scripts", "latin")] == 1
    assert found[("education", "master")] == 2
    assert found[("years", "10-19")] == 2  # 12 years in the country
    assert found[("association_member", "no")] == 2
    assert found[("citizenship_category", "residence")] == 2
    ru = counts.rows(counts.scope_of(SLUG, country="RU"), ["all"])
    assert ru["n"].tolist() == [1]
    assert counts.rows(counts.scope_of(SLUG, version=2), ["all"]).empty
    yesterday = dt.date.today() - dt.timedelta(days=1)
    assert counts.rows(counts.scope_of(SLUG, until=yesterday), ["all"]).empty
    assert counts.rows(counts.scope_of(SLUG, since=dt.date.today()), ["all"])["n"].sum() == 2
    assert counts.rows(counts.scope_of("no-such-survey"), ["all"]).empty


def test_generate_synthetic_follows_the_questionnaire(runner, db):
    result = runner.invoke(args=["atlas", "generate-synthetic", "400", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(Response)) == 400
    questionnaire = questionnaire_of(questionnaires.latest(questionnaires.find(SLUG)))
    choices = {
        q.name: {c.name for c in questionnaire.choice_list(q)}
        for q in questionnaire.questions()
        if q.type in ("select_one", "select_multiple")
    }
    for response in db.session.scalars(select(Response).limit(200)):
        for name, value in response.answers.items():
            if name in choices:
                values = value if isinstance(value, list) else [value]
                assert set(values) <= choices[name], (name, value)
        assert response.country == response.answers["residence"]["country"]
    assert not db.session.scalar(
        select(func.count()).select_from(Response).where(Response.country.is_(None))
    )
    again = runner.invoke(args=["atlas", "generate-synthetic", "10", "--survey", "nope"])
    assert again.exit_code != 0


def test_drop_off_counts_started_and_submitted(client, runner, signed_in):
    runner.invoke(args=["atlas", "generate-synthetic", "200", "--seed", "5"])
    signed_in("analyst")
    page = client.get("/analyst/?lang=en").text
    row = table_row(page, "Submitted")
    assert shows_about(row, 200)
    assert small_numbers(page, 5) == []


def test_dashboard_counts_responses_by_link_and_by_association(
    client, signed_in, make_response, seed
):
    from app.links import services as links

    survey = questionnaires.find(SLUG)
    birlik = accounts.create_organisation("birlik", {"en": "Birlik society"}, "TR")
    dostyq = accounts.create_organisation("dostyq", {"en": "Dostyq club"}, "DE")
    flyer = links.create_link(survey, birlik, "Mosque flyer")
    radio = links.create_link(survey, birlik, "Radio spot")
    club = links.create_link(survey, dostyq, "Club evening")
    labels, owners = link_labels("en")
    assert labels == {flyer.id: "Mosque flyer", radio.id: "Radio spot", club.id: "Club evening"}
    assert owners[radio.id] == "Birlik society" and owners[club.id] == "Dostyq club"
    for link, n in ((flyer, 12), (radio, 9), (club, 3)):
        for _ in range(n):
            make_response(link_id=link.id, **answers_for("TR"))
    seed("TR", 20)  # came without a link
    signed_in("analyst")
    page = client.get("/analyst/?lang=en").text
    by_link = page.split("Responses by distribution link", 1)[1].split("</table>")[0]
    assert shows_about(table_row(by_link, "Mosque flyer"), 12)
    assert shows_about(table_row(by_link, "No link (came directly)"), 20)
    assert "fewer than 5" in table_row(by_link, "Club evening")
    assert "not shown" in table_row(by_link, "Radio spot")  # or 3 = total minus the others
    by_owner = page.split("Responses by association", 1)[1].split("</table>")[0]
    assert shows_about(table_row(by_owner, "Birlik society"), 21)  # both of its links
    assert "fewer than 5" in table_row(by_owner, "Dostyq club")  # 3 respondents
    assert small_numbers(page, 5) == []


def test_pages_follow_new_and_withdrawn_responses(client, signed_in, make_response, seed):
    from app.responses import withdraw

    seed("RU", 6)
    signed_in("analyst")
    assert shows_about(table_row(client.get("/analyst/?lang=en").text, "Russia"), 6)
    receipts = [make_response(**answers_for("RU")).receipt for _ in range(3)]
    assert shows_about(table_row(client.get("/analyst/?lang=en").text, "Russia"), 9)
    assert withdraw(receipts[-1])
    assert shows_about(table_row(client.get("/analyst/?lang=en").text, "Russia"), 8)
    seed("RU", 1)
    assert shows_about(table_row(client.get("/analyst/countries?lang=en").text, "Russia"), 9)
