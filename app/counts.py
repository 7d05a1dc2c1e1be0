"""Counts of respondents kept up to date in the database: what every analyst figure and published
map is made from, without reading the responses.

Each stored response contributes to a handful of *facts*: one row per (version, day, country,
fact, value) in ``response_count`` holds how many responses (``n``), the sum of their record keys
(``key_sum``) and how many of them are independent (``sources``), the three things
:mod:`geo.disclosure` needs. A fact is something a figure counts: ``all`` (every respondent),
``language``, ``link``, ``age_sex`` (the pyramid), ``needs`` (one value per item named), ...
(:data:`FACTS`). The rows are added to in the transaction that stores a response
(:func:`app.responses.record_submission`) and taken from in the one that withdraws it or anonymises
it (retention), so they always equal a count of the responses; ``flask atlas recount`` checks
that, and rebuilds them when they do not (after a restore from an old backup, say).

Questionnaires started in the browser (drafts) are counted the same way, under the fact
:data:`DRAFT_FACT` (by the day they were started and the furthest page reached, or
``submitted``; with no country), kept up to date where a draft is opened, moves on a page, is
submitted or is deleted (:mod:`app.survey.services`, withdrawal, retention).

A page then asks for a few sums over this small table (:func:`rows`): its size grows with
days x countries x answers, not with respondents.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import click
import pandas as pd
from flask.cli import with_appcontext
from sqlalchemy import delete, func, select, text, tuple_

from app import questionnaires
from app.extensions import db
from app.models import Draft, Response, ResponseCount, SurveyVersion
from forms.schema import Questionnaire
from geo.disclosure import Tally

#: The value of a one-answer fact the respondent did not answer.
NO_ANSWER = "__no_answer__"
#: Joins the parts of a value made of two (age band and sex; region and city).
SEP = "\x1f"
#: Bands of years lived in the country of residence (the keys of the "years" fact).
YEARS_BANDS: tuple[tuple[int, int | None], ...] = ((0, 4), (5, 9), (10, 19), (20, 29), (30, None))

#: One-answer questions counted by their role (a value each, NO_ANSWER when unanswered).
SCALAR_ROLES = ("education", "occupation", "return_intention", "specialist_consent")
#: Several-answer questions counted by their role (one value per item named).
MULTI_ROLES = ("skills", "languages", "needs", "contribution")
#: Questions counted by their name where a questionnaire has them.
YEARS_QUESTION = "years_in_country"
SCALAR_QUESTIONS = ("association_member",)
MULTI_QUESTIONS = ("scripts",)

#: The day of the rows that hold every day's counts together: each response and draft is counted
#: under its own day and under this one, so a page without a date range sums a few thousand
#: rows (facts x countries x answers) rather than one per day as well.
ALL_DAYS = dt.date(1, 1, 1)

#: Values of a response's columns and answers, before they become facts.
Answers = Mapping[str, Any]


@dataclass(frozen=True)
class Fact:
    """Something the pages count: ``values`` gives a response's values for it."""

    name: str
    values: Callable[[Questionnaire, Any, Answers], list[str]]
    #: True when every respondent has exactly one value (so the values add up to "all").
    single: bool = True


def _one(value: Any) -> list[str]:
    return [NO_ANSWER if value is None or value == "" else str(value)[:200]]


def _items(value: Any) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    if not isinstance(value, list | tuple):
        return []
    return list(dict.fromkeys(str(v)[:200] for v in value if v is not None))


def _role(role: str) -> Callable[[Questionnaire, Any, Answers], Any]:
    def answer(questionnaire: Questionnaire, _row: Any, answers: Answers) -> Any:
        return questionnaire.role_answer(role, answers)

    return answer


def _question(name: str) -> Callable[[Questionnaire, Any, Answers], Any]:
    def answer(_questionnaire: Questionnaire, _row: Any, answers: Answers) -> Any:
        return answers.get(name)

    return answer


def years_band(value: Any) -> str:
    """Return the band of a number of years ("0-4", ..., "30+"), or NO_ANSWER."""
    try:
        years = float(value)
    except (TypeError, ValueError):
        return NO_ANSWER
    if not math.isfinite(years) or years < 0:
        return NO_ANSWER
    for low, high in YEARS_BANDS:
        if high is None or years <= high:
            return f"{low}+" if high is None else f"{low}-{high}"
    return NO_ANSWER  # pragma: no cover - the last band has no upper end


