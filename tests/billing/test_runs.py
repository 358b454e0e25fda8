"""Billing runs, posted to the ledger, with exact amounts worked out by hand: the first run
charges, a re-run posts nothing, late and corrected readings post a recalculation, the
volume rules from one month to the next, penalties with the rates the migration loads (the
key rate capped at 9.5 % through 31.12.2026), closed periods, the lease of a run, and a run
killed half-way that ends as one never interrupted.

Prices and norms are those of billing_data_make: cooking 13.52 ₽/m³, the norm 15 m³ per
resident (3 residents: 45 m³, 608.40 ₽)."""

from __future__ import annotations

import datetime as dt
import re
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import OperationalError, connection, transaction

from abonent.billing.enums import BenefitMode, RunStatus, VolumeMethod
from abonent.billing.models import Benefit, BillingChunk, BillingPeriod, BillingRun, Charge, MeterVolume, Tariff
from abonent.billing.selectors import penalty_breakdown
from abonent.billing.services import (
    LEASE,
    BillingDataMissing,
    PeriodClosed,
    PeriodNotOver,
    RunInProgress,
    RunNotRunning,
    billing_chunk_process,
    billing_period_close,
    billing_run,
    billing_run_finish,
    billing_run_start,
)
from abonent.core.models import Supplier
from abonent.core.periods import Period
from abonent.core.selectors import payment_due_date
from abonent.core.services import supplier_create
from abonent.customers.models import PersonalAccount
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.models import LedgerEntry
from abonent.ledger.selectors import balances_get, ledger_verify
from abonent.ledger.services import NewEntry, entries_post
from abonent.metering.enums import ReadingStatus
from abonent.metering.models import Meter, Reading
from tests.billing.billing_data import billing_data_make
from tests.conftest import SUPPLIER_MOSCOW
from tests.factories import account_make, meter_make, reading_make

D = Decimal
UTC = dt.UTC


def P(year: int, month: int) -> Period:
    return Period(year, month)


def run_moment(period: Period) -> dt.datetime:
    """Runs happen on the 2nd of the month after the period, 03:00 UTC."""
    after = period.next()
    return dt.datetime(after.year, after.month, 2, 3, 0, tzinfo=UTC)


def run(supplier: Supplier, period: Period, *, at: dt.datetime | None = None, chunk_size: int = 2) -> BillingRun:
    moment = at or run_moment(period)
    return billing_run(supplier=supplier, period=period, now=lambda: moment, today=moment.date(), chunk_size=chunk_size)


def runs(supplier: Supplier, first: Period, last: Period, **kw: Any) -> None:
    month = first
    while month <= last:
        run(supplier, month, **kw)
        month = month.next()


def entries(account: PersonalAccount) -> list[tuple[str, str, str, str, Decimal]]:
    """(service, kind, for period, on the bill of, amount), in the order posted."""
    return [
        (e.service, e.kind, str(e.period), str(e.billed_in), e.amount)
        for e in LedgerEntry.objects.filter(account=account).order_by("id")
    ]


def charge(account: PersonalAccount, period: Period) -> Charge:
    return Charge.objects.get(account=account, period=period.to_int(), service=Service.GAS)


@pytest.fixture
def billed(supplier: Supplier) -> Supplier:
    billing_data_make(supplier)
    return supplier


def metered(supplier: Supplier, number: str = "770000000001", **fields: Any) -> tuple[PersonalAccount, Meter]:
    account = account_make(supplier=supplier, number=number)
    return account, meter_make(account=account, **fields)


# --- the first run, a re-run ----------------------------------------------------------------


