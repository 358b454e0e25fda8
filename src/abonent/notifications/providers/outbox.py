"""The outbox: messages of the embedded default, kept in the database instead of sent."""

from __future__ import annotations

from collections.abc import Sequence
from email.mime.base import MIMEBase

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from abonent.notifications.enums import Channel, Provider
from abonent.notifications.models import OutboxMessage
from abonent.notifications.providers.base import Attachment, PermanentFailure


def _attachment_names(message: EmailMessage) -> str:
    """The names of the files attached to ``message``, as the outbox page shows them."""
    names = (item.get_filename() if isinstance(item, MIMEBase) else item[0] for item in message.attachments)
    return ", ".join(str(name) for name in names if name)


class EmailBackend(BaseEmailBackend):
    """A Django e-mail backend that files every message in the outbox, one row a recipient.
    Of an attached file it keeps the name only (the demo shows that the file was sent)."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        now = timezone.now()
        rows = [
            OutboxMessage(
                channel=Channel.EMAIL,
                recipient=to,
                subject=str(message.subject),
                body=str(message.body),
                attachment_name=_attachment_names(message)[:300],
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

    def send(
        self,
        *,
        recipient: str,
        subject: str,
        body: str,
        attachment: Attachment | None = None,
        data: dict[str, str] | None = None,
    ) -> str:
        if attachment is not None:
            raise PermanentFailure("к SMS нельзя приложить файл")
        message = OutboxMessage.objects.create(
            channel=Channel.SMS, recipient=recipient, body=body, created_at=timezone.now()
        )
        return f"outbox-{message.pk}"


class OutboxPushSender:
    """The push sender of the embedded default (and the fake push service): the
    notification is filed in the outbox as the phone would show it, title and text."""

    name = Provider.OUTBOX.value

    def send(
        self,
        *,
        recipient: str,
        subject: str,
        body: str,
        attachment: Attachment | None = None,
        data: dict[str, str] | None = None,
    ) -> str:
        if attachment is not None:
            raise PermanentFailure("к push-уведомлению нельзя приложить файл")
        message = OutboxMessage.objects.create(
            channel=Channel.PUSH, recipient=recipient, subject=subject, body=body, created_at=timezone.now()
        )
        return f"outbox-{message.pk}"
