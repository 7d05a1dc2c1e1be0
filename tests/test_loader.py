"""The questionnaire loader: every problem reported with file, row and what is wrong."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from forms.loader import QuestionnaireError, load_document, load_path, load_text
from forms.schema import ROLES

BUNDLED = Path(__file__).parent.parent / "forms" / "questionnaires" / "kazakh-diaspora.yaml"


def minimal() -> dict:
    return {
        "settings": {
            "slug": "mini",
            "title": {"kk": "Сауалнама", "en": "Survey"},
            "languages": ["kk", "en"],
            "default_language": "kk",
            "consent": {"version": "1", "text": {"kk": "Келісім", "en": "Consent"}},
        },
        "groups": [{"name": "p1", "label": {"kk": "Бет", "en": "Page"}}],
        "survey": [
            {"type": "integer", "name": "age", "group": "p1", "label": {"kk": "Жас", "en": "Age"}},
            {
                "type": "text",
                "name": "why",
                "group": "p1",
                "label": {"kk": "Неге", "en": "Why"},
                "relevant": "${age} > 20",
            },
        ],
        "choices": {},
        "roles": {"age": "age"},
    }


def problems(document: dict, gettext=lambda s: s) -> list[str]:
    with pytest.raises(QuestionnaireError) as info:
        load_document(document, "mini.yaml")
    return info.value.format(gettext)


def test_bundled_questionnaire_loads_with_every_role():
    questionnaire = load_path(BUNDLED)
    assert questionnaire.slug == "kazakh-diaspora"
    assert set(questionnaire.languages) >= {"kk", "ru", "en"}
    assert set(questionnaire.roles) == set(ROLES)


def test_minimal_questionnaire_loads():
    questionnaire = load_document(minimal(), "mini.yaml")
    assert [q.name for q in questionnaire.questions()] == ["age", "why"]
    assert questionnaire.question("why").relevant.references() == frozenset({"age"})


def test_unknown_type_names_file_and_row():
    doc = minimal()
    doc["survey"][1]["type"] = "hologram"
    assert problems(doc) == ["mini.yaml, survey row 2 (why): unknown type hologram"]


def test_missing_label_for_a_declared_language():
    doc = minimal()
    del doc["survey"][0]["label"]["en"]
    assert problems(doc) == ["mini.yaml, survey row 1 (age): missing label for language en"]


def test_reference_to_unknown_question():
    doc = minimal()
    doc["survey"][1]["relevant"] = "${agee} > 20"
    assert problems(doc) == [
        "mini.yaml, survey row 2 (why): relevant refers to unknown question agee"
    ]


def test_expression_syntax_error():
    doc = minimal()
    doc["survey"][1]["relevant"] = "${age} >> 20"
    [message] = problems(doc)
    assert message.startswith("mini.yaml, survey row 2 (why): syntax error in relevant:")
    assert "position" in message


def test_duplicate_name():
    doc = minimal()
    doc["survey"].append(copy.deepcopy(doc["survey"][0]))
    assert problems(doc) == ["mini.yaml, survey row 3: duplicate name age"]


def test_every_problem_is_reported_at_once():
    doc = minimal()
    doc["survey"][0]["type"] = "nope"
    doc["survey"][1]["label"] = {"kk": "Неге"}
    doc["roles"]["sex"] = "gender"
    doc["survey"][0]["constraint"] = ". > 3"
    found = problems(doc)
    assert len(found) == 4
    assert "mini.yaml, roles.sex: reference to unknown question gender" in found
    assert "mini.yaml, survey row 1 (age): missing constraint message" in found


def test_select_needs_a_known_choice_list():
    doc = minimal()
    doc["survey"][1].update(type="select_one", choices="colours")
    assert problems(doc) == ["mini.yaml, survey row 2 (why): unknown choice list colours"]


def test_bad_yaml_is_reported_with_its_line():
    with pytest.raises(QuestionnaireError) as info:
        load_text("settings:\n  slug: [unclosed\n", "broken.yaml")
    assert info.value.problems[0].where.startswith("line ")


def test_messages_are_translated_with_the_callers_gettext():
    doc = minimal()
    doc["survey"][1]["type"] = "hologram"
    catalog = {"unknown type %(type)s": "белгісіз түр %(type)s"}
    assert problems(doc, lambda s: catalog.get(s, s)) == [
        "mini.yaml, survey row 2 (why): белгісіз түр hologram"
    ]


def test_a_file_that_is_not_a_questionnaire():
    with pytest.raises(QuestionnaireError):
        load_text(yaml.safe_dump(["a", "list"]), "list.yaml")
    with pytest.raises(QuestionnaireError):
        load_text("", "empty.yaml")


def test_a_nul_character_is_refused():
    text = yaml.safe_dump(minimal()).replace("Survey", '"Sur\\0vey"', 1)
    with pytest.raises(QuestionnaireError) as info:
        load_text(text, "nul.yaml")
    assert "NUL" in info.value.format()[0]
