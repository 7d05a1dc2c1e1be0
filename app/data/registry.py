"""The consented specialists registry: search, one contact at a time, every look audited.

Only respondents who answered the questionnaire's ``specialist_consent`` question with "yes" are
listed, and only with what that consent statement promises: occupation, skills, experience,
languages, country of residence (not region or city) and e-mail address. In the bundled
questionnaire these are the questions with the roles occupation, skills and languages, their
free-text companions (job title, description and years of experience, other languages), the
country part of the location, and the contact_email role, which is shown only on an explicit
"show contact" action.

Analysts can also search by willingness to contribute (the ``contribution`` role), as the issue
asks; the answer is used as a filter and never shown. (Flagged for the data protection lead: the
consent statement does not name it.)

A withdrawn response is deleted (:func:`app.responses.withdraw`), so it leaves the registry
at once: every search reads the responses table afresh.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import and_, false, or_, select

from app import questionnaires
from app.accounts.services import record
from app.extensions import db
from app.models import Response, Survey, SurveyVersion
from app.questionnaires import questionnaire_of
from forms import names
from forms.schema import Questionnaire

#: Search filters that name a role's choice code.
FILTER_ROLES = ("skills", "occupation", "languages", "contribution")
#: Questions shown with a role, by the role they accompany (matched by name, when present).
COMPANIONS = {
    "occupation": "occupation_detail",
    "experience": "experience",
    "years_experience": "years_experience",
    "languages_other": "languages_other",
}
#: At most this many entries are listed per search; the total is always given.
PAGE_SIZE = 100


@dataclass(frozen=True)
class RegistryFilters:
    """What an analyst searches the registry for (choice codes and an ISO country code)."""

    skill: str | None = None
    occupation: str | None = None
    country: str | None = None
    language: str | None = None
    contribution: str | None = None

    def as_details(self) -> dict[str, str]:
        """Return the filters that are set, for the audit log."""
        return {k: v for k, v in asdict(self).items() if v}


@dataclass(frozen=True)
class Specialist:
    """A registry entry: only the fields the specialist consent covers (e-mail apart)."""

    response_id: int
    country: str | None
    country_name: str
    occupation: str
    occupation_detail: str
    skills: tuple[str, ...]
    experience: str
    years_experience: Any
    languages: tuple[str, ...]
    languages_other: str
    has_contact: bool


@dataclass(frozen=True)
class SearchResult:
    """Entries found: ``total`` of them, the first :data:`PAGE_SIZE` in ``shown``."""

    total: int
    shown: list[Specialist]


def _consenting(versions: list[SurveyVersion]) -> Any:
    """Return an SQL condition: the response said "yes" to its version's specialist consent."""
    conditions = []
    for version in versions:
        target = questionnaire_of(version).role_question("specialist_consent")
        if target is None:
            continue
        conditions.append(
            and_(
                Response.version_id == version.id,
                Response.answers[target[0]].as_string() == "yes",
            )
        )
    return or_(*conditions) if conditions else false()


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _entry(row: Any, questionnaire: Questionnaire, lang: str) -> Specialist:
    answers = row.answers if isinstance(row.answers, dict) else {}
    occupation = questionnaires.role_labels(questionnaire, "occupation", lang)
    skills = questionnaires.role_labels(questionnaire, "skills", lang)
    languages = questionnaires.role_labels(questionnaire, "languages", lang)
    occupation_code = questionnaire.role_answer("occupation", answers)
    years = answers.get(COMPANIONS["years_experience"])
    return Specialist(
        response_id=row.id,
        country=row.country,
        country_name=names.country_names(lang).get(row.country or "", row.country or ""),
        occupation=occupation.get(occupation_code, _text(occupation_code)),
        occupation_detail=_text(answers.get(COMPANIONS["occupation"])),
        skills=tuple(
            skills.get(s, str(s)) for s in _as_list(questionnaire.role_answer("skills", answers))
        ),
        experience=_text(answers.get(COMPANIONS["experience"])),
        years_experience=years if isinstance(years, int | float) else None,
        languages=tuple(
            languages.get(s, str(s))
            for s in _as_list(questionnaire.role_answer("languages", answers))
        ),
        languages_other=_text(answers.get(COMPANIONS["languages_other"])),
        has_contact=bool(_text(questionnaire.role_answer("contact_email", answers))),
    )


def _matches(questionnaire: Questionnaire, answers: dict[str, Any], f: RegistryFilters) -> bool:
    wanted = {
        "skills": f.skill,
        "occupation": f.occupation,
        "languages": f.language,
        "contribution": f.contribution,
    }
    for role, code in wanted.items():
        if code and code not in _as_list(questionnaire.role_answer(role, answers)):
            return False
    return True


def search_registry(survey: Survey, filters: RegistryFilters, lang: str) -> SearchResult:
    """Find consenting specialists matching ``filters``; the search is audited.

    :param lang: the language of choice labels and country names.
    :return: how many match and the first :data:`PAGE_SIZE` of them.
    """
    versions = questionnaires.versions(survey)
    by_id = {v.id: v for v in versions}
    statement = (
        select(Response.id, Response.version_id, Response.country, Response.answers)
        .where(_consenting(versions))
        .order_by(Response.id)
    )
    if filters.country:
        statement = statement.where(Response.country == filters.country)
    total = 0
    shown: list[Specialist] = []
    for row in db.session.execute(statement):
        questionnaire = questionnaire_of(by_id[row.version_id])
        answers = row.answers if isinstance(row.answers, dict) else {}
        if not _matches(questionnaire, answers, filters):
            continue
        total += 1
        if len(shown) < PAGE_SIZE:
            shown.append(_entry(row, questionnaire, lang))
    db.session.rollback()
    record(
        "registry_search",
        target=f"survey:{survey.slug}",
        details=filters.as_details(),
        rows=total,
    )
    return SearchResult(total, shown)


def find_specialist(response_id: int, lang: str) -> tuple[Specialist, Survey] | None:
    """Return a registry entry by response number, or None if it is not in the registry."""
    row = db.session.execute(
        select(Response.id, Response.version_id, Response.country, Response.answers).where(
            Response.id == response_id
        )
    ).first()
    if row is None:
        return None
    version = db.session.get(SurveyVersion, row.version_id)
    questionnaire = questionnaire_of(version)
    answers = row.answers if isinstance(row.answers, dict) else {}
    if questionnaire.role_answer("specialist_consent", answers) != "yes":
        return None
    return _entry(row, questionnaire, lang), version.survey


def show_contact(response_id: int, lang: str) -> tuple[Specialist, str] | None:
    """Return a specialist's entry and e-mail address; the showing is audited.

    :return: None when the response is not in the registry or gave no address.
    """
    found = find_specialist(response_id, lang)
    if found is None:
        return None
    entry, _survey = found
    response = db.session.get(Response, response_id)
    questionnaire = questionnaire_of(response.version)
    email = _text(questionnaire.role_answer("contact_email", response.answers or {}))
    db.session.rollback()
    if not email:
        return None
    record("registry_contact_shown", target=f"response:{response_id}")
    return entry, email


def search_options(survey: Survey, lang: str) -> dict[str, list[tuple[str, str]]]:
    """Return the choices each search filter offers, from the newest questionnaire version."""
    versions = questionnaires.versions(survey)
    if not versions:
        return {role: [] for role in FILTER_ROLES}
    questionnaire = questionnaire_of(versions[-1])
    return {
        role: sorted(
            questionnaires.role_labels(questionnaire, role, lang).items(), key=lambda pair: pair[1]
        )
        for role in FILTER_ROLES
    }
