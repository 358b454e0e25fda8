"""An online payment through the sandbox gateway from start to the ledger."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from abonent.core.models import Supplier
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.models import LedgerEntry
from abonent.ledger.selectors import balances_get
from abonent.notifications.enums import Channel, Kind
from abonent.notifications.models import Delivery, Notification
from abonent.payments.enums import EventStatus, PaymentStatus
from abonent.payments.models import GatewayEvent, Payment, SandboxPayment
from abonent.payments.services import (
    PaymentGatewayUnavailable,
    payment_settle,
    payments_reconcile,
    sandbox_payment_decide,
)
from tests.payments.payments_data import NOW, RETURN, D, pay, payer_make


def test_approved_on_the_sandbox_page_the_payment_is_posted_once(
    supplier: Supplier, django_capture_on_commit_callbacks: Any
) -> None:
    user, (account,) = payer_make(supplier)

    payment = pay(user, account, "1250.50")

    assert payment.status == PaymentStatus.PENDING
    assert payment.confirmation_url == f"http://testserver/sandbox/pay/{payment.gateway_payment_id}/"
    gateway_side = SandboxPayment.objects.get(pk=payment.gateway_payment_id)
    assert gateway_side.amount == D("1250.50")
    assert gateway_side.receipt["customer"] == {"email": "79161234567@mail.example", "phone": "+79161234567"}
    assert gateway_side.receipt["items"][0]["description"] == f"Газоснабжение, л/с {account.number}"

    with django_capture_on_commit_callbacks(execute=True):  # the notification is sent after the commit
        back = sandbox_payment_decide(gateway_payment_id=payment.gateway_payment_id, approve=True, now=NOW)

    assert back == RETURN
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.paid_on == dt.date(2026, 11, 20)
    entry = LedgerEntry.objects.get(account=account)
    assert (entry.kind, entry.amount, str(entry.billed_in)) == (EntryKind.PAYMENT, D("-1250.50"), "2026-11")
    assert balances_get(account=account)[Service.GAS] == D("-1250.50")
    event = GatewayEvent.objects.get()
    assert (event.event, event.status, event.payment_id) == ("payment.succeeded", EventStatus.PROCESSED, payment.pk)

    # the payer is told: in the portal and by e-mail (their defaults), once
    notification = Notification.objects.get()
    assert (notification.kind, notification.occasion, notification.title, notification.account_id) == (
        Kind.PAYMENT_CONFIRMED,
        f"payment:{payment.public_id}",
        "Оплата 1\u202f250,50\u00a0₽ зачислена",
        account.pk,
    )
    [mail_out] = Delivery.objects.filter(channel=Channel.EMAIL)
    assert (mail_out.recipient, mail_out.subject, mail_out.kind) == (
        "79161234567@mail.example",
        "Оплата 1\u202f250,50\u00a0₽ зачислена",
        Kind.PAYMENT_CONFIRMED,
    )

    # asked again, settled again: nothing new
    with django_capture_on_commit_callbacks(execute=True):
        payment_settle(payment_id=payment.pk, now=NOW)
    assert LedgerEntry.objects.filter(account=account).count() == 1
    assert (Notification.objects.count(), Delivery.objects.filter(kind=Kind.PAYMENT_CONFIRMED).count()) == (1, 1)


def test_declined_the_payment_is_canceled_and_nothing_is_posted(
    supplier: Supplier, django_capture_on_commit_callbacks: Any
) -> None:
    user, (account,) = payer_make(supplier)
    payment = pay(user, account)

    with django_capture_on_commit_callbacks(execute=True):
        sandbox_payment_decide(gateway_payment_id=payment.gateway_payment_id, approve=False, now=NOW)

    payment.refresh_from_db()
    assert (payment.status, payment.canceled_reason) == (PaymentStatus.CANCELED, "card_expired")
    assert not LedgerEntry.objects.exists()
    assert not Notification.objects.exists()


def test_a_crash_before_our_commit_is_settled_by_reconciliation(
    supplier: Supplier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateway created the payment and answered; we died before storing the answer."""
    user, (account,) = payer_make(supplier)
    from abonent.payments import services

    def crash(*args: object, **kwargs: object) -> None:
        raise SystemExit("killed")

    monkeypatch.setattr(services, "_apply", crash)
    with pytest.raises(SystemExit):
        pay(user, account, "300.00")
    monkeypatch.undo()
    payment = Payment.objects.get()
    assert (payment.status, payment.gateway_payment_id) == (PaymentStatus.CREATED, None)
    gateway_side = SandboxPayment.objects.get()  # the payer paid on the gateway's page meanwhile
    gateway_side.status, gateway_side.captured_at = "succeeded", NOW
    gateway_side.save()

    result = payments_reconcile(now=NOW + dt.timedelta(minutes=30))

    assert (result.asked, result.succeeded) == (1, 1)
    payment.refresh_from_db()
    assert (payment.status, payment.gateway_payment_id) == (PaymentStatus.SUCCEEDED, gateway_side.id)
    assert SandboxPayment.objects.count() == 1  # the same idempotence key: the same payment
    assert balances_get(account=account)[Service.GAS] == D("-300.00")


def test_a_payment_the_gateway_never_answered_is_not_created_again_after_a_day(
    supplier: Supplier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateway keeps an idempotence key 24 hours: a later repeat would be a new payment."""
    user, (account,) = payer_make(supplier)
    from abonent.payments.gateways.sandbox import SandboxGateway

    def down(*args: object, **kwargs: object) -> None:
        from abonent.payments.gateways.base import GatewayUnavailable

        raise GatewayUnavailable("no answer")

    monkeypatch.setattr(SandboxGateway, "payment_create", down)
    with pytest.raises(PaymentGatewayUnavailable):
        pay(user, account, "300.00")
    monkeypatch.undo()

    result = payments_reconcile(now=NOW + dt.timedelta(hours=30))

    assert result.asked == 0
    assert Payment.objects.get().status == PaymentStatus.CREATED
    assert not SandboxPayment.objects.exists()
    assert payments_reconcile(now=NOW + dt.timedelta(hours=2)).asked == 1  # within the day it is asked
