"""A coordinator creates a link, downloads its QR code and poster; a respondent completes the
survey through the short link in Chromium; the coordinator sees the completions once k is met."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, expect
from sqlalchemy import select

from app.accounts import services as accounts
from app.extensions import db
from app.links.models import DistributionLink
from app.models import Response
from tests.browser.conftest import CHROMIUM
from tests.browser.pages import PHONE, RECEIPT, Visit
from tests.conftest import PASSWORD, seed_completions
from tests.respondent import FORM_ANSWERS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium)",
    ),
]

EMAIL = "coordinator@example.org"


@pytest.fixture
def coordinator(app: Flask) -> None:
    """An association with one coordinator."""
    with app.app_context():
        org = accounts.create_organisation(
            "almaty-club", {"en": "Almaty Club", "kk": "Алматы клубы"}
        )
        accounts.create_user(EMAIL, PASSWORD, "coordinator", org)
        db.session.remove()


@pytest.fixture
def desk(browser: Browser) -> Iterator[BrowserContext]:
    """A desktop browser for the coordinator, which accepts downloads."""
    context = browser.new_context(accept_downloads=True, locale="en-GB")
    yield context
    context.close()


def test_coordinator_link_to_completed_response(
    app: Flask, live_server: str, browser: Browser, desk: BrowserContext, coordinator: None
) -> None:
    hosts: set[str | None] = set()
    desk.on("request", lambda request: hosts.add(urlsplit(request.url).hostname))
    page = desk.new_page()

    # Sign in; a coordinator lands on the links page.
    page.goto(f"{live_server}/account/login")
    page.locator("input[name=email]").fill(EMAIL)
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form button[type=submit]").click()
    assert urlsplit(page.url).path == "/links/", page.url

    # Create a link that opens the questionnaire in Kazakh.
    with page.expect_navigation():
        page.get_by_role("link", name="New link").click()
    page.locator("select[name=survey]").select_option(index=0)
    page.locator("input[name=label]").fill("Friday gathering flyer")
    page.locator("select[name=language]").select_option("kk")
    with page.expect_navigation():
        page.locator("form button.primary").click()
    url = page.locator("#link-url").inner_text().strip()
    assert url.startswith(f"{live_server}/l/"), url

    # Download the QR code as SVG and PNG.
    for kind, magic in (("SVG", b"<svg"), ("PNG", b"\x89PNG")):
        with page.expect_download() as download:
            page.get_by_role("link", name=f"QR code ({kind})").click()
        assert Path(download.value.path()).read_bytes().startswith(magic), kind

    # The poster in Kazakh, in Arabic script (right to left), and back.
    detail_url = page.url
    with page.expect_navigation():
        page.locator("main a[href$='/poster?lang=kk-Arab']").click()
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == [
        "kk-Arab",
        "rtl",
    ]
    expect(page.locator("h1")).to_have_text("شەتەلدەگى قازاقتار: دياسپورا كارتاسى")
    expect(page.locator(".poster-url")).to_have_text(url)
    expect(page.locator(".poster-qr svg")).to_have_count(1)
    page.emulate_media(media="print")
    assert page.pdf(format="A4")[:4] == b"%PDF"
    page.emulate_media(media="screen")

    # A respondent on a phone opens the short link and completes the survey in Kazakh.
    phone = browser.new_context(**PHONE)
    try:
        visit = Visit(phone, live_server)
        visit.page.goto(url)
        assert urlsplit(visit.page.url).path == "/s/kazakh-diaspora"
        assert visit.page.evaluate("document.documentElement.lang") == "kk"
        visit.page.locator("input[name=agree]").check()
        visit.press("form button[type=submit]")
        visit.choose_place(javascript=True)
        visit.answer_until_review(FORM_ANSWERS)
        assert RECEIPT.match(visit.submit())
        assert visit.hosts() == {"127.0.0.1"}
    finally:
        phone.close()

    with app.app_context():
        link = db.session.scalar(select(DistributionLink))
        assert [r.link_id for r in db.session.scalars(select(Response))] == [link.id]
        db.session.remove()

    # One completion is below k = 10: the coordinator sees no figure at all.
    page.goto(detail_url)
    expect(page.locator("#no-figures")).to_be_visible()
    expect(page.locator("#completed")).to_have_count(0)

    # Ten more through the same link, and the count appears (perturbed by at most 3).
    with app.app_context():
        seed_completions(db.session.get(DistributionLink, link.id), 10)
        db.session.remove()
    page.reload()
    completed = int(page.locator("#completed").inner_text())
    assert 10 <= completed <= 14, completed
    expect(page.locator("#started")).to_have_text(str(completed))
    assert hosts == {"127.0.0.1"}, hosts
