from __future__ import annotations

from django.db.models import QuerySet

from abonent.notifications.models import OutboxMessage


def outbox_latest(*, limit: int = 50, recipient: str | None = None) -> QuerySet[OutboxMessage]:
    """The latest messages in the outbox, newest first."""
    messages = OutboxMessage.objects.all()
    if recipient:
        messages = messages.filter(recipient=recipient)
    return messages.order_by("-created_at", "-id")[:limit]
