"""Published maps: built from the stored responses into ``MAPS_DIR``, read back for serving.

``atlas build-maps`` (:mod:`app.maps.commands`) and the ``build-maps`` job run one function,
:func:`publish_maps`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from babel.support import Translations
from flask import current_app
from sqlalchemy import func, select

from app import ROOT, counts, questionnaires
from app.extensions import db
from app.i18n import catalog_name
from app.jobs import job
from app.models import Response, Survey, SurveyVersion
from app.privacy import published_policy
from geo import aggregate
from geo.aggregate import MapData
from geo.disclosure import Policy, Tally


def maps_dir() -> Path:
    """Return where built maps are kept (``MAPS_DIR``, default instance/maps)."""
    configured = current_app.config.get("MAPS_DIR")
    if not configured:
        return Path(current_app.instance_path) / "maps"
    path = Path(configured)
    return path if path.is_absolute() else ROOT / path


def read_manifest(directory: Path | None = None) -> dict[str, Any] | None:
    """Return the manifest of the last map build, or None when nothing was built."""
    path = (directory or maps_dir()) / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def built_map(
    manifest: dict[str, Any] | None, kind: str, lang: str, country: str | None = None
) -> str | None:
    """Return the file name of a built map in ``lang`` (else the default language, else any)."""
    if not manifest:
        return None
    entries = [
        m
        for m in manifest.get("maps", [])
        if isinstance(m, dict) and m.get("map") == kind and m.get("country") == country
    ]
    for wanted in (lang, current_app.config["DEFAULT_LANGUAGE"]):
        for entry in entries:
            if entry.get("language") == wanted:
                return str(entry["file"])
    return str(entries[0]["file"]) if entries else None


def is_built_file(manifest: dict[str, Any] | None, name: str) -> bool:
    """Tell whether ``name`` is a map file (or an asset) the manifest lists."""
    if not manifest:
        return False
    files = {str(m.get("file")) for m in manifest.get("maps", []) if isinstance(m, dict)}
    return name in files or name in set(map(str, manifest.get("assets", [])))


def style_hash(stylesheet: str) -> str:
    """Return the CSP source that allows exactly this inline stylesheet."""
    digest = hashlib.sha256(stylesheet.encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


def translate_for(lang: str) -> Callable[[str], str]:
    """Return the gettext of a language from the app's catalogs (translations/)."""
    directory = current_app.config["BABEL_TRANSLATION_DIRECTORIES"].split(";")[0]
    catalog = Translations.load(directory, [catalog_name(lang)])
    return catalog.gettext


def choice_labeller(survey: str | None) -> Callable[[str, str, str], str]:
    """Return ``(role, item, language) -> label`` from the survey's newest questionnaire."""
    versions = questionnaires.versions(survey)
    questionnaire = questionnaires.questionnaire_of(versions[-1]) if versions else None
    cached: dict[tuple[str, str], dict[str, str]] = {}

    def label(role: str, item: str, language: str) -> str:
        if (role, language) not in cached:
            cached[(role, language)] = questionnaires.role_labels(questionnaire, role, language)
        return cached[(role, language)].get(item, item)

    return label


def data_fingerprint(survey: str | None) -> str:
    """Return what changes whenever the published figures may change: count, newest id,
    withdrawals (a withdrawal lowers the count but may leave the newest id as it was)."""
    from app.models import WithdrawnSubmission

    query = select(func.count(Response.id), func.max(Response.id))
    if survey is not None:
        query = query.join(SurveyVersion).join(Survey).where(Survey.slug == survey)
    count, newest = db.session.execute(query).one()
    withdrawn = db.session.scalar(select(func.count()).select_from(WithdrawnSubmission))
    db.session.rollback()
    return f"{count}:{newest or 0}:{withdrawn}"


def maps_are_current(survey: str | None, out_dir: Path) -> bool:
    """Return whether the maps in ``out_dir`` were built from the data as it is now."""
    try:
        manifest = json.loads((Path(out_dir) / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return manifest.get("data_fingerprint") == data_fingerprint(survey)


def build_published_maps(
    survey: str | None,
    languages: Sequence[str],
    out_dir: Path,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, Any]:
    """Build every published map (k = ``K_PUBLISHED``) into ``out_dir``, replacing the last build.

    The new build is written beside the old one and swapped in at the end, so the dashboard
    keeps serving the previous maps while this runs.

    :return: the manifest.
    """
    from geo.maps import build_maps

    fingerprint = data_fingerprint(survey)
    data = map_data(survey, published_policy())
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".maps-", dir=out_dir.parent))
    try:
        manifest = build_maps(
            data,
            staging,
            list(languages),
            translate_for,
            published_policy(),
            progress=progress,
            choice_label=choice_labeller(survey),
            asset_source=ROOT / "node_modules",
        )
        manifest["data_fingerprint"] = fingerprint
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        old = out_dir.with_name(out_dir.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        if out_dir.exists():
            os.replace(out_dir, old)
        os.replace(staging, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


#: Several-answer roles drawn on the maps, one layer per item.
MAP_ROLES = ("needs", "contribution")


def map_data(survey: str | None, policy: Policy) -> MapData:
    """Aggregate what every published map shows from the kept counts (:mod:`app.counts`): one
    sum over them, however many responses there are."""
    rows = counts.rows(
        counts.scope_of(survey),
        ["all", "citizenship_category", "place", *MAP_ROLES],
        by=("country", "value"),
    )
    rows = rows[rows["country"].notna()]
    naming = {
        role: Tally.from_rows(rows[rows["fact"] == role], ["country", "value"])
        for role in MAP_ROLES
    }
    leaves = counts.pairs(rows, "place", "region", "city")
    leaves = leaves.replace({"region": {"": None}, "city": {"": None}})
    return aggregate.map_data(
        counts.tally_of(rows, "all", ("country",)),
        Tally.from_rows(rows[rows["fact"] == "citizenship_category"], ["country", "value"]),
        naming,
        leaves,
        policy,
    )


@job("build-maps")
def publish_maps(
    survey: str | None = None,
    languages: Sequence[str] | None = None,
    out_dir: Path | None = None,
    if_changed: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, Any]:
    """Build the published maps, unless ``if_changed`` and nothing changed since the last build.

    What ``atlas build-maps`` runs and what the ``build-maps`` job is: one function, so both
    resolve the survey (default: the first one) and label choices from its questionnaire.

    :param languages: BCP 47 tags (default: every offered language).
    :param out_dir: default ``MAPS_DIR``.
    :return: ``built`` (False when nothing changed), ``out`` and, when built, the ``manifest``.
    :raises LookupError: an unknown survey or language.
    """
    slugs = questionnaires.slugs()
    if survey is not None and survey not in slugs:
        raise LookupError(f"no questionnaire {survey!r}")
    survey = survey or (slugs[0] if slugs else None)
    offered = list(current_app.config["LANGUAGES"])
    languages = list(languages or offered)
    unknown = [lang for lang in languages if lang not in offered]
    if unknown:
        raise LookupError(f"{', '.join(unknown)} (offered: {', '.join(offered)})")
    target = Path(out_dir) if out_dir else maps_dir()
    if if_changed and maps_are_current(survey, target):
        return {"built": False, "out": str(target)}
    manifest = build_published_maps(survey, languages, target, progress)
    return {"built": True, "out": str(target), "manifest": manifest}
