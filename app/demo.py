"""Demo data: ``flask atlas generate-synthetic N`` fills a survey with synthetic respondents.

:func:`geo.synthetic.generate` draws the people (places, ages, skills, needs, ...) as codes of its
own; here they become answers of whichever questionnaire the survey has: each code lands on the
role's choice of the same name, or else on a choice picked deterministically from the code, so no
questionnaire's choice names are written here. The indexed columns are extracted by
:func:`app.responses.role_columns`, the same code a real submission goes through. The hostile
strings of the generator land in typed cities and proposals, so every page that shows them is
exercised against them. Nothing here is a real person.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import sys
import uuid
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

import click
import numpy as np
import pandas as pd
from flask.cli import with_appcontext
from sqlalchemy import insert, select

from app import counts, questionnaires
from app.analyst.profiles import PROPOSALS_QUESTION
from app.extensions import db
from app.links.models import DistributionLink
from app.main.security import sha256
from app.models import Draft, Response, new_record_key, utcnow
from app.questionnaires import canonical_json
from app.responses import role_columns
from forms.schema import Questionnaire
from geo import synthetic
from geo.aggregate import AGE_BANDS

#: Proposals typed by some synthetic respondents (besides the hostile strings).
PROPOSALS = (
    "Қазақ тілі курстарын ашу керек",
    "Открыть культурный центр",
    "More scholarships for diaspora students",
    "Kazakh classes for children online",
)
#: Share of synthetic respondents who type a proposal, and of drafts abandoned on the way.
PROPOSAL_RATE = 0.3
ABANDONED_RATE = 0.25
#: Synthetic responses are spread over this many days before now.
DAYS = 180
BATCH = 5000
#: geo.synthetic's columns that answer a role of the same name.
SCALAR_ROLES = ("sex", "education", "occupation", "return_intention")
MULTI_ROLES = ("skills", "languages", "needs", "contribution")


class Answers:
    """Maps geo.synthetic's codes onto one questionnaire's questions and choices."""

    def __init__(self, questionnaire: Questionnaire) -> None:
        self.questionnaire = questionnaire
        self._choices: dict[str, list[str]] = {}

    def target(self, role: str) -> tuple[str, str | None] | None:
        """Return the (question, part) a role's answer is kept at, or None."""
        return self.questionnaire.role_question(role)

    def choices(self, question: str) -> list[str]:
        """Return the choice names of a question (empty for one without choices)."""
        if question not in self._choices:
            try:
                q = self.questionnaire.question(question)
            except KeyError:
                self._choices[question] = []
            else:
                self._choices[question] = [c.name for c in self.questionnaire.choice_list(q)]
        return self._choices[question]

    def choice(self, question: str, code: str) -> str | None:
        """Return the choice a code stands for: the one of that name, else a stable pick."""
        names = self.choices(question)
        if not names:
            return None
        if code in names:
            return code
        digest = hashlib.sha256(code.encode()).digest()
        return names[int.from_bytes(digest[:4], "big") % len(names)]

    def put(self, answers: dict[str, Any], role: str, value: Any) -> None:
        """Set a role's answer (a part of a composite answer, such as residence.country)."""
        target = self.target(role)
        if target is None or value is None:
            return
        question, part = target
        if part is None:
            answers[question] = value
        else:
            answers.setdefault(question, {})[part] = value


