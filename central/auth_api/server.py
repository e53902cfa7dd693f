"""Run the API: gunicorn (threaded workers) in production, werkzeug's threaded server for a
developer or where gunicorn cannot run (Windows).

Both bind before announcing readiness: with ``--ready-file`` the chosen address is written
there as JSON once the socket listens (``--port 0`` picks a free port, for tests).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from pathlib import Path
from typing import Any

from klinika_auth.app import create_app, prepare
from klinika_auth.settings import Settings

logger = logging.getLogger(__name__)


def gunicorn_available() -> bool:
    return os.name == "posix" and importlib.util.find_spec("gunicorn") is not None


def _announce(ready_file: Path | None, host: str, port: int) -> None:
    logger.info("central auth API listening on http://%s:%d", host, port)
    if ready_file is not None:
        tmp = ready_file.with_name(ready_file.name + ".tmp")
        tmp.write_text(json.dumps({"host": host, "port": port, "pid": os.getpid()}))
        os.replace(tmp, ready_file)


def serve(
    settings: Settings,
    host: str,
    port: int,
    *,
    workers: int | None = None,
    threads: int = 4,
    dev: bool = False,
    ready_file: Path | None = None,
) -> None:
    prepare(settings)
    if dev or not gunicorn_available():
        _serve_werkzeug(settings, host, port, threads, ready_file)
    else:
        _serve_gunicorn(settings, host, port, workers or (os.cpu_count() or 2), threads, ready_file)


def _serve_werkzeug(
    settings: Settings, host: str, port: int, _threads: int, ready_file: Path | None
) -> None:
    from urllib.parse import urlsplit

    from werkzeug.serving import WSGIRequestHandler, make_server

    class PathOnlyHandler(WSGIRequestHandler):
        """Access log lines without query strings (they may carry names or tokens)."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            path = urlsplit(self.path).path
            self.log("info", '"%s %s" %s %s', self.command, path, code, size)

    logger.warning("serving with werkzeug's development server; use gunicorn in production")
    server = make_server(
        host, port, create_app(settings), threaded=True, request_handler=PathOnlyHandler
    )
    _announce(ready_file, host, server.port)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def _serve_gunicorn(
    settings: Settings, host: str, port: int, workers: int, threads: int, ready_file: Path | None
) -> None:
    from gunicorn.app.base import BaseApplication

    def when_ready(server: Any) -> None:
        bound = server.LISTENERS[0].sock.getsockname()
        _announce(ready_file, bound[0], bound[1])

    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 60,
        "graceful_timeout": 10,
        "keepalive": 5,
        "errorlog": "-",
        "accesslog": "-",
        # No query strings or tokens: method, path, status, size, time.
        "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms',
        "loglevel": settings.log_level.lower(),
        "when_ready": when_ready,
        "proc_name": "central-auth",
        "control_socket_disable": True,  # no shared ~/.gunicorn socket between instances
    }

    class App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return create_app(settings)

    App().run()
