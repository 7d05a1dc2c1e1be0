"""Nine languages and three Kazakh scripts: negotiation, catalogs, direction, names, checks."""

from __future__ import annotations

import copy
import re

import pytest
import yaml
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import get_locale
from flask_babel import gettext as _

from app import ROOT
from app.i18n import ENDONYMS, current_language, select_locale, text_direction
from app.models import Survey, SurveyVersion
from app.translations_check import catalog_state
from forms.loader import QuestionnaireError, load_path, load_text
from forms.names import country_choices, country_names, find_by_name, region_choices
from forms.translit import to_latin
from tests.conftest import BUNDLED
from tests.respondent import FORM_ANSWERS, SLUG, Respondent

LANGUAGES = ["kk", "kk-Latn", "kk-Arab", "ru", "en", "zh-Hans", "tr", "mn", "uz-Latn"]
#: Catalogs drafted for this issue; kk and ru are kept by their own translators.
DRAFTED = ["kk-Arab", "zh-Hans", "tr", "mn", "uz-Latn"]
#: "Before you start" (the consent page heading) in each drafted language.
BEFORE_YOU_START = {
    "kk-Arab": "باستاماس بۇرىن",
    "zh-Hans": "开始之前",
    "tr": "Başlamadan önce",
    "mn": "Эхлэхээс өмнө",
    "uz-Latn": "Boshlashdan oldin",
}


def html_tag(page: str) -> str:
    return re.search(r"<html[^>]*>", page).group(0)


def kk_catalog() -> dict[str, str]:
    with (ROOT / "translations" / "kk" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id and m.string}


def test_every_language_is_offered_by_its_own_name(app: Flask):
    assert app.config["LANGUAGES"] == LANGUAGES
    assert load_path(BUNDLED).languages == tuple(LANGUAGES)
    assert [ENDONYMS[tag] for tag in LANGUAGES] == [
        "Қазақша", "Qazaqşa", "قازاقشا", "Русский", "English", "中文", "Türkçe", "Монгол",
        "Oʻzbekcha",
    ]  # fmt: skip


