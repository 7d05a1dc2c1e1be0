"""Build a WTForms form for one page of a questionnaire, afresh for every request.

Fields only parse and render; :mod:`forms.validation` decides what is accepted, so the page and
the JSON API agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wtforms import Form

from forms.schema import Group, Questionnaire
from forms.types import Context


def build_page_form(base: type[Form], group: Group, ctx: Context) -> type[Form]:
    """Return a new form class with one field per question of ``group``.

    :param base: the form class to extend (``FlaskForm`` in the app, for CSRF).
    :param group: the page.
    :param ctx: the questionnaire, language and gettext for labels and choices.
    """
    form_class = type("QuestionnaireForm", (base,), {})
    for question in group.questions:
        unbound = question.kind.field(question, ctx)
        if unbound is not None:
            setattr(form_class, question.name, unbound)
    return form_class


def form_data(group: Group, values: Mapping[str, Any]) -> dict[str, Any]:
    """Return stored answers as the ``data`` a page form is filled with."""
    return {q.name: q.kind.form_data(q, values.get(q.name)) for q in group.questions if q.answers}


def prepare(form: Form, group: Group, ctx: Context) -> None:
    """Fill the lists that depend on other answers or the language (a country's regions)."""
    for question in group.questions:
        if question.answers:
            question.kind.prepare_field(form[question.name], ctx)


def raw_answers(form: Form, group: Group) -> dict[str, Any]:
    """Return what the respondent sent on the page, by question name, for validation."""
    return {q.name: q.kind.raw_value(form[q.name]) for q in group.questions if q.answers}


def region_list_is_stale(form: Form, group: Group) -> list[str]:
    """Return the questions whose fields were drawn for other answers than those sent.

    Such a page is shown again, drawn anew: a location's region list, drawn without JavaScript
    for the country the server knew, after the respondent picked another country.
    """
    return [q.name for q in group.questions if q.answers and q.kind.field_is_stale(form[q.name])]


def expression_data(questionnaire: Questionnaire, group: Group) -> dict[str, Any]:
    """Return each question's ``relevant`` tree as JSON, for the page script."""
    return {q.name: q.relevant.to_json() for q in group.questions if q.relevant is not None}
