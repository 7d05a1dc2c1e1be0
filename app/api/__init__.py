"""The JSON API for offline-capable clients and integrations."""

from app.api.views import bp

__all__ = ["bp"]
