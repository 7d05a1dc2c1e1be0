"""Kazakh Cyrillic to Latin (2021 alphabet), and the drafting aid for the Arabic script."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from forms.translit import latin_lower, latin_upper, to_arabic, to_latin, transliterate_catalog

#: The 1902 text and its Latin transliteration, as on the English Wikipedia page "Kazakh
#: alphabets" (the Latin there has a hyphen where the Cyrillic has a dash: the dashes are
#: given here as in the Cyrillic).
SAMPLE_CYRILLIC = (
    "Бұрыңғы өткен заманда, бір данышпан кісі, Бағдат шаһарының бір үлкен қазысының үйіне "
    "келіп қоныпты. Қазыменен сөйлесіп, қазыны сөзге жеңе беріпті. Сонда қазы қорқып, — "
    "„Бұл маған келген бала — менің қазылығымды тартып алса керек! Не де болса, бұған "
    "жалынып, сый беріп, орнымда қалайын!“ — деп, қатынына ақылдасыпты."
)
SAMPLE_LATIN = (
    "Būryñğy ötken zamanda, bır danyşpan kısı, Bağdat şaharynyñ bır ülken qazysynyñ üiıne "
    "kelıp qonypty. Qazymenen söilesıp, qazyny sözge jeñe berıptı. Sonda qazy qorqyp, — "
    "„Būl mağan kelgen bala — menıñ qazylyğymdy tartyp alsa kerek! Ne de bolsa, būğan "
    "jalynyp, syi berıp, ornymda qalaiyn!“ — dep, qatynyna aqyldasypty."
)


def test_published_sample_text():
    assert to_latin(SAMPLE_CYRILLIC) == SAMPLE_LATIN


def test_every_letter_of_the_alphabet():
    cyrillic = "а ә б в г ғ д е ж з и й і к қ л м н ң о ө п р с т у ұ ү ф х һ ш ы"
    latin = "a ä b v g ğ d e j z i i ı k q l m n ñ o ö p r s t u ū ü f h h ş y"
    assert to_latin(cyrillic) == latin


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("цирк", "tsirk"),  # Ц -> ts
        ("чай", "chai"),  # Ч -> ch (ç is not in the alphabet; ş is Ш)
        ("щётка", "şşiotka"),  # Щ -> şş, Ё -> io
        ("аю", "aiu"),  # Ю -> iu
        ("Ясауи", "İasaui"),  # Я -> ia, capital İ
        ("поэзия", "poeziia"),  # Э -> e
        ("съезд", "sezd"),  # Ъ dropped
        ("контроль", "kontrol"),  # Ь dropped
    ],
)
def test_letters_outside_the_alphabet(cyrillic, latin):
    assert to_latin(cyrillic) == latin


def test_turkish_style_casing():
    assert to_latin("Иә, Ірі") == "İä, Irı"
    assert to_latin("ҚАЗАҚСТАН ИІС") == "QAZAQSTAN İIS"
    assert to_latin("Цирк ЦИРК Чай ЧАЙ") == "Tsirk TSİRK Chai CHAİ"
    assert latin_upper("bır iş") == "BIR İŞ"
    assert latin_lower("BIR İŞ") == "bır iş"
    assert "bır iş".upper() != latin_upper("bır iş")  # why str.upper() must not be used


def test_placeholders_and_latin_are_kept():
    assert to_latin("%(n)d қадам, PhD, <b>") == "%(n)d qadam, PhD, <b>"


def test_arabic_script_draft_marks_front_words_with_hamza():
    assert to_arabic("Қазақша") == "قازاقشا"
    assert to_arabic("бір тіл") == "\u0674بىر \u0674تىل"  # front vowels, no letter showing it
    assert to_arabic("және кітап") == "جانە كىتاپ"  # ە and ك show it: no hamza
    assert to_arabic("жария, иә?") == "جاريا، \u0674يا؟"


def test_catalog_is_generated_with_flags(tmp_path: Path):
    source = tmp_path / "kk" / "LC_MESSAGES" / "messages.po"
    source.parent.mkdir(parents=True)
    source.write_text(
        'msgid ""\nmsgstr ""\n"Language: kk\\n"\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        '#, unreviewed, python-format\nmsgid "Step %(n)d"\nmsgstr "%(n)d-қадам"\n\n'
        'msgid "Next"\nmsgstr "Келесі"\n',
        encoding="utf-8",
    )
    target = tmp_path / "kk_Latn" / "LC_MESSAGES" / "messages.po"
    assert transliterate_catalog(source, target) == 2
    with target.open("rb") as handle:
        catalog = read_po(handle)
    assert catalog.get("Step %(n)d").string == "%(n)d-qadam"
    assert "unreviewed" in catalog.get("Step %(n)d").flags
    assert catalog.get("Next").string == "Kelesı"
    assert "GENERATED" in target.read_text(encoding="utf-8")
