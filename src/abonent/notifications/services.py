"""Sending messages. Every e-mail and SMS goes through the delivery log (:class:`Delivery`):
the row is written in the caller's transaction and attempted after it commits, failed
attempts are retried with a growing pause by a sweep (Celery beat, ``abonent deliveries
retry``).

Two workers never send the same delivery at once: an attempt first *claims* its row — in a
short transaction that locks it (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL: a row
another worker is claiming is skipped, not waited for; SQLite takes the database's write
lock at ``BEGIN IMMEDIATE``, so claims run one after another) and moves it with a
compare-and-set update: one more attempt counted, ``next_attempt_at`` pushed forward by
:data:`CLAIM_LEASE`. The provider is called after that transaction, holding no lock; a row
being sent is not due for anyone else. If a worker dies mid-send the row becomes due again
when the lease runs out (delivery is at least once).
"""

from __future__ import annotations

import datetime as dt
import logging
import mimetypes
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext

from abonent.core import clock
from abonent.core.errors import ValidationFailed
from abonent.core.jobs import job_enqueue
from abonent.notifications.enums import Channel, DeliveryStatus
from abonent.notifications.models import OPEN_STATUSES, Delivery
from abonent.notifications.providers.base import Attachment, PermanentFailure, Sender, TemporaryFailure
from abonent.notifications.providers.email import DjangoEmailSender
from abonent.notifications.providers.outbox import OutboxSmsSender
from abonent.notifications.providers.smsru import SmsRuSender

logger = logging.getLogger(__name__)

#: Attempts a delivery gets in all; after the last failed one it is marked failed.
MAX_ATTEMPTS = 6
#: The pause after the first failed attempt; it doubles after each next one (1, 2, 4, 8, 16 min).
FIRST_RETRY_DELAY = dt.timedelta(minutes=1)
#: How long a claimed row is not due for anyone else: longer than any send can take
#: (the SMTP and SMS timeouts are seconds) times a sweep's batch.
CLAIM_LEASE = dt.timedelta(minutes=15)
#: Deliveries one sweep attempts at most; the rest wait for the next sweep.
SWEEP_LIMIT = 50
#: The lengths of ``Delivery.attachment`` and ``Delivery.attachment_name``.
ATTACHMENT_PATH_LIMIT = 300
ATTACHMENT_NAME_LIMIT = 200
_ERROR_LIMIT = 1000
_KIND = re.compile(r"[a-z][a-z0-9_]{0,39}")
_BAD_FILE_NAME = re.compile(r"[/\\\x00-\x1f]")


