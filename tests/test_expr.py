"""The expression language of ``relevant`` and ``constraint`` (forms/expr.py)."""

import dataclasses
import json
import math
import pickle
import random
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forms.expr import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_REGEX_INPUT,
    Context,
    ExpressionError,
    Node,
    evaluate,
    format_number,
    is_true,
    parse,
)

TODAY = date(2026, 3, 9)
NOW = datetime(2026, 3, 9, 8, 15, 30, 250999, tzinfo=UTC)
ANSWERS: dict[str, Any] = {
    "age": 34,
    "age_text": "34",
    "height": 1.8,
    "name": "Aigerim",
    "empty": "",
    "none": None,
    "langs": ["kk", "ru"],
    "langs_text": "kk ru",
    "no_langs": [],
    "born": "1991-05-17",
    "residence": {"country": "DE", "region": None, "city": "Berlin"},
    "consent": "yes",
}


def run(text: str, current: Any = "", values: dict[str, Any] | None = None) -> Any:
    """Parse and evaluate ``text`` against the sample answers."""
    return evaluate(parse(text), ANSWERS if values is None else values, current, TODAY, NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # references, the current answer, literals
        ("${age}", 34),
        ("${name}", "Aigerim"),
        ("${missing}", ""),
        ("${none}", ""),
        ("${langs}", ["kk", "ru"]),
        ("${residence.country}", "DE"),
        ("${residence.region}", ""),
        ("${residence.nothing}", ""),
        ("${name.country}", ""),
        ("${langs.country}", ""),
        ("${missing.country}", ""),
        ("12", 12),
        ("1.5", 1.5),
        (".5", 0.5),
        ("3.", 3.0),
        ("'say \"hi\"'", 'say "hi"'),
        ('"it\'s"', "it's"),
        ("''", ""),
        # comparisons
        ("${age} = 34", True),
        ("${age} = '34'", True),
        ("${age_text} = 34", True),
        ("${age_text} = '34.0'", True),
        ("' 34 ' = '34'", True),
        ("'abc' = 'abc'", True),
        ("'abc' != 'abd'", True),
        ("'10' < '9'", False),
        ("'b' > 'abc'", True),
        ("${born} < '2000-01-01'", True),
        ("${born} <= ${born}", True),
        ("${born} >= today()", False),
        ("${age} > 18 and ${age} <= 120", True),
        ("${missing} = ''", True),
        ("${age} = ''", False),
        ("${age} != ''", True),
        ("${missing} < 18", False),
        ("${missing} >= 18", False),
        ("${missing} != 18", True),
        ("${langs} = 'kk ru'", True),
        ("${langs} = 'kk'", False),
        ("${residence} = 'DE Berlin'", True),
        ("${height} = 1.80", True),
        ("1 = 1.0", True),
        ("-0 = 0", True),
        # booleans compare by truth with = and !=, as numbers otherwise
        ("(1 = 1) = 'anything'", True),
        ("(1 = 1) = ''", False),
        ("(1 = 2) != 0", False),
        ("(1 = 1) > (1 = 2)", True),
        ("(1 = 1) < 2", True),
        # logic
        ("1 = 1 and 2 = 2", True),
        ("1 = 1 and 2 = 3", False),
        ("1 = 2 or 2 = 2", True),
        ("1 = 2 or 2 = 3", False),
        ("not(1 = 2)", True),
        ("not(${empty})", True),
        ("not(${name})", False),
        ("${name} and ${age}", True),
        ("${no_langs} or 0", False),
        ("'0' and 'false'", True),
        # arithmetic
        ("1 + 2", 3.0),
        ("${age} - 4", 30.0),
        ("${age_text} * 2", 68.0),
        ("7 div 2", 3.5),
        ("7 mod 3", 1.0),
        ("-7 mod 3", -1.0),
        ("7 mod -3", 1.0),
        ("7.5 mod 2", 1.5),
        ("-${age}", -34.0),
        ("- -2", 2.0),
        ("--2", 2.0),
        ("2 div-1", -2.0),
        ("${langs_text} + 1", math.nan),
        ("${name} + 1", math.nan),
        ("${missing} + 1", math.nan),
        ("1 div 0", math.nan),
        ("0 div 0", math.nan),
        ("1 mod 0", math.nan),
        ("${missing} div 0 > 1", False),
        ("(1 div 0) = (1 div 0)", False),
        ("(1 div 0) != (1 div 0)", True),
        ("10000000000000000000000000000000000000000 > 1", True),
        # functions
        ("selected(${langs}, 'kk')", True),
        ("selected(${langs}, 'k')", False),
        ("selected(${langs_text}, 'ru')", True),
        ("selected(${missing}, 'ru')", False),
        ("selected(' a\tb ', 'b')", True),
        ("selected(${age}, 34)", True),
        ("count-selected(${langs})", 2),
        ("count-selected(${langs_text})", 2),
        ("count-selected(${no_langs})", 0),
        ("count-selected(${missing})", 0),
        ("count-selected('  a  b  c ')", 3),
        ("string-length(${name})", 7),
        ("string-length(${missing})", 0),
        ("string-length('Қазақстан')", 9),
        ("string-length('\U0001d518')", 1),
        ("string-length(${height})", 3),
        ("string-length(1 div 3)", 18),
        ("string-length(${langs})", 5),
        ("today()", "2026-03-09"),
        ("today() > ${born}", True),
        # if, coalesce, booleans and conversions
        ("if(${age} > 18, 'adult', 'minor')", "adult"),
        ("if(${missing}, 'yes', 'no')", "no"),
        ("if('0', 1, 2)", 1),
        ("if(${no_langs}, 1, ${langs})", ["kk", "ru"]),
        ("coalesce(${missing}, 'x')", "x"),
        ("coalesce(${empty}, ${none})", ""),
        ("coalesce(${no_langs}, 3)", 3),
        ("coalesce(${langs}, 3)", ["kk", "ru"]),
        ("coalesce(0, 3)", 0),
        ("coalesce(1 div 0, 3)", math.nan),
        ("concat('a')", "a"),
        (
            "concat(${name}, ' ', ${age}, '/', ${langs}, true(), ${missing}, 0.5)",
            "Aigerim 34/kk rutrue0.5",
        ),
        ("concat(${residence}, 1 div 0)", "DE BerlinNaN"),
        ("true()", True),
        ("false()", False),
        ("true() = 'x'", True),
        ("boolean('0')", True),
        ("boolean('')", False),
        ("boolean(${no_langs})", False),
        ("boolean(0 div 0)", False),
        ("boolean(-0.5)", True),
        ("string(${age})", "34"),
        ("string(${height} * 10)", "18"),
        ("string(1 = 1)", "true"),
        ("string(${langs})", "kk ru"),
        ("string(${missing})", ""),
        ("string(0 div 0)", "NaN"),
        ("number(' 12 ')", 12.0),
        ("number('-.5')", -0.5),
        ("number(${age_text})", 34.0),
        ("number(true())", 1.0),
        ("number('')", math.nan),
        ("number('1e3')", math.nan),
        ("number('abc')", math.nan),
        ("number(${langs})", math.nan),
        # dates
        ("now()", "2026-03-09T08:15:30.250Z"),
        ("date(now())", "2026-03-09"),
        ("date(now()) = today()", True),
        ("date(${born})", "1991-05-17"),
        ("date(0)", "1970-01-01"),
        ("date(-1)", "1969-12-31"),
        ("date(20521.99)", "2026-03-09"),
        ("date(-0.5)", "1969-12-31"),
        ("date(-719162)", "0001-01-01"),
        ("date(-719163)", ""),
        ("date(2932896)", "9999-12-31"),
        ("date(2932897)", ""),
        ("date(1 div 0)", ""),
        ("date(true())", ""),
        ("date('')", ""),
        ("date(${missing})", ""),
        ("date('20521')", ""),
        ("date('2024-02-29')", "2024-02-29"),
        ("date('2026-02-29')", ""),
        ("date('2026-13-01')", ""),
        ("date('0000-01-01')", ""),
        ("date('2026-3-9')", ""),
        ("date(' 2026-03-09')", ""),
        ("date('2026-03-09T23:59:59')", "2026-03-09"),
        ("date('2026-03-09T24:00')", ""),
        ("date('2026-03-09T10:60')", ""),
        ("date('2026-03-09T10:00:60')", ""),
        ("date('2026-03-09T10')", ""),
        ("date('2026-03-09T02:00+06:00')", "2026-03-08"),
        ("date('2026-03-09T22:00-0230')", "2026-03-10"),
        ("date('2026-03-09T22:00-02')", "2026-03-10"),
        ("date('2026-03-09T22:00+24:00')", ""),
        ("date('9999-12-31T23:00-02:00')", ""),
        ("date('0001-01-01T01:00+02:00')", ""),
        ("date(${langs})", ""),
        ("decimal-date-time('1970-01-02T12:00')", 1.5),
        ("decimal-date-time('1970-01-01')", 0.0),
        ("decimal-date-time('1969-12-31T18:00:00.000Z')", -0.25),
        ("decimal-date-time('1970-01-01T00:00:00.5')", 0.5 / 86400),
        ("decimal-date-time('1970-01-01T00:00:00.1239')", 0.123 / 86400),
        ("decimal-date-time('1970-01-01T06:00+06:00')", 0.0),
        ("decimal-date-time(now())", 20521 + (8 * 3600 + 15 * 60 + 30.25) / 86400),
        ("decimal-date-time(5.5)", 5.5),
        ("decimal-date-time(${age})", 34.0),
        ("decimal-date-time(1 div 0)", math.nan),
        ("decimal-date-time('x')", math.nan),
        ("decimal-date-time('')", math.nan),
        ("decimal-date-time(true())", math.nan),
        ("decimal-date-time(${born}) < decimal-date-time(today())", True),
        ("format-date(now(), '%Y-%m-%d %H:%M:%S')", "2026-03-09 08:15:30"),
        ("format-date(${born}, '%e %b %Y, %a')", "17 May 1991, Fri"),
        ("format-date(${born}, '%d/%m/%y')", "17/05/91"),
        ("format-date('2026-03-09', '%H:%M:%S')", "00:00:00"),
        ("format-date('0099-01-05', '%Y %y %a')", "0099 99 Mon"),
        ("format-date('2000-01-01T23:59:59.999Z', '%H%M%S')", "235959"),
        ("format-date(0.75, '%a %H:%M')", "Thu 18:00"),
        ("format-date(-1, '%a %d %b')", "Wed 31 Dec"),
        ("format-date(0.99999999999999, '%H:%M:%S')", "23:59:59"),
        ("format-date(${born}, '%q %% 100% %')", "%q %% 100% %"),
        ("format-date(${born}, '')", ""),
        ("format-date(${born}, 12)", "12"),
        ("format-date('2026-02-30', '%Y')", ""),
        ("format-date(${missing}, '%Y')", ""),
        # int, round, min, max
        ("int(3.7)", 3.0),
        ("int(-3.7)", -3.0),
        ("int('12.9')", 12.0),
        ("int('')", math.nan),
        ("int(10000000000000000000000000000000000000000)", 1e40),
        ("round(2.5)", 3.0),
        ("round(-2.5)", -3.0),
        ("round(2.4)", 2.0),
        ("round(-0.4)", -0.0),
        ("round(2.675, 2)", 2.68),
        ("round(1.005, 2)", 1.01),
        ("round(-1.005, 2)", -1.01),
        ("round(99.95, 1)", 100.0),
        ("round(0.0005, 3)", 0.001),
        ("round(0.0004, 3)", 0.0),
        ("round(1234.5, -2)", 1200.0),
        ("round(1250, -2)", 1300.0),
        ("round(60, -2)", 100.0),
        ("round(40, -2)", 0.0),
        ("round(1.5, 2.9)", 1.5),
        ("round(1 div 3, 400)", 1 / 3),
        ("round(123, -400)", 0.0),
        ("round(1.45, '1')", 1.5),
        ("round('', 1)", math.nan),
        ("round(1.5, '')", math.nan),
        ("round(0, 2)", 0.0),
        ("round(${age})", 34.0),
        ("min(3, '2', 5)", 2.0),
        ("max(3, '2', 5)", 5.0),
        ("min(-1)", -1.0),
        ("max(${age}, ${height})", 34.0),
        ("min(1, ${missing})", math.nan),
        ("max(1, 'x', 2)", math.nan),
        ("max(${langs}, 1)", math.nan),
        # strings
        ("contains(${name}, 'ger')", True),
        ("contains(${name}, 'Ger')", False),
        ("contains(${name}, '')", True),
        ("contains(${missing}, '')", True),
        ("contains(${langs}, 'k r')", True),
        ("contains('Қазақстан', 'зақ')", True),
        ("starts-with(${name}, 'Ai')", True),
        ("starts-with(${name}, 'ai')", False),
        ("starts-with(${age}, 3)", True),
        ("ends-with(${name}, 'rim')", True),
        ("ends-with(${name}, '')", True),
        ("ends-with(${empty}, 'x')", False),
        ("substr('hello', 1)", "ello"),
        ("substr('hello', 1, 3)", "el"),
        ("substr('hello', 0, 99)", "hello"),
        ("substr('hello', 3, 1)", ""),
        ("substr('hello', -3)", "llo"),
        ("substr('hello', 1, -1)", "ell"),
        ("substr('hello', 1.9, 3.9)", "el"),
        ("substr('hello', '', 2)", "he"),
        ("substr('hello', 1, '')", ""),
        ("substr('hello', 99)", ""),
        ("substr('hello', -99, 2)", "he"),
        ("substr('\U0001d518\U0001f600x', 1, 2)", "\U0001f600"),
        ("substr(${missing}, 0, 1)", ""),
        ("substr(${age}, 1)", "4"),
        ("normalize-space('  a \t b\n\nc  ')", "a b c"),
        ("normalize-space('')", ""),
        ("normalize-space('a\u00a0 b')", "a\u00a0 b"),
        ("normalize-space(${langs})", "kk ru"),
        ("selected-at(${langs}, 0)", "kk"),
        ("selected-at(${langs}, 1)", "ru"),
        ("selected-at(${langs}, 2)", ""),
        ("selected-at(${langs}, -1)", ""),
        ("selected-at(${langs}, 1.5)", "ru"),
        ("selected-at(${langs}, '')", ""),
        ("selected-at(${langs_text}, '1')", "ru"),
        ("selected-at(${no_langs}, 0)", ""),
        ("selected-at(${missing}, 0)", ""),
        ("selected-at(${residence}, 1)", "Berlin"),
        # precedence and associativity
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("10 - 4 - 3", 3.0),
        ("12 div 3 div 2", 2.0),
        ("2 * 3 mod 4", 2.0),
        ("-2 * 3", -6.0),
        ("-(2 + 3)", -5.0),
        ("1 + 1 = 2", True),
        ("1 < 2 = 2 < 3", True),
        ("3 > 2 > 1", False),
        ("1 = 1 or 1 = 2 and 1 = 2", True),
        ("(1 = 1 or 1 = 2) and 1 = 2", False),
        ("not(1 = 1) or 1 = 1", True),
        ("1 =\t1\nand\r2=2", True),
    ],
)
def test_every_construct(text: str, expected: Any) -> None:
    result = run(text)
    assert type(result) is type(expected)
    if isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(result)
    else:
        assert result == expected


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("^[0-9]{3}-[0-9]{4}$", "555-1234", True),
        ("^[0-9]{3}-[0-9]{4}$", "555-12345", False),
        ("^[0-9]+$", "123\n", False),  # Python's $ alone would match before the newline
        ("[0-9]", "abc7", True),  # anywhere, as re.search and RegExp.test
        ("\\d", "\u0663", False),  # ASCII digits only, as in JavaScript
        ("\\w+", "Қазақ", False),
        ("^.$", "\U0001d518", True),  # code points, as RegExp with the u flag
        ("^a.c$", "a\rc", False),  # . stops at \r, \u2028 and \u2029 as in JavaScript
        ("^a.c$", "a\u2028c", False),
        ("^a.c$", "a\u00a0c", True),
        ("^(?:kk|ru)( (?:kk|ru))*$", "kk ru", True),
        ("^(?=.*[0-9]).{8,}$", "abcdefg1", True),
        ("^(?=.*[0-9]).{8,}$", "abcdefgh", False),
        ("^[^\\d-]+$", "ab-", False),
        ("^[a-z\\-]+$", "ab-c", True),
        ("\\bfoo\\b", "a foo.", True),
        ("\\x41\\u00e9\\.", "A\u00e9.", True),
        ("^a{2,3}?$", "aaa", True),
        ("^[\\]\\[]$", "]", True),
        ("", "", True),
        ("^$", "", True),
        ("x", "x" * MAX_REGEX_INPUT, True),
        ("x", "x" * (MAX_REGEX_INPUT + 1), False),  # longer values are not looked at
    ],
)
def test_regex(pattern: str, value: str, expected: bool) -> None:
    quote = '"' if "'" in pattern else "'"
    assert run(f"regex(., {quote}{pattern}{quote})", current=value) is expected


