"""Sending messages. Every e-mail, SMS and push goes through the delivery log (:class:`Delivery`):
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
import json
import logging
import mimetypes
import re
import uuid
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.core import clock, metrics
from abonent.core.bulk import rows_insert
from abonent.core.errors import NotFound, ValidationFailed
from abonent.core.jobs import job_enqueue
from abonent.core.models import Supplier
from abonent.core.ratelimit import rate_hit
from abonent.notifications.enums import DELIVERY_CHANNELS, Channel, DeliveryStatus, Kind, Provider, PushPlatform
from abonent.notifications.models import (
    OPEN_STATUSES,
    RECIPIENT_LIMIT,
    Delivery,
    Notification,
    Preference,
    PushDevice,
    Template,
)
from abonent.notifications.policy import (
    DEVICES_PER_USER,
    KINDS,
    QUIET_CHANNELS,
    QUIET_FROM,
    QUIET_UNTIL,
    RECIPIENT_LIMITS,
    KindRule,
)
from abonent.notifications.providers.base import (
    Attachment,
    PermanentFailure,
    RecipientGone,
    Sender,
    TemporaryFailure,
)
from abonent.notifications.providers.email import DjangoEmailSender
from abonent.notifications.providers.fcm import FcmSender, ServiceAccount
from abonent.notifications.providers.outbox import OutboxPushSender, OutboxSmsSender
from abonent.notifications.providers.smsru import SmsRuSender
from abonent.notifications.templates import Rendered, built_in, render

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
_TOKEN = re.compile(r"[A-Za-z0-9_:.\-]+")
_APNS_TOKEN = re.compile(r"[0-9a-fA-F]{64}")


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
    not_before: dt.datetime | None = None,
    limited: bool = False,
    user_id: int | None = None,
    supplier_id: int | None = None,
    payload: dict[str, str] | None = None,
) -> Delivery:
    """Log a message for ``recipient`` and send it once the current transaction commits
    (nothing is sent if it rolls back), or from ``not_before`` on (the retry sweep sends it
    then). Returns the delivery as created (pending).

    ``limited`` counts it against the recipient's limits (``policy.RECIPIENT_LIMITS``);
    ``user_id`` and ``supplier_id`` say whom and whose it is for the search of the log;
    ``payload`` is the data a push carries for the app.

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
    if channel not in DELIVERY_CHANNELS:
        errors["channel"] = [
            gettext("Канал {channel} не поддерживается: укажите email, sms или push").format(channel=repr(channel))
        ]
    recipient_limit = RECIPIENT_LIMIT if channel == Channel.PUSH else 320
    if not recipient:
        errors["recipient"] = [gettext("Укажите получателя")]
    elif len(recipient) > recipient_limit:
        errors["recipient"] = [gettext("Адрес получателя длиннее {limit} символов").format(limit=recipient_limit)]
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
        next_attempt_at=max(now, not_before) if not_before else now,
        limited=limited,
        user_id=user_id,
        supplier_id=supplier_id,
        payload=payload or {},
    )
    if not_before is None or not_before <= now:
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
    if channel == Channel.PUSH:
        if settings.PUSH_PROVIDER == "fcm":
            return FcmSender(
                account=ServiceAccount.from_file(settings.FCM_CREDENTIALS),
                api_url=settings.FCM_API_URL,
                timeout=settings.PUSH_TIMEOUT,
            )
        if settings.PUSH_PROVIDER == "outbox":
            return OutboxPushSender()
        raise ImproperlyConfigured(f"PUSH_PROVIDER={settings.PUSH_PROVIDER!r}: expected outbox or fcm")
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


def _is_apns_token(token: str) -> bool:
    return PushDevice.objects.filter(token=token, platform=PushPlatform.APNS).exists()


def _over_limit(delivery: Delivery, *, now: dt.datetime) -> dt.datetime | None:
    """When the recipient had their share of ``limited`` messages on the channel: the moment
    the window ends (the delivery waits for it, no attempt counted). None when it may go."""
    limit = RECIPIENT_LIMITS.get(delivery.channel)
    if not delivery.limited or limit is None:
        return None
    verdict = rate_hit(limit=limit, subject=delivery.recipient, now=now)
    return None if verdict.allowed else now + dt.timedelta(seconds=max(verdict.retry_after, 1))


