"""A respondent on a phone completes the survey in Kazakh in a real browser, with and without
JavaScript, and nothing the browser asks for leaves this machine."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect
from playwright.sync_api import Response as PlaywrightResponse
from sqlalchemy import select

from app.extensions import db
from app.models import Response
from forms.loader import load_path
from tests.browser.conftest import CHROMIUM
from tests.conftest import BUNDLED
from tests.respondent import FORM_ANSWERS, SLUG

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium)",
    ),
]

#: A phone: the size of an iPhone 12-15 screen, touch, mobile layout.
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
RECEIPT = re.compile(r"^[A-Z2-7]{4}(-[A-Z2-7]{2,4})+$")
#: Answered by hand on the first page (the region list depends on the country).
LOCATION_PARTS = {
    "residence-country",
    "residence-regions_for",
    "residence-region",
    "residence-city",
}


class Visit:
    """One respondent's browser tab, with every request it made."""

    def __init__(self, context: BrowserContext, base_url: str) -> None:
        self.base_url = base_url
        self.requests: list[str] = []
        context.on("request", lambda request: self.requests.append(request.url))
        self.page = context.new_page()

    def hosts(self) -> set[str | None]:
        """Return the host names of every request made so far."""
        return {urlsplit(url).hostname for url in self.requests}

    def fits_the_screen(self) -> bool:
        """Return whether the page needs no sideways scrolling."""
        return self.page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )

    def press(self, selector: str) -> PlaywrightResponse | None:
        """Press a submit button; wait for and return the page it leads to."""
        with self.page.expect_navigation() as navigation:
            self.page.locator(selector).click()
        return navigation.value

    def start(self) -> None:
        """Open the survey in Kazakh, agree, and land on the first page."""
        self.page.goto(f"{self.base_url}/s/{SLUG}?lang=kk")
        self.page.locator("input[name=agree]").check()
        self.press("form button[type=submit]")
        assert "/p/" in self.page.url, self.page.url

    def choose_place(self, javascript: bool) -> None:
        """Answer where the respondent lives: China from the list, a region in it, a city."""
        page = self.page
        page.locator('select[name="residence-country"]').select_option(label="Қытай")
        region = page.locator('select[name="residence-region"]')
        if javascript:  # the region list is fetched as soon as the country changes
            expect(region.locator('option[value="CN-XJ"]')).to_have_count(1)
        else:  # without scripts the page is drawn again with the country's regions
            self.press("button[name=_action][value=refresh]")
            expect(page.locator('select[name="residence-country"]')).to_have_value("CN")
        region.select_option("CN-XJ")
        page.locator('input[name="residence-city"]').fill("Үрімжі")

    def answer(self, answers: dict[str, Any]) -> None:
        """Answer every question now visible on the page whose input is in ``answers``."""
        for name, value in answers.items():
            inputs = self.page.locator(f'[name="{name}"]')
            if name in LOCATION_PARTS or not inputs.count() or not inputs.first.is_visible():
                continue
            kind = inputs.first.evaluate("el => el.tagName.toLowerCase() + ':' + el.type")
            if kind.startswith("select"):
                inputs.select_option(value)
            elif kind in ("input:radio", "input:checkbox"):
                for one in [value] if isinstance(value, str) else value:
                    self.page.locator(f'[name="{name}"][value="{one}"]').check()
            else:
                inputs.fill(value)

    def next_page(self) -> PlaywrightResponse | None:
        """Press Next; return the page it leads to."""
        return self.press("button[name=_action][value=next]")

    def answer_until_review(
        self, answers: dict[str, Any], look: Callable[[Page], None] | None = None
    ) -> None:
        """Answer each page and press Next until the review page; ``look`` sees each page."""
        for _ in range(30):
            if self.page.url.endswith("/review"):
                return
            if look:
                look(self.page)
            self.answer(answers)
            self.next_page()
        raise AssertionError(f"never reached the review page; stuck at {self.page.url}")

    def submit(self) -> str:
        """Send the review page; return the receipt code on the thank-you page."""
        self.press("form button.primary")
        assert self.page.url.endswith("/done"), self.page.url
        return self.page.locator("code.receipt-code").inner_text().strip()


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


def stored_responses(app: Flask) -> list[Response]:
    with app.app_context():
        rows = list(db.session.scalars(select(Response)))
        db.session.remove()
        return rows


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
