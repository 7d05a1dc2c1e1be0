"""The XLSForm expression subset used by ``relevant`` and ``constraint``.

An expression is parsed once, when a questionnaire is loaded, into an immutable tree of
:class:`Node` objects; nothing is ever ``eval``-ed.  The tree evaluates itself against the answers
so far and serialises to plain JSON (:meth:`Node.to_json`) for ``app/static/js/relevant.js``,
which implements the same semantics in the browser.  A change here needs the same change there;
``tests/test_expr_js_parity.py`` compares the two.

Grammar (precedence as in XPath, loosest first; binary operators are left-associative)::

    or  <  and  <  = !=  <  < <= > >=  <  + -  <  * div mod  <  unary -  <  primary
    primary: ${name} | ${name.part} | . | 12 | 1.5 | .5 | 'text' | "text" | ( expr )
             | name(expr, ...)   with a name from :data:`FUNCTIONS`

Strings have no escapes (as in XPath 1.0): a string holding ``'`` is written in ``"..."``.
Trees deeper than :data:`MAX_DEPTH` are refused, so evaluation never exhausts the stack.

Semantics (XLSForm / ODK, with the choices this implementation makes spelled out):

- An unanswered value (missing key, ``None``) is ``""``.  ``${place.part}`` reads
  ``values["place"]["part"]`` when ``values["place"]`` is a dict, else ``""``.
- Numbers are IEEE doubles, as in XPath and JavaScript.  A string is numeric when it is an
  optional ``-``, digits with an optional decimal point, and optional surrounding blanks
  (``" 12"``, ``"-.5"``, ``"3."``); no exponents, ``+``, ``inf`` or ``nan``.
- String value: numbers print as JavaScript prints them (``30.0`` -> ``"30"``,
  ``1e21`` -> ``"1e+21"``), booleans as ``"true"`` / ``"false"``, a list as its non-empty items
  joined by single spaces, and a dict (a location) as its non-empty parts joined likewise.
- Truth (:func:`is_true`): ``""``, ``None``, ``0``, NaN, ``False``, an empty list and a dict with
  no non-empty part are false; everything else is true (so the string ``"0"`` is true).
- Comparison: lists and dicts compare as their string value.  With a boolean on either side,
  ``=`` and ``!=`` compare truth and the ordering operators compare numbers.  Otherwise, if either
  side is a number, or both are numeric strings, both sides compare as numbers; else as strings,
  by code point (ISO dates such as ``today()`` therefore order correctly).  A non-numeric string
  compared with a number is NaN, so ``${age} < 18`` is false while ``age`` is unanswered (plain
  string comparison would make ``"" < "18"`` true).  NaN makes every comparison false except
  ``!=``, which is true.
- Arithmetic converts both operands to numbers (``""`` and non-numeric strings become NaN).
  ``x div 0`` and ``x mod 0`` are NaN rather than ODK's infinity, so a division by an unanswered
  or zero value never satisfies a comparison.  ``mod`` keeps the dividend's sign, as in XPath.
- ``and``, ``or``, ``not()``, comparisons and ``selected()`` give booleans.
  ``selected(x, v)`` asks whether ``v``'s string value is one of ``x``'s items: a list's items, or
  the blank-separated words of any other value.  ``count-selected(x)`` counts those items;
  ``string-length(x)`` counts the code points of the string value; ``today()`` is the date as
  ``"YYYY-MM-DD"``, so it compares with date answers as strings.
- The other functions follow ODK's XPath functions (getodk.github.io/xforms-spec), on the string,
  number and truth values above: ``if(c, a, b)``; ``coalesce(a, b)`` (``a`` unless its string
  value is empty); ``concat(a, ...)``; ``true()``, ``false()``, ``boolean(x)``, ``string(x)``,
  ``number(x)``; ``int(x)`` truncates toward zero; ``round(x[, places])`` rounds the number as
  it is written (its shortest decimal spelling), halves away from zero; ``min`` and ``max`` of
  one or more numbers are NaN when any is not a number; ``contains``, ``starts-with``,
  ``ends-with`` and ``normalize-space`` work on string values (XPath blanks only);
  ``substr(s, start[, end])`` counts code points from 0, ``end`` excluded, a negative position
  from the end, positions truncated and NaN as 0 (as JavaScript's ``slice``);
  ``selected-at(x, n)`` is the string value of item ``n`` (from 0) of ``x``'s items, or ``""``.
- ``regex(value, pattern)`` asks whether the pattern matches anywhere in the string value (as
  ``re.search`` and ``RegExp.test``).  The pattern must be a quoted string that Python's ``re``
  and a JavaScript ``RegExp`` with the ``u`` flag read the same way, checked when parsing
  (:func:`_translate_regex`); values longer than :data:`MAX_REGEX_INPUT` code points never match.
- ``now()`` is the moment in UTC as ``"YYYY-MM-DDTHH:MM:SS.mmmZ"``.  A date is a number of days
  since 1970-01-01 (its fraction the time of day) or a string ``YYYY-MM-DD``, optionally with
  ``THH:MM``, ``:SS``, ``.fff`` and ``Z`` or an offset (the moment is then moved to UTC), years
  1 to 9999.  ``date(x)`` gives ``"YYYY-MM-DD"``, ``decimal-date-time(x)`` days since 1970
  (a number is returned as it is) and ``format-date(x, f)`` writes ``%Y %y %m %d %e %H %M %S
  %a %b`` in ``f`` (English names); anything that is not a date gives ``""``, or NaN.
- Evaluation never raises: every function answers every value.
"""

