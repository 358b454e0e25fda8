"""Small builders for rows the tests need, with realistic defaults."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from abonent.core.models import Supplier
from abonent.core.periods import Period
from abonent.customers.models import PersonalAccount
from abonent.customers.pins import pin_hash
from abonent.metering.enums import ReadingChannel
from abonent.metering.models import Meter, Reading


def account_make(
    *, supplier: Supplier, number: str = "770000000001", pin: str = "123456", **fields: Any
) -> PersonalAccount:
    values: dict[str, Any] = {
        "holder_last_name": "Иванова",
        "holder_first_name": "Мария",
        "holder_middle_name": "Петровна",
        "postal_code": "142100",
        "region": "Московская область",
        "locality": "г. Подольск",
        "street": "ул. Садовая",
        "house": "12",
        "apartment": "34",
        "residents": 3,
        "heated_area": Decimal("0"),
        "opened_on": dt.date(2015, 4, 1),
        **fields,
    }
    return PersonalAccount.objects.create(
        supplier=supplier, number=number, pin_hash=pin_hash(supplier_id=supplier.pk, number=number, pin=pin), **values
    )


def meter_make(*, account: PersonalAccount, serial: str = "0412345", **fields: Any) -> Meter:
    values: dict[str, Any] = {
        "model": "СГМН-1 G6",
        "digits": 5,
        "installed_on": dt.date(2019, 6, 1),
        "verification_due_on": dt.date(2029, 6, 1),
        **fields,
    }
    return Meter.objects.create(account=account, serial=serial, **values)


def reading_make(meter: Meter, period: Period, value: str, consumption: str | None = None, **fields: Any) -> Reading:
    """A reading on record, as the subscriber sent it in the window of ``period``."""
    values: dict[str, Any] = {
        "consumption": Decimal(consumption) if consumption is not None else None,
        "read_on": period.day(20),
        "submitted_at": dt.datetime(period.year, period.month, 20, 9, tzinfo=dt.UTC),
        "channel": ReadingChannel.WEB,
        "submission_key": f"seed-{period}-{value}",
        **fields,
    }
    return Reading.objects.create(meter=meter, period=period, value=Decimal(value), **values)
