"""Who may see what: deny by default, then allow by role and, for coordinators, organisation."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import login


def safe_next(target: str | None) -> str | None:
    """Return ``target`` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _check(roles: tuple[str, ...]) -> Any:
    if not current_user.is_authenticated:
        return login.unauthorized()
    if current_user.must_change_password and request.endpoint != "accounts.password":
        return redirect(url_for("accounts.password"))
    if current_user.role not in roles:
        abort(403)
    return None


def protect(blueprint: Blueprint, *roles: str) -> None:
    """Require a signed-in user with one of ``roles`` for every view of a blueprint."""

    @blueprint.before_request
    def _guard() -> Any:
        return _check(roles)


def roles_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Require one of ``roles`` for a single view (on top of its blueprint's rule)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            refused = _check(roles)
            return refused if refused is not None else view(*args, **kwargs)

        return wrapped

    return decorate


def require_organisation(organisation_id: int | None) -> None:
    """Refuse (404, so nothing is revealed) a coordinator reaching another organisation's data."""
    if current_user.role == "coordinator" and current_user.organisation_id != organisation_id:
        abort(404)


#: The workspace menu: endpoint, label, roles that see it. Entries whose view does not exist
#: (a feature not installed) are skipped.
MENU: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    ("analyst.dashboard", _l("Dashboard"), ("admin", "analyst")),
    ("analyst.countries", _l("Countries"), ("admin", "analyst")),
    ("data.exports", _l("Exports"), ("admin", "analyst")),
    ("data.registry", _l("Specialists"), ("admin", "analyst")),
    ("links.index", _l("Links"), ("admin", "analyst", "coordinator")),
    ("admin.questionnaires", _l("Questionnaires"), ("admin",)),
    ("admin.organisations", _l("Organisations"), ("admin", "analyst")),
    ("admin.users", _l("Users"), ("admin",)),
    ("admin.audit", _l("Audit log"), ("admin",)),
    ("accounts.password", _l("Password"), ("admin", "analyst", "coordinator")),
)


def workspace_menu() -> list[tuple[str, Any, tuple[str, ...]]]:
    """Return the menu entries the signed-in user may open."""
    if not current_user.is_authenticated:
        return []
    views = current_app.view_functions
    return [item for item in MENU if item[0] in views and current_user.role in item[2]]