def citizenship_category(citizenship: str | None, country: str | None) -> str:
    """Classify citizenship as KZ, residence (that of the country of residence), other, none."""
    if not citizenship:
        return "none"
    if citizenship == "KZ":
        return "KZ"
    return "residence" if citizenship == country else "other"


def _contributes(questionnaire: Questionnaire, _row: Any, answers: Answers) -> list[str]:
    items = _items(questionnaire.role_answer("contribution", answers))
    return ["yes" if any(item != "none" for item in items) else "no"]


def _skilled(questionnaire: Questionnaire, _row: Any, answers: Answers) -> list[str]:
    return ["yes" if _items(questionnaire.role_answer("skills", answers)) else "no"]


FACTS: tuple[Fact, ...] = (
    Fact("all", lambda q, row, a: [""]),
    Fact("language", lambda q, row, a: _one(row.language)),
    Fact("link", lambda q, row, a: _one(row.link_id)),
    Fact("age_sex", lambda q, row, a: [f"{_one(row.age_band)[0]}{SEP}{_one(row.sex)[0]}"]),
    Fact(
        "citizenship_category",
        lambda q, row, a: [citizenship_category(row.citizenship, row.country)],
    ),
    Fact("place", lambda q, row, a: [f"{row.region or ''}{SEP}{row.city or ''}"]),
    Fact("years", lambda q, row, a: [years_band(a.get(YEARS_QUESTION))]),
    Fact("willing", _contributes),
    Fact("skilled", _skilled),
    *(Fact(r, lambda q, row, a, r=r: _one(_role(r)(q, row, a))) for r in SCALAR_ROLES),
    *(Fact(n, lambda q, row, a, n=n: _one(_question(n)(q, row, a))) for n in SCALAR_QUESTIONS),
    *(Fact(r, lambda q, row, a, r=r: _items(_role(r)(q, row, a)), False) for r in MULTI_ROLES),
    *(
        Fact(n, lambda q, row, a, n=n: _items(_question(n)(q, row, a)), False)
        for n in MULTI_QUESTIONS
    ),
)
FACT_NAMES = tuple(f.name for f in FACTS)


def _day(moment: dt.datetime) -> dt.date:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.date()


def facts_of(questionnaire: Questionnaire, response: Any) -> list[tuple[str, str]]:
    """Return the (fact, value) pairs one response contributes (its row's columns and answers)."""
    answers = response.answers or {}
    return [
        (fact.name, value)
        for fact in FACTS
        for value in fact.values(questionnaire, response, answers)
    ]


def _keys(questionnaire: Questionnaire, response: Any) -> list[tuple[Any, ...]]:
    version, day, country = response.version_id, _day(response.submitted_at), response.country
    return [
        (version, when, country or "", fact, value)
        for fact, value in facts_of(questionnaire, response)
        for when in (day, ALL_DAYS)
    ]


#: (version id, day, country, fact, value) -> [n, key_sum, sources].
Totals = dict[tuple[Any, ...], list[int]]


def totals_of(
    questionnaire: Questionnaire, responses: Iterable[Any], into: Totals | None = None
) -> Totals:
    """Add up what responses (rows of one version, stored or about to be) contribute."""
    totals: Totals = {} if into is None else into
    for response in responses:
        independent = int(bool(response.independent))
        for key in _keys(questionnaire, response):
            entry = totals.setdefault(key, [0, 0, 0])
            entry[0] += 1
            entry[1] += int(response.record_key)
            entry[2] += independent
    return totals


#: The fact drafts are counted under: value ``page:N`` (furthest page, from 0) or ``submitted``.
DRAFT_FACT = "draft_step"
#: The value of a submitted draft.
SUBMITTED = "submitted"


def draft_step(furthest_page: int | None, submitted: bool) -> str:
    """Return the value a draft counts under: how far it got."""
    return SUBMITTED if submitted else f"page:{max(int(furthest_page or 0), 0)}"


