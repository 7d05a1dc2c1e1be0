"""Storing a submission: one transaction, exactly once, whatever fails in between."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event, func, select

from app import responses
from app.main.security import sha256
from app.models import Response, WithdrawnSubmission

#: A respondent in Ölgii (the other answers are those of ``valid_answers``).
OLGII = {"country": "MN", "region": "MN-071", "city": "Ölgii", "geo": None,
         "citizenship": "MN", "sex": "male", "age": 45}  # fmt: skip


def test_a_crash_before_commit_leaves_nothing_and_the_retry_stores_once(db, make_response):
    submission_id = str(uuid.uuid4())
    failures = {"left": 1}

    def crash(session):
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("power cut")

    event.listen(db.session, "before_commit", crash)
    try:
        with pytest.raises(RuntimeError):
            make_response(submission_id=submission_id, **OLGII)
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Response)) == 0
        stored = make_response(submission_id=submission_id, **OLGII)
    finally:
        event.remove(db.session, "before_commit", crash)
    assert stored.created
    assert make_response(submission_id=submission_id, **OLGII).created is False
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1


def test_withdrawn_ids_are_refused_for_good(db, make_response):
    submission_id = str(uuid.uuid4())
    receipt = make_response(submission_id=submission_id, **OLGII).receipt
    assert responses.withdraw(receipt)
    assert db.session.get(WithdrawnSubmission, submission_id) is not None
    with pytest.raises(responses.SubmissionWithdrawn):
        make_response(submission_id=submission_id, **OLGII)
    assert not responses.withdraw(receipt)  # a second withdrawal finds nothing


def test_receipts_are_128_bits_and_stored_only_hashed(db, make_response):
    receipt = make_response(**OLGII).receipt
    row = db.session.scalar(select(Response))
    assert len(receipt.replace("-", "")) * 5 >= 128
    # Stored: the hash of the normalised code, which finds the row; the code itself nowhere.
    assert row.receipt_hash == sha256(responses.normalise_receipt(receipt))
    for column in Response.__table__.columns:
        assert receipt.replace("-", "") not in str(getattr(row, column.key)).replace("-", "")
    assert db.session.scalar(select(Response).filter_by(receipt_hash=row.receipt_hash)) is row
    assert responses.normalise_receipt(receipt.lower().replace("-", " ")) == receipt