@dataclass
class SweepSummary:
    """What one retry sweep did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed

    def add(self, status: DeliveryStatus) -> None:
        if status == DeliveryStatus.SENT:
            self.sent += 1
        elif status == DeliveryStatus.FAILED:
            self.failed += 1
        else:
            self.retrying += 1


def retry_delay(attempts: int) -> dt.timedelta:
    """The pause after the ``attempts``-th failed attempt: 1, 2, 4, 8, 16 minutes."""
    return FIRST_RETRY_DELAY * 2 ** (attempts - 1)


@transaction.atomic
def message_send(
    *,
    channel: str,
    recipient: str,
    body: str,
    now: dt.datetime,
    subject: str = "",
    kind: str = "message",
    attachment: str | None = None,
    attachment_name: str = "",
) -> Delivery:
    """Log a message for ``recipient`` and send it once the current transaction commits
    (nothing is sent if it rolls back). Returns the delivery as created (pending).

    ``kind`` is a short code of what the message is (``confirmation_code``, ``bill_ready``).
    An e-mail may carry one file: ``attachment`` is its name in the default storage (read
    when the message is sent; the file must stay there until then), ``attachment_name`` the
    file name the recipient sees.
    Raises ValidationFailed for an unknown channel, an empty recipient or text, a subject
    that does not fit one line of 300 characters, a malformed kind, an attachment that is
    not for an e-mail or has no name (or a name without a file).
    """
    errors: dict[str, list[str]] = {}
    recipient = recipient.strip()
    if channel not in (Channel.EMAIL, Channel.SMS):
        errors["channel"] = [
            gettext("Канал {channel} не поддерживается: укажите email или sms").format(channel=repr(channel))
        ]
    if not recipient:
        errors["recipient"] = [gettext("Укажите получателя")]
    elif len(recipient) > 320:
        errors["recipient"] = [gettext("Адрес получателя длиннее 320 символов")]
    if not body.strip():
        errors["body"] = [gettext("Сообщение без текста не отправляется")]
    if len(subject) > 300 or "\n" in subject or "\r" in subject:
        errors["subject"] = [gettext("Тема — одна строка не длиннее 300 символов")]
    if not _KIND.fullmatch(kind):
        errors["kind"] = [gettext("Вид сообщения — латинские строчные буквы, цифры и _, до 40 символов")]
    attachment = (attachment or "").strip()
    attachment_name = attachment_name.strip()
    errors.update(_attachment_errors(channel, attachment, attachment_name))
    if errors:
        raise ValidationFailed(errors)
    delivery = Delivery.objects.create(
        channel=channel,
        kind=kind,
        recipient=recipient,
        subject=subject,
        body=body,
        attachment=attachment,
        attachment_name=attachment_name,
        status=DeliveryStatus.PENDING,
        created_at=now,
        next_attempt_at=now,
    )
    _enqueue_attempt(delivery.pk)
    return delivery


def _attachment_errors(channel: str, attachment: str, name: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if attachment and channel != Channel.EMAIL:
        errors["attachment"] = [gettext("Файл можно приложить только к e-mail")]
    elif len(attachment) > ATTACHMENT_PATH_LIMIT:
        errors["attachment"] = [
            gettext("Имя файла в хранилище длиннее {limit} символов").format(limit=ATTACHMENT_PATH_LIMIT)
        ]
    if attachment and not name:
        errors["attachment_name"] = [gettext("Укажите имя файла, под которым получатель увидит вложение")]
    elif name and not attachment:
        errors["attachment_name"] = [gettext("Имя вложения указано, а файл — нет")]
    elif len(name) > ATTACHMENT_NAME_LIMIT or _BAD_FILE_NAME.search(name):
        errors["attachment_name"] = [
            gettext("Имя вложения — до {limit} символов, без / и \\ и переводов строки").format(
                limit=ATTACHMENT_NAME_LIMIT
            )
        ]
    return errors


def sms_send(*, phone: str, text: str, kind: str = "message", now: dt.datetime | None = None) -> Delivery:
    """Send an SMS to ``phone`` (E.164) through the configured provider, after the current
    transaction commits. ``now`` defaults to the clock's. Raises ValidationFailed."""
    return message_send(channel=Channel.SMS, recipient=phone, body=text, kind=kind, now=now or clock.now())


def email_send(
    *,
    to: str,
    subject: str,
    body: str,
    kind: str = "message",
    now: dt.datetime | None = None,
    attachment: str | None = None,
    attachment_name: str = "",
) -> Delivery:
    """Send a plain-text e-mail through the configured backend (SMTP or the outbox), after the
    current transaction commits, with the file ``attachment`` of the default storage attached
    as ``attachment_name`` when given. ``now`` defaults to the clock's. Raises ValidationFailed."""
    return message_send(
        channel=Channel.EMAIL,
        recipient=to,
        subject=subject,
        body=body,
        kind=kind,
        now=now or clock.now(),
        attachment=attachment,
        attachment_name=attachment_name,
    )


def delivery_attempt(*, delivery_id: int, now: dt.datetime) -> DeliveryStatus | None:
    """Attempt the delivery if it is open, never attempted or due at ``now``, and no other
    worker has it. (The first attempt is the job ``message_send`` sends on commit: it runs
    whenever that job does; the later ones wait for ``next_attempt_at``.)

    Returns its status after the attempt, or None when there was nothing to do (sent or
    failed already, not due yet, being sent elsewhere, gone). Provider failures are recorded,
    never raised.
    """
    delivery = _claim(Delivery.objects.filter(pk=delivery_id), now=now, first=True)
    if delivery is None:
        return None
    return _attempt(delivery, now=now)


def deliveries_retry_due(*, now: dt.datetime, limit: int = SWEEP_LIMIT) -> SweepSummary:
    """Attempt the open deliveries due at ``now``, the longest waiting first, at most ``limit``.

    Safe to run in several workers at once: each row is claimed by one of them.
    """
    summary = SweepSummary()
    due = Delivery.objects.order_by("next_attempt_at", "id")
    while summary.attempted < limit:
        delivery = _claim(due, now=now)
        if delivery is None:
            break
        summary.add(_attempt(delivery, now=now))
    return summary


def _enqueue_attempt(delivery_id: int) -> None:
    from abonent.notifications.tasks import delivery_attempt as task  # the tasks module imports this one

    job_enqueue(task, delivery_id=delivery_id)


