"""Serving benchmarks under gunicorn, each against the bare ``/healthz`` of the same server.

* ``api-submit``: a whole questionnaire POSTed to the JSON API (parse, validate, insert);
  target at least 0.25x the bare endpoint's requests/s, zero errors, rows == acknowledgements.
* ``html-submit``: what a browser does to send the review page: GET it (CSRF token, session
  cookie), POST it (CSRF check, validation, insert, redirect); one operation is both requests.
* ``page-render``: GET a questionnaire page of an open draft; target at least 0.4x.

Each runs with 10k, 100k and 1M responses already stored (bulk-loaded, not sent over HTTP), on
SQLite and on PostgreSQL, so the growth check can compare them: throughput with 1M stored must
stay within 0.9x of that with 10k.
"""

from __future__ import annotations

import http.client
import itertools
import os
import queue
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from bench.data import checked_answers, create_drafts, load_responses
from bench.server import (
    ROOT,
    SLUG,
    SUBMIT_PATH,
    Client,
    Gunicorn,
    HtmlRespondent,
    api_body,
    free_port,
    pg_dsn,
    throwaway_database,
)

TARGETS = {"api-submit": 0.25, "html-submit": 0.25, "page-render": 0.4}
GROWTH_TARGET = 0.9


@dataclass
class Measure:
    """Throughput and latency of one operation over a timed window."""

    name: str
    ops: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def run_load(base: str, name: str, op, clients: int, seconds: float) -> Measure:
    """Run ``op(client)`` from ``clients`` threads for ``seconds``; count and time each call."""
    result = Measure(name)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    start = time.monotonic()

    def worker() -> None:
        client = Client(base)
        latencies: list[float] = []
        ops = errors = 0
        samples: list[str] = []
        try:
            while time.monotonic() < deadline:
                t0 = time.perf_counter()
                try:
                    if op(client) is StopIteration:
                        break
                except Exception as exc:  # noqa: BLE001 - every failure is counted, then shown
                    errors += 1
                    if len(samples) < 3:
                        samples.append(repr(exc)[:200])
                    client.close()
                    continue
                latencies.append(time.perf_counter() - t0)
                ops += 1
        finally:
            client.close()
            with lock:
                result.ops += ops
                result.errors += errors
                result.latencies.extend(latencies)
                result.error_samples.extend(samples)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.monotonic() - start
    return result


def count_responses(url: str) -> int:
    sql = "SELECT count(*) FROM response"
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return conn.execute(sql).fetchone()[0]
    with psycopg.connect(pg_dsn(url)) as conn:
        return conn.execute(sql).fetchone()[0]


class Operations:
    """The operations measured, with what each needs prepared."""

    def __init__(self, url: str, answers: dict[str, Any], page_count: int) -> None:
        self.url = url
        self.answers = answers
        self.page_count = page_count
        self.review_tokens: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.page_tokens: list[str] = create_drafts(url, 200, answers)
        self.page_cycle = itertools.count()
        self.acknowledged = 0
        self.lock = threading.Lock()

    def add_review_drafts(self, n: int) -> None:
        for token in create_drafts(self.url, n, self.answers):
            self.review_tokens.put(token)

    def healthz(self, client: Client) -> None:
        status, _, _ = client.get("/healthz")
        if status != 200:
            raise RuntimeError(f"healthz {status}")

    def api_submit(self, client: Client) -> None:
        status, _, body = client.post_json(SUBMIT_PATH, api_body())
        if status != 201:
            raise RuntimeError(f"submit {status} {body[:200]!r}")
        with self.lock:
            self.acknowledged += 1

    def html_submit(self, client: Client) -> Any:
        try:
            token = self.review_tokens.get_nowait()
        except queue.Empty:
            return StopIteration
        respondent = HtmlRespondent(client, {})
        respondent.token = token
        if not respondent.submit():
            raise RuntimeError("the review POST did not lead to the thank-you page")
        with self.lock:
            self.acknowledged += 1
        return None

    def page_render(self, client: Client) -> None:
        i = next(self.page_cycle)
        token = self.page_tokens[i % len(self.page_tokens)]
        status, _, page = client.get(f"/s/{SLUG}/d/{token}/p/{i % self.page_count}")
        if status != 200 or b"csrf_token" not in page:
            raise RuntimeError(f"page {status}")


