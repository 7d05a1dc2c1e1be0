"""The admin pages: users, organisations, questionnaires, surveys and the audit log."""

from __future__ import annotations

import html
import io
import re
import zipfile
from datetime import timedelta

import openpyxl
import pytest
import yaml
from sqlalchemy import func, select

from app.accounts import services as accounts
from app.accounts.models import AuditEvent, LoginSession, Organisation, User
from app.models import Draft, Response, Survey, SurveyVersion, utcnow
from forms.xlsform import write_xlsform
from tests.conftest import BUNDLED, PASSWORD, log_in
from tests.respondent import SLUG, Respondent, csrf_token

HOSTILE = "<img src=x onerror=alert(1)>"


def token_from(client, url: str) -> str:
    return csrf_token(client.get(url).text)


def events(db, action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).filter_by(action=action)))


@pytest.fixture
def admin(app, db):
    return accounts.create_user("admin@example.org", PASSWORD, "admin")


@pytest.fixture
def as_admin(client, admin, signed_in):
    signed_in("admin")
    return client


@pytest.fixture
def org(db):
    return accounts.create_organisation("otandastar", {"kk": "Отандастар", "en": "Otandastar"})


def mini_questionnaire(slug: str = "mini", title: str = "Survey") -> dict:
    return {
        "settings": {
            "slug": slug,
            "version": "2026-1",
            "title": {"kk": "Сауалнама", "ru": "Анкета", "en": title},
            "languages": ["kk", "ru", "en"],
            "default_language": "kk",
            "consent": {
                "version": "1",
                "text": {"kk": "Келісім", "ru": "Согласие", "en": "Consent"},
            },
        },
        "groups": [{"name": "p1", "label": {"kk": "Бірінші бет", "ru": "Первая", "en": "First"}}],
        "survey": [
            {
                "type": "integer",
                "name": "age",
                "group": "p1",
                "label": {"kk": "Жасыңыз", "ru": "Ваш возраст", "en": "Your age"},
            },
            {
                "type": "text",
                "name": "why",
                "group": "p1",
                "label": {"kk": "Неге", "ru": "Почему", "en": "Why"},
                "relevant": "${age} > 20",
            },
        ],
        "choices": {},
        "roles": {"age": "age"},
    }


def upload(client, content: bytes | str, filename: str = "mini.yaml", lang: str | None = None):
    if isinstance(content, str):
        content = content.encode()
    query = f"?lang={lang}" if lang else ""
    token = token_from(client, "/admin/questionnaires" + query)
    return client.post(
        "/admin/questionnaires" + query,
        data={"csrf_token": token, "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def as_yaml(document: dict) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


# -- access -----------------------------------------------------------------------------------


def test_menu_offers_the_admin_pages_to_admins(as_admin):
    page = as_admin.get("/admin/questionnaires")
    assert page.status_code == 200
    for path in ("/admin/questionnaires", "/admin/organisations", "/admin/users", "/admin/audit"):
        assert f'href="{path}"' in page.text


def test_analysts_manage_organisations_only(client, signed_in):
    signed_in("analyst")
    assert client.get("/admin/organisations").status_code == 200
    assert client.get("/admin/").headers["Location"].endswith("/admin/organisations")
    for path in (
        "/admin/users",
        "/admin/questionnaires",
        "/admin/audit",
        f"/admin/questionnaires/{SLUG}",
    ):
        assert client.get(path).status_code == 403, path
    page = client.get("/admin/organisations")
    assert 'href="/admin/users"' not in page.text


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]


# -- users ------------------------------------------------------------------------------------


def test_admin_adds_a_coordinator_with_a_one_time_password(as_admin, app, db, org):
    token = token_from(as_admin, "/admin/users")
    response = as_admin.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "email": "Coord@Example.org",
            "role": "coordinator",
            "organisation": str(org.id),
        },
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password = re.search(r"<code>([^<]+)</code>", response.text).group(1)
    assert len(password) >= 12
    user = db.session.scalar(select(User).filter_by(email="coord@example.org"))
    assert user.organisation_id == org.id and user.must_change_password
    assert user.password_hash.startswith("$argon2id$")
    # The password is shown once: the user's page does not show it again.
    assert password not in as_admin.get(f"/admin/users/{user.id}").text
    (event,) = events(db, "user_created")
    assert event.target == f"user:{user.id}" and password not in str(event.details)
    # The new user must choose their own password at first sign-in.
    other = app.test_client()
    assert (
        log_in(other, "coord@example.org", password)
        .headers["Location"]
        .endswith("/account/password")
    )


