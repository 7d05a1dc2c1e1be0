"""Exports of responses, the consented specialists registry, and retention of personal data."""

from app.data.views import bp

__all__ = ["bp"]
