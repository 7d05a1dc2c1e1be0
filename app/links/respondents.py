"""What respondents meet of distribution links, for the survey pages and the short link.

The survey blueprint asks here (never the links views) which link a respondent came through and
what to show when that link no longer takes responses.
"""

from __future__ import annotations

from typing import Any

from flask import abort, g, render_template, request, session
from flask_babel import gettext as _

from app.extensions import db
from app.i18n import resolve_language, set_language
from app.links import services
from app.links.models import DistributionLink
from app.models import Survey
from app.questionnaires import newest_questionnaire


def _refusal_text(state: str) -> str:
    return {
        "paused": _("This link is paused for now. Please try again later."),
        "revoked": _(
            "This link is no longer in use. Ask the organisation that shared it for a new one."
        ),
        "not_yet": _("This link is not open yet. Please come back later."),
        "closed": _("This link has closed and takes no more responses."),
        "full": _("This link has received all the responses it was meant for. Thank you."),
    }[state]


def unavailable_page(link: DistributionLink, state: str, kept: bool = False) -> Any:
    """Render the message of a link that takes no responses, in the respondent's language.

    :param kept: the respondent has a draft, which is kept.
    """
    questionnaire = newest_questionnaire(link.survey)
    if questionnaire is None:
        abort(404)
    lang = resolve_language(
        questionnaire.languages,
        questionnaire.default_language,
        request.args.get("lang") or (None if kept else link.language),
    )
    set_language(lang)
    g.offered_languages = list(questionnaire.languages)
    return render_template(
        "links/unavailable.html",
        questionnaire=questionnaire,
        message=_refusal_text(state),
        kept=kept,
    ), 410


def refusal_page(link_id: int | None, kept: bool = False) -> Any:
    """Return the message page when the link a respondent came through takes no responses."""
    refused = services.refusal(link_id)
    return unavailable_page(*refused, kept=kept) if refused else None


def link_of_session(survey: Survey) -> int | None:
    """Return the id of the link the respondent came through, if it was for this survey."""
    link_id = session.get("link_id")
    if not isinstance(link_id, int):
        return None
    link = db.session.get(DistributionLink, link_id)
    return link.id if link is not None and link.survey_id == survey.id else None
