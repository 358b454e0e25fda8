"""Structured logs and the request id: the JSON lines, the request id middleware and its
access line, and the id carried into jobs through Celery's signals."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import re
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from celery import Celery
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from abonent.core import observability
from abonent.core.observability import (
    JsonFormatter,
    RequestIdMiddleware,
    job_get,
    on_before_task_publish,
    on_task_postrun,
    on_task_prerun,
    request_id_get,
    request_id_reset,
    request_id_set,
)
from tests.config.test_settings import PRODUCTION, abonent
from tests.web.identity import user_make

PROJECT = Path(__file__).resolve().parents[2]
UUID_HEX = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def request_id() -> Iterator[str]:
    """A request being served: its id is the current one until the test ends."""
    token = request_id_set("req-0123456789")
    try:
        yield "req-0123456789"
    finally:
        request_id_reset(token)


@pytest.fixture
def role() -> Iterator[None]:
    before = observability.role_get()
    observability.role_set("web2")
    try:
        yield
    finally:
        observability.role_set(before)


def record(message: str = "hello", *args: object, level: int = logging.INFO, **extra: Any) -> logging.LogRecord:
    """A record as ``logging.getLogger("abonent.test").log(level, message, *args, extra=extra)`` makes it."""
    return logging.getLogger("abonent.test").makeRecord(
        "abonent.test", level, __file__, 1, message, args, None, extra=extra or None
    )


def formatted(rec: logging.LogRecord) -> dict[str, Any]:
    line = JsonFormatter().format(rec)
    assert "\n" not in line  # one record, one line
    data: dict[str, Any] = json.loads(line)
    return data


# --- the JSON lines -------------------------------------------------------------------------


def test_a_line_has_the_time_in_utc_with_milliseconds_the_level_the_logger_and_the_message() -> None:
    rec = record("платёж %s: %d ₽", "a1", 1250, level=logging.WARNING)
    rec.created = dt.datetime(2026, 3, 1, 21, 5, 9, 87_654, tzinfo=dt.UTC).timestamp()

    assert formatted(rec) == {
        "ts": "2026-03-01T21:05:09.087Z",
        "level": "WARNING",
        "logger": "abonent.test",
        "message": "платёж a1: 1250 ₽",
    }
    assert "платёж a1" in JsonFormatter().format(rec)  # UTF-8 as it is, not \u escapes


def test_the_time_is_utc_whatever_the_process_time_zone() -> None:
    rec = record()
    rec.created = dt.datetime(2026, 12, 31, 23, 59, 59, 999_000, tzinfo=dt.UTC).timestamp()

    assert formatted(rec)["ts"] == "2026-12-31T23:59:59.999Z"


def test_the_request_id_and_the_process_role_are_in_the_line(request_id: str, role: None) -> None:
    data = formatted(record())

    assert (data["request_id"], data["role"]) == ("req-0123456789", "web2")
    assert "task_id" not in data


def test_without_a_request_there_is_no_request_id() -> None:
    assert "request_id" not in formatted(record())


def test_the_fields_given_in_extra_are_in_the_line_as_json_values() -> None:
    data = formatted(
        record(
            "job not sent",
            extra_unused=None,
            task="abonent.billing.tasks.run",
            job_kwargs={"run_id": 7, "accounts": [1, 2]},
            amount=Decimal("1250.50"),
            when=dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC),
            ok=True,
        )
    )

    assert data["task"] == "abonent.billing.tasks.run"
    assert data["job_kwargs"] == {"run_id": 7, "accounts": [1, 2]}
    assert (data["amount"], data["when"], data["ok"], data["extra_unused"]) == (
        "1250.50",
        "2026-11-20 09:00:00+00:00",
        True,
        None,
    )


def test_an_extra_field_named_like_a_field_of_the_line_does_not_replace_it(request_id: str) -> None:
    data = formatted(record("m", level=logging.ERROR, ts="yesterday", level_name="x", request_id="other"))

    assert data["level"] == "ERROR"
    assert (data["ts_extra"], data["request_id_extra"], data["request_id"]) == ("yesterday", "other", request_id)
    assert data["level_name"] == "x"


def test_values_json_cannot_hold_are_written_as_text() -> None:
    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("no text")

    cyclic: list[object] = []
    cyclic.append(cyclic)
    request = RequestFactory().get("/password/reset/?token=secret-token")

    data = formatted(
        record(
            "m",
            codes={1, 2},
            by_pair={("a", 1): "tuple keys"},
            cyclic=cyclic,
            broken=Broken(),
            request=request,
            raw=b"\xff",
        )
    )

    assert data["codes"] == "{1, 2}"
    assert data["by_pair"] == "{('a', 1): 'tuple keys'}"
    assert data["cyclic"] == "[[...]]"
    assert data["broken"] == "<Broken>"
    assert data["request"] == "GET /password/reset/"  # not the query string
    assert data["raw"] == "b'\\xff'"
    assert data["message"] == "m"


def test_an_exception_is_written_with_its_traceback() -> None:
    try:
        {}["missing"]
    except KeyError:
        rec = record("failed", level=logging.ERROR)
        rec.exc_info = sys.exc_info()

    data = formatted(rec)

    assert data["exception"].startswith("Traceback (most recent call last):")
    assert data["exception"].endswith("KeyError: 'missing'")
    assert "exc_info" not in data
    assert "exc_text" not in data


def test_a_stack_asked_for_is_written() -> None:
    rec = record("where")
    rec.stack_info = "Stack (most recent call last):\n  File x"

    assert formatted(rec)["stack"] == "Stack (most recent call last):\n  File x"


# --- LOG_FORMAT -----------------------------------------------------------------------------


def settings_log(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A process with these settings logs one warning with an extra field."""
    code = (
        "import logging; from django.conf import settings; print(settings.LOG_FORMAT); "
        "logging.getLogger('abonent.test').warning('проверка %s', 1, extra={'account_id': 42})"
    )
    return abonent(tmp_path, env, "shell", "-c", code)


