from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import QuerySet

from abonent.notifications.enums import Channel, Kind
from abonent.notifications.models import Delivery, Notification, OutboxMessage, Preference, PushDevice
from abonent.notifications.policy import CENTRE_LIMIT, CHANNEL_ORDER, KINDS
from abonent.notifications.services import NotificationNotFound, Recipient


def outbox_latest(*, limit: int = 50, recipient: str | None = None) -> QuerySet[OutboxMessage]:
    """The latest messages in the outbox, newest first."""
    messages = OutboxMessage.objects.all()
    if recipient:
        messages = messages.filter(recipient=recipient)
    return messages.order_by("-created_at", "-id")[:limit]


def deliveries_latest(
    *, limit: int = 20, status: str | None = None, recipient: str | None = None
) -> QuerySet[Delivery]:
    """The latest entries of the delivery log, newest first."""
    deliveries = Delivery.objects.all()
    if status:
        deliveries = deliveries.filter(status=status)
    if recipient:
        deliveries = deliveries.filter(recipient=recipient)
    return deliveries.order_by("-created_at", "-id")[:limit]


@dataclass(frozen=True)
class ChannelChoice:
    channel: str
    enabled: bool
    mandatory: bool  # cannot be switched off
    available: bool  # the subscriber has where to receive it (a confirmed contact, a device)


@dataclass(frozen=True)
class KindChoices:
    kind: str
    label: str
    channels: list[ChannelChoice]


def preferences_get(*, recipient: Recipient) -> list[KindChoices]:
    """What the subscriber receives, kind by kind (those they choose), channel by channel in
    ``CHANNEL_ORDER``: their choice or the default, whether it is mandatory, and whether it
    can reach them (the portal always; e-mail and SMS to a confirmed contact; push to a
    registered device)."""
    stored = {
        (k, c): e
        for k, c, e in Preference.objects.filter(user_id=recipient.user_id).values_list("kind", "channel", "enabled")
    }
    reach = {
        Channel.PORTAL: True,
        Channel.PUSH: PushDevice.objects.filter(user_id=recipient.user_id).exists(),
        Channel.EMAIL: recipient.email is not None,
        Channel.SMS: recipient.phone is not None,
    }
    result = []
    for kind, rule in KINDS.items():
        if not rule.configurable:
            continue
        choices = [
            ChannelChoice(
                channel=channel,
                enabled=channel in rule.mandatory or stored.get((kind, channel), channel in rule.defaults),
                mandatory=channel in rule.mandatory,
                available=reach[channel],
            )
            for channel in CHANNEL_ORDER
            if channel in rule.channels
        ]
        result.append(KindChoices(kind=kind, label=str(Kind(kind).label), channels=choices))
    return result


def push_devices_list(*, user: AbstractBaseUser) -> QuerySet[PushDevice]:
    return PushDevice.objects.filter(user_id=user.pk).order_by("-last_seen_at", "-id")


def notifications_list(
    *, user: AbstractBaseUser, limit: int = CENTRE_LIMIT, before_id: int | None = None, unread_only: bool = False
) -> QuerySet[Notification]:
    """The user's notification centre, newest first; ``before_id`` pages on (cursor)."""
    items = Notification.objects.filter(user_id=user.pk, in_portal=True)
    if before_id is not None:
        items = items.filter(pk__lt=before_id)
    if unread_only:
        items = items.filter(read_at__isnull=True)
    return items.order_by("-id")[:limit]


def notification_get(*, user: AbstractBaseUser, notification_id: int) -> Notification:
    """One of the user's notifications. Raises NotificationNotFound."""
    item = Notification.objects.filter(user_id=user.pk, in_portal=True, pk=notification_id).first()
    if item is None:
        raise NotificationNotFound()
    return item


def notifications_unread_count(*, user: AbstractBaseUser) -> int:
    return Notification.objects.filter(user_id=user.pk, in_portal=True, read_at__isnull=True).count()


def deliveries_search(*, recipient: str | None = None, user_id: int | None = None) -> QuerySet[Delivery]:
    """The delivery log as operators search it: the messages to ``recipient`` (a phone in
    E.164, an e-mail in any letter case, a device token) or to the user ``user_id``;
    newest first."""
    deliveries = Delivery.objects.all()
    if recipient is not None:
        deliveries = deliveries.filter(recipient__iexact=recipient)
    if user_id is not None:
        deliveries = deliveries.filter(user_id=user_id)
    return deliveries.order_by("-created_at", "-id")
