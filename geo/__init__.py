"""Geography: boundaries, places, aggregation, disclosure control and maps (no Flask)."""
