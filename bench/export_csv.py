"""Benchmark the streaming CSV export against ``pandas.read_sql`` + ``to_csv`` on the same data.

    .venv/bin/python -m bench.export_csv --rows 1000000

Fills a temporary SQLite database with N synthetic responses (:func:`geo.synthetic.generate`,
shaped like answers to the bundled questionnaire), then runs, each in its own subprocess:

* ``atlas``: :func:`app.data.exports.write` (what ``flask atlas export --format csv`` does):
  rows read in batches, every answer flattened into its own column, text cells neutralised;
* ``baseline``: ``pandas.read_sql`` of the same rows (the answers stay one JSON text column),
  then ``DataFrame.to_csv``;
* ``flattened`` (with ``--flattened``), for context: the same with the answers parsed and
  flattened into columns by ``pandas.json_normalize``, which is what the atlas export holds.

For each it prints wall time, peak resident memory, and the peak minus the memory held once the
imports are done (what the export itself needed); then the time ratio. Target: atlas within
1.5x of the baseline's time, with memory that does not grow with N (run with two sizes to see).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLUG = "kazakh-diaspora"
QUERY = (
    "SELECT id, submitted_at, version_id, language, channel, link_id, answers "
    "FROM response ORDER BY id"
)
BAND_AGE = {"16-24": 20, "25-34": 30, "35-44": 40, "45-54": 50, "55-64": 60, "65+": 70}
CHUNK = 50_000


def _rss_now() -> int:
    """Return the resident memory of this process now, in bytes (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss() -> int:
    """Return the peak resident memory of this process, in bytes (Linux).

    VmHWM, not ``getrusage``: ``ru_maxrss`` survives ``exec`` on Linux, so a child started by
    this script would report the parent's peak.
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def prepare_database(path: Path, n: int, seed: int) -> str:
    """Create, migrate and fill a SQLite database; return its URL."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.questionnaires import load_file as load_questionnaire_file

    url = f"sqlite:///{path}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        version, _created = load_questionnaire_file(
            ROOT / "forms" / "questionnaires" / f"{SLUG}.yaml"
        )
        version_id = version.id
        db.session.remove()
        db.engine.dispose()
    fill(path, n, seed, version_id)
    return url


def fill(path: Path, n: int, seed: int, version_id: int) -> None:
    """Insert ``n`` synthetic responses with ``executemany``."""
    from geo.synthetic import generate

    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    columns = (
        "submission_id, version_id, answers, answers_hash, receipt_hash, language, "
        "consent_version, consent_language, consented_at, submitted_at, channel, country, "
        "region, city, lat, lon, sex, age_band, citizenship"
    )
    sql = f"INSERT INTO response ({columns}) VALUES ({', '.join('?' * 19)})"  # noqa: S608
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    try:
        for start in range(0, n, CHUNK):
            frame = generate(min(CHUNK, n - start), seed=seed + start)
            records = frame.astype(object).where(frame.notna(), None).to_dict("records")
            rows = []
            for r in records:
                geo = [r["lat"], r["lon"]] if r["lat"] is not None else None
                answers = {
                    "residence": {
                        "country": r["country"],
                        "region": r["region"],
                        "city": r["city"],
                        "city_id": None,
                        "geo": geo,
                    },
                    "citizenship": r["citizenship"],
                    "sex": r["sex"],
                    "age": BAND_AGE.get(r["age_band"]),
                    "education": r["education"],
                    "occupation": r["occupation"],
                    "occupation_detail": r["occupation"],
                    "skills": list(r["skills"]),
                    "languages": list(r["languages"]),
                    "needs": list(r["needs"]),
                    "contribution": list(r["contribution"]),
                    "return_intention": r["return_intention"],
                    "proposals": r["link"],
                    "specialist_consent": "no",
                }
                rows.append(
                    (
                        str(uuid.uuid4()), version_id, json.dumps(answers, ensure_ascii=False),
                        "bench", uuid.uuid4().hex, r["language"], "1", r["language"], now, now,
                        "api", r["country"], (r["region"] or "")[:8] or None, r["city"],
                        r["lat"], r["lon"], r["sex"], r["age_band"], r["citizenship"],
                    )
                )  # fmt: skip
            with conn:
                conn.executemany(sql, rows)
        # Fold the write-ahead log into the database: a large WAL index is mapped into every
        # reader's memory and would count against both exports.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def run_atlas(url: str, out: Path) -> None:
    """Export with the app's streaming CSV writer."""
    from app import create_app
    from app.data import exports
    from app.questionnaires import find as find_survey

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        request = exports.prepare(find_survey(SLUG), "csv", None, False, exports.ExportFilters())
        measure(lambda: exports.write(request, out))


