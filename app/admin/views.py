"""The admin pages; the work is in :mod:`app.admin.services`.

Deny by default: the blueprint admits admins and analysts, and every view analysts may not
open says so with ``admin_only``. Analysts may manage organisations only.
"""

from __future__ import annotations

import math
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import DateField, EmailField, SelectField, StringField
from wtforms.validators import Optional

from app.accounts import access
from app.accounts.models import ROLES
from app.accounts.services import AccountError
from app.admin import services
from app.extensions import db
from app.i18n import ENDONYMS, current_language, resolve_language, set_language, text_direction
from app.ids import parse_id
from app.main.errors import handle_http_error
from app.questionnaires import find as find_survey
from app.questionnaires import questionnaire_of
from app.questionnaires import version as find_version
from forms.builder import build_page_form, prepare
from forms.loader import QuestionnaireError
from forms.names import country_choices, country_names
from forms.types import Context, select_choices

bp = Blueprint("admin", __name__, url_prefix="/admin")
access.protect(bp, "admin", "analyst")
admin_only = access.roles_required("admin")

#: How each role is called on these pages.
ROLE_LABELS = {"admin": _l("Admin"), "analyst": _l("Analyst"), "coordinator": _l("Coordinator")}


@bp.before_request
def remember_language() -> None:
    """Keep a language chosen with ``?lang=`` for the next workspace pages."""
    chosen = request.args.get("lang")
    if chosen:
        languages = current_app.config["LANGUAGES"]
        lang = resolve_language(languages, current_app.config["DEFAULT_LANGUAGE"], chosen)
        set_language(lang, remember=lang.lower() == chosen.lower())


