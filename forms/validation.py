"""Check answers against a questionnaire: types, required, relevance and constraints.

The same functions serve the respondent's pages (one group at a time) and the JSON API and the
final submission (the whole response), so both paths accept and refuse exactly the same things.
An answer to a question that is not relevant is dropped, never stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from forms.expr import Node, evaluate, is_true
from forms.i18n import N_
from forms.schema import Group, Question, Questionnaire
from forms.types import Context, Invalid


@dataclass
class Outcome:
    """Clean answers and the messages for each question that was refused."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def holds(node: Node | None, values: Mapping[str, Any], current: Any = "") -> bool:
    """Return whether an optional condition holds (no condition always holds)."""
    if node is None:
        return True
    return is_true(evaluate(node, values, current=current, today=dt.date.today()))


def group_is_relevant(group: Group, values: Mapping[str, Any]) -> bool:
    """Return whether a page should be shown, given the answers so far."""
    return holds(group.relevant, values)


def relevant_groups(questionnaire: Questionnaire, values: Mapping[str, Any]) -> list[Group]:
    """Return the pages to show, in order."""
    return [g for g in questionnaire.groups if group_is_relevant(g, values)]


def check_question(question: Question, raw: Any, values: dict[str, Any], ctx: Context) -> Any:
    """Coerce and check one answer; return the stored value or raise :class:`Invalid`.

    :param values: the answers so far, including this page's earlier questions.
    """
    value = question.kind.coerce(question, raw, ctx)
    if value is None:
        if question.required:
            raise Invalid(N_("Please answer this question."))
        return None
    if question.constraint is not None:
        current = value if not isinstance(value, list) else " ".join(value)
        if not holds(question.constraint, values, current=current):
            message = ctx.label(question.constraint_message)
            # The questionnaire's own message is already in the respondent's language.
            raise Invalid(
                message.replace("%", "%%") if message else N_("This answer is not allowed.")
            )
    return value


def check_group(
    questionnaire: Questionnaire,
    group: Group,
    raw: Mapping[str, Any],
    prior: Mapping[str, Any],
    ctx: Context,
) -> Outcome:
    """Check one page's answers given the answers from the other pages.

    :param raw: what was sent for this page, by question name.
    :param prior: stored answers from every page, this one's included (they are replaced).
    :return: the page's clean answers (irrelevant ones absent) and its errors.
    """
    values = {k: v for k, v in prior.items() if k not in {q.name for q in group.questions}}
    outcome = Outcome()
    for question in group.questions:
        if not question.answers or not holds(question.relevant, values):
            continue
        try:
            value = check_question(question, raw.get(question.name), values, ctx)
        except Invalid as exc:
            outcome.errors[question.name] = [exc.text(ctx.gettext)]
            continue
        if value is not None:
            values[question.name] = value
            outcome.values[question.name] = value
    return outcome


def check_response(questionnaire: Questionnaire, raw: Mapping[str, Any], ctx: Context) -> Outcome:
    """Check a whole response, page by page, as the final submission and the API do.

    Unknown question names are refused; answers to pages or questions that are not relevant are
    dropped.
    """
    known = {q.name for q in questionnaire.questions() if q.answers}
    outcome = Outcome()
    for name in raw:
        if name not in known:
            outcome.errors[str(name)[:100]] = [ctx.gettext(N_("There is no such question."))]
    values: dict[str, Any] = {}
    for group in questionnaire.groups:
        if not group_is_relevant(group, values):
            continue
        page = check_group(questionnaire, group, raw, values, ctx)
        values.update(page.values)
        outcome.errors.update(page.errors)
    outcome.values = values
    return outcome


def check_json_types(
    questionnaire: Questionnaire, raw: Mapping[str, Any], ctx: Context
) -> dict[str, list[str]]:
    """Return messages for the answers whose JSON type or form the API description forbids.

    The JSON API checks this before :func:`check_response`, whose reading is as lenient as a
    page needs (an empty field, text for a number). Every answer sent is checked, relevant or
    not: the description knows nothing of relevance. Unknown names are left to
    :func:`check_response`.
    """
    errors: dict[str, list[str]] = {}
    for question in questionnaire.questions():
        if not question.answers or question.name not in raw:
            continue
        value = raw[question.name]
        try:
            if value is None:
                raise Invalid(N_("Leave out a question you do not answer: null is not an answer."))
            question.kind.check_json(question, value, ctx)
        except Invalid as exc:
            errors[question.name] = [exc.text(ctx.gettext)]
    return errors


def drop_irrelevant(questionnaire: Questionnaire, values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the answers without those whose page or question is no longer relevant."""
    kept: dict[str, Any] = {}
    for group in questionnaire.groups:
        if not group_is_relevant(group, kept):
            continue
        for question in group.questions:
            if question.name in values and holds(question.relevant, kept):
                kept[question.name] = values[question.name]
    return kept
