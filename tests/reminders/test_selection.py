"""Who is reminded of what on which day: each rule of ``reminders.selectors`` on the days
around its own, with the subscribers it must reach and those it must not (a reading already
sent, no working meter, a closed account, an inactive profile, an account nobody linked)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import Any

import pytest

from abonent.billing.models import BillingPeriod, Charge
from abonent.core.models import Supplier
from abonent.core.periods import Period
from abonent.core.services import supplier_terms_change
from abonent.customers.enums import AccountStatus, ContractKind, ContractStatus
from abonent.customers.models import Contract, PersonalAccount
from abonent.identity.models import User
from abonent.ledger.enums import Service
from abonent.metering.enums import MeterStatus, ReadingStatus
from abonent.notifications.enums import Channel, Kind
from abonent.notifications.models import Delivery, Notification
from abonent.notifications.policy import KINDS
from abonent.notifications.services import preferences_set
from abonent.reminders.enums import RunStatus
from abonent.reminders.models import ReminderRun
from abonent.reminders.services import reminders_run
from tests.factories import account_make, meter_make, reading_make
from tests.reminders.conftest import (
    Subscriber,
    charge_post,
    link_make,
    local,
    payment_post,
    sent,
    subscriber_make,
    told,
)
from tests.web.identity import user_make

pytestmark = pytest.mark.django_db

NOVEMBER = Period(2026, 11)
SEPTEMBER, OCTOBER = Period(2026, 9), Period(2026, 10)
NBSP = "\u00a0"  # before ₽
THIN = "\u202f"  # between thousands
ADDRESS = "г. Подольск, ул. Садовая, д. 12, кв. 34"
FOOTER = "Газпром межрегионгаз Москва, горячая линия 8 800 100-00-01"


def run_on(supplier: Supplier, day: dt.date, hour: int = 11) -> dict[str, Any]:
    """The supplier's run of ``day`` at ``hour`` local time; its summary."""
    run = reminders_run(supplier=supplier, now=local(day, hour, zone=_zone(supplier)))
    assert run is not None
    assert (run.status, run.error) == (RunStatus.DONE, "")
    return dict(run.summary)


def _zone(supplier: Supplier) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(supplier.time_zone)


def who(kind: str) -> list[str]:
    """The account numbers told of ``kind`` (one per notification), in the order told."""
    numbers = dict(PersonalAccount.objects.values_list("pk", "number"))
    accounts = Notification.objects.filter(kind=kind).order_by("pk").values_list("account_id", flat=True)
    return [numbers[a] if a is not None else "" for a in accounts]


# --- The reading window -------------------------------------------------------------------


@pytest.fixture
def readers(supplier: Supplier) -> dict[str, Subscriber]:
    """Subscribers as the window opens, November 2026 (days 15–25)."""
    people = {
        "waiting": subscriber_make(supplier, 1, device=True),
        "sent": subscriber_make(supplier, 2, device=True),
        "rejected": subscriber_make(supplier, 3),
        "no_meter": subscriber_make(supplier, 4, meter=False),
        "meter_removed": subscriber_make(supplier, 5),
        "closed": subscriber_make(supplier, 6, status=AccountStatus.CLOSED, closed_on=dt.date(2026, 10, 31)),
        "inactive": subscriber_make(supplier, 7),
        "previous_only": subscriber_make(supplier, 8),
    }
    assert people["sent"].meter is not None
    assert people["rejected"].meter is not None
    assert people["meter_removed"].meter is not None
    assert people["previous_only"].meter is not None
    reading_make(people["sent"].meter, NOVEMBER, "1000", read_on=dt.date(2026, 11, 14))
    reading_make(
        people["rejected"].meter, NOVEMBER, "5", status=ReadingStatus.REJECTED, rejection_reason="Меньше предыдущего"
    )
    reading_make(people["previous_only"].meter, OCTOBER, "900")
    people["meter_removed"].meter.status = MeterStatus.REMOVED
    people["meter_removed"].meter.removed_on = dt.date(2026, 9, 1)
    people["meter_removed"].meter.save()
    User.objects.filter(pk=people["inactive"].user.pk).update(is_active=False)
    account_make(supplier=supplier, number="770000000099")  # nobody linked it
    return people


