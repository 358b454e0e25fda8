"""The calculation of one account for one period, on plain data (no database).

Volume (ПП РФ №549, DESIGN.md §5), per meter in service during the period:
- a reading accepted for the period → the difference from the last reading that stood,
  less what was charged without readings since it (the estimate is replaced by what the
  meter counted);
- a reading kept but not used for billing, or the verification date passed by the end of
  the period, or a faulty meter → the norm (п.32);
- removed for verification or repair → the average month for at most 3 months from the
  removal (п.30), then the norm;
- no reading → the average month for at most 3 months after the last reading (п.31), then
  the norm. The average is over at least 12 months before the last reading, or since the
  meter was installed when it has worked less.
If any meter of the account falls to the norm, the whole account is billed by the norm (the
norm covers every use); an account with no meter in service is billed by the norm.

Norm: per resident per month for cooking (by whether there is central hot water) and for a
gas water heater, per m² of heated area for heating (by the month's value). Amount: volume ×
the price of the account's usage direction; a price or norm that changes inside the period is
taken by days. Rounding happens in one place: the volume to the litre, the money to the
kopeck, each once.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from abonent.billing.enums import NORM_METHODS, BenefitMode, Direction, NormKind, VolumeMethod
from abonent.core.money import round_rubles, round_tariff, round_volume
from abonent.core.periods import Period

AVERAGE_MONTHS_MAX = 3
AVERAGE_BASE_MONTHS = 12
ZERO = Decimal(0)
ZERO_VOLUME = Decimal("0.000")

# Which norm reason wins when meters fall to the norm for different reasons
_NORM_ORDER = (
    VolumeMethod.NORM_FAULTY,
    VolumeMethod.NORM_VERIFICATION,
    VolumeMethod.NORM_CHECK,
    VolumeMethod.NORM_NO_READINGS,
    VolumeMethod.NORM,
)


class DataMissing(LookupError):
    """A price or a norm is not set for some day of the period."""


@dataclass(frozen=True)
class DatedValue:
    valid_from: dt.date
    valid_to: dt.date | None
    value: Decimal
    month: int = 0


def _segments(rows: Sequence[DatedValue], period: Period, what: str) -> list[tuple[dt.date, dt.date, Decimal]]:
    """The values in force on the days of ``period`` as (first day, last day, value); a
    row for the period's month wins over a row for every month. Raises DataMissing."""
    result: list[tuple[dt.date, dt.date, Decimal]] = []
    day = period.first_day
    last = period.last_day
    while day <= last:
        found = [r for r in rows if r.valid_from <= day and (r.valid_to is None or day <= r.valid_to)]
        specific = [r for r in found if r.month == period.month]
        chosen = specific or [r for r in found if r.month == 0]
        if not chosen:
            if found:  # a month profile without this month: nothing by the norm
                value = ZERO
                ends = [r.valid_to for r in found if r.valid_to]
            else:
                raise DataMissing(f"{what}: не задано на {day:%d.%m.%Y}")
        else:
            value = chosen[0].value
            ends = [r.valid_to for r in chosen if r.valid_to]
        # the segment lasts until the row ends or another row starts
        end = min([last, *ends, *[r.valid_from - dt.timedelta(days=1) for r in rows if r.valid_from > day]])
        if result and result[-1][2] == value and result[-1][1] == day - dt.timedelta(days=1):
            result[-1] = (result[-1][0], end, value)
        else:
            result.append((day, end, value))
        day = end + dt.timedelta(days=1)
    return result


@dataclass(frozen=True, eq=False)
class Weighted:
    """A value over a period taken by days: ``total`` = Σ value × days, over ``days``."""

    segments: tuple[tuple[dt.date, dt.date, Decimal], ...]
    days: int

    @functools.cached_property
    def total(self) -> Decimal:
        return sum((v * ((b - a).days + 1) for a, b, v in self.segments), ZERO)

    @functools.cached_property
    def mean(self) -> Decimal:
        return self.total / self.days