def test_the_first_run_charges_and_a_rerun_posts_nothing(billed: Supplier) -> None:
    by_reading, meter = metered(billed)
    reading_make(meter, P(2025, 12), "1000")
    reading_make(meter, P(2026, 1), "1042.5")
    by_norm = account_make(supplier=billed, number="770000000002")
    discount = account_make(supplier=billed, number="770000000003")
    Benefit.objects.create(account=discount, category="veteran", share=D("50"), persons=1,
                           mode=BenefitMode.DISCOUNT, valid_from=dt.date(2025, 1, 1))  # fmt: skip
    compensation = account_make(supplier=billed, number="770000000004")
    Benefit.objects.create(account=compensation, category="veteran", share=D("50"), persons=1,
                           mode=BenefitMode.COMPENSATION, valid_from=dt.date(2025, 1, 1))  # fmt: skip

    first = run(billed, P(2026, 1), chunk_size=1)

    assert (first.status, first.chunks) == (RunStatus.DONE, 4)
    january = "2026-01"
    # 1042.5 − 1000 = 42.5 m³ × 13.52 = 574.60
    assert entries(by_reading) == [(Service.GAS, EntryKind.CHARGE, january, january, D("574.60"))]
    # no meter: 3 × 15 = 45 m³ × 13.52 = 608.40
    assert entries(by_norm) == [(Service.GAS, EntryKind.CHARGE, january, january, D("608.40"))]
    # a discount for 1 of 3 residents within the norm, 50 %: 15 m³ × 13.52 × 0.5 = 101.40
    assert entries(discount) == [
        (Service.GAS, EntryKind.CHARGE, january, january, D("608.40")),
        (Service.GAS, EntryKind.BENEFIT, january, january, D("-101.40")),
    ]
    # compensation is paid by social services: shown, not posted
    assert entries(compensation) == [(Service.GAS, EntryKind.CHARGE, january, january, D("608.40"))]
    shown = charge(compensation, P(2026, 1))
    assert (shown.benefit_volume, shown.benefit_amount) == (D("15.000"), D("101.40"))
    assert balances_get(account=discount)[Service.GAS] == D("507.00")  # 608.40 − 101.40
    read = charge(by_reading, P(2026, 1))
    assert (read.method, read.volume, read.price, read.amount) == (
        VolumeMethod.READING,
        D("42.500"),
        D("13.5200"),
        D("574.60"),
    )
    volume = MeterVolume.objects.get(meter=meter, period=P(2026, 1).to_int())
    assert (volume.method, volume.volume, volume.basis_value, volume.estimated) == (
        VolumeMethod.READING,
        D("42.500"),
        D("1042.500"),
        D("0.000"),
    )
    # 574.60 + 3 × 608.40 = 2399.80 charged, 101.40 of discount
    assert (first.summary["accounts"], first.summary["amount"], first.summary["benefit"]) == (4, "2399.80", "101.40")
    assert ledger_verify() == []

    before = list(LedgerEntry.objects.order_by("id").values_list("id", "source_key", "amount"))
    charges_before = list(Charge.objects.order_by("account_id").values_list("account_id", "method", "volume", "amount"))
    again = run(billed, P(2026, 1), at=run_moment(P(2026, 1)) + dt.timedelta(hours=1))

    assert again.status == RunStatus.DONE
    assert again.summary["entries"] == 0
    assert list(LedgerEntry.objects.order_by("id").values_list("id", "source_key", "amount")) == before
    assert list(Charge.objects.order_by("account_id").values_list("account_id", "method", "volume", "amount")) == (
        charges_before
    )
    assert ledger_verify() == []


# --- from one month to the next -----------------------------------------------------------


def _average_history(meter: Meter) -> None:
    reading_make(meter, P(2025, 1), "500")
    reading_make(meter, P(2025, 12), "720")
    reading_make(meter, P(2026, 1), "752")
    # the average at January 2026: from January 2025, (752 − 500) / 12 = 21 m³


def test_three_months_on_the_average_then_the_norm_then_a_reading_replaces_the_estimate(billed: Supplier) -> None:
    account, meter = metered(billed)
    _average_history(meter)
    reading_make(meter, P(2026, 6), "900")

    runs(billed, P(2026, 1), P(2026, 6))

    got = [
        (c.period.month, c.method, c.volume, c.amount)
        for c in Charge.objects.filter(account=account).order_by("period")
    ]
    assert got == [
        (1, VolumeMethod.READING, D("32.000"), D("432.64")),  # 752 − 720; 32 × 13.52
        (2, VolumeMethod.AVERAGE, D("21.000"), D("283.92")),  # 21 × 13.52
        (3, VolumeMethod.AVERAGE, D("21.000"), D("283.92")),
        (4, VolumeMethod.AVERAGE, D("21.000"), D("283.92")),
        (5, VolumeMethod.NORM_NO_READINGS, D("45.000"), D("608.40")),  # month 4: 3 × 15; × 13.52
        # June: counted 900 − 752 = 148, less 3 × 21 + 45 = 108 estimated: 40 × 13.52 = 540.80
        (6, VolumeMethod.READING, D("40.000"), D("540.80")),
    ]
    estimated = list(MeterVolume.objects.filter(meter=meter).order_by("period").values_list("estimated", flat=True))
    assert estimated == [D("0.000"), D("21.000"), D("42.000"), D("63.000"), D("108.000"), D("0.000")]
    assert [e[1] for e in entries(account) if e[0] == Service.GAS] == [EntryKind.CHARGE] * 6
    # 432.64 + 3 × 283.92 + 608.40 + 540.80 = 2433.60; the penalties on it are their own line
    assert balances_get(account=account)[Service.GAS] == D("2433.60")
    assert ledger_verify() == []


