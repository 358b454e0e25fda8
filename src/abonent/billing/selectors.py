"""Reads of billing for the account page, the API and the back office: money on the
account, charges with how each was computed, penalties with their breakdown, the prices,
norms and benefits that apply, and the consumption chart."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from abonent.billing.engine import AccountFacts, NormKind
from abonent.billing.enums import Direction, RunStatus, VolumeMethod
from abonent.billing.models import Benefit, BillingRun, Charge, MeterVolume, Norm, Tariff
from abonent.billing.penalties import DebtItem, Payment, PenaltyResult, penalty_compute
from abonent.billing.services import rate_book
from abonent.core.periods import Period
from abonent.core.selectors import TermsNotSet, payment_due_date
from abonent.customers.models import PersonalAccount
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.models import LedgerEntry
from abonent.ledger.selectors import Turnover, balances_get, turnover_list
from abonent.metering.models import Meter

ZERO = Decimal("0.00")
CHARGES_MONTHS = 36
CHART_MONTHS = 24


def account_facts(account: PersonalAccount) -> AccountFacts:
    return AccountFacts(
        account.pk,
        account.residents,
        account.heated_area,
        account.central_hot_water,
        account.uses_cooking,
        account.uses_water_heating,
        account.uses_heating,
    )


@dataclass
class AccountMoney:
    """What the account owes now: the balance of each service (positive: a debt, negative:
    paid ahead), the amount due and its due date (of the last billed period)."""

    balances: dict[str, Decimal]
    amount_due: Decimal
    last_period: Period | None
    due_on: dt.date | None

    @property
    def overpaid(self) -> Decimal:
        total = sum(self.balances.values(), ZERO)
        return -total if total < 0 else ZERO


def account_money_get(*, account: PersonalAccount) -> AccountMoney:
    balances = balances_get(account=account)
    last = (
        LedgerEntry.objects.filter(account=account, kind__in=[EntryKind.CHARGE, EntryKind.RECALCULATION])
        .order_by("-billed_in")
        .values_list("billed_in", flat=True)
        .first()
    )
    due_on = None
    if last is not None:
        try:
            due_on = payment_due_date(supplier=account.supplier, period=last)
        except TermsNotSet:
            due_on = None
    due = sum((amount for amount in balances.values() if amount > 0), ZERO)
    return AccountMoney(balances=balances, amount_due=due, last_period=last, due_on=due_on)


@dataclass
class MeterLine:
    meter_id: int
    serial: str
    method: str
    volume: Decimal
    reading_value: Decimal | None
    previous_period: Period | None
    previous_value: Decimal | None
    deducted: Decimal
    average: Decimal | None


@dataclass
class ChargeView:
    """A period's gas: how it was calculated, and the month's turnover of the account."""

    period: Period
    method: str
    method_label: str
    volume: Decimal
    price: Decimal | None
    amount: Decimal
    benefit_volume: Decimal
    benefit_amount: Decimal
    benefits: list[dict[str, str]]
    direction: str
    direction_label: str
    residents: int | None
    heated_area: Decimal | None
    norm_volume: Decimal | None
    meters: list[MeterLine] = field(default_factory=list)
    turnover: Turnover | None = None
    penalty: Turnover | None = None


def charges_list(*, account: PersonalAccount, months: int = CHARGES_MONTHS) -> list[ChargeView]:
    """The account's gas charges of the last ``months`` billed periods, newest first, each
    with how it was computed and the month's turnover of gas and penalties."""
    charges = list(Charge.objects.filter(account=account, service=Service.GAS).order_by("-period")[:months])
    if not charges:
        return []
    first, last = charges[-1].period, charges[0].period
    turnovers = {(t.service, t.period): t for t in turnover_list(account=account, first=first, last=last)}
    meters = dict(Meter.objects.filter(account=account).values_list("id", "serial"))
    volumes: dict[int, list[MeterVolume]] = {}
    for mv in MeterVolume.objects.filter(
        meter__account=account, period__gte=first.to_int(), period__lte=last.to_int()
    ).select_related("reading"):
        volumes.setdefault(mv.period.to_int(), []).append(mv)
    result = []
    for charge in charges:
        details = charge.details or {}
        by_meter = {m["meter"]: m for m in details.get("meters", [])}
        lines = []
        for mv in sorted(volumes.get(charge.period.to_int(), []), key=lambda v: v.meter_id):
            info = by_meter.get(mv.meter_id, {})
            raw = info.get("raw")
            lines.append(
                MeterLine(
                    meter_id=mv.meter_id,
                    serial=meters.get(mv.meter_id, ""),
                    method=mv.method,
                    volume=mv.volume,
                    reading_value=mv.reading.value if mv.reading else None,
                    previous_period=_basis_before(volumes, charge.period, mv.meter_id),
                    previous_value=(mv.reading.value - Decimal(raw)) if mv.reading and raw is not None else None,
                    deducted=Decimal(info.get("deducted", "0")),
                    average=mv.average,
                )
            )
        direction = details.get("direction", "")
        result.append(
            ChargeView(
                period=charge.period,
                method=charge.method,
                method_label=str(VolumeMethod(charge.method).label) if charge.method else "",
                volume=charge.volume,
                price=charge.price,
                amount=charge.amount,
                benefit_volume=charge.benefit_volume,
                benefit_amount=charge.benefit_amount,
                benefits=details.get("benefits", []),
                direction=direction,
                direction_label=str(Direction(direction).label) if direction in Direction.values else "",
                residents=details.get("residents"),
                heated_area=Decimal(details["heated_area"]) if "heated_area" in details else None,
                norm_volume=Decimal(details["norm_volume"]) if "norm_volume" in details else None,
                meters=lines,
                turnover=turnovers.get((Service.GAS, charge.period)),
                penalty=turnovers.get((Service.PENALTY, charge.period)),
            )
        )
    return result


