"""A billed account for the money pages: a meter read in June, July and September (August
and October by the average), a benefit from August, five months billed and two payments,
the last bill not paid; and a second account without a meter, billed by the norm and never
paid. The figures the tests expect are worked out from these by billing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from abonent.billing.enums import BenefitCategory, BenefitMode
from abonent.billing.models import Benefit
from abonent.billing.services import billing_run
from abonent.core.models import Supplier
from abonent.core.periods import Period
from abonent.customers.models import PersonalAccount
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.services import NewEntry, entries_post
from tests.billing.billing_data import billing_data_make
from tests.factories import account_make, meter_make, reading_make

BILLED = [Period(2026, month) for month in (6, 7, 8, 9, 10)]
RUN_AT = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)


@dataclass
class Billed:
    metered: PersonalAccount
    by_norm: PersonalAccount


def billed_accounts_make(supplier: Supplier, *, metered_number: str = "770000000001") -> Billed:
    billing_data_make(supplier)
    metered = account_make(supplier=supplier, number=metered_number, uses_water_heating=True)
    meter = meter_make(account=metered, initial_value=Decimal(0))
    for period, value in ((Period(2026, 5), "1000"), (Period(2026, 6), "1020"), (Period(2026, 7), "1035.5")):
        reading_make(meter, period, value)
    reading_make(meter, Period(2026, 9), "1080")
    Benefit.objects.create(
        account=metered,
        category=BenefitCategory.VETERAN,
        share=Decimal(50),
        persons=1,
        within_norm=True,
        mode=BenefitMode.DISCOUNT,
        valid_from=dt.date(2026, 8, 1),
        document="Удостоверение ветерана труда серия Т-IV № 123456",
    )
    by_norm = account_make(
        supplier=supplier,
        number=str(int(metered_number) + 1).zfill(12),
        residents=2,
        uses_heating=True,
        heated_area=Decimal("40.5"),
        apartment="35",
    )
    for period in BILLED:
        billing_run(supplier=supplier, period=period, now=lambda: RUN_AT, today=period.end)
        if period.month in (6, 7):  # 300 ₽ paid on the 12th of the next month
            paid = period.next()
            entries_post(
                entries=[
                    NewEntry(
                        account_id=metered.pk,
                        service=Service.GAS,
                        kind=EntryKind.PAYMENT,
                        period=paid,
                        billed_in=paid,
                        amount=Decimal("-300.00"),
                        posted_on=paid.day(12),
                        source_key=f"test-payment:{metered.pk}:{paid}",
                    )
                ],
                now=RUN_AT,
            )
    return Billed(metered=metered, by_norm=by_norm)
