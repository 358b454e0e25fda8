"""What a payment gateway does for us, whoever runs it: create a payment (with an idempotence
key: a repeat creates nothing new), tell a payment's state, refund, and say whether a
notification may have come from it. Statuses are YooKassa's words, which the sandbox speaks
too: pending, waiting_for_capture, succeeded, canceled."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol


class GatewayUnavailable(Exception):
    """No answer, a timeout, a 5xx or a 429: try again later; nothing is known to have happened."""


class GatewayRefused(Exception):
    """The gateway said no (a 4xx): the same request will be refused again."""

    def __init__(self, text: str, *, code: str = "") -> None:
        super().__init__(text)
        self.code = code


class GatewayNotFound(GatewayRefused):
    """The gateway has no such payment or refund."""


@dataclass(frozen=True)
class ReceiptItem:
    description: str
    amount: Decimal
    vat_code: int
    quantity: str = "1.00"
    payment_subject: str = "service"
    payment_mode: str = "full_payment"


@dataclass(frozen=True)
class Receipt:
    """The fiscal receipt (54-ФЗ) the gateway's fiscal service issues: sent to the e-mail or
    the phone."""

    email: str
    phone: str
    items: Sequence[ReceiptItem]


@dataclass(frozen=True)
class PaymentRequest:
    idempotence_key: str
    amount: Decimal
    description: str
    return_url: str
    method: str  # Method value, or "" to let the payer choose on the gateway's page
    receipt: Receipt
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GatewayPayment:
    id: str
    status: str
    amount: Decimal
    currency: str
    confirmation_url: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    captured_at: dt.datetime | None = None
    cancellation_reason: str = ""
    method: str = ""


@dataclass(frozen=True)
class GatewayRefund:
    id: str
    payment_id: str
    status: str
    amount: Decimal
    currency: str


class Gateway(Protocol):
    name: str

    def payment_create(self, request: PaymentRequest) -> GatewayPayment: ...

    def payment_get(self, payment_id: str) -> GatewayPayment: ...

    def refund_create(
        self, *, idempotence_key: str, payment_id: str, amount: Decimal, description: str, receipt: Receipt
    ) -> GatewayRefund: ...

    def refund_get(self, refund_id: str) -> GatewayRefund: ...


def address_in(remote_addr: str | None, networks: Sequence[str]) -> bool:
    """Whether ``remote_addr`` is inside one of ``networks`` (CIDR); no address is never in."""
    if not remote_addr:
        return False
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)
