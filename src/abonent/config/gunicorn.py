"""gunicorn's settings for an app server, from environment variables only:

    gunicorn -c python:abonent.config.gunicorn abonent.config.wsgi

    GUNICORN_BIND        where to listen: 127.0.0.1:8000 (or unix:/run/abonent/web.sock)
    WEB_CONCURRENCY      worker processes: 2 × cores + 1
    GUNICORN_THREADS     threads a worker (requests at once in one process): 4
    GUNICORN_TIMEOUT     seconds a request may take before its worker is replaced: 60
    GUNICORN_MAX_REQUESTS  a worker is replaced after this many requests (with jitter): 5000
    FORWARDED_ALLOW_IPS  the proxies whose X-Forwarded-* headers are believed: 127.0.0.1
    GUNICORN_CONTROL_SOCKET  gunicorn's control socket, one per instance; unset: none (instances
                         on one host would otherwise share the same default path)
    LOG_FORMAT           json (production's default): gunicorn's own lines are JSON too

The app servers keep nothing of their own (sessions, cache and jobs are in PostgreSQL and
Redis, files on the shared MEDIA_ROOT), so any number of them can stand behind the proxy.
"""

from __future__ import annotations

import os
from typing import Any


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _production_default() -> str:
    """LOG_FORMAT's default, as the settings decide it: json in production."""
    return "json" if os.environ.get("ABONENT_ENV", "").strip() == "production" else "plain"


bind = [os.environ.get("GUNICORN_BIND", "").strip() or "127.0.0.1:8000"]
workers = _int("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5
max_requests = _int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = max_requests // 10
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proxy_allow_ips = forwarded_allow_ips
accesslog = None  # each request is logged by the application, with its request id
errorlog = "-"
capture_output = True
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
wsgi_app = "abonent.config.wsgi:application"
# gunicorn's own lines (starting, a worker booted or replaced, a timeout) in the application's
# format: under LOG_FORMAT=json they are JSON objects with a UTC time like every other line,
# not text in the master's time zone. Its access log stays off.
if (os.environ.get("LOG_FORMAT", "").strip() or _production_default()) == "json":
    logconfig_dict = {
        "formatters": {"generic": {"()": "abonent.core.observability.JsonFormatter"}},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }
_control = os.environ.get("GUNICORN_CONTROL_SOCKET", "").strip()
if _control:
    control_socket = _control
else:
    control_socket_disable = True


def child_exit(server: Any, worker: Any) -> None:
    """A worker's Prometheus samples stay counted after it is replaced, its gauges do not."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
