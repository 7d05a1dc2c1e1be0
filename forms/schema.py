"""The questionnaire as loaded: immutable dataclasses built by :mod:`forms.loader`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from forms.expr import Node
from forms.i18n import pick
from forms.types import QUESTION_TYPES, QuestionType

#: The semantic roles a questionnaire maps onto its questions; maps and profiles read these.
ROLES: tuple[str, ...] = (
    "residence_country",
    "residence_region",
    "residence_city",
    "geopoint",
    "citizenship",
    "sex",
    "age",
    "education",
    "occupation",
    "skills",
    "languages",
    "needs",
    "contribution",
    "return_intention",
    "specialist_consent",
    "contact_email",
)

Texts = Mapping[str, str]


@dataclass(frozen=True)
class Choice:
    """One option of a choice list."""

    name: str
    label: Texts


@dataclass(frozen=True)
class Question:
    """One row of the ``survey`` section."""

    name: str
    type: str
    group: str
    row: int
    label: Texts
    hint: Texts = field(default_factory=dict)
    required: bool = False
    relevant: Node | None = None
    constraint: Node | None = None
    constraint_message: Texts = field(default_factory=dict)
    choices: str | None = None
    appearance: str | None = None
    min: float | None = None
    max: float | None = None
    max_length: int | None = None

    @property
    def kind(self) -> QuestionType:
        """Return the question's type, which owns how its answers are read, shown and kept."""
        return QUESTION_TYPES[self.type]

    @property
    def answers(self) -> bool:
        """Return whether the question takes an answer (a note does not)."""
        return self.kind.answers


@dataclass(frozen=True)
class Group:
    """A page of the questionnaire."""

    name: str
    label: Texts
    questions: tuple[Question, ...]
    relevant: Node | None = None


@dataclass(frozen=True)
class Consent:
    """The consent statement shown before the first page."""

    version: str
    text: Texts


@dataclass(frozen=True)
class Questionnaire:
    """A whole questionnaire, checked and with every expression parsed."""

    slug: str
    title: Texts
    languages: tuple[str, ...]
    default_language: str
    consent: Consent
    groups: tuple[Group, ...]
    choices: Mapping[str, tuple[Choice, ...]]
    roles: Mapping[str, str]
    #: The file's own version label (the database numbers versions itself).
    version_label: str | None = None
    description: Texts = field(default_factory=dict)
    opens: date | None = None
    closes: date | None = None
    #: The parsed YAML document, kept so a stored version can be loaded again exactly.
    source: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def questions(self) -> Iterator[Question]:
        """Iterate over every question in page order."""
        for group in self.groups:
            yield from group.questions

    def question(self, name: str) -> Question:
        """Return the question called ``name`` (KeyError if there is none)."""
        for question in self.questions():
            if question.name == name:
                return question
        raise KeyError(name)

    def text(self, texts: Texts | None, lang: str) -> str:
        """Return ``texts`` in ``lang``, falling back to the default language."""
        return pick(texts, lang, self.default_language)

    def choice_list(self, question: Question) -> tuple[Choice, ...]:
        """Return the choices of a select question."""
        return self.choices.get(question.choices or "", ())

    def role_question(self, role: str) -> tuple[str, str | None] | None:
        """Return ``(question name, part)`` for a role, or None when the role is not mapped."""
        target = self.roles.get(role)
        if not target:
            return None
        name, _, part = target.partition(".")
        return name, part or None

    def role_answer(self, role: str, answers: Mapping[str, Any]) -> Any:
        """Return the answer a role names (a part of a location answer for ``name.part``)."""
        target = self.role_question(role)
        if target is None:
            return None
        value = answers.get(target[0])
        if target[1] is not None:
            return value.get(target[1]) if isinstance(value, Mapping) else None
        return value

    def is_open_on(self, day: date) -> bool:
        """Return whether the questionnaire's own dates admit answers on ``day``."""
        if self.opens and day < self.opens:
            return False
        return not (self.closes and day > self.closes)
