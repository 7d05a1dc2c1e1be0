"""``make loadtest``: tens of thousands of submissions under gunicorn, with faults, then checks.

What it does, bounded to a few minutes and to 127.0.0.1:

1. Serve a fresh database (SQLite by default; ``LOADTEST_ENGINES=sqlite,postgresql`` for both)
   with gunicorn, 3 workers.
2. Dozens of client threads send whole questionnaires through the JSON API (each with a
   submission id made by the client) and walk the HTML form path (consent, every page, review)
   like a browser without JavaScript. A client that gets an error, a 5xx or a timeout sends the
   same thing again: the same submission id, or the same draft.
3. During the run: one gunicorn worker is killed with SIGKILL (the master starts another); the
   database connection is interrupted once; a backup is taken with ``atlas backup``.
   PostgreSQL: every connection of the app's database is ended with ``pg_terminate_backend``.
   SQLite has no server connection to cut, and deleting or renaming the file under a running
   process is not a fault SQLite can meet in production, so the SQLite fault is the one it can:
   another process takes the write lock (``BEGIN EXCLUSIVE``) and holds it for a few seconds,
   as a stuck admin job would; writers must wait (busy timeout), not fail.
4. At the end: every acknowledged submission is stored exactly once; no row was stored that no
   client sent; no duplicates; no partial rows (each row's answers match its hash and its
   extracted columns); the database passes its integrity checks; the backup restores, with
   ``atlas restore``, into a fresh database holding the counts the backup reported, including
   everything acknowledged before it started.

Environment: ``LOADTEST_SECONDS`` (cap, default 150), ``LOADTEST_SUBMISSIONS`` (stop once this
many are acknowledged, default 20000), ``LOADTEST_API_CLIENTS`` (32),
``LOADTEST_HTML_CLIENTS`` (8), ``LOADTEST_DATABASE_URL`` (a PostgreSQL server to make the
throwaway database on, instead of the local one).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from bench import server
from bench.server import (
    ROOT,
    SUBMIT_PATH,
    Client,
    Gunicorn,
    HtmlRespondent,
    HttpError,
    api_body,
    pg_dsn,
    throwaway_database,
)

SECONDS = float(os.environ.get("LOADTEST_SECONDS", "150"))
TARGET = int(os.environ.get("LOADTEST_SUBMISSIONS", "20000"))
API_CLIENTS = int(os.environ.get("LOADTEST_API_CLIENTS", "32"))
HTML_CLIENTS = int(os.environ.get("LOADTEST_HTML_CLIENTS", "8"))
RETRIES = 60
#: Answers a respondent types on the HTML pages (the same set the browser tests use).
FORM_ANSWERS: dict[str, Any] = {
    "residence-country": "KZ",
    "residence-regions_for": "KZ",
    "residence-region": "KZ-75",
    "residence-city": "Almaty",
    "residence-lat": "43.24",
    "residence-lon": "76.89",
    "arrival_reason": "born_there",
    "citizenship": "KZ",
    "second_citizenship": "",
    "sex": "female",
    "age": "34",
    "education": "master",
    "occupation": "health",
    "occupation_detail": "Doctor",
    "skills": ["healthcare", "teaching"],
    "experience": "Ten years in a regional hospital",
    "years_experience": "10",
    "languages": ["kk", "ru"],
    "scripts": ["cyrillic"],
    "ties": ["family", "visits"],
    "visit_frequency": "yearly",
    "return_intention": "maybe",
    "needs": ["kazakh_language"],
    "proposals": "Open Kazakh classes",
    "contribution": ["mentoring"],
    "association_member": "no",
    "specialist_consent": "no",
    "contact_ok": "no",
}


@dataclass
class Tally:
    """What the clients saw, shared between their threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sent_ids: set[str] = field(default_factory=set)
    acked_ids: set[str] = field(default_factory=set)
    acked_at: dict[str, float] = field(default_factory=dict)
    html_tokens: dict[str, float] = field(default_factory=dict)
    html_started: set[str] = field(default_factory=set)
    gave_up: int = 0
    retries: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    requests: int = 0

    def error(self, kind: str) -> None:
        with self.lock:
            self.errors[kind] = self.errors.get(kind, 0) + 1
            self.retries += 1

    @property
    def acknowledged(self) -> int:
        return len(self.acked_ids) + len(self.html_tokens)


#: Seconds clients keep retrying an unacknowledged submission after the run ends.
GRACE = 20.0
_stopped_at: list[float] = []


def _past_grace(stop: threading.Event) -> bool:
    """Return whether the run ended more than GRACE seconds ago (then stop retrying)."""
    if not stop.is_set():
        return False
    if not _stopped_at:
        _stopped_at.append(time.monotonic())
    return time.monotonic() - _stopped_at[0] > GRACE


