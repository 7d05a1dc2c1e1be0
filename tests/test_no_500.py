"""Inputs that used to answer 500: each is now refused with a status and a reason (issue 10).

Every test sends what a person, a script or an attacker could send and checks what comes back:
the page again with the message next to the field, 404 for a thing that cannot exist, 400 or
422 with a reason, 429 when too many.
"""

from __future__ import annotations

import html
import io
import re
import uuid
from typing import Any

import jsonschema_rs
import pytest
from sqlalchemy import func, select

from app import create_app
from app.accounts import services as accounts
from app.extensions import limiter
from app.links import services as link_services
from app.models import Response, Survey
from forms.loader import QuestionnaireError, load_text
from tests.respondent import FORM_ANSWERS, SLUG, Respondent, csrf_token

# -- 1. the location question -----------------------------------------------------------------

LONG_CITY = "Қ" * 201


def location_block(page: str) -> str:
    """Return the markup of the residence question, from its box to the next question's."""
    match = re.search(r'<div class="q[^"]*" id="q-residence".*?(?=<div class="q[ "])', page, re.S)
    assert match, "no residence question on the page"
    return match.group(0)


def send_residence(client, respondent: Respondent, location: dict[str, str], js: bool):
    """Send the residence page as a browser with or without JavaScript would."""
    page = client.get(respondent.url).text
    data = {
        "csrf_token": csrf_token(page),
        "_shown": html.unescape(re.search(r'name="_shown" value="([^"]*)"', page).group(1)),
        "_js": "1" if js else "0",
        "_action": "next",
        "residence-regions_for": location.get("residence-country", ""),
        "arrival_reason": FORM_ANSWERS["arrival_reason"],
        **location,
    }
    return client.post(respondent.url, data=data)


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize(
    ("location", "message"),
    [
        ({"residence-country": "", "residence-city": ""}, "Please answer this question."),
        ({"residence-country": "", "residence-city": "Алматы"}, "Choose a country first."),
        (
            {"residence-country": "KZ", "residence-region": "KZ-75", "residence-city": LONG_CITY},
            "Use at most 200 characters.",
        ),
    ],
    ids=["empty", "city-without-country", "city-of-201-characters"],
)
def test_refused_location_shows_the_page_again_with_the_message_by_the_field(
    client, location, message, js
):
    respondent = Respondent(client, "en")
    respondent.start()
    page = send_residence(client, respondent, location, js)
    assert page.status_code == 422
    block = location_block(page.text)
    # The message is inside the location's fieldset, announced with it, and nothing is lost.
    assert re.search(r'<p class="error" id="error-residence">\s*' + re.escape(message), block)
    assert 'aria-describedby="hint-residence error-residence"' in block
    assert "has-error" in block.split(">", 1)[0]
    city = location["residence-city"]
    if city:
        assert f'value="{city}"' in block
    if location["residence-country"]:
        assert f'<option selected value="{location["residence-country"]}">' in block
    assert re.search(r'<input checked[^>]*value="born_there"', page.text)
    # The same page comes back from the draft with what was typed.
    again = client.get(respondent.url).text
    if city:
        assert f'value="{city}"' in location_block(again)


# -- 2. ids too large for the database --------------------------------------------------------

HUGE = "99999999999999999999"  # more than SQLite's 2**63 - 1


@pytest.fixture
def as_admin(client, signed_in):
    signed_in("admin")
    return client


@pytest.fixture
def link(db):
    organisation = accounts.create_organisation("assoc", {"en": "Association"})
    survey = db.session.scalar(select(Survey).filter_by(slug=SLUG))
    return link_services.create_link(survey, organisation, "Flyer")


@pytest.mark.parametrize("number", [HUGE, str(2**63), str(2**31)])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/links/{n}"),
        ("get", "/links/{n}/qr.svg"),
        ("get", "/links/{n}/qr.png"),
        ("get", "/links/{n}/poster"),
        ("post", "/links/{n}/status"),
        ("get", "/links/?org={n}"),
        ("get", "/links/compare?org={n}"),
        ("post", "/analyst/data/registry/{n}/contact"),
        ("get", "/admin/users/{n}"),
        ("post", "/admin/users/{n}/role"),
        ("get", "/admin/organisations/{n}"),
    ],
)
def test_ids_no_row_can_have_are_not_found(as_admin, link, method, path, number):
    token = csrf_token(as_admin.get("/links/new").text)
    url = path.format(n=number)
    data = {"csrf_token": token, "action": "pause"} if method == "post" else None
    response = getattr(as_admin, method)(url, data=data)
    assert response.status_code == 404
    assert "There is no such page" in response.text
    # An id in range still reaches the page.
    assert as_admin.get(f"/links/{link.id}").status_code == 200


