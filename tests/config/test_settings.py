"""The settings read from the environment: the production profile and bad values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PRODUCTION = {
    "ABONENT_ENV": "production",
    "SECRET_KEY": "k" * 20 + "-production-secret-for-the-test-0123456789",
    "ALLOWED_HOSTS": "lk.gaz.example",
    "DATABASE_URL": "postgres://abonent:secret@db.internal:5432/abonent",
    "PAYMENT_GATEWAY": "yookassa",
    "YOOKASSA_SHOPS": "gaz-msk=123456:live_secret",
}


def abonent(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "ABONENT_ENV"}}
    return subprocess.run(
        [sys.executable, "-m", "abonent", *args],
        env={**clean, "ABONENT_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_profile_passes_check_deploy_with_no_warnings(tmp_path: Path) -> None:
    done = abonent(tmp_path, PRODUCTION, "check", "--deploy", "--fail-level", "WARNING")

    assert done.returncode == 0, done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


def test_production_profile_settings(tmp_path: Path) -> None:
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_NAME, s.SECURE_HSTS_SECONDS, "
        "s.SESSION_COOKIE_AGE, s.DEBUG, s.DEMO_OUTBOX_PAGE)"
    )
    done = abonent(tmp_path, PRODUCTION, "shell", "-c", code)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "True True __Host-sessionid 31536000 43200 False False"


def test_production_without_secret_key_refuses_to_start(tmp_path: Path) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}

    done = abonent(tmp_path, env, "check")

    assert done.returncode != 0
    assert "SECRET_KEY is required when ABONENT_ENV=production" in done.stderr
    assert not (tmp_path / "secret_key").exists()


def test_short_secret_key_is_refused_in_production(tmp_path: Path) -> None:
    done = abonent(tmp_path, {**PRODUCTION, "SECRET_KEY": "short"}, "check")

    assert "SECRET_KEY must be at least 50 characters long in production" in done.stderr


def test_production_needs_allowed_hosts(tmp_path: Path) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "ALLOWED_HOSTS"}

    done = abonent(tmp_path, env, "check")

    assert "ALLOWED_HOSTS is required when ABONENT_ENV=production" in done.stderr


def test_embedded_default_generates_the_secret_key_once(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    code = "from django.conf import settings; print(settings.SECRET_KEY)"

    first = abonent(tmp_path, env, "shell", "-c", code)
    second = abonent(tmp_path, env, "shell", "-c", code)

    key = (tmp_path / "secret_key").read_text()
    assert first.stdout.strip().splitlines()[-1] == key == second.stdout.strip().splitlines()[-1]
    assert len(key) >= 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_bad_values_are_named(tmp_path: Path) -> None:
    cases = {
        ("DEBUG", "maybe"): "DEBUG='maybe': expected one of 1/0, true/false, yes/no, on/off",
        ("ABONENT_ENV", "staging"): "ABONENT_ENV='staging': expected development, test or production",
        ("DATABASE_URL", "mysql://x@y/z"): "DATABASE_URL: only sqlite:// and postgres:// are supported",
        ("DB_CONN_MAX_AGE", "ten"): "DB_CONN_MAX_AGE='ten': expected a whole number",
        ("SMS_PROVIDER", "pigeon"): "SMS_PROVIDER='pigeon': expected outbox",
    }
    for (name, value), message in cases.items():
        done = abonent(tmp_path, {name: value}, "check")

        assert done.returncode != 0, name
        assert message in done.stderr, (name, done.stderr[-500:])