def test_plain_lines_by_default_for_development(tmp_path: Path) -> None:
    done = settings_log(tmp_path, {"LOG_FORMAT": ""})  # empty: as if not set

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "plain"
    assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING abonent.test проверка 1$", done.stderr, re.M)


def test_json_lines_in_production(tmp_path: Path) -> None:
    done = settings_log(tmp_path, {**PRODUCTION, "APP_SERVER": "web1"})

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "json"
    [line] = [json.loads(line) for line in done.stderr.splitlines() if '"abonent.test"' in line]
    assert line["message"] == "проверка 1"
    assert (line["level"], line["account_id"], line["role"]) == ("WARNING", 42, "web1")


def test_log_format_may_be_chosen_and_a_bad_one_is_named(tmp_path: Path) -> None:
    assert settings_log(tmp_path, {"LOG_FORMAT": "json"}).stdout.strip().splitlines()[-1] == "json"
    assert settings_log(tmp_path, {**PRODUCTION, "LOG_FORMAT": "plain"}).stdout.strip().splitlines()[-1] == "plain"

    for bad in ("JSON", "text", " json"):
        done = settings_log(tmp_path, {"LOG_FORMAT": bad})
        assert done.returncode != 0
        assert f"LOG_FORMAT={bad!r}: expected plain or json" in done.stderr


# --- the request id middleware --------------------------------------------------------------


def access_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "abonent.request"]


@contextmanager
def json_lines(logger_name: str) -> Iterator[list[dict[str, Any]]]:
    """The lines the logger writes meanwhile, as JSON (formatted when they are written)."""
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        lines.extend(json.loads(line) for line in written.getvalue().splitlines())


@pytest.mark.parametrize(
    "given",
    ["abcd1234", "a" * 64, "0f6c2d6e-3a0e-4e0e-9d7e-6b1d5c3a2f10", "req.2026_11-22.A"],
)
def test_a_request_id_from_the_proxy_is_kept(given: str, client: Client, db: None) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID=given)

    assert response["X-Request-ID"] == given