def draft_totals(drafts: Iterable[Any], into: Totals | None = None) -> Totals:
    """Add up what drafts (rows or objects with version_id, created_at, furthest_page,
    submitted_at and record_key) contribute. Each counts as independent: drafts keep no
    address information."""
    totals: Totals = {} if into is None else into
    for draft in drafts:
        step = draft_step(draft.furthest_page, draft.submitted_at is not None)
        for day in (_day(draft.created_at), ALL_DAYS):
            entry = totals.setdefault((draft.version_id, day, "", DRAFT_FACT, step), [0, 0, 0])
            entry[0] += 1
            entry[1] += int(draft.record_key or 0)
            entry[2] += 1
    return totals


def move_draft(draft: Draft, before: tuple[int | None, bool]) -> None:
    """Move a draft's count from where it was (``(furthest_page, submitted)`` before the change)
    to where it is now, in the current transaction."""
    now = (draft.furthest_page, draft.submitted_at is not None)
    if draft_step(*before) == draft_step(*now):
        return
    key = int(draft.record_key or 0)
    for step, sign in ((draft_step(*before), -1), (draft_step(*now), 1)):
        apply(
            {
                (draft.version_id, d, "", DRAFT_FACT, step): [1, key, 1]
                for d in (_day(draft.created_at), ALL_DAYS)
            },
            sign,
        )


#: The columns of a draft its count reads.
_DRAFT_COUNTED = (
    Draft.id,
    Draft.version_id,
    Draft.created_at,
    Draft.furthest_page,
    Draft.submitted_at,
    Draft.record_key,
)


def remove_drafts(where: Any) -> int:
    """Delete the drafts a condition selects and take them from the counts, in the current
    transaction; return how many were deleted."""
    deleted = 0
    while True:
        batch = db.session.execute(select(*_DRAFT_COUNTED).where(where).limit(5000)).all()
        if not batch:
            return deleted
        apply(draft_totals(batch), -1)
        db.session.execute(delete(Draft).where(Draft.id.in_([row.id for row in batch])))
        deleted += len(batch)


# -- keeping the counts -----------------------------------------------------------------------

#: The columns of a row of counts, with their PostgreSQL types (for the array form).
_COUNT_TYPES = {
    "fact": "varchar",
    "version_id": "integer",
    "country": "varchar",
    "day": "date",
    "value": "varchar",
    "n": "integer",
    "key_sum": "bigint",
    "sources": "integer",
}
_INTO_COUNTS = f"INSERT INTO response_count ({', '.join(_COUNT_TYPES)}) "
_ADD_ON_CONFLICT = (
    " ON CONFLICT (fact, version_id, country, day, value) DO UPDATE SET "
    "n = response_count.n + excluded.n, "
    "key_sum = response_count.key_sum + excluded.key_sum, "
    "sources = response_count.sources + excluded.sources"
)
#: Add to a row of counts, creating it when it is missing; executed once per row (SQLite runs
#: that in-process).
_UPSERT = text(
    _INTO_COUNTS + f"VALUES ({', '.join(':' + name for name in _COUNT_TYPES)})" + _ADD_ON_CONFLICT
)
#: The same for every row at once, from one array per column (PostgreSQL): one round trip where
#: a statement per row cost a submission 1.5 ms of its 5.8.
_ARRAYS = ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in _COUNT_TYPES.items())
_UPSERT_ARRAYS = text(
    f"{_INTO_COUNTS}SELECT * FROM unnest({_ARRAYS}){_ADD_ON_CONFLICT}"  # noqa: S608 - module constants only
)


def add(response: Response, questionnaire: Questionnaire | None = None, sign: int = 1) -> None:
    """Add a stored response to the counts (``sign=-1`` takes it away), in the current
    transaction: one upsert of every row the response touches.

    :param questionnaire: its version's questionnaire (looked up when not given).
    """
    questionnaire = questionnaire or questionnaires.questionnaire_of(response.version)
    apply(totals_of(questionnaire, [response]), sign)


