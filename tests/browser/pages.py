"""What the browser tests share: a phone's screen, the receipt code's shape, and a respondent's
browser tab (:class:`Visit`) walking the bundled questionnaire."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect
from playwright.sync_api import Response as PlaywrightResponse
from sqlalchemy import select

from app.extensions import db
from app.models import Response
from tests.respondent import SLUG

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


def stored_responses(app: Flask) -> list[Response]:
    with app.app_context():
        rows = list(db.session.scalars(select(Response)))
        db.session.remove()
        return rows
