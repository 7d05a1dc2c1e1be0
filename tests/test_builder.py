"""The form builder and answer checks, without Flask."""

from __future__ import annotations

from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form

from forms.builder import build_page_form, form_data, prepare, raw_answers
from forms.loader import load_path
from forms.names import country_choices
from forms.types import Context
from forms.validation import check_group, check_response

BUNDLED = Path(__file__).parent.parent / "forms" / "questionnaires" / "kazakh-diaspora.yaml"


@pytest.fixture(scope="module")
def questionnaire():
    return load_path(BUNDLED)


def group(questionnaire, name):
    return next(g for g in questionnaire.groups if g.name == name)


def test_each_request_gets_a_fresh_form_class(questionnaire):
    ctx = Context(questionnaire, "kk")
    first = build_page_form(Form, group(questionnaire, "about_you"), ctx)
    second = build_page_form(Form, group(questionnaire, "work"), ctx)
    assert first is not second
    assert hasattr(first, "age") and not hasattr(first, "skills")
    assert not hasattr(Form, "age")


def test_labels_and_choices_in_the_page_language(questionnaire):
    page = group(questionnaire, "about_you")
    for lang in ("kk", "ru", "en"):
        form = build_page_form(Form, page, Context(questionnaire, lang))()
        assert form.sex.label.text == questionnaire.text(questionnaire.question("sex").label, lang)
    form = build_page_form(Form, page, Context(questionnaire, "ru"))()
    assert [c.label for c in form.sex.choices][0] == "Женский"


def test_countries_are_collated_for_kazakh():
    names = [name for _, name in country_choices("kk")]
    # Kazakh order puts Қазақстан after Куба and before Лаос, not after Я as sorted() would.
    assert names.index("Куба") < names.index("Қазақстан") < names.index("Лаос")
    assert sorted(names) != names


def test_location_form_round_trip_and_region_list(questionnaire):
    page = group(questionnaire, "residence")
    ctx = Context(questionnaire, "en")
    form_class = build_page_form(Form, page, ctx)
    posted = MultiDict(
        {
            "residence-country": "KZ",
            "residence-regions_for": "KZ",
            "residence-region": "KZ-75",
            "residence-city": "  Almaty  ",
            "residence-lat": "43.25667",
            "residence-lon": "76.92861",
        }
    )
    form = form_class(posted)
    prepare(form, page, ctx)
    assert ("KZ-75", "Almaty") in [(c.value, c.label) for c in form.residence.region.choices]
    outcome = check_group(questionnaire, page, raw_answers(form, page), {}, ctx)
    assert outcome.ok, outcome.errors
    assert outcome.values["residence"] == {
        "country": "KZ",
        "region": "KZ-75",
        "city": "Almaty",
        "city_id": 1526384,  # matched to the GeoNames place
        "geo": [43.26, 76.93],
    }
    again = form_class(data=form_data(page, outcome.values))
    assert again.residence.city.data == "Almaty"


def test_region_must_belong_to_the_country(questionnaire):
    outcome = check_response(
        questionnaire,
        {"residence": {"country": "KZ", "region": "CN-XJ"}, "citizenship": "KZ", "sex": "male"},
        Context(questionnaire, "en"),
    )
    assert "residence" in outcome.errors


def test_constraint_message_is_the_questionnaires_own(questionnaire):
    outcome = check_response(
        questionnaire,
        {
            "residence": {"country": "KZ"},
            "citizenship": "KZ",
            "second_citizenship": "KZ",
            "sex": "male",
        },
        Context(questionnaire, "ru"),
    )
    expected = questionnaire.question("second_citizenship").constraint_message["ru"]
    assert outcome.errors["second_citizenship"] == [expected]


def test_select_multiple_none_excludes_others(questionnaire):
    base = {"residence": {"country": "KZ"}, "citizenship": "KZ", "sex": "male"}
    ctx = Context(questionnaire, "en")
    bad = check_response(questionnaire, {**base, "ties": ["none", "family"]}, ctx)
    assert "ties" in bad.errors
    good = check_response(questionnaire, {**base, "ties": ["family", "visits"]}, ctx)
    assert good.values["ties"] == ["visits", "family"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("age", "12.5"),
        ("age", "1e9"),
        ("age", True),
        ("age", "NaN"),
        ("citizenship", "XX"),
        ("sex", ["female"]),
        ("experience", "x" * 5000),
        ("contact_email", "not an email"),
        ("residence", "Almaty"),
        ("residence", {"country": "KZ", "geo": [95, 10]}),
    ],
)
def test_bad_values_are_field_errors(questionnaire, name, value):
    answers = {
        "residence": {"country": "KZ"},
        "citizenship": "KZ",
        "sex": "male",
        "specialist_consent": "yes",
        "contact_email": "a@example.org",
        name: value,
    }
    outcome = check_response(questionnaire, answers, Context(questionnaire, "en"))
    assert name in outcome.errors


def test_cached_country_list_renders_exactly_as_wtforms_would(questionnaire):
    from wtforms.widgets import Select

    page = group(questionnaire, "citizenship")
    for lang in ("kk", "kk-Arab", "zh-Hans"):
        form = build_page_form(Form, page, Context(questionnaire, lang))(
            data={"citizenship": "KZ", "second_citizenship": ""}
        )
        for name in ("citizenship", "second_citizenship"):
            field = form[name]
            assert str(field()) == str(Select()(field))
    assert '<option selected value="KZ">' in str(form.citizenship())
