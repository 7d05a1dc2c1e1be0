"""`flask atlas build-maps`: published maps, their assets and manifest, served to the dashboard."""

from __future__ import annotations

import json
import re

import pytest

from app.maps import publish


@pytest.fixture
def seed(make_response):
    """Return ``seed(country, n)``, which stores ``n`` responses of citizens of ``country`` living
    there (no region, city or point given)."""

    def seed(country: str, n: int) -> None:
        for _ in range(n):
            make_response(country=country, region=None, city=None, geo=None, citizenship=country)

    return seed


@pytest.fixture
def maps_dir(app, tmp_path):
    path = tmp_path / "maps"
    app.config["MAPS_DIR"] = str(path)
    return path


def test_build_maps_writes_manifest_maps_and_local_assets(runner, db, maps_dir):
    result = runner.invoke(args=["atlas", "generate-synthetic", "1500", "--seed", "2"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["atlas", "build-maps", "--lang", "en", "--lang", "kk-Arab"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((maps_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["k"] == 10
    assert manifest["high_risk"] == ["CN"]
    assert manifest["languages"] == ["en", "kk-Arab"]
    assert abs(manifest["responses"] - 1500) <= 3  # a published count: perturbed
    files = {m["file"] for m in manifest["maps"]}
    assert {"world.en.html", "world.kk-Arab.html", "coverage.en.html"} <= files
    assert "profile-RU.en.html" in files
    for name in files:
        page = (maps_dir / name).read_text(encoding="utf-8")
        assert not re.search(r"https?://", page), name  # nothing from another host
        assert "<img src=x" not in page, name
    assert (maps_dir / "assets" / "leaflet.js").is_file()
    assert (maps_dir / "assets" / "leaflet.css").is_file()
    css = (maps_dir / "assets" / "leaflet.css").read_text(encoding="utf-8")
    assert not re.search(r"url\(\s*['\"]?https?:", css)
    assert 'dir="rtl"' in (maps_dir / "world.kk-Arab.html").read_text(encoding="utf-8")
    # A second build replaces the first whole.
    again = runner.invoke(args=["atlas", "build-maps", "--lang", "en"])
    assert again.exit_code == 0, again.output
    assert not (maps_dir / "world.kk-Arab.html").exists()
    assert not list(maps_dir.parent.glob(".maps-*"))


def test_build_maps_refuses_unknown_languages_and_surveys(runner, db, maps_dir):
    assert runner.invoke(args=["atlas", "build-maps", "--lang", "xx"]).exit_code != 0
    assert runner.invoke(args=["atlas", "build-maps", "--survey", "nope"]).exit_code != 0
    assert not maps_dir.exists()


def test_dashboard_frames_the_built_map_under_a_strict_policy(
    client, runner, db, maps_dir, signed_in, seed
):
    seed("RU", 12)
    seed("TR", 11)
    signed_in("analyst")
    before = client.get("/analyst/?lang=en").text
    assert "<iframe" not in before
    assert "No published maps have been built yet" in before
    assert "<svg" in before  # the server-drawn sketch instead
    assert runner.invoke(args=["atlas", "build-maps", "--lang", "en"]).exit_code == 0
    page = client.get("/analyst/?lang=en").text
    assert 'sandbox="allow-scripts"' in page
    assert 'src="/analyst/maps/world.en.html"' in page
    manifest = publish.read_manifest(maps_dir)
    assert manifest is not None and manifest["built_at"] in page
    framed = client.get("/analyst/maps/world.en.html")
    framed.close()  # a file response: close it, as the server would
    assert framed.status_code == 200
    csp = framed.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "sandbox allow-scripts" in csp
    assert "connect-src 'none'" in csp
    asset = client.get("/analyst/maps/assets/leaflet.js")
    asset.close()
    assert asset.status_code == 200
    profile = client.get("/analyst/countries/RU?lang=en").text
    assert 'src="/analyst/maps/profile-RU.en.html"' in profile
    for name in ("manifest.json", "..%2Fsecret_key", "world.xx.html", "nothing.html"):
        assert client.get(f"/analyst/maps/{name}").status_code == 404, name
    assert client.get("/analyst/maps/assets/..%2Fmanifest.json").status_code == 404


def test_map_assets_are_served_without_a_session_but_maps_are_not(
    client, runner, db, maps_dir, seed
):
    seed("RU", 10)
    assert runner.invoke(args=["atlas", "build-maps", "--lang", "en"]).exit_code == 0
    # A sandboxed frame sends no cookies with its requests: Leaflet (no data) is public.
    asset = client.get("/analyst/maps/assets/leaflet.css")
    asset.close()
    assert asset.status_code == 200
    assert client.get("/analyst/maps/world.en.html").status_code == 302


def test_maps_are_rebuilt_only_when_the_responses_change(runner, db, maps_dir):
    assert runner.invoke(args=["atlas", "generate-synthetic", "300", "--seed", "4"]).exit_code == 0
    first = runner.invoke(args=["atlas", "build-maps", "--lang", "en", "--if-changed"])
    assert first.exit_code == 0, first.output
    assert "unchanged" not in first.output
    same = runner.invoke(args=["atlas", "build-maps", "--lang", "en", "--if-changed"])
    assert "unchanged" in same.output
    assert runner.invoke(args=["atlas", "generate-synthetic", "5", "--seed", "5"]).exit_code == 0
    changed = runner.invoke(args=["atlas", "build-maps", "--lang", "en", "--if-changed"])
    assert "unchanged" not in changed.output
    assert "maps in 1 languages" in changed.output
