"""Response headers that keep respondents' pages to this site alone."""

from __future__ import annotations

import hashlib

from flask import Response, abort, request

#: Everything from this origin only: no CDN, no fonts, no analytics, no framing by others.
#: Published maps are served to a sandboxed frame and carry their own policy.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; font-src 'self'; frame-src 'self'; frame-ancestors 'self'; "
    "form-action 'self'; base-uri 'none'; object-src 'none'"
)


def sha256(text: str) -> str:
    """Return the SHA-256 of a text as hex: how tokens, receipt codes and documents are kept."""
    return hashlib.sha256(text.encode()).hexdigest()


def set_security_headers(response: Response) -> Response:
    """Add CSP, no-referrer (resume links carry a token) and related headers."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    if response.mimetype == "text/html":
        # Pages carry a resume token or answers: never keep them in shared caches.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def refuse_nul_bytes() -> None:
    """Refuse a request whose address or form carries a NUL byte (PostgreSQL cannot store one,
    and no respondent types one)."""
    if "\x00" in request.path or "\x00" in request.query_string.decode("latin-1"):
        abort(400)
    if request.method == "POST" and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        for values in request.form.listvalues():
            if any("\x00" in value for value in values):
                abort(400)