def api_client(base: str, tally: Tally, stop: threading.Event) -> None:
    """Send whole questionnaires; resend the same body until it is acknowledged."""
    client = Client(base, timeout=35)
    rng = random.Random()  # noqa: S311 - load data, not secrets
    while not stop.is_set():
        body = api_body(str(uuid.uuid4()), age=rng.randint(16, 90))
        sid = body["submission_id"]
        with tally.lock:
            tally.sent_ids.add(sid)
        for attempt in range(RETRIES):
            t0 = time.perf_counter()
            try:
                status, _, data = client.post_json(SUBMIT_PATH, body)
            except Exception as exc:  # noqa: BLE001 - connection reset, timeout: resend
                tally.error(type(exc).__name__)
                if _past_grace(stop):
                    break
                time.sleep(min(0.05 * 2**attempt, 2))
                continue
            with tally.lock:
                tally.requests += 1
                tally.statuses[status] = tally.statuses.get(status, 0) + 1
                tally.latencies.append(time.perf_counter() - t0)
            if status in (200, 201):
                if json.loads(data)["submission_id"] != sid:
                    tally.error("wrong id acknowledged")
                with tally.lock:
                    tally.acked_ids.add(sid)
                    tally.acked_at[sid] = time.monotonic()
                break
            tally.error(f"HTTP {status} on submit")
            if status < 500 and status != 429 or _past_grace(stop):
                break  # refused for good: never acknowledged, so never counted
            time.sleep(min(0.05 * 2**attempt, 2))
        else:
            with tally.lock:
                tally.gave_up += 1
    client.close()


def html_client(base: str, tally: Tally, stop: threading.Event) -> None:
    """Walk consent, every page and the review; repeat a failed step on the same draft."""
    client = Client(base, timeout=35)

    def step(action) -> Any:
        for attempt in range(RETRIES):
            t0 = time.perf_counter()
            try:
                result = action()
            except Exception as exc:  # noqa: BLE001 - any failure: repeat the step
                tally.error(str(exc) if isinstance(exc, HttpError) else type(exc).__name__)
                if _past_grace(stop):
                    break
                client.close()
                time.sleep(min(0.05 * 2**attempt, 2))
                continue
            with tally.lock:
                tally.latencies.append(time.perf_counter() - t0)
            return result
        raise RuntimeError("gave up")

    while not stop.is_set():
        respondent = HtmlRespondent(client, FORM_ANSWERS)
        try:
            step(respondent.start)
            with tally.lock:
                tally.html_started.add(respondent.token)
            for _ in range(30):
                if respondent.url.endswith("/review"):
                    break
                step(respondent.next_page)
            if not step(respondent.submit):
                tally.error("review did not finish")
                continue
        except RuntimeError:
            with tally.lock:
                tally.gave_up += 1
            continue
        finally:
            with tally.lock:
                tally.requests += respondent.requests
        with tally.lock:
            tally.html_tokens[respondent.token] = time.monotonic()
    client.close()


# -- faults -----------------------------------------------------------------------------------


def kill_one_worker(gunicorn: Gunicorn) -> dict[str, Any]:
    """SIGKILL one worker of our own gunicorn; return which, and the workers after."""
    before = gunicorn.worker_pids()
    # The worker holding most client connections, so the kill cuts requests in flight.
    victim = max(before, key=_open_sockets)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        after = gunicorn.worker_pids()
        if victim not in after and len(after) >= gunicorn.workers:
            break
        time.sleep(0.2)
    return {"killed_pid": victim, "workers_before": before, "workers_after": gunicorn.worker_pids()}


def _open_sockets(pid: int) -> int:
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return 0
    count = 0
    for fd in fds:
        with contextlib.suppress(OSError):
            count += os.readlink(fd).startswith("socket:")
    return count