def _basis_before(volumes: dict[int, list[MeterVolume]], period: Period, meter_id: int) -> Period | None:
    """The period of the reading a meter's volume was counted from: where the meter stood
    after the period before."""
    for mv in volumes.get(period.previous().to_int(), []):
        if mv.meter_id == meter_id:
            return mv.basis_period
    return None


def penalty_breakdown(*, account: PersonalAccount, as_of: dt.date) -> PenaltyResult:
    """The penalty on ``as_of`` of the account's gas debt, by debt item, part and segment,
    as the billing run works it out (what was posted is in the ledger)."""
    items: dict[Period, Decimal] = {}
    payments = []
    for kind, billed_in, amount, posted_on, pays_period in LedgerEntry.objects.filter(
        account=account, service=Service.GAS, billed_in__lte=Period.of(as_of).to_int()
    ).values_list("kind", "billed_in", "amount", "posted_on", "pays_period"):
        if kind == EntryKind.PAYMENT:
            payments.append(Payment(posted_on, -amount, pays_period))
        else:
            items[billed_in] = items.get(billed_in, ZERO) + amount
    debts = []
    for period, amount in sorted(items.items()):
        if amount:
            try:
                debts.append(DebtItem(period, amount, payment_due_date(supplier=account.supplier, period=period)))
            except TermsNotSet:
                continue
    return penalty_compute(items=debts, payments=payments, as_of=as_of, rates=rate_book())


@dataclass
class PriceLine:
    direction: str
    label: str
    price: Decimal
    valid_from: dt.date
    valid_to: dt.date | None
    applies: bool  # the account's own direction


def tariffs_for_account(*, account: PersonalAccount, on: dt.date) -> list[PriceLine]:
    """The prices in force on ``on`` for every direction, the account's own marked."""
    own = account_facts(account).direction
    lines: list[PriceLine] = []
    for tariff in Tariff.objects.filter(supplier_id=account.supplier_id, valid_from__lte=on).order_by(
        "direction", "-valid_from"
    ):
        if tariff.valid_to is not None and tariff.valid_to < on:
            continue
        if any(line.direction == tariff.direction for line in lines):
            continue
        lines.append(
            PriceLine(
                tariff.direction,
                str(tariff.get_direction_display()),
                tariff.price,
                tariff.valid_from,
                tariff.valid_to,
                tariff.direction == own,
            )
        )
    lines.sort(key=lambda line: (not line.applies, line.direction))
    return lines


