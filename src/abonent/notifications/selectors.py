from __future__ import annotations

from django.db.models import QuerySet

from abonent.notifications.models import Delivery, OutboxMessage


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
