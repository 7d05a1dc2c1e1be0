"""The JSON submission API: idempotency by submission id, field errors, bad bodies."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.models import Response
from tests.respondent import API_URL, api_body


def stored(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Response))


def test_created_then_identical_repeat_then_conflict(client, db):
    payload = api_body()
    first = client.post(API_URL, json=payload)
    assert first.status_code == 201, first.json
    assert first.json["status"] == "created"
    repeat = client.post(API_URL, json=payload)
    assert repeat.status_code == 200
    assert repeat.json["receipt"] == first.json["receipt"]
    changed = dict(payload, answers={**payload["answers"], "age": 53})
    conflict = client.post(API_URL, json=changed)
    assert conflict.status_code == 409
    assert stored(db) == 1
    row = db.session.scalar(select(Response))
    assert row.answers["age"] == 52 and row.channel == "api"
    assert (row.country, row.region, row.lat, row.lon) == ("UZ", "UZ-TK", 41.31, 69.28)
    assert row.age_band == "45-54"


def test_field_errors_are_per_question_and_in_the_language(client, db):
    payload = api_body(age=7, sex="dragon", citizenship="ZZ", unknown_field="x", skills="nope")
    response = client.post(API_URL, json=payload)
    assert response.status_code == 422
    errors = response.json["errors"]
    assert set(errors) >= {
        "answers.age",
        "answers.sex",
        "answers.citizenship",
        "answers.unknown_field",
        "answers.skills",
    }
    assert stored(db) == 0


def test_required_answers_and_consent_are_enforced(client, db):
    payload = api_body()
    del payload["answers"]["citizenship"]
    payload["consent"] = {"given": False, "version": "1"}
    response = client.post(API_URL, json=payload)
    assert response.status_code == 422
    assert "answers.citizenship" in response.json["errors"]
    assert "consent" in response.json["errors"]
    assert stored(db) == 0


def test_irrelevant_answers_are_dropped(client, db):
    payload = api_body(association_member="no", association_name="should not be kept")
    assert client.post(API_URL, json=payload).status_code == 201
    assert "association_name" not in db.session.scalar(select(Response)).answers


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ("a=b", "application/x-www-form-urlencoded", 400),
        ('{"submission_id": "not-a-uuid", "answers": []}', "application/json", 422),
        ('{"submission_id": null, "answers": {"residence": 5}}', "application/json", 422),
    ],
)
def test_malformed_bodies_get_a_reason_not_a_500(client, db, data, content_type, status):
    response = client.post(API_URL, data=data, content_type=content_type)
    assert response.status_code == status
    assert response.json["error"]
    assert stored(db) == 0


def test_too_large_body_is_413(client, db):
    payload = api_body(proposals="я" * 400_000)
    response = client.post(API_URL, json=payload)
    assert response.status_code == 413
    assert stored(db) == 0


def test_unknown_survey_is_404_json(client):
    response = client.post("/api/v1/surveys/nope/submissions", json=api_body())
    assert response.status_code == 404
    assert response.json["status"] == 404


def test_concurrent_identical_submissions_store_one_row(app, db):
    payload = api_body()
    results: list[int] = []

    def send() -> None:
        with app.test_client() as c:
            results.append(c.post(API_URL, json=payload).status_code)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] * 7 + [201]
    db.session.rollback()
    assert stored(db) == 1


def test_concurrent_different_submissions_all_stored(app, db):
    payloads = [api_body(age=20 + i) for i in range(12)]
    results: list[int] = []

    def send(p) -> None:
        with app.test_client() as c:
            results.append(c.post(API_URL, json=p).status_code)

    threads = [threading.Thread(target=send, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [201] * 12
    db.session.rollback()
    assert stored(db) == 12


def test_coordinates_that_disagree_with_the_country_are_flagged_not_overwritten(client, db):
    payload = api_body()
    payload["answers"]["residence"] = {"country": "UZ", "geo": [43.2567, 76.9286]}  # Almaty
    assert client.post(API_URL, json=payload).status_code == 201
    row = db.session.scalar(select(Response))
    assert (row.country, row.geo_country, row.geo_mismatch) == ("UZ", "KZ", True)


def test_places_for_the_page_script(client):
    cities = client.get("/api/v1/places/cities?country=KZ&region=KZ-75&lang=en").json["cities"]
    assert cities == ["Almaty"]
    assert "Ürümqi" in client.get("/api/v1/places/cities?country=CN&region=CN-XJ").json["cities"]
    nearest = client.get("/api/v1/places/nearest?lat=43.25&lon=76.95").json
    assert (nearest["city"], nearest["country"], nearest["region"]) == ("Almaty", "KZ", "KZ-75")
    assert client.get("/api/v1/places/nearest?lat=0&lon=-30").json["city"] is None
    assert client.get("/api/v1/places/nearest?lat=x&lon=1").status_code == 400


def test_region_list_for_the_page_script(client):
    response = client.get("/api/v1/places/regions?country=kz&lang=kk")
    codes = [r["code"] for r in response.json["regions"]]
    assert "KZ-75" in codes
    assert client.get("/api/v1/places/regions?country=<script>").json["regions"] == []