def test_a_coordinator_needs_an_organisation(as_admin, db):
    token = token_from(as_admin, "/admin/users")
    response = as_admin.post(
        "/admin/users",
        data={"csrf_token": token, "email": "c@example.org", "role": "coordinator"},
    )
    assert response.status_code == 422
    assert "must belong to an organisation" in response.text
    assert db.session.scalar(select(User).filter_by(email="c@example.org")) is None


def test_a_bad_role_or_a_taken_email_is_refused(as_admin, admin, db):
    token = token_from(as_admin, "/admin/users")
    bad_role = as_admin.post(
        "/admin/users", data={"csrf_token": token, "email": "x@example.org", "role": "root"}
    )
    assert bad_role.status_code == 422
    taken = as_admin.post(
        "/admin/users", data={"csrf_token": token, "email": admin.email, "role": "analyst"}
    )
    assert taken.status_code == 422
    assert "exists already" in taken.text


def test_role_change_deactivation_and_reset_end_the_users_sessions(
    as_admin, app, db, org, signed_in
):
    theirs = app.test_client()
    analyst = signed_in("analyst", client=theirs)
    assert theirs.get("/admin/organisations").status_code == 200

    token = token_from(as_admin, f"/admin/users/{analyst.id}")
    response = as_admin.post(
        f"/admin/users/{analyst.id}/role",
        data={"csrf_token": token, "role": "coordinator", "organisation": str(org.id)},
    )
    assert response.status_code == 303
    db.session.refresh(analyst)
    assert (analyst.role, analyst.organisation_id) == ("coordinator", org.id)
    assert theirs.get("/admin/organisations").status_code == 302  # signed out

    log_in(theirs, "analyst@example.org")
    response = as_admin.post(f"/admin/users/{analyst.id}/deactivate", data={"csrf_token": token})
    assert response.status_code == 303
    db.session.refresh(analyst)
    assert not analyst.is_active_account
    open_sessions = select(func.count()).where(
        LoginSession.user_id == analyst.id, LoginSession.ended_at.is_(None)
    )
    assert db.session.scalar(open_sessions) == 0
    assert theirs.get("/account/password").status_code == 302
    assert log_in(theirs, "analyst@example.org").status_code == 401
    assert "Deactivated" in as_admin.get(f"/admin/users/{analyst.id}").text

    as_admin.post(f"/admin/users/{analyst.id}/reactivate", data={"csrf_token": token})
    response = as_admin.post(
        f"/admin/users/{analyst.id}/reset-password", data={"csrf_token": token}
    )
    password = re.search(r"<code>([^<]+)</code>", response.text).group(1)
    assert log_in(theirs, "analyst@example.org").status_code == 401  # the old one is gone
    assert (
        log_in(theirs, "analyst@example.org", password)
        .headers["Location"]
        .endswith("/account/password")
    )
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    for action in (
        "user_role_changed",
        "user_deactivated",
        "user_reactivated",
        "user_password_reset",
    ):
        assert action in actions


def test_admins_cannot_lock_themselves_out(as_admin, admin, db):
    token = token_from(as_admin, f"/admin/users/{admin.id}")
    response = as_admin.post(f"/admin/users/{admin.id}/deactivate", data={"csrf_token": token})
    assert response.status_code == 422
    response = as_admin.post(
        f"/admin/users/{admin.id}/role", data={"csrf_token": token, "role": "analyst"}
    )
    assert response.status_code == 422
    db.session.refresh(admin)
    assert admin.is_active_account and admin.role == "admin"