def test_a_reading_below_the_estimate_is_posted_as_a_recalculation(billed: Supplier) -> None:
    account, meter = metered(billed)
    _average_history(meter)
    reading_make(meter, P(2026, 5), "800")
    reading_make(meter, P(2026, 6), "850")

    runs(billed, P(2026, 1), P(2026, 6))

    may = charge(account, P(2026, 5))
    # counted 800 − 752 = 48, less 3 × 21 = 63 estimated: −15 m³ × 13.52 = −202.80
    assert (may.method, may.volume, may.amount) == (VolumeMethod.READING, D("-15.000"), D("-202.80"))
    gas = [e for e in entries(account) if e[0] == Service.GAS]
    assert gas[4] == (Service.GAS, EntryKind.RECALCULATION, "2026-05", "2026-05", D("-202.80"))
    # June from May's reading: 50 × 13.52 = 676.00
    assert gas[5] == (Service.GAS, EntryKind.CHARGE, "2026-06", "2026-06", D("676.00"))
    assert ledger_verify() == []


def test_verification_expiring_mid_history_bills_by_the_norm(billed: Supplier) -> None:
    account, meter = metered(billed, verification_due_on=dt.date(2026, 3, 15))
    reading_make(meter, P(2025, 12), "1000")
    reading_make(meter, P(2026, 1), "1030")
    reading_make(meter, P(2026, 2), "1060")
    reading_make(meter, P(2026, 3), "1090", status=ReadingStatus.NOT_FOR_BILLING)  # read 20.03, after 15.03

    runs(billed, P(2026, 1), P(2026, 4))

    got = [
        (c.period.month, c.method, c.volume, c.amount)
        for c in Charge.objects.filter(account=account).order_by("period")
    ]
    assert got == [
        (1, VolumeMethod.READING, D("30.000"), D("405.60")),  # 30 × 13.52
        (2, VolumeMethod.READING, D("30.000"), D("405.60")),
        (3, VolumeMethod.NORM_VERIFICATION, D("45.000"), D("608.40")),  # the reading is kept, not used
        (4, VolumeMethod.NORM_VERIFICATION, D("45.000"), D("608.40")),  # no reading, 30.04 > 15.03
    ]


def test_a_meter_removed_for_verification_is_on_the_average_for_three_months(billed: Supplier) -> None:
    account, meter = metered(billed)
    _average_history(meter)
    Meter.objects.filter(pk=meter.pk).update(status="checking", removed_on=dt.date(2026, 2, 10))

    runs(billed, P(2026, 2), P(2026, 5))

    got = [(c.period.month, c.method, c.volume) for c in Charge.objects.filter(account=account).order_by("period")]
    assert got == [
        (2, VolumeMethod.AVERAGE_CHECK, D("21.000")),  # (752 − 500) / 12
        (3, VolumeMethod.AVERAGE_CHECK, D("21.000")),
        (4, VolumeMethod.AVERAGE_CHECK, D("21.000")),
        (5, VolumeMethod.NORM_CHECK, D("45.000")),
    ]


def test_two_meters_one_faulty_bill_the_account_by_the_norm(billed: Supplier) -> None:
    account, meter = metered(billed)
    meter_make(account=account, serial="0499999", status="faulty")
    reading_make(meter, P(2025, 12), "1000")
    reading_make(meter, P(2026, 1), "1020")

    run(billed, P(2026, 1))

    got = charge(account, P(2026, 1))
    assert (got.method, got.volume, got.amount) == (VolumeMethod.NORM_FAULTY, D("45.000"), D("608.40"))


# --- late and corrected readings ------------------------------------------------------------