# -- forms ------------------------------------------------------------------------------------


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token is sent."""


class UserForm(FlaskForm):
    email = EmailField(_l("Email"), render_kw={"autocomplete": "off", "dir": "ltr"})
    role = SelectField(_l("Role"), choices=select_choices((r, ROLE_LABELS[r]) for r in ROLES))
    organisation = SelectField(_l("Organisation (coordinators)"), validate_choice=False)


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=select_choices((r, ROLE_LABELS[r]) for r in ROLES))
    organisation = SelectField(_l("Organisation (coordinators)"), validate_choice=False)


class AuditFilterForm(FlaskForm):
    action = SelectField(_l("Action"), validate_choice=False)
    user = SelectField(_l("User"), validate_choice=False)
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])


def _organisation_choices() -> list[Any]:
    lang = current_language()
    pairs = [(str(org.id), org.display_name(lang)) for org in services.list_organisations()]
    return select_choices([("", "—"), *pairs])


def _name_field(tag: str) -> str:
    return "name_" + tag.replace("-", "_")


def _organisation_form(organisation: Any = None) -> FlaskForm:
    """Build the organisation form afresh: one name field per language the site offers."""
    lang = current_language()
    form_class = type("OrganisationForm", (FlaskForm,), {})
    if organisation is None:
        form_class.slug = StringField(
            _("Short name (Latin letters, digits and hyphens)"),
            render_kw={"dir": "ltr", "maxlength": 63, "autocomplete": "off"},
        )
    for tag in current_app.config["LANGUAGES"]:
        field = StringField(
            _("Name in %(language)s", language=ENDONYMS.get(tag, tag)),
            render_kw={"lang": tag, "dir": text_direction(tag), "maxlength": 200},
        )
        setattr(form_class, _name_field(tag), field)
    form_class.country = SelectField(
        _("Country"),
        choices=select_choices([("", "—"), *country_choices(lang)]),
        validate_choice=False,
    )
    form_class.contact = StringField(_("Contact"), render_kw={"maxlength": 200})
    data: dict[str, Any] = {}
    # On a POST only what was sent counts: a name field left empty removes that name.
    if organisation is not None and request.method != "POST":
        data = {_name_field(tag): name for tag, name in organisation.name.items()}
        data.update(country=organisation.country or "", contact=organisation.contact or "")
    return form_class(data=data)


def _names_from(form: FlaskForm) -> dict[str, str]:
    return {tag: form[_name_field(tag)].data or "" for tag in current_app.config["LANGUAGES"]}


def _shown_once(template: str, **context: Any) -> Any:
    """Render a page holding a one-time password: never cached, never stored by the browser."""
    response = make_response(render_template(template, **context))
    response.headers["Cache-Control"] = "no-store"
    return response


# -- home -------------------------------------------------------------------------------------


@bp.route("/")
def index() -> Any:
    """Send admins to the questionnaires and analysts to the organisations."""
    if current_user.role == "admin":
        return redirect(url_for("admin.questionnaires"))
    return redirect(url_for("admin.organisations"))


# -- users ------------------------------------------------------------------------------------


def _render_users(form: UserForm, error: str | None = None, status: int = 200) -> Any:
    return render_template(
        "admin/users.html",
        users=services.list_users(),
        form=form,
        error=error,
        role_labels=ROLE_LABELS,
    ), status


@bp.route("/users")
@admin_only
def users() -> Any:
    """List the users, with a form to add one."""
    form = UserForm()
    form.organisation.choices = _organisation_choices()
    return _render_users(form)


@bp.route("/users", methods=["POST"])
@admin_only
def create_user() -> Any:
    """Add a user with a one-time password, shown once."""
    form = UserForm()
    form.organisation.choices = _organisation_choices()
    if not form.validate():
        return _render_users(form, _("Check the form and send it again."), 422)
    try:
        user, password = services.invite_user(
            form.email.data or "", form.role.data, parse_id(form.organisation.data)
        )
    except AccountError as exc:
        db.session.rollback()
        return _render_users(form, _(str(exc)), 422)
    return _shown_once("admin/one_time_password.html", user=user, password=password, new=True)


def _user_or_404(user_id: int) -> Any:
    user = services.find_user(user_id)
    if user is None:
        abort(404)
    return user


def _render_user(user: Any, error: str | None = None, status: int = 200) -> Any:
    form = RoleForm(data={"role": user.role, "organisation": str(user.organisation_id or "")})
    form.organisation.choices = _organisation_choices()
    return render_template(
        "admin/user.html",
        user=user,
        form=form,
        action=ActionForm(),
        error=error,
        role_labels=ROLE_LABELS,
    ), status


@bp.route("/users/<id:user_id>")
@admin_only
def user(user_id: int) -> Any:
    """Show a user, with their role and the buttons that change their account."""
    return _render_user(_user_or_404(user_id))


@bp.route("/users/<id:user_id>/role", methods=["POST"])
@admin_only
def change_role(user_id: int) -> Any:
    """Give a user another role or organisation."""
    user = _user_or_404(user_id)
    form = RoleForm()
    form.organisation.choices = _organisation_choices()
    if not form.validate():
        return _render_user(user, _("Check the form and send it again."), 422)
    try:
        services.change_role(current_user, user, form.role.data, parse_id(form.organisation.data))
    except AccountError as exc:
        db.session.rollback()
        return _render_user(user, _(str(exc)), 422)
    flash(_("The role was changed."))
    return redirect(url_for("admin.user", user_id=user.id), 303)


@bp.route("/users/<id:user_id>/deactivate", methods=["POST"])
@admin_only
def deactivate_user(user_id: int) -> Any:
    """Stop a user from signing in and end their sessions."""
    user = _user_or_404(user_id)
    if not ActionForm().validate():
        abort(400)
    try:
        services.set_active(current_user, user, False)
    except AccountError as exc:
        db.session.rollback()
        return _render_user(user, _(str(exc)), 422)
    flash(_("The account was deactivated and its sessions ended."))
    return redirect(url_for("admin.user", user_id=user.id), 303)


@bp.route("/users/<id:user_id>/reactivate", methods=["POST"])
@admin_only
def reactivate_user(user_id: int) -> Any:
    """Let a deactivated user sign in again."""
    user = _user_or_404(user_id)
    if not ActionForm().validate():
        abort(400)
    services.set_active(current_user, user, True)
    flash(_("The account was reactivated."))
    return redirect(url_for("admin.user", user_id=user.id), 303)


@bp.route("/users/<id:user_id>/reset-password", methods=["POST"])
@admin_only
def reset_password(user_id: int) -> Any:
    """Give a user a new one-time password, shown once."""
    user = _user_or_404(user_id)
    if not ActionForm().validate():
        abort(400)
    password = services.reset_password(user)
    return _shown_once("admin/one_time_password.html", user=user, password=password, new=False)


# -- organisations ----------------------------------------------------------------------------


@bp.route("/organisations", methods=["GET", "POST"])
def organisations() -> Any:
    """List the organisations, with a form to add one (admins and analysts)."""
    form = _organisation_form()
    error = None
    if form.validate_on_submit():
        try:
            organisation = services.add_organisation(
                form.slug.data or "", _names_from(form), form.country.data, form.contact.data
            )
        except AccountError as exc:
            db.session.rollback()
            error = _(str(exc))
        else:
            flash(_("The organisation was added."))
            return redirect(url_for("admin.organisation", organisation_id=organisation.id), 303)
    elif form.errors:
        error = _("Check the form and send it again.")
    return render_template(
        "admin/organisations.html",
        organisations=services.list_organisations(),
        country_names=country_names(current_language()),
        form=form,
        error=error,
        languages=current_app.config["LANGUAGES"],
        name_field=_name_field,
    ), (422 if error else 200)


@bp.route("/organisations/<id:organisation_id>", methods=["GET", "POST"])
def organisation(organisation_id: int) -> Any:
    """Change an organisation's names, country and contact (admins and analysts)."""
    found = services.find_organisation(organisation_id)
    if found is None:
        abort(404)
    form = _organisation_form(found)
    error = None
    if form.validate_on_submit():
        try:
            services.edit_organisation(
                found, _names_from(form), form.country.data, form.contact.data
            )
        except AccountError as exc:
            db.session.rollback()
            error = _(str(exc))
        else:
            flash(_("The organisation was saved."))
            return redirect(url_for("admin.organisation", organisation_id=found.id), 303)
    elif form.errors:
        error = _("Check the form and send it again.")
    return render_template(
        "admin/organisation.html",
        organisation=found,
        form=form,
        error=error,
        languages=current_app.config["LANGUAGES"],
        name_field=_name_field,
    ), (422 if error else 200)


