"""Which new passwords are too easy to guess: common ones, and trivial ones (no Flask).

NIST SP 800-63B and OWASP ask to refuse passwords found in lists of common or leaked ones,
repetitive or sequential characters, and context-specific words (the user name, the service's
name). The length rule (at least 12 characters) is checked where passwords are hashed.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from forms.i18n import N_

COMMON_PASSWORDS = Path(__file__).resolve().parent / "common-passwords.txt"

COMMON = N_("This password is one of the most common ones. Choose another.")
TRIVIAL = N_(
    "This password is too easy to guess: it repeats or follows a sequence of characters, or "
    "is your email address or the site's name. Choose another."
)

#: The site's name as the catalogs spell it (letters only, lower-cased).
SITE_NAMES = frozenset(
    {"diasporaatlas", "diasporaatlası", "diasporaatlasi", "диаспорынатлас", "دياسپورااتلاسى"}
)
#: Runs a sequence may be cut from, each also read backwards: digits going round, alphabets,
#: keyboard rows (QWERTY; Russian ЙЦУКЕН is mapped onto it first).
SEQUENCES = (
    "0123456789" * 4,
    "abcdefghijklmnopqrstuvwxyz",
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "qwertyuiopasdfghjklzxcvbnm",
    "qwertyuiop[]asdfghjkl;'zxcvbnm,./",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
)
#: The Russian keyboard layout typed as if it were QWERTY: "пароль" is "gfhjkm", which is common.
_RUSSIAN_KEYS = str.maketrans(
    "йцукенгшщзхъфывапролджэячсмитьбюё", "qwertyuiop[]asdfghjkl;'zxcvbnm,.`"
)
#: A unit of up to four characters said again and again: "aaaa...", "abab...", "1231231...".
_REPEATED = re.compile(r"(.{1,4})\1+")
#: What people put around a word to pass a rule: digits, punctuation, spaces.
_PADDING = re.compile(r"^[\W\d_]+|[\W\d_]+$")
#: A padded word shorter than this is not checked against the list ("x" among random digits).
_SHORTEST_PADDED = 4


@functools.cache
def common_passwords() -> frozenset[str]:
    """Return the shipped list of common passwords (read once, when first needed)."""
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def password_weakness(password: str, email: str = "") -> str | None:
    """Return why ``password`` is too easy to guess (a msgid), or None if it is not.

    :param email: the account's e-mail: neither it nor its local part makes a password.
    """
    lowered = password.lower()
    typed = {lowered, lowered.translate(_RUSSIAN_KEYS)}
    common = common_passwords()
    padded = {_PADDING.sub("", word) for word in typed}
    if typed & common or {word for word in padded if len(word) >= _SHORTEST_PADDED} & common:
        return COMMON
    if any(_REPEATED.fullmatch(word) or _is_sequence(word) for word in typed):
        return TRIVIAL
    letters = _letters(password)
    email = email.strip().lower()
    personal = {_letters(email), _letters(email.partition("@")[0])} - {""}
    if lowered in (email, email.partition("@")[0]) or letters in personal | SITE_NAMES:
        return TRIVIAL
    return None


def _is_sequence(word: str) -> bool:
    return any(word in run or word in run[::-1] for run in SEQUENCES)


def _letters(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalpha())
