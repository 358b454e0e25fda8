"""An e-mail with a file attached: the file is named in the delivery log and read from the
default storage when the message is sent; SMS cannot carry one; a file gone by then fails the
delivery for good."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.test import Client

from abonent.core.errors import ValidationFailed
from abonent.notifications.enums import Channel, DeliveryStatus, Provider
from abonent.notifications.models import Delivery, OutboxMessage
from abonent.notifications.services import SweepSummary, deliveries_retry_due, email_send, message_send

pytestmark = pytest.mark.django_db

Capture = Callable[..., AbstractContextManager[Any]]
T0 = dt.datetime(2026, 11, 22, 6, 0, tzinfo=dt.UTC)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n\x00\xff binary tail\n%%EOF\n"
STORED = "bills/1/2026-10/770000000001-0123456789abcdef.pdf"
FILENAME = "kvitanciya-770000000001-2026-10.pdf"


@pytest.fixture
def stored(media: Any) -> str:
    """A PDF in the default storage, as a bill is kept."""
    return default_storage.save(STORED, ContentFile(PDF))


def send_bill(capture: Capture, attachment: str, name: str = FILENAME) -> Delivery:
    with capture(execute=True):
        delivery = email_send(
            to="maria@example.org",
            subject="Квитанция за газ за октябрь 2026",
            body="Квитанция — во вложении.",
            kind="bill",
            now=T0,
            attachment=attachment,
            attachment_name=name,
        )
    delivery.refresh_from_db()
    return delivery


def test_the_file_goes_with_the_email_as_a_pdf(stored: str, django_capture_on_commit_callbacks: Capture) -> None:
    delivery = send_bill(django_capture_on_commit_callbacks, stored)

    [message] = mail.outbox  # the test runner's locmem backend
    assert (message.to, message.subject, message.body) == (
        ["maria@example.org"],
        "Квитанция за газ за октябрь 2026",
        "Квитанция — во вложении.",
    )
    assert [tuple(a) for a in message.attachments] == [(FILENAME, PDF, "application/pdf")]
    assert (
        delivery.status,
        delivery.provider,
        delivery.kind,
        delivery.attachment,
        delivery.attachment_name,
        delivery.body_purged,
    ) == (DeliveryStatus.SENT, Provider.BACKEND, "bill", STORED, FILENAME, True)


def test_the_outbox_keeps_the_name_of_the_file_and_the_demo_page_shows_it(
    stored: str, settings: Any, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    settings.EMAIL_BACKEND = "abonent.notifications.providers.outbox.EmailBackend"
    settings.DEMO_OUTBOX_PAGE = True

    delivery = send_bill(django_capture_on_commit_callbacks, stored)

    message = OutboxMessage.objects.get()
    assert (message.channel, message.recipient, message.attachment_name) == (
        Channel.EMAIL,
        "maria@example.org",
        FILENAME,
    )
    assert (delivery.status, delivery.provider) == (DeliveryStatus.SENT, Provider.OUTBOX)
    page = client.get("/demo/outbox/", {"to": "maria@example.org"}).content.decode()
    assert f'<span class="muted">Вложение:</span> {FILENAME}' in page


def test_an_email_without_a_file_has_no_attachment_anywhere(
    settings: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    settings.EMAIL_BACKEND = "abonent.notifications.providers.outbox.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        email_send(to="maria@example.org", subject="Код", body="Ваш код: 123456", now=T0)

    assert OutboxMessage.objects.get().attachment_name == ""
    assert list(Delivery.objects.values_list("attachment", "attachment_name")) == [("", "")]


def test_a_file_gone_before_the_send_fails_the_delivery_for_good(
    stored: str, django_capture_on_commit_callbacks: Capture
) -> None:
    default_storage.delete(stored)

    delivery = send_bill(django_capture_on_commit_callbacks, stored)

    assert mail.outbox == []
    assert (
        delivery.status,
        delivery.attempts,
        delivery.next_attempt_at,
        delivery.sent_at,
        delivery.provider,
        delivery.last_error,
        delivery.body_purged,
    ) == (
        DeliveryStatus.FAILED,
        1,
        None,
        None,
        Provider.BACKEND,
        f"вложения {STORED} нет в хранилище файлов",
        True,
    )
    # nothing to retry, not even a day later
    assert deliveries_retry_due(now=T0 + dt.timedelta(days=1)) == SweepSummary()
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"channel": "sms", "recipient": "+79161234567"},
            {"attachment": ["Файл можно приложить только к e-mail"]},
        ),
        ({"attachment_name": ""}, {"attachment_name": ["Укажите имя файла, под которым получатель увидит вложение"]}),
        ({"attachment_name": "  "}, {"attachment_name": ["Укажите имя файла, под которым получатель увидит вложение"]}),
        ({"attachment": None}, {"attachment_name": ["Имя вложения указано, а файл — нет"]}),
        (
            {"attachment_name": "../../etc/passwd"},
            {"attachment_name": ["Имя вложения — до 200 символов, без / и \\ и переводов строки"]},
        ),
        (
            {"attachment_name": "kvitanciya.pdf\r\nBcc: all@example.org"},
            {"attachment_name": ["Имя вложения — до 200 символов, без / и \\ и переводов строки"]},
        ),
        (
            {"attachment_name": "к" * 197 + ".pdf"},
            {"attachment_name": ["Имя вложения — до 200 символов, без / и \\ и переводов строки"]},
        ),
        ({"attachment": "b/" * 150 + "x.pdf"}, {"attachment": ["Имя файла в хранилище длиннее 300 символов"]}),
    ],
)
def test_a_bad_attachment_is_refused_and_nothing_is_logged_or_sent(
    stored: str, django_capture_on_commit_callbacks: Capture, fields: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    message: dict[str, Any] = {
        "channel": "email",
        "recipient": "maria@example.org",
        "subject": "Квитанция",
        "body": "Во вложении",
        "now": T0,
        "attachment": stored,
        "attachment_name": FILENAME,
        **fields,
    }

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(ValidationFailed) as exc:
        message_send(**message)

    assert (exc.value.code, exc.value.errors) == ("validation_failed", errors)
    assert callbacks == []
    assert Delivery.objects.count() == 0
    assert OutboxMessage.objects.count() == 0
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"channel": Channel.SMS, "recipient": "+79161234567"}, "delivery_attachment_only_email"),
        ({"attachment_name": ""}, "delivery_attachment_has_name"),
        ({"attachment": ""}, "delivery_attachment_has_name"),
    ],
)
def test_the_database_holds_the_attachment_rules_too(fields: dict[str, Any], constraint: str) -> None:
    row: dict[str, Any] = {
        "channel": Channel.EMAIL,
        "recipient": "maria@example.org",
        "body": "Во вложении",
        "attachment": STORED,
        "attachment_name": FILENAME,
        "created_at": T0,
        "next_attempt_at": T0,
        **fields,
    }
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        Delivery.objects.create(**row)
