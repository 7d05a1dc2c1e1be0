"""Views of the respondent's path; the work is in :mod:`app.survey.services`."""

from __future__ import annotations

import time
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from itsdangerous import BadData, URLSafeSerializer
from limits import parse_many
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import BooleanField, HiddenField, StringField

from app import questionnaires, responses
from app.extensions import limiter
from app.i18n import resolve_language, set_language
from app.links import respondents as link_respondents
from app.main.security import sha256
from app.models import Draft, Survey
from app.sources import client_source
from app.survey import services
from forms.builder import (
    build_page_form,
    expression_data,
    form_data,
    prepare,
    raw_answers,
    region_list_is_stale,
)
from forms.navigation import next_index, previous_index, progress
from forms.schema import Group, Questionnaire
from forms.types import Context
from forms.validation import check_group, check_response, drop_irrelevant, holds

bp = Blueprint("survey", __name__)


@bp.app_template_global()
def city_suggestions(country: str | None, region: str | None) -> list[str]:
    """Return the city names the location question suggests (a datalist; typing stays free)."""
    return services.city_suggestions(country or "", region, g.get("lang") or "en")


class ConsentForm(FlaskForm):
    agree = BooleanField(_l("I have read this and agree to take part."))
    lang = HiddenField()


class ReviewForm(FlaskForm):
    pass


class WithdrawForm(FlaskForm):
    code = StringField(
        _l("Receipt code"), render_kw={"autocomplete": "off", "dir": "ltr", "maxlength": 64}
    )


# -- helpers ----------------------------------------------------------------------------------


def _use_language(questionnaire: Questionnaire, explicit: str | None = None) -> str:
    """Pick and apply the page language among those the questionnaire offers."""
    lang = resolve_language(
        questionnaire.languages, questionnaire.default_language, explicit or None
    )
    set_language(lang, remember=bool(explicit) and lang == explicit)
    g.offered_languages = list(questionnaire.languages)
    return lang


def _open_survey(slug: str) -> tuple[Survey, Any, Questionnaire]:
    found = questionnaires.newest_by_slug(slug)
    if found is None:
        abort(404)
    survey, version = found
    return survey, version, questionnaires.questionnaire_of(version)


def _open_draft(slug: str, token: str) -> tuple[Draft, Questionnaire]:
    draft = services.find_draft(token)
    if draft is None or draft.version.survey.slug != slug:
        abort(404)
    return draft, questionnaires.questionnaire_of(draft.version)


def _closed(survey: Survey, questionnaire: Questionnaire) -> str | None:
    if questionnaires.is_accepting(survey, questionnaire):
        return None
    return render_template("survey/closed.html", questionnaire=questionnaire), 410  # type: ignore[return-value]


