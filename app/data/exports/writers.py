"""Writing an export in each format: CSV (or a ZIP with its codebook), XLSX, GeoJSON, GeoPackage.

Each writer takes the request, a path or a binary stream, and an optional progress callback,
and returns what it wrote. Responses are written as they are read, batch by batch; the
aggregated layers are small (a row per published country or region) and are built whole.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import pandas as pd
from flask_babel import gettext as _

from app.data.exports.columns import (
    build_columns,
    codebook_rows,
    header,
    neutralise,
    row_converter,
)
from app.data.exports.query import (
    ExportError,
    ExportRequest,
    Progress,
    count_responses,
    place_units,
    response_batches,
)
from app.privacy import published_policy
from forms import names

if TYPE_CHECKING:
    import geopandas as gpd

#: XLSX sheets hold at most 1,048,576 rows (one is the header).
XLSX_MAX_ROWS = 1_048_575

#: A file to write to: a path, or a binary stream open for writing.
Target = str | os.PathLike[str] | BinaryIO


@dataclass(frozen=True)
class Written:
    """What one export wrote."""

    #: Responses written, or respondents counted in the aggregated layers.
    rows: int
    #: What ``rows`` counts, for a message: "responses" or "respondents counted".
    unit: str
    #: The codebook written next to a CSV file.
    codebook: Path | None = None


def _path(out: Target) -> Path | None:
    return Path(out) if isinstance(out, str | os.PathLike) else None


class _Counted:
    """A progress callback that also counts the responses it is told of."""

    def __init__(self, progress: Progress | None) -> None:
        self.rows = 0
        self.progress = progress

    def __call__(self, n: int) -> None:
        self.rows += n
        if self.progress:
            self.progress(n)


# -- responses ----------------------------------------------------------------------------------


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


def write_csv(request: ExportRequest, out: Target, progress: Progress | None = None) -> Written:
    """Write the responses as CSV.

    To a path, the CSV and the codebook next to it (``<name>.codebook.csv``), so that scheduled
    jobs get a plain CSV; to a stream, a ZIP holding both, as the workspace downloads it.
    """
    counted = _Counted(progress)
    path = _path(out)
    if path is None:
        for chunk in zip_chunks(request, counted):
            out.write(chunk)  # type: ignore[union-attr]
        return Written(counted.rows, "responses")
    with path.open("wb") as f:
        for chunk in csv_chunks(request, counted):
            f.write(chunk)
    codebook = path.with_name(path.stem + ".codebook.csv")
    codebook.write_bytes(codebook_csv(request))
    return Written(counted.rows, "responses", codebook)


def write_xlsx(request: ExportRequest, out: Target, progress: Progress | None = None) -> Written:
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
    workbook = xlsxwriter.Workbook(_path(out) or out, options)
    counted = _Counted(progress)
    try:
        sheet = workbook.add_worksheet("responses")
        sheet.write_row(0, 0, [neutralise(h) for h in header(columns)])
        index = 1
        for rows in response_batches(request):
            for row in rows:
                sheet.write_row(index, 0, convert(row))
                index += 1
            counted(len(rows))
        book = workbook.add_worksheet("codebook")
        for n, row in enumerate(codebook_rows(columns)):
            book.write_row(n, 0, [neutralise(c) for c in row])
    finally:
        workbook.close()
    return Written(counted.rows, "responses")


# -- aggregated layers --------------------------------------------------------------------------


def _layers(
    request: ExportRequest, progress: Progress | None
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, int]:
    """Return the country layer, the region table and k, from the published counts only."""
    from geo.layers import country_layer, region_table  # geopandas: only when a layer is asked

    policy = published_policy()
    world, units = place_units(request, policy, progress)
    countries = names.country_names(request.lang)
    layer = country_layer(world.values, countries)
    regions = region_table(
        units, countries, lambda country: dict(names.region_choices(country, request.lang)), _
    )
    return layer, regions, policy.k


def write_geojson(request: ExportRequest, out: Target, progress: Progress | None = None) -> Written:
    """Write the aggregated layers as one GeoJSON feature collection, with a codebook and k."""
    layer, regions, k = _layers(request, progress)
    collection = json.loads(layer.assign(level="country").to_json(drop_id=True))
    for record in regions.to_dict("records"):
        collection["features"].append(
            {"type": "Feature", "geometry": None, "properties": {**record, "level": "region"}}
        )
    from geo.layers import layer_codebook

    collection["codebook"] = layer_codebook(k, _)
    collection["k"] = k
    body = json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode()
    path = _path(out)
    if path is None:
        out.write(body)  # type: ignore[union-attr]
    else:
        path.write_bytes(body)
    return Written(int(layer["n"].sum()), "respondents counted")


def write_gpkg(request: ExportRequest, out: Target, progress: Progress | None = None) -> Written:
    """Write the layers ``countries``, ``regions`` and ``codebook`` to a GeoPackage."""
    import pyogrio

    path = _path(out)
    if path is None:  # a GeoPackage is an SQLite file: write one, then copy it to the stream
        path = temporary_path(".gpkg")
        try:
            written = write_gpkg(request, path, progress)
            with path.open("rb") as f:
                shutil.copyfileobj(f, out)  # type: ignore[misc]
        finally:
            path.unlink(missing_ok=True)
        return written
    layer, regions, k = _layers(request, progress)
    if path.exists():
        path.unlink()
    layer.to_file(path, layer="countries", driver="GPKG", engine="pyogrio")
    pyogrio.write_dataframe(regions, path, layer="regions", driver="GPKG")
    from geo.layers import layer_codebook

    codebook = pd.DataFrame(layer_codebook(k, _))
    pyogrio.write_dataframe(codebook, path, layer="codebook", driver="GPKG")
    return Written(int(layer["n"].sum()), "respondents counted")


# -- formats --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Format:
    """How one format is written, and how the workspace sends it."""

    write: Callable[[ExportRequest, Target, Progress | None], Written]
    #: The downloaded file's extension and media type.
    extension: str
    mimetype: str
    #: Yields the download as it is written (rows counted first, for the audit log).
    stream: Callable[[ExportRequest], Iterator[bytes]] | None = None
    #: Small enough to send from memory; otherwise written to a temporary file first, so that
    #: a failure is an error page rather than a broken file.
    small: bool = False


WRITERS: dict[str, Format] = {
    # Downloaded, a CSV is a ZIP with its codebook, streamed as the rows are read.
    "csv": Format(write_csv, "zip", "application/zip", stream=zip_chunks),
    "xlsx": Format(
        write_xlsx, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ),
    "geojson": Format(write_geojson, "geojson", "application/geo+json", small=True),
    "gpkg": Format(write_gpkg, "gpkg", "application/geopackage+sqlite3"),
}


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
