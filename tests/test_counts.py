"""The kept counts (app/counts.py) always equal a full recount of the stored responses."""

from __future__ import annotations

import datetime as dt
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from app import counts, questionnaires, responses
from app.extensions import db as database
from app.models import Draft, Response, ResponseCount, WithdrawnSubmission
from app.survey import services as drafts

SLUG = "kazakh-diaspora"

PEOPLE = st.fixed_dictionaries(
    {
        "country": st.sampled_from(["KZ", "RU", "CN", "DE"]),
        "region": st.sampled_from([None, "KZ-75", "RU-ORE", "DE-SN"]),
        "city": st.sampled_from([None, "Almaty", "Görlitz", "\x1f odd | name"]),
        "sex": st.sampled_from([None, "female", "male"]),
        "age": st.one_of(st.none(), st.integers(16, 90)),
        "needs": st.lists(st.sampled_from(["kazakh_language", "culture", "citizenship"])),
        "languages": st.lists(st.sampled_from(["kk", "ru", "zh"]), unique=True),
    }
)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("submit"), PEOPLE, st.integers(0, 3)),
        st.tuples(st.just("withdraw"), st.integers(0, 50), st.just(0)),
        st.tuples(st.just("purge"), st.integers(0, 50), st.just(0)),
        # Questionnaires started in the browser: opened, moved on to a page, sent, left.
        st.tuples(st.just("draft"), st.integers(0, 8), st.just(0)),
        st.tuples(st.just("page"), st.integers(0, 50), st.integers(0, 8)),
        st.tuples(st.just("finish"), st.integers(0, 50), PEOPLE),
        st.tuples(st.just("leave"), st.integers(0, 50), st.just(0)),
    ),
    min_size=1,
    max_size=25,
)


def _answers(person: dict) -> dict:
    residence = {k: person[k] for k in ("country", "region", "city") if person[k]}
    answers = {"residence": residence, "citizenship": person["country"]}
    for key in ("sex", "age"):
        if person[key] is not None:
            answers[key] = person[key]
    for key in ("needs", "languages"):
        if person[key]:
            answers[key] = person[key]
    return answers


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(STEPS)
def test_kept_counts_equal_a_recount_after_any_submissions_withdrawals_and_purges(db, steps):
    from app.data.retention import apply_retention

    for table in (ResponseCount, Draft, Response, WithdrawnSubmission):
        database.session.execute(delete(table))
    database.session.commit()
    version = questionnaires.latest(questionnaires.find(SLUG))
    receipts: list[str] = []
    open_drafts: list[int] = []
    for action, value, days_ago in steps:
        if action == "submit":
            stored = responses.record_submission(
                version,
                str(uuid.uuid4()),
                _answers(value),
                language="ru",
                consent_version="1",
                consent_language="ru",
                consented_at=dt.datetime.now(dt.UTC),
            )
            if days_ago:  # an older response, for retention (its counts move with it)
                row = database.session.get(Response, stored.response_id)
                counts.add(row, sign=-1)
                row.submitted_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=400 * days_ago)
                database.session.flush()
                counts.add(row)
                database.session.commit()
            receipts.append(stored.receipt)
        elif action == "withdraw" and receipts:
            responses.withdraw(receipts.pop(value % len(receipts)))
        elif action == "purge":
            apply_retention(days=value % 2 * 365 + 1)
        elif action == "draft":
            draft, _ = drafts.start_draft(version, "ru", "1")
            if value:
                drafts.save_page(draft, {}, {}, value)
            open_drafts.append(draft.id)
        elif action in ("page", "finish", "leave") and open_drafts:
            draft = database.session.get(Draft, open_drafts[value % len(open_drafts)])
            if draft is None:  # purged by retention meanwhile
                continue
            if action == "page":
                drafts.save_page(draft, {}, {}, days_ago)
            elif action == "leave":  # untouched for years: retention deletes it
                draft.updated_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=2000)
                database.session.commit()
            else:
                open_drafts.remove(draft.id)
                stored = responses.record_submission(
                    version,
                    draft.submission_id,
                    _answers(days_ago),
                    language="ru",
                    consent_version="1",
                    consent_language="ru",
                    consented_at=dt.datetime.now(dt.UTC),
                )
                drafts.finish_draft(draft)
                receipts.append(stored.receipt)  # withdrawing it deletes the draft too
    assert counts.differences() == []
    assert counts.totals_agree()


def test_recount_finds_and_mends_counts_that_drifted(db, runner):
    version = questionnaires.latest(questionnaires.find(SLUG))
    for country in ("KZ", "RU", "RU"):
        responses.record_submission(
            version,
            str(uuid.uuid4()),
            {"residence": {"country": country}},
            language="kk",
            consent_version="1",
            consent_language="kk",
            consented_at=dt.datetime.now(dt.UTC),
        )
    assert runner.invoke(args=["atlas", "recount"]).exit_code == 0
    database.session.execute(delete(ResponseCount).where(ResponseCount.country == "RU"))
    database.session.commit()
    drifted = runner.invoke(args=["atlas", "recount"])
    assert drifted.exit_code == 1 and "differ" in drifted.output
    assert runner.invoke(args=["atlas", "recount", "--quick"]).exit_code == 1
    assert runner.invoke(args=["atlas", "recount", "--quick", "--fix"]).exit_code == 0
    assert runner.invoke(args=["atlas", "recount"]).exit_code == 0
    all_rows = database.session.scalars(
        select(ResponseCount).filter_by(fact="all", day=counts.ALL_DAYS)
    ).all()
    assert sorted((r.country, r.n) for r in all_rows) == [("KZ", 1), ("RU", 2)]


def test_demo_data_is_counted_as_it_is_inserted(db, runner):
    assert runner.invoke(args=["atlas", "generate-synthetic", "300", "--seed", "2"]).exit_code == 0
    assert counts.differences() == []
    drafted = database.session.scalars(
        select(ResponseCount).filter_by(fact=counts.DRAFT_FACT, day=counts.ALL_DAYS)
    )
    assert sum(row.n for row in drafted) == database.session.query(Draft).count() > 300


def test_drafts_added_behind_the_counts_back_are_found_by_the_quick_check(db, runner):
    version = questionnaires.latest(questionnaires.find(SLUG))
    drafts.start_draft(version, "kk", "1")
    assert runner.invoke(args=["atlas", "recount", "--quick"]).exit_code == 0
    database.session.add(
        Draft(
            token_hash="x" * 64,
            version_id=version.id,
            submission_id=str(uuid.uuid4()),
            language="kk",
            answers={},
            pending={},
            consent_version="1",
            consent_language="kk",
            consented_at=dt.datetime.now(dt.UTC),
        )
    )  # as a bulk load or an old backup would put it
    database.session.commit()
    assert runner.invoke(args=["atlas", "recount", "--quick"]).exit_code == 1
    assert runner.invoke(args=["atlas", "recount", "--quick", "--fix"]).exit_code == 0
    assert counts.differences() == []