# -- questionnaires ---------------------------------------------------------------------------


def _title(version: Any, lang: str) -> str:
    if version is None:
        return "—"
    questionnaire = questionnaire_of(version)
    return questionnaire.text(questionnaire.title, lang)


def _render_questionnaires(
    problems: list[str] | None = None, filename: str | None = None, status: int = 200
) -> Any:
    lang = current_language()
    rows = [
        (survey, version, responses, _title(version, lang))
        for survey, version, responses in services.list_surveys()
    ]
    return render_template(
        "admin/questionnaires.html",
        surveys=rows,
        form=ActionForm(formdata=None),
        problems=problems,
        filename=filename,
        max_size=current_app.config.get("MAX_CONTENT_LENGTH"),
    ), status


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> Any:
    """Show the size limit on the upload page to admins; anyone else gets the plain 413 page."""
    if (
        request.endpoint == "admin.upload_questionnaire"
        and current_user.is_authenticated
        and current_user.role == "admin"
        and not current_user.must_change_password
    ):
        size = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // 1024
        message = _("The file is larger than %(size)d KB: it was not loaded.", size=size)
        return _render_questionnaires([message], None, 413)
    return handle_http_error(error)


@bp.route("/questionnaires")
@admin_only
def questionnaires() -> Any:
    """List the surveys, with a form to upload a questionnaire file."""
    return _render_questionnaires()


@bp.route("/questionnaires", methods=["POST"])
@admin_only
def upload_questionnaire() -> Any:
    """Check an uploaded questionnaire file; store it as a new version or list its problems."""
    if not ActionForm().validate():
        abort(400)
    upload = request.files.get("file")
    data = upload.read() if upload else b""
    if not data:
        return _render_questionnaires(
            [_("Choose a questionnaire file (YAML or XLSForm) to upload.")], None, 422
        )
    filename = services.safe_filename(upload.filename if upload else None)
    try:
        version, created = services.upload_questionnaire(data, filename)
    except QuestionnaireError as exc:
        return _render_questionnaires(exc.format(_), filename, 422)
    if created:
        flash(
            _(
                "%(file)s was stored as version %(number)d of %(slug)s.",
                file=filename,
                number=version.number,
                slug=version.survey.slug,
            )
        )
    else:
        flash(
            _(
                "%(file)s is the same as version %(number)d of %(slug)s: nothing changed.",
                file=filename,
                number=version.number,
                slug=version.survey.slug,
            )
        )
    return redirect(url_for("admin.survey", slug=version.survey.slug), 303)


def _survey_or_404(slug: str) -> Any:
    survey = find_survey(slug)
    if survey is None:
        abort(404)
    return survey