def _late_reading_account(supplier: Supplier, number: str = "770000000001") -> tuple[PersonalAccount, Meter]:
    account, meter = metered(supplier, number)
    reading_make(meter, P(2025, 1), "760")
    reading_make(meter, P(2025, 12), "990")
    reading_make(meter, P(2026, 1), "1000")  # the average (1000 − 760) / 12 = 20 m³
    reading_make(meter, P(2026, 3), "1060")
    return account, meter


def test_a_late_reading_for_a_billed_period_makes_the_next_run_post_a_recalculation(billed: Supplier) -> None:
    account, meter = _late_reading_account(billed)
    runs(billed, P(2026, 1), P(2026, 2))
    assert charge(account, P(2026, 2)).method == VolumeMethod.AVERAGE
    # February's reading arrives on 05.03, after February's run of 02.03
    reading_make(meter, P(2026, 2), "1035", submitted_at=dt.datetime(2026, 3, 5, 10, tzinfo=UTC))

    march = run(billed, P(2026, 3))

    assert entries(account) == [
        (Service.GAS, EntryKind.CHARGE, "2026-01", "2026-01", D("135.20")),  # 1000 − 990 = 10 × 13.52
        (Service.GAS, EntryKind.CHARGE, "2026-02", "2026-02", D("270.40")),  # the average 20 × 13.52
        # February by its reading: 35 × 13.52 = 473.20, less 270.40 charged: +202.80 on March's bill
        (Service.GAS, EntryKind.RECALCULATION, "2026-02", "2026-03", D("202.80")),
        (Service.GAS, EntryKind.CHARGE, "2026-03", "2026-03", D("338.00")),  # 1060 − 1035 = 25 × 13.52
        # January due 10.02, on 31.03 day 49: 19 days × 135.20 × 0.095 / 300 = 0.81347 → 0.81
        (Service.PENALTY, EntryKind.CHARGE, "2026-03", "2026-03", D("0.81")),
    ]
    february = charge(account, P(2026, 2))
    assert (february.method, february.volume, february.amount) == (VolumeMethod.READING, D("35.000"), D("473.20"))
    assert march.summary["recalculated"] == "202.80"
    assert balances_get(account=account)[Service.GAS] == D("946.40")  # 135.20 + 473.20 + 338.00
    assert ledger_verify() == []

    # and again: nothing more
    run(billed, P(2026, 3), at=run_moment(P(2026, 3)) + dt.timedelta(hours=1))
    assert len(entries(account)) == 5


def test_a_corrected_reading_for_a_billed_period_is_recalculated(billed: Supplier) -> None:
    account, meter = metered(billed)
    reading_make(meter, P(2026, 1), "1000")
    wrong = reading_make(meter, P(2026, 2), "1040")
    reading_make(meter, P(2026, 3), "1060")
    runs(billed, P(2026, 2), P(2026, 2))
    Reading.objects.filter(pk=wrong.pk).update(status=ReadingStatus.SUPERSEDED)
    reading_make(meter, P(2026, 2), "1030", submitted_at=dt.datetime(2026, 3, 10, tzinfo=UTC), replaces=wrong)

    run(billed, P(2026, 3))

    assert entries(account) == [
        (Service.GAS, EntryKind.CHARGE, "2026-02", "2026-02", D("540.80")),  # 40 × 13.52
        (Service.GAS, EntryKind.RECALCULATION, "2026-02", "2026-03", D("-135.20")),  # 30 × 13.52 − 540.80
        (Service.GAS, EntryKind.CHARGE, "2026-03", "2026-03", D("405.60")),  # 1060 − 1030 = 30 × 13.52
    ]
    assert ledger_verify() == []


# --- penalties through runs -----------------------------------------------------------------


