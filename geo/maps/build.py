"""The build: every map in every language, the assets beside them and the manifest."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import folium
import pandas as pd

from geo.aggregate import MapData, aggregate_for_maps
from geo.disclosure import Policy
from geo.i18n import Translate, is_rtl
from geo.maps.assets import ASSETS_DIR, copy_assets
from geo.maps.builders import (
    ChoiceLabel,
    citizenship_map,
    coverage_map,
    profile_map,
    shares_map,
    world_choropleth,
)
from geo.maps.geometry import prepare_world
from geo.maps.text import Style

#: ``progress(done, total, label)``, called after each step of a build.
Progress = Callable[[int, int, str], None]

MAP_KINDS = ("world", "coverage", "citizenship", "needs", "contribution")


def build_maps(
    data: pd.DataFrame | MapData,
    out_dir: Path,
    languages: list[str],
    translate_for: Callable[[str], Translate],
    policy: Policy | None = None,
    tile_url: str | None = None,
    progress: Progress | None = None,
    *,
    asset_source: Path,
    countries: pd.DataFrame | None = None,
    choice_label: ChoiceLabel | None = None,
    tile_attribution: str = "",
) -> dict[str, Any]:
    """Write every map in every language, the ``assets/`` folder and ``manifest.json``.

    Aggregation and geometry are done once; each language only re-renders. Files are flat in
    ``out_dir``: ``<map>.<language>.html``, ``profile-<ISO2>.<language>.html``, ``assets/``.

    :param data: one row per respondent (see :mod:`geo.aggregate`), aggregated here under
        ``policy``; or what :func:`geo.aggregate.aggregate_for_maps` made of them, drawn as is.
    :param translate_for: returns the gettext function of a language.
    :param policy: disclosure control (k, high-risk countries, perturbation); required with
        responses, and with aggregates it must be the one they were made under (or left out).
    :param tile_url: a background tile URL template; none by default (no third-party requests).
    :param progress: called as ``progress(done, total, label)`` after each step.
    :param asset_source: where the npm packages holding :data:`ASSET_SOURCES` are installed
        (the app's ``node_modules``).
    :param countries: the country layer (default :func:`geo.boundaries.load_countries`).
    :param choice_label: ``(question, choice, language) -> label`` for needs/contributions.
    :return: the manifest (also written to ``manifest.json``).
    :raises ValueError: without a policy for responses, or with another one than the aggregates'.
    """
    data = _published(data, policy)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if countries is None:
        from geo.boundaries import load_countries

        countries = load_countries()
    world = prepare_world(countries)
    profiles = [c for c in data.published_countries if c in world.features]
    total_steps = 1 + len(languages) * (len(MAP_KINDS) + len(profiles))
    done = 1
    if progress:
        progress(done, total_steps, "aggregate")
    assets = copy_assets(asset_source, out_dir / ASSETS_DIR)

    written: list[dict[str, Any]] = []
    for language in languages:
        style = Style(
            translate=translate_for(language),
            language=language,
            rtl=is_rtl(language),
            tile_url=tile_url,
            tile_attribution=tile_attribution,
        )
        renders: list[tuple[str, str | None, Callable[[], folium.Map]]] = [
            ("world", None, lambda s=style: world_choropleth(data, world, s)),
            ("coverage", None, lambda s=style: coverage_map(data, world, s)),
            ("citizenship", None, lambda s=style: citizenship_map(data, world, s)),
            *[
                (role, None, lambda s=style, r=role: shares_map(data, r, world, s, choice_label))
                for role in ("needs", "contribution")
                if role in data.shares
            ],
            *[
                ("profile", c, lambda s=style, c=c: profile_map(data, c, world, s))
                for c in profiles
            ],
        ]
        for kind, country, render in renders:
            name = (
                f"{kind}.{language}.html"
                if country is None
                else f"profile-{country}.{language}.html"
            )
            path = out_dir / name
            render().get_root().save(str(path))
            entry = {"map": kind, "language": language, "file": name, "bytes": path.stat().st_size}
            if country:
                entry["country"] = country
            written.append(entry)
            done += 1
            if progress:
                progress(done, total_steps, name)

    manifest = {
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        # The published total (None if it is itself below k).
        "responses": None if data.world.total is None else int(data.world.total),
        "k": data.k,
        "languages": list(languages),
        "high_risk": sorted(data.high_risk),
        "countries_published": data.published_countries,
        "tile_url": tile_url,
        "maps": written,
        "assets": [f"{ASSETS_DIR}/{a}" for a in assets],
    }
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return manifest


def _published(data: pd.DataFrame | MapData, policy: Policy | None) -> MapData:
    """Return what to draw: ``data`` itself, or the responses aggregated under ``policy``."""
    if isinstance(data, MapData):
        if policy is not None and (policy.k, policy.high_risk) != (data.k, data.high_risk):
            raise ValueError(
                f"the aggregates were made with k = {data.k} and high-risk countries "
                f"{sorted(data.high_risk)}, not under the policy given"
            )
        return data
    if policy is None:
        raise ValueError("responses need a disclosure policy to be aggregated for the maps")
    return aggregate_for_maps(data, policy)