def test_unknown_users_are_404(as_admin):
    assert as_admin.get("/admin/users/999999").status_code == 404


def test_posts_without_a_csrf_token_change_nothing(as_admin, db, org):
    analyst = accounts.create_user("analyst@example.org", PASSWORD, "analyst")
    response = as_admin.post(f"/admin/users/{analyst.id}/deactivate")
    assert response.status_code == 400
    db.session.refresh(analyst)
    assert analyst.is_active_account


# -- organisations ----------------------------------------------------------------------------


def test_organisation_form_has_a_name_field_per_language(as_admin, app):
    page = as_admin.get("/admin/organisations")
    for tag in app.config["LANGUAGES"]:
        assert f'name="name_{tag.replace("-", "_")}"' in page.text
    assert 'value="KZ"' in page.text  # countries from the CLDR list


def test_admin_creates_and_edits_an_organisation(as_admin, db, app):
    token = token_from(as_admin, "/admin/organisations")
    response = as_admin.post(
        "/admin/organisations",
        data={
            "csrf_token": token,
            "slug": "kazakh-society-berlin",
            "name_kk": "Берлин қазақ қоғамы",
            "name_en": "Kazakh Society Berlin",
            "country": "DE",
            "contact": "info@example.de",
        },
    )
    assert response.status_code == 303
    found = db.session.scalar(select(Organisation).filter_by(slug="kazakh-society-berlin"))
    assert found.name == {"kk": "Берлин қазақ қоғамы", "en": "Kazakh Society Berlin"}
    assert found.country == "DE"
    assert "Germany" in as_admin.get("/admin/organisations?lang=en").text
    page = as_admin.get(f"/admin/organisations/{found.id}?lang=kk")
    assert "Берлин қазақ қоғамы" in page.text
    response = as_admin.post(
        f"/admin/organisations/{found.id}",
        data={"csrf_token": csrf_token(page.text), "name_ru": "Казахское общество", "country": ""},
    )
    assert response.status_code == 303
    db.session.refresh(found)
    assert found.name == {"ru": "Казахское общество"} and found.country is None
    assert [e.action for e in events(db, "organisation_created")] == ["organisation_created"]
    assert len(events(db, "organisation_updated")) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"slug": "Bad Slug", "name_en": "X"}, "short name"),
        ({"slug": "good", "name_en": "X", "country": "QQ"}, "Choose a country"),
        ({"slug": "good"}, "at least one language"),
        ({"slug": "otandastar", "name_en": "X"}, "exists already"),
    ],
)
def test_bad_organisations_are_refused_with_a_message(as_admin, db, org, data, message):
    token = token_from(as_admin, "/admin/organisations?lang=en")
    response = as_admin.post("/admin/organisations", data={"csrf_token": token, **data})
    assert response.status_code == 422
    assert message in response.text
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1


def test_analysts_add_organisations(client, db, signed_in):
    signed_in("analyst")
    token = token_from(client, "/admin/organisations")
    response = client.post(
        "/admin/organisations",
        data={"csrf_token": token, "slug": "ala", "name_en": "Ala", "country": "TR"},
    )
    assert response.status_code == 303
    assert events(db, "organisation_created")[0].user.email == "analyst@example.org"


def test_hostile_organisation_names_are_escaped_everywhere(as_admin, db):
    org = accounts.create_organisation("hostile", {"en": HOSTILE, "kk": HOSTILE})
    accounts.create_user("c@example.org", PASSWORD, "coordinator", org)
    for path in ("/admin/organisations", f"/admin/organisations/{org.id}", "/admin/users"):
        page = as_admin.get(path)
        assert page.status_code == 200
        assert HOSTILE not in page.text, path
        assert html.escape(HOSTILE, quote=False) in page.text or "&lt;img" in page.text


