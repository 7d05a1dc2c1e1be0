"""Respondent pages are light and load nothing from other hosts."""

from __future__ import annotations

import re

from tests.respondent import FORM_ANSWERS, SLUG, Respondent

ASSET = re.compile(r'(?:src|href)="([^"]+)"')


def assets_of(page: str) -> list[str]:
    return [url for url in ASSET.findall(page) if not url.startswith(("#", "data:", "/s/", "?"))]


def test_every_survey_page_with_its_css_and_js_weighs_under_60_kb(client):
    respondent = Respondent(client, "kk")
    pages = [respondent.start().text]
    for _ in range(12):
        response = respondent.send(FORM_ANSWERS)
        if response.status_code != 303 or response.headers["Location"].endswith("/review"):
            break
        respondent.follow(response)
        pages.append(client.get(respondent.url).text)
    assert len(pages) >= 8
    for page in pages:
        local = [u for u in assets_of(page) if u.startswith("/static/")]
        weight = len(page.encode())
        for url in local:
            asset = client.get(url)
            weight += len(asset.data)
            asset.close()
        assert weight < 60 * 1024, weight


def test_respondent_pages_reference_no_other_host(client):
    respondent = Respondent(client, "en")
    pages = [client.get(f"/s/{SLUG}?lang=en").text, respondent.start().text]
    pages.append(client.get("/withdraw").text)
    pages.append(client.get("/").text)
    for page in pages:
        for url in assets_of(page):
            # Only the resume link is absolute, and it uses the configured BASE_URL.
            assert not url.startswith(("http:", "https:", "//")) or url.startswith(
                "http://atlas.example/"
            ), url
        assert '<script src="http' not in page


def test_pages_forbid_other_origins_by_policy(client):
    response = client.get(f"/s/{SLUG}")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert response.headers["Referrer-Policy"] == "no-referrer"
