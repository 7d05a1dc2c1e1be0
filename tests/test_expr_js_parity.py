"""The browser's relevant.js agrees with forms/expr.py on every tree the server sends it."""

import json
import math
import random
import shutil
import struct
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from forms.expr import MAX_REGEX_INPUT, ExpressionError, evaluate, format_number, is_true, parse

SCRIPT = Path(__file__).resolve().parent.parent / "app" / "static" / "js" / "relevant.js"
TODAY = date(2026, 3, 9)
# The clock is fixed on both sides, so now() never makes the engines differ by a millisecond.
NOW = datetime(2026, 3, 9, 8, 15, 30, 250000, tzinfo=UTC)
NOW_TEXT = "2026-03-09T08:15:30.250Z"

# Reads a JSON list of cases on stdin and writes one tagged result per case, so that booleans,
# numbers and strings stay apart and NaN / Infinity survive the trip through JSON.
EVALUATE_CASES = """
const AtlasExpr = require(process.argv[2]);
function tag(v) {
  if (v === null || v === undefined) return ['null'];
  if (typeof v === 'boolean') return ['bool', v];
  if (typeof v === 'number') return ['num', isFinite(v) ? v : String(v)];
  if (typeof v === 'string') return ['str', v];
  if (Array.isArray(v)) return ['list', v.map(tag)];
  return ['dict', Object.keys(v).map(k => [k, tag(v[k])])];
}
let input = '';
process.stdin.on('data', chunk => { input += chunk; });
process.stdin.on('end', () => {
  const results = JSON.parse(input).map(c => {
    try {
      const value = AtlasExpr.evaluate(c.tree, c.values, c.current, c.today, c.now);
      return [tag(value), AtlasExpr.isTrue(value)];
    } catch (e) {
      return ['error', String(e)];
    }
  });
  process.stdout.write(JSON.stringify(results));
});
"""

# Loads the script into a pretend page (just the DOM calls it makes), fires the events it
# listens to, and reports which questions are hidden after each step.
DRIVE_PAGE = """
const page = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const listeners = {};
const wrappers = page.questions.map(q => {
  const attrs = {'data-q': q.name};
  if (q.relevant) attrs['data-relevant'] = JSON.stringify(q.relevant);
  const inputs = q.inputs.map(i => Object.assign({type: 'text', value: '', checked: false}, i));
  return {
    name: q.name, hidden: false, inputs,
    getAttribute: k => (k in attrs ? attrs[k] : null),
    querySelectorAll: selector => (selector === '[name]' ? inputs : []),
  };
});
global.document = {
  getElementById: id =>
    (id === 'atlas-answers' ? {textContent: JSON.stringify(page.answers)} : null),
  querySelectorAll: selector => (selector === '.q[data-q]' ? wrappers : []),
  addEventListener: (type, listener) => { listeners[type] = listener; },
};
require(process.argv[2]);
const hidden = () => wrappers.filter(w => w.hidden).map(w => w.name);
listeners.DOMContentLoaded();
const seen = [hidden()];
for (const step of page.steps) {
  const target = wrappers.find(w => w.name === step.question).inputs[step.input];
  Object.assign(target, step.set);
  listeners[step.event]();
  seen.push(hidden());
}
process.stdout.write(JSON.stringify(seen));
"""


@pytest.fixture(scope="module")
def node() -> str:
    """Return the node executable, or skip when there is none."""
    found = shutil.which("node") or "/usr/bin/node"
    if not Path(found).exists():
        pytest.skip("node is not installed")
    return found


