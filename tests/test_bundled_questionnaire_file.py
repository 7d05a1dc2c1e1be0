"""The bundled questionnaire, read by the project's own loader (forms.loader).

The loader already refuses what forms/FORMAT.md lists (unknown types, a label missing in a declared
language, dangling references, duplicate names, unknown choice lists or roles): these tests load
the file through it and then check what only this questionnaire promises its respondents.
"""

import re
from pathlib import Path

import pytest

from forms.loader import load_path, load_text
from forms.schema import Questionnaire

QUESTIONNAIRE = (
    Path(__file__).resolve().parent.parent / "forms" / "questionnaires" / "kazakh-diaspora.yaml"
)
#: Letters of the Kazakh Cyrillic alphabet that Russian lacks.
KAZAKH_LETTERS = re.compile("[ӘәҒғҚқҢңӨөҰұҮүҺһІі]")
#: Roles the analyst figures and maps read.
REQUIRED_ROLES = {
    "residence_country",
    "residence_region",
    "residence_city",
    "geopoint",
    "citizenship",
    "sex",
    "age",
    "education",
    "occupation",
    "skills",
    "languages",
    "needs",
    "contribution",
    "return_intention",
    "specialist_consent",
    "contact_email",
}


@pytest.fixture(scope="module")
def form() -> Questionnaire:
    return load_path(QUESTIONNAIRE)


def _texts(form: Questionnaire):
    yield form.title
    yield form.consent.text
    for group in form.groups:
        yield group.label
        for question in group.questions:
            yield question.label
            if question.hint:
                yield question.hint
            if question.constraint_message:
                yield question.constraint_message
    for choices in form.choices.values():
        for choice in choices:
            yield choice.label


def test_the_file_loads_and_offers_every_language_of_the_site(form):
    assert form.slug == "kazakh-diaspora"
    assert form.default_language == "kk"
    assert set(form.languages) == {
        "kk", "kk-Latn", "kk-Arab", "ru", "en", "zh-Hans", "tr", "mn", "uz-Latn"
    }  # fmt: skip
    assert form.version_label


def test_every_text_is_written_in_every_language_it_declares(form):
    written = {lang for lang in form.languages if lang != "kk-Latn"}  # kk-Latn comes from kk
    for texts in _texts(form):
        missing = written - {lang for lang, text in texts.items() if text and text.strip()}
        assert not missing, (texts.get("en"), sorted(missing))


def test_a_broken_copy_is_refused_with_the_row_named():
    text = QUESTIONNAIRE.read_text(encoding="utf-8")
    broken = text.replace("${arrival_reason}", "${no_such_question}", 1)
    assert broken != text
    with pytest.raises(ValueError, match=r"survey row \d+ \(years_in_country\).*no_such_question"):
        load_text(broken, "kazakh-diaspora.yaml")


def test_consent_is_several_paragraphs_in_every_language(form):
    for lang, text in form.consent.text.items():
        assert text.count("\n\n") >= 1, lang


def test_age_is_bounded_and_checked(form):
    age = form.question("age")
    assert age.type == "integer"
    assert (age.min, age.max) == (16, 110)
    assert age.constraint is not None and age.constraint_message


def test_every_constraint_explains_itself(form):
    for question in form.questions():
        if question.constraint is not None:
            assert question.constraint_message, question.name


def test_residence_citizenship_and_sex_are_required_and_sex_can_be_declined(form):
    for name in ("residence", "citizenship", "sex"):
        assert form.question(name).required, name
    sex = form.question("sex")
    assert "prefer_not_say" in [c.name for c in form.choice_list(sex)]


def test_an_email_is_asked_only_behind_an_opt_in(form):
    emails = [q for q in form.questions() if q.type == "email"]
    assert emails
    for question in emails:
        assert question.relevant is not None, question.name


def test_the_roles_the_figures_read_are_all_mapped(form):
    assert REQUIRED_ROLES <= set(form.roles), sorted(REQUIRED_ROLES - set(form.roles))
    assert form.role_question("residence_country") == ("residence", "country")
    assert form.role_question("geopoint") == ("residence", "geo")
    assert form.question("residence").type == "location"


def test_kazakh_texts_are_kazakh_not_russian(form):
    kk = [texts["kk"] for texts in _texts(form) if texts.get("kk")]
    longer = [text for text in kk if len(text) >= 25]
    with_letters = [text for text in longer if KAZAKH_LETTERS.search(text)]
    # Most longer Kazakh strings use a Kazakh-only letter; Russian text never does.
    assert len(with_letters) >= 0.8 * len(longer) > 0
