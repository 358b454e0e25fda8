"""The notification centre through the API: the user's messages newest first in cursor pages,
only the unread ones, the unread count for the badge, one message, marking some or all read;
and nobody reads or marks another user's messages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from abonent.core.models import Supplier
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.identity.models import User
from abonent.identity.services import app_session_start
from abonent.notifications.models import Notification
from abonent.notifications.services import Recipient, notify
from tests.api.conftest import NOW, Api, FakeClock, problem
from tests.factories import account_make
from tests.web.identity import user_make

pytestmark = pytest.mark.django_db

READ_AT = NOW - dt.timedelta(hours=1)


def token_of(user: User) -> str:
    return app_session_start(user=user, device_name="Pixel 8", user_agent="", ip=None, now=NOW).access_token


@pytest.fixture
def maria(clock: FakeClock) -> User:
    return user_make(phone="+79123456789", first_name="Мария")


@pytest.fixture
def token(maria: User) -> str:
    return token_of(maria)


@pytest.fixture
def stranger(clock: FakeClock) -> User:
    return user_make(phone="+79160000002", first_name="Пётр")


@pytest.fixture
def home(supplier: Supplier, maria: User) -> PersonalAccount:
    account = account_make(supplier=supplier)
    AccountLink.objects.create(user=maria, account=account, proof="pin", channel="web", linked_at=NOW)
    return account


def note(
    user: User,
    title: str,
    *,
    days_ago: int = 0,
    kind: str = "announcement",
    account: PersonalAccount | None = None,
    read_at: dt.datetime | None = None,
    in_portal: bool = True,
) -> Notification:
    """A message of the user's centre, made ``days_ago`` days before NOW."""
    return Notification.objects.create(
        user=user,
        kind=kind,
        occasion=f"test:{title}",
        title=title,
        body=f"Текст: {title}",
        account_id=account.pk if account else None,
        in_portal=in_portal,
        created_at=NOW - dt.timedelta(days=days_ago),
        read_at=read_at,
    )


def body(item: Notification, *, account_id: int | None = None) -> dict[str, Any]:
    read_at = None if item.read_at is None else item.read_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "id": item.pk,
        "kind": item.kind,
        "title": item.title,
        "body": item.body,
        "created_at": item.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "read": item.read_at is not None,
        "read_at": read_at,
        "account_id": account_id,
    }


def read_marks() -> list[tuple[int, dt.datetime | None]]:
    """Every message's read mark, to compare before and after a refused request."""
    return list(Notification.objects.order_by("pk").values_list("pk", "read_at"))


# --- The list --------------------------------------------------------------------------