@pytest.mark.parametrize("field", ["link", "version"])
@pytest.mark.parametrize("number", [HUGE, str(2**31), "0"])
def test_export_numbers_no_row_can_have_are_a_message_by_the_field(as_admin, field, number):
    page = as_admin.get("/analyst/data/exports")
    data = {"csrf_token": csrf_token(page.text), "survey": SLUG, "format": "csv", "lang": "en"}
    response = as_admin.post("/analyst/data/exports", data={**data, field: number})
    assert response.status_code == 400
    assert "Check the options marked below." in response.text
    message = {
        "link": "No distribution link has this number.",
        "version": "No version of the questionnaire has this number.",
    }[field]
    assert re.search(r'<p class="error">' + re.escape(message) + "</p>", response.text)
    assert f'value="{number}"' in response.text


def test_forms_naming_an_organisation_no_row_can_have_are_refused(as_admin, link, db):
    page = as_admin.get("/links/new")
    created = as_admin.post(
        "/links/new",
        data={
            "csrf_token": csrf_token(page.text),
            "organisation": HUGE,
            "survey": str(link.survey_id),
            "label": "Poster",
        },
    )
    assert created.status_code == 422
    assert "Choose an organisation and a questionnaire from the lists." in created.text
    page = as_admin.get(f"/links/invitations?org={HUGE}")
    assert page.status_code == 200
    invited = as_admin.post(
        "/links/invitations",
        data={
            "csrf_token": csrf_token(page.text),
            "organisation": HUGE,
            "email": "coordinator@example.org",
        },
    )
    assert invited.status_code == 422
    assert "Choose an organisation from the list." in invited.text


# -- 3. the place lists -----------------------------------------------------------------------

BAD_LANGUAGES = ["../../etc", "x" * 300, "und-u-co-%00", "kk-", "@", "zz-Qaaa-XX"]


@pytest.mark.parametrize("lang", BAD_LANGUAGES)
@pytest.mark.parametrize("path", ["regions", "cities"])
def test_unknown_languages_fall_back_to_an_offered_one(client, path, lang):
    response = client.get(
        f"/api/v1/places/{path}",
        query_string={"country": "DE", "region": "DE-BE", "lang": lang},
        headers={"Accept-Language": "ru"},
    )
    assert response.status_code == 200
    assert response.json["lang"] == "ru"  # the browser's language, as for any page
    if path == "regions":
        names = {r["code"]: r["name"] for r in response.json["regions"]}
        assert names["DE-BE"] == "Берлин"
    else:
        assert "Berlin" in response.json["cities"]


def test_an_offered_language_is_used_whatever_its_spelling(client):
    response = client.get("/api/v1/places/regions?country=KZ&lang=kk_latn")
    assert response.json["lang"] == "kk-Latn"
    assert {"code": "KZ-75", "name": "Almaty"} in response.json["regions"]


def test_the_collator_cache_is_bounded(client):
    from geo import places

    for n in range(40):
        client.get(f"/api/v1/places/regions?country=DE&lang=x-{n}")
        places.collator(f"de-x-n{n}")  # callers outside the app are bounded too
    assert places.collator.cache_info().maxsize is not None
    assert places.collator.cache_info().currsize <= places.collator.cache_info().maxsize


def test_place_lookups_are_rate_limited(database_url):
    limited = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret-key",
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_PLACES": "3 per minute",
        }
    )
    try:
        with limited.app_context():
            limiter.reset()
        client = limited.test_client()

        def status(path: str, address: str = "203.0.113.7") -> int:
            response = client.get(f"/api/v1/places/{path}", environ_base={"REMOTE_ADDR": address})
            return response.status_code

        # One budget for the three place lookups, per address.
        assert [
            status("regions?country=KZ"),
            status("cities?country=KZ"),
            status("nearest?lat=43.25&lon=76.95"),
            status("regions?country=KZ"),
        ] == [200, 200, 200, 429]
        refused = client.get(
            "/api/v1/places/cities?country=KZ", environ_base={"REMOTE_ADDR": "203.0.113.7"}
        )
        assert refused.is_json and refused.json["status"] == 429
        assert status("regions?country=KZ", "198.51.100.1") == 200
    finally:
        with limited.app_context():
            limiter.reset()
            from app.extensions import db as database

            database.session.remove()
            database.engine.dispose()


