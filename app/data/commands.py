"""``flask atlas export`` and ``flask atlas apply-retention``, for scheduled jobs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.accounts.services import record
from app.data import exports
from app.extensions import db
from app.models import Survey


def _survey(slug: str | None) -> Survey:
    surveys = list(db.session.scalars(select(Survey).order_by(Survey.slug)))
    if slug:
        found = next((s for s in surveys if s.slug == slug), None)
        if found is None:
            raise click.BadParameter("no such survey", param_hint="--survey")
        return found
    if len(surveys) != 1:
        raise click.BadParameter(
            "choose one of: " + ", ".join(s.slug for s in surveys) or "no survey loaded",
            param_hint="--survey",
        )
    return surveys[0]


@click.command("export")
@click.option(
    "--format", "fmt", required=True, type=click.Choice(exports.FORMATS), help="File format."
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="File to write (CSV: the codebook goes next to it as NAME.codebook.csv).",
)
@click.option("--survey", "slug", help="Survey slug (needed when several are loaded).")
@click.option("--lang", help="Language of labels (a language of the questionnaire).")
@click.option("--labels", is_flag=True, help="Answers as labels instead of codes.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Submitted on or after.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Submitted on or before.")
@click.option("--country", help="Country of residence (ISO 3166-1 alpha-2).")
@click.option("--version", "version_number", type=click.IntRange(1), help="Version number.")
@click.option("--link", "link_id", type=click.IntRange(1), help="Distribution link number.")
@with_appcontext
def export_command(
    fmt: str,
    out: Path,
    slug: str | None,
    lang: str | None,
    labels: bool,
    since: dt.datetime | None,
    until: dt.datetime | None,
    country: str | None,
    version_number: int | None,
    link_id: int | None,
) -> None:
    """Export responses (CSV, XLSX) or aggregated counts (GeoJSON, GeoPackage) to a file."""
    filters = exports.ExportFilters(
        since=since.date() if since else None,
        until=until.date() if until else None,
        country=country.upper() if country else None,
        version=version_number,
        link_id=link_id,
    )
    try:
        export = exports.prepare(_survey(slug), fmt, lang, labels, filters)
        total = exports.count_responses(export)
        with click.progressbar(length=total, label=f"{fmt} {export.survey.slug}") as bar:
            written = exports.write(export, out, bar.update)
    except exports.ExportError as exc:
        raise click.ClickException(str(exc)) from exc
    details = {**export.audit_details(), "via": "cli"}
    record("export", f"survey:{export.survey.slug}", details, written.rows, user=None)
    codebook = f", codebook {written.codebook}" if written.codebook else ""
    click.echo(f"{out}: {written.rows} {written.unit}{codebook}")


@click.command("apply-retention")
@click.option("--days", type=click.IntRange(0), help="Override RETENTION_DAYS.")
@click.option("--draft-days", type=click.IntRange(0), help="Override DRAFT_RETENTION_DAYS.")
@with_appcontext
def apply_retention_command(days: int | None, draft_days: int | None) -> None:
    """Anonymise responses past the retention period and delete stale drafts."""
    from app.data.retention import apply_retention

    report = apply_retention(days=days, draft_days=draft_days)
    click.echo(
        f"{report.anonymised} responses submitted before {report.cutoff:%Y-%m-%d} anonymised; "
        f"{report.drafts_deleted} drafts untouched since {report.draft_cutoff:%Y-%m-%d} deleted"
    )
