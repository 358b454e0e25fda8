"""E-mail over real SMTP (aiosmtpd on a local port), through the delivery log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from pytest_django.fixtures import Settings

from abonent.core import clock
from abonent.notifications.enums import Channel, DeliveryStatus, Provider
from abonent.notifications.models import Delivery, OutboxMessage
from abonent.notifications.services import SweepSummary, deliveries_retry_due, email_send
from tests.conftest import free_port
from tests.notifications.conftest import SmtpServer, use_smtp

pytestmark = pytest.mark.django_db

Capture = Callable[..., AbstractContextManager[Any]]
BODY = "Здравствуйте, Мария Ивановна!\nВаш код подтверждения: 482913. Никому его не сообщайте."


def send(capture: Capture, to: str = "maria@example.org") -> Delivery:
    with capture(execute=True):  # the test's transaction "commits" here
        delivery = email_send(to=to, subject="Код подтверждения — Газпром межрегионгаз", body=BODY)
    delivery.refresh_from_db()
    return delivery


def test_an_email_goes_out_over_smtp(smtp_server: SmtpServer, django_capture_on_commit_callbacks: Capture) -> None:
    before = clock.now()
    delivery = send(django_capture_on_commit_callbacks)

    [envelope] = smtp_server.envelopes
    assert (envelope.mail_from, envelope.rcpt_tos) == ("noreply@localhost", ["maria@example.org"])
    [message] = smtp_server.messages
    assert message["From"] == "abonent <noreply@localhost>"
    assert message["To"] == "maria@example.org"
    # Django folds a long encoded subject right after "Subject:", the fold's space is not part of it
    assert message["Subject"].lstrip() == "Код подтверждения — Газпром межрегионгаз"
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message.get_content() == BODY + "\n"  # the decoder ends the text with a line break
    assert delivery.last_attempt_at is not None
    assert before <= delivery.last_attempt_at <= clock.now()
    assert {
        "channel": delivery.channel,
        "kind": delivery.kind,
        "recipient": delivery.recipient,
        "subject": delivery.subject,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "provider": delivery.provider,
        "provider_message_id": delivery.provider_message_id,
        "body": delivery.body,
        "body_purged": delivery.body_purged,
        "sent_at": delivery.sent_at,
        "next_attempt_at": delivery.next_attempt_at,
        "last_error": delivery.last_error,
    } == {
        "channel": Channel.EMAIL,
        "kind": "message",
        "recipient": "maria@example.org",
        "subject": "Код подтверждения — Газпром межрегионгаз",
        "status": DeliveryStatus.SENT,
        "attempts": 1,
        "provider": Provider.SMTP,
        "provider_message_id": message["Message-ID"],
        "body": "",
        "body_purged": True,
        "sent_at": delivery.last_attempt_at,
        "next_attempt_at": None,
        "last_error": "",
    }
    assert OutboxMessage.objects.count() == 0


def test_a_pdf_attached_arrives_over_smtp_with_its_name_and_bytes(
    smtp_server: SmtpServer, media: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
    stored = default_storage.save("bills/1/2026-10/770000000001-0123456789abcdef.pdf", ContentFile(pdf))
    body = "Здравствуйте!\n\nКвитанция за октябрь 2026 по лицевому счёту 770000000001 — во вложении."

    with django_capture_on_commit_callbacks(execute=True):
        delivery = email_send(
            to="maria@example.org",
            subject="Квитанция за газ за октябрь 2026",
            body=body,
            kind="bill",
            attachment=stored,
            attachment_name="kvitanciya-770000000001-2026-10.pdf",
        )
    delivery.refresh_from_db()

    [message] = smtp_server.messages
    assert message.get_content_type() == "multipart/mixed"
    text, attached = message.iter_parts()
    assert (text.get_content_type(), text.get_content()) == ("text/plain", body)
    assert (attached.get_content_type(), attached.get_content_disposition(), attached.get_filename()) == (
        "application/pdf",
        "attachment",
        "kvitanciya-770000000001-2026-10.pdf",
    )
    assert attached.get_content() == pdf
    assert (delivery.status, delivery.provider, delivery.provider_message_id) == (
        DeliveryStatus.SENT,
        Provider.SMTP,
        message["Message-ID"],
    )


def test_a_recipient_refused_with_550_fails_at_once_and_is_not_retried(
    smtp_server: SmtpServer, django_capture_on_commit_callbacks: Capture
) -> None:
    smtp_server.handler.refuse_recipient = "550 5.1.1 <nobody@example.org>: Recipient address rejected"

    delivery = send(django_capture_on_commit_callbacks, to="nobody@example.org")

    assert (delivery.status, delivery.attempts, delivery.next_attempt_at, delivery.provider) == (
        DeliveryStatus.FAILED,
        1,
        None,
        Provider.SMTP,
    )
    assert delivery.last_error == (
        "SMTP-сервер отклонил получателя nobody@example.org: 550 5.1.1 <nobody@example.org>: Recipient address rejected"
    )
    assert (delivery.body, delivery.body_purged, delivery.sent_at, delivery.provider_message_id) == ("", True, None, "")
    assert smtp_server.envelopes == []

    # Nothing is retried, not even a day later
    assert deliveries_retry_due(now=clock.now() + dt.timedelta(days=1)) == SweepSummary()
    assert smtp_server.envelopes == []
    assert Delivery.objects.get().attempts == 1


def test_a_recipient_refused_with_4xx_is_retried(
    smtp_server: SmtpServer, django_capture_on_commit_callbacks: Capture
) -> None:
    smtp_server.handler.refuse_recipient = "450 4.2.1 Mailbox busy, try later"

    delivery = send(django_capture_on_commit_callbacks)

    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.last_error == "SMTP-сервер отклонил получателя maria@example.org: 450 4.2.1 Mailbox busy, try later"
    assert delivery.last_attempt_at is not None
    assert delivery.next_attempt_at == delivery.last_attempt_at + dt.timedelta(minutes=1)
    assert (delivery.body, delivery.body_purged) == (BODY, False)  # kept for the retry

    smtp_server.handler.refuse_recipient = None
    summary = deliveries_retry_due(now=delivery.next_attempt_at)

    assert summary == SweepSummary(sent=1)
    assert [m.get_content() for m in smtp_server.messages] == [BODY + "\n"]


@pytest.fixture
def down_smtp_port(settings: Settings) -> Iterator[SmtpServer]:
    """E-mail is pointed at a port where nothing listens yet; the test may start a server there."""
    server = SmtpServer(free_port())
    use_smtp(settings, server.port)
    try:
        yield server
    finally:
        server.stop()


def test_no_smtp_server_means_a_retry_in_a_minute_and_the_sweep_sends_it_once_the_server_is_up(
    down_smtp_port: SmtpServer, django_capture_on_commit_callbacks: Capture
) -> None:
    delivery = send(django_capture_on_commit_callbacks)

    assert delivery.last_attempt_at is not None
    first_try = delivery.last_attempt_at
    assert (delivery.status, delivery.attempts, delivery.provider, delivery.sent_at) == (
        DeliveryStatus.RETRYING,
        1,
        Provider.SMTP,
        None,
    )
    assert delivery.next_attempt_at == first_try + dt.timedelta(minutes=1)
    assert delivery.last_error == (
        f"нет связи с SMTP-сервером 127.0.0.1:{down_smtp_port.port}: [Errno 111] Connection refused"
    )
    assert (delivery.body, delivery.body_purged) == (BODY, False)

    down_smtp_port.start()
    # Not due yet: nothing happens
    assert deliveries_retry_due(now=first_try + dt.timedelta(seconds=59)) == SweepSummary()
    assert down_smtp_port.envelopes == []

    due = first_try + dt.timedelta(minutes=1)
    assert deliveries_retry_due(now=due) == SweepSummary(sent=1)

    delivery = Delivery.objects.get()
    [message] = down_smtp_port.messages
    assert message.get_content() == BODY + "\n"
    assert (
        delivery.status,
        delivery.attempts,
        delivery.sent_at,
        delivery.last_attempt_at,
        delivery.next_attempt_at,
        delivery.provider_message_id,
        delivery.body,
        delivery.body_purged,
    ) == (DeliveryStatus.SENT, 2, due, due, None, message["Message-ID"], "", True)
    # The error of the first attempt stays on record: it says why there were two attempts
    assert delivery.last_error.startswith("нет связи с SMTP-сервером")
    # and a later sweep does not send it again
    assert deliveries_retry_due(now=due + dt.timedelta(hours=1)) == SweepSummary()
    assert len(down_smtp_port.envelopes) == 1