def interrupt_database(url: str) -> dict[str, Any]:
    """Cut the app's database connections (PostgreSQL) or hold SQLite's write lock."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=60, isolation_level=None)
        t0 = time.monotonic()
        conn.execute("BEGIN EXCLUSIVE")
        time.sleep(3)
        conn.execute("ROLLBACK")
        conn.close()
        return {"fault": "SQLite write lock held by another process", "seconds": 3.0,
                "waited_for_lock_s": round(time.monotonic() - t0 - 3, 2)}  # fmt: skip
    with psycopg.connect(pg_dsn(url), autocommit=True) as conn:
        ended = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()[0]
    return {"fault": "pg_terminate_backend on every app connection", "connections_ended": ended}


def flask(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "ATLAS_SECRET_KEY": "bench-secret"}
    return subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def take_backup(url: str, path: Path, tally: Tally) -> dict[str, Any]:
    """Back up while the load runs; note what was acknowledged before it started."""
    with tally.lock:
        api_before = set(tally.acked_ids)
        html_before = set(tally.html_tokens)
    t0 = time.monotonic()
    done = flask(url, "atlas", "backup", str(path))
    seconds = time.monotonic() - t0
    with tally.lock:
        api_sent = set(tally.sent_ids)
    if done.returncode:
        return {"ok": False, "output": done.stdout + done.stderr}
    # "backup FILE (engine): survey 1, survey_version 1, draft 10, response 99, ..."
    figures = done.stdout.rsplit("): ", 1)[1].strip().split(", ")
    counts = {name: int(n) for name, n in (f.rsplit(" ", 1) for f in figures)}
    return {
        "ok": True,
        "seconds": round(seconds, 2),
        "counts": counts,
        "api_acked_before": api_before,
        "html_acked_before": html_before,
        "api_sent_by_end": api_sent,
        "output": done.stdout.strip(),
    }


# -- checks -----------------------------------------------------------------------------------


def stored_rows(url: str) -> list[tuple]:
    sql = (
        "SELECT submission_id, answers, answers_hash, receipt_hash, country, channel FROM response"
    )
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return [(r[0], json.loads(r[1]), *r[2:]) for r in conn.execute(sql)]
    with psycopg.connect(pg_dsn(url)) as conn:
        return list(conn.execute(sql))


def draft_ids(url: str, tokens: set[str]) -> dict[str, tuple[str, Any]]:
    """Return token -> (submission id, submitted_at) for the HTML clients' drafts."""
    hashes = {hashlib.sha256(t.encode()).hexdigest(): t for t in tokens}
    sql = "SELECT token_hash, submission_id, submitted_at FROM draft"
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            rows = conn.execute(sql).fetchall()
    else:
        with psycopg.connect(pg_dsn(url)) as conn:
            rows = conn.execute(sql).fetchall()
    return {hashes[h]: (sid, at) for h, sid, at in rows if h in hashes}