@pytest.mark.parametrize(
    "given",
    [
        "",
        "abc1234",  # 7 characters
        "a" * 65,
        "abc 12345",
        "abc/12345",
        "abc12345;drop",
        "абвгдеёжзи",
        "abc12345\r\nSet-Cookie: x=1",
        '{"json":"line"}',
    ],
)
def test_a_request_id_that_does_not_look_like_one_is_replaced(given: str, client: Client, db: None) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID=given)

    assert UUID_HEX.fullmatch(response["X-Request-ID"])


def test_without_a_request_id_each_request_gets_a_new_one(client: Client, db: None) -> None:
    first, second = client.get("/healthz")["X-Request-ID"], client.get("/healthz")["X-Request-ID"]

    assert UUID_HEX.fullmatch(first)
    assert UUID_HEX.fullmatch(second)
    assert first != second
    assert request_id_get() is None  # nothing is left behind for the next request of the thread


def test_one_access_line_a_request_without_the_query_string(
    client: Client, db: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="abonent.request")

    with json_lines("abonent.request") as written:
        response = client.get(
            "/?next=/profile/&token=s3cret", HTTP_X_REQUEST_ID="proxy-given-1", REMOTE_ADDR="203.0.113.9"
        )

    [line] = access_lines(caplog)
    assert response.status_code == 200
    assert line.levelno == logging.INFO
    assert line.getMessage().startswith("GET / 200 ")
    assert line.getMessage().endswith(" ms")
    fields = {k: getattr(line, k) for k in ("method", "path", "status", "user_id", "remote_addr")}
    assert fields == {"method": "GET", "path": "/", "status": 200, "user_id": None, "remote_addr": "203.0.113.9"}
    assert isinstance(line.duration_ms, float)
    assert line.duration_ms >= 0
    [as_json] = written
    assert as_json == {
        "ts": as_json["ts"],
        "level": "INFO",
        "logger": "abonent.request",
        "message": line.getMessage(),
        "request_id": "proxy-given-1",  # written while the request's id is current
        "method": "GET",
        "path": "/",
        "status": 200,
        "duration_ms": line.duration_ms,  # type: ignore[attr-defined]
        "user_id": None,
        "remote_addr": "203.0.113.9",
    }
    assert "s3cret" not in json.dumps(as_json)


def test_the_access_line_names_the_user_served(client: Client, db: None, caplog: pytest.LogCaptureFixture) -> None:
    user = user_make()
    client.force_login(user)
    caplog.set_level(logging.INFO, logger="abonent.request")

    client.get("/profile/")

    [line] = access_lines(caplog)
    assert (line.path, line.user_id) == ("/profile/", user.pk)  # type: ignore[attr-defined]


def test_the_token_of_a_recovery_link_is_not_logged(client: Client, db: None, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="abonent.request")

    response = client.get("/password/reset/MTIz/cw3x1a-0123456789abcdef0123456789abcdef/")

    [line] = access_lines(caplog)
    assert response.status_code == 200
    assert line.path == "/password/reset/MTIz/***/"  # type: ignore[attr-defined]
    assert "0123456789abcdef" not in line.getMessage()


def test_an_answer_that_is_not_found_is_logged_with_its_status(
    client: Client, db: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="abonent.request")

    response = client.post("/no-such-page/", {"a": "1"})

    [line] = access_lines(caplog)
    assert (response.status_code, line.method, line.status) == (404, "POST", 404)  # type: ignore[attr-defined]
    assert response["X-Request-ID"]


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
def test_health_checks_and_scrapes_are_logged_at_debug_only(
    path: str, client: Client, db: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="abonent.request")
    client.get(path)
    assert access_lines(caplog) == []

    caplog.set_level(logging.DEBUG, logger="abonent.request")
    client.get(path)
    [line] = access_lines(caplog)
    assert (line.levelno, line.path, line.status) == (logging.DEBUG, path, 200)  # type: ignore[attr-defined]


