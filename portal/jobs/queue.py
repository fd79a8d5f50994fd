"""The one Huey instance, configured from JOBS_BACKEND, and how tasks get an app context.

Huey (a maintained task queue: storage, workers, retries with delay, crontab schedules, locks) runs every
piece of background work. Storage by JOBS_BACKEND:

- `sqlite:///PATH` — a file; the default is `jobs.sqlite` in the instance folder (zero set-up, one machine);
- `redis://host:port/db` — production: any number of workers on any number of machines;
- `memory://` — this process only (immediate mode uses it).

JOBS_IMMEDIATE runs each task synchronously where it is enqueued (tests; on by default under TestingConfig).

Tasks are declared at import time on the module-level `huey`; `configure(app)` points its storage at the
app's backend. A task body always runs in a fresh app context (so with its own database session, as in a
worker): the caller's app in immediate mode, otherwise the app the worker process built.
"""

from __future__ import annotations

import functools
from pathlib import Path
from urllib.parse import urlparse

from flask import current_app, has_app_context
from huey import Huey
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

NAME = "portal"
huey = Huey(NAME, immediate=True, storage_class=MemoryStorage, results=False, utc=True)
_worker_app = None  # the app whose context tasks run in when no app context is current (a worker's threads)


def default_backend(instance_path: str) -> str:
    return f"sqlite:///{Path(instance_path) / 'jobs.sqlite'}"


def storage_for(url: str):
    """(storage class, kwargs) for a JOBS_BACKEND URL; RuntimeError naming the variable for anything else."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not path:
            raise RuntimeError(f"JOBS_BACKEND sqlite URLs look like sqlite:///path/to/jobs.sqlite, not {url!r}")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return SqliteStorage, {"filename": path}
    if parsed.scheme in ("redis", "rediss", "unix"):
        return RedisStorage, {"url": url}
    if parsed.scheme == "memory":
        return MemoryStorage, {}
    raise RuntimeError(f"JOBS_BACKEND must be a sqlite:///, redis:// or memory:// URL, not {url!r}")


def configure(app) -> None:
    """Point the queue at the app's JOBS_BACKEND (immediate mode keeps an in-memory store)."""
    global _worker_app
    storage_class, kwargs = storage_for(app.config["JOBS_BACKEND"])
    immediate = bool(app.config["JOBS_IMMEDIATE"])
    if (huey.storage_class, huey.storage_kwargs, huey.immediate) != (storage_class, kwargs, immediate):
        huey.storage_class, huey.storage_kwargs = storage_class, kwargs
        huey._immediate = immediate  # set directly: the property would rebuild the storage a second time
        huey.storage = huey.create_storage()
    if _worker_app is None:
        _worker_app = app


def worker_app():
    """The app tasks and the run recorder use when no app context is current (None before any app exists)."""
    return _worker_app


def set_worker_app(app) -> None:
    """The worker process's app (`flask jobs worker`), whose context every task there runs in."""
    global _worker_app
    _worker_app = app


def in_app_context(func):
    """Run `func` in a new app context: the current app's when there is one (immediate mode), else the worker's."""

    @functools.wraps(func)
    def run(*args, **kwargs):
        app = current_app._get_current_object() if has_app_context() else _worker_app
        if app is None:
            raise RuntimeError("no Flask app for this job: create the app (portal.create_app) before running jobs")
        with app.app_context():
            return func(*args, **kwargs)

    return run
