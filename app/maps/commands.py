"""``flask atlas build-maps``: :func:`app.maps.publish.publish_maps` from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.maps.publish import publish_maps


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
    with click.progressbar(length=1, label="Building maps") as bar:
        state = {"done": 0}

        def progress(done: int, total: int, _label: str) -> None:
            bar.length = total
            bar.update(done - state["done"])
            state["done"] = done

        try:
            result = publish_maps(survey, languages, out_dir, if_changed, progress)
        except LookupError as exc:
            raise click.BadParameter(str(exc).strip("'\"")) from exc
        except FileNotFoundError as exc:  # assets missing: `npm ci` was not run
            click.echo(f"\n{exc}", err=True)
            sys.exit(1)
    if not result["built"]:
        click.echo(f"responses unchanged since the last build: {result['out']}")
        return
    manifest = result["manifest"]
    click.echo(
        f"{len(manifest['maps'])} maps in {len(manifest['languages'])} languages, "
        f"{len(manifest['countries_published'])} countries, k={manifest['k']}: {result['out']}"
    )
