"""Exports: CSV and XLSX with codebooks, formula neutralising, aggregated layers, audit, access."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tracemalloc
import uuid
import zipfile
from typing import Any

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
from sqlalchemy import select

from app import questionnaires
from app.accounts.models import AuditEvent
from app.data import exports
from app.data.commands import export_command
from app.data.exports.columns import FORMULA_START
from app.data.exports.query import BATCH
from app.data.exports.writers import csv_chunks
from app.models import Response, Survey
from tests.conftest import valid_answers
from tests.respondent import SLUG, csrf_token

HOSTILE = ['=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1:A2)", "\t=1+1", "\r=1+1"]


def download(client, **options: Any):
    page = client.get("/analyst/data/exports")
    assert page.status_code == 200
    data = {"csrf_token": csrf_token(page.text), "survey": SLUG, "format": "csv", "lang": "en"}
    data.update({k: v for k, v in options.items() if v is not None})
    return client.post("/analyst/data/exports", data=data)


def unzip_csv(body: bytes) -> tuple[list[list[str]], list[list[str]]]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert sorted(archive.namelist()) == ["codebook.csv", "responses.csv"]
        rows = list(csv.reader(io.StringIO(archive.read("responses.csv").decode("utf-8"))))
        book = list(csv.reader(io.StringIO(archive.read("codebook.csv").decode("utf-8"))))
    return rows, book


def as_dicts(rows: list[list[str]]) -> list[dict[str, str]]:
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


# -- CSV --------------------------------------------------------------------------------------


def test_csv_is_a_zip_with_codebook_and_round_trips_every_script(
    client, db, signed_in, make_response
):
    texts = {
        "occupation_detail": "Дәрігер-хирург",
        "experience": "乌鲁木齐人民医院, 十年",
        "proposals": 'قازاق ٴتىلى مەكتەپتەرىن اشۋ, "quoted"\nand a new line',
    }
    make_response(**texts)
    signed_in("analyst")
    response = download(client)
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    rows, book = unzip_csv(response.data)
    (record,) = as_dicts(rows)
    for name, text in texts.items():
        assert record[name] == text
    assert record["residence.country"] == "CN"
    assert record["skills"] == "healthcare teaching"
    assert record["years_experience"] == "10"
    assert "contact_email" not in rows[0]
    assert book[0] == ["column", "question", "type", "label", "role", "choice_code", "choice_label"]
    sex = [r for r in book if r[0] == "sex"]
    assert {r[5] for r in sex} >= {"female", "male"}
    assert {r[4] for r in sex} == {"sex"}
    assert any(r[0] == "residence.country" and r[4] == "residence_country" for r in book)


def test_answers_as_labels_in_the_chosen_language(client, db, signed_in, make_response):
    make_response()
    signed_in("analyst")
    rows, book = unzip_csv(download(client, lang="ru", labels="y").data)
    (record,) = as_dicts(rows)
    assert record["sex"] == "Женский"
    assert record["residence.country"] == "Китай"
    assert "; " in record["skills"]
    assert any(r[0] == "sex" and r[6] == "Женский" for r in book)


def test_formulas_are_neutralised_in_csv(client, db, signed_in, make_response):
    for payload in HOSTILE:
        make_response(occupation_detail=payload, proposals=payload)
    signed_in("analyst")
    rows, _book = unzip_csv(download(client).data)
    records = as_dicts(rows)
    assert sorted(r["occupation_detail"] for r in records) == sorted("'" + p for p in HOSTILE)
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_START), cell
    # Real numbers are not text and stay numbers.
    assert {r["residence.lon"] for r in records} == {"87.62"}


def test_formulas_are_neutralised_in_xlsx(client, db, signed_in, make_response):
    for payload in HOSTILE:
        make_response(experience=payload)
    signed_in("analyst")
    response = download(client, format="xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="')
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["responses", "codebook"]
    sheet = book["responses"]
    head = [c.value for c in sheet[1]]
    column = head.index("experience")
    values = []
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"
            if isinstance(cell.value, str):
                assert not cell.value.startswith(FORMULA_START)
        # A carriage return is kept as OOXML's escape _x000D_, which openpyxl reads back as is.
        values.append(row[column].value.replace("_x000D_", "\r"))
    assert sorted(values) == sorted("'" + p for p in HOSTILE)
    assert all(c.data_type != "f" for row in book["codebook"].iter_rows() for c in row)


def test_filters_choose_the_rows(client, db, signed_in, make_response):
    make_response()
    make_response(country="MN", region=None)
    signed_in("analyst")
    rows, _book = unzip_csv(download(client, country="MN").data)
    assert [r["residence.country"] for r in as_dicts(rows)] == ["MN"]
    today = dt.date.today()
    rows, _book = unzip_csv(download(client, since=(today + dt.timedelta(days=1)).isoformat()).data)
    assert len(rows) == 1  # the header only


@pytest.mark.parametrize(
    "options",
    [
        {"lang": "../../etc"},
        {"format": "pdf"},
        {"since": "2026-02-01", "until": "2026-01-01"},
        {"version": "99"},
        {"country": "XX"},
        {"since": "not a date"},
        {"survey": "no-such-survey"},
    ],
)
def test_bad_options_get_a_message_not_a_file(client, db, options, signed_in):
    signed_in("analyst")
    response = download(client, **options)
    assert response.status_code == 400
    assert "Content-Disposition" not in response.headers
    assert 'role="alert"' in response.text
    assert db.session.scalar(select(AuditEvent).filter_by(action="export")) is None


# -- file names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "lang"),
    [('../"evil";\r\nX-Injected: 1', "en"), ("кazakh/../..\\x", '"; filename=../x'), ("", "")],
)
def test_download_names_are_slugs(slug, lang):
    name = exports.download_name(slug, lang, True, "zip", dt.date(2026, 11, 25))
    header = exports.content_disposition(name)
    assert name.endswith("_2026-11-25.zip")
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert ".." not in name and "/" not in header and "\r" not in header and "\n" not in header
    assert header.count('"') == 2


def test_a_hostile_slug_cannot_reach_the_header(client, db, signed_in, make_response):
    make_response()
    survey = db.session.scalar(select(Survey).filter_by(slug=SLUG))
    survey.slug = '../"x";\\y'
    db.session.commit()
    signed_in("analyst")
    response = download(client, survey=survey.slug)
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="x-y_en_codes_')
    assert "/" not in disposition and "\\" not in disposition and disposition.count('"') == 2


# -- aggregated layers ------------------------------------------------------------------------


def _place(country: str, region: str | None) -> dict[str, Any]:
    return {"residence": {"country": country, "region": region, "city": None, "geo": None}}


@pytest.fixture
def places(db, make_response):
    """Respondents in Uzbekistan (two regions of 12 and 11), Turkey (12 + 3), Germany (5)."""
    for country, region, n in [
        ("UZ", "UZ-TK", 12),
        ("UZ", "UZ-QR", 11),
        ("TR", "TR-34", 12),
        ("TR", "TR-06", 3),
        ("DE", "DE-BE", 5),
    ]:
        for _ in range(n):
            make_response(**_place(country, region))


def _assert_publishable(counts: list[int]) -> None:
    assert counts
    assert all(n >= 10 for n in counts), counts


def test_geojson_has_counts_of_at_least_k_and_no_points(client, db, places, signed_in):
    signed_in("analyst")
    response = download(client, format="geojson", lang="en")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    collection = json.loads(response.data)
    features = collection["features"]
    _assert_publishable([f["properties"]["n"] for f in features])
    countries = {
        f["properties"]["iso_a2"]: f for f in features if f["properties"]["level"] == "country"
    }
    # Germany has 5: left out; and Turkey (15) with it, as on the maps: with Germany alone
    # hidden, its count would be the world total minus the others.
    assert set(countries) == {"UZ"}
    assert abs(countries["UZ"]["properties"]["n"] - 23) <= 3  # perturbed, never by more than 3
    assert countries["UZ"]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    regions = [f for f in features if f["properties"]["level"] == "region"]
    assert {f["properties"]["region"] for f in regions} == {"UZ-TK", "UZ-QR"}
    assert all(f["geometry"] is None for f in regions)
    assert {c["field"] for c in collection["codebook"]} >= {"iso_a2", "n"}
    frame = gpd.read_file(io.BytesIO(response.data))
    assert not frame.geometry.dropna().geom_type.isin(["Point", "MultiPoint"]).any()
    _assert_publishable(frame["n"].tolist())


def test_geopackage_has_country_and_region_layers(client, db, places, tmp_path, signed_in):
    signed_in("analyst")
    response = download(client, format="gpkg", lang="kk")
    assert response.status_code == 200
    path = tmp_path / "layers.gpkg"
    path.write_bytes(response.data)
    layers = {name for name, _kind in pyogrio.list_layers(path)}
    assert layers == {"countries", "regions", "codebook"}
    countries = gpd.read_file(path, layer="countries")
    assert set(countries["iso_a2"]) == {"UZ"}
    assert set(countries.geom_type) <= {"Polygon", "MultiPolygon"}
    assert countries.set_index("iso_a2").loc["UZ", "name"] == "Өзбекстан"
    _assert_publishable(countries["n"].tolist())
    regions = pyogrio.read_dataframe(path, layer="regions", read_geometry=False)
    _assert_publishable(regions["n"].tolist())


# -- streaming --------------------------------------------------------------------------------


def _bulk(db, n: int, text: str) -> None:
    version = questionnaires.latest(questionnaires.find(SLUG))
    now = dt.datetime.now(dt.UTC)
    answers = valid_answers(experience=text)
    db.session.add_all(
        Response(
            submission_id=str(uuid.uuid4()),
            version_id=version.id,
            answers=answers,
            answers_hash="x",
            receipt_hash=uuid.uuid4().hex,
            language="kk",
            consent_version="1",
            consent_language="kk",
            consented_at=now,
            country="CN",
        )
        for _ in range(n)
    )
    db.session.commit()


def _peak_while_exporting(db) -> tuple[int, int]:
    survey = questionnaires.find(SLUG)
    request = exports.prepare(survey, "csv", "en", False, exports.ExportFilters())
    written = 0
    tracemalloc.start()
    try:
        for chunk in csv_chunks(request):
            written += len(chunk)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, written


def test_export_memory_does_not_grow_with_rows(db):
    text = "x" * 2000
    _bulk(db, 2 * BATCH, text)
    small_peak, small_bytes = _peak_while_exporting(db)
    _bulk(db, 8 * BATCH, text)
    large_peak, large_bytes = _peak_while_exporting(db)
    assert large_bytes > 4 * small_bytes
    # Five times the rows (about 20 MB more output) in the same memory, give or take a batch.
    assert large_peak < small_peak * 1.5, (small_peak, large_peak)


def test_csv_download_is_streamed(client, db, signed_in, make_response):
    make_response()
    signed_in("analyst")
    response = download(client)
    assert response.is_streamed


# -- audit and the command line -----------------------------------------------------------------


def test_every_export_is_audited_without_answer_values(client, db, signed_in, make_response):
    make_response(occupation_detail="Secret job title")
    signed_in("analyst")
    for fmt in ("csv", "xlsx", "geojson"):
        assert download(client, format=fmt, country="CN", lang="ru").status_code == 200
    events = db.session.scalars(select(AuditEvent).filter_by(action="export")).all()
    assert [e.details["format"] for e in events] == ["csv", "xlsx", "geojson"]
    for event in events:
        assert event.user.email == "analyst@example.org"
        assert event.target == f"survey:{SLUG}"
        assert event.details["filters"] == {"country": "CN"}
        assert event.details["lang"] == "ru" and event.details["labels"] is False
        assert "Secret" not in json.dumps(event.details)
    assert events[0].rows == 1


def _contents(fmt: str, body: bytes, tmp_path) -> Any:
    """Return what a file holds, leaving out what differs between two writings (times)."""
    if fmt == "csv":
        return unzip_csv(body)
    if fmt == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(body))
        return {sheet.title: [[c.value for c in row] for row in sheet.rows] for sheet in book}
    if fmt == "geojson":
        return json.loads(body)
    path = tmp_path / f"{uuid.uuid4()}.gpkg"
    path.write_bytes(body)
    return {
        name: pyogrio.read_dataframe(path, layer=name, read_geometry=False).to_dict("records")
        for name, _kind in pyogrio.list_layers(path)
    }


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "geojson", "gpkg"])
def test_write_to_a_stream_holds_what_the_workspace_downloads(
    client, db, places, tmp_path, fmt, signed_in
):
    signed_in("analyst")
    downloaded = download(client, format=fmt, lang="ru", labels="y")
    event = db.session.scalar(select(AuditEvent).filter_by(action="export"))
    request = exports.prepare(questionnaires.find(SLUG), fmt, "ru", True, exports.ExportFilters())
    stream = io.BytesIO()
    written = exports.write(request, stream)
    assert _contents(fmt, stream.getvalue(), tmp_path) == _contents(fmt, downloaded.data, tmp_path)
    assert written.rows == event.rows
    assert written.codebook is None  # a stream holds its codebook (a ZIP, a sheet, a layer)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "geojson", "gpkg"])
def test_command_line_export(runner, db, tmp_path, fmt, make_response):
    make_response(experience="=1+2")
    out = tmp_path / f"export.{fmt}"
    result = runner.invoke(
        export_command, ["--format", fmt, "--out", str(out), "--lang", "en", "--labels"]
    )
    assert result.exit_code == 0, result.output
    assert out.exists()
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(out.read_text("utf-8"))))
        assert as_dicts(rows)[0]["experience"] == "'=1+2"
        assert (tmp_path / "export.codebook.csv").exists()
    event = db.session.scalar(select(AuditEvent).filter_by(action="export"))
    assert event.user_id is None
    assert event.details["via"] == "cli" and event.details["format"] == fmt


def test_command_line_refuses_a_language_the_questionnaire_lacks(runner, db, tmp_path):
    result = runner.invoke(
        export_command, ["--format", "csv", "--out", str(tmp_path / "x.csv"), "--lang", "fr"]
    )
    assert result.exit_code != 0
    assert "no labels in that language" in result.output


# -- access -----------------------------------------------------------------------------------


def test_coordinators_are_refused(client, db, signed_in):
    signed_in("coordinator")
    assert client.get("/analyst/data/exports").status_code == 403
    assert client.post("/analyst/data/exports", data={"format": "csv"}).status_code in (400, 403)
    assert client.get("/analyst/data/registry?search=1").status_code == 403


def test_coordinators_get_403_even_with_a_valid_csrf_token(client, db, signed_in):
    signed_in("coordinator")
    token = csrf_token(client.get("/account/password").text)
    data = {"csrf_token": token, "survey": SLUG, "format": "csv", "lang": "en"}
    assert client.post("/analyst/data/exports", data=data).status_code == 403
    response = client.post("/analyst/data/registry/1/contact", data={"csrf_token": token})
    assert response.status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    for url in ("/analyst/data/exports", "/analyst/data/registry"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/account/login" in response.headers["Location"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "geojson", "gpkg"])
def test_an_empty_survey_exports_in_every_format(client, db, fmt, signed_in):
    signed_in("analyst")
    response = download(client, format=fmt)
    assert response.status_code == 200, response.text[:500]
    assert response.data
