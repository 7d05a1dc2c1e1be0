"""Question types: one small class each, in a registry keyed by the questionnaire's ``type``.

Each type turns what a respondent sent (a form field's text or a JSON value) into the stored
answer, checks it, and builds the WTForms field that asks for it. It also says what the rest of
the application asks about an answer of its kind, so that nothing else branches on ``type``:
its JSON Schema (the API's OpenAPI description), its columns in a response export, the review
page's text, what retention clears, and the template that draws it
(``app/templates/survey/questions/``). Messages are marked with :func:`forms.i18n.N_` and
translated with the caller's ``gettext``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

from markupsafe import Markup, escape
from wtforms import (
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.core import UnboundField
from wtforms.widgets import CheckboxInput, ListWidget, Select, html_params

from forms import names
from forms.i18n import N_, Gettext, identity
from geo import places

if TYPE_CHECKING:
    from forms.schema import Question, Questionnaire

#: Also the ``pattern`` of the OpenAPI description, so written in syntax ECMA-262 reads alike.
EMAIL_RE = re.compile(r"""^[^@\s<>"'\x00]{1,64}@[^@\s<>"'\x00]+\.[^@\s<>"'\x00]{2,}$""")
#: A date as the API sends it (JSON Schema's ``format: date``); Python reads other forms too.
ISO_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: The parts a location answer sent to the API may have, and that a role may name.
LOCATION_KEYS = ("country", "region", "city", "geo")
DEFAULT_MAX_LENGTH = {"text": 200, "long_text": 4000, "email": 254}
#: Text the server stores: anything but NUL (U+0000), which no database keeps (a JSON Schema
#: ``pattern``).
STORABLE_TEXT = "^[^\\x00]*$"
#: The largest whole number an integer question reads (15 digits), when it sets no bounds.
LARGEST_INTEGER = 10**15 - 1
#: Stored coordinates are rounded to this many decimals (about 1 km) before anything else.
GEO_DECIMALS = 2


class Invalid(ValueError):
    """An answer that cannot be accepted; ``message`` is a msgid, ``params`` fill it."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params

    def text(self, gettext: Gettext) -> str:
        """Return the message in the respondent's language."""
        return gettext(self.message) % self.params if self.params else gettext(self.message)


@dataclass
class Context:
    """What a type needs to know about the page it is on."""

    questionnaire: Questionnaire
    lang: str
    gettext: Gettext = identity
    #: Answers known so far (earlier pages and this one), for region lists.
    values: Mapping[str, Any] = field(default_factory=dict)

    def label(self, texts: Mapping[str, str] | None) -> str:
        return self.questionnaire.text(texts, self.lang)


def select_choices(pairs: Any) -> list[SelectChoice]:
    """Return ``(value, label)`` pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


#: Rendered ``<option>`` markup of shared choice lists, by the id of their first choice.
_RENDERED_OPTIONS: dict[int, tuple[tuple[SelectChoice, ...], str]] = {}


@lru_cache(maxsize=32)
def country_select_choices(lang: str) -> tuple[SelectChoice, ...]:
    """Return the country drop-down's choices in a language, built and rendered once."""
    choices = tuple(select_choices([("", "—"), *names.country_choices(lang)]))
    markup = "".join(
        f'<option value="{escape(c.value)}">{escape(c.label)}</option>' for c in choices
    )
    _RENDERED_OPTIONS[id(choices[0])] = (choices, markup)
    return choices


class LongSelect(Select):
    """A drop-down whose long, shared option list (250 countries) is rendered only once.

    WTForms renders every ``<option>`` on every request, most of a page's time; the options of
    a shared list never change, so their escaped markup is kept and only ``selected`` is set.
    Any other list is rendered by WTForms as usual.
    """

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        choices = field.choices or []
        cached = _RENDERED_OPTIONS.get(id(choices[0])) if choices else None
        if cached is None or cached[0][0] is not choices[0] or len(cached[0]) != len(choices):
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        options = cached[1]
        current = field.data if isinstance(field.data, str) else None
        if current is not None:
            mark = f'<option value="{escape(current)}">'
            options = options.replace(mark, f'<option selected value="{escape(current)}">', 1)
        # Every label and value in the cached markup was escaped when it was built.
        return Markup(  # noqa: S704
            f"<select {html_params(name=field.name, **kwargs)}>{options}</select>"
        )