def _claim(candidates: QuerySet[Delivery], *, now: dt.datetime, first: bool = False) -> Delivery | None:
    """Take the first open candidate due at ``now`` (or, with ``first``, never attempted) for
    one attempt (see the module's doc)."""
    due = candidates.filter(Q(next_attempt_at__lte=now) | Q(attempts=0) if first else Q(next_attempt_at__lte=now))
    due = due.filter(status__in=OPEN_STATUSES)
    with transaction.atomic():
        delivery = due.select_for_update(skip_locked=True).first()
        if delivery is None:
            return None
        lease = now + CLAIM_LEASE
        claimed = due.filter(pk=delivery.pk, attempts=delivery.attempts).update(
            attempts=F("attempts") + 1, next_attempt_at=lease
        )
        if not claimed:  # only where the lock is not enforced and someone was faster
            return None
    delivery.attempts += 1
    delivery.next_attempt_at = lease
    return delivery


def _sender(channel: str) -> Sender:
    if channel == Channel.EMAIL:
        return DjangoEmailSender()
    if settings.SMS_PROVIDER == "smsru":
        return SmsRuSender(
            url=settings.SMSRU_URL,
            api_id=settings.SMSRU_API_ID,
            sender=settings.SMSRU_FROM,
            timeout=settings.SMS_TIMEOUT,
        )
    if settings.SMS_PROVIDER == "outbox":
        return OutboxSmsSender()
    raise ImproperlyConfigured(f"SMS_PROVIDER={settings.SMS_PROVIDER!r}: expected outbox or smsru")


def _attachment_read(delivery: Delivery) -> Attachment | None:
    """The delivery's file from the default storage. Raises PermanentFailure when it is gone
    (it will not come back), TemporaryFailure when the storage cannot be read now."""
    if not delivery.attachment:
        return None
    try:
        with default_storage.open(delivery.attachment, "rb") as handle:
            content = handle.read()
    except FileNotFoundError:
        raise PermanentFailure(f"вложения {delivery.attachment} нет в хранилище файлов") from None
    except OSError as exc:
        raise TemporaryFailure(f"вложение {delivery.attachment} не удалось прочитать: {exc}") from None
    mimetype = mimetypes.guess_type(delivery.attachment_name)[0] or "application/octet-stream"
    return Attachment(filename=delivery.attachment_name, content=content, mimetype=mimetype)


def _attempt(delivery: Delivery, *, now: dt.datetime) -> DeliveryStatus:
    """Send a claimed delivery and record the outcome."""
    provider = ""
    message_id = ""
    error: str | None = None
    final = False
    try:
        sender = _sender(delivery.channel)
        provider = sender.name
        message_id = sender.send(
            recipient=delivery.recipient,
            subject=delivery.subject,
            body=delivery.body,
            attachment=_attachment_read(delivery),
        )
    except PermanentFailure as exc:
        error, final = str(exc) or repr(exc), True
    except TemporaryFailure as exc:
        error = str(exc) or repr(exc)
    except Exception as exc:
        # A bug in an adapter must neither lose the message nor break the commit that sent it.
        logger.exception("delivery %s: the provider %r failed unexpectedly", delivery.pk, provider)
        error = f"внутренняя ошибка при отправке: {exc!r}"

    fields: dict[str, object] = {"provider": provider, "last_attempt_at": now}
    if error is None:
        status = DeliveryStatus.SENT
        fields.update(sent_at=now, provider_message_id=message_id, next_attempt_at=None)
    else:
        fields["last_error"] = error[:_ERROR_LIMIT]
        if final or delivery.attempts >= MAX_ATTEMPTS:
            status = DeliveryStatus.FAILED
            fields["next_attempt_at"] = None
        else:
            status = DeliveryStatus.RETRYING
            fields["next_attempt_at"] = now + retry_delay(delivery.attempts)
    if status in (DeliveryStatus.SENT, DeliveryStatus.FAILED):
        fields.update(body="", body_purged=True)
    fields["status"] = status

    # Only if the row is still ours: a worker that outlived its lease must not overwrite a newer attempt.
    recorded = Delivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts, status__in=OPEN_STATUSES).update(
        **fields
    )
    if not recorded:
        logger.warning(
            "delivery %s: attempt %s ended after its lease; its outcome is dropped", delivery.pk, delivery.attempts
        )
    if error is not None:
        logger.warning("delivery %s: attempt %s failed (%s): %s", delivery.pk, delivery.attempts, status, error)
    for name, value in fields.items():
        setattr(delivery, name, value)
    return status
