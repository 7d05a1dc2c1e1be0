"""Published maps: escaped labels, local assets only, no individual points, manifest, RTL."""

import json
import re
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo import maps
from geo.aggregate import MapData, aggregate_for_maps, counts_by
from geo.disclosure import KEY_RANGE, PerturbationTable, Policy
from geo.i18n import identity
from geo.maps import ASSET_SOURCES, build_maps, copy_assets, escape_label

IMG = "<img src=x onerror=alert(1)>"
TPL = "${alert(1)}"
PAYLOADS = (IMG, TPL, "`+alert(1)+`", "</script><script>alert(1)</script>")
REPO = Path(__file__).resolve().parents[1]
#: The published maps' policy, without noise so that the counts drawn can be checked.
POLICY = Policy(10, frozenset({"CN"}), PerturbationTable.from_weights({0: KEY_RANGE}))


def _square(x: float, y: float, size: float = 5) -> shapely.Polygon:
    return shapely.box(x, y, x + size, y + size)


@pytest.fixture(scope="module")
def countries() -> gpd.GeoDataFrame:
    """A tiny country layer; QX (no CLDR name) is named with a payload."""
    rows = [
        ("KZ", "KAZ", "398", "Kazakhstan", _square(60, 45, 10)),
        ("RU", "RUS", "643", "Russia", _square(40, 55, 20)),
        ("CN", "CHN", "156", "China", _square(80, 30, 15)),
        ("UZ", "UZB", "860", "Uzbekistan", _square(60, 38)),
        ("QX", "QXX", "999", f"Q {IMG} {TPL}", _square(0, 0)),
    ]
    return gpd.GeoDataFrame(
        rows, columns=["iso_a2", "iso_a3", "iso_n3", "name", "geometry"], crs="EPSG:4326"
    )


@pytest.fixture(scope="module")
def node_modules(tmp_path_factory) -> Path:
    """A stand-in for node_modules holding every asset (content irrelevant here)."""
    root = tmp_path_factory.mktemp("node_modules")
    for src in ASSET_SOURCES.values():
        (root / src).parent.mkdir(parents=True, exist_ok=True)
        (root / src).write_text("/* asset */")
    return root


