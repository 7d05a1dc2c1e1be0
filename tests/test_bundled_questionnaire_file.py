"""Self-check of the bundled questionnaire file with PyYAML alone.

Fast and independent of the application: it reads forms/questionnaires/kazakh-diaspora.yaml
and checks what forms/FORMAT.md promises the loader will check, so a broken translation or a
dangling reference is caught even before the loader exists or when it is not importable.
"""

import re
from pathlib import Path

import pytest
import yaml

QUESTIONNAIRE = (
    Path(__file__).resolve().parent.parent / "forms" / "questionnaires" / "kazakh-diaspora.yaml"
)

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
SLUG = re.compile(r"^[a-z0-9-]+$")
REFERENCE = re.compile(r"\$\{([^}]*)\}")
#: Letters of the Kazakh Cyrillic alphabet that Russian lacks.
KAZAKH_LETTERS = re.compile("[ӘәҒғҚқҢңӨөҰұҮүҺһІі]")

TYPES = {
    "text",
    "long_text",
    "integer",
    "decimal",
    "date",
    "year",
    "select_one",
    "select_multiple",
    "country",
    "location",
    "consent",
    "note",
    "email",
}
SELECT_TYPES = {"select_one", "select_multiple"}
LOCATION_PARTS = {"country", "region", "city", "geo"}
TRANSLATED_ROW_KEYS = ("label", "hint", "constraint_message")
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


class UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that rejects duplicate mapping keys instead of keeping the last one."""

    def construct_mapping(self, node, deep=False):
        """Build a mapping, failing on a key that occurs twice in the same mapping."""
        seen = set()
        for key_node, _value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _load(path: Path) -> dict:
    """Parse the questionnaire file with the duplicate-key-checking safe loader."""
    loader = UniqueKeyLoader(path.read_text(encoding="utf-8"))
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


@pytest.fixture(scope="module")
def form() -> dict:
    """Return the parsed questionnaire."""
    return _load(QUESTIONNAIRE)


#: Declared languages whose texts the loader generates (forms/translit.py), never written here.
GENERATED_LANGUAGES = {"kk-Latn"}


@pytest.fixture(scope="module")
def languages(form) -> list[str]:
    """Return the declared languages written in the file (kk-Latn is derived from kk on load)."""
    return [lang for lang in form["settings"]["languages"] if lang not in GENERATED_LANGUAGES]


@pytest.fixture(scope="module")
def rows_by_name(form) -> dict[str, dict]:
    """Return the survey rows keyed by question name."""
    return {row["name"]: row for row in form["survey"]}


def _translated_texts(form):
    """Yield (where, mapping) for every translated text in the file."""
    settings = form["settings"]
    yield "settings.title", settings["title"]
    if "description" in settings:
        yield "settings.description", settings["description"]
    yield "settings.consent.text", settings["consent"]["text"]
    for group in form["groups"]:
        yield f"group {group['name']}", group["label"]
    for position, row in enumerate(form["survey"], start=1):
        for key in TRANSLATED_ROW_KEYS:
            if key in row:
                yield f"survey row {position} ({row.get('name')}).{key}", row[key]
    for list_name, items in form["choices"].items():
        for item in items:
            yield f"choices.{list_name}.{item.get('name')}", item["label"]


def test_top_level_sections(form):
    assert set(form) == {"settings", "groups", "survey", "choices", "roles"}


def test_settings(form, languages):
    settings = form["settings"]
    assert settings["slug"] == "kazakh-diaspora"
    assert SLUG.match(settings["slug"])
    assert settings["version"] == "2026.1"
    assert settings["languages"] == [
        "kk", "kk-Latn", "kk-Arab", "ru", "en", "zh-Hans", "tr", "mn", "uz-Latn"
    ]  # fmt: skip
    assert set(settings["unreviewed"]) <= set(languages)
    assert settings["default_language"] == "kk"
    assert settings["default_language"] in languages
    assert isinstance(settings["consent"]["version"], str)
    assert settings["consent"]["version"] == "1"


def test_every_text_has_every_declared_language(form, languages):
    problems = []
    for where, texts in _translated_texts(form):
        if not isinstance(texts, dict):
            problems.append(f"{where}: not a language mapping")
            continue
        extra = set(texts) - set(languages)
        if extra:
            problems.append(f"{where}: undeclared languages {sorted(extra)}")
        for lang in languages:
            value = texts.get(lang)
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{where}: no {lang} text")
    assert not problems, "\n".join(problems)


def test_consent_text_has_paragraphs_in_every_language(form, languages):
    for lang in languages:
        paragraphs = [p for p in form["settings"]["consent"]["text"][lang].split("\n\n") if p]
        assert len(paragraphs) >= 5, lang


def test_question_names_are_unique_and_well_formed(form):
    names = [row.get("name") for row in form["survey"]]
    assert all(isinstance(n, str) and NAME.match(n) for n in names), names
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates


def test_question_types_are_known(form):
    unknown = [
        (row["name"], row.get("type")) for row in form["survey"] if row.get("type") not in TYPES
    ]
    assert not unknown


def test_choice_lists_are_referenced_and_exist(form):
    lists = form["choices"]
    used = set()
    for row in form["survey"]:
        if row["type"] in SELECT_TYPES:
            assert row.get("choices") in lists, row["name"]
            used.add(row["choices"])
        else:
            assert "choices" not in row, row["name"]
    assert set(lists) == used, f"unused choice lists: {sorted(set(lists) - used)}"


def test_choice_names_are_unique_strings(form):
    for list_name, items in form["choices"].items():
        assert items, list_name
        names = [item["name"] for item in items]
        # A bare yes/no in YAML 1.1 turns into a boolean: every name must stay a string.
        assert all(isinstance(n, str) and NAME.match(n) for n in names), (list_name, names)
        assert len(names) == len(set(names)), list_name


def test_groups_exist_have_questions_and_come_in_order(form):
    group_names = [group["name"] for group in form["groups"]]
    assert all(NAME.match(g) for g in group_names)
    assert len(group_names) == len(set(group_names))
    used = [row.get("group") for row in form["survey"]]
    assert set(used) <= set(group_names), sorted(set(used) - set(group_names))
    empty = [g for g in group_names if g not in used]
    assert not empty
    # Rows are in page order: once a page ends, it does not start again later.
    order = [group_names.index(g) for g in used]
    assert order == sorted(order)


def test_expressions_reference_known_questions(form, rows_by_name):
    for row in form["survey"]:
        for key in ("relevant", "constraint"):
            for ref in REFERENCE.findall(row.get(key, "")):
                assert ref in rows_by_name, (row["name"], key, ref)
                assert ref != row["name"], "use `.` for the question itself"
    for group in form["groups"]:
        for ref in REFERENCE.findall(group.get("relevant", "")):
            assert ref in rows_by_name, (group["name"], ref)


def test_constraints_carry_a_message(form):
    constrained = [row for row in form["survey"] if "constraint" in row]
    assert constrained, "at least one constraint is expected"
    for row in constrained:
        assert "constraint_message" in row, row["name"]


def test_age_bounds(rows_by_name):
    age = rows_by_name["age"]
    assert age["type"] == "integer"
    assert (age["min"], age["max"]) == (16, 110)
    assert "constraint" in age


def test_numeric_bounds_are_ordered(form):
    for row in form["survey"]:
        if "min" in row and "max" in row:
            assert row["min"] <= row["max"], row["name"]


def test_required_flags(form, rows_by_name):
    for row in form["survey"]:
        assert isinstance(row.get("required", False), bool), row["name"]
    for name in ("residence", "citizenship", "sex"):
        assert rows_by_name[name].get("required") is True, name
    assert "prefer_not_say" in [c["name"] for c in form["choices"]["sex"]]


def test_email_sits_behind_an_opt_in(form):
    for row in form["survey"]:
        if row["type"] == "email":
            assert "relevant" in row, row["name"]


def test_roles_target_existing_questions(form, rows_by_name):
    roles = form["roles"]
    assert REQUIRED_ROLES <= set(roles), sorted(REQUIRED_ROLES - set(roles))
    for role, target in roles.items():
        name, _, part = target.partition(".")
        assert name in rows_by_name, (role, target)
        if part:
            assert rows_by_name[name]["type"] == "location", (role, target)
            assert part in LOCATION_PARTS, (role, target)
    assert roles["residence_country"] == "residence.country"
    assert roles["geopoint"] == "residence.geo"


def test_kazakh_texts_are_kazakh(form):
    kk_texts = [texts["kk"] for _where, texts in _translated_texts(form)]
    assert any(KAZAKH_LETTERS.search(text) for text in kk_texts)
    # Most longer Kazakh strings use a Kazakh-only letter; Russian text never does.
    longer = [text for text in kk_texts if len(text) >= 25]
    with_letters = [text for text in longer if KAZAKH_LETTERS.search(text)]
    assert len(with_letters) >= 0.8 * len(longer)
