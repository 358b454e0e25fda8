"""Prices and norms for billing tests: one price per direction and the norms of a region,
in force from 2020 on, unless a test sets its own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from abonent.billing.enums import BenefitCategory, BenefitMode, Direction, NormKind
from abonent.billing.models import Benefit, KeyRate, Norm, PenaltyRateCap, Tariff
from abonent.core.models import Supplier
from abonent.core.periods import Period
from abonent.customers.models import PersonalAccount
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.services import NewEntry, entries_post
from tests.factories import account_make, meter_make, reading_make

PRICES = {Direction.COOKING: "13.5200", Direction.COOKING_WATER_HEATER: "12.4200", Direction.HEATING: "9.6240"}
NORMS = {NormKind.COOKING_CENTRAL_HW: "10", NormKind.COOKING: "15", NormKind.WATER_HEATER: "15"}
# heating per m² by month, January first (Костромская область's profile)
HEATING = ("11", "11", "11", "11", "2", "1", "1", "1", "2", "11", "11", "11")


def billing_data_make(supplier: Supplier, *, since: dt.date = dt.date(2020, 1, 1)) -> None:
    for direction, price in PRICES.items():
        Tariff.objects.create(supplier=supplier, direction=direction, price=Decimal(price), valid_from=since)
    for kind, value in NORMS.items():
        Norm.objects.create(supplier=supplier, kind=kind, value=Decimal(value), valid_from=since)
    for month, value in enumerate(HEATING, start=1):
        Norm.objects.create(
            supplier=supplier, kind=NormKind.HEATING, month=month, value=Decimal(value), valid_from=since
        )


def penalty_rates_make() -> None:
    """The key rate of 2026 and the government's cap of 9.5 % through 31.12.2026."""
    KeyRate.objects.create(effective_from=dt.date(2026, 1, 1), rate=Decimal("16.50"))
    PenaltyRateCap.objects.create(
        rate=Decimal("9.50"), valid_from=dt.date(2022, 2, 28), valid_to=dt.date(2026, 12, 31), basis="ПП РФ №329"
    )


@dataclass(frozen=True)
class October:
    """Three accounts of a supplier ready for the October 2026 run (on 22.11.2026)."""

    by_reading: PersonalAccount  # a meter read in September and October: 31,5 m³
    by_norm: PersonalAccount  # no meter, 3 residents, a veteran's benefit of 50 % within the norm
    in_debt: PersonalAccount  # no meter, 1 resident, 1 000 ₽ unpaid since June


def october_make(supplier: Supplier) -> October:
    """Prices and norms, the penalty rates, and three accounts: one billed by its readings,
    one by the norm with a benefit, one by the norm with an old debt that accrues a penalty."""
    billing_data_make(supplier)
    penalty_rates_make()
    by_reading = account_make(supplier=supplier, number="770000000001")
    meter = meter_make(account=by_reading, serial="0412345", initial_value=Decimal("900"))
    reading_make(meter, Period(2026, 9), "1000", "10")
    reading_make(meter, Period(2026, 10), "1031.5", "31.5")
    by_norm = account_make(supplier=supplier, number="770000000002", residents=3)
    Benefit.objects.create(
        account=by_norm,
        category=BenefitCategory.VETERAN,
        share=Decimal(50),
        within_norm=True,
        mode=BenefitMode.DISCOUNT,
        valid_from=dt.date(2026, 1, 1),
    )
    in_debt = account_make(supplier=supplier, number="770000000003", residents=1)
    entries_post(
        entries=[
            NewEntry(
                account_id=in_debt.pk,
                service=Service.GAS,
                kind=EntryKind.CHARGE,
                period=Period(2026, 6),
                billed_in=Period(2026, 6),
                amount=Decimal("1000.00"),
                posted_on=dt.date(2026, 6, 30),
                source_key=f"test-debt:{in_debt.pk}",
            )
        ],
        now=dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
    )
    return October(by_reading=by_reading, by_norm=by_norm, in_debt=in_debt)