def apply(totals: Totals, sign: int = 1) -> None:
    """Add (or with ``sign=-1`` take away) totals to the kept counts, in the current transaction."""
    if not totals:
        return
    rows_ = [
        {
            "version_id": version_id,
            "day": day,
            "country": country,
            "fact": fact,
            "value": value,
            "n": sign * n,
            "key_sum": sign * key_sum,
            "sources": sign * independent,
        }
        # In one order everywhere, so two transactions adding to the same rows never deadlock.
        for (version_id, day, country, fact, value), (n, key_sum, independent) in sorted(
            totals.items(), key=lambda item: tuple(str(part) for part in item[0])
        )
    ]
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            _UPSERT_ARRAYS, {name: [row[name] for row in rows_] for name in _COUNT_TYPES}
        )
    else:
        # Building one statement with thousands of VALUES takes SQLAlchemy longer than SQLite
        # takes to run the statement once per row.
        db.session.execute(_UPSERT, rows_)
    columns = [
        ResponseCount.fact,
        ResponseCount.version_id,
        ResponseCount.country,
        ResponseCount.day,
        ResponseCount.value,
    ]
    if sign < 0:
        # Rows that fell to zero would only slow the sums down.
        touched = [(k[3], k[0], k[2], k[1], k[4]) for k in totals]
        for start in range(0, len(touched), 2000):
            db.session.execute(
                delete(ResponseCount).where(
                    ResponseCount.n <= 0, tuple_(*columns).in_(touched[start : start + 2000])
                )
            )


# -- reading the counts -----------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which responses a page counts: survey versions, a date range (UTC days), a country."""

    version_ids: tuple[int, ...]
    since: dt.date | None = None
    until: dt.date | None = None
    country: str | None = None


def scope_of(
    survey: str | None,
    version: int | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    country: str | None = None,
) -> Scope:
    """Return the scope of a survey (by slug), optionally one version, dates and country."""
    ids = tuple(v.id for v in questionnaires.versions(survey, version))
    return Scope(ids, since, until, country)


def rows(scope: Scope, facts: Sequence[str], by: Sequence[str] = ("value",)) -> pd.DataFrame:
    """Return summed counts of some facts in a scope: one row per ``fact`` and ``by`` values,
    with ``n``, ``key``, ``sources``.

    :param by: among ``value``, ``country``, ``day``.
    """
    columns = {
        "value": ResponseCount.value,
        "country": ResponseCount.country,
        "day": ResponseCount.day,
    }
    keys = [ResponseCount.fact, *(columns[name] for name in by)]
    query = (
        select(
            *keys,
            func.sum(ResponseCount.n),
            func.sum(ResponseCount.key_sum),
            func.sum(ResponseCount.sources),
        )
        .where(ResponseCount.fact.in_(list(facts)))
        .where(ResponseCount.version_id.in_(list(scope.version_ids) or [-1]))
        .group_by(*keys)
    )
    if scope.country:
        query = query.where(ResponseCount.country == scope.country)
    if scope.since or scope.until or "day" in by:
        query = query.where(ResponseCount.day > ALL_DAYS)
        if scope.since:
            query = query.where(ResponseCount.day >= scope.since)
        if scope.until:
            query = query.where(ResponseCount.day <= scope.until)
    else:
        query = query.where(ResponseCount.day == ALL_DAYS)
    found = db.session.execute(query).all()
    out = pd.DataFrame(found, columns=["fact", *by, "n", "key", "sources"])
    out = out.astype({"n": "int64", "key": "int64", "sources": "int64"})
    if "country" in by:
        out["country"] = out["country"].where(out["country"] != "", None)
    return out[out["n"] > 0]


def tally_of(
    frame: pd.DataFrame,
    fact: str,
    by: Sequence[str] = ("value",),
    index: Iterable[Any] | None = None,
    columns: Iterable[Any] | None = None,
) -> Tally:
    """Return one fact's rows (from :func:`rows`) as a tally by one or two columns."""
    part = frame[frame["fact"] == fact]
    return Tally.from_rows(part, list(by), index=index, columns=columns)


def pairs(frame: pd.DataFrame, fact: str, first: str, second: str) -> pd.DataFrame:
    """Return a two-part fact's rows (``age_sex``, ``place``) with its parts as two columns."""
    part = frame[frame["fact"] == fact].copy()
    split = part["value"].str.split(SEP, n=1, expand=True) if len(part) else None
    part[first] = split[0] if split is not None else []
    part[second] = split[1] if split is not None else []
    return part.drop(columns=["fact", "value"])


