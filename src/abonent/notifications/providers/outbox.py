"""The outbox: messages of the embedded default, kept in the database instead of sent."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from abonent.notifications.enums import Channel, Provider
from abonent.notifications.models import OutboxMessage


class EmailBackend(BaseEmailBackend):
    """A Django e-mail backend that files every message in the outbox, one row a recipient."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        now = timezone.now()
        rows = [
            OutboxMessage(
                channel=Channel.EMAIL,
                recipient=to,
                subject=str(message.subject),
                body=str(message.body),
                created_at=now,
            )
            for message in email_messages
            for to in message.recipients()
        ]
        OutboxMessage.objects.bulk_create(rows)
        return len(email_messages)


class OutboxSmsSender:
    """The SMS sender of the embedded default (and the fake SMS provider): the message is
    filed in the outbox, where the demo shows it."""

    name = Provider.OUTBOX.value

    def send(self, *, recipient: str, subject: str, body: str) -> str:
        message = OutboxMessage.objects.create(
            channel=Channel.SMS, recipient=recipient, body=body, created_at=timezone.now()
        )
        return f"outbox-{message.pk}"