def _attempt(delivery: Delivery, *, now: dt.datetime) -> DeliveryStatus:
    """Send a claimed delivery and record the outcome."""
    wait_until = _over_limit(delivery, now=now)
    if wait_until is not None:
        Delivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts, status__in=OPEN_STATUSES).update(
            attempts=delivery.attempts - 1,
            next_attempt_at=wait_until,
            status=DeliveryStatus.RETRYING if delivery.attempts > 1 else delivery.status,
            last_error=gettext("У получателя исчерпан лимит сообщений, отправка отложена до {moment}").format(
                moment=wait_until.isoformat(timespec="minutes")
            ),
        )
        delivery.attempts -= 1
        delivery.next_attempt_at = wait_until
        metrics.delivery_attempted(channel=delivery.channel, outcome="deferred")
        return DeliveryStatus(delivery.status)
    provider = ""
    message_id = ""
    error: str | None = None
    final = False
    try:
        sender = _sender(delivery.channel)
        provider = sender.name
        if provider == Provider.FCM and _is_apns_token(delivery.recipient):
            raise PermanentFailure(
                "токен APNs нельзя отправить через FCM, а прямой отправки в APNs нет: "
                "приложение для iOS должно регистрировать токен FCM"
            )
        message_id = sender.send(
            recipient=delivery.recipient,
            subject=delivery.subject,
            body=delivery.body,
            attachment=_attachment_read(delivery),
            data=delivery.payload or None,
        )
    except RecipientGone as exc:
        error, final = str(exc) or repr(exc), True
        PushDevice.objects.filter(token=delivery.recipient).delete()
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
    metrics.delivery_attempted(channel=delivery.channel, outcome=status)
    return status


# --- Messages to subscribers: preferences, devices, the notification centre, notify -----


class PreferenceNotAllowed(ValidationFailed):
    code = "preference_not_allowed"


class PushDeviceNotFound(NotFound):
    code = "push_device_not_found"
    message = _("Устройство не найдено")


class NotificationNotFound(NotFound):
    code = "notification_not_found"
    message = _("Уведомление не найдено")


@transaction.atomic
def preferences_set(*, user: AbstractBaseUser, choices: Mapping[tuple[str, str], bool], now: dt.datetime) -> int:
    """Set the subscriber's choices, (kind, channel) → receive or not; the pairs not named
    keep theirs. A choice equal to the default is stored as no choice. Returns how many
    pairs changed.

    Raises PreferenceNotAllowed (nothing changed) for an unknown kind or channel, a kind the
    subscriber does not choose, a channel the kind does not go out on, and switching off a
    notice that cannot be switched off.
    """
    errors: dict[str, list[str]] = {}
    for (kind, channel), enabled in choices.items():
        field = f"{kind}.{channel}"
        rule = KINDS.get(kind)
        if rule is None or not rule.configurable:
            errors[field] = [gettext("Такого вида сообщений нет: {kind}").format(kind=kind)]
        elif channel not in Channel.values or channel not in rule.channels:
            errors[field] = [
                gettext("«{kind}» не отправляется каналом {channel}").format(kind=Kind(kind).label, channel=channel)
            ]
        elif not enabled and channel in rule.mandatory:
            errors[field] = [
                gettext("«{kind}» ({channel}) нельзя отключить: это уведомление обязательно").format(
                    kind=Kind(kind).label, channel=Channel(channel).label
                )
            ]
    if errors:
        raise PreferenceNotAllowed(errors, _("Эти настройки нельзя сохранить"))
    stored = {(p.kind, p.channel): p for p in Preference.objects.filter(user_id=user.pk)}
    changed = 0
    for (kind, channel), enabled in choices.items():
        default = channel in KINDS[kind].defaults
        current = stored.get((kind, channel))
        if (current.enabled if current else default) == enabled:
            continue
        changed += 1
        if enabled == default:
            Preference.objects.filter(pk=current.pk).delete() if current else None
        else:
            Preference.objects.update_or_create(
                user_id=user.pk, kind=kind, channel=channel, defaults={"enabled": enabled, "changed_at": now}
            )
    return changed