def test_penalties_through_runs_with_the_due_day_change_and_the_cap(billed: Supplier) -> None:
    account = account_make(supplier=billed)  # no meter: 608.40 every month
    runs(billed, P(2026, 1), P(2026, 4))
    entries_post(
        entries=[
            NewEntry(account_id=account.pk, service=Service.GAS, kind=EntryKind.PAYMENT, period=P(2026, 5),
                     billed_in=P(2026, 5), amount=D("-1216.80"), posted_on=dt.date(2026, 5, 12),
                     source_key="payment:1")
        ],
        now=dt.datetime(2026, 5, 12, 9, tzinfo=UTC),
    )  # fmt: skip
    run(billed, P(2026, 5))

    penalties = [(e[1], e[2], e[4]) for e in entries(account) if e[0] == Service.PENALTY]
    # The key rate (16.5 % from 27.10.2025) is capped at 9.5 %: 608.40 × 0.095 = 57.798 a year's
    # share; a day at 1/300 is 57.798 / 300.
    # January is due 10.02.2026, February 15.03.2026 (the 15th from 01.03.2026), March 15.04.
    # January's run (31.01) and February's (28.02, day 18): nothing.
    # March (31.03): January day 49, 19 days: 57.798 × 19 / 300 = 3.66054 → 3.66;
    #   February day 16: nothing (it would be day 21 with the old due day 10.03)
    # April (30.04): January day 79, 49 days: 9.44034 → 9.44; February day 46, 16 days:
    #   3.08256 → 3.08; 12.52 accrued, 3.66 posted before: 8.86
    # May (31.05): 1216.80 paid 12.05 settles January (day 91: 60 days 11.5596 + 1 day at
    #   1/130 0.4446 = 12.0042 → 12.00) and February (day 58, 28 days: 5.39448 → 5.39);
    #   March unpaid, day 46, 16 days: 3.08; April day 16: nothing. 20.47 − 12.52 = 7.95
    assert penalties == [
        (EntryKind.CHARGE, "2026-03", D("3.66")),
        (EntryKind.CHARGE, "2026-04", D("8.86")),
        (EntryKind.CHARGE, "2026-05", D("7.95")),
    ]
    assert balances_get(account=account) == {
        Service.GAS: D("1825.20"),  # 5 × 608.40 − 1216.80
        Service.PENALTY: D("20.47"),
        Service.VDGO: D(0),
    }
    assert ledger_verify() == []

    # May again: the same penalty, nothing new
    run(billed, P(2026, 5), at=run_moment(P(2026, 5)) + dt.timedelta(hours=1))
    assert LedgerEntry.objects.filter(account=account, service=Service.PENALTY).count() == 3


def _pay(
    account: PersonalAccount, amount: str, day: dt.date, *, arrived: dt.date | None = None, names: Period | None = None
) -> None:
    """A payment dated ``day`` that reached the ledger on ``arrived`` (the same day unless said)."""
    entries_post(
        entries=[
            NewEntry(account_id=account.pk, service=Service.GAS, kind=EntryKind.PAYMENT, period=names or Period.of(day),
                     billed_in=Period.of(day), amount=-D(amount), posted_on=day,
                     source_key=f"payment:{account.pk}:{day}:{amount}", pays_period=names)
        ],
        now=dt.datetime.combine(arrived or day, dt.time(9), tzinfo=UTC),
    )  # fmt: skip


def test_each_run_posts_the_penalty_the_whole_history_gives(billed: Supplier) -> None:
    """A run works out the penalty only for the accounts that can accrue one in its period
    (an old debt left at the period's start, a payment that arrived late, a re-run). For
    every kind of payer, after every run, what was posted equals the penalty of the whole
    history worked out from scratch."""
    never, on_time, late, named, arrives_late, ahead = (
        account_make(supplier=billed, number=f"77000000000{i}") for i in range(1, 7)
    )  # no meters: 608.40 every month, due the 10th (the 15th from March 2026)
    _pay(ahead, "5000.00", dt.date(2026, 1, 20))
    for period in [P(2026, m) for m in range(1, 10)]:
        run(billed, period)
        due = payment_due_date(supplier=billed, period=period)
        _pay(on_time, "608.40", due)
        _pay(late, "608.40", due + dt.timedelta(days=45))  # 45 days late, always
        if period == P(2026, 2):
            _pay(named, "608.40", due, names=period)
        if period >= P(2026, 2):  # from March, each month's bill paid in the month itself: never January's
            _pay(named, "608.40", dt.date(period.next().year, period.next().month, 20), names=period.next())
        if period == P(2026, 6):
            # January–June paid on 20.06, the bank's file loaded after the June run: the June
            # run counted the debt unpaid through 30.06, the July run puts that right
            _pay(arrives_late, "3650.40", dt.date(2026, 6, 20), arrived=dt.date(2026, 7, 3))
        for account in (never, on_time, late, named, arrives_late, ahead):
            if account == arrives_late and period == P(2026, 6):
                continue
            rows = LedgerEntry.objects.filter(account=account, service=Service.PENALTY, billed_in__lte=period.to_int())
            posted = sum((e.amount for e in rows), D(0))
            assert posted == penalty_breakdown(account=account, as_of=period.last_day).total, (account.number, period)
    penalty = {a.number: balances_get(account=a)[Service.PENALTY] for a in (never, on_time, late, named, ahead)}
    assert penalty["770000000002"] == penalty["770000000006"] == D(0)  # on time, paid ahead
    assert penalty["770000000001"] > penalty["770000000004"] > 0  # January's debt stays unpaid
    assert penalty["770000000003"] > 0  # days 31–45 of every bill
    assert ledger_verify() == []


