"""Aggregated layers for export: country polygons with published counts, and a region table.

Everything here is built from figures already published by :mod:`geo.disclosure`: the caller
passes each country's published count (``publish(...).values``, hidden countries NaN) and the
rolled-up places (:func:`geo.disclosure.roll_up`), with the names to show. Nothing
here counts respondents, so nothing here can publish a number disclosure control has not.
Region rows carry no geometry (no region boundaries are bundled) and never a point.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import geopandas as gpd
import pandas as pd

from geo.boundaries import load_countries
from geo.i18n import N_, Translate, identity


def country_layer(
    published: pd.Series,
    country_names: Mapping[str, str],
    boundaries: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Return the countries whose count is published, with their polygons (EPSG:4326).

    :param published: the published count by ISO 3166-1 alpha-2 code; NaN where hidden, and
        those countries are left out.
    :param country_names: the name of each code in the export language.
    :param boundaries: the country polygons (default :func:`geo.boundaries.load_countries`).
    :return: columns ``iso_a2``, ``name``, ``n`` and ``geometry``.
    """
    shown = published.dropna()
    per_country = pd.DataFrame(
        {"iso_a2": [str(c) for c in shown.index], "n": shown.to_numpy(dtype="int64")}
    )
    shapes = (load_countries() if boundaries is None else boundaries)[["iso_a2", "geometry"]]
    layer = per_country.merge(shapes, how="left")
    layer.insert(1, "name", layer["iso_a2"].map(lambda c: country_names.get(c, c)))
    layer = gpd.GeoDataFrame(layer, geometry="geometry", crs="EPSG:4326")
    layer["n"] = layer["n"].astype("int64")
    return layer


def region_table(
    units: pd.DataFrame,
    country_names: Mapping[str, str],
    region_names: Callable[[str], Mapping[str, str]],
    translate: Translate = identity,
) -> pd.DataFrame:
    """Return the published regions, and each country's rest where places rolled up into it.

    :param units: rolled-up places (``country``, ``region``, ``level``, ``rest``, ``n``).
    :param country_names: the name of each country code in the export language.
    :param region_names: a country code's ``{ISO 3166-2 code: name}`` in that language.
    :param translate: gettext of the reader's language, for "elsewhere in ...".
    :return: columns ``iso_a2``, ``region`` (None for a rest), ``name``, ``n`` and ``rest``.
    """
    regions = units[(units["level"] == "region") | units["rest"]].copy()
    names_of: dict[str, Mapping[str, str]] = {}

    def name(row: pd.Series) -> str:
        if row["rest"] or not row["region"]:
            country = country_names.get(row["country"], "")
            return translate(N_("elsewhere in %(country)s")) % {"country": country}
        if row["country"] not in names_of:
            names_of[row["country"]] = region_names(row["country"])
        return names_of[row["country"]].get(row["region"], row["region"])

    return pd.DataFrame(
        {
            "iso_a2": regions["country"].astype(str),
            "region": regions["region"].where(~regions["rest"], None),
            "name": [name(r) for _i, r in regions.iterrows()] if len(regions) else [],
            "n": regions["n"].astype("int64"),
            "rest": regions["rest"].astype(bool),
        }
    ).reset_index(drop=True)


def layer_codebook(k: int, translate: Translate = identity) -> list[dict[str, str]]:
    """Return what each field of the layers holds, translated by ``translate``."""
    return [
        {"field": "iso_a2", "type": "text", "label": translate(N_("Country (ISO 3166-1 alpha-2)"))},
        {
            "field": "region",
            "type": "text",
            "label": translate(N_("Region (ISO 3166-2); empty for the rest")),
        },
        {"field": "name", "type": "text", "label": translate(N_("Name in the export language"))},
        {
            "field": "n",
            "type": "integer",
            "label": translate(N_("Respondents (places with fewer than %(k)d are not shown)"))
            % {"k": k},
        },
        {
            "field": "rest",
            "type": "boolean",
            "label": translate(N_("Respondents elsewhere in the country")),
        },
        {"field": "level", "type": "text", "label": translate(N_("country or region"))},
    ]