class TestList:
    def test_the_users_own_newest_first_with_the_unread_count(
        self, api: Api, token: str, maria: User, stranger: User, home: PersonalAccount, supplier: Supplier
    ) -> None:
        # an account that is no longer hers: the message stays, without the account
        gone = account_make(supplier=supplier, number="770000000002")
        old = note(maria, "О счёте, который отвязан", days_ago=3, kind="debt", account=gone)
        bill = note(maria, "Новая квитанция за октябрь", days_ago=2, kind="bill_ready", account=home)
        answer = note(maria, "Ответ на обращение", days_ago=1, kind="appeal_update", read_at=READ_AT)
        works = note(maria, "Плановые работы 25 ноября")
        note(maria, "Только SMS", in_portal=False)  # the portal was switched off for it
        note(stranger, "Чужое уведомление")

        response = api.get("/notifications", token=token)

        assert response.status_code == 200
        assert response.json() == {
            "items": [body(works), body(answer), body(bill, account_id=home.pk), body(old)],
            "next_cursor": None,
            "unread_count": 3,
        }
        assert response.json()["items"][1] == {
            "id": answer.pk,
            "kind": "appeal_update",
            "title": "Ответ на обращение",
            "body": "Текст: Ответ на обращение",
            "created_at": "2026-11-21T10:00:00Z",
            "read": True,
            "read_at": "2026-11-22T09:00:00Z",
            "account_id": None,
        }
        assert "Чужое" not in response.content.decode()

    def test_a_message_the_reminders_sent(self, api: Api, token: str, maria: User, supplier: Supplier) -> None:
        notify(
            kind="safety_notice",
            recipient=Recipient(user_id=maria.pk, phone="+79123456789"),
            key="safety:1",
            values={"title": "Запах газа", "text": "Звоните 104"},
            supplier=supplier,
            now=NOW,
        )
        item = Notification.objects.get()

        response = api.get("/notifications", token=token)

        assert response.json() == {"items": [body(item)], "next_cursor": None, "unread_count": 1}
        assert "Запах газа" in item.title + item.body

    def test_none(self, api: Api, token: str) -> None:
        assert api.get("/notifications", token=token).json() == {"items": [], "next_cursor": None, "unread_count": 0}

    def test_in_pages_by_the_cursor(self, api: Api, token: str, maria: User) -> None:
        items = [note(maria, f"Сообщение {n}", days_ago=10 - n) for n in range(5)]  # the last is the newest

        first = api.get("/notifications?limit=2", token=token).json()
        second = api.get(f"/notifications?limit=2&cursor={first['next_cursor']}", token=token).json()
        last = api.get(f"/notifications?limit=2&cursor={second['next_cursor']}", token=token).json()

        assert [i["id"] for i in first["items"]] == [items[4].pk, items[3].pk]
        assert [i["id"] for i in second["items"]] == [items[2].pk, items[1].pk]
        assert last == {"items": [body(items[0])], "next_cursor": None, "unread_count": 5}
        assert first["next_cursor"] is not None
        assert second["next_cursor"] is not None

    def test_a_page_that_ends_the_list_has_no_cursor(self, api: Api, token: str, maria: User) -> None:
        note(maria, "Одно")
        note(maria, "Другое")

        assert api.get("/notifications?limit=2", token=token).json()["next_cursor"] is None

    def test_only_the_unread_and_reading_while_paging(self, api: Api, token: str, maria: User) -> None:
        items = [note(maria, f"Сообщение {n}", days_ago=10 - n) for n in range(5)]
        items[3].read_at = READ_AT
        items[3].save()

        first = api.get("/notifications?unread_only=true&limit=2", token=token).json()
        # the app marks what it showed read, then asks for more
        api.post("/notifications/read", {"ids": [i["id"] for i in first["items"]]}, token=token)
        second = api.get(f"/notifications?unread_only=true&limit=2&cursor={first['next_cursor']}", token=token).json()

        assert [i["id"] for i in first["items"]] == [items[4].pk, items[2].pk]
        assert first["unread_count"] == 4
        assert [i["id"] for i in second["items"]] == [items[1].pk, items[0].pk]
        assert (second["next_cursor"], second["unread_count"]) == (None, 2)

    @pytest.mark.parametrize(
        ("query", "code", "errors"),
        [
            ("cursor=not-a-cursor", "cursor_invalid", None),
            ("cursor=eyJhZnRlciI6MH0", "cursor_invalid", None),  # {"after":0}
            ("limit=0", "validation_failed", [("limit", "Ожидается число не меньше 1")]),
            ("limit=101", "validation_failed", [("limit", "Ожидается число не больше 100")]),
            ("unread_only=maybe", "validation_failed", [("unread_only", "Ожидается true или false")]),
        ],
    )
    def test_bad_query(
        self, api: Api, token: str, maria: User, query: str, code: str, errors: list[tuple[str, str]] | None
    ) -> None:
        note(maria, "Одно")

        response = api.get(f"/notifications?{query}", token=token)

        assert response.status_code == 422
        answer = problem(response)
        assert answer["code"] == code
        if errors is not None:
            assert [(e["field"], e["message"]) for e in answer["errors"]] == errors
        else:
            assert [e["field"] for e in answer["errors"]] == ["cursor"]

    def test_a_cursor_naming_another_users_message(self, api: Api, token: str, maria: User, stranger: User) -> None:
        note(maria, "Моё")
        for n in range(3):
            note(stranger, f"Чужое {n}", days_ago=n)
        cursor = api.get("/notifications?limit=1", token=token_of(stranger)).json()["next_cursor"]
        assert cursor is not None

        response = api.get(f"/notifications?cursor={cursor}", token=token)

        assert response.status_code == 422
        assert problem(response)["code"] == "cursor_invalid"
        assert "Чужое" not in response.content.decode()


class TestUnreadCount:
    def test_only_the_users_unread_in_the_centre(self, api: Api, token: str, maria: User, stranger: User) -> None:
        note(maria, "Первое")
        note(maria, "Второе")
        note(maria, "Прочитанное", read_at=READ_AT)
        note(maria, "Не в кабинете", in_portal=False)
        note(stranger, "Чужое")

        response = api.get("/notifications/unread-count", token=token)

        assert response.status_code == 200
        assert response.json() == {"unread_count": 2}


# --- One message ---------------------------------------------------------------------------


class TestGet:
    def test_one_and_it_stays_unread(self, api: Api, token: str, maria: User, home: PersonalAccount) -> None:
        item = note(maria, "Новая квитанция", kind="bill_ready", account=home)

        response = api.get(f"/notifications/{item.pk}", token=token)

        assert response.status_code == 200
        assert response.json() == {
            "id": item.pk,
            "kind": "bill_ready",
            "title": "Новая квитанция",
            "body": "Текст: Новая квитанция",
            "created_at": "2026-11-22T10:00:00Z",
            "read": False,
            "read_at": None,
            "account_id": home.pk,
        }
        assert read_marks() == [(item.pk, None)]

    def test_another_users_or_none_is_not_found(self, api: Api, token: str, maria: User, stranger: User) -> None:
        theirs = note(stranger, "Чужое уведомление")
        hidden = note(maria, "Не в кабинете", in_portal=False)

        for item_id in (theirs.pk, hidden.pk, theirs.pk + 1000):
            response = api.get(f"/notifications/{item_id}", token=token)

            assert response.status_code == 404
            answer = problem(response)
            assert (answer["code"], answer["detail"]) == ("notification_not_found", "Уведомление не найдено")
            assert "Чужое" not in response.content.decode()

    @pytest.mark.parametrize(
        ("path", "message"),
        [("0", "Ожидается число не меньше 1"), ("bell", "Ожидается целое число")],
    )
    def test_an_id_that_is_not_an_id(self, api: Api, token: str, path: str, message: str) -> None:
        response = api.get(f"/notifications/{path}", token=token)

        assert response.status_code == 422
        assert problem(response)["errors"] == [{"field": "notification_id", "message": message}]


