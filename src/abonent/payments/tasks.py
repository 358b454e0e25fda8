"""Celery adapters of payments: they read the clock and call the payments services."""

from __future__ import annotations

from celery import shared_task

from abonent.core import clock
from abonent.payments.services import payments_reconcile, sandbox_notify


@shared_task(name="abonent.payments.tasks.payments_reconcile_task")
def payments_reconcile_task() -> dict[str, int]:
    """Settle the payments still pending after PAYMENT_RECONCILE_AFTER minutes (beat)."""
    result = payments_reconcile(now=clock.now())
    return dict(vars(result))


@shared_task(
    name="abonent.payments.tasks.sandbox_notify_task",
    autoretry_for=(OSError,),
    retry_backoff=5,
    max_retries=8,
)
def sandbox_notify_task(gateway_payment_id: str) -> None:
    """The sandbox gateway's notification about a payment, sent after the payer decided."""
    sandbox_notify(gateway_payment_id=gateway_payment_id, now=clock.now())
