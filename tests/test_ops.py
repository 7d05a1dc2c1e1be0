"""Backup and restore from the command line, on SQLite and PostgreSQL, also while writing."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from app.models import Response
from tests.respondent import API_URL, api_body


def stored(db) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Response))


def submit(client, n: int) -> None:
    for i in range(n):
        assert client.post(API_URL, json=api_body(age=20 + i)).status_code == 201


def test_backup_then_restore_brings_back_the_same_rows(client, runner, db, tmp_path):
    submit(client, 3)
    file = tmp_path / "atlas.backup"
    result = runner.invoke(args=["atlas", "backup", str(file)])
    assert result.exit_code == 0, result.output
    assert "response 3" in result.output
    submit(client, 2)
    assert stored(db) == 5
    result = runner.invoke(args=["atlas", "restore", str(file), "--yes"])
    assert result.exit_code == 0, result.output
    assert "response 3" in result.output
    assert stored(db) == 3
    ages = sorted(r.answers["age"] for r in db.session.scalars(select(Response)))
    assert ages == [20, 21, 22]
    # The restored database takes new submissions: sequences and constraints came back too.
    submit(client, 1)
    assert stored(db) == 4


def test_restore_asks_before_replacing_responses(client, runner, db, tmp_path):
    file = tmp_path / "empty.backup"
    assert runner.invoke(args=["atlas", "backup", str(file)]).exit_code == 0
    submit(client, 1)
    result = runner.invoke(args=["atlas", "restore", str(file)], input="n\n")
    assert result.exit_code != 0
    assert "Aborted" in result.output
    assert stored(db) == 1


def test_restore_refuses_a_file_that_is_not_a_backup(client, runner, db, tmp_path):
    submit(client, 1)
    file = tmp_path / "notes.txt"
    file.write_text("not a backup at all")
    result = runner.invoke(args=["atlas", "restore", str(file), "--yes"])
    assert result.exit_code == 1
    assert "not a" in result.output
    assert stored(db) == 1


def test_backup_taken_while_responses_arrive_is_consistent(app, runner, db, tmp_path):
    stop = threading.Event()
    sent: list[int] = []

    def write() -> None:
        with app.test_client() as c:
            while not stop.is_set() and len(sent) < 200:
                sent.append(c.post(API_URL, json=api_body()).status_code)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(sent) < 5:
            stop.wait(0.01)
        file = tmp_path / "live.backup"
        result = runner.invoke(args=["atlas", "backup", str(file)])
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    in_backup = int(result.output.split("response ")[1].split(",")[0])
    assert 5 <= in_backup <= len(sent) == stored(db)
    assert set(sent) == {201}
    assert runner.invoke(args=["atlas", "restore", str(file), "--yes"]).exit_code == 0
    assert stored(db) == in_backup
