"""gunicorn's settings (abonent.config.gunicorn): read from the environment, and under
LOG_FORMAT=json every line an app server writes, gunicorn's own included, is one JSON object."""

from __future__ import annotations

import json
import os
import runpy
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port

GUNICORN = Path(sys.executable).with_name("gunicorn")


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    for name in ("LOG_FORMAT", "ABONENT_ENV", "GUNICORN_BIND", "WEB_CONCURRENCY", "GUNICORN_CONTROL_SOCKET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_module("abonent.config.gunicorn")


def test_the_defaults_and_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = _settings(monkeypatch)
    assert defaults["bind"] == ["127.0.0.1:8000"]
    assert defaults["worker_class"] == "gthread"
    assert defaults["control_socket_disable"] is True
    assert "logconfig_dict" not in defaults  # plain: gunicorn's own format

    chosen = _settings(
        monkeypatch,
        GUNICORN_BIND="unix:/run/abonent/web.sock",
        WEB_CONCURRENCY="3",
        GUNICORN_CONTROL_SOCKET="/run/a.ctl",
    )
    assert chosen["bind"] == ["unix:/run/abonent/web.sock"]
    assert chosen["workers"] == 3
    assert chosen["control_socket"] == "/run/a.ctl"


@pytest.mark.parametrize(
    ("env", "json_lines"),
    [
        ({"LOG_FORMAT": "json"}, True),
        ({"ABONENT_ENV": "production"}, True),  # json is production's default, as in the settings
        ({"ABONENT_ENV": "production", "LOG_FORMAT": "plain"}, False),
        ({"ABONENT_ENV": "development"}, False),
    ],
)
def test_its_own_lines_follow_log_format(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], json_lines: bool
) -> None:
    assert ("logconfig_dict" in _settings(monkeypatch, **env)) is json_lines


def _get(url: str) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, dict(answer.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


def test_an_app_server_under_log_format_json_writes_only_json_lines(tmp_path: Path) -> None:
    """A real gunicorn: its start, its worker's boot, the application's request line and its
    shutdown are each one JSON object with a UTC time; nothing else reaches its output."""
    port = free_port()
    env = {
        **os.environ,
        "ABONENT_ENV": "development",
        "ABONENT_VAR_DIR": str(tmp_path),
        "LOG_FORMAT": "json",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
        "APP_SERVER": "web-test",
    }
    for name in (
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "REDIS_URL",
        "PROMETHEUS_MULTIPROC_DIR",
        "DJANGO_SETTINGS_MODULE",
    ):
        env.pop(name, None)
    log = tmp_path / "web.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(GUNICORN), "-c", "python:abonent.config.gunicorn"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    status, headers = _get(f"http://127.0.0.1:{port}/healthz")
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"gunicorn did not start:\n{log.read_text()}")
                    time.sleep(0.2)
            assert status in {200, 503}
            request_id = headers["X-Request-ID"]  # /healthz itself is logged at DEBUG only
            assert _get(f"http://127.0.0.1:{port}/login/")[0] == 200
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)

    lines = [line for line in log.read_text().splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON line: {line!r}\n\n" + "\n".join(lines))
    for record in records:
        assert record["ts"].endswith("Z"), record
        assert {"level", "logger", "message"} <= record.keys(), record
    messages = [(r["logger"], r["message"]) for r in records]
    assert any(logger == "gunicorn.error" and message.startswith("Starting gunicorn") for logger, message in messages)
    assert any(logger == "gunicorn.error" and message.startswith("Booting worker") for logger, message in messages)
    assert any(logger == "gunicorn.error" and "Shutting down" in message for logger, message in messages)
    login = [r for r in records if r["logger"] == "abonent.request" and "/login/" in r["message"]]
    assert len(login) == 1, messages  # once: neither gunicorn's access log nor a second handler
    assert login[0]["role"] == "web-test"
    assert login[0]["request_id"] != request_id  # each request its own id
