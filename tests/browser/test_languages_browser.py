"""A respondent completes the bundled questionnaire in every language and script in Chromium.

Each run checks what the reader sees: the page's ``lang`` and ``dir``, labels and validation
messages in the language (from the questionnaire file and the catalogs), a layout mirrored for
right-to-left, and no sideways scrolling on a phone. Screenshots of the first question page go to
``$ATLAS_SCREENSHOTS`` (default: pytest's temporary directory) for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from app import ROOT
from app.i18n import catalog_name
from forms.loader import load_path
from tests.browser.conftest import CHROMIUM
from tests.browser.pages import LOCATION_PARTS, PHONE, RECEIPT, Visit, stored_responses
from tests.conftest import BUNDLED
from tests.respondent import FORM_ANSWERS, SLUG

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: run `make chromium`"),
]

LANGUAGES = ["kk", "kk-Latn", "kk-Arab", "zh-Hans", "ru", "en", "tr", "mn", "uz-Latn"]


def ui(lang: str, msgid: str) -> str:
    """Return the catalog's text for ``msgid`` in ``lang`` (the msgid itself in English)."""
    if lang == "en":
        return msgid
    path = ROOT / "translations" / catalog_name(lang) / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        message = read_po(handle).get(msgid)
    assert message and message.string, f"{msgid!r} is not translated in {path}"
    return message.string


def screenshot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("ATLAS_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def lang_and_dir(page: Page) -> list[str]:
    return page.evaluate("[document.documentElement.lang, document.documentElement.dir]")


def box_x(page: Page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box, selector
    return box["x"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_respondent_completes_the_survey_in_each_language(
    browser: Browser, live_server: str, app: Flask, tmp_path: Path, lang: str
) -> None:
    questionnaire = load_path(BUNDLED)
    direction = "rtl" if lang == "kk-Arab" else "ltr"
    context = browser.new_context(**PHONE)
    try:
        visit = Visit(context, live_server)
        page = visit.page
        page.goto(f"{live_server}/s/{SLUG}?lang={lang}")
        assert lang_and_dir(page) == [lang, direction]
        expect(page.locator("main")).to_contain_text(ui(lang, "Before you start"))
        expect(page.locator("main")).to_contain_text(questionnaire.title[lang])
        # Refusing consent is explained in the language.
        visit.press("form button[type=submit]")
        expect(page.locator("main")).to_contain_text(
            ui(lang, "To take part, tick the box to say you agree.")
        )
        page.locator("input[name=agree]").check()
        visit.press("form button[type=submit]")
        assert "/p/" in page.url, page.url

        # First page: the location question in the language, the country list in its names.
        legend = questionnaire.question("residence").label[lang]
        expect(page.locator("fieldset.location legend")).to_contain_text(legend)
        page.locator('select[name="residence-country"]').select_option("CN")
        region = page.locator('select[name="residence-region"]')
        expect(region.locator('option[value="CN-XJ"]')).to_have_count(1)
        region.select_option("CN-XJ")
        page.locator('input[name="residence-city"]').fill("Үрімжі")
        assert visit.fits_the_screen()
        page.screenshot(path=str(screenshot_dir(tmp_path) / f"{lang}-first.png"), full_page=True)

        seen: list[str] = []
        for _ in range(30):
            if page.url.endswith("/review"):
                break
            assert lang_and_dir(page) == [lang, direction], page.url
            assert visit.fits_the_screen(), page.url
            seen.append(page.locator("h1").inner_text())
            if page.locator('[name="age"]').count():
                _age_is_refused_in_the_language(visit, lang, tmp_path)
            if page.locator("button[name=_action][value=back]").count():
                _navigation_is_mirrored(page, direction)
            visit.answer({k: v for k, v in FORM_ANSWERS.items() if k not in LOCATION_PARTS})
            visit.next_page()
        else:
            raise AssertionError(f"never reached the review page; stuck at {page.url}")

        titles = [questionnaire.text(group.label, lang) for group in questionnaire.groups]
        assert list(dict.fromkeys(seen)) == titles
        assert lang_and_dir(page) == [lang, direction]
        occupation = next(c for c in questionnaire.choices["education"] if c.name == "master")
        expect(page.locator("main")).to_contain_text(occupation.label[lang])
        page.screenshot(path=str(screenshot_dir(tmp_path) / f"{lang}-review.png"), full_page=True)

        code = visit.submit()
        assert RECEIPT.match(code), code
        assert lang_and_dir(page) == [lang, direction]
        expect(page.locator("main")).to_contain_text(ui(lang, "Your receipt code"))
        # The code is a left-to-right value, isolated even inside right-to-left text.
        assert (
            page.locator("code.receipt-code").evaluate("el => getComputedStyle(el).direction")
            == "ltr"
        )
        page.screenshot(path=str(screenshot_dir(tmp_path) / f"{lang}-done.png"), full_page=True)
        assert visit.hosts() == {"127.0.0.1"}, sorted(set(visit.requests))
    finally:
        context.close()
    rows = stored_responses(app)
    assert [row.language for row in rows] == [lang]


def _age_is_refused_in_the_language(visit: Visit, lang: str, tmp_path: Path) -> None:
    """An age out of range is refused next to the question, with the message in ``lang``."""
    page = visit.page
    visit.answer({k: v for k, v in FORM_ANSWERS.items() if k not in LOCATION_PARTS} | {"age": "7"})
    visit.next_page()
    error = page.locator("#error-age")
    message = ui(lang, "Enter a number from %(low)s to %(high)s.") % {"low": 16, "high": 110}
    expect(error).to_have_text(message)
    expect(page.locator('[name="age"]')).to_have_value("7")
    page.screenshot(path=str(screenshot_dir(tmp_path) / f"{lang}-error.png"), full_page=True)


def _navigation_is_mirrored(page: Page, direction: str) -> None:
    """Back sits at the start side (left in ltr, right in rtl), Next at the end side."""
    back = box_x(page, "button[name=_action][value=back]")
    next_ = box_x(page, "button[name=_action][value=next]")
    assert (back > next_) if direction == "rtl" else (back < next_), (back, next_)
    # The progress bar and headings start at the same side as the text.
    h1 = page.locator("h1").evaluate("el => getComputedStyle(el).textAlign")
    assert h1 in ("start", "right" if direction == "rtl" else "left")