@dataclass
class NormLine:
    kind: str
    label: str
    value: Decimal
    unit: str  # "person" or "m2"
    month: int
    units: Decimal  # residents or heated area of the account
    applies: bool


def norms_for_account(*, account: PersonalAccount, on: dt.date) -> list[NormLine]:
    """The norms in force on ``on`` that apply to the account (the heating norm of the
    month of ``on``), with the account's residents or heated area."""
    facts = account_facts(account)
    wanted: list[str] = []
    if facts.uses_cooking:
        wanted.append(NormKind.COOKING_CENTRAL_HW if facts.central_hot_water else NormKind.COOKING)
    if facts.uses_water_heating:
        wanted.append(NormKind.WATER_HEATER)
    if facts.uses_heating:
        wanted.append(NormKind.HEATING)
    lines: list[NormLine] = []
    rows = Norm.objects.filter(supplier_id=account.supplier_id, kind__in=wanted, valid_from__lte=on).order_by(
        "kind", "-month", "-valid_from"
    )
    for norm in rows:
        if norm.valid_to is not None and norm.valid_to < on:
            continue
        if norm.month not in (0, on.month) or any(line.kind == norm.kind for line in lines):
            continue
        heating = norm.kind == NormKind.HEATING
        lines.append(
            NormLine(
                norm.kind,
                str(norm.get_kind_display()),
                norm.value,
                "m2" if heating else "person",
                norm.month,
                facts.heated_area if heating else Decimal(facts.residents),
                True,
            )
        )
    lines.sort(key=lambda line: wanted.index(line.kind))
    return lines


def benefits_for_account(*, account: PersonalAccount, on: dt.date) -> list[Benefit]:
    """The account's benefits in force on ``on`` or later."""
    return list(Benefit.objects.filter(account=account).exclude(valid_to__lt=on).order_by("valid_from"))


@dataclass
class ChartMonth:
    period: Period
    volume: Decimal | None
    amount: Decimal | None
    volume_year_before: Decimal | None
    amount_year_before: Decimal | None


def consumption_chart(
    *, account: PersonalAccount, last: Period | None = None, months: int = CHART_MONTHS
) -> list[ChartMonth]:
    """Gas volume and charge of each of the last ``months`` periods up to ``last`` (the
    latest charged one by default), next to the same month a year before; oldest first."""
    charges = {
        c[0].to_int(): (c[1], c[2])
        for c in Charge.objects.filter(account=account, service=Service.GAS).values_list("period", "volume", "amount")
    }
    if not charges:
        return []
    end = last or Period.from_int(max(charges))
    result = []
    for offset in range(months - 1, -1, -1):
        period = end - offset
        now = charges.get(period.to_int())
        before = charges.get((period - 12).to_int())
        result.append(
            ChartMonth(
                period,
                now[0] if now else None,
                now[1] if now else None,
                before[0] if before else None,
                before[1] if before else None,
            )
        )
    return result


@dataclass(frozen=True)
class StalledRun:
    """A run still marked running whose lease ran out: nothing has moved it for the lease's
    length, so a chunk of it is lost (its job went with a worker that died before it could
    be given out again)."""

    run_id: int
    supplier_code: str
    period: Period
    chunk_size: int


def runs_stalled(runs: QuerySet[Any], *, now: dt.datetime) -> list[StalledRun]:
    """The stalled runs among ``runs`` (billing runs, or the bill runs of documents: a run
    model with a supplier, a period, a lease and chunks as ``parts``)."""
    stalled = []
    for run in runs.filter(status=RunStatus.RUNNING, lease_until__lt=now).select_related("supplier").order_by("pk"):
        first = run.parts.order_by("first_account_id").values_list("first_account_id", "last_account_id").first()
        size = first[1] - first[0] + 1 if first else 1
        stalled.append(StalledRun(run.pk, run.supplier.code, run.period, size))
    return stalled


def billing_runs_stalled(*, now: dt.datetime) -> list[StalledRun]:
    return runs_stalled(BillingRun.objects.all(), now=now)