# -- 4. questionnaire files that cost the server ---------------------------------------------

#: Seven levels of nine aliases: a few hundred bytes that stand for 9**7 (4.8 million) strings.
BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
    for previous, name in zip("abcdef", "bcdefg", strict=True)
)
#: Nested deeper than Python's stack lets PyYAML's composer go.
DEEP = "settings: " + "[" * 3000 + "]" * 3000 + "\n"
#: Flat, but more values than any questionnaire has.
WIDE = "survey: [" + "1," * 150_000 + "1]\n"
BOMBS = {
    "billion-laughs": (BILLION_LAUGHS, "line 1: uses a YAML anchor or alias (& or *)"),
    "one-alias": ("settings: &s {slug: x}\nsame: *s\n", "line 1: uses a YAML anchor or alias"),
    "deep": (DEEP, "is nested more than 64 levels deep"),
    "wide": (WIDE, "has more than 100000 values"),
}


@pytest.mark.parametrize(("text", "message"), BOMBS.values(), ids=BOMBS.keys())
def test_the_loader_refuses_costly_yaml_before_building_anything(text, message):
    with pytest.raises(QuestionnaireError) as refused:
        load_text(text, "bomb.yaml")
    (line,) = refused.value.format()
    assert line.startswith("bomb.yaml, ") and message in line


