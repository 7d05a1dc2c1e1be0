"""Gunicorn settings for ``make serve`` (``gunicorn -c gunicorn.conf.py wsgi:app``).

Every value can be changed from the environment, so one file serves a laptop and a server:
``HOST``/``PORT`` (or ``GUNICORN_BIND``), ``WEB_CONCURRENCY`` (worker processes),
``GUNICORN_THREADS`` (threads per worker), ``GUNICORN_TIMEOUT``, ``GUNICORN_ACCESSLOG``.
App servers keep no state of their own (sessions are signed cookies, drafts live in the
database, rate-limit counters in Redis when ``ATLAS_REDIS_URL`` is set), so more machines
running this same file can stand behind a load balancer.
"""

from __future__ import annotations

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def default_workers(cores: int | None = None) -> int:
    """Return gunicorn's usual 2 x cores + 1, capped at 12: past that, PostgreSQL connections
    (one pool per worker) run out before the CPU does."""
    cores = cores or multiprocessing.cpu_count()
    return min(2 * cores + 1, 12)


bind = os.environ.get("GUNICORN_BIND") or (
    f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
workers = _int("WEB_CONCURRENCY", default_workers())
#: Threads let a worker wait on the database for one request while serving another.
threads = _int("GUNICORN_THREADS", 4)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 20
keepalive = 5
#: Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = _int("GUNICORN_MAX_REQUESTS", 10000)
max_requests_jitter = max_requests // 10
#: Each worker builds its own app: SQLAlchemy connection pools must not cross a fork.
# The master builds the app and loads the shared data (app/preload.py) before forking, so the
# workers share one copy and none pays the loading on its first request. GUNICORN_PRELOAD=false
# turns it off (each worker then imports the app itself, as with `--reload`).
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").strip().lower() not in ("0", "false", "no")
#: Behind a reverse proxy on the same host, trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")


def post_worker_init(worker) -> None:  # noqa: ANN001 - gunicorn's hook signature
    """Say where this worker keeps its rate-limit counters, once it has built the app."""
    app = getattr(worker, "wsgi", None)
    config = getattr(app, "config", {})
    storage = config.get("RATELIMIT_STORAGE_URI", "memory://")
    if storage.startswith("memory"):
        worker.log.warning(
            "worker %s: rate limits kept in this process's memory "
            "(set ATLAS_REDIS_URL to share them between workers and servers)",
            worker.pid,
        )
    else:
        worker.log.info("worker %s: rate limits kept in Redis", worker.pid)


def when_ready(server) -> None:  # noqa: ANN001 - gunicorn's hook signature
    """With preload_app, fill the caches every worker shares, before the first fork."""
    if not server.cfg.preload_app:
        return
    from app.preload import warm

    seconds = warm(server.app.wsgi())
    server.log.info("shared data loaded before forking the workers in %.1f s", seconds)


def post_fork(server, worker) -> None:  # noqa: ANN001 - gunicorn's hook signature
    """Give each forked worker its own database connections."""
    if server.cfg.preload_app:
        from app.preload import after_fork

        after_fork(server.app.wsgi())
