import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from abonent.core.models import Supplier
from abonent.core.periods import Period
from abonent.metering.enums import ReadingChannel
from abonent.metering.models import Reading
from tests.factories import account_make, meter_make

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


class TestReading:
    def test_period_round_trips_through_the_database(self, supplier: Supplier) -> None:
        meter = meter_make(account=account_make(supplier=supplier))
        Reading.objects.create(
            meter=meter,
            period=Period(2026, 11),
            value=Decimal("1234.567"),
            submitted_at=NOW,
            channel=ReadingChannel.WEB,
            submission_key="k1",
        )

        reading = Reading.objects.get(meter=meter, period=Period(2026, 11))
        assert reading.period == Period(2026, 11)
        assert reading.value == Decimal("1234.567")
        assert list(Reading.objects.filter(period__gte=Period(2026, 10)).values_list("period", flat=True)) == [
            Period(2026, 11)
        ]

    def test_same_submission_twice_is_refused(self, supplier: Supplier) -> None:
        meter = meter_make(account=account_make(supplier=supplier))
        fields = {
            "meter": meter,
            "period": Period(2026, 11),
            "submitted_at": NOW,
            "channel": ReadingChannel.WEB,
            "submission_key": "k1",
        }
        Reading.objects.create(value=Decimal("10"), **fields)

        with pytest.raises(IntegrityError), transaction.atomic():
            Reading.objects.create(value=Decimal("11"), **fields)
        assert Reading.objects.get().value == Decimal("10.000")

    def test_negative_value_is_refused(self, supplier: Supplier) -> None:
        meter = meter_make(account=account_make(supplier=supplier))

        with pytest.raises(IntegrityError), transaction.atomic():
            Reading.objects.create(
                meter=meter,
                period=Period(2026, 11),
                value=Decimal("-1"),
                submitted_at=NOW,
                channel=ReadingChannel.WEB,
                submission_key="k",
            )
        assert not Reading.objects.exists()


class TestMeter:
    def test_verification_must_be_after_installation(self, supplier: Supplier) -> None:
        account = account_make(supplier=supplier)

        with pytest.raises(IntegrityError), transaction.atomic():
            meter_make(account=account, installed_on=dt.date(2020, 1, 1), verification_due_on=dt.date(2019, 1, 1))

    @pytest.mark.parametrize("digits", [3, 10])
    def test_digits_range(self, supplier: Supplier, digits: int) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            meter_make(account=account_make(supplier=supplier), digits=digits)