def test_regex_reads_string_values() -> None:
    assert run("regex(${langs}, '^kk ru$')") is True
    assert run("regex(${age}, '^34$')") is True
    assert run("regex(${missing}, '^$')") is True
    assert run("regex(1 div 0, 'NaN')") is True


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("(?<=a)b", "lookbehind"),
        ("(?<!a)b", "lookbehind"),
        ("(?P<year>[0-9]{4})", "named groups"),
        ("(?<year>[0-9]{4})", "named groups"),
        ("(?P=year)", "named groups"),
        ("\\k<year>", "named groups"),
        ("(?>a+)b", "atomic groups"),
        ("a++", "possessive"),
        ("a*+", "possessive"),
        ("a?+", "possessive"),
        ("a{2}+", "possessive"),
        ("(?i)abc", "inline flags"),
        ("(?i:abc)", "inline flags"),
        ("(?#note)abc", "inline flags, comments"),
        ("(a)?(?(1)b|c)", "inline flags, comments and conditionals"),
        ("\\Aabc", "\\A is not accepted"),
        ("abc\\Z", "\\Z is not accepted"),
        ("abc\\z", "\\z is not accepted"),
        ("\\p{L}", "unicode property escapes"),
        ("\\P{Lu}", "unicode property escapes"),
        ("(a)\\1", "backreferences"),
        ("\\0", "backreferences and octal escapes"),
        ("\\s", "\\s means different blanks"),
        ("[^\\S]", "\\S means different blanks"),
        ("[a-c", "a [ is not closed"),
        ("[a-", "a [ is not closed"),
        ("[]a]", "write ] in [...] as \\]"),
        ("[^]", "write ] in [...]"),
        ("[[a]]", "write [ in [...] as \\["),
        ("[a&&b]", "write && in [...]"),
        ("[a--b]", "write -- in [...]"),
        ("[\\d-z]", "write - in [...] as \\-"),
        ("[a-\\d]", "a range cannot end at \\d"),
        ("[a-c-e]", "write - in [...]"),
        ("[z-a]", "it does not compile"),
        ("a]", "write ] as \\]"),
        ("a}", "write } as \\}"),
        ("a{,3}", "write a { that does not repeat as \\{"),
        ("{3}", "nothing to repeat"),
        ("a{3,2}", "a {m,n} repetition needs m <= n"),
        ("a{1001}", "repetition counts above 1000"),
        ("*a", "nothing to repeat before *"),
        ("a**", "nothing to repeat"),
        ("^*", "nothing to repeat"),
        ("a|?", "nothing to repeat"),
        ("\\b+", "nothing to repeat"),
        ("(?=a)*", "nothing to repeat"),
        ("(a", "a ( is not closed"),
        ("a)", "a ) has no ("),
        ("abc\\", "it ends with a backslash"),
        ("\\y", "the escape \\y is not accepted"),
        ("\\-", "the escape \\- is not accepted"),
        ("\\cJ", "the escape \\c"),
        ("\\u{1F600}", "the escape \\u"),
        ("\\x4", "the escape \\x"),
        ("\\ud83d\\ude00", "\\u escapes of surrogates"),
        ("[\\b]", "\\b inside [...]"),
        ("a\\B", "\\B is not accepted"),
    ],
)
def test_regex_refuses_patterns_python_and_javascript_read_differently(
    pattern: str, why: str
) -> None:
    quote = '"' if "'" in pattern else "'"
    text = f"regex(${{a}}, {quote}{pattern}{quote})"
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert caught.value.position == len("regex(${a}, ")
    assert caught.value.reason.startswith("regex() refuses this pattern: "), caught.value.reason
    assert why in caught.value.reason


