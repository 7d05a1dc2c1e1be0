"""Command-line tools: ``flask --app wsgi atlas ...`` and ``flask --app wsgi translate ...``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

from app import ROOT
from app.counts import recount_command
from app.data.commands import apply_retention_command, export_command
from app.demo import generate_synthetic_command
from app.jobs import enqueue_command, worker
from app.links.commands import create_link
from app.maps.commands import build_maps_command
from app.ops import backup, restore
from forms.loader import QuestionnaireError


@click.group()
def atlas() -> None:
    """Diaspora Atlas administration."""


@atlas.command("load-questionnaire")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=True, path_type=Path))
@with_appcontext
def load_questionnaire(paths: tuple[Path, ...]) -> None:
    """Load questionnaire files (or every bundled one); a changed file becomes a new version."""
    from app.questionnaires import load_file as load_questionnaire_file

    if not paths:
        paths = (ROOT / current_app.config["BUNDLED_QUESTIONNAIRES"],)
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
    failed = False
    for file in files:
        try:
            version, created = load_questionnaire_file(file)
        except QuestionnaireError as exc:
            failed = True
            for line in exc.format(_):
                click.echo(line, err=True)
            continue
        state = "new version" if created else "unchanged"
        click.echo(f"{file.name}: {version.survey.slug} v{version.number} ({state})")
    if failed:
        sys.exit(1)


@atlas.command("import-xlsform")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--slug", help="The survey's slug, instead of one made from form_id.")
@with_appcontext
def import_xlsform(file: Path, slug: str | None) -> None:
    """Load an XLSForm workbook (.xlsx, .xls); a changed form becomes a new version."""
    from app.questionnaires import load_xlsform_file

    try:
        version, created = load_xlsform_file(file, slug)
    except QuestionnaireError as exc:
        for line in exc.format(_):
            click.echo(line, err=True)
        sys.exit(1)
    state = "new version" if created else "unchanged"
    click.echo(f"{file.name}: {version.survey.slug} v{version.number} ({state})")


@atlas.command("export-xlsform")
@click.argument("slug")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def export_xlsform(slug: str, file: Path) -> None:
    """Write the newest version of a survey as an XLSForm workbook (.xlsx)."""
    from app.questionnaires import find, latest, questionnaire_of
    from forms.xlsform import write_xlsform

    survey = find(slug)
    newest = latest(survey) if survey is not None else None
    if newest is None:
        raise click.ClickException(f"no questionnaire is stored under {slug}")
    if file.suffix.lower() != ".xlsx":
        raise click.BadParameter("the file must end in .xlsx", param_hint="FILE")
    write_xlsform(questionnaire_of(newest), file)
    click.echo(f"{slug} v{newest.number}: {file}")


atlas.add_command(backup)
atlas.add_command(restore)
atlas.add_command(worker)
atlas.add_command(enqueue_command)
atlas.add_command(build_maps_command)
atlas.add_command(generate_synthetic_command)
atlas.add_command(recount_command)
atlas.add_command(create_link)
atlas.add_command(export_command)
atlas.add_command(apply_retention_command)


@atlas.command("check-translations")
@click.option("--lang", "languages", multiple=True, help="Only these languages (BCP 47).")
@click.option("--limit", type=int, default=None, help="List at most N strings of each kind.")
@with_appcontext
def check_translations_command(languages: tuple[str, ...], limit: int | None) -> None:
    """List missing, fuzzy and unreviewed UI strings and questionnaire labels, per language.

    Exits with status 1 when a published questionnaire lacks a label in a language it offers.
    """
    from app.translations_check import check_translations

    if not check_translations(list(languages) or None, echo=click.echo, limit=limit):
        sys.exit(1)


@atlas.command("create-org")
@click.argument("slug")
@click.option("--name", required=True, help="The organisation's name.")
@click.option("--country", help="ISO 3166-1 alpha-2 code of the country it works in.")
@click.option("--contact", help="A contact address.")
@with_appcontext
def create_org(slug: str, name: str, country: str | None, contact: str | None) -> None:
    """Create an organisation (a diaspora association or partner body)."""
    from app.accounts.services import AccountError, create_organisation
    from forms.names import country_codes

    if country and country.upper() not in country_codes():
        raise click.BadParameter("not an ISO 3166-1 alpha-2 code", param_hint="--country")
    names = {lang: name for lang in current_app.config["LANGUAGES"]}
    try:
        org = create_organisation(slug, names, country.upper() if country else None, contact)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"organisation {org.slug} created")


@atlas.command("create-user")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(["admin", "analyst", "coordinator"]))
@click.option("--org", "org_slug", help="The organisation's short name (coordinators).")
@with_appcontext
def create_user_command(email: str, role: str, org_slug: str | None) -> None:
    """Create a user; the password is read from standard input."""
    from sqlalchemy import select

    from app.accounts.models import Organisation
    from app.accounts.services import AccountError, create_user
    from app.extensions import db

    org = None
    if org_slug:
        org = db.session.scalar(select(Organisation).filter_by(slug=org_slug))
        if org is None:
            raise click.BadParameter("no such organisation", param_hint="--org")
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        user = create_user(email, password, role, org)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"user {user.email} ({user.role}) created")


@atlas.command("ensure-admin")
@with_appcontext
def ensure_admin() -> None:
    """Create the first admin with a one-time password when no user exists yet."""
    from app.accounts.services import ensure_first_admin

    created = ensure_first_admin()
    if created:
        email, password = created
        click.echo("")
        click.echo("  First admin account created. This password is shown once:")
        click.echo(f"    email:    {email}")
        click.echo(f"    password: {password}")
        click.echo("  Sign in at /account/login and choose your own password.")
        click.echo("")


@click.group()
def translate() -> None:
    """Extract, update and compile the gettext catalogs in translations/."""


def _pybabel(*args: str) -> None:
    command = [sys.executable, "-m", "babel.messages.frontend", *args]
    if subprocess.run(command, cwd=ROOT, check=False).returncode:  # noqa: S603 - fixed argv
        raise click.ClickException("pybabel " + " ".join(args[:1]) + " failed")


POT = "translations/messages.pot"


@translate.command()
def extract() -> None:
    """Collect every marked string into translations/messages.pot."""
    _pybabel(
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "_l",
        "-k",
        "N_",
        "--sort-by-file",
        "--no-wrap",
        "-o",
        POT,
        "app",
        "forms",
        "geo",
    )


@translate.command()
def update() -> None:
    """Extract, then merge new strings into every language's catalog."""
    extract.callback()  # type: ignore[misc]
    _pybabel("update", "-i", POT, "-d", "translations", "--no-wrap", "--no-fuzzy-matching")
    _latin_kazakh()


def _latin_kazakh() -> None:
    """Regenerate the kk_Latn catalog from kk (it is never edited by hand)."""
    from forms.translit import transliterate_catalog

    source = ROOT / "translations" / "kk" / "LC_MESSAGES" / "messages.po"
    transliterate_catalog(source, ROOT / "translations" / "kk_Latn" / "LC_MESSAGES" / "messages.po")


@translate.command()
def compile() -> None:  # noqa: A001 - the command's name is the verb users type
    """Generate kk_Latn from kk, then compile the catalogs to .mo files."""
    _latin_kazakh()
    _pybabel("compile", "-d", "translations", "--statistics")


@translate.command()
@click.argument("lang")
def init(lang: str) -> None:
    """Start a catalog for a new language (then add it to LANGUAGES); see translations/STATUS.md."""
    if lang.replace("_", "-") == "kk-Latn":
        raise click.ClickException("kk-Latn is generated from kk by `flask translate compile`")
    extract.callback()  # type: ignore[misc]
    _pybabel("init", "-i", POT, "-d", "translations", "-l", lang.replace("-", "_"), "--no-wrap")