from __future__ import annotations

import functools
import math
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

#: Deepest tree, and deepest bracket nesting, that :func:`parse` accepts.
MAX_DEPTH = 100

# XPath's whitespace, spelled out: Python's \s and JavaScript's \s disagree beyond ASCII.
_BLANKS = " \t\n\r"
_NUMERIC = re.compile(r"[ \t\n\r]*-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[ \t\n\r]*")
_WORD_GAP = re.compile(r"[ \t\n\r]+")
_TOKEN = re.compile(
    r"""
      (?P<blank>[ \t\n\r]+)
    | (?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)
    | (?P<ref>\$\{(?P<refname>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\})
    | (?P<string>'[^']*'|"[^"]*")
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z_][A-Za-z0-9_]*)*)
    | (?P<symbol>!=|<=|>=|[=<>+\-*(),.])
    """,
    re.VERBOSE,
)
_PRECEDENCE = {
    "or": 1,
    "and": 2,
    "=": 3,
    "!=": 3,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "div": 6,
    "mod": 6,
}
# Doubles hold every integer up to here exactly; larger literals are read as doubles.
_EXACT_INT = 2**53


class ExpressionError(ValueError):
    """A syntax or type error in an expression, with where it happened."""

    def __init__(self, expression: str, position: int, reason: str) -> None:
        # All three go to ValueError so that the error pickles and unpickles intact.
        super().__init__(expression, position, reason)
        self.expression = expression
        self.position = position
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.reason} at position {self.position} in '{self.expression}'"


@dataclass(frozen=True)
class Context:
    """What an expression is evaluated against."""

    values: Mapping[str, Any]
    current: Any = ""
    today: date | None = None
    now: datetime | None = None

    def iso_today(self) -> str:
        """Return today's date (or the given one) as ``YYYY-MM-DD``."""
        day = self.today if self.today is not None else date.today()
        # Not isoformat(): a datetime (a date subclass) would add the time.
        return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"

    def iso_now(self) -> str:
        """Return the moment (or the given one) in UTC as ``YYYY-MM-DDTHH:MM:SS.mmmZ``.

        A given moment without a time zone is taken to be in UTC already.
        """
        moment = self.now if self.now is not None else datetime.now(UTC)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        day = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        time = f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
        return f"{day}T{time}.{moment.microsecond // 1000:03d}Z"


class Node:
    """A parsed expression; one immutable subclass per construct."""

    __slots__ = ()

    def evaluate(self, ctx: Context) -> Any:
        """Return the value of this expression in ``ctx``."""
        raise NotImplementedError

    def to_json(self) -> Any:
        """Return this tree as plain lists, strings and numbers for the page script."""
        raise NotImplementedError

    def references(self) -> frozenset[str]:
        """Return the names used with ``${...}``, parts included (``residence.country``)."""
        return frozenset()


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A number or string written in the expression."""

    value: str | int | float

    def evaluate(self, ctx: Context) -> Any:
        """Return the literal itself."""
        return self.value

    def to_json(self) -> Any:
        """Return ``["lit", value]``."""
        return ["lit", self.value]


@dataclass(frozen=True, slots=True)
class Ref(Node):
    """``${name}`` or ``${name.part}``: an earlier answer."""

    name: str

    def evaluate(self, ctx: Context) -> Any:
        """Return the answer, ``""`` when there is none."""
        question, _, part = self.name.partition(".")
        value = ctx.values.get(question)
        if part:
            value = value.get(part) if isinstance(value, Mapping) else None
        return "" if value is None else value

    def to_json(self) -> Any:
        """Return ``["ref", name]``."""
        return ["ref", self.name]

    def references(self) -> frozenset[str]:
        """Return this reference's name."""
        return frozenset({self.name})


@dataclass(frozen=True, slots=True)
class Current(Node):
    """``.``: the answer being checked."""

    def evaluate(self, ctx: Context) -> Any:
        """Return the current answer, ``""`` when there is none."""
        return "" if ctx.current is None else ctx.current

    def to_json(self) -> Any:
        """Return ``["current"]``."""
        return ["current"]


@dataclass(frozen=True, slots=True)
class Negate(Node):
    """Unary minus."""

    operand: Node

    def evaluate(self, ctx: Context) -> Any:
        """Return the operand as a number, negated."""
        return -to_number(self.operand.evaluate(ctx))

    def to_json(self) -> Any:
        """Return ``["neg", operand]``."""
        return ["neg", self.operand.to_json()]

    def references(self) -> frozenset[str]:
        """Return the operand's references."""
        return self.operand.references()


