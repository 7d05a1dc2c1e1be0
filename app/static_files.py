"""Static files with their content in their address: cached for a year, never revalidated.

Every ``url_for("static", filename=...)`` gains ``?v=<hash of the file>``; a request carrying the
current hash is answered with ``Cache-Control: public, max-age=31536000, immutable``, so a browser
keeps the stylesheet and scripts and stops asking about them on every page. A changed file gets
a new hash, hence a new address. A request without the hash (or an old one) gets the usual
short-lived answer.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Flask, request
from werkzeug.wrappers import Response

YEAR = 365 * 24 * 3600
_HASHES: dict[tuple[str, float], str] = {}


def content_hash(path: Path) -> str | None:
    """Return a short hash of a file's content (cached until the file changes), or None."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    key = (str(path), mtime)
    if key not in _HASHES:
        _HASHES[key] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return _HASHES[key]


def register(app: Flask) -> None:
    """Add the hash to static URLs and the long cache to requests that carry it."""
    folder = Path(app.static_folder or "")

    @app.url_defaults
    def add_hash(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            digest = content_hash(folder / values["filename"])
            if digest:
                values["v"] = digest

    @app.after_request
    def cache_hashed(response: Response) -> Response:
        if request.endpoint == "static" and response.status_code == 200:
            filename = (request.view_args or {}).get("filename", "")
            if request.args.get("v") and request.args.get("v") == content_hash(folder / filename):
                response.cache_control.public = True
                response.cache_control.max_age = YEAR
                response.cache_control.immutable = True
                response.cache_control.no_cache = None
        return response