def test_a_view_that_raises_is_logged_as_500_and_the_id_is_let_go(caplog: pytest.LogCaptureFixture) -> None:
    def view(request: HttpRequest) -> HttpResponse:
        assert request_id_get() == "given-id-123"
        raise RuntimeError("the view broke")

    caplog.set_level(logging.INFO, logger="abonent.request")
    request = RequestFactory().get("/broken", HTTP_X_REQUEST_ID="given-id-123")

    with pytest.raises(RuntimeError):
        RequestIdMiddleware(view)(request)

    [line] = access_lines(caplog)
    assert (line.status, line.path) == (500, "/broken")  # type: ignore[attr-defined]
    assert request_id_get() is None


# --- the request id in jobs -----------------------------------------------------------------


def test_a_job_sent_during_a_request_carries_its_id_in_the_message_headers(request_id: str) -> None:
    app = Celery("headers", broker="memory://", set_as_current=False)
    app.conf.task_default_queue = f"q-{uuid.uuid4().hex}"

    @app.task(name="tests.observability.job")
    def job() -> None: ...

    job.apply_async()
    token = request_id_set(None)
    try:
        job.apply_async()  # outside a request: no id
    finally:
        request_id_reset(token)

    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue(app.conf.task_default_queue)
        first, second = queue.get(timeout=1), queue.get(timeout=1)
        queue.close()
    assert first.headers["request_id"] == request_id
    assert first.headers["task"] == "tests.observability.job"
    assert "request_id" not in second.headers


def test_the_publish_handler_leaves_an_id_the_sender_set() -> None:
    headers = {"request_id": "set-by-sender"}
    token = request_id_set("req-0123456789")
    try:
        on_before_task_publish(headers=headers)
    finally:
        request_id_reset(token)

    assert headers == {"request_id": "set-by-sender"}


def fake_task(name: str = "abonent.notifications.tasks.delivery_attempt", **request: Any) -> Any:
    return SimpleNamespace(name=name, request=SimpleNamespace(**{"is_eager": False, "headers": None, **request}))


def test_a_worker_runs_the_job_under_the_request_id_of_its_message() -> None:
    task = fake_task(request_id="req-from-message")

    on_task_prerun(task_id="t-1", task=task)
    try:
        assert request_id_get() == "req-from-message"
        assert job_get() == ("t-1", "abonent.notifications.tasks.delivery_attempt")
        data = formatted(record("sending"))
        assert (data["request_id"], data["task_id"], data["task_name"]) == (
            "req-from-message",
            "t-1",
            "abonent.notifications.tasks.delivery_attempt",
        )
    finally:
        on_task_postrun(task_id="t-1", task=task)

    assert (request_id_get(), job_get()) == (None, None)
    assert observability._undo == {}


def test_the_id_is_read_from_the_headers_too() -> None:
    task = fake_task(headers={"request_id": "req-in-headers"})

    on_task_prerun(task_id="t-2", task=task)
    try:
        assert request_id_get() == "req-in-headers"
    finally:
        on_task_postrun(task_id="t-2", task=task)


@pytest.mark.parametrize("given", [None, "", "short", "bad id with spaces", "x" * 65, 12345678])
def test_a_job_without_a_good_id_in_a_worker_runs_with_none_not_the_last_jobs(given: object) -> None:
    stale = request_id_set("left-by-another-job")  # a worker thread is reused from job to job
    task = fake_task(request_id=given)
    try:
        on_task_prerun(task_id="t-3", task=task)
        try:
            assert request_id_get() is None
            assert job_get() == ("t-3", "abonent.notifications.tasks.delivery_attempt")
        finally:
            on_task_postrun(task_id="t-3", task=task)
        assert request_id_get() == "left-by-another-job"
    finally:
        request_id_reset(stale)


