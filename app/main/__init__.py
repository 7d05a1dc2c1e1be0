"""Site-wide pages: the list of open surveys, health check, errors and security headers."""

from app.main.views import bp

__all__ = ["bp"]
