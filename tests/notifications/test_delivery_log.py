"""The delivery log: sent on commit, retried with a growing pause, purged, never sent twice."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection, transaction

from abonent.core.errors import ValidationFailed
from abonent.notifications import tasks
from abonent.notifications.enums import Channel, DeliveryStatus, Provider
from abonent.notifications.models import Delivery, OutboxMessage
from abonent.notifications.services import (
    CLAIM_LEASE,
    SweepSummary,
    deliveries_retry_due,
    delivery_attempt,
    email_send,
    message_send,
    sms_send,
)
from tests.notifications.conftest import FakeSmsRu

Capture = Callable[..., AbstractContextManager[Any]]
T0 = dt.datetime(2026, 11, 22, 6, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


def texts(fake: FakeSmsRu) -> list[str]:
    return [r.form["msg"][0] for r in fake.requests]


# --- On commit ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_send_in_a_transaction_that_rolls_back_sends_nothing_and_leaves_no_delivery(smsru: FakeSmsRu) -> None:
    def use_case() -> None:
        with transaction.atomic():
            sms_send(phone="+79161234567", text="Код: 111111")
            raise RuntimeError("the use case failed after asking for the SMS")

    with pytest.raises(RuntimeError):
        use_case()

    assert Delivery.objects.count() == 0
    assert smsru.requests == []
    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_send_in_a_transaction_goes_out_when_it_commits(smsru: FakeSmsRu) -> None:
    with transaction.atomic():
        delivery = sms_send(phone="+79161234567", text="Код: 222222")
        assert smsru.requests == []

    assert texts(smsru) == ["Код: 222222"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.provider_message_id) == (
        DeliveryStatus.SENT,
        1,
        "000000-10000001",
    )


@pytest.mark.django_db(transaction=True)
def test_without_a_transaction_the_message_goes_out_at_once(smsru: FakeSmsRu) -> None:
    delivery = sms_send(phone="+79161234567", text="Код: 333333")

    assert texts(smsru) == ["Код: 333333"]
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SENT


# --- What is logged -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_outbox_keeps_the_sms_while_the_log_purges_its_text(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        created = sms_send(phone="+79161234567", text="Код: 654321", kind="confirmation_code", now=T0)

    assert (created.status, created.body, created.created_at, created.next_attempt_at) == (
        DeliveryStatus.PENDING,
        "Код: 654321",
        T0,
        T0,
    )
    message = OutboxMessage.objects.get()
    assert (message.channel, message.recipient, message.body) == (Channel.SMS, "+79161234567", "Код: 654321")
    delivery = Delivery.objects.get()
    assert (
        delivery.channel,
        delivery.kind,
        delivery.status,
        delivery.provider,
        delivery.provider_message_id,
        delivery.body,
        delivery.body_purged,
        delivery.created_at,
    ) == (Channel.SMS, "confirmation_code", DeliveryStatus.SENT, Provider.OUTBOX, f"outbox-{message.pk}", "", True, T0)


@pytest.mark.django_db
def test_email_through_another_django_backend_is_logged_as_such(django_capture_on_commit_callbacks: Capture) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # the test runner's locmem backend
        email_send(to="maria@example.org", subject="Счёт за ноябрь", body="Счёт готов")

    [message] = mail.outbox
    delivery = Delivery.objects.get()
    assert (message.to, message.subject, message.body, message.from_email) == (
        ["maria@example.org"],
        "Счёт за ноябрь",
        "Счёт готов",
        django_settings.DEFAULT_FROM_EMAIL,
    )
    assert (delivery.status, delivery.provider, delivery.provider_message_id) == (
        DeliveryStatus.SENT,
        Provider.BACKEND,
        message.extra_headers["Message-ID"],
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"channel": "fax"}, {"channel": ["Канал 'fax' не поддерживается: укажите email, sms или push"]}),
        ({"recipient": "  "}, {"recipient": ["Укажите получателя"]}),
        ({"recipient": "a" * 321}, {"recipient": ["Адрес получателя длиннее 320 символов"]}),
        ({"body": " \n"}, {"body": ["Сообщение без текста не отправляется"]}),
        ({"subject": "Тема\nBcc: all@example.org"}, {"subject": ["Тема — одна строка не длиннее 300 символов"]}),
        ({"kind": "Код!"}, {"kind": ["Вид сообщения — латинские строчные буквы, цифры и _, до 40 символов"]}),
    ],
)
def test_bad_input_is_refused_and_nothing_is_logged_or_sent(
    django_capture_on_commit_callbacks: Capture, fields: dict[str, str], errors: dict[str, list[str]]
) -> None:
    message: dict[str, Any] = {"channel": "sms", "recipient": "+79161234567", "body": "Код: 1", "now": T0, **fields}

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(ValidationFailed) as exc:
        message_send(**message)

    assert (exc.value.code, exc.value.errors) == ("validation_failed", errors)
    assert callbacks == []
    assert Delivery.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


# --- Retries --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_six_failed_attempts_with_pauses_of_1_2_4_8_16_minutes_then_failed(smsru: FakeSmsRu) -> None:
    smsru.http_status = 503
    delivery = sms_send(phone="+79161234567", text="Код: 777777", now=T0)  # not attempted: nothing commits here

    now = T0
    seen = []
    for _ in range(6):
        assert deliveries_retry_due(now=now) != SweepSummary()
        delivery.refresh_from_db()
        seen.append((delivery.status, delivery.attempts, delivery.last_attempt_at, delivery.next_attempt_at))
        if delivery.next_attempt_at is not None:
            now = delivery.next_attempt_at

    minutes = [T0 + dt.timedelta(minutes=m) for m in (0, 1, 3, 7, 15, 31)]
    retrying = DeliveryStatus.RETRYING
    assert seen == [
        (retrying, 1, minutes[0], minutes[0] + 1 * MINUTE),
        (retrying, 2, minutes[1], minutes[1] + 2 * MINUTE),
        (retrying, 3, minutes[2], minutes[2] + 4 * MINUTE),
        (retrying, 4, minutes[3], minutes[3] + 8 * MINUTE),
        (retrying, 5, minutes[4], minutes[4] + 16 * MINUTE),
        (DeliveryStatus.FAILED, 6, minutes[5], None),
    ]
    assert texts(smsru) == ["Код: 777777"] * 6
    assert (delivery.body, delivery.body_purged, delivery.sent_at, delivery.last_error) == (
        "",
        True,
        None,
        "SMS.ru ответил HTTP 503 Service Unavailable",
    )
    # Failed is final
    assert deliveries_retry_due(now=now + dt.timedelta(days=1)) == SweepSummary()
    assert delivery_attempt(delivery_id=delivery.pk, now=now + dt.timedelta(days=1)) is None
    assert len(smsru.requests) == 6


@pytest.mark.django_db
def test_the_sweep_attempts_due_deliveries_oldest_first_and_leaves_the_rest(smsru: FakeSmsRu) -> None:
    later = sms_send(phone="+79161234502", text="второе", now=T0 + MINUTE)
    first = sms_send(phone="+79161234501", text="первое", now=T0)
    not_due = sms_send(phone="+79161234503", text="не пора", now=T0 + 2 * MINUTE)

    summary = deliveries_retry_due(now=T0 + MINUTE)

    assert summary == SweepSummary(sent=2)
    assert summary.attempted == 2
    assert texts(smsru) == ["первое", "второе"]
    assert dict(Delivery.objects.values_list("pk", "status")) == {
        first.pk: DeliveryStatus.SENT,
        later.pk: DeliveryStatus.SENT,
        not_due.pk: DeliveryStatus.PENDING,
    }
    assert Delivery.objects.get(pk=not_due.pk).attempts == 0


@pytest.mark.django_db
def test_the_sweep_stops_at_its_limit(smsru: FakeSmsRu) -> None:
    for n in range(3):
        sms_send(phone="+79161234567", text=f"№{n}", now=T0)

    assert deliveries_retry_due(now=T0, limit=2) == SweepSummary(sent=2)
    assert deliveries_retry_due(now=T0, limit=2) == SweepSummary(sent=1)
    assert texts(smsru) == ["№0", "№1", "№2"]


@pytest.mark.django_db
def test_the_sweep_counts_what_happened(smsru: FakeSmsRu) -> None:
    sms_send(phone="+79161234567", text="уйдёт", now=T0)
    sms_send(phone="+7 916", text="неверный номер", now=T0)
    email_send(to="maria@example.org", subject="Тема", body="письмо", now=T0)  # locmem: goes

    assert deliveries_retry_due(now=T0) == SweepSummary(sent=2, retrying=0, failed=1)

    smsru.http_status = 503
    sms_send(phone="+79161234567", text="повторится", now=T0)
    assert deliveries_retry_due(now=T0) == SweepSummary(retrying=1)


@pytest.mark.django_db
def test_the_first_attempt_runs_whenever_its_job_does_and_a_retry_waits_until_due(smsru: FakeSmsRu) -> None:
    smsru.http_status = 503
    delivery = sms_send(phone="+79161234567", text="Код: 1", now=T0)
    early = T0 - dt.timedelta(hours=1)  # a worker whose clock is behind the sender's

    assert delivery_attempt(delivery_id=delivery.pk, now=early) == DeliveryStatus.RETRYING
    assert Delivery.objects.get().next_attempt_at == early + MINUTE
    assert delivery_attempt(delivery_id=delivery.pk, now=early + MINUTE - dt.timedelta(seconds=1)) is None
    smsru.http_status = None
    assert delivery_attempt(delivery_id=delivery.pk, now=early + MINUTE) == DeliveryStatus.SENT
    assert delivery_attempt(delivery_id=delivery.pk, now=T0 + dt.timedelta(days=1)) is None  # sent already
    assert delivery_attempt(delivery_id=delivery.pk + 1000, now=T0) is None  # no such delivery
    assert texts(smsru) == ["Код: 1", "Код: 1"]
    assert Delivery.objects.get().attempts == 2


@pytest.mark.django_db
def test_a_claimed_delivery_whose_worker_died_is_retried_after_the_lease(smsru: FakeSmsRu) -> None:
    delivery = sms_send(phone="+79161234567", text="Код: 1", now=T0)
    # A worker claimed it and died before it could send or record anything
    Delivery.objects.filter(pk=delivery.pk).update(attempts=1, next_attempt_at=T0 + CLAIM_LEASE)

    assert deliveries_retry_due(now=T0 + CLAIM_LEASE - dt.timedelta(seconds=1)) == SweepSummary()
    assert deliveries_retry_due(now=T0 + CLAIM_LEASE) == SweepSummary(sent=1)
    assert Delivery.objects.get().attempts == 2
    assert texts(smsru) == ["Код: 1"]


@pytest.mark.django_db
def test_the_celery_tasks_run_the_services(smsru: FakeSmsRu) -> None:
    # The tasks read the clock: these are due by then
    first = sms_send(phone="+79161234567", text="через delivery_attempt", now=T0 - dt.timedelta(days=365))
    sms_send(phone="+79161234567", text="через beat", now=T0 - dt.timedelta(days=365))

    tasks.delivery_attempt.apply(kwargs={"delivery_id": first.pk})
    tasks.deliveries_retry_due.apply()

    assert texts(smsru) == ["через delivery_attempt", "через beat"]
    assert django_settings.CELERY_BEAT_SCHEDULE["deliveries-retry-due"] == {
        "task": "abonent.notifications.tasks.deliveries_retry_due",
        "schedule": 60.0,
    }
    assert tasks.deliveries_retry_due.name == "abonent.notifications.tasks.deliveries_retry_due"


# --- Two workers at once --------------------------------------------------------------------


def pending(text: str, now: dt.datetime = T0) -> Delivery:
    """A delivery as ``sms_send`` logs it, before its first attempt (in these tests every
    statement commits at once, and the attempt must wait for the sweeps under test)."""
    return Delivery.objects.create(
        channel=Channel.SMS, recipient="+79161234567", body=text, created_at=now, next_attempt_at=now
    )


def in_thread(target: Callable[[], Any]) -> threading.Thread:
    """Run ``target`` as another worker would: in its own thread, on its own connection."""

    def run() -> None:
        try:
            target()
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_a_sweep_does_not_send_what_another_sweep_is_sending(smsru: FakeSmsRu) -> None:
    """The same on SQLite and PostgreSQL: a sweep's claim is committed before it calls the
    provider, and a claimed row is not due for anybody else until its lease runs out."""
    first, second = pending("первое"), pending("второе")
    smsru.hold, smsru.hold_first_only = threading.Event(), True
    results: dict[str, SweepSummary] = {}

    worker_a = in_thread(lambda: results.setdefault("a", deliveries_retry_due(now=T0)))
    assert smsru.holding.wait(10), "sweep A did not reach SMS.ru"  # A holds "первое" and waits for SMS.ru
    results["b"] = deliveries_retry_due(now=T0)  # B meanwhile: only "второе" is due for it
    smsru.hold.set()
    worker_a.join(10)

    assert results == {"a": SweepSummary(sent=1), "b": SweepSummary(sent=1)}
    assert texts(smsru) == ["первое", "второе"]
    assert list(Delivery.objects.order_by("pk").values_list("pk", "status", "attempts")) == [
        (first.pk, DeliveryStatus.SENT, 1),
        (second.pk, DeliveryStatus.SENT, 1),
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_workers_racing_for_one_delivery_send_it_once(smsru: FakeSmsRu) -> None:
    """Eight workers try the same delivery at the same moment: one claims it, the others skip
    the locked row or find it claimed. (SQLite: see the next test.)"""
    if connection.vendor != "postgresql":
        pytest.skip("the SQLite test database is in memory, where concurrent writers fail instead of waiting")
    delivery = pending("один раз")
    start = threading.Barrier(8)
    outcomes: list[DeliveryStatus | None] = []

    def worker() -> None:
        start.wait(10)
        outcomes.append(delivery_attempt(delivery_id=delivery.pk, now=T0))

    for thread in [in_thread(worker) for _ in range(8)]:
        thread.join(30)

    assert sorted(outcomes, key=str) == [None] * 7 + [DeliveryStatus.SENT]
    assert texts(smsru) == ["один раз"]
    assert Delivery.objects.get().attempts == 1


RACE_ON_SQLITE_FILE = """
import datetime as dt, os, threading
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from abonent.notifications.models import Delivery
from abonent.notifications.services import delivery_attempt

