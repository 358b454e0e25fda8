"""Structured logs and the request id that follows a piece of work from the proxy to its jobs.

- ``JsonFormatter``: one JSON object a line (``LOG_FORMAT=json``): ``ts`` (UTC, ms),
  ``level``, ``logger``, ``message``, then ``request_id``, ``task_id`` and ``task_name`` when
  there are some, ``role`` (the app server's ``APP_SERVER`` or the worker's name), the fields
  the code gave in ``extra={…}``, and ``exception`` with its traceback.
- ``RequestIdMiddleware``: takes the proxy's ``X-Request-ID`` when it looks like one (8–64 of
  ``A-Z a-z 0-9 . _ -``), otherwise makes one; gives it back in the answer's header and logs
  one access line per request on the ``abonent.request`` logger.
- Celery signal handlers (connected by ``signals_connect`` in the Celery app's module): a job
  sent while a request id is known carries it in its message headers, and the worker's log
  lines of that job name it and the job.

Nothing here needs the app registry: the logging configuration imports this module before
Django's apps are loaded.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from celery import signals
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

REQUEST_ID_HEADER = "X-Request-ID"
#: the message header a job's request id travels in
JOB_HEADER = "request_id"
#: requests logged at DEBUG only: the balancer's and the monitoring's, every few seconds
QUIET_PATHS = frozenset({"/healthz", "/metrics"})

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# parts of a path that are secrets (a password recovery link's token): logged as "***"
_SECRET_ARGUMENT = re.compile(r"token|secret", re.IGNORECASE)

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("abonent_request_id", default=None)
_job: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar("abonent_job", default=None)
_role: str | None = os.environ.get("APP_SERVER", "").strip() or None

access_log = logging.getLogger("abonent.request")
log = logging.getLogger(__name__)


# --- the request id -----------------------------------------------------------------------


def request_id_valid(value: object) -> bool:
    """Whether ``value`` may be taken as a request id (8–64 of ``A-Z a-z 0-9 . _ -``)."""
    return isinstance(value, str) and _REQUEST_ID.fullmatch(value) is not None


def request_id_new() -> str:
    return uuid.uuid4().hex


def request_id_get() -> str | None:
    """The id of the request (or of the request whose job this is) being served, if any."""
    return _request_id.get()


def request_id_set(value: str | None) -> contextvars.Token[str | None]:
    """Make ``value`` the current request id; ``request_id_reset`` with the token undoes it."""
    return _request_id.set(value)


def request_id_reset(token: contextvars.Token[str | None]) -> None:
    _request_id.reset(token)


def job_get() -> tuple[str, str] | None:
    """(task id, task name) of the job being run, if any."""
    return _job.get()


def role_get() -> str | None:
    return _role


def role_set(role: str | None) -> None:
    """Name this process in the log lines (an app server's ``APP_SERVER``, a worker's name)."""
    global _role
    _role = role or None


# --- JSON lines ---------------------------------------------------------------------------

# what every LogRecord has of its own: anything else on a record came in ``extra``
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}


def _printable(value: object) -> str:
    if isinstance(value, HttpRequest):  # its repr has the query string, which may carry a token
        return f"{value.method} {value.path}"
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - a broken __str__ must not lose the log line
        return f"<{type(value).__name__}>"


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, default=_printable)


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON; values JSON cannot hold are written as text."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_get()
        if request_id:
            data["request_id"] = request_id
        job = job_get()
        if job:
            data["task_id"], data["task_name"] = job
        if _role:
            data["role"] = _role
        if record.exc_info:
            record.exc_text = record.exc_text or self.formatException(record.exc_info)
        if record.exc_text:
            data["exception"] = record.exc_text
        if record.stack_info:
            data["stack"] = self.formatStack(record.stack_info)
        for key, value in vars(record).items():
            if key in _RECORD_ATTRIBUTES:
                continue
            data[f"{key}_extra" if key in data else key] = value
        try:
            return _dumps(data)
        except (TypeError, ValueError):  # keys JSON cannot hold, a value that contains itself
            return _dumps({str(key): _jsonable(value) for key, value in data.items()})


def _jsonable(value: object) -> object:
    try:
        _dumps({"value": value})
    except (TypeError, ValueError):
        return _printable(value)
    return value


# --- the request ----------------------------------------------------------------------------


def _user_id(request: HttpRequest) -> int | str | None:
    """The user the request was served for, as far as serving it found out: no query is made
    for the log (a bearer token's user, or the session's when something read it)."""
    auth = getattr(request, "auth", None)
    if isinstance(auth, tuple) and auth:
        return getattr(auth[0], "pk", None)
    user = request.__dict__.get("user")
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return user.pk if getattr(user, "is_authenticated", False) else None


def _path(request: HttpRequest) -> str:
    """The path without its query string, and with the secrets it carries (a recovery link's
    token) masked."""
    path = request.path
    match = getattr(request, "resolver_match", None)
    for name, value in match.kwargs.items() if match else ():
        if _SECRET_ARGUMENT.search(name) and isinstance(value, str) and value:
            path = path.replace(value, "***")
    return path


class RequestIdMiddleware:
    """Gives every request an id (``X-Request-ID``: the proxy's, or a new one), keeps it for
    the log lines and the jobs of the request, returns it in the answer's header and logs one
    access line. Goes first in MIDDLEWARE, so the line covers the whole of the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = given if request_id_valid(given) else request_id_new()
        token = request_id_set(request_id)
        started = time.perf_counter()
        status = 500  # unless an answer comes
        try:
            response = self.get_response(request)
            status = response.status_code
            response[REQUEST_ID_HEADER] = request_id
            return response
        finally:
            self._log(request, status=status, seconds=time.perf_counter() - started)
            request_id_reset(token)

    @staticmethod
    def _log(request: HttpRequest, *, status: int, seconds: float) -> None:
        level = logging.DEBUG if request.path in QUIET_PATHS else logging.INFO
        if not access_log.isEnabledFor(level):
            return
        path = _path(request)
        duration_ms = round(seconds * 1000, 1)
        access_log.log(
            level,
            "%s %s %s %.1f ms",
            request.method,
            path,
            status,
            duration_ms,
            extra={
                "method": request.method,
                "path": path,
                "status": status,
                "duration_ms": duration_ms,
                "user_id": _user_id(request),
                "remote_addr": request.META.get("REMOTE_ADDR") or None,
            },
        )


# --- jobs -----------------------------------------------------------------------------------

# what task_prerun changed, by task id, for task_postrun to undo (a stack: an eager job may
# run a job of the same id, a retry, inside itself)
_undo: dict[str, list[tuple[contextvars.Token[str | None], contextvars.Token[tuple[str, str] | None]]]] = {}


def on_before_task_publish(headers: dict[str, Any] | None = None, **_kwargs: Any) -> None:
    """A job sent while a request id is known carries it in its message headers."""
    request_id = request_id_get()
    if request_id and headers is not None:
        headers.setdefault(JOB_HEADER, request_id)


def on_task_prerun(task_id: str | None = None, task: Any = None, **_kwargs: Any) -> None:
    """The job's log lines name it, and the request it was sent from: the id from its message
    headers in a worker; in-process (eager) it is the sending request's own."""
    if task_id is None or task is None:
        return
    request = task.request
    given = getattr(request, JOB_HEADER, None) or (getattr(request, "headers", None) or {}).get(JOB_HEADER)
    request_id = given if request_id_valid(given) else None
    if request_id is None and getattr(request, "is_eager", False):
        request_id = request_id_get()
    tokens = (request_id_set(request_id), _job.set((task_id, str(task.name))))
    _undo.setdefault(task_id, []).append(tokens)


def on_task_postrun(task_id: str | None = None, **_kwargs: Any) -> None:
    """Back to what was there before the job: nothing in a worker, the request when eager."""
    stack = _undo.get(task_id or "")
    if not stack:
        return
    request_token, job_token = stack.pop()
    if not stack:
        del _undo[task_id or ""]
    try:
        _job.reset(job_token)
        request_id_reset(request_token)
    except ValueError:  # set in another context (should not happen): clear instead
        _job.set(None)
        request_id_set(None)


def on_worker_init(sender: Any = None, **_kwargs: Any) -> None:
    """A worker's log lines name the worker (``-n w1@%h``) unless APP_SERVER names the machine's role."""
    if not _role and sender is not None and getattr(sender, "hostname", None):
        role_set(str(sender.hostname))


def signals_connect() -> None:
    """Connect the handlers above to Celery's signals (once; the Celery app's module calls this)."""
    signals.before_task_publish.connect(on_before_task_publish, weak=False, dispatch_uid="abonent.request_id.publish")
    signals.task_prerun.connect(on_task_prerun, weak=False, dispatch_uid="abonent.request_id.prerun")
    signals.task_postrun.connect(on_task_postrun, weak=False, dispatch_uid="abonent.request_id.postrun")
    signals.worker_init.connect(on_worker_init, weak=False, dispatch_uid="abonent.request_id.worker")
