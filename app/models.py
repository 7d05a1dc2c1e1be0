"""The stored data: questionnaires and their versions, drafts, responses, withdrawals.

A response is one row: its answers as one JSON document (as KoboToolbox and ODK Central keep a
submission), plus indexed columns extracted from the answers that the questionnaire's roles
name, which filters and aggregation read without opening the JSON.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from geo.disclosure import KEY_RANGE

#: JSON on SQLite, JSONB on PostgreSQL.
JSONDocument = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """Return the current time in UTC (a callable default, evaluated per row)."""
    return datetime.now(UTC)


def new_record_key() -> int:
    """Return a fresh record key: uniform on 0..255, from the system's secure random source."""
    return secrets.randbelow(KEY_RANGE)


class Survey(db.Model):
    """A questionnaire as respondents know it: a slug and its versions."""

    __tablename__ = "survey"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    #: Admins can close a survey whatever its own dates say.
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    versions: Mapped[list[SurveyVersion]] = relationship(
        back_populates="survey", order_by="SurveyVersion.number"
    )

    def __repr__(self) -> str:
        return f"<Survey {self.slug}>"


class SurveyVersion(db.Model):
    """One version of a questionnaire file; answers keep the version they were given under."""

    __tablename__ = "survey_version"
    __table_args__ = (
        UniqueConstraint("survey_id", "number"),
        UniqueConstraint("survey_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True)
    #: 1, 2, 3... in the order loaded.
    number: Mapped[int] = mapped_column(Integer)
    #: The file's own `settings.version`, for people.
    label: Mapped[str | None] = mapped_column(String(64))
    #: SHA-256 of the canonical JSON of the definition: the same file loads as the same version.
    content_hash: Mapped[str] = mapped_column(String(64))
    #: The questionnaire document as loaded (YAML parsed to JSON).
    definition: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    survey: Mapped[Survey] = relationship(back_populates="versions")

    def __repr__(self) -> str:
        return f"<SurveyVersion {self.survey.slug} v{self.number}>"


class Draft(db.Model):
    """Answers in progress, kept on the server under an unguessable resume token."""

    __tablename__ = "draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the resume token; the token itself is only in the respondent's link.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("survey_version.id"), index=True)
    #: Generated when the survey starts; the response is stored once under it.
    submission_id: Mapped[str] = mapped_column(String(36), unique=True)
    language: Mapped[str] = mapped_column(String(16))
    answers: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    #: The furthest page reached, for the drop-off figures.
    furthest_page: Mapped[int] = mapped_column(Integer, default=0)
    consent_version: Mapped[str] = mapped_column(String(16))
    consent_language: Mapped[str] = mapped_column(String(16))
    consented_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: What the respondent typed that did not pass the checks, kept so nothing typed is lost.
    pending: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    #: The distribution link the respondent came through, if any.
    link_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: The cell-key method's record key for in-progress counts (see Response.record_key).
    record_key: Mapped[int] = mapped_column(SmallInteger, default=new_record_key)
    #: Set when the response is stored; the answers then live only in the response.
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: When the thank-you page showed the receipt code: it is shown once, never again.
    receipt_shown_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    version: Mapped[SurveyVersion] = relationship()

    def __repr__(self) -> str:
        return f"<Draft {self.id} page {self.furthest_page}>"


class Response(db.Model):
    """A submitted response: stored once per submission id, withdrawable by receipt code."""

    __tablename__ = "response"
    __table_args__ = (
        Index("ix_response_version_submitted", "version_id", "submitted_at"),
        Index("ix_response_country_region", "country", "region"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[str] = mapped_column(String(36), unique=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("survey_version.id"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    #: SHA-256 of the canonical answers: an identical re-send is recognised, a different one not.
    answers_hash: Mapped[str] = mapped_column(String(64))
    #: SHA-256 of the receipt code that lets the respondent withdraw.
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(16), index=True)
    consent_version: Mapped[str] = mapped_column(String(16))
    consent_language: Mapped[str] = mapped_column(String(16))
    consented_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: "web" or "api".
    channel: Mapped[str] = mapped_column(String(8), default="web")
    link_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: Random 0..255, never shown or exported: the cell-key method's record key. A published
    #: count is perturbed by the sum of its respondents' keys (geo/disclosure.py).
    record_key: Mapped[int] = mapped_column(SmallInteger, default=new_record_key)
    #: False when another response came from the same address shortly before (app/sources.py):
    #: such a response is counted, but not towards the k respondents a published cell needs.
    independent: Mapped[bool] = mapped_column(Boolean, default=True)

    # Role answers extracted for filters and aggregation (ISO codes, never display names).
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    #: ISO 3166-2 code.
    region: Mapped[str | None] = mapped_column(String(8))
    #: The matched GeoNames place's name, else the text as typed.
    city: Mapped[str | None] = mapped_column(String(200))
    #: GeoNames id of the matched place.
    city_id: Mapped[int | None] = mapped_column(Integer)
    #: Rounded to 2 decimals (about 1 km) before storing.
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    #: The country the coordinates fall in, assigned once at submission.
    geo_country: Mapped[str | None] = mapped_column(String(2))
    #: True when the coordinates disagree with the chosen country: flagged, never overwritten.
    geo_mismatch: Mapped[bool | None] = mapped_column(Boolean)
    sex: Mapped[str | None] = mapped_column(String(32), index=True)
    age_band: Mapped[str | None] = mapped_column(String(8), index=True)
    citizenship: Mapped[str | None] = mapped_column(String(2), index=True)

    version: Mapped[SurveyVersion] = relationship()

    def __repr__(self) -> str:
        return f"<Response {self.id} {self.country or '-'}>"


class WithdrawnSubmission(db.Model):
    """A submission id whose response was withdrawn: it can never be submitted again."""

    __tablename__ = "withdrawn_submission"

    submission_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    withdrawn_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<WithdrawnSubmission {self.submission_id}>"


class SubmissionSource(db.Model):
    """Until when another response from one address is part of the same burst.

    Only a keyed hash of the address is kept, and only until it expires (minutes, or a day after
    a withdrawal): enough to tell independent respondents from one client's many submissions.
    """

    __tablename__ = "submission_source"

    #: HMAC of the client's address (an IPv6 /64) under the secret key; never the address.
    source_hash: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: A response from this address before then is not independent.
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    #: ``expires_at`` before the last update: tells the update whether the address was quiet.
    previous_expiry: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<SubmissionSource {self.source_hash[:8]} until {self.expires_at}>"


class ResponseCount(db.Model):
    """Responses counted by version, day, country and fact, kept in step with the responses.

    See :mod:`app.counts`: every analyst figure and published map sums these rows.
    """

    __tablename__ = "response_count"
    #: A page with no date range reads only the every-day rows (app.counts.ALL_DAYS).
    __table_args__ = (Index("ix_response_count_day_fact", "day", "fact", "version_id"),)

    #: What is counted ("all", "language", "needs", "age_sex", ...: app.counts.FACTS).
    fact: Mapped[str] = mapped_column(String(32), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("survey_version.id"), primary_key=True)
    #: ISO 3166-1 alpha-2 country of residence, "" when not given.
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    #: The day (UTC) the responses were submitted; ALL_DAYS for the rows of every day together.
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    #: The answer counted (a choice code, a band, "region\x1fcity"; "" for "all").
    value: Mapped[str] = mapped_column(String(420), primary_key=True)
    #: Responses, the sum of their record keys, and how many of them are independent.
    n: Mapped[int] = mapped_column(Integer, default=0)
    key_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    sources: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<ResponseCount {self.fact}={self.value!r} {self.country} {self.day}: {self.n}>"


__all__ = [
    "ResponseCount",
    "Draft",
    "Response",
    "SubmissionSource",
    "Survey",
    "SurveyVersion",
    "WithdrawnSubmission",
]