def test_kk_is_negotiated_for_a_kazakh_browser(client):
    page = client.get(f"/s/{SLUG}", headers={"Accept-Language": "kk-KZ,ru;q=0.8"})
    assert html_tag(page.text) == '<html lang="kk" dir="ltr">'
    page = client.get(f"/s/{SLUG}", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert html_tag(page.text) == '<html lang="zh-Hans" dir="ltr">'


def test_latin_catalog_is_served_while_dates_and_numbers_use_kk(app: Flask):
    before = kk_catalog()["Before you start"]
    with app.test_request_context(f"/s/{SLUG}?lang=kk-Latn"):
        assert current_language() == "kk-Latn"
        assert select_locale() == "kk"
        assert str(get_locale()) in ("kk", "kk_Cyrl")  # CLDR has no Latin Kazakh
        assert _("Before you start") == to_latin(before)
    with app.test_request_context(f"/s/{SLUG}?lang=kk"):
        assert _("Before you start") == before


def test_latin_kazakh_pages_are_latin(client):
    page = client.get(f"/s/{SLUG}?lang=kk-Latn")
    assert html_tag(page.text) == '<html lang="kk-Latn" dir="ltr">'
    assert to_latin(kk_catalog()["Before you start"]) in page.text
    assert "Şeteldegı qazaqtar: diaspora kartasy" in page.text  # title, derived from kk
    main = page.text.split("<main>")[1].split("</main>")[0]
    assert not re.search("[а-яәғқңөұүһі]", main, re.IGNORECASE), main


@pytest.mark.parametrize("lang", DRAFTED)
def test_drafted_languages_translate_the_consent_page(client, lang):
    page = client.get(f"/s/{SLUG}?lang={lang}")
    direction = "rtl" if lang == "kk-Arab" else "ltr"
    assert html_tag(page.text) == f'<html lang="{lang}" dir="{direction}">'
    assert BEFORE_YOU_START[lang] in page.text
    assert load_path(BUNDLED).title[lang] in page.text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_respondent_completes_the_questionnaire(client, lang):
    respondent = Respondent(client, lang)
    first = respondent.start()
    direction = "rtl" if lang == "kk-Arab" else "ltr"
    assert html_tag(first.text) == f'<html lang="{lang}" dir="{direction}">'
    residence = load_path(BUNDLED).question("residence").label[lang]
    assert residence.replace("'", "&#39;") in first.text
    code = respondent.complete()
    assert code
    withdraw = client.get(f"/s/withdraw?lang={lang}")
    assert f'dir="{direction}"' in html_tag(withdraw.text)


def test_validation_messages_in_arabic_script(client):
    respondent = Respondent(client, "kk-Arab")
    respondent.start()
    for _page in range(10):  # answer pages until the one asking the age
        if 'name="age"' in client.get(respondent.url).text:
            break
        respondent.follow(respondent.send(FORM_ANSWERS))
    refused = respondent.send({**FORM_ANSWERS, "age": "7"})
    assert refused.status_code == 422
    assert html_tag(refused.text) == '<html lang="kk-Arab" dir="rtl">'
    with (ROOT / "translations" / "kk_Arab" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    message = catalog.get("Enter a number from %(low)s to %(high)s.").string
    assert message % {"low": 16, "high": 110} in refused.text


def test_text_direction_comes_from_cldr():
    assert [text_direction(tag) for tag in LANGUAGES].count("rtl") == 1
    assert text_direction("kk-Arab") == "rtl"


@pytest.mark.parametrize("lang", [*DRAFTED, "en"])
def test_drafted_catalogs_are_complete_and_flagged(lang):
    state = catalog_state(lang)
    assert state.missing == [] and state.fuzzy == []
    if lang != "en":
        assert len(state.unreviewed) == state.total  # nobody has reviewed them yet


def test_kazakh_names_sort_by_kazakh_collation():
    names = [name for _code, name in country_choices("kk")]
    assert names != sorted(names)  # plain sorted() puts Ә, Қ, Ү... after Я
    first_letters = [name[0] for name in names]
    assert first_letters.index("Ә") < first_letters.index("Б")
    assert first_letters.index("Қ") < first_letters.index("Л")
    assert first_letters.index("Ү") < first_letters.index("Ф")
    latin = [name for _code, name in country_choices("kk-Latn")]
    assert country_names("kk-Latn")["KZ"] == "Qazaqstan"
    assert latin.index("Qazaqstan") < latin.index("Ruanda")


def test_questionable_cldr_names_are_overridden_for_kazakh_arabic():
    names = country_names("kk-Arab")
    assert names["KZ"] == "قازاقستان" and names["RU"] == "رەسەي"
    assert not any(re.search("[а-я]", n, re.I) for _c, n in region_choices("KZ", "kk-Latn"))


def test_hamza_variants_match_when_typed():
    names = {"XX": "ٴبىرلىك", "YY": "قازاقستان"}
    assert find_by_name("ءبىرلىك", names) == "XX"  # U+0621 typed for U+0674
    assert find_by_name(" ٴبىرلىك ", names) == "XX"
    assert find_by_name("قازاقستان", names) == "YY"


MINIMAL = """
settings:
  slug: t
  title: {kk: "Сауалнама", en: "Survey"}
  languages: [kk, kk-Latn, en]
  consent: {version: "1", text: {kk: "Келісемін", en: "I agree"}}
groups:
  - {name: g, label: {kk: "Бет", en: "Page"}}
survey:
  - {type: text, name: a, group: g, label: {kk: "Қалаңыз", en: "Your city"}}
"""


def test_latin_labels_are_derived_from_cyrillic_when_not_given():
    questionnaire = load_text(MINIMAL)
    assert questionnaire.title["kk-Latn"] == "Saualnama"
    assert questionnaire.question("a").label["kk-Latn"] == "Qalañyz"
    explicit = load_text(
        MINIMAL.replace('title: {kk: "Сауалнама"', 'title: {kk-Latn: "X", kk: "С"')
    )
    assert explicit.title["kk-Latn"] == "X"
    with pytest.raises(QuestionnaireError, match="missing label for language kk"):
        load_text(MINIMAL.replace('{kk: "Қалаңыз", en:', "{en:"))


def test_check_translations_lists_each_language(runner):
    result = runner.invoke(args=["atlas", "check-translations", "--limit", "1"])
    assert result.exit_code == 0, result.output
    for lang in LANGUAGES:
        assert re.search(rf"^{re.escape(lang)} .*UI \d+ strings", result.output, re.M), lang
    assert "kk-Latn Qazaqşa" in result.output and "generated from kk" in result.output
    assert "unreviewed (drafted)" in result.output


def test_check_translations_fails_on_a_published_questionnaire_missing_a_label(runner, db):
    document = yaml.safe_load(BUNDLED.read_text(encoding="utf-8"))
    broken = copy.deepcopy(document)
    broken["settings"]["slug"] = "broken"
    del broken["settings"]["title"]["zh-Hans"]
    survey = Survey(slug="broken")
    db.session.add(survey)
    db.session.flush()
    db.session.add(SurveyVersion(survey=survey, number=1, content_hash="x" * 64, definition=broken))
    db.session.commit()
    result = runner.invoke(args=["atlas", "check-translations", "--lang", "zh-Hans"])
    assert result.exit_code == 1
    assert "missing title for language zh-Hans" in result.output
