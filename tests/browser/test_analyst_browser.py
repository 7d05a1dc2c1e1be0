"""An analyst opens the dashboard and a country profile in Chromium; nothing leaves this machine."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect

from app.accounts import services as accounts
from app.demo import insert_synthetic
from app.maps.publish import build_published_maps
from tests.browser.conftest import CHROMIUM
from tests.conftest import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium)",
    ),
]


@pytest.fixture
def analyst_data(app: Flask, tmp_path) -> None:
    """An analyst, synthetic responses, and the published maps built from them."""
    app.config["MAPS_DIR"] = str(tmp_path / "maps")
    with app.app_context():
        accounts.create_user("analyst@example.org", PASSWORD, "analyst")
        insert_synthetic(1500, "kazakh-diaspora", seed=4)
        build_published_maps("kazakh-diaspora", ["en"], tmp_path / "maps")


def test_analyst_reads_a_country_profile_and_the_dashboard(
    browser: Browser, live_server: str, analyst_data: None
) -> None:
    context = browser.new_context(locale="en-GB")
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{live_server}/account/login?lang=en")
    page.fill("input[name=email]", "analyst@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")

    page.goto(f"{live_server}/analyst/countries?lang=en")
    page.get_by_role("link", name="Russia").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kazakhs in Russia")
    for heading in (
        "Respondents by sex and age",
        "Skills",
        "Needs, ranked",
        "Regions and cities",
        "Proposals",
    ):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    tables = page.locator("table.analyst-table")
    assert tables.count() >= 10
    pyramid = page.locator("#figure-pyramid table")
    expect(pyramid.locator("thead th").first).to_have_text("Age")
    assert pyramid.locator("tbody tr").count() >= 6
    # The profile map is the published build, in a sandboxed frame, drawn by Leaflet.
    page.locator("iframe.analyst-map").scroll_into_view_if_needed()  # it loads lazily
    frame = page.frame_locator("iframe.analyst-map")
    expect(frame.locator(".leaflet-container")).to_be_visible()

    page.goto(f"{live_server}/analyst/?lang=en")
    expect(page.get_by_role("heading", name="Headline indicators")).to_be_visible()
    expect(page.frame_locator("iframe.analyst-map").locator(".atlas-legend")).to_be_visible()
    page.wait_for_load_state("networkidle")

    assert errors == []
    hosts = {urlsplit(url).hostname for url in requests if not url.startswith("data:")}
    assert hosts == {"127.0.0.1"}, hosts
    context.close()