@transaction.atomic
def push_device_register(
    *, user: AbstractBaseUser, platform: str, token: str, name: str = "", now: dt.datetime
) -> PushDevice:
    """Register the device's push token for ``user``, or renew it: a token already known
    moves to this user (the app re-registers after every login). The least recently
    registered device goes when the user has more than ``DEVICES_PER_USER``.

    Raises ValidationFailed for an unknown platform, an empty or malformed token, a name
    longer than 120 characters.
    """
    token = token.strip()
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if platform not in PushPlatform.values:
        errors["platform"] = [gettext("Укажите сервис: {choices}").format(choices=", ".join(PushPlatform.values))]
    if not token:
        errors["token"] = [gettext("Укажите токен устройства")]
    elif len(token) > RECIPIENT_LIMIT or not _TOKEN.fullmatch(token):
        errors["token"] = [
            gettext("Токен — до {limit} латинских букв, цифр и знаков - _ : .").format(limit=RECIPIENT_LIMIT)
        ]
    elif platform == PushPlatform.APNS and not _APNS_TOKEN.fullmatch(token):
        errors["token"] = [gettext("Токен APNs — 64 шестнадцатеричные цифры")]
    if len(name) > 120:
        errors["name"] = [gettext("Название устройства — до 120 символов")]
    if errors:
        raise ValidationFailed(errors)
    device, created = PushDevice.objects.select_for_update().get_or_create(
        token=token,
        defaults={"user_id": user.pk, "platform": platform, "name": name, "created_at": now, "last_seen_at": now},
    )
    if not created:
        device.user_id = user.pk
        device.platform = platform
        device.name = name or device.name
        device.last_seen_at = now
        device.save(update_fields=["user", "platform", "name", "last_seen_at"])
    extra = PushDevice.objects.filter(user_id=user.pk).order_by("-last_seen_at", "-id")[DEVICES_PER_USER:]
    PushDevice.objects.filter(pk__in=list(extra.values_list("pk", flat=True))).delete()
    return device


def push_device_remove(*, user: AbstractBaseUser, device_id: int | None = None, token: str | None = None) -> None:
    """Forget one of the user's devices, by its id or its token (the app knows the token).
    Raises PushDeviceNotFound when the user has no such device."""
    devices = PushDevice.objects.filter(user_id=user.pk)
    if device_id is not None:
        devices = devices.filter(pk=device_id)
    elif token:
        devices = devices.filter(token=token.strip())
    else:
        raise PushDeviceNotFound()
    deleted, _unused = devices.delete()
    if not deleted:
        raise PushDeviceNotFound()


def notifications_mark_read(
    *, user: AbstractBaseUser, now: dt.datetime, notification_ids: Iterable[int] | None = None
) -> int:
    """Mark the user's notifications read: those named, or all of them. Returns how many
    changed. Raises NotificationNotFound when a named one is not the user's."""
    shown = Notification.objects.filter(user_id=user.pk, in_portal=True)
    unread = shown.filter(read_at__isnull=True)
    if notification_ids is not None:
        ids = set(notification_ids)
        found = set(shown.filter(pk__in=ids).values_list("pk", flat=True))
        if found != ids:
            raise NotificationNotFound()
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=now)


@dataclass(frozen=True)
class Recipient:
    """A subscriber as a message needs them: the contacts they confirmed (None where they
    have none) and the language they read."""

    user_id: int
    email: str | None = None
    phone: str | None = None
    language: str = "ru"


@dataclass(frozen=True)
class Occasion:
    """One reason to tell one subscriber something: ``key`` is unique per subscriber
    (``readings_open:<account>:<period>``); ``values`` fill the text's placeholders."""

    recipient: Recipient
    key: str
    values: Mapping[str, str]
    account_id: int | None = None
    attachment: str = ""
    attachment_name: str = ""
    payload: Mapping[str, str] | None = None


@dataclass
class NotifySummary:
    notified: int = 0  # occasions told now
    repeated: int = 0  # told before (or by a run at the same time): nothing sent again
    deliveries: dict[str, int] = field(default_factory=dict)

    def add(self, other: NotifySummary) -> None:
        self.notified += other.notified
        self.repeated += other.repeated
        for channel, count in other.deliveries.items():
            self.deliveries[channel] = self.deliveries.get(channel, 0) + count


