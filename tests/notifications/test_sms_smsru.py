"""SMS through the SMS.ru HTTP API, against a local server that speaks its protocol."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from pytest_django.fixtures import Settings

from abonent.core import clock
from abonent.notifications.enums import DeliveryStatus, Provider
from abonent.notifications.models import Delivery, OutboxMessage
from abonent.notifications.providers.smsru import PERMANENT_CODES
from abonent.notifications.services import SweepSummary, deliveries_retry_due, sms_send
from tests.conftest import free_port
from tests.notifications.conftest import SMSRU_API_ID, FakeSmsRu, SmsRuRequest

pytestmark = pytest.mark.django_db

Capture = Callable[..., AbstractContextManager[Any]]
TEXT = "Код для входа в личный кабинет: 482913. Никому его не сообщайте."
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"


def send(capture: Capture, phone: str = "+79161234567", kind: str = "confirmation_code") -> Delivery:
    with capture(execute=True):
        delivery = sms_send(phone=phone, text=TEXT, kind=kind)
    delivery.refresh_from_db()
    return delivery


def state(delivery: Delivery) -> tuple[Any, ...]:
    return (delivery.status, delivery.attempts, delivery.provider, delivery.body, delivery.body_purged)


def assert_retry_in_a_minute(delivery: Delivery, error: str) -> None:
    assert state(delivery) == (DeliveryStatus.RETRYING, 1, Provider.SMSRU, TEXT, False)
    assert delivery.last_error == error
    assert delivery.last_attempt_at is not None
    assert delivery.next_attempt_at == delivery.last_attempt_at + dt.timedelta(minutes=1)
    assert (delivery.sent_at, delivery.provider_message_id) == (None, "")


def test_an_sms_goes_out_through_smsru(
    smsru: FakeSmsRu, settings: Settings, django_capture_on_commit_callbacks: Capture
) -> None:
    settings.SMSRU_FROM = "GAZ-MSK"
    before = clock.now()

    delivery = send(django_capture_on_commit_callbacks)

    assert smsru.requests == [
        SmsRuRequest(
            method="POST",
            path="/sms/send",
            content_type=FORM_CONTENT_TYPE,
            form={"api_id": [SMSRU_API_ID], "to": ["79161234567"], "msg": [TEXT], "json": ["1"], "from": ["GAZ-MSK"]},
        )
    ]
    assert state(delivery) == (DeliveryStatus.SENT, 1, Provider.SMSRU, "", True)
    assert (delivery.provider_message_id, delivery.kind, delivery.recipient, delivery.last_error) == (
        "000000-10000001",
        "confirmation_code",
        "+79161234567",
        "",
    )
    assert delivery.sent_at is not None
    assert before <= delivery.sent_at <= clock.now()
    assert (delivery.last_attempt_at, delivery.next_attempt_at) == (delivery.sent_at, None)
    assert OutboxMessage.objects.count() == 0


def test_without_a_sender_name_the_from_field_is_left_out(
    smsru: FakeSmsRu, django_capture_on_commit_callbacks: Capture
) -> None:
    send(django_capture_on_commit_callbacks)

    assert [sorted(r.form) for r in smsru.requests] == [["api_id", "json", "msg", "to"]]


def test_an_invalid_number_fails_at_once_and_is_not_retried(
    smsru: FakeSmsRu, django_capture_on_commit_callbacks: Capture
) -> None:
    delivery = send(django_capture_on_commit_callbacks, phone="+7 916 123")

    assert [r.form["to"] for r in smsru.requests] == [["7916123"]]
    assert state(delivery) == (DeliveryStatus.FAILED, 1, Provider.SMSRU, "", True)
    assert delivery.last_error == (
        "SMS.ru отклонил номер 7916123: 202 Неправильно указан номер телефона получателя, либо на него нет маршрута"
    )
    assert (delivery.next_attempt_at, delivery.sent_at, delivery.provider_message_id) == (None, None, "")

    assert deliveries_retry_due(now=clock.now() + dt.timedelta(days=1)) == SweepSummary()
    assert len(smsru.requests) == 1


def test_http_503_is_retried_in_a_minute(smsru: FakeSmsRu, django_capture_on_commit_callbacks: Capture) -> None:
    smsru.http_status = 503

    delivery = send(django_capture_on_commit_callbacks)

    assert len(smsru.requests) == 1
    assert_retry_in_a_minute(delivery, "SMS.ru ответил HTTP 503 Service Unavailable")


def test_refused_connection_is_retried_in_a_minute(
    settings: Settings, django_capture_on_commit_callbacks: Capture
) -> None:
    port = free_port()  # nothing listens there
    settings.SMS_PROVIDER = "smsru"
    settings.SMSRU_URL = f"http://127.0.0.1:{port}"
    settings.SMSRU_API_ID = SMSRU_API_ID

    delivery = send(django_capture_on_commit_callbacks)

    assert_retry_in_a_minute(
        delivery, f"нет связи с SMS.ru (http://127.0.0.1:{port}/sms/send): [Errno 111] Connection refused"
    )


def test_a_server_slower_than_sms_timeout_is_retried_in_a_minute(
    smsru: FakeSmsRu, settings: Settings, django_capture_on_commit_callbacks: Capture
) -> None:
    settings.SMS_TIMEOUT = 0.3
    smsru.delay = 5

    delivery = send(django_capture_on_commit_callbacks)

    # The request reached SMS.ru: a retry after a timeout may send the SMS twice (at least once)
    assert len(smsru.requests) == 1
    assert_retry_in_a_minute(delivery, "SMS.ru не ответил за 0.3 с")


def test_an_answer_that_is_not_json_is_retried_with_a_clear_error(
    smsru: FakeSmsRu, django_capture_on_commit_callbacks: Capture
) -> None:
    smsru.raw_answer = b"<html><body>502 Bad Gateway</body></html>"

    delivery = send(django_capture_on_commit_callbacks)

    assert_retry_in_a_minute(delivery, "SMS.ru ответил не JSON: b'<html><body>502 Bad Gateway</body></html>'")


def test_json_without_the_number_is_retried(smsru: FakeSmsRu, django_capture_on_commit_callbacks: Capture) -> None:
    smsru.raw_answer = b'{"status": "OK", "status_code": 100, "sms": {}, "balance": 10.5}'

    delivery = send(django_capture_on_commit_callbacks)

    assert_retry_in_a_minute(
        delivery,
        'в ответе SMS.ru нет номера 79161234567: {"status": "OK", "status_code": 100, "sms": {}, "balance": 10.5}',
    )


def test_a_wrong_api_id_is_retried_so_the_message_goes_out_once_an_operator_fixes_the_key(
    smsru: FakeSmsRu, settings: Settings, django_capture_on_commit_callbacks: Capture
) -> None:
    settings.SMSRU_API_ID = "WRONG"

    delivery = send(django_capture_on_commit_callbacks)

    assert_retry_in_a_minute(delivery, "SMS.ru отклонил запрос: 200 Неправильный api_id")

    settings.SMSRU_API_ID = SMSRU_API_ID
    assert delivery.next_attempt_at is not None
    assert deliveries_retry_due(now=delivery.next_attempt_at) == SweepSummary(sent=1)
    assert [r.form["api_id"] for r in smsru.requests] == [["WRONG"], [SMSRU_API_ID]]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.provider_message_id) == (
        DeliveryStatus.SENT,
        2,
        "000000-10000001",
    )


@pytest.mark.parametrize(
    ("level", "code", "text", "status"),
    [
        ("request", 201, "Не хватает средств на лицевом счету", DeliveryStatus.RETRYING),
        ("request", 220, "Сервис временно недоступен, попробуйте чуть позже", DeliveryStatus.RETRYING),
        ("request", 500, "Ошибка на сервере. Повторите запрос.", DeliveryStatus.RETRYING),
        ("request", 999, "Код, которого нет в документации", DeliveryStatus.RETRYING),
        ("number", 231, "Превышен лимит одинаковых сообщений на этот номер в минуту", DeliveryStatus.RETRYING),
        ("number", 207, "На этот номер нельзя отправлять сообщения", DeliveryStatus.FAILED),
        ("number", 209, "Вы добавили этот номер в стоп-лист", DeliveryStatus.FAILED),
        ("number", 233, "Превышен лимит отправки повторных сообщений с кодом", DeliveryStatus.FAILED),
        ("request", 216, "В тексте сообщения содержится запрещенное слово", DeliveryStatus.FAILED),
    ],
)
def test_smsru_codes_are_retried_or_final(
    smsru: FakeSmsRu,
    django_capture_on_commit_callbacks: Capture,
    level: str,
    code: int,
    text: str,
    status: DeliveryStatus,
) -> None:
    smsru.error, smsru.error_level = (code, text), level

    delivery = send(django_capture_on_commit_callbacks)

    what = "запрос" if level == "request" else "номер 79161234567"
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        status,
        1,
        f"SMS.ru отклонил {what}: {code} {text}",
    )
    assert (code in PERMANENT_CODES) == (status == DeliveryStatus.FAILED)
    if status == DeliveryStatus.FAILED:
        assert (delivery.next_attempt_at, delivery.body, delivery.body_purged) == (None, "", True)
    else:
        assert delivery.last_attempt_at is not None
        assert delivery.next_attempt_at == delivery.last_attempt_at + dt.timedelta(minutes=1)
        assert (delivery.body, delivery.body_purged) == (TEXT, False)


# --- Settings -------------------------------------------------------------------------------


def run_check(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("SMS", "SMSRU_")) and k != "DJANGO_SETTINGS_MODULE"
    }
    return subprocess.run(
        [sys.executable, "-m", "abonent", "check"],
        env={**base, "ABONENT_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"SMS_PROVIDER": "smsru"},
            "SMS_PROVIDER=smsru needs SMSRU_API_ID: the api_id from the SMS.ru account (Настройки → API)",
        ),
        ({"SMS_PROVIDER": "pigeon"}, "SMS_PROVIDER='pigeon': expected outbox or smsru"),
        ({"SMSRU_URL": "ftp://sms.ru"}, "SMSRU_URL='ftp://sms.ru': expected an http:// or https:// address"),
        ({"SMS_TIMEOUT": "0"}, "SMS_TIMEOUT=0: expected at least 1 second"),
        ({"SMS_TIMEOUT": "fast"}, "SMS_TIMEOUT='fast': expected a whole number"),
    ],
)
def test_bad_sms_settings_are_named(tmp_path: Path, env: dict[str, str], message: str) -> None:
    done = run_check(tmp_path, env)

    assert done.returncode != 0
    assert f"django.core.exceptions.ImproperlyConfigured: {message}\n" in done.stderr, done.stderr[-800:]


def test_smsru_with_an_api_id_passes_the_checks(tmp_path: Path) -> None:
    done = run_check(tmp_path, {"SMS_PROVIDER": "smsru", "SMSRU_API_ID": SMSRU_API_ID, "SMSRU_FROM": "GAZ-MSK"})

    assert done.returncode == 0, done.stderr[-800:]
    assert "System check identified no issues (0 silenced)." in done.stdout
