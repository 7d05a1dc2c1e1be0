"""The analyst dashboard: headline indicators and figures for the filtered responses."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select

from app import questionnaires
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
from app.analyst.filters import Filters, filtered
from app.analyst.frames import survey_frame
from app.extensions import db
from app.i18n import ENDONYMS, current_language
from app.links.models import DistributionLink
from app.models import Draft
from app.privacy import analyst_policy, policy_for
from forms.schema import Questionnaire
from geo.aggregate import tally
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
        pyramid_figure(df, questionnaires.role_labels(questionnaire, "sex", lang), num),
        *(
            multi_figure(
                role,
                title,
                df,
                df[role],
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
    versions = questionnaires.versions(filters.survey)
    if filters.version is not None:
        versions = [v for v in versions if v.number == filters.version]
    return questionnaires.questionnaire_of(versions[-1]) if versions else None


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
    """Return each distribution link's label and the name of the association that owns it."""
    organisations = {o.id: o.display_name(lang) for o in db.session.scalars(select(Organisation))}
    labels: dict[int, str] = {}
    owners: dict[int, str] = {}
    for link in db.session.scalars(select(DistributionLink)):
        labels[link.id] = link.label
        owners[link.id] = organisations.get(link.organisation_id, "")
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
    versions = questionnaires.versions(filters.survey)
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