@dataclass(frozen=True)
class ExportColumn:
    """One column of a response export (CSV, XLSX) and its codebook entry."""

    name: str
    #: The question it comes from.
    question: str
    type: str
    label: str
    role: str
    #: (code, label in the export language) of each choice.
    choices: tuple[tuple[str, str], ...] = ()
    #: Turns the question's answer into this column's cell; None: the answer is the cell.
    fix: Callable[[Any], Any] | None = field(default=None, repr=False, compare=False)


def _joined(separator: str, lookup: Mapping[str, str] | None) -> Callable[[Any], Any]:
    """Return a fix joining a multiple choice's codes (or their labels)."""

    def fix(value: Any) -> Any:
        if value.__class__ is not list:
            return value
        if lookup is None:
            return separator.join(map(str, value))
        return separator.join(lookup.get(v, str(v)) for v in value)

    return fix


def _looked_up(lookup: Mapping[str, str]) -> Callable[[Any], Any]:
    """Return a fix replacing a code by its label."""

    def fix(value: Any) -> Any:
        return lookup.get(value, value) if value.__class__ is str else value

    return fix


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or raw == [] or raw == {}


class QuestionType:
    """The behaviour shared by every type; subclasses override what differs."""

    name: ClassVar[str]
    #: Whether the question takes an answer (a note does not, and has no field).
    answers: ClassVar[bool] = True
    #: Whether the question needs a choice list (``choices:`` in the file).
    needs_choices: ClassVar[bool] = False
    #: The parts of a structured answer a role may name as ``name.part``.
    parts: ClassVar[tuple[str, ...]] = ()
    #: The Jinja template that draws the question; it sees ``q``, its ``field`` and ``text``.
    template: ClassVar[str] = "survey/questions/field.html"
    #: Whether answers go into response exports (an e-mail address is shown one person at a
    #: time in the specialists registry, each showing audited, and never exported).
    exported: ClassVar[bool] = True
    #: The whole answer may identify its respondent (free text, an address): retention clears it.
    identifying: ClassVar[bool] = False
    #: The parts of a structured answer that may identify its respondent, cleared by retention.
    identifying_parts: ClassVar[tuple[str, ...]] = ()

    def coerce(self, question: Question, raw: Any, ctx: Context) -> Any:
        """Turn what was sent into the stored value (None when unanswered) or raise Invalid."""
        if _blank(raw):
            return None
        if not isinstance(raw, str):
            raise Invalid(N_("Send text for this question."))
        return raw.strip()

    def check_json(self, question: Question, value: Any, ctx: Context) -> None:
        """Refuse a JSON answer of a type or form the API's OpenAPI description does not allow.

        A page sends text for every field and leaves an unanswered one empty, and
        :meth:`coerce` reads it leniently; an API client sends typed JSON, which must be
        exactly what the description says (no ``{}`` for a text, no ``"52"`` for a number).
        """
        if not isinstance(value, str):
            raise Invalid(N_("Send this answer as a JSON string."))

    def field(self, question: Question, ctx: Context) -> UnboundField | None:
        """Return the unbound WTForms field that asks the question."""
        return StringField(ctx.label(question.label), description=ctx.label(question.hint))

    def form_data(self, question: Question, value: Any) -> Any:
        """Return the stored value as the field's data, to fill the form again."""
        return "" if value is None else str(value)

    def prepare_field(self, field: Any, ctx: Context) -> None:
        """Fill what the bound field's choices depend on (other answers, the page language)."""

    def raw_value(self, field: Any) -> Any:
        """Return what the respondent sent in the bound field, for :meth:`coerce`."""
        return field.data

    def field_is_stale(self, field: Any) -> bool:
        """Tell whether the bound field must be drawn again before its answer can be taken."""
        return False

    def display(self, question: Question, value: Any, ctx: Context) -> str:
        """Return the answer as the respondent would read it on the review page."""
        return "" if value is None else str(value)

    def json_schema(self, question: Question, ctx: Context) -> dict[str, Any]:
        """Return the JSON Schema of an answer: what :meth:`check_json` lets through."""
        return {"type": "string"}

    def choice_labels(self, question: Question, ctx: Context) -> dict[str, str]:
        """Return ``{code: label}`` of the codes an answer holds, as tables and charts name
        them (empty for a type without choices)."""
        return {}

    def export_columns(
        self, question: Question, ctx: Context, *, labels: bool, roles: Mapping[str, str]
    ) -> list[ExportColumn]:
        """Return the columns an answer becomes in a response export, with their codebook.

        Cells are written as the fixes return them; the export neutralises formulas.

        :param ctx: the questionnaire, the export's language and gettext for column labels.
        :param labels: whether cells hold labels in that language rather than codes.
        :param roles: role by target (``name``, or ``name.part`` of a location).
        """
        return [self.column(question, ctx, roles)]

    def column(
        self,
        question: Question,
        ctx: Context,
        roles: Mapping[str, str],
        choices: tuple[tuple[str, str], ...] = (),
        fix: Callable[[Any], Any] | None = None,
    ) -> ExportColumn:
        """Return the one column a question's answer is exported in."""
        name = question.name
        label = ctx.label(question.label)
        return ExportColumn(name, name, self.name, label, roles.get(name, ""), choices, fix)


