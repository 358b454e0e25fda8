"""Who is to be reminded of what on a supplier's local day.

Each rule is one query over the links of the supplier's active accounts to active users,
read in order of the link in chunks, and turned into :class:`Occasion` values in batches:
memory stays flat whatever the number of accounts. An occasion's key names the account (or
meter, or contract) and the period or date it is about, so the notifications let it be told
once per user however many times a day is run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import translation
from django.utils.translation import gettext

from abonent.billing.models import BillingPeriod, Charge
from abonent.core.models import Supplier, SupplierTerms
from abonent.core.money import format_rubles
from abonent.core.periods import Period
from abonent.core.selectors import TermsNotSet, payment_due_date, supplier_local_date, supplier_terms_on
from abonent.customers.enums import AccountStatus, ContractStatus
from abonent.customers.models import AccountLink, PersonalAccount, address_short
from abonent.identity.models import User
from abonent.identity.selectors import RECIPIENT_FIELDS, recipient_from_values
from abonent.ledger.enums import EntryKind
from abonent.ledger.models import LedgerBalance, LedgerEntry
from abonent.metering.enums import MeterStatus, ReadingStatus
from abonent.metering.models import Meter, Reading
from abonent.metering.selectors import window_of
from abonent.notifications.enums import Kind
from abonent.notifications.policy import DEBT_DAYS_AFTER, PAYMENT_DUE_DAYS_BEFORE
from abonent.notifications.services import Occasion, Recipient
from abonent.reminders.models import Announcement

ZERO = Decimal("0.00")
_USER = tuple(f"user__{name}" if name != "id" else "user_id" for name in RECIPIENT_FIELDS)
_ACCOUNT = (
    "account_id",
    "account__number",
    "account__locality",
    "account__street",
    "account__house",
    "account__apartment",
)
STANDING = (ReadingStatus.ACCEPTED, ReadingStatus.NOT_FOR_BILLING)


@dataclass(frozen=True)
class Due:
    """One rule's work on the day: its kind and the batches of occasions."""

    kind: str
    batches: Iterator[list[Occasion]]


def _fmt(day: dt.date) -> str:
    return f"{day:%d.%m.%Y}"


class _Labels:
    """Period labels in each recipient's language, made once."""

    def __init__(self) -> None:
        self.cache: dict[tuple[Period, str], str] = {}

    def __call__(self, period: Period, language: str) -> str:
        key = (period, language)
        if key not in self.cache:
            with translation.override(language):
                self.cache[key] = period.label()
        return self.cache[key]


def links_of(supplier: Supplier) -> QuerySet[AccountLink]:
    """The links through which the supplier's subscribers are reminded: active accounts,
    active users."""
    return AccountLink.objects.filter(
        account__supplier=supplier, account__status=AccountStatus.ACTIVE, user__is_active=True
    )


def _batches(
    rows: QuerySet[Any], make: Callable[[tuple[Any, ...]], Occasion | None], size: int
) -> Iterator[list[Occasion]]:
    batch: list[Occasion] = []
    for row in rows.iterator(chunk_size=max(size, 100)):
        occasion = make(row)
        if occasion is None:
            continue
        batch.append(occasion)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _recipient(row: tuple[Any, ...], at: int) -> Recipient:
    return recipient_from_values(*row[at : at + len(_USER)])


def _account_values(row: tuple[Any, ...]) -> dict[str, str]:
    return {"account": row[1], "address": address_short(row[2], row[3], row[4], row[5])}


def _amount_due() -> Coalesce:
    """The account's debt now: the sum of its services' positive balances."""
    positive = (
        LedgerBalance.objects.filter(account_id=OuterRef("account_id"), amount__gt=0)
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(positive), ZERO)


def _no_reading(period: Period) -> Q:
    active = Meter.objects.filter(account_id=OuterRef("account_id"), status=MeterStatus.ACTIVE)
    read = Reading.objects.filter(meter__account_id=OuterRef("account_id"), period=period, status__in=STANDING)
    return Q(Exists(active)) & ~Q(Exists(read))


def _readings(supplier: Supplier, day: dt.date, terms: SupplierTerms, size: int) -> Iterator[Due]:
    if not terms.readings_allowed:
        return
    period = Period.of(day)
    opens, closes = window_of(terms=terms, period=period)
    if day not in (opens, closes):
        return
    kind, prefix = (Kind.READINGS_OPEN, "readings_open") if day == opens else (Kind.READINGS_LAST_DAY, "readings_last")
    labels = _Labels()
    rows = links_of(supplier).filter(_no_reading(period)).order_by("pk").values_list(*_ACCOUNT, *_USER)

    def make(row: tuple[Any, ...]) -> Occasion:
        recipient = _recipient(row, len(_ACCOUNT))
        values = {
            **_account_values(row),
            "period": labels(period, recipient.language),
            "opens": _fmt(opens),
            "closes": _fmt(closes),
        }
        return Occasion(recipient=recipient, key=f"{prefix}:{row[0]}:{period}", values=values, account_id=row[0])

    yield Due(kind, _batches(rows, make, size))


