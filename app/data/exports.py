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
* E-mail answers are never exported: an address is shown one person at a time in the specialists
  registry, and each showing is audited.
* **GeoJSON / GeoPackage** hold published counts only (:mod:`geo.disclosure`, the configured
  ``K_PUBLISHED`` and high-risk countries): respondents per country, and per region where a
  region has at least k (smaller places roll up into "elsewhere in the country", see
  :func:`geo.disclosure.roll_up`). Countries below k, or hidden to protect one, are left out;
  counts are perturbed as everywhere else. Region rows carry no geometry (no region boundaries
  are bundled) and never a point.

Rows are read in batches (a PostgreSQL server-side cursor, or id-ordered pages on SQLite) and
written as they come, so memory does not grow with the number of responses.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import pandas as pd
from flask_babel import gettext as _
from sqlalchemy import Select, case, func, select

from app import questionnaires
from app.extensions import db
from app.models import Response, Survey
from app.questionnaires import questionnaire_of
from forms import names
from forms.schema import Questionnaire
from forms.types import Context, ExportColumn
from geo.disclosure import Policy, Suppressed, Tally, publish, roll_up

FORMATS = ("csv", "xlsx", "geojson", "gpkg")
#: Rows read from the database at a time.
BATCH = 2000
#: A text cell starting with one of these could run as a formula in a spreadsheet.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: XLSX sheets hold at most 1,048,576 rows (one is the header).
XLSX_MAX_ROWS = 1_048_575

Progress = Callable[[int], None]


class ExportError(ValueError):
    """An export that cannot be made; the message is shown to the user."""


def neutralise(value: Any) -> Any:
    """Return a text cell that cannot start a formula (prefix ``'``); other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


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


# -- what is exported -------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFilters:
    """Which responses an export holds."""

    since: dt.date | None = None
    until: dt.date | None = None
    #: ISO 3166-1 alpha-2 country of residence.
    country: str | None = None
    #: The survey version number (1, 2, ...).
    version: int | None = None
    link_id: int | None = None

    def as_details(self) -> dict[str, Any]:
        """Return the filters that are set, as JSON values for the audit log."""
        out = {}
        for key, value in asdict(self).items():
            if value is not None:
                out[key] = value.isoformat() if isinstance(value, dt.date) else value
        return out


@dataclass(frozen=True)
class ExportRequest:
    """An export: what, in which form, for whom to read."""

    survey: Survey
    format: str
    lang: str
    labels: bool = False
    filters: ExportFilters = field(default_factory=ExportFilters)

    def audit_details(self) -> dict[str, Any]:
        """Return what the audit log keeps about this export (never answer values)."""
        return {
            "format": self.format,
            "lang": self.lang,
            "labels": self.labels,
            "filters": self.filters.as_details(),
        }


def latest_questionnaire(survey: Survey) -> Questionnaire:
    """Return the questionnaire of a survey's newest version."""
    questionnaire = questionnaires.newest_questionnaire(survey)
    if questionnaire is None:
        raise ExportError(_("This survey has no questionnaire loaded."))
    return questionnaire


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


