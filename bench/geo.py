"""Heavy geo paths on 1,000,000 synthetic rows, each against its plain-library baseline.

- Country assignment of 1M points: ``geo.boundaries.assign_countries`` against one plain shapely
  ``STRtree.query(points, predicate="intersects")`` over the same layer (target: no slower, so
  baseline time / our time >= 1).
- Map build: ``geo.maps.build_maps`` for every world and country profile map in one language
  from 1M responses (target: under 15 s, peak memory under 2 GB), then a second language (adds
  only rendering).
- Profile aggregation: the suppressed tables of every role by country against a plain pandas
  ``groupby(...).size()`` of the same columns.
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from geo import aggregate, boundaries, maps, synthetic
from geo.disclosure import Policy

ROWS = 1_000_000
#: Where the map assets (Leaflet) are installed: the repository's ``node_modules``.
NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
#: The published maps' policy (k = 10, China at country level only).
PUBLISHED = Policy(10, frozenset({"CN"}))


def _peak_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _timed(work: Any) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def _row(name: str, value: float, unit: str, **extra: Any) -> dict[str, Any]:
    return {
        "benchmark": name,
        "engine": "-",
        "rows": ROWS,
        "value": round(value, 2),
        "unit": unit,
        "peak_memory_mib": _peak_mib(),
        **extra,
    }


def country_assignment() -> dict[str, Any]:
    rng = np.random.default_rng(0)
    lat, lon = rng.uniform(-60, 75, ROWS), rng.uniform(-180, 180, ROWS)
    boundaries.assign_countries([43.25], [76.95])  # load the layer and index once
    ours = _timed(lambda: boundaries.assign_countries(lat, lon))
    layer = boundaries.load_countries()
    tree = shapely.STRtree(layer.geometry.to_numpy())

    def baseline() -> None:
        tree.query(shapely.points(lon, lat), predicate="intersects")

    base = _timed(baseline)
    ratio = round(base / ours, 2)
    return _row(
        "country assignment of 1M points",
        ours,
        "s",
        baseline="shapely STRtree query",
        baseline_value=round(base, 2),
        ratio=ratio,
        target=1.0,
        ok=ratio >= 1.0,
    )


def map_build(frame: Any) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="atlas-maps-") as out:

        def build(languages: list[str]) -> None:
            maps.build_maps(
                frame, Path(out), languages, lambda _lang: lambda s: s, PUBLISHED,
                asset_source=NODE_MODULES,
            )  # fmt: skip

        one = _timed(lambda: build(["kk"]))
        peak = _peak_mib()
        rows.append(
            _row("map build, 1M responses, 1 language", one, "s", ok=one < 15 and peak < 2048)
        )
        two = _timed(lambda: build(["kk", "ru"]))
        rows.append(
            _row(
                "map build, 1M responses, 2 languages",
                two,
                "s",
                baseline="1 language",
                baseline_value=round(one, 2),
                ratio=round(one / two, 2),
                # Aggregation is done once: a second language adds only rendering.
                ok=two < 2 * one,
            )
        )
    return rows


def profile_aggregation(frame: Any) -> dict[str, Any]:
    columns = ["sex", "age_band", "citizenship", "education", "occupation", "return_intention"]

    def ours() -> None:
        for column in columns:
            aggregate.cross(frame, "country", column, Policy(5, frozenset({"CN"})))

    def baseline() -> None:
        for column in columns:
            frame.groupby(["country", column], observed=True).size()

    mine, base = _timed(ours), _timed(baseline)
    return _row(
        "profile aggregation (6 roles by country, suppressed)",
        mine,
        "s",
        baseline="pandas groupby size",
        baseline_value=round(base, 3),
        ratio=round(base / mine, 3),
        ok=True,
    )


def run(config: dict[str, Any]) -> dict[str, Any]:
    """Run the geo benchmarks once (they do not depend on the database)."""
    results = [country_assignment()]
    frame = synthetic.generate(ROWS, seed=1)
    results.extend(map_build(frame))
    results.append(profile_aggregation(frame))
    return {"results": results}
