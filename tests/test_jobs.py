"""The job queue: a real RQ worker on the local Redis runs a registered job."""

from __future__ import annotations

import uuid

import pytest
from redis import Redis
from redis.exceptions import RedisError
from rq import SimpleWorker

from app import jobs

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_app(app):
    connection = Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    app.config["REDIS_URL"] = REDIS_URL
    yield app
    connection.close()


def test_backup_job_runs_on_a_burst_worker(redis_app, tmp_path):
    name = f"atlas-test-{uuid.uuid4().hex[:8]}"
    target = tmp_path / "queued.backup"
    with redis_app.app_context():
        queue = jobs.queue(name)
        try:
            job = jobs.enqueue("backup", queue_name=name, path=str(target))
            assert job.get_status() == "queued"
            SimpleWorker([queue], connection=queue.connection).work(burst=True)
            assert job.get_status() == "finished", job.latest_result()
            result = job.return_value()
        finally:
            queue.delete(delete_jobs=True)
    assert target.exists()
    assert result["counts"]["survey"] == 1
    assert result["counts"]["response"] == 0


def test_enqueue_command_and_unknown_jobs(redis_app, runner):
    result = runner.invoke(args=["atlas", "enqueue", "no-such-job"])
    assert result.exit_code == 1
    assert "backup" in result.output
    with redis_app.app_context(), pytest.raises(jobs.UnknownJob):
        jobs.enqueue("no-such-job")


def test_queue_needs_redis(app, runner, tmp_path):
    app.config["REDIS_URL"] = None
    result = runner.invoke(args=["atlas", "backup", str(tmp_path / "x"), "--background"])
    assert result.exit_code == 1
    assert "ATLAS_REDIS_URL" in result.output


def test_jobs_run_synchronously_too(app, tmp_path):
    with app.app_context():
        result = jobs.run("backup", {"path": str(tmp_path / "sync.backup")})
    assert result["counts"]["survey_version"] == 1
