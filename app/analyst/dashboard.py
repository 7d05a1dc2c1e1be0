"""The analyst dashboard: headline indicators and figures for the filtered responses."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from app import counts, questionnaires
from app.accounts.models import Organisation
from app.analyst import charts
from app.analyst.charts import Bar
from app.analyst.figures import (
    Figure,
    Indicator,
    Numbers,
    Row,
    countries_figure,
    multi_figure,
    published_value,
    pyramid_figure,
    single_figure,
    weekly_figure,
    world_figure,
)
from app.analyst.filters import Filters
from app.extensions import db
from app.i18n import ENDONYMS, current_language
from app.links.models import DistributionLink
from app.privacy import analyst_policy, policy_for
from forms.schema import Questionnaire
from geo.disclosure import TOTAL, Suppressed, Tally, publish

#: Key of respondents who came without a distribution link.
DIRECT = "direct"


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


#: The facts (app.counts.FACTS) the dashboard sums, by answer.
FACTS = (
    "language", "link", "age_sex", "skills", "needs", "contribution", "willing", "skilled",
    "specialist_consent",
)  # fmt: skip


def scope(filters: Filters) -> counts.Scope:
    """Return the responses the filters select, as a scope of the kept counts."""
    return counts.scope_of(
        filters.survey, filters.version, filters.since, filters.until, filters.country
    )


def dashboard(filters: Filters, k: int | None = None, sketch: bool = True) -> Dashboard:
    """Compute the dashboard for the filters, every count published at ``K_ANALYST``.

    Three sums over the kept counts (:mod:`app.counts`), whatever the number of responses.

    :param filters: validated filters (:func:`read_filters`).
    :param sketch: also draw the world sketch (when no published map has been built).
    """
    policy = policy_for(k) if k else analyst_policy()
    k = policy.k
    lang = current_language()
    num = Numbers(policy, lang)
    where = scope(filters)
    answers = counts.rows(where, FACTS)
    by_country = counts.rows(where, ["all"], by=("country",))
    by_day = counts.rows(where, ["all"], by=("day",))
    questionnaire = _questionnaire(filters)
    countries, world = countries_figure(counts.tally_of(by_country, "all", ("country",)), num)
    board = Dashboard(filters, k, num.cell(world, TOTAL), countries=countries)
    board.world_svg = world_figure(world, num) if sketch else None
    everyone = counts.tally_of(by_country.assign(value=""), "all")
    board.indicators = indicators(answers, everyone, world, num)
    board.figures = [
        weekly_figure(by_day, num),
        single_figure(
            "languages",
            _("Language the questionnaire was answered in"),
            counts.tally_of(answers, "language"),
            {tag: ENDONYMS.get(tag, tag) for tag in current_app.config["LANGUAGES"]},
            num,
            ranked=True,
        ),
        *link_figures(counts.tally_of(answers, "link"), num, lang),
        dropoff_figure(filters, questionnaire, num, lang),
        pyramid_figure(
            Tally.from_rows(counts.pairs(answers, "age_sex", "age", "sex"), ["age", "sex"]),
            questionnaires.role_labels(questionnaire, "sex", lang),
            num,
        ),
        *(
            multi_figure(
                role,
                title,
                counts.tally_of(answers, role),
                everyone,
                questionnaires.role_labels(questionnaire, role, lang),
                num,
                ranked=True,
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
    versions = questionnaires.versions(filters.survey, filters.version)
    return questionnaires.questionnaire_of(versions[-1]) if versions else None


def indicators(
    answers: pd.DataFrame, everyone: Tally, world: Suppressed, num: Numbers
) -> list[Indicator]:
    """Return the headline indicators the seed article asks for.

    :param answers: the dashboard's summed counts (:data:`FACTS`); ``everyone`` all respondents.
    """
    out = [Indicator(_("Respondents"), num.cell(world, TOTAL))]
    published = int((world.values.notna() & (world.values >= num.k)).sum())
    out.append(
        Indicator(
            _("Countries with at least %(k)d respondents", k=num.k),
            num.count(published),
        )
    )

    def share(fact: str, chosen: set[str], by_part: int | None = None) -> str:
        frame = answers[answers["fact"] == fact]
        if by_part is not None:
            frame = frame.assign(value=frame["value"].str.split(counts.SEP).str[by_part])
        return _share_text(counts.tally_of(frame, fact), chosen, everyone, num)

    out.append(
        Indicator(
            _("Willing to contribute"),
            share("willing", {"yes"}),
            _("Named at least one way to contribute to Kazakhstan."),
        )
    )
    out.append(Indicator(_("Named professional skills"), share("skilled", {"yes"})))
    out.append(
        Indicator(
            _("Agreed to join the specialists registry"), share("specialist_consent", {"yes"})
        )
    )
    out.append(Indicator(_("Women among respondents"), share("age_sex", {"female"}, 1)))
    out.append(Indicator(_("Aged 16 to 34"), share("age_sex", {"16-24", "25-34"}, 0)))
    return out


def _share_text(counted: Tally, chosen: set[str], everyone: Tally, num: Numbers) -> str:
    """Return "count (share)" of the respondents with an answer in ``chosen`` when neither they
    nor the others are below k (all or none is hidden too)."""
    inside = counted.n.index.isin(list(chosen))
    yes = [int(part[inside].sum()) for part in counted]
    all_ = [int(part.sum()) for part in everyone]
    split = Tally(
        *(pd.Series([y, a - y], index=["yes", "no"]) for y, a in zip(yes, all_, strict=True))
    )
    table = publish(split, num.policy)
    count, total = table.value("yes"), table.total
    if count is None or table.value("no") is None or not total:
        return num.hidden()
    return _("%(n)s (%(share)s)", n=num.count(count), share=num.share(count / total))


def link_labels(lang: str) -> tuple[dict[int, str], dict[int, str]]:
    """Return each distribution link's label and the name of the association that owns it."""
    organisations = {o.id: o.display_name(lang) for o in db.session.scalars(select(Organisation))}
    labels: dict[int, str] = {}
    owners: dict[int, str] = {}
    for link in db.session.scalars(select(DistributionLink)):
        labels[link.id] = link.label
        owners[link.id] = organisations.get(link.organisation_id, "")
    return labels, owners