def run_baseline(url: str, out: Path) -> None:
    """Export with pandas: read everything, then write everything."""
    import pandas as pd

    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    measure(lambda: pd.read_sql(QUERY, conn).to_csv(out, index=False))


def run_flattened(url: str, out: Path) -> None:
    """For context: pandas producing the same kind of file (answers flattened into columns)."""
    import pandas as pd

    conn = sqlite3.connect(url.removeprefix("sqlite:///"))

    def work() -> None:
        frame = pd.read_sql(QUERY, conn)
        answers = pd.json_normalize([json.loads(a) for a in frame.pop("answers")])
        pd.concat([frame, answers], axis=1).to_csv(out, index=False)

    measure(work)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(work) -> None:  # noqa: ANN001 - a zero-argument callable
    """Run ``work`` and print JSON with wall and CPU seconds and memory figures."""
    before = _rss_now()
    cpu = _cpu()
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    cpu = _cpu() - cpu
    peak = _peak_rss()
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_rss": peak, "work_rss": peak - before}))


def child(kind: str, url: str, out: Path) -> dict:
    """Run one export in a fresh interpreter; return its figures."""
    command = [sys.executable, "-m", "bench.export_csv", "--child", kind, "--url", url]
    command += ["--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)  # noqa: S603
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["bytes"] = out.stat().st_size
    return figures


#: The runs, each in its own interpreter, in this order.
RUNS = {"baseline": run_baseline, "flattened": run_flattened, "atlas": run_atlas}


def run(config: dict) -> dict:
    """Run for ``make bench``: BENCH_EXPORT_ROWS responses (default 1,000,000), one row of figures.

    The ratio is baseline time / export time, so the target "within 1.5x" reads as >= 0.67.
    """
    rows = int(os.environ.get("BENCH_EXPORT_ROWS", "1000000"))
    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as tmp:
        work = Path(tmp)
        url = prepare_database(work / "atlas.db", rows, 1)
        atlas, baseline = (child(kind, url, work / f"{kind}.csv") for kind in ("atlas", "baseline"))
    ratio = round(baseline["seconds"] / atlas["seconds"], 3)
    return {
        "results": [
            {
                "benchmark": "CSV export (streamed, flattened, neutralised)",
                "engine": "sqlite",
                "rows": rows,
                "value": round(atlas["seconds"], 1),
                "unit": "s",
                "baseline": "pandas read_sql + to_csv",
                "baseline_value": round(baseline["seconds"], 1),
                "ratio": ratio,
                "target": round(1 / 1.5, 2),
                "ok": ratio >= 1 / 1.5,
                "peak_memory_mib": round(atlas["work_rss"] / 1024 / 1024, 1),
            }
        ]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--flattened",
        action="store_true",
        help="Also run pandas with json_normalize (needs several GB for a million rows).",
    )
    parser.add_argument("--child", choices=list(RUNS), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        RUNS[args.child](args.url, args.out)
        return
    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        url = prepare_database(work / "atlas.db", args.rows, args.seed)
        print(f"{args.rows} responses stored in {time.perf_counter() - started:.1f} s")
        kinds = [k for k in RUNS if args.flattened or k != "flattened"]
        results = {kind: child(kind, url, work / f"{kind}.csv") for kind in kinds}
    mib = 1024 * 1024
    for kind, r in results.items():
        print(
            f"{kind:9} {r['seconds']:7.2f} s wall {r['cpu']:7.2f} s CPU   "
            f"peak RSS {r['peak_rss'] / mib:6.1f} MiB   "
            f"used by the export {r['work_rss'] / mib:6.1f} MiB   file {r['bytes'] / mib:6.1f} MiB"
        )
    atlas, baseline = results["atlas"], results["baseline"]
    print(
        f"time ratio atlas/baseline: {atlas['seconds'] / baseline['seconds']:.2f} wall, "
        f"{atlas['cpu'] / baseline['cpu']:.2f} CPU (target <= 1.5)"
    )
    memory = atlas["work_rss"] / max(baseline["work_rss"], 1)
    print(f"memory used by the export, atlas/baseline: {memory:.2f}")


if __name__ == "__main__":
    main()