def one_at_a_time(base: str, path: str = "/healthz", n: int = 400) -> dict[str, float]:
    """Median milliseconds of ``n`` sequential GETs: a new connection each (as ``ab`` without
    ``-k`` measures, and as most phones arrive), and on one kept-alive connection."""
    host, port = base.removeprefix("http://").split(":")
    fresh, kept = [], []
    for _ in range(n):
        start = time.perf_counter()
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", path)
        conn.getresponse().read()
        conn.close()
        fresh.append(time.perf_counter() - start)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    for _ in range(n):
        start = time.perf_counter()
        conn.request("GET", path)
        conn.getresponse().read()
        kept.append(time.perf_counter() - start)
    conn.close()
    skip = n // 10  # the first requests warm the connection pool and caches
    return {
        "new_connection_ms": statistics.median(fresh[skip:]) * 1000,
        "keep_alive_ms": statistics.median(kept[skip:]) * 1000,
    }


def hello_latency() -> dict[str, float]:
    """Time the standard library's hello server (bench/hello.py), the bare endpoint's baseline."""
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - this interpreter, our own module
        [sys.executable, "-m", "bench.hello", str(port)], cwd=ROOT
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
                break
            except OSError:
                time.sleep(0.05)
        return one_at_a_time(base)
    finally:
        server.terminate()
        server.wait(timeout=10)


def latency_rows(engine: str, stored: int, app: dict[str, float], hello: dict[str, float]):
    """Rows comparing the bare endpoint, one request at a time, with the hello server."""
    return [
        {
            "benchmark": f"healthz one at a time, {what.replace('_ms', '').replace('_', ' ')}",
            "engine": engine,
            "rows": stored,
            "value": round(app[what], 2),
            "unit": "ms",
            "baseline": "bench/hello.py, the standard library's HTTP server",
            "baseline_value": round(hello[what], 2),
            "ratio": round(hello[what] / app[what], 3),
            "target": 0.5,
            "ok": hello[what] / app[what] >= 0.5,
        }
        for what in ("new_connection_ms", "keep_alive_ms")
    ]


def measure_size(
    engine: str, url: str, stored: int, clients: int, seconds: float, rounds: int
) -> list[dict[str, Any]]:
    """Measure every operation against /healthz on one gunicorn; best of ``rounds``."""
    answers = checked_answers(url, api_body()["answers"])
    ops = Operations(url, answers, page_count=9)
    best: dict[str, Measure] = {}
    peak_kib = 0
    with Gunicorn(url, workers=int(os.environ.get("BENCH_WORKERS", "0")) or _default_workers(),
                  threads=int(os.environ.get("BENCH_THREADS", "4"))) as server:  # fmt: skip
        redis = "ATLAS_REDIS_URL" in server.env()
        # Warm every worker's caches (questionnaire parse, templates) before timing.
        ops.add_review_drafts(400)
        for op in (ops.healthz, ops.api_submit, ops.html_submit, ops.page_render):
            run_load(server.base, "warm-up", op, clients, 1.0)
        for _ in range(rounds):
            ops.add_review_drafts(int(seconds * 800))
            for name, op in (
                ("healthz", ops.healthz),
                ("api-submit", ops.api_submit),
                ("html-submit", ops.html_submit),
                ("page-render", ops.page_render),
            ):
                rows_before = count_responses(url)
                acknowledged_before = ops.acknowledged
                m = run_load(server.base, name, op, clients, seconds)
                rows_added = count_responses(url) - rows_before
                m.rows_ok = rows_added == ops.acknowledged - acknowledged_before  # type: ignore[attr-defined]
                if name not in best or m.rate > best[name].rate:
                    best[name] = m
        latency = one_at_a_time(server.base)
        peak_kib = server.worker_peak_rss_kib()
        workers, threads = server.workers, server.threads
    bare = best["healthz"]
    rows = []
    for name in ("healthz", "api-submit", "html-submit", "page-render"):
        m = best[name]
        ratio = m.rate / bare.rate if name != "healthz" and bare.rate else None
        target = TARGETS.get(name)
        rows_ok = getattr(m, "rows_ok", True)
        rows.append(
            {
                "benchmark": name,
                "engine": engine,
                "rows": stored,
                "value": round(m.rate, 1),
                "unit": "ops/s",
                "baseline": "GET /healthz" if name != "healthz" else None,
                "baseline_value": round(bare.rate, 1) if name != "healthz" else None,
                "ratio": round(ratio, 3) if ratio is not None else None,
                "target": target,
                "ok": (ratio >= target and m.errors == 0 and rows_ok) if target else m.errors == 0,
                "errors": m.errors,
                "error_samples": m.error_samples,
                "rows_equal_acknowledgements": rows_ok,
                "operations": m.ops,
                "seconds": round(m.seconds, 2),
                "p50_ms": round(m.percentile(0.50) * 1000, 2),
                "p95_ms": round(m.percentile(0.95) * 1000, 2),
                "peak_memory_mib": round(peak_kib / 1024, 1),
                "clients": clients,
                "workers": workers,
                "threads": threads,
                "rate_limit_storage": "redis" if redis else "memory",
                "load_average_1m": round(os.getloadavg()[0], 2),
            }
        )
    return rows + latency_rows(engine, stored, latency, hello_latency())