@dataclass(frozen=True, slots=True)
class Binary(Node):
    """Shared shape of the two-operand constructs."""

    op: str
    left: Node
    right: Node

    def to_json(self) -> Any:
        """Return ``[op, left, right]``."""
        return [self.op, self.left.to_json(), self.right.to_json()]

    def references(self) -> frozenset[str]:
        """Return both operands' references."""
        return self.left.references() | self.right.references()


@dataclass(frozen=True, slots=True)
class Logical(Binary):
    """``and`` / ``or``."""

    def evaluate(self, ctx: Context) -> Any:
        """Return the boolean result, evaluating the right side only when needed."""
        left = is_true(self.left.evaluate(ctx))
        if left == (self.op == "or"):
            return left
        return is_true(self.right.evaluate(ctx))


@dataclass(frozen=True, slots=True)
class Comparison(Binary):
    """``= != < <= > >=``."""

    def evaluate(self, ctx: Context) -> Any:
        """Return whether the comparison holds."""
        return compare(self.op, self.left.evaluate(ctx), self.right.evaluate(ctx))


@dataclass(frozen=True, slots=True)
class Arithmetic(Binary):
    """``+ - * div mod``."""

    def evaluate(self, ctx: Context) -> Any:
        """Return the numeric result (NaN when it has none)."""
        return calculate(self.op, self.left.evaluate(ctx), self.right.evaluate(ctx))


@dataclass(frozen=True, slots=True)
class Call(Node):
    """A call of one of the known functions."""

    name: str
    args: tuple[Node, ...]

    def evaluate(self, ctx: Context) -> Any:
        """Return the function's result."""
        function = FUNCTIONS[self.name].function
        return function(ctx, *(arg.evaluate(ctx) for arg in self.args))

    def to_json(self) -> Any:
        """Return ``["call", name, [args]]``."""
        return ["call", self.name, [arg.to_json() for arg in self.args]]

    def references(self) -> frozenset[str]:
        """Return the arguments' references."""
        return frozenset().union(*(arg.references() for arg in self.args))


#: Precedence level -> the node class for its operators.
_BINARY_NODES: Mapping[int, type[Binary]] = {
    1: Logical,
    2: Logical,
    3: Comparison,
    4: Comparison,
    5: Arithmetic,
    6: Arithmetic,
}


def _items(value: Any) -> list[Any]:
    """Return a list's items, or the blank-separated words of any other value."""
    if isinstance(value, list | tuple):
        return list(value)
    return [word for word in _WORD_GAP.split(to_string(value)) if word]


class Function(NamedTuple):
    """A function's arity and its implementation, which takes the context first."""

    least: int  # fewest arguments
    most: int | None  # most arguments; None: any number
    function: Callable[..., Any]


def _fixed(arity: int, function: Callable[..., Any]) -> Function:
    """Return a function that takes exactly ``arity`` arguments."""
    return Function(arity, arity, function)


def _coalesce(ctx: Context, a: Any, b: Any) -> Any:
    """Return ``a`` unless its string value is empty, else ``b``."""
    return a if to_string(a) != "" else b


def _int(ctx: Context, x: Any) -> float:
    """Return a number truncated toward zero (NaN and infinities unchanged)."""
    number = to_number(x)
    return float(math.trunc(number)) if math.isfinite(number) else number


def _round(ctx: Context, x: Any, places: Any = 0) -> float:
    """Return ``x`` rounded to ``places`` decimals, halves away from zero.

    The number is rounded as it is written (its shortest decimal spelling), so
    ``round(2.675, 2)`` is 2.68 although the double nearest 2.675 lies just below it.
    """
    number, places = to_number(x), to_number(places)
    if math.isnan(places):
        return math.nan
    if number == 0 or not math.isfinite(number):
        return number
    digits, point = _decimal(abs(number))
    # A double has at most 17 significant digits and exponents within +-324.
    keep = point + int(max(-400.0, min(400.0, places)))
    if keep >= len(digits):
        return number
    if keep < 0:
        return math.copysign(0.0, number)
    rounded = int(digits[:keep] or "0") + (digits[keep] >= "5")
    return math.copysign(float(f"{rounded}e{point - keep}"), number)


def _position(x: Any, length: int) -> int:
    """Return a ``substr()`` position as a slice index: truncated, NaN as 0."""
    number = to_number(x)
    if math.isnan(number):
        return 0
    return int(max(-length - 1.0, min(length + 1.0, number)))


def _substr(ctx: Context, s: Any, start: Any, end: Any = None) -> str:
    """Return the code points from ``start`` up to ``end`` (0-based; negative from the end)."""
    text = to_string(s)
    stop = len(text) if end is None else _position(end, len(text))
    return text[_position(start, len(text)) : stop]


def _selected_at(ctx: Context, x: Any, n: Any) -> str:
    """Return the string value of item ``n`` (0-based) of ``x``, ``""`` when there is none."""
    items, index = _items(x), to_number(n)
    if not 0 <= index < len(items):  # NaN fails too
        return ""
    return to_string(items[int(index)])


