"""The admin pages: users, organisations, questionnaires and surveys, the audit log."""

from app.admin.views import bp

__all__ = ["bp"]
