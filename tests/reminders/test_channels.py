"""Which channels a reminder goes out on: the subscriber's preferences over the defaults, the
notices that cannot be switched off, only confirmed contacts and registered devices; SMS and
push of the night wait for the morning at the supplier's place; a recipient's limits defer a
message, never drop it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.core import mail

from abonent.core.models import Supplier
from abonent.identity.models import User
from abonent.notifications.enums import Channel, DeliveryStatus, Kind, Provider, PushPlatform
from abonent.notifications.models import Delivery, Notification, OutboxMessage
from abonent.notifications.services import (
    SweepSummary,
    deliveries_retry_due,
    preferences_set,
    push_device_register,
    quiet_until,
)
from abonent.reminders.services import reminders_run
from tests.factories import meter_make
from tests.reminders.conftest import KALININGRAD, MOSCOW, local, sent, subscriber_make

pytestmark = pytest.mark.django_db

Capture = Callable[..., AbstractContextManager[Any]]
LAST_DAY = dt.date(2026, 11, 25)  # the window's last day: e-mail, push and the portal by default
OPENS = dt.date(2026, 11, 15)  # the window opens: push and the portal by default
E, S, P, W = Channel.EMAIL, Channel.SMS, Channel.PUSH, Channel.PORTAL


def choose(user: User, kind: str, **channels: bool) -> None:
    preferences_set(user=user, choices={(kind, channel): on for channel, on in channels.items()}, now=local(OPENS, 8))


def run(supplier: Supplier, day: dt.date, hour: int = 11, minute: int = 0, *, force: bool = False) -> None:
    zone = KALININGRAD if supplier.time_zone == "Europe/Kaliningrad" else MOSCOW
    assert reminders_run(supplier=supplier, now=local(day, hour, minute, zone=zone), force=force) is not None


# --- Preferences, contacts, devices ---------------------------------------------------------


def test_the_defaults_of_each_kind_and_the_subscriber_s_changes_to_them(supplier: Supplier) -> None:
    default = subscriber_make(supplier, 1, device=True)
    no_email = subscriber_make(supplier, 2, device=True)
    choose(no_email.user, Kind.READINGS_LAST_DAY, email=False, portal=False)
    sms_too = subscriber_make(supplier, 3, device=True)
    choose(sms_too.user, Kind.READINGS_LAST_DAY, sms=True, push=False)
    nothing = subscriber_make(supplier, 4, device=True)
    choose(nothing.user, Kind.READINGS_LAST_DAY, email=False, push=False, portal=False)
    choose(nothing.user, Kind.READINGS_OPEN, email=True)  # another kind's choice changes nothing here

    run(supplier, LAST_DAY)

    moment = local(LAST_DAY, 11)
    assert sent() == [
        (E, Kind.READINGS_LAST_DAY, "user1@example.org", moment),
        (P, Kind.READINGS_LAST_DAY, "fcm-token-1", moment),
        (P, Kind.READINGS_LAST_DAY, "fcm-token-2", moment),
        (E, Kind.READINGS_LAST_DAY, "user3@example.org", moment),
        (S, Kind.READINGS_LAST_DAY, "+79160000003", moment),
    ]
    in_portal = dict(Notification.objects.values_list("user_id", "in_portal"))
    assert in_portal == {default.user.pk: True, no_email.user.pk: False, sms_too.user.pk: True, nothing.user.pk: False}
    sms = Delivery.objects.get(channel=S)
    assert (sms.subject, sms.body, sms.payload) == (
        "",
        "Сегодня, 25.11.2026, последний день приёма показаний газа по л/с 770000000003.",
        {},
    )


def test_no_confirmed_contact_means_no_e_mail_or_sms_whatever_the_preferences(supplier: Supplier) -> None:
    unconfirmed = subscriber_make(supplier, 1)
    User.objects.filter(pk=unconfirmed.user.pk).update(email_confirmed_at=None, phone_confirmed_at=None)
    no_contacts = subscriber_make(supplier, 2, email=False, phone=False)
    for person in (unconfirmed, no_contacts):
        choose(person.user, Kind.READINGS_LAST_DAY, email=True, sms=True)

    run(supplier, LAST_DAY)

    assert sent() == []
    assert list(Notification.objects.order_by("pk").values_list("user_id", "in_portal")) == [
        (unconfirmed.user.pk, True),
        (no_contacts.user.pk, True),
    ]


def test_push_goes_to_each_registered_device_of_the_user_and_to_no_other(supplier: Supplier) -> None:
    two_phones = subscriber_make(supplier, 1, device=True)
    push_device_register(
        user=two_phones.user, platform=PushPlatform.APNS, token="ab" * 32, name="iPad", now=local(OPENS, 9)
    )
    no_app = subscriber_make(supplier, 2)
    choose(no_app.user, Kind.READINGS_OPEN, push=True)

    run(supplier, OPENS)

    moment = local(OPENS, 11)
    assert sent() == [
        (P, Kind.READINGS_OPEN, "ab" * 32, moment),
        (P, Kind.READINGS_OPEN, "fcm-token-1", moment),
    ]


def test_a_user_with_two_accounts_is_told_of_each(supplier: Supplier) -> None:
    first = subscriber_make(supplier, 1, device=True)
    second = subscriber_make(supplier, 2, user=first.user)

    run(supplier, OPENS)

    assert list(Notification.objects.order_by("pk").values_list("account_id", flat=True)) == [
        first.account.pk,
        second.account.pk,
    ]
    assert [row[2] for row in sent()] == ["fcm-token-1", "fcm-token-1"]


# --- The night ---------------------------------------------------------------------------


@pytest.fixture
def night_owl(supplier: Supplier) -> Any:
    person = subscriber_make(supplier, 1, device=True)
    choose(person.user, Kind.READINGS_LAST_DAY, sms=True)
    return person


def test_sms_and_push_asked_for_at_night_wait_for_nine_in_the_morning_and_e_mail_goes_at_once(
    supplier: Supplier, night_owl: Any, held_clock: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    held_clock.at = night = local(LAST_DAY, 23, 30)
    with django_capture_on_commit_callbacks() as jobs:
        run(supplier, LAST_DAY, 23, 30, force=True)  # an operator's run late in the evening

    morning = local(LAST_DAY + dt.timedelta(days=1), 9)
    assert sent() == [
        (E, Kind.READINGS_LAST_DAY, "user1@example.org", night),
        (P, Kind.READINGS_LAST_DAY, "fcm-token-1", morning),
        (S, Kind.READINGS_LAST_DAY, "+79160000001", morning),
    ]
    assert len(jobs) == 1  # the job that sends what is due at once: the e-mail
    jobs[0]()
    assert [m.to for m in mail.outbox] == [["user1@example.org"]]
    assert mail.outbox[0].subject == "Сегодня последний день приёма показаний"
    assert list(Delivery.objects.order_by("pk").values_list("channel", "status", "attempts")) == [
        (E, DeliveryStatus.SENT, 1),
        (S, DeliveryStatus.PENDING, 0),
        (P, DeliveryStatus.PENDING, 0),
    ]
    assert OutboxMessage.objects.count() == 0

    assert deliveries_retry_due(now=morning - dt.timedelta(seconds=1)) == SweepSummary()
    held_clock.at = morning
    assert deliveries_retry_due(now=morning) == SweepSummary(sent=2)

    assert list(OutboxMessage.objects.order_by("pk").values_list("channel", "recipient", "subject", "body")) == [
        (S, "+79160000001", "", "Сегодня, 25.11.2026, последний день приёма показаний газа по л/с 770000000001."),
        (P, "fcm-token-1", "Сегодня последний день приёма показаний",
         "Сегодня, 25.11.2026, последний день приёма показаний газа по л/с 770000000001."),
    ]  # fmt: skip
    assert list(Delivery.objects.order_by("pk").values_list("status", "provider", "sent_at")) == [
        (DeliveryStatus.SENT, Provider.BACKEND, night),  # the test runner's e-mail backend
        (DeliveryStatus.SENT, Provider.OUTBOX, morning),
        (DeliveryStatus.SENT, Provider.OUTBOX, morning),
    ]


def test_early_in_the_morning_they_wait_until_nine_of_the_same_day(supplier: Supplier, night_owl: Any) -> None:
    run(supplier, LAST_DAY, 7, 15, force=True)

    nine = local(LAST_DAY, 9)
    assert [(row[0], row[3]) for row in sent()] == [(E, local(LAST_DAY, 7, 15)), (P, nine), (S, nine)]


def test_the_morning_is_the_supplier_s_own(kaliningrad: Supplier) -> None:
    person = subscriber_make(kaliningrad, 1, device=True)
    choose(person.user, Kind.READINGS_LAST_DAY, sms=True)

    run(kaliningrad, LAST_DAY, 8, 0, force=True)  # 08:00 in Kaliningrad is 09:00 in Moscow

    nine_there = local(LAST_DAY, 9, zone=KALININGRAD)
    assert nine_there == dt.datetime(2026, 11, 25, 7, 0, tzinfo=dt.UTC)
    assert [(row[0], row[3]) for row in sent()] == [
        (E, local(LAST_DAY, 8, zone=KALININGRAD)),
        (P, nine_there),
        (S, nine_there),
    ]


@pytest.mark.parametrize(
    ("hour", "minute", "waits_until"),
    [
        (8, 59, dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC)),
        (9, 0, None),
        (20, 59, None),
        (21, 0, dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC)),
        (0, 0, dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC)),
    ],
)
def test_the_quiet_hours_are_from_nine_in_the_evening_until_nine_in_the_morning(
    hour: int, minute: int, waits_until: dt.datetime | None
) -> None:
    assert quiet_until(now=local(LAST_DAY, hour, minute), time_zone="Europe/Moscow") == waits_until


# --- Limits ------------------------------------------------------------------------------


def test_a_fourth_sms_in_a_day_waits_for_the_next_day_instead_of_being_dropped(
    supplier: Supplier, held_clock: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    person = subscriber_make(supplier, 1, meter=False)
    for n in range(4):
        meter_make(account=person.account, serial=f"04000{n}", verification_due_on=dt.date(2027, 1, 10 + n))
    choose(person.user, Kind.METER_VERIFICATION, sms=True, email=False)
    held_clock.at = now = local(dt.date(2026, 11, 21), 11)  # 08:00 UTC

    with django_capture_on_commit_callbacks(execute=True):
        run(supplier, dt.date(2026, 11, 21))

    next_day = dt.datetime(2026, 11, 22, 0, 0, tzinfo=dt.UTC)  # the SMS limit's window is a day from midnight UTC
    rows = list(Delivery.objects.order_by("pk").values_list("status", "attempts", "next_attempt_at", "last_error"))
    assert rows == [
        (DeliveryStatus.SENT, 1, None, ""),
        (DeliveryStatus.SENT, 1, None, ""),
        (DeliveryStatus.SENT, 1, None, ""),
        (
            DeliveryStatus.PENDING,
            0,
            next_day,
            "У получателя исчерпан лимит сообщений, отправка отложена до 2026-11-22T00:00+00:00",
        ),
    ]
    assert OutboxMessage.objects.filter(channel=S).count() == 3
    assert Delivery.objects.filter(channel=S).order_by("pk").last().body.startswith("Поверка счётчика газа № 040003")  # type: ignore[union-attr]

    held_clock.at = next_day
    assert deliveries_retry_due(now=now + dt.timedelta(hours=1)) == SweepSummary()
    assert deliveries_retry_due(now=next_day) == SweepSummary(sent=1)
    assert OutboxMessage.objects.filter(channel=S).count() == 4


def test_notices_that_are_not_limited_go_out_beyond_the_limit(
    supplier: Supplier, held_clock: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    from abonent.notifications.services import Occasion, Recipient, notify_many

    person = subscriber_make(supplier, 1, meter=False)
    recipient = Recipient(user_id=person.user.pk, phone="+79160000001")
    held_clock.at = now = local(dt.date(2026, 11, 21), 11)
    occasions = [
        Occasion(recipient=recipient, key=f"debt_notice:{person.account.pk}:test-{n}", values={"amount": "1 ₽"})
        for n in range(5)
    ]

    with django_capture_on_commit_callbacks(execute=True):
        notify_many(kind=Kind.DEBT_NOTICE, occasions=occasions, supplier=supplier, now=now)

    assert list(Delivery.objects.values_list("channel", "limited", "status").order_by().distinct()) == [
        (S, False, DeliveryStatus.SENT)
    ]
    assert OutboxMessage.objects.filter(channel=S).count() == 5