def _extreme(smaller: bool) -> Callable[..., float]:
    """Return ``min`` (``smaller``) or ``max`` over numbers: NaN when any is not a number."""

    def extreme(ctx: Context, *args: Any) -> float:
        best = math.nan
        for index, arg in enumerate(args):
            number = to_number(arg)
            if math.isnan(number):
                return math.nan
            if index == 0 or (number < best if smaller else number > best):
                best = number
        return best

    return extreme


#: Longest value, in code points, that ``regex()`` looks at; a longer one does not match.
MAX_REGEX_INPUT = 4000
# Escapes that mean the same in Python's re (with re.ASCII) and in a JavaScript RegExp with the
# u flag, inside and outside [...]; \b only outside, \- only inside.  (\B is not among them:
# Python's never matches an empty string, JavaScript's does.)
_SAME_ESCAPES = frozenset("dDwWnrtfv^$\\.*+?()[]{}|/")
_HEX = re.compile(r"x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}")
_COUNTED = re.compile(r"\{([0-9]+)(,([0-9]*))?\}")
_REGEX_MAX_COUNT = 1000


class _PatternError(ValueError):
    """Why a regex() pattern is refused."""


def _escape(pattern: str, index: int, in_class: bool) -> tuple[str, int]:
    """Check the escape at ``pattern[index]`` (a backslash); return it and the index after."""
    if index + 1 >= len(pattern):
        raise _PatternError("it ends with a backslash")
    char = pattern[index + 1]
    if char in _SAME_ESCAPES or (char == "-" and in_class) or (char == "b" and not in_class):
        return pattern[index : index + 2], index + 2
    if hex_escape := _HEX.match(pattern, index + 1):
        if 0xD800 <= int(hex_escape.group()[1:], 16) <= 0xDFFF:
            raise _PatternError("\\u escapes of surrogates are not accepted")
        return pattern[index : hex_escape.end()], hex_escape.end()
    if char in "sS":
        raise _PatternError(
            f"\\{char} means different blanks in Python and JavaScript: use [ \\t\\n\\r]"
        )
    if char.isdigit():
        raise _PatternError("backreferences and octal escapes (\\1, \\0) are not accepted")
    if char in "AZzG":
        raise _PatternError(f"\\{char} is not accepted: use ^ and $")
    if char in "pP":
        raise _PatternError("unicode property escapes (\\p{...}) are not accepted")
    if char == "k":
        raise _PatternError("named groups and backreferences are not accepted")
    if char == "B":
        raise _PatternError("\\B is not accepted: Python and JavaScript disagree on empty text")
    if char == "b":
        raise _PatternError("\\b inside [...] is not accepted")
    raise _PatternError(f"the escape \\{char} is not accepted")


def _character_class(pattern: str, index: int) -> tuple[str, int]:
    """Check the ``[...]`` at ``pattern[index]``; return it and the index after."""
    end = index + 1
    if pattern.startswith("^", end):
        end += 1
    first, previous_single = end, False
    while True:
        if end >= len(pattern):
            raise _PatternError("a [ is not closed")
        char = pattern[end]
        if char == "]":
            if end == first:
                raise _PatternError("write ] in [...] as \\]")
            break
        if pattern.startswith(("&&", "||", "~~", "--"), end):
            raise _PatternError(f"write {char}{char} in [...] with backslashes")
        if char == "[":
            raise _PatternError("write [ in [...] as \\[")
        if char == "-" and end != first and not pattern.startswith("]", end + 1):
            # A range: both ends single characters, the one before already read.
            if not previous_single:
                raise _PatternError("write - in [...] as \\- unless it is first, last or a range")
            end += 1
            if end >= len(pattern):
                raise _PatternError("a [ is not closed")
            if pattern[end] == "\\":
                text, end = _escape(pattern, end, in_class=True)
                if text[1] in "dDwW":
                    raise _PatternError(f"a range cannot end at {text}")
            else:
                end += 1
            previous_single = False
            continue
        if char == "\\":
            text, end = _escape(pattern, end, in_class=True)
            previous_single = text[1] not in "dDwW"
        else:
            end += 1
            previous_single = True
    return pattern[index : end + 1], end + 1


