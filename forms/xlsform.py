"""XLSForm in and out: read a workbook into a questionnaire document, write one back.

Reading goes through pyxform's own reading layer: :func:`pyxform.xls2json_backends.get_xlsform`
turns the workbook into sheet rows, and :func:`pyxform.parsing.sheet_headers.process_header`
resolves each column header (aliases such as ``constraint message`` and the
``label::English (en)`` language columns). The rows are then mapped onto the YAML document
:func:`forms.loader.load_document` checks, so an XLSForm and a YAML file are validated and
versioned by the same code. What XLSForm defines and the Atlas does not support is refused with
the sheet, the row (as the spreadsheet numbers it: the header is row 1) and the column; nothing
is dropped silently. The representation of the Atlas's own types and settings is described in
``forms/FORMAT.md`` ("XLSForm").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import zipfile
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from forms.expr import ExpressionError, parse
from forms.i18n import N_
from forms.loader import LANG_RE, Problem, QuestionnaireError, load_document
from forms.schema import Questionnaire

#: Atlas question types that XLSForm lacks are written ``atlas:<type>``: XLSForm's own
#: ``location`` is a GPS point and its ``email`` the device's address, so the bare names
#: would mean something else to every other XLSForm tool.
ATLAS_PREFIX = "atlas:"
ATLAS_TYPES = ("location", "country", "consent", "email", "year")
#: A ``text`` question with this appearance is a ``long_text`` (a text area), as in ODK.
MULTILINE = "multiline"
#: Appearances the Atlas honours, by Atlas type (``field-list`` on a group: a page is one).
APPEARANCES = {"select_one": {"minimal"}}
XLSFORM_EXTENSIONS = {".xlsx", ".xlsm", ".xls"}
#: How a workbook's file begins: an .xlsx (or .xlsm) is a ZIP archive, an .xls an OLE2
#: compound document.
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: How much an .xlsx may unpack to: the bundled questionnaire's workbook unpacks to some
#: 190 KB, and a ZIP of a few hundred KB can unpack to gigabytes.
MAX_UNPACKED = 32 * 2**20

#: Survey columns read, as pyxform resolves their headers (first tokens).
_SURVEY_COLUMNS = {
    ("type",): "type",
    ("name",): "name",
    ("label",): "label",
    ("hint",): "hint",
    ("bind", "required"): "required",
    ("bind", "relevant"): "relevant",
    ("bind", "constraint"): "constraint",
    ("bind", "jr:constraintMsg"): "constraint_message",
    ("control", "appearance"): "appearance",
    ("min",): "min",
    ("max",): "max",
    ("max_length",): "max_length",
}
_SETTINGS_COLUMNS = {
    ("title",): "title",
    ("id_string",): "form_id",
    ("version",): "version",
    ("default_language",): "default_language",
    ("description",): "description",
    ("consent_version",): "consent_version",
    ("consent_text",): "consent_text",
    ("unreviewed",): "unreviewed",
    ("opens",): "opens",
    ("closes",): "closes",
    ("style",): "style",
}
_CHOICES_COLUMNS = {("list name",): "list_name", ("name",): "name", ("label",): "label"}
_ROLES_COLUMNS = {("role",): "role", ("question",): "question"}
#: Columns that hold one text per language.
_TRANSLATED = {"label", "hint", "constraint_message", "title", "description", "consent_text"}
#: Columns of a begin_group row.
_GROUP_FIELDS = {"type", "name", "label", "relevant", "appearance"}
#: Columns each Atlas type may use besides type, name, label, hint, required, relevant,
#: constraint and constraint_message.
_TYPE_FIELDS = {
    "text": {"max_length"},
    "long_text": {"max_length"},
    "email": set(),
    "integer": {"min", "max"},
    "decimal": {"min", "max"},
    "year": {"min", "max"},
    "select_one": {"appearance"},
}
#: Sheets pyxform reads that the Atlas does not support.
_REFUSED_SHEETS = {
    "external_choices": N_("external choice lists are not supported"),
    "entities": N_("entities are not supported"),
    "osm": N_("OpenStreetMap questions are not supported"),
}
_LANGUAGE_RE = re.compile(r"^(?P<name>.*?)\s*\((?P<tag>[^()]*)\)\s*$")
_DATE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T]00:00(?::00)?)?$")
_INT_RE = re.compile(r"^[+-]?\d+$")
_REFERENCE_IN_TEXT = "${"


@lru_cache(maxsize=1)
def _pyxform() -> SimpleNamespace:
    """Import pyxform's reading layer (only when a workbook is read)."""
    from pyxform import aliases, constants
    from pyxform import xls2json_backends as backends
    from pyxform.parsing.sheet_headers import clean_text_values, process_header
    from pyxform.question import MultipleChoiceQuestion, Option
    from pyxform.question_type_dictionary import QUESTION_TYPE_DICT
    from pyxform.survey import Survey
    from pyxform.xls2json import RE_BEGIN_CONTROL, RE_END_CONTROL, RE_SELECT

    # Every name (aliases included) of the XLSForm types the Atlas reads as they are.
    simple = {
        name: atlas
        for atlas in ("text", "integer", "decimal", "date", "note")
        for name, spec in QUESTION_TYPE_DICT.items()
        if spec == QUESTION_TYPE_DICT[atlas] and "select" not in name
    }
    return SimpleNamespace(
        aliases=aliases,
        constants=constants,
        backends=backends,
        process_header=process_header,
        clean_text_values=clean_text_values,
        question_columns=set(MultipleChoiceQuestion.get_slot_names()),
        option_columns=set(Option.get_slot_names()),
        settings_columns=set(Survey.get_slot_names()),
        types=QUESTION_TYPE_DICT,
        simple_types=simple,
        begin=RE_BEGIN_CONTROL,
        end=RE_END_CONTROL,
        select=RE_SELECT,
    )