# --- Marking read ----------------------------------------------------------------------


class TestRead:
    def test_the_ones_named(self, api: Api, token: str, maria: User) -> None:
        first, second, third = (note(maria, f"Сообщение {n}") for n in range(3))
        earlier = note(maria, "Прочитано раньше", read_at=READ_AT)

        response = api.post("/notifications/read", {"ids": [first.pk, earlier.pk, first.pk, third.pk]}, token=token)

        assert response.status_code == 200
        assert response.json() == {"marked": 2, "unread_count": 1}
        assert read_marks() == [(first.pk, NOW), (second.pk, None), (third.pk, NOW), (earlier.pk, READ_AT)]

    def test_all_of_them(self, api: Api, token: str, maria: User, stranger: User) -> None:
        first, second = note(maria, "Первое"), note(maria, "Второе")
        earlier = note(maria, "Прочитано раньше", read_at=READ_AT)
        theirs = note(stranger, "Чужое")

        response = api.post("/notifications/read", {}, token=token)
        again = api.post("/notifications/read", {"ids": None}, token=token)

        assert response.status_code == again.status_code == 200
        assert response.json() == {"marked": 2, "unread_count": 0}
        assert again.json() == {"marked": 0, "unread_count": 0}
        assert read_marks() == [(first.pk, NOW), (second.pk, NOW), (earlier.pk, READ_AT), (theirs.pk, None)]

    def test_an_empty_list_marks_nothing(self, api: Api, token: str, maria: User) -> None:
        item = note(maria, "Первое")

        response = api.post("/notifications/read", {"ids": []}, token=token)

        assert response.json() == {"marked": 0, "unread_count": 1}
        assert read_marks() == [(item.pk, None)]

    def test_another_users_message_marks_nothing(self, api: Api, token: str, maria: User, stranger: User) -> None:
        mine = note(maria, "Моё")
        theirs = note(stranger, "Чужое уведомление")
        before = read_marks()

        for ids in ([theirs.pk], [mine.pk, theirs.pk], [mine.pk, theirs.pk + 1000]):
            response = api.post("/notifications/read", {"ids": ids}, token=token)

            assert response.status_code == 404
            assert problem(response)["code"] == "notification_not_found"
            assert "Чужое" not in response.content.decode()
            assert read_marks() == before

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            ({"ids": "all"}, [("ids", "Ожидается список JSON")]),
            ({"ids": ["1"]}, [("ids.0", "Ожидается целое число")]),
            ({"ids": [1.5]}, [("ids.0", "Ожидается целое число")]),
            ({"ids": [0]}, [("ids.0", "Ожидается число не меньше 1")]),
            ({"ids": [2**63]}, [("ids.0", f"Ожидается число не больше {2**63 - 1}")]),
            ({"ids": list(range(1, 102))}, [("ids", "Слишком много элементов: не больше 100")]),
            ({"all": True}, [("all", "Неизвестное поле: уберите его")]),
        ],
    )
    def test_bad_input_marks_nothing(
        self, api: Api, token: str, maria: User, body: dict[str, Any], errors: list[tuple[str, str]]
    ) -> None:
        note(maria, "Первое")
        before = read_marks()

        response = api.post("/notifications/read", body, token=token)

        assert response.status_code == 422
        answer = problem(response)
        assert answer["code"] == "validation_failed"
        assert [(e["field"], e["message"]) for e in answer["errors"]] == errors
        assert read_marks() == before

    def test_no_body_at_all(self, api: Api, token: str, maria: User) -> None:
        """Marking all is asked for with ``{}``: an empty request is more likely a mistake."""
        note(maria, "Первое")

        response = api.call("POST", "/notifications/read", token=token)

        assert response.status_code == 422
        assert problem(response)["errors"] == [{"field": "body", "message": "Обязательное поле: заполните его"}]
        assert read_marks()[0][1] is None

    def test_not_json(self, api: Api, token: str, maria: User) -> None:
        note(maria, "Первое")

        response = api.call("POST", "/notifications/read", raw="ids=1", token=token)

        assert response.status_code == 400
        assert problem(response)["code"] == "invalid_json"
        assert read_marks()[0][1] is None


# --- Without a token ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/notifications", None),
        ("GET", "/notifications/unread-count", None),
        ("GET", "/notifications/1", None),
        ("POST", "/notifications/read", {}),
    ],
)
def test_without_a_token(api: Api, maria: User, method: str, path: str, body: Any) -> None:
    item = note(maria, "Первое")

    for token in (None, "not-a-token"):
        response = api.call(method, path.replace("/1", f"/{item.pk}"), body, token=token)

        assert response.status_code == 401
        assert problem(response)["code"] == ("not_authenticated" if token is None else "invalid_token")
    assert read_marks() == [(item.pk, None)]
