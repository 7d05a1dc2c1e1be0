"""Which responses an export holds: the request and its filters, counting, reading in batches.

Rows are read in batches (a PostgreSQL server-side cursor, or id-ordered pages on SQLite), so
memory does not grow with the number of responses. The aggregated layers read grouped counts
and publish them through :mod:`geo.disclosure` here, before anything is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
from flask_babel import gettext as _
from sqlalchemy import Select, case, func, select

from app import questionnaires
from app.extensions import db
from app.models import Response, Survey
from forms.schema import Questionnaire
from geo.disclosure import Policy, Suppressed, Tally, publish, roll_up

#: Rows read from the database at a time.
BATCH = 2000

#: Called with the number of responses just read.
Progress = Callable[[int], None]


class ExportError(ValueError):
    """An export that cannot be made; the message is shown to the user."""


@dataclass(frozen=True)
class ExportFilters:
    """Which responses an export holds."""

    since: dt.date | None = None
    until: dt.date | None = None
    #: ISO 3166-1 alpha-2 country of residence.
    country: str | None = None
    #: The survey version number (1, 2, ...).
    version: int | None = None
    link_id: int | None = None

    def as_details(self) -> dict[str, Any]:
        """Return the filters that are set, as JSON values for the audit log."""
        out = {}
        for key, value in asdict(self).items():
            if value is not None:
                out[key] = value.isoformat() if isinstance(value, dt.date) else value
        return out


@dataclass(frozen=True)
class ExportRequest:
    """An export: what, in which form, for whom to read."""

    survey: Survey
    format: str
    lang: str
    labels: bool = False
    filters: ExportFilters = field(default_factory=ExportFilters)

    def audit_details(self) -> dict[str, Any]:
        """Return what the audit log keeps about this export (never answer values)."""
        return {
            "format": self.format,
            "lang": self.lang,
            "labels": self.labels,
            "filters": self.filters.as_details(),
        }


def latest_questionnaire(survey: Survey) -> Questionnaire:
    """Return the questionnaire of a survey's newest version."""
    questionnaire = questionnaires.newest_questionnaire(survey)
    if questionnaire is None:
        raise ExportError(_("This survey has no questionnaire loaded."))
    return questionnaire


def filtered(statement: Select, request: ExportRequest, use_indexes: bool = True) -> Select:
    """Add the export's filters to a statement.

    :param use_indexes: False writes each filter so that SQLite cannot answer it from an index
        (``column + 0``, ``column || ''``), leaving the rowid order to the id-ordered pages.
    """
    f = request.filters
    version_id, country, link_id = Response.version_id, Response.country, Response.link_id
    if not use_indexes:
        version_id, country, link_id = version_id + 0, country.concat(""), link_id + 0
    versions = questionnaires.versions(request.survey)
    ids = [v.id for v in versions if f.version is None or v.number == f.version]
    statement = statement.where(version_id.in_(ids))
    if f.since:
        start = dt.datetime.combine(f.since, dt.time(), tzinfo=dt.UTC)
        statement = statement.where(Response.submitted_at >= start)
    if f.until:
        end = dt.datetime.combine(f.until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        statement = statement.where(Response.submitted_at < end)
    if f.country:
        statement = statement.where(country == f.country)
    if f.link_id is not None:
        statement = statement.where(link_id == f.link_id)
    return statement


def count_responses(request: ExportRequest) -> int:
    """Return how many responses an export holds."""
    statement = filtered(select(func.count()).select_from(Response), request)
    return db.session.scalar(statement) or 0


ROW_COLUMNS = (
    Response.id,
    Response.submitted_at,
    Response.version_id,
    Response.language,
    Response.channel,
    Response.link_id,
    Response.answers,
)


def response_batches(request: ExportRequest, batch: int = BATCH) -> Iterator[Sequence[Any]]:
    """Yield the export's rows (id, submitted_at, version_id, language, channel, link_id,
    answers) in batches, in id order, without holding them all in memory."""
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    statement = filtered(select(*ROW_COLUMNS), request, use_indexes=postgresql)
    statement = statement.order_by(Response.id)
    if postgresql:
        # A server-side cursor: one consistent snapshot, ``batch`` rows in memory at a time.
        result = db.session.execute(statement.execution_options(yield_per=batch))
        try:
            yield from result.partitions()
        finally:
            result.close()
            db.session.rollback()
        return
    # SQLite: app.db begins every transaction with BEGIN IMMEDIATE (the write lock), so one
    # long read would block respondents for the whole export. Short id-ordered pages instead,
    # walking the table in rowid order (with an index on a filter SQLite would sort every
    # remaining row for each page: quadratic in the table size).
    last = 0
    while True:
        rows = db.session.execute(statement.where(Response.id > last).limit(batch)).all()
        db.session.rollback()  # end the read transaction: release the lock between pages
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _place_leaves(request: ExportRequest, progress: Progress | None) -> pd.DataFrame:
    """Return the export's respondents grouped by (country, region), with n, key, sources."""
    statement = filtered(
        select(
            Response.country,
            Response.region,
            func.count(),
            func.sum(Response.record_key),
            func.sum(case((Response.independent, 1), else_=0)),
        ).group_by(Response.country, Response.region),
        request,
    )
    rows = db.session.execute(statement).all()
    db.session.rollback()
    leaves = pd.DataFrame(rows, columns=["country", "region", "n", "key", "sources"])
    if progress:
        progress(int(sum(n for _country, _region, n, _key, _sources in rows)))
    return leaves[leaves["country"].notna()].astype({"n": "int64", "key": "int64"})


def place_units(
    request: ExportRequest, policy: Policy, progress: Progress | None = None
) -> tuple[Suppressed, pd.DataFrame]:
    """Return the published countries and their publishable regions (see
    :func:`geo.disclosure.roll_up`) for the export's rows.

    :param progress: told how many responses were read (all at once: they are counted grouped).
    """
    leaves = _place_leaves(request, progress)
    world = publish(Tally.from_rows(leaves, ["country"]), policy)
    published = [str(c) for c in world.values.index[world.values.notna()]]
    # As on the maps: a country hidden in the world table shows no breakdown.
    units = roll_up(leaves[leaves["country"].isin(published)], ("country", "region"), policy)
    return world, units