@pytest.mark.parametrize(("text", "message"), BOMBS.values(), ids=BOMBS.keys())
def test_admin_upload_of_costly_yaml_is_422_with_the_reason(as_admin, db, text, message):
    page = as_admin.get("/admin/questionnaires?lang=en")
    response = as_admin.post(
        "/admin/questionnaires?lang=en",
        data={"csrf_token": csrf_token(page.text), "file": (io.BytesIO(text.encode()), "b.yaml")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert message.replace("&", "&amp;") in response.text
    assert db.session.scalar(select(func.count()).select_from(Survey)) == 1  # the bundled one


def test_admin_upload_refusal_is_in_the_admins_language(as_admin):
    page = as_admin.get("/admin/questionnaires?lang=ru")
    response = as_admin.post(
        "/admin/questionnaires?lang=ru",
        data={"csrf_token": csrf_token(page.text), "file": (io.BytesIO(DEEP.encode()), "b.yaml")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "b.yaml, line 1: вложенность больше 64 уровней" in response.text


def test_cli_refuses_costly_yaml_with_the_reason(runner, tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BILLION_LAUGHS, encoding="utf-8")
    result = runner.invoke(args=["atlas", "load-questionnaire", str(bomb)])
    assert result.exit_code == 1
    assert "bomb.yaml, line 1: uses a YAML anchor or alias (& or *)" in result.output


# -- 5. the JSON API and its description ------------------------------------------------------

API = f"/api/v1/surveys/{SLUG}/submissions"


def api_body(**changes: Any) -> dict[str, Any]:
    """Return a submission the description allows and the server stores, with changes."""
    body: dict[str, Any] = {
        "submission_id": str(uuid.uuid4()),
        "language": "en",
        "consent": {"given": True, "version": "1"},
        "answers": {
            "residence": {"country": "UZ", "region": "UZ-TK", "city": "Tashkent"},
            "citizenship": "UZ",
            "sex": "male",
            "age": 52,
        },
    }
    for path, value in changes.items():
        *parents, key = path.split(".")
        target = body
        for parent in parents:
            target = target[parent]
        if value is DELETE:
            del target[key]
        else:
            target[key] = value
    return body


DELETE = object()


@pytest.fixture
def described(client) -> Any:
    """Return a validator of the submission schema the API publishes."""
    document = client.get("/api/v1/openapi.json").json
    schema = document["components"]["schemas"]["Submission_kazakh_diaspora"]
    return jsonschema_rs.validator_for(schema, validate_formats=True)


FORBIDDEN = {
    "second-citizenship-object": ({"answers.second_citizenship": {}}, "answers.second_citizenship"),
    "second-citizenship-null": ({"answers.second_citizenship": None}, "answers.second_citizenship"),
    "geo-booleans": ({"answers.residence.geo": [True, False]}, "answers.residence"),
    "geo-strings": ({"answers.residence.geo": ["41.3", "69.2"]}, "answers.residence"),
    "geo-three-numbers": ({"answers.residence.geo": [41.3, 69.2, 0]}, "answers.residence"),
    "residence-extra-key": ({"answers.residence.street": "Navoi 1"}, "answers.residence"),
    "residence-lat-lon": ({"answers.residence.lat": 41.3}, "answers.residence"),
    "residence-lower-case": ({"answers.residence.country": "uz"}, "answers.residence"),
    "residence-empty": ({"answers.residence": {}}, "answers.residence"),
    "city-too-long": ({"answers.residence.city": "T" * 200 + " "}, "answers.residence"),
    "consent-version-integer": ({"consent.version": 1}, "consent"),
    "age-as-text": ({"answers.age": "52"}, "answers.age"),
    "age-boolean": ({"answers.age": True}, "answers.age"),
    "sex-empty": ({"answers.sex": ""}, "answers.sex"),
    "citizenship-lower-case": ({"answers.citizenship": "uz"}, "answers.citizenship"),
    "skills-twice": ({"answers.skills": ["it", "it"]}, "answers.skills"),
    "skills-text": ({"answers.skills": "it"}, "answers.skills"),
    "text-padded-past-its-limit": (
        {"answers.occupation_detail": "x" * 200 + " "},
        "answers.occupation_detail",
    ),
    "text-with-nul": ({"answers.occupation_detail": "a\x00b"}, "answers.occupation_detail"),
    "email-with-space": ({"answers.contact_email": " name@example.org"}, "answers.contact_email"),
    "submission-id-number": ({"submission_id": 12345678123456781234567812345678}, "submission_id"),
    "submission-id-no-hyphens": ({"submission_id": uuid.uuid4().hex}, "submission_id"),
    "language-empty": ({"language": ""}, "language"),
    "language-null": ({"language": None}, "language"),
}


@pytest.mark.parametrize(("changes", "where"), FORBIDDEN.values(), ids=FORBIDDEN.keys())
def test_bodies_the_description_forbids_are_refused(client, db, described, changes, where):
    body = api_body(**changes)
    assert not described.is_valid(body)
    response = client.post(API, json=body)
    assert response.status_code == 422, response.json
    assert where in response.json["errors"], response.json
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0


def test_a_whole_number_written_with_a_decimal_point_is_a_whole_number(client, db, described):
    # JSON has one number type: 52.0 is an integer to JSON Schema, so it is to the server.
    body = api_body(**{"answers.age": 52.0, "answers.residence.geo": [41, 69]})
    assert described.is_valid(body)
    response = client.post(API, json=body)
    assert response.status_code == 201, response.json
    stored = db.session.scalar(select(Response))
    assert stored.answers["age"] == 52 and isinstance(stored.answers["age"], int)
    assert stored.answers["residence"]["geo"] == [41.0, 69.0]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("get", API, {"POST", "OPTIONS"}),
        ("put", API, {"POST", "OPTIONS"}),
        ("post", "/api/v1/openapi.json", {"GET", "HEAD", "OPTIONS"}),
        ("delete", "/api/v1/places/regions", {"GET", "HEAD", "OPTIONS"}),
        ("get", "/analyst/data/registry/1/contact", {"POST", "OPTIONS"}),
    ],
)
def test_405_says_which_methods_are_allowed(client, method, path, allowed):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["Allow"].split(",")} == allowed


def test_api_type_errors_are_in_the_body_language(client):
    body = api_body(**{"language": "ru", "answers.second_citizenship": None, "answers.age": "52"})
    errors = client.post(API, json=body).json["errors"]
    assert errors["answers.second_citizenship"] == [
        "Не передавайте вопрос, на который нет ответа: null — не ответ."
    ]
    assert errors["answers.age"] == ["Отправьте этот ответ как число JSON."]
