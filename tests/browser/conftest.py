"""Fixtures for the browser tests: the app served on a real port, and Debian's Chromium.

The app runs on its own SQLite file (the browser tests check what a respondent sees, not the
database engine, so they run once, not once per engine) in a werkzeug server thread. Chromium
is Debian's package, driven by Playwright; no browser is ever downloaded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Playwright, sync_playwright
from werkzeug.serving import make_server

from tests.conftest import _migrate

#: Debian's Chromium; `make test` installs it (the Makefile's `chromium` target).
CHROMIUM = Path("/usr/bin/chromium")

#: No sandbox (the tests may run as root in a container) and nothing that phones home, so every
#: request the browser makes is one the page asked for.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return the URL of a migrated SQLite file (overrides the per-engine fixture)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'atlas.db'}"
    _migrate(url)
    return url


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """Serve ``app`` (a clean database with the bundled questionnaire) and yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = base_url  # resume links point back at this server
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Start Playwright's driver once; stop it when the session ends."""
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Launch Debian's Chromium, headless, once per session."""
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
    yield browser
    browser.close()
