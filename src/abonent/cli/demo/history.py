"""The money history of the demo accounts, made by the engine itself: for each month of the
history, oldest first, a billing run of each supplier a few days after the month ends, then
the payments people make until the next run. Nothing is written around the ledger.

How a household pays is drawn from streams of its own (``Rng(f"{seed}:{code}:{number}:…")``),
so it depends on the seed, the day and the account only:

- most pay the whole bill (gas and penalties) between the day it comes and its due date,
  and forget a month now and then;
- some pay the whole bill, but weeks after the due date (penalties from day 31 of delay);
- some pay part of the bill, rounded to hundreds of rubles, and clear it now and then;
- a few stop paying for months (the debt and the penalty grow), then pay it all off,
  or have not yet by the end of the history;
- a few pay ahead, a round sum above the bill.

A payment is decided when the bill it answers is known: what the bill shows (the entries of
the bill's month and before) less what the household has already decided to pay later.
Every payment has a source key made of the seed, the account number, the bill's month and
the service, so a second run finds it and posts nothing; a run of a month that has a
finished run already is skipped unless the seed has just added accounts (then the engine
bills only them: the others have their entries already).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from django.db.models import Count, Sum

from abonent.billing.enums import RunStatus
from abonent.billing.models import BillingRun, KeyRate
from abonent.billing.services import billing_run
from abonent.cli.demo.generator import Rng, SupplierPlan
from abonent.cli.demo.tariffs import DemoBenefit, benefit_draw, benefits_ensure, norms_ensure, prices_ensure
from abonent.core.models import Supplier
from abonent.core.money import round_rubles
from abonent.core.periods import Period
from abonent.core.selectors import bill_delivery_date, payment_due_date
from abonent.customers.enums import AccountStatus
from abonent.customers.models import PersonalAccount
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.models import LedgerEntry
from abonent.ledger.services import NewEntry, entries_post

RUN_DAY = 3  # the run of a month is on the 3rd of the next month …
RUN_HOUR = 4  # … at 04:00 the supplier's time
PAY_HOUR = 12
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)

# (profile, percent of households)
PROFILES = (("prompt", 70), ("late", 12), ("partial", 10), ("defaulter", 5), ("ahead", 3))
_PROFILE_WEIGHTS = tuple(sum(w for _, w in PROFILES[: i + 1]) for i in range(len(PROFILES)))
DEMO_PROFILE = "demo"
FORGET_SHARE = 0.04  # a prompt payer skips a month now and then
DEMO_PARTIAL_MONTHS_BACK = 4  # the demo account paid half of the bill four months before the last


@dataclass(frozen=True)
class Planned:
    """A payment a household has decided on."""

    account_id: int
    key: str
    service: str
    bill: Period  # the bill it answers
    day: dt.date
    amount: Decimal  # > 0
    pays_period: Period | None


@dataclass
class _Payer:
    account_id: int
    number: str
    profile: str
    streak: tuple[int, int] = (0, 0)  # a defaulter's months without paying: [first, last) history index
    planned: list[Planned] = field(default_factory=list)

    def pending(self, service: str, after: dt.date) -> Decimal:
        """What the household has decided to pay on days after ``after``."""
        return sum((p.amount for p in self.planned if p.service == service and p.day > after), ZERO)


@dataclass
class HistoryReport:
    runs: int = 0
    periods: int = 0
    charge: int = 0  # ledger entries of gas: charges, benefits, recalculations
    penalty: int = 0
    payment: int = 0
    tariff: int = 0
    norm: int = 0
    benefit: int = 0


def history_periods(plan: SupplierPlan) -> list[Period]:
    """The months billed: the seed's history, from the first month the key rate is known on
    (penalties need it)."""
    first_rate = KeyRate.objects.order_by("effective_from").values_list("effective_from", flat=True).first()
    periods = [Period.from_int(p.period) for p in plan.periods if not p.opening]
    if first_rate is None:
        return []
    return [p for p in periods if p.first_day >= first_rate]


def run_moment(supplier: Supplier, period: Period, today: dt.date) -> dt.datetime:
    """When the run of ``period`` takes place: the 3rd of the next month at 04:00 local time,
    and not after ``today``."""
    day = min(period.next().day(RUN_DAY), today)
    return dt.datetime.combine(day, dt.time(RUN_HOUR), tzinfo=zoneinfo.ZoneInfo(supplier.time_zone)).astimezone(dt.UTC)


def _profile(seed: int, code: str, number: str, history: int) -> tuple[str, tuple[int, int]]:
    rng = Rng(f"{seed}:{code}:{number}:payer")
    profile = rng.weighted([p for p, _ in PROFILES], _PROFILE_WEIGHTS)
    streak = (0, 0)
    if profile == "defaulter":
        start = rng.between(2, max(history - 4, 2))
        streak = (start, start + rng.between(3, 9))
    return profile, streak


def _down(amount: Decimal, step: Decimal) -> Decimal:
    return (amount / step).to_integral_value(rounding=ROUND_DOWN) * step


def _up(amount: Decimal, step: Decimal) -> Decimal:
    return (amount / step).to_integral_value(rounding=ROUND_UP) * step


class _SupplierHistory:
    """One supplier's accounts through the months of the history."""

    def __init__(
        self, *, supplier: Supplier, plan: SupplierPlan, seed: int, today: dt.date, periods: list[Period], demo: str
    ) -> None:
        self.supplier = supplier
        self.code = plan.demo.code
        self.seed = seed
        self.today = today
        self.periods = periods
        self.demo = demo
        self.zone = zoneinfo.ZoneInfo(supplier.time_zone)
        self.payers: dict[int, _Payer] = {}
        rows = PersonalAccount.objects.filter(supplier=supplier).values_list("id", "number").order_by("id")
        for account_id, number in rows:
            if number == demo:
                profile, streak = DEMO_PROFILE, (0, 0)
            else:
                profile, streak = _profile(seed, self.code, number, len(periods))
            self.payers[account_id] = _Payer(account_id, number, profile, streak)

    def benefits(self) -> dict[int, DemoBenefit]:
        history = (self.periods[0].first_day, self.periods[-1].last_day)
        result = {}
        rows = PersonalAccount.objects.filter(supplier=self.supplier, status=AccountStatus.ACTIVE).values_list(
            "id", "number", "residents"
        )
        for account_id, number, residents in rows:
            benefit = benefit_draw(
                seed=self.seed, code=self.code, number=number, residents=residents, history=history,
                demo=number == self.demo,
            )  # fmt: skip
            if benefit is not None:
                result[account_id] = benefit
        return result

    def run(self, period: Period, *, again: bool) -> bool:
        """The billing run of ``period``, unless it has been done (and no accounts are new);
        returns whether it ran."""
        runs = BillingRun.objects.filter(supplier=self.supplier, period=period.to_int())
        if not again and runs.filter(status=RunStatus.DONE).exists():
            return False
        moment = run_moment(self.supplier, period, self.today)
        stuck = runs.filter(status=RunStatus.RUNNING).order_by("-lease_until").first()
        if stuck is not None and stuck.lease_until >= moment:
            moment = stuck.lease_until + dt.timedelta(seconds=1)  # an interrupted run is taken over
        billing_run(supplier=self.supplier, period=period, now=lambda: moment, today=moment.date(), channel="seed")
        return True

    def decide(self, index: int, period: Period) -> None:
        """The payments that answer the bill of ``period``."""
        due_on = payment_due_date(supplier=self.supplier, period=period)
        first_day = max(
            bill_delivery_date(supplier=self.supplier, period=period),
            run_moment(self.supplier, period, self.today).astimezone(self.zone).date() + dt.timedelta(days=1),
        )
        first_day = min(first_day, due_on)
        bills: dict[int, dict[str, Decimal]] = defaultdict(dict)
        month: dict[int, Decimal] = defaultdict(Decimal)
        for account_id, service, total in (
            LedgerEntry.objects.filter(account__supplier=self.supplier, billed_in__lte=period.to_int())
            .values_list("account_id", "service")
            .annotate(total=Sum("amount"))
            .order_by()
        ):
            bills[account_id][service] = round_rubles(total)  # SQLite sums decimals as floats
        for account_id, total in (
            LedgerEntry.objects.filter(account__supplier=self.supplier, billed_in=period.to_int(), service=Service.GAS)
            .exclude(kind=EntryKind.PAYMENT)
            .values_list("account_id")
            .annotate(total=Sum("amount"))
            .order_by()
        ):
            month[account_id] = round_rubles(total)
        last_day = period.last_day
        for account_id, services in bills.items():
            payer = self.payers.get(account_id)
            if payer is None:
                continue
            gas = services.get(Service.GAS, ZERO) - payer.pending(Service.GAS, last_day)
            penalty = services.get(Service.PENALTY, ZERO) - payer.pending(Service.PENALTY, last_day)
            rng = Rng(f"{self.seed}:{self.code}:{payer.number}:pay:{period}")
            day = first_day + dt.timedelta(days=rng.below((due_on - first_day).days + 1))
            gas_paid, penalty_paid = self._amounts(payer, index, period, rng, gas, penalty, month[account_id])
            if payer.profile == "late" and rng.random() < 0.7:
                day = due_on + dt.timedelta(days=rng.between(5, 75))
            for service, amount in ((Service.GAS, gas_paid), (Service.PENALTY, penalty_paid)):
                if amount > 0:
                    payer.planned.append(
                        Planned(
                            account_id=account_id,
                            key=f"seed-{self.seed}:pay:{self.code}:{payer.number}:{period.to_int()}:{service}",
                            service=service,
                            bill=period,
                            day=day,
                            amount=amount,
                            pays_period=period if service == Service.GAS else None,
                        )
                    )

    def _amounts(
        self, payer: _Payer, index: int, period: Period, rng: Rng, gas: Decimal, penalty: Decimal, month: Decimal
    ) -> tuple[Decimal, Decimal]:
        """What of the bill (gas, penalty) the household pays."""
        profile = payer.profile
        if profile == DEMO_PROFILE:
            back = len(self.periods) - 1 - index
            if back > DEMO_PARTIAL_MONTHS_BACK:
                return gas, penalty
            if back == DEMO_PARTIAL_MONTHS_BACK:
                return _down(gas / 2, HUNDRED), ZERO
            return min(month, gas), ZERO  # the month's own charge, naming it: the old debt stays
        if profile == "prompt":
            return (ZERO, ZERO) if rng.random() < FORGET_SHARE else (gas, penalty)
        if profile == "late":
            return gas, penalty
        if profile == "partial":
            if rng.random() < 0.25:
                return gas, penalty
            part = _down(gas * Decimal(rng.between(40, 90)) / 100, HUNDRED)
            return (part if part > 0 else gas), ZERO
        if profile == "defaulter":
            first, end = payer.streak
            return (ZERO, ZERO) if first <= index < end else (gas, penalty)
        # ahead: a round sum above the bill
        return (_up(gas, Decimal(500)) if gas > 0 else ZERO), penalty

    def post(self, until: dt.date, after: dt.date | None) -> int:
        """Post the planned payments of days after ``after`` (or all before) through ``until``
        that are not posted yet; returns how many were posted."""
        due = [
            p
            for payer in self.payers.values()
            for p in payer.planned
            if p.day <= until and (after is None or p.day > after) and p.day <= self.today
        ]
        if not due:
            return 0
        keys = [p.key for p in due]
        posted: set[str] = set()
        for at in range(0, len(keys), 900):
            posted.update(
                LedgerEntry.objects.filter(source_key__in=keys[at : at + 900]).values_list("source_key", flat=True)
            )
        by_day: dict[dt.date, list[NewEntry]] = defaultdict(list)
        for p in due:
            if p.key in posted:
                continue
            by_day[p.day].append(
                NewEntry(
                    account_id=p.account_id,
                    service=p.service,
                    kind=EntryKind.PAYMENT,
                    period=p.bill,
                    billed_in=Period.of(p.day),
                    amount=-p.amount,
                    posted_on=p.day,
                    source_key=p.key,
                    pays_period=p.pays_period,
                )
            )
        count = 0
        for day, entries in sorted(by_day.items()):
            moment = dt.datetime.combine(day, dt.time(PAY_HOUR), tzinfo=self.zone).astimezone(dt.UTC)
            count += entries_post(entries=entries, now=moment)
        return count