def test_the_window_opening_reaches_those_with_a_working_meter_and_no_reading_for_the_period(
    supplier: Supplier, readers: dict[str, Subscriber]
) -> None:
    summary = run_on(supplier, dt.date(2026, 11, 15))

    waiting = readers["waiting"]
    assert who(Kind.READINGS_OPEN) == ["770000000001", "770000000003", "770000000008"]
    assert told()[0] == (waiting.user.username, Kind.READINGS_OPEN, f"readings_open:{waiting.account.pk}:2026-11")
    # by default: the portal and a push to a phone with the app (e-mail and SMS are off)
    moment = local(dt.date(2026, 11, 15), 11)
    assert sent() == [(Channel.PUSH, Kind.READINGS_OPEN, "fcm-token-1", moment)]
    assert summary == {Kind.READINGS_OPEN: {"notified": 3, "repeated": 0, Channel.PUSH: 1}}

    notification = Notification.objects.get(account_id=waiting.account.pk)
    assert (notification.title, notification.in_portal, notification.created_at, notification.read_at) == (
        "Приём показаний за ноябрь 2026 открыт",
        True,
        moment,
        None,
    )
    assert notification.body == (
        f"Здравствуйте!\n\nПо лицевому счёту 770000000001 ({ADDRESS}) принимаются показания счётчика газа "
        "за ноябрь 2026: с 15.11.2026 по 25.11.2026 включительно. Передать их можно в личном кабинете: "
        f"https://lk.gaz-msk.example/\n\n{FOOTER}"
    )
    push = Delivery.objects.get()
    assert (push.subject, push.body, push.limited, push.user_id, push.supplier_id, push.payload) == (
        "Приём показаний за ноябрь 2026 открыт",
        "Передайте показания газа за ноябрь 2026 по л/с 770000000001 до 25.11.2026 включительно.",
        True,
        waiting.user.pk,
        supplier.pk,
        {"kind": "readings_open", "notification_id": str(notification.pk), "account_id": str(waiting.account.pk)},
    )


def test_no_reminder_of_the_window_on_the_days_between_and_before(
    supplier: Supplier, readers: dict[str, Subscriber]
) -> None:
    for day in (14, 16, 20, 24, 26):
        assert run_on(supplier, dt.date(2026, 11, day)) == {}
    assert told() == []
    assert Delivery.objects.count() == 0


def test_the_last_day_reaches_those_still_without_a_reading(supplier: Supplier, readers: dict[str, Subscriber]) -> None:
    run_on(supplier, dt.date(2026, 11, 15))
    assert readers["waiting"].meter is not None
    reading_make(readers["waiting"].meter, NOVEMBER, "1012", read_on=dt.date(2026, 11, 18))
    Notification.objects.all().delete()
    Delivery.objects.all().delete()

    summary = run_on(supplier, dt.date(2026, 11, 25))

    assert who(Kind.READINGS_LAST_DAY) == ["770000000003", "770000000008"]
    moment = local(dt.date(2026, 11, 25), 11)
    # by default by e-mail too; neither of them has the app
    assert sent() == [
        (Channel.EMAIL, Kind.READINGS_LAST_DAY, "user3@example.org", moment),
        (Channel.EMAIL, Kind.READINGS_LAST_DAY, "user8@example.org", moment),
    ]
    assert summary == {Kind.READINGS_LAST_DAY: {"notified": 2, "repeated": 0, Channel.EMAIL: 2}}
    email = Delivery.objects.get(recipient="user3@example.org")
    assert (email.subject, email.body) == (
        "Сегодня последний день приёма показаний",
        f"Здравствуйте!\n\nПо лицевому счёту 770000000003 ({ADDRESS}) ещё нет показаний за ноябрь 2026. "
        "Сегодня, 25.11.2026, последний день приёма. Показания, переданные позже, будут учтены в следующем "
        "месяце, а за ноябрь 2026 расход начислят по среднему или по нормативу.\n\n"
        f"Передать показания: https://lk.gaz-msk.example/\n\n{FOOTER}",
    )


