"""`make serve`: gunicorn's settings, and a real gunicorn serving the app on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import json
import logging

import pytest

from app import ROOT
from bench.server import SUBMIT_PATH, Client, Gunicorn, api_body


def gunicorn_conf(monkeypatch, **env):
    for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_BIND", "HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_workers_default_to_twice_the_cores_plus_one_capped(monkeypatch):
    conf = gunicorn_conf(monkeypatch)
    assert conf.default_workers(2) == 5
    assert conf.default_workers(64) == 12
    assert conf.threads == 4 and conf.worker_class == "gthread"
    assert conf.bind == "127.0.0.1:8000"


def test_environment_sets_workers_threads_and_address(monkeypatch):
    conf = gunicorn_conf(
        monkeypatch, WEB_CONCURRENCY="3", GUNICORN_THREADS="1", HOST="127.0.0.2", PORT="9000"
    )
    assert conf.workers == 3
    assert conf.worker_class == "sync"
    assert conf.bind == "127.0.0.2:9000"


class FakeWorker:
    def __init__(self, app, logger):
        self.wsgi = app
        self.pid = 4242
        self.log = logger


def test_each_worker_says_where_it_counts_rate_limits(monkeypatch, app, caplog):
    conf = gunicorn_conf(monkeypatch)
    # A fresh logger: Alembic's fileConfig disables loggers that existed when it ran.
    logger = logging.getLogger(f"test.gunicorn.{id(app)}")
    with caplog.at_level(logging.INFO, logger=logger.name):
        conf.post_worker_init(FakeWorker(app, logger))
        app.config["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:6379/0"
        conf.post_worker_init(FakeWorker(app, logger))
    memory, redis = caplog.records
    assert memory.levelno == logging.WARNING
    assert "this process's memory" in memory.getMessage()
    assert "Redis" in redis.getMessage()


@pytest.mark.slow
def test_gunicorn_serves_health_and_submissions(app, database_url):
    # Two workers forked from a master that loaded the app and its shared data: each must open
    # its own database connections, or submissions through the second one would fail.
    with Gunicorn(database_url, workers=2, threads=2, redis=False) as server:
        for _ in range(6):
            fresh = Client(server.base)  # a new connection: the workers take turns
            status, _, body = fresh.post_json(SUBMIT_PATH, api_body())
            assert status == 201, body
            fresh.close()
        client = Client(server.base)
        status, _, body = client.get("/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"
        status, _, body = client.get("/api/v1/openapi.json")
        assert status == 200 and json.loads(body)["openapi"].startswith("3.1")
        client.close()
        log = server.log()
    assert "rate limits kept in this process's memory" in log
    assert "shared data loaded before forking the workers" in log


def test_pages_are_compressed_for_clients_that_accept_it(client):
    plain = client.get("/s/kazakh-diaspora?lang=kk")
    packed = client.get("/s/kazakh-diaspora?lang=kk", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.data) < len(plain.data) / 2
    import gzip

    # The same page (the CSRF token and the served stamp differ per request).
    assert gzip.decompress(packed.data).decode().startswith(plain.text[:4000])


def test_static_files_carry_their_hash_and_are_cached_for_a_year(client):
    import re

    page = client.get("/s/kazakh-diaspora?lang=kk").text
    href = re.search(r'href="(/static/css/atlas\.css\?v=[0-9a-f]{12})"', page).group(1)
    hashed = client.get(href)
    assert hashed.status_code == 200
    assert "immutable" in hashed.headers["Cache-Control"]
    assert "max-age=31536000" in hashed.headers["Cache-Control"]
    stale = client.get("/static/css/atlas.css?v=000000000000")
    assert "immutable" not in stale.headers.get("Cache-Control", "")
    hashed.close()
    stale.close()
