"""The respondent's path through the test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.main.security import sha256
from app.models import Draft, Response, Survey
from app.responses import normalise_receipt
from tests.respondent import FORM_ANSWERS, SLUG, Respondent, csrf_token, input_names


def count(db, model=Response) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def html_tag(page: str) -> str:
    return re.search(r"<html[^>]*>", page).group(0)


def test_language_is_negotiated_with_babel_not_best_match(client):
    page = client.get(f"/s/{SLUG}", headers={"Accept-Language": "kk-KZ,ru;q=0.8"})
    assert html_tag(page.text) == '<html lang="kk" dir="ltr">'
    page = client.get(f"/s/{SLUG}", headers={"Accept-Language": "ru-RU,en;q=0.5"})
    assert 'lang="ru"' in html_tag(page.text)
    page = client.get(f"/s/{SLUG}?lang=en", headers={"Accept-Language": "ru"})
    assert 'lang="en"' in html_tag(page.text)
    assert "Before you start" in page.text


def test_chosen_language_is_remembered_in_the_session(client):
    client.get(f"/s/{SLUG}?lang=ru")
    page = client.get(f"/s/{SLUG}", headers={"Accept-Language": "en"})
    assert 'lang="ru"' in html_tag(page.text)


def test_no_consent_no_draft(client, db):
    page = client.get(f"/s/{SLUG}?lang=en")
    response = client.post(f"/s/{SLUG}?lang=en", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 422
    assert "tick the box" in response.text
    assert count(db, Draft) == 0


def test_complete_survey_stores_one_response_with_role_columns(client, db):
    respondent = Respondent(client, "kk")
    review = respondent.answer_all()
    assert "Үрімжі" in review.text and "Дәрігер" in review.text
    receipt = respondent.submit()
    assert receipt.status_code == 303
    done = client.get(receipt.headers["Location"])
    code = re.search(r'class="receipt-code" dir="ltr">([A-Z2-7-]+)<', done.text).group(1)
    assert len(code.replace("-", "")) == 26  # 128 bits in base32
    assert count(db) == 1
    stored = db.session.scalar(select(Response))
    # The typed Kazakh name is kept in the answers and matched to the GeoNames place.
    assert stored.answers["residence"]["city"] == "Үрімжі"
    assert (stored.country, stored.region, stored.city) == ("CN", "CN-XJ", "Ürümqi")
    assert stored.city_id == 1529102
    assert (stored.lat, stored.lon) == (43.83, 87.62)  # rounded to about 1 km
    assert (stored.geo_country, stored.geo_mismatch) == ("CN", False)
    assert (stored.sex, stored.age_band, stored.citizenship) == ("female", "25-34", "CN")
    assert stored.language == "kk" and stored.consent_version == "1"
    assert stored.answers["skills"] == ["teaching", "healthcare"]  # the list's order
    assert stored.answers["age"] == 34
    # Irrelevant questions are not stored (born there: no years in the country).
    assert "years_in_country" not in stored.answers
    # Only the hash of the (normalised) code is kept, nowhere the code itself.
    assert stored.receipt_hash == sha256(normalise_receipt(code))
    for column in Response.__table__.columns:
        assert code.replace("-", "") not in str(getattr(stored, column.key)).replace("-", "")


def test_sending_the_review_twice_stores_once_and_shows_the_same_receipt(client, db):
    respondent = Respondent(client, "en")
    respondent.answer_all()
    review = client.get(f"/s/{SLUG}/d/{respondent.token}/review")
    token = csrf_token(review.text)
    first = client.post(f"/s/{SLUG}/d/{respondent.token}/review", data={"csrf_token": token})
    second = client.post(f"/s/{SLUG}/d/{respondent.token}/review", data={"csrf_token": token})
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert count(db) == 1


def test_invalid_answer_is_refused_in_the_language_and_nothing_typed_is_lost(client, db):
    respondent = Respondent(client, "ru")
    respondent.start()
    respondent.follow(respondent.send(FORM_ANSWERS))  # residence
    respondent.follow(respondent.send(FORM_ANSWERS))  # citizenship
    page = respondent.send({**FORM_ANSWERS, "age": "сорок", "education": "bachelor"})
    assert page.status_code == 422
    assert 'value="сорок"' in page.text  # what was typed comes back
    assert re.search(r'<input checked[^>]*value="bachelor"', page.text)
    assert "целое число" in page.text
    # Leave the page with Back and come again: the typed text is still there.
    respondent.follow(respondent.send({**FORM_ANSWERS, "age": "сорок"}, action="back"))
    respondent.follow(respondent.send(FORM_ANSWERS))
    assert 'value="сорок"' in client.get(respondent.url).text
    out_of_range = respondent.send({**FORM_ANSWERS, "age": "7"})
    assert out_of_range.status_code == 422
    assert 'value="7"' in out_of_range.text


def test_expired_csrf_token_shows_the_page_again_with_the_answers(client):
    respondent = Respondent(client, "en")
    respondent.start()
    page = client.post(
        respondent.url,
        data={**FORM_ANSWERS, "csrf_token": "stale", "_action": "next"},
    )
    assert page.status_code == 400
    assert "still here" in page.text
    assert 'value="Үрімжі"' in page.text
    assert re.search(r'<option selected value="CN">', page.text)


def test_language_switch_keeps_unsent_answers(client):
    respondent = Respondent(client, "kk")
    respondent.start()
    page = respondent.send({**FORM_ANSWERS, "residence-city": "Алтай"}, _lang="en")
    assert page.status_code == 200
    assert 'lang="en"' in html_tag(page.text)
    assert 'value="Алтай"' in page.text
    again = client.get(respondent.url)
    assert 'lang="en"' in html_tag(again.text) and 'value="Алтай"' in again.text


def test_resume_link_continues_where_the_respondent_left(client):
    respondent = Respondent(client, "en")
    respondent.start()
    respondent.follow(respondent.send(FORM_ANSWERS))
    page = client.get(respondent.url)
    link = re.search(r'href="http://atlas.example(/s/[^"]+)"', page.text).group(1)
    other_device = client.application.test_client()
    resumed = other_device.get(link)
    assert resumed.status_code == 302
    assert "/p/" in resumed.headers["Location"]
    assert 'value="Үрімжі"' in other_device.get(f"/s/{SLUG}/d/{respondent.token}/p/0").text


def test_region_list_follows_the_country_without_javascript(client):
    respondent = Respondent(client, "en")
    respondent.start()
    first = client.get(respondent.url).text
    page = client.post(
        respondent.url,
        data={
            "csrf_token": csrf_token(first),
            "_shown": re.search(r'name="_shown" value="([^"]*)"', first).group(1),
            "residence-country": "KZ",
            "residence-regions_for": "",
            "_action": "next",
        },
    )
    assert page.status_code == 200
    assert "choose your region" in page.text
    assert 'value="KZ-75"' in page.text  # Almaty city among the regions now listed


def test_questions_that_appear_are_shown_before_moving_on_without_javascript(client):
    respondent = Respondent(client, "en")
    respondent.start()
    while "association_member" not in client.get(respondent.url).text:
        respondent.follow(respondent.send(FORM_ANSWERS))
    page = client.get(respondent.url)
    shown = re.search(r'name="_shown" value="([^"]*)"', page.text).group(1)
    assert "association_name" not in shown.split()
    assert re.search(r'id="q-association_name"[^>]*hidden', page.text)
    data = {
        "csrf_token": csrf_token(page.text),
        "_shown": shown,
        "_action": "next",
        "association_member": "yes",
    }
    again = client.post(respondent.url, data=data)
    assert again.status_code == 200
    assert "it now shows more to answer" in again.text
    assert not re.search(r'id="q-association_name"[^>]*hidden', again.text)
    # With the name given, the page moves on.
    data["_shown"] = re.search(r'name="_shown" value="([^"]*)"', again.text).group(1)
    data["association_name"] = "Qazaq Birligi"
    assert client.post(respondent.url, data=data).status_code == 303


def test_withdrawal_deletes_the_response_and_blocks_the_id(client, db):
    code = Respondent(client, "en").complete()
    stored = db.session.scalar(select(Response))
    submission_id = stored.submission_id
    page = client.get("/withdraw?lang=en")
    wrong = client.post(
        "/withdraw?lang=en", data={"csrf_token": csrf_token(page.text), "code": "AAAA-BBBB"}
    )
    assert "No answers were found" in wrong.text
    done = client.post(
        "/withdraw?lang=en",
        data={"csrf_token": csrf_token(page.text), "code": code.lower().replace("-", " ")},
    )
    assert "have been deleted" in done.text
    assert count(db) == 0
    again = client.post(
        f"/api/v1/surveys/{SLUG}/submissions",
        json={
            "submission_id": submission_id,
            "language": "en",
            "consent": {"given": True, "version": "1"},
            "answers": {"residence": {"country": "KZ"}, "citizenship": "KZ", "sex": "male"},
        },
    )
    assert again.status_code == 409
    assert count(db) == 0


def test_unknown_survey_is_a_localised_404(client):
    page = client.get("/s/no-such-survey?lang=ru", headers={"Accept-Language": "ru"})
    assert page.status_code == 404
    assert 'lang="ru"' in html_tag(page.text)
    assert "Такой страницы нет. Проверьте ссылку, которую вы получили." in page.text


def test_closed_survey_says_so_and_keeps_the_draft(client, db):
    respondent = Respondent(client, "en")
    respondent.start()
    respondent.follow(respondent.send(FORM_ANSWERS))
    survey = db.session.scalar(select(Survey))
    survey.is_open = False
    db.session.commit()
    page = client.get(respondent.url)
    assert page.status_code == 410
    assert "not taking answers" in page.text
    assert client.get(f"/s/{SLUG}").status_code == 410
    survey.is_open = True
    db.session.commit()
    assert 'value="Үрімжі"' in client.get(f"/s/{SLUG}/d/{respondent.token}/p/0").text


def test_oversized_body_gets_413_not_500(client):
    respondent = Respondent(client, "en")
    respondent.start()
    response = client.post(respondent.url, data={"experience": "x" * 600_000})
    assert response.status_code == 413


@pytest.mark.parametrize(
    "path", ["/s/kazakh-diaspora/d/nonsense/p/0", "/s/kazakh-diaspora/d/x/review", "/s/x%27--"]
)
def test_bad_addresses_are_404(client, path):
    assert client.get(path).status_code == 404


def test_nul_bytes_are_refused_before_reaching_the_database(client, db):
    assert client.get("/s/%00").status_code == 400
    respondent = Respondent(client, "en")
    respondent.start()
    refused = 0
    for _ in range(30):
        if respondent.url.endswith("/review"):
            break
        if "residence-city" in input_names(client.get(respondent.url).text):
            response = respondent.send({**FORM_ANSWERS, "residence-city": "Almaty\x00"})
            assert response.status_code == 400
            refused += 1
            draft = db.session.scalar(select(Draft))
            assert "\x00" not in str(draft.answers)  # nothing of the refused page was kept
        respondent.follow(respondent.send(FORM_ANSWERS))
    assert refused == 1
    # The same page without the NUL goes through, and the response is stored once.
    assert respondent.submit().status_code == 303
    stored = db.session.scalars(select(Response)).all()
    assert len(stored) == 1
    assert "\x00" not in str(stored[0].answers) and stored[0].city == "Ürümqi"


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