def test_a_job_run_in_process_keeps_the_request_id_and_gives_it_back(request_id: str) -> None:
    task = fake_task(is_eager=True)

    on_task_prerun(task_id="t-4", task=task)
    assert (request_id_get(), job_get()) == (request_id, ("t-4", task.name))
    on_task_postrun(task_id="t-4", task=task)

    assert (request_id_get(), job_get()) == (request_id, None)


def test_a_postrun_without_its_prerun_changes_nothing(request_id: str) -> None:
    on_task_postrun(task_id="never-started")
    on_task_prerun(task_id=None, task=fake_task())

    assert (request_id_get(), job_get()) == (request_id, None)


def eager_app() -> Celery:
    app = Celery("eager", set_as_current=False)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    return app


def test_a_job_run_in_process_during_a_request_logs_with_the_request_id() -> None:
    app = eager_app()
    seen: list[tuple[str | None, tuple[str, str] | None]] = []

    @app.task(name="tests.observability.in_process")
    def in_process() -> None:
        seen.append((request_id_get(), job_get()))
        logging.getLogger("abonent.test").warning("inside the job")

    def view(request: HttpRequest) -> HttpResponse:
        in_process.delay()
        return HttpResponse("ok")

    with json_lines("abonent.test") as written:
        response = RequestIdMiddleware(view)(RequestFactory().get("/", HTTP_X_REQUEST_ID="from-nginx-42"))

    [(request_id, job)] = seen
    assert (request_id, response["X-Request-ID"]) == ("from-nginx-42", "from-nginx-42")
    assert job is not None
    assert job[1] == "tests.observability.in_process"
    [line] = written
    assert (line["message"], line["request_id"], line["task_id"], line["task_name"]) == (
        "inside the job",
        "from-nginx-42",
        job[0],
        "tests.observability.in_process",
    )
    assert (request_id_get(), job_get()) == (None, None)


def test_a_job_that_fails_in_process_gives_the_request_id_back(request_id: str) -> None:
    app = eager_app()

    @app.task(name="tests.observability.failing")
    def failing() -> None:
        raise ValueError("the job broke")

    with pytest.raises(ValueError, match="the job broke"):
        failing.delay()

    assert (request_id_get(), job_get()) == (request_id, None)
    assert observability._undo == {}


def test_a_real_worker_logs_the_job_with_the_id_of_the_request_that_sent_it(tmp_path: Path) -> None:
    """A worker (solo pool) and a sender in one process on the in-memory broker: the job's
    log line, written as JSON by the worker, names the sender's request id."""
    script = textwrap.dedent(
        """
        import json, logging, sys
        from celery import Celery
        from celery.contrib.testing.worker import start_worker
        from abonent.core import observability

        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(observability.JsonFormatter())
        logging.getLogger("abonent.test").addHandler(handler)
        logging.getLogger("abonent.test").setLevel(logging.INFO)
        observability.signals_connect()
        app = Celery("worker-test", broker="memory://", backend="cache+memory://")
        app.conf.task_default_queue = "default"

        @app.task(name="tests.observability.logged")
        def logged(n):
            logging.getLogger("abonent.test").info("job %s ran", n)
            return observability.request_id_get()

        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
            token = observability.request_id_set("req-sent-from-web")
            result = logged.delay(1)
            observability.request_id_reset(token)
            print("returned", result.get(timeout=20))
            print("returned", logged.delay(2).get(timeout=20))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "abonent.config.settings", "ABONENT_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    returned = [line.split(" ", 1)[1] for line in done.stdout.splitlines() if line.startswith("returned ")]
    assert returned == ["req-sent-from-web", "None"]
    first, second = lines
    assert (first["message"], first["request_id"], first["task_name"]) == (
        "job 1 ran",
        "req-sent-from-web",
        "tests.observability.logged",
    )
    assert re.fullmatch(r"[0-9a-f-]{36}", first["task_id"])
    assert second["message"] == "job 2 ran"
    assert "request_id" not in second
    assert first["role"] == second["role"]  # the worker's name (worker_init)
    assert "@" in first["role"]
