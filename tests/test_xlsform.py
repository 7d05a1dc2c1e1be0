"""XLSForm in and out: workbooks built here with openpyxl, read through pyxform's reader."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from babel.messages.pofile import read_po

from forms.loader import QuestionnaireError, load_path
from forms.xlsform import (
    MAX_UNPACKED,
    OLE2_MAGIC,
    load_xlsform,
    read_xlsform,
    sanitise_slug,
    sniff_workbook,
    write_xlsform,
)

BUNDLED = Path(__file__).parent.parent / "forms" / "questionnaires" / "kazakh-diaspora.yaml"
TRANSLATIONS = Path(__file__).parent.parent / "translations"
EN, KK = "English (en)", "Қазақша (kk)"

Rows = list[list[Any]]


def settings_sheet(**extra: Any) -> Rows:
    columns = {
        f"form_title::{EN}": "Mini survey",
        f"form_title::{KK}": "Шағын сауалнама",
        "form_id": "Mini Survey 2026",
        "default_language": EN,
        "consent_version": "3",
        f"consent_text::{EN}": "I agree.\n\nReally.",
        f"consent_text::{KK}": "Келісемін.",
    }
    columns.update(extra)
    columns = {k: v for k, v in columns.items() if v is not None}
    return [list(columns), list(columns.values())]


def survey_sheet(*rows: list[Any], header: list[str] | None = None) -> Rows:
    return [header or ["type", "name", f"label::{EN}", f"label::{KK}"], *rows]


def page(*rows: list[Any]) -> list[list[Any]]:
    return [["begin_group", "p1", "Page", "Бет"], *rows, ["end_group", "", None, None]]


def build(
    tmp_path: Path,
    survey: Rows,
    choices: Rows | None = None,
    settings: Rows | None = None,
    roles: Rows | None = None,
    extra: dict[str, Rows] | None = None,
    name: str = "form.xlsx",
) -> Path:
    """Write a workbook: each sheet is a list of rows, the first one its header."""
    book = openpyxl.Workbook()
    sheets = {"survey": survey, "choices": choices, "settings": settings or settings_sheet()}
    sheets.update({"roles": roles, **(extra or {})})
    book.remove(book.active)
    for title, rows in sheets.items():
        if rows is None:
            continue
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def refusals(path: Path) -> list[str]:
    with pytest.raises(QuestionnaireError) as info:
        load_xlsform(path)
    return info.value.format()


YES_NO = [
    ["list_name", "name", f"label::{EN}", f"label::{KK}"],
    ["yes_no", "yes", "Yes", "Иә"],
    ["yes_no", "no", "No", "Жоқ"],
    ["fruit", "apple", "Apple", "Алма"],
    ["fruit", "pear", "Pear", "Алмұрт"],
]


# -- what is read --------------------------------------------------------------------------


def test_every_supported_column_and_type(tmp_path):
    header = [
        "type",
        "name",
        f"label::{EN}",
        f"label::{KK}",
        f"hint::{EN}",
        f"hint::{KK}",
        "required",
        "relevant",
        "constraint",
        f"constraint_message::{EN}",
        f"constraint_message::{KK}",
        "appearance",
        "min",
        "max",
        "max_length",
    ]
    blank = [None] * 13

    def row(qtype: str, name: str, **cells: Any) -> list[Any]:
        values = dict(zip(header[2:], [f"{name} label", f"{name} белгісі", *blank], strict=False))
        values.update({header[header.index(k)]: v for k, v in cells.items()})
        return [qtype, name, *(values.get(h) for h in header[2:])]

    path = build(
        tmp_path,
        [
            header,
            ["begin_group", "about", "About you", "Сіз туралы", *blank],
            row("text", "nickname", max_length=40),
            row(
                "integer",
                "age",
                required="yes",
                min=16,
                max=110,
                constraint=". >= 16",
                **{
                    f"constraint_message::{EN}": "Too young",
                    f"constraint_message::{KK}": "Тым жас",
                    f"hint::{EN}": "In years",
                    f"hint::{KK}": "Жылмен",
                },
            ),
            row("decimal", "height", min=0.5, max=2.5),
            row("date", "arrived"),
            row("select_one yes_no", "member", appearance="minimal", required="TRUE"),
            row("select_multiple fruit", "fruits", relevant="${member} = 'yes'"),
            row("note", "thanks"),
            row("text", "story", appearance="multiline", max_length=3000),
            row("atlas:location", "home"),
            row("atlas:country", "citizenship"),
            row("atlas:consent", "registry_ok"),
            row("atlas:email", "contact", relevant="${registry_ok} = 'yes'"),
            row("atlas:year", "born", min=1900),
            ["end_group", None, None, None, *blank],
        ],
        YES_NO,
    )
    q = load_xlsform(path)
    kinds = {question.name: question.type for question in q.questions()}
    assert kinds == {
        "nickname": "text",
        "age": "integer",
        "height": "decimal",
        "arrived": "date",
        "member": "select_one",
        "fruits": "select_multiple",
        "thanks": "note",
        "story": "long_text",
        "home": "location",
        "citizenship": "country",
        "registry_ok": "consent",
        "contact": "email",
        "born": "year",
    }
    age = q.question("age")
    assert age.label == {"en": "age label", "kk": "age белгісі"}
    assert age.hint == {"en": "In years", "kk": "Жылмен"}
    assert age.required and (age.min, age.max) == (16, 110)
    assert age.constraint_message == {"en": "Too young", "kk": "Тым жас"}
    assert age.constraint.references() == frozenset()
    assert (q.question("height").min, q.question("height").max) == (0.5, 2.5)
    assert q.question("nickname").max_length == 40
    assert q.question("story").max_length == 3000 and q.question("story").appearance is None
    assert q.question("member").appearance == "minimal" and q.question("member").required
    assert q.question("fruits").choices == "fruit"
    assert q.question("fruits").relevant.references() == frozenset({"member"})
    assert [c.name for c in q.choice_list(q.question("fruits"))] == ["apple", "pear"]
    assert q.choices["yes_no"][0].label == {"en": "Yes", "kk": "Иә"}
    assert [(g.name, g.label["en"]) for g in q.groups] == [("about", "About you")]
    assert not q.question("nickname").required


def test_settings_map_onto_the_questionnaire(tmp_path):
    settings = settings_sheet(
        version=2026.2,
        **{f"description::{EN}": "What it is", f"description::{KK}": "Не туралы"},
        unreviewed="kk",
        opens=dt.datetime(2026, 1, 1),
        closes="2026-12-31",
        style="pages",
    )
    path = build(tmp_path, survey_sheet(*page(["integer", "age", "Age", "Жас"])), None, settings)
    q = load_xlsform(path)
    assert q.slug == "mini-survey-2026"
    assert q.title == {"en": "Mini survey", "kk": "Шағын сауалнама"}
    assert q.version_label == "2026.2"
    assert q.default_language == "en"
    assert q.languages == ("en", "kk")
    assert q.description == {"en": "What it is", "kk": "Не туралы"}
    assert q.consent.version == "3"
    assert q.consent.text == {"en": "I agree.\n\nReally.", "kk": "Келісемін."}
    assert (q.opens, q.closes) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert read_xlsform(path)["settings"]["unreviewed"] == ["kk"]
    assert load_xlsform(path, slug="other-slug").slug == "other-slug"


def test_slug_is_sanitised_and_falls_back_to_the_file_name(tmp_path):
    assert sanitise_slug("  Kazakh Diaspora_2026!! ") == "kazakh-diaspora-2026"
    path = build(
        tmp_path,
        survey_sheet(*page(["integer", "age", "Age", "Жас"])),
        settings=settings_sheet(form_id=None),
        name="Diaspora Form (v2).xlsx",
    )
    assert load_xlsform(path).slug == "diaspora-form-v2"


@pytest.mark.parametrize(
    ("kazakh", "default", "expected"),
    [
        ("label::Қазақша (kk)", "English (en)", ("en", "kk")),
        ("label::Kazakh (kk)", "English (en)", ("en", "kk")),
        ("label", "Қазақша (kk)", ("en", "kk")),
        ("label", "kk", ("en", "kk")),
    ],
)
def test_language_headers_map_to_bcp47_tags(tmp_path, kazakh, default, expected):
    header = ["type", "name", f"label::{EN}", kazakh]
    path = build(
        tmp_path,
        survey_sheet(*page(["integer", "age", "Age", "Жас"]), header=header),
        settings=settings_sheet(default_language=default),
    )
    q = load_xlsform(path)
    assert q.languages == expected
    assert q.question("age").label == {"en": "Age", "kk": "Жас"}
    assert q.default_language == ("en" if default == EN else "kk")


def test_a_bare_label_is_the_default_language(tmp_path):
    settings = [
        ["form_title", "form_id", "default_language", "consent_text"],
        ["Survey", "one", "English (en)", "I agree"],
    ]
    header = ["type", "name", "label"]
    survey = survey_sheet(["begin_group", "p", "Page"], ["integer", "age", "Age"], header=header)
    survey.append(["end_group"])
    q = load_xlsform(build(tmp_path, survey, settings=settings))
    assert q.languages == ("en",)
    assert q.question("age").label == {"en": "Age"}
    assert q.title == {"en": "Survey"}


def test_a_language_without_a_tag_is_refused_naming_the_column(tmp_path):
    header = ["type", "name", f"label::{EN}", "label::Kazakh"]
    path = build(tmp_path, survey_sheet(*page(["integer", "age", "Age", "Жас"]), header=header))
    assert refusals(path) == [
        "form.xlsx, survey sheet, row 1, column label::Kazakh: the language Kazakh has no "
        "BCP 47 tag in parentheses: write it as in label::Kazakh (en)"
    ]


def test_a_bare_label_without_default_language_is_refused(tmp_path):
    settings = settings_sheet(default_language=None)
    header = ["type", "name", "label", f"label::{KK}"]
    path = build(
        tmp_path,
        survey_sheet(*page(["integer", "age", "Age", "Жас"]), header=header),
        name="ok.xlsx",
    )
    (line,) = refusals(build(tmp_path, survey_sheet(header=header), settings=settings))
    assert line.startswith("form.xlsx, survey sheet, row 1, column label: a column without")
    assert "default_language" in line
    assert load_xlsform(path).languages == ("kk", "en")


def test_two_columns_for_one_language_are_refused(tmp_path):
    header = ["type", "name", f"label::{EN}", "label::Kazakh (kk)", f"label::{KK}"]
    path = build(tmp_path, survey_sheet(["integer", "age", "Age", "Жас", "Жас"], header=header))
    (line,) = refusals(path)
    assert line == (
        f"form.xlsx, survey sheet, row 1, column label::{KK}: repeats column "
        "label::Kazakh (kk) (the same language)"
    )


def test_questions_outside_groups_share_a_page_of_their_own(tmp_path):
    path = build(
        tmp_path,
        survey_sheet(
            ["integer", "age", "Age", "Жас"],
            ["text", "city", "City", "Қала"],
            ["begin_group", "work", "Work", "Жұмыс"],
            ["text", "job", "Job", "Жұмыс"],
            ["end_group", None, None, None],
            ["note", "bye", "Bye", "Сау болыңыз"],
        ),
    )
    q = load_xlsform(path)
    assert [[question.name for question in g.questions] for g in q.groups] == [
        ["age", "city"],
        ["job"],
        ["bye"],
    ]
    # The pages of loose questions are titled with the form, as Enketo shows them.
    assert q.groups[0].label == q.title == q.groups[2].label
    assert q.groups[1].label == {"en": "Work", "kk": "Жұмыс"}


def test_a_group_is_a_page_and_keeps_its_condition(tmp_path):
    header = ["type", "name", f"label::{EN}", f"label::{KK}", "relevant", "appearance"]
    path = build(
        tmp_path,
        survey_sheet(
            ["begin group", "first", "One", "Бір", None, "field-list"],
            ["select_one yes_no", "works", "Works?", "Жұмыс?", None, None],
            ["end group", None, None, None, None, None],
            ["begin_group", "second", "Two", "Екі", "${works} = “yes”", None],
            ["text", "job", "Job", "Жұмыс", None, None],
            ["end_group", None, None, None, None, None],
            header=header,
        ),
        YES_NO,
    )
    q = load_xlsform(path)
    assert [g.name for g in q.groups] == ["first", "second"]
    # Typographic quotes typed by a spreadsheet are plain quotes, as pyxform reads them.
    assert read_xlsform(path)["groups"][1]["relevant"] == '${works} = "yes"'
    assert q.groups[1].relevant.references() == frozenset({"works"})


def test_roles_sheet(tmp_path):
    roles = [["role", "question"], ["age", "age"], ["residence_country", "home.country"]]
    path = build(
        tmp_path,
        survey_sheet(*page(["integer", "age", "Age", "Жас"], ["atlas:location", "home", "H", "Ү"])),
        roles=roles,
    )
    assert load_xlsform(path).roles == {"age": "age", "residence_country": "home.country"}


def test_blank_rows_keep_the_spreadsheet_numbering(tmp_path):
    path = build(
        tmp_path,
        survey_sheet(
            ["integer", "age", "Age", "Жас"], [None] * 4, [None] * 4, ["calculate", "x", "X", "X"]
        ),
    )
    (line,) = refusals(path)
    assert line.startswith("form.xlsx, survey sheet, row 5, column type: calculate")


# -- what is refused -----------------------------------------------------------------------

REFUSED_TYPES = [
    ("begin_repeat", "repeats are not supported (begin_repeat)"),
    ("calculate", "calculate (a calculation) is not supported"),
    ("hidden", "hidden (a calculation) is not supported"),
    ("geopoint", "geopoint (a GPS point, line or shape) is not supported"),
    # XLSForm's own location is a geopoint, its email the device's address.
    ("location", "location (a GPS point, line or shape) is not supported"),
    ("email", "email (device or form metadata) is not collected"),
    ("start", "start (device or form metadata) is not collected"),
    ("image", "image (a file, photo or recording) is not supported"),
    ("audio", "audio (a file, photo or recording) is not supported"),
    ("barcode", "the XLSForm type barcode is not supported"),
    ("range", "the XLSForm type range is not supported"),
    ("time", "the XLSForm type time is not supported"),
    ("acknowledge", "the XLSForm type acknowledge is not supported"),
    ("select_one yes_no or_other", "select_one yes_no or_other is not supported"),
    ("select_one_from_file places.csv", "the type select_one_from_file places.csv is not"),
    ("select_one_external towns", "the type select_one_external towns is not supported"),
    ("rank yes_no", "the type rank yes_no is not supported"),
    ("select_one", "select_one needs a choice list: select_one LIST"),
    ("atlas:map", "unknown Atlas type atlas:map"),
    ("long_text", "unknown type long_text"),
    ("photograph", "unknown type photograph"),
]


@pytest.mark.parametrize(("qtype", "reason"), REFUSED_TYPES)
def test_unsupported_types_are_refused_with_sheet_row_and_column(tmp_path, qtype, reason):
    path = build(
        tmp_path,
        survey_sheet(*page(["integer", "age", "Age", "Жас"], [qtype, "thing", "Thing", "Зат"])),
        YES_NO,
    )
    lines = refusals(path)
    assert lines[0].startswith(f"form.xlsx, survey sheet, row 4, column type: {reason}")


REFUSED_CELLS = [
    # (column, value, type of the row, reason)
    ("choice_filter", "name = 'x'", "select_one yes_no", "the XLSForm column choice_filter is"),
    (f"image::{EN}", "a.png", "text", f"the XLSForm column image::{EN} is not supported"),
    ("default", "5", "integer", "the XLSForm column default is not supported"),
    ("calculation", "1 + 1", "integer", "the XLSForm column calculation is not supported"),
    ("read_only", "yes", "integer", "the XLSForm column read_only is not supported"),
    ("repeat_count", "3", "integer", "the XLSForm column repeat_count is not supported"),
    (f"guidance_hint::{EN}", "Ask", "integer", "the XLSForm column guidance_hint::"),
    ("parameters", "start=1", "integer", "the XLSForm column parameters is not supported"),
    ("bind::odk:length", "1", "text", "the XLSForm column bind::odk:length is not supported"),
    ("notes", "for authors", "integer", "notes is not a column the Atlas reads"),
    ("required::English (en)", "yes", "integer", "required::English (en) does not take a"),
    ("appearance", "likert", "select_one yes_no", "the appearance likert is not supported"),
    ("appearance", "minimal", "select_multiple yes_no", "the appearance minimal is not"),
    ("appearance", "numbers", "text", "the appearance numbers is not supported for text"),
    ("required", "${age} > 3", "integer", "required must be yes or no (${age} > 3)"),
    ("relevant", "regex(${age}, '(?<=a)b')", "integer", "relevant cannot be read: regex() refuses"),
    ("constraint", "once(.)", "integer", "constraint cannot be read: unknown function"),
    ("relevant", "${age} >", "integer", "relevant cannot be read: "),
    ("min", "3", "text", "a question of type text does not take min"),
    ("max_length", "20", "integer", "a question of type integer does not take"),
    ("max_length", "2.5", "text", "max_length must be a whole number"),
    (f"label::{KK}", "Сәлем ${age}", "note", "shows another answer with ${...}"),
]


def cell_workbook(
    tmp_path: Path, column: str, value: str, qtype: str, name: str = "form.xlsx"
) -> Path:
    """Write a workbook whose row 4 is a ``qtype`` question with ``value`` in ``column``."""
    header = ["type", "name", f"label::{EN}", f"label::{KK}", column]
    if column == f"label::{KK}":
        header = header[:-1]
    rows = [["integer", "age", "Age", "Жас", None], [qtype, "thing", "Thing", "Зат", value]]
    if column == f"label::{KK}":
        rows[1] = rows[1][:3] + [value]
    return build(tmp_path, survey_sheet(*page(*rows), header=header), YES_NO, name=name)


@pytest.mark.parametrize(("column", "value", "qtype", "reason"), REFUSED_CELLS)
def test_unsupported_columns_and_values_are_refused(tmp_path, column, value, qtype, reason):
    lines = refusals(cell_workbook(tmp_path, column, value, qtype))
    assert any(
        line.startswith(f"form.xlsx, survey sheet, row 4, column {column}: {reason}")
        for line in lines
    ), lines


def test_an_empty_unsupported_column_is_not_a_refusal(tmp_path):
    header = ["type", "name", f"label::{EN}", f"label::{KK}", "choice_filter"]
    path = build(tmp_path, survey_sheet(["integer", "age", "Age", "Жас", None], header=header))
    assert load_xlsform(path).question("age")


GROUP_STRUCTURES = [
    # (survey rows, where, reason)
    (
        [
            ["begin_group", "outer", "O", "O"],
            ["begin_group", "inner", "I", "I"],
            ["integer", "age", "Age", "Жас"],
            ["end_group", None, None, None],
            ["end_group", None, None, None],
        ],
        "row 3, column type",
        "groups inside groups are not supported",
    ),
    (
        [["integer", "age", "Age", "Жас"], ["end_group", None, None, None]],
        "row 3, column type",
        "end_group without a begin",
    ),
    (
        [["begin_group", "p", "P", "П"], ["integer", "age", "Age", "Жас"]],
        "",
        "a group or repeat is not closed with its end",
    ),
    (
        [["begin_group", "p", "P", "П"], ["integer", None, None, None], ["end_group"]],
        "row 3",
        "name  is not valid",
    ),
    (
        [["integer", "age", "Age", "Жас"], [None, "why", "Why", "Неге"]],
        "row 3, column type",
        "missing type",
    ),
]


@pytest.mark.parametrize(("rows", "where", "reason"), GROUP_STRUCTURES)
def test_group_structure_refusals(tmp_path, rows, where, reason):
    lines = refusals(build(tmp_path, survey_sheet(*rows)))
    prefix = "form.xlsx, survey sheet" + (f", {where}" if where else "")
    assert any(line.startswith(f"{prefix}: {reason}") for line in lines), lines


def other_sheets_workbook(tmp_path: Path, name: str = "form.xlsx") -> Path:
    """Write a workbook with refusals in the choices, settings, roles and other sheets."""
    survey = survey_sheet(["integer", "age", "Age", "Жас"])
    choices = [*YES_NO[:2], ["yes_no", "maybe", "Maybe", "Мүмкін", "KZ"]]
    choices[0] = [*choices[0], "country"]
    settings = settings_sheet(instance_name="concat(${age})", style="theme-grid")
    return build(
        tmp_path,
        survey,
        choices,
        settings,
        roles=[["role", "question", "weight"], ["age", "age", "2"]],
        extra={"external_choices": [["list_name", "name"], ["towns", "almaty"]]},
        name=name,
    )


def test_other_sheets_are_refused(tmp_path):
    lines = refusals(other_sheets_workbook(tmp_path))
    assert "form.xlsx, external_choices sheet, row 2: external choice lists are not supported" in (
        lines
    )
    assert "form.xlsx, choices sheet, row 3, column country: country is not a column" in "\n".join(
        lines
    )
    assert any(
        line.startswith(
            "form.xlsx, settings sheet, row 2, column instance_name: the XLSForm column"
        )
        for line in lines
    )
    assert any(
        line.startswith("form.xlsx, settings sheet, row 2, column style: the style theme-grid")
        for line in lines
    )
    assert any(line.startswith("form.xlsx, roles sheet, row 2, column weight:") for line in lines)


def test_the_loaders_problems_name_the_sheet_and_row(tmp_path):
    path = build(
        tmp_path,
        survey_sheet(
            *page(
                ["integer", "age", "Age", None],
                ["select_one colours", "colour", "Colour", "Түс"],
                ["text", "why", "Why", "Неге"],
            )
        ),
        [YES_NO[0], ["yes_no", "yes", "Yes", None]],
        roles=[["role", "question"], ["age", "agee"], ["shoe_size", "age"]],
    )
    lines = refusals(path)
    assert "form.xlsx, survey sheet, row 3 (age): missing label for language kk" in lines
    assert "form.xlsx, survey sheet, row 4 (colour): unknown choice list colours" in lines
    assert "form.xlsx, choices sheet, row 2 (list yes_no): missing label for language kk" in lines
    assert "form.xlsx, roles sheet, row 2 (role age): reference to unknown question agee" in lines
    assert "form.xlsx, roles sheet, row 3 (role shoe_size): unknown role shoe_size" in lines


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path):
    broken = tmp_path / "form.xlsx"
    broken.write_bytes(b"not a zip file")
    (line,) = refusals(broken)
    assert line.startswith("form.xlsx, file: cannot be read as an XLSForm")
    text = tmp_path / "form.yaml"
    text.write_text("settings: {}")
    assert refusals(text) == ["form.yaml, file: is not an XLSForm workbook (.xlsx or .xls)"]


def zip_file(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_a_workbooks_content_must_match_its_name(tmp_path):
    workbook = build(tmp_path, survey_sheet(*page(["integer", "age", "Age", "Жас"])))
    assert load_xlsform(workbook).question("age")
    misnamed = tmp_path / "form.xls"
    misnamed.write_bytes(workbook.read_bytes())
    yaml_named_xlsx = tmp_path / "text.xlsx"
    yaml_named_xlsx.write_text("settings: {}\n")
    old_excel = tmp_path / "old.xlsx"
    old_excel.write_bytes(OLE2_MAGIC + bytes(600))
    cases = {
        misnamed: "form.xls, file: cannot be read as an XLSForm: its content is not an .xls "
        "workbook",
        yaml_named_xlsx: "text.xlsx, file: cannot be read as an XLSForm: its content is not an "
        ".xlsx workbook",
        old_excel: "old.xlsx, file: cannot be read as an XLSForm: its content is not an .xlsx "
        "workbook",
    }
    for path, expected in cases.items():
        assert refusals(path) == [expected]
    assert sniff_workbook(workbook.read_bytes()[:8]) == ".xlsx"
    assert sniff_workbook(OLE2_MAGIC) == ".xls"
    assert sniff_workbook(b"settings") is None


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path):
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(b"PK\x03\x04" + bytes(100))
    other = zip_file(tmp_path / "other.xlsx", {"word/document.xml": b"<w/>"})
    broken = zip_file(
        tmp_path / "broken.xlsx", {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<"}
    )
    assert refusals(damaged) == [
        "damaged.xlsx, file: cannot be read as an XLSForm: the workbook is damaged or incomplete"
    ]
    assert refusals(other) == [
        "other.xlsx, file: cannot be read as an XLSForm: it is a ZIP archive, not an Excel workbook"
    ]
    (line,) = refusals(broken)
    assert line.startswith("broken.xlsx, file: cannot be read as an XLSForm: ")


def test_a_workbook_that_unpacks_too_large_is_refused(tmp_path):
    members = {"[Content_Types].xml": b"<Types/>", "xl/big.xml": bytes(MAX_UNPACKED + 1)}
    bomb = zip_file(tmp_path / "bomb.xlsx", members, zipfile.ZIP_DEFLATED)
    assert bomb.stat().st_size < 100_000
    assert refusals(bomb) == [
        f"bomb.xlsx, file: cannot be read as an XLSForm: it unpacks to more than "
        f"{MAX_UNPACKED // 2**20} MB"
    ]


def test_problems_and_slug_can_take_an_uploads_name(tmp_path):
    path = build(
        tmp_path,
        survey_sheet(*page(["integer", "age", "Age", "Жас"])),
        settings=settings_sheet(form_id=None),
    )
    assert load_xlsform(path, filename="My Upload.xlsx").slug == "my-upload"
    (line,) = refusals_of(cell_workbook(tmp_path, "notes", "x", "integer"), "upload.xlsx")
    assert line.startswith("upload.xlsx, survey sheet, row 4, column notes: ")


def refusals_of(path: Path, filename: str) -> list[str]:
    with pytest.raises(QuestionnaireError) as info:
        load_xlsform(path, filename=filename)
    return info.value.format()


def test_every_refusal_is_a_msgid_translated_in_every_catalog(tmp_path):
    """Each problem a workbook can get is marked for translation and drafted in every catalog."""
    paths = [other_sheets_workbook(tmp_path, "sheets.xlsx")]
    for n, (qtype, _) in enumerate(REFUSED_TYPES):
        rows = page(["integer", "age", "Age", "Жас"], [qtype, "thing", "Thing", "Зат"])
        paths.append(build(tmp_path, survey_sheet(*rows), YES_NO, name=f"type{n}.xlsx"))
    for n, (column, value, qtype, _) in enumerate(REFUSED_CELLS):
        paths.append(cell_workbook(tmp_path, column, value, qtype, name=f"cell{n}.xlsx"))
    for n, (rows, _, _) in enumerate(GROUP_STRUCTURES):
        paths.append(build(tmp_path, survey_sheet(*rows), name=f"group{n}.xlsx"))
    header = ["type", "name", f"label::{EN}", "label::Kazakh", "label"]
    settings = settings_sheet(default_language="Kazakh", opens="soon")
    paths.append(build(tmp_path, survey_sheet(header=header), settings=settings, name="l.xlsx"))
    paths.append(zip_file(tmp_path / "zip.xlsx", {"a.txt": b"a"}))
    problems = []
    for path in paths:
        with pytest.raises(QuestionnaireError) as info:
            load_xlsform(path)
        problems += info.value.problems
    messages = {p.message for p in problems}
    assert len(messages) >= 30
    for lang in ("en", "kk", "kk_Arab", "ru", "zh_Hans", "mn", "tr", "uz_Latn"):
        with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as file:
            catalog = read_po(file)
        untranslated = [m for m in messages if not (catalog.get(m) and catalog.get(m).string)]
        assert untranslated == [], lang

        def gettext(message: str, catalog: Any = catalog) -> str:
            entry = catalog.get(message)
            return entry.string if entry and entry.string else message

        for problem in problems:
            problem.format(gettext)  # every placeholder of the msgid is in the translation


# -- writing and the round trip ------------------------------------------------------------


def test_the_bundled_questionnaire_round_trips(tmp_path):
    bundled = load_path(BUNDLED)
    path = tmp_path / "kazakh-diaspora.xlsx"
    write_xlsform(bundled, path)
    assert load_xlsform(path) == bundled
    # Written again from what was read, the workbook reads back to the same document.
    again = tmp_path / "again.xlsx"
    write_xlsform(read_xlsform(path), again)
    assert read_xlsform(again) == read_xlsform(path)
    assert read_xlsform(path)["settings"]["unreviewed"] == [
        "kk-Arab",
        "zh-Hans",
        "tr",
        "mn",
        "uz-Latn",
    ]


def test_the_written_workbook_is_laid_out_as_an_xlsform(tmp_path):
    path = tmp_path / "out.xlsx"
    write_xlsform(load_path(BUNDLED), path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["survey", "choices", "settings", "roles"]
    survey = [[c.value for c in row] for row in book["survey"].iter_rows()]
    header = survey[0]
    assert header[:3] == ["type", "name", "label::Kazakh (kk)"]
    assert "label::English (en)" in header and "label::Kazakh, Latin (kk-Latn)" in header
    rows = {row[header.index("name")]: row for row in survey[1:]}
    # The page comes before its question, of the same name.
    assert [r[0] for r in survey[1:] if r[1] == "residence"] == ["begin_group", "atlas:location"]
    assert survey[-1][:2] == ["end_group", None]
    assert rows["experience"][0] == "text"
    assert rows["experience"][header.index("appearance")] == "multiline"
    assert rows["sex"][0] == "select_one sex"
    # Latin Kazakh is derived from Cyrillic when read, so its cells are left empty.
    assert rows["sex"][header.index("label::Kazakh, Latin (kk-Latn)")] is None
    settings = [[c.value for c in row] for row in book["settings"].iter_rows()]
    assert settings[1][settings[0].index("form_id")] == "kazakh-diaspora"
    assert settings[1][settings[0].index("default_language")] == "Kazakh (kk)"


def test_a_document_is_checked_before_it_is_written(tmp_path):
    document = read_xlsform(build(tmp_path, survey_sheet(*page(["note", "n", "Note", "Ескерту"]))))
    document["survey"][0]["label"] = {"en": "=1+1", "kk": "=HYPERLINK(1)"}
    path = tmp_path / "out.xlsx"
    write_xlsform(document, path)
    # Text that looks like a formula stays text.
    assert load_xlsform(path).question("n").label == {"en": "=1+1", "kk": "=HYPERLINK(1)"}
    document["survey"][0]["type"] = "nonsense"
    with pytest.raises(QuestionnaireError):
        write_xlsform(document, tmp_path / "bad.xlsx")


# -- the commands --------------------------------------------------------------------------


def test_import_xlsform_stores_a_new_version_when_changed(runner, db, tmp_path):
    from app.questionnaires import newest_questionnaire, versions

    path = build(tmp_path, survey_sheet(*page(["integer", "age", "Age", "Жас"])))
    result = runner.invoke(args=["atlas", "import-xlsform", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "form.xlsx: mini-survey-2026 v1 (new version)"
    again = runner.invoke(args=["atlas", "import-xlsform", str(path)])
    assert again.output.strip() == "form.xlsx: mini-survey-2026 v1 (unchanged)"
    changed = build(tmp_path, survey_sheet(*page(["integer", "age", "Your age", "Жасыңыз"])))
    result = runner.invoke(args=["atlas", "import-xlsform", str(changed)])
    assert result.output.strip() == "form.xlsx: mini-survey-2026 v2 (new version)"
    assert [v.number for v in versions("mini-survey-2026")] == [1, 2]
    assert newest_questionnaire("mini-survey-2026").question("age").label["en"] == "Your age"
    result = runner.invoke(args=["atlas", "import-xlsform", str(path), "--slug", "renamed"])
    assert result.output.strip() == "form.xlsx: renamed v1 (new version)"


def test_import_xlsform_prints_every_problem_and_fails(runner, db, tmp_path):
    from app.questionnaires import find

    path = build(
        tmp_path,
        survey_sheet(*page(["calculate", "x", "X", "X"], ["begin_repeat", "r", "R", "R"])),
    )
    result = runner.invoke(args=["atlas", "import-xlsform", str(path)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # no traceback
    assert "form.xlsx, survey sheet, row 3, column type: calculate" in result.output
    assert "form.xlsx, survey sheet, row 4, column type: repeats are not supported" in (
        result.output
    )
    assert find("mini-survey-2026") is None


def test_export_xlsform_writes_the_newest_version(runner, db, tmp_path):
    from app.questionnaires import newest_questionnaire

    path = tmp_path / "export.xlsx"
    result = runner.invoke(args=["atlas", "export-xlsform", "kazakh-diaspora", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"kazakh-diaspora v1: {path}"
    assert load_xlsform(path) == newest_questionnaire("kazakh-diaspora")
    # Imported back unchanged in substance, the form is a version of its own content.
    result = runner.invoke(args=["atlas", "import-xlsform", str(path)])
    assert result.exit_code == 0, result.output
    missing = runner.invoke(args=["atlas", "export-xlsform", "no-such", str(path)])
    assert missing.exit_code != 0
    assert "no questionnaire is stored under no-such" in missing.output
