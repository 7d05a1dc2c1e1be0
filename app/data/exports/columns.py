"""The columns of a response export and its codebook, built from the question types.

Each question type says which columns its answer becomes, how a value becomes a cell and what
the codebook says of it (:meth:`forms.types.QuestionType.export_columns`); this module puts the
response's own fields first, takes every question of every version once, and neutralises text
that a spreadsheet would run as a formula (a leading ``'``, CSV injection, LimeSurvey
CVE-2019-16184). Numbers stay numbers.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from flask_babel import gettext as _

from app import questionnaires
from app.data.exports.query import ExportRequest
from app.questionnaires import questionnaire_of
from forms.types import Context, ExportColumn

#: A text cell starting with one of these could run as a formula in a spreadsheet.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Return a text cell that cannot start a formula (prefix ``'``); other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _utc_text(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


#: The response's own fields, before the answers.
META_COLUMNS = ("id", "submitted_at", "version", "language", "channel", "link_id")


def _meta_labels() -> dict[str, str]:
    return {
        "id": _("Response number (the audit log calls it response:<number>)"),
        "submitted_at": _("When the response was stored (UTC, ISO 8601)"),
        "version": _("Questionnaire version the answers were given under"),
        "language": _("Language the respondent answered in"),
        "channel": _("How it arrived: web or api"),
        "link_id": _("Distribution link the respondent came through"),
    }


def build_columns(request: ExportRequest) -> list[ExportColumn]:
    """Return the answer columns of an export: every answering question of every version,
    in the newest version's order, then questions only older versions asked."""
    versions = questionnaires.versions(request.survey)
    seen: set[str] = set()
    columns: list[ExportColumn] = []
    for version in reversed(versions):
        questionnaire = questionnaire_of(version)
        ctx = Context(questionnaire, request.lang, _)
        roles = {target: role for role, target in questionnaire.roles.items()}
        for question in questionnaire.questions():
            if question.name in seen or not question.kind.exported:
                continue
            if roles.get(question.name) == "contact_email":  # withheld whatever its type
                continue
            seen.add(question.name)
            columns.extend(
                question.kind.export_columns(question, ctx, labels=request.labels, roles=roles)
            )
    return columns


def header(columns: Sequence[ExportColumn]) -> list[str]:
    """Return the header row: the response's own fields, then the answer columns."""
    return [*META_COLUMNS, *(c.name for c in columns)]


#: Cell classes that need a look: text (formulas), and lists, dicts or booleans where a scalar
#: was expected (written as JSON text).
_SPECIAL = frozenset({str, list, dict, bool})


def _special(value: Any) -> Any:
    if value.__class__ is str:
        return "'" + value if value.startswith(FORMULA_START) else value
    return neutralise(json.dumps(value, ensure_ascii=False))


def row_converter(
    request: ExportRequest, columns: Sequence[ExportColumn]
) -> Callable[[Sequence[Any]], list[Any]]:
    """Return a function turning a database row into an export row (cells neutralised).

    This runs once per response, so it is written for speed: the answers are picked with one
    ``map``, the few columns that need a fix are fixed by position, and one comprehension
    neutralises text.
    """
    numbers = {v.id: v.number for v in questionnaires.versions(request.survey)}
    keys = [c.question for c in columns]
    offset = len(META_COLUMNS)
    fixes = [(offset + i, c.fix) for i, c in enumerate(columns) if c.fix is not None]
    special = _SPECIAL
    start = FORMULA_START

    def convert(row: Sequence[Any]) -> list[Any]:
        rid, submitted_at, version_id, language, channel, link_id, answers = row
        if answers.__class__ is not dict:
            answers = {}
        out = [rid, _utc_text(submitted_at), numbers.get(version_id), language, channel, link_id]
        out.extend(map(answers.get, keys))
        for index, fix in fixes:
            out[index] = fix(out[index])
        return [
            ("'" + v if v.startswith(start) else v)
            if (kind := v.__class__) is str
            else (_special(v) if kind in special else v)
            for v in out
        ]

    return convert


def codebook_rows(columns: Sequence[ExportColumn]) -> Iterator[list[str]]:
    """Yield the codebook: one row per column, or per choice of a column with choices."""
    yield ["column", "question", "type", "label", "role", "choice_code", "choice_label"]
    for name, label in _meta_labels().items():
        yield [name, "", "meta", label, "", "", ""]
    for column in columns:
        base = [column.name, column.question, column.type, column.label, column.role]
        if not column.choices:
            yield [*base, "", ""]
        for code, label in column.choices:
            yield [*base, code, label]