class TextType(QuestionType):
    name = "text"
    identifying = True

    def max_length(self, question: Question) -> int:
        """Return the most characters an answer may have."""
        return question.max_length or DEFAULT_MAX_LENGTH.get(self.name, 200)

    def coerce(self, question, raw, ctx):
        value = super().coerce(question, raw, ctx)
        limit = self.max_length(question)
        if value is not None and len(value) > limit:
            raise Invalid(N_("Use at most %(n)d characters."), n=limit)
        if value is not None and "\x00" in value:
            raise Invalid(N_("This text contains characters that cannot be stored."))
        return value

    def check_json(self, question, value, ctx):
        super().check_json(question, value, ctx)
        limit = self.max_length(question)
        if len(value) > limit:  # spaces count: the description's maxLength counts them
            raise Invalid(N_("Use at most %(n)d characters."), n=limit)

    def field(self, question, ctx):
        return StringField(
            ctx.label(question.label),
            description=ctx.label(question.hint),
            render_kw={"maxlength": self.max_length(question)},
        )

    def json_schema(self, question, ctx):
        return {"type": "string", "maxLength": self.max_length(question), "pattern": STORABLE_TEXT}


class LongTextType(TextType):
    name = "long_text"

    def field(self, question, ctx):
        return TextAreaField(
            ctx.label(question.label),
            description=ctx.label(question.hint),
            render_kw={"maxlength": self.max_length(question), "rows": 5},
        )


class EmailType(TextType):
    name = "email"
    exported = False

    def coerce(self, question, raw, ctx):
        value = super().coerce(question, raw, ctx)
        if value is not None and not EMAIL_RE.match(value):
            raise Invalid(N_("Enter an email address such as name@example.org."))
        return value

    def check_json(self, question, value, ctx):
        super().check_json(question, value, ctx)
        if not EMAIL_RE.fullmatch(value):
            raise Invalid(N_("Enter an email address such as name@example.org."))

    def field(self, question, ctx):
        return StringField(
            ctx.label(question.label),
            description=ctx.label(question.hint),
            render_kw={"type": "email", "maxlength": 254, "autocomplete": "email", "dir": "ltr"},
        )

    def json_schema(self, question, ctx):
        # The pattern is what the server accepts (no quotes, no < >), stricter than the format.
        return {
            **super().json_schema(question, ctx),
            "format": "email",
            "pattern": EMAIL_RE.pattern,
        }


