"""Celery adapters of the reminders: they read the clock and call one service."""

from __future__ import annotations

from celery import shared_task

from abonent.core import clock
from abonent.core.selectors import supplier_by_code
from abonent.reminders import services


# Beat sends this every hour; each supplier's day is run once, in its sending hours.
@shared_task(name="abonent.reminders.tasks.reminders_run_due", ignore_result=True, expires=50 * 60)
def reminders_run_due() -> None:
    services.reminders_run_due(now=clock.now())


@shared_task(name="abonent.reminders.tasks.announcement_deliver", ignore_result=True)
def announcement_deliver(*, announcement_id: int) -> None:
    services.announcement_deliver(announcement_id=announcement_id, now=clock.now())


@shared_task(name="abonent.reminders.tasks.reminders_run_now", ignore_result=True)
def reminders_run_now(*, supplier_code: str) -> None:
    """An operator's «run today's reminders now»: outside the sending hours too."""
    services.reminders_run(supplier=supplier_by_code(code=supplier_code), now=clock.now(), force=True)