def _default_workers() -> int:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gunicorn_conf", Path("gunicorn.conf.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.default_workers()


def growth(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Compare each operation's throughput at the largest size with that at the smallest."""
    checks = []
    for engine in sorted({r["engine"] for r in rows}):
        for name in TARGETS:
            series = sorted(
                (r for r in rows if r["engine"] == engine and r["benchmark"] == name),
                key=lambda r: r["rows"],
            )
            if len(series) < 2:
                continue
            small, large = series[0], series[-1]
            ratio = large["value"] / small["value"] if small["value"] else 0.0
            checks.append(
                {
                    "benchmark": f"{name} growth",
                    "engine": engine,
                    "rows": large["rows"],
                    "value": large["value"],
                    "unit": "ops/s",
                    "baseline": f"same at {small['rows']:,} rows",
                    "baseline_value": small["value"],
                    "ratio": round(ratio, 3),
                    "target": GROWTH_TARGET,
                    "ok": ratio >= GROWTH_TARGET,
                    "p95_ms": large["p95_ms"],
                    "peak_memory_mib": large["peak_memory_mib"],
                }
            )
    return checks


def run(config: dict[str, Any]) -> dict[str, Any]:
    """Run the serving benchmarks for every engine and size in ``config``."""
    rows: list[dict[str, Any]] = []
    load_seconds: dict[str, dict[int, float]] = {}
    for engine in config["engines"]:
        with tempfile.TemporaryDirectory(prefix="atlas-bench-") as workdir:
            with throwaway_database(engine, Path(workdir)) as url:
                stored = 0
                for size in config["sizes"]:
                    t0 = time.monotonic()
                    load_responses(url, size - stored, seed=size)
                    load_seconds.setdefault(engine, {})[size] = round(time.monotonic() - t0, 1)
                    stored = size
                    print(f"[serving] {engine}: {count_responses(url):,} responses stored")
                    found = measure_size(
                        engine,
                        url,
                        count_responses(url),
                        config["clients"],
                        config["seconds"],
                        config["rounds"],
                    )
                    for r in found:
                        print(
                            f"  {r['benchmark']:<12} {r['value']:>8.1f} {r['unit']} "
                            f"ratio {r['ratio'] or '-':<6} p95 {r.get('p95_ms', '-')} ms "
                            f"errors {r.get('errors', 0)} "
                            f"rows==acks {r.get('rows_equal_acknowledgements', True)}"
                        )
                    rows.extend(found)
                    stored = count_responses(url)
    rows.extend(growth(rows))
    return {"results": rows, "bulk_load_seconds": load_seconds}
