"""Distribution links in the workspace, the respondent's /l/<code>, and invitations."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from wtforms import DateField, EmailField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import NumberRange, Optional

from app import questionnaires
from app.accounts import access
from app.accounts import services as accounts
from app.accounts.models import Organisation
from app.extensions import db, limiter
from app.i18n import ENDONYMS, current_language, set_language
from app.ids import find_row, id_from_query, parse_id
from app.links import respondents, services
from app.links.models import DistributionLink
from app.models import Survey
from app.privacy import analyst_policy, published_policy
from app.questionnaires import questionnaire_of
from forms.names import country_choices, country_names
from forms.schema import Questionnaire
from geo.disclosure import OTHER, TOTAL, Policy, Suppressed

#: The workspace pages: coordinators see their own organisation's links only.
bp = Blueprint("links", __name__, url_prefix="/links")
access.protect(bp, "admin", "analyst", "coordinator")

#: What anyone may open: a link's short address and an invitation.
public_bp = Blueprint("link_public", __name__)


class LinkForm(FlaskForm):
    organisation = SelectField(_l("Organisation"), coerce=int, validate_choice=False)
    survey = SelectField(_l("Questionnaire"), coerce=int, validate_choice=False)
    label = StringField(_l("Label (for your own records)"), render_kw={"maxlength": 200})
    language = SelectField(_l("Language the questionnaire opens in"), validate_choice=False)
    country = SelectField(_l("Country the link is meant for"), validate_choice=False)
    opens_on = DateField(_l("First day (optional)"), validators=[Optional()])
    closes_on = DateField(_l("Last day (optional)"), validators=[Optional()])
    response_cap = IntegerField(
        _l("Most responses through this link (optional)"),
        validators=[Optional(), NumberRange(min=1, max=10_000_000)],
    )


class StatusForm(FlaskForm):
    pass


class InvitationForm(FlaskForm):
    organisation = SelectField(_l("Organisation"), coerce=int, validate_choice=False)
    email = EmailField(_l("Email of the coordinator"), render_kw={"dir": "ltr"})


class AcceptForm(FlaskForm):
    password = PasswordField(
        _l("Choose a password (at least 12 characters)"),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("The same password again"), render_kw={"autocomplete": "new-password"}
    )


# -- helpers ----------------------------------------------------------------------------------


def _questionnaire(survey: Survey) -> Questionnaire | None:
    version = questionnaires.latest(survey)
    return questionnaire_of(version) if version else None


def _title(survey: Survey, lang: str) -> str:
    questionnaire = _questionnaire(survey)
    return questionnaire.text(questionnaire.title, lang) if questionnaire else survey.slug


def _own_link(link_id: int) -> DistributionLink:
    """Return a link the signed-in user may see; 404 for any other (nothing is revealed)."""
    link = db.session.get(DistributionLink, link_id)
    if link is None:
        abort(404)
    access.require_organisation(link.organisation_id)
    return link


def _policy() -> Policy:
    """Coordinators see what is published (K_PUBLISHED); analysts and admins K_ANALYST."""
    return published_policy() if current_user.role == "coordinator" else analyst_policy()


def _number(n: float) -> str:
    return format_decimal(int(n))


def _rows(table: Suppressed, label: Any) -> list[tuple[str, str]]:
    """Return (label, published count) rows of a folded series, "other" and the total last."""
    rows = [
        (label(key), table.display(key, _, _number)) for key in table.values.index if key != OTHER
    ]
    rows.append((_("All others together"), table.display(OTHER, _, _number)))
    rows.append((_("Total"), table.display(TOTAL, _, _number)))
    return rows


def _country_label(lang: str) -> Any:
    names = country_names(lang)
    return lambda code: _("Not given") if code == services.NOT_GIVEN else names.get(code, code)


def _state_text(state: str) -> str:
    return {
        "open": _("Open"),
        "paused": _("Paused"),
        "revoked": _("Revoked"),
        "not_yet": _("Not open yet"),
        "closed": _("Closed"),
        "full": _("Full"),
    }[state]


# -- the respondent's short link --------------------------------------------------------------


def _link_key() -> str:
    """Key the per-link rate limit by the code asked for."""
    return "link:" + str((request.view_args or {}).get("code", ""))[:32]


@public_bp.route("/l/<code>")
@limiter.limit(lambda: current_app.config["RATELIMIT_LINK_ADDRESS"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LINK"], key_func=_link_key)
def open_link(code: str) -> Any:
    """Open the questionnaire a link points to, in its language, and remember the link."""
    link = services.find_link(code)
    if link is None:
        abort(404)  # the same page as any unknown address
    state = services.link_state(link)
    if state != "open":
        return respondents.unavailable_page(link, state)
    services.count_open(link)
    session["link_id"] = link.id
    return redirect(url_for("survey.start", slug=link.survey.slug, lang=link.language or None))


# -- invitations: accepting -------------------------------------------------------------------


@public_bp.route("/links/invite/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def accept_invitation(token: str) -> Any:
    """Let an invited coordinator choose a password; the invitation works once."""
    invitation = services.find_invitation(token)
    if invitation is None:
        abort(404)
    form = AcceptForm()
    error = None
    if form.validate_on_submit():
        password = form.password.data or ""
        if password != (form.confirm.data or ""):
            error = _("The two passwords differ.")
        else:
            try:
                user = services.accept_invitation(token, password)
            except (services.LinkError, accounts.AccountError) as exc:
                error = _(str(exc), **getattr(exc, "params", {}))
            else:
                accounts.record("invitation_accepted", target=f"user:{user.id}", user=user)
                return render_template("links/accepted.html", email=user.email)
    return render_template(
        "links/accept.html",
        form=form,
        error=error,
        email=invitation.email,
        organisation=invitation.organisation.display_name(current_language()),
    ), (422 if error else 200)


# -- the workspace ----------------------------------------------------------------------------


@bp.route("/")
def index() -> Any:
    """List the links the user may see, with their state and address."""
    organisation_id = id_from_query("org")
    links = services.links_for(current_user, organisation_id)
    lang = current_language()
    rows = [
        {
            "link": link,
            "title": _title(link.survey, lang),
            "organisation": link.organisation.display_name(lang),
            "state": _state_text(services.link_state(link)),
            "url": services.link_url(link),
        }
        for link in links
    ]
    return render_template("links/index.html", rows=rows)


def _organisation_choices(lang: str) -> list[tuple[int, str]]:
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.slug))
    return [(org.id, org.display_name(lang)) for org in organisations]


def _survey_choices(lang: str) -> list[tuple[int, str]]:
    surveys = db.session.scalars(select(Survey).order_by(Survey.slug))
    return [(s.id, _title(s, lang)) for s in surveys if questionnaires.latest(s) is not None]


@bp.route("/new", methods=["GET", "POST"])
def create() -> Any:
    """Create a link for a questionnaire: label, language, country, dates and cap."""
    lang = current_language()
    form = LinkForm()
    coordinator = current_user.role == "coordinator"
    form.organisation.choices = (
        [(current_user.organisation_id, current_user.organisation.display_name(lang))]
        if coordinator
        else _organisation_choices(lang)
    )
    form.survey.choices = _survey_choices(lang)
    form.language.choices = [("", _("As the respondent's browser asks"))] + [
        (tag, ENDONYMS.get(tag, tag)) for tag in current_app.config["LANGUAGES"]
    ]
    form.country.choices = [("", _("Any country"))] + list(country_choices(lang))
    error = None
    if form.validate_on_submit():
        organisation = (
            current_user.organisation
            if coordinator
            else find_row(Organisation, form.organisation.data)
        )
        survey = find_row(Survey, form.survey.data)
        if organisation is None or survey is None:
            error = _("Choose an organisation and a questionnaire from the lists.")
        else:
            try:
                link = services.create_link(
                    survey,
                    organisation,
                    form.label.data or "",
                    language=form.language.data or None,
                    country=form.country.data or None,
                    opens_on=form.opens_on.data,
                    closes_on=form.closes_on.data,
                    response_cap=form.response_cap.data,
                    created_by=current_user,
                )
            except services.LinkError as exc:
                db.session.rollback()
                error = _(str(exc), **exc.params)
            else:
                accounts.record(
                    "link_created",
                    target=f"link:{link.id}",
                    details={"organisation": organisation.slug, "survey": survey.slug},
                )
                return redirect(url_for("links.detail", link_id=link.id), 303)
    status = 422 if error or form.errors else 200
    return render_template("links/new.html", form=form, error=error), status


@bp.route("/<id:link_id>")
def detail(link_id: int) -> Any:
    """Show a link's address, QR code, poster and figures (every count at k or hidden)."""
    link = _own_link(link_id)
    lang = current_language()
    policy = _policy()
    figures = services.link_figures(link, policy)
    questionnaire = _questionnaire(link.survey)
    funnel = figures.funnel
    shown: dict[str, Any] = {"shown": figures.shown}
    if funnel is not None:
        rate = funnel.completion_rate
        shown.update(
            funnel={
                "opened": funnel.opened.display(TOTAL, _, _number),
                "started": funnel.steps.display(TOTAL, _, _number),
                "completed": funnel.steps.display("completed", _, _number),
                "rate": format_percent(rate) if rate is not None else _("not shown"),
            },
            by_country=_rows(figures.by_country, _country_label(lang)),
            by_language=_rows(figures.by_language, lambda tag: ENDONYMS.get(tag, tag)),
            completed_by_month=_rows(figures.completed_by_month, str),
            opened_by_month=_rows(figures.opened_by_month, str),
        )
    return render_template(
        "links/detail.html",
        link=link,
        k=policy.k,
        url=services.link_url(link),
        title=_title(link.survey, lang),
        organisation=link.organisation.display_name(lang),
        state=_state_text(services.link_state(link)),
        languages=[
            (t, ENDONYMS.get(t, t)) for t in (questionnaire.languages if questionnaire else ())
        ],
        form=StatusForm(),
        **shown,
    )