@pytest.mark.parametrize("text", ["regex(., ${a})", "regex(., concat('a', 'b'))", "regex(., 1)"])
def test_regex_patterns_are_quoted_strings(text: str) -> None:
    with pytest.raises(ExpressionError, match="regex\\(\\) takes its pattern as a quoted string"):
        parse(text)


@pytest.mark.parametrize(
    ("text", "current", "expected"),
    [
        (". >= 16 and . <= 120", 34, True),
        (". >= 16 and . <= 120", "12", False),
        (". >= 16", "", False),
        (". = ''", None, True),
        ("string-length(.) <= 5", "hello", True),
        ("selected(., 'b')", "a b", True),
        (". < today()", "2026-03-08", True),
    ],
)
def test_current_answer(text: str, current: Any, expected: bool) -> None:
    assert run(text, current=current) is expected


def test_now_defaults_to_the_real_moment_in_utc() -> None:
    before = datetime.now(UTC)
    text = evaluate(parse("now()"), {})
    after = datetime.now(UTC)
    moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert before - timedelta(milliseconds=1) <= moment <= after
    assert len(text) == len("2026-03-09T08:15:30.250Z")
    almaty = timezone(timedelta(hours=5))
    assert Context({}, now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=almaty)).iso_now() == (
        "2026-01-01T22:04:05.000Z"
    )
    assert Context({}, now=datetime(26, 1, 2, 3, 4, 5)).iso_now() == "0026-01-02T03:04:05.000Z"