def quiet_until(*, now: dt.datetime, time_zone: str) -> dt.datetime | None:
    """The next morning's start when ``now`` is night at the place (``policy.QUIET_*``), else None."""
    zone = zoneinfo.ZoneInfo(time_zone)
    local = now.astimezone(zone)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return None
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, QUIET_UNTIL, tzinfo=zone)


def _wanted(rule: KindRule, overrides: dict[str, bool], also: frozenset[str]) -> set[str]:
    wanted = {c for c in rule.channels if overrides.get(c, c in rule.defaults)}
    return wanted | set(rule.mandatory) | (set(also) & set(rule.channels))


class _Texts:
    """The templates of one kind for one supplier, looked up once per (channel, language)."""

    def __init__(self, *, kind: str, supplier: Supplier | None) -> None:
        self.kind = kind
        rows = Template.objects.filter(kind=kind).filter(Q(supplier__isnull=True) | Q(supplier=supplier))
        self.rows = {(t.supplier_id, t.channel, t.language): (t.subject, t.body) for t in rows}
        self.supplier_id = supplier.pk if supplier else None
        self.cache: dict[tuple[str, str], tuple[str, str]] = {}

    def get(self, channel: str, language: str) -> tuple[str, str]:
        key = (channel, language)
        if key not in self.cache:
            self.cache[key] = (
                self.rows.get((self.supplier_id, channel, language))
                or self.rows.get((None, channel, language))
                or built_in(kind=self.kind, channel=channel, language=language)
            )
        return self.cache[key]

    def render(self, channel: str, language: str, values: Mapping[str, str]) -> Rendered:
        title, body = self.get(channel, language)
        return render(title=title, body=body, channel=channel, values=values)


def _values(supplier: Supplier | None, values: Mapping[str, str]) -> dict[str, str]:
    common = {"portal": settings.PORTAL_URL}
    if supplier is not None:
        common.update(supplier=supplier.short_name, hotline=supplier.hotline_phone)
    return {**common, **values}


_NOTIFICATION_FIELDS = (
    "user_id", "supplier_id", "account_id", "kind", "occasion", "title", "body", "in_portal", "created_at", "batch",
)  # fmt: skip
_DELIVERY_FIELDS = (
    "channel", "kind", "recipient", "subject", "body", "attachment", "attachment_name", "status", "created_at",
    "next_attempt_at", "limited", "user_id", "supplier_id", "notification_id", "payload", "body_purged", "attempts",
    "provider", "provider_message_id", "last_error",
)  # fmt: skip