def test_a_rerun_leaves_the_other_suppliers_accounts_in_its_range_alone(billed: Supplier) -> None:
    """Chunks are ranges of account ids, and the ids of two suppliers' accounts interleave."""
    other = supplier_create(**{**SUPPLIER_MOSCOW, "code": "gaz-tver", "inn": "6901067107", "short_name": "Тверь"})
    billing_data_make(other)
    mine, theirs = [], []
    for i in range(4):
        mine.append(account_make(supplier=billed, number=f"77000000001{i}"))
        theirs.append(metered(other, number=f"69000000001{i}")[0])
        reading_make(Meter.objects.get(account=theirs[-1]), P(2026, 1), "100")
    run(other, P(2026, 1), chunk_size=3)
    before = (list(Charge.objects.filter(account__supplier=other).values_list("account_id", "amount")),
              MeterVolume.objects.filter(meter__account__supplier=other).count())  # fmt: skip
    assert before[1] == 4

    run(billed, P(2026, 1), chunk_size=3)
    run(billed, P(2026, 1), chunk_size=3, at=run_moment(P(2026, 1)) + dt.timedelta(hours=1))  # and again

    after = (list(Charge.objects.filter(account__supplier=other).values_list("account_id", "amount")),
             MeterVolume.objects.filter(meter__account__supplier=other).count())  # fmt: skip
    assert after == before
    assert Charge.objects.filter(account__supplier=billed).count() == 4


# --- refusals -------------------------------------------------------------------------------


def test_a_period_that_is_not_over_is_refused(billed: Supplier) -> None:
    account_make(supplier=billed)

    with pytest.raises(PeriodNotOver):
        billing_run_start(supplier=billed, period=P(2026, 1), now=run_moment(P(2026, 1)),
                          today=dt.date(2026, 1, 31), actor_id=None, channel="cli")  # fmt: skip

    assert not BillingRun.objects.exists()
    assert not BillingPeriod.objects.exists()
    run(billed, P(2026, 1), at=dt.datetime(2026, 2, 1, 0, 1, tzinfo=UTC))
    assert LedgerEntry.objects.count() == 1


def test_a_missing_price_is_refused_before_anything_is_written(supplier: Supplier) -> None:
    billing_data_make(supplier, since=dt.date(2026, 2, 1))
    account_make(supplier=supplier)

    with pytest.raises(BillingDataMissing) as caught:
        run(supplier, P(2026, 1))

    assert "01.01.2026" in caught.value.text
    assert not BillingRun.objects.exists()
    assert not BillingPeriod.objects.exists()
    assert not LedgerEntry.objects.exists()

    Tariff.objects.filter(supplier=supplier).update(valid_from=dt.date(2026, 1, 1))
    with pytest.raises(BillingDataMissing, match="норматив"):
        run(supplier, P(2026, 1))
    assert not LedgerEntry.objects.exists()


def test_a_closed_period_is_refused(billed: Supplier) -> None:
    account = account_make(supplier=billed)
    run(billed, P(2026, 1))
    billing_period_close(supplier=billed, period=P(2026, 1), actor_id=None, now=dt.datetime(2026, 2, 5, tzinfo=UTC))

    with pytest.raises(PeriodClosed):
        run(billed, P(2026, 1), at=dt.datetime(2026, 2, 6, tzinfo=UTC))

    assert BillingRun.objects.count() == 1
    assert len(entries(account)) == 1