@pytest.mark.parametrize("days", [-719162, -365, -1, 0, 1, 59, 10_957, 20_521, 2_932_896])
def test_format_date_agrees_with_python_dates(days: int) -> None:
    day = date(1970, 1, 1) + timedelta(days=days)
    expected = f"{day.year:04d} {day:%y %m %d} {day.day} {day:%a %b}"
    assert run(f"format-date({days}, '%Y %y %m %d %e %a %b')") == expected
    assert run(f"date({days})") == f"{day.year:04d}-{day:%m-%d}"


def test_today_defaults_to_the_real_date() -> None:
    assert evaluate(parse("today()"), {}) == date.today().isoformat()
    assert Context({}).iso_today() == date.today().isoformat()
    assert Context({}, today=datetime(2026, 1, 2, 13, 45)).iso_today() == "2026-01-02"


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("${a}", ["ref", "a"]),
        ("${residence.country}", ["ref", "residence.country"]),
        (".", ["current"]),
        ("3", ["lit", 3]),
        ("2.50", ["lit", 2.5]),
        ("'x'", ["lit", "x"]),
        ("-1", ["neg", ["lit", 1]]),
        ("9007199254740993", ["lit", 9007199254740992.0]),
        (
            "${a} = 1 and not(${b})",
            ["and", ["=", ["ref", "a"], ["lit", 1]], ["call", "not", [["ref", "b"]]]],
        ),
        ("selected(${x}, 'v')", ["call", "selected", [["ref", "x"], ["lit", "v"]]]),
        ("today()", ["call", "today", []]),
        ("1 - 2 - 3", ["-", ["-", ["lit", 1], ["lit", 2]], ["lit", 3]]),
        ("1 - (2 - 3)", ["-", ["lit", 1], ["-", ["lit", 2], ["lit", 3]]]),
        ("1 mod 2 div 3", ["div", ["mod", ["lit", 1], ["lit", 2]], ["lit", 3]]),
    ],
)
def test_to_json(text: str, tree: Any) -> None:
    assert json.dumps(parse(text).to_json()) == json.dumps(tree)