class NumberType(QuestionType):
    """Shared by integer, decimal and year: parse, then check the range."""

    parse: ClassVar[Callable[[str], float]] = float

    def bounds(self, question: Question) -> tuple[float | None, float | None]:
        return question.min, question.max

    def coerce(self, question, raw, ctx):
        if _blank(raw):
            return None
        if isinstance(raw, bool):
            raise Invalid(N_("Enter a number."))
        if isinstance(raw, int | float):
            text = repr(raw)
        elif isinstance(raw, str):
            # Accept the decimal comma many respondents type, and stray spaces.
            text = raw.strip().replace(" ", "").replace("\u00a0", "").replace(",", ".")
        else:
            raise Invalid(N_("Enter a number."))
        try:
            value = self.convert(text)
        except (ValueError, OverflowError):
            raise Invalid(self.wrong_message) from None
        low, high = self.bounds(question)
        if low is not None and value < low or high is not None and value > high:
            raise Invalid(
                N_("Enter a number from %(low)s to %(high)s."),
                low=_num(low if low is not None else "-∞"),
                high=_num(high if high is not None else "∞"),
            )
        return value

    wrong_message = N_("Enter a number.")

    def check_json(self, question, value, ctx):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid(N_("Send this answer as a JSON number."))

    def convert(self, text: str) -> float:
        value = float(text)
        if not math.isfinite(value) or len(text) > 30:
            raise ValueError(text)
        return value

    def field(self, question, ctx):
        return StringField(
            ctx.label(question.label),
            description=ctx.label(question.hint),
            render_kw={"inputmode": "decimal", "dir": "ltr", "maxlength": 30},
        )

    def form_data(self, question, value):
        return "" if value is None else _num(value)

    def json_schema(self, question, ctx):
        schema: dict[str, Any] = {"type": "number"}
        low, high = self.bounds(question)
        if low is not None:
            schema["minimum"] = low
        if high is not None:
            schema["maximum"] = high
        return schema


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class IntegerType(NumberType):
    name = "integer"
    wrong_message = N_("Enter a whole number.")

    def coerce(self, question, raw, ctx):
        # JSON has one number type: 52.0 is the whole number 52, as JSON Schema's "integer" says.
        if isinstance(raw, float) and raw.is_integer() and abs(raw) < 1e15:
            raw = int(raw)
        return super().coerce(question, raw, ctx)

    def convert(self, text):
        if not re.fullmatch(r"[+-]?\d{1,15}", text):
            raise ValueError(text)
        return int(text)

    def field(self, question, ctx):
        field = super().field(question, ctx)
        field.kwargs["render_kw"] = {"inputmode": "numeric", "dir": "ltr", "maxlength": 16}
        return field

    def json_schema(self, question, ctx):
        low, high = self.bounds(question)
        return {
            "type": "integer",
            "minimum": -LARGEST_INTEGER if low is None else low,
            "maximum": LARGEST_INTEGER if high is None else high,
        }


class DecimalType(NumberType):
    name = "decimal"


class YearType(IntegerType):
    name = "year"
    wrong_message = N_("Enter a year with four digits.")

    def bounds(self, question):
        return (
            question.min if question.min is not None else 1900,
            question.max if question.max is not None else dt.date.today().year,
        )


