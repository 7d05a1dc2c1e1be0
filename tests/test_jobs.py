"""The job queue: a real RQ worker on the local Redis runs a registered job."""

from __future__ import annotations

import html
import json
import re
import uuid

import pytest
from redis import Redis
from redis.exceptions import RedisError
from rq import SimpleWorker

from app import jobs, questionnaires
from app.questionnaires import role_labels

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


def test_job_parameters_are_converted_to_the_types_the_function_declares(app):
    with app.app_context():
        assert jobs.typed_params("build-maps", {"if_changed": "false"}) == {"if_changed": False}
        assert jobs.typed_params("build-maps", {"if_changed": "yes", "survey": "s"}) == {
            "if_changed": True,
            "survey": "s",
        }
        assert jobs.typed_params("build-maps", {"languages": "kk, ru"}) == {
            "languages": ["kk", "ru"]
        }
        assert jobs.typed_params("build-maps", {"survey": "none"}) == {"survey": None}
        with pytest.raises(ValueError, match="true or false"):
            jobs.typed_params("build-maps", {"if_changed": "maybe"})
        with pytest.raises(ValueError, match="no parameter"):
            jobs.typed_params("build-maps", {"colour": "red"})


def test_enqueue_refuses_a_parameter_of_the_wrong_type(redis_app, runner):
    result = runner.invoke(args=["atlas", "enqueue", "build-maps", "if_changed=perhaps"])
    assert result.exit_code == 2
    assert "true or false" in result.output


def test_build_maps_job_is_the_command_labels_included(redis_app, runner, tmp_path):
    """The job and `atlas build-maps` run one function: choice labels, not codes, on the maps."""
    assert runner.invoke(args=["atlas", "generate-synthetic", "600", "--seed", "4"]).exit_code == 0
    name = f"atlas-test-{uuid.uuid4().hex[:8]}"
    out = tmp_path / "maps"
    with redis_app.app_context():
        queue = jobs.queue(name)
        try:
            queued = jobs.enqueue(
                "build-maps",
                queue_name=name,
                **jobs.typed_params(
                    "build-maps", {"languages": "en", "out_dir": str(out), "if_changed": "false"}
                ),
            )
            SimpleWorker([queue], connection=queue.connection).work(burst=True)
            assert queued.get_status() == "finished", queued.latest_result()
            result = queued.return_value()
        finally:
            queue.delete(delete_jobs=True)
    assert result["built"] is True
    page = (out / "needs.en.html").read_text(encoding="utf-8")
    layers = json.loads(re.search(r"var layers = (.*?);\n", page).group(1))
    with redis_app.app_context():
        questionnaire = questionnaires.newest_questionnaire("kazakh-diaspora")
        labels = {
            html.escape(label) for label in role_labels(questionnaire, "needs", "en").values()
        }
    assert layers and {layer["name"] for layer in layers} <= labels  # never a raw choice code