def _people(country, region, city, n, lat=None, lon=None, **extra):
    return [
        {
            "country": country,
            "region": region,
            "city": city,
            "lat": None if lat is None else lat + i * 0.003,
            "lon": lon,
            "sex": "female",
            "age_band": "25-34",
            "citizenship": "KZ",
            "language": "kk",
            "link": "assoc-1",
            "skills": ("it",),
            "languages": ("kk",),
            "needs": ("courses",),
            "contribution": ("mentoring",),
            "education": "master",
            "occupation": "teacher",
            "return_intention": "maybe",
            "record_key": (i * 37) % KEY_RANGE,
            "independent": True,
            **extra,
        }  # fmt: skip
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def responses() -> pd.DataFrame:
    rows = (
        _people("KZ", "KZ-75", "Almaty", 30, 43.2, 76.9)
        + _people("KZ", "KZ-75", "Tinytown", 3, 43.517, 77.123)  # 3 < k: never on a map
        + _people("KZ", "KZ-71", "Astana", 12, 51.1, 71.4, needs=("courses", "schools"))
        + _people("RU", "RU-ORE", "Orenburg", 25, 51.7, 55.1, citizenship="RU")
        + _people("CN", "CN-XJ", "Urumqi", 40, 43.8, 87.6)  # high risk: country level only
        + _people("UZ", "UZ-TK", "Tashkent", 4, 41.3, 69.2)  # whole country below k...
        + _people("TR", "TR-34", "Istanbul", 10, 41.0, 29.0)  # ...and the next smallest too
        + _people("QX", IMG, IMG, 12, 2.0, 2.0, occupation=IMG, needs=(TPL,))
        + _people("QX", TPL, TPL, 11, 3.0, 3.0, contribution=(IMG,))
    )
    return pd.DataFrame(rows)


def _hostile(msgid: str) -> str:
    return msgid + " " + " ".join(PAYLOADS)


@pytest.fixture(scope="module")
def built(tmp_path_factory, responses, countries, node_modules):
    out = tmp_path_factory.mktemp("maps")
    translations = {"en": identity, "kk_Arab": _hostile}
    steps = []
    manifest = build_maps(
        responses,
        out,
        ["en", "kk_Arab"],
        translations.__getitem__,
        POLICY,
        countries=countries,
        asset_source=node_modules,
        progress=lambda done, total, label: steps.append((done, total)),
    )
    pages = {p.name: p.read_text(encoding="utf-8") for p in out.glob("*.html")}
    return out, manifest, pages, steps


def test_payloads_are_escaped_everywhere(built):
    _, _, pages, _ = built
    for name, page in pages.items():
        for payload in PAYLOADS:
            assert payload not in page, (name, payload)
        assert "${" not in page and "`+" not in page, name
        assert "<img" not in page, name
    # ...but the (escaped) names did reach the maps: they were tested, not dropped.
    assert "onerror=alert(1)" in pages["world.en.html"]  # country QX's name
    assert "onerror=alert(1)" in pages["profile-QX.en.html"]  # region/city names
    assert "&#36;&#123;alert(1)&#125;" in pages["world.kk_Arab.html"]  # legend strings


def test_escape_label_neutralises_template_literals():
    assert escape_label("${x}`\\") == "&#36;&#123;x&#125;&#96;&#92;"
    assert escape_label(IMG) == "&lt;img src=x onerror=alert(1)&gt;"


def test_no_third_party_urls(built):
    _, _, pages, _ = built
    for name, page in pages.items():
        tags = re.findall(r"<[a-z]+\b[^>]*>", page, re.IGNORECASE)
        refs = [
            ref
            for tag in tags
            for ref in re.findall(r"""\b(?:src|href)\s*=\s*["']?([^"'\s>]+)""", tag, re.I)
        ]
        tags = [tag for tag in tags if re.match(r"<(script|link)\b", tag, re.I)]
        assert refs, name
        for ref in refs:
            assert ref.startswith("assets/"), (name, ref)
        for tag in tags:
            assert "http://" not in tag and "https://" not in tag and "//" not in tag, (name, tag)
        assert not re.search(r"https?://", page), name
    assert folium.Map.default_js[0][1].startswith("https://")  # folium itself left unchanged


def test_every_map_credits_its_data(built):
    _, _, pages, _ = built
    credit = "Place data © GeoNames (geonames.org), CC BY 4.0; boundaries made with Natural Earth."
    for name, page in pages.items():
        if ".en." in name:
            assert credit in page, name
        # Translated or not, the names and the licence are given as they are.
        for words in ("GeoNames (geonames.org)", "CC BY 4.0", "Natural Earth"):
            assert words in page, (name, words)


def test_tiles_only_when_asked(responses, countries, node_modules, tmp_path):
    build_maps(
        responses[responses.country == "KZ"], tmp_path, ["en"], lambda lang: identity, POLICY,
        countries=countries, asset_source=node_modules, tile_url="tiles/{z}/{x}/{y}.png",
    )  # fmt: skip
    assert "tiles/{z}/{x}/{y}.png" in (tmp_path / "world.en.html").read_text()


def test_no_individual_points(built, responses):
    _, manifest, pages, _ = built
    everything = "".join(pages.values())
    assert "Tinytown" not in everything  # 3 respondents < k
    assert "43.517" not in everything and "77.123" not in everything
    assert "Urumqi" not in everything and "Xinjiang" not in everything  # high risk
    assert "UZ" not in manifest["countries_published"]
    assert not any(m.get("country") == "UZ" for m in manifest["maps"])
    kz = pages["profile-KZ.en.html"]
    circles = json.loads(re.search(r"(\[\[.*?\]\])\.forEach", kz).group(1))
    # Tinytown's 3 join "elsewhere in KZ-75" and, as 3 < k, Almaty joins them: the region
    # (33) is one circle; Astana (12) is a city circle.
    assert sorted(c[3] for c in circles) == [
        "Almaty: 33 respondents",
        "Astana (Astana): 12 respondents",
    ]
    # Drawn at the gazetteer's points (region centre, city), never at respondents' points.
    from geo import places

    where = {c[3]: (c[0], c[1]) for c in circles}
    almaty = places.region_point("KZ-75")
    astana = places.match_city("Astana", "KZ", "KZ-71")
    assert where["Almaty: 33 respondents"] == (round(almaty[0], 2), round(almaty[1], 2))
    assert where["Astana (Astana): 12 respondents"] == (round(astana.lat, 2), round(astana.lon, 2))
    cn = pages["profile-CN.en.html"]
    assert "forEach(function (p)" not in cn  # no circles at all
    assert "country level only" in cn


def test_small_countries_hidden_with_secondary_suppression(built):
    _, _, pages, _ = built
    world = pages["world.en.html"]
    assert "Fewer than 10 respondents" in world  # legend
    (layer,) = json.loads(re.search(r"var layers = (.*?);\n", world).group(1))
    # UZ (4) has no entry of its own: it reads like every country nobody named.
    assert "UZ" not in layer["tip"] and layer["none"] == "fewer than 10"
    assert layer["tip"]["TR"] == "not shown (protects a small count)"
    assert "Istanbul" not in "".join(pages.values())


def test_manifest(built):
    out, manifest, pages, steps = built
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert manifest["k"] == 10 and manifest["languages"] == ["en", "kk_Arab"]
    assert manifest["responses"] == 147
    assert manifest["high_risk"] == ["CN"]
    assert set(manifest["countries_published"]) == {"KZ", "RU", "CN", "QX"}
    files = {m["file"] for m in manifest["maps"]}
    assert files == set(pages)
    for kind in ("world", "coverage", "citizenship", "needs", "contribution"):
        assert {f"{kind}.en.html", f"{kind}.kk_Arab.html"} <= files
    assert "profile-RU.kk_Arab.html" in files
    assert all((out / a).is_file() for a in manifest["assets"])
    assert manifest["built_at"].endswith("+00:00")
    assert steps[-1][0] == steps[-1][1] == 1 + len(files)


def _legend_corner(page: str) -> str:
    return re.search(r'<div class="atlas-legend atlas-legend-(\w+)">', page).group(1)


def _zoom_corner(page: str) -> str:
    return re.search(r'L\.control\.zoom\(\s*\{\s*position:\s*"(\w+)"', page).group(1)


def test_rtl_and_lang(built):
    _, _, pages, _ = built
    assert '<html lang="kk-Arab" dir="rtl">' in pages["world.kk_Arab.html"]
    assert '<html lang="en" dir="ltr">' in pages["world.en.html"]
    # Every map mirrors for right-to-left readers: the zoom control where a line starts, the
    # legend across from it, at the top of the side where a line ends.
    for name, page in pages.items():
        start, end = ("topright", "topleft") if ".kk_Arab." in name else ("topleft", "topright")
        assert (_zoom_corner(page), _legend_corner(page)) == (start, end), name


def test_geometry_serialised_once_and_reused(countries):
    world = maps.prepare_world(countries)
    assert world.geojson.count('"id":"KZ"') == 1
    empty = counts_by(
        pd.DataFrame({"country": [], "record_key": [], "independent": []}), ["country"], POLICY
    )
    data = MapData(
        k=10, high_risk=frozenset(), world=empty, coverage=pd.DataFrame(), citizenship=None,
        shares={}, places=pd.DataFrame(),
    )  # fmt: skip
    page = maps.world_choropleth(data, world, maps.Style(identity)).get_root().render()
    assert page.count(world.geojson) == 1


def test_copy_assets(node_modules, tmp_path):
    copied = copy_assets(node_modules, tmp_path / "assets")
    assert set(copied) == set(ASSET_SOURCES)
    with pytest.raises(FileNotFoundError, match="npm ci"):
        copy_assets(tmp_path / "empty", tmp_path / "x")


def test_package_json_pins_exact_versions_and_the_assets_are_installed():
    package = json.loads((REPO / "package.json").read_text())
    lock = json.loads((REPO / "package-lock.json").read_text())
    assert package["private"] is True
    dependencies = {**package.get("dependencies", {}), **package.get("devDependencies", {})}
    for name, version in dependencies.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), (name, version)  # no ^, ~ or ranges
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name
    assert {src.split("/")[0] for src in ASSET_SOURCES.values()} <= set(package["dependencies"])
    # What `npm ci` installed is what the maps copy: every asset, from the pinned version.
    installed = REPO / "node_modules"
    missing = [src for src in ASSET_SOURCES.values() if not (installed / src).is_file()]
    assert not missing, f"run `npm ci`: {missing}"
    for name in {src.split("/")[0] for src in ASSET_SOURCES.values()}:
        found = json.loads((installed / name / "package.json").read_text())["version"]
        assert found == dependencies[name], name


