"""Best available estimates of ethnic Kazakhs living abroad, used for coverage ratios.

The figures come from ``data/estimates.csv``; each row carries its source, year and confidence
(see docs/background.md). Where a source gives a single figure,
``low == high == central``; where it gives a range, ``central`` is the midpoint (said in ``note``).
The uncertainty must be shown wherever a coverage ratio is shown.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

ESTIMATES_CSV = Path(__file__).with_name("data") / "estimates.csv"

#: Columns of the estimates table, in file order (``iso2`` becomes the index).
COLUMNS = ("iso2", "low", "high", "central", "year", "source", "confidence", "note")
CONFIDENCE_LEVELS = ("high", "medium", "low")


def load_estimates(path: Path | None = None) -> pd.DataFrame:
    """Load the estimates table indexed by ISO 3166-1 alpha-2 code.

    :param path: another CSV with the same columns (defaults to the shipped file).
    :return: DataFrame with int ``low``/``high``/``central``, nullable int ``year`` and str
        ``source``/``confidence``/``note``.
    """
    return _load(path or ESTIMATES_CSV).copy()


@cache
def _load(path: Path) -> pd.DataFrame:
    table = pd.read_csv(
        path,
        dtype={"iso2": str, "source": str, "confidence": str, "note": str},
        keep_default_na=False,
        na_values={"year": [""]},
    )
    missing = set(COLUMNS) - set(table.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")
    table["year"] = table["year"].astype("Int64")
    for column in ("low", "high", "central"):
        table[column] = table[column].astype("int64")
    bad = table[(table.low > table.central) | (table.central > table.high)]
    if len(bad):
        raise ValueError(f"{path}: low <= central <= high violated for {list(bad.iso2)}")
    if not table.confidence.isin(CONFIDENCE_LEVELS).all():
        raise ValueError(f"{path}: confidence must be one of {CONFIDENCE_LEVELS}")
    table = table.set_index("iso2")
    if not table.index.is_unique:
        raise ValueError(f"{path}: duplicate iso2 codes")
    return table