def test_references() -> None:
    node = parse("selected(${a}, 'x') and -${b.city} < count-selected(${c}) or ${a} = .")
    assert node.references() == frozenset({"a", "b.city", "c"})
    assert parse("today()").references() == frozenset()


def test_trees_are_immutable() -> None:
    node = parse("${a} + 1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.op = "-"  # type: ignore[attr-defined]
    assert parse("${a} + 1") == node
    assert hash(parse("${a} + 1")) == hash(node)


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("", 0, "empty expression"),
        ("   ", 3, "empty expression"),
        ("1 +", 3, "expected a value but found end of expression"),
        ("${age} >", 8, "expected a value"),
        ("${age", 0, "malformed reference"),
        ("1 = ${}", 4, "malformed reference"),
        ("${1a}", 0, "malformed reference"),
        ("${a.b.c}", 0, "malformed reference"),
        ("${ a }", 0, "malformed reference"),
        ("$a", 0, "malformed reference"),
        ("'abc", 0, "unterminated string"),
        ('1 = "abc', 4, "unterminated string"),
        ("foo(1)", 0, "unknown function 'foo'"),
        ("1 and bar", 6, "unknown function 'bar'"),
        ("count-selected(1, 2)", 0, "count-selected() takes 1 argument, not 2"),
        ("selected(${a})", 0, "selected() takes 2 arguments, not 1"),
        ("today(1)", 0, "today() takes 0 arguments, not 1"),
        ("regex('a')", 0, "regex() takes 2 arguments, not 1"),
        ("now(1)", 0, "now() takes 0 arguments, not 1"),
        ("date()", 0, "date() takes 1 argument, not 0"),
        ("format-date(.)", 0, "format-date() takes 2 arguments, not 1"),
        ("decimal-date-time(1, 2)", 0, "decimal-date-time() takes 1 argument, not 2"),
        ("true(1)", 0, "true() takes 0 arguments, not 1"),
        ("if(1, 2)", 0, "if() takes 3 arguments, not 2"),
        ("1 + coalesce(1, 2, 3)", 4, "coalesce() takes 2 arguments, not 3"),
        ("concat()", 0, "concat() takes at least 1 argument, not 0"),
        ("min()", 0, "min() takes at least 1 argument, not 0"),
        ("max()", 0, "max() takes at least 1 argument, not 0"),
        ("round()", 0, "round() takes 1 or 2 arguments, not 0"),
        ("round(1, 2, 3)", 0, "round() takes 1 or 2 arguments, not 3"),
        ("substr('a')", 0, "substr() takes 2 or 3 arguments, not 1"),
        ("substr('a', 1, 2, 3)", 0, "substr() takes 2 or 3 arguments, not 4"),
        ("true", 4, "expected '(' but found end of expression"),
        ("starts-with", 11, "expected '('"),
        ("starts-with-x(1)", 0, "unknown function 'starts'"),
        ("not 1", 4, "expected '(' but found '1'"),
        ("not(1", 5, "expected ')' but found end of expression"),
        ("(1 + 2", 6, "expected ')'"),
        ("1 2", 2, "unexpected '2' after the expression"),
        ("1 = 1)", 5, "unexpected ')'"),
        ("${a} ${b}", 5, "unexpected ${b}"),
        ("1 # 2", 2, "unexpected character '#'"),
        ("'it''s'", 4, "unexpected 's'"),  # XPath strings have no escapes
        ("1 == 2", 3, "expected a value but found '='"),
        ("1 = 1 AND 2", 6, "unexpected 'AND' after the expression"),
        ("selected(${a}, )", 15, "expected a value but found ')'"),
        ("1 ≠ 2", 2, "unexpected character '≠'"),
        ("1\u00a0= 1", 1, "unexpected character"),
        ("٣ = 3", 0, "unexpected character"),
        ("1 < 1" + "0" * 400, 4, "number is too large"),
    ],
)
def test_errors_say_where(text: str, position: int, reason: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    error = caught.value
    assert error.expression == text
    assert error.position == position
    assert error.reason.startswith(reason)
    assert str(error) == f"{error.reason} at position {position} in '{text}'"
    assert isinstance(error, ValueError)


def test_errors_survive_pickling() -> None:
    with pytest.raises(ExpressionError) as caught:
        parse("1 +")
    # Bytes we have just made ourselves, not untrusted input.
    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301
    assert (copy.expression, copy.position, copy.reason) == ("1 +", 3, caught.value.reason)


@pytest.mark.parametrize(
    "make",
    [
        lambda n: "(" * n + "1" + ")" * n,
        lambda n: "not(" * n + "1" + ")" * n,
        lambda n: "-" * n + "1",
        lambda n: "1" + " + 1" * n,
        lambda n: "1" + " or 1" * n,
        lambda n: "string-length(" * n + "1" + ")" * n,
    ],
)
def test_nesting_is_limited(make: Any) -> None:
    parse(make(MAX_DEPTH - 1))
    with pytest.raises(ExpressionError, match="nested too deeply"):
        parse(make(MAX_DEPTH + 1))
    with pytest.raises(ExpressionError, match="nested too deeply"):
        parse(make(50_000))


def test_deepest_accepted_tree_evaluates() -> None:
    node = parse("not(" * (MAX_DEPTH - 1) + "1" + ")" * (MAX_DEPTH - 1))
    assert evaluate(node, {}) is False
    assert len(json.dumps(node.to_json())) > MAX_DEPTH


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", False),
        (None, False),
        (0, False),
        (0.0, False),
        (math.nan, False),
        (False, False),
        ([], False),
        ({"country": None, "city": ""}, False),
        ("0", True),
        ("false", True),
        (" ", True),
        (1, True),
        (-0.5, True),
        (math.inf, True),
        (True, True),
        (["a"], True),
        ({"country": "KZ"}, True),
    ],
)
def test_is_true(value: Any, expected: bool) -> None:
    assert is_true(value) is expected


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (30.0, "30"),
        (1.5, "1.5"),
        (-1.5, "-1.5"),
        (0.1, "0.1"),
        (1 / 3, "0.3333333333333333"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e21, "1.5e+21"),
        (123456789012345680000.0, "123456789012345680000"),
        (1e-6, "0.000001"),
        (1.5e-6, "0.0000015"),
        (1e-7, "1e-7"),
        (-2.5e-8, "-2.5e-8"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (math.nan, "NaN"),
        (math.inf, "Infinity"),
        (-math.inf, "-Infinity"),
    ],
)
def test_numbers_print_as_javascript_prints_them(number: float, text: str) -> None:
    assert format_number(number) == text


