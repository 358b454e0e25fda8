"""Reading payments: a payer's history, one payment of theirs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, QuerySet, Sum

from abonent.core.models import Supplier
from abonent.core.selectors import TermsNotSet, supplier_local_date, supplier_terms_on
from abonent.identity.models import User
from abonent.payments.enums import Method, RefundStatus
from abonent.payments.models import Payment, PaymentPart, SandboxPayment


def payments_list(*, user: User, account_id: int | None = None) -> QuerySet[Payment]:
    """The user's own online payments, newest first, with their parts (account and service);
    ``account_id`` keeps those that paid on that account."""
    payments = Payment.objects.filter(user=user)
    if account_id is not None:
        payments = payments.filter(parts__account_id=account_id).distinct()
    return payments.prefetch_related(
        Prefetch("parts", queryset=PaymentPart.objects.select_related("account").order_by("pk"))
    ).order_by("-created_at", "-pk")


def payment_get(*, user: User, public_id: str) -> Payment | None:
    """One payment of the user's by its public id; None when it is not theirs or not there."""
    try:
        return payments_list(user=user).filter(public_id=public_id).first()
    except (ValueError, TypeError):  # not a UUID
        return None


def sandbox_payment_get(*, gateway_payment_id: str) -> SandboxPayment | None:
    """The sandbox gateway's payment, for its payment page; None when there is none."""
    return SandboxPayment.objects.filter(pk=gateway_payment_id).first()


def methods_allowed(*, supplier: Supplier, now: dt.datetime) -> list[str]:
    """The payment methods the supplier takes today (its terms' switches, DESIGN.md §5);
    every method while the supplier has no terms yet."""
    try:
        terms = supplier_terms_on(supplier=supplier, day=supplier_local_date(supplier=supplier, now=now))
    except TermsNotSet:
        return list(Method.values)
    on = {Method.CARD: terms.card_payments_allowed, Method.SBP: terms.sbp_allowed}
    return [m for m in Method.values if on[Method(m)]]


@dataclass(frozen=True)
class Refunded:
    """What of a payment has gone back to the payer, what is on its way and what is left."""

    succeeded: Decimal
    pending: Decimal
    left: Decimal


def refunded_get(*, payment: Payment) -> Refunded:
    totals = dict(
        payment.refunds.order_by().values("status").annotate(total=Sum("amount")).values_list("status", "total")
    )
    succeeded = totals.get(RefundStatus.SUCCEEDED) or Decimal("0.00")
    pending = totals.get(RefundStatus.PENDING) or Decimal("0.00")
    return Refunded(succeeded, pending, payment.amount - succeeded - pending)
