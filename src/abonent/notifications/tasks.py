"""Celery adapters of the delivery log: they read the clock and call one service."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from abonent.core import clock
from abonent.notifications import services


@shared_task(name="abonent.notifications.tasks.delivery_attempt", ignore_result=True)
def delivery_attempt(*, delivery_id: int) -> None:
    """Attempt one delivery (sent on commit by ``message_send``)."""
    services.delivery_attempt(delivery_id=delivery_id, now=clock.now())


# Beat sends this every minute; a run that waited longer than that in the queue is dropped,
# the next one does the same work.
@shared_task(name="abonent.notifications.tasks.deliveries_retry_due", ignore_result=True, expires=55)
def deliveries_retry_due() -> None:
    """Retry the deliveries whose next attempt is due. A full sweep (more were due: the
    morning's SMS and pushes held for the night) sends another at once, to any worker."""
    summary = services.deliveries_retry_due(now=clock.now())
    if summary.attempted >= services.SWEEP_LIMIT and not settings.CELERY_TASK_ALWAYS_EAGER:
        deliveries_retry_due.apply_async()


@shared_task(name="abonent.notifications.tasks.deliveries_send", ignore_result=True)
def deliveries_send(*, delivery_ids: list[int]) -> None:
    """Send the deliveries one ``notify_many`` created to go at once."""
    services.deliveries_send(delivery_ids=delivery_ids, now=clock.now())
