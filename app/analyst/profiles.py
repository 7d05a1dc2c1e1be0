"""Country diaspora profiles: every figure for the respondents living in one country."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from app import counts, questionnaires
from app.analyst import charts
from app.analyst.figures import (
    TOP_OCCUPATIONS,
    Figure,
    Numbers,
    countries_figure,
    country_outline,
    estimate_cells,
    labels_of,
    multi_figure,
    published_value,
    pyramid_figure,
    single_figure,
    years_figure,
)
from app.extensions import db
from app.i18n import current_language
from app.models import Response
from app.privacy import analyst_policy, policy_for
from forms import names
from geo.aggregate import CITIZENSHIP_CATEGORIES, coverage
from geo.disclosure import TOTAL, Tally, roll_up
from geo.estimates import load_estimates

PROPOSALS_SHOWN = 100
#: The question whose free-text proposals analysts read per country (never published).
PROPOSALS_QUESTION = "proposals"
#: How many of a country's newest responses are searched for proposals.
PROPOSALS_READ = 5000


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
    _figure, world = countries_figure(_by_country(survey), num)
    country_names = names.country_names(num.lang)
    codes = sorted(
        world.values.index,
        key=lambda c: (-(published_value(world, c) or -1), country_names.get(c, c)),
    )
    entries = [
        CountryEntry(c, country_names.get(c, c), num.cell(world, c), published_value(world, c))
        for c in codes
    ]
    return entries, num.cell(world, TOTAL)


def _by_country(survey: str | None) -> Tally:
    """Return every respondent of a survey by country of residence (from the kept counts)."""
    frame = counts.rows(counts.scope_of(survey), ["all"], by=("country",))
    return counts.tally_of(frame, "all", ("country",))


#: The facts a country profile sums, by answer.
FACTS = (
    "all", "age_sex", "citizenship_category", "years", "education", "occupation", "skills",
    "languages", "scripts", "needs", "contribution", "return_intention", "association_member",
    "place",
)  # fmt: skip


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
    _countries, world = countries_figure(_by_country(survey), num)
    name = names.country_names(lang).get(iso2, iso2)
    high_risk = iso2 in policy.high_risk
    in_table = iso2 in world.values.index
    # A country nobody named reads like a small one.
    count = num.cell(world, iso2) if in_table else num.hidden()
    shown = in_table and published_value(world, iso2) is not None
    profile = CountryProfile(iso2, name, policy.k, count, bool(shown), high_risk)
    cover = coverage(world, load_estimates())
    profile.estimate, profile.coverage = estimate_cells(iso2, cover, num)
    if not shown:
        return profile
    answers = counts.rows(counts.scope_of(survey, country=iso2), FACTS)
    questionnaire = questionnaires.newest_questionnaire(survey)

    def labels(role: str) -> dict[str, str]:
        return questionnaires.role_labels(questionnaire, role, lang)

    def of(fact: str) -> Tally:
        return counts.tally_of(answers, fact)

    everyone = of("all")
    profile.figures = [
        pyramid_figure(
            Tally.from_rows(counts.pairs(answers, "age_sex", "age", "sex"), ["age", "sex"]),
            labels("sex"),
            num,
        ),
        single_figure(
            "citizenship",
            _("Citizenship"),
            of("citizenship_category"),
            {key: _(msgid) for key, msgid in CITIZENSHIP_CATEGORIES.items()},
            num,
        ),
        years_figure(of("years"), num),
        single_figure("education", _("Education"), of("education"), labels("education"), num),
        single_figure(
            "occupation",
            _("Top occupations"),
            of("occupation"),
            labels("occupation"),
            num,
            ranked=True,
            top=TOP_OCCUPATIONS,
        ),
        multi_figure(
            "skills", _("Skills"), of("skills"), everyone, labels("skills"), num, ranked=True
        ),
        multi_figure(
            "languages", _("Languages spoken"), of("languages"), everyone, labels("languages"), num
        ),
        multi_figure(
            "scripts",
            _("Scripts in which Kazakh is read"),
            of("scripts"),
            everyone,
            labels_of(questionnaire, "scripts", lang),
            num,
        ),
        multi_figure(
            "needs", _("Needs, ranked"), of("needs"), everyone, labels("needs"), num, ranked=True
        ),
        multi_figure(
            "contribution",
            _("Ways to contribute"),
            of("contribution"),
            everyone,
            labels("contribution"),
            num,
            ranked=True,
        ),
        single_figure(
            "return_intention",
            _("Intention to move to Kazakhstan"),
            of("return_intention"),
            labels("return_intention"),
            num,
        ),
        single_figure(
            "association_member",
            _("Member of a diaspora association"),
            of("association_member"),
            labels_of(questionnaire, "association_member", lang),
            num,
        ),
    ]
    places = counts.pairs(answers, "place", "region", "city").assign(country=iso2)
    _add_places(profile, places, num, lang, typed_places)
    return profile


def _add_places(
    profile: CountryProfile, leaves: pd.DataFrame, num: Numbers, lang: str, typed_places: bool
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
    from geo.places import unit_points

    levels = ["country", "region", "city"] if typed_places else ["country", "region"]
    leaves = leaves.replace({"region": {"": None}, "city": {"": None}})
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


def proposals(iso2: str, survey: str | None, limit: int = PROPOSALS_SHOWN) -> list[str]:
    """Return the newest proposals typed by respondents living in a country (free text)."""
    versions = [
        v
        for v in questionnaires.versions(survey)
        if any(q.name == PROPOSALS_QUESTION for q in questionnaires.questionnaire_of(v).questions())
    ]
    if not versions:
        return []
    value = Response.answers[PROPOSALS_QUESTION].as_string()
    where = (Response.country == iso2) & Response.version_id.in_([v.id for v in versions])
    # Only the country's newest PROPOSALS_READ responses are read: where few people wrote a
    # proposal, a search through all of them would read every answer of the country.
    oldest = db.session.scalar(
        select(Response.id).where(where).order_by(Response.id.desc()).offset(PROPOSALS_READ)
        .limit(1)
    )  # fmt: skip
    query = (
        select(value)
        .where(where)
        .where(Response.id > (oldest or 0))
        .where(value.is_not(None))
        .where(value != "")
        .order_by(Response.id.desc())
        .limit(limit)
    )
    return [str(p) for p in db.session.scalars(query) if isinstance(p, str) and p.strip()]
