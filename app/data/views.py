"""Exports and the specialists registry, for admins and analysts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField
from wtforms.validators import NumberRange, Optional

from app.accounts import access
from app.accounts.services import record
from app.data import exports, registry
from app.extensions import db
from app.i18n import ENDONYMS, current_language
from app.ids import MAX_ID
from app.models import Survey
from forms import names
from forms.types import select_choices

bp = Blueprint("data", __name__, url_prefix="/analyst/data")
access.protect(bp, "admin", "analyst")


@bp.after_request
def no_store(response: Response) -> Response:
    """Keep individual answers and contact details out of every cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _surveys() -> list[Survey]:
    return list(db.session.scalars(select(Survey).order_by(Survey.slug)))


def _country_choices() -> list[tuple[str, str]]:
    return [("", _("Any country")), *names.country_choices(current_language())]


def _set_choices(field: Any, pairs: list[tuple[str, str]]) -> None:
    field.choices = select_choices(pairs)
    field.codes = {code for code, _label in pairs if code}


class ExportForm(FlaskForm):
    """What to export, in which form, and which responses."""

    survey = SelectField(_l("Survey"))
    format = RadioField(
        _l("Format"),
        choices=select_choices(
            [
                ("csv", _l("CSV in a ZIP with its codebook (UTF-8)")),
                ("xlsx", _l("Excel workbook (XLSX): responses and codebook sheets")),
                ("geojson", _l("GeoJSON: respondents per country and region (aggregated)")),
                ("gpkg", _l("GeoPackage: respondents per country and region (aggregated)")),
            ]
        ),
        default="csv",
    )
    lang = SelectField(_l("Language of labels"))
    labels = BooleanField(_l("Answers as labels (otherwise as codes)"))
    since = DateField(_l("Submitted from"), validators=[Optional()])
    until = DateField(_l("Submitted until"), validators=[Optional()])
    country = SelectField(_l("Country of residence"), validate_choice=False)
    # A number no row can have names nothing (and SQLite cannot even compare it): say so here.
    version = IntegerField(
        _l("Questionnaire version"),
        validators=[
            Optional(),
            NumberRange(1, MAX_ID, _l("No version of the questionnaire has this number.")),
        ],
    )
    link = IntegerField(
        _l("Distribution link number"),
        validators=[
            Optional(),
            NumberRange(1, MAX_ID, _l("No distribution link has this number.")),
        ],
    )


def _export_form() -> ExportForm:
    form = ExportForm()
    _set_choices(form.survey, [(s.slug, s.slug) for s in _surveys()])
    languages = current_app.config["LANGUAGES"]
    _set_choices(form.lang, [(tag, ENDONYMS.get(tag, tag)) for tag in languages])
    if not form.is_submitted():
        form.lang.data = current_language()
    _set_choices(form.country, _country_choices())
    return form


@bp.route("/exports", methods=["GET", "POST"], endpoint="exports")
def exports_page() -> Any:
    """Choose what to export, then download it."""
    form = _export_form()
    error = None
    if form.validate_on_submit():
        survey = db.session.scalar(select(Survey).filter_by(slug=form.survey.data))
        filters = exports.ExportFilters(
            since=form.since.data,
            until=form.until.data,
            country=form.country.data or None,
            version=form.version.data,
            link_id=form.link.data,
        )
        try:
            if survey is None:
                raise exports.ExportError(_("Choose a survey from the list."))
            export = exports.prepare(
                survey, form.format.data, form.lang.data, bool(form.labels.data), filters
            )
            return _download(export)
        except exports.ExportError as exc:
            db.session.rollback()
            error = str(exc)
    elif form.is_submitted():
        error = _("Check the options marked below.")
    status = 400 if error else 200
    return render_template("data/exports.html", form=form, error=error), status


def _download(export: exports.ExportRequest) -> Response:
    """Record the export in the audit log and send the file (streamed where it can be)."""
    sent = exports.download(export)
    record("export", f"survey:{export.survey.slug}", export.audit_details(), sent.rows)
    name = exports.download_name(
        export.survey.slug, export.lang, export.labels, sent.extension, dt.date.today()
    )
    return _attachment(sent.body, name, sent.mimetype)


def _attachment(body: Any, filename: str, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = exports.content_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# -- the registry -----------------------------------------------------------------------------


class RegistryForm(FlaskForm):
    """What to search the registry for; every option is a code from a list."""

    class Meta:
        csrf = False  # a search (GET) changes nothing but the audit log

    survey = SelectField(_l("Survey"), validate_choice=False)
    skill = SelectField(_l("Skill"), validate_choice=False)
    occupation = SelectField(_l("Occupation"), validate_choice=False)
    country = SelectField(_l("Country of residence"), validate_choice=False)
    language = SelectField(_l("Language spoken"), validate_choice=False)
    contribution = SelectField(_l("Willing to contribute by"), validate_choice=False)


def _registry_form(survey: Survey | None, surveys: list[Survey]) -> RegistryForm:
    form = RegistryForm(request.args)
    _set_choices(form.survey, [(s.slug, s.slug) for s in surveys])
    options = registry.search_options(survey, current_language()) if survey else {}
    anything = [("", _("Any"))]
    _set_choices(form.skill, anything + options.get("skills", []))
    _set_choices(form.occupation, anything + options.get("occupation", []))
    _set_choices(form.language, anything + options.get("languages", []))
    _set_choices(form.contribution, anything + options.get("contribution", []))
    _set_choices(form.country, _country_choices())
    return form


@bp.route("/registry", endpoint="registry")
def registry_page() -> Any:
    """Search the consented specialists; results appear once a search is sent."""
    surveys = _surveys()
    slug = request.args.get("survey")
    survey = next((s for s in surveys if s.slug == slug), surveys[0] if surveys else None)
    form = _registry_form(survey, surveys)
    result = None
    error = None
    if "search" in request.args and survey is not None:
        valid = {
            name: field.codes
            for name, field in (
                ("skill", form.skill),
                ("occupation", form.occupation),
                ("country", form.country),
                ("language", form.language),
                ("contribution", form.contribution),
            )
        }
        chosen = {name: request.args.get(name) or None for name in valid}
        if any(value and value not in valid[name] for name, value in chosen.items()):
            error = _("Choose search options from the lists.")
        else:
            result = registry.search_registry(
                survey, registry.RegistryFilters(**chosen), current_language()
            )
    return (
        render_template(
            "data/registry.html",
            form=form,
            survey=survey,
            result=result,
            error=error,
            page_size=registry.PAGE_SIZE,
            back=request.full_path if result is not None else None,
        ),
        400 if error else 200,
    )


@bp.route("/registry/<id:response_id>/contact", methods=["POST"])
def registry_contact(response_id: int) -> Any:
    """Show one specialist's e-mail address (an explicit, audited action)."""
    shown = registry.show_contact(response_id, current_language())
    if shown is None:
        abort(404)
    entry, email = shown
    back = access.safe_next(request.form.get("back"))
    return render_template("data/contact.html", entry=entry, email=email, back=back)