def test_two_users_of_one_account_are_each_told(supplier: Supplier) -> None:
    first = subscriber_make(supplier, 1)
    second = user_make(phone="+79160000002", email=None)
    link_make(second, first.account)

    run_on(supplier, dt.date(2026, 11, 15))

    key = f"readings_open:{first.account.pk}:2026-11"
    assert told() == [
        (first.user.username, Kind.READINGS_OPEN, key),
        (second.username, Kind.READINGS_OPEN, key),
    ]


def test_a_supplier_that_takes_no_readings_through_the_portal_sends_no_window_reminders(supplier: Supplier) -> None:
    subscriber_make(supplier, 1)
    supplier_terms_change(supplier=supplier, effective_from=dt.date(2026, 11, 1), readings_allowed=False)

    assert run_on(supplier, dt.date(2026, 11, 15)) == {}
    assert run_on(supplier, dt.date(2026, 11, 25)) == {}
    assert told() == []


def test_the_window_of_the_supplier_terms_decides_the_days(supplier: Supplier) -> None:
    subscriber_make(supplier, 1)
    supplier_terms_change(
        supplier=supplier, effective_from=dt.date(2026, 11, 1), reading_window_start_day=20, reading_window_end_day=31
    )

    assert run_on(supplier, dt.date(2026, 11, 15)) == {}
    run_on(supplier, dt.date(2026, 11, 20))
    run_on(supplier, dt.date(2026, 11, 30))  # day 31 of a 30-day month is its last

    assert [kind for _user, kind, _key in told()] == [Kind.READINGS_OPEN, Kind.READINGS_LAST_DAY]
    assert Notification.objects.get(kind=Kind.READINGS_LAST_DAY).title == "Сегодня последний день приёма показаний"
    assert "с 20.11.2026 по 30.11.2026 включительно" in Notification.objects.get(kind=Kind.READINGS_OPEN).body


# --- The bill, the due date, the debt -------------------------------------------------------


def bill(account: Any, period: Period, amount: str) -> None:
    """The period's charge: the calculation row and its ledger entry."""
    Charge.objects.create(
        account=account,
        period=period,
        service=Service.GAS,
        amount=Decimal(amount),
        computed_at=dt.datetime.combine(period.last_day, dt.time(23), tzinfo=dt.UTC),
    )
    charge_post(account, period, amount)


def test_a_closed_period_s_bill_is_announced_from_the_closing_day_until_its_due_date(supplier: Supplier) -> None:
    billed = subscriber_make(supplier, 1, device=True, meter=False)
    later = subscriber_make(supplier, 2, meter=False)
    not_billed = subscriber_make(supplier, 3, meter=False)
    bill(billed.account, OCTOBER, "1234.56")
    BillingPeriod.objects.create(supplier=supplier, period=OCTOBER, closed_at=local(dt.date(2026, 11, 3), 9))

    assert run_on(supplier, dt.date(2026, 11, 2)) == {}  # closed the next morning
    run_on(supplier, dt.date(2026, 11, 3))
    bill(later.account, OCTOBER, "99.90")  # a late correction of the run: its bill is new
    run_on(supplier, dt.date(2026, 11, 15))  # the due date: still
    bill(not_billed.account, OCTOBER, "10.00")
    assert run_on(supplier, dt.date(2026, 11, 16)) == {}  # after the due date: no more

    assert who(Kind.BILL_READY) == ["770000000001", "770000000002"]
    assert [key for _u, _k, key in told()] == [
        f"bill:{billed.account.pk}:2026-10",
        f"bill:{later.account.pk}:2026-10",
    ]
    first = Notification.objects.get(account_id=billed.account.pk)
    assert (first.title, first.body) == (
        "Квитанция за октябрь 2026",
        f"Здравствуйте!\n\nГотова квитанция за октябрь 2026 по лицевому счёту 770000000001 ({ADDRESS}).\n"
        f"К оплате: 1{THIN}234,56{NBSP}₽ до 15.11.2026.\n\nКвитанция и оплата без комиссии: "
        f"https://lk.gaz-msk.example/\n\n{FOOTER}",
    )
    assert sent() == [
        (Channel.EMAIL, Kind.BILL_READY, "user1@example.org", local(dt.date(2026, 11, 3), 11)),
        (Channel.PUSH, Kind.BILL_READY, "fcm-token-1", local(dt.date(2026, 11, 3), 11)),
        (Channel.EMAIL, Kind.BILL_READY, "user2@example.org", local(dt.date(2026, 11, 15), 11)),
    ]
    assert Delivery.objects.get(channel=Channel.PUSH).body == (
        f"Квитанция за октябрь 2026 по л/с 770000000001: к оплате 1{THIN}234,56{NBSP}₽ до 15.11.2026."
    )


