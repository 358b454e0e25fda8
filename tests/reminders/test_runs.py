"""The day's run of a supplier: in its local time and sending hours, once a day, taken over
after a crash, and each occasion told once however many runs race for it."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from abonent.core.models import Supplier
from abonent.notifications.enums import Channel, Kind
from abonent.notifications.models import Delivery, Notification
from abonent.notifications.services import NotifySummary, notify_many
from abonent.reminders.enums import RunStatus
from abonent.reminders.models import ReminderRun
from abonent.reminders.selectors import reminders_due
from abonent.reminders.services import RUN_LEASE, reminders_run, reminders_run_due
from tests.reminders.conftest import KALININGRAD, MOSCOW, local, sent, subscriber_make, told

pytestmark = pytest.mark.django_db

OPENS = dt.date(2026, 11, 15)  # the window of November opens (days 15–25 for both suppliers)


def runs() -> list[tuple[str, dt.date, str]]:
    return list(ReminderRun.objects.order_by("supplier__code", "day").values_list("supplier__code", "day", "status"))


# --- Time zones and sending hours --------------------------------------------------------


def test_at_the_same_moment_the_two_suppliers_are_at_different_hours_and_only_the_one_past_ten_runs(
    supplier: Supplier, kaliningrad: Supplier
) -> None:
    moscow_one = subscriber_make(supplier, 1)
    kaliningrad_one = subscriber_make(kaliningrad, 2)

    at_0705 = dt.datetime(2026, 11, 15, 7, 5, tzinfo=dt.UTC)  # 10:05 in Moscow, 09:05 in Kaliningrad
    assert [r.supplier.code for r in reminders_run_due(now=at_0705)] == ["gaz-msk"]
    assert told() == [
        (moscow_one.user.username, Kind.READINGS_OPEN, f"readings_open:{moscow_one.account.pk}:2026-11"),
    ]

    at_0805 = at_0705 + dt.timedelta(hours=1)  # Moscow's day is done; 10:05 in Kaliningrad
    assert [r.supplier.code for r in reminders_run_due(now=at_0805)] == ["gaz-kld"]
    assert told()[1:] == [
        (kaliningrad_one.user.username, Kind.READINGS_OPEN, f"readings_open:{kaliningrad_one.account.pk}:2026-11"),
    ]
    assert runs() == [("gaz-kld", OPENS, RunStatus.DONE), ("gaz-msk", OPENS, RunStatus.DONE)]
    # each run is of its supplier's local day and moment
    assert list(ReminderRun.objects.order_by("started_at").values_list("started_at", "finished_at")) == [
        (at_0705, at_0705),
        (at_0805, at_0805),
    ]


def test_just_before_midnight_utc_moscow_is_on_the_next_day_and_kaliningrad_is_not(
    supplier: Supplier, kaliningrad: Supplier
) -> None:
    subscriber_make(supplier, 1)
    subscriber_make(kaliningrad, 2)
    at = dt.datetime(2026, 11, 14, 21, 30, tzinfo=dt.UTC)  # 00:30 on the 15th in Moscow, 23:30 on the 14th there
    assert at.astimezone(MOSCOW).date() == OPENS
    assert at.astimezone(KALININGRAD).date() == OPENS - dt.timedelta(days=1)

    for who in (supplier, kaliningrad):
        reminders_run(supplier=who, now=at, force=True)  # an operator's run at night

    assert runs() == [("gaz-kld", dt.date(2026, 11, 14), RunStatus.DONE), ("gaz-msk", OPENS, RunStatus.DONE)]
    assert [(kind, key.split(":")[0]) for _user, kind, key in told()] == [(Kind.READINGS_OPEN, "readings_open")]
    assert Notification.objects.get().supplier == supplier


@pytest.mark.parametrize(
    ("hour", "minute", "runs_then"),
    [(0, 5, False), (9, 59, False), (10, 0, True), (15, 5, True), (20, 59, True), (21, 0, False), (23, 5, False)],
)
def test_the_day_runs_from_ten_until_the_evening_quiet_at_the_supplier_s_place(
    kaliningrad: Supplier, hour: int, minute: int, runs_then: bool
) -> None:
    subscriber_make(kaliningrad, 1)

    run = reminders_run(supplier=kaliningrad, now=local(OPENS, hour, minute, zone=KALININGRAD))

    assert (run is not None) is runs_then
    assert Notification.objects.count() == (1 if runs_then else 0)
    assert ReminderRun.objects.count() == (1 if runs_then else 0)


def test_a_second_run_the_same_day_sends_nothing_and_the_next_day_is_a_new_run(supplier: Supplier) -> None:
    subscriber_make(supplier, 1, device=True)
    first = reminders_run(supplier=supplier, now=local(OPENS, 10, 5))
    assert first is not None
    before = (told(), sent())

    assert reminders_run(supplier=supplier, now=local(OPENS, 11, 5)) is None
    assert reminders_run(supplier=supplier, now=local(OPENS, 11, 6), force=True) is None  # not even forced
    assert reminders_run_due(now=local(OPENS, 12, 5)) == []

    assert (told(), sent()) == before
    assert len(before[1]) == 1
    assert ReminderRun.objects.get().summary == {Kind.READINGS_OPEN: {"notified": 1, "repeated": 0, Channel.PUSH: 1}}

    following = reminders_run(supplier=supplier, now=local(OPENS + dt.timedelta(days=1), 10, 5))
    assert following is not None
    assert following.summary == {}
    assert runs() == [
        ("gaz-msk", OPENS, RunStatus.DONE),
        ("gaz-msk", OPENS + dt.timedelta(days=1), RunStatus.DONE),
    ]


# --- A run that died ------------------------------------------------------------------------


def _dead_run_told_first_batch(supplier: Supplier, started: dt.datetime) -> NotifySummary:
    """What a run that died after its first batch of one leaves: its row, running, with a
    lease, and the first occasion told."""
    ReminderRun.objects.create(
        supplier=supplier,
        day=OPENS,
        started_at=started,
        lease_until=started + RUN_LEASE,
        summary={Kind.READINGS_OPEN: {"notified": 1, "repeated": 0, Channel.PUSH: 1}},
    )
    due = next(reminders_due(supplier=supplier, day=OPENS, size=1))
    return notify_many(kind=due.kind, occasions=next(due.batches), supplier=supplier, now=started)


def test_a_run_that_died_is_left_alone_while_its_lease_lasts_then_taken_over_and_tells_only_the_rest(
    supplier: Supplier,
) -> None:
    people = [subscriber_make(supplier, n, device=True) for n in (1, 2, 3)]
    started = local(OPENS, 10, 5)
    assert _dead_run_told_first_batch(supplier, started).notified == 1
    assert [row[2] for row in sent()] == ["fcm-token-1"]

    assert reminders_run(supplier=supplier, now=started + RUN_LEASE - dt.timedelta(seconds=1)) is None
    assert Notification.objects.count() == 1

    later = started + RUN_LEASE + dt.timedelta(minutes=40)  # the next hourly call
    run = reminders_run(supplier=supplier, now=later)

    assert run is not None
    assert [key for _user, _kind, key in told()] == [f"readings_open:{p.account.pk}:2026-11" for p in people]
    assert sent() == [
        (Channel.PUSH, Kind.READINGS_OPEN, "fcm-token-1", started),
        (Channel.PUSH, Kind.READINGS_OPEN, "fcm-token-2", later),
        (Channel.PUSH, Kind.READINGS_OPEN, "fcm-token-3", later),
    ]
    run.refresh_from_db()
    assert (run.status, run.started_at, run.finished_at, run.error) == (RunStatus.DONE, started, later, "")
    # the dead run's count and the rest, the one it had told counted as told before
    assert run.summary == {Kind.READINGS_OPEN: {"notified": 3, "repeated": 1, Channel.PUSH: 3}}


def test_a_failed_run_is_taken_up_again_by_the_next_call(supplier: Supplier) -> None:
    subscriber_make(supplier, 1)
    ReminderRun.objects.create(
        supplier=supplier,
        day=OPENS,
        status=RunStatus.FAILED,
        started_at=local(OPENS, 10, 5),
        lease_until=local(OPENS, 10, 25),
        error="OperationalError('server closed the connection unexpectedly')",
    )

    run = reminders_run(supplier=supplier, now=local(OPENS, 10, 10))  # its lease is not over: failed is failed

    assert run is not None
    run.refresh_from_db()
    assert (run.status, run.error, run.finished_at) == (RunStatus.DONE, "", local(OPENS, 10, 10))
    assert Notification.objects.count() == 1


def test_a_supplier_without_terms_for_the_day_is_recorded_and_the_others_still_run(
    supplier: Supplier, kaliningrad: Supplier
) -> None:
    subscriber_make(supplier, 1)
    subscriber_make(kaliningrad, 2)
    kaliningrad.terms.all().delete()

    done = reminders_run_due(now=dt.datetime(2026, 11, 15, 9, 5, tzinfo=dt.UTC))

    assert sorted(r.supplier.code for r in done) == ["gaz-kld", "gaz-msk"]
    failed = ReminderRun.objects.get(supplier=kaliningrad)
    assert (failed.status, failed.error, failed.summary) == (
        RunStatus.DONE,
        "У поставщика «Калининградская газовая компания» не заданы условия на 15.11.2026",
        {},
    )
    assert [n.supplier_id for n in Notification.objects.all()] == [supplier.pk]


def test_an_inactive_supplier_is_not_run(supplier: Supplier) -> None:
    subscriber_make(supplier, 1)
    supplier.is_active = False
    supplier.save()

    assert reminders_run_due(now=local(OPENS, 10, 5)) == []
    assert (runs(), told()) == ([], [])


# --- Racing runs ----------------------------------------------------------------------------


def test_the_same_occasions_told_twice_go_out_once(supplier: Supplier) -> None:
    for n in (1, 2, 3):
        subscriber_make(supplier, n, device=True)
    due = next(reminders_due(supplier=supplier, day=OPENS, size=10))
    [batch] = list(due.batches)
    now = local(OPENS, 10, 5)

    first = notify_many(kind=due.kind, occasions=batch, supplier=supplier, now=now)
    second = notify_many(kind=due.kind, occasions=batch, supplier=supplier, now=now + dt.timedelta(seconds=1))
    # and a run of the same day that finds them told (its row was lost, say)
    ReminderRun.objects.all().delete()
    third = reminders_run(supplier=supplier, now=now + dt.timedelta(minutes=1))

    assert first == NotifySummary(notified=3, repeated=0, deliveries={Channel.PUSH: 3})
    assert second == NotifySummary(notified=0, repeated=3, deliveries={})
    assert third is not None
    assert third.summary == {Kind.READINGS_OPEN: {"notified": 0, "repeated": 3}}
    assert Notification.objects.count() == 3
    assert [row[2] for row in sent()] == ["fcm-token-1", "fcm-token-2", "fcm-token-3"]


def test_an_occasion_listed_twice_in_one_batch_is_told_once(supplier: Supplier) -> None:
    subscriber_make(supplier, 1, device=True)
    due = next(reminders_due(supplier=supplier, day=OPENS, size=10))
    [batch] = list(due.batches)

    summary = notify_many(kind=due.kind, occasions=batch + batch, supplier=supplier, now=local(OPENS, 10, 5))

    assert summary == NotifySummary(notified=1, repeated=0, deliveries={Channel.PUSH: 1})
    assert Delivery.objects.count() == 1


def _together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at the same moment, each in its own thread on its own connection."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [RuntimeError("not run")] * len(calls)

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
        thread.join(60)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_runs_racing_for_the_same_occasions_tell_each_once(supplier: Supplier) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the SQLite test database is in memory, where concurrent writers fail instead of waiting")
    for n in range(1, 41):
        subscriber_make(supplier, n, device=True)
    due = next(reminders_due(supplier=supplier, day=OPENS, size=100))
    [batch] = list(due.batches)
    now = local(OPENS, 10, 5)

    results = _together(
        [lambda: notify_many(kind=due.kind, occasions=batch, supplier=supplier, now=now) for _ in range(4)]
    )

    assert all(isinstance(r, NotifySummary) for r in results), results
    assert sum(r.notified for r in results) == 40
    assert sum(r.repeated for r in results) == 120
    assert sum(r.deliveries.get(Channel.PUSH, 0) for r in results) == 40
    assert Notification.objects.count() == 40
    assert sorted(Delivery.objects.values_list("recipient", flat=True)) == sorted(
        f"fcm-token-{n}" for n in range(1, 41)
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_two_workers_starting_the_day_at_once_run_it_once(supplier: Supplier) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the SQLite test database is in memory, where concurrent writers fail instead of waiting")
    for n in range(1, 6):
        subscriber_make(supplier, n)
    now = local(OPENS, 10, 5)

    results = _together([lambda: reminders_run(supplier=supplier, now=now) for _ in range(3)])

    assert sorted(type(r).__name__ for r in results) == ["NoneType", "NoneType", "ReminderRun"], results
    assert Notification.objects.count() == 5
    assert runs() == [("gaz-msk", OPENS, RunStatus.DONE)]