def integrity(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            check = conn.execute("PRAGMA integrity_check").fetchone()[0]
            fk = conn.execute("PRAGMA foreign_key_check").fetchall()
        return {"integrity_check": check, "foreign_key_violations": len(fk),
                "ok": check == "ok" and not fk}  # fmt: skip
    with psycopg.connect(pg_dsn(url)) as conn:
        orphans = conn.execute(
            "SELECT count(*) FROM response r LEFT JOIN survey_version v ON v.id = r.version_id "
            "WHERE v.id IS NULL"
        ).fetchone()[0]
        dup = conn.execute(
            "SELECT count(*) FROM (SELECT submission_id FROM response GROUP BY submission_id "
            "HAVING count(*) > 1) d"
        ).fetchone()[0]
        # Rebuild-free index check: the unique index must agree with a sequential scan.
        conn.execute("SET enable_indexscan = off; SET enable_bitmapscan = off")
        seq = conn.execute("SELECT count(DISTINCT submission_id) FROM response").fetchone()[0]
        conn.execute("RESET enable_indexscan; RESET enable_bitmapscan")
        idx = conn.execute("SELECT count(*) FROM response").fetchone()[0]
    return {"orphan_responses": orphans, "duplicate_ids": dup, "seq_scan_ids": seq,
            "rows": idx, "ok": orphans == 0 and dup == 0 and seq == idx}  # fmt: skip


def canonical_hash(answers: Any) -> str:
    text = json.dumps(answers, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def run_engine(engine: str, workdir: Path) -> dict[str, Any]:
    """Run the load, the faults and the checks against one database engine."""
    print(f"== loadtest on {engine}: up to {TARGET:,} submissions or {SECONDS:.0f} s, "
          f"{API_CLIENTS} API + {HTML_CLIENTS} HTML clients")  # fmt: skip
    tally = Tally()
    events: dict[str, Any] = {}
    with throwaway_database(engine, workdir) as url:
        with Gunicorn(url, workers=3, threads=4) as g:
            print(f"   gunicorn {g.base}, workers {g.worker_pids()}, rate limits in "
                  f"{'Redis' if 'ATLAS_REDIS_URL' in g.env() else 'memory'}")  # fmt: skip
            elapsed = load(g, url, workdir, tally, events)
            log = g.log()
        # The server has stopped: what is stored now is final.
        results = check(url, tally, events, log)
        results["restore"] = restore_check(engine, workdir, events.get("backup", {}))
    results.update(engine=engine, seconds=round(elapsed, 1))
    return results


def load(g: Gunicorn, url: str, workdir: Path, tally: Tally, events: dict[str, Any]) -> float:
    """Run the clients until the target or the time cap; inject the faults on the way."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=api_client, args=(g.base, tally, stop), daemon=True)
        for _ in range(API_CLIENTS)
    ] + [
        threading.Thread(target=html_client, args=(g.base, tally, stop), daemon=True)
        for _ in range(HTML_CLIENTS)
    ]
    started = time.monotonic()
    for t in threads:
        t.start()
    faults = [
        (0.25, "kill_worker", lambda: kill_one_worker(g)),
        (0.45, "interrupt_database", lambda: interrupt_database(url)),
        (0.60, "backup", lambda: take_backup(url, workdir / "during-load.backup", tally)),
    ]

    def fire(name: str, action) -> None:
        at = time.monotonic() - started
        events[name] = action()
        events[name]["at_s"] = round(at, 1)
        shown = {k: v for k, v in events[name].items() if not isinstance(v, set)}
        print(f"   {at:6.1f}s {name}: {shown}")

    next_report = started + 10
    while time.monotonic() - started < SECONDS and tally.acknowledged < TARGET:
        progress = max((time.monotonic() - started) / SECONDS, tally.acknowledged / TARGET)
        while faults and progress >= faults[0][0]:
            _, name, action = faults.pop(0)
            fire(name, action)
        if time.monotonic() >= next_report:
            print(f"   {time.monotonic() - started:6.1f}s acknowledged "
                  f"{tally.acknowledged:,}, retries {tally.retries}")  # fmt: skip
            next_report += 10
        time.sleep(0.1)
    for _, name, action in faults:  # a short run still gets every fault
        fire(name, action)
    stop.set()
    _stopped_at[:] = [time.monotonic()]
    for t in threads:
        t.join(GRACE + 40)
    events["clients_still_running"] = sum(t.is_alive() for t in threads)
    return time.monotonic() - started


def check(url: str, tally: Tally, events: dict[str, Any], log: str) -> dict[str, Any]:
    """Compare what clients were told with what the database holds."""
    rows = stored_rows(url)
    stored_ids = [r[0] for r in rows]
    stored = set(stored_ids)
    drafts = draft_ids(url, set(tally.html_started))
    html_acked = {drafts[t][0] for t in tally.html_tokens if t in drafts}
    html_unsubmitted = [t for t in tally.html_tokens if t not in drafts or not drafts[t][1]]
    acked = set(tally.acked_ids) | html_acked
    sent = set(tally.sent_ids) | {sid for sid, _ in drafts.values()}
    partial = [
        r[0]
        for r in rows
        if not r[2]
        or not r[3]
        or canonical_hash(r[1]) != r[2]
        or r[4] != ((r[1].get("residence") or {}).get("country"))
    ]
    latencies = sorted(tally.latencies)
    figures = {
        "acknowledged": len(acked),
        "acknowledged_api": len(tally.acked_ids),
        "acknowledged_html": len(html_acked),
        "stored_rows": len(rows),
        "stored_api": sum(1 for r in rows if r[5] == "api"),
        "stored_html": sum(1 for r in rows if r[5] == "web"),
        "acknowledged_not_stored": len(acked - stored),
        "stored_twice": len(stored_ids) - len(stored),
        "stored_never_sent": len(stored - sent),
        "stored_not_acknowledged": len(stored - acked),
        "partial_rows": len(partial),
        "html_acknowledged_but_draft_open": len(html_unsubmitted),
        "gave_up": tally.gave_up,
        "requests": tally.requests,
        "retries": tally.retries,
        "errors_seen_by_clients": dict(sorted(tally.errors.items())),
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None,
        "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 1) if latencies else None,
        "server_tracebacks": log.count("Traceback"),
        "worker_killed": {k: v for k, v in events.get("kill_worker", {}).items()},
        "database_interrupted": events.get("interrupt_database"),
        "integrity": integrity(url),
    }
    figures["ok"] = (
        figures["acknowledged_not_stored"] == 0
        and figures["stored_twice"] == 0
        and figures["stored_never_sent"] == 0
        and figures["partial_rows"] == 0
        and figures["html_acknowledged_but_draft_open"] == 0
        and figures["integrity"]["ok"]
        and figures["acknowledged"] > 0
    )
    figures["tracebacks"] = _tracebacks(log)
    return figures


def _tracebacks(log: str, keep: int = 3) -> list[str]:
    """Return the first few distinct tracebacks in the server log (for the report)."""
    found: list[str] = []
    for chunk in log.split("Traceback (most recent call last):")[1:]:
        lines = chunk.strip().splitlines()
        text = "\n".join(lines[-12:])
        last = lines[-1] if lines else ""
        if all(last not in f for f in found):
            found.append(text)
        if len(found) >= keep:
            break
    return found


def restore_check(engine: str, workdir: Path, backup: dict[str, Any]) -> dict[str, Any]:
    """Restore the backup taken under load into a fresh database and compare."""
    if not backup.get("ok"):
        return {"ok": False, "reason": "no backup", "output": backup.get("output")}
    file = workdir / "during-load.backup"
    fresh = workdir / "restored"
    fresh.mkdir(exist_ok=True)
    with throwaway_database(engine, fresh) as url:
        done = flask(url, "atlas", "restore", str(file), "--yes")
        if done.returncode:
            return {"ok": False, "output": done.stdout + done.stderr}
        rows = stored_rows(url)
        drafts = draft_ids(url, backup["html_acked_before"])
        all_drafts = _draft_submission_ids(url)
        restored_integrity = integrity(url)
    ids = {r[0] for r in rows}
    html_before = {drafts[t][0] for t in backup["html_acked_before"] if t in drafts}
    result = {
        "backup_counts": backup["counts"],
        "backup_seconds": backup["seconds"],
        "restored_responses": len(rows),
        "same_count_as_backup": len(rows) == backup["counts"]["response"],
        "acknowledged_before_backup": len(backup["api_acked_before"]) + len(html_before),
        "acknowledged_before_backup_missing": len(backup["api_acked_before"] - ids)
        + len(html_before - ids)
        + len(backup["html_acked_before"])
        - len(html_before),
        "restored_never_sent": sum(
            1
            for r in rows
            if (r[5] == "api" and r[0] not in backup["api_sent_by_end"])
            or (r[5] == "web" and r[0] not in all_drafts)
        ),
        "integrity": restored_integrity,
    }
    result["ok"] = (
        result["same_count_as_backup"]
        and result["acknowledged_before_backup_missing"] == 0
        and result["restored_never_sent"] == 0
        and restored_integrity["ok"]
    )
    return result


def _draft_submission_ids(url: str) -> set[str]:
    sql = "SELECT submission_id FROM draft"
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return {r[0] for r in conn.execute(sql)}
    with psycopg.connect(pg_dsn(url)) as conn:
        return {r[0] for r in conn.execute(sql)}


def main() -> int:
    engines = [e for e in os.environ.get("LOADTEST_ENGINES", "sqlite").split(",") if e]
    if os.environ.get("LOADTEST_DATABASE_URL"):
        server.PG_SERVER = os.environ["LOADTEST_DATABASE_URL"]
        if "postgresql" not in engines:
            engines.append("postgresql")
    started = time.monotonic()
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="atlas-loadtest-") as tmp:
        for engine in engines:
            workdir = Path(tmp) / engine
            workdir.mkdir()
            outcomes.append(run_engine(engine, workdir))
    ok = True
    rows = []
    for o in outcomes:
        shown = {k: v for k, v in o.items() if k != "tracebacks"}
        print(json.dumps(shown, indent=2, default=str))
        for tb in o["tracebacks"]:
            print("--- server traceback (tail) ---\n" + tb)
        ok &= o["ok"] and o["restore"]["ok"]
        rows.append(
            {
                "benchmark": "loadtest: acknowledged = stored once",
                "engine": o["engine"],
                "rows": o["stored_rows"],
                "value": o["acknowledged"],
                "unit": "submissions",
                "baseline": None,
                "ratio": None,
                "target": None,
                "ok": o["ok"] and o["restore"]["ok"],
                "p95_ms": o["p95_ms"],
                "peak_memory_mib": None,
            }
        )
    _write(outcomes, rows, time.monotonic() - started)
    print("LOADTEST " + ("PASSED" if ok else "FAILED"))
    return 0 if ok else 1


def _write(outcomes: list[dict[str, Any]], rows: list[dict[str, Any]], seconds: float) -> None:
    from bench.run import OUT, machine, write_report

    OUT.mkdir(parents=True, exist_ok=True)
    data = {
        "benchmark": "loadtest",
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
        "machine": machine(),
        "config": {
            "seconds_cap": SECONDS,
            "target": TARGET,
            "api_clients": API_CLIENTS,
            "html_clients": HTML_CLIENTS,
            "workers": 3,
            "threads": 4,
        },  # fmt: skip
        "results": rows,
        "runs": outcomes,
    }
    (OUT / "loadtest.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    write_report()


if __name__ == "__main__":
    sys.exit(main())