# -- questionnaires ---------------------------------------------------------------------------


def test_upload_stores_a_new_survey_and_lists_its_versions(as_admin, db):
    response = upload(as_admin, as_yaml(mini_questionnaire()))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/questionnaires/mini")
    page = as_admin.get("/admin/questionnaires/mini?lang=en")
    assert "mini.yaml was stored as version 1 of mini" in page.text
    assert "2026-1" in page.text
    version = db.session.scalar(select(SurveyVersion).join(Survey).filter(Survey.slug == "mini"))
    assert version.content_hash[:12] in page.text
    (event,) = events(db, "questionnaire_uploaded")
    assert event.target == "survey:mini" and event.details["version"] == 1
    # The same file again is the same version.
    again = upload(as_admin, as_yaml(mini_questionnaire()))
    assert "nothing changed" in as_admin.get(again.headers["Location"]).text
    assert db.session.scalar(select(func.count()).select_from(SurveyVersion)) == 2  # + bundled


@pytest.mark.parametrize(
    ("lang", "expected"), [("kk", "hologram түрі белгісіз"), ("ru", "неизвестный тип hologram")]
)
def test_loader_errors_are_shown_in_the_admins_language(as_admin, db, lang, expected):
    document = mini_questionnaire()
    document["survey"][1]["type"] = "hologram"
    response = upload(as_admin, as_yaml(document), "broken.yaml", lang=lang)
    assert response.status_code == 422
    assert f"broken.yaml, survey row 2 (why): {expected}" in response.text
    assert f'<html lang="{lang}"' in response.text
    assert db.session.scalar(select(Survey).filter_by(slug="mini")) is None
    (event,) = events(db, "questionnaire_rejected")
    assert event.details == {"file": "broken.yaml", "problems": 1}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"settings: [unclosed", "is not valid YAML"),
        (b"\xff\xfe\x00garbage", "cannot be read"),
        (b"- just\n- a list\n", "must be a mapping"),
        (b"", "Choose a questionnaire file"),
    ],
)
def test_unreadable_uploads_get_a_message_not_a_500(as_admin, content, expected):
    response = upload(as_admin, content, "bad.yaml", lang="en")
    assert response.status_code == 422
    assert expected in response.text


