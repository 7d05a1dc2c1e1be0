"""What the analyst pages show, computed from stored responses and published for display.

Every count leaves this module as text made by :mod:`geo.disclosure` (a perturbed count or
"fewer than k"), under the policy of :mod:`app.privacy`: k = ``K_ANALYST`` inside the workspace,
``K_PUBLISHED`` for a downloaded report. A country hidden in the table of countries (its count
small, or hidden so that another cannot be worked out) shows no breakdown at all: its totals
there would give its count away.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from babel.support import Translations
from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, insert, inspect, select, text

from app import ROOT
from app.accounts.models import Organisation
from app.analyst import charts
from app.analyst.charts import Bar
from app.analyst.data import responses_frame
from app.extensions import db
from app.i18n import ENDONYMS, catalog_name, current_language, text_direction
from app.main.security import sha256
from app.models import Draft, Response, Survey, SurveyVersion, utcnow
from app.privacy import analyst_policy, policy_for, published_policy
from app.questionnaires import canonical_json, questionnaire_of
from forms import names
from forms.schema import Questionnaire
from geo import synthetic
from geo.aggregate import (
    AGE_BANDS,
    CITIZENSHIP_CATEGORIES,
    citizenship_category,
    coverage,
    share_naming,
    tally,
)
from geo.disclosure import TOTAL, Policy, Suppressed, Tally, display_count, publish, roll_up
from geo.estimates import load_estimates
from geo.i18n import format_count, format_share

#: Bands of years lived in the country of residence.
YEARS_BANDS: tuple[tuple[int, int | None], ...] = ((0, 4), (5, 9), (10, 19), (20, 29), (30, None))
#: How many occupations and proposals a page lists.
TOP_OCCUPATIONS = 10
PROPOSALS_SHOWN = 100
#: Key of respondents who came without a distribution link.
DIRECT = "direct"
#: Key of respondents who gave no answer to a question.
NO_ANSWER = "__no_answer__"


# -- filters ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The dashboard's filters, validated: survey, version number, date range, country."""

    survey: str | None = None
    version: int | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    country: str | None = None

    def as_query(self) -> dict[str, str]:
        """Return the filters as query parameters (to keep them in links)."""
        values = {
            "survey": self.survey,
            "version": self.version,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "country": self.country,
        }
        return {key: str(value) for key, value in values.items() if value is not None}

    def audit(self) -> dict[str, str]:
        """Return the filters for the audit log (no answer values)."""
        return self.as_query()


def read_filters(args: Mapping[str, str]) -> tuple[Filters, list[str]]:
    """Validate filters from query parameters; a bad value is dropped with a message.

    :return: the filters that passed and the messages (localised) about the others.
    """
    errors: list[str] = []
    surveys = [s.slug for s in db.session.scalars(select(Survey).order_by(Survey.id))]
    survey = (args.get("survey") or "").strip() or None
    if survey is not None and survey not in surveys:
        errors.append(_("There is no questionnaire called “%(name)s”.", name=survey[:64]))
        survey = None
    survey = survey or (surveys[0] if surveys else None)

    version: int | None = None
    raw_version = (args.get("version") or "").strip()
    if raw_version:
        numbers = set(
            db.session.scalars(
                select(SurveyVersion.number).join(Survey).where(Survey.slug == survey)
            )
        )
        if raw_version.isdigit() and len(raw_version) < 6 and int(raw_version) in numbers:
            version = int(raw_version)
        else:
            errors.append(_("Choose a version of the questionnaire from the list."))

    since = _date(args.get("since"), _("The start date"), errors)
    until = _date(args.get("until"), _("The end date"), errors)
    if since and until and since > until:
        errors.append(_("The start date is after the end date."))
        since = until = None

    country: str | None = (args.get("country") or "").strip().upper() or None
    if country is not None and country not in names.country_codes():
        errors.append(_("Choose a country from the list."))
        country = None
    return Filters(survey, version, since, until, country), errors


def _date(raw: str | None, what: str, errors: list[str]) -> dt.date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = dt.date.fromisoformat(raw[:10]) if len(raw) == 10 else None
    except ValueError:
        value = None
    if value is None or not 2000 <= value.year <= 2100:
        errors.append(_("%(what)s is not a date (use YYYY-MM-DD).", what=what))
        return None
    return value


def survey_versions(slug: str | None) -> list[SurveyVersion]:
    """Return the versions of a survey, oldest first."""
    if slug is None:
        return []
    return list(
        db.session.scalars(
            select(SurveyVersion)
            .join(Survey)
            .where(Survey.slug == slug)
            .order_by(SurveyVersion.number)
        )
    )


def survey_slugs() -> list[str]:
    """Return every survey's slug."""
    return list(db.session.scalars(select(Survey.slug).order_by(Survey.id)))


# -- the responses ----------------------------------------------------------------------------

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