def test_an_open_period_announces_no_bill(supplier: Supplier) -> None:
    billed = subscriber_make(supplier, 1)
    bill(billed.account, OCTOBER, "1234.56")
    BillingPeriod.objects.create(supplier=supplier, period=OCTOBER)

    assert run_on(supplier, dt.date(2026, 11, 3)) == {}
    assert told() == []


@pytest.fixture
def payers(supplier: Supplier) -> dict[str, Subscriber]:
    """September and October 2026 billed (due 15.10.2026 and 15.11.2026): one owes October,
    one owes both, one paid part of October, one paid everything, one overpaid."""
    people = {
        "owes_october": subscriber_make(supplier, 1, device=True, meter=False),
        "owes_both": subscriber_make(supplier, 2, meter=False),
        "paid_part": subscriber_make(supplier, 3, meter=False),
        "paid_all": subscriber_make(supplier, 4, meter=False),
        "overpaid": subscriber_make(supplier, 5, meter=False),
        "closed": subscriber_make(supplier, 6, meter=False),
    }
    for person in people.values():
        charge_post(person.account, SEPTEMBER, "800.00")
        charge_post(person.account, OCTOBER, "1234.56")
    for name in ("owes_october", "paid_part", "paid_all", "overpaid"):
        payment_post(people[name].account, SEPTEMBER, "800.00", dt.date(2026, 10, 12))
    payment_post(people["paid_part"].account, OCTOBER, "1000.00", dt.date(2026, 11, 10))
    payment_post(people["paid_all"].account, OCTOBER, "1234.56", dt.date(2026, 11, 10))
    payment_post(people["overpaid"].account, OCTOBER, "2000.00", dt.date(2026, 11, 5))
    people["closed"].account.status = AccountStatus.CLOSED
    people["closed"].account.closed_on = dt.date(2026, 11, 30)
    people["closed"].account.save()
    return people


def test_the_payment_due_reminder_goes_three_days_before_the_due_date_to_those_who_owe(
    supplier: Supplier, payers: dict[str, Subscriber]
) -> None:
    assert run_on(supplier, dt.date(2026, 11, 11)) == {}
    summary = run_on(supplier, dt.date(2026, 11, 12))
    assert run_on(supplier, dt.date(2026, 11, 13)) == {}

    assert who(Kind.PAYMENT_DUE) == ["770000000001", "770000000002", "770000000003"]
    titles = set(Notification.objects.values_list("title", flat=True))
    assert titles == {"Оплатите газ до 15.11.2026"}
    both = Notification.objects.get(account_id=payers["owes_both"].account.pk)
    assert both.body == (
        f"Здравствуйте!\n\nПо лицевому счёту 770000000002 ({ADDRESS}) к оплате 2{THIN}034,56{NBSP}₽ до 15.11.2026.\n"
        "Оплатить без комиссии: https://lk.gaz-msk.example/\n\nЕсли вы уже оплатили, не обращайте внимания "
        f"на это письмо.\n\n{FOOTER}"
    )
    part = Notification.objects.get(account_id=payers["paid_part"].account.pk)
    assert f"к оплате 234,56{NBSP}₽ до 15.11.2026" in part.body
    # by default: the portal and push only
    moment = local(dt.date(2026, 11, 12), 11)
    assert sent() == [(Channel.PUSH, Kind.PAYMENT_DUE, "fcm-token-1", moment)]
    assert Delivery.objects.get().body == f"Оплатите газ по л/с 770000000001: 1{THIN}234,56{NBSP}₽ до 15.11.2026."
    assert summary == {Kind.PAYMENT_DUE: {"notified": 3, "repeated": 0, Channel.PUSH: 1}}


