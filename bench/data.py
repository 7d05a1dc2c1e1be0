"""Bulk-load synthetic responses and ready-to-submit drafts straight into the database.

Rows come from :func:`geo.synthetic.generate`, shaped like stored answers of the bundled
questionnaire, and go in with ``executemany`` (SQLite) or ``COPY`` (PostgreSQL), never through
HTTP: the benchmarks measure the site with that many rows already stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import sqlite3
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import psycopg

from bench.server import pg_dsn
from geo.synthetic import generate

COLUMNS = (
    "submission_id", "version_id", "answers", "answers_hash", "receipt_hash", "language",
    "consent_version", "consent_language", "consented_at", "started_at", "submitted_at",
    "channel", "country", "region", "city", "lat", "lon", "sex", "age_band", "citizenship",
    "record_key", "independent",
)  # fmt: skip
BAND_AGE = {"16-24": 20, "25-34": 30, "35-44": 40, "45-54": 50, "55-64": 60, "65+": 70}
CHUNK = 20_000
#: Synthetic responses are spread over this many days before now.
DAYS = 180


def _value(x: Any) -> Any:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return x


def response_rows(n: int, seed: int, version_id: int) -> Iterator[tuple]:
    """Yield ``n`` response rows (tuples in :data:`COLUMNS` order) from synthetic data."""
    start_of_today = dt.datetime.now(dt.UTC)
    rng = np.random.default_rng(seed)
    for start in range(0, n, CHUNK):
        size = min(CHUNK, n - start)
        df = generate(size, seed=seed * 1000 + start // CHUNK)
        records = df.astype(object).where(df.notna(), None).to_dict("records")
        salts = rng.integers(0, 2**63, size)
        # Spread over half a year, as a survey's responses are (the counts are kept per day).
        offsets = rng.uniform(0, DAYS * 86400, size)
        for record, salt, offset in zip(records, salts, offsets, strict=True):
            now = (start_of_today - dt.timedelta(seconds=float(offset))).isoformat()
            lat, lon = _value(record["lat"]), _value(record["lon"])
            country = record["country"]
            answers = {
                "residence": {
                    "country": country,
                    "region": record["region"],
                    "city": record["city"],
                    "geo": [lat, lon] if lat is not None else None,
                },
                "citizenship": record["citizenship"],
                "sex": record["sex"],
                "age": BAND_AGE.get(record["age_band"]),
                "education": record["education"],
                "skills": list(record["skills"]),
                "languages": list(record["languages"]),
                "needs": list(record["needs"]),
                "contribution": list(record["contribution"]),
                "return_intention": record["return_intention"],
            }
            text = json.dumps(answers, ensure_ascii=False, sort_keys=True)
            digest = hashlib.sha256(text.encode()).hexdigest()
            submission_id = str(uuid.uuid4())
            receipt = hashlib.sha256(f"bench:{submission_id}:{salt}".encode()).hexdigest()
            yield (
                submission_id,
                version_id, text, digest, receipt, record["language"], "1",
                record["language"], now, now, now, "api", country,
                (record["region"] or "")[:8] or None, (record["city"] or "")[:200] or None,
                lat, lon, record["sex"], record["age_band"], record["citizenship"],
                int(record["record_key"]), True,
            )  # fmt: skip


def version_id(url: str) -> int:
    """Return the id of the bundled questionnaire's latest version."""
    sql = "SELECT max(id) FROM survey_version"
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return conn.execute(sql).fetchone()[0]
    with psycopg.connect(pg_dsn(url)) as conn:
        return conn.execute(sql).fetchone()[0]


def load_responses(url: str, n: int, seed: int) -> None:
    """Add ``n`` synthetic responses to the database at ``url``."""
    if n <= 0:
        return
    vid = version_id(url)
    rows = response_rows(n, seed, vid)
    placeholders = ", ".join("?" for _ in COLUMNS)
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=60)
        try:
            conn.execute("PRAGMA synchronous = NORMAL")
            with conn:
                conn.executemany(
                    f"INSERT INTO response ({', '.join(COLUMNS)}) VALUES ({placeholders})",  # noqa: S608
                    rows,
                )
        finally:
            conn.close()
        return
    with psycopg.connect(pg_dsn(url)) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY response ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        conn.execute("ANALYZE response")


def create_drafts(url: str, n: int, answers: dict[str, Any]) -> list[str]:
    """Open ``n`` drafts holding a complete, checked answer set; return their resume tokens.

    The HTML benchmark then only does what a browser does at the end: GET the review page
    and POST it with the CSRF token.
    """
    vid = version_id(url)
    now = dt.datetime.now(dt.UTC).isoformat()
    tokens = [uuid.uuid4().hex + os.urandom(4).hex() for _ in range(n)]
    text = json.dumps(answers, ensure_ascii=False)
    rows = [
        (
            hashlib.sha256(t.encode()).hexdigest(),
            vid,
            str(uuid.uuid4()),
            "kk",
            text,
            "{}",
            "1",
            "kk",
            now,
            8,
            now,
            now,
        )  # fmt: skip
        for t in tokens
    ]
    columns = (
        "token_hash, version_id, submission_id, language, answers, pending, consent_version, "
        "consent_language, consented_at, furthest_page, created_at, updated_at"
    )
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///"), timeout=60) as conn:
            conn.executemany(
                f"INSERT INTO draft ({columns}) VALUES ({', '.join('?' * 12)})",  # noqa: S608
                rows,
            )
        return tokens
    with psycopg.connect(pg_dsn(url)) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY draft ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
    return tokens


def load_drafts(url: str, n: int, seed: int) -> None:
    """Add ``n`` drafts as respondents leave them: most submitted, the rest stopped on a page."""
    if n <= 0:
        return
    vid = version_id(url)
    rng = np.random.default_rng(seed)
    now = dt.datetime.now(dt.UTC)
    rows = []
    for submitted, page, offset in zip(
        rng.random(n) < 0.8, rng.integers(0, 9, n), rng.uniform(0, DAYS * 86400, n), strict=True
    ):
        moment = (now - dt.timedelta(seconds=float(offset))).isoformat()
        rows.append(
            (uuid.uuid4().hex, vid, str(uuid.uuid4()), "kk", "{}", "{}", "1", "kk", moment,
             int(page), moment, moment, moment if submitted else None, int(rng.integers(0, 256)))
        )  # fmt: skip
    columns = (
        "token_hash, version_id, submission_id, language, answers, pending, consent_version, "
        "consent_language, consented_at, furthest_page, created_at, updated_at, submitted_at, "
        "record_key"
    )
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///"), timeout=60) as conn:
            conn.executemany(
                f"INSERT INTO draft ({columns}) VALUES ({', '.join('?' * 14)})",  # noqa: S608
                rows,
            )
        return
    with psycopg.connect(pg_dsn(url)) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY draft ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()


def checked_answers(url: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Return ``raw`` as the questionnaire stores it (what a finished draft holds)."""
    from app import create_app, questionnaires
    from forms.types import Context
    from forms.validation import check_response

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        survey = questionnaires.find("kazakh-diaspora")
        questionnaire = questionnaires.questionnaire_of(questionnaires.latest(survey))
        outcome = check_response(questionnaire, raw, Context(questionnaire, "kk"))
        assert outcome.ok, outcome.errors
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()
        return json.loads(json.dumps(outcome.values, default=str))
