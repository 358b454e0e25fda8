"""Reads of the ledger: balances, the monthly turnover, entries, and a check that the kept
balances equal the sums of the entries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet, Sum

from abonent.core.money import round_rubles, round_volume
from abonent.core.periods import Period
from abonent.customers.models import PersonalAccount
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.models import LedgerBalance, LedgerEntry

ZERO = Decimal("0.00")


def balances_get(*, account: PersonalAccount) -> dict[str, Decimal]:
    """The balance of every service of the account (positive: a debt), services with no
    entries at zero, in the order of ``Service``."""
    kept = dict(LedgerBalance.objects.filter(account=account).values_list("service", "amount"))
    return {service: kept.get(service, ZERO) for service in Service.values}


@dataclass
class Turnover:
    """A month of one service: what the bill for ``period`` shows."""

    period: Period
    service: str
    opening: Decimal = ZERO
    charged: Decimal = ZERO
    benefit: Decimal = ZERO  # ≤ 0
    recalculated: Decimal = ZERO
    paid: Decimal = ZERO  # ≥ 0, as people say it
    corrected: Decimal = ZERO
    volume: Decimal = ZERO
    kinds: dict[str, Decimal] = field(default_factory=dict)

    @property
    def closing(self) -> Decimal:
        return self.opening + self.charged + self.benefit + self.recalculated - self.paid + self.corrected


def turnover_list(
    *, account: PersonalAccount, first: Period, last: Period, service: str | None = None
) -> list[Turnover]:
    """The turnover of each period from ``first`` to ``last`` and each service (or one),
    derived from the entries by the period of the bill they are on; oldest first."""
    entries = LedgerEntry.objects.filter(account=account, billed_in__lte=last.to_int())
    if service is not None:
        entries = entries.filter(service=service)
    sums = entries.values_list("service", "billed_in", "kind").annotate(total=Sum("amount"), volume=Sum("volume"))
    by_key: dict[tuple[str, int], dict[str, tuple[Decimal, Decimal]]] = defaultdict(dict)
    for svc, billed_in, kind, total, volume in sums:
        period = billed_in.to_int() if isinstance(billed_in, Period) else int(billed_in)
        # SQLite sums decimals as floats: back to kopecks and litres, once
        by_key[(svc, period)][kind] = (round_rubles(total or ZERO), round_volume(volume or ZERO))
    services = [service] if service is not None else Service.values
    result: list[Turnover] = []
    for svc in services:
        opening = ZERO
        # everything billed before ``first`` makes the opening balance of ``first``
        for (s, period), kinds in by_key.items():
            if s == svc and period < first.to_int():
                opening += sum((t for t, _ in kinds.values()), ZERO)
        month = first
        while month <= last:
            kinds = by_key.get((svc, month.to_int()), {})
            row = Turnover(period=month, service=svc, opening=opening)
            row.charged = kinds.get(EntryKind.CHARGE, (ZERO, ZERO))[0]
            row.volume = kinds.get(EntryKind.CHARGE, (ZERO, ZERO))[1]
            row.benefit = kinds.get(EntryKind.BENEFIT, (ZERO, ZERO))[0]
            row.recalculated = kinds.get(EntryKind.RECALCULATION, (ZERO, ZERO))[0]
            row.paid = -kinds.get(EntryKind.PAYMENT, (ZERO, ZERO))[0] - kinds.get(EntryKind.REFUND, (ZERO, ZERO))[0]
            row.corrected = kinds.get(EntryKind.CORRECTION, (ZERO, ZERO))[0]
            result.append(row)
            opening = row.closing
            month = month.next()
    return result


def entries_list(*, account: PersonalAccount, service: str | None = None) -> QuerySet[LedgerEntry]:
    """The account's entries, newest bill first."""
    entries = LedgerEntry.objects.filter(account=account)
    if service is not None:
        entries = entries.filter(service=service)
    return entries.order_by("-billed_in", "-posted_on", "-id")


@dataclass(frozen=True)
class BalanceMismatch:
    account_id: int
    service: str
    kept: Decimal
    entries: Decimal


def ledger_verify(*, account_ids: Iterable[int] | None = None) -> list[BalanceMismatch]:
    """Balances that differ from the sum of their entries (none, unless the database was
    written around the posting service)."""
    entries = LedgerEntry.objects.all()
    balances = LedgerBalance.objects.all()
    if account_ids is not None:
        ids = list(account_ids)
        entries = entries.filter(account_id__in=ids)
        balances = balances.filter(account_id__in=ids)
    summed = {  # SQLite sums decimals as floats: back to kopecks
        (a, s): round_rubles(t)
        for a, s, t in entries.values_list("account_id", "service").annotate(t=Sum("amount")).order_by()
    }
    kept = {(a, s): m for a, s, m in balances.values_list("account_id", "service", "amount")}
    result = []
    for key in sorted(set(summed) | set(kept)):
        if (summed.get(key) or ZERO) != (kept.get(key) or ZERO):
            result.append(BalanceMismatch(key[0], key[1], kept.get(key) or ZERO, summed.get(key) or ZERO))
    return result