# -- recount ----------------------------------------------------------------------------------


#: The columns of a response the facts read.
_COUNTED = (
    Response.id,
    Response.version_id,
    Response.submitted_at,
    Response.country,
    Response.region,
    Response.city,
    Response.language,
    Response.link_id,
    Response.age_band,
    Response.sex,
    Response.citizenship,
    Response.record_key,
    Response.independent,
    Response.answers,
)


def full_count() -> dict[tuple[Any, ...], tuple[int, int, int]]:
    """Count every fact of every stored response from scratch."""
    totals: Totals = {}
    for version in db.session.scalars(select(SurveyVersion)).all():
        questionnaire = questionnaires.questionnaire_of(version)
        last = 0
        while True:
            # Rows, not ORM objects: a million of them is a recount, not a session.
            batch = db.session.execute(
                select(*_COUNTED)
                .where(Response.version_id == version.id, Response.id > last)
                .order_by(Response.id)
                .limit(5000)
            ).all()
            if not batch:
                break
            totals_of(questionnaire, batch, totals)
            last = batch[-1].id
    last = 0
    while True:
        batch = db.session.execute(
            select(*_DRAFT_COUNTED).where(Draft.id > last).order_by(Draft.id).limit(20000)
        ).all()
        if not batch:
            break
        draft_totals(batch, totals)
        last = batch[-1].id
    return {key: (n, k, src) for key, (n, k, src) in totals.items()}


def stored_counts() -> dict[tuple[Any, ...], tuple[int, int, int]]:
    """Return the kept counts as {(version, day, country, fact, value): (n, key_sum, sources)}."""
    out = {}
    for row in db.session.scalars(select(ResponseCount)):
        key = (row.version_id, row.day, row.country, row.fact, row.value)
        out[key] = (int(row.n), int(row.key_sum), int(row.sources))
    return out


def differences() -> list[tuple[Any, Any, Any]]:
    """Return (key, kept, recounted) wherever the kept counts differ from a full recount."""
    kept, recounted = stored_counts(), full_count()
    return [
        (key, kept.get(key), recounted.get(key))
        for key in sorted(set(kept) | set(recounted), key=str)
        if kept.get(key) != recounted.get(key)
    ]


def rebuild() -> int:
    """Replace the kept counts with a full recount; return the number of rows written."""
    counted = full_count()
    db.session.execute(delete(ResponseCount))
    apply({key: list(value) for key, value in counted.items()})
    db.session.commit()
    return len(counted)


def totals_agree() -> bool:
    """Tell, cheaply, whether the kept counts hold every stored response and draft (and no
    other)."""
    for fact, table in (("all", Response), (DRAFT_FACT, Draft)):
        kept = db.session.scalar(
            select(func.coalesce(func.sum(ResponseCount.n), 0)).where(
                ResponseCount.fact == fact, ResponseCount.day == ALL_DAYS
            )
        )
        stored = db.session.scalar(select(func.count()).select_from(table))
        if int(kept) != int(stored):
            return False
    return True


@click.command("recount")
@click.option("--fix", is_flag=True, help="Rebuild the counts when they differ.")
@click.option(
    "--quick", is_flag=True, help="Only compare the totals (fast; what `make database` runs)."
)
@with_appcontext
def recount_command(fix: bool, quick: bool) -> None:
    """Check the kept counts against a full recount of the responses (and rebuild with --fix)."""
    if quick:
        if totals_agree():
            click.echo("counts hold every response")
            return
        if not fix:
            click.echo("counts do not hold every response: run with --fix", err=True)
            raise SystemExit(1)
        click.echo(f"rebuilt: {rebuild()} rows")
        return
    found = differences()
    if not found:
        click.echo("counts agree with the responses")
        return
    click.echo(f"{len(found)} counts differ from a recount", err=True)
    for key, kept, recounted in found[:10]:
        click.echo(f"  {key}: kept {kept}, recounted {recounted}", err=True)
    if not fix:
        raise SystemExit(1)
    click.echo(f"rebuilt: {rebuild()} rows")
