"""The analyst workspace with many responses stored: pages, map builds and worker memory.

For each engine and stored size (``BENCH_SIZES``, e.g. ``10000,1000000``), responses (spread
over half a year) and 1.25 times as many drafts are bulk-loaded, the kept counts are rebuilt
(``atlas recount --fix``, timed), and then:

- ``build-maps``: ``flask atlas build-maps`` in every language, wall time and the process's
  peak resident size, against the same aggregates as plain SQL ``GROUP BY`` queries on the
  response table in the same run (country; country and citizenship; country, region and city;
  country and each item of needs and of contributions) (targets: at most 3x, under 10 s, under
  500 MB);
- pages under gunicorn (``gunicorn.conf.py``'s defaults): the dashboard and the China profile,
  the first request after the server starts (``cold``), the slowest first request over as many
  connections as there are workers (``first per worker``), and the median warm time (target:
  under 1 s, and at most 1.5x the time at the smallest size);
- the largest worker's peak resident size (VmHWM) after a tour of every analyst page
  (target: under 300 MB), with the shared data preloaded by gunicorn's master (the default) and
  without; VmHWM counts shared pages in full in every worker, so the proportional (Pss) and
  private sizes are recorded beside it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from bench.data import load_drafts, load_responses
from bench.server import ROOT, Client, Gunicorn, csrf_token, pg_dsn, throwaway_database

EMAIL = "bench-analyst@example.org"
PASSWORD = "a bench password that is long"  # noqa: S105 - a throwaway database's account
#: Pages visited in the tour (the memory figure).
TOUR = (
    "/analyst/?lang=en",
    "/analyst/?lang=ru&country=RU",
    "/analyst/countries?lang=en",
    "/analyst/countries/CN?lang=en",
    "/analyst/countries/RU?lang=kk",
    "/analyst/countries/KZ?lang=zh-Hans",
    "/analyst/countries/UZ/report?lang=en",
    "/analyst/data/exports?lang=en",
    "/analyst/data/registry?lang=en&search=1",
    "/links/compare?lang=en",
)


#: Runs a command and prints its peak resident size (KiB) last on stderr. A child of this
#: small process, not of the benchmark: on Linux a child's peak counts the memory of the process
#: it was forked from, and the benchmark holds the rows it just generated.
_PEAK_OF = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[1:])\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def _flask(url: str, *args: str, stdin: str | None = None) -> tuple[float, int, str]:
    """Run ``flask --app wsgi ...`` on a database; return (seconds, its peak RSS in MiB, output)."""
    env = {**os.environ, "DATABASE_URL": url, "ATLAS_SECRET_KEY": "bench-secret"}
    start = time.monotonic()
    done = subprocess.run(  # noqa: S603 - this interpreter, our own app
        [sys.executable, "-c", _PEAK_OF, sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.monotonic() - start
    if done.returncode:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    return seconds, round(peak_kib / 1024), done.stdout


#: The aggregates the maps need, as one would write them in SQL directly on the responses.
SQL_SQLITE = (
    "SELECT country, count(*), sum(record_key), sum(CASE WHEN independent THEN 1 ELSE 0 END) "
    "FROM response GROUP BY country",
    "SELECT country, citizenship, count(*) FROM response GROUP BY country, citizenship",
    "SELECT country, region, city, count(*) FROM response GROUP BY country, region, city",
    "SELECT country, j.value, count(*) FROM response, json_each(response.answers, '$.needs') j "
    "GROUP BY country, j.value",
    "SELECT country, j.value, count(*) FROM response, "
    "json_each(response.answers, '$.contribution') j GROUP BY country, j.value",
)
SQL_POSTGRESQL = (
    *SQL_SQLITE[:3],
    "SELECT country, j, count(*) FROM response, "
    "jsonb_array_elements_text(coalesce(answers->'needs', '[]')) j GROUP BY country, j",
    "SELECT country, j, count(*) FROM response, "
    "jsonb_array_elements_text(coalesce(answers->'contribution', '[]')) j GROUP BY country, j",
)


def plain_sql_seconds(url: str) -> float:
    """Time the map aggregates as plain SQL on the response table (the baseline)."""
    start = time.monotonic()
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            for sql in SQL_SQLITE:
                conn.execute(sql).fetchall()
    else:
        with psycopg.connect(pg_dsn(url)) as conn:
            for sql in SQL_POSTGRESQL:
                conn.execute(sql).fetchall()
    return time.monotonic() - start


def _signed_in(base: str) -> Client:
    client = Client(base, timeout=120)
    _, _, page = client.get("/account/login")
    status, _, _ = client.post_form(
        "/account/login", {"csrf_token": csrf_token(page), "email": EMAIL, "password": PASSWORD}
    )
    if status != 302:
        raise RuntimeError(f"sign-in answered {status}")
    return client


def _timed_get(client: Client, path: str) -> float:
    start = time.monotonic()
    status, _, _ = client.get(path)
    if status != 200:
        raise RuntimeError(f"{path} answered {status}")
    return time.monotonic() - start


def measure_pages(url: str) -> dict[str, Any]:
    """Serve the workspace under gunicorn and time its pages; return times and peak memory."""
    with Gunicorn(url, workers=_workers(), threads=4) as server:
        workers = len(server.worker_pids())
        out: dict[str, Any] = {"workers": workers}
        for name, path in (("dashboard", TOUR[0]), ("profile", TOUR[3])):
            firsts = []
            for _ in range(workers * 2):  # new connections land on every worker in turn
                client = _signed_in(server.base)
                firsts.append(_timed_get(client, path))
                client.close()
            client = _signed_in(server.base)
            warm = [_timed_get(client, path) for _ in range(7)]
            client.close()
            out[name] = {
                "cold": firsts[0],
                "first_per_worker": max(firsts),
                "warm": statistics.median(warm),
            }
        tour(server)
        out["memory"] = server.worker_memory_mib()
    # The same tour with every worker loading the shared data itself (no preload), to compare.
    with Gunicorn(
        url, workers=_workers(), threads=4, extra_env={"GUNICORN_PRELOAD": "false"}
    ) as own:
        tour(own)
        out["memory_without_preload"] = own.worker_memory_mib()
    return out


def tour(server: Gunicorn) -> None:
    """Open every analyst page on new connections until each worker has served them."""
    for _ in range(len(server.worker_pids()) * 2):
        client = _signed_in(server.base)
        for path in TOUR:
            _timed_get(client, path)
        client.close()


def _workers() -> int:
    import multiprocessing

    return min(2 * multiprocessing.cpu_count() + 1, 12)


def run(config: dict[str, Any]) -> dict[str, Any]:
    """Measure every engine and size in ``config``."""
    results: list[dict[str, Any]] = []
    for engine in config["engines"]:
        with tempfile.TemporaryDirectory(prefix="atlas-bench-") as workdir:
            with throwaway_database(engine, Path(workdir)) as url:
                _flask(url, "atlas", "create-user", EMAIL, "--role", "analyst", stdin=PASSWORD)
                stored = 0
                smallest: dict[str, float] = {}
                for size in config["sizes"]:
                    load_responses(url, size - stored, seed=size)
                    load_drafts(url, int((size - stored) * 1.25), seed=size)
                    stored = size
                    recount, _, _ = _flask(url, "atlas", "recount", "--quick", "--fix")
                    baseline = plain_sql_seconds(url)
                    build, peak, _ = _flask(url, "atlas", "build-maps", "--out", f"{workdir}/maps")
                    print(
                        f"[workspace] {engine} {size:,}: recount {recount:.0f} s, build "
                        f"{build:.1f} s ({peak} MiB), plain SQL {baseline:.2f} s"
                    )
                    results.append(
                        _row(
                            "build-maps, every language",
                            engine,
                            size,
                            build,
                            "s",
                            baseline="the same aggregates as plain SQL GROUP BYs",
                            baseline_value=round(baseline, 2),
                            ratio=round(baseline / build, 3),
                            target=0.33,
                            peak_memory_mib=peak,
                            ok=build <= 3 * baseline and build < 10 and peak < 500,
                            recount_seconds=round(recount),
                        )  # fmt: skip
                    )
                    pages = measure_pages(url)
                    print(f"[workspace] {engine} {size:,}: {pages}")
                    for name in ("dashboard", "profile"):
                        timing = pages[name]
                        worst = max(timing.values())
                        smallest.setdefault(name, worst)
                        results.append(
                            _row(
                                f"{name}, slowest of cold/first per worker/warm",
                                engine,
                                size,
                                worst,
                                "s",
                                baseline=f"the same at {config['sizes'][0]:,}",
                                baseline_value=round(smallest[name], 3),
                                ratio=round(smallest[name] / worst, 3),
                                target=0.67,
                                ok=worst < 1 and worst <= 1.5 * smallest[name],
                                **{k: round(v, 3) for k, v in timing.items()},
                            )  # fmt: skip
                        )
                    for key, how in (
                        ("memory", "preloaded"),
                        ("memory_without_preload", "each worker loading its own"),
                    ):
                        memory = pages[key]
                        results.append(
                            _row(
                                f"worker peak memory (VmHWM) after every analyst page, {how}",
                                engine,
                                size,
                                memory["peak"],
                                "MiB",
                                peak_memory_mib=memory["peak"],
                                proportional_mib=memory["proportional"],
                                private_mib=memory["private"],
                                workers=pages["workers"],
                                ok=memory["peak"] < 300,
                            )  # fmt: skip
                        )
    return {"results": results}


def _row(name: str, engine: str, rows: int, value: float, unit: str, **extra: Any) -> dict:
    return {
        "benchmark": name,
        "engine": engine,
        "rows": rows,
        "value": round(value, 3),
        "unit": unit,
        **extra,
    }
