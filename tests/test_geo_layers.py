"""The export layers built from published figures: no database, no Flask."""

from __future__ import annotations

import math

import pandas as pd

from geo.layers import country_layer, layer_codebook, region_table

NAMES = {"UZ": "Uzbekistan", "TR": "Türkiye", "DE": "Germany"}


def test_countries_hidden_by_disclosure_control_are_left_out():
    published = pd.Series({"UZ": 24.0, "TR": math.nan, "DE": math.nan})
    layer = country_layer(published, NAMES)
    assert layer[["iso_a2", "name", "n"]].to_dict("records") == [
        {"iso_a2": "UZ", "name": "Uzbekistan", "n": 24}
    ]
    assert layer.crs == "EPSG:4326"
    assert set(layer.geom_type) <= {"Polygon", "MultiPolygon"}


def test_regions_and_the_rest_of_a_country_are_named_without_a_point():
    units = pd.DataFrame(
        [
            {"country": "UZ", "region": None, "level": "country", "rest": False, "n": 34},
            {"country": "UZ", "region": "UZ-TK", "level": "region", "rest": False, "n": 13},
            {"country": "UZ", "region": None, "level": "country", "rest": True, "n": 11},
        ]
    )
    table = region_table(
        units, NAMES, lambda country: {"UZ-TK": "Toshkent"}, lambda msgid: "[" + msgid + "]"
    )
    assert table[["iso_a2", "name", "n", "rest"]].to_dict("records") == [
        {"iso_a2": "UZ", "name": "Toshkent", "n": 13, "rest": False},
        {"iso_a2": "UZ", "name": "[elsewhere in Uzbekistan]", "n": 11, "rest": True},
    ]
    assert table["region"][0] == "UZ-TK" and pd.isna(table["region"][1])
    assert "geometry" not in table


def test_the_codebook_states_k():
    labels = {entry["field"]: entry["label"] for entry in layer_codebook(10)}
    assert set(labels) == {"iso_a2", "region", "name", "n", "rest", "level"}
    assert "fewer than 10" in labels["n"]
