"""Kazakh Cyrillic to the Latin alphabet of April 2021 (``kk`` -> ``kk-Latn``).

Latin Kazakh is generated, never hand-kept: the ``kk_Latn`` gettext catalog is written from the
Cyrillic ``kk`` catalog by ``make catalogs`` (``python -m forms.translit``), and questionnaire
labels for ``kk-Latn`` are derived from the ``kk`` labels when the questionnaire is loaded.

The table is the 31-letter alphabet of the 2021 draft (``docs/background.md``)::

    А a  Ә ä  Б b  В v  Г g  Ғ ğ  Д d  Е e  Ж j  З z  И i  Й i  І ı  К k  Қ q  Л l  М m
    Н n  Ң ñ  О o  Ө ö  П p  Р r  С s  Т t  У u  Ұ ū  Ү ü  Ф f  Х h  Һ h  Ш ş  Ы y

Casing is Turkish-style: И/Й give dotted ``i``/``İ`` and І gives dotless ``ı``/``I``, so
``str.upper()`` and ``str.lower()`` must not be used on the result (see :func:`latin_upper`).

Letters outside the alphabet (found in Russian loanwords) are spelled as follows. The choice is
ours, not the decree's, and a reviewer may change it here (tests pin it):

    ====  ======  ========================================================================
    Ц     ts      ``ts`` as in most Kazakh Latin practice (цирк -> tsirk); no letter ``c``
    Ч     ch      ``ç`` is not in the alphabet and ``ş`` would merge Ч with Ш (чай -> chai)
    Щ     şş      the sound is a long ш (ащы, with Ш, is unaffected; щётка -> şşiotka)
    Ё     io      Й + О, matching Ю and Я below (ёлка -> iolka)
    Ю     iu      Й + У: ю is "yu" in Kazakh and И/Й are both ``i`` (аю -> aiu)
    Я     ia      Й + А (қоян is unaffected; ғылыми-зерттеу; Ясауи -> İasaui)
    Э     e       the alphabet has a single e (экономика -> ekonomika)
    Ъ     (none)  a separation sign with no sound of its own: dropped (съезд -> sezd)
    Ь     (none)  a softness sign with no sound of its own: dropped (контроль -> kontrol)
    ====  ======  ========================================================================
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

#: Lower-case Cyrillic letter -> Latin spelling (2021 alphabet plus the choices documented above).
LOWER: dict[str, str] = {
    "а": "a", "ә": "ä", "б": "b", "в": "v", "г": "g", "ғ": "ğ", "д": "d", "е": "e",
    "ж": "j", "з": "z", "и": "i", "й": "i", "і": "ı", "к": "k", "қ": "q", "л": "l",
    "м": "m", "н": "n", "ң": "ñ", "о": "o", "ө": "ö", "п": "p", "р": "r", "с": "s",
    "т": "t", "у": "u", "ұ": "ū", "ү": "ü", "ф": "f", "х": "h", "һ": "h", "ш": "ş",
    "ы": "y",
    # Outside the 2021 alphabet: see the module docstring.
    "ц": "ts", "ч": "ch", "щ": "şş", "ё": "io", "ю": "iu", "я": "ia", "э": "e",
    "ъ": "", "ь": "",
}  # fmt: skip

#: Turkish-style casing of the Latin letters: i <-> İ, ı <-> I.
_UPPER = {"i": "İ", "ı": "I"}
_LOWER = {"İ": "i", "I": "ı"}


def latin_upper(text: str) -> str:
    """Upper-case Latin Kazakh text the Turkish way (``i`` -> ``İ``, ``ı`` -> ``I``)."""
    return "".join(_UPPER.get(ch) or ch.upper() for ch in text)


def latin_lower(text: str) -> str:
    """Lower-case Latin Kazakh text the Turkish way (``İ`` -> ``i``, ``I`` -> ``ı``)."""
    return "".join(_LOWER.get(ch) or ch.lower() for ch in text)


def _is_upper(ch: str) -> bool:
    return ch.isalpha() and ch.isupper()


def to_latin(text: str) -> str:
    """Transliterate Kazakh Cyrillic text to the 2021 Latin alphabet.

    Anything that is not a Cyrillic letter (Latin, digits, punctuation, ``%(name)s``
    placeholders, markup) is kept as it is. A capital that becomes two letters is written
    ``Ts`` in a capitalised word and ``TS`` in a word in capitals.
    """
    out: list[str] = []
    for i, ch in enumerate(text):
        lower = ch.lower()
        latin = LOWER.get(lower)
        if latin is None:
            out.append(ch)
            continue
        if ch == lower or not latin:
            out.append(latin)
            continue
        if len(latin) == 1:
            out.append(latin_upper(latin))
            continue
        neighbours = text[i + 1 : i + 2] or text[i - 1 : i]
        whole_word_caps = bool(neighbours) and _is_upper(neighbours)
        out.append(latin_upper(latin) if whole_word_caps else latin_upper(latin[0]) + latin[1:])
    return "".join(out)


#: Kazakh Cyrillic -> Kazakh Arabic script (the töte jazu used in Xinjiang), for drafting only.
ARABIC: dict[str, str] = {
    "а": "ا", "ә": "ا", "б": "ب", "в": "ۆ", "г": "گ", "ғ": "ع", "д": "د", "е": "ە",
    "ж": "ج", "з": "ز", "и": "ي", "й": "ي", "і": "ى", "к": "ك", "қ": "ق", "л": "ل",
    "м": "م", "н": "ن", "ң": "ڭ", "о": "و", "ө": "و", "п": "پ", "р": "ر", "с": "س",
    "т": "ت", "у": "ۋ", "ұ": "ۇ", "ү": "ۇ", "ф": "ف", "х": "ح", "һ": "ھ", "ш": "ش",
    "ы": "ى", "ц": "تس", "ч": "چ", "щ": "شش", "ё": "يو", "ю": "يۋ", "я": "يا", "э": "ە",
    "ъ": "", "ь": "",
}  # fmt: skip
_ARABIC_PUNCTUATION = {",": "،", "?": "؟", ";": "؛"}
#: Letters that mark a front-vowel word by themselves; without one, the word takes ٴ (U+0674).
_FRONT_VOWELS = set("әөүі")
_FRONT_MARKED = set("екгэ")
HAMZA = "\u0674"


def _arabic_word(word: str) -> str:
    lower = word.lower()
    # и + я/ю/ё: the и already gives the ي (жария -> جاريا, not جارييا).
    spelled = "".join(ARABIC.get(ch, ch) for ch in lower).replace("يي", "ي")
    if _FRONT_VOWELS & set(lower) and not _FRONT_MARKED & set(lower):
        return HAMZA + spelled
    return spelled


def to_arabic(text: str) -> str:
    """Spell Kazakh Cyrillic text in the Kazakh Arabic alphabet: a drafting aid, not a generator.

    Letter for letter, with the one rule the Arabic script needs: a word whose vowels are front
    (ә ө ү і) and that has no letter showing it (ە, ك, گ) starts with the hamza ٴ (U+0674), as in
    ٴبىر (бір); ә, ө, ү are then written ا, و, ۇ. Commas and question marks become ، and ؟.
    Spelling of loanwords and vocabulary used in Xinjiang differ from Kazakhstan's: the output
    is a draft for a reviewer, which is why kk-Arab catalogs are kept by hand and flagged.
    """
    out: list[str] = []
    word: list[str] = []
    for ch in text + "\0":
        if ch.lower() in ARABIC:
            word.append(ch)
            continue
        if word:
            out.append(_arabic_word("".join(word)))
            word = []
        if ch != "\0":
            out.append(_ARABIC_PUNCTUATION.get(ch, ch))
    return "".join(out)


def transliterate_catalog(source: Path, target: Path) -> int:
    """Write the ``kk_Latn`` catalog ``target`` from the Cyrillic ``kk`` catalog ``source``.

    Translations, flags (``fuzzy``, ``unreviewed``) and comments are kept, so a Cyrillic
    string that is unreviewed stays unreviewed in Latin.

    :return: the number of messages written.
    """
    from babel.messages.pofile import read_po, write_po

    with source.open("rb") as handle:
        catalog = read_po(handle, locale="kk")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.string, tuple | list):
            message.string = tuple(to_latin(s) for s in message.string)
        elif message.string:
            message.string = to_latin(message.string)
    catalog.header_comment = (
        "# Kazakh, Latin script (kk-Latn). GENERATED from translations/kk by forms/translit.py\n"
        "# (make catalogs / flask translate compile): edit the Cyrillic catalog, not this file."
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as handle:
        write_po(handle, catalog, width=0, include_previous=False)
    # Babel writes the Language header from the parsed locale (kk); name the catalog properly.
    text = target.read_text(encoding="utf-8")
    text = text.replace('"Language: kk\\n"', '"Language: kk_Latn\\n"', 1)
    target.write_text(text, encoding="utf-8")
    return sum(1 for message in catalog if message.id)


def main(argv: Iterable[str] | None = None) -> int:
    """``python -m forms.translit [TRANSLATIONS_DIR]``: write kk_Latn from kk."""
    args = list(sys.argv[1:] if argv is None else argv)
    root = Path(args[0]) if args else Path("translations")
    source = root / "kk" / "LC_MESSAGES" / "messages.po"
    target = root / "kk_Latn" / "LC_MESSAGES" / "messages.po"
    count = transliterate_catalog(source, target)
    print(f"{target}: {count} messages transliterated from {source}")  # noqa: T201 - CLI output
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