def filtered(df: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """Return the rows of a survey's frame that pass the filters."""
    keep = pd.Series(True, index=df.index)
    if filters.version is not None:
        keep &= (df["version"] == filters.version).fillna(False)
    if filters.since is not None:
        keep &= df["submitted_at"] >= pd.Timestamp(filters.since, tz="UTC")
    if filters.until is not None:
        keep &= df["submitted_at"] < pd.Timestamp(filters.until + dt.timedelta(days=1), tz="UTC")
    if filters.country is not None:
        keep &= (df["country"].astype(object) == filters.country).fillna(False)
    return df[keep] if not keep.all() else df


# -- figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One row of a figure's table; ``value`` is the published count drawn (None: hidden)."""

    label: str
    cells: tuple[str, ...]
    value: float | None = None


@dataclass(frozen=True)
class Figure:
    """A chart with its numbers in a table beside it."""

    key: str
    title: str
    headers: tuple[str, ...]
    rows: list[Row]
    chart: Markup | None = None
    footer: Row | None = None
    note: str | None = None


@dataclass(frozen=True)
class Indicator:
    """A headline number with what it means."""

    label: str
    value: str
    note: str | None = None


class Numbers:
    """Formats published numbers in the page's language, hidden ones as "fewer than k"."""

    def __init__(self, policy: Policy, lang: str) -> None:
        self.policy = policy
        self.k = policy.k
        self.lang = lang
        self.rtl = text_direction(lang) == "rtl"

    def count(self, value: float) -> str:
        """Format a published count."""
        return format_count(value, self.lang)

    def share(self, value: float) -> str:
        """Format a proportion as a percentage."""
        return format_share(value, self.lang)

    def cell(self, table: Suppressed, key: Any) -> str:
        """Return the published text of a cell of a suppressed table."""
        return table.display(key, _, self.count)

    def hidden(self, small: bool = True) -> str:
        """Return the text of a hidden count."""
        return display_count(np.nan, small, self.k, _, self.count)


def _labels_of(questionnaire: Questionnaire | None, question: str, lang: str) -> dict[str, str]:
    """Return ``{choice name: label}`` of a question (empty when the question is missing)."""
    if questionnaire is None:
        return {}
    try:
        q = questionnaire.question(question)
    except KeyError:
        return {}
    if q.type == "consent":
        return {"yes": _("Yes"), "no": _("No")}
    return {c.name: questionnaire.text(c.label, lang) for c in questionnaire.choice_list(q)}


def _role_labels(questionnaire: Questionnaire | None, role: str, lang: str) -> dict[str, str]:
    target = questionnaire.role_question(role) if questionnaire else None
    return _labels_of(questionnaire, target[0] if target else role, lang)


def _rank(table: Suppressed, key: Any) -> float:
    """Return a sort weight: the published count, hidden cells last."""
    value = _published(table, key)
    return -1.0 if value is None else value


def _published(table: Suppressed, key: Any) -> float | None:
    """Return a cell's published value, or None where hidden."""
    value = float(table.values[key])
    return None if math.isnan(value) else value


def single_figure(
    key: str,
    title: str,
    df: pd.DataFrame,
    column: pd.Series,
    labels: Mapping[str, str],
    num: Numbers,
    *,
    ranked: bool = False,
    top: int | None = None,
) -> Figure:
    """Count respondents per answer of a one-answer question, published, with shares.

    Every listed choice gets a row ("fewer than k" where nobody chose it); answers outside the
    list follow.

    :param df: the respondents (for what disclosure control needs).
    :param column: their answers, aligned with ``df``.
    """
    # Those who gave no answer are a row of their own: left out, they would be the total
    # minus the rows shown, a count published without suppression.
    if isinstance(column.dtype, pd.CategoricalDtype):  # no detour through Python objects
        values = column.cat.add_categories([NO_ANSWER]).fillna(NO_ANSWER)
    else:
        values = column.astype(object).where(column.notna(), NO_ANSWER)
    present = set(values.unique())
    seen = sorted(str(c) for c in present if c != NO_ANSWER)
    order = list(dict.fromkeys([*labels, *seen]))
    if NO_ANSWER in present:
        order.append(NO_ANSWER)
    table = publish(tally(df, values.rename(key), index=order), num.policy)
    items = [item for item in order if item != NO_ANSWER]
    if ranked:
        items.sort(key=lambda item: -_rank(table, item))
    if top is not None:
        items = items[:top]
    if NO_ANSWER in order:
        items.append(NO_ANSWER)
    labels = {**labels, NO_ANSWER: _("No answer")}
    total = table.total
    rows = []
    for item in items:
        value = _published(table, item)
        share = "—" if value is None or not total else num.share(value / total)
        rows.append(Row(labels.get(item, str(item)), (num.cell(table, item), share), value))
    footer = Row(_("Total"), (num.cell(table, TOTAL), ""), total)
    chart = charts.bar_chart([Bar(r.label, r.value, r.cells[0]) for r in rows], title, num.rtl)
    return Figure(key, title, (_("Answer"), _("Respondents"), _("Share")), rows, chart, footer)


def multi_figure(
    key: str,
    title: str,
    df: pd.DataFrame,
    answers: pd.Series,
    labels: Mapping[str, str],
    num: Numbers,
    *,
    ranked: bool = False,
) -> Figure:
    """Count respondents naming each item of a several-answer question, with shares.

    Published by :func:`geo.aggregate.share_naming`: a count is hidden when it or the number
    *not* naming the item is below k (nobody, or everybody, included), or when there are fewer
    than k respondents in all.

    :param df: the respondents (for what disclosure control needs); ``answers`` aligned with it.
    """
    frame = pd.DataFrame(
        {
            "scope": pd.Categorical.from_codes(np.zeros(len(df), dtype=np.int8), ["all"]),
            key: answers.to_numpy(),
            "record_key": df["record_key"].to_numpy(),
            "independent": df["independent"].to_numpy(),
        },
        index=df.index,
    )
    shares = share_naming(frame, key, num.policy, by="scope", items=list(labels))
    named = list(shares.counts.columns) if "all" in shares.counts.index else []
    rows = []
    for item in dict.fromkeys([*labels, *map(str, named)]):
        label = labels.get(item, item)
        if item in named:
            value = float(shares.counts.loc["all", item])
            small = bool(shares.primary.loc["all", item])
            text = display_count(value, small, num.k, _, num.count)
            share = "—" if math.isnan(value) else shares.display("all", item, _, num.share)
            rows.append(Row(label, (text, share), None if math.isnan(value) else value))
        else:  # nobody answered at all
            rows.append(Row(label, (num.hidden(), "—"), None))
    if ranked:
        rows.sort(key=lambda r: -(r.value if r.value is not None else -1))
    n_published = shares.n.get("all", np.nan)
    n_text = num.hidden() if pd.isna(n_published) else num.count(n_published)
    footer = Row(_("Respondents"), (n_text, ""), None)
    chart = charts.bar_chart([Bar(r.label, r.value, r.cells[0]) for r in rows], title, num.rtl)
    note = _("A respondent may name several; shares are of all respondents.")
    headers = (_("Answer"), _("Respondents naming it"), _("Share"))
    return Figure(key, title, headers, rows, chart, footer, note)


def pyramid_figure(df: pd.DataFrame, sex_labels: Mapping[str, str], num: Numbers) -> Figure:
    """Cross respondents by age band and sex, suppressed with margins, drawn as a pyramid."""
    title = _("Respondents by sex and age")
    sexes = list(dict.fromkeys([*sex_labels, *sorted(df["sex"].dropna().astype(str).unique())]))
    bands = list(AGE_BANDS)
    # Missing answers are a row and a column of their own (see single_figure).
    age = df["age_band"].astype(object).where(df["age_band"].notna(), NO_ANSWER)
    sex = df["sex"].astype(object).where(df["sex"].notna(), NO_ANSWER)
    if (age == NO_ANSWER).any():
        bands.append(NO_ANSWER)
    if (sex == NO_ANSWER).any():
        sexes.append(NO_ANSWER)
    table = publish(
        tally(df, age.rename("age"), sex.rename("sex"), index=bands, columns=sexes), num.policy
    )
    sex_labels = {**sex_labels, NO_ANSWER: _("No answer")}
    rows = []
    for band in bands:
        cells = tuple(num.cell(table, (band, sex)) for sex in sexes)
        label = sex_labels[NO_ANSWER] if band == NO_ANSWER else band
        rows.append(Row(label, (*cells, num.cell(table, (band, TOTAL)))))
    footer = Row(
        _("Total"),
        (*[num.cell(table, (TOTAL, sex)) for sex in sexes], num.cell(table, TOTAL)),
    )
    drawn = [s for s in sexes if s != NO_ANSWER]
    left, right = (drawn + [None, None])[:2]

    def side(sex: str | None) -> list[Bar]:
        if sex is None:
            return [Bar(b, 0.0, "") for b in AGE_BANDS]
        return [
            Bar(b, _nan_none(table.values.loc[b, sex]), num.cell(table, (b, sex)))
            for b in AGE_BANDS
        ]

    chart = charts.pyramid(
        AGE_BANDS,
        side(left),
        side(right),
        title,
        sex_labels.get(left or "", left or ""),
        sex_labels.get(right or "", right or ""),
        num.rtl,
    )
    headers = (_("Age"), *[sex_labels.get(s, s) for s in sexes], _("Total"))
    return Figure("pyramid", title, headers, rows, chart, footer)


def _nan_none(value: float) -> float | None:
    return None if math.isnan(float(value)) else float(value)


def weekly_figure(df: pd.DataFrame, num: Numbers) -> Figure:
    """Count responses per calendar week (Monday first), published."""
    title = _("Responses per week")
    submitted = df["submitted_at"]
    if len(submitted) == 0:
        return Figure("weeks", title, (_("Week of"), _("Responses")), [], None, None)
    days = submitted.dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    weeks = days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    every = pd.date_range(weeks.min(), weeks.max(), freq="7D")
    table = publish(tally(df, weeks.rename("week"), index=list(every)), num.policy)
    rows = [
        Row(format_date(week.date()), (num.cell(table, week),), _published(table, week))
        for week in every
    ]
    chart = charts.column_chart([Bar(r.label, r.value, r.cells[0]) for r in rows], title, num.rtl)
    footer = Row(_("Total"), (num.cell(table, TOTAL),))
    return Figure("weeks", title, (_("Week of"), _("Responses")), rows, chart, footer)


def years_figure(df: pd.DataFrame, years: pd.Series, num: Numbers) -> Figure:
    """Count respondents by years lived in their country of residence."""
    labels: dict[str, str] = {}
    for low, high in YEARS_BANDS:
        key = f"{low}+" if high is None else f"{low}-{high}"
        labels[key] = (
            _("%(low)d years or more", low=low)
            if high is None
            else _("%(low)d to %(high)d years", low=low, high=high)
        )
    values = pd.to_numeric(years, errors="coerce")
    banded = pd.Series(None, index=years.index, dtype=object)
    for (low, high), key in zip(YEARS_BANDS, labels, strict=True):
        inside = (values >= low) & ((values <= high) if high is not None else True)
        banded[inside] = key
    return single_figure("years", _("Years in the country of residence"), df, banded, labels, num)


# -- the dashboard ----------------------------------------------------------------------------


@dataclass
class Dashboard:
    """Everything the dashboard shows."""

    filters: Filters
    k: int
    total: str
    indicators: list[Indicator] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    countries: Figure | None = None
    world_svg: Markup | None = None


def dashboard(filters: Filters, k: int | None = None, sketch: bool = True) -> Dashboard:
    """Compute the dashboard for the filters, every count published at ``K_ANALYST``.

    :param filters: validated filters (:func:`read_filters`).
    :param sketch: also draw the world sketch (when no published map has been built).
    """
    policy = policy_for(k) if k else analyst_policy()
    k = policy.k
    lang = current_language()
    num = Numbers(policy, lang)
    df = filtered(survey_frame(filters.survey), filters)
    questionnaire = _questionnaire(filters)
    countries, world = countries_figure(df, num)
    board = Dashboard(filters, k, num.cell(world, TOTAL), countries=countries)
    board.world_svg = world_figure(world, num) if sketch else None
    board.indicators = indicators(df, world, questionnaire, num)
    board.figures = [
        weekly_figure(df, num),
        single_figure(
            "languages",
            _("Language the questionnaire was answered in"),
            df,
            df["language"],
            {tag: ENDONYMS.get(tag, tag) for tag in current_app.config["LANGUAGES"]},
            num,
            ranked=True,
        ),
        *link_figures(df, num, lang),
        dropoff_figure(filters, questionnaire, num, lang),
        pyramid_figure(df, _role_labels(questionnaire, "sex", lang), num),
        *(
            multi_figure(
                role, title, df, df[role], _role_labels(questionnaire, role, lang), num, ranked=True
            )
            for role, title in (
                ("skills", _("Skills available")),
                ("needs", _("Needs, ranked")),
                ("contribution", _("Ways to contribute")),
            )
        ),
    ]
    return board


def _questionnaire(filters: Filters) -> Questionnaire | None:
    """Return the questionnaire of the filtered version, else the survey's newest."""
    versions = survey_versions(filters.survey)
    if filters.version is not None:
        versions = [v for v in versions if v.number == filters.version]
    return questionnaire_of(versions[-1]) if versions else None


def countries_figure(df: pd.DataFrame, num: Numbers) -> tuple[Figure, Suppressed]:
    """Count respondents per country of residence against the estimated Kazakhs there."""
    title = _("Respondents by country of residence")
    lang = num.lang
    country_names = names.country_names(lang)
    world = publish(tally(df, "country"), num.policy)
    estimates = load_estimates()
    cover = coverage(world, estimates)
    order = sorted(
        world.values.index,
        key=lambda c: (-(_published(world, c) or -1), country_names.get(c, c)),
    )
    rows = []
    for code in order:
        estimate, ratio = _estimate_cells(code, cover, num)
        rows.append(
            Row(
                country_names.get(code, str(code)),
                (num.cell(world, code), estimate, ratio),
                _published(world, code),
            )
        )
    chart = charts.bar_chart([Bar(r.label, r.value, r.cells[0]) for r in rows], title, num.rtl)
    footer = Row(_("Total"), (num.cell(world, TOTAL), "", ""), world.total)
    headers = (_("Country"), _("Respondents"), _("Estimated Kazakhs"), _("Coverage"))
    note = _(
        "Estimates are uncertain: coverage is shown as a range from the high to the low estimate."
    )
    figure = Figure("countries", title, headers, rows, chart, footer, note)
    return figure, world


def _estimate_cells(code: str, cover: pd.DataFrame, num: Numbers) -> tuple[str, str]:
    """Return the estimate (with its range and source) and the coverage range of a country."""
    if code not in cover.index:
        return _("No estimate available"), "—"
    row = cover.loc[code]
    if row.low == row.high:
        estimate = num.count(row.central)
    else:
        estimate = _("%(low)s to %(high)s", low=num.count(row.low), high=num.count(row.high))
    year = str(int(row.year)) if not pd.isna(row.year) else _("year unknown")
    estimate = _(
        "%(estimate)s (%(source)s, %(year)s; confidence: %(confidence)s)",
        estimate=estimate,
        source=row.source,
        year=year,
        confidence=_(str(row.confidence)),
    )
    if pd.isna(row.n):
        return estimate, "—"
    low, high = _pct(row.ratio_low, num), _pct(row.ratio_high, num)
    ratio = low if low == high else _("%(low)s to %(high)s", low=low, high=high)
    return estimate, ratio


def _pct(x: float, num: Numbers) -> str:
    from babel.numbers import format_percent

    from geo.i18n import babel_locale

    pattern = "#,##0.###%" if x < 0.1 else "#,##0%"
    return format_percent(x, format=pattern, locale=babel_locale(num.lang))


def indicators(
    df: pd.DataFrame, world: Suppressed, questionnaire: Questionnaire | None, num: Numbers
) -> list[Indicator]:
    """Return the headline indicators the seed article asks for."""
    out = [Indicator(_("Respondents"), num.cell(world, TOTAL))]
    published = int((world.values.notna() & (world.values >= num.k)).sum())
    out.append(
        Indicator(
            _("Countries with at least %(k)d respondents", k=num.k),
            num.count(published),
        )
    )
    willing = df["contribution"].map(
        lambda v: isinstance(v, tuple | list) and any(item != "none" for item in v)
    )
    out.append(
        Indicator(
            _("Willing to contribute"),
            _share_text(df, willing, num),
            _("Named at least one way to contribute to Kazakhstan."),
        )
    )
    skilled = df["skills"].map(lambda v: isinstance(v, tuple | list) and len(v) > 0)
    out.append(
        Indicator(
            _("Named professional skills"),
            _share_text(df, skilled, num),
        )
    )
    consent = df["specialist_consent"].astype(object) == "yes"
    out.append(
        Indicator(
            _("Agreed to join the specialists registry"),
            _share_text(df, consent, num),
        )
    )
    women = df["sex"].astype(object) == "female"
    out.append(Indicator(_("Women among respondents"), _share_text(df, women, num)))
    young = df["age_band"].astype(object).isin(["16-24", "25-34"])
    out.append(Indicator(_("Aged 16 to 34"), _share_text(df, young, num)))
    return out


def _share_text(df: pd.DataFrame, mask: pd.Series, num: Numbers) -> str:
    """Return "count (share)" of the respondents in ``mask`` when neither they nor the others
    are below k (all or none is hidden too)."""
    yes = mask.fillna(False).to_numpy(dtype=bool)
    split = pd.Series(
        pd.Categorical.from_codes(np.where(yes, 0, 1), categories=["yes", "no"]),
        index=df.index,
        name="split",
    )
    table = publish(tally(df, split, index=["yes", "no"]), num.policy)
    count, total = table.value("yes"), table.total
    if count is None or table.value("no") is None or not total:
        return num.hidden()
    return _("%(n)s (%(share)s)", n=num.count(count), share=num.share(count / total))


def link_labels(lang: str) -> tuple[dict[int, str], dict[int, str]]:
    """Return each distribution link's label and association (empty without a links table)."""
    if not inspect(db.session.connection()).has_table("distribution_link"):
        return {}, {}
    organisations = {o.id: o.display_name(lang) for o in db.session.scalars(select(Organisation))}
    labels: dict[int, str] = {}
    owners: dict[int, str] = {}
    rows = db.session.execute(text("SELECT id, label, organisation_id FROM distribution_link"))
    for link_id, label, organisation_id in rows:
        labels[int(link_id)] = str(label)
        owners[int(link_id)] = organisations.get(organisation_id, "")
    return labels, owners


def link_figures(df: pd.DataFrame, num: Numbers, lang: str) -> list[Figure]:
    """Count respondents by distribution link and by the association that owns it."""
    labels, owners = link_labels(lang)
    links = df["link"].map(lambda v: DIRECT if pd.isna(v) else f"link:{int(v)}")
    link_names = {DIRECT: _("No link (came directly)")}
    for value in links.unique():
        if value != DIRECT:
            link_id = int(value.split(":")[1])
            link_names[value] = labels.get(link_id) or _("Link %(id)d", id=link_id)
    by_link = single_figure(
        "links", _("Responses by distribution link"), df, links, link_names, num, ranked=True
    )
    if not owners:
        return [by_link]
    associations = links.map(
        lambda v: DIRECT if v == DIRECT else (owners.get(int(v.split(":")[1])) or DIRECT)
    )
    by_owner = single_figure(
        "associations",
        _("Responses by association"),
        df,
        associations,
        {DIRECT: _("No association")},
        num,
        ranked=True,
    )
    return [by_link, by_owner]


def dropoff_figure(
    filters: Filters, questionnaire: Questionnaire | None, num: Numbers, lang: str
) -> Figure:
    """Count started questionnaires by the furthest page reached, and those submitted."""
    title = _("Completion and drop-off per page")
    versions = survey_versions(filters.survey)
    if filters.version is not None:
        versions = [v for v in versions if v.number == filters.version]
    query = select(
        Draft.furthest_page,
        Draft.submitted_at.is_not(None),
        func.count(),
        func.sum(Draft.record_key),
    ).where(Draft.version_id.in_([v.id for v in versions]))
    if filters.since:
        query = query.where(Draft.created_at >= _utc(filters.since))
    if filters.until:
        query = query.where(Draft.created_at < _utc(filters.until + dt.timedelta(days=1)))
    query = query.group_by(Draft.furthest_page, Draft.submitted_at.is_not(None))
    pages = list(questionnaire.groups) if questionnaire else []
    keys = [f"page:{i}" for i in range(len(pages))] + ["submitted"]
    rows = []
    for page, submitted, n, key_sum in db.session.execute(query):
        if submitted:
            key = "submitted"
        else:
            key = f"page:{min(max(int(page or 0), 0), max(len(pages) - 1, 0))}"
        # Drafts carry no address information: each counts as independent.
        rows.append({"step": key, "n": int(n), "key": int(key_sum or 0), "sources": int(n)})
    frame = pd.DataFrame(rows, columns=["step", "n", "key", "sources"])
    table = publish(Tally.from_rows(frame, ["step"], index=keys), num.policy)
    rows = []
    for i, group in enumerate(pages):
        label = (
            _(
                "Stopped at page %(n)d: %(page)s",
                n=i + 1,
                page=questionnaire.text(group.label, lang),
            )
            if questionnaire
            else str(i + 1)
        )
        key = f"page:{i}"
        rows.append(Row(label, (num.cell(table, key),), _published(table, key)))
    rows.append(
        Row(_("Submitted"), (num.cell(table, "submitted"),), _published(table, "submitted"))
    )
    footer = Row(_("Started"), (num.cell(table, TOTAL),), table.total)
    chart = charts.bar_chart([Bar(r.label, r.value, r.cells[0]) for r in rows], title, num.rtl)
    note = _(
        "Counts questionnaires started in the browser in the date range (not filtered by "
        "country); answers sent through the API have no draft."
    )
    return Figure(
        "dropoff", title, (_("Furthest page"), _("Respondents")), rows, chart, footer, note
    )


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


# -- countries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountryEntry:
    """A country in the list of countries with data."""

    iso2: str
    name: str
    count: str
    value: float | None


def country_list(survey: str | None, k: int | None = None) -> tuple[list[CountryEntry], str]:
    """Return every country with responses and its published count, and the total."""
    num = Numbers(policy_for(k) if k else analyst_policy(), current_language())
    df = survey_frame(survey)
    _figure, world = countries_figure(df, num)
    country_names = names.country_names(num.lang)
    codes = sorted(
        world.values.index,
        key=lambda c: (-(_published(world, c) or -1), country_names.get(c, c)),
    )
    entries = [
        CountryEntry(c, country_names.get(c, c), num.cell(world, c), _published(world, c))
        for c in codes
    ]
    return entries, num.cell(world, TOTAL)


def is_country_code(iso2: str) -> bool:
    """Tell whether a path segment is a known ISO 3166-1 alpha-2 code (upper case)."""
    return len(iso2) == 2 and iso2.isalpha() and iso2.isupper() and iso2 in names.country_codes()


@dataclass
class PlaceRow:
    """A place of at least k respondents in a country profile."""

    label: str
    count: str


@dataclass
class CountryProfile:
    """What a country profile shows."""

    iso2: str
    name: str
    k: int
    count: str
    shown: bool
    high_risk: bool
    estimate: str = ""
    coverage: str = ""
    figures: list[Figure] = field(default_factory=list)
    places: list[PlaceRow] = field(default_factory=list)
    places_note: str | None = None
    sketch: Markup | None = None


def country_profile(
    iso2: str,
    survey: str | None,
    k: int | None = None,
    lang: str | None = None,
    typed_places: bool = True,
) -> CountryProfile:
    """Compute a country's profile, every count suppressed at ``k`` (default ``K_ANALYST``).

    The country's own count comes from the table of all countries; if it is hidden there, no
    breakdown is shown.

    :param typed_places: list cities too (their names may be as respondents typed them);
        False stops at regions (ISO codes), for anything that leaves the workspace.
    """
    policy = policy_for(k) if k else analyst_policy()
    lang = lang or current_language()
    num = Numbers(policy, lang)
    df = survey_frame(survey)
    _countries, world = countries_figure(df, num)
    name = names.country_names(lang).get(iso2, iso2)
    high_risk = iso2 in policy.high_risk
    in_table = iso2 in world.values.index
    # A country nobody named reads like a small one.
    count = num.cell(world, iso2) if in_table else num.hidden()
    shown = in_table and _published(world, iso2) is not None
    profile = CountryProfile(iso2, name, policy.k, count, bool(shown), high_risk)
    cover = coverage(world, load_estimates())
    profile.estimate, profile.coverage = _estimate_cells(iso2, cover, num)
    if not shown:
        return profile
    rows = df[df["country"].astype(object) == iso2]
    versions = survey_versions(survey)
    questionnaire = questionnaire_of(versions[-1]) if versions else None

    def labels(role: str) -> dict[str, str]:
        return _role_labels(questionnaire, role, lang)

    category = citizenship_category(rows)
    profile.figures = [
        pyramid_figure(rows, labels("sex"), num),
        single_figure(
            "citizenship",
            _("Citizenship"),
            rows,
            category,
            {key: _(msgid) for key, msgid in CITIZENSHIP_CATEGORIES.items()},
            num,
        ),
        years_figure(rows, rows["years_in_country"], num),
        single_figure(
            "education", _("Education"), rows, rows["education"], labels("education"), num
        ),
        single_figure(
            "occupation",
            _("Top occupations"),
            rows,
            rows["occupation"],
            labels("occupation"),
            num,
            ranked=True,
            top=TOP_OCCUPATIONS,
        ),
        multi_figure(
            "skills", _("Skills"), rows, rows["skills"], labels("skills"), num, ranked=True
        ),
        multi_figure(
            "languages", _("Languages spoken"), rows, rows["languages"], labels("languages"), num
        ),
        multi_figure(
            "scripts",
            _("Scripts in which Kazakh is read"),
            rows,
            rows["scripts"],
            _labels_of(questionnaire, "scripts", lang),
            num,
        ),
        multi_figure(
            "needs", _("Needs, ranked"), rows, rows["needs"], labels("needs"), num, ranked=True
        ),
        multi_figure(
            "contribution",
            _("Ways to contribute"),
            rows,
            rows["contribution"],
            labels("contribution"),
            num,
            ranked=True,
        ),
        single_figure(
            "return_intention",
            _("Intention to move to Kazakhstan"),
            rows,
            rows["return_intention"],
            labels("return_intention"),
            num,
        ),
        single_figure(
            "association_member",
            _("Member of a diaspora association"),
            rows,
            rows["association_member"],
            _labels_of(questionnaire, "association_member", lang),
            num,
        ),
    ]
    _add_places(profile, rows, num, lang, typed_places)
    return profile


def _add_places(
    profile: CountryProfile, rows: pd.DataFrame, num: Numbers, lang: str, typed_places: bool
) -> None:
    """List the country's places of at least k respondents and sketch them on its outline."""
    from geo import places as gazetteer

    outline = country_outline(profile.iso2)
    if profile.high_risk:
        profile.places_note = _(
            "Shown at country level only, to protect respondents: no region or city is listed."
        )
        profile.sketch = charts.country_sketch(outline, [], profile.name)
        return
    from geo.maps import unit_points

    levels = ["country", "region", "city"] if typed_places else ["country", "region"]
    leaves = rows[levels].assign(
        n=1, key=rows["record_key"], sources=rows["independent"].astype("int64")
    )
    units = roll_up(leaves, levels, num.policy)
    located = []
    for unit, point in zip(units.itertuples(index=False), unit_points(units), strict=True):
        region = _region_name(unit.region, lang, gazetteer) if unit.region else ""
        if unit.level == "city" and typed_places:
            label = _("%(city)s (%(region)s)", city=unit.city, region=region)
        elif unit.level == "region":
            label = _("Elsewhere in %(place)s", place=region) if unit.rest else region
        else:
            label = (
                _("Elsewhere in the country or place not given")
                if unit.rest
                else _("The whole country (no region has enough respondents to list)")
            )
        profile.places.append(PlaceRow(label, num.count(unit.n)))
        if point is not None:
            located.append(charts.Place(point[0], point[1], label, float(unit.n)))
    profile.places_note = _(
        "Places with fewer than %(k)d respondents are grouped into their region or country; "
        "a circle is at the place's own position (its city, or the centre of its region), "
        "never where respondents are.",
        k=num.k,
    )
    profile.sketch = charts.country_sketch(outline, located, profile.name)


def _region_name(code: str, lang: str, gazetteer: Any) -> str:
    try:
        return gazetteer.region_name(str(code), lang.replace("-", "_"))
    except LookupError:
        return str(code)


@cache
def country_outline(iso2: str) -> list[list[tuple[float, float]]]:
    """Return a country's simplified outline as rings of (lon, lat), largest parts only."""
    from geo.boundaries import load_countries

    countries = load_countries()
    match = countries[countries["iso_a2"] == iso2]
    if match.empty:
        return []
    geom = match.geometry.iloc[0].simplify(0.05, preserve_topology=True)
    polygons = list(getattr(geom, "geoms", [geom]))
    if not polygons:
        return []
    largest = max(p.area for p in polygons)
    return [
        [(float(x), float(y)) for x, y in p.exterior.coords]
        for p in polygons
        if p.area >= largest * 0.02
    ]


@cache
def world_paths() -> tuple[tuple[str, str], ...]:
    """Return every country's outline as SVG path data for the world sketch (built once)."""
    import shapely

    from geo.boundaries import load_countries

    countries = load_countries()
    simple = shapely.simplify(countries.geometry.to_numpy(), 0.4, preserve_topology=True)
    rings: list[tuple[str, list[list[tuple[float, float]]]]] = []
    for code, geom in zip(countries["iso_a2"], simple, strict=True):
        if not isinstance(code, str) or geom is None or geom.is_empty:
            continue
        polygons = [p for p in getattr(geom, "geoms", [geom]) if p.geom_type == "Polygon"]
        if not polygons:
            continue
        largest = max(p.area for p in polygons)
        rings.append(
            (code, [list(p.exterior.coords) for p in polygons if p.area >= min(largest, 0.3)])
        )
    return tuple(charts.world_path_data(rings))


def world_figure(world: Suppressed, num: Numbers) -> Markup:
    """Draw the countries table as a world sketch (used until maps are built)."""
    title = _("Respondents by country of residence")
    published = [v for v in world.values.dropna() if v > 0]
    top = max(published, default=0)
    edges = [num.k, *(_nice(top * f) for f in (0.05, 0.15, 0.4))]
    edges = sorted(set(e for e in edges if e >= num.k))
    country_names = names.country_names(num.lang)
    shades: dict[str, tuple[str, str]] = {}
    for code in world.values.index:
        value = _published(world, code)
        name = country_names.get(code, code)
        text = _("%(country)s: %(n)s", country=name, n=num.cell(world, code))
        if value is None:
            shades[code] = (charts.HIDDEN, text)
        elif value > 0:
            level = sum(value >= e for e in edges) - 1
            shades[code] = (charts.CLASSES[max(0, min(level, len(charts.CLASSES) - 1))], text)
    legend = []
    for i, low in enumerate(edges):
        high = edges[i + 1] - 1 if i + 1 < len(edges) else None
        text = (
            _("%(low)s or more", low=num.count(low))
            if high is None
            else _("%(low)s to %(high)s", low=num.count(low), high=num.count(high))
        )
        legend.append((charts.CLASSES[min(i, len(charts.CLASSES) - 1)], text))
    legend.append((charts.HIDDEN, num.hidden()))
    return charts.world_sketch(world_paths(), shades, title, legend)


def _nice(x: float) -> int:
    """Round a class edge to one significant digit."""
    if x < 10:
        return int(max(x, 1))
    scale = 10 ** int(math.log10(x))
    return int(round(x / scale) * scale)


def proposals(iso2: str, survey: str | None, limit: int = PROPOSALS_SHOWN) -> list[str]:
    """Return the newest proposals typed by respondents living in a country (free text)."""
    versions = survey_versions(survey)
    question_names = set()
    for version in versions:
        questionnaire = questionnaire_of(version)
        if any(q.name == "proposals" for q in questionnaire.questions()):
            question_names.add("proposals")
    if not question_names:
        return []
    value = Response.answers["proposals"].as_string()
    query = (
        select(value)
        .where(Response.country == iso2)
        .where(Response.version_id.in_([v.id for v in versions]))
        .where(value.is_not(None))
        .where(value != "")
        .order_by(Response.id.desc())
        .limit(limit)
    )
    return [str(p) for p in db.session.scalars(query) if isinstance(p, str) and p.strip()]


# -- published maps ---------------------------------------------------------------------------


def maps_dir() -> Path:
    """Return where built maps are kept (``MAPS_DIR``, default instance/maps)."""
    configured = current_app.config.get("MAPS_DIR")
    if not configured:
        return Path(current_app.instance_path) / "maps"
    path = Path(configured)
    return path if path.is_absolute() else ROOT / path


def read_manifest(directory: Path | None = None) -> dict[str, Any] | None:
    """Return the manifest of the last map build, or None when nothing was built."""
    path = (directory or maps_dir()) / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def built_map(
    manifest: dict[str, Any] | None, kind: str, lang: str, country: str | None = None
) -> str | None:
    """Return the file name of a built map in ``lang`` (else the default language, else any)."""
    if not manifest:
        return None
    entries = [
        m
        for m in manifest.get("maps", [])
        if isinstance(m, dict) and m.get("map") == kind and m.get("country") == country
    ]
    for wanted in (lang, current_app.config["DEFAULT_LANGUAGE"]):
        for entry in entries:
            if entry.get("language") == wanted:
                return str(entry["file"])
    return str(entries[0]["file"]) if entries else None


def is_built_file(manifest: dict[str, Any] | None, name: str) -> bool:
    """Tell whether ``name`` is a map file (or an asset) the manifest lists."""
    if not manifest:
        return False
    files = {str(m.get("file")) for m in manifest.get("maps", []) if isinstance(m, dict)}
    return name in files or name in set(map(str, manifest.get("assets", [])))


def style_hash(stylesheet: str) -> str:
    """Return the CSP source that allows exactly this inline stylesheet."""
    digest = hashlib.sha256(stylesheet.encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


def translate_for(lang: str) -> Callable[[str], str]:
    """Return the gettext of a language from the app's catalogs (translations/)."""
    directory = current_app.config["BABEL_TRANSLATION_DIRECTORIES"].split(";")[0]
    catalog = Translations.load(directory, [catalog_name(lang)])
    return catalog.gettext


def choice_labeller(survey: str | None) -> Callable[[str, str, str], str]:
    """Return ``(role, item, language) -> label`` from the survey's newest questionnaire."""
    versions = survey_versions(survey)
    questionnaire = questionnaire_of(versions[-1]) if versions else None
    cached: dict[tuple[str, str], dict[str, str]] = {}

    def label(role: str, item: str, language: str) -> str:
        if (role, language) not in cached:
            cached[(role, language)] = _role_labels(questionnaire, role, language)
        return cached[(role, language)].get(item, item)

    return label


def data_fingerprint(survey: str | None) -> str:
    """Return what changes whenever the published figures may change: count, newest id,
    withdrawals (a withdrawal lowers the count but may leave the newest id as it was)."""
    from app.models import WithdrawnSubmission

    query = select(func.count(Response.id), func.max(Response.id))
    if survey is not None:
        query = query.join(SurveyVersion).join(Survey).where(Survey.slug == survey)
    count, newest = db.session.execute(query).one()
    withdrawn = db.session.scalar(select(func.count()).select_from(WithdrawnSubmission))
    db.session.rollback()
    return f"{count}:{newest or 0}:{withdrawn}"


def maps_are_current(survey: str | None, out_dir: Path) -> bool:
    """Return whether the maps in ``out_dir`` were built from the data as it is now."""
    try:
        manifest = json.loads((Path(out_dir) / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return manifest.get("data_fingerprint") == data_fingerprint(survey)


def build_published_maps(
    survey: str | None,
    languages: Sequence[str],
    out_dir: Path,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, Any]:
    """Build every published map (k = ``K_PUBLISHED``) into ``out_dir``, replacing the last build.

    The new build is written beside the old one and swapped in at the end, so the dashboard
    keeps serving the previous maps while this runs.

    :return: the manifest.
    """
    from geo.maps import build_maps

    fingerprint = data_fingerprint(survey)
    df = responses_frame(survey)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".maps-", dir=out_dir.parent))
    try:
        manifest = build_maps(
            df,
            staging,
            list(languages),
            translate_for,
            published_policy(),
            progress=progress,
            choice_label=choice_labeller(survey),
            asset_source=ROOT / "node_modules",
        )
        manifest["data_fingerprint"] = fingerprint
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        old = out_dir.with_name(out_dir.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        if out_dir.exists():
            os.replace(out_dir, old)
        os.replace(staging, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


# -- synthetic data ---------------------------------------------------------------------------

#: geo.synthetic's codes -> the bundled questionnaire's choice names.
SYNTHETIC_SKILLS = {
    "agriculture": "agriculture", "construction": "construction", "education": "teaching",
    "engineering": "engineering", "finance": "finance", "healthcare": "healthcare", "it": "it",
    "law": "law", "logistics": "trade_logistics", "media": "media_arts",
    "research": "science_research", "trade": "trade_logistics",
}  # fmt: skip
SYNTHETIC_NEEDS = {
    "language_courses": "kazakh_language", "kazakh_schools": "education_scholarships",
    "cultural_centre": "culture", "consular_help": "citizenship",
    "return_support": "legal_kandas", "business_contacts": "business_investment",
    "scholarships": "education_scholarships", "media_in_kazakh": "information",
}  # fmt: skip
SYNTHETIC_CONTRIBUTIONS = {
    "investment": "investment", "trade": "expertise", "mentoring": "mentoring",
    "teaching": "expertise", "research": "expertise", "volunteering": "volunteering",
    "tourism": "cultural_events", "philanthropy": "volunteering",
}  # fmt: skip
SYNTHETIC_OCCUPATIONS = {
    "teacher": "education", "engineer": "engineering_it", "doctor": "health",
    "student": "student", "farmer": "agriculture", "driver": "transport",
    "trader": "business_trade", "programmer": "engineering_it", "researcher": "science",
    "retired": "retired", "homemaker": "homemaker", "entrepreneur": "business_trade",
}  # fmt: skip
SYNTHETIC_RETURN = {"yes": "yes_within_2y", "maybe": "yes_later", "no": "no", "undecided": "maybe"}
SYNTHETIC_SEX = {"female": "female", "male": "male", "other": "prefer_not_say"}
SYNTHETIC_PROPOSALS = (
    "Қазақ тілі курстарын ашу керек",
    "Открыть культурный центр",
    "More scholarships for diaspora students",
    "Kazakh classes for children online",
)
#: Share of synthetic respondents who type a proposal, and of drafts abandoned on the way.
PROPOSAL_RATE = 0.3
ABANDONED_RATE = 0.25
#: Synthetic responses are spread over this many days before now.
SYNTHETIC_DAYS = 180
BATCH = 5000


def insert_synthetic(
    n: int,
    survey: str | None,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Insert ``n`` synthetic responses (and their drafts, plus some abandoned ones).

    Answers follow the survey's newest questionnaire: :func:`geo.synthetic.generate`'s codes are
    mapped onto its choices; its hostile strings land in the typed city, the occupation detail
    and the proposals, so every page that shows them is exercised against them.

    :return: the number of responses inserted.
    """
    versions = survey_versions(survey)
    if not versions:
        raise LookupError(survey)
    version = versions[-1]
    questionnaire = questionnaire_of(version)
    pages = len(questionnaire.groups)
    df = synthetic.generate(n, seed)
    rng = np.random.default_rng(seed + 1)
    link_ids = _synthetic_links(df, rng)
    now = utcnow()
    offsets = rng.uniform(0, SYNTHETIC_DAYS * 86400, n)
    ages = _ages(df["age_band"], rng)
    years = rng.integers(0, 40, n)
    born_there = rng.random(n) < 0.4
    scripts = ("cyrillic", "latin", "arabic", "none")
    ties = ("visits", "family", "business", "investment", "trade", "tourism", "study")
    proposal_pick = rng.random(n)
    member = rng.random(n) < 0.2
    consent = rng.random(n) < 0.3
    script_bits = rng.random((n, 3)) < 0.4
    tie_bits = rng.random((n, len(ties))) < 0.25
    hostile = set(synthetic.HOSTILE_STRINGS)
    inserted = 0
    for start in range(0, n, BATCH):
        responses: list[dict[str, Any]] = []
        drafts: list[dict[str, Any]] = []
        records = df.iloc[start : start + BATCH].to_dict("records")
        for i, row in enumerate(records, start):
            answers, columns = _synthetic_answers(
                row,
                int(ages[i]),
                None if born_there[i] else int(years[i]),
                [s for s, on in zip(scripts, script_bits[i], strict=False) if on] or ["cyrillic"],
                [t for t, on in zip(ties, tie_bits[i], strict=True) if on] or ["none"],
                _proposal(row, proposal_pick[i], hostile),
                "yes" if member[i] else "no",
                "yes" if consent[i] else "no",
            )
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
                    **columns,
                }
            )
            drafts.append(_draft(version.id, language, submitted, pages - 1, link_ids[i], True))
            if rng.random() < ABANDONED_RATE:
                drafts.append(
                    _draft(
                        version.id,
                        language,
                        submitted,
                        int(rng.integers(0, pages)),
                        link_ids[i],
                        False,
                    )
                )
        db.session.execute(insert(Response), responses)
        db.session.execute(insert(Draft), drafts)
        db.session.commit()
        inserted += len(responses)
        if progress:
            progress(len(responses))
    return inserted


def _ages(bands: pd.Series, rng: np.random.Generator) -> np.ndarray:
    """Draw an age inside each respondent's band (none for a missing band)."""
    low = {b: int(b.split("-")[0].rstrip("+")) for b in AGE_BANDS}
    high = {b: (int(b.split("-")[1]) if "-" in b else 85) for b in AGE_BANDS}
    values = bands.astype(object)
    out = np.zeros(len(values), dtype=np.int64)
    for band in AGE_BANDS:
        inside = (values == band).to_numpy()
        out[inside] = rng.integers(low[band], high[band] + 1, int(inside.sum()))
    return out


def _synthetic_links(df: pd.DataFrame, rng: np.random.Generator) -> list[int | None]:
    """Return a link id per row: existing links if there are any, else stand-in numbers."""
    existing: list[int] = []
    if inspect(db.session.connection()).has_table("distribution_link"):
        existing = [int(i) for i in db.session.scalars(text("SELECT id FROM distribution_link"))]
    codes = df["link"].cat.codes.to_numpy()
    direct = rng.random(len(df)) < 0.3
    out: list[int | None] = []
    for code, no_link in zip(codes, direct, strict=True):
        if no_link:
            out.append(None)
        elif existing:
            out.append(existing[int(code) % len(existing)])
        else:
            out.append(int(code) % 54 + 1)
    return out


def _proposal(row: Mapping[str, Any], pick: float, hostile: set[str]) -> str | None:
    """Return a proposal: the row's hostile string if it has one, else sometimes a plain one."""
    for column in ("city", "occupation", "link"):
        if str(row[column]) in hostile:
            return str(row[column])
    if pick < PROPOSAL_RATE:
        return SYNTHETIC_PROPOSALS[int(pick * 1000) % len(SYNTHETIC_PROPOSALS)]
    return None


def _synthetic_answers(
    row: Mapping[str, Any],
    age: int,
    years: int | None,
    scripts: list[str],
    ties: list[str],
    proposal: str | None,
    member: str,
    consent: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Map a synthetic row onto the bundled questionnaire's answers and indexed columns."""

    def value(column: str) -> str | None:
        v = row[column]
        return None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)

    def mapped(items: Iterable[str], table: Mapping[str, str]) -> list[str]:
        return list(dict.fromkeys(table[i] for i in items if i in table))

    hostile = set(synthetic.HOSTILE_STRINGS)
    region = value("region")
    region = None if region in hostile else region
    city = value("city")
    lat, lon = row["lat"], row["lon"]
    geo = None if pd.isna(lat) or pd.isna(lon) else [float(lat), float(lon)]
    occupation = value("occupation")
    answers: dict[str, Any] = {
        "residence": {
            "country": value("country"),
            "region": region,
            "city": city,
            "city_id": None,
            "geo": geo,
        },
        "arrival_reason": "born_there" if years is None else "work",
        "citizenship": value("citizenship"),
        "sex": SYNTHETIC_SEX.get(value("sex") or "", None),
        "age": age if value("age_band") else None,
        "education": value("education"),
        "occupation": SYNTHETIC_OCCUPATIONS.get(occupation or "", "other"),
        "skills": mapped(row["skills"], SYNTHETIC_SKILLS) or None,
        "languages": list(row["languages"]) or None,
        "scripts": scripts,
        "ties": ties,
        "return_intention": SYNTHETIC_RETURN.get(value("return_intention") or ""),
        "needs": mapped(row["needs"], SYNTHETIC_NEEDS) or None,
        "contribution": mapped(row["contribution"], SYNTHETIC_CONTRIBUTIONS) or ["none"],
        "association_member": member,
        "specialist_consent": consent,
        "contact_ok": "no",
    }
    if years is not None:
        answers["years_in_country"] = years
    if occupation in hostile:
        answers["occupation_detail"] = occupation
    if proposal:
        answers["proposals"] = proposal
    answers = {k: v for k, v in answers.items() if v is not None}
    columns = {
        "country": value("country"),
        "region": region,
        "city": city[:200] if city else None,
        "city_id": None,
        "lat": geo[0] if geo else None,
        "lon": geo[1] if geo else None,
        "geo_country": value("country") if geo else None,
        "geo_mismatch": False if geo else None,
        "sex": answers.get("sex"),
        "age_band": value("age_band"),
        "citizenship": value("citizenship"),
    }
    return answers, columns


def _draft(
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
        "consent_version": "1",
        "consent_language": language,
        "consented_at": moment - dt.timedelta(minutes=15),
        "link_id": link_id,
        "submitted_at": moment if submitted else None,
        "created_at": moment - dt.timedelta(minutes=15),
        "updated_at": moment,
    }
