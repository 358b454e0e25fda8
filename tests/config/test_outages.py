"""The app when the database or the broker is down: started in a separate process with
settings that point at a port where nothing listens, as an operator's misconfigured or
failed server would look."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import free_port

PROBE = textwrap.dedent(
    """
    import json, os, sys
    os.environ["DJANGO_SETTINGS_MODULE"] = "abonent.config.settings"
    import django
    django.setup()
    from django.test import Client
    client = Client(raise_request_exception=False)
    out = {}
    for path in sys.argv[1:]:
        r = client.get(path)
        out[path] = {"status": r.status_code, "type": r["Content-Type"], "body": r.content.decode()}
    print(json.dumps(out))
    """
)


def probe(tmp_path: Path, env: dict[str, str], *paths: str) -> dict[str, dict]:
    full_env = {**os.environ, "ABONENT_VAR_DIR": str(tmp_path), "LOG_LEVEL": "CRITICAL", **env}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *paths], env=full_env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


DB_DOWN = {"DATABASE_URL": f"postgres://abonent@127.0.0.1:{free_port()}/abonent?connect_timeout=2"}


class TestDatabaseDown:
    def test_healthz_is_503_with_a_clear_body(self, tmp_path: Path) -> None:
        result = probe(tmp_path, DB_DOWN, "/healthz")["/healthz"]

        assert result["status"] == 503
        assert result["type"] == "application/json"
        body = json.loads(result["body"])
        assert body["status"] == "unavailable"
        assert body["checks"]["database"]["ok"] is False
        assert body["checks"]["database"]["detail"].startswith("OperationalError: connection")
        assert "broker" not in body["checks"]

    def test_api_answers_500_problem(self, tmp_path: Path) -> None:
        result = probe(tmp_path, DB_DOWN, "/api/v1/suppliers")["/api/v1/suppliers"]

        assert result["status"] == 500
        assert result["type"] == "application/problem+json"
        assert json.loads(result["body"]) == {
            "type": "urn:abonent:problem:server_error",
            "title": "Внутренняя ошибка сервера",
            "status": 500,
            "detail": "Мы уже знаем об ошибке и исправляем её. Повторите попытку позже.",
            "instance": "/api/v1/suppliers",
            "code": "server_error",
        }

    def test_portal_answers_500_page(self, tmp_path: Path) -> None:
        result = probe(tmp_path, DB_DOWN, "/")["/"]

        assert result["status"] == 500
        assert result["type"] == "text/html; charset=utf-8"
        assert "Внутренняя ошибка сервера" in result["body"]


class TestBroker:
    def test_broker_down_makes_healthz_503(self, tmp_path: Path) -> None:
        env = {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0",
        }

        body = json.loads(probe(tmp_path, env, "/healthz")["/healthz"]["body"])

        assert body["status"] == "unavailable"
        assert body["checks"]["database"]["ok"] is True
        assert body["checks"]["broker"]["ok"] is False

    @pytest.mark.redis
    def test_broker_up_makes_healthz_200(self, tmp_path: Path, redis_url: str) -> None:
        env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "CELERY_BROKER_URL": redis_url}

        result = probe(tmp_path, env, "/healthz")["/healthz"]

        assert result["status"] == 200
        body = json.loads(result["body"])
        assert body["checks"]["broker"] == {"ok": True, "detail": "redis", "ms": body["checks"]["broker"]["ms"]}
