"""The same notification delivered many times at once (a gateway retrying while the first
delivery is still being processed, several app servers behind the proxy): one event, one
ledger entry. Real concurrency needs PostgreSQL: the SQLite test database is in memory."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection

from abonent.core.models import Supplier
from abonent.ledger.enums import EntryKind
from abonent.ledger.models import LedgerEntry
from abonent.payments.enums import EventStatus, PaymentStatus
from abonent.payments.gateways.sandbox import payment_as_notification, sandbox_decide
from abonent.payments.models import GatewayEvent, Payment, SandboxPayment
from abonent.payments.services import gateway_event_receive
from tests.payments.payments_data import NOW, D, pay, payer_make

DELIVERIES = 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_notification_delivered_at_once_posts_one_entry(supplier: Supplier) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the SQLite test database is in memory, where concurrent writers fail instead of waiting")
    user, (account,) = payer_make(supplier)
    payment = pay(user, account, "1250.50")
    row = sandbox_decide(payment_id=str(payment.gateway_payment_id), approve=True, now=NOW)
    body = json.dumps(payment_as_notification(SandboxPayment.objects.get(pk=row.pk))).encode("utf-8")
    barrier = threading.Barrier(DELIVERIES)
    results: list[object] = [None] * DELIVERIES

    def deliver(index: int) -> None:
        barrier.wait(10)
        try:
            results[index] = gateway_event_receive(gateway="sandbox", body=body, remote_addr="127.0.0.1", now=NOW)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(DELIVERIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert all(isinstance(r, GatewayEvent) for r in results), results
    event = GatewayEvent.objects.get()
    assert (event.status, event.deliveries, event.payment_id) == (EventStatus.PROCESSED, DELIVERIES, payment.pk)
    entry = LedgerEntry.objects.get(account=account)
    assert (entry.kind, entry.amount) == (EntryKind.PAYMENT, D("-1250.50"))
    assert Payment.objects.get().status == PaymentStatus.SUCCEEDED