def test_uploads_over_the_size_limit_are_refused(as_admin, app, db):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    response = upload(as_admin, "#" * 8192, lang="en")
    assert response.status_code == 413
    assert "larger than 4 KB" in response.text
    # Someone not signed in gets the plain error page, not the list of surveys.
    anonymous = app.test_client()
    response = anonymous.post(
        "/admin/questionnaires",
        data={"file": (io.BytesIO(b"#" * 8192), "big.yaml")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert SLUG not in response.text


def test_escaped_nul_characters_never_cause_a_500(as_admin, db):
    document = as_yaml(mini_questionnaire()).replace(
        "title:\n    kk: Сауалнама", 'title:\n    kk: "a\\0b"'
    )
    assert '"a\\0b"' in document
    response = upload(as_admin, document)
    # The loader refuses NUL on every engine (PostgreSQL could not store it anyway).
    assert response.status_code == 422
    assert "U+0000" in response.text


# -- XLSForm workbooks ------------------------------------------------------------------------


def workbook(
    tmp_path, survey: list[list], name: str = "form.xlsx", form_id: str | None = "from-excel"
) -> bytes:
    """Return an XLSForm workbook built with openpyxl: ``survey`` rows under a page, in en only."""
    book = openpyxl.Workbook()
    book.active.title = "survey"
    for row in [
        ["type", "name", "label::English (en)"],
        ["begin_group", "p1", "Page"],
        *survey,
        ["end_group"],
    ]:
        book["survey"].append(row)
    settings = book.create_sheet("settings")
    columns = {
        "form_title::English (en)": "Workbook survey",
        "form_id": form_id,
        "consent_version": "1",
        "consent_text::English (en)": "I agree.",
    }
    settings.append([k for k, v in columns.items() if v is not None])
    settings.append([v for v in columns.values() if v is not None])
    book.save(tmp_path / name)
    return (tmp_path / name).read_bytes()


def test_an_xlsform_workbook_is_stored_as_a_new_version(as_admin, db, tmp_path):
    path = tmp_path / "mini.xlsx"
    write_xlsform(mini_questionnaire(), path)
    response = upload(as_admin, path.read_bytes(), "mini.xlsx")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/questionnaires/mini")
    page = as_admin.get("/admin/questionnaires/mini?lang=en")
    assert "mini.xlsx was stored as version 1 of mini" in page.text
    (event,) = events(db, "questionnaire_uploaded")
    assert event.target == "survey:mini"
    assert event.details == {"file": "mini.xlsx", "version": 1, "new": True}
    # The workbook holds the same questionnaire as the YAML file: no new version for it.
    again = upload(as_admin, as_yaml(mini_questionnaire()), "mini.yaml")
    assert "nothing changed" in as_admin.get(again.headers["Location"] + "?lang=en").text
    # A changed workbook is a new version; a workbook without form_id takes the upload's name.
    changed = mini_questionnaire(title="Changed")
    write_xlsform(changed, path)
    assert upload(as_admin, path.read_bytes(), "mini.xlsx").status_code == 303
    survey = db.session.scalar(select(Survey).filter_by(slug="mini"))
    assert [v.number for v in survey.versions] == [1, 2]
    assert survey.versions[-1].definition["settings"]["title"]["en"] == "Changed"
    book = workbook(tmp_path, [["integer", "age", "Age"]], form_id=None)
    response = upload(as_admin, book, "Excel Upload.XLSX")
    assert response.headers["Location"].endswith("/admin/questionnaires/excel-upload")


@pytest.mark.parametrize(
    ("lang", "header", "expected"),
    [
        (
            "ru",
            {"Accept-Language": "ru"},
            "form.xlsx, survey sheet, row 3, column type: geopoint (GPS-точка, линия или "
            "фигура) не поддерживается: спрашивайте место вопросом atlas:location",
        ),
        (
            "ru",
            {},
            "form.xlsx, survey sheet, row 4, column type: тип XLSForm barcode не поддерживается",
        ),
        (
            "kk",
            {},
            "form.xlsx, survey sheet, row 4, column type: barcode деген XLSForm түріне қолдау "
            "көрсетілмейді",
        ),
    ],
)
def test_a_workbooks_refusals_are_shown_in_the_admins_language(
    as_admin, db, tmp_path, lang, header, expected
):
    book = workbook(tmp_path, [["geopoint", "home", "Home"], ["barcode", "code", "Code"]])
    token = token_from(as_admin, "/admin/questionnaires")
    response = as_admin.post(
        "/admin/questionnaires" + ("" if header else f"?lang={lang}"),
        data={"csrf_token": token, "file": (io.BytesIO(book), "form.xlsx")},
        content_type="multipart/form-data",
        headers=header,
    )
    assert response.status_code == 422
    assert f'<html lang="{lang}"' in response.text
    assert expected in html.unescape(response.text)
    assert db.session.scalar(select(Survey).filter_by(slug="from-excel")) is None
    (event,) = events(db, "questionnaire_rejected")
    assert event.details == {"file": "form.xlsx", "problems": 2}


def zipped(**members: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "filename", "expected"),
    [
        (b"PK\x03\x04" + b"\x00" * 200, "form.xlsx", "the workbook is damaged or incomplete"),
        (zipped(**{"notes.txt": "hello"}), "form.xlsx", "it is a ZIP archive, not an Excel"),
        (
            zipped(**{"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<broken"}),
            "form.xlsx",
            "form.xlsx, file: cannot be read as an XLSForm",
        ),
        (b"settings:\n  slug: mini\n", "form.xlsx", "its content is not an .xlsx workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "form.xls", "cannot be read as"),
        ("xlsx", "form.xls", "its content is not an .xls workbook"),
        ("xlsx", "form.yaml", "form.yaml, file: is an Excel workbook: to upload it as an XLSForm"),
        ("xlsx", "form", "form, file: is an Excel workbook"),
    ],
)
def test_corrupt_or_misnamed_workbooks_get_a_message_not_a_500(
    as_admin, db, tmp_path, content, filename, expected
):
    if content == "xlsx":
        content = workbook(tmp_path, [["integer", "age", "Age"]])
    response = upload(as_admin, content, filename, lang="en")
    assert response.status_code == 422
    assert "was not loaded" in response.text
    assert expected in html.unescape(response.text)
    assert db.session.scalar(select(Survey).filter_by(slug="from-excel")) is None
    (event,) = events(db, "questionnaire_rejected")
    assert event.details == {"file": filename, "problems": 1}


def test_a_misnamed_workbook_is_refused_in_the_admins_language(as_admin, tmp_path):
    response = upload(as_admin, b"settings: {}\n", "form.xlsx", lang="ru")
    assert response.status_code == 422
    assert (
        "form.xlsx, file: не удаётся прочитать как XLSForm: содержимое файла не является "
        "книгой .xlsx"
    ) in response.text


def test_the_upload_page_offers_yaml_and_xlsform(as_admin):
    page = as_admin.get("/admin/questionnaires?lang=ru")
    assert 'accept=".yaml,.yml,.xlsx,.xls,' in page.text
    assert "Файл анкеты (YAML или XLSForm)" in page.text
    response = upload(as_admin, b"", "empty.xlsx", lang="ru")
    assert response.status_code == 422
    assert "Выберите файл анкеты (YAML или XLSForm) для загрузки." in response.text


def test_a_workbook_over_the_size_limit_is_refused(as_admin, app, db, tmp_path):
    book = workbook(tmp_path, [["integer", "age", "Age"]])
    assert len(book) > 2048
    app.config["MAX_CONTENT_LENGTH"] = 2048
    response = upload(as_admin, book, "form.xlsx", lang="en")
    assert response.status_code == 413
    assert "larger than 2 KB" in response.text
    assert db.session.scalar(select(Survey).filter_by(slug="from-excel")) is None


def test_a_long_workbook_name_keeps_its_extension(as_admin, db, tmp_path):
    book = workbook(tmp_path, [["integer", "age", "Age"]])
    response = upload(as_admin, book, "survey " * 30 + ".xlsx")
    assert response.status_code == 303
    (event,) = events(db, "questionnaire_uploaded")
    assert len(event.details["file"]) == 100 and event.details["file"].endswith("surv.xlsx")


def test_an_analyst_cannot_upload_a_workbook(client, db, signed_in, tmp_path):
    signed_in("analyst")
    path = tmp_path / "mini.xlsx"
    write_xlsform(mini_questionnaire(), path)
    token = token_from(client, "/admin/organisations")
    response = client.post(
        "/admin/questionnaires",
        data={"csrf_token": token, "file": (io.BytesIO(path.read_bytes()), "mini.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert db.session.scalar(select(Survey).filter_by(slug="mini")) is None
    assert events(db, "questionnaire_uploaded") == events(db, "questionnaire_rejected") == []


def test_numbers_too_large_for_the_database_are_not_found(as_admin):
    huge = 10**30
    assert as_admin.get(f"/admin/users/{huge}").status_code == 404
    assert as_admin.get(f"/admin/organisations/{huge}").status_code == 404
    assert as_admin.get(f"/admin/questionnaires/{SLUG}/preview?version={huge}").status_code == 404
    assert as_admin.get(f"/admin/audit?page={huge}").status_code == 200
    assert as_admin.get(f"/admin/audit?user={huge}").status_code == 200
    assert as_admin.get("/admin/audit?user=²").status_code == 200


def test_hostile_file_names_and_titles_are_escaped(as_admin, db):
    document = mini_questionnaire(slug="hostile", title=HOSTILE)
    document["groups"][0]["label"]["en"] = HOSTILE
    response = upload(as_admin, as_yaml(document), HOSTILE + ".yaml")
    assert response.status_code == 303
    for path in (
        "/admin/questionnaires/hostile?lang=en",
        "/admin/questionnaires?lang=en",
        "/admin/questionnaires/hostile/preview?language=en",
        "/admin/questionnaires/hostile/preview?language=en&page=0",
    ):
        page = as_admin.get(path)
        assert page.status_code == 200, path
        assert "<img" not in page.text, path
    document["survey"][1]["type"] = HOSTILE
    response = upload(as_admin, as_yaml(document), HOSTILE + ".yaml", lang="en")
    assert response.status_code == 422
    assert "<img" not in response.text
    assert "&lt;img src=x onerror=alert(1)&gt;.yaml" in response.text


def test_preview_shows_every_page_in_every_language_and_stores_nothing(as_admin, db):
    survey = db.session.scalar(select(Survey).filter_by(slug=SLUG))
    version = survey.versions[-1]
    from app.questionnaires import questionnaire_of

    questionnaire = questionnaire_of(version)
    for lang in questionnaire.languages:
        overview = as_admin.get(f"/admin/questionnaires/{SLUG}/preview?language={lang}")
        assert overview.status_code == 200, lang
        assert f'<html lang="{lang}"' in overview.text
        title = html.escape(questionnaire.text(questionnaire.title, lang), quote=False)
        assert title in overview.text
        first = as_admin.get(f"/admin/questionnaires/{SLUG}/preview?language={lang}&page=0")
        assert first.status_code == 200, lang
        label = questionnaire.text(questionnaire.groups[0].label, lang)
        assert html.escape(label, quote=False) in first.text
    for index in range(len(questionnaire.groups)):
        page = as_admin.get(f"/admin/questionnaires/{SLUG}/preview?language=ru&page={index}")
        assert page.status_code == 200, index
        assert "<fieldset disabled" in page.text
        assert 'method="post"' not in page.text.split("<main>")[1]
    assert as_admin.get(f"/admin/questionnaires/{SLUG}/preview?page=999").status_code == 404
    assert as_admin.get(f"/admin/questionnaires/{SLUG}/preview?version=99").status_code == 404
    # An unknown language falls back to the questionnaire's default.
    fallback = as_admin.get(f"/admin/questionnaires/{SLUG}/preview?language=xx")
    assert f'<html lang="{questionnaire.default_language}"' in fallback.text
    assert db.session.scalar(select(func.count()).select_from(Draft)) == 0


def test_preview_of_an_older_version(as_admin, db):
    upload(as_admin, as_yaml(mini_questionnaire()))
    changed = mini_questionnaire()
    changed["groups"][0]["label"]["en"] = "First page, reworded"
    upload(as_admin, as_yaml(changed))
    old = as_admin.get("/admin/questionnaires/mini/preview?version=1&language=en&page=0")
    new = as_admin.get("/admin/questionnaires/mini/preview?language=en&page=0")
    assert "reworded" not in old.text and "reworded" in new.text


def test_closing_a_survey_answers_410_until_it_opens_again(as_admin, app, db):
    respondent = app.test_client()
    assert respondent.get(f"/s/{SLUG}").status_code == 200
    token = token_from(as_admin, f"/admin/questionnaires/{SLUG}")
    assert (
        as_admin.post(f"/admin/questionnaires/{SLUG}/close", data={"csrf_token": token}).status_code
        == 303
    )
    assert respondent.get(f"/s/{SLUG}").status_code == 410
    assert "Closed" in as_admin.get("/admin/questionnaires?lang=en").text
    as_admin.post(f"/admin/questionnaires/{SLUG}/open", data={"csrf_token": token})
    assert respondent.get(f"/s/{SLUG}").status_code == 200
    assert [
        e.action
        for e in db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.in_(["survey_closed", "survey_opened"]))
            .order_by(AuditEvent.id)
        )
    ] == ["survey_closed", "survey_opened"]


def test_a_new_version_never_alters_earlier_answers(as_admin, app, db):
    Respondent(app.test_client(), "kk").complete()
    stored = db.session.scalar(select(Response))
    first_version, answers = stored.version_id, dict(stored.answers)

    document = yaml.safe_load(BUNDLED.read_text(encoding="utf-8"))
    document["settings"]["version"] = "next"
    document["groups"][0]["label"]["en"] = "Where you live now (reworded)"
    response = upload(as_admin, as_yaml(document), "kazakh-diaspora.yaml")
    assert response.status_code == 303

    db.session.expire_all()
    stored = db.session.scalar(select(Response))
    assert stored.version_id == first_version
    assert stored.answers == answers
    numbers = db.session.scalars(
        select(SurveyVersion.number).join(Survey).filter(Survey.slug == SLUG)
    ).all()
    assert sorted(numbers) == [1, 2]
    page = as_admin.get(f"/admin/questionnaires/{SLUG}?lang=en")
    rows = re.findall(r"<tr>\s*<td>(\d+)</td>.*?</tr>", page.text, re.S)
    assert rows == ["2", "1"]
    counts = re.findall(
        r"<tr>\s*<td>\d+</td>(?:\s*<td.*?</td>){3}\s*<td>(\d+)</td>", page.text, re.S
    )
    assert counts == ["0", "1"]
    # New respondents get the new version; the old response still reads under its own.
    Respondent(app.test_client(), "kk").complete()
    versions = db.session.scalars(select(Response.version_id).order_by(Response.id)).all()
    assert versions[0] == first_version and versions[1] != first_version


# -- audit log --------------------------------------------------------------------------------


def test_audit_log_filters_pages_and_escapes(as_admin, admin, db):
    other = accounts.create_user("other@example.org", PASSWORD, "analyst")
    for n in range(60):
        accounts.record(
            "export", target=f"survey:{SLUG}", details={"country": "KZ"}, rows=n, user=other
        )
    accounts.record("view_response", target=HOSTILE, details={"note": HOSTILE}, user=admin)
    old = db.session.scalar(select(AuditEvent).filter_by(action="view_response"))
    old.at = utcnow() - timedelta(days=10)
    db.session.commit()

    page = as_admin.get("/admin/audit?lang=en")
    assert page.status_code == 200
    assert "<img" not in page.text
    assert "Page 1 of 2" in page.text

    exports = as_admin.get(f"/admin/audit?lang=en&action=export&user={other.id}")
    assert exports.text.count('<td dir="ltr">export</td>') == 50
    assert "Events found: 60" in exports.text
    second = as_admin.get(f"/admin/audit?action=export&user={other.id}&page=2")
    assert second.text.count('<td dir="ltr">export</td>') == 10

    since = (utcnow() - timedelta(days=2)).date().isoformat()
    recent = as_admin.get(f"/admin/audit?action=view_response&since={since}&lang=en")
    assert "Events found: 0" in recent.text
    until = (utcnow() - timedelta(days=5)).date().isoformat()
    older = as_admin.get(f"/admin/audit?until={until}&lang=en")
    assert "Events found: 1" in older.text and "&lt;img" in older.text

    bad = as_admin.get("/admin/audit?since=not-a-date&page=-3&user=abc&lang=en")
    assert bad.status_code == 200
    assert 'class="error"' in bad.text


def test_the_audit_log_never_holds_passwords(as_admin, db, org):
    token = token_from(as_admin, "/admin/users")
    response = as_admin.post(
        "/admin/users", data={"csrf_token": token, "email": "n@example.org", "role": "analyst"}
    )
    password = re.search(r"<code>([^<]+)</code>", response.text).group(1)
    page = as_admin.get("/admin/audit")
    assert "user_created" in page.text
    assert password not in page.text
    for event in db.session.scalars(select(AuditEvent)):
        assert password not in str(event.details) and password not in (event.target or "")
