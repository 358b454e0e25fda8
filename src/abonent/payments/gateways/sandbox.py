"""The built-in sandbox gateway of the embedded default: the same flow as a real one.

A payment is created with an idempotence key (a repeat returns the same payment); the payer
is sent to the sandbox's payment page (``/sandbox/pay/<id>/`` on this site) where they approve
or decline; the decision changes the payment's state here, "on the gateway's side", and a
notification is sent asynchronously to our webhook endpoint, exactly as YooKassa sends one:
``{"type": "notification", "event": "payment.succeeded", "object": {…the payment…}}``. Our
side never trusts that notification: it asks the state with ``payment_get``.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
import uuid
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from abonent.payments.gateways.base import (
    GatewayNotFound,
    GatewayPayment,
    GatewayRefund,
    GatewayRefused,
    PaymentRequest,
    Receipt,
)
from abonent.payments.models import SandboxPayment, SandboxRefund

PAGE_PATH = "/sandbox/pay/{id}/"
DECLINED = "card_expired"  # what the payer "chose" when declining: a reason a bank gives


def _as_gateway(row: SandboxPayment) -> GatewayPayment:
    return GatewayPayment(
        id=row.id,
        status=row.status,
        amount=row.amount,
        currency=row.currency,
        confirmation_url=_page_url(row),
        metadata={str(k): str(v) for k, v in row.metadata.items()},
        captured_at=row.captured_at,
        cancellation_reason=row.cancellation_reason,
        method=row.method,
    )


def _page_url(row: SandboxPayment) -> str:
    parts = urllib.parse.urlsplit(row.return_url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, PAGE_PATH.format(id=row.id), "", ""))


def payment_as_notification(row: SandboxPayment) -> dict[str, Any]:
    """The body of the notification about the payment's current state."""
    event = {"succeeded": "payment.succeeded", "canceled": "payment.canceled"}.get(row.status, "")
    return {
        "type": "notification",
        "event": event,
        "object": {
            "id": row.id,
            "status": row.status,
            "amount": {"value": str(row.amount), "currency": row.currency},
            "metadata": row.metadata,
            "paid": row.status == "succeeded",
        },
    }


class SandboxGateway:
    name = "sandbox"

    def __init__(self, *, now: dt.datetime | None = None) -> None:
        self.now = now

    def _now(self) -> dt.datetime:
        from abonent.core import clock

        return self.now or clock.now()

    def payment_create(self, request: PaymentRequest) -> GatewayPayment:
        existing = SandboxPayment.objects.filter(idempotence_key=request.idempotence_key).first()
        if existing is not None:
            if existing.amount != request.amount:
                raise GatewayRefused("the idempotence key was used for another request", code="invalid_request")
            return _as_gateway(existing)
        receipt = {
            "customer": {k: v for k, v in (("email", request.receipt.email), ("phone", request.receipt.phone)) if v},
            "items": [
                {"description": i.description, "amount": {"value": str(i.amount), "currency": "RUB"},
                 "quantity": i.quantity, "vat_code": i.vat_code}
                for i in request.receipt.items
            ],
        }  # fmt: skip
        try:
            with transaction.atomic():
                row = SandboxPayment.objects.create(
                    id=str(uuid.uuid4()),
                    idempotence_key=request.idempotence_key,
                    amount=request.amount,
                    method=request.method,
                    description=request.description[:128],
                    return_url=request.return_url,
                    metadata=request.metadata,
                    receipt=receipt,
                    created_at=self._now(),
                )
        except IntegrityError:  # the same key at the same moment from another process
            return _as_gateway(SandboxPayment.objects.get(idempotence_key=request.idempotence_key))
        return _as_gateway(row)

    def payment_get(self, payment_id: str) -> GatewayPayment:
        row = SandboxPayment.objects.filter(pk=payment_id).first()
        if row is None:
            raise GatewayNotFound(f"no payment {payment_id}", code="not_found")
        return _as_gateway(row)

    def refund_create(
        self, *, idempotence_key: str, payment_id: str, amount: Decimal, description: str, receipt: Receipt
    ) -> GatewayRefund:
        existing = SandboxRefund.objects.filter(idempotence_key=idempotence_key).first()
        if existing is not None:
            return GatewayRefund(existing.id, existing.payment_id, existing.status, existing.amount, "RUB")
        with transaction.atomic():
            payment = SandboxPayment.objects.select_for_update().filter(pk=payment_id).first()
            if payment is None:
                raise GatewayNotFound(f"no payment {payment_id}", code="not_found")
            if payment.status != "succeeded" or payment.refunded + amount > payment.amount:
                raise GatewayRefused("the refund is more than what is left of the payment", code="invalid_request")
            payment.refunded += amount
            payment.save(update_fields=["refunded"])
            refund = SandboxRefund.objects.create(
                id=str(uuid.uuid4()), idempotence_key=idempotence_key, payment=payment, amount=amount,
                created_at=self._now(),
            )  # fmt: skip
        return GatewayRefund(refund.id, payment.id, refund.status, refund.amount, "RUB")

    def refund_get(self, refund_id: str) -> GatewayRefund:
        refund = SandboxRefund.objects.filter(pk=refund_id).first()
        if refund is None:
            raise GatewayNotFound(f"no refund {refund_id}", code="not_found")
        return GatewayRefund(refund.id, refund.payment_id, refund.status, refund.amount, "RUB")


def sandbox_decide(*, payment_id: str, approve: bool, now: dt.datetime) -> SandboxPayment:
    """The payer's decision on the sandbox's page. A payment decided before stays as it is."""
    with transaction.atomic():
        row = SandboxPayment.objects.select_for_update().filter(pk=payment_id).first()
        if row is None:
            raise GatewayNotFound(f"no payment {payment_id}", code="not_found")
        if row.status == "pending":
            if approve:
                row.status, row.captured_at = "succeeded", now
            else:
                row.status, row.cancellation_reason = "canceled", DECLINED
            row.save(update_fields=["status", "captured_at", "cancellation_reason"])
    return row
