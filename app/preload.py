"""Load, once in gunicorn's master, what every worker would otherwise load for itself.

With ``preload_app`` (gunicorn.conf.py), the master builds the app and calls :func:`warm` before
forking its workers, so the country layer and its point index, the gazetteer, the name lists of
every offered language, the world sketch and the compiled templates are read once and shared
by every worker (copy-on-write) instead of being rebuilt on each worker's first request.
Nothing here opens a database connection: connections are per worker (``post_fork``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import time

from flask import Flask


def warm(app: Flask) -> float:
    """Fill the process-wide caches the pages use; return the seconds it took."""
    from app.analyst.figures import world_paths
    from forms import names
    from geo import boundaries, places

    start = time.monotonic()
    boundaries.assign_countries([0.0], [0.0])  # the country layer and its point index
    places.match_city("Almaty", "KZ", None)  # the gazetteer and its name index
    places.place_point("KZ", "KZ-75")
    world_paths()
    for lang in app.config["LANGUAGES"]:
        names.country_choices(lang)
    for name in app.jinja_env.list_templates(filter_func=lambda n: n.endswith(".html")):
        app.jinja_env.get_template(name)
    # What is loaded now lives as long as the process: keep the collector from walking it (and
    # from writing to its pages, which would copy them into every worker).
    gc.collect()
    gc.freeze()
    _release_free_memory()
    return time.monotonic() - start


def _release_free_memory() -> None:
    """Hand the heap that loading freed back to the system (glibc only; elsewhere nothing).

    A forked worker starts with the master's resident size as its own peak, so memory the
    master parsed and freed would otherwise count in every worker's VmHWM.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


def after_fork(app: Flask) -> None:
    """Drop any database connection inherited from the master: each worker opens its own."""
    from app.extensions import db

    with app.app_context():
        db.engine.dispose(close=False)
