"""Penalties for late payment (пени, ЖК РФ ст.155 ч.14), worked out per debt item.

A debt item is what a period's bill added to the debt, due on that period's due date. Day 1
of delay is the day after the due date. Days 1–30 accrue nothing, days 31–90 accrue 1/300 of
the rate a day, from day 91 on 1/130. The day of payment is a day of delay for the part
paid; what is still unpaid accrues through the calculation date. The rate for a part is the
Bank of Russia key rate in force on the day it was paid (unpaid: on the calculation date),
lowered to the cap where the government fixed one; days inside a moratorium accrue nothing
(they still count in the numbering of the days). Payments settle the period they name first,
then the oldest debt. No penalty on penalty. An item's penalty is rounded to kopecks once.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from abonent.core.errors import DomainError
from abonent.core.money import round_rubles
from abonent.core.periods import Period

FREE_DAYS = 30
FIRST_RATE_LAST_DAY = 90
FIRST_DIVISOR = Decimal(300)
SECOND_DIVISOR = Decimal(130)
ZERO = Decimal(0)
_DAY = dt.timedelta(days=1)


class KeyRateUnknown(DomainError, LookupError):
    code = "key_rate_unknown"
    message = _("Ключевая ставка на {day} не задана: добавьте её в разделе «Ключевая ставка Банка России»")


@dataclass(frozen=True)
class RateBook:
    """Key rates from their first day, caps and moratoria as inclusive day ranges."""

    key_rates: Sequence[tuple[dt.date, Decimal]]  # sorted by day
    caps: Sequence[tuple[dt.date, dt.date | None, Decimal]] = ()
    moratoria: Sequence[tuple[dt.date, dt.date | None]] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "_days", [day for day, _ in self.key_rates])

    def rate_on(self, day: dt.date) -> Decimal:
        """The rate for a part paid (or counted) on ``day``, in percent a year."""
        at = bisect.bisect_right(self._days, day) - 1  # type: ignore[attr-defined]
        if at < 0:
            raise KeyRateUnknown(day=f"{day:%d.%m.%Y}")
        rate = self.key_rates[at][1]
        for start, end, cap in self.caps:
            if start <= day and (end is None or day <= end):
                rate = min(rate, cap)
        return rate

    def moratorium_days(self, first: dt.date, last: dt.date) -> int:
        """How many days from ``first`` to ``last`` (inclusive) are in a moratorium."""
        total = 0
        for start, end in self.moratoria:
            low = max(start, first)
            high = min(end or last, last)
            if high >= low:
                total += (high - low).days + 1
        return total


@dataclass(frozen=True)
class DebtItem:
    period: Period  # the bill that added it
    amount: Decimal
    due_on: dt.date


@dataclass(frozen=True)
class Payment:
    paid_on: dt.date
    amount: Decimal  # > 0
    period: Period | None = None  # the period the payer named


@dataclass
class PenaltyPart:
    """A part of a debt item: paid on a day, or unpaid on the calculation date."""

    amount: Decimal
    until: dt.date
    paid: bool
    days_first: int  # days at 1/300
    days_second: int  # days at 1/130
    rate: Decimal
    penalty: Decimal  # not rounded


@dataclass
class ItemPenalty:
    item: DebtItem
    parts: list[PenaltyPart] = field(default_factory=list)

    @property
    def penalty(self) -> Decimal:
        return round_rubles(sum((p.penalty for p in self.parts), ZERO))

    @property
    def unpaid(self) -> Decimal:
        return sum((p.amount for p in self.parts if not p.paid), ZERO)


@dataclass
class PenaltyResult:
    as_of: dt.date
    items: list[ItemPenalty]

    @property
    def total(self) -> Decimal:
        return sum((i.penalty for i in self.items), ZERO)


def _part(amount: Decimal, due_on: dt.date, until: dt.date, paid: bool, rates: RateBook) -> PenaltyPart:
    delay = (until - due_on).days
    days_first = days_second = 0
    if delay > FREE_DAYS:
        first_start = due_on + dt.timedelta(days=FREE_DAYS + 1)
        first_end = min(until, due_on + dt.timedelta(days=FIRST_RATE_LAST_DAY))
        days_first = (first_end - first_start).days + 1 - rates.moratorium_days(first_start, first_end)
        if delay > FIRST_RATE_LAST_DAY:
            second_start = due_on + dt.timedelta(days=FIRST_RATE_LAST_DAY + 1)
            days_second = (until - second_start).days + 1 - rates.moratorium_days(second_start, until)
    if not days_first and not days_second:
        return PenaltyPart(amount, until, paid, 0, 0, ZERO, ZERO)
    rate = rates.rate_on(until)
    share = rate / 100
    penalty = amount * share * days_first / FIRST_DIVISOR + amount * share * days_second / SECOND_DIVISOR
    return PenaltyPart(amount, until, paid, days_first, days_second, rate, penalty)


def penalty_compute(
    *, items: Iterable[DebtItem], payments: Iterable[Payment], as_of: dt.date, rates: RateBook
) -> PenaltyResult:
    """The penalty on ``as_of`` with its breakdown by debt item, part and rate segment.

    Items with a negative amount (a bill that lowered the debt) settle debts like a payment
    made on their due date. Payments after ``as_of`` are not counted.
    """
    debts = sorted((i for i in items if i.amount > 0), key=lambda i: i.period)
    credits = [Payment(i.due_on, -i.amount) for i in items if i.amount < 0]
    paid = sorted(
        [p for p in payments if p.paid_on <= as_of and p.amount > 0] + [c for c in credits if c.paid_on <= as_of],
        key=lambda p: p.paid_on,
    )
    remaining = [d.amount for d in debts]
    allocated: list[list[tuple[Decimal, dt.date]]] = [[] for _ in debts]

    def take(index: int, amount: Decimal, day: dt.date) -> Decimal:
        used = min(amount, remaining[index])
        if used > 0:
            remaining[index] -= used
            allocated[index].append((used, day))
        return amount - used

    for payment in paid:
        left = payment.amount
        if payment.period is not None:
            for index, debt in enumerate(debts):
                if debt.period == payment.period and left > 0:
                    left = take(index, left, payment.paid_on)
        for index in range(len(debts)):
            if left <= 0:
                break
            left = take(index, left, payment.paid_on)

    result = []
    for index, debt in enumerate(debts):
        item = ItemPenalty(debt)
        for amount, day in allocated[index]:
            item.parts.append(_part(amount, debt.due_on, day, True, rates))
        if remaining[index] > 0:
            item.parts.append(_part(remaining[index], debt.due_on, as_of, False, rates))
        result.append(item)
    return PenaltyResult(as_of, result)
