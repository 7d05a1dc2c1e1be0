"""The building blocks of the analyst pages: figures (a chart with its table) made of published
counts, formatted in the page's language.

Every count here comes from :mod:`geo.disclosure` under the page's policy (:mod:`app.privacy`):
a perturbed count or "fewer than k", never a raw one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from babel.numbers import format_percent
from flask_babel import format_date
from flask_babel import gettext as _
from markupsafe import Markup

from app.analyst import charts
from app.analyst.charts import Bar
from app.counts import NO_ANSWER, YEARS_BANDS
from app.i18n import text_direction
from forms import names
from forms.schema import Questionnaire
from forms.types import Context
from geo.aggregate import AGE_BANDS, coverage, shares_from
from geo.disclosure import TOTAL, Policy, Suppressed, Tally, display_count, publish
from geo.estimates import load_estimates
from geo.i18n import babel_locale, format_count, format_share

#: Bands of years lived in the country of residence.


#: How many occupations and proposals a page lists.
TOP_OCCUPATIONS = 10


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


def labels_of(questionnaire: Questionnaire | None, question: str, lang: str) -> dict[str, str]:
    """Return ``{choice name: label}`` of a question (empty when the question is missing)."""
    if questionnaire is None:
        return {}
    try:
        q = questionnaire.question(question)
    except KeyError:
        return {}
    return q.kind.choice_labels(q, Context(questionnaire, lang, _))


def _rank(table: Suppressed, key: Any) -> float:
    """Return a sort weight: the published count, hidden cells last."""
    value = published_value(table, key)
    return -1.0 if value is None else value


def published_value(table: Suppressed, key: Any) -> float | None:
    """Return a cell's published value, or None where hidden."""
    value = float(table.values[key])
    return None if math.isnan(value) else value


def single_figure(
    key: str,
    title: str,
    counted: Tally,
    labels: Mapping[str, str],
    num: Numbers,
    *,
    ranked: bool = False,
    top: int | None = None,
) -> Figure:
    """Count respondents per answer of a one-answer question, published, with shares.

    Every listed choice gets a row ("fewer than k" where nobody chose it); answers outside the
    list follow; those who gave no answer are a row of their own (left out, they would be the
    total minus the rows shown).

    :param counted: respondents per answer (:data:`NO_ANSWER` for none), a 1-D tally.
    """
    present = [str(v) for v in counted.n.index[counted.n.to_numpy() > 0]]
    seen = sorted(v for v in present if v != NO_ANSWER)
    order = list(dict.fromkeys([*labels, *seen]))
    if NO_ANSWER in present:
        order.append(NO_ANSWER)
    table = publish(counted.reindex(order), num.policy)
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
        value = published_value(table, item)
        share = "—" if value is None or not total else num.share(value / total)
        rows.append(Row(labels.get(item, str(item)), (num.cell(table, item), share), value))
    footer = Row(_("Total"), (num.cell(table, TOTAL), ""), total)
    chart = charts.bar_chart([Bar(r.label, r.value, r.cells[0]) for r in rows], title, num.rtl)
    return Figure(key, title, (_("Answer"), _("Respondents"), _("Share")), rows, chart, footer)


def multi_figure(
    key: str,
    title: str,
    naming: Tally,
    respondents: Tally,
    labels: Mapping[str, str],
    num: Numbers,
    *,
    ranked: bool = False,
) -> Figure:
    """Count respondents naming each item of a several-answer question, with shares.

    Published by :func:`geo.aggregate.shares_from`: a count is hidden when it or the number
    *not* naming the item is below k (nobody, or everybody, included), or when there are fewer
    than k respondents in all.

    :param naming: respondents naming each item (1-D); ``respondents``: all of them, one cell.
    """
    items = list(dict.fromkeys([*labels, *map(str, naming.n.index)]))
    naming = naming.reindex(items)
    groups = Tally(*(pd.Series([int(part.sum())], index=["all"]) for part in respondents))
    two_d = Tally(
        *(pd.DataFrame([part.to_numpy()], index=["all"], columns=items) for part in naming)
    )
    shares = shares_from(groups, two_d, num.policy, key)
    rows = []
    for item in items:
        value = float(shares.counts.loc["all", item])
        small = bool(shares.primary.loc["all", item])
        text = display_count(value, small, num.k, _, num.count)
        share = "—" if math.isnan(value) else shares.display("all", item, _, num.share)
        rows.append(
            Row(labels.get(item, item), (text, share), None if math.isnan(value) else value)
        )
    if ranked:
        rows.sort(key=lambda r: -(r.value if r.value is not None else -1))
    n_published = shares.n.get("all", np.nan)
    n_text = num.hidden() if pd.isna(n_published) else num.count(n_published)
    footer = Row(_("Respondents"), (n_text, ""), None)
    chart = charts.bar_chart([Bar(r.label, r.value, r.cells[0]) for r in rows], title, num.rtl)
    note = _("A respondent may name several; shares are of all respondents.")
    headers = (_("Answer"), _("Respondents naming it"), _("Share"))
    return Figure(key, title, headers, rows, chart, footer, note)