def _translate_regex(pattern: str) -> str:
    """Return the Python spelling of a pattern JavaScript reads the same way, or refuse it.

    The page script compiles ``pattern`` itself with ``new RegExp(pattern, 'u')``; Python reads
    the returned text with ``re.ASCII``, where ``.`` and ``$`` are spelled out as JavaScript
    means them (``$`` would also match before a final newline, ``.`` match ``\r``).
    """
    out: list[str] = []
    groups: list[bool] = []  # per open group: whether it is a lookahead
    index, repeatable = 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            text, index = _escape(pattern, index, in_class=False)
            out.append(text)
            repeatable = text[1] != "b"
            continue
        if char == "[":
            text, index = _character_class(pattern, index)
            out.append(text)
            repeatable = True
            continue
        if char in "*+?{":
            if char == "{":
                counted = _COUNTED.match(pattern, index)
                if counted is None:
                    raise _PatternError("write a { that does not repeat as \\{")
                least, most = counted.group(1), counted.group(3)
                if max(int(least), int(most or 0)) > _REGEX_MAX_COUNT:
                    raise _PatternError(
                        f"repetition counts above {_REGEX_MAX_COUNT} are not accepted"
                    )
                if counted.group(2) is not None and most and int(most) < int(least):
                    raise _PatternError("a {m,n} repetition needs m <= n")
                end = counted.end()
            else:
                end = index + 1
            if not repeatable:
                raise _PatternError(f"nothing to repeat before {pattern[index:end]}")
            if pattern.startswith("?", end):
                end += 1  # lazy
            if pattern.startswith("+", end):
                raise _PatternError("possessive quantifiers (*+, ++, ?+) are not accepted")
            out.append(pattern[index:end])
            index, repeatable = end, False
            continue
        if char == "(":
            if pattern.startswith(("(?:", "(?=", "(?!"), index):
                lookahead = pattern[index + 2] != ":"
                out.append(pattern[index : index + 3])
                index += 3
            elif pattern.startswith(("(?<=", "(?<!"), index):
                raise _PatternError("lookbehind (?<= and (?<! is not accepted")
            elif pattern.startswith(("(?P", "(?<"), index):
                raise _PatternError("named groups are not accepted")
            elif pattern.startswith("(?>", index):
                raise _PatternError("atomic groups (?>...) are not accepted")
            elif pattern.startswith("(?", index):
                raise _PatternError(
                    "inline flags, comments and conditionals (?...) are not accepted"
                )
            else:
                lookahead = False
                out.append("(")
                index += 1
            groups.append(lookahead)
            repeatable = False
            continue
        if char == ")":
            if not groups:
                raise _PatternError("a ) has no (")
            repeatable = not groups.pop()
        elif char in "}]":
            raise _PatternError(f"write {char} as \\{char}")
        elif char in "^$|":
            repeatable = False
        else:
            repeatable = True
        out.append({".": "[^\\n\\r\\u2028\\u2029]", "$": "\\Z"}.get(char, char))
        index += 1
    if groups:
        raise _PatternError("a ( is not closed")
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _compile_regex(pattern: str) -> re.Pattern[str]:
    """Return a checked ``regex()`` pattern compiled as Python reads it; raise _PatternError."""
    translated = _translate_regex(pattern)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return re.compile(translated, re.ASCII)
    except (re.error, Warning, OverflowError, RecursionError) as error:
        raise _PatternError(f"it does not compile ({error})") from None


def _regex(ctx: Context, value: Any, pattern: Any) -> bool:
    """Return whether the pattern matches anywhere in the value's string value."""
    text = to_string(value)
    if len(text) > MAX_REGEX_INPUT:
        return False
    return _compile_regex(to_string(pattern)).search(text) is not None


