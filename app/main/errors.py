"""Localised error pages, and JSON errors under /api/."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood.")),
        403: (_("Not allowed"), _("You do not have access to this page.")),
        404: (_("Not found"), _("There is no such page. Check the link you were given.")),
        405: (_("Not allowed"), _("This address does not accept that kind of request.")),
        409: (
            _("Already sent"),
            _("This response was already sent with other answers, or was withdrawn."),
        ),
        410: (_("Closed"), _("This survey is not taking answers now.")),
        413: (_("Too large"), _("What you sent is too large. Shorten long answers and retry.")),
        429: (_("Too many requests"), _("Too many attempts. Please wait a while and retry.")),
        500: (_("Something went wrong"), _("Please try again later.")),
    }


def handle_http_error(error: HTTPException) -> Any:
    """Render an HTTP error in the visitor's language, or as JSON for the API."""
    code = error.code or 500
    title, message = _messages().get(code, (error.name, error.description or ""))
    # The exception's own headers (Allow on a 405, WWW-Authenticate, Retry-After) belong to
    # the answer whatever its body.
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    if request.path.startswith("/api/"):
        return jsonify(error=title, message=message, status=code), code, headers
    return render_template("error.html", code=code, title=title, message=message), code, headers


def handle_unexpected(error: Exception) -> Any:
    """Log an unexpected error and answer 500 without details."""
    current_app.logger.exception("unhandled error", exc_info=error)
    return handle_http_error(InternalServerError())


def register(app: Flask) -> None:
    """Install the handlers."""
    app.register_error_handler(HTTPException, handle_http_error)
    if not app.testing:
        app.register_error_handler(Exception, handle_unexpected)
