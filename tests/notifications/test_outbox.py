import datetime as dt

import pytest
from django.core.management import call_command

from abonent.notifications.enums import Channel
from abonent.notifications.models import OutboxMessage
from abonent.notifications.services import email_send, sms_send

pytestmark = pytest.mark.django_db


def test_email_lands_in_the_outbox(settings, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "abonent.notifications.providers.outbox.EmailBackend"  # the test runner swaps in locmem
    with django_capture_on_commit_callbacks(execute=True):  # messages go out when the transaction commits
        email_send(to="maria@example.org", subject="Код подтверждения", body="Ваш код: 123456")

    message = OutboxMessage.objects.get()
    assert (message.channel, message.recipient, message.subject, message.body) == (
        Channel.EMAIL,
        "maria@example.org",
        "Код подтверждения",
        "Ваш код: 123456",
    )


def test_sms_lands_in_the_outbox(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        sms_send(phone="+79161234567", text="Код: 654321")

    assert list(OutboxMessage.objects.values_list("channel", "recipient", "body")) == [
        (Channel.SMS, "+79161234567", "Код: 654321")
    ]


def test_outbox_command_prints_the_latest_first(capsys) -> None:  # type: ignore[no-untyped-def]
    base = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
    OutboxMessage.objects.create(channel=Channel.SMS, recipient="+79161234567", body="первое", created_at=base)
    OutboxMessage.objects.create(
        channel=Channel.EMAIL,
        recipient="a@example.org",
        subject="Тема",
        body="второе\nстрока",
        created_at=base + dt.timedelta(minutes=1),
    )

    call_command("outbox", "--limit", "5")

    assert capsys.readouterr().out == (
        "— 20.11.2026 12:01:00  e-mail  → a@example.org\n"
        "  Тема: Тема\n"
        "  второе\n"
        "  строка\n"
        "— 20.11.2026 12:00:00  SMS  → +79161234567\n"
        "  первое\n"
    )


def test_outbox_command_filters_and_says_when_empty(capsys) -> None:  # type: ignore[no-untyped-def]
    call_command("outbox", "--to", "+79990000000")

    assert capsys.readouterr().out == "Исходящих сообщений нет.\n"


def test_outbox_command_rejects_a_bad_limit(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exc:
        call_command("outbox", "--limit", "0")

    assert exc.value.code == 2
    assert capsys.readouterr().err == "--limit: укажите число от 1\n"
