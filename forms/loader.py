"""Load a questionnaire file, check all of it, and report every problem with file and row."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from forms.expr import ExpressionError, Node, parse
from forms.i18n import N_, Gettext, identity
from forms.schema import ROLES, Choice, Consent, Group, Question, Questionnaire
from forms.translit import to_latin
from forms.types import QUESTION_TYPES

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
#: Languages whose texts are generated from another language's when a file gives none:
#: Latin Kazakh is transliterated from Cyrillic (forms/translit.py), never kept by hand.
DERIVED_LANGUAGES: dict[str, tuple[str, Callable[[str], str]]] = {"kk-Latn": ("kk", to_latin)}
#: How deep and how large a questionnaire file may be: the bundled one is 6 levels deep and
#: holds some 3,600 values, and a file of the upload limit (512 KB) about 25,000.
MAX_DEPTH = 64
MAX_NODES = 100_000


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a questionnaire file."""

    file: str
    where: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def format(self, gettext: Gettext = identity) -> str:
        """Return ``file, where: message`` with the message translated by ``gettext``."""
        # "what" names a part of the file (label, relevant...): a msgid of its own.
        params = {k: gettext(v) if k == "what" else v for k, v in self.params.items()}
        return f"{self.file}, {self.where}: {gettext(self.message) % params}"


class QuestionnaireError(ValueError):
    """A questionnaire file that cannot be loaded, with every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(p.format() for p in problems))

    def format(self, gettext: Gettext = identity) -> list[str]:
        """Return each problem as a line in the caller's language."""
        return [p.format(gettext) for p in self.problems]


