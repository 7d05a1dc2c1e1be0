"""What an attacker has: the public JSON API, withdrawals, a coordinator's account, published maps
and exports. Every helper here goes through the app's own interfaces (HTTP and the CLI), never
through its internals, so each attack can be run against any version of the code (a coordinator
signs in with the ``signed_in`` fixture of tests/conftest.py, through the sign-in form)."""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import valid_answers
from tests.respondent import API_URL

_addresses = count(1)


def new_address() -> str:
    """Return a client address never used before in this run (a documentation range)."""
    return str(ipaddress.IPv4Address("198.18.0.0") + next(_addresses))


def answers(country: str, region: str | None = None, city: str | None = None, **extra) -> dict:
    """Return valid answers of the bundled questionnaire of a citizen of ``country``, aged 30,
    living at a place: only the parts of it given (the API takes no ``city_id``)."""
    residence: dict[str, Any] = {"country": country}
    if region:
        residence["region"] = region
    if city:
        residence["city"] = city
    if "geo" in extra:
        residence["geo"] = extra.pop("geo")
    extra.setdefault("citizenship", country)
    extra.setdefault("age", 30)
    return valid_answers(residence=residence, **extra)


def submit(
    client: FlaskClient,
    country: str,
    region: str | None = None,
    city: str | None = None,
    *,
    address: str | None = None,
    language: str = "en",
    **extra: Any,
) -> dict:
    """Send one response through the JSON API from ``address`` (default: a fresh one)."""
    payload = {
        "submission_id": str(uuid.uuid4()),
        "language": language,
        "consent": {"given": True, "version": "1"},
        "answers": answers(country, region, city, **extra),
    }
    response = client.post(
        API_URL, json=payload, environ_overrides={"REMOTE_ADDR": address or new_address()}
    )
    assert response.status_code in (200, 201), (response.status_code, response.text)
    return response.json


def withdraw(client: FlaskClient, receipt: str, address: str | None = None) -> None:
    """Withdraw a response by its receipt code through the public withdrawal page."""
    environ = {"REMOTE_ADDR": address or new_address()}
    page = client.get("/withdraw", environ_overrides=environ)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    response = client.post(
        "/withdraw", data={"csrf_token": token, "code": receipt}, environ_overrides=environ
    )
    assert response.status_code == 200, response.status_code


@pytest.fixture
def maps_dir(app, tmp_path: Path) -> Path:
    path = tmp_path / "maps"
    app.config["MAPS_DIR"] = str(path)
    return path


def build_maps(runner, lang: str = "en") -> None:
    """Rebuild the published maps, as the attacker waits for the next publication."""
    result = runner.invoke(args=["atlas", "build-maps", "--lang", lang])
    assert result.exit_code == 0, result.output


def map_json(page: str, name: str) -> Any:
    """Return a JSON value a map embeds as ``var <name> = ...;`` (choropleth layers)."""
    match = re.search(rf"var {name} = (.*?);\n", page)
    assert match, f"no {name} in the map"
    return json.loads(match.group(1))


def circles(page: str) -> list[list[Any]]:
    """Return the [lat, lon, radius, label] circles a profile map draws."""
    match = re.search(r"(\[\[[^;]*?\]\])\.forEach", page)
    return json.loads(match.group(1)) if match else []


def export_geojson(runner, tmp_path: Path, *extra: str) -> dict:
    """Export the aggregated GeoJSON through the CLI, with export filters."""
    out = tmp_path / f"export-{uuid.uuid4().hex[:6]}.geojson"
    result = runner.invoke(
        args=["atlas", "export", "--format", "geojson", "--out", str(out), *extra]
    )
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text(encoding="utf-8"))


def region_counts(collection: dict) -> dict[str, int]:
    """Return {ISO 3166-2 code: published count} of an export's region rows."""
    return {
        f["properties"]["region"]: f["properties"]["n"]
        for f in collection["features"]
        if f["properties"].get("level") == "region" and f["properties"].get("region")
    }


def addresses(n: int) -> Iterator[str]:
    return (new_address() for _ in range(n))