def pyramid_figure(counted: Tally, sex_labels: Mapping[str, str], num: Numbers) -> Figure:
    """Cross respondents by age band and sex, published with margins, drawn as a pyramid.

    :param counted: a 2-D tally, age bands by sex (:data:`NO_ANSWER` for either not given).
    """
    title = _("Respondents by sex and age")
    found_sexes = [str(s) for s in counted.n.columns if s != NO_ANSWER and counted.n[s].sum()]
    sexes = list(dict.fromkeys([*sex_labels, *sorted(found_sexes)]))
    bands = list(AGE_BANDS)
    # Missing answers are a row and a column of their own (see single_figure).
    if NO_ANSWER in counted.n.index and counted.n.loc[NO_ANSWER].sum():
        bands.append(NO_ANSWER)
    if NO_ANSWER in counted.n.columns and counted.n[NO_ANSWER].sum():
        sexes.append(NO_ANSWER)
    grid = Tally(*(part.reindex(index=bands, columns=sexes, fill_value=0) for part in counted))
    table = publish(grid, num.policy)
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


def weekly_figure(by_day: pd.DataFrame, num: Numbers) -> Figure:
    """Count responses per calendar week (Monday first), published.

    :param by_day: rows of ``day``, ``n``, ``key``, ``sources`` (:func:`app.counts.rows`).
    """
    title = _("Responses per week")
    if by_day.empty:
        return Figure("weeks", title, (_("Week of"), _("Responses")), [], None, None)
    days = pd.to_datetime(by_day["day"])
    weeks = (days - pd.to_timedelta(days.dt.day_of_week, unit="D")).dt.date
    every = [d.date() for d in pd.date_range(min(weeks), max(weeks), freq="7D")]
    table = publish(Tally.from_rows(by_day.assign(week=weeks), ["week"], index=every), num.policy)
    rows = [
        Row(format_date(week), (num.cell(table, week),), published_value(table, week))
        for week in every
    ]
    chart = charts.column_chart([Bar(r.label, r.value, r.cells[0]) for r in rows], title, num.rtl)
    footer = Row(_("Total"), (num.cell(table, TOTAL),))
    return Figure("weeks", title, (_("Week of"), _("Responses")), rows, chart, footer)


def years_figure(counted: Tally, num: Numbers) -> Figure:
    """Count respondents by years lived in their country of residence (bands of the counts)."""
    labels: dict[str, str] = {}
    for low, high in YEARS_BANDS:
        key = f"{low}+" if high is None else f"{low}-{high}"
        labels[key] = (
            _("%(low)d years or more", low=low)
            if high is None
            else _("%(low)d to %(high)d years", low=low, high=high)
        )
    return single_figure("years", _("Years in the country of residence"), counted, labels, num)


def countries_figure(by_country: Tally, num: Numbers) -> tuple[Figure, Suppressed]:
    """Count respondents per country of residence against the estimated Kazakhs there.

    :param by_country: respondents per country (1-D tally).
    """
    title = _("Respondents by country of residence")
    lang = num.lang
    country_names = names.country_names(lang)
    world = publish(by_country, num.policy)
    estimates = load_estimates()
    cover = coverage(world, estimates)
    order = sorted(
        world.values.index,
        key=lambda c: (-(published_value(world, c) or -1), country_names.get(c, c)),
    )
    rows = []
    for code in order:
        estimate, ratio = estimate_cells(code, cover, num)
        rows.append(
            Row(
                country_names.get(code, str(code)),
                (num.cell(world, code), estimate, ratio),
                published_value(world, code),
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


def estimate_cells(code: str, cover: pd.DataFrame, num: Numbers) -> tuple[str, str]:
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
    low, high = percent_text(row.ratio_low, num), percent_text(row.ratio_high, num)
    ratio = low if low == high else _("%(low)s to %(high)s", low=low, high=high)
    return estimate, ratio


def percent_text(x: float, num: Numbers) -> str:
    pattern = "#,##0.###%" if x < 0.1 else "#,##0%"
    return format_percent(x, format=pattern, locale=babel_locale(num.lang))


@cache
def country_outline(iso2: str) -> list[list[tuple[float, float]]]:
    """Return a country's simplified outline as rings of (lon, lat), largest parts only."""
    import shapely

    from geo.boundaries import country_geometry

    found = country_geometry(iso2)
    if found is None:
        return []
    geom = found.simplify(0.05, preserve_topology=True)
    polygons = list(getattr(geom, "geoms", [geom]))
    if not polygons:
        return []
    largest = max(p.area for p in polygons)
    return [
        [(x, y) for x, y in shapely.get_coordinates(p.exterior).tolist()]
        for p in polygons
        if p.area >= largest * 0.02
    ]


@cache
def world_paths() -> tuple[tuple[str, str], ...]:
    """Return every country's outline as SVG path data for the world sketch (built once)."""
    import shapely

    from geo.boundaries import country_geometries

    codes, shapes = zip(*country_geometries(), strict=True)
    simple = shapely.simplify(list(shapes), 0.4, preserve_topology=True)
    rings: list[tuple[str, list[list[tuple[float, float]]]]] = []
    for code, geom in zip(codes, simple, strict=True):
        if not isinstance(code, str) or geom is None or geom.is_empty:
            continue
        polygons = [p for p in getattr(geom, "geoms", [geom]) if p.geom_type == "Polygon"]
        if not polygons:
            continue
        largest = max(p.area for p in polygons)
        kept = [p.exterior for p in polygons if p.area >= min(largest, 0.3)]
        # get_coordinates reads a ring's points in one call; iterating .coords costs 40x more.
        rings.append((code, [shapely.get_coordinates(ring).tolist() for ring in kept]))
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
        value = published_value(world, code)
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
