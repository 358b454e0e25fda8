"""Submissions for one meter at the same moment, on PostgreSQL: the meter's row lock puts
them in an order, so the result is the one a sequence of the same submissions gives."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection

from abonent.core.models import Supplier
from abonent.core.periods import Period
from abonent.customers.models import AccountLink
from abonent.metering import services
from abonent.metering.enums import ReadingChannel, ReadingStatus
from abonent.metering.models import STANDING, Reading
from tests.factories import account_make, meter_make
from tests.web.identity import user_make

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))


def _together(calls: list[Callable[[], services.Recorded]]) -> list[services.Recorded | Exception]:
    start = threading.Barrier(len(calls))
    results: list[services.Recorded | Exception] = [RuntimeError("not run")] * len(calls)

    def run(index: int) -> None:
        start.wait(10)
        try:
            results[index] = calls[index]()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the SQLite test database is in memory, where concurrent writers fail instead of waiting")


def _links(supplier: Supplier, users: int) -> tuple[list[AccountLink], int]:
    account = account_make(supplier=supplier)
    meter = meter_make(account=account)
    Reading.objects.create(
        meter=meter,
        period=Period(2026, 10),
        value=Decimal("1000"),
        submitted_at=NOW - dt.timedelta(days=30),
        channel=ReadingChannel.WEB,
        submission_key="october",
    )
    links = [
        AccountLink.objects.create(
            user=user_make(phone=f"+7912000000{i}"), account=account, proof="pin", channel="web", linked_at=NOW
        )
        for i in range(users)
    ]
    return links, meter.pk


def test_two_users_at_the_same_moment_one_stands_and_corrects_the_other(supplier: Supplier) -> None:
    (first, second), meter_id = _links(supplier, 2)

    def submit(link: AccountLink, value: str) -> Callable[[], services.Recorded]:
        return lambda: services.reading_submit(
            link=link, meter_id=meter_id, value=value, channel=ReadingChannel.WEB, submission_key=None, now=NOW
        )

    results = _together([submit(first, "1010"), submit(second, "1020")])

    assert all(isinstance(r, services.Recorded) and r.created for r in results)
    november = list(Reading.objects.filter(meter_id=meter_id, period=Period(2026, 11)).order_by("pk"))
    assert len(november) == 2
    earlier, later = november
    assert (earlier.status, later.status, later.replaces_id) == (
        ReadingStatus.SUPERSEDED,
        ReadingStatus.ACCEPTED,
        earlier.pk,
    )
    # both measured from October's reading, not from each other
    assert sorted((r.value, r.consumption) for r in november) == [
        (Decimal("1010"), Decimal("10")),
        (Decimal("1020"), Decimal("20")),
    ]


def test_ten_copies_of_one_submission_store_one_reading(supplier: Supplier) -> None:
    (link,), meter_id = _links(supplier, 1)

    def submit(key: str | None) -> Callable[[], services.Recorded]:
        return lambda: services.reading_submit(
            link=link, meter_id=meter_id, value="1015,5", channel=ReadingChannel.APP, submission_key=key, now=NOW
        )

    keyed = _together([submit("retry-1")] * 10)
    assert all(isinstance(r, services.Recorded) for r in keyed)
    assert len({r.reading.pk for r in keyed if isinstance(r, services.Recorded)}) == 1
    assert sum(1 for r in keyed if isinstance(r, services.Recorded) and r.created) == 1

    unkeyed = _together([submit(None)] * 10)
    assert all(isinstance(r, services.Recorded) and not r.created for r in unkeyed)
    assert Reading.objects.filter(meter_id=meter_id, period=Period(2026, 11)).count() == 1
    assert Reading.objects.filter(meter_id=meter_id, status__in=STANDING).count() == 2
