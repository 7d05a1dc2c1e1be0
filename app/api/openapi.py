"""The JSON API's OpenAPI 3.1 description, built from the questionnaires as loaded.

Each open survey gets its own submission path whose ``answers`` schema lists that
questionnaire's questions, each described by its question type's ``json_schema`` (choice lists
included), so a client generator or a fuzzer (schemathesis) knows exactly what the server
accepts.
"""

from __future__ import annotations

from typing import Any

from forms.schema import Questionnaire
from forms.types import Context

OPENAPI_VERSION = "3.1.0"
ERROR_STATUSES = {
    "400": "The body is not a JSON object.",
    "404": "No such survey.",
    "409": "The submission id was used for other answers, or withdrawn.",
    "410": "The survey is not taking answers now.",
    "413": "The body is too large.",
    "422": "Some answers were refused; `errors` says which and why.",
    "429": "Too many submissions from this address; retry later.",
}


def submission_schema(questionnaire: Questionnaire) -> dict[str, Any]:
    """Return the JSON Schema of a whole submission to one questionnaire."""
    properties = {}
    required = []
    # The schemas hold codes, never labels: any language would do.
    ctx = Context(questionnaire, questionnaire.default_language)
    for group in questionnaire.groups:
        for question in group.questions:
            if not question.answers:
                continue
            schema = question.kind.json_schema(question, ctx)
            schema["title"] = questionnaire.text(question.label, "en")[:200]
            properties[question.name] = schema
            # Only questions asked of everyone are always required; the others depend on answers.
            if question.required and question.relevant is None and group.relevant is None:
                required.append(question.name)
    return {
        "type": "object",
        "properties": {
            "submission_id": {
                "type": "string",
                "format": "uuid",
                "description": "Made by the client; re-sending the same id never stores twice.",
            },
            "language": {"type": "string", "enum": list(questionnaire.languages)},
            "consent": {
                "type": "object",
                "properties": {
                    "given": {"const": True},
                    "version": {"const": questionnaire.consent.version},
                },
                "required": ["given", "version"],
            },
            "answers": {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": False,
            },
        },
        "required": ["submission_id", "consent", "answers"],
    }


def _error_responses() -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/Error"}
    return {
        status: {"description": text, "content": {"application/json": {"schema": ref}}}
        for status, text in ERROR_STATUSES.items()
    }


def openapi_document(questionnaires: list[Questionnaire], base_url: str) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document for the API with these questionnaires open."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {
        "Receipt": {
            "type": "object",
            "properties": {
                "submission_id": {"type": "string", "format": "uuid"},
                "receipt": {"type": "string", "description": "Lets the respondent withdraw."},
                "status": {"type": "string", "enum": ["created", "duplicate"]},
            },
            "required": ["submission_id", "receipt", "status"],
        },
        "Error": {
            "type": "object",
            "properties": {
                "error": {"type": "string"},
                "message": {"type": "string"},
                "status": {"type": "integer"},
                "errors": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
            "required": ["error", "status"],
        },
    }
    receipt = {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Receipt"}}}
    }
    for questionnaire in questionnaires:
        name = "Submission_" + questionnaire.slug.replace("-", "_")
        schemas[name] = submission_schema(questionnaire)
        paths[f"/surveys/{questionnaire.slug}/submissions"] = {
            "post": {
                "operationId": f"submit_{questionnaire.slug.replace('-', '_')}",
                "summary": "Store a whole response, once per submission id: "
                + questionnaire.text(questionnaire.title, "en"),
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                    },
                },
                "responses": {
                    "201": {"description": "Stored.", **receipt},
                    "200": {"description": "An identical re-send; nothing stored.", **receipt},
                    **_error_responses(),
                },
            }
        }
    paths["/places/regions"] = {
        "get": {
            "operationId": "regions",
            "summary": "List a country's regions in a language",
            "parameters": [
                {"name": "country", "in": "query", "schema": {"type": "string"}},
                {
                    "name": "lang",
                    "in": "query",
                    "description": "A language the site offers; any other gets the page language.",
                    "schema": {"type": "string"},
                },
            ],
            "responses": {
                "200": {
                    "description": "The regions (empty for an unknown country).",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "country": {"type": "string"},
                                    "lang": {"type": "string", "description": "Names' language"},
                                    "regions": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "code": {"type": "string"},
                                                "name": {"type": "string"},
                                            },
                                        },
                                    },
                                },
                            }
                        }
                    },
                },
                "429": {
                    "description": "Too many place lookups from this address; retry later.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
            },
        }
    }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Diaspora Atlas API", "version": "1"},
        "servers": [{"url": base_url.rstrip("/") + "/api/v1"}],
        "paths": paths,
        "components": {"schemas": schemas},
    }
