"""Shared fixtures: suppliers and accounts built through the services, outside servers
(Redis, Chromium) started for real where a test needs them."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from abonent.core.models import Supplier
from abonent.core.services import supplier_create

# In CI every outside part must be there: a missing one fails the run instead of skipping.
REQUIRE_SERVICES = os.environ.get("ABONENT_REQUIRE_SERVICES") == "1"


def need_binary(name: str, path: str | None = None) -> str:
    """The path of a program a test needs; skip (or fail in CI) when it is not installed."""
    found = path if path and os.path.exists(path) else shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed (apt-get install {name})"
    if REQUIRE_SERVICES:
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, *, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


_DB_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences", "django_user_model"}


@pytest.fixture(autouse=True)
def _migration_data(request: pytest.FixtureRequest) -> None:
    """What migrate leaves in the database (the consent texts of the identity data
    migration, the penalty rates of the billing one, the staff roles), for every test that uses the database: a transactional
    test earlier on the same worker flushes every table, migration data included."""
    if request.node.get_closest_marker("django_db") is None and not _DB_FIXTURES & set(request.fixturenames):
        return
    request.getfixturevalue("_django_db_helper")
    from django.apps import apps
    from django.contrib.auth.models import Group
    from django.core.management.sql import emit_post_migrate_signal

    from abonent.billing.models import KeyRate
    from abonent.identity.models import ConsentDocument

    if not ConsentDocument.objects.exists():
        importlib.import_module("abonent.identity.migrations.0003_consent_documents").forwards(apps, None)
    if not KeyRate.objects.exists():  # the key rates, caps and moratoria of the billing data migration
        importlib.import_module("abonent.billing.migrations.0002_penalty_rates").forwards(apps, None)
    if not Group.objects.filter(permissions__isnull=False).exists():
        # content types, permissions and the staff roles, as after migrate
        emit_post_migrate_signal(verbosity=0, interactive=False, db="default")


@pytest.fixture(autouse=True)
def _russian() -> Iterator[None]:
    """Every test starts in Russian, whatever language a request of an earlier test on
    the same worker left active."""
    from django.utils import translation

    with translation.override("ru"):
        yield


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Argon2 is measured in benchmarks; tests use a fast hasher unless they test hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


SUPPLIER_MOSCOW: dict[str, Any] = {
    "code": "gaz-msk",
    "short_name": "Газпром межрегионгаз Москва",
    "legal_name": 'ООО "Газпром межрегионгаз Москва"',
    "inn": "7707083893",
    "kpp": "773601001",
    "ogrn": "1027700132195",
    "legal_address": "117393, г. Москва, ул. Профсоюзная, д. 3",
    "hotline_phone": "8 800 100-00-01",
    "email": "info@gaz-msk.example",
    "site": "https://gaz-msk.example",
    "feedback_url": "https://gaz-msk.example/feedback",
    "office_hours": "пн–пт 8:00–20:00",
    "time_zone": "Europe/Moscow",
    "bank_name": "ПАО Сбербанк",
    "bic": "044525225",
    "settlement_account": "40702810938000000001",
    "correspondent_account": "30101810400000000225",
}


@pytest.fixture
def supplier(db: None) -> Supplier:
    return supplier_create(**SUPPLIER_MOSCOW)


@pytest.fixture
def today() -> dt.date:
    return dt.date(2026, 11, 22)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free local port, for the test session."""
    binary = need_binary("redis-server")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        if not wait_for_port(port):
            pytest.fail("redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
