"""Stored responses as one pandas DataFrame, in the columns :mod:`geo` expects, and the
per-process copy of it the analyst pages filter.

The indexed columns of :class:`~app.models.Response` are read as they are; the other answers are
read from the JSON document through each version's questionnaire roles (a version may put a role
on another question). Only the answers named here are selected (never free text such as
proposals), rows are streamed in chunks, and repeated values are shared, so a million responses
fit in memory.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Select, func, select

from app.extensions import db
from app.models import Response, Survey, SurveyVersion
from app.questionnaires import questionnaire_of
from forms.schema import Questionnaire

#: Role answers holding one choice.
SCALAR_ROLES: tuple[str, ...] = ("education", "occupation", "return_intention")
#: Role answers holding several choices (tuples in the frame).
MULTI_ROLES: tuple[str, ...] = ("skills", "languages", "needs", "contribution")
#: Questions read by name (no role), where the questionnaire has them.
EXTRA_SCALARS: tuple[str, ...] = ("years_in_country", "association_member")
EXTRA_MULTI: tuple[str, ...] = ("scripts", "ties")

#: Columns read as they are stored (indexed, extracted from the answers at submission).
_INDEXED = (
    Response.country,
    Response.region,
    Response.city,
    Response.lat,
    Response.lon,
    Response.sex,
    Response.age_band,
    Response.citizenship,
    Response.language,
    Response.link_id,
    Response.submitted_at,
    # What disclosure control needs (geo/disclosure.py): never shown, never exported.
    Response.record_key,
    Response.independent,
    Response.version_id,
)
#: Their names in the frame (the link id is called "link").
_INDEXED_NAMES = tuple("link" if c.key == "link_id" else c.key for c in _INDEXED)

#: The frame's columns, in order.
COLUMNS: tuple[str, ...] = (
    *_INDEXED_NAMES[:-1],
    "version",
    *SCALAR_ROLES,
    *MULTI_ROLES,
    "specialist_consent",
    *EXTRA_SCALARS,
    *EXTRA_MULTI,
)

#: Text columns stored as categoricals (few distinct values, a million rows).
CATEGORICAL: tuple[str, ...] = (
    "country",
    "region",
    "city",
    "sex",
    "age_band",
    "citizenship",
    "language",
    *SCALAR_ROLES,
    "specialist_consent",
    "association_member",
)

#: Rows fetched per round trip.
CHUNK_SIZE = 5000


def responses_frame(
    survey_slug: str | None = None,
    *,
    since: dt.date | dt.datetime | None = None,
    until: dt.date | dt.datetime | None = None,
    country: str | Iterable[str] | None = None,
    version: int | None = None,
    link_id: int | None = None,
    id_range: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """Read stored responses into one row per respondent.

    :param survey_slug: only this survey's responses (None: every survey).
    :param since: submitted at or after (a date means from the start of that day, UTC).
    :param until: submitted before (a date means up to the end of that day, UTC).
    :param country: an ISO2 code of residence, or several.
    :param version: the survey version's number (1, 2, ...).
    :param link_id: only responses that came through this distribution link.
    :param id_range: only responses with ``low < id <= high`` (to read what was added since a
        frame was read; see :func:`survey_frame`).
    :return: a DataFrame with :data:`COLUMNS`; ``link`` is the link id (nullable int),
        ``version`` the version number, ``submitted_at`` UTC; the multi-select columns hold
        tuples; missing answers are NaN/None.
    """
    versions = _versions(survey_slug, version)
    if not versions:
        return empty_frame()
    numbers = {v.id: v.number for v in versions}
    paths = {v.id: _answer_paths(questionnaire_of(v)) for v in versions}
    targets = sorted({target for p in paths.values() for target in p.values()}, key=str)
    # Each answer comes back as text (JSON text for lists): the database does the extraction,
    # and each distinct text is parsed once below, not once per row.
    json_columns = [
        Response.answers[target[0] if target[1] is None else target].as_string()
        for target in targets
    ]
    query: Select[Any] = select(*_INDEXED, *json_columns).where(
        Response.version_id.in_(list(numbers))
    )
    query = _filtered(query, since=since, until=until, country=country, link_id=link_id)
    if id_range is not None:
        query = query.where(Response.id > id_range[0], Response.id <= id_range[1])
    query = query.order_by(Response.id).execution_options(yield_per=CHUNK_SIZE)

    raw: list[list[Any]] = [[] for _ in range(len(_INDEXED) + len(targets))]
    # Core rows straight from the connection: no ORM bookkeeping per row.
    for chunk in db.session.connection().execute(query).partitions():
        for values, column in zip(raw, zip(*chunk, strict=True), strict=True):
            values.extend(column)

    base = len(_INDEXED)
    version_ids = np.asarray(raw[base - 1], dtype=np.int64)
    columns: dict[str, Any] = dict(zip(_INDEXED_NAMES, raw[:base], strict=True))
    columns["version"] = [numbers[v] for v in raw[base - 1]]
    position = {target: base + i for i, target in enumerate(targets)}
    for column in COLUMNS[base:]:
        merged = np.full(len(version_ids), None, dtype=object)
        for version_id, version_paths in paths.items():
            target = version_paths.get(column)
            if target is None:
                continue
            values = np.asarray(raw[position[target]], dtype=object)
            if len(paths) == 1:
                merged = values
            else:
                mask = version_ids == version_id
                merged[mask] = values[mask]
        columns[column] = _parsed(column, merged)
    return _frame(columns)


def empty_frame() -> pd.DataFrame:
    """Return a frame with :data:`COLUMNS` and no rows."""
    return _frame({name: [] for name in COLUMNS})


def _versions(survey_slug: str | None, number: int | None) -> list[SurveyVersion]:
    query = select(SurveyVersion)
    if survey_slug is not None:
        query = query.join(Survey).where(Survey.slug == survey_slug)
    if number is not None:
        query = query.where(SurveyVersion.number == number)
    return list(db.session.scalars(query.order_by(SurveyVersion.id)))


def _answer_paths(questionnaire: Questionnaire) -> dict[str, tuple[str, str | None]]:
    """Return, per frame column read from the JSON, the (question, part) holding it."""
    out: dict[str, tuple[str, str | None]] = {}
    for role in (*SCALAR_ROLES, *MULTI_ROLES, "specialist_consent"):
        target = questionnaire.role_question(role)
        if target is not None:
            out[role] = target
    known = {q.name for q in questionnaire.questions()}
    for name in (*EXTRA_SCALARS, *EXTRA_MULTI):
        if name in known:
            out[name] = (name, None)
    return out


def _filtered(
    query: Select[Any],
    *,
    since: dt.date | dt.datetime | None,
    until: dt.date | dt.datetime | None,
    country: str | Iterable[str] | None,
    link_id: int | None,
) -> Select[Any]:
    """Apply the common filters to a query over :class:`Response`."""
    if since is not None:
        query = query.where(Response.submitted_at >= _moment(since))
    if until is not None:
        end = _moment(until)
        if not isinstance(until, dt.datetime):
            end += dt.timedelta(days=1)
        query = query.where(Response.submitted_at < end)
    if country is not None:
        codes = [country] if isinstance(country, str) else list(country)
        query = query.where(Response.country.in_([c.upper() for c in codes]))
    if link_id is not None:
        query = query.where(Response.link_id == link_id)
    return query


def _moment(value: dt.date | dt.datetime) -> dt.datetime:
    """Return a date or datetime as an aware UTC datetime (a date: its midnight)."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _parsed(column: str, values: np.ndarray) -> list[Any]:
    """Return one answer column as the frame holds it, parsing each distinct text once."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    clean = [_clean(column, value) for value in uniques]
    lookup = np.empty(len(clean) + 1, dtype=object)
    lookup[: len(clean)] = clean
    lookup[-1] = None  # code -1: no answer
    return list(lookup[codes])


def _clean(column: str, value: Any) -> Any:
    """Return one answer (text as the database gave it) as the frame holds it."""
    if column in MULTI_ROLES or column in EXTRA_MULTI:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return None
        if not isinstance(value, list):
            return None
        return tuple(str(v) for v in value)
    if column == "years_in_country":
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        return number if math.isfinite(number) else None
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def _frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for name in COLUMNS:
        values = columns[name]
        if name in CATEGORICAL:
            data[name] = pd.Categorical(values)
        elif name in ("lat", "lon", "years_in_country"):
            data[name] = np.array(values, dtype=np.float64)  # None -> NaN
        elif name in ("link", "version"):
            data[name] = pd.array(values, dtype="Int64")
        elif name == "record_key":
            data[name] = np.array(values, dtype=np.int64)
        elif name == "independent":
            data[name] = np.array(values, dtype=bool)
        elif name == "submitted_at":
            data[name] = pd.to_datetime(pd.Series(values, dtype=object), utc=True)
        else:
            array = np.empty(len(values), dtype=object)
            array[:] = values
            data[name] = array
    return pd.DataFrame(data, columns=list(COLUMNS))


# -- the frame kept in memory -------------------------------------------------------------------

#: The last frame read, with the state of the responses it holds. Reading a million responses
#: takes tens of seconds on SQLite; responses are only ever added or withdrawn, so a page reads
#: just the rows added since (by id), and everything again only after a withdrawal.
_FRAMES: dict[str, tuple[tuple[Any, ...], int, tuple[Any, ...], pd.DataFrame]] = {}


def _state(upto_id: int | None = None) -> tuple[Any, ...]:
    """Return (count, newest submission time) of the responses, up to an id if given."""
    query = select(func.count(Response.id), func.max(Response.submitted_at))
    if upto_id is not None:
        query = query.where(Response.id <= upto_id)
    count, newest = db.session.execute(query).one()
    return int(count), str(newest)


def survey_frame(survey: str | None) -> pd.DataFrame:
    """Return every response of a survey (:func:`responses_frame`), kept up to date in memory.

    One frame is kept per process; each page filters it in memory (:func:`filtered`).
    """
    key = (str(db.engine.url), survey)
    last_id = int(db.session.scalar(select(func.coalesce(func.max(Response.id), 0))))
    state = _state()
    cached = _FRAMES.get("last")
    if cached is not None and cached[0] == key:
        _key, cached_last, cached_state, frame = cached
        if cached_last == last_id and cached_state == state:
            return frame
        # The rows read before are all still there, unchanged: read only the newer ones.
        if cached_last < last_id and _state(cached_last) == cached_state:
            frame = _appended(frame, responses_frame(survey, id_range=(cached_last, last_id)))
            _FRAMES["last"] = (key, last_id, _state(last_id), frame)
            return frame
    frame = responses_frame(survey, id_range=(0, last_id))
    _FRAMES["last"] = (key, last_id, _state(last_id), frame)
    return frame


def _appended(frame: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with ``new`` rows after it, categories merged."""
    if new.empty:
        return frame
    both = pd.concat([frame, new], ignore_index=True)
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            both[column] = both[column].astype("category")
    return both
