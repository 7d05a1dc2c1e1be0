"""The analyst workspace pages: the dashboard (:mod:`app.analyst.dashboard`), country profiles
(:mod:`app.analyst.profiles`) and the published maps they frame (:mod:`app.maps.publish`)."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, send_from_directory
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response as WerkzeugResponse

from app import questionnaires
from app.accounts import services as accounts
from app.accounts.access import protect
from app.analyst import dashboard as board_of
from app.analyst import profiles
from app.analyst.filters import read_filters
from app.i18n import current_language, set_language
from app.maps import publish

bp = Blueprint("analyst", __name__, url_prefix="/analyst")
protect(bp, "admin", "analyst")

#: Leaflet's files next to the built maps. They hold no data, and a sandboxed frame sends no
#: cookies with its requests, so they are served without signing in (see map_asset).
map_assets_bp = Blueprint("analyst_map_assets", __name__, url_prefix="/analyst/maps/assets")

#: The policy of a built map: its own inline script and styles, files from here, nothing else;
#: the ``sandbox`` keeps it in an opaque origin even when opened outside the dashboard's frame.
MAP_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'none'; font-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'; sandbox allow-scripts"
)
#: The downloaded report: its own stylesheet (by hash, see country_report) and nothing else.
REPORT_CSP = (
    "default-src 'none'; style-src %s; img-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
MAP_FILE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.html$")


@bp.route("/")
def dashboard() -> Any:
    """Show responses over time, by country, language and link, drop-off and indicators."""
    filters, errors = read_filters(request.args)
    manifest = publish.read_manifest()
    world_map = publish.built_map(manifest, "world", current_language())
    board = board_of.dashboard(filters, sketch=world_map is None)
    return render_template(
        "analyst/dashboard.html",
        board=board,
        errors=errors,
        surveys=questionnaires.slugs(),
        versions=questionnaires.versions(filters.survey),
        manifest=manifest,
        world_map=world_map,
    )


@bp.route("/countries")
def countries() -> Any:
    """List the countries with responses and their counts."""
    filters, errors = read_filters({"survey": request.args.get("survey", "")})
    entries, total = profiles.country_list(filters.survey)
    return render_template(
        "analyst/countries.html",
        entries=entries,
        total=total,
        errors=errors,
        filters=filters,
        k=current_app.config["K_ANALYST"],
    )


@bp.route("/countries/<iso2>")
def country(iso2: str) -> Any:
    """Show a country's diaspora profile; analysts also see the proposals typed there."""
    if not profiles.is_country_code(iso2):
        abort(404)
    filters, errors = read_filters({"survey": request.args.get("survey", "")})
    profile = profiles.country_profile(iso2, filters.survey)
    proposals: list[str] | None = None
    if current_user.role == "analyst":
        proposals = profiles.proposals(iso2, filters.survey)
        accounts.record(
            "view_proposals",
            target=f"country:{iso2}",
            details=filters.audit(),
            rows=len(proposals),
        )
    manifest = publish.read_manifest()
    return render_template(
        "analyst/country.html",
        profile=profile,
        proposals=proposals,
        errors=errors,
        filters=filters,
        manifest=manifest,
        profile_map=publish.built_map(manifest, "profile", current_language(), iso2),
        languages=current_app.config["LANGUAGES"],
    )


@bp.route("/countries/<iso2>/report")
def country_report(iso2: str) -> WerkzeugResponse:
    """Download a country profile as a standalone printable page (k = K_PUBLISHED, no text)."""
    if not profiles.is_country_code(iso2):
        abort(404)
    lang = request.args.get("lang") or current_language()
    if lang not in current_app.config["LANGUAGES"]:
        abort(404)
    set_language(lang)
    filters, _errors = read_filters({"survey": request.args.get("survey", "")})
    profile = profiles.country_profile(
        iso2, filters.survey, k=current_app.config["K_PUBLISHED"], lang=lang, typed_places=False
    )
    accounts.record("download_country_report", target=f"country:{iso2}", details={"lang": lang})
    # Our own static stylesheet, inlined so that the report stands alone.
    stylesheet = Markup(render_template("analyst/report.css"))  # noqa: S704 - our own stylesheet, no respondent text
    page = render_template("analyst/report.html", profile=profile, stylesheet=stylesheet)
    response = current_app.make_response(page)
    response.headers["Content-Security-Policy"] = REPORT_CSP % publish.style_hash(stylesheet)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="diaspora-profile-{iso2}-{lang}.html"'
    )
    return response


@bp.route("/maps/<name>")
def map_file(name: str) -> WerkzeugResponse:
    """Serve a built map to the dashboard's sandboxed frame, under a strict policy."""
    if not MAP_FILE.match(name) or not publish.is_built_file(publish.read_manifest(), name):
        abort(404)
    response = send_from_directory(publish.maps_dir(), name, max_age=0)
    response.headers["Content-Security-Policy"] = MAP_CSP
    return response


@map_assets_bp.route("/<path:name>")
def map_asset(name: str) -> WerkzeugResponse:
    """Serve Leaflet's script, stylesheet and images copied next to the built maps."""
    if not publish.is_built_file(publish.read_manifest(), f"assets/{name}"):
        abort(404)
    response = send_from_directory(publish.maps_dir() / "assets", name, max_age=3600)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
