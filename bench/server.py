"""Shared by the benchmarks and the load test: throwaway databases, gunicorn, an HTTP client.

Everything listens on and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
SLUG = "kazakh-diaspora"
SUBMIT_PATH = f"/api/v1/surveys/{SLUG}/submissions"
#: The PostgreSQL server throwaway databases are made on (``BENCH_PG_URL`` overrides).
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgresql://127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


# -- databases --------------------------------------------------------------------------------


@contextlib.contextmanager
def throwaway_database(engine: str, workdir: Path) -> Iterator[str]:
    """Yield the URL of a new, migrated database holding the bundled questionnaire."""
    if engine == "sqlite":
        url = f"sqlite:///{workdir / 'atlas.db'}"
        prepare_database(url)
        yield url
        return
    name = f"atlas_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_SERVER.rsplit("/", 1)[0] + "/" + name
    try:
        prepare_database(url)
        yield url
    finally:
        with psycopg.connect(PG_SERVER, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare_database(url: str) -> None:
    """Migrate the database and load the bundled questionnaire (what `make database` does)."""
    env = {**os.environ, "DATABASE_URL": url, "ATLAS_SECRET_KEY": "bench"}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    for args in (["db", "upgrade"], ["atlas", "load-questionnaire"]):
        subprocess.run(  # noqa: S603 - fixed argv
            flask + args, cwd=ROOT, env=env, check=True, capture_output=True
        )


def pg_dsn(url: str) -> str:
    """Return a SQLAlchemy-style PostgreSQL URL as libpq reads it."""
    return url.replace("postgresql+psycopg://", "postgresql://")


# -- gunicorn ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def redis_available(url: str = REDIS_URL) -> bool:
    try:
        from redis import Redis

        return bool(Redis.from_url(url, socket_timeout=1).ping())
    except Exception:  # noqa: BLE001 - no Redis means in-memory limits, said in the output
        return False


@dataclass
class Gunicorn:
    """A gunicorn master serving the app on 127.0.0.1 with ``gunicorn.conf.py``."""

    database_url: str
    workers: int = 3
    threads: int = 4
    redis: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "HOST": HOST,
            "PORT": str(self.port),
            "WEB_CONCURRENCY": str(self.workers),
            "GUNICORN_THREADS": str(self.threads),
            "ATLAS_SECRET_KEY": "bench-secret",
            "ATLAS_SESSION_COOKIE_SECURE": "false",
            "ATLAS_BASE_URL": self.base,
            # One client address sends everything: the limit is kept (counted in Redis when
            # there is one) but set far above what the run sends.
            "ATLAS_RATELIMIT_SUBMISSIONS": "100000000 per minute",
            "ATLAS_RATELIMIT_DRAFTS": "100000000 per minute",
            "ATLAS_RATELIMIT_DRAFT_PAGES": "100000000 per minute",
            "ATLAS_RATELIMIT_LINK_SUBMISSIONS": "100000000 per minute",
            # The consent form refuses answers sent sooner than a person could read it; the
            # load clients are that fast by design.
            "ATLAS_MIN_FILL_SECONDS": "0",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("REDIS_URL", None)
        env.pop("ATLAS_REDIS_URL", None)
        if self.redis and redis_available():
            env["ATLAS_REDIS_URL"] = REDIS_URL
        env.update(self.extra_env)
        return env

    def start(self) -> Gunicorn:
        handle, name = tempfile.mkstemp(prefix="gunicorn-", suffix=".log")
        os.close(handle)
        self.log_path = Path(name)
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(  # noqa: S603 - fixed argv
                [gunicorn, "-c", "gunicorn.conf.py", "wsgi:app"],
                cwd=ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + self.log())
            try:
                status, _, _ = request("GET", self.base, "/healthz", timeout=2)
                if status == 200 and len(self.worker_pids()) >= self.workers:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not answer /healthz in 60 s:\n" + self.log())

    def worker_pids(self) -> list[int]:
        """Return the master's worker processes (from /proc, no psutil needed)."""
        if self.process is None:
            return []
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return [int(c) for c in children]

    def worker_peak_rss_kib(self) -> int:
        """Return the largest peak resident size (VmHWM) among the workers, in KiB."""
        peak = 0
        for pid in self.worker_pids():
            with contextlib.suppress(OSError):
                status = Path(f"/proc/{pid}/status").read_text()
                match = re.search(r"VmHWM:\s+(\d+) kB", status)
                if match:
                    peak = max(peak, int(match.group(1)))
        return peak

    def worker_memory_mib(self) -> dict[str, int]:
        """Return the largest worker's peak resident size (VmHWM, shared pages counted in full),
        and the largest proportional (Pss: shared pages divided among the processes sharing
        them) and private (Private_Clean + Private_Dirty) sizes now, in MiB."""
        peak = pss = private = 0
        for pid in self.worker_pids():
            with contextlib.suppress(OSError):
                status = Path(f"/proc/{pid}/status").read_text()
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
                fields = dict(re.findall(r"^(\w+):\s+(\d+) kB", status + rollup, re.MULTILINE))
                peak = max(peak, int(fields.get("VmHWM", 0)))
                pss = max(pss, int(fields.get("Pss", 0)))
                own = int(fields.get("Private_Clean", 0)) + int(fields.get("Private_Dirty", 0))
                private = max(private, own)
        return {"peak": peak // 1024, "proportional": pss // 1024, "private": private // 1024}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)


# -- HTTP -------------------------------------------------------------------------------------


class Client:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1 with a cookie jar (a browser tab)."""

    def __init__(self, base: str, timeout: float = 30) -> None:
        host, port = base.removeprefix("http://").split(":")
        assert host == HOST, "load goes to 127.0.0.1 only"
        self.port = int(port)
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Accept-Language": "kk"}
        if content_type:
            headers["Content-Type"] = content_type
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except Exception:
            self.close()
            raise
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        return response.status, dict(response.headers.items()), data

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        return self.request("GET", path)

    def post_json(self, path: str, payload: Any) -> tuple[int, dict[str, str], bytes]:
        return self.request("POST", path, json.dumps(payload).encode(), "application/json")

    def post_form(self, path: str, fields: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        from urllib.parse import urlencode

        return self.request(
            "POST",
            path,
            urlencode(fields, doseq=True).encode(),
            "application/x-www-form-urlencoded",
        )


def request(method: str, base: str, path: str, timeout: float = 10) -> tuple[int, dict, bytes]:
    """Send one request on a fresh connection."""
    client = Client(base, timeout)
    try:
        return client.request(method, path)
    finally:
        client.close()


# -- what respondents send ---------------------------------------------------------------------

#: A complete, valid answer set for the JSON API (every page of the bundled questionnaire).
API_ANSWERS: dict[str, Any] = {
    "residence": {"country": "UZ", "region": "UZ-TK", "city": "Tashkent", "geo": [41.31, 69.28]},
    "arrival_reason": "born_there",
    "citizenship": "UZ",
    "sex": "male",
    "age": 52,
    "education": "master",
    "occupation": "health",
    "occupation_detail": "Doctor",
    "skills": ["healthcare", "teaching"],
    "experience": "Ten years in a regional hospital",
    "years_experience": 10,
    "languages": ["kk", "ru"],
    "scripts": ["cyrillic"],
    "ties": ["family", "visits"],
    "visit_frequency": "yearly",
    "return_intention": "maybe",
    "needs": ["legal_kandas"],
    "proposals": "Open Kazakh classes",
    "contribution": ["mentoring"],
    "association_member": "yes",
    "association_name": "Qazaq Birlestigi",
    "specialist_consent": "no",
    "contact_ok": "no",
}


def api_body(submission_id: str | None = None, age: int = 52) -> dict[str, Any]:
    """Return a whole-questionnaire JSON submission."""
    return {
        "submission_id": submission_id or str(uuid.uuid4()),
        "language": "ru",
        "consent": {"given": True, "version": "1"},
        "answers": {**API_ANSWERS, "age": age},
    }


CSRF_RE = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')
NAME_RE = re.compile(rb'name="([^"]+)"')


def csrf_token(page: bytes) -> str:
    match = CSRF_RE.search(page)
    if not match:
        raise ValueError("no CSRF token on the page")
    return match.group(1).decode()


INPUT_RE = re.compile(rb"<input\b[^>]*>")
ATTR_RE = re.compile(rb'([\w-]+)="([^"]*)"')


def hidden_inputs(page: bytes) -> dict[str, str]:
    """Return name -> value of every hidden input on a page."""
    import html

    found = {}
    for tag in INPUT_RE.findall(page):
        attrs = {k.decode(): html.unescape(v.decode()) for k, v in ATTR_RE.findall(tag)}
        if attrs.get("type") == "hidden" and attrs.get("name"):
            found[attrs["name"]] = attrs.get("value", "")
    return found


def input_names(page: bytes) -> set[str]:
    import html

    return {html.unescape(n.decode()) for n in NAME_RE.findall(page)}


def location_path(headers: dict[str, str]) -> str:
    """Return the path a redirect points at (Location may be absolute or not)."""
    location = headers.get("Location") or headers.get("location") or ""
    if location.startswith("http"):
        location = "/" + location.split("/", 3)[3]
    return location


class HtmlRespondent:
    """Walks the survey like a browser without JavaScript: GET a page, take the CSRF token and
    the session cookie, POST it back. Every step can be repeated after an error."""

    def __init__(self, client: Client, answers: dict[str, Any], lang: str = "kk") -> None:
        self.client = client
        self.answers = answers
        self.lang = lang
        self.url: str | None = None
        self.token: str | None = None
        self.requests = 0

    def _ok(self, status: int, expected: tuple[int, ...], what: str) -> None:
        self.requests += 1
        if status not in expected:
            raise HttpError(status, what)

    def start(self) -> None:
        """Agree on the consent page and open a draft."""
        path = f"/s/{SLUG}?lang={self.lang}"
        status, _, page = self.client.get(path)
        self._ok(status, (200,), "consent page")
        # Send back every hidden input of the form (CSRF token, signed stamps), as a browser does.
        fields = hidden_inputs(page)
        fields.update(agree="y", lang=self.lang)
        status, headers, _ = self.client.post_form(path, fields)
        self._ok(status, (303,), "consent")
        self.url = location_path(headers)
        self.token = self.url.split("/d/")[1].split("/")[0]

    def next_page(self) -> None:
        """Answer the current page and move on (idempotent: the draft keeps the answers)."""
        status, _, page = self.client.get(self.url)
        self._ok(status, (200,), "page")
        names = input_names(page)
        data = {k: v for k, v in self.answers.items() if k in names}
        data.update(csrf_token=csrf_token(page), _action="next", _js="1")
        status, headers, _ = self.client.post_form(self.url, data)
        self._ok(status, (303,), "page post")
        self.url = location_path(headers)

    def submit(self) -> bool:
        """GET the review page, POST it; return True once the thank-you page is reached."""
        review = f"/s/{SLUG}/d/{self.token}/review"
        status, headers, page = self.client.get(review)
        if status in (302, 303) and "/done" in location_path(headers):
            self.requests += 1
            return True  # stored by an earlier try whose answer was lost
        self._ok(status, (200,), "review page")
        status, headers, _ = self.client.post_form(review, {"csrf_token": csrf_token(page)})
        self._ok(status, (303,), "review post")
        return "/done" in location_path(headers)


class HttpError(Exception):
    """An unexpected status."""

    def __init__(self, status: int, what: str) -> None:
        super().__init__(f"HTTP {status} on {what}")
        self.status = status
