"""Reading payments: a payer's history, one payment of theirs, the history of payments to
the accounts a user has linked (online and from bank registries)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from abonent.core.models import Supplier
from abonent.core.periods import Period
from abonent.core.selectors import TermsNotSet, supplier_local_date, supplier_terms_on
from abonent.customers.models import AccountLink
from abonent.customers.services import AccountNotFound
from abonent.identity.models import User
from abonent.ledger.enums import Service
from abonent.payments.enums import Method, PaymentStatus, RefundStatus
from abonent.payments.models import Payment, PaymentPart, RegistryLine, SandboxPayment


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


# --- A subscriber's payment history: online payments and bank registries, merged ----------


class HistoryKind(enum.StrEnum):
    """Where an item of the payment history comes from: an online payment of the user's, or
    a line of a bank's or payment agent's registry."""

    ONLINE = "online"
    REGISTRY = "registry"


#: At the same moment online payments come before registry payments; then the newer id first.
_RANK = {HistoryKind.ONLINE: 1, HistoryKind.REGISTRY: 0}
HISTORY_MAX_LIMIT = 100


class HistoryCursorInvalid(ValueError):
    """A cursor's text that is not one of the history's."""


@dataclass(frozen=True)
class HistoryCursor:
    """A place in the history: the page goes on after the item with this moment, kind and id
    (the history's order is moment, then kind, then id, newest first)."""

    moment: dt.datetime
    kind: str
    id: int

    @property
    def order_key(self) -> tuple[dt.datetime, int, int]:
        return (self.moment, _RANK[HistoryKind(self.kind)], self.id)

    def text(self) -> str:
        """The cursor as an opaque, URL-safe text."""
        data = {"at": self.moment.astimezone(dt.UTC).isoformat(), "kind": self.kind, "id": self.id}
        return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")

    @classmethod
    def parse(cls, text: str) -> HistoryCursor:
        """The cursor a text of ``text()`` names. Raises HistoryCursorInvalid."""
        text = text.strip()
        try:
            data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            at, kind, number = data["at"], data["kind"], data["id"]
            moment = dt.datetime.fromisoformat(at) if isinstance(at, str) else None
        except (binascii.Error, ValueError, TypeError, KeyError):
            raise HistoryCursorInvalid(text) from None
        if (
            moment is None
            or moment.tzinfo is None
            or kind not in list(HistoryKind)
            or not isinstance(number, int)
            or isinstance(number, bool)
            or not 0 < number < 2**63
        ):
            raise HistoryCursorInvalid(text)
        return cls(moment=moment, kind=kind, id=number)


@dataclass(frozen=True)
class HistoryPart:
    """What an item paid on one account's service (and period, when the payer named one)."""

    account_id: int
    account_number: str
    service: str
    amount: Decimal
    period: Period | None


@dataclass(frozen=True)
class HistoryItem:
    """One payment to the user's accounts, whichever way it came.

    ``moment`` is when it was paid (an online payment not paid: when it was started);
    ``status`` a PaymentStatus (a registry payment is always ``succeeded``: it was credited).
    Online: ``public_id``, ``method`` and where the receipt went. Registry: ``bank`` (the code
    of the bank or agent whose registry brought it) and ``period`` (the period the payer named)."""

    kind: str
    id: int
    moment: dt.datetime
    amount: Decimal
    channel: str
    status: str
    supplier: Supplier
    parts: tuple[HistoryPart, ...]
    public_id: uuid.UUID | None = None
    method: str = ""
    receipt_email: str = ""
    receipt_phone: str = ""
    bank: str = ""
    period: Period | None = None

    @property
    def cursor(self) -> HistoryCursor:
        return HistoryCursor(moment=self.moment, kind=self.kind, id=self.id)

    @property
    def is_online(self) -> bool:
        return self.kind == HistoryKind.ONLINE


@dataclass(frozen=True)
class HistoryPage:
    items: list[HistoryItem]
    next: HistoryCursor | None  # where the next page starts; None: this is the last one


def payment_history_list(
    *, user: User, account_id: int | None = None, after: HistoryCursor | None = None, limit: int = 20
) -> HistoryPage:
    """A page of the user's payment history, newest first: the user's own online payments
    (as ``payments_list``) and the payments that banks and payment agents sent in their
    registries to the accounts the user has linked now, whoever paid them (the money is the
    account's). Only posted registry lines: a repeat or a refused line is no payment.
    ``account_id`` keeps what paid on that account; ``after`` starts the page after that
    item. Each source is read in its order with ``limit + 1`` rows at most, so a long
    history costs no more than a short one. Raises AccountNotFound (``account_id`` not
    linked to the user)."""
    limit = max(1, min(limit, HISTORY_MAX_LIMIT))
    linked = set(AccountLink.objects.filter(user=user).values_list("account_id", flat=True))
    if account_id is not None and account_id not in linked:
        raise AccountNotFound()
    accounts = [account_id] if account_id is not None else sorted(linked)
    items = _online_items(user=user, account_id=account_id, after=after, limit=limit + 1)
    items += _registry_items(accounts=accounts, after=after, limit=limit + 1)
    items.sort(key=lambda item: item.cursor.order_key, reverse=True)
    page = items[:limit]
    return HistoryPage(items=page, next=page[-1].cursor if len(items) > limit else None)


def _after(after: HistoryCursor | None, kind: HistoryKind, moment: str) -> Q:
    """The rows of ``kind`` that come after the cursor in the history's order."""
    if after is None:
        return Q()
    rank = _RANK[kind]
    cursor_rank = _RANK[HistoryKind(after.kind)]
    earlier = Q(**{f"{moment}__lt": after.moment})
    if rank < cursor_rank:
        return earlier | Q(**{moment: after.moment})
    if rank == cursor_rank:
        return earlier | Q(**{moment: after.moment, "pk__lt": after.id})
    return earlier


def _online_items(*, user: User, account_id: int | None, after: HistoryCursor | None, limit: int) -> list[HistoryItem]:
    rows = Payment.objects.filter(user=user)
    if account_id is not None:
        rows = rows.filter(Exists(PaymentPart.objects.filter(payment=OuterRef("pk"), account_id=account_id)))
    rows = (
        rows.annotate(moment=Coalesce("paid_at", "created_at", output_field=models.DateTimeField()))
        .filter(_after(after, HistoryKind.ONLINE, "moment"))
        .select_related("supplier")
        .prefetch_related(Prefetch("parts", queryset=PaymentPart.objects.select_related("account").order_by("pk")))
        .order_by("-moment", "-pk")[:limit]
    )
    return [
        HistoryItem(
            kind=HistoryKind.ONLINE,
            id=payment.pk,
            moment=payment.moment,
            amount=payment.amount,
            channel=payment.channel,
            status=payment.status,
            supplier=payment.supplier,
            parts=tuple(
                HistoryPart(part.account_id, part.account.number, part.service, part.amount, part.period)
                for part in payment.parts.all()
            ),
            public_id=payment.public_id,
            method=payment.method,
            receipt_email=payment.receipt_email,
            receipt_phone=payment.receipt_phone,
        )
        for payment in rows
    ]


def _registry_items(*, accounts: list[int], after: HistoryCursor | None, limit: int) -> list[HistoryItem]:
    if not accounts:
        return []
    # the index on (account, paid_at) finds each account's lines in order
    rows = (
        RegistryLine.objects.filter(account_id__in=accounts, status=RegistryLine.Status.POSTED)
        .filter(_after(after, HistoryKind.REGISTRY, "paid_at"))
        .select_related("account", "file__supplier")
        .order_by("-paid_at", "-pk")[:limit]
    )
    items = []
    for line in rows:
        # a posted line has them all: the import posts no line without
        assert line.account is not None
        assert line.paid_at is not None
        assert line.amount is not None
        items.append(
            HistoryItem(
                kind=HistoryKind.REGISTRY,
                id=line.pk,
                moment=line.paid_at,
                amount=line.amount,
                channel=line.file.channel,
                status=PaymentStatus.SUCCEEDED,
                supplier=line.file.supplier,
                parts=(HistoryPart(line.account.pk, line.account.number, Service.GAS, line.amount, line.period),),
                bank=line.source,
                period=line.period,
            )
        )
    return items