@bp.route("/questionnaires/<slug>")
@admin_only
def survey(slug: str) -> Any:
    """Show a survey's versions with their response counts, and open or close it."""
    found = _survey_or_404(slug)
    summaries = services.version_summaries(found)
    newest = questionnaire_of(summaries[0].version) if summaries else None
    return render_template(
        "admin/survey.html",
        survey=found,
        summaries=summaries,
        questionnaire=newest,
        form=ActionForm(formdata=None),
        text=lambda texts: newest.text(texts, current_language()) if newest else "",
    )


@bp.route("/questionnaires/<slug>/open", methods=["POST"])
@admin_only
def open_survey(slug: str) -> Any:
    """Let respondents answer the survey again."""
    found = _survey_or_404(slug)
    if not ActionForm().validate():
        abort(400)
    services.set_survey_open(found, True)
    flash(_("The survey is open."))
    return redirect(url_for("admin.survey", slug=found.slug), 303)


@bp.route("/questionnaires/<slug>/close", methods=["POST"])
@admin_only
def close_survey(slug: str) -> Any:
    """Stop taking answers: respondents get a page saying the survey is closed."""
    found = _survey_or_404(slug)
    if not ActionForm().validate():
        abort(400)
    services.set_survey_open(found, False)
    flash(_("The survey is closed."))
    return redirect(url_for("admin.survey", slug=found.slug), 303)


@bp.route("/questionnaires/<slug>/preview")
@admin_only
def preview(slug: str) -> Any:
    """Show a version's pages as a respondent sees them, in any of its languages; nothing is
    stored and nothing can be sent."""
    found = _survey_or_404(slug)
    asked = request.args.get("version")
    number = parse_id(asked) if asked else None
    version = None if asked and number is None else find_version(found, number)
    if version is None:
        abort(404)
    questionnaire = questionnaire_of(version)
    lang = request.args.get("language") or ""
    if lang not in questionnaire.languages:
        lang = questionnaire.default_language
    # The whole page, chrome included, in the language a respondent would have chosen.
    set_language(lang)
    index = request.args.get("page", type=int)
    context: dict[str, Any] = {
        "survey": found,
        "version": version,
        "questionnaire": questionnaire,
        "preview_lang": lang,
        "endonyms": ENDONYMS,
        "index": index,
        "text": lambda texts: questionnaire.text(texts, lang),
    }
    if index is None:
        paragraphs = questionnaire.text(questionnaire.consent.text, lang).split("\n\n")
        return render_template("admin/preview.html", paragraphs=paragraphs, **context)
    if not 0 <= index < len(questionnaire.groups):
        abort(404)
    group = questionnaire.groups[index]
    ctx = Context(questionnaire, lang, _, {})
    form = build_page_form(FlaskForm, group, ctx)(formdata=None, meta={"csrf": False})
    prepare(form, group, ctx)
    return render_template(
        "admin/preview.html",
        group=group,
        form=form,
        visible={q.name for q in group.questions},
        **context,
    )


# -- audit log --------------------------------------------------------------------------------


@bp.route("/audit")
@admin_only
def audit() -> Any:
    """Read the audit log, newest first, narrowed by action, user and dates."""
    form = AuditFilterForm(formdata=request.args, meta={"csrf": False})
    actions = [(a, a) for a in services.audit_actions()]
    form.action.choices = select_choices([("", _("Any action")), *actions])
    people = [(str(u.id), u.email) for u in services.list_users()]
    form.user.choices = select_choices([("", _("Anyone")), *people])
    form.validate()
    wanted = services.AuditFilter(
        action=form.action.data or None,
        user_id=parse_id(form.user.data),
        since=None if form.since.errors else form.since.data,
        until=None if form.until.errors else form.until.data,
    )
    events, total, page = services.audit_events(wanted, request.args.get("page", 1, type=int))
    pages = max(math.ceil(total / services.AUDIT_PAGE_SIZE), 1)
    filters = {
        key: value
        for key, value in {
            "action": wanted.action,
            "user": wanted.user_id,
            "since": wanted.since.isoformat() if wanted.since else None,
            "until": wanted.until.isoformat() if wanted.until else None,
        }.items()
        if value
    }
    return render_template(
        "admin/audit.html",
        form=form,
        events=events,
        total=total,
        page=page,
        pages=pages,
        filters=filters,
        describe=services.describe_details,
    )