# Property-based tests --------------------------------------------------------------------------

IDENT = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
WORD_OPS = ("and", "or", "div", "mod")
BINARY_OPS = ("or", "and", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "div", "mod")
PRECEDENCE = {
    op: level
    for level, ops in enumerate(
        [("or",), ("and",), ("=", "!="), ("<", "<=", ">", ">="), ("+", "-"), ("*", "div", "mod")],
        start=1,
    )
    for op in ops
}
# Variadic functions get up to two arguments more than they need.
ARITY = {
    name: (function.least, function.least + 2 if function.most is None else function.most)
    for name, function in FUNCTIONS.items()
    if name != "regex"  # its pattern must be a checked string: see test_regex_*
}


def quotable(text: str) -> bool:
    """Return whether a string can be written as a literal (XPath strings have no escapes)."""
    return not ("'" in text and '"' in text)


def leaves(names: st.SearchStrategy[str]) -> st.SearchStrategy[list[Any]]:
    """Generate literal, reference and ``.`` trees."""
    return st.one_of(
        st.builds(lambda n: ["lit", n], st.integers(0, 2**53)),
        st.builds(lambda n: ["lit", n / 1000], st.integers(0, 10**9)),
        st.builds(lambda s: ["lit", s], st.text(max_size=8).filter(quotable)),
        st.builds(lambda n: ["ref", n], names),
        st.just(["current"]),
    )