class DateType(QuestionType):
    name = "date"

    def coerce(self, question, raw, ctx):
        value = super().coerce(question, raw, ctx)
        if value is None:
            return None
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise Invalid(N_("Enter a date as YYYY-MM-DD.")) from None
        if not 1900 <= day.year <= 2100:
            raise Invalid(N_("Enter a date as YYYY-MM-DD."))
        return day.isoformat()

    def check_json(self, question, value, ctx):
        super().check_json(question, value, ctx)
        if not ISO_DATE_RE.fullmatch(value):  # fromisoformat also reads 20240131, 2024-W05-3
            raise Invalid(N_("Enter a date as YYYY-MM-DD."))

    def field(self, question, ctx):
        return StringField(
            ctx.label(question.label),
            description=ctx.label(question.hint),
            render_kw={"type": "date", "dir": "ltr", "placeholder": "YYYY-MM-DD"},
        )

    def json_schema(self, question, ctx):
        return {"type": "string", "format": "date"}


class SelectOneType(QuestionType):
    name = "select_one"
    needs_choices = True
    template = "survey/questions/select_one.html"

    def options(self, question: Question, ctx: Context) -> list[tuple[str, str]]:
        return [(c.name, ctx.label(c.label)) for c in ctx.questionnaire.choice_list(question)]

    def coerce(self, question, raw, ctx):
        if _blank(raw):
            return None
        if not isinstance(raw, str):
            raise Invalid(N_("Choose one of the options."))
        if raw not in {code for code, _ in self.options(question, ctx)}:
            raise Invalid(N_("Choose one of the options."))
        return raw

    def check_json(self, question, value, ctx):
        if not isinstance(value, str) or value not in dict(self.options(question, ctx)):
            raise Invalid(N_("Choose one of the options."))

    def field(self, question, ctx):
        kind = SelectField if question.appearance == "minimal" else RadioField
        choices = self.options(question, ctx)
        if kind is SelectField:
            choices = [("", "—"), *choices]
        return kind(
            ctx.label(question.label),
            description=ctx.label(question.hint),
            choices=select_choices(choices),
            validate_choice=False,
        )

    def display(self, question, value, ctx):
        return dict(self.options(question, ctx)).get(value, "") if value else ""

    def json_schema(self, question, ctx):
        return {"type": "string", "enum": [code for code, _ in self.options(question, ctx)]}

    def choice_labels(self, question, ctx):
        return dict(self.options(question, ctx))

    def export_columns(self, question, ctx, *, labels, roles):
        choices = tuple(self.options(question, ctx))
        fix = _looked_up(dict(choices)) if labels else None
        return [self.column(question, ctx, roles, choices, fix)]


class ConsentType(SelectOneType):
    name = "consent"
    needs_choices = False  # always yes or no

    def options(self, question, ctx):
        return [("yes", ctx.gettext(N_("Yes, I agree"))), ("no", ctx.gettext(N_("No")))]

    def field(self, question, ctx):
        return RadioField(
            ctx.label(question.label),
            description=ctx.label(question.hint),
            choices=select_choices(self.options(question, ctx)),
            validate_choice=False,
        )

    def choice_labels(self, question, ctx):
        # A table reads "Yes", not the statement's "Yes, I agree".
        return {"yes": ctx.gettext(N_("Yes")), "no": ctx.gettext(N_("No"))}

    def export_columns(self, question, ctx, *, labels, roles):
        # Codes in every language, the codebook's labels too: they are what is stored.
        return [self.column(question, ctx, roles, (("yes", "yes"), ("no", "no")))]