# Dates: days since 1970-01-01 (an int) and seconds into that day (0 <= s < 86400).
_EPOCH = date(1970, 1, 1).toordinal()
_FIRST_DAY = date.min.toordinal() - _EPOCH  # 0001-01-01
_LAST_DAY = date.max.toordinal() - _EPOCH  # 9999-12-31
_MOMENT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?(Z|([-+])([0-9]{2})(?::?([0-9]{2}))?)?)?"
)
_WEEKDAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _moment(value: Any) -> tuple[int, float] | None:
    """Return a date or date-time as (days since 1970-01-01, seconds into the day), or None.

    A number counts days (its fraction is the time of day); a string is ``YYYY-MM-DD``,
    optionally followed by ``THH:MM``, ``:SS``, ``.fff`` (milliseconds; more digits are
    dropped) and ``Z`` or an offset ``+HH:MM``, which moves the moment to UTC.  Years run from
    1 to 9999.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = _as_float(value)
        if not math.isfinite(number) or not _FIRST_DAY <= math.floor(number) <= _LAST_DAY:
            return None
        days = math.floor(number)
        return days, min((number - days) * 86400, 86399.999)
    match = _MOMENT.fullmatch(to_string(value))
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone, sign, zone_hour, zone_minute = (
        match.groups()
    )
    try:
        days = date(int(year), int(month), int(day)).toordinal() - _EPOCH
    except ValueError:
        return None
    hours, minutes, seconds = int(hour or 0), int(minute or 0), int(second or 0)
    offset_hours, offset_minutes = int(zone_hour or 0), int(zone_minute or 0)
    if hours > 23 or minutes > 59 or seconds > 59 or offset_hours > 23 or offset_minutes > 59:
        return None
    offset = (offset_hours * 3600 + offset_minutes * 60) * (-1 if sign == "-" else 1)
    total = days * 86400 + hours * 3600 + minutes * 60 + seconds - offset
    days = total // 86400
    if not _FIRST_DAY <= days <= _LAST_DAY:
        return None
    millis = int((fraction or "")[:3].ljust(3, "0"))
    return days, (total - days * 86400) + millis / 1000


def _iso_date(days: int) -> str:
    """Return a day as ``YYYY-MM-DD``."""
    day = date.fromordinal(days + _EPOCH)
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


def _date(ctx: Context, x: Any) -> str:
    """Return the date of a date, date-time or day count as ``YYYY-MM-DD``, ``""`` if none."""
    moment = _moment(x)
    return "" if moment is None else _iso_date(moment[0])


def _decimal_date_time(ctx: Context, x: Any) -> float:
    """Return days since 1970-01-01 with the time as a fraction; a number is returned as is."""
    if isinstance(x, int | float) and not isinstance(x, bool):
        return _as_float(x)
    moment = _moment(x)
    return math.nan if moment is None else moment[0] + moment[1] / 86400


def _format_date(ctx: Context, x: Any, form: Any) -> str:
    """Return a date written with ODK's ``%Y %y %m %d %e %H %M %S %a %b``; ``""`` if none.

    Any other ``%`` and the character after it are written as they are.
    """
    moment = _moment(x)
    if moment is None:
        return ""
    days, seconds = moment
    day, whole = date.fromordinal(days + _EPOCH), int(seconds)
    fields = {
        "Y": f"{day.year:04d}",
        "y": f"{day.year % 100:02d}",
        "m": f"{day.month:02d}",
        "d": f"{day.day:02d}",
        "e": str(day.day),
        "H": f"{whole // 3600:02d}",
        "M": f"{whole // 60 % 60:02d}",
        "S": f"{whole % 60:02d}",
        "a": _WEEKDAYS[(days + 4) % 7],
        "b": _MONTHS[day.month - 1],
    }
    pieces = re.split(r"(%.?)", to_string(form), flags=re.DOTALL)
    return "".join(fields.get(piece[1:], piece) if piece[:1] == "%" else piece for piece in pieces)


FUNCTIONS: Mapping[str, Function] = {
    "not": _fixed(1, lambda ctx, x: not is_true(x)),
    "selected": _fixed(2, lambda ctx, x, v: to_string(v) in [to_string(i) for i in _items(x)]),
    "count-selected": _fixed(1, lambda ctx, x: len(_items(x))),
    "string-length": _fixed(1, lambda ctx, x: len(to_string(x))),
    "today": _fixed(0, lambda ctx: ctx.iso_today()),
    "if": _fixed(3, lambda ctx, c, a, b: a if is_true(c) else b),
    "coalesce": _fixed(2, _coalesce),
    "concat": Function(1, None, lambda ctx, *args: "".join(map(to_string, args))),
    "true": _fixed(0, lambda ctx: True),
    "false": _fixed(0, lambda ctx: False),
    "boolean": _fixed(1, lambda ctx, x: is_true(x)),
    "string": _fixed(1, lambda ctx, x: to_string(x)),
    "number": _fixed(1, lambda ctx, x: to_number(x)),
    "int": _fixed(1, _int),
    "round": Function(1, 2, _round),
    "contains": _fixed(2, lambda ctx, s, t: to_string(t) in to_string(s)),
    "starts-with": _fixed(2, lambda ctx, s, t: to_string(s).startswith(to_string(t))),
    "ends-with": _fixed(2, lambda ctx, s, t: to_string(s).endswith(to_string(t))),
    "substr": Function(2, 3, _substr),
    "normalize-space": _fixed(1, lambda ctx, s: " ".join(_items(to_string(s)))),
    "selected-at": _fixed(2, _selected_at),
    "min": Function(1, None, _extreme(smaller=True)),
    "max": Function(1, None, _extreme(smaller=False)),
    "regex": _fixed(2, _regex),
    "now": _fixed(0, lambda ctx: ctx.iso_now()),
    "date": _fixed(1, _date),
    "format-date": _fixed(2, _format_date),
    "decimal-date-time": _fixed(1, _decimal_date_time),
}


def _as_float(value: int | float) -> float:
    """Return a number as a double, infinite when an integer is too large for one."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _decimal(number: float) -> tuple[str, int]:
    """Return a positive finite double as shortest digits and a point: 0.<digits> * 10**point."""
    # repr() gives the shortest digits that read back exactly, as JavaScript does; only the
    # layout (where exponents start, "1e-7" not "1e-07") differs.
    mantissa, _, exponent = repr(number).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + int(exponent or 0)
    significant = digits.lstrip("0")
    point -= len(digits) - len(significant)
    return significant.rstrip("0"), point


def format_number(number: float) -> str:
    """Return a number as JavaScript's ``String(number)`` would write it."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    digits, point = _decimal(abs(number))
    if len(digits) <= point <= 21:
        return sign + digits + "0" * (point - len(digits))
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    power = point - 1
    exponent = ("e+" if power >= 0 else "e-") + str(abs(power))
    return sign + digits[0] + ("." + digits[1:] if len(digits) > 1 else "") + exponent


def to_string(value: Any) -> str:
    """Return the XPath-style string value of an answer or intermediate result."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(_as_float(value))
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, list | tuple):
        return " ".join(text for text in map(to_string, value) if text)
    return str(value)


