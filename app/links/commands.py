"""``flask --app wsgi atlas create-link``: set up links in bulk for a campaign."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.accounts import services as accounts
from app.accounts.models import Organisation
from app.extensions import db
from app.links import services
from app.models import Survey


@click.command("create-link")
@click.option("--org", "org_slug", required=True, help="The organisation's short name.")
@click.option("--survey", "survey_slug", required=True, help="The questionnaire's short name.")
@click.option("--lang", help="Language the questionnaire opens in (BCP 47, e.g. kk-Arab).")
@click.option("--label", help="A label for the organisation's records (default: the short name).")
@with_appcontext
def create_link(org_slug: str, survey_slug: str, lang: str | None, label: str | None) -> None:
    """Create a distribution link for an organisation and print its full address."""
    organisation = db.session.scalar(select(Organisation).filter_by(slug=org_slug))
    if organisation is None:
        raise click.BadParameter("no such organisation (see atlas create-org)", param_hint="--org")
    survey = db.session.scalar(select(Survey).filter_by(slug=survey_slug))
    if survey is None:
        raise click.BadParameter("no such questionnaire", param_hint="--survey")
    try:
        link = services.create_link(survey, organisation, label or org_slug, language=lang)
    except services.LinkError as exc:
        raise click.ClickException(str(exc) % exc.params) from exc
    accounts.record(
        "link_created",
        target=f"link:{link.id}",
        details={"organisation": organisation.slug, "survey": survey.slug, "via": "cli"},
        user=None,
    )
    click.echo(services.link_url(link))
