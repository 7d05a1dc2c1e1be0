"""Moving through a questionnaire's pages: which page comes next, which before, how far along.

Pages whose ``relevant`` condition is false for the answers so far are skipped, both ways. The
review page after the last one is a step of its own: it counts in the progress, and "next" from
the last page is ``None``, which the survey takes to mean the review page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from forms.schema import Questionnaire
from forms.validation import holds


def next_index(questionnaire: Questionnaire, values: Mapping[str, Any], after: int) -> int | None:
    """Return the first relevant page after ``after``, or None when only the review is left.

    :param after: a page index; -1 asks for the first page.
    """
    for index in range(after + 1, len(questionnaire.groups)):
        if holds(questionnaire.groups[index].relevant, values):
            return index
    return None


def previous_index(questionnaire: Questionnaire, values: Mapping[str, Any], before: int) -> int:
    """Return the last relevant page before ``before``, or ``before`` itself when there is none.

    :param before: a page index; ``len(questionnaire.groups)`` asks for the last page.
    """
    for index in range(before - 1, -1, -1):
        if holds(questionnaire.groups[index].relevant, values):
            return index
    return before


def progress(
    questionnaire: Questionnaire, values: Mapping[str, Any], index: int
) -> tuple[int, int]:
    """Return ``(step, steps)``: the page's place among the relevant pages and the review page.

    A page that is not relevant (any more) counts as the first step.
    """
    shown = [i for i, grp in enumerate(questionnaire.groups) if holds(grp.relevant, values)]
    position = shown.index(index) + 1 if index in shown else 1
    return position, len(shown) + 1  # the review page is the last step
