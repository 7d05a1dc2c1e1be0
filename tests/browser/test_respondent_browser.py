"""A respondent on a phone completes the survey in Kazakh in a real browser, with and without
JavaScript, and nothing the browser asks for leaves this machine."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect

from forms.loader import load_path
from tests.browser.conftest import CHROMIUM
from tests.browser.pages import PHONE, RECEIPT, Visit, stored_responses
from tests.conftest import BUNDLED
from tests.respondent import FORM_ANSWERS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium)",
    ),
]


@pytest.fixture(params=[True, False], ids=["javascript", "no-javascript"])
def javascript(request: pytest.FixtureRequest) -> bool:
    """Whether the phone runs the page's scripts."""
    return request.param


@pytest.fixture
def phone(browser: Browser, javascript: bool) -> Iterator[BrowserContext]:
    """A fresh phone-sized browser context, with or without JavaScript."""
    context = browser.new_context(**PHONE, java_script_enabled=javascript)
    yield context
    context.close()


def test_phone_respondent_completes_the_survey_in_kazakh(
    phone: BrowserContext, javascript: bool, live_server: str, app: Flask
) -> None:
    visit = Visit(phone, live_server)
    page = visit.page
    visit.start()

    # The questions speak Kazakh, in the words of the questionnaire file.
    expect(page.locator("fieldset.location legend")).to_contain_text(
        "Қай елде, қай өңірде және қай қалада немесе ауылда тұрасыз?"
    )
    expect(page.locator("label", has_text="Осы елде неше жылдан бері тұрасыз?")).to_have_count(1)

    visit.choose_place(javascript)

    seen: list[str] = []
    live_checks: list[str] = []

    def look(page: Page) -> None:
        seen.append(page.locator("h1").inner_text())
        assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == [
            "kk",
            "ltr",
        ]
        assert visit.fits_the_screen(), seen[-1]
        if javascript and page.locator('[name="association_member"]').count():
            _association_name_appears_without_a_round_trip(visit)
            live_checks.append(page.url)

    visit.answer_until_review(FORM_ANSWERS, look)
    # Every page of the questionnaire, in order, titled in Kazakh (without scripts a page whose
    # answers make a question appear is shown twice).
    questionnaire = load_path(BUNDLED)
    assert list(dict.fromkeys(seen)) == [
        questionnaire.text(group.label, "kk") for group in questionnaire.groups
    ]

    review = page.locator("main")
    for typed in ("Үрімжі", "Дәрігер", "Қытай", "Магистратура"):
        expect(review).to_contain_text(typed)
    assert len(live_checks) == int(javascript)
    code = visit.submit()
    assert RECEIPT.match(code), code
    assert visit.fits_the_screen()

    rows = stored_responses(app)
    assert len(rows) == 1
    # The typed Kazakh name is kept in the answers and matched to the GeoNames place (as in
    # tests/test_survey_flow.py).
    assert rows[0].answers["residence"]["city"] == "Үрімжі"
    assert (rows[0].country, rows[0].region, rows[0].city) == ("CN", "CN-XJ", "Ürümqi")
    assert rows[0].language == "kk"
    assert visit.hosts() == {"127.0.0.1"}, sorted(set(visit.requests))
    fetched_regions = any("/api/v1/places/regions?" in url for url in visit.requests)
    assert fetched_regions == javascript


def _association_name_appears_without_a_round_trip(visit: Visit) -> None:
    """Picking 'yes' shows the association's name question at once, with no request."""
    page = visit.page
    name = page.locator("#q-association_name")
    expect(name).to_be_hidden()
    before = len(visit.requests)
    page.locator('[name="association_member"][value="yes"]').check()
    expect(name).to_be_visible()
    expect(name.locator("label")).to_have_text("Қауымдастықтың атауы")
    page.locator('[name="association_member"][value="no"]').check()
    expect(name).to_be_hidden()
    assert len(visit.requests) == before, visit.requests[before:]


def test_invalid_age_is_refused_next_to_the_question_and_kept(
    browser: Browser, live_server: str
) -> None:
    context = browser.new_context(**PHONE)
    try:
        visit = Visit(context, live_server)
        page = visit.page
        visit.start()
        visit.choose_place(javascript=True)
        while not page.locator('[name="age"]').count():
            visit.answer(FORM_ANSWERS)
            visit.next_page()

        visit.answer({**FORM_ANSWERS, "age": "abc"})
        refused = visit.next_page()
        assert refused is not None and refused.status == 422

        age = page.locator("#q-age")
        expect(age).to_have_class(re.compile(r"\bhas-error\b"))
        error = age.locator(".error")
        expect(error).to_be_visible()
        expect(error).not_to_be_empty()
        expect(age.locator("label")).to_contain_text("Жасыңыз нешеде?")
        field = page.locator('input[name="age"]')
        expect(field).to_have_value("abc")
        expect(field).to_have_attribute("aria-describedby", re.compile(r"\berror-age\b"))
        # The other answers on the page are kept too.
        expect(page.locator('[name="sex"][value="female"]')).to_be_checked()
        assert visit.hosts() == {"127.0.0.1"}
    finally:
        context.close()