class MultiCheckboxField(SelectMultipleField):
    """Check boxes rather than a multiple select, which phones render badly."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SelectMultipleType(SelectOneType):
    name = "select_multiple"
    template = "survey/questions/options.html"

    def coerce(self, question, raw, ctx):
        if _blank(raw):
            return None
        if isinstance(raw, str):
            raw = raw.split()
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            raise Invalid(N_("Choose from the options."))
        allowed = [code for code, _ in self.options(question, ctx)]
        if not set(raw) <= set(allowed):
            raise Invalid(N_("Choose from the options."))
        # Store in the list's order, once each, whatever order the client sent.
        return [code for code in allowed if code in raw]

    def check_json(self, question, value, ctx):
        if (
            not isinstance(value, list)
            or not all(isinstance(v, str) for v in value)
            or len(set(value)) != len(value)
        ):
            raise Invalid(N_("Send this answer as a list of option codes, each once."))

    def field(self, question, ctx):
        return MultiCheckboxField(
            ctx.label(question.label),
            description=ctx.label(question.hint),
            choices=select_choices(self.options(question, ctx)),
            validate_choice=False,
        )

    def form_data(self, question, value):
        return list(value or [])

    def display(self, question, value, ctx):
        labels = dict(self.options(question, ctx))
        return ", ".join(labels.get(v, v) for v in value or [])

    def json_schema(self, question, ctx):
        return {"type": "array", "items": super().json_schema(question, ctx), "uniqueItems": True}

    def export_columns(self, question, ctx, *, labels, roles):
        # One cell: codes separated by spaces (as ODK and KoboToolbox write them), or labels
        # separated by "; ".
        choices = tuple(self.options(question, ctx))
        fix = _joined("; ", dict(choices)) if labels else _joined(" ", None)
        return [self.column(question, ctx, roles, choices, fix)]


class CountryType(QuestionType):
    name = "country"

    def coerce(self, question, raw, ctx):
        value = super().coerce(question, raw, ctx)
        if value is None:
            return None
        value = value.upper()
        if value not in names.country_codes():
            raise Invalid(N_("Choose a country from the list."))
        return value

    def check_json(self, question, value, ctx):
        if not isinstance(value, str) or value not in names.country_codes():
            raise Invalid(N_("Choose a country from the list."))

    def field(self, question, ctx):
        return SelectField(
            ctx.label(question.label),
            description=ctx.label(question.hint),
            choices=country_select_choices(ctx.lang),
            validate_choice=False,
            widget=LongSelect(),
        )

    def display(self, question, value, ctx):
        return names.country_names(ctx.lang).get(value, "") if value else ""

    def json_schema(self, question, ctx):
        return {"type": "string", "enum": sorted(names.country_codes())}

    def export_columns(self, question, ctx, *, labels, roles):
        fix = _looked_up(names.country_names(ctx.lang)) if labels else None
        return [self.column(question, ctx, roles, (), fix)]


class LocationForm(Form):
    """The parts of a location answer; the region list is filled for the chosen country."""

    country = SelectField(validate_choice=False, widget=LongSelect())
    #: The country the region list was drawn for, so a page without JavaScript can tell that
    #: the respondent changed the country and needs the new list before going on.
    regions_for = HiddenField()
    region = SelectField(validate_choice=False)
    city = StringField(render_kw={"maxlength": 200, "autocomplete": "address-level2"})
    lat = HiddenField()
    lon = HiddenField()


class LocationField(FormField):
    """A location question: its parts in one field, whose messages are about the whole answer.

    WTForms' ``FormField.errors`` is the enclosed form's error dict and cannot be set; a message
    about the location ("Choose a country first.") belongs to the question, so it is kept as the
    enclosed form's own error and read back, with any part's, as one list like other fields'.
    """

    @property
    def errors(self) -> list[str]:
        return [*self.form.form_errors, *(e for part in self.form for e in part.errors)]

    @errors.setter
    def errors(self, messages: list[str]) -> None:
        self.form.form_errors = list(messages)


class LocationType(QuestionType):
    name = "location"
    parts = LOCATION_KEYS
    template = "survey/questions/location.html"
    # Country and region stay for the aggregates; the city and the coordinates go.
    identifying_parts = ("city", "city_id", "geo")

    def coerce(self, question, raw, ctx):
        if _blank(raw):
            return None
        if not isinstance(raw, Mapping):
            raise Invalid(N_("Send the location as country, region and city."))
        country = raw.get("country")
        if _blank(country):
            if any(not _blank(raw.get(k)) for k in ("region", "city")):
                raise Invalid(N_("Choose a country first."))
            return None
        if not isinstance(country, str) or country.upper() not in names.country_codes():
            raise Invalid(N_("Choose a country from the list."))
        country = country.upper()
        region = raw.get("region")
        if _blank(region):
            region = None
        elif not isinstance(region, str) or region not in names.region_codes(country):
            raise Invalid(N_("Choose a region of the country you chose."))
        city = raw.get("city")
        city_id = None
        if _blank(city):
            city = None
        elif not isinstance(city, str) or len(city.strip()) > 200 or "\x00" in city:
            raise Invalid(N_("Use at most %(n)d characters."), n=200)
        else:
            city = " ".join(city.split())
            # Typed in any script ("Үрімжі", "乌鲁木齐", "Urumqi"), it is one listed place.
            place = places.match_city(city, country, region)
            if place is not None:
                city_id = place.id
                region = region or place.region
        return {
            "country": country,
            "region": region,
            "city": city,
            "city_id": city_id,
            "geo": self.geo(raw),
        }

    def check_json(self, question, value, ctx):
        if not isinstance(value, Mapping):
            raise Invalid(N_("Send the location as country, region and city."))
        for key in value:
            if key not in LOCATION_KEYS:
                raise Invalid(N_("A location has no part called %(name)s."), name=str(key)[:40])
        country = value.get("country")
        if not isinstance(country, str) or country not in names.country_codes():
            raise Invalid(N_("Choose a country from the list."))
        if any(
            value.get(k) is not None and not isinstance(value[k], str) for k in ("region", "city")
        ):
            raise Invalid(N_("Send the location as country, region and city."))
        if len(value.get("city") or "") > 200:
            raise Invalid(N_("Use at most %(n)d characters."), n=200)
        geo = value.get("geo")
        if geo is not None and not (
            isinstance(geo, list)
            and len(geo) == 2
            and all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                for v in geo
            )
        ):
            raise Invalid(N_("Send the device location as two numbers: [latitude, longitude]."))

    def geo(self, raw: Mapping[str, Any]) -> list[float] | None:
        """Return ``[lat, lon]`` rounded to about 1 km, or None; bad values are dropped."""
        geo = raw.get("geo")
        if isinstance(geo, list | tuple) and len(geo) == 2:
            lat, lon = geo
        else:
            lat, lon = raw.get("lat"), raw.get("lon")
        try:
            lat, lon = float(lat), float(lon)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        if not (math.isfinite(lat) and math.isfinite(lon)):
            return None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise Invalid(N_("The device location is not valid."))
        return [round(lat, GEO_DECIMALS), round(lon, GEO_DECIMALS)]

    def field(self, question, ctx):
        return LocationField(
            LocationForm, ctx.label(question.label), description=ctx.label(question.hint)
        )

    def form_data(self, question, value):
        value = value or {}
        geo = value.get("geo") or ["", ""]
        return {
            "country": value.get("country") or "",
            "regions_for": value.get("country") or "",
            "region": value.get("region") or "",
            "city": value.get("city") or "",
            "lat": _num(geo[0]) if geo[0] != "" else "",
            "lon": _num(geo[1]) if geo[1] != "" else "",
        }

    def prepare_field(self, field, ctx):
        # The region list is the chosen country's, in the page language.
        field.country.choices = country_select_choices(ctx.lang)
        country = (field.country.data or "").upper()
        field.region.choices = select_choices([("", "—"), *names.region_choices(country, ctx.lang)])
        field.regions_for.data = country

    def raw_value(self, field):
        return {key: field[key].data for key in ("country", "region", "city", "lat", "lon")}

    def field_is_stale(self, field):
        # Without JavaScript the region list is drawn by the server for the country it knew;
        # when the respondent picks another country the page is shown again with its regions.
        chosen = (field.country.data or "").upper()
        drawn_for = (field.regions_for.raw_data or [""])[0].upper()
        return bool(chosen and chosen != drawn_for and names.region_choices(chosen, "en"))

    def display(self, question, value, ctx):
        if not value:
            return ""
        parts = [names.country_names(ctx.lang).get(value["country"], value["country"])]
        if value.get("region"):
            parts.append(
                dict(names.region_choices(value["country"], ctx.lang)).get(
                    value["region"], value["region"]
                )
            )
        if value.get("city"):
            parts.append(value["city"])
        return ", ".join(reversed(parts))

    def json_schema(self, question, ctx):
        return {
            "type": "object",
            "properties": {
                "country": {"type": "string", "enum": sorted(names.country_codes())},
                "region": {"type": ["string", "null"], "description": "ISO 3166-2 code"},
                "city": {"type": ["string", "null"], "maxLength": 200, "pattern": STORABLE_TEXT},
                "geo": {
                    "type": ["array", "null"],
                    "description": "[latitude, longitude]; stored rounded to 2 decimals",
                    "prefixItems": [
                        {"type": "number", "minimum": -90, "maximum": 90},
                        {"type": "number", "minimum": -180, "maximum": 180},
                    ],
                    "minItems": 2,
                    "maxItems": 2,
                },
            },
            "required": ["country"],
            "additionalProperties": False,
        }

    def export_columns(self, question, ctx, *, labels, roles):
        """Split the answer into country, region, city, latitude and longitude columns."""
        name = question.name
        label = ctx.label(question.label)
        lang = ctx.lang
        countries = names.country_names(lang)
        region_names: dict[str, dict[str, str]] = {}

        def part(key: str) -> Callable[[Any], Any]:
            def fix(value: Any) -> Any:
                return value.get(key) if value.__class__ is dict else None

            return fix

        def country(value: Any) -> Any:
            code = value.get("country") if value.__class__ is dict else None
            return countries.get(code, code) if labels and code.__class__ is str else code

        def region(value: Any) -> Any:
            code = value.get("region") if value.__class__ is dict else None
            if not labels or code.__class__ is not str or value.get("country").__class__ is not str:
                return code
            country = value["country"]
            if country not in region_names:
                region_names[country] = dict(names.region_choices(country, lang))
            return region_names[country].get(code, code)

        def coordinate(index: int) -> Callable[[Any], Any]:
            def fix(value: Any) -> Any:
                geo = value.get("geo") if value.__class__ is dict else None
                return geo[index] if geo.__class__ is list and len(geo) == 2 else None

            return fix

        def sub(key: str) -> str:
            return roles.get(f"{name}.{key}", "")

        parts = {
            "country": ctx.gettext(N_("country")),
            "region": ctx.gettext(N_("region")),
            "city": ctx.gettext(N_("city or village")),
            "lat": ctx.gettext(N_("latitude (2 decimals)")),
            "lon": ctx.gettext(N_("longitude (2 decimals)")),
        }
        return [
            ExportColumn(f"{name}.country", name, "country", f"{label} ({parts['country']})",
                         sub("country"), (), country),
            ExportColumn(f"{name}.region", name, "region", f"{label} ({parts['region']})",
                         sub("region"), (), region),
            ExportColumn(f"{name}.city", name, "text", f"{label} ({parts['city']})",
                         sub("city"), (), part("city")),
            ExportColumn(f"{name}.lat", name, "decimal", f"{label} ({parts['lat']})",
                         sub("geo"), (), coordinate(0)),
            ExportColumn(f"{name}.lon", name, "decimal", f"{label} ({parts['lon']})",
                         sub("geo"), (), coordinate(1)),
        ]  # fmt: skip


class NoteType(QuestionType):
    name = "note"
    answers = False
    exported = False
    template = "survey/questions/note.html"

    def coerce(self, question, raw, ctx):
        return None

    def field(self, question, ctx):
        return None


QUESTION_TYPES: dict[str, QuestionType] = {
    t.name: t()
    for t in (
        TextType,
        LongTextType,
        EmailType,
        IntegerType,
        DecimalType,
        YearType,
        DateType,
        SelectOneType,
        SelectMultipleType,
        ConsentType,
        CountryType,
        LocationType,
        NoteType,
    )
}
