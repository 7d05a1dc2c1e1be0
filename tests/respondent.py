"""A respondent walking the bundled questionnaire through the Flask test client."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

from flask.testing import FlaskClient

SLUG = "kazakh-diaspora"
#: The JSON submission API of the bundled questionnaire.
API_URL = f"/api/v1/surveys/{SLUG}/submissions"

#: Valid form answers for every page of the bundled questionnaire, by input name.
FORM_ANSWERS: dict[str, Any] = {
    "residence-country": "CN",
    "residence-regions_for": "CN",
    "residence-region": "CN-XJ",
    "residence-city": "Үрімжі",
    "residence-lat": "43.8256",
    "residence-lon": "87.6168",
    "arrival_reason": "born_there",
    "citizenship": "CN",
    "second_citizenship": "",
    "sex": "female",
    "age": "34",
    "education": "master",
    "occupation": "health",
    "occupation_detail": "Дәрігер",
    "skills": ["healthcare", "teaching"],
    "experience": "Ten years in a regional hospital",
    "years_experience": "10",
    "languages": ["kk", "zh", "ru"],
    "scripts": ["arabic", "cyrillic"],
    "ties": ["family", "visits"],
    "visit_frequency": "yearly",
    "return_intention": "maybe",
    "needs": ["kazakh_language", "legal_kandas"],
    "proposals": "Open Kazakh classes in Ürümqi",
    "contribution": ["mentoring"],
    "association_member": "no",
    "specialist_consent": "no",
    "contact_ok": "no",
}


def api_body(**answers: Any) -> dict[str, Any]:
    """Return a JSON API submission (a new submission id, in Russian, with consent) of a
    respondent in Tashkent; ``answers`` replace top-level answers."""
    base: dict[str, Any] = {
        "residence": {
            "country": "UZ",
            "region": "UZ-TK",
            "city": "Tashkent",
            "geo": [41.3111, 69.2797],
        },
        "citizenship": "UZ",
        "sex": "male",
        "age": 52,
        "skills": ["agriculture", "management"],
        "needs": ["legal_kandas"],
        "association_member": "yes",
        "association_name": "Qazaq Birlestigi",
    }
    base.update(answers)
    return {
        "submission_id": str(uuid.uuid4()),
        "language": "ru",
        "consent": {"given": True, "version": "1"},
        "answers": base,
    }


def csrf_token(page: str) -> str:
    """Return the CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def input_names(page: str) -> set[str]:
    """Return the names of the inputs on a page."""
    return {html.unescape(n) for n in re.findall(r'name="([^"]+)"', page)}


class Respondent:
    """Walks the survey like a person without JavaScript: one page, one POST."""

    def __init__(self, client: FlaskClient, lang: str | None = "kk", slug: str = SLUG) -> None:
        self.client = client
        self.slug = slug
        self.lang = lang
        self.url: str | None = None
        self.token: str | None = None

    def start(self) -> Any:
        """Agree on the consent page; return the response of the first page."""
        query = f"?lang={self.lang}" if self.lang else ""
        page = self.client.get(f"/s/{self.slug}{query}")
        assert page.status_code == 200, page.status_code
        response = self.client.post(
            f"/s/{self.slug}{query}",
            data={"csrf_token": csrf_token(page.text), "agree": "y", "lang": self.lang or ""},
        )
        assert response.status_code == 303, response.status_code
        self.url = response.headers["Location"]
        self.token = self.url.split("/d/")[1].split("/")[0]
        return self.client.get(self.url)

    def send(self, answers: dict[str, Any], action: str = "next", **extra: Any) -> Any:
        """Send the current page with the answers that belong on it."""
        page = self.client.get(self.url)
        names = input_names(page.text)
        data = {k: v for k, v in answers.items() if k in names}
        data.update(csrf_token=csrf_token(page.text), _action=action, _js="1", **extra)
        return self.client.post(self.url, data=data)

    def follow(self, response: Any) -> None:
        """Move to the page a redirect points at."""
        assert response.status_code == 303, (response.status_code, response.text[:2000])
        self.url = response.headers["Location"]

    def answer_all(self, answers: dict[str, Any] | None = None) -> Any:
        """Answer every page with ``answers``; return the review page."""
        answers = FORM_ANSWERS if answers is None else answers
        self.start()
        for _ in range(30):
            if self.url.endswith("/review"):
                return self.client.get(self.url)
            self.follow(self.send(answers))
        raise AssertionError("never reached the review page")

    def submit(self) -> Any:
        """Send the review page; return the response (a redirect to the thank-you page)."""
        review = self.client.get(f"/s/{self.slug}/d/{self.token}/review")
        return self.client.post(
            f"/s/{self.slug}/d/{self.token}/review", data={"csrf_token": csrf_token(review.text)}
        )

    def complete(self, answers: dict[str, Any] | None = None) -> str:
        """Answer, submit, and return the receipt code from the thank-you page."""
        self.answer_all(answers)
        response = self.submit()
        assert response.status_code == 303, response.text[:2000]
        done = self.client.get(response.headers["Location"])
        match = re.search(r'class="receipt-code" dir="ltr">([A-Z2-7-]+)<', done.text)
        assert match, done.text
        return match.group(1)