def test_small_build_publishes_no_total(countries, node_modules, tmp_path):
    few = pd.DataFrame(_people("KZ", "KZ-75", "Almaty", 4, 43.2, 76.9))
    manifest = build_maps(
        few, tmp_path, ["en"], lambda lang: identity, POLICY,
        countries=countries, asset_source=node_modules,
    )  # fmt: skip
    assert manifest["responses"] is None and manifest["countries_published"] == []
    assert "Almaty" not in (tmp_path / "world.en.html").read_text()


def test_world_map_with_bundled_boundaries_is_small(responses, node_modules, tmp_path):
    boundaries = pytest.importorskip("geo.boundaries")
    world = maps.prepare_world(boundaries.load_countries())
    assert len(world.features) == len(boundaries.load_countries())  # tiny ones kept too
    build_maps(
        responses, tmp_path, ["en"], lambda lang: identity, POLICY,
        countries=boundaries.load_countries(), asset_source=node_modules,
    )  # fmt: skip
    # A naive folium.Choropleth over Natural Earth 50m is about 4.2 MB (see the module report).
    assert (tmp_path / "world.en.html").stat().st_size < 600_000


def _without_ids(page: str) -> str:
    """Drop folium's random element ids, so two renders of one map compare equal."""
    return re.sub(r"_[0-9a-f]{32}\b", "_", page)