@dataclass(frozen=True)
class PeriodBook:
    """A supplier's prices and norms for one period, taken by days."""

    period: Period
    prices: dict[str, Weighted]
    norms: dict[str, Weighted]

    @classmethod
    def build(
        cls, *, period: Period, tariffs: dict[str, list[DatedValue]], norms: dict[str, list[DatedValue]]
    ) -> PeriodBook:
        """Raises DataMissing naming the first direction or norm not set on some day."""
        prices = {
            d: Weighted(tuple(_segments(tariffs.get(d, []), period, f"цена «{Direction(d).label}»")), period.days)
            for d in Direction.values
        }
        book = {
            k: Weighted(tuple(_segments(norms.get(k, []), period, f"норматив «{NormKind(k).label}»")), period.days)
            for k in NormKind.values
        }
        return cls(period, prices, book)


@dataclass(frozen=True)
class AccountFacts:
    account_id: int
    residents: int
    heated_area: Decimal
    central_hot_water: bool
    uses_cooking: bool
    uses_water_heating: bool
    uses_heating: bool

    @property
    def direction(self) -> str:
        if self.uses_heating:
            return Direction.HEATING
        if self.uses_cooking and self.uses_water_heating:
            return Direction.COOKING_WATER_HEATER
        return Direction.COOKING


@dataclass(frozen=True)
class MeterState:
    """Where a meter stands after a period: the last reading that stood, and what was charged
    without readings since it."""

    basis_period: Period | None
    basis_value: Decimal
    estimated: Decimal = ZERO_VOLUME


@dataclass(frozen=True)
class MeterFacts:
    meter_id: int
    digits: int
    installed_on: dt.date
    initial_value: Decimal
    verification_due_on: dt.date
    status: str  # MeterStatus value
    removed_on: dt.date | None
    state: MeterState  # after the previous period
    reading_id: int | None = None  # the reading standing for this period
    reading_value: Decimal | None = None
    reading_for_billing: bool = True
    average: Decimal | None = None  # the average month, when it can be known

    def in_service(self, period: Period) -> bool:
        if self.installed_on > period.last_day:
            return False
        return not (self.status == "removed" and self.removed_on is not None and self.removed_on < period.first_day)


@dataclass
class MeterResult:
    meter_id: int
    method: str
    volume: Decimal
    state: MeterState
    reading_id: int | None = None
    raw: Decimal | None = None  # what the meter counted since the last reading
    deducted: Decimal = ZERO_VOLUME  # estimate replaced by it
    average: Decimal | None = None


@dataclass
class BenefitFacts:
    benefit_id: int
    category: str
    share: Decimal  # percent
    persons: int | None
    within_norm: bool
    mode: str
    valid_from: dt.date
    valid_to: dt.date | None


@dataclass
class BenefitResult:
    benefit_id: int
    category: str
    mode: str
    share: Decimal
    volume: Decimal
    amount: Decimal


@dataclass
class AccountResult:
    account_id: int
    period: Period
    method: str
    volume: Decimal
    direction: str
    price: Decimal  # the mean price over the period's days
    amount: Decimal
    norm_volume: Decimal | None
    meters: list[MeterResult] = field(default_factory=list)
    benefits: list[BenefitResult] = field(default_factory=list)

    @property
    def benefit_discount(self) -> Decimal:
        return sum((b.amount for b in self.benefits if b.mode == BenefitMode.DISCOUNT), ZERO)

    @property
    def benefit_volume(self) -> Decimal:
        return sum((b.volume for b in self.benefits), ZERO_VOLUME)

    @property
    def benefit_amount(self) -> Decimal:
        return sum((b.amount for b in self.benefits), ZERO)

    def details(self, account: AccountFacts) -> dict[str, object]:
        data: dict[str, object] = {
            "direction": self.direction,
            "residents": account.residents,
            "heated_area": str(account.heated_area),
            "central_hot_water": account.central_hot_water,
        }
        if self.norm_volume is not None:
            data["norm_volume"] = str(self.norm_volume)
        if self.benefits:
            data["benefits"] = [
                {"id": b.benefit_id, "category": b.category, "mode": b.mode, "share": str(b.share),
                 "volume": str(b.volume), "amount": str(b.amount)}
                for b in self.benefits
            ]  # fmt: skip
        return data


