"""What disclosure control costs: the map build and analyst pages, against the code before it.

Issue 10 asks that the perturbation and the checks (independent respondents, record keys, the
folded and rolled-up units) cost the map build and a page no more than 10 %. The only honest
baseline is the same work done by the code without them, so this benchmark checks that code out
of this repository's own history (``BENCH_DISCLOSURE_BASE``, default the commit before disclosure
control was hardened) into a temporary worktree and runs the same measurement in both, one
after the other, alternating, best of ``BENCH_ROUNDS`` (default 3):

- map build: ``geo.maps.build_maps`` of every map in one language from ``BENCH_MAP_ROWS``
  (default 1,000,000) synthetic respondents;
- pages: the analyst dashboard and the Russia profile, warm (the frame cached), on a SQLite
  database of ``BENCH_PAGE_ROWS`` (default 100,000) synthetic responses, median of 5 requests.

Run alone: ``.venv/bin/python -m bench.disclosure_cost``; or ``BENCH_ONLY=disclosure make bench``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.server import ROOT

BASE = os.environ.get("BENCH_DISCLOSURE_BASE", "c886aa4")

#: Runs inside one checkout (``sys.argv[1]`` = what, ``[2]`` = rows); prints seconds as JSON.
#: Written against what both versions share: only ``build_maps``'s policy argument and, since
#: issue 11, its required asset directory (the checkout's own ``node_modules``) differ.
MEASURE = r"""
import inspect, json, statistics, sys, tempfile, time, uuid
from pathlib import Path

what, rows = sys.argv[1], int(sys.argv[2])

def maps_build():
    from geo import maps, synthetic
    frame = synthetic.generate(rows, seed=1)
    args, kwargs = [], {"k": 10}
    parameters = inspect.signature(maps.build_maps).parameters
    if "policy" in parameters:
        from geo.disclosure import Policy
        args, kwargs = [Policy(10, frozenset({"CN"}))], {}
    if "asset_source" in parameters:
        kwargs["asset_source"] = Path("node_modules").resolve()
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        maps.build_maps(frame, Path(out), ["kk"], lambda _l: lambda s: s, *args, **kwargs)
        return {"map_build": time.perf_counter() - start}

def pages():
    import re
    from flask_migrate import upgrade
    from app import ROOT, create_app
    from app.extensions import db
    try:
        from app.demo import insert_synthetic
    except ImportError:  # the code before issue 11
        from app.analyst.services import insert_synthetic
    from app.accounts import services as accounts
    directory = Path(tempfile.mkdtemp())
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory}/atlas.db",
                      "SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": False,
                      "TESTING": True})
    password = "bench " + uuid.uuid4().hex
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        try:
            from app.questionnaires import load_file
        except ImportError:  # the code before issue 11
            from app.survey.services import load_questionnaire_file as load_file
        load_file(ROOT / "forms" / "questionnaires" / "kazakh-diaspora.yaml")
        insert_synthetic(rows, "kazakh-diaspora", seed=3)
        accounts.create_user("bench@example.org", password, "analyst")
        db.session.remove()
    client = app.test_client()
    page = client.get("/account/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/account/login", data={"csrf_token": token, "email": "bench@example.org",
                                        "password": password})
    out = {}
    urls = {"dashboard": "/analyst/?lang=en", "profile": "/analyst/countries/RU?lang=en"}
    for name, url in urls.items():
        assert client.get(url).status_code == 200
        times = []
        for _ in range(5):
            start = time.perf_counter()
            assert client.get(url).status_code == 200
            times.append(time.perf_counter() - start)
        out[name] = statistics.median(times)
    return out

print(json.dumps(maps_build() if what == "maps" else pages()))
"""


def _worktree(rev: str) -> Path:
    """Check ``rev`` out of this repository into a temporary worktree (compiled catalogs too)."""
    path = Path(tempfile.mkdtemp(prefix="atlas-base-")) / "tree"
    subprocess.run(  # noqa: S603 - git with fixed arguments
        ["git", "worktree", "add", "--detach", str(path), rev],  # noqa: S607
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    (path / "node_modules").symlink_to(ROOT / "node_modules")
    return path


def _measure(tree: Path, what: str, rows: int) -> dict[str, float]:
    done = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", MEASURE, what, str(rows)],
        cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"measuring {what} in {tree} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(config: dict[str, Any]) -> dict[str, Any]:
    """Measure both versions, alternating, and report the cost of disclosure control."""
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    sizes = {
        "maps": int(os.environ.get("BENCH_MAP_ROWS", "1000000")),
        "pages": int(os.environ.get("BENCH_PAGE_ROWS", "100000")),
    }
    base = _worktree(BASE)
    try:
        best: dict[str, dict[str, float]] = {"base": {}, "now": {}}
        for what, rows in sizes.items():
            for _ in range(rounds):
                for label, tree in (("base", base), ("now", ROOT)):
                    for key, seconds in _measure(tree, what, rows).items():
                        best[label][key] = min(best[label].get(key, seconds), seconds)
    finally:
        subprocess.run(  # noqa: S603
            ["git", "worktree", "remove", "--force", str(base)],  # noqa: S607
            cwd=ROOT, check=False, capture_output=True,
        )  # fmt: skip
    results = []
    for key, rows in (("map_build", sizes["maps"]), ("dashboard", sizes["pages"]),
                      ("profile", sizes["pages"])):  # fmt: skip
        now, before = best["now"][key], best["base"][key]
        results.append(
            {
                "benchmark": f"disclosure control: {key.replace('_', ' ')}",
                "engine": "-" if key == "map_build" else "sqlite",
                "rows": rows,
                "value": round(now, 4),
                "unit": "s",
                "baseline": f"same work at {BASE} (no perturbation, no independence checks)",
                "baseline_value": round(before, 4),
                # As everywhere in bench/: baseline time / our time, so 1/1.1 = at most 10 % more.
                "ratio": round(before / now, 3),
                "target": 0.91,
                "ok": now <= 1.1 * before,
            }
        )
    return {"results": results}


if __name__ == "__main__":
    for row in run({})["results"]:
        print(json.dumps(row))
