"""Heavy work outside the request: a registry of named jobs run by RQ workers on Redis.

A job is a plain function registered under a name with :func:`job`; it runs inside an app
context and returns something small and picklable (a path, counts). The same function backs
the synchronous CLI command, so ``atlas backup FILE`` and ``enqueue("backup", path=FILE)`` do
the same work. Set ``ATLAS_REDIS_URL`` (or ``REDIS_URL``), then run one or more workers::

    flask --app wsgi atlas worker            # as many as there are cores to spare
    flask --app wsgi atlas enqueue backup path=/var/backups/atlas.db

A job is declared beside the function it runs, with ``@job("build-maps")``
(:func:`app.maps.publish.publish_maps`, :func:`app.ops.backup_job`); those modules are imported
whenever the app is created (its commands import them), so every process that has an app has
every job. Parameters given as text (``atlas enqueue build-maps if_changed=false``) are converted
to the types the function declares. This module holds only the registry and the queue.
"""

from __future__ import annotations

import collections.abc
import inspect
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app, has_app_context
from flask.cli import with_appcontext

#: Queue every job goes to unless the caller names another.
DEFAULT_QUEUE = "atlas"
#: Seconds a job may run before the worker stops it.
DEFAULT_TIMEOUT = 3600

_JOBS: dict[str, Callable[..., Any]] = {}
#: The app a worker process built; forked work horses inherit it.
_worker_app: Flask | None = None


class UnknownJob(KeyError):
    """No job is registered under that name."""


def job(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function as the job called ``name``."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        _JOBS[name] = fn
        return fn

    return register


def registered() -> dict[str, Callable[..., Any]]:
    """Return every registered job by name."""
    return dict(_JOBS)


_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def typed_params(name: str, params: dict[str, str]) -> dict[str, Any]:
    """Convert text parameters to the types the job's function declares.

    ``bool`` takes true/false, yes/no, 1/0, on/off; ``int`` and ``Path`` as usual; a sequence of
    text takes comma-separated values; ``X | None`` takes "none" (or nothing) for None.

    :raises UnknownJob: no such job.
    :raises ValueError: a parameter the job does not take, or a value of the wrong type.
    """
    fn = registered().get(name)
    if fn is None:
        raise UnknownJob(name)
    hints = typing.get_type_hints(fn)
    accepted = inspect.signature(fn).parameters
    out: dict[str, Any] = {}
    for key, text in params.items():
        if key not in accepted or key == "progress":
            raise ValueError(f"{name} takes no parameter {key!r} (it takes: {_names(accepted)})")
        out[key] = _convert(key, text, hints.get(key, str))
    return out


def _names(parameters: Any) -> str:
    return ", ".join(p for p in parameters if p != "progress")


def _convert(key: str, text: str, hint: Any) -> Any:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    optional = type(None) in typing.get_args(hint)
    if optional:
        if text.strip().lower() in ("", "none"):
            return None
        hint = args[0] if len(args) == 1 else str
    origin = typing.get_origin(hint)
    if hint is bool:
        if text.strip().lower() in _TRUE:
            return True
        if text.strip().lower() in _FALSE:
            return False
        raise ValueError(f"{key} must be true or false, not {text!r}")
    if hint is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{key} must be a whole number, not {text!r}") from None
    if hint is Path:
        return Path(text)
    if origin in (list, tuple, collections.abc.Sequence):
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


def redis_connection(url: str | None = None):
    """Return a Redis client for the app's ``REDIS_URL``.

    :raises click.ClickException: when no Redis is configured.
    """
    from redis import Redis

    url = url or current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("set ATLAS_REDIS_URL (or REDIS_URL) to use the job queue")
    return Redis.from_url(url)


def queue(name: str = DEFAULT_QUEUE, connection: Any = None):
    """Return the RQ queue jobs are sent to."""
    from rq import Queue

    return Queue(name, connection=connection or redis_connection())


def enqueue(name: str, *, queue_name: str = DEFAULT_QUEUE, **kwargs: Any):
    """Queue the job called ``name`` with keyword arguments; return the RQ job.

    :raises UnknownJob: when nothing is registered under ``name``.
    """
    if name not in registered():
        raise UnknownJob(name)
    return queue(queue_name).enqueue(
        run,
        name,
        kwargs,
        job_timeout=DEFAULT_TIMEOUT,
        result_ttl=7 * 24 * 3600,
        failure_ttl=7 * 24 * 3600,
        description=f"{name} {kwargs}",
    )


def run(name: str, kwargs: dict[str, Any]) -> Any:
    """Run a registered job in an app context (the entry point RQ calls)."""
    fn = registered().get(name)
    if fn is None:
        raise UnknownJob(name)
    if has_app_context():
        return fn(**kwargs)
    app = _worker_app
    if app is None:
        from app import create_app

        app = create_app()
    with app.app_context():
        from app.extensions import db

        # A forked work horse must not reuse the parent's pooled connections.
        db.engine.dispose(close=False)
        try:
            return fn(**kwargs)
        finally:
            db.session.remove()


# -- commands ---------------------------------------------------------------------------------


@click.command()
@click.option("--queue", "queue_names", multiple=True, help="Queues to take work from.")
@click.option("--burst", is_flag=True, help="Stop once the queues are empty.")
@with_appcontext
def worker(queue_names: tuple[str, ...], burst: bool) -> None:
    """Run jobs from the Redis queue (map builds, exports, backups) until stopped."""
    from rq import Worker

    global _worker_app  # noqa: PLW0603 - the forked work horse reads it
    _worker_app = current_app._get_current_object()  # type: ignore[attr-defined]
    names = sorted(registered())
    click.echo(f"jobs: {', '.join(names)}")
    connection = redis_connection()
    queues = [queue(name, connection) for name in queue_names or (DEFAULT_QUEUE,)]
    Worker(queues, connection=connection).work(burst=burst)


@click.command("enqueue")
@click.argument("name")
@click.argument("params", nargs=-1)
@with_appcontext
def enqueue_command(name: str, params: tuple[str, ...]) -> None:
    """Queue the job NAME with KEY=VALUE parameters for `atlas worker`."""
    texts = {}
    for param in params:
        key, sep, value = param.partition("=")
        if not sep:
            raise click.BadParameter(f"{param!r} is not KEY=VALUE")
        texts[key] = value
    try:
        queued = enqueue(name, **typed_params(name, texts))
    except UnknownJob as exc:
        raise click.ClickException(
            f"no job called {name}; jobs: {', '.join(sorted(registered()))}"
        ) from exc
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    click.echo(f"queued {name} job {queued.id}")
