from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import QuerySet

from abonent.notifications.enums import Channel, Kind
from abonent.notifications.models import Delivery, Notification, OutboxMessage, Preference, PushDevice
from abonent.notifications.policy import CENTRE_LIMIT, CHANNEL_ORDER, KINDS


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


def preferences_get(*, user: AbstractBaseUser, email_confirmed: bool, phone_confirmed: bool) -> list[KindChoices]:
    """What the subscriber receives, kind by kind (those they choose), channel by channel in
    ``CHANNEL_ORDER``: their choice or the default, whether it is mandatory, and whether it
    can reach them (the portal always; e-mail and SMS to a confirmed contact; push to a
    registered device)."""
    stored = {
        (k, c): e for k, c, e in Preference.objects.filter(user_id=user.pk).values_list("kind", "channel", "enabled")
    }
    has_device = PushDevice.objects.filter(user_id=user.pk).exists()
    reach = {
        Channel.PORTAL: True,
        Channel.PUSH: has_device,
        Channel.EMAIL: email_confirmed,
        Channel.SMS: phone_confirmed,
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
    from abonent.notifications.services import NotificationNotFound

    item = Notification.objects.filter(user_id=user.pk, in_portal=True, pk=notification_id).first()
    if item is None:
        raise NotificationNotFound()
    return item


def notifications_unread_count(*, user: AbstractBaseUser) -> int:
    return Notification.objects.filter(user_id=user.pk, in_portal=True, read_at__isnull=True).count()


def deliveries_search(
    *,
    query: str = "",
    channel: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    supplier_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[Delivery]:
    """The delivery log as operators search it: ``query`` is a phone (any spelling), an
    e-mail or a user's id; newest first."""
    deliveries = Delivery.objects.all()
    query = query.strip()
    if query:
        digits = re.sub(r"\D", "", query)
        if "@" in query:
            deliveries = deliveries.filter(recipient__iexact=query)
        elif query.isdigit() and len(query) < 10:
            deliveries = deliveries.filter(user_id=int(query))
        elif len(digits) >= 10:
            phone = "+7" + digits[-10:] if len(digits) in (10, 11) and digits[-10] == "9" else "+" + digits
            deliveries = deliveries.filter(recipient=phone)
        else:
            deliveries = deliveries.filter(recipient=query)
    if channel:
        deliveries = deliveries.filter(channel=channel)
    if status:
        deliveries = deliveries.filter(status=status)
    if kind:
        deliveries = deliveries.filter(kind=kind)
    if supplier_id:
        deliveries = deliveries.filter(supplier_id=supplier_id)
    if since:
        deliveries = deliveries.filter(created_at__gte=since)
    if until:
        deliveries = deliveries.filter(created_at__lt=until)
    return deliveries.order_by("-created_at", "-id")
