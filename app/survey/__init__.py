"""The respondent's path: consent, pages, review, submission, receipt and withdrawal."""

from app.survey.views import bp

__all__ = ["bp"]
