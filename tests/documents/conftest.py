"""Bills' test data: the October 2026 accounts of the billing tests (tests/billing/billing_data),
billed by real runs for September and October, with a corrected reading, an operator's
correction and payments on the way; stored files go to a temporary media folder."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from abonent.billing.models import BillingRun
from abonent.billing.services import billing_run
from abonent.core.models import Supplier
from abonent.core.periods import Period
from abonent.customers.models import PersonalAccount
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.services import NewEntry, entries_post, entry_correct
from abonent.metering.enums import ReadingStatus
from abonent.metering.models import Reading
from tests.billing.billing_data import october_make
from tests.factories import account_make, reading_make

UTC = dt.UTC
SEPTEMBER, OCTOBER, NOVEMBER = Period(2026, 9), Period(2026, 10), Period(2026, 11)
NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # bills drawn on 22.11.2026
CORRECTION_REASON = "Возврат за перерыв в подаче газа 14.10.2026"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> Path:
    """Stored bills land in a temporary folder, never in the repository."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def run_billing(supplier: Supplier, period: Period) -> BillingRun:
    """The supplier's run for ``period`` on the 2nd of the month after, 03:00 UTC."""
    after = period.next()
    at = dt.datetime(after.year, after.month, 2, 3, 0, tzinfo=UTC)
    return billing_run(supplier=supplier, period=period, now=lambda: at, today=at.date(), chunk_size=10)


def pay(account: PersonalAccount, amount: str, day: dt.date, *, names: Period | None = None) -> None:
    """A gas payment of ``amount`` dated ``day``, on the bill of ``day``'s month, as a bank's
    registry posts it."""
    entries_post(
        entries=[
            NewEntry(account_id=account.pk, service=Service.GAS, kind=EntryKind.PAYMENT, period=names or Period.of(day),
                     billed_in=Period.of(day), amount=-Decimal(amount), posted_on=day,
                     source_key=f"payment:{account.pk}:{day}:{amount}", pays_period=names)
        ],
        now=dt.datetime.combine(day, dt.time(9), tzinfo=UTC),
    )  # fmt: skip


@dataclass(frozen=True)
class Billed:
    """A supplier's accounts after the September and October runs.

    by_reading: September by a reading that was then corrected (1000 → 990: recalculated on
        October's bill), October by its reading (31,5 m³), an operator's correction of −50,00
        and a payment in October.
    by_norm: no meter, 3 residents, a veteran's 50 % discount; September paid in October.
    in_debt: no meter, 1 resident, 1 000 ₽ unpaid since June: a penalty on October's bill.
    quiet: opened in November: no bill for October.
    """

    supplier: Supplier
    by_reading: PersonalAccount
    by_norm: PersonalAccount
    in_debt: PersonalAccount
    quiet: PersonalAccount


@pytest.fixture
def billed(supplier: Supplier) -> Billed:
    october = october_make(supplier)
    quiet = account_make(supplier=supplier, number="770000000009", opened_on=dt.date(2026, 11, 10))
    run_billing(supplier, SEPTEMBER)
    # the September reading corrected after September's run: 990, not 1000
    wrong = Reading.objects.get(meter__account=october.by_reading, period=SEPTEMBER.to_int())
    Reading.objects.filter(pk=wrong.pk).update(status=ReadingStatus.SUPERSEDED)
    reading_make(wrong.meter, SEPTEMBER, "990", submitted_at=dt.datetime(2026, 10, 5, 10, tzinfo=UTC), replaces=wrong)
    pay(october.by_norm, "304.20", dt.date(2026, 10, 12), names=SEPTEMBER)
    pay(october.by_reading, "1000.00", dt.date(2026, 10, 20))
    entry_correct(
        account=october.by_reading, service=Service.GAS, period=OCTOBER, amount="-50.00", reason=CORRECTION_REASON,
        actor_id=None, channel="backoffice", now=dt.datetime(2026, 10, 21, 8, 0, tzinfo=UTC),
        source_key="correction:october",
    )  # fmt: skip
    run_billing(supplier, OCTOBER)
    return Billed(supplier, october.by_reading, october.by_norm, october.in_debt, quiet)


def filled(words: str, length: int) -> str:
    """``words`` repeated to exactly ``length`` characters, ending in a letter."""
    text = ((words + " ") * (length // len(words) + 1))[:length]
    return text[:-1] + "а" if text.endswith((" ", "-")) else text


@pytest.fixture
def long_named(billed: Billed) -> PersonalAccount:
    """Names and an address as long as their columns allow, in words as people write them."""
    account = account_make(
        supplier=billed.supplier,
        number="770000000077",
        holder_last_name=filled("Салтыкова-Щедрина", 100),
        holder_first_name=filled("Александра-Мария", 100),
        holder_middle_name=filled("Константиновна", 100),
        region=filled("Ханты-Мансийский автономный округ — Югра", 100),
        locality=filled("сельское поселение Верхнекамское", 150),
        street=filled("улица Героев Советского Союза", 150),
        house="12 корпус 3 строение",
        apartment="1234567890",
    )
    entries_post(
        entries=[NewEntry(account_id=account.pk, service=Service.GAS, kind=EntryKind.CHARGE, period=OCTOBER,
                          billed_in=OCTOBER, amount=Decimal("608.40"), volume=Decimal("45.000"),
                          posted_on=dt.date(2026, 10, 31), source_key=f"charge:{account.pk}:long")],
        now=dt.datetime(2026, 11, 2, 3, tzinfo=UTC),
    )  # fmt: skip
    return account
