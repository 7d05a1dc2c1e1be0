"""``POST /api/v1/surveys/<slug>/submissions``: a whole response in one request.

201 when stored, 200 for an identical re-send, 409 when the id was used for other answers or
withdrawn, 422 with per-question errors, 400 for malformed JSON, 413 when too large.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select

from app import questionnaires, responses
from app.api.openapi import openapi_document
from app.extensions import db, limiter
from app.i18n import resolve_language, set_language
from app.models import Survey
from app.sources import client_source
from app.survey import services
from forms import names
from forms.types import Context
from forms.validation import check_json_types, check_response
from geo import places

bp = Blueprint("api", __name__, url_prefix="/api/v1")
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _error(status: int, message: str, **extra: Any) -> Any:
    return jsonify(error=message, status=status, **extra), status


def _storable(body: Any) -> bool:
    """Return whether every string in a parsed body is valid Unicode.

    JSON escapes can spell lone surrogates (``"\\ud800"``), which Python parses but no database
    or UTF-8 encoder accepts; such a body is as malformed as a syntax error.
    """
    try:
        json.dumps(body, ensure_ascii=False).encode()
    except (UnicodeEncodeError, RecursionError):
        return False
    return True


def _submission_limit() -> str:
    return current_app.config["RATELIMIT_SUBMISSIONS"]


@bp.route("/surveys/<slug>/submissions", methods=["POST"])
@limiter.limit(_submission_limit)
def submit(slug: str) -> Any:
    """Check and store a whole response, idempotently by its submission id."""
    found = questionnaires.newest_by_slug(slug)
    if found is None:
        abort(404)
    survey, version = found
    questionnaire = questionnaires.questionnaire_of(version)
    if not request.is_json:
        return _error(400, _("Send the response as JSON (Content-Type: application/json)."))
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nesting deeper than the parser's stack: as malformed as any
        body = None
    if body is None or not _storable(body):
        return _error(400, _("The body is not valid JSON."))
    if not isinstance(body, dict):
        return _error(400, _("The body must be a JSON object."))
    language = body.get("language", questionnaire.default_language)
    if not isinstance(language, str) or language not in questionnaire.languages:
        return _error(422, _("Unknown language."), errors={"language": [_("Unknown language.")]})
    set_language(language)
    if not questionnaires.is_accepting(survey, questionnaire):
        return _error(410, _("This survey is not taking answers now."))
    errors: dict[str, list[str]] = {}
    submission_id = body.get("submission_id")
    # The description's "format: uuid": 36 characters with hyphens (uuid.UUID reads more).
    if isinstance(submission_id, str) and UUID_RE.fullmatch(submission_id):
        submission_id = str(uuid.UUID(submission_id))
    else:
        errors["submission_id"] = [_("Send a UUID as the submission id.")]
    consent = body.get("consent")
    if not isinstance(consent, dict) or consent.get("given") is not True:
        errors["consent"] = [_("A response can only be stored with the respondent's consent.")]
    elif not isinstance(consent.get("version"), str):
        errors["consent"] = [_("Send the consent version as a JSON string.")]
    elif consent["version"] != questionnaire.consent.version:
        errors["consent"] = [_("The consent text has changed; show the current one.")]
    answers = body.get("answers")
    if not isinstance(answers, dict):
        errors["answers"] = [_("Send the answers as a JSON object.")]
        answers = {}
    ctx = Context(questionnaire, language, _)
    outcome = check_response(questionnaire, answers, ctx)
    # A type the description forbids is the first thing to say about an answer.
    wrong_types = check_json_types(questionnaire, answers, ctx)
    errors.update({f"answers.{k}": v for k, v in {**outcome.errors, **wrong_types}.items()})
    if errors:
        return _error(422, _("Some answers need attention."), errors=errors)
    try:
        stored = responses.record_submission(
            version,
            submission_id,
            outcome.values,
            language=language,
            consent_version=questionnaire.consent.version,
            consent_language=language,
            consented_at=dt.datetime.now(dt.UTC),
            channel="api",
            source=client_source(),
        )
    except responses.SubmissionWithdrawn:
        return _error(409, _("This submission was withdrawn and cannot be sent again."))
    except responses.SubmissionConflict:
        return _error(409, _("This submission id was already used for different answers."))
    return jsonify(
        submission_id=stored.submission_id,
        receipt=stored.receipt,
        status="created" if stored.created else "duplicate",
    ), (201 if stored.created else 200)


@bp.route("/openapi.json")
def openapi() -> Any:
    """Describe this API in OpenAPI 3.1, with the questions of every open survey."""
    accepting = []
    for survey in db.session.scalars(select(Survey).order_by(Survey.slug)):
        version = questionnaires.latest(survey)
        if version is not None:
            questionnaire = questionnaires.questionnaire_of(version)
            if questionnaires.is_accepting(survey, questionnaire):
                accepting.append(questionnaire)
    return jsonify(openapi_document(accepting, current_app.config["BASE_URL"]))


def _places_limit() -> str:
    return current_app.config["RATELIMIT_PLACES"]


#: One budget per address for every place lookup (the page script asks a few per country).
places_limit = limiter.shared_limit(_places_limit, scope="places")


def _places_language() -> str:
    """Return the language to name places in: ``lang`` when the site offers it, else the one
    any page would be shown in. Only offered languages reach ICU and the per-language caches."""
    return resolve_language(
        current_app.config["LANGUAGES"],
        current_app.config["DEFAULT_LANGUAGE"],
        request.args.get("lang"),
    )


@bp.route("/places/regions")
@places_limit
def regions() -> Any:
    """List the regions of a country in a language, for the location question's script."""
    country = (request.args.get("country") or "").upper()[:2]
    lang = _places_language()
    if country not in names.country_codes():
        return jsonify(country=country, lang=lang, regions=[])
    return jsonify(
        country=country,
        lang=lang,
        regions=[{"code": c, "name": n} for c, n in names.region_choices(country, lang)],
    )


@bp.route("/places/cities")
@places_limit
def cities() -> Any:
    """List city names of a region (or country) for the city field's suggestions."""
    country = (request.args.get("country") or "")[:2]
    region = request.args.get("region") or None
    lang = _places_language()
    return jsonify(lang=lang, cities=services.city_suggestions(country, region, lang))


@bp.route("/places/nearest")
@places_limit
def nearest() -> Any:
    """Name the nearest listed place to rounded device coordinates (offline, no map service)."""
    try:
        lat = round(float(request.args.get("lat", "")), 2)
        lon = round(float(request.args.get("lon", "")), 2)
    except ValueError:
        return jsonify(error=_("Send lat and lon as numbers."), status=400), 400
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return jsonify(error=_("Send lat and lon as numbers."), status=400), 400
    place = places.nearest_city(lat, lon)
    if place is None:
        return jsonify(city=None)
    return jsonify(city=place.name, country=place.country, region=place.region)
