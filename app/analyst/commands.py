"""``flask atlas build-maps`` and ``flask atlas generate-synthetic``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.jobs import job


@click.command("build-maps")
@click.option("--survey", "survey", help="Questionnaire slug (default: the first one).")
@click.option(
    "--lang", "languages", multiple=True, help="Only these languages (BCP 47); default: all."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the maps (default: MAPS_DIR, instance/maps).",
)
@click.option("--if-changed", is_flag=True, help="Do nothing when the responses have not changed.")
@with_appcontext
def build_maps_command(
    survey: str | None, languages: tuple[str, ...], out_dir: Path | None, if_changed: bool
) -> None:
    """Build every published map (k = K_PUBLISHED) from the stored responses.

    Pages only serve what was built. To rebuild when data changes, run it with --if-changed
    every few minutes (cron, or `atlas enqueue build-maps` for the job queue).
    """
    from app.analyst import services

    offered = current_app.config["LANGUAGES"]
    unknown = [lang for lang in languages if lang not in offered]
    if unknown:
        raise click.BadParameter(
            f"{', '.join(unknown)} (offered: {', '.join(offered)})", param_hint="--lang"
        )
    slugs = services.survey_slugs()
    if survey is not None and survey not in slugs:
        raise click.BadParameter(f"no questionnaire {survey!r}", param_hint="--survey")
    survey = survey or (slugs[0] if slugs else None)
    target = out_dir or services.maps_dir()
    if if_changed and services.maps_are_current(survey, target):
        click.echo(f"responses unchanged since the last build: {target}")
        return
    with click.progressbar(length=1, label="Building maps") as bar:
        state = {"done": 0}

        def progress(done: int, total: int, _label: str) -> None:
            bar.length = total
            bar.update(done - state["done"])
            state["done"] = done

        try:
            manifest = services.build_published_maps(
                survey, list(languages) or offered, target, progress
            )
        except FileNotFoundError as exc:  # assets missing: `npm ci` was not run
            click.echo(f"\n{exc}", err=True)
            sys.exit(1)
    click.echo(
        f"{len(manifest['maps'])} maps in {len(manifest['languages'])} languages, "
        f"{len(manifest['countries_published'])} countries, k={manifest['k']}: {target}"
    )


@click.command("generate-synthetic")
@click.argument("n", type=click.IntRange(min=1, max=5_000_000))
@click.option("--survey", "survey", help="Questionnaire slug (default: the first one).")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same rows.")
@with_appcontext
def generate_synthetic_command(n: int, survey: str | None, seed: int) -> None:
    """Insert N synthetic responses (never real people), hostile strings included."""
    from app.analyst import services

    slugs = services.survey_slugs()
    if survey is not None and survey not in slugs:
        raise click.BadParameter(f"no questionnaire {survey!r}", param_hint="--survey")
    survey = survey or (slugs[0] if slugs else None)
    if survey is None:
        click.echo(
            "No questionnaire is loaded: run `flask atlas load-questionnaire` first.", err=True
        )
        sys.exit(1)
    with click.progressbar(length=n, label="Inserting synthetic responses") as bar:
        inserted = services.insert_synthetic(n, survey, seed, bar.update)
    click.echo(f"{inserted} synthetic responses added to {survey}.")


@job("build-maps")
def build_maps_job(survey: str | None = None, if_changed: bool = True) -> dict[str, object]:
    """Rebuild the published maps in every offered language, unless nothing changed."""
    from app.analyst import services

    target = services.maps_dir()
    if if_changed and services.maps_are_current(survey, target):
        return {"built": False, "out": str(target)}
    manifest = services.build_published_maps(survey, current_app.config["LANGUAGES"], target)
    return {"built": True, "out": str(target), "maps": len(manifest["maps"])}