def _bill_ready(supplier: Supplier, day: dt.date, size: int) -> Iterator[Due]:
    closed = (
        BillingPeriod.objects.filter(supplier=supplier, closed_at__isnull=False)
        .order_by("-period")
        .values_list("period", "closed_at")
        .first()
    )
    if closed is None:
        return
    period, closed_at = closed
    if closed_at is None:
        return
    due = payment_due_date(supplier=supplier, period=period)
    if not (supplier_local_date(supplier=supplier, now=closed_at) <= day <= due):
        return
    labels = _Labels()
    charged = Charge.objects.filter(account_id=OuterRef("account_id"), period=period)
    rows = (
        links_of(supplier)
        .filter(Exists(charged))
        .annotate(due=_amount_due())
        .order_by("pk")
        .values_list(*_ACCOUNT, *_USER, "due")
    )

    def make(row: tuple[Any, ...]) -> Occasion:
        recipient = _recipient(row, len(_ACCOUNT))
        values = {
            **_account_values(row),
            "period": labels(period, recipient.language),
            "amount": format_rubles(row[-1]),
            "due_date": _fmt(due),
        }
        return Occasion(recipient=recipient, key=f"bill:{row[0]}:{period}", values=values, account_id=row[0])

    yield Due(Kind.BILL_READY, _batches(rows, make, size))


def _period_due_on(supplier: Supplier, due_day: dt.date) -> Period | None:
    """The period whose payment is due on ``due_day``, if one is."""
    period = Period.of(due_day).previous()
    try:
        return period if payment_due_date(supplier=supplier, period=period) == due_day else None
    except TermsNotSet:  # no terms for that month: no period is due
        return None


def _payment_due(supplier: Supplier, day: dt.date, size: int) -> Iterator[Due]:
    due_day = day + dt.timedelta(days=PAYMENT_DUE_DAYS_BEFORE)
    period = _period_due_on(supplier, due_day)
    if period is None:
        return
    rows = (
        links_of(supplier)
        .annotate(due=_amount_due())
        .filter(due__gt=0)
        .order_by("pk")
        .values_list(*_ACCOUNT, *_USER, "due")
    )
    labels = _Labels()

    def make(row: tuple[Any, ...]) -> Occasion:
        recipient = _recipient(row, len(_ACCOUNT))
        values = {
            **_account_values(row),
            "period": labels(period, recipient.language),
            "amount": format_rubles(row[-1]),
            "due_date": _fmt(due_day),
        }
        return Occasion(recipient=recipient, key=f"due:{row[0]}:{period}", values=values, account_id=row[0])

    yield Due(Kind.PAYMENT_DUE, _batches(rows, make, size))


def _charged_in(periods: list[Period]) -> Coalesce:
    charged = (
        LedgerEntry.objects.filter(account_id=OuterRef("account_id"), kind=EntryKind.CHARGE, billed_in__in=periods)
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(charged), ZERO)


def _debt(supplier: Supplier, day: dt.date, size: int) -> Iterator[Due]:
    due_day = day - dt.timedelta(days=DEBT_DAYS_AFTER)
    period = _period_due_on(supplier, due_day)
    if period is None:
        return
    two = [period.previous(), period]
    debtors = links_of(supplier).annotate(due=_amount_due()).filter(due__gt=0)
    # Nothing paid of the last two periods: the debt covers both charges, and both had one.
    notice = debtors.annotate(last=_charged_in([period]), before=_charged_in([two[0]])).filter(
        last__gt=0, before__gt=0, due__gte=F("last") + F("before")
    )
    labels = _Labels()

    def make_debt(row: tuple[Any, ...]) -> Occasion:
        recipient = _recipient(row, len(_ACCOUNT))
        values = {**_account_values(row), "amount": format_rubles(row[-1]), "due_date": _fmt(due_day)}
        return Occasion(recipient=recipient, key=f"debt:{row[0]}:{period}", values=values, account_id=row[0])

    def make_notice(row: tuple[Any, ...]) -> Occasion:
        recipient = _recipient(row, len(_ACCOUNT))
        with translation.override(recipient.language):
            periods = gettext("{first} и {second}").format(
                first=labels(two[0], recipient.language), second=labels(two[1], recipient.language)
            )
        values = {**_account_values(row), "amount": format_rubles(row[-1]), "periods": periods}
        return Occasion(recipient=recipient, key=f"debt_notice:{row[0]}:{period}", values=values, account_id=row[0])

    yield Due(
        Kind.DEBT_NOTICE, _batches(notice.order_by("pk").values_list(*_ACCOUNT, *_USER, "due"), make_notice, size)
    )
    yield Due(Kind.DEBT, _batches(debtors.order_by("pk").values_list(*_ACCOUNT, *_USER, "due"), make_debt, size))


