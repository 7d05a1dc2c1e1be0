"""Exports of responses: CSV and XLSX with a codebook, aggregated GeoJSON and GeoPackage layers.

Choices made here, also stated on the exports page:

* **CSV** is UTF-8 without a byte-order mark, RFC 4180 (comma, double quotes, CRLF). Downloaded
  from the workspace it is a ZIP holding ``responses.csv`` and ``codebook.csv``; from the command
  line the CSV goes to ``--out`` and the codebook next to it (``<name>.codebook.csv``), so that
  scheduled jobs get a plain CSV.
* **XLSX** has two sheets, ``responses`` and ``codebook``; it is written with xlsxwriter with
  formulas, URLs and numbers-from-strings turned off.
* Every text cell starting with ``= + - @``, a tab or a carriage return gets a leading ``'`` (CSV
  formula injection, LimeSurvey CVE-2019-16184). Numbers are written as numbers.
* Answers are codes, or labels in a chosen questionnaire language. A multiple choice is one cell:
  codes separated by spaces (as ODK and KoboToolbox write them), labels separated by ``; ``.
  Which columns a question becomes is its type's business (:mod:`forms.types`).
* E-mail answers are never exported: an address is shown one person at a time in the specialists
  registry, and each showing is audited.
* **GeoJSON / GeoPackage** hold published counts only (:mod:`geo.disclosure`, the configured
  ``K_PUBLISHED`` and high-risk countries): respondents per country, and per region where a
  region has at least k (smaller places roll up into "elsewhere in the country", see
  :func:`geo.disclosure.roll_up`). Countries below k, or hidden to protect one, are left out;
  counts are perturbed as everywhere else. Region rows carry no geometry (no region boundaries
  are bundled) and never a point (:mod:`geo.layers`).

Which rows, and reading them in batches: :mod:`.query`; columns and codebook: :mod:`.columns`;
one writer per format: :mod:`.writers`. Callers need only :func:`prepare`, then :func:`write`
(the command line) or :func:`download` (the workspace).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from flask import stream_with_context
from flask_babel import gettext as _

from app import questionnaires
from app.data.exports.query import (
    ExportError,
    ExportFilters,
    ExportRequest,
    Progress,
    count_responses,
    latest_questionnaire,
)
from app.data.exports.writers import WRITERS, Target, Written, file_chunks, temporary_path
from app.models import Survey
from forms import names

__all__ = [
    "FORMATS",
    "Download",
    "ExportError",
    "ExportFilters",
    "ExportRequest",
    "Written",
    "content_disposition",
    "count_responses",
    "download",
    "download_name",
    "prepare",
    "write",
]

FORMATS = tuple(WRITERS)


def prepare(
    survey: Survey,
    fmt: str,
    lang: str | None,
    labels: bool,
    filters: ExportFilters,
) -> ExportRequest:
    """Check an export's options against the survey; return the request.

    :raises ExportError: for an unknown format, language, country or version.
    """
    if fmt not in FORMATS:
        raise ExportError(_("Choose one of the formats offered."))
    questionnaire = latest_questionnaire(survey)
    lang = lang or questionnaire.default_language
    if lang not in questionnaire.languages:
        raise ExportError(_("This questionnaire has no labels in that language."))
    if filters.country and filters.country not in names.country_codes():
        raise ExportError(_("Choose a country from the list."))
    if filters.version is not None and filters.version not in {
        v.number for v in questionnaires.versions(survey)
    }:
        raise ExportError(_("This survey has no version %(n)d.", n=filters.version))
    if filters.since and filters.until and filters.since > filters.until:
        raise ExportError(_("The start date is after the end date."))
    return ExportRequest(survey, fmt, lang, labels, filters)


def write(export: ExportRequest, out: Target, progress: Progress | None = None) -> Written:
    """Write an export to a path or a binary stream.

    :param progress: called with the number of responses read, batch by batch.
    :return: how many responses were written (respondents counted, for the layers), and where
        a CSV's codebook went.
    :raises ExportError: when the responses do not fit the format (an XLSX sheet).
    """
    return WRITERS[export.format].write(export, out, progress)


@dataclass(frozen=True)
class Download:
    """An export as the workspace sends it."""

    #: What the audit log records: responses, or respondents counted in the layers.
    rows: int
    extension: str
    mimetype: str
    body: Iterable[bytes]


def download(export: ExportRequest) -> Download:
    """Return an export as a download, streamed where it can be.

    A CSV is counted first, then streamed as a ZIP while its rows are read (within the request's
    context); the other formats are written whole before anything is sent.

    :raises ExportError: when the responses do not fit the format (an XLSX sheet).
    """
    kind = WRITERS[export.format]
    if kind.stream is not None:
        rows = count_responses(export)
        body = stream_with_context(kind.stream(export))
        return Download(rows, kind.extension, kind.mimetype, body)
    if kind.small:
        buffer = io.BytesIO()
        written = kind.write(export, buffer, None)
        return Download(written.rows, kind.extension, kind.mimetype, [buffer.getvalue()])
    path = temporary_path("." + kind.extension)
    try:
        written = kind.write(export, path, None)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Download(written.rows, kind.extension, kind.mimetype, file_chunks(path))


def slug_for_filename(text: str, limit: int = 60) -> str:
    """Return ``text`` as a lower-case ASCII slug of letters, digits and dashes."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].strip("-")


def download_name(slug: str, lang: str | None, labels: bool, ext: str, day: dt.date) -> str:
    """Return a safe file name: survey slug, language, codes or labels, date."""
    parts = [slug_for_filename(slug) or "survey"]
    if lang:
        parts.append(slug_for_filename(lang) or "lang")
    if ext in ("csv", "xlsx", "zip"):
        parts.append("labels" if labels else "codes")
    parts.append(day.isoformat())
    return "_".join(parts) + "." + slug_for_filename(ext)


def content_disposition(filename: str) -> str:
    """Return an attachment header with an ASCII ``filename`` and its RFC 5987 twin."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename) or "export"
    return f"attachment; filename=\"{safe}\"; filename*=UTF-8''{quote(safe)}"
