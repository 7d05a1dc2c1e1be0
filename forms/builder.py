"""Build a WTForms form for one page of a questionnaire, afresh for every request.

Fields only parse and render; :mod:`forms.validation` decides what is accepted, so the page and
the JSON API agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wtforms import Form

from forms import names
from forms.schema import Group, Questionnaire
from forms.types import QUESTION_TYPES, Context, country_select_choices, select_choices


def build_page_form(base: type[Form], group: Group, ctx: Context) -> type[Form]:
    """Return a new form class with one field per question of ``group``.

    :param base: the form class to extend (``FlaskForm`` in the app, for CSRF).
    :param group: the page.
    :param ctx: the questionnaire, language and gettext for labels and choices.
    """
    form_class = type("QuestionnaireForm", (base,), {})
    for question in group.questions:
        unbound = QUESTION_TYPES[question.type].field(question, ctx)
        if unbound is not None:
            setattr(form_class, question.name, unbound)
    return form_class


def form_data(group: Group, values: Mapping[str, Any]) -> dict[str, Any]:
    """Return stored answers as the ``data`` a page form is filled with."""
    return {
        q.name: QUESTION_TYPES[q.type].form_data(q, values.get(q.name))
        for q in group.questions
        if q.answers
    }


def prepare(form: Form, group: Group, ctx: Context) -> None:
    """Fill the lists that depend on other answers: regions of the chosen country."""
    for question in group.questions:
        if question.type != "location":
            continue
        sub = form[question.name]
        sub.country.choices = country_select_choices(ctx.lang)
        country = (sub.country.data or "").upper()
        sub.region.choices = select_choices([("", "—"), *names.region_choices(country, ctx.lang)])
        sub.regions_for.data = country


def raw_answers(form: Form, group: Group) -> dict[str, Any]:
    """Return what the respondent sent on the page, by question name, for validation."""
    raw: dict[str, Any] = {}
    for question in group.questions:
        if not question.answers:
            continue
        field = form[question.name]
        if question.type == "location":
            raw[question.name] = {
                key: field[key].data for key in ("country", "region", "city", "lat", "lon")
            }
        else:
            raw[question.name] = field.data
    return raw


def region_list_is_stale(form: Form, group: Group) -> list[str]:
    """Return the location questions whose country changed since their region list was drawn.

    Without JavaScript the region list is drawn by the server for the country it knew; when the
    respondent picks another country the page is shown again with that country's regions.
    """
    stale = []
    for question in group.questions:
        if question.type == "location":
            sub = form[question.name]
            chosen = (sub.country.data or "").upper()
            if chosen and chosen != (sub.regions_for.raw_data or [""])[0].upper():
                if names.region_choices(chosen, "en"):
                    stale.append(question.name)
    return stale


def expression_data(questionnaire: Questionnaire, group: Group) -> dict[str, Any]:
    """Return each question's ``relevant`` tree as JSON, for the page script."""
    return {q.name: q.relevant.to_json() for q in group.questions if q.relevant is not None}