def test_a_second_run_is_refused_while_the_first_holds_the_lease_and_allowed_after(billed: Supplier) -> None:
    account = account_make(supplier=billed)
    start = run_moment(P(2026, 1))
    first = billing_run_start(supplier=billed, period=P(2026, 1), now=start, today=start.date(), actor_id=None,
                              channel="cli")  # fmt: skip

    with pytest.raises(RunInProgress):
        billing_run_start(supplier=billed, period=P(2026, 1), now=start + dt.timedelta(minutes=1),
                          today=start.date(), actor_id=None, channel="cli")  # fmt: skip
    with pytest.raises(RunInProgress):
        billing_period_close(supplier=billed, period=P(2026, 1), actor_id=None, now=start + dt.timedelta(minutes=1))

    second = run(billed, P(2026, 1), at=start + dt.timedelta(minutes=3))

    first.refresh_from_db()
    assert (first.status, second.status) == (RunStatus.FAILED, RunStatus.DONE)
    (old_chunk,) = first.parts.values_list("id", flat=True)
    with pytest.raises(RunNotRunning):
        billing_chunk_process(chunk_id=old_chunk, now=start + dt.timedelta(minutes=4))
    assert entries(account) == [(Service.GAS, EntryKind.CHARGE, "2026-01", "2026-01", D("608.40"))]


# --- a run killed half-way ------------------------------------------------------------------


def _world(supplier: Supplier) -> list[PersonalAccount]:
    """Five accounts: readings, a late reading, the norm with a debt, a benefit, a payment."""
    late, late_meter = _late_reading_account(supplier, "770000000001")
    by_norm = account_make(supplier=supplier, number="770000000002")
    discount = account_make(supplier=supplier, number="770000000003")
    Benefit.objects.create(account=discount, category="veteran", share=D("50"), persons=1,
                           mode=BenefitMode.DISCOUNT, valid_from=dt.date(2025, 1, 1))  # fmt: skip
    averaged, meter = metered(supplier, "770000000004")
    _average_history(meter)
    payer = account_make(supplier=supplier, number="770000000005")
    runs(supplier, P(2026, 1), P(2026, 2))
    reading_make(late_meter, P(2026, 2), "1035", submitted_at=dt.datetime(2026, 3, 5, 10, tzinfo=UTC))
    entries_post(
        entries=[
            NewEntry(account_id=payer.pk, service=Service.GAS, kind=EntryKind.PAYMENT, period=P(2026, 3),
                     billed_in=P(2026, 3), amount=D("-300.00"), posted_on=dt.date(2026, 3, 20),
                     source_key=f"payment:{payer.pk}")
        ],
        now=dt.datetime(2026, 3, 20, tzinfo=UTC),
    )  # fmt: skip
    return [late, by_norm, discount, averaged, payer]


def _state(accounts: list[PersonalAccount]) -> dict[str, object]:
    """The ledger, balances, charges and meter volumes of ``accounts``, by account number."""
    ids = {a.pk: a.number for a in accounts}

    def key(text: str) -> str:
        parts = text.split(":")
        parts = [ids.get(int(p), p) if p.isdigit() and int(p) in ids else p for p in parts]
        if parts[0] in ("recalc", "penalty-recalc"):
            parts = parts[:-1]  # the run's number
        return ":".join(str(p) for p in parts)

    ledger = sorted(
        (ids[e.account_id], e.service, e.kind, str(e.period), str(e.billed_in), e.amount, e.volume, e.posted_on,
         key(e.source_key), e.note)
        for e in LedgerEntry.objects.filter(account_id__in=ids)
    )  # fmt: skip
    charges = sorted(
        (ids[c.account_id], str(c.period), c.method, c.volume, c.price, c.amount, c.benefit_volume,
         c.benefit_amount, c.debt_before, re.sub(r"'(meter|id)': \d+", "", str(sorted(c.details.items()))))
        for c in Charge.objects.filter(account_id__in=ids)
    )  # fmt: skip
    volumes = sorted(
        (ids[v.meter.account_id], str(v.period), v.method, v.volume, v.basis_value, v.estimated, v.average)
        for v in MeterVolume.objects.filter(meter__account_id__in=ids).select_related("meter")
    )
    return {
        "ledger": ledger,
        "balances": {a.number: balances_get(account=a) for a in accounts},
        "charges": charges,
        "volumes": volumes,
    }


