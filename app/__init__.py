"""Diaspora Atlas: the Flask application factory."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

#: The checkout: templates, translations and bundled questionnaires are found from here.
ROOT = Path(__file__).resolve().parent.parent


def create_app(
    test_config: Mapping[str, Any] | None = None,
    instance_path: str | os.PathLike[str] | None = None,
) -> Flask:
    """Create and configure the application.

    :param test_config: settings applied last, for tests.
    :param instance_path: the folder of config.py, the SQLite file and the secret key
        (default ``instance/`` in the checkout); tests give a temporary one.
    """
    instance = Path(instance_path) if instance_path else ROOT / "instance"
    app = Flask(__name__, instance_path=str(instance), instance_relative_config=True)
    configure(app, test_config)
    register_proxy(app)
    register_extensions(app)
    register_converters(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_hooks(app)
    return app


def configure(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    """Read defaults, then instance/config.py, then ATLAS_* variables, then test settings."""
    app.config.from_object("app.config")
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("ATLAS")
    url = os.environ.get("DATABASE_URL") or app.config.get("SQLALCHEMY_DATABASE_URI")
    if test_config:
        app.config.update(test_config)
        url = test_config.get("SQLALCHEMY_DATABASE_URI", url)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(url, app.instance_path)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(ROOT / "translations"))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret(Path(app.instance_path) / "secret_key")


def database_url(url: str | None, instance_path: str) -> str:
    """Return a SQLAlchemy URL: the default SQLite file, or PostgreSQL through psycopg 3."""
    if not url:
        return f"sqlite:///{Path(instance_path) / 'atlas.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_secret(path: Path) -> str:
    """Return the secret key kept in the instance folder, creating it (mode 0600) once."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker created it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def register_proxy(app: Flask) -> None:
    """Take the client's address from the trusted proxies' X-Forwarded-For, if any are set.

    Sign-in throttling, rate limits and the audit log key on ``request.remote_addr``; behind a
    proxy that is the proxy's own address, shared by every client.
    """
    hops = int(app.config["PROXY_FIX_X_FOR"])
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Only the address: links are built from BASE_URL, never from forwarded host or scheme.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=0)  # type: ignore[method-assign]


def register_extensions(app: Flask) -> None:
    from app import db as database
    from app.extensions import compress, csrf, db, limiter, login, migrate
    from app.i18n import init_babel

    db.init_app(app)
    with app.app_context():
        database.keep_private(db.engine)
        database.tune_engine(db.engine, app.config)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    init_babel(app)
    csrf.init_app(app)
    compress.init_app(app)
    login.init_app(app)
    login.login_view = "accounts.login_page"
    login.login_message = _l("Please sign in to see this page.")
    # ATLAS_REDIS_URL wins; the bare REDIS_URL that hosting platforms set is the fallback.
    redis_url = app.config.get("REDIS_URL") or os.environ.get("REDIS_URL")
    app.config["REDIS_URL"] = redis_url
    app.config["RATELIMIT_STORAGE_URI"] = redis_url or "memory://"
    limiter.init_app(app)
    if not redis_url and not app.testing:
        app.logger.info("rate limits kept in this process's memory (set ATLAS_REDIS_URL to share)")


def register_converters(app: Flask) -> None:
    """Add ``<id:...>`` for routes that name a database row (before any route is added)."""
    from app.ids import IdConverter

    app.url_map.converters["id"] = IdConverter


def register_blueprints(app: Flask) -> None:
    from app.accounts import bp as accounts_bp
    from app.admin import bp as admin_bp
    from app.analyst import bp as analyst_bp
    from app.analyst import map_assets_bp
    from app.api import bp as api_bp
    from app.data import bp as data_bp
    from app.extensions import csrf
    from app.links import bp as links_bp
    from app.links import public_bp as link_public_bp
    from app.main import bp as main_bp
    from app.survey import bp as survey_bp

    # Survey forms check their own CSRF token so that a failure re-renders the page with every
    # answer kept; the JSON API uses no cookies, so there is nothing for CSRF to forge.
    csrf.exempt(survey_bp)
    csrf.exempt(api_bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(survey_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(data_bp)
    app.register_blueprint(links_bp)
    app.register_blueprint(link_public_bp)
    app.register_blueprint(analyst_bp)
    app.register_blueprint(map_assets_bp)


def register_errorhandlers(app: Flask) -> None:
    from app.main.errors import register

    register(app)


def register_commands(app: Flask) -> None:
    from app.cli import atlas, translate

    app.cli.add_command(atlas)
    app.cli.add_command(translate)


def register_hooks(app: Flask) -> None:
    from app import static_files
    from app.i18n import inject_language

    static_files.register(app)
    from app.main.security import refuse_nul_bytes, set_security_headers

    app.before_request(refuse_nul_bytes)
    app.after_request(set_security_headers)
    app.context_processor(inject_language)
    from app.accounts.access import workspace_menu

    app.add_template_global(workspace_menu)