def _numeric(text: str) -> float | None:
    """Return the number a numeric string spells, or None."""
    if _NUMERIC.fullmatch(text):
        return float(text.strip(_BLANKS))
    return None


def to_number(value: Any) -> float:
    """Return a value as a number: NaN for ``""`` and anything not numeric."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return _as_float(value)
    number = _numeric(to_string(value))
    return math.nan if number is None else number


def is_true(value: Any) -> bool:
    """Return the XLSForm truth of a value: empty, zero and NaN are false."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0 and not math.isnan(_as_float(value))
    if isinstance(value, list | tuple):
        return len(value) > 0
    return to_string(value) != ""


def _scalar(value: Any) -> Any:
    """Return a value ready to compare: lists and dicts become their string value."""
    if value is None:
        return ""
    if isinstance(value, str | bool | int | float):
        return value
    return to_string(value)


def compare(op: str, left: Any, right: Any) -> bool:
    """Return whether ``left op right`` holds under the comparison rules above."""
    left, right = _scalar(left), _scalar(right)
    if isinstance(left, bool) or isinstance(right, bool):
        if op in ("=", "!="):
            return (is_true(left) == is_true(right)) == (op == "=")
        x, y = to_number(left), to_number(right)
    elif isinstance(left, int | float) or isinstance(right, int | float):
        x, y = to_number(left), to_number(right)
    elif _NUMERIC.fullmatch(left) and _NUMERIC.fullmatch(right):  # both are strings now
        x, y = to_number(left), to_number(right)
    else:
        # Python orders strings by code point; turn the order into -1, 0 or 1 and let the
        # numeric comparison below compare it with zero.
        x, y = float((left > right) - (left < right)), 0.0
    if math.isnan(x) or math.isnan(y):
        return op == "!="
    match op:
        case "=":
            return x == y
        case "!=":
            return x != y
        case "<":
            return x < y
        case "<=":
            return x <= y
        case ">":
            return x > y
        case _:
            return x >= y


def calculate(op: str, left: Any, right: Any) -> float:
    """Return ``left op right`` for an arithmetic operator, as doubles."""
    x, y = to_number(left), to_number(right)
    match op:
        case "+":
            return x + y
        case "-":
            return x - y
        case "*":
            return x * y
        case "div":
            return math.nan if y == 0 else x / y
        case _:
            # math.fmod is JavaScript's %, but raises where % answers NaN.
            return math.nan if y == 0 or math.isinf(x) else math.fmod(x, y)


@dataclass(frozen=True, slots=True)
class _Token:
    """One lexical unit and where it starts."""

    kind: str  # number, string, ref, name, symbol, end
    text: str
    position: int