def run_node(node: str, program: str, payload: Any, tmp_path: Path) -> Any:
    """Run a harness program on relevant.js with ``payload`` on stdin; return its JSON output."""
    harness = tmp_path / "harness.js"
    harness.write_text(program, encoding="utf-8")
    # Fixed arguments, no shell: the only input is our own JSON on stdin.
    done = subprocess.run(  # noqa: S603
        [node, str(harness), str(SCRIPT)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    # JavaScript writes 1.2e17 as 120000000000000000: read every number back as a double, or
    # Python would make it an int that no longer equals the double it spells.
    return json.loads(done.stdout, parse_int=float)


def tag(value: Any) -> Any:
    """Return a value labelled with its kind, as the node harness labels JavaScript values."""
    if value is None:
        return ["null"]
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int | float):
        number = float(value)
        return ["num", number if math.isfinite(number) else format_number(number)]
    if isinstance(value, str):
        return ["str", value]
    if isinstance(value, list | tuple):
        return ["list", [tag(v) for v in value]]
    return ["dict", [[k, tag(v)] for k, v in value.items()]]


STRINGS = [
    "",
    "0",
    "12",
    " 12 ",
    "-3.5",
    "7.",
    ".5",
    "-0",
    "007",
    "1e3",
    "NaN",
    "Infinity",
    "abc",
    "abd",
    "a b",
    "kk ru",
    "true",
    "2026-03-09",
    "2025-12-31",
    "Қазақ",
    "\U0001d518",
    "\uffff",
    "\U0001f600",
    "tab\tsep",
    "b\u00a0c",  # a no-break space is not a separator in XPath
    "b\u2003c",
    "2026-03-09T08:15:30.250Z",
    "2024-02-29",
    "2026-02-29",
    "0001-01-01",
    "0099-12-31T23:59",
    "9999-12-31T23:59:59+01:00",
    "9999-12-31T23:59:59-01:00",
    "1969-12-31T23:59:59.9999-00:30",
    "1991-05-17T10:00+0530",
    "2026-03-09T24:00",
    "%Y-%m-%d %H:%M:%S %a %b %e %y",
]
NUMBERS = [0, 1, 2, -1, 34, 2**53, 0.1, 1 / 3, 1.5, -0.0, 1e21, 1e-7, 123.456, 1e300]
NUMBERS += [20521.75, -719162, -719162.5, 2932896.99, -0.25]  # days since 1970
LISTS = [[], ["kk"], ["kk", "ru"], ["12"], [1, "x"], ["a b", "c"], [None, "z"]]
PLACES = [
    {"country": "KZ", "region": "KZ-ALA", "city": "Almaty", "geo": [43.25, 76.95]},
    {"country": "DE", "region": None, "city": None, "geo": None},
    {"country": "", "region": None},
]
LITERALS = [
    "0",
    "1",
    "2",
    "12",
    "3.5",
    ".5",
    "007",
    "9007199254740993",
    "100000000000000000000000",
    "''",
    "'0'",
    "'12'",
    "' 12 '",
    "'abc'",
    "'a b'",
    "'kk'",
    "'true'",
    "'NaN'",
    "'2026-03-09'",
    "'2026-03-09T08:15:30.250Z'",
    "'1991-05-17T10:00+0530'",
    "'%d %b %Y %H:%M'",
    "'\U0001d518'",
    "'\uffff'",
    '"it\'s"',
]
REFS = ["${a}", "${b}", "${c}", "${d}", "${loc}", "${loc.country}", "${loc.city}", "."]
COMPARISONS = ["=", "!=", "<", "<=", ">", ">="]
OPERATORS = ["and", "or", *COMPARISONS, "+", "-", "*", "div", "mod"]
POOL = [*STRINGS, *NUMBERS, *LISTS, *PLACES, None, True, False]
ONE_VALUE = [
    "string-length(${a})",
    "count-selected(${a})",
    "selected(${a}, 'b')",
    "selected(${a}, 'kk')",
    "not(${a})",
    "-${a}",
    "${a} + 0",
    "${a} mod 7",
    "if(${a}, 'y', 'n')",
    "coalesce(${a}, 'z')",
    "concat(${a}, '|', ${a})",
    "boolean(${a})",
    "string(${a})",
    "number(${a})",
    "int(${a})",
    "round(${a})",
    "round(${a}, 2)",
    "round(123.456, ${a})",
    "min(${a}, 5)",
    "max(${a}, -1, 3)",
    "contains(${a}, 'b')",
    "starts-with(${a}, '1')",
    "ends-with(${a}, 'c')",
    "substr(${a}, 1)",
    "substr(${a}, -2, 3)",
    "substr('\U0001d518a\U0001f600bc', ${a})",
    "normalize-space(${a})",
    "selected-at(${a}, 1)",
    "selected-at('a b c', ${a})",
    "regex(${a}, '^-?[0-9]+$')",
    "date(${a})",
    "decimal-date-time(${a})",
    "format-date(${a}, '%Y-%m-%d %H:%M:%S %a %b %e %y %% %q %')",
    "format-date(now(), ${a})",
    "now()",
    "regex(${a}, '\\w \\w')",
]
# Function name -> the argument counts the generator tries.
ARGUMENTS = {
    "not": [1],
    "selected": [2],
    "count-selected": [1],
    "string-length": [1],
    "today": [0],
    "if": [3],
    "coalesce": [2],
    "concat": [1, 2, 3],
    "true": [0],
    "false": [0],
    "boolean": [1],
    "string": [1],
    "number": [1],
    "int": [1],
    "round": [1, 2],
    "contains": [2],
    "starts-with": [2],
    "ends-with": [2],
    "substr": [2, 3],
    "normalize-space": [1],
    "selected-at": [2],
    "min": [1, 2, 3],
    "max": [1, 2, 3],
    "regex": [2],
    "now": [0],
    "date": [1],
    "format-date": [2],
    "decimal-date-time": [1],
}


# Pieces of regex() patterns: random strings of them that the parser accepts must compile in
# JavaScript and match the same values.
PATTERN_PIECES = [
    "a",
    "b",
    "0",
    "é",
    "\U0001d518",
    " ",
    "-",
    ",",
    "[0-9]",
    "[^a]",
    "[a-c\\-]",
    "[\\d.]",
    "\\d",
    "\\D",
    "\\w",
    "\\W",
    "\\b",
    "\\.",
    "\\u00e9",
    "\\x41",
    "\\t",
    ".",
    "^",
    "$",
    "*",
    "+",
    "?",
    "{2}",
    "{1,3}",
    "{2,}",
    "*?",
    "(",
    ")",
    "(?:",
    "(?=",
    "(?!",
    "|",
]
MATCHED = [
    *STRINGS,
    "a",
    "aa",
    "ab",
    "a0b",
    "ba",
    "A\u00e9",
    "a\nb",
    "a\rb",
    "\u2028",
    "a-b c",
    "\U0001d518\U0001d518",
    "0a0",
    "\u0663",
]
FIXED_PATTERNS = [
    "^[0-9]{3}-[0-9]{4}$",
    "^[0-9]+$",
    "^.$",
    "^a.b$",
    "\\d",
    "\\w+$",
    "\\bab?\\b",
    "^(?:kk|ru)( (?:kk|ru))*$",
    "^(?=.*[0-9]).{3,}$",
    "^[^\\d-]+$",
    "^$",
    "",
]


def random_pattern(rnd: random.Random) -> str | None:
    """Return a random regex() pattern the parser accepts, or None."""
    pattern = "".join(rnd.choice(PATTERN_PIECES) for _ in range(rnd.randint(1, 8)))
    try:
        parse(f"regex(., '{pattern}')")
    except ExpressionError:
        return None
    return pattern


def random_value(rnd: random.Random) -> Any:
    """Return an answer of any kind, from the tricky samples above."""
    pool = rnd.choice([STRINGS, NUMBERS, LISTS, PLACES, [None, True, False]])
    return rnd.choice(pool)


def random_expression(rnd: random.Random, depth: int = 0) -> str:
    """Return the text of a random expression, fully bracketed."""
    roll = rnd.random()
    if depth >= 4 or roll < 0.3:
        return rnd.choice(LITERALS + REFS + REFS)
    if roll < 0.7:
        left, right = random_expression(rnd, depth + 1), random_expression(rnd, depth + 1)
        return f"({left} {rnd.choice(OPERATORS)} {right})"
    if roll < 0.75:
        return f"-{random_expression(rnd, depth + 1)}"
    name = rnd.choice(sorted(ARGUMENTS))
    args = [random_expression(rnd, depth + 1) for _ in range(rnd.choice(ARGUMENTS[name]))]
    if name == "regex":
        args[1] = "'" + rnd.choice(FIXED_PATTERNS) + "'"
    return f"{name}({', '.join(args)})"


def random_double(rnd: random.Random) -> float:
    """Return a finite double with random bits, so every magnitude and digit count occurs."""
    while True:
        (number,) = struct.unpack("<d", rnd.getrandbits(64).to_bytes(8, "little"))
        if math.isfinite(number):
            return number


def build_cases() -> list[tuple[str, dict[str, Any], Any]]:
    """Return (expression, answers, current answer) cases, the same on every run."""
    rnd = random.Random(20260309)
    cases = []
    for _ in range(1500):
        values = {name: random_value(rnd) for name in "abcd" if rnd.random() < 0.8}
        values["loc"] = rnd.choice(PLACES + [""])
        cases.append((random_expression(rnd), values, random_value(rnd)))
    # Every pair of values, compared, and every value through each function.
    for left in POOL:
        for right in POOL:
            cases.append((f"${{a}} {rnd.choice(COMPARISONS)} ${{b}}", {"a": left, "b": right}, ""))
        cases.extend((template, {"a": left}, "") for template in ONE_VALUE)
    # regex(): fixed and random patterns against tricky values, and long values.
    patterns = FIXED_PATTERNS + [p for p in (random_pattern(rnd) for _ in range(1500)) if p]
    for pattern in patterns:
        for value in rnd.sample(MATCHED, 6):
            cases.append((f"regex(., '{pattern}')", {}, value))
    for length in (MAX_REGEX_INPUT, MAX_REGEX_INPUT + 1):
        cases.append(("regex(., '^x+$')", {}, "x" * length))
        cases.append(("regex(., '^\U0001d518+$')", {}, "\U0001d518" * length))
    # Numbers print the same way on both sides, so selected() finds the Python spelling.
    for _ in range(200):
        number = random_double(rnd) if rnd.random() < 0.5 else rnd.uniform(-1e6, 1e6)
        spelled = format_number(number)
        cases.append((f"selected(${{n}}, '{spelled}')", {"n": number}, ""))
        cases.append(("string-length(${n} * 3)", {"n": number}, ""))
        places = rnd.randint(-25, 25)
        cases.append(
            (
                f"round(${{n}}, {places})" if places >= 0 else f"round(${{n}}, -{-places})",
                {"n": number},
                "",
            )
        )
        cases.append(("int(${n})", {"n": number}, ""))
        # Any day of years 1 to 9999 and a little beyond, at any time of day, and back.
        days = rnd.uniform(-719200, 2932950)
        cases.append(("format-date(${n}, '%Y-%m-%dT%H:%M:%S %a %b %e %y')", {"n": days}, ""))
        cases.append(("decimal-date-time(format-date(${n}, '%Y-%m-%dT%H:%M:%S'))", {"n": days}, ""))
        cases.append(("date(${n})", {"n": days}, ""))
    return cases


CASES = build_cases()


def test_same_results_as_python(node: str, tmp_path: Path) -> None:
    trees = [parse(text) for text, _, _ in CASES]
    assert sum(text.startswith("regex(., ") for text, _, _ in CASES) > 2000
    payload = [
        {
            "tree": tree.to_json(),
            "values": values,
            "current": current,
            "today": TODAY.isoformat(),
            "now": NOW_TEXT,
        }
        for tree, (_, values, current) in zip(trees, CASES, strict=True)
    ]
    results = run_node(node, EVALUATE_CASES, payload, tmp_path)
    mismatches = []
    for tree, (text, values, current), got in zip(trees, CASES, results, strict=True):
        value = evaluate(tree, values, current, TODAY, NOW)
        expected = [tag(value), is_true(value)]
        # Round-trip through JSON so both sides are compared as the same kinds of objects.
        if json.loads(json.dumps(expected)) != got:
            mismatches.append((text, values, current, expected, got))
    assert not mismatches, f"{len(mismatches)} of {len(CASES)} differ, e.g. {mismatches[:3]}"


def test_the_cases_cover_every_kind_of_result() -> None:
    kinds = {type(evaluate(parse(t), v, c, TODAY, NOW)).__name__ for t, v, c in CASES}
    assert {"bool", "float", "int", "str", "list", "dict"} <= kinds
    outcomes = [evaluate(parse(t), v, c, TODAY, NOW) for t, v, c in CASES]
    assert any(isinstance(o, float) and math.isnan(o) for o in outcomes)
    assert sum(o is True for o in outcomes) > 50
    assert sum(o is False for o in outcomes) > 50


def question(name: str, relevant: str | None, *inputs: dict[str, Any]) -> dict[str, Any]:
    """Describe one question wrapper of the pretend page."""
    return {
        "name": name,
        "relevant": parse(relevant).to_json() if relevant else None,
        "inputs": list(inputs),
    }


def test_page_script_hides_irrelevant_questions(node: str, tmp_path: Path) -> None:
    page = {
        # "age" is answered again on this page, so its earlier answer no longer counts.
        "answers": {"sex": "female", "age": 12, "constructor": "x"},
        "questions": [
            question("age", None, {"name": "age", "type": "number", "value": "40"}),
            question("school", "${age} < 18", {"name": "school", "value": "School 7"}),
            question("school_year", "${school} != ''", {"name": "school_year", "value": "3"}),
            question(
                "langs",
                None,
                {"name": "langs", "type": "checkbox", "value": "kk"},
                {"name": "langs", "type": "checkbox", "value": "ru", "checked": True},
            ),
            question("kk_level", "selected(${langs}, 'kk')", {"name": "kk_level"}),
            question(
                "residence",
                None,
                {"name": "residence-country", "value": "DE"},
                {"name": "residence-region", "value": ""},
                {"name": "residence-city", "value": "Berlin"},
                {"name": "residence-lat", "value": "52.52"},  # not a part of the answer
                {"name": "residence-regions_for", "value": "DE"},
            ),
            question("oblast", "${residence.country} = 'KZ'", {"name": "oblast"}),
            question("berliner", "${residence} = 'DE Berlin'", {"name": "berliner"}),
            question("mother", "${sex} = 'female'", {"name": "mother", "type": "radio"}),
            question("odd", "${constructor} = 'x'", {"name": "odd"}),
        ],
        "steps": [
            {"question": "age", "input": 0, "set": {"value": "15"}, "event": "input"},
            {"question": "langs", "input": 0, "set": {"checked": True}, "event": "change"},
            {"question": "residence", "input": 0, "set": {"value": "KZ"}, "event": "change"},
            {"question": "age", "input": 0, "set": {"value": ""}, "event": "input"},
        ],
    }
    seen = run_node(node, DRIVE_PAGE, page, tmp_path)
    assert seen == [
        # Age 40: no school, so the school year hides too although its box holds "3".
        ["school", "school_year", "kk_level", "oblast"],
        ["kk_level", "oblast"],  # age 15
        ["oblast"],  # Kazakh ticked
        ["berliner"],  # living in Kazakhstan
        ["school", "school_year", "berliner"],  # age cleared: unanswered is not below 18
    ]