def sniff_workbook(head: bytes) -> str | None:
    """Return the kind of workbook a file's first bytes show: ``.xlsx``, ``.xls`` or None.

    Any ZIP archive counts as ``.xlsx`` here: whether it holds a workbook is known only
    once it is opened.
    """
    if head.startswith(ZIP_MAGIC):
        return ".xlsx"
    if head.startswith(OLE2_MAGIC):
        return ".xls"
    return None


def sanitise_slug(text: str) -> str:
    """Return ``text`` as a slug: lower case, runs of anything but [a-z0-9] as one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:63].strip("-")


def language_tag(name: str) -> str | None:
    """Return the BCP 47 tag of an XLSForm language name such as ``English (en)`` (or None)."""
    found = _LANGUAGE_RE.match(name)
    if found and LANG_RE.match(found["tag"].strip()):
        return found["tag"].strip()
    return None


def language_name(tag: str) -> str:
    """Return the XLSForm language name of a tag: its English name and the tag, ``Kazakh (kk)``."""
    from babel import Locale

    english = Locale("en")
    language, *rest = tag.split("-")
    parts = [english.languages.get(language, language)]
    for subtag in rest:
        parts.append(english.scripts.get(subtag) or english.territories.get(subtag) or subtag)
    return f"{', '.join(parts)} ({tag})"


# -- reading ----------------------------------------------------------------------------------


@dataclasses.dataclass
class _Column:
    header: str
    #: What the column holds (None: refused, or not read).
    field: str | None
    #: The language tag of a translated column; "" until the default language is known.
    lang: str | None = None
    #: Why a value in the column is refused.
    refusal: str | None = None


@dataclasses.dataclass
class _Sheet:
    name: str
    columns: list[_Column]
    #: (spreadsheet row number, {header: text}) of each row with a value.
    rows: list[tuple[int, dict[str, str]]]


class _Reader:
    """Maps a workbook onto a questionnaire document, collecting every refusal."""

    def __init__(self, path: Path, filename: str) -> None:
        self.path = path
        self.filename = filename
        self.problems: list[Problem] = []
        self.px = _pyxform()
        self.languages: list[str] = []
        self.default_lang: str | None = None
        #: Where each part of the document came from, to report the loader's problems.
        self.survey_rows: list[int] = []
        self.group_rows: dict[str, int] = {}
        self.choice_rows: dict[str, list[int]] = {}
        self.role_rows: dict[str, int] = {}
        self.settings_row = 2

    def problem(
        self, sheet: str, row: int | None, column: str | None, message: str, /, **params: Any
    ) -> None:
        """Add a problem at a sheet's row and column (positional: ``column`` is also a param)."""
        where = f"{sheet} sheet"
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column}"
        self.problems.append(Problem(self.filename, where, message, params))

    # -- sheets -------------------------------------------------------------------------

    def cannot_read(self, message: str, **params: Any) -> QuestionnaireError:
        return QuestionnaireError([Problem(self.filename, "file", message, params)])

    def read_workbook(self) -> Any:
        """Read the workbook's sheets with pyxform, once its content is known to be one.

        The first bytes must be those of the format the name gives (a YAML file named .xlsx,
        a ZIP of anything else, a damaged file are refused before any reader sees them), and
        an .xlsx must not unpack to more than :data:`MAX_UNPACKED` bytes.
        """
        suffix = self.path.suffix.lower()
        if suffix not in XLSFORM_EXTENSIONS:
            raise self.cannot_read(N_("is not an XLSForm workbook (.xlsx or .xls)"))
        try:
            with self.path.open("rb") as file:
                head = file.read(len(OLE2_MAGIC))
        except OSError as exc:
            raise self.cannot_read(
                N_("cannot be read as an XLSForm: %(reason)s"), reason=str(exc)
            ) from exc
        expected = ".xls" if suffix == ".xls" else ".xlsx"
        if sniff_workbook(head) != expected:
            raise self.cannot_read(
                N_("cannot be read as an XLSForm: its content is not an %(extension)s workbook"),
                extension=suffix,
            )
        if expected == ".xlsx":
            self.check_archive()
        from pyxform.errors import PyXFormError

        try:
            return self.px.backends.get_xlsform(self.path)
        except PyXFormError as exc:
            # pyxform reports a file its reader failed on as of no supported type (the reader's
            # own error is dropped); other errors (a duplicate column header) say what is wrong.
            if str(exc).startswith("Argument 'definition' was not recognized"):
                raise self.cannot_read(
                    N_("cannot be read as an XLSForm: the workbook is damaged or incomplete")
                ) from exc
            raise self.cannot_read(
                N_("cannot be read as an XLSForm: %(reason)s"), reason=str(exc)
            ) from exc
        except Exception as exc:  # noqa: BLE001 - the readers raise whatever a file provokes
            raise self.cannot_read(
                N_("cannot be read as an XLSForm: %(reason)s"), reason=str(exc)
            ) from exc

    def check_archive(self) -> None:
        """Refuse a ZIP that is damaged, is not an Excel workbook, or unpacks too large."""
        try:
            with zipfile.ZipFile(self.path) as archive:
                members = archive.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise self.cannot_read(
                N_("cannot be read as an XLSForm: the workbook is damaged or incomplete")
            ) from exc
        names = {member.filename for member in members}
        if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
            raise self.cannot_read(
                N_("cannot be read as an XLSForm: it is a ZIP archive, not an Excel workbook")
            )
        if sum(member.file_size for member in members) > MAX_UNPACKED:
            raise self.cannot_read(
                N_("cannot be read as an XLSForm: it unpacks to more than %(n)d MB"),
                n=MAX_UNPACKED // 2**20,
            )

    def sheet(
        self,
        name: str,
        rows: Iterable[dict[str, Any]] | None,
        header: Iterable[dict[str, Any]] | None,
        known: Mapping[tuple[str, ...], str],
        aliases: Mapping[str, Any],
        xlsform_columns: set[str],
    ) -> _Sheet:
        """Resolve a sheet's headers with pyxform and keep its non-empty rows, numbered."""
        headers = list(next(iter(header or []), {}) or {})
        double_colon = any("::" in h for h in headers)
        columns = []
        for raw in headers:
            _, tokens = self.px.process_header(raw, double_colon, aliases, xlsform_columns)
            columns.append(self.column(name, raw, tuple(tokens), known, xlsform_columns))
        numbered = [
            (number, {k: str(v) for k, v in row.items() if v is not None and str(v).strip()})
            for number, row in enumerate(rows or [], start=2)
        ]
        return _Sheet(name, columns, [(n, row) for n, row in numbered if row])

    def column(
        self,
        sheet: str,
        raw: str,
        tokens: tuple[str, ...],
        known: Mapping[tuple[str, ...], str],
        xlsform_columns: set[str],
    ) -> _Column:
        """Return what a header (as pyxform split it into tokens) holds in the Atlas."""
        size = 2 if len(tokens) >= 2 and tokens[:2] in known else 1
        field = known.get(tokens[:size])
        if field is None:
            if tokens[0] in xlsform_columns or tokens[0] in ("bind", "control", "media"):
                return _Column(
                    raw, None, refusal=N_("the XLSForm column %(header)s is not supported")
                )
            return _Column(raw, None, refusal=N_("%(header)s is not a column the Atlas reads"))
        rest = tokens[size:]
        if field not in _TRANSLATED:
            if rest:
                return _Column(raw, None, refusal=N_("%(header)s does not take a language"))
            return _Column(raw, field)
        if len(rest) > 1:
            return _Column(raw, None, refusal=N_("%(header)s is not a column the Atlas reads"))
        if not rest:
            return _Column(raw, field, "")  # the default language, known later
        tag = language_tag(rest[0])
        if tag is None:
            self.problem(
                sheet,
                1,
                raw,
                N_(
                    "the language %(language)s has no BCP 47 tag in parentheses: "
                    "write it as in %(example)s"
                ),
                language=rest[0],
                example=f"{raw.rsplit(rest[0], 1)[0]}{rest[0] or 'English'} (en)",
            )
            return _Column(raw, None)
        if tag not in self.languages:
            self.languages.append(tag)
        return _Column(raw, field, tag)

    def check_columns(self, sheet: _Sheet) -> list[_Column]:
        """Refuse every value in a column that is not read; resolve unlabelled languages."""
        used = []
        seen: dict[tuple[str, str | None], str] = {}
        for column in sheet.columns:
            if column.field is None:
                for number, row in sheet.rows if column.refusal else ():
                    if column.header in row:
                        self.problem(
                            sheet.name, number, column.header, column.refusal, header=column.header
                        )
                continue
            if column.lang == "":
                if self.default_lang is None:
                    self.problem(
                        sheet.name,
                        1,
                        column.header,
                        N_(
                            "a column without a language needs default_language in the "
                            "settings sheet (such as English (en)), or write %(example)s"
                        ),
                        example=f"{column.header}::English (en)",
                    )
                    continue
                column.lang = self.default_lang
                if column.lang not in self.languages:
                    self.languages.append(column.lang)
            key = (column.field, column.lang)
            if key in seen:
                self.problem(
                    sheet.name,
                    1,
                    column.header,
                    N_("repeats column %(other)s (the same language)"),
                    other=seen[key],
                )
                continue
            seen[key] = column.header
            used.append(column)
        return used

    @staticmethod
    def values(row: Mapping[str, str], columns: list[_Column]) -> dict[str, Any]:
        """Return a row's values by field; translated fields as ``{tag: text}``."""
        found: dict[str, Any] = {}
        for column in columns:
            value = row.get(column.header)
            if column.field in _TRANSLATED:
                texts = found.setdefault(column.field, {})
                if value is not None:
                    texts[column.lang] = value
            elif value is not None:
                found[column.field] = value
        return {k: v for k, v in found.items() if v != {}}

    # -- the whole workbook ----------------------------------------------------------------

    def read(self, slug: str | None) -> dict[str, Any]:
        px = self.px
        book = self.read_workbook()
        for sheet_name, reason in _REFUSED_SHEETS.items():
            rows = getattr(book, sheet_name, None) or []
            for number, row in enumerate(rows, start=2):
                if row:
                    self.problem(sheet_name, number, None, reason)
                    break

        survey_sheet = self.sheet(
            "survey",
            book.survey,
            book.survey_header,
            _SURVEY_COLUMNS,
            px.aliases.survey_header,
            px.question_columns,
        )
        choices_sheet = self.sheet(
            "choices",
            book.choices,
            book.choices_header,
            _CHOICES_COLUMNS,
            px.aliases.list_header,
            px.option_columns,
        )
        settings_sheet = self.sheet(
            "settings",
            book.settings,
            book.settings_header,
            _SETTINGS_COLUMNS,
            px.aliases.settings_header,
            px.settings_columns,
        )
        # Languages are listed in the order the survey sheet's columns give them.
        first = settings_sheet.rows[0] if settings_sheet.rows else (2, {})
        self.settings_row = first[0]
        for column in settings_sheet.columns:
            if column.field == "default_language" and column.header in first[1]:
                self.default_lang = self.default_language(first[1][column.header], column)
        try:
            roles_sheet = self.roles_sheet()
        except Exception as exc:  # noqa: BLE001 - as in read_workbook
            raise self.cannot_read(
                N_("cannot be read as an XLSForm: %(reason)s"), reason=str(exc)
            ) from exc

        settings = self.read_settings(settings_sheet, slug)
        choices = self.read_choices(choices_sheet)
        groups, survey = self.read_survey(survey_sheet, settings.get("title") or {})
        roles = self.read_roles(roles_sheet) if roles_sheet else {}
        settings["languages"] = list(self.languages)
        document: dict[str, Any] = {"settings": settings, "groups": groups, "survey": survey}
        document["choices"] = choices
        if roles:
            document["roles"] = roles
        return document

    def default_language(self, text: str, column: _Column) -> str | None:
        tag = language_tag(text) or (text.strip() if LANG_RE.match(text.strip()) else None)
        if tag is None:
            self.problem(
                "settings",
                self.settings_row,
                column.header,
                N_(
                    "default_language %(value)s has no BCP 47 tag: write it as the language "
                    "columns do, such as English (en)"
                ),
                value=text,
            )
            return None
        return tag

    def read_settings(self, sheet: _Sheet, slug: str | None) -> dict[str, Any]:
        columns = self.check_columns(sheet)
        for number, _ in sheet.rows[1:]:
            self.problem("settings", number, None, N_("the settings sheet has one row of values"))
        row_number, row = sheet.rows[0] if sheet.rows else (2, {})
        values = self.values(row, columns)
        headers = {c.field: c.header for c in columns}
        settings: dict[str, Any] = {}
        form_id = values.get("form_id") or Path(self.filename).stem
        settings["slug"] = slug if slug is not None else sanitise_slug(form_id)
        if values.get("version"):
            settings["version"] = values["version"]
        for key in ("title", "description"):
            if values.get(key):
                settings[key] = values[key]
        if self.default_lang:
            settings["default_language"] = self.default_lang
        if values.get("unreviewed"):
            settings["unreviewed"] = values["unreviewed"].replace(",", " ").split()
        for key in ("opens", "closes"):
            if key in values:
                found = _DATE_RE.match(values[key].strip())
                if found is None:
                    self.problem(
                        "settings",
                        row_number,
                        headers[key],
                        N_("%(value)s is not a date (YYYY-MM-DD)"),
                        value=values[key],
                    )
                else:
                    settings[key] = found[1]
        if values.get("style", "pages") != "pages":
            self.problem(
                "settings",
                row_number,
                headers["style"],
                N_("the style %(value)s is not supported: every group is a page (pages)"),
                value=values["style"],
            )
        consent: dict[str, Any] = {}
        if values.get("consent_version"):
            consent["version"] = values["consent_version"]
        if values.get("consent_text"):
            consent["text"] = values["consent_text"]
        if consent:
            settings["consent"] = consent
        return settings

    def read_choices(self, sheet: _Sheet) -> dict[str, list[dict[str, Any]]]:
        columns = self.check_columns(sheet)
        headers = {c.field: c.header for c in columns}
        lists: dict[str, list[dict[str, Any]]] = {}
        for number, row in sheet.rows:
            values = self.values(row, columns)
            if not values:
                continue
            list_name = values.get("list_name")
            if not list_name:
                self.problem(
                    "choices",
                    number,
                    headers.get("list_name", "list_name"),
                    N_("missing list_name"),
                )
                continue
            self.check_text(values, "choices", number, headers)
            option: dict[str, Any] = {"name": values.get("name", "")}
            if values.get("label"):
                option["label"] = values["label"]
            lists.setdefault(list_name, []).append(option)
            self.choice_rows.setdefault(list_name, []).append(number)
        return lists

    def check_text(
        self, values: Mapping[str, Any], sheet: str, number: int, headers: Mapping[str, str]
    ) -> None:
        """Refuse labels that show another answer (``${name}`` in a text)."""
        for field in ("label", "hint", "constraint_message"):
            for text in (values.get(field) or {}).values():
                if _REFERENCE_IN_TEXT in text:
                    self.problem(
                        sheet,
                        number,
                        headers.get(field, field),
                        N_("shows another answer with ${...}, which is not supported in texts"),
                    )
                    break

    def roles_sheet(self) -> _Sheet | None:
        """Read the Atlas's ``roles`` sheet, which pyxform skips, with pyxform's row helpers."""
        backends = self.px.backends
        rows: list[dict[str, Any]] | None = None
        if self.path.suffix.lower() == ".xls":
            import xlrd

            book = xlrd.open_workbook(self.path)
            try:
                for sheet in book.sheets():
                    if sheet.name.lower() == "roles" and sheet.nrows:
                        headers = backends.get_excel_column_headers(c.value for c in sheet.row(0))
                        cells = (
                            tuple(sheet.cell(r, c) for c in range(len(headers)))
                            for r in range(1, sheet.nrows)
                        )
                        rows = backends.get_excel_rows(
                            headers,
                            cells,
                            lambda cell, _n, _k: backends.xls_value_to_unicode(
                                cell.value.strip() if isinstance(cell.value, str) else cell.value,
                                cell.ctype,
                                book.datemode,
                            ),
                        )
            finally:
                book.release_resources()
        else:
            import openpyxl

            book = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
            try:
                for name in book.sheetnames:
                    if name.lower() == "roles":
                        sheet = book[name]
                        first = next(sheet.iter_rows(max_row=1, values_only=True), ())
                        headers = backends.get_excel_column_headers(first)
                        cells = sheet.iter_rows(min_row=2, max_col=max(len(headers), 1))
                        rows = backends.get_excel_rows(
                            headers,
                            cells,
                            lambda cell, _n, _k: backends.xlsx_value_to_str(
                                cell.value.strip() if isinstance(cell.value, str) else cell.value
                            ),
                        )
            finally:
                book.close()
        if rows is None:
            return None
        header = [dict.fromkeys(h for h in headers if h is not None)]
        return self.sheet("roles", rows, header, _ROLES_COLUMNS, {}, set())

    def read_roles(self, sheet: _Sheet) -> dict[str, str]:
        columns = self.check_columns(sheet)
        headers = {c.field: c.header for c in columns}
        roles: dict[str, str] = {}
        for number, row in sheet.rows:
            values = self.values(row, columns)
            role, question = values.get("role"), values.get("question")
            if not role or not question:
                missing = "role" if not role else "question"
                self.problem(
                    "roles",
                    number,
                    headers.get(missing, missing),
                    N_("missing %(column)s"),
                    column=missing,
                )
                continue
            if role in roles:
                self.problem(
                    "roles", number, headers["role"], N_("role %(role)s is given twice"), role=role
                )
                continue
            roles[role] = question
            self.role_rows[role] = number
        return roles

    # -- the survey sheet ---------------------------------------------------------------

    def read_survey(
        self, sheet: _Sheet, title: Mapping[str, str]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        columns = self.check_columns(sheet)
        headers = {c.field: c.header for c in columns}
        header = headers.get
        groups: list[dict[str, Any]] = []
        survey: list[dict[str, Any]] = []
        explicit = {
            self.values(row, columns).get("name")
            for _, row in sheet.rows
            if self.px.begin.match(" ".join(row.get(header("type", "type"), "").split()))
        }
        current: str | None = None  # the open top-level group
        loose: str | None = None  # the page of questions outside any group
        depth = 0
        for number, row in sheet.rows:
            values = self.values(row, columns)
            if not values:
                continue
            qtype = " ".join(values.get("type", "").split())
            if not qtype:
                self.problem("survey", number, header("type", "type"), N_("missing type"))
                continue
            begin, end = self.px.begin.match(qtype), self.px.end.match(qtype)
            if begin:
                if self.px.aliases.control[begin["type"]] != self.px.constants.GROUP:
                    self.problem(
                        "survey",
                        number,
                        header("type"),
                        N_("repeats are not supported (%(type)s)"),
                        type=qtype,
                    )
                    depth += 1
                    continue
                if begin["list_name"]:
                    self.problem(
                        "survey", number, header("type"), N_("a group over a list is not supported")
                    )
                if depth:
                    self.problem(
                        "survey",
                        number,
                        header("type"),
                        N_(
                            "groups inside groups are not supported: each top-level group is a page"
                        ),
                    )
                    depth += 1
                    continue
                depth = 1
                loose = None
                current = str(values.get("name", ""))
                groups.append(self.group_doc(values, number, headers))
                self.group_rows[current] = number
                continue
            if end:
                if not depth:
                    self.problem(
                        "survey", number, header("type"), N_("%(type)s without a begin"), type=qtype
                    )
                    continue
                depth -= 1
                if not depth:
                    current = None
                continue
            if depth > 1 or (depth == 1 and current is None):
                continue  # inside a refused repeat or nested group: reported at its begin
            question = self.question_doc(values, qtype, number, headers)
            if question is None:
                continue
            if current is None:
                if loose is None:
                    loose = self.free_name(explicit, len(groups) + 1)
                    explicit.add(loose)
                    groups.append({"name": loose, "label": dict(title)})
                    self.group_rows[loose] = number
                question["group"] = loose
            else:
                question["group"] = current
            survey.append(question)
            self.survey_rows.append(number)
        if depth:
            self.problem("survey", None, None, N_("a group or repeat is not closed with its end"))
        return groups, survey

    @staticmethod
    def free_name(taken: set[Any], position: int) -> str:
        """Return a page name for questions outside any group that no group has."""
        name = f"page_{position}"
        while name in taken:
            position += 1
            name = f"page_{position}"
        return name

    def group_doc(
        self, values: Mapping[str, Any], number: int, headers: Mapping[str, str]
    ) -> dict[str, Any]:
        for field in values:
            if field not in _GROUP_FIELDS:
                self.problem(
                    "survey",
                    number,
                    headers[field],
                    N_("a group does not take %(column)s"),
                    column=field,
                )
        appearance = values.get("appearance")
        if appearance and appearance != "field-list":
            self.problem(
                "survey",
                number,
                headers["appearance"],
                N_("the group appearance %(value)s is not supported (every page is a field-list)"),
                value=appearance,
            )
        self.check_text(values, "survey", number, headers)
        group: dict[str, Any] = {"name": str(values.get("name", ""))}
        if values.get("label"):
            group["label"] = values["label"]
        relevant = self.expression(values, "relevant", number, headers)
        if relevant:
            group["relevant"] = relevant
        return group

    def atlas_type(self, qtype: str, values: Mapping[str, Any], number: int, column: str) -> Any:
        """Return ``(Atlas type, choice list)`` of an XLSForm type, or None when refused."""
        px = self.px
        if qtype.startswith(ATLAS_PREFIX):
            name = qtype[len(ATLAS_PREFIX) :]
            if name in ATLAS_TYPES:
                return name, None
            self.problem("survey", number, column, N_("unknown Atlas type %(type)s"), type=qtype)
            return None
        select = px.select.match(qtype)
        if select:
            command = px.aliases.select[select["select_command"]]
            if select["specify_other"]:
                self.problem(
                    "survey",
                    number,
                    column,
                    N_(
                        "%(type)s is not supported: add an 'other' choice and a text question "
                        "relevant when it is selected"
                    ),
                    type=qtype,
                )
                return None
            kinds = {
                px.constants.SELECT_ONE: "select_one",
                px.constants.SELECT_ALL_THAT_APPLY: "select_multiple",
            }
            if command not in kinds or select["select_command"] in px.aliases.select_from_file:
                self.problem(
                    "survey", number, column, N_("the type %(type)s is not supported"), type=qtype
                )
                return None
            return kinds[command], select["list_name"]
        if qtype in px.aliases.select or qtype.split()[0] in px.aliases.select:
            self.problem(
                "survey",
                number,
                column,
                N_("%(type)s needs a choice list: %(type)s LIST"),
                type=qtype,
            )
            return None
        simple = px.simple_types.get(qtype)
        if simple is not None:
            if simple == "text" and values.get("appearance") == MULTILINE:
                return "long_text", None
            return simple, None
        spec = px.types.get(px.aliases._type_alias_map.get(qtype, qtype))
        if spec is None:
            self.problem("survey", number, column, N_("unknown type %(type)s"), type=qtype)
            return None
        self.problem("survey", number, column, _type_refusal(qtype, spec), type=qtype)
        return None

    def question_doc(
        self, values: Mapping[str, Any], qtype: str, number: int, headers: Mapping[str, str]
    ) -> dict[str, Any] | None:
        found = self.atlas_type(qtype, values, number, headers["type"])
        if found is None:
            return None
        atlas, list_name = found
        question: dict[str, Any] = {"type": atlas, "name": str(values.get("name", ""))}
        if list_name:
            question["choices"] = list_name
        allowed = _TYPE_FIELDS.get(atlas, set())
        for field in ("appearance", "min", "max", "max_length"):
            if field not in values:
                continue
            value = values[field]
            if field == "appearance":
                if atlas == "long_text" and value == MULTILINE:
                    continue
                if value not in APPEARANCES.get(atlas, set()):
                    self.problem(
                        "survey",
                        number,
                        headers[field],
                        N_("the appearance %(value)s is not supported for %(type)s"),
                        value=value,
                        type=qtype,
                    )
                    continue
                question["appearance"] = value
                continue
            if field not in allowed:
                self.problem(
                    "survey",
                    number,
                    headers[field],
                    N_("a question of type %(type)s does not take %(column)s"),
                    type=qtype,
                    column=field,
                )
                continue
            number_value = _number(value, whole=field == "max_length")
            if number_value is None:
                self.problem(
                    "survey",
                    number,
                    headers[field],
                    N_("%(column)s must be a whole number")
                    if field == "max_length"
                    else N_("%(column)s must be a number"),
                    column=field,
                )
                continue
            question[field] = number_value
        for field in ("label", "hint", "constraint_message"):
            if values.get(field):
                question[field] = values[field]
        self.check_text(values, "survey", number, headers)
        if "required" in values:
            required = self.px.aliases.yes_no.get(values["required"].strip())
            if required is None:
                self.problem(
                    "survey",
                    number,
                    headers["required"],
                    N_("required must be yes or no (%(value)s): a condition is not supported"),
                    value=values["required"],
                )
            elif required:
                question["required"] = True
        for field in ("relevant", "constraint"):
            expression = self.expression(values, field, number, headers)
            if expression:
                question[field] = expression
        return question

    def expression(
        self, values: Mapping[str, Any], field: str, number: int, headers: Mapping[str, str]
    ) -> str | None:
        """Return an expression as written (typographic quotes made plain, as pyxform does)."""
        text = values.get(field)
        if not text:
            return None
        text = self.px.clean_text_values(text)
        try:
            parse(text)
        except ExpressionError as exc:
            self.problem(
                "survey",
                number,
                headers[field],
                N_("%(column)s cannot be read: %(reason)s"),
                column=field,
                reason=str(exc),
            )
            return None
        return text

    # -- the loader's problems, placed in the workbook ---------------------------------------

    def place(self, problem: Problem, document: Mapping[str, Any]) -> Problem:
        """Return a problem the loader found with its place in the workbook."""
        where = problem.where
        found = re.match(r"^survey row (\d+)( \(.*\))?$", where)
        if found and int(found[1]) <= len(self.survey_rows):
            where = f"survey sheet, row {self.survey_rows[int(found[1]) - 1]}{found[2] or ''}"
        elif found := re.match(r"^groups #(\d+)$", where):
            groups = document.get("groups") or []
            name = groups[int(found[1]) - 1].get("name") if int(found[1]) <= len(groups) else None
            if name in self.group_rows:
                where = f"survey sheet, row {self.group_rows[name]} (group {name})"
        elif found := re.match(r"^groups \((.*)\)$", where):
            if found[1] in self.group_rows:
                where = f"survey sheet, row {self.group_rows[found[1]]} (group {found[1]})"
        elif found := re.match(r"^choices\.(.+) #(\d+)$", where):
            rows = self.choice_rows.get(found[1], [])
            if int(found[2]) <= len(rows):
                where = f"choices sheet, row {rows[int(found[2]) - 1]} (list {found[1]})"
        elif found := re.match(r"^choices\.(.+)$", where):
            if self.choice_rows.get(found[1]):
                where = f"choices sheet, row {self.choice_rows[found[1]][0]} (list {found[1]})"
        elif where.startswith("settings"):
            where = f"settings sheet, row {self.settings_row}"
        elif found := re.match(r"^roles\.(.+)$", where):
            if found[1] in self.role_rows:
                where = f"roles sheet, row {self.role_rows[found[1]]} (role {found[1]})"
        elif where in ("groups", "survey"):
            where = "survey sheet"
        elif where in ("choices", "roles"):
            where = f"{where} sheet"
        return dataclasses.replace(problem, where=where)


def _type_refusal(qtype: str, spec: Mapping[str, Any]) -> str:
    """Return why an XLSForm type the Atlas does not support is refused."""
    bind = spec.get("bind") or {}
    kind = bind.get("type", "")
    if kind in ("geopoint", "geotrace", "geoshape") or "geopoint" in qtype:
        return N_(
            "%(type)s (a GPS point, line or shape) is not supported: ask for a place with "
            "atlas:location, which can take the device's position"
        )
    if kind == "binary" or qtype in ("file", "photo", "image", "audio", "video"):
        return N_("%(type)s (a file, photo or recording) is not supported")
    if "jr:preload" in bind or qtype in ("audit", "start", "end", "today", "deviceid"):
        return N_("%(type)s (device or form metadata) is not collected")
    if qtype in ("calculate", "hidden"):
        return N_("%(type)s (a calculation) is not supported")
    return N_("the XLSForm type %(type)s is not supported")


def _number(text: str, whole: bool = False) -> int | float | None:
    text = text.strip()
    if _INT_RE.match(text):
        return int(text)
    if whole:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() and "e" not in text.lower() else value


def read_xlsform(
    path: str | Path, slug: str | None = None, filename: str | None = None
) -> dict[str, Any]:
    """Read an XLSForm workbook into the questionnaire document :func:`load_document` checks.

    :param slug: the survey's slug, instead of the one made from ``form_id``.
    :param filename: the name problems are reported under (and the slug is made from without
        ``form_id``), instead of the file's own: an upload's name, for a temporary file.
    :raises QuestionnaireError: listing everything in the workbook that is refused.
    """
    return _read(Path(path), slug, filename)[0]


def _read(path: Path, slug: str | None, filename: str | None) -> tuple[dict[str, Any], _Reader]:
    reader = _Reader(path, filename or path.name)
    document = reader.read(slug)
    if reader.problems:
        raise QuestionnaireError(reader.problems)
    return document, reader


def load_xlsform(
    path: str | Path, slug: str | None = None, filename: str | None = None
) -> Questionnaire:
    """Read an XLSForm workbook and check it as a questionnaire.

    The loader's problems (a label missing in a language, an unknown reference...) name the
    sheet and row of the workbook they come from.

    :param filename: as for :func:`read_xlsform`.
    :raises QuestionnaireError: listing every problem.
    """
    path = Path(path)
    document, reader = _read(path, slug, filename)
    try:
        return load_document(document, reader.filename)
    except QuestionnaireError as exc:
        raise QuestionnaireError([reader.place(p, document) for p in exc.problems]) from None


# -- writing ----------------------------------------------------------------------------------


def _texts(value: Any, languages: list[str]) -> dict[str, str]:
    if isinstance(value, str):
        return {languages[0]: value} if languages else {}
    return {str(k): str(v) for k, v in (value or {}).items()}


def _written_type(question: Mapping[str, Any]) -> tuple[str, str | None]:
    """Return the XLSForm type and appearance a document row is written with."""
    qtype = str(question.get("type"))
    appearance = question.get("appearance")
    if qtype in ("select_one", "select_multiple"):
        return f"{qtype} {question.get('choices')}", appearance
    if qtype == "long_text" and not appearance:
        return "text", MULTILINE
    if qtype in ATLAS_TYPES or qtype == "long_text":
        return ATLAS_PREFIX + qtype, appearance
    return qtype, appearance


def write_xlsform(questionnaire: Questionnaire | Mapping[str, Any], path: str | Path) -> None:
    """Write a questionnaire (or its document) as an XLSForm workbook (.xlsx).

    The document is checked first, so only a questionnaire that loads is written. Texts of a
    language the loader derives (``kk-Latn`` from ``kk``) are left empty when the document does
    not give them, so they are derived again when the workbook is read.
    """
    from openpyxl import Workbook

    if isinstance(questionnaire, Questionnaire):
        document = questionnaire.source
        if not document:
            raise ValueError("the questionnaire has no source document to write")
    else:
        document = questionnaire
    load_document(document, "<questionnaire>")  # raises QuestionnaireError
    settings = document["settings"]
    languages = [str(lang) for lang in settings["languages"]]
    names = {lang: language_name(lang) for lang in languages}

    def translated(field: str, value: Any) -> dict[str, str]:
        texts = _texts(value, languages)
        return {f"{field}::{names[lang]}": texts[lang] for lang in languages if lang in texts}

    book = Workbook()
    survey_rows: list[dict[str, Any]] = []
    by_group: dict[str, list[Mapping[str, Any]]] = {}
    for row in document.get("survey") or []:
        by_group.setdefault(str(row.get("group")), []).append(row)
    for group in document.get("groups") or []:
        survey_rows.append(
            {
                "type": "begin_group",
                "name": group["name"],
                **translated("label", group.get("label")),
                "relevant": group.get("relevant"),
            }
        )
        for question in by_group.get(str(group["name"]), []):
            qtype, appearance = _written_type(question)
            survey_rows.append(
                {
                    "type": qtype,
                    "name": question["name"],
                    **translated("label", question.get("label")),
                    **translated("hint", question.get("hint")),
                    "required": "yes" if question.get("required") else None,
                    "relevant": question.get("relevant"),
                    "constraint": question.get("constraint"),
                    **translated("constraint_message", question.get("constraint_message")),
                    "appearance": appearance,
                    "min": question.get("min"),
                    "max": question.get("max"),
                    "max_length": question.get("max_length"),
                }
            )
        survey_rows.append({"type": "end_group"})
    fixed = ["type", "name", "required", "relevant", "constraint", "appearance"]
    survey_columns = ["type", "name"]
    for field in ("label", "hint"):
        survey_columns += [f"{field}::{names[lang]}" for lang in languages]
    survey_columns += ["required", "relevant", "constraint"]
    survey_columns += [f"constraint_message::{names[lang]}" for lang in languages]
    survey_columns += ["appearance", "min", "max", "max_length"]
    _sheet(book.active, "survey", survey_columns, survey_rows, keep=fixed[:2] + ["label"])

    choice_rows = [
        {"list_name": list_name, "name": option["name"], **translated("label", option["label"])}
        for list_name, options in (document.get("choices") or {}).items()
        for option in options
    ]
    choice_columns = ["list_name", "name", *(f"label::{names[lang]}" for lang in languages)]
    _sheet(book.create_sheet(), "choices", choice_columns, choice_rows, keep=choice_columns)

    consent = settings.get("consent") or {}
    default = settings.get("default_language", languages[0])
    settings_row = {
        **translated("form_title", settings.get("title")),
        "form_id": settings["slug"],
        "version": settings.get("version"),
        "default_language": names.get(default, default),
        **translated("description", settings.get("description")),
        "consent_version": consent.get("version"),
        **translated("consent_text", consent.get("text")),
        "unreviewed": " ".join(settings.get("unreviewed") or []) or None,
        "opens": settings.get("opens"),
        "closes": settings.get("closes"),
    }
    settings_columns = [f"form_title::{names[lang]}" for lang in languages]
    settings_columns += ["form_id", "version", "default_language"]
    settings_columns += [f"description::{names[lang]}" for lang in languages]
    settings_columns += ["consent_version", *(f"consent_text::{names[lang]}" for lang in languages)]
    settings_columns += ["unreviewed", "opens", "closes"]
    _sheet(
        book.create_sheet(),
        "settings",
        settings_columns,
        [settings_row],
        keep=["form_title", "form_id", "default_language", "consent_version", "consent_text"],
    )
    roles = document.get("roles") or {}
    if roles:
        _sheet(
            book.create_sheet(),
            "roles",
            ["role", "question"],
            [{"role": role, "question": target} for role, target in roles.items()],
            keep=["role", "question"],
        )
    book.save(Path(path))


def _sheet(
    sheet: Any, title: str, columns: list[str], rows: list[dict[str, Any]], keep: list[str]
) -> None:
    """Fill a sheet: the columns with a value (and those of ``keep``, even empty)."""
    used = [
        c
        for c in columns
        if c.split("::")[0] in keep or any(row.get(c) not in (None, "") for row in rows)
    ]
    sheet.title = title
    _row(sheet, 1, used)
    for number, row in enumerate(rows, start=2):
        _row(sheet, number, [row.get(c) for c in used])


def _row(sheet: Any, number: int, values: Iterable[Any]) -> None:
    for col, value in enumerate(values, start=1):
        if value is None or value == "":
            continue
        cell = sheet.cell(row=number, column=col)
        if isinstance(value, bool):
            value = "yes" if value else "no"
        if isinstance(value, int | float):
            cell.value = value
        else:
            cell.value = value.isoformat() if isinstance(value, dt.date) else str(value)
            cell.data_type = "s"  # never a formula, whatever the text begins with


__all__ = [
    "ATLAS_PREFIX",
    "ATLAS_TYPES",
    "language_name",
    "language_tag",
    "load_xlsform",
    "read_xlsform",
    "sanitise_slug",
    "sniff_workbook",
    "write_xlsform",
]
