"""`zvh serve`: the web app under gunicorn — one master process that forks `workers` processes of `threads` threads.

Each worker builds the app itself after the fork (no `preload_app`): the app factory opens a SQLAlchemy engine, and a
connection pool must never be shared by two processes. The master only imports the factory's module, so the code is
loaded once and shared copy-on-write, and an import error stops `zvh serve` before any worker starts.

Without Redis (the embedded mode) the periodic jobs run in a thread of the one worker: `zvh serve` refuses more than
one worker then (see the command), and the thread starts after the fork, never in the master.
"""

from __future__ import annotations

import gc
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from engine.config import Settings
from engine.db import Database
from engine.jobs import EmbeddedJobLoop
from engine.ops.metrics import process_exited
from engine.runtime import Runtime

log = logging.getLogger(__name__)

#: How long a stopping worker waits for the periodic jobs' round in progress before it exits anyway.
JOB_LOOP_JOIN_SECONDS = 5.0


@dataclass(frozen=True)
class ServeOptions:
    """What `zvh serve` was asked for."""

    host: str
    port: int
    workers: int
    threads: int
    graceful_timeout: int
    max_requests: int
    app_spec: str


class _RootLogger(glogging.Logger):  # type: ignore[misc]
    """gunicorn's own messages (workers booting, exiting, timing out) go to the root logger, in the log format of the
    process; its access log stays off because the app writes one line per request itself."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        self.error_log.propagate = True


def factory_from(app_spec: str) -> Callable[[], Any]:
    """The WSGI application factory named `module:function` (an import string, so engine/ does not import web/)."""
    module_name, _, factory_name = app_spec.partition(":")
    factory: Callable[[], Any] = getattr(importlib.import_module(module_name), factory_name)
    return factory


class WebServer(BaseApplication):  # type: ignore[misc]
    """A gunicorn application configured in code rather than by gunicorn's command line or a config file."""

    def __init__(self, options: ServeOptions, settings: Settings) -> None:
        self.options, self.settings = options, settings
        self.factory = factory_from(options.app_spec)
        self.job_loop: EmbeddedJobLoop | None = None
        super().__init__(prog="zvh serve")

    def load_config(self) -> None:
        for name, value in {
            "bind": [f"{self.options.host}:{self.options.port}"],
            "worker_class": "gthread",
            "workers": self.options.workers,
            "threads": self.options.threads,
            "graceful_timeout": self.options.graceful_timeout,
            "max_requests": self.options.max_requests,
            "max_requests_jitter": self.options.max_requests // 10,
            "proc_name": "zvh-regie",
            "accesslog": None,
            "errorlog": None,
            "logger_class": _RootLogger,
            # The app alone decides which proxy headers to trust (ZVH_PROXY_COUNT); gunicorn must not derive the
            # scheme from X-Forwarded-Proto behind its back.
            "secure_scheme_headers": {},
            # Two `zvh serve` on one machine would otherwise share one control socket in the home directory.
            "control_socket_disable": True,
            "post_worker_init": self.post_worker_init,
            "worker_exit": self.worker_exit,
            "child_exit": self.child_exit,
        }.items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        return self.factory()

    def run(self) -> None:
        # Everything imported so far lives as long as the processes: keep it out of the cyclic GC's rescans, which
        # would also copy the shared pages into every worker.
        gc.collect()
        gc.freeze()
        super().run()

    def post_worker_init(self, worker: Any) -> None:
        """In a worker, with its app built: start the embedded jobs (without Redis) and freeze what was loaded."""
        if self.settings.embedded:
            self.job_loop = EmbeddedJobLoop(
                Database(self.settings.database_url), Runtime.from_settings(self.settings), self.settings
            )
            self.job_loop.start()
        gc.collect()
        gc.freeze()

    def worker_exit(self, server: Any, worker: Any) -> None:
        """In a stopping worker: let the embedded jobs finish their round, then close their connections."""
        if self.job_loop is not None:
            self.job_loop.stopped.set()
            self.job_loop.join(JOB_LOOP_JOIN_SECONDS)
            self.job_loop.db.dispose()

    def child_exit(self, server: Any, worker: Any) -> None:
        """In the master, when a worker has ended (stopped, crashed or killed)."""
        process_exited(worker.pid)
