"""Inputs that used to answer 500: each is now refused with a status and a reason (issue 10).

Every test sends what a person, a script or an attacker could send and checks what comes back:
the page again with the message next to the field, 404 for a thing that cannot exist, 400 or
422 with a reason, 429 when too many.
"""

from __future__ import annotations

import html
import re

import pytest

from tests.respondent import FORM_ANSWERS, Respondent, csrf_token

# -- 1. the location question -----------------------------------------------------------------

LONG_CITY = "Қ" * 201


def location_block(page: str) -> str:
    """Return the markup of the residence question, from its box to the next question's."""
    match = re.search(r'<div class="q[^"]*" id="q-residence".*?(?=<div class="q[ "])', page, re.S)
    assert match, "no residence question on the page"
    return match.group(0)


def send_residence(client, respondent: Respondent, location: dict[str, str], js: bool):
    """Send the residence page as a browser with or without JavaScript would."""
    page = client.get(respondent.url).text
    data = {
        "csrf_token": csrf_token(page),
        "_shown": html.unescape(re.search(r'name="_shown" value="([^"]*)"', page).group(1)),
        "_js": "1" if js else "0",
        "_action": "next",
        "residence-regions_for": location.get("residence-country", ""),
        "arrival_reason": FORM_ANSWERS["arrival_reason"],
        **location,
    }
    return client.post(respondent.url, data=data)


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize(
    ("location", "message"),
    [
        ({"residence-country": "", "residence-city": ""}, "Please answer this question."),
        ({"residence-country": "", "residence-city": "Алматы"}, "Choose a country first."),
        (
            {"residence-country": "KZ", "residence-region": "KZ-75", "residence-city": LONG_CITY},
            "Use at most 200 characters.",
        ),
    ],
    ids=["empty", "city-without-country", "city-of-201-characters"],
)
def test_refused_location_shows_the_page_again_with_the_message_by_the_field(
    client, location, message, js
):
    respondent = Respondent(client, "en")
    respondent.start()
    page = send_residence(client, respondent, location, js)
    assert page.status_code == 422
    block = location_block(page.text)
    # The message is inside the location's fieldset, announced with it, and nothing is lost.
    assert re.search(r'<p class="error" id="error-residence">\s*' + re.escape(message), block)
    assert 'aria-describedby="hint-residence error-residence"' in block
    assert "has-error" in block.split(">", 1)[0]
    city = location["residence-city"]
    if city:
        assert f'value="{city}"' in block
    if location["residence-country"]:
        assert f'<option selected value="{location["residence-country"]}">' in block
    assert re.search(r'<input checked[^>]*value="born_there"', page.text)
    # The same page comes back from the draft with what was typed.
    again = client.get(respondent.url).text
    if city:
        assert f'value="{city}"' in location_block(again)
