"""Response headers that keep respondents' pages to this site alone."""

from __future__ import annotations

from flask import Response

#: Everything from this origin only: no CDN, no fonts, no analytics, no framing by others.
#: Published maps are served to a sandboxed frame and carry their own policy.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; font-src 'self'; frame-src 'self'; frame-ancestors 'self'; "
    "form-action 'self'; base-uri 'none'; object-src 'none'"
)


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