def test_the_debt_reminder_goes_five_days_after_the_due_date_and_the_notice_to_those_who_owe_two_periods(
    supplier: Supplier, payers: dict[str, Subscriber]
) -> None:
    for day in (15, 16, 19):
        assert run_on(supplier, dt.date(2026, 11, day)) == {}
    summary = run_on(supplier, dt.date(2026, 11, 20))
    assert run_on(supplier, dt.date(2026, 11, 21)) == {}

    assert who(Kind.DEBT_NOTICE) == ["770000000002"]
    assert who(Kind.DEBT) == ["770000000001", "770000000002", "770000000003"]
    owes_both = payers["owes_both"]
    notice = Notification.objects.get(kind=Kind.DEBT_NOTICE)
    assert (notice.occasion, notice.title) == (
        f"debt_notice:{owes_both.account.pk}:2026-10",
        "Уведомление о задолженности за газ",
    )
    assert notice.body.startswith(
        f"Здравствуйте!\n\nПо лицевому счёту 770000000002 ({ADDRESS}) не оплачен газ за сентябрь 2026 и "
        f"октябрь 2026: задолженность 2{THIN}034,56{NBSP}₽.\n\nПри неоплате двух расчётных периодов подряд"
    )
    debt = Notification.objects.get(kind=Kind.DEBT, account_id=payers["paid_part"].account.pk)
    assert (debt.occasion, debt.title) == (f"debt:{payers['paid_part'].account.pk}:2026-10", "Задолженность за газ")
    assert debt.body.startswith(
        f"Здравствуйте!\n\nПо лицевому счёту 770000000003 ({ADDRESS}) задолженность 234,56{NBSP}₽: срок оплаты "
        "15.11.2026 прошёл."
    )
    moment = local(dt.date(2026, 11, 20), 11)
    # the notice on every channel (SMS too); the debt reminder by e-mail, push and the portal
    assert sent() == [
        (Channel.EMAIL, Kind.DEBT_NOTICE, "user2@example.org", moment),
        (Channel.SMS, Kind.DEBT_NOTICE, "+79160000002", moment),
        (Channel.EMAIL, Kind.DEBT, "user1@example.org", moment),
        (Channel.PUSH, Kind.DEBT, "fcm-token-1", moment),
        (Channel.EMAIL, Kind.DEBT, "user2@example.org", moment),
        (Channel.EMAIL, Kind.DEBT, "user3@example.org", moment),
    ]
    assert Delivery.objects.get(channel=Channel.SMS).body == (
        f"Не оплачен газ за сентябрь 2026 и октябрь 2026 по л/с 770000000002: долг 2{THIN}034,56{NBSP}₽. "
        "Возможно приостановление подачи газа."
    )
    assert Delivery.objects.get(channel=Channel.SMS).limited is False  # the notice is never held by a limit
    assert summary == {
        Kind.DEBT_NOTICE: {"notified": 1, "repeated": 0, Channel.EMAIL: 1, Channel.SMS: 1},
        Kind.DEBT: {"notified": 3, "repeated": 0, Channel.EMAIL: 3, Channel.PUSH: 1},
    }


