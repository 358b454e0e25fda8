"""The notification centre: the user's own messages shown in the portal, newest first, with
unread marks; marking read only what is theirs."""

from __future__ import annotations

import datetime as dt

import pytest

from abonent.identity.models import User
from abonent.notifications.enums import Kind
from abonent.notifications.models import Notification
from abonent.notifications.selectors import notification_get, notifications_list, notifications_unread_count
from abonent.notifications.services import NotificationNotFound, notifications_mark_read
from tests.web.identity import user_make

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def user(db: None) -> User:
    return user_make(email="maria@example.org")


@pytest.fixture
def other(db: None) -> User:
    return user_make(phone="+79160000002", email="other@example.org")


def note(user: User, n: int, *, in_portal: bool = True) -> Notification:
    return Notification.objects.create(
        user=user,
        kind=Kind.READINGS_OPEN,
        occasion=f"test:{n}",
        title=f"Сообщение {n}",
        body="Текст",
        in_portal=in_portal,
        created_at=NOW + dt.timedelta(minutes=n),
    )


def read_marks() -> list[tuple[str, dt.datetime | None]]:
    return list(Notification.objects.order_by("pk").values_list("occasion", "read_at"))


def test_the_centre_lists_the_user_s_own_portal_messages_newest_first_in_pages(user: User, other: User) -> None:
    mine = [note(user, n) for n in range(5)]
    note(user, 5, in_portal=False)  # told by e-mail only: not in the centre
    note(other, 6)

    assert [n.pk for n in notifications_list(user=user)] == [n.pk for n in reversed(mine)]
    first_page = list(notifications_list(user=user, limit=2))
    assert [n.title for n in first_page] == ["Сообщение 4", "Сообщение 3"]
    assert [n.title for n in notifications_list(user=user, limit=2, before_id=first_page[-1].pk)] == [
        "Сообщение 2",
        "Сообщение 1",
    ]
    assert notifications_unread_count(user=user) == 5
    assert notification_get(user=user, notification_id=mine[0].pk) == mine[0]


def test_marking_some_read_and_then_all(user: User, other: User) -> None:
    first, second, third = note(user, 1), note(user, 2), note(user, 3)
    theirs = note(other, 4)

    assert notifications_mark_read(user=user, notification_ids=[first.pk, third.pk], now=NOW) == 2
    assert notifications_mark_read(user=user, notification_ids=[first.pk], now=NOW + dt.timedelta(hours=1)) == 0

    assert read_marks() == [("test:1", NOW), ("test:2", None), ("test:3", NOW), ("test:4", None)]
    assert notifications_unread_count(user=user) == 1
    assert [n.pk for n in notifications_list(user=user, unread_only=True)] == [second.pk]

    assert notifications_mark_read(user=user, now=NOW + dt.timedelta(hours=2)) == 1
    assert read_marks() == [
        ("test:1", NOW),
        ("test:2", NOW + dt.timedelta(hours=2)),
        ("test:3", NOW),
        ("test:4", None),
    ]
    assert notifications_unread_count(user=other) == 1
    assert theirs.read_at is None


def test_another_user_s_notification_is_not_found_and_nothing_is_marked(user: User, other: User) -> None:
    mine = note(user, 1)
    theirs = note(other, 2)

    for ids in ([theirs.pk], [mine.pk, theirs.pk], [mine.pk, theirs.pk + 100]):
        with pytest.raises(NotificationNotFound) as error:
            notifications_mark_read(user=user, notification_ids=ids, now=NOW)
        assert (error.value.code, error.value.text) == ("notification_not_found", "Уведомление не найдено")

    assert read_marks() == [("test:1", None), ("test:2", None)]
    with pytest.raises(NotificationNotFound):
        notification_get(user=user, notification_id=theirs.pk)


def test_a_message_outside_the_centre_is_not_shown_by_its_id(user: User) -> None:
    hidden = note(user, 1, in_portal=False)

    with pytest.raises(NotificationNotFound):
        notification_get(user=user, notification_id=hidden.pk)
    assert notifications_unread_count(user=user) == 0
