"""``abonent reminders``: run the day's reminders of a supplier or of all, once a day, in the
sending hours unless forced, with what was told per kind; list the latest runs; bad
arguments refused with nothing run."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from abonent.core.models import Supplier
from abonent.core.services import supplier_create
from abonent.customers.models import AccountLink
from abonent.identity.models import User
from abonent.notifications.enums import Channel, Kind, PushPlatform
from abonent.notifications.models import Delivery, Notification
from abonent.notifications.services import push_device_register
from abonent.reminders.enums import RunStatus
from abonent.reminders.models import ReminderRun
from tests.conftest import SUPPLIER_MOSCOW
from tests.factories import account_make, meter_make

pytestmark = pytest.mark.django_db

#: Sunday 15.11.2026, 10:30 in Moscow (09:30 in Kaliningrad): the November window opens.
NOW = dt.datetime(2026, 11, 15, 7, 30, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr("abonent.core.clock.now", clock)
    return clock


@pytest.fixture
def yantar() -> Supplier:
    return supplier_create(
        **{**SUPPLIER_MOSCOW, "code": "yantar", "short_name": "Янтарьгаз", "time_zone": "Europe/Kaliningrad"}
    )


def subscriber(supplier: Supplier, username: str, number: str, phone: str) -> User:
    """A subscriber with a meter and no reading for November, a phone with the app."""
    user = User.objects.create(
        username=username, phone=phone, email=f"{username}@example.org", phone_confirmed_at=NOW,
        email_confirmed_at=NOW,
    )  # fmt: skip
    account = account_make(supplier=supplier, number=number)
    meter_make(account=account)
    AccountLink.objects.create(user=user, account=account, proof="pin", channel="web", linked_at=NOW)
    push_device_register(user=user, platform=PushPlatform.FCM, token=f"{username}-device-1", now=NOW)
    return user


def reminders(*args: str, **options: Any) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("reminders", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_run_tells_the_supplier_and_says_what_per_kind(supplier: Supplier) -> None:
    subscriber(supplier, "maria", "770000000001", "+79123456789")
    subscriber(supplier, "petr", "770000000002", "+79261112233")

    out, err = reminders("run", supplier="gaz-msk")

    lines = out.splitlines()
    assert lines[0].startswith("Газпром межрегионгаз Москва (gaz-msk), 15.11.2026: разосланы за ")
    assert lines[1:] == ["  открылся приём показаний: уведомлено 2; push 2"]
    assert err == ""
    run = ReminderRun.objects.get()
    assert (run.day, run.status, run.summary) == (
        dt.date(2026, 11, 15), RunStatus.DONE, {Kind.READINGS_OPEN: {"notified": 2, "repeated": 0, "push": 2}},
    )  # fmt: skip
    assert sorted(Notification.objects.values_list("user__username", "kind")) == [
        ("maria", Kind.READINGS_OPEN),
        ("petr", Kind.READINGS_OPEN),
    ]
    assert sorted(Delivery.objects.values_list("channel", "recipient")) == [
        (Channel.PUSH, "maria-device-1"),
        (Channel.PUSH, "petr-device-1"),
    ]


def test_a_second_run_of_the_day_tells_nobody_again(supplier: Supplier, clock: Clock) -> None:
    subscriber(supplier, "maria", "770000000001", "+79123456789")
    reminders("run", supplier="gaz-msk")
    clock.at = NOW + dt.timedelta(hours=2)

    out, _err = reminders("run", supplier="gaz-msk", force=True)

    assert out.splitlines() == [
        "Газпром межрегионгаз Москва (gaz-msk), 15.11.2026: уже разосланы в 15.11.2026 10:30, повторно не рассылаются.",
        "  открылся приём показаний: уведомлено 1; push 1",
    ]
    assert Notification.objects.count() == 1
    assert Delivery.objects.count() == 1


def test_outside_the_sending_hours_nothing_is_run_unless_forced(
    supplier: Supplier, yantar: Supplier, clock: Clock
) -> None:
    subscriber(supplier, "maria", "770000000001", "+79123456789")
    subscriber(yantar, "olga", "390000000001", "+79035554433")
    clock.at = dt.datetime(2026, 11, 15, 4, 0, tzinfo=dt.UTC)  # 07:00 in Moscow, 06:00 in Kaliningrad

    out, _err = reminders("run")

    assert out.splitlines() == [
        "Газпром межрегионгаз Москва (gaz-msk), 15.11.2026: сейчас 07:00 по местному времени, а напоминания "
        "рассылаются с 10:00 до 21:00; --force разошлёт сразу.",
        "Янтарьгаз (yantar), 15.11.2026: сейчас 06:00 по местному времени, а напоминания рассылаются с 10:00 "
        "до 21:00; --force разошлёт сразу.",
    ]
    assert ReminderRun.objects.count() == 0
    assert Notification.objects.count() == 0

    out, _err = reminders("run", supplier="yantar", force=True)

    assert out.splitlines()[1:] == ["  открылся приём показаний: уведомлено 1; push 1"]
    assert list(Notification.objects.values_list("user__username", flat=True)) == ["olga"]
    # the push waits for 09:00 in Kaliningrad
    assert list(Delivery.objects.values_list("next_attempt_at", flat=True)) == [
        dt.datetime(2026, 11, 15, 7, 0, tzinfo=dt.UTC)
    ]


def test_a_day_with_nothing_due_is_done_and_says_so(supplier: Supplier, clock: Clock) -> None:
    subscriber(supplier, "maria", "770000000001", "+79123456789")
    clock.at = dt.datetime(2026, 11, 17, 8, 0, tzinfo=dt.UTC)

    out, _err = reminders("run", supplier="gaz-msk")

    assert out.splitlines()[1:] == ["  Напоминать было не о чем."]
    assert list(ReminderRun.objects.values_list("status", "summary")) == [(RunStatus.DONE, {})]


def test_list_shows_the_latest_runs(supplier: Supplier, yantar: Supplier, clock: Clock) -> None:
    subscriber(supplier, "maria", "770000000001", "+79123456789")
    reminders("run", supplier="gaz-msk")

    out, _err = reminders("list")

    assert out.splitlines() == [
        "15.11.2026  Газпром межрегионгаз Москва (gaz-msk)  выполнен, начата 15.11.2026 10:30, "
        "закончена 15.11.2026 10:30",
        "  открылся приём показаний: уведомлено 1; push 1",
    ]
    assert reminders("list", supplier="yantar")[0] == "Рассылок напоминаний ещё не было.\n"


@pytest.mark.parametrize(
    ("args", "options", "message"),
    [
        ((), {}, "укажите действие: run — разослать напоминания дня, list — последние рассылки"),
        (("send",), {}, "неизвестное действие «send»: укажите действие: run"),
        (("run",), {"supplier": "nope"}, "--supplier: поставщика с кодом «nope» нет (есть: gaz-msk)"),
        (("run",), {"supplier": " "}, "--supplier: укажите код поставщика (есть: gaz-msk)"),
        (("list",), {"force": True}, "--force относится к run, не к list"),
        (("list",), {"limit": 0}, "--limit: укажите число от 1"),
    ],
)
def test_bad_arguments_are_refused_and_nothing_is_run(
    supplier: Supplier, args: tuple[str, ...], options: dict[str, Any], message: str
) -> None:
    subscriber(supplier, "maria", "770000000001", "+79123456789")

    with pytest.raises(CommandError) as refused:
        reminders(*args, **options)

    assert str(refused.value).startswith(message)
    assert ReminderRun.objects.count() == 0
    assert Notification.objects.count() == 0


def test_without_suppliers_there_is_nothing_to_run() -> None:
    with pytest.raises(CommandError, match="Поставщиков пока нет"):
        reminders("run")
