"""Page navigation: next and previous relevant pages, and the progress shown, without Flask."""

from __future__ import annotations

import pytest

from forms.loader import load_document
from forms.navigation import next_index, previous_index, progress


def _texts(text: str) -> dict[str, str]:
    return {"en": text}


@pytest.fixture(scope="module")
def questionnaire():
    """Four pages: the second only for those abroad, the fourth only for those who work."""
    pages = [
        ("home", None),
        ("abroad", "${lives_abroad} = 'yes'"),
        ("work", None),
        ("job", "${works} = 'yes'"),
    ]
    groups = [
        {"name": name, "label": _texts(name), **({"relevant": rule} if rule else {})}
        for name, rule in pages
    ]
    yes_no = {"type": "select_one", "choices": "yes_no"}
    return load_document(
        {
            "settings": {
                "slug": "navigation",
                "title": _texts("Navigation"),
                "languages": ["en"],
                "default_language": "en",
                "consent": {"version": "1", "text": _texts("Consent")},
            },
            "groups": groups,
            "survey": [
                {**yes_no, "name": "lives_abroad", "group": "home", "label": _texts("Abroad?")},
                {
                    "type": "country",
                    "name": "country",
                    "group": "abroad",
                    "label": _texts("Where?"),
                },
                {**yes_no, "name": "works", "group": "work", "label": _texts("Work?")},
                {"type": "text", "name": "job", "group": "job", "label": _texts("Job")},
            ],
            "choices": {
                "yes_no": [
                    {"name": "yes", "label": _texts("Yes")},
                    {"name": "no", "label": _texts("No")},
                ]
            },
            "roles": {},
        },
        "navigation.yaml",
    )


def test_the_first_page_is_the_first_relevant_one(questionnaire):
    assert next_index(questionnaire, {}, -1) == 0


def test_irrelevant_pages_are_skipped_forwards(questionnaire):
    assert next_index(questionnaire, {"lives_abroad": "no"}, 0) == 2
    assert next_index(questionnaire, {"lives_abroad": "yes"}, 0) == 1


def test_after_the_last_relevant_page_comes_the_review(questionnaire):
    assert next_index(questionnaire, {"works": "no"}, 2) is None
    assert next_index(questionnaire, {"works": "yes"}, 2) == 3
    assert next_index(questionnaire, {"works": "yes"}, 3) is None


def test_irrelevant_pages_are_skipped_backwards(questionnaire):
    assert previous_index(questionnaire, {"lives_abroad": "no"}, 2) == 0
    assert previous_index(questionnaire, {"lives_abroad": "yes"}, 2) == 1


def test_back_from_the_first_page_stays_there(questionnaire):
    assert previous_index(questionnaire, {}, 0) == 0


def test_back_from_the_review_is_the_last_relevant_page(questionnaire):
    pages = len(questionnaire.groups)
    assert previous_index(questionnaire, {"works": "no"}, pages) == 2
    assert previous_index(questionnaire, {"works": "yes"}, pages) == 3


def test_progress_counts_the_relevant_pages_and_the_review(questionnaire):
    assert progress(questionnaire, {}, 0) == (1, 3)  # home, work, review
    assert progress(questionnaire, {}, 2) == (2, 3)
    answers = {"lives_abroad": "yes", "works": "yes"}
    assert progress(questionnaire, answers, 3) == (4, 5)


def test_a_page_that_became_irrelevant(questionnaire):
    # The respondent was on the "abroad" page, went back and now lives at home.
    answers = {"lives_abroad": "no"}
    assert progress(questionnaire, answers, 1) == (1, 3)  # counted as the first step
    assert next_index(questionnaire, answers, 1) == 2
    assert previous_index(questionnaire, answers, 1) == 0