def _verification(supplier: Supplier, day: dt.date, terms: SupplierTerms, size: int) -> Iterator[Due]:
    until = day + dt.timedelta(days=terms.verification_warning_days)
    rows = (
        links_of(supplier)
        .filter(account__meters__status=MeterStatus.ACTIVE, account__meters__verification_due_on__range=(day, until))
        .order_by("pk", "account__meters__pk")
        .values_list(
            *_ACCOUNT, *_USER, "account__meters__pk", "account__meters__serial", "account__meters__verification_due_on"
        )
    )

    def make(row: tuple[Any, ...]) -> Occasion:
        recipient = _recipient(row, len(_ACCOUNT))
        meter_id, serial, due_on = row[-3:]
        values = {
            **_account_values(row),
            "meter_serial": serial,
            "verification_due": _fmt(due_on),
            "days_left": str((due_on - day).days),
        }
        key = f"verification:{meter_id}:{due_on:%Y-%m-%d}"
        return Occasion(
            recipient=recipient, key=key, values=values, account_id=row[0], payload={"meter_id": str(meter_id)}
        )

    yield Due(Kind.METER_VERIFICATION, _batches(rows, make, size))


def _contracts(supplier: Supplier, day: dt.date, terms: SupplierTerms, size: int) -> Iterator[Due]:
    until = day + dt.timedelta(days=terms.contract_warning_days)
    rows = (
        links_of(supplier)
        .filter(account__contracts__status=ContractStatus.ACTIVE, account__contracts__valid_to__range=(day, until))
        .order_by("pk", "account__contracts__pk")
        .values_list(
            *_ACCOUNT, *_USER, "account__contracts__pk", "account__contracts__number", "account__contracts__valid_to"
        )
    )

    def make(row: tuple[Any, ...]) -> Occasion:
        recipient = _recipient(row, len(_ACCOUNT))
        contract_id, number, valid_to = row[-3:]
        values = {
            **_account_values(row),
            "contract_number": number,
            "contract_ends": _fmt(valid_to),
            "days_left": str((valid_to - day).days),
        }
        key = f"contract:{contract_id}:{valid_to:%Y-%m-%d}"
        return Occasion(recipient=recipient, key=key, values=values, account_id=row[0])

    yield Due(Kind.CONTRACT_ENDING, _batches(rows, make, size))


def reminders_due(*, supplier: Supplier, day: dt.date, size: int = 1000) -> Iterator[Due]:
    """The rules that have work on the supplier's local ``day``, each with its occasions in
    batches of ``size``. Raises TermsNotSet when the supplier has no terms for the day."""
    terms = supplier_terms_on(supplier=supplier, day=day)
    yield from _readings(supplier, day, terms, size)
    yield from _bill_ready(supplier, day, size)
    yield from _payment_due(supplier, day, size)
    yield from _debt(supplier, day, size)
    yield from _verification(supplier, day, terms, size)
    yield from _contracts(supplier, day, terms, size)


def _spellings(accounts: QuerySet[PersonalAccount], field: str, value: str) -> list[str]:
    """The spellings of ``value`` in the accounts' ``field``, the letter case and the spaces
    aside. (Compared here, not in SQL: SQLite's LIKE and upper() fold Latin letters only,
    so «г. подольск» would not find «г. Подольск» there.)"""
    wanted = " ".join(value.split()).casefold()
    found = accounts.order_by().values_list(field, flat=True).distinct()
    return [spelling for spelling in found if " ".join(spelling.split()).casefold() == wanted]


def announcement_audience(*, announcement: Announcement) -> QuerySet[User]:
    """The users an announcement reaches: active, linked to an active account of its
    supplier in its area; each once however many accounts they have there."""
    accounts = PersonalAccount.objects.filter(supplier_id=announcement.supplier_id, status=AccountStatus.ACTIVE)
    if announcement.locality:
        accounts = accounts.filter(locality__in=_spellings(accounts, "locality", announcement.locality))
    if announcement.street:
        accounts = accounts.filter(street__in=_spellings(accounts, "street", announcement.street))
    linked = AccountLink.objects.filter(user_id=OuterRef("pk"), account__in=accounts)
    return User.objects.filter(is_active=True).filter(Exists(linked)).order_by("pk")