def _tokenize(text: str) -> list[_Token]:
    """Split an expression into tokens, ending with an ``end`` token."""
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            char = text[position]
            if char == "$":
                reason = "malformed reference, expected ${name}"
            elif char in "'\"":
                reason = "unterminated string"
            else:
                reason = f"unexpected character {char!r}"
            raise ExpressionError(text, position, reason)
        kind = match.lastgroup or ""
        token_text, end = match.group(), match.end()
        if kind == "name" and "-" in token_text and token_text not in FUNCTIONS:
            # Names may hold hyphens only as function names do, so 'div-1' is 'div', '-', '1'.
            token_text = token_text.partition("-")[0]
            end = position + len(token_text)
        elif kind == "ref":
            token_text = match.group("refname")
        if kind != "blank":
            tokens.append(_Token(kind, token_text, position))
        position = end
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    """Recursive descent for primaries, operator precedence for binary operators."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.nesting = 0

    @property
    def token(self) -> _Token:
        """Return the token being looked at."""
        return self.tokens[self.index]

    def fail(self, reason: str, token: _Token | None = None) -> ExpressionError:
        """Return an error at ``token`` (default: the current one)."""
        return ExpressionError(self.text, (token or self.token).position, reason)

    def describe(self, token: _Token) -> str:
        """Return how a token is named in an error message."""
        if token.kind == "end":
            return "end of expression"
        if token.kind == "ref":
            return "${" + token.text + "}"
        if token.kind == "string":
            return token.text  # already in its quotes
        return f"'{token.text}'"

    def expect(self, text: str) -> None:
        """Consume the symbol ``text`` or fail."""
        if self.token.kind != "symbol" or self.token.text != text:
            raise self.fail(f"expected '{text}' but found {self.describe(self.token)}")
        self.index += 1

    def binary_operator(self) -> str | None:
        """Return the current token when it is a binary operator."""
        token = self.token
        if token.kind in ("symbol", "name") and token.text in _PRECEDENCE:
            return token.text
        return None

    def whole(self) -> Node:
        """Parse the whole text as one expression."""
        if self.token.kind == "end":
            raise self.fail("empty expression")
        node, _ = self.expression()
        if self.token.kind != "end":
            raise self.fail(f"unexpected {self.describe(self.token)} after the expression")
        return node

    def deeper(self, depth: int, token: _Token) -> int:
        """Return ``depth`` after checking it against the limit."""
        if depth > MAX_DEPTH:
            raise self.fail("expression is nested too deeply", token)
        return depth

    def expression(self) -> tuple[Node, int]:
        """Parse operands joined by binary operators; return the tree and its depth."""
        # Operator stacks rather than one function per precedence level keep the Python stack
        # shallow (about five frames per bracket), so MAX_DEPTH brackets fit within its limit.
        operands = [self.unary()]
        operators: list[_Token] = []

        def reduce() -> None:
            token = operators.pop()
            right, right_depth = operands.pop()
            left, left_depth = operands.pop()
            depth = self.deeper(max(left_depth, right_depth) + 1, token)
            node_class = _BINARY_NODES[_PRECEDENCE[token.text]]
            operands.append((node_class(token.text, left, right), depth))

        while (op := self.binary_operator()) is not None:
            while operators and _PRECEDENCE[operators[-1].text] >= _PRECEDENCE[op]:
                reduce()
            operators.append(self.token)
            self.index += 1
            operands.append(self.unary())
        while operators:
            reduce()
        return operands[0]

    def unary(self) -> tuple[Node, int]:
        """Parse a primary with any number of leading minus signs."""
        signs: list[_Token] = []
        while self.token.kind == "symbol" and self.token.text == "-":
            signs.append(self.token)
            self.deeper(len(signs), self.token)
            self.index += 1
        node, depth = self.primary()
        for sign in reversed(signs):
            depth = self.deeper(depth + 1, sign)
            node = Negate(node)
        return node, depth

    def nested(self, opening: _Token) -> tuple[Node, int]:
        """Parse an expression inside brackets, counting the nesting."""
        self.nesting += 1
        self.deeper(self.nesting, opening)
        result = self.expression()
        self.nesting -= 1
        return result

    def primary(self) -> tuple[Node, int]:
        """Parse a literal, reference, ``.``, bracketed expression or function call."""
        token = self.token
        if token.kind == "number":
            value = _number_literal(token.text)
            if math.isinf(value):
                # JSON has no infinity, so the page script could not be sent this tree.
                raise self.fail("number is too large")
            self.index += 1
            return Literal(value), 1
        if token.kind == "string":
            self.index += 1
            return Literal(token.text[1:-1]), 1
        if token.kind == "ref":
            self.index += 1
            return Ref(token.text), 1
        if token.kind == "symbol" and token.text == ".":
            self.index += 1
            return Current(), 1
        if token.kind == "symbol" and token.text == "(":
            self.index += 1
            node, depth = self.nested(token)
            self.expect(")")
            return node, depth
        if token.kind == "name":
            return self.call()
        raise self.fail(f"expected a value but found {self.describe(token)}")

    def call(self) -> tuple[Node, int]:
        """Parse a function call."""
        name = self.token
        if name.text not in FUNCTIONS:
            raise self.fail(f"unknown function '{name.text}'")
        self.index += 1
        opening = self.token
        self.expect("(")
        args: list[Node] = []
        starts: list[_Token] = []
        depth = 0
        if not (self.token.kind == "symbol" and self.token.text == ")"):
            while True:
                starts.append(self.token)
                arg, arg_depth = self.nested(opening)
                args.append(arg)
                depth = max(depth, arg_depth)
                if not (self.token.kind == "symbol" and self.token.text == ","):
                    break
                self.index += 1
        self.expect(")")
        least, most, _ = FUNCTIONS[name.text]
        if len(args) < least or (most is not None and len(args) > most):
            if most is None:
                takes = f"at least {least} argument{'' if least == 1 else 's'}"
            elif most == least:
                takes = f"{least} argument{'' if least == 1 else 's'}"
            else:
                takes = f"{least} {'or' if most == least + 1 else 'to'} {most} arguments"
            raise self.fail(f"{name.text}() takes {takes}, not {len(args)}", name)
        if name.text == "regex":
            self.check_pattern(args[1], starts[1])
        return Call(name.text, tuple(args)), self.deeper(depth + 1, name)

    def check_pattern(self, pattern: Node, token: _Token) -> None:
        """Refuse a ``regex()`` pattern that is not a string, or that Python and JavaScript
        would read differently."""
        if not (isinstance(pattern, Literal) and isinstance(pattern.value, str)):
            raise self.fail("regex() takes its pattern as a quoted string", token)
        try:
            _compile_regex(pattern.value)
        except _PatternError as error:
            raise self.fail(f"regex() refuses this pattern: {error}", token) from None


def _number_literal(text: str) -> int | float:
    """Return a number literal's value: an int when a double holds it exactly."""
    if "." in text or len(text.lstrip("0")) > 16:
        return float(text)
    value = int(text)
    return value if value <= _EXACT_INT else float(value)


def parse(text: str) -> Node:
    """Parse an expression into a tree; raise :class:`ExpressionError` if it is malformed."""
    return _Parser(text).whole()


def evaluate(
    node: Node,
    values: Mapping[str, Any],
    current: Any = "",
    today: date | None = None,
    now: datetime | None = None,
) -> Any:
    """Evaluate a parsed expression against the answers so far."""
    return node.evaluate(Context(values, current, today, now))