def _entry_counts() -> dict[tuple[str, str], int]:
    return {
        (service, kind): n
        for service, kind, n in LedgerEntry.objects.values_list("service", "kind").annotate(n=Count("id")).order_by()
    }


def history_run(
    *,
    suppliers: Sequence[tuple[Supplier, SupplierPlan]],
    seed: int,
    today: dt.date,
    demo_number: str,
    grown: frozenset[str] = frozenset(),
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> HistoryReport:
    """Prices, norms, benefits, then the months of the history: runs and payments.

    ``grown``: the codes of the suppliers the seed has just added accounts to; their months
    already billed are run again (the engine posts only what the new accounts lack). ``demo_number`` is the account
    of the demo subscriber, whose history is made to show a little of everything.
    """
    report = HistoryReport()
    before = _entry_counts()
    histories: list[_SupplierHistory] = []
    for supplier, plan in suppliers:
        periods = history_periods(plan)
        if not periods:
            continue
        report.tariff += prices_ensure(supplier, plan.demo, first=periods[0].first_day, last=today)
        report.norm += norms_ensure(supplier, plan.demo, first=periods[0].first_day)
        history = _SupplierHistory(
            supplier=supplier, plan=plan, seed=seed, today=today, periods=periods, demo=demo_number
        )
        report.benefit += benefits_ensure(history.benefits())
        histories.append(history)
    months = max((len(h.periods) for h in histories), default=0)
    if on_start is not None:
        on_start(months * len(histories))
    for index in range(months):
        for history in histories:
            # all suppliers share the history's months; a shorter one starts later
            offset = months - len(history.periods)
            if index < offset:
                if on_progress is not None:
                    on_progress(1)
                continue
            at = index - offset
            period = history.periods[at]
            if history.run(period, again=history.code in grown):
                report.runs += 1
            history.decide(at, period)
            start = run_moment(history.supplier, period, today).astimezone(history.zone).date()
            if at + 1 < len(history.periods):
                end = run_moment(history.supplier, history.periods[at + 1], today).astimezone(history.zone).date()
                report.payment += history.post(end - dt.timedelta(days=1), start - dt.timedelta(days=1))
            else:
                report.payment += history.post(today, start - dt.timedelta(days=1))
            if on_progress is not None:
                on_progress(1)
    report.periods = months
    after = _entry_counts()
    added = {key: after.get(key, 0) - before.get(key, 0) for key in after}
    report.charge = sum(
        n for (service, kind), n in added.items() if service == Service.GAS and kind != EntryKind.PAYMENT
    )
    report.penalty = sum(
        n for (service, kind), n in added.items() if service == Service.PENALTY and kind != EntryKind.PAYMENT
    )
    return report
