"""Bad input at volume: random and mutated submissions never cause a 500 or a stray row.

Bodies come from the API's own OpenAPI description (valid ones, which are stored), mutations
of them (a value of the wrong type, a missing or unknown field, text no database stores), whole
random JSON documents and raw bytes. ``make test`` runs a few hundred examples per engine;
``ATLAS_FUZZ_EXAMPLES=5000`` (``make loadtest`` sets it) runs thousands.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.models import Response
from tests.respondent import API_URL

FUZZ_EXAMPLES = int(os.environ.get("ATLAS_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Strings that have broken parsers and databases before.
NASTY = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\ufeff",
    "😀",
    "<script>alert(1)</script>",
    "'; DROP TABLE response;--",
    '=HYPERLINK("http://x")',
    "NaN",
    "1e309",
    "-0",
    "9" * 400,
    "я" * 250,
    "٣٤",
    "KZ",
    "kz",
    "UZ-TK",
)
text = st.one_of(st.sampled_from(NASTY), st.text(max_size=40))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)


def from_schema(schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy:
    """Draw values a JSON Schema (the subset our OpenAPI description uses) accepts."""
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of(*[from_schema({**schema, "type": k}, depth) for k in kind])
    if kind == "null":
        return st.none()
    if kind == "integer":
        return st.integers(schema.get("minimum", -(10**6)), schema.get("maximum", 10**6))
    if kind == "number":
        return st.floats(schema.get("minimum", -1e6), schema.get("maximum", 1e6))
    if kind == "string":
        if schema.get("format") == "uuid":
            return st.uuids().map(str)
        if schema.get("format") == "email":
            return st.emails()
        if schema.get("format") == "date":
            return st.dates().map(str)
        return st.text(max_size=min(schema.get("maxLength", 50), 50))
    if kind == "array":
        if "prefixItems" in schema:
            return st.tuples(*[from_schema(s, depth + 1) for s in schema["prefixItems"]]).map(list)
        return st.lists(
            from_schema(schema["items"], depth + 1),
            max_size=4,
            unique=schema.get("uniqueItems", False),
        )
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {k: from_schema(v, depth + 1) for k, v in properties.items() if k in required},
            optional={
                k: from_schema(v, depth + 1) for k, v in properties.items() if k not in required
            },
        )
    return json_values


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy) -> Any:
    """Take a valid body and break one or two things in it."""
    body = draw(valid)
    for _ in range(draw(st.integers(1, 2))):
        where = draw(st.sampled_from(["answers", "top", "delete", "unknown"]))
        answers = body.get("answers")
        if where == "answers" and isinstance(answers, dict) and answers:
            key = draw(st.sampled_from(sorted(answers)))
            answers[key] = draw(json_values)
        elif where == "top":
            key = draw(st.sampled_from(["submission_id", "language", "consent", "answers"]))
            body[key] = draw(json_values)
        elif where == "delete" and isinstance(answers, dict) and answers:
            del answers[draw(st.sampled_from(sorted(answers)))]
        elif isinstance(answers, dict):
            answers[draw(text)] = draw(json_values)
    return body


@pytest.fixture
def schema(client) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json["components"]["schemas"]["Submission_kazakh_diaspora"]


def count(db) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Response))


def check(client, db, data: bytes | str, content_type: str) -> int:
    """Send one body; assert no 500 and that only a 201 stored (exactly one) row."""
    before = count(db)
    response = client.post(API_URL, data=data, content_type=content_type)
    assert response.status_code < 500, (response.status_code, data[:500])
    assert response.is_json, response.status_code
    after = count(db)
    if response.status_code == 201:
        assert after == before + 1
        stored = db.session.scalar(
            select(Response).filter_by(submission_id=response.json["submission_id"])
        )
        assert stored is not None and stored.answers_hash
    else:
        assert after == before, (response.status_code, response.json)
    return response.status_code


def test_openapi_describes_the_bundled_questionnaire(client, schema):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.1")
    assert "/surveys/kazakh-diaspora/submissions" in document["paths"]
    answers = schema["properties"]["answers"]
    assert answers["additionalProperties"] is False
    assert {"residence", "citizenship", "sex"} <= set(answers["required"])
    assert {"female", "male"} <= set(answers["properties"]["sex"]["enum"])
    assert answers["properties"]["age"]["type"] == "integer"
    assert answers["properties"]["skills"]["type"] == "array"
    assert "KZ" in answers["properties"]["citizenship"]["enum"]


@FUZZ
@given(data=st.data())
def test_bodies_drawn_from_the_schema_are_stored_or_refused_cleanly(client, db, schema, data):
    body = data.draw(from_schema(schema))
    status = check(client, db, json.dumps(body), "application/json")
    assert status in (200, 201, 409, 422), status


@FUZZ
@given(data=st.data())
def test_mutated_bodies_never_fail_or_store_a_rejected_row(client, db, schema, data):
    body = data.draw(mutated(from_schema(schema)))
    check(client, db, json.dumps(body), "application/json")


@FUZZ
@given(body=json_values)
def test_random_json_documents_are_refused(client, db, body):
    status = check(client, db, json.dumps(body), "application/json")
    assert status in (400, 422)


@FUZZ
@given(
    # surrogatepass: encoded lone surrogates are bytes no UTF-8 decoder accepts either.
    data=st.one_of(st.binary(max_size=300), text.map(lambda s: s.encode("utf-8", "surrogatepass"))),
    content_type=st.sampled_from(
        ["application/json", "text/plain", "application/x-www-form-urlencoded", ""]
    ),
)
def test_raw_bytes_are_refused(client, db, data, content_type):
    status = check(client, db, data, content_type)
    assert status in (400, 422)


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 100_000,
        '{"a":' * 100_000,
        json.dumps({"submission_id": str(uuid.UUID(int=1)), "answers": {"proposals": "\ud800"}}),
        '{"answers": {"x\\udfff": 1}}',
    ],
)
def test_parser_traps_are_400_not_500(client, db, raw):
    assert check(client, db, raw, "application/json") == 400
