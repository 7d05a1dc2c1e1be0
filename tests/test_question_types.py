"""Every registered question type declares what the other modules ask of it.

The OpenAPI description, the exports, retention, the builder and the templates never branch on
a question's ``type``: they ask its class. A new type that leaves one of these out fails here,
not in production.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from forms.loader import load_document
from forms.types import QUESTION_TYPES, Context, ExportColumn, Invalid

TEMPLATES = Path(__file__).parent.parent / "app" / "templates"

#: One valid answer of each type, as an API client sends it.
SAMPLES: dict[str, Any] = {
    "text": "Almaty",
    "long_text": "Ten years in a regional hospital",
    "email": "name@example.org",
    "integer": 34,
    "decimal": 1.5,
    "year": 2001,
    "date": "2024-01-31",
    "select_one": "a",
    "select_multiple": ["a", "b"],
    "consent": "yes",
    "country": "KZ",
    "location": {"country": "KZ", "region": None, "city": "Almaty", "geo": [43.25, 76.95]},
}


@pytest.fixture(scope="module")
def questionnaire():
    """One question of every registered type."""
    texts = {"en": "Text"}
    return load_document(
        {
            "settings": {
                "slug": "types",
                "title": texts,
                "languages": ["en"],
                "default_language": "en",
                "consent": {"version": "1", "text": texts},
            },
            "groups": [{"name": "page", "label": texts}],
            "survey": [
                {"type": name, "name": f"q_{name}", "group": "page", "label": texts}
                | ({"choices": "options"} if name in ("select_one", "select_multiple") else {})
                for name in QUESTION_TYPES
            ],
            "choices": {
                "options": [
                    {"name": "a", "label": {"en": "A"}},
                    {"name": "b", "label": {"en": "B"}},
                ]
            },
            "roles": {},
        },
        "types.yaml",
    )


@pytest.fixture(params=sorted(QUESTION_TYPES))
def kind(request):
    return QUESTION_TYPES[request.param]


def _question(questionnaire, kind):
    return questionnaire.question(f"q_{kind.name}")


def test_each_type_names_a_template_that_exists(kind):
    assert kind.template.startswith("survey/questions/")
    assert (TEMPLATES / kind.template).is_file()


def test_each_type_says_whether_it_answers_is_exported_and_identifies(kind):
    assert isinstance(kind.answers, bool)
    assert isinstance(kind.exported, bool)
    assert isinstance(kind.identifying, bool)
    assert all(isinstance(part, str) for part in kind.identifying_parts)
    assert isinstance(kind.needs_choices, bool)
    assert all(isinstance(part, str) for part in kind.parts)
    assert kind.answers or not kind.exported  # nothing to export without an answer


def test_a_type_without_answers_has_no_field(questionnaire, kind):
    question = _question(questionnaire, kind)
    field = kind.field(question, Context(questionnaire, "en"))
    assert (field is None) == (not kind.answers)


def test_the_json_schema_accepts_what_the_api_accepts(questionnaire, kind):
    question = _question(questionnaire, kind)
    if not kind.answers:
        return
    ctx = Context(questionnaire, "en")
    sample = SAMPLES[kind.name]  # a new type needs a sample here
    kind.check_json(question, sample, ctx)
    validator = jsonschema_rs.validator_for(kind.json_schema(question, ctx), validate_formats=True)
    assert validator.is_valid(sample)
    # A value of another JSON type is refused by both.
    wrong = {} if not isinstance(sample, dict) else "text"
    assert not validator.is_valid(wrong)
    with pytest.raises(Invalid):
        kind.check_json(question, wrong, ctx)


@pytest.mark.parametrize("labels", [False, True])
def test_export_columns_turn_a_stored_answer_into_cells(questionnaire, kind, labels):
    question = _question(questionnaire, kind)
    if not kind.exported:
        return
    ctx = Context(questionnaire, "en")
    stored = kind.coerce(question, SAMPLES[kind.name], ctx)
    columns = kind.export_columns(question, ctx, labels=labels, roles={})
    assert columns and all(isinstance(c, ExportColumn) for c in columns)
    assert all(c.question == question.name and c.name.startswith(question.name) for c in columns)
    assert len({c.name for c in columns}) == len(columns)
    for column in columns:
        cell = column.fix(stored) if column.fix else stored
        assert cell is None or isinstance(cell, str | int | float)


def test_identifying_parts_are_parts_of_the_stored_answer(questionnaire, kind):
    if not kind.identifying_parts:
        return
    question = _question(questionnaire, kind)
    stored = kind.coerce(question, SAMPLES[kind.name], Context(questionnaire, "en"))
    assert set(kind.identifying_parts) <= set(stored)


def test_the_parts_a_role_may_name_are_parts_of_the_stored_answer(questionnaire, kind):
    if not kind.parts:
        return
    question = _question(questionnaire, kind)
    stored = kind.coerce(question, SAMPLES[kind.name], Context(questionnaire, "en"))
    assert set(kind.parts) <= set(stored)


def test_the_review_page_shows_an_unanswered_question_as_empty(questionnaire, kind):
    question = _question(questionnaire, kind)
    assert kind.display(question, None, Context(questionnaire, "en")) == ""


def test_choice_labels_name_every_code_a_choice_answer_holds(questionnaire, kind):
    question = _question(questionnaire, kind)
    ctx = Context(questionnaire, "en")
    labels = kind.choice_labels(question, ctx)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items())
    if kind.name in ("select_one", "select_multiple", "consent"):
        enum = kind.json_schema(question, ctx)
        codes = enum["items"]["enum"] if enum["type"] == "array" else enum["enum"]
        assert set(labels) == set(codes)