@bp.route("/<id:link_id>/qr.<kind>")
def qr(link_id: int, kind: str) -> Response:
    """Download the link's QR code as SVG or PNG."""
    link = _own_link(link_id)
    if kind not in ("svg", "png"):
        abort(404)
    mimetype = "image/svg+xml" if kind == "svg" else "image/png"
    response = Response(services.qr_code(link, kind), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="link-{link.id}.{kind}"'
    return response


@bp.route("/<id:link_id>/poster")
def poster(link_id: int) -> Any:
    """Show a printable A4 poster in one of the questionnaire's languages."""
    link = _own_link(link_id)
    questionnaire = _questionnaire(link.survey)
    if questionnaire is None:
        abort(404)
    asked = request.args.get("lang") or link.language or questionnaire.default_language
    lang = asked if asked in questionnaire.languages else questionnaire.default_language
    set_language(lang)
    g.offered_languages = list(questionnaire.languages)
    # The SVG is drawn here from the link's own address, never from anything a person typed.
    svg = Markup(services.qr_code(link, "svg", scalable=True).decode())  # noqa: S704 - segno output for our own link code
    return render_template(
        "links/poster.html",
        link=link,
        title=questionnaire.text(questionnaire.title, lang),
        invitation=questionnaire.text(questionnaire.description, lang),
        url=services.link_url(link),
        qr_svg=svg,
        languages=[(t, ENDONYMS.get(t, t)) for t in questionnaire.languages],
    )


@bp.route("/<id:link_id>/status", methods=["POST"])
def change_status(link_id: int) -> Any:
    """Pause, resume or revoke a link."""
    link = _own_link(link_id)
    form = StatusForm()
    action = request.form.get("action")
    statuses = {"pause": "paused", "resume": "active", "revoke": "revoked"}
    if not form.validate_on_submit() or action not in statuses:
        abort(400)
    try:
        services.set_status(link, statuses[action])
    except services.LinkError as exc:
        db.session.rollback()
        flash(_(str(exc), **exc.params))
    else:
        accounts.record(f"link_{action}", target=f"link:{link.id}")
    return redirect(url_for("links.detail", link_id=link.id), 303)


@bp.route("/compare")
@access.roles_required("admin", "analyst")
def compare() -> Any:
    """Compare every link: opens, starts, completions and completion rate (k for analysts)."""
    lang = current_language()
    policy = analyst_policy()
    k = policy.k
    organisation_id = id_from_query("org")
    comparison = services.compare_links(services.links_for(current_user, organisation_id), policy)
    table = comparison.table
    rows = []
    for link in comparison.links:
        completed = table.display((link.id, "completed"), _, _number)
        started = table.display((link.id, TOTAL), _, _number)
        rate = None
        if not table.is_hidden((link.id, "completed")) and not table.is_hidden((link.id, TOTAL)):
            total = table.row_totals[link.id]
            rate = format_percent(table.values.loc[link.id, "completed"] / total) if total else None
        rows.append(
            {
                "link": link,
                "organisation": link.organisation.display_name(lang),
                "title": _title(link.survey, lang),
                "state": _state_text(services.link_state(link)),
                "opened": comparison.opened.display(link.id, _, _number),
                "started": started,
                "completed": completed,
                "rate": rate or "–",
            }
        )
    totals = {
        "started": table.display(TOTAL, _, _number),
        "completed": table.display((TOTAL, "completed"), _, _number),
    }
    accounts.record("links_compared", details={"organisation": organisation_id}, rows=len(rows))
    return render_template(
        "links/compare.html",
        rows=rows,
        totals=totals,
        k=k,
        organisations=_organisation_choices(lang),
        organisation_id=organisation_id,
    )


@bp.route("/invitations", methods=["GET", "POST"])
@access.roles_required("admin", "analyst")
def invitations() -> Any:
    """Invite a coordinator to an organisation; the link is shown once."""
    lang = current_language()
    form = InvitationForm()
    form.organisation.choices = _organisation_choices(lang)
    if request.method == "GET":  # the organisations page may link here for one organisation
        form.organisation.data = parse_id(request.args.get("org"))
    error = None
    created_url = None
    if form.validate_on_submit():
        organisation = find_row(Organisation, form.organisation.data)
        if organisation is None:
            error = _("Choose an organisation from the list.")
        else:
            try:
                invitation, token = services.create_invitation(
                    organisation, form.email.data or "", current_user
                )
            except services.LinkError as exc:
                db.session.rollback()
                error = _(str(exc), **exc.params)
            else:
                accounts.record(
                    "invitation_created",
                    target=f"invitation:{invitation.id}",
                    details={"organisation": organisation.slug},
                )
                created_url = services.invitation_url(token)
    return render_template(
        "links/invitations.html",
        form=form,
        error=error,
        created_url=created_url,
        pending=services.pending_invitations(),
    ), (422 if error else 200)