def test_the_debt_notice_reaches_a_subscriber_who_switched_off_everything_they_could(
    supplier: Supplier, payers: dict[str, Subscriber]
) -> None:
    owes_both = payers["owes_both"]
    everything_off: dict[tuple[str, str], bool] = {
        (kind, channel): False
        for kind, rule in KINDS.items()
        if rule.configurable
        for channel in rule.channels
        if channel not in rule.mandatory
    }
    preferences_set(user=owes_both.user, choices=everything_off, now=local(dt.date(2026, 11, 1), 12))

    run_on(supplier, dt.date(2026, 11, 20))

    moment = local(dt.date(2026, 11, 20), 11)
    mine = [row for row in sent() if row[2] in ("user2@example.org", "+79160000002")]
    assert mine == [
        (Channel.EMAIL, Kind.DEBT_NOTICE, "user2@example.org", moment),
        (Channel.SMS, Kind.DEBT_NOTICE, "+79160000002", moment),
    ]
    notices = Notification.objects.filter(user=owes_both.user).order_by("pk")
    # the debt reminder is recorded as told (not again tomorrow) but shown nowhere
    assert [(n.kind, n.in_portal) for n in notices] == [(Kind.DEBT_NOTICE, True), (Kind.DEBT, False)]


def test_no_debt_reminders_for_a_supplier_with_no_due_date_five_days_ago(supplier: Supplier) -> None:
    person = subscriber_make(supplier, 1, meter=False)
    charge_post(person.account, OCTOBER, "100.00")

    assert run_on(supplier, dt.date(2026, 11, 19)) == {}
    assert told() == []


# --- Meters' verification and contracts ----------------------------------------------------


def test_a_meter_s_verification_is_reminded_once_within_the_supplier_s_warning_days(supplier: Supplier) -> None:
    person = subscriber_make(supplier, 1, meter=False)
    due = meter_make(account=person.account, serial="0412345", verification_due_on=dt.date(2027, 1, 20))
    meter_make(account=person.account, serial="0499999", verification_due_on=dt.date(2027, 1, 30))
    meter_make(
        account=person.account,
        serial="0400001",
        verification_due_on=dt.date(2027, 1, 5),
        status=MeterStatus.CHECKING,
    )
    meter_make(account=person.account, serial="0400002", verification_due_on=dt.date(2026, 11, 1))  # overdue

    assert run_on(supplier, dt.date(2026, 11, 20)) == {}  # 61 days before
    summary = run_on(supplier, dt.date(2026, 11, 21))  # 60 days before
    assert run_on(supplier, dt.date(2026, 11, 22)) == {Kind.METER_VERIFICATION: {"notified": 0, "repeated": 1}}

    assert told() == [
        (person.user.username, Kind.METER_VERIFICATION, f"verification:{due.pk}:2027-01-20"),
    ]
    notification = Notification.objects.get()
    assert notification.title == "Поверка счётчика до 20.01.2027"
    assert notification.body == (
        "Здравствуйте!\n\nСрок поверки счётчика газа № 0412345 по лицевому счёту 770000000001 "
        f"({ADDRESS}) истекает 20.01.2027 (через 60 дн.). После этого его показания не "
        f"принимаются к расчёту и газ начисляется по нормативу. Закажите поверку заранее.\n\n{FOOTER}"
    )
    assert summary == {Kind.METER_VERIFICATION: {"notified": 1, "repeated": 0, Channel.EMAIL: 1}}
    assert Delivery.objects.get().payload == {}  # e-mail carries no data for the app


def test_the_verification_warning_follows_the_supplier_s_terms(supplier: Supplier) -> None:
    person = subscriber_make(supplier, 1, meter=False, device=True)
    meter = meter_make(account=person.account, verification_due_on=dt.date(2027, 1, 20))
    supplier_terms_change(supplier=supplier, effective_from=dt.date(2026, 11, 1), verification_warning_days=30)

    assert run_on(supplier, dt.date(2026, 12, 20)) == {}  # 31 days before
    run_on(supplier, dt.date(2026, 12, 21))

    assert [key for _u, _k, key in told()] == [f"verification:{meter.pk}:2027-01-20"]
    push = Delivery.objects.get(channel=Channel.PUSH)
    assert push.payload == {
        "kind": "meter_verification",
        "notification_id": str(Notification.objects.get().pk),
        "account_id": str(person.account.pk),
        "meter_id": str(meter.pk),
    }


