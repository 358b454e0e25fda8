import subprocess
import sys

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz_reports_the_database(client: Client) -> None:
    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


def test_metrics_count_requests_in_prometheus_format(client: Client) -> None:
    client.get("/healthz")

    response = client.get("/metrics")

    text = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "# TYPE django_http_requests_total_by_method_total counter" in text
    assert 'django_http_requests_total_by_method_total{method="GET"}' in text


def test_security_headers_on_every_page(client: Client) -> None:
    response = client.get("/healthz")

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_command_line_runs_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "abonent", "help", "seed"], capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 0, done.stderr
    assert "--accounts" in done.stdout


def test_a_form_without_csrf_token_gets_a_russian_page() -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post("/login/", {"login": "+79123456789", "password": "x"})

    assert response.status_code == 403
    assert "Форма устарела" in response.content.decode()