def _value(row: Mapping[str, Any], column: str) -> str | None:
    v = row[column]
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def synthetic_answers(
    mapper: Answers, row: Mapping[str, Any], age: int | None, rng: np.random.Generator
) -> dict[str, Any]:
    """Return one synthetic respondent's answers to the mapper's questionnaire."""
    hostile = set(synthetic.HOSTILE_STRINGS)
    answers: dict[str, Any] = {}
    region = _value(row, "region")
    mapper.put(answers, "residence_country", _value(row, "country"))
    mapper.put(answers, "residence_region", None if region in hostile else region)
    mapper.put(answers, "residence_city", _value(row, "city"))
    lat, lon = row["lat"], row["lon"]
    if not (pd.isna(lat) or pd.isna(lon)):
        mapper.put(answers, "geopoint", [float(lat), float(lon)])
    mapper.put(answers, "citizenship", _value(row, "citizenship"))
    mapper.put(answers, "age", age)
    for role in SCALAR_ROLES:
        code, target = _value(row, role), mapper.target(role)
        if code is not None and target is not None:
            mapper.put(answers, role, mapper.choice(target[0], code))
    for role in MULTI_ROLES:
        target = mapper.target(role)
        if target is not None and len(row[role]):
            picked = [mapper.choice(target[0], code) for code in row[role]]
            mapper.put(answers, role, list(dict.fromkeys(p for p in picked if p)))
    consent = mapper.target("specialist_consent")
    if consent is not None and mapper.choices(consent[0]):
        mapper.put(answers, "specialist_consent", mapper.choices(consent[0])[rng.random() < 0.7])
    _other_questions(mapper, answers, rng)
    return answers


def _other_questions(mapper: Answers, answers: dict[str, Any], rng: np.random.Generator) -> None:
    """Answer the questions the analyst pages read by name (years in the country, scripts, ...)."""
    known = {q.name: q for q in mapper.questionnaire.questions()}
    for name in (counts.YEARS_QUESTION, *counts.SCALAR_QUESTIONS):
        question = known.get(name)
        if question is None or name in answers:
            continue
        names = mapper.choices(name)
        if names:
            answers[name] = names[int(rng.integers(0, len(names)))]
        elif rng.random() < 0.6:
            low, high = int(question.min or 0), int(question.max or 40)
            answers[name] = int(rng.integers(low, min(high, low + 40) + 1))
    for name in counts.MULTI_QUESTIONS:
        names = mapper.choices(name)
        if name in known and names and name not in answers:
            picked = [n for n in names if rng.random() < 0.3]
            answers[name] = picked or [names[0]]


def _ages(bands: pd.Series, rng: np.random.Generator) -> np.ndarray:
    """Draw an age inside each respondent's band (0 for a missing band)."""
    low = {b: int(b.split("-")[0].rstrip("+")) for b in AGE_BANDS}
    high = {b: (int(b.split("-")[1]) if "-" in b else 85) for b in AGE_BANDS}
    values = bands.astype(object)
    out = np.zeros(len(values), dtype=np.int64)
    for band in AGE_BANDS:
        inside = (values == band).to_numpy()
        out[inside] = rng.integers(low[band], high[band] + 1, int(inside.sum()))
    return out


def _links(df: pd.DataFrame, rng: np.random.Generator) -> list[int | None]:
    """Return a link id per row: existing links if there are any, else none at all."""
    existing = list(db.session.scalars(select(DistributionLink.id).order_by(DistributionLink.id)))
    codes = df["link"].cat.codes.to_numpy()
    direct = rng.random(len(df)) < 0.3
    return [
        None if no_link or not existing else int(existing[int(code) % len(existing)])
        for code, no_link in zip(codes, direct, strict=True)
    ]


def _proposal(row: Mapping[str, Any], pick: float, hostile: set[str]) -> str | None:
    """Return a proposal: the row's hostile string if it has one, else sometimes a plain one."""
    for column in ("city", "occupation", "link"):
        if str(row[column]) in hostile:
            return str(row[column])
    if pick < PROPOSAL_RATE:
        return PROPOSALS[int(pick * 1000) % len(PROPOSALS)]
    return None