def link_figures(by_link: Tally, num: Numbers, lang: str) -> list[Figure]:
    """Count respondents by distribution link and by the association that owns it.

    :param by_link: respondents per link id (as text; :data:`NO_ANSWER` for none).
    """
    labels, owners = link_labels(lang)
    keys = [DIRECT if v == counts.NO_ANSWER else f"link:{v}" for v in by_link.n.index]
    links = Tally(*(pd.Series(part.to_numpy(), index=keys) for part in by_link))
    link_names = {DIRECT: _("No link (came directly)")}
    for value in keys:
        if value != DIRECT:
            link_id = int(value.split(":")[1])
            link_names[value] = labels.get(link_id) or _("Link %(id)d", id=link_id)
    figures = [
        single_figure(
            "links", _("Responses by distribution link"), links, link_names, num, ranked=True
        )
    ]
    if owners:
        owner = [
            DIRECT if v == DIRECT else (owners.get(int(v.split(":")[1])) or DIRECT) for v in keys
        ]
        by_owner = Tally(*(part.groupby(owner).sum() for part in links))
        figures.append(
            single_figure(
                "associations",
                _("Responses by association"),
                by_owner,
                {DIRECT: _("No association")},
                num,
                ranked=True,
            )
        )
    return figures


def dropoff_figure(
    filters: Filters, questionnaire: Questionnaire | None, num: Numbers, lang: str
) -> Figure:
    """Count started questionnaires by the furthest page reached, and those submitted."""
    title = _("Completion and drop-off per page")
    # Drafts are counted by the day they were started, whatever the country filter says.
    scope = counts.scope_of(filters.survey, filters.version, filters.since, filters.until)
    pages = list(questionnaire.groups) if questionnaire else []
    keys = [f"page:{i}" for i in range(len(pages))] + [counts.SUBMITTED]
    last_page = f"page:{max(len(pages) - 1, 0)}"
    found = counts.rows(scope, [counts.DRAFT_FACT])
    rows = []
    steps = found[["value", "n", "key", "sources"]].itertuples(index=False)
    for step, n, key_sum, sources in steps:
        if step not in keys:  # a page the questionnaire no longer has: its last page
            step = last_page
        rows.append({"step": step, "n": int(n), "key": int(key_sum), "sources": int(sources)})
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
        rows.append(Row(label, (num.cell(table, key),), published_value(table, key)))
    rows.append(
        Row(_("Submitted"), (num.cell(table, "submitted"),), published_value(table, "submitted"))
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
