"""The day's reminder runs in the back office: the list with what each run told per kind,
read-only; «Разослать напоминания сейчас» for senior operators, which runs the day once
(outside the sending hours too) and says what it told; who may do what."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.test import Client

from abonent.core.models import Supplier
from abonent.customers.models import AccountLink
from abonent.identity.models import User
from abonent.identity.roles import OPERATOR, SENIOR_OPERATOR
from abonent.notifications.enums import Kind
from abonent.notifications.models import Notification
from abonent.reminders.enums import RunStatus
from abonent.reminders.models import ReminderRun
from tests.backoffice.staff import staff, subscriber_make
from tests.factories import account_make, meter_make

pytestmark = pytest.mark.django_db

#: Sunday 15.11.2026, 10:30 in Moscow: the window of November readings opens today.
NOW = dt.datetime(2026, 11, 15, 7, 30, tzinfo=dt.UTC)
LIST = "/backoffice/reminders/reminderrun/"
RUN = f"{LIST}run/"


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
def maria(supplier: Supplier) -> User:
    """A subscriber with a meter and no November reading yet."""
    user = subscriber_make("maria", phone="+79123456789", email="maria@example.org", now=NOW)
    account = account_make(supplier=supplier)
    meter_make(account=account)
    AccountLink.objects.create(user=user, account=account, proof="pin", channel="web", linked_at=NOW)
    return user


@pytest.fixture
def operator() -> Client:
    return staff(OPERATOR)


@pytest.fixture
def senior() -> Client:
    return staff(SENIOR_OPERATOR, "senior")


def said(response: HttpResponse) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]


def test_operators_see_the_runs_but_only_senior_operators_run_them(
    operator: Client, senior: Client, supplier: Supplier
) -> None:
    run = ReminderRun.objects.create(
        supplier=supplier, day=dt.date(2026, 11, 14), status=RunStatus.DONE, started_at=NOW, finished_at=NOW,
        lease_until=NOW, summary={Kind.BILL_READY: {"notified": 12, "repeated": 1, "email": 8, "push": 3}},
    )  # fmt: skip

    response = operator.get(LIST)
    html = response.content.decode()
    assert "14.11.2026" in html
    assert "Новая квитанция: уведомлено 12, уже были уведомлены 1; e-mail 8, push-уведомление 3" in html
    assert RUN not in html
    assert operator.get(f"{LIST}{run.pk}/change/").status_code == 200
    assert operator.get(RUN).status_code == 403
    assert operator.post(RUN, {"supplier": supplier.pk}).status_code == 403
    assert operator.post(f"{LIST}{run.pk}/change/", {"status": "failed"}).status_code == 403
    assert operator.get(f"{LIST}add/").status_code == 403

    assert RUN in senior.get(LIST).content.decode()
    assert senior.get(RUN).status_code == 200
    assert staff(None, "nobody").get(LIST).status_code == 403
    assert list(ReminderRun.objects.values_list("status", flat=True)) == [RunStatus.DONE]


@pytest.mark.django_db(transaction=True)  # the job runs when the request has nothing left to commit, as on a server
def test_running_now_tells_today_and_a_second_press_tells_nobody_again(
    senior: Client, supplier: Supplier, maria: User
) -> None:
    response = senior.post(RUN, {"supplier": supplier.pk})

    assert response.status_code == 302
    assert response["Location"] == LIST
    assert said(response) == [
        "Напоминания «Газпром межрегионгаз Москва» за 15.11.2026 разосланы. Открылся приём показаний: уведомлено 1."
    ]
    run = ReminderRun.objects.get()
    assert (run.day, run.status, run.started_at, run.finished_at, run.error) == (
        dt.date(2026, 11, 15), RunStatus.DONE, NOW, NOW, "",
    )  # fmt: skip
    assert run.summary == {Kind.READINGS_OPEN: {"notified": 1, "repeated": 0}}
    assert list(Notification.objects.values_list("user__username", "kind")) == [("maria", Kind.READINGS_OPEN)]
    senior.get(LIST)  # the message is shown

    again = senior.post(RUN, {"supplier": supplier.pk})

    assert said(again) == [
        "Напоминания «Газпром межрегионгаз Москва» за 15.11.2026 уже разосланы в 15.11.2026 10:30: "
        "каждое напоминание уходит один раз в день."
    ]
    assert ReminderRun.objects.count() == 1
    assert Notification.objects.count() == 1


def test_running_now_works_outside_the_sending_hours(
    senior: Client, supplier: Supplier, maria: User, clock: Clock, django_capture_on_commit_callbacks: Any
) -> None:
    clock.at = dt.datetime(2026, 11, 15, 4, 0, tzinfo=dt.UTC)  # 07:00 in Moscow

    with django_capture_on_commit_callbacks(execute=True):
        senior.post(RUN, {"supplier": supplier.pk})

    assert list(ReminderRun.objects.values_list("day", "status")) == [(dt.date(2026, 11, 15), RunStatus.DONE)]
    assert Notification.objects.get().kind == Kind.READINGS_OPEN


@pytest.mark.django_db(transaction=True)
def test_a_day_with_nothing_to_remind_of_says_so(senior: Client, supplier: Supplier, maria: User, clock: Clock) -> None:
    clock.at = dt.datetime(2026, 11, 17, 8, 0, tzinfo=dt.UTC)

    response = senior.post(RUN, {"supplier": supplier.pk})

    assert said(response) == [
        "Напоминания «Газпром межрегионгаз Москва» за 17.11.2026 разосланы. Напоминать было не о чем."
    ]
    assert "Напоминать было не о чем" in senior.get(LIST).content.decode()
    assert Notification.objects.count() == 0


def test_no_supplier_chosen_runs_nothing(senior: Client, supplier: Supplier, maria: User) -> None:
    response = senior.post(RUN, {"supplier": ""})

    assert response.status_code == 200
    assert response.context["form"].errors == {"supplier": ["Выберите поставщика"]}
    assert ReminderRun.objects.count() == 0
    assert senior.post(RUN, {"supplier": 999}).context["form"].errors == {
        "supplier": ["Выберите корректный вариант. Вашего варианта нет среди допустимых значений."]
    }
    assert senior.get(RUN).status_code == 200
    assert ReminderRun.objects.count() == 0
