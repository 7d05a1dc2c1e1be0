"""Each attack found against the published figures, run as an attacker would run it.

Every test here succeeded as an attack on the code before disclosure control was hardened (the
assertions failed) and must fail as an attack now. Helpers: :mod:`tests.privacy.conftest`.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select, update

from app.accounts import services as accounts
from app.links import services as links
from app.models import Response, Survey
from tests.conftest import seed_completions
from tests.privacy.conftest import (
    build_maps,
    circles,
    export_geojson,
    map_json,
    new_address,
    region_counts,
    submit,
    withdraw,
)
from tests.respondent import FORM_ANSWERS, SLUG, Respondent

GORLITZ = ("DE", "DE-SN", "Görlitz")
#: Görlitz's point in the bundled GeoNames gazetteer, as a map stores it (2 decimals).
GORLITZ_POINT = (51.16, 14.99)


# -- 1. fake responses against one real respondent in a small city ---------------------------


def test_fakes_from_one_address_do_not_bring_a_small_city_onto_the_map(client, runner, maps_dir):
    submit(client, *GORLITZ, geo=[51.15, 14.97])  # the one real respondent
    attacker = new_address()
    for _ in range(9):
        submit(client, *GORLITZ, geo=[51.15, 14.97], address=attacker)
    build_maps(runner)
    profile = maps_dir / "profile-DE.en.html"
    # Nine answers sent from one address in a burst count once towards k: Germany has two
    # independent respondents, so neither it nor Görlitz is published.
    assert not profile.exists() or "Görlitz" not in profile.read_text(encoding="utf-8")


def _gorlitz_circle(maps_dir) -> list:
    page = (maps_dir / "profile-DE.en.html").read_text(encoding="utf-8")
    found = [c for c in circles(page) if "Görlitz" in c[3]]
    assert len(found) == 1, circles(page)
    return found[0]


def test_a_place_is_drawn_where_the_gazetteer_puts_it_whatever_the_stored_points(
    client, runner, maps_dir
):
    submit(client, *GORLITZ, geo=[51.15, 14.97])
    fakes = [submit(client, *GORLITZ, geo=[50.2, 13.0]) for _ in range(9)]
    build_maps(runner)
    first = _gorlitz_circle(maps_dir)
    # Withdraw the fakes, send them again at other points (from other addresses), rebuild: on
    # the old code the circle moved with the mean of the stored points, and a binary search
    # over such moves recovered the real respondent's point.
    for fake in fakes:
        withdraw(client, fake["receipt"])
    for _ in range(9):
        submit(client, *GORLITZ, geo=[52.4, 16.5])
    build_maps(runner)
    second = _gorlitz_circle(maps_dir)
    assert first[:2] == second[:2] == list(GORLITZ_POINT)


def test_padding_a_small_cell_to_k_does_not_give_its_exact_count(client, runner, tmp_path):
    # In each of Germany's 16 regions, a few real respondents; the attacker adds 9 of their own
    # (from 9 addresses each, so they count) and reads the cell minus 9.
    from geo.places import regions

    codes = [code for code, _name in regions("DE")]
    real = {code: 3 + i % 7 for i, code in enumerate(codes)}
    for code, n in real.items():
        for _ in range(n + 9):
            submit(client, "DE", code)
    published = region_counts(export_geojson(runner, tmp_path))
    assert set(published) == set(codes)
    guesses = {code: published[code] - 9 for code in codes}
    # The published counts stay close to the truth (within 3)...
    assert all(abs(published[c] - (real[c] + 9)) <= 3 for c in codes)
    # ...but the attacker's subtraction no longer gives every real count exactly.
    assert guesses != real


# -- 2. a coordinator's link page -----------------------------------------------------------


def _link_page(client, link_id: int) -> str:
    page = client.get(f"/links/{link_id}?lang=en").text
    return page.split("<h2>", 1)[1]  # the figures, after the link's own details


@pytest.fixture
def small_link(app, db):
    """A link three people answered through: two living in China in Chinese, one in Kazakhstan."""
    org = accounts.create_organisation("assoc", {"en": "An association"}, "KZ")
    survey = db.session.scalar(select(Survey).filter_by(slug=SLUG))
    link = links.create_link(survey, org, "Flyer")
    seed_completions(link, 1, "CN", "zh-Hans")
    seed_completions(link, 1, "CN", "zh-Hans")
    seed_completions(link, 1, "KZ", "kk")
    return org, link


def _names_on(page: str) -> list[str]:
    return [name for name in ("China", "Kazakhstan", "中文", "Қазақша") if name in page]


def test_a_coordinator_cannot_tell_where_a_links_few_respondents_live(
    client, small_link, signed_in
):
    org, link = small_link
    signed_in("coordinator", org)
    assert _names_on(_link_page(client, link.id)) == []


def test_a_coordinator_padding_their_own_link_learns_nothing(app, client, small_link, signed_in):
    org, link = small_link
    # The coordinator answers 9 times per country through the link, from their own network.
    pad = app.test_client()
    pad.environ_base["REMOTE_ADDR"] = "192.0.2.77"
    for country, region, city, language in (
        ("CN", "CN-XJ", "Үрімжі", "zh-Hans"),
        ("KZ", "KZ-75", "Алматы", "kk"),
    ):
        for _ in range(9):
            assert pad.get(f"/l/{link.code}").status_code == 302
            respondent = Respondent(pad, lang=language)
            answers = {
                **FORM_ANSWERS,
                "residence-country": country,
                "residence-regions_for": country,
                "residence-region": region,
                "residence-city": city,
                "citizenship": country,
            }
            respondent.complete(answers)
    signed_in("coordinator", org)
    page = _link_page(client, link.id)
    assert _names_on(page) == []
    assert not re.search(r"<td[^>]*>\s*(1[0-9]|2[0-9])\s*</td>", page)  # no counts at all


# -- 3. the public world map ----------------------------------------------------------------


def test_the_world_map_says_the_same_of_an_empty_country_and_a_small_one(client, runner, maps_dir):
    for _ in range(15):
        submit(client, "DE")
    for _ in range(12):
        submit(client, "RU")
    for _ in range(3):
        submit(client, "TR")
    build_maps(runner)
    page = (maps_dir / "world.en.html").read_text(encoding="utf-8")
    (layer,) = map_json(page, "layers")

    def shown(code: str) -> tuple:
        return layer["fill"].get(code), layer["tip"].get(code, layer["none"])

    assert shown("TR") == shown("FR")  # three respondents, or none: the same grey, same words
    assert "No respondents" not in page


# -- 4. exports follow the configuration --------------------------------------------------------


@pytest.mark.parametrize("high_risk", [["KZ"], ["CN", "KZ"]])
def test_geojson_export_uses_the_configured_k_and_high_risk_countries(
    app, client, runner, tmp_path, high_risk
):
    app.config["K_PUBLISHED"] = 15
    app.config["HIGH_RISK_COUNTRIES"] = high_risk
    for region in ("KZ-75", "KZ-71"):
        for _ in range(20):
            submit(client, "KZ", region)
    for _ in range(12):
        submit(client, "RU", "RU-ORE")
    for _ in range(20):
        submit(client, "RU", "RU-MOW")
    collection = export_geojson(runner, tmp_path)
    assert collection["k"] == 15
    counts = [f["properties"]["n"] for f in collection["features"]]
    assert counts and min(counts) >= 15
    kz_regions = [
        f
        for f in collection["features"]
        if f["properties"].get("level") == "region" and f["properties"]["iso_a2"] == "KZ"
    ]
    assert kz_regions == []


# -- 5. differencing two published products -------------------------------------------------


def test_a_date_filter_does_not_reveal_the_few_who_answered_after_it(
    app, client, db, runner, tmp_path
):
    from geo.places import regions

    codes = [code for code, _name in regions("DE")]
    late = {code: 1 + i % 9 for i, code in enumerate(codes)}
    for i, code in enumerate(codes):
        for _ in range(12 + i):
            submit(client, "DE", code)
    # Everything so far was sent ten days ago; then a few more people answer in each region.
    db.session.execute(
        update(Response).values(submitted_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=10))
    )
    db.session.commit()
    for code, n in late.items():
        for _ in range(n):
            submit(client, "DE", code)
    until = (dt.date.today() - dt.timedelta(days=5)).isoformat()
    before = region_counts(export_geojson(runner, tmp_path, "--until", until))
    now = region_counts(export_geojson(runner, tmp_path))
    differences = {code: now[code] - before[code] for code in codes}
    assert all(abs(differences[c] - late[c]) <= 6 for c in codes)
    assert differences != late  # the old code gave every late count exactly


# -- 6. the receipt after the thank-you page --------------------------------------------------


def test_the_resume_link_does_not_show_the_receipt_again(client):
    respondent = Respondent(client, lang="en")
    receipt = respondent.complete()
    later = client.get(f"/s/{SLUG}/d/{respondent.token}", follow_redirects=True)
    assert later.status_code == 200
    assert receipt not in later.text
    assert "/withdraw" in later.text


# -- 7. a link's response cap as a counter ---------------------------------------------------


def test_a_coordinator_cannot_count_respondents_with_a_small_response_cap(app, client, db):
    # A cap of 2 would turn the link's state ("Full", also shown to respondents) into a count.
    org = accounts.create_organisation("assoc", {"en": "An association"}, "KZ")
    survey = db.session.scalar(select(Survey).filter_by(slug=SLUG))
    with pytest.raises(links.LinkError):
        links.create_link(survey, org, "Tiny", response_cap=2)
    db.session.rollback()
    assert links.create_link(survey, org, "Fine", response_cap=10).response_cap == 10