def insert_synthetic(
    n: int,
    survey: str | None,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Insert ``n`` synthetic responses (and their drafts, plus some abandoned ones).

    :return: the number of responses inserted.
    :raises LookupError: when the survey has no questionnaire.
    """
    versions = questionnaires.versions(survey)
    if not versions:
        raise LookupError(survey)
    version = versions[-1]
    questionnaire = questionnaires.questionnaire_of(version)
    mapper = Answers(questionnaire)
    has_proposals = any(q.name == PROPOSALS_QUESTION for q in questionnaire.questions())
    pages = len(questionnaire.groups)
    df = synthetic.generate(n, seed)
    rng = np.random.default_rng(seed + 1)
    link_ids = _links(df, rng)
    now = utcnow()
    offsets = rng.uniform(0, DAYS * 86400, n)
    ages = _ages(df["age_band"], rng)
    proposal_pick = rng.random(n)
    hostile = set(synthetic.HOSTILE_STRINGS)
    inserted = 0
    for start in range(0, n, BATCH):
        responses: list[dict[str, Any]] = []
        drafts: list[dict[str, Any]] = []
        records = df.iloc[start : start + BATCH].to_dict("records")
        for i, row in enumerate(records, start):
            age = int(ages[i]) if _value(row, "age_band") else None
            answers = synthetic_answers(mapper, row, age, rng)
            proposal = _proposal(row, proposal_pick[i], hostile)
            if has_proposals and proposal:
                answers[PROPOSALS_QUESTION] = proposal
            submitted = now - dt.timedelta(seconds=float(offsets[i]))
            language = str(row["language"]).replace("_", "-")
            submission_id = str(uuid.uuid4())
            responses.append(
                {
                    "submission_id": submission_id,
                    "version_id": version.id,
                    "answers": answers,
                    "answers_hash": sha256(canonical_json(answers)),
                    "receipt_hash": sha256(submission_id + uuid.uuid4().hex),
                    "language": language,
                    "consent_version": questionnaire.consent.version,
                    "consent_language": language,
                    "consented_at": submitted - dt.timedelta(minutes=15),
                    "started_at": submitted - dt.timedelta(minutes=14),
                    "submitted_at": submitted,
                    "channel": "web",
                    "link_id": link_ids[i],
                    "record_key": int(row["record_key"]),
                    "independent": True,
                    **role_columns(questionnaire, answers),
                }
            )
            drafts.append(_draft(questionnaire, version.id, language, submitted, pages - 1,
                                 link_ids[i], True))  # fmt: skip
            if rng.random() < ABANDONED_RATE:
                page = int(rng.integers(0, pages))
                drafts.append(
                    _draft(questionnaire, version.id, language, submitted, page, link_ids[i], False)
                )
        db.session.execute(insert(Response), responses)
        db.session.execute(insert(Draft), drafts)
        counts.apply(counts.totals_of(questionnaire, [SimpleNamespace(**r) for r in responses]))
        counts.apply(counts.draft_totals([SimpleNamespace(**d) for d in drafts]))
        db.session.commit()
        inserted += len(responses)
        if progress:
            progress(len(responses))
    return inserted


def _draft(
    questionnaire: Questionnaire,
    version_id: int,
    language: str,
    moment: dt.datetime,
    page: int,
    link_id: int | None,
    submitted: bool,
) -> dict[str, Any]:
    return {
        "token_hash": sha256(uuid.uuid4().hex),
        "version_id": version_id,
        "submission_id": str(uuid.uuid4()),
        "language": language,
        "answers": {},
        "pending": {},
        "furthest_page": page,
        "record_key": new_record_key(),
        "consent_version": questionnaire.consent.version,
        "consent_language": language,
        "consented_at": moment - dt.timedelta(minutes=15),
        "link_id": link_id,
        "submitted_at": moment if submitted else None,
        "receipt_shown_at": moment if submitted else None,
        "created_at": moment - dt.timedelta(minutes=15),
        "updated_at": moment,
    }


@click.command("generate-synthetic")
@click.argument("n", type=click.IntRange(min=1, max=5_000_000))
@click.option("--survey", "survey", help="Questionnaire slug (default: the first one).")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same rows.")
@with_appcontext
def generate_synthetic_command(n: int, survey: str | None, seed: int) -> None:
    """Insert N synthetic responses (never real people), hostile strings included."""
    slugs = questionnaires.slugs()
    if survey is not None and survey not in slugs:
        raise click.BadParameter(f"no questionnaire {survey!r}", param_hint="--survey")
    survey = survey or (slugs[0] if slugs else None)
    if survey is None:
        click.echo(
            "No questionnaire is loaded: run `flask atlas load-questionnaire` first.", err=True
        )
        sys.exit(1)
    with click.progressbar(length=n, label="Inserting synthetic responses") as bar:
        inserted = insert_synthetic(n, survey, seed, bar.update)
    click.echo(f"{inserted} synthetic responses added to {survey}.")
