"""Workspace accounts: organisations, users, sessions, access rules and the audit log."""

from app.accounts.views import bp

__all__ = ["bp"]
