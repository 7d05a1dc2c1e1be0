"""The analyst workspace: dashboard, country profiles, published maps, synthetic data."""

from app.analyst.views import bp, map_assets_bp

__all__ = ["bp", "map_assets_bp"]
