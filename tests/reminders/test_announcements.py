"""Operators' announcements: to all subscribers of a supplier or of an area (a locality, a
street, in any letter case), each user once, by their preferences — a safety notice by
every channel they have, at any hour."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from abonent.core.errors import ValidationFailed
from abonent.core.models import AuditRecord, Supplier
from abonent.customers.enums import AccountStatus
from abonent.identity.models import User
from abonent.notifications.enums import Channel, Kind
from abonent.notifications.models import Delivery, Notification
from abonent.notifications.services import preferences_set
from abonent.reminders.enums import AnnouncementStatus
from abonent.reminders.models import Announcement
from abonent.reminders.services import (
    AnnouncementAlreadySent,
    AnnouncementNotFound,
    announcement_create,
    announcement_deliver,
    announcement_send,
)
from tests.reminders.conftest import local, sent, subscriber_make
from tests.web.identity import user_make

pytestmark = pytest.mark.django_db

Capture = Callable[..., AbstractContextManager[Any]]
DAY = dt.date(2026, 11, 23)
E, S, P, W = Channel.EMAIL, Channel.SMS, Channel.PUSH, Channel.PORTAL
TEXT = "24.11.2026 с 9:00 до 17:00 плановые работы на газопроводе, подача газа будет прекращена."


@pytest.fixture
def operator(db: None) -> User:
    return user_make(phone=None, email="operator@gaz-msk.example", is_staff=True)


@pytest.fixture
def town(supplier: Supplier, kaliningrad: Supplier) -> dict[str, Any]:
    """Subscribers of Подольск (Садовая and Ленина), of Климовск, one with two accounts on
    Садовая, and those an announcement never reaches."""
    return {
        "sadovaya": subscriber_make(supplier, 1, device=True),
        "lenina": subscriber_make(supplier, 2, street="ул. Ленина"),
        "klimovsk": subscriber_make(supplier, 3, locality="г. Климовск", street="ул. Садовая"),
        "two_accounts": (two := subscriber_make(supplier, 4)),
        "two_accounts_again": subscriber_make(supplier, 5, user=two.user, apartment="35"),
        "closed": subscriber_make(supplier, 6, status=AccountStatus.CLOSED, closed_on=dt.date(2026, 10, 1)),
        "inactive": subscriber_make(supplier, 7),
        "elsewhere": subscriber_make(kaliningrad, 8),
    }


def draft(supplier: Supplier, actor: User, **fields: Any) -> Announcement:
    values: dict[str, Any] = {"title": "Плановые работы 24.11", "text": TEXT, **fields}
    return announcement_create(supplier=supplier, actor=actor, now=local(DAY, 10), **values)


def usernames(*people: Any) -> list[str]:
    return sorted(p.user.username for p in people)


def told_users() -> list[str]:
    return sorted(Notification.objects.values_list("user__username", flat=True))


@pytest.fixture(autouse=True)
def _inactive(town: dict[str, Any]) -> None:
    User.objects.filter(pk=town["inactive"].user.pk).update(is_active=False)


def test_an_announcement_to_a_street_reaches_its_subscribers_once_whatever_the_letter_case(
    supplier: Supplier, operator: User, town: dict[str, Any]
) -> None:
    announcement = draft(supplier, operator, locality="  Г. ПОДОЛЬСК ", street="ул.   садовая")
    assert (announcement.locality, announcement.street) == ("Г. ПОДОЛЬСК", "ул. садовая")
    announcement_send(announcement_id=announcement.pk, actor=operator, now=local(DAY, 10, 5), channel="backoffice")

    done = announcement_deliver(announcement_id=announcement.pk, now=local(DAY, 10, 6))

    assert told_users() == usernames(town["sadovaya"], town["two_accounts"])
    assert set(Notification.objects.values_list("kind", "occasion", "account_id", "title")) == {
        (Kind.ANNOUNCEMENT, f"announcement:{announcement.pk}", None, "Плановые работы 24.11")
    }
    notification = Notification.objects.get(user=town["sadovaya"].user)
    assert notification.body == f"{TEXT}\n\nГазпром межрегионгаз Москва, горячая линия 8 800 100-00-01"
    moment = local(DAY, 10, 6)
    assert sent() == [
        (E, Kind.ANNOUNCEMENT, "user1@example.org", moment),
        (P, Kind.ANNOUNCEMENT, "fcm-token-1", moment),
        (E, Kind.ANNOUNCEMENT, "user4@example.org", moment),
    ]
    assert Delivery.objects.get(channel=P).body == "Плановые работы 24.11"
    assert (done.status, done.finished_at, done.summary) == (
        AnnouncementStatus.SENT,
        moment,
        {"notified": 2, "repeated": 0, E: 2, P: 1},
    )


def test_an_announcement_to_a_locality_and_to_the_whole_supplier(
    supplier: Supplier, operator: User, town: dict[str, Any]
) -> None:
    podolsk = draft(supplier, operator, locality="г. подольск")
    everyone = draft(supplier, operator, title="Новый номер горячей линии")
    for announcement in (podolsk, everyone):
        announcement_send(announcement_id=announcement.pk, actor=operator, now=local(DAY, 10, 5), channel="backoffice")
        announcement_deliver(announcement_id=announcement.pk, now=local(DAY, 10, 6))

    by_announcement = {
        a.pk: sorted(
            Notification.objects.filter(occasion=f"announcement:{a.pk}").values_list("user__username", flat=True)
        )
        for a in (podolsk, everyone)
    }
    assert by_announcement == {
        podolsk.pk: usernames(town["sadovaya"], town["lenina"], town["two_accounts"]),
        everyone.pk: usernames(town["sadovaya"], town["lenina"], town["klimovsk"], town["two_accounts"]),
    }


def test_an_announcement_follows_the_preferences(supplier: Supplier, operator: User, town: dict[str, Any]) -> None:
    preferences_set(
        user=town["sadovaya"].user,
        choices={(Kind.ANNOUNCEMENT, E): False, (Kind.ANNOUNCEMENT, P): False, (Kind.ANNOUNCEMENT, W): False},
        now=local(DAY, 9),
    )
    preferences_set(user=town["lenina"].user, choices={(Kind.ANNOUNCEMENT, S): True}, now=local(DAY, 9))
    announcement = draft(supplier, operator, locality="г. Подольск")
    announcement_send(announcement_id=announcement.pk, actor=operator, now=local(DAY, 10, 5), channel="backoffice")

    announcement_deliver(announcement_id=announcement.pk, now=local(DAY, 10, 6))

    moment = local(DAY, 10, 6)
    assert sent() == [
        (E, Kind.ANNOUNCEMENT, "user2@example.org", moment),
        (S, Kind.ANNOUNCEMENT, "+79160000002", moment),
        (E, Kind.ANNOUNCEMENT, "user4@example.org", moment),
    ]
    assert dict(Notification.objects.values_list("user_id", "in_portal")) == {
        town["sadovaya"].user.pk: False,
        town["lenina"].user.pk: True,
        town["two_accounts"].user.pk: True,
    }


def test_a_safety_notice_goes_by_every_channel_at_night_whatever_the_preferences(
    supplier: Supplier, operator: User, town: dict[str, Any]
) -> None:
    preferences_set(
        user=town["sadovaya"].user,
        choices={(Kind.ANNOUNCEMENT, E): False, (Kind.ANNOUNCEMENT, P): False, (Kind.ANNOUNCEMENT, W): False},
        now=local(DAY, 9),
    )
    notice = draft(
        supplier,
        operator,
        title="Утечка газа на ул. Садовой",
        locality="г. Подольск",
        street="ул. Садовая",
        safety=True,
    )
    night = local(DAY, 23, 40)
    announcement_send(announcement_id=notice.pk, actor=operator, now=night, channel="backoffice")

    announcement_deliver(announcement_id=notice.pk, now=night)

    assert set(Notification.objects.values_list("kind", "in_portal")) == {(Kind.SAFETY_NOTICE, True)}
    assert sent() == [
        (E, Kind.SAFETY_NOTICE, "user1@example.org", night),
        (P, Kind.SAFETY_NOTICE, "fcm-token-1", night),
        (S, Kind.SAFETY_NOTICE, "+79160000001", night),
        (E, Kind.SAFETY_NOTICE, "user4@example.org", night),
        (S, Kind.SAFETY_NOTICE, "+79160000004", night),
    ]
    assert set(Delivery.objects.values_list("limited", flat=True)) == {False}
    assert Delivery.objects.get(channel=S, recipient="+79160000001").body == f"Утечка газа на ул. Садовой: {TEXT}"
    assert Notification.objects.filter(user=town["sadovaya"].user).get().body == (
        f"{TEXT}\n\nГазпром межрегионгаз Москва, аварийная служба 104"
    )


def test_a_sent_announcement_is_marked_at_once_audited_and_delivered_by_its_job(
    supplier: Supplier,
    operator: User,
    town: dict[str, Any],
    held_clock: Any,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    announcement = draft(supplier, operator, locality="г. Климовск")
    held_clock.at = local(DAY, 10, 7)

    with django_capture_on_commit_callbacks(execute=True):
        sending = announcement_send(
            announcement_id=announcement.pk, actor=operator, now=local(DAY, 10, 5), channel="backoffice"
        )

    assert (sending.status, sending.sent_by, sending.sent_at) == (
        AnnouncementStatus.SENDING,
        operator,
        local(DAY, 10, 5),
    )
    announcement.refresh_from_db()
    assert (announcement.status, announcement.finished_at, announcement.summary) == (
        AnnouncementStatus.SENT,
        local(DAY, 10, 7),
        {"notified": 1, "repeated": 0, E: 1},
    )
    assert told_users() == usernames(town["klimovsk"])
    record = AuditRecord.objects.get(action="announcement.send")
    assert (record.actor_id, record.channel, record.object_id, record.before, record.after) == (
        operator.pk,
        "backoffice",
        str(announcement.pk),
        {"status": "draft"},
        {"status": "sending", "safety": False},
    )


def test_an_announcement_is_sent_once(supplier: Supplier, operator: User, town: dict[str, Any]) -> None:
    announcement = draft(supplier, operator, locality="г. Климовск")
    announcement_send(announcement_id=announcement.pk, actor=operator, now=local(DAY, 10, 5), channel="backoffice")
    announcement_deliver(announcement_id=announcement.pk, now=local(DAY, 10, 6))

    with pytest.raises(AnnouncementAlreadySent) as error:
        announcement_send(announcement_id=announcement.pk, actor=operator, now=local(DAY, 10, 8), channel="backoffice")
    announcement_deliver(announcement_id=announcement.pk, now=local(DAY, 10, 9))  # the job again: nothing

    assert error.value.text == "Объявление уже разослано"
    assert Notification.objects.count() == 1
    assert Delivery.objects.count() == 1
    assert AuditRecord.objects.filter(action="announcement.send").count() == 1


def test_a_delivery_that_died_half_way_tells_only_the_rest_when_run_again(
    supplier: Supplier, operator: User, town: dict[str, Any]
) -> None:
    announcement = draft(supplier, operator)
    announcement_send(announcement_id=announcement.pk, actor=operator, now=local(DAY, 10, 5), channel="backoffice")
    announcement_deliver(announcement_id=announcement.pk, now=local(DAY, 10, 6), size=2)
    # as if it had died after the first batch: still sending, the first two told
    Notification.objects.exclude(
        pk__in=list(Notification.objects.order_by("pk").values_list("pk", flat=True)[:2])
    ).delete()
    Announcement.objects.filter(pk=announcement.pk).update(status=AnnouncementStatus.SENDING)

    done = announcement_deliver(announcement_id=announcement.pk, now=local(DAY, 10, 30), size=2)

    assert Notification.objects.count() == 4
    assert list(Notification.objects.order_by("pk").values_list("created_at", flat=True)) == [
        local(DAY, 10, 6),
        local(DAY, 10, 6),
        local(DAY, 10, 30),
        local(DAY, 10, 30),
    ]
    assert (done.status, done.summary["notified"], done.summary["repeated"]) == (AnnouncementStatus.SENT, 2, 2)


def test_a_missing_announcement(operator: User) -> None:
    with pytest.raises(AnnouncementNotFound):
        announcement_send(announcement_id=404, actor=operator, now=local(DAY, 10), channel="backoffice")
    with pytest.raises(AnnouncementNotFound):
        announcement_deliver(announcement_id=404, now=local(DAY, 10))


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"title": "  ", "text": "\n"},
            {
                "title": ["Напишите заголовок: его видно в push-уведомлении и в списке"],
                "text": ["Напишите текст объявления"],
            },
        ),
        ({"title": "З" * 121}, {"title": ["Заголовок — до 120 символов"]}),
        ({"text": "т" * 2001}, {"text": ["Текст — до 2000 символов"]}),
        ({"street": "ул. Садовая"}, {"street": ["Улица указывается вместе с населённым пунктом"]}),
        ({"locality": "г" * 151}, {"locality": ["Не длиннее 150 символов"]}),
    ],
)
def test_a_bad_announcement_is_refused_and_nothing_is_written(
    supplier: Supplier, operator: User, fields: dict[str, str], errors: dict[str, list[str]]
) -> None:
    with pytest.raises(ValidationFailed) as error:
        draft(supplier, operator, **fields)

    assert error.value.errors == errors
    assert Announcement.objects.count() == 0