def branches(children: st.SearchStrategy[list[Any]]) -> st.SearchStrategy[list[Any]]:
    """Generate operator and function trees over ``children``."""
    return st.one_of(
        st.builds(lambda c: ["neg", c], children),
        st.builds(lambda op, a, b: [op, a, b], st.sampled_from(BINARY_OPS), children, children),
        st.sampled_from(sorted(ARITY)).flatmap(
            lambda name: st.lists(children, min_size=ARITY[name][0], max_size=ARITY[name][1]).map(
                lambda args: ["call", name, args]
            )
        ),
    )


def trees(names: st.SearchStrategy[str]) -> st.SearchStrategy[list[Any]]:
    """Generate well-formed trees in the shape of ``Node.to_json()``."""
    return st.recursive(leaves(names), branches, max_leaves=12)


REF_NAMES = st.one_of(IDENT, st.builds(lambda a, b: f"{a}.{b}", IDENT, IDENT))


def precedence(tree: list[Any]) -> int:
    """Return how tightly a tree's top construct binds (higher is tighter)."""
    if tree[0] in PRECEDENCE:
        return PRECEDENCE[tree[0]]
    return 7 if tree[0] == "neg" else 8


def render(tree: list[Any], rnd: random.Random) -> str:
    """Write a tree as text with as few brackets as it needs, plus some random extras."""

    def gap() -> str:
        return rnd.choice(["", "", " ", "  ", "\t", "\n"])

    def wrap(text: str, needed: bool) -> str:
        return f"({gap()}{text}{gap()})" if needed or rnd.random() < 0.1 else text

    kind = tree[0]
    if kind == "lit":
        value = tree[1]
        if isinstance(value, str):
            quote = '"' if "'" in value else "'"
            return quote + value + quote
        return repr(value)
    if kind == "ref":
        return "${" + tree[1] + "}"
    if kind == "current":
        return "."
    if kind == "neg":
        return "-" + gap() + wrap(render(tree[1], rnd), precedence(tree[1]) < 7)
    if kind == "call":
        args = ("," + gap()).join(render(arg, rnd) for arg in tree[2])
        return f"{tree[1]}({gap()}{args}{gap()})"
    level = PRECEDENCE[kind]
    left = wrap(render(tree[1], rnd), precedence(tree[1]) < level)
    right = wrap(render(tree[2], rnd), precedence(tree[2]) <= level)
    # Word operators need a blank on each side, or they would run into their neighbours.
    space = (lambda: rnd.choice([" ", "\t", "\n "])) if kind in WORD_OPS else gap
    return f"{left}{space()}{kind}{space()}{right}"