def _resume_url(slug: str, token: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + url_for(
        "survey.resume", slug=slug, token=token
    )


def _page_url(slug: str, token: str, index: int | None) -> str:
    if index is None:
        return url_for("survey.review", slug=slug, token=token)
    return url_for("survey.page", slug=slug, token=token, index=index)


# -- start and consent ------------------------------------------------------------------------


def _served_stamp() -> str:
    """Return a signed note of when the consent page was served."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="consent-served").dumps(
        time.time()
    )


def _looks_automated() -> bool:
    """Tell whether a consent form came from a naive bot: the field hidden from people was
    filled in, or it came back sooner than MIN_FILL_SECONDS after the page was served."""
    if request.form.get("website"):
        return True
    minimum = current_app.config.get("MIN_FILL_SECONDS", 0)
    if not minimum:
        return False
    serializer = URLSafeSerializer(current_app.config["SECRET_KEY"], salt="consent-served")
    try:
        served = float(serializer.loads(request.form.get("served", "")))
    except (BadData, TypeError, ValueError):
        return True
    return time.time() - served < minimum


def _draft_key() -> str:
    """Rate-limit key of the questionnaire being answered: its resume token, hashed."""
    return "draft:" + sha256((request.view_args or {}).get("token", ""))


def _config(name: str):
    return lambda: current_app.config[name]


@bp.route("/s/<slug>", methods=["GET", "POST"])
@limiter.limit(_config("RATELIMIT_DRAFTS"), methods=["POST"])
def start(slug: str) -> Any:
    """Show what the survey collects and why, and open a draft once the respondent agrees."""
    survey, version, questionnaire = _open_survey(slug)
    form = ConsentForm()
    lang = _use_language(questionnaire, request.args.get("lang") or form.lang.data)
    closed = _closed(survey, questionnaire)
    if closed:
        return closed
    g.link_id = link_respondents.link_of_session(survey)
    refused = link_respondents.refusal_page(g.link_id)
    if refused:
        return refused
    form.lang.data = lang
    notice = None
    if form.validate_on_submit():
        if _looks_automated():
            notice = _("Please read the page, then tick the box and press Start again.")
        elif not form.agree.data:
            form.agree.errors = [_("To take part, tick the box to say you agree.")]
        else:
            draft, token = services.start_draft(
                version, lang, questionnaire.consent.version, link_id=g.get("link_id")
            )
            session.pop("link_id", None)  # the next survey started here is not the link's
            first = next_index(questionnaire, {}, -1)
            return redirect(_page_url(slug, token, first), 303)
    status = 422 if form.errors or notice else 200
    return render_template(
        "survey/consent.html",
        questionnaire=questionnaire,
        form=form,
        notice=notice,
        served=_served_stamp(),
        paragraphs=questionnaire.text(questionnaire.consent.text, lang).split("\n\n"),
    ), status


@bp.route("/s/<slug>/d/<token>")
def resume(slug: str, token: str) -> WerkzeugResponse:
    """Continue a draft from the resume link, at the furthest page reached."""
    draft, questionnaire = _open_draft(slug, token)
    if draft.submitted_at:
        return redirect(url_for("survey.done", slug=slug, token=token))
    index = draft.furthest_page or 0
    if not holds(
        questionnaire.groups[min(index, len(questionnaire.groups) - 1)].relevant, draft.answers
    ):
        index = next_index(questionnaire, draft.answers, index) or 0
    return redirect(_page_url(slug, token, min(index, len(questionnaire.groups) - 1)))


# -- pages ------------------------------------------------------------------------------------


@bp.route("/s/<slug>/d/<token>/p/<int:index>", methods=["GET", "POST"])
@limiter.limit(_config("RATELIMIT_DRAFT_PAGES"), key_func=_draft_key, methods=["POST"])
def page(slug: str, token: str, index: int) -> Any:
    """Show one page of questions; keep every answer, whatever button was pressed."""
    draft, questionnaire = _open_draft(slug, token)
    if draft.submitted_at:
        return redirect(url_for("survey.done", slug=slug, token=token))
    if not 0 <= index < len(questionnaire.groups):
        abort(404)
    switch_to = request.form.get("_lang") if request.method == "POST" else None
    lang = _use_language(questionnaire, switch_to or request.args.get("lang") or draft.language)

    closed = _closed(draft.version.survey, questionnaire)
    if closed:
        return closed
    group = questionnaire.groups[index]
    answers = dict(draft.answers or {})
    pending = dict(draft.pending or {})
    if request.method == "GET" and not holds(group.relevant, answers):
        return redirect(_page_url(slug, token, next_index(questionnaire, answers, index)))
    ctx = Context(questionnaire, lang, _, answers)
    form_class = build_page_form(FlaskForm, group, ctx)

    def show(form: FlaskForm, values: dict[str, Any], notice: str | None = None, status=200):
        return _render_page(questionnaire, group, index, form, values, token, notice, status)

    if request.method == "GET":
        data = form_data(group, answers)
        data.update({k: v for k, v in pending.items() if k in data})
        form = form_class(formdata=None, data=data)
        prepare(form, group, ctx)
        if lang != draft.language:
            services.save_page(draft, answers, pending, draft.furthest_page, lang)
        return show(form, answers)

    form = form_class()
    prepare(form, group, ctx)
    if not form.validate():
        # Only the CSRF check can fail here: show the page again with everything as typed.
        expired = _("This page had expired. Your answers are still here: please send it again.")
        return show(form, answers, expired, 400)
    raw = raw_answers(form, group)
    outcome = check_group(questionnaire, group, raw, answers, ctx)
    own = {q.name for q in group.questions}
    values = drop_irrelevant(
        questionnaire, {**{k: v for k, v in answers.items() if k not in own}, **outcome.values}
    )
    pending = {k: v for k, v in pending.items() if k not in own}
    pending.update({name: raw[name] for name in outcome.errors})
    services.save_page(draft, values, pending, index, lang)

    action = request.form.get("_action", "next")
    if switch_to or action == "refresh":
        return show(form, values)
    if action == "back":
        return redirect(_page_url(slug, token, previous_index(questionnaire, values, index)), 303)
    if _appeared(group, values, request.form):
        return show(form, values, _("Please look at this page again: it now shows more to answer."))
    if region_list_is_stale(form, group):
        return show(
            form, values, _("Now choose your region from the list for the country you chose.")
        )
    if outcome.errors:
        for name, messages in outcome.errors.items():
            form[name].errors = messages
        return show(form, values, _("Some answers need your attention."), 422)
    return redirect(_page_url(slug, token, next_index(questionnaire, values, index)), 303)


def _appeared(group: Group, values: dict[str, Any], posted: Any) -> list[str]:
    """Return questions that became relevant after the page was drawn without JavaScript."""
    if posted.get("_js") == "1":
        return []
    shown = set(posted.get("_shown", "").split())
    return [
        q.name
        for q in group.questions
        if q.answers and q.name not in shown and holds(q.relevant, values) and q.name not in values
    ]


def _render_page(
    questionnaire: Questionnaire,
    group: Group,
    index: int,
    form: FlaskForm,
    values: dict[str, Any],
    token: str,
    notice: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    lang = g.lang
    visible = {q.name for q in group.questions if holds(q.relevant, values)}
    position, total = progress(questionnaire, values, index)
    others = {k: v for k, v in values.items() if k not in {q.name for q in group.questions}}
    return render_template(
        "survey/page.html",
        questionnaire=questionnaire,
        group=group,
        index=index,
        form=form,
        visible=visible,
        relevance=expression_data(questionnaire, group),
        earlier_answers=others,
        position=position,
        total=total,
        first=previous_index(questionnaire, values, index) == index,
        resume_url=_resume_url(questionnaire.slug, token),
        token=token,
        notice=notice,
        text=lambda texts: questionnaire.text(texts, lang),
    ), status


# -- review, submission, receipt --------------------------------------------------------------


@bp.route("/s/<slug>/d/<token>/review", methods=["GET", "POST"])
@limiter.limit(_config("RATELIMIT_DRAFT_PAGES"), key_func=_draft_key, methods=["POST"])
def review(slug: str, token: str) -> Any:
    """Show every answer for a last check, then store the response once."""
    draft, questionnaire = _open_draft(slug, token)
    if draft.submitted_at:
        return redirect(url_for("survey.done", slug=slug, token=token), 303)
    lang = _use_language(questionnaire, request.args.get("lang") or draft.language)
    closed = _closed(draft.version.survey, questionnaire)
    if closed:
        return closed
    ctx = Context(questionnaire, lang, _, draft.answers)
    outcome = check_response(questionnaire, draft.answers or {}, ctx)
    form = ReviewForm()
    notice = None
    if form.validate_on_submit() and outcome.ok:
        refused = link_respondents.refusal_page(draft.link_id, kept=True)
        if refused:
            return refused
        if not _link_allows_another(draft.link_id):
            notice = _(
                "Many answers came through this link from your network today. Your answers are "
                "kept: please send them again tomorrow."
            )
            return _render_review(outcome, form, ctx, token, notice, 429)
        try:
            responses.record_submission(
                draft.version,
                draft.submission_id,
                outcome.values,
                language=lang,
                consent_version=draft.consent_version,
                consent_language=draft.consent_language,
                consented_at=draft.consented_at,
                started_at=draft.created_at,
                link_id=draft.link_id,
                source=client_source(),
            )
        except responses.SubmissionWithdrawn:
            abort(409)
        except responses.SubmissionConflict:
            abort(409)
        services.finish_draft(draft)
        return redirect(url_for("survey.done", slug=slug, token=token), 303)
    if form.errors:
        notice = _("This page had expired. Your answers are still here: please send it again.")
    elif request.method == "POST" and not outcome.ok:
        notice = _("Some answers need your attention.")
    status = 422 if request.method == "POST" else 200
    return _render_review(outcome, form, ctx, token, notice, status)


def _link_allows_another(link_id: int | None) -> bool:
    """Count a response sent through a link from this address; False past the day's cap.

    One client sending many answers through one link would otherwise make the link's figures
    (and the places they name) reach k by itself.
    """
    if link_id is None or not limiter.enabled:
        return True
    cap = parse_many(current_app.config["RATELIMIT_LINK_SUBMISSIONS"])
    address = request.remote_addr or "unknown"
    return all(limiter.limiter.hit(item, "link-submissions", str(link_id), address) for item in cap)


def _render_review(
    outcome: Any, form: FlaskForm, ctx: Context, token: str, notice: str | None, status: int
) -> tuple[str, int]:
    questionnaire, lang = ctx.questionnaire, ctx.lang
    slug = questionnaire.slug
    rows = []
    for index, group in enumerate(questionnaire.groups):
        if not holds(group.relevant, outcome.values):
            continue
        items = []
        for question in group.questions:
            if not question.answers or not holds(question.relevant, outcome.values):
                continue
            value = outcome.values.get(question.name)
            items.append(
                {
                    "label": questionnaire.text(question.label, lang),
                    "answer": question.kind.display(question, value, ctx),
                    "errors": outcome.errors.get(question.name, []),
                }
            )
        rows.append(
            {"label": questionnaire.text(group.label, lang), "index": index, "items": items}
        )
    return render_template(
        "survey/review.html",
        questionnaire=questionnaire,
        rows=rows,
        form=form,
        ok=outcome.ok,
        notice=notice,
        token=token,
        last_page=previous_index(questionnaire, outcome.values, len(questionnaire.groups)),
        resume_url=_resume_url(slug, token),
    ), status


@bp.route("/s/<slug>/d/<token>/done")
def done(slug: str, token: str) -> Any:
    """Thank the respondent and show the receipt code that lets them withdraw."""
    draft, questionnaire = _open_draft(slug, token)
    if not draft.submitted_at:
        return redirect(url_for("survey.resume", slug=slug, token=token))
    _use_language(questionnaire, request.args.get("lang") or draft.language)
    return render_template(
        "survey/done.html", questionnaire=questionnaire, receipt=services.take_receipt(draft)
    )


@bp.route("/withdraw", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def withdraw() -> Any:
    """Delete a response by its receipt code."""
    lang = resolve_language(
        current_app.config["LANGUAGES"],
        current_app.config["DEFAULT_LANGUAGE"],
        request.args.get("lang"),
    )
    set_language(lang, remember=bool(request.args.get("lang")))
    form = WithdrawForm()
    result = None
    if form.validate_on_submit():
        code = (form.code.data or "").strip()
        if not code:
            form.code.errors = [_("Enter the receipt code from the thank-you page.")]
        elif responses.withdraw(code, client_source()):
            result = "deleted"
        else:
            result = "unknown"
    return render_template("survey/withdraw.html", form=form, result=result)