@transaction.atomic
def notify_many(
    *,
    kind: str,
    occasions: Sequence[Occasion],
    supplier: Supplier | None,
    now: dt.datetime,
    also: frozenset[str] = frozenset(),
) -> NotifySummary:
    """Tell each occasion's subscriber, once: a message in their notification centre and the
    e-mails, SMS and pushes their preferences ask for (``also``: channels asked for this
    once, e.g. the one chosen on an appeal), on the contacts and devices they have.

    An occasion already told (``Notification`` is unique per user and occasion) is skipped,
    also when another run inserts it at the same moment: each run sends only the rows it
    inserted itself. SMS and push wait for the morning at the supplier's place
    (``policy.QUIET_*``) unless the kind is urgent. Everything is written in one transaction
    and sent after it commits, in one job per call.
    """
    rule = KINDS[kind]
    summary = NotifySummary()
    occasions = list({(o.recipient.user_id, o.key): o for o in occasions}.values())
    if not occasions:
        return summary
    user_ids = {o.recipient.user_id for o in occasions}
    overrides: dict[int, dict[str, bool]] = {}
    for user_id, channel, enabled in Preference.objects.filter(user_id__in=user_ids, kind=kind).values_list(
        "user_id", "channel", "enabled"
    ):
        overrides.setdefault(user_id, {})[channel] = enabled
    devices: dict[int, list[str]] = {}
    if Channel.PUSH in rule.channels:
        for user_id, token in PushDevice.objects.filter(user_id__in=user_ids).values_list("user_id", "token"):
            devices.setdefault(user_id, []).append(token)
    texts = _Texts(kind=kind, supplier=supplier)
    batch = uuid.uuid4().hex
    supplier_id = supplier.pk if supplier else None
    planned: list[tuple[Occasion, set[str], dict[str, str]]] = []
    rows: list[tuple[object, ...]] = []
    for occasion in occasions:
        recipient = occasion.recipient
        channels = _wanted(rule, overrides.get(recipient.user_id, {}), also)
        values = _values(supplier, occasion.values)
        shown = texts.render(Channel.PORTAL, recipient.language, values)
        planned.append((occasion, channels, values))
        rows.append(
            (recipient.user_id, supplier_id, occasion.account_id, kind, occasion.key, shown.title, shown.body,
             Channel.PORTAL in channels, now, batch)
        )  # fmt: skip
    # Rows, not models: at a million subscribers the ORM's work per value was most of the time.
    rows_insert(Notification, _NOTIFICATION_FIELDS, rows, skip_conflicts=True)
    ours = {
        (user_id, key): pk
        for user_id, key, pk in Notification.objects.filter(
            user_id__in=user_ids, occasion__in={o.key for o in occasions}, batch=batch
        ).values_list("user_id", "occasion", "pk")
    }
    night = quiet_until(now=now, time_zone=supplier.time_zone if supplier else settings.TIME_ZONE)
    deliveries: list[tuple[object, ...]] = []
    for occasion, channels, values in planned:
        recipient = occasion.recipient
        notification_id = ours.get((recipient.user_id, occasion.key))
        if notification_id is None:
            summary.repeated += 1
            continue
        summary.notified += 1
        targets: list[tuple[str, str]] = []
        if Channel.EMAIL in channels and recipient.email:
            targets.append((Channel.EMAIL, recipient.email))
        if Channel.SMS in channels and recipient.phone:
            targets.append((Channel.SMS, recipient.phone))
        if Channel.PUSH in channels:
            targets.extend((Channel.PUSH, token) for token in devices.get(recipient.user_id, []))
        for channel, address in targets:
            text = texts.render(channel, recipient.language, values)
            wait = night if rule.daytime_only and channel in QUIET_CHANNELS else None
            payload = {"kind": kind, "notification_id": str(notification_id)}
            if occasion.account_id is not None:
                payload["account_id"] = str(occasion.account_id)
            payload.update(occasion.payload or {})
            with_file = channel == Channel.EMAIL and bool(occasion.attachment)
            deliveries.append(
                (channel, kind, address, text.title if channel != Channel.SMS else "", text.body,
                 occasion.attachment if with_file else "", occasion.attachment_name if with_file else "",
                 DeliveryStatus.PENDING, now, wait or now, rule.limited, recipient.user_id, supplier_id,
                 notification_id, json.dumps(payload if channel == Channel.PUSH else {}, ensure_ascii=False),
                 False, 0, "", "", "")
            )  # fmt: skip
            summary.deliveries[channel] = summary.deliveries.get(channel, 0) + 1
    rows_insert(Delivery, _DELIVERY_FIELDS, deliveries)
    due_now = (
        list(
            Delivery.objects.filter(notification_id__in=list(ours.values()), next_attempt_at=now)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if deliveries
        else []
    )
    if due_now:
        from abonent.notifications.tasks import deliveries_send  # the tasks module imports this one

        job_enqueue(deliveries_send, delivery_ids=due_now)
    return summary


def notify(
    *,
    kind: str,
    recipient: Recipient,
    key: str,
    values: Mapping[str, str],
    supplier: Supplier | None,
    now: dt.datetime,
    account_id: int | None = None,
    also: frozenset[str] = frozenset(),
) -> bool:
    """Tell one subscriber of one occasion (see ``notify_many``). Returns False when they
    had been told of it already."""
    occasion = Occasion(recipient=recipient, key=key, values=values, account_id=account_id)
    summary = notify_many(kind=kind, occasions=[occasion], supplier=supplier, now=now, also=also)
    return summary.notified == 1


def deliveries_send(*, delivery_ids: Sequence[int], now: dt.datetime) -> SweepSummary:
    """Attempt these deliveries (the job ``notify_many`` sends on commit for those due at
    once). Each is claimed, so a repeated job sends nothing twice."""
    summary = SweepSummary()
    for delivery_id in delivery_ids:
        status = delivery_attempt(delivery_id=delivery_id, now=now)
        if status is not None:
            summary.add(status)
    return summary