call_command("migrate", verbosity=0)
now = dt.datetime.fromisoformat(os.environ["NOW"])
delivery = Delivery.objects.create(channel="sms", recipient="+79161234567", body="один раз", created_at=now, next_attempt_at=now)
start = threading.Barrier(6)
outcomes = []

def worker():
    try:
        start.wait(10)
        outcomes.append(str(delivery_attempt(delivery_id=delivery.pk, now=now)))
    finally:
        connection.close()

threads = [threading.Thread(target=worker) for _ in range(6)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(60)
print(" ".join(sorted(outcomes)))
"""


def test_on_sqlite_workers_racing_for_one_delivery_send_it_once(tmp_path: Path) -> None:
    """The embedded default on a real SQLite file (WAL), six workers on their own connections:
    a claim's transaction starts with BEGIN IMMEDIATE, which takes the database's write lock,
    so claims run one after another and the later ones find the delivery claimed."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SMS", "EMAIL_", "CELERY_"))},
        "DJANGO_SETTINGS_MODULE": "abonent.config.settings",
        "ABONENT_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'abonent.sqlite3'}",
        "SMS_PROVIDER": "outbox",
        "NOW": T0.isoformat(),
    }

    done = subprocess.run(
        [sys.executable, "-c", RACE_ON_SQLITE_FILE], env=env, capture_output=True, text=True, timeout=120, check=False
    )

    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "None None None None None sent\n"
    with sqlite3.connect(tmp_path / "abonent.sqlite3") as db:
        assert db.execute("SELECT recipient, body FROM notifications_outboxmessage").fetchall() == [
            ("+79161234567", "один раз")
        ]
        assert db.execute("SELECT status, attempts, body FROM notifications_delivery").fetchall() == [("sent", 1, "")]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_sweep_skips_a_row_another_worker_holds_locked(smsru: FakeSmsRu) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; on SQLite BEGIN IMMEDIATE makes claims wait their turn")
    locked, free = pending("занято"), pending("свободно")
    holding, release = threading.Event(), threading.Event()

    def other_worker() -> None:  # in the middle of claiming "занято"
        with transaction.atomic():
            Delivery.objects.select_for_update().get(pk=locked.pk)
            holding.set()
            release.wait(30)

    thread = in_thread(other_worker)
    assert holding.wait(10)
    try:
        summary = deliveries_retry_due(now=T0)  # does not wait for the lock: skips the row
    finally:
        release.set()
        thread.join(10)

    assert summary == SweepSummary(sent=1)
    assert texts(smsru) == ["свободно"]
    assert list(Delivery.objects.order_by("pk").values_list("pk", "status", "attempts")) == [
        (locked.pk, DeliveryStatus.PENDING, 0),
        (free.pk, DeliveryStatus.SENT, 1),
    ]
