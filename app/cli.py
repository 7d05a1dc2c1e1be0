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
from app.jobs import enqueue_command, worker
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
    from app.survey.services import load_questionnaire_file

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


atlas.add_command(backup)
atlas.add_command(restore)
atlas.add_command(worker)
atlas.add_command(enqueue_command)


@atlas.command("check-translations")
@click.option("--lang", "languages", multiple=True, help="Only these languages (BCP 47).")
@with_appcontext
def check_translations_command(languages: tuple[str, ...]) -> None:
    """List missing, fuzzy and unreviewed UI strings and questionnaire labels, per language.

    Exits with status 1 when a published questionnaire lacks a label in a language it offers.
    """
    from app.translations_check import check_translations

    if not check_translations(list(languages) or None, echo=click.echo):
        sys.exit(1)


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
