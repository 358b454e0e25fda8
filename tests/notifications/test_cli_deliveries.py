"""``abonent deliveries list|retry``: the delivery log on the command line."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from pytest_django.fixtures import Settings

from abonent.notifications.enums import DeliveryStatus
from abonent.notifications.models import Delivery
from abonent.notifications.services import delivery_attempt, email_send, sms_send
from tests.conftest import free_port
from tests.notifications.conftest import FakeSmsRu, use_smtp

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 22, 6, 0, tzinfo=dt.UTC)  # 09:00 in Moscow, the back office's zone
MINUTE = dt.timedelta(minutes=1)
LONG_AGO = dt.datetime(2026, 1, 10, 8, 0, tzinfo=dt.UTC)  # due for the command, which reads the clock
ACTIONS = "укажите действие: list — последние сообщения журнала, retry — повторить те, чей срок подошёл"


@dataclass
class Log:
    sent: Delivery
    retrying: Delivery
    pending: Delivery
    failed: Delivery
    smtp_port: int


@pytest.fixture
def log(smsru: FakeSmsRu, settings: Settings) -> Log:
    """One delivery in every state."""
    port = free_port()  # nothing listens there
    use_smtp(settings, port)
    sent = sms_send(phone="+79161234567", text="Код: 111111", kind="confirmation_code", now=T0)
    delivery_attempt(delivery_id=sent.pk, now=T0)
    retrying = email_send(
        to="maria@example.org", subject="Счёт за ноябрь", body="Счёт готов", kind="bill_ready", now=T0 + MINUTE
    )
    delivery_attempt(delivery_id=retrying.pk, now=T0 + MINUTE)
    pending = sms_send(phone="+79990000000", text="Код: 222222", now=T0 + 2 * MINUTE)
    failed = sms_send(phone="+7 916", text="Код: 333333", now=T0 + 3 * MINUTE)
    delivery_attempt(delivery_id=failed.pk, now=T0 + 3 * MINUTE)
    return Log(sent=sent, retrying=retrying, pending=pending, failed=failed, smtp_port=port)


def test_list_shows_the_latest_first_with_their_state_and_never_the_text(
    log: Log, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("deliveries", "list")

    assert capsys.readouterr().out == (
        f"№ {log.failed.pk}  22.11.2026 09:03:00  SMS  message  → +7 916\n"
        "  не доставлено через SMS.ru, попыток: 1\n"
        "  Ошибка: SMS.ru отклонил номер 7916: 202 Неправильно указан номер телефона получателя, либо на него нет маршрута\n"
        f"№ {log.pending.pk}  22.11.2026 09:02:00  SMS  message  → +79990000000\n"
        "  ожидает отправки, попыток: 0, следующая попытка 22.11.2026 09:02:00\n"
        f"№ {log.retrying.pk}  22.11.2026 09:01:00  e-mail  bill_ready  → maria@example.org\n"
        "  Тема: Счёт за ноябрь\n"
        "  будет повторено, попыток: 1, следующая попытка 22.11.2026 09:02:00\n"
        f"  Ошибка: нет связи с SMTP-сервером 127.0.0.1:{log.smtp_port}: [Errno 111] Connection refused\n"
        f"№ {log.sent.pk}  22.11.2026 09:00:00  SMS  confirmation_code  → +79161234567\n"
        "  отправлено 22.11.2026 09:00:00 через SMS.ru, попыток: 1, id у провайдера: 000000-10000001\n"
    )


def test_list_filters_by_status_recipient_and_limit(log: Log, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("deliveries", "list", "--status", "sent")
    call_command("deliveries", "list", "--to", "maria@example.org", "--limit", "1")
    call_command("deliveries", "list", "-n", "1")

    assert capsys.readouterr().out == (
        f"№ {log.sent.pk}  22.11.2026 09:00:00  SMS  confirmation_code  → +79161234567\n"
        "  отправлено 22.11.2026 09:00:00 через SMS.ru, попыток: 1, id у провайдера: 000000-10000001\n"
        f"№ {log.retrying.pk}  22.11.2026 09:01:00  e-mail  bill_ready  → maria@example.org\n"
        "  Тема: Счёт за ноябрь\n"
        "  будет повторено, попыток: 1, следующая попытка 22.11.2026 09:02:00\n"
        f"  Ошибка: нет связи с SMTP-сервером 127.0.0.1:{log.smtp_port}: [Errno 111] Connection refused\n"
        f"№ {log.failed.pk}  22.11.2026 09:03:00  SMS  message  → +7 916\n"
        "  не доставлено через SMS.ru, попыток: 1\n"
        "  Ошибка: SMS.ru отклонил номер 7916: 202 Неправильно указан номер телефона получателя, либо на него нет маршрута\n"
    )


def test_list_says_when_the_log_is_empty(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("deliveries", "list", "--status", "failed")

    assert capsys.readouterr().out == "В журнале доставки нет сообщений.\n"


def test_retry_sends_what_is_due_and_sums_up(smsru: FakeSmsRu, capsys: pytest.CaptureFixture[str]) -> None:
    sms_send(phone="+79161234567", text="Код: 1", now=LONG_AGO)
    sms_send(phone="+7 916", text="Код: 2", now=LONG_AGO)
    email_send(to="maria@example.org", subject="Тема", body="Письмо", now=LONG_AGO)  # the test runner's locmem

    call_command("deliveries", "retry", "--limit", "2")
    call_command("deliveries", "retry")
    call_command("deliveries", "retry")

    assert capsys.readouterr().out == (
        "Попыток: 2; отправлено: 1, будет повторено: 0, не доставлено: 1.\n"
        "Попыток: 1; отправлено: 1, будет повторено: 0, не доставлено: 0.\n"
        "Повторять нечего: ни у одного сообщения срок не подошёл.\n"
    )
    assert [r.form["to"] for r in smsru.requests] == [["79161234567"], ["7916"]]
    assert sorted(Delivery.objects.values_list("status", flat=True)) == [
        DeliveryStatus.FAILED,
        DeliveryStatus.SENT,
        DeliveryStatus.SENT,
    ]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((), ACTIONS),
        (("resend",), f"неизвестное действие 'resend': {ACTIONS}"),
        (("retry", "--limit", "0"), "--limit: укажите число от 1"),
        (("list", "--status", "lost"), "--status: укажите одно из pending, sent, retrying, failed"),
        (
            ("retry", "--to", "+79161234567"),
            "retry повторяет все сообщения, чей срок подошёл: --status и --to здесь не применяются",
        ),
    ],
)
def test_a_bad_argument_is_named_and_nothing_is_sent(
    smsru: FakeSmsRu, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], error: str
) -> None:
    delivery = sms_send(phone="+79161234567", text="Код: 1", now=LONG_AGO)

    with pytest.raises(SystemExit) as exc:
        call_command("deliveries", *args)

    assert exc.value.code == 2
    assert capsys.readouterr() == ("", error + "\n")
    assert smsru.requests == []
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.PENDING