def norm_parts(account: AccountFacts, book: PeriodBook) -> list[tuple[str, Decimal, Decimal]]:
    """The norm's parts as (kind, units, m³ per unit over the period taken by days)."""
    parts: list[tuple[str, Decimal, Decimal]] = []
    residents = Decimal(account.residents)
    if account.uses_cooking:
        kind = NormKind.COOKING_CENTRAL_HW if account.central_hot_water else NormKind.COOKING
        parts.append((kind, residents, book.norms[kind].mean))
    if account.uses_water_heating:
        parts.append((NormKind.WATER_HEATER, residents, book.norms[NormKind.WATER_HEATER].mean))
    if account.uses_heating:
        parts.append((NormKind.HEATING, account.heated_area, book.norms[NormKind.HEATING].mean))
    return parts


def norm_volume(account: AccountFacts, book: PeriodBook) -> Decimal:
    return round_volume(sum((units * value for _, units, value in norm_parts(account, book)), ZERO))


def average_month(
    readings: Sequence[tuple[Period, Decimal]], *, last: Period, installed: tuple[Period, Decimal], digits: int
) -> Decimal | None:
    """The average month up to the reading of ``last``: over at least 12 months (from the
    latest reading 12 or more months before it), or since the installation when the meter
    has worked less. ``readings`` are the accepted ones as (period, value), oldest first."""
    values = dict(readings)
    if last not in values:
        return None
    base: tuple[Period, Decimal] | None = None
    for period, value in readings:
        if period.months_since(last) <= -AVERAGE_BASE_MONTHS:
            base = (period, value)
    if base is None:
        base = installed
    months = last.months_since(base[0])
    if months <= 0:
        return None
    counted = values[last] - base[1]
    if counted < 0:
        counted += Decimal(10) ** digits
    return round_volume(counted / months)


def _meter(meter: MeterFacts, period: Period) -> MeterResult:
    """The meter's own method and volume; the norm's volume is filled in by the account."""
    state = meter.state
    if meter.status == "faulty":
        return MeterResult(meter.meter_id, VolumeMethod.NORM_FAULTY, ZERO_VOLUME, state)
    if meter.status == "checking":
        # without the day it was removed, nobody can say the three months have not passed
        removed = Period.of(meter.removed_on) if meter.removed_on else None
        if removed is not None and period.months_since(removed) < AVERAGE_MONTHS_MAX and meter.average is not None:
            return MeterResult(meter.meter_id, VolumeMethod.AVERAGE_CHECK, meter.average, state, average=meter.average)
        return MeterResult(meter.meter_id, VolumeMethod.NORM_CHECK, ZERO_VOLUME, state)
    if meter.reading_value is not None:
        after = MeterState(period, meter.reading_value)
        if not meter.reading_for_billing:
            return MeterResult(meter.meter_id, VolumeMethod.NORM_VERIFICATION, ZERO_VOLUME, after, meter.reading_id)
        raw = meter.reading_value - state.basis_value
        if raw < 0:
            raw += Decimal(10) ** meter.digits  # the meter went past its last digit (allowed, or refused before)
        volume = raw - state.estimated
        return MeterResult(
            meter.meter_id, VolumeMethod.READING, volume, after, meter.reading_id, raw=raw, deducted=state.estimated
        )
    if meter.verification_due_on < period.last_day:
        return MeterResult(meter.meter_id, VolumeMethod.NORM_VERIFICATION, ZERO_VOLUME, state)
    since = state.basis_period or Period.of(meter.installed_on)
    if period.months_since(since) <= AVERAGE_MONTHS_MAX and meter.average is not None:
        estimated = MeterState(state.basis_period, state.basis_value, state.estimated + meter.average)
        return MeterResult(meter.meter_id, VolumeMethod.AVERAGE, meter.average, estimated, average=meter.average)
    return MeterResult(meter.meter_id, VolumeMethod.NORM_NO_READINGS, ZERO_VOLUME, state)


