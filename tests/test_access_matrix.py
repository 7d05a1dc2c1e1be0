"""Who may open what: role x route x organisation, walked from the app's own URL map.

The walk is data-driven: every rule under the workspace prefixes is requested with sample
arguments, so a route another blueprint adds later is covered without editing this file.

Rules the walk leaves out, and why:
- ``/account/login``: the sign-in page is public by design (tests/test_accounts.py covers it).
- Everything outside WORKSPACE_PREFIXES (``/``, ``/s/...``, ``/withdraw``, ``/l/<code>``,
  ``/api/...``, ``/static/...``, ``/healthz``): the public site and the respondent's path.
- PUBLIC_BY_DESIGN below: workspace-looking addresses that must work without signing in.
- HEAD and OPTIONS: Werkzeug answers them from the GET view and the rule itself.
- Objects of another organisation on the links pages are covered by tests/test_links.py; here
  coordinators are only checked never to see /admin, /analyst or data pages.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.routing import AnyConverter, IntegerConverter, Rule

from app.accounts import services as accounts
from app.accounts.models import User
from app.extensions import db as _db
from app.models import Response
from tests.conftest import PASSWORD, log_in
from tests.respondent import SLUG, Respondent, csrf_token

WORKSPACE_PREFIXES = ("/admin", "/analyst", "/account", "/links", "/data")
SKIPPED_RULES = {"/account/login"}
#: Endpoints under the workspace prefixes that are public on purpose.
PUBLIC_BY_DESIGN = {
    # An invitee follows the invitation link before they have an account.
    "link_public.accept_invitation",
    # Leaflet's own files for the sandboxed map frame: no data, and the frame sends no cookies.
    "analyst_map_assets.map_asset",
}
#: The admin pages analysts may open too (they manage organisations); every other /admin
#: endpoint, including ones added later, is expected to refuse them.
ANALYST_ADMIN_ENDPOINTS = {"admin.index", "admin.organisations", "admin.organisation"}
#: Sample values for URL arguments by name; other arguments are looked up in the database.
SAMPLES: dict[str, Any] = {
    "slug": SLUG,
    "iso2": "KZ",
    "country": "KZ",
    "lang": "kk",
    "language": "kk",
    "kind": "svg",
    "name": "world.html",
    "number": 1,
    "version": 1,
}
#: Tables whose rows may change on a request that changes nothing: the audit log (a refusal
#: may be logged) and the server-side sessions (their last-seen time moves on every request).
VOLATILE_TABLES = {"audit_event", "login_session"}


@pytest.fixture
def world(app: Flask, db) -> dict[str, Any]:
    """Two organisations, a user of each role, and one stored response."""
    own = accounts.create_organisation("own", {"en": "Own association"}, "KZ")
    other = accounts.create_organisation("other", {"en": "Other association"}, "TR")
    users = {
        "admin": accounts.create_user("admin@example.org", PASSWORD, "admin"),
        "analyst": accounts.create_user("analyst@example.org", PASSWORD, "analyst"),
        "coordinator": accounts.create_user("coord@example.org", PASSWORD, "coordinator", own),
    }
    accounts.create_user("other-coord@example.org", PASSWORD, "coordinator", other)
    Respondent(app.test_client(), "kk").complete()
    return {"own": own, "other": other, "users": users}


def clients(app: Flask, world: dict[str, Any]) -> dict[str, Any]:
    """Return a client per role, signed in, plus an anonymous one."""
    signed = {"anonymous": app.test_client()}
    for role, user in world["users"].items():
        client = app.test_client()
        response = log_in(client, user.email)
        assert response.status_code == 302, response.text[:500]
        signed[role] = client
    return signed


def workspace_rules(app: Flask) -> list[Rule]:
    """Return the rules the matrix walks."""
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if rule.rule.startswith(WORKSPACE_PREFIXES)
            and rule.rule not in SKIPPED_RULES
            and rule.endpoint not in PUBLIC_BY_DESIGN
        ),
        key=lambda rule: rule.rule,
    )


def _smallest(table, column: str) -> Any:
    return _db.session.scalar(select(table.c[column]).order_by(table.c[column]).limit(1))


def _row_id(prefix: str) -> Any:
    """Return an id from the table an argument names: ``response`` -> response,
    ``link`` -> distribution_link, ``user`` -> user_account."""
    tables = _db.metadata.sorted_tables
    for fits in (
        lambda name: name == prefix,
        lambda name: name.endswith("_" + prefix),
        lambda name: name.startswith(prefix + "_"),
    ):
        for table in tables:
            if fits(table.name) and "id" in table.c:
                value = _smallest(table, "id")
                if value is not None:
                    return value
    return None


def _column_value(column: str) -> Any:
    """Return a stored value of a column called like the argument, from any table."""
    for table in _db.metadata.sorted_tables:
        if column in table.c:
            value = _smallest(table, column)
            if value is not None:
                return value
    return None


def sample(name: str, converter: Any, other_org_id: int) -> Any:
    """Return a value for a URL argument: known samples, then real rows, then a placeholder.

    Integer ids name an existing row where a table fits (``link_id`` -> a ``*_link`` table's
    ``id``); organisation ids name the *other* organisation, so coordinators must be refused.
    """
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    if name in SAMPLES:
        return SAMPLES[name]
    if isinstance(converter, IntegerConverter):
        if name in {"organisation_id", "org_id"}:
            return other_org_id
        if name.endswith("_id"):
            value = _row_id(name[: -len("_id")])
            return value if value is not None else 1
        return 1
    value = _column_value(name)
    return value if value is not None else "KZ"


def build(app: Flask, rule: Rule, method: str, other_org_id: int) -> str:
    values = {
        name: sample(name, rule._converters[name], other_org_id)  # noqa: SLF001 - no public API
        for name in rule.arguments
    }
    adapter = app.url_map.bind("localhost")
    return adapter.build(rule.endpoint, values, method=method)


def area(rule: Rule) -> str:
    """Return which part of the workspace a rule belongs to."""
    if rule.endpoint.startswith("admin."):
        return "admin-shared" if rule.endpoint in ANALYST_ADMIN_ENDPOINTS else "admin"
    if rule.rule.startswith("/links"):
        return "links"
    if rule.rule.startswith("/account"):
        return "account"
    return "analyst"  # /analyst and its data pages


def snapshot() -> dict[str, list[tuple]]:
    """Return every row of every table (but the volatile ones), for before/after comparison."""
    _db.session.expire_all()
    rows = {}
    for table in _db.metadata.sorted_tables:
        if table.name in VOLATILE_TABLES:
            continue
        result = _db.session.execute(select(table).order_by(*table.primary_key.columns))
        rows[table.name] = [tuple(repr(v) for v in row) for row in result]
    _db.session.rollback()
    return rows


def to_login(response) -> bool:
    return response.status_code == 302 and "/account/login" in response.headers["Location"]


# -- GET --------------------------------------------------------------------------------------


def get_all(app: Flask, client, world: dict[str, Any]) -> list[tuple[Rule, str, Any]]:
    results = []
    for rule in workspace_rules(app):
        if "GET" not in rule.methods:
            continue
        url = build(app, rule, "GET", world["other"].id)
        results.append((rule, url, client.get(url)))
    return results


def test_the_walk_covers_the_workspace(app, db):
    endpoints = {rule.endpoint for rule in workspace_rules(app)}
    for endpoint in ("admin.users", "admin.organisations", "admin.questionnaires", "admin.audit"):
        assert endpoint in endpoints
    assert "accounts.login_page" not in endpoints


def test_anonymous_visitors_see_no_workspace_page(app, world):
    client = clients(app, world)["anonymous"]
    for _rule, url, response in get_all(app, client, world):
        assert response.status_code in {302, 401, 403, 404}, (url, response.status_code)
        if response.status_code == 302:
            assert to_login(response), (url, response.headers["Location"])


def test_coordinators_never_see_admin_analyst_or_data_pages(app, world):
    client = clients(app, world)["coordinator"]
    for rule, url, response in get_all(app, client, world):
        assert response.status_code != 500, url
        if area(rule) in {"admin", "admin-shared", "analyst"}:
            assert response.status_code in {403, 404}, (url, response.status_code)


def test_analysts_see_analyst_pages_and_no_admin_only_page(app, world):
    client = clients(app, world)["analyst"]
    for rule, url, response in get_all(app, client, world):
        status = response.status_code
        assert status != 500, url
        if area(rule) == "admin":
            assert status == 403, (url, status)
        elif area(rule) in {"analyst", "admin-shared"}:
            assert status in {200, 404, 405} or (300 <= status < 400 and not to_login(response)), (
                url,
                status,
            )


def test_admins_are_never_refused(app, world):
    client = clients(app, world)["admin"]
    for _rule, url, response in get_all(app, client, world):
        assert response.status_code not in {401, 403, 500}, (url, response.status_code)
        assert not to_login(response), url


# -- POST -------------------------------------------------------------------------------------


def post_rules(app: Flask) -> list[Rule]:
    return [rule for rule in workspace_rules(app) if "POST" in rule.methods]


def test_anonymous_posts_never_change_anything(app, world, db):
    client = clients(app, world)["anonymous"]
    token = csrf_token(client.get("/account/login").text)
    before = snapshot()
    for rule in post_rules(app):
        url = build(app, rule, "POST", world["other"].id)
        response = client.post(url, data={"csrf_token": token})
        assert response.status_code in {302, 400, 401, 403, 404, 405}, (url, response.status_code)
        if response.status_code == 302:
            assert to_login(response), (url, response.headers["Location"])
    assert snapshot() == before


@pytest.mark.parametrize("role", ["coordinator", "analyst"])
def test_refused_roles_cannot_post_either(app, world, db, role):
    """Coordinators' POSTs to admin, analyst and data pages, and analysts' POSTs to admin-only
    pages, are refused with a valid CSRF token and change nothing."""
    client = clients(app, world)[role]
    token = csrf_token(client.get("/account/password").text)
    refused = {"admin", "admin-shared", "analyst"} if role == "coordinator" else {"admin"}
    before = snapshot()
    checked = 0
    for rule in post_rules(app):
        if area(rule) not in refused:
            continue
        url = build(app, rule, "POST", world["other"].id)
        response = client.post(url, data={"csrf_token": token})
        assert response.status_code in {403, 404}, (url, response.status_code)
        checked += 1
    assert checked
    assert snapshot() == before


def test_sample_ids_name_real_rows(app, world, db):
    """The walk reaches real objects, not only 404s."""
    integer = IntegerConverter(app.url_map)
    response_id = sample("response_id", integer, world["other"].id)
    assert db.session.get(Response, response_id) is not None
    user_id = sample("user_id", integer, world["other"].id)
    assert db.session.get(User, user_id) is not None
    assert sample("organisation_id", integer, world["other"].id) == world["other"].id