class _Refused(yaml.YAMLError):
    """A structure a questionnaire file may not have, found while it is parsed."""

    def __init__(self, message: str, mark: Any, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.where = f"line {mark.line + 1}" if mark else "file"
        self.params = params


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader without anchors and aliases, with bounded depth and size.

    An alias repeats a node without repeating its text: seven levels of nine aliases make a
    few hundred bytes that stand for 4.8 million strings (the "billion laughs"), which every
    later step (checking, JSON, hashing) walks in full. Nesting deeper than Python's stack
    makes the composer, which recurses, fail with RecursionError. A questionnaire needs
    neither, so both are refused while parsing, before anything is built.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0
        self.nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(
                N_("uses a YAML anchor or alias (& or *): write each part out in full"),
                event.start_mark,
            )
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Refused(N_("has more than %(n)d values"), event.start_mark, n=MAX_NODES)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Refused(
                N_("is nested more than %(n)d levels deep"), event.start_mark, n=MAX_DEPTH
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def parse_yaml(text: str) -> Any:
    """Parse YAML text as a questionnaire file may be written: no aliases, bounded size.

    :raises yaml.YAMLError: for text that is not YAML, or is refused.
    """
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def load_path(path: str | Path) -> Questionnaire:
    """Read and check a questionnaire file.

    :param path: a YAML questionnaire file.
    :return: the checked questionnaire.
    :raises QuestionnaireError: listing every problem in the file.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionnaireError(
            [Problem(path.name, "file", N_("cannot be read: %(reason)s"), {"reason": str(exc)})]
        ) from exc
    return load_text(text, path.name)


def load_text(text: str, filename: str = "<questionnaire>") -> Questionnaire:
    """Parse YAML text and check it as a questionnaire."""
    try:
        document = parse_yaml(text)
    except _Refused as exc:
        raise QuestionnaireError([Problem(filename, exc.where, exc.message, exc.params)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "file"
        raise QuestionnaireError(
            [Problem(filename, where, N_("is not valid YAML: %(reason)s"), {"reason": str(exc)})]
        ) from exc
    if "\\u0000" in json.dumps(document, default=str):
        # A NUL character (the YAML escape \0) cannot be stored by PostgreSQL, nor is it meant.
        raise QuestionnaireError(
            [Problem(filename, "file", N_("contains a NUL character (U+0000)"))]
        )
    return load_document(document, filename)


def load_document(document: Any, filename: str = "<questionnaire>") -> Questionnaire:
    """Check an already parsed document and build the questionnaire."""
    return _Loader(filename).load(document)


class _Loader:
    """Collects problems while building a questionnaire, so one run reports them all."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[Problem] = []
        self.languages: tuple[str, ...] = ()

    def problem(self, where: str, message: str, **params: Any) -> None:
        self.problems.append(Problem(self.filename, where, message, params))

    # -- pieces ---------------------------------------------------------------------------

    def texts(self, value: Any, where: str, what: str, required: bool = True) -> dict[str, str]:
        """Check a per-language text mapping: one non-empty string for every language."""
        if value is None:
            if required:
                self.problem(where, N_("missing %(what)s"), what=what)
            return {}
        if isinstance(value, str) and len(self.languages) == 1:
            value = {self.languages[0]: value}
        if not isinstance(value, dict):
            self.problem(where, N_("%(what)s must map each language to a text"), what=what)
            return {}
        texts = {str(k): v for k, v in value.items()}
        for lang in self.languages:
            source, derive = DERIVED_LANGUAGES.get(lang, ("", None))
            if derive and lang not in texts and isinstance(texts.get(source), str):
                texts[lang] = derive(texts[source])
        for lang in self.languages:
            text = texts.get(lang)
            if not isinstance(text, str) or not text.strip():
                self.problem(
                    where, N_("missing %(what)s for language %(lang)s"), what=what, lang=lang
                )
        for lang in texts:
            if lang not in self.languages:
                self.problem(
                    where, N_("%(what)s in undeclared language %(lang)s"), what=what, lang=lang
                )
        return {k: str(v).strip() for k, v in texts.items() if isinstance(v, str)}

    def expression(self, text: Any, where: str, what: str) -> Node | None:
        if text is None or text == "":
            return None
        if not isinstance(text, str | int | float) or isinstance(text, bool):
            self.problem(where, N_("%(what)s must be an expression"), what=what)
            return None
        try:
            return parse(str(text))
        except ExpressionError as exc:
            self.problem(
                where, N_("syntax error in %(what)s: %(reason)s"), what=what, reason=str(exc)
            )
            return None

    def date(self, value: Any, where: str) -> dt.date | None:
        if value is None or isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.problem(where, N_("%(value)s is not a date (YYYY-MM-DD)"), value=str(value))
            return None

    def number(self, value: Any, where: str, key: str) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(where, N_("%(key)s must be a number"), key=key)
            return None
        return value

    # -- sections -------------------------------------------------------------------------

    def load(self, document: Any) -> Questionnaire:
        if not isinstance(document, dict):
            self.problem("file", N_("must be a mapping with settings, groups and survey"))
            raise QuestionnaireError(self.problems)
        settings = document.get("settings")
        if not isinstance(settings, dict):
            self.problem("settings", N_("missing settings section"))
            settings = {}
        slug = settings.get("slug")
        if not isinstance(slug, str) or not SLUG_RE.match(slug):
            self.problem("settings", N_("slug must be lower-case letters, digits and hyphens"))
            slug = "invalid"
        languages = settings.get("languages")
        if not isinstance(languages, list) or not languages:
            self.problem("settings", N_("languages must list at least one language"))
            languages = []
        for lang in languages:
            if not isinstance(lang, str) or not LANG_RE.match(lang):
                self.problem("settings", N_("%(lang)s is not a language tag"), lang=str(lang))
        self.languages = tuple(str(lang) for lang in languages)
        if len(set(self.languages)) != len(self.languages):
            self.problem("settings", N_("a language is listed twice"))
        default = settings.get("default_language", self.languages[0] if self.languages else "")
        if default not in self.languages:
            self.problem(
                "settings",
                N_("default language %(lang)s is not among the languages"),
                lang=str(default),
            )
        title = self.texts(settings.get("title"), "settings", N_("title"))
        description = self.texts(
            settings.get("description"), "settings", N_("description"), required=False
        )
        consent_doc = settings.get("consent")
        if not isinstance(consent_doc, dict):
            self.problem("settings", N_("missing consent (version and text)"))
            consent_doc = {}
        consent = Consent(
            version=str(consent_doc.get("version", "")) or "1",
            text=self.texts(consent_doc.get("text"), "settings.consent", N_("consent text")),
        )
        choices = self.load_choices(document.get("choices") or {})
        groups_doc = document.get("groups")
        if not isinstance(groups_doc, list) or not groups_doc:
            self.problem("groups", N_("groups must list at least one page"))
            groups_doc = []
        rows = document.get("survey")
        if not isinstance(rows, list) or not rows:
            self.problem("survey", N_("survey must list at least one question"))
            rows = []
        questions = self.load_rows(
            rows, choices, {g.get("name") for g in groups_doc if isinstance(g, dict)}
        )
        groups = self.load_groups(groups_doc, questions)
        roles = self.load_roles(document.get("roles") or {}, questions)
        self.check_references(questions, groups)
        if self.problems:
            raise QuestionnaireError(self.problems)
        return Questionnaire(
            slug=slug,
            title=title,
            description=description,
            languages=self.languages,
            default_language=default,
            consent=consent,
            groups=groups,
            choices=choices,
            roles=roles,
            version_label=str(settings["version"]) if settings.get("version") else None,
            opens=self.date(settings.get("opens"), "settings"),
            closes=self.date(settings.get("closes"), "settings"),
            source=document,
        )

    def load_choices(self, doc: Any) -> dict[str, tuple[Choice, ...]]:
        if not isinstance(doc, dict):
            self.problem("choices", N_("choices must map list names to options"))
            return {}
        lists: dict[str, tuple[Choice, ...]] = {}
        for list_name, options in doc.items():
            where = f"choices.{list_name}"
            if not isinstance(options, list) or not options:
                self.problem(where, N_("a choice list needs at least one option"))
                continue
            seen: set[str] = set()
            built = []
            for position, option in enumerate(options, start=1):
                at = f"{where} #{position}"
                if not isinstance(option, dict):
                    self.problem(at, N_("an option needs a name and a label"))
                    continue
                name = str(option.get("name", ""))
                if not re.match(r"^[A-Za-z0-9_.-]+$", name):
                    self.problem(at, N_("option name %(name)s is not valid"), name=name)
                if name in seen:
                    self.problem(at, N_("duplicate option %(name)s"), name=name)
                seen.add(name)
                built.append(Choice(name, self.texts(option.get("label"), at, N_("label"))))
            lists[str(list_name)] = tuple(built)
        return lists

    def load_rows(
        self, rows: list[Any], choices: Mapping[str, Any], group_names: set[Any]
    ) -> list[Question]:
        questions: list[Question] = []
        seen: set[str] = set()
        for row, doc in enumerate(rows, start=1):
            where = f"survey row {row}"
            if not isinstance(doc, dict):
                self.problem(where, N_("a row must be a mapping"))
                continue
            name = str(doc.get("name", ""))
            if not NAME_RE.match(name):
                self.problem(where, N_("name %(name)s is not valid"), name=name)
            elif name in seen:
                self.problem(where, N_("duplicate name %(name)s"), name=name)
            seen.add(name)
            where = f"survey row {row} ({name})"
            qtype = str(doc.get("type", ""))
            if qtype not in QUESTION_TYPES:
                self.problem(where, N_("unknown type %(type)s"), type=qtype)
            group = str(doc.get("group", ""))
            if group not in group_names:
                self.problem(where, N_("unknown group %(group)s"), group=group)
            list_name = doc.get("choices")
            kind = QUESTION_TYPES.get(qtype)
            if kind is not None and kind.needs_choices:
                if not list_name:
                    self.problem(where, N_("a %(type)s question needs a choice list"), type=qtype)
                elif list_name not in choices:
                    self.problem(where, N_("unknown choice list %(name)s"), name=str(list_name))
            constraint = self.expression(doc.get("constraint"), where, N_("constraint"))
            message = self.texts(
                doc.get("constraint_message"),
                where,
                N_("constraint message"),
                required=constraint is not None,
            )
            max_length = doc.get("max_length")
            if max_length is not None and (not isinstance(max_length, int) or max_length < 1):
                self.problem(where, N_("max_length must be a positive whole number"))
                max_length = None
            questions.append(
                Question(
                    name=name,
                    type=qtype,
                    group=group,
                    row=row,
                    label=self.texts(doc.get("label"), where, N_("label")),
                    hint=self.texts(doc.get("hint"), where, N_("hint"), required=False)
                    if doc.get("hint")
                    else {},
                    required=bool(doc.get("required", False)),
                    relevant=self.expression(doc.get("relevant"), where, N_("relevant")),
                    constraint=constraint,
                    constraint_message=message,
                    choices=str(list_name) if list_name else None,
                    appearance=str(doc["appearance"]) if doc.get("appearance") else None,
                    min=self.number(doc.get("min"), where, "min"),
                    max=self.number(doc.get("max"), where, "max"),
                    max_length=max_length,
                )
            )
        return questions

    def load_groups(self, docs: list[Any], questions: list[Question]) -> tuple[Group, ...]:
        groups = []
        seen: set[str] = set()
        for position, doc in enumerate(docs, start=1):
            where = f"groups #{position}"
            if not isinstance(doc, dict):
                self.problem(where, N_("a group needs a name and a label"))
                continue
            name = str(doc.get("name", ""))
            if not NAME_RE.match(name):
                self.problem(where, N_("name %(name)s is not valid"), name=name)
            if name in seen:
                self.problem(where, N_("duplicate name %(name)s"), name=name)
            seen.add(name)
            members = tuple(q for q in questions if q.group == name)
            if not members:
                self.problem(where, N_("page %(name)s has no questions"), name=name)
            groups.append(
                Group(
                    name=name,
                    label=self.texts(doc.get("label"), where, N_("label")),
                    questions=members,
                    relevant=self.expression(doc.get("relevant"), where, N_("relevant")),
                )
            )
        return tuple(groups)

    def load_roles(self, doc: Any, questions: list[Question]) -> dict[str, str]:
        if not isinstance(doc, dict):
            self.problem("roles", N_("roles must map role names to questions"))
            return {}
        by_name = {q.name: q for q in questions}
        roles: dict[str, str] = {}
        for role, target in doc.items():
            where = f"roles.{role}"
            if role not in ROLES:
                self.problem(where, N_("unknown role %(role)s"), role=str(role))
                continue
            name, _, part = str(target).partition(".")
            question = by_name.get(name)
            if question is None:
                self.problem(where, N_("reference to unknown question %(name)s"), name=name)
                continue
            kind = QUESTION_TYPES.get(question.type)  # None: reported as an unknown type
            if part and part not in (kind.parts if kind else ()):
                self.problem(where, N_("%(target)s is not a part of a location"), target=target)
                continue
            roles[str(role)] = str(target)
        return roles

    def check_references(self, questions: list[Question], groups: tuple[Group, ...]) -> None:
        """Check that every ``${name}`` names a question, on this page or an earlier one."""
        names = {q.name for q in questions}
        for question in questions:
            for what, node in (
                ("relevant", question.relevant),
                ("constraint", question.constraint),
            ):
                for ref in node.references() if node else ():
                    if ref.partition(".")[0] not in names:
                        self.problem(
                            f"survey row {question.row} ({question.name})",
                            N_("%(what)s refers to unknown question %(name)s"),
                            what=what,
                            name=ref,
                        )
        for group in groups:
            for ref in group.relevant.references() if group.relevant else ():
                if ref.partition(".")[0] not in names:
                    self.problem(
                        f"groups ({group.name})",
                        N_("%(what)s refers to unknown question %(name)s"),
                        what="relevant",
                        name=ref,
                    )