def test_aggregates_made_once_draw_the_same_maps(responses, countries, node_modules, tmp_path):
    from_rows = build_maps(
        responses, tmp_path / "rows", ["en"], lambda lang: identity, POLICY,
        countries=countries, asset_source=node_modules,
    )  # fmt: skip
    data = aggregate_for_maps(responses, POLICY)
    from_data = build_maps(
        data, tmp_path / "data", ["en"], lambda lang: identity,
        countries=countries, asset_source=node_modules,
    )  # fmt: skip
    assert {**from_rows, "built_at": None} == {**from_data, "built_at": None}
    for entry in from_rows["maps"]:
        pages = [
            (tmp_path / d / entry["file"]).read_text(encoding="utf-8") for d in ("rows", "data")
        ]
        assert _without_ids(pages[0]) == _without_ids(pages[1]), entry["file"]
    other = Policy(5, POLICY.high_risk)
    with pytest.raises(ValueError, match="k = 10"):
        build_maps(data, tmp_path / "x", ["en"], lambda lang: identity, other,
                   countries=countries, asset_source=node_modules)  # fmt: skip
    with pytest.raises(ValueError, match="policy"):
        build_maps(responses, tmp_path / "y", ["en"], lambda lang: identity,
                   countries=countries, asset_source=node_modules)  # fmt: skip


def test_profile_maps_name_regions_in_the_maps_language(
    responses, countries, node_modules, tmp_path
):
    from geo import places

    build_maps(
        responses[responses.country == "KZ"], tmp_path, ["ru"], lambda lang: identity, POLICY,
        countries=countries, asset_source=node_modules,
    )  # fmt: skip
    page = (tmp_path / "profile-KZ.ru.html").read_text(encoding="utf-8")
    circles = json.loads(re.search(r"(\[\[.*?\]\])\.forEach", page).group(1))
    almaty, astana = places.region_label("KZ-75", "ru"), places.region_label("KZ-71", "ru")
    assert almaty == "Алматы" and astana == "Астана"  # Russian, not the English "Almaty"
    assert sorted(c[3] for c in circles) == [
        f"Astana ({astana}): 12 respondents",  # the city as stored, its region in Russian
        f"{almaty}: 33 respondents",
    ]