def test_a_verification_moved_to_a_new_date_is_a_new_occasion(supplier: Supplier) -> None:
    person = subscriber_make(supplier, 1, meter=False)
    meter = meter_make(account=person.account, verification_due_on=dt.date(2027, 1, 20))
    run_on(supplier, dt.date(2026, 11, 21))
    meter.verification_due_on = dt.date(2027, 1, 25)  # a correction of the date by an operator
    meter.save()

    run_on(supplier, dt.date(2026, 11, 26))

    assert [key for _u, _k, key in told()] == [
        f"verification:{meter.pk}:2027-01-20",
        f"verification:{meter.pk}:2027-01-25",
    ]


def contract_make(account: Any, number: str, valid_to: dt.date | None, **fields: Any) -> Contract:
    return Contract.objects.create(
        account=account,
        kind=fields.pop("kind", ContractKind.VDGO),
        number=number,
        signed_on=dt.date(2024, 1, 15),
        valid_from=dt.date(2024, 1, 15),
        valid_to=valid_to,
        **fields,
    )


def test_a_contract_ending_is_reminded_once_within_the_supplier_s_warning_days(supplier: Supplier) -> None:
    person = subscriber_make(supplier, 1)
    ending = contract_make(person.account, "ВДГО-2024/118", dt.date(2027, 1, 14))
    contract_make(person.account, "П-77-1", None, kind=ContractKind.SUPPLY)  # open-ended
    contract_make(person.account, "ВДГО-2023/7", dt.date(2027, 1, 1), status=ContractStatus.TERMINATED)
    contract_make(person.account, "ВДГО-2025/9", dt.date(2027, 3, 1))

    assert run_on(supplier, dt.date(2026, 11, 14)) == {}  # 61 days before
    run_on(supplier, dt.date(2026, 11, 16))  # 59 days before
    run_on(supplier, dt.date(2026, 11, 17))

    assert told() == [(person.user.username, Kind.CONTRACT_ENDING, f"contract:{ending.pk}:2027-01-14")]
    notification = Notification.objects.get()
    assert notification.title == "Договор № ВДГО-2024/118 заканчивается 14.01.2027"
    assert notification.body == (
        "Здравствуйте!\n\nДоговор № ВДГО-2024/118 по лицевому счёту 770000000001 "
        f"({ADDRESS}) действует по 14.01.2027 (осталось 59 дн.). Продлите его или заключите новый заранее.\n\n"
        f"{FOOTER}"
    )


def test_closed_accounts_inactive_users_and_unlinked_accounts_get_no_reminder_of_any_kind(
    supplier: Supplier,
) -> None:
    closed = subscriber_make(supplier, 1, status=AccountStatus.CLOSED, closed_on=dt.date(2026, 10, 31))
    inactive = subscriber_make(supplier, 2)
    User.objects.filter(pk=inactive.user.pk).update(is_active=False)
    unlinked = account_make(supplier=supplier, number="770000000003")
    for account in (closed.account, inactive.account, unlinked):
        meter_make(account=account, serial="0488888", verification_due_on=dt.date(2027, 1, 20))
        contract_make(account, "ВДГО-1", dt.date(2027, 1, 20))
        charge_post(account, SEPTEMBER, "800.00")
        bill(account, OCTOBER, "900.00")
    BillingPeriod.objects.create(supplier=supplier, period=OCTOBER, closed_at=local(dt.date(2026, 11, 3), 9))

    for number in (3, 12, 15, 20, 25):  # the bill, the due date, the window, the debt, the last day
        assert run_on(supplier, dt.date(2026, 11, number)) == {}, number

    assert told() == []
    assert Delivery.objects.count() == 0
    assert ReminderRun.objects.count() == 5
