"""Whether the parts the install depends on answer: the database and, when set, the broker."""

from __future__ import annotations

import time
from dataclasses import dataclass

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, connections


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    ms: float


def _timed(name: str, probe) -> Check:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    try:
        detail = probe()
        ok = True
    except Exception as exc:  # noqa: BLE001 - any failure of the dependency is the answer
        detail = f"{type(exc).__name__}: {exc}".strip()[:300]
        ok = False
    return Check(name=name, ok=ok, detail=detail, ms=round((time.perf_counter() - started) * 1000, 1))


def _database() -> str:
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        connection.close()  # do not keep a broken connection for the next request
        raise
    return connection.vendor


def _broker() -> str:
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
        conn.default_channel  # noqa: B018 - opens the channel, which pings the broker
        return str(conn.transport.driver_type)


def health_checks() -> list[Check]:
    checks = [_timed("database", _database)]
    if settings.CELERY_BROKER_URL:
        checks.append(_timed("broker", _broker))
    return checks