def _filtered(statement: Select, request: ExportRequest, use_indexes: bool = True) -> Select:
    """Add the export's filters to a statement.

    :param use_indexes: False writes each filter so that SQLite cannot answer it from an index
        (``column + 0``, ``column || ''``), leaving the rowid order to the id-ordered pages.
    """
    f = request.filters
    version_id, country, link_id = Response.version_id, Response.country, Response.link_id
    if not use_indexes:
        version_id, country, link_id = version_id + 0, country.concat(""), link_id + 0
    versions = questionnaires.versions(request.survey)
    ids = [v.id for v in versions if f.version is None or v.number == f.version]
    statement = statement.where(version_id.in_(ids))
    if f.since:
        start = dt.datetime.combine(f.since, dt.time(), tzinfo=dt.UTC)
        statement = statement.where(Response.submitted_at >= start)
    if f.until:
        end = dt.datetime.combine(f.until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        statement = statement.where(Response.submitted_at < end)
    if f.country:
        statement = statement.where(country == f.country)
    if f.link_id is not None:
        statement = statement.where(link_id == f.link_id)
    return statement


def count_responses(request: ExportRequest) -> int:
    """Return how many responses an export holds."""
    statement = _filtered(select(func.count()).select_from(Response), request)
    return db.session.scalar(statement) or 0


ROW_COLUMNS = (
    Response.id,
    Response.submitted_at,
    Response.version_id,
    Response.language,
    Response.channel,
    Response.link_id,
    Response.answers,
)


def response_batches(request: ExportRequest, batch: int = BATCH) -> Iterator[Sequence[Any]]:
    """Yield the export's rows (id, submitted_at, version_id, language, channel, link_id,
    answers) in batches, in id order, without holding them all in memory."""
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    statement = _filtered(select(*ROW_COLUMNS), request, use_indexes=postgresql)
    statement = statement.order_by(Response.id)
    if postgresql:
        # A server-side cursor: one consistent snapshot, ``batch`` rows in memory at a time.
        result = db.session.execute(statement.execution_options(yield_per=batch))
        try:
            yield from result.partitions()
        finally:
            result.close()
            db.session.rollback()
        return
    # SQLite: app.db begins every transaction with BEGIN IMMEDIATE (the write lock), so one
    # long read would block respondents for the whole export. Short id-ordered pages instead,
    # walking the table in rowid order (with an index on a filter SQLite would sort every
    # remaining row for each page: quadratic in the table size).
    last = 0
    while True:
        rows = db.session.execute(statement.where(Response.id > last).limit(batch)).all()
        db.session.rollback()  # end the read transaction: release the lock between pages
        if not rows:
            return
        yield rows
        last = rows[-1][0]


# -- columns and codebook -----------------------------------------------------------------------


Column = ExportColumn


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


def build_columns(request: ExportRequest) -> list[Column]:
    """Return the answer columns of an export: every answering question of every version,
    in the newest version's order, then questions only older versions asked."""
    versions = questionnaires.versions(request.survey)
    seen: set[str] = set()
    columns: list[Column] = []
    for version in reversed(versions):
        questionnaire = questionnaire_of(version)
        ctx = Context(questionnaire, request.lang, _)
        roles = {target: role for role, target in questionnaire.roles.items()}
        for question in questionnaire.questions():
            if question.name in seen or not question.kind.exported:
                continue
            if roles.get(question.name) == "contact_email":
                continue
            seen.add(question.name)
            columns.extend(
                question.kind.export_columns(question, ctx, labels=request.labels, roles=roles)
            )
    return columns


def header(columns: Sequence[Column]) -> list[str]:
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
    request: ExportRequest, columns: Sequence[Column]
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


def codebook_rows(columns: Sequence[Column]) -> Iterator[list[str]]:
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


# -- writers --------------------------------------------------------------------------------


def _csv_text(rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([neutralise(c) for c in row] for row in rows)
    return buffer.getvalue()


def csv_chunks(request: ExportRequest, progress: Progress | None = None) -> Iterator[bytes]:
    """Yield the responses as UTF-8 CSV, one chunk per batch of rows."""
    columns = build_columns(request)
    convert = row_converter(request, columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # the "excel" dialect: RFC 4180 with CRLF line ends
    writer.writerow([neutralise(h) for h in header(columns)])
    yield buffer.getvalue().encode()
    for rows in response_batches(request):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(map(convert, rows))
        yield buffer.getvalue().encode()
        if progress:
            progress(len(rows))


def codebook_csv(request: ExportRequest) -> bytes:
    """Return the codebook as UTF-8 CSV."""
    return _csv_text(codebook_rows(build_columns(request))).encode()


class _Chunks:
    """A write-only file whose written bytes are collected for a streaming response."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def zip_chunks(request: ExportRequest, progress: Progress | None = None) -> Iterator[bytes]:
    """Yield a ZIP of ``responses.csv`` and ``codebook.csv``, streamed as it is written."""
    sink = _Chunks()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:  # type: ignore[arg-type]
        with archive.open("responses.csv", "w", force_zip64=True) as member:
            for chunk in csv_chunks(request, progress):
                member.write(chunk)
                yield sink.take()
        archive.writestr("codebook.csv", codebook_csv(request))
    yield sink.take()


def write_csv(request: ExportRequest, out: Path, progress: Progress | None = None) -> Path:
    """Write the CSV to ``out`` and the codebook next to it; return the codebook's path."""
    with out.open("wb") as f:
        for chunk in csv_chunks(request, progress):
            f.write(chunk)
    codebook = out.with_name(out.stem + ".codebook.csv")
    codebook.write_bytes(codebook_csv(request))
    return codebook


def write_xlsx(
    request: ExportRequest, out: Path | BinaryIO, progress: Progress | None = None
) -> None:
    """Write an XLSX workbook with the sheets ``responses`` and ``codebook``.

    :raises ExportError: when the responses do not fit in one sheet.
    """
    import xlsxwriter

    if count_responses(request) > XLSX_MAX_ROWS:
        raise ExportError(_("Too many responses for one spreadsheet: export CSV instead."))
    columns = build_columns(request)
    convert = row_converter(request, columns)
    options = {
        "constant_memory": True,  # rows go to disk as written: memory stays flat
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    }
    workbook = xlsxwriter.Workbook(out, options)
    try:
        sheet = workbook.add_worksheet("responses")
        sheet.write_row(0, 0, [neutralise(h) for h in header(columns)])
        index = 1
        for rows in response_batches(request):
            for row in rows:
                sheet.write_row(index, 0, convert(row))
                index += 1
            if progress:
                progress(len(rows))
        book = workbook.add_worksheet("codebook")
        for n, row in enumerate(codebook_rows(columns)):
            book.write_row(n, 0, [neutralise(c) for c in row])
    finally:
        workbook.close()


# -- aggregated layers ------------------------------------------------------------------------


def _place_leaves(request: ExportRequest) -> pd.DataFrame:
    """Return the export's respondents grouped by (country, region), with n, key, sources."""
    statement = _filtered(
        select(
            Response.country,
            Response.region,
            func.count(),
            func.sum(Response.record_key),
            func.sum(case((Response.independent, 1), else_=0)),
        ).group_by(Response.country, Response.region),
        request,
    )
    rows = db.session.execute(statement).all()
    db.session.rollback()
    leaves = pd.DataFrame(rows, columns=["country", "region", "n", "key", "sources"])
    return leaves[leaves["country"].notna()].astype({"n": "int64", "key": "int64"})


def place_units(request: ExportRequest, policy: Policy) -> tuple[Suppressed, pd.DataFrame]:
    """Return the published countries and their publishable regions (see
    :func:`geo.disclosure.roll_up`) for the export's rows."""
    leaves = _place_leaves(request)
    world = publish(Tally.from_rows(leaves, ["country"]), policy)
    published = [str(c) for c in world.values.index[world.values.notna()]]
    # As on the maps: a country hidden in the world table shows no breakdown.
    units = roll_up(leaves[leaves["country"].isin(published)], ("country", "region"), policy)
    return world, units


def geo_layers(request: ExportRequest, policy: Policy) -> tuple[Any, pd.DataFrame]:
    """Return the country layer (polygons, published counts) and the region table (no geometry)."""
    import geopandas as gpd

    from geo.boundaries import load_countries

    world, units = place_units(request, policy)
    countries = names.country_names(request.lang)
    shown = world.values.dropna()
    per_country = pd.DataFrame(
        {"iso_a2": [str(c) for c in shown.index], "n": shown.to_numpy(dtype="int64")}
    )
    shapes = load_countries()[["iso_a2", "geometry"]]
    layer = per_country.merge(shapes, how="left")
    layer.insert(1, "name", layer["iso_a2"].map(lambda c: countries.get(c, c)))
    layer = gpd.GeoDataFrame(layer, geometry="geometry", crs="EPSG:4326")
    layer["n"] = layer["n"].astype("int64")

    regions = units[(units["level"] == "region") | units["rest"]].copy()
    region_names: dict[str, dict[str, str]] = {}

    def region_name(row: pd.Series) -> str:
        if row["rest"] or not row["region"]:
            return _("elsewhere in %(country)s", country=countries.get(row["country"], ""))
        if row["country"] not in region_names:
            region_names[row["country"]] = dict(names.region_choices(row["country"], request.lang))
        return region_names[row["country"]].get(row["region"], row["region"])

    table = pd.DataFrame(
        {
            "iso_a2": regions["country"].astype(str),
            "region": regions["region"].where(~regions["rest"], None),
            "name": [region_name(r) for _i, r in regions.iterrows()] if len(regions) else [],
            "n": regions["n"].astype("int64"),
            "rest": regions["rest"].astype(bool),
        }
    ).reset_index(drop=True)
    return layer, table


def _layer_codebook(k: int) -> list[dict[str, str]]:
    return [
        {"field": "iso_a2", "type": "text", "label": _("Country (ISO 3166-1 alpha-2)")},
        {"field": "region", "type": "text", "label": _("Region (ISO 3166-2); empty for the rest")},
        {"field": "name", "type": "text", "label": _("Name in the export language")},
        {
            "field": "n",
            "type": "integer",
            "label": _("Respondents (places with fewer than %(k)d are not shown)", k=k),
        },
        {"field": "rest", "type": "boolean", "label": _("Respondents elsewhere in the country")},
        {"field": "level", "type": "text", "label": _("country or region")},
    ]


def geojson_bytes(request: ExportRequest, policy: Policy) -> tuple[bytes, int]:
    """Return the aggregated GeoJSON and the number of respondents it counts."""
    k = policy.k
    layer, regions = geo_layers(request, policy)
    collection = json.loads(layer.assign(level="country").to_json(drop_id=True))
    for record in regions.to_dict("records"):
        collection["features"].append(
            {"type": "Feature", "geometry": None, "properties": {**record, "level": "region"}}
        )
    collection["codebook"] = _layer_codebook(k)
    collection["k"] = k
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    return text.encode(), int(layer["n"].sum())


def write_gpkg(request: ExportRequest, out: Path, policy: Policy) -> int:
    """Write the layers ``countries``, ``regions`` and ``codebook`` to a GeoPackage.

    :return: the number of respondents counted.
    """
    import pyogrio

    k = policy.k
    layer, regions = geo_layers(request, policy)
    if out.exists():
        out.unlink()
    layer.to_file(out, layer="countries", driver="GPKG", engine="pyogrio")
    pyogrio.write_dataframe(regions, out, layer="regions", driver="GPKG")
    pyogrio.write_dataframe(pd.DataFrame(_layer_codebook(k)), out, layer="codebook", driver="GPKG")
    return int(layer["n"].sum())


def temporary_path(suffix: str) -> Path:
    """Return a fresh path in the temporary directory (the caller removes the file)."""
    handle = tempfile.NamedTemporaryFile(prefix="atlas-export-", suffix=suffix, delete=False)
    handle.close()
    return Path(handle.name)


def file_chunks(path: Path, size: int = 1 << 16) -> Iterator[bytes]:
    """Yield a file's bytes, then delete the file."""
    try:
        with path.open("rb") as f:
            while chunk := f.read(size):
                yield chunk
    finally:
        path.unlink(missing_ok=True)