def account_compute(
    *,
    account: AccountFacts,
    meters: Sequence[MeterFacts],
    benefits: Sequence[BenefitFacts],
    book: PeriodBook,
) -> AccountResult:
    """The account's gas for ``book.period``: method, volume, amount, benefits, and each
    meter's result with where it stands after the period. Raises DataMissing."""
    period = book.period
    in_service = [m for m in meters if m.in_service(period)]
    results = [_meter(m, period) for m in in_service]
    norm_methods = [r.method for r in results if r.method in NORM_METHODS]
    norm: Decimal | None = None
    if not in_service or norm_methods:
        method = str(next((m for m in _NORM_ORDER if m in norm_methods), VolumeMethod.NORM))
        norm = norm_volume(account, book)
        volume = norm
        share = round_volume(norm / len(results)) if results else ZERO_VOLUME
        for r in results:
            if r.method in (VolumeMethod.AVERAGE, VolumeMethod.NORM_NO_READINGS):
                # billed by the norm without the meter's reading: replaced by it when one comes
                before = r.state if r.method == VolumeMethod.NORM_NO_READINGS else _undo_average(r)
                r.state = MeterState(before.basis_period, before.basis_value, before.estimated + share)
                r.volume = share
            elif r.method == VolumeMethod.READING:
                r.volume = ZERO_VOLUME  # the norm covers it; the next reading counts from this one
                r.deducted = ZERO_VOLUME
            elif r.method == VolumeMethod.AVERAGE_CHECK:
                r.volume = ZERO_VOLUME  # the norm covers it
    else:
        volume = round_volume(sum((r.volume for r in results), ZERO))
        kinds = {str(r.method) for r in results}
        method = kinds.pop() if len(kinds) == 1 else str(VolumeMethod.MIXED)
    direction = account.direction
    price = book.prices[direction]
    amount = round_rubles(volume * price.total / price.days)
    result = AccountResult(
        account_id=account.account_id,
        period=period,
        method=method,
        volume=volume,
        direction=direction,
        price=round_tariff(price.mean),
        amount=amount,
        norm_volume=norm,
        meters=results,
    )
    if volume > 0 and benefits:
        result.benefits = _benefits(account, benefits, book, volume, price, norm)
    return result


def _undo_average(result: MeterResult) -> MeterState:
    state = result.state
    return MeterState(state.basis_period, state.basis_value, state.estimated - (result.average or ZERO))


def _benefits(
    account: AccountFacts,
    benefits: Sequence[BenefitFacts],
    book: PeriodBook,
    volume: Decimal,
    price: Weighted,
    norm: Decimal | None,
) -> list[BenefitResult]:
    period = book.period
    norm_total = norm if norm is not None else norm_volume(account, book)
    results = []
    for b in benefits:
        first = max(b.valid_from, period.first_day)
        last = min(b.valid_to or period.last_day, period.last_day)
        if last < first:
            continue
        days = Decimal((last - first).days + 1)
        persons = Decimal(min(b.persons or account.residents, account.residents) if account.residents else 0)
        part = persons / account.residents if account.residents else Decimal(1)
        base = min(volume, norm_total) * part if b.within_norm else volume * part
        covered = round_volume(base * days / period.days)
        amount = round_rubles(covered * price.total / price.days * b.share / 100)
        if amount > 0:
            results.append(BenefitResult(b.benefit_id, b.category, b.mode, b.share, covered, amount))
    return results
