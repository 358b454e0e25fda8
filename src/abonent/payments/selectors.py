"""Reading payments: a payer's history, one payment of theirs."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from abonent.identity.models import User
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
