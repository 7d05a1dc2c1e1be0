"""The home page and the health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template
from sqlalchemy import select, text

from app import questionnaires
from app.extensions import db
from app.models import Survey

bp = Blueprint("main", __name__)


@bp.route("/")
def index() -> str:
    """List the surveys that take answers now."""
    surveys = []
    for survey in db.session.scalars(select(Survey).order_by(Survey.slug)):
        version = questionnaires.latest(survey)
        if version is None:
            continue
        questionnaire = questionnaires.questionnaire_of(version)
        if questionnaires.is_accepting(survey, questionnaire):
            surveys.append(questionnaire)
    return render_template("main/index.html", surveys=surveys)


@bp.route("/healthz")
def healthz() -> Any:
    """Answer 200 once the database answers a query; 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception:  # noqa: BLE001 - any failure to reach the database means unhealthy
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database=db.engine.dialect.name)