FAST = settings(max_examples=200, deadline=None)


@FAST
@given(st.text(max_size=40))
def test_random_text_raises_only_expression_errors(text: str) -> None:
    try:
        parse(text)
    except ExpressionError as error:
        position = error.position
    else:
        return
    assert 0 <= position <= len(text)


@FAST
@given(
    st.lists(
        st.sampled_from(
            [
                "${a}",
                "${b.c}",
                "${",
                "}",
                ".",
                "'",
                '"',
                "(",
                ")",
                ",",
                "1",
                "2.5",
                " ",
                "-",
                "+",
                "*",
                "=",
                "!=",
                "<",
                ">=",
                "and",
                "or",
                "div",
                "mod",
                "not",
                "selected",
                "count-selected",
                "string-length",
                "today",
                "if",
                "concat",
                "round",
                "substr",
                "starts-with",
                "x",
                "$",
            ]
        ),
        max_size=25,
    ).map("".join)
)
def test_token_soup_raises_only_expression_errors(text: str) -> None:
    try:
        node = parse(text)
    except ExpressionError as error:
        position = error.position
    else:
        assert isinstance(node, Node)
        return
    assert 0 <= position <= len(text)


@FAST
@given(trees(REF_NAMES), st.randoms(use_true_random=False))
def test_rendered_trees_parse_back(tree: list[Any], rnd: random.Random) -> None:
    text = render(tree, rnd)
    assert json.dumps(parse(text).to_json(), allow_nan=False) == json.dumps(tree), text


SCALARS = st.one_of(
    st.none(),
    st.text(max_size=6),
    st.sampled_from(["", "0", "12", " -3.5 ", ".5", "7.", "1e3", "abc", "2026-03-09", "a b"]),
    st.integers(),
    st.integers(-(10**400), 10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(st.one_of(st.text(max_size=4), SCALARS), max_size=4),
    st.dictionaries(st.sampled_from(["country", "region", "city", "geo"]), SCALARS, max_size=4),
)
NAMES = st.sampled_from(["a", "b", "c", "a.country", "b.city"])


@FAST
@given(
    trees(NAMES),
    st.dictionaries(st.sampled_from(["a", "b", "c"]), VALUES, max_size=3),
    VALUES,
)
def test_evaluation_always_returns_a_value(tree: list[Any], values: Any, current: Any) -> None:
    node = parse(render(tree, random.Random(0)))
    result = evaluate(node, values, current, TODAY, NOW)
    assert isinstance(result, str | int | float | bool | list | tuple | dict)
    assert isinstance(is_true(result), bool)