def test_a_run_killed_half_way_ends_as_a_run_never_interrupted(supplier: Supplier) -> None:
    billing_data_make(supplier)
    other = supplier_create(**{**SUPPLIER_MOSCOW, "code": "gaz-copy"})
    billing_data_make(other)
    whole = _world(supplier)
    killed = _world(other)
    march = P(2026, 3)
    start = run_moment(march)

    run(supplier, march)

    # the copy: two of three chunks, then the process dies
    abandoned = billing_run_start(supplier=other, period=march, now=start, today=start.date(), actor_id=None,
                                  channel="cli", chunk_size=2)  # fmt: skip
    chunk_ids = list(abandoned.parts.order_by("first_account_id").values_list("id", flat=True))
    assert len(chunk_ids) == 3  # five accounts, two a chunk
    for chunk_id in chunk_ids[:2]:
        billing_chunk_process(chunk_id=chunk_id, now=start + dt.timedelta(seconds=30))
    with pytest.raises(RunInProgress):  # the lease, renewed by the last chunk, still holds
        run(other, march, at=start + dt.timedelta(minutes=2))
    resumed = run(other, march, at=start + dt.timedelta(minutes=3))

    abandoned.refresh_from_db()
    assert (abandoned.status, resumed.status) == (RunStatus.FAILED, RunStatus.DONE)
    assert abandoned.parts.filter(done_at__isnull=True).count() == 1  # taken over, not finished
    assert billing_run_finish(run_id=abandoned.pk, now=start + dt.timedelta(minutes=4)).status == RunStatus.FAILED
    assert _state(killed) == _state(whole)
    # March, by hand: the late February reading +202.80 and March 338.00 (see above);
    # the norm 608.40 with January late by 49 days: 3.66 of penalty
    late, by_norm = whole[0], whole[1]
    assert [e[4] for e in entries(late) if e[0] == Service.GAS][-2:] == [D("202.80"), D("338.00")]
    assert (Service.PENALTY, EntryKind.CHARGE, "2026-03", "2026-03", D("3.66")) in entries(by_norm)
    assert ledger_verify() == []


# --- two runs at the same moment (PostgreSQL) -----------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_started_at_the_same_moment_only_one_starts(supplier: Supplier) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the SQLite test database is in memory, where concurrent writers fail instead of waiting")
    billing_data_make(supplier)
    account_make(supplier=supplier)
    start = run_moment(P(2026, 1))
    barrier = threading.Barrier(2)
    results: list[object] = [None, None]

    def go(index: int) -> None:
        barrier.wait(10)
        try:
            results[index] = billing_run_start(supplier=supplier, period=P(2026, 1), now=start,
                                               today=start.date(), actor_id=None, channel="cli")  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - reported by the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    started = [r for r in results if isinstance(r, BillingRun)]
    refused = [r for r in results if isinstance(r, RunInProgress)]
    assert (len(started), len(refused)) == (1, 1), results
    assert BillingRun.objects.filter(status=RunStatus.RUNNING).count() == 1
    assert BillingPeriod.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_chunks_of_a_run_go_at_once_and_a_takeover_waits_for_them(supplier: Supplier) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the SQLite test database is in memory, where concurrent writers fail instead of waiting")
    billing_data_make(supplier)
    for i in range(4):
        account_make(supplier=supplier, number=f"77000000000{i}")
    start = run_moment(P(2026, 1))
    the_run = billing_run_start(supplier=supplier, period=P(2026, 1), now=start, today=start.date(),
                                actor_id=None, channel="cli", chunk_size=2)  # fmt: skip
    first, second = the_run.parts.order_by("first_account_id")
    in_flight, release = threading.Event(), threading.Event()

    def chunk_in_progress() -> None:
        """Holds what a worker computing the first chunk holds."""
        try:
            with transaction.atomic():
                BillingChunk.objects.select_for_update(of=("self",)).get(pk=first.pk)
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1 FROM billing_billingrun WHERE id = %s FOR KEY SHARE", [the_run.pk])
                in_flight.set()
                release.wait(30)
        finally:
            connection.close()

    worker = threading.Thread(target=chunk_in_progress)
    worker.start()
    try:
        assert in_flight.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")
        # another worker's chunk neither waits for the first nor is held up by the lease
        stats = billing_chunk_process(chunk_id=second.pk, now=start + dt.timedelta(seconds=5))
        assert stats is not None
        assert stats.accounts == 2
        # a new run taking over after the lease ran out waits until the chunk in flight ends
        later = start + LEASE + dt.timedelta(minutes=1)
        with pytest.raises(OperationalError, match="lock"):
            billing_run_start(supplier=supplier, period=P(2026, 1), now=later, today=later.date(),
                              actor_id=None, channel="cli")  # fmt: skip
    finally:
        release.set()
        worker.join(30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    the_run.refresh_from_db()
    assert the_run.status == RunStatus.RUNNING
