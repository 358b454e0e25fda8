"""Devices for push notifications through the API: registering the token the app got from FCM
or APNs (again after every login), the list, removing one by its id or by its token; bad
tokens refused with nothing stored, and nobody reaches another user's devices."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from abonent.identity.models import User
from abonent.identity.services import app_session_start
from abonent.notifications.models import PushDevice
from tests.api.conftest import NOW, Api, FakeClock, problem
from tests.web.identity import user_make

pytestmark = pytest.mark.django_db

FCM_TOKEN = "dQw4w9WgXcQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx_Pixel8"
APNS_TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90" * 2
LATER = NOW + dt.timedelta(minutes=10)  # the access token lives 15 minutes


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


def devices() -> list[tuple[int, str, str, str, dt.datetime, dt.datetime]]:
    """Every device there is, to compare before and after a refused request."""
    return list(
        PushDevice.objects.order_by("pk").values_list(
            "user_id", "platform", "token", "name", "created_at", "last_seen_at"
        )
    )


def device_body(device: PushDevice, *, created_at: str = "2026-11-22T10:00:00Z", **changes: Any) -> dict[str, Any]:
    return {
        "id": device.pk,
        "platform": device.platform,
        "name": device.name,
        "token_suffix": device.token[-8:],
        "created_at": created_at,
        "last_seen_at": created_at,
        **changes,
    }


# --- Registering ----------------------------------------------------------------------


class TestRegister:
    def test_an_android_phone(self, api: Api, token: str, maria: User) -> None:
        response = api.post("/push-devices", {"platform": "fcm", "token": FCM_TOKEN, "name": "Pixel 8"}, token=token)

        assert response.status_code == 201
        device = PushDevice.objects.get()
        assert response.json() == {
            "id": device.pk,
            "platform": "fcm",
            "name": "Pixel 8",
            "token_suffix": "x_Pixel8",
            "created_at": "2026-11-22T10:00:00Z",
            "last_seen_at": "2026-11-22T10:00:00Z",
        }
        assert devices() == [(maria.pk, "fcm", FCM_TOKEN, "Pixel 8", NOW, NOW)]

    def test_an_iphone_without_a_name(self, api: Api, token: str, maria: User) -> None:
        response = api.post("/push-devices", {"platform": "apns", "token": f"  {APNS_TOKEN} "}, token=token)

        assert response.status_code == 201
        assert response.json()["token_suffix"] == "6d7e8f90"
        assert devices() == [(maria.pk, "apns", APNS_TOKEN, "", NOW, NOW)]

    def test_again_after_a_login_is_the_same_device(self, api: Api, token: str, maria: User, clock: FakeClock) -> None:
        first = api.post("/push-devices", {"platform": "fcm", "token": FCM_TOKEN, "name": "Pixel 8"}, token=token)
        clock.current = LATER

        again = api.post("/push-devices", {"platform": "fcm", "token": FCM_TOKEN}, token=token)
        renamed = api.post("/push-devices", {"platform": "fcm", "token": FCM_TOKEN, "name": "Pixel 8 Pro"}, token=token)

        assert (first.status_code, again.status_code, renamed.status_code) == (201, 200, 200)
        device = PushDevice.objects.get()
        assert again.json() == device_body(device, name="Pixel 8", last_seen_at="2026-11-22T10:10:00Z")
        assert renamed.json() == device_body(device, name="Pixel 8 Pro", last_seen_at="2026-11-22T10:10:00Z")
        assert devices() == [(maria.pk, "fcm", FCM_TOKEN, "Pixel 8 Pro", NOW, LATER)]

    def test_a_token_another_user_had_moves_to_this_one(
        self, api: Api, token: str, maria: User, stranger: User
    ) -> None:
        """Another profile logged in on the same phone before: the phone now tells Мария."""
        api.post("/push-devices", {"platform": "fcm", "token": FCM_TOKEN, "name": "Общий"}, token=token_of(stranger))

        response = api.post("/push-devices", {"platform": "fcm", "token": FCM_TOKEN}, token=token)

        assert response.status_code == 201
        assert devices() == [(maria.pk, "fcm", FCM_TOKEN, "Общий", NOW, NOW)]
        assert api.get("/push-devices", token=token_of(stranger)).json() == []

    def test_the_eleventh_device_sends_off_the_oldest(self, api: Api, token: str, clock: FakeClock) -> None:
        for number in range(11):
            clock.current = NOW + dt.timedelta(minutes=number)
            response = api.post("/push-devices", {"platform": "fcm", "token": f"token-{number}"}, token=token)
            assert response.status_code == 201

        assert sorted(PushDevice.objects.values_list("token", flat=True)) == sorted(f"token-{n}" for n in range(1, 11))

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            ({"platform": "gcm", "token": FCM_TOKEN}, [("platform", "Допустимые значения: 'fcm', 'apns'")]),
            ({"platform": "FCM", "token": FCM_TOKEN}, [("platform", "Допустимые значения: 'fcm', 'apns'")]),
            ({"platform": None, "token": FCM_TOKEN}, [("platform", "Допустимые значения: 'fcm', 'apns'")]),
            ({"token": FCM_TOKEN}, [("platform", "Обязательное поле: заполните его")]),
            ({"platform": "fcm", "token": ""}, [("token", "Обязательное поле: заполните его")]),
            ({"platform": "fcm", "token": "   "}, [("token", "Укажите токен устройства")]),
            ({"platform": "fcm"}, [("token", "Обязательное поле: заполните его")]),
            ({"platform": "fcm", "token": 12345}, [("token", "Ожидается строка")]),
            (
                {"platform": "fcm", "token": "токен устройства"},
                [("token", "Токен — до 500 латинских букв, цифр и знаков - _ : .")],
            ),
            (
                {"platform": "fcm", "token": "abc/def=="},
                [("token", "Токен — до 500 латинских букв, цифр и знаков - _ : .")],
            ),
            ({"platform": "fcm", "token": "a" * 501}, [("token", "Слишком длинно: не больше 500 символов")]),
            ({"platform": "apns", "token": FCM_TOKEN}, [("token", "Токен APNs — 64 шестнадцатеричные цифры")]),
            ({"platform": "apns", "token": APNS_TOKEN[:63]}, [("token", "Токен APNs — 64 шестнадцатеричные цифры")]),
            ({"platform": "apns", "token": "g" * 64}, [("token", "Токен APNs — 64 шестнадцатеричные цифры")]),
            (
                {"platform": "fcm", "token": FCM_TOKEN, "name": "Я" * 121},
                [("name", "Слишком длинно: не больше 120 символов")],
            ),
            ({"platform": "fcm", "token": FCM_TOKEN, "name": None}, [("name", "Ожидается строка")]),
            ({"platform": "fcm", "token": FCM_TOKEN, "user_id": 1}, [("user_id", "Неизвестное поле: уберите его")]),
            (
                {"platform": "huawei", "token": "", "name": "Я" * 121},
                [
                    ("platform", "Допустимые значения: 'fcm', 'apns'"),
                    ("token", "Обязательное поле: заполните его"),
                    ("name", "Слишком длинно: не больше 120 символов"),
                ],
            ),
        ],
    )
    def test_bad_values_are_refused_and_nothing_is_stored(
        self, api: Api, token: str, body: dict[str, Any], errors: list[tuple[str, str]]
    ) -> None:
        response = api.post("/push-devices", body, token=token)

        assert response.status_code == 422
        answer = problem(response)
        assert answer["code"] == "validation_failed"
        assert [(e["field"], e["message"]) for e in answer["errors"]] == errors
        assert devices() == []

    def test_a_bad_token_does_not_touch_a_registered_device(self, api: Api, token: str, maria: User) -> None:
        api.post("/push-devices", {"platform": "fcm", "token": FCM_TOKEN, "name": "Pixel 8"}, token=token)
        before = devices()

        response = api.post("/push-devices", {"platform": "apns", "token": FCM_TOKEN, "name": "iPhone"}, token=token)

        assert response.status_code == 422
        assert devices() == before

    def test_not_json(self, api: Api, token: str) -> None:
        response = api.call("POST", "/push-devices", raw="platform=fcm", token=token)

        assert response.status_code == 400
        assert problem(response)["code"] == "invalid_json"
        assert devices() == []


# --- The list -------------------------------------------------------------------------


class TestList:
    def test_the_users_own_most_recent_first(
        self, api: Api, token: str, maria: User, stranger: User, clock: FakeClock
    ) -> None:
        api.post("/push-devices", {"platform": "fcm", "token": FCM_TOKEN, "name": "Pixel 8"}, token=token)
        api.post(
            "/push-devices", {"platform": "fcm", "token": "stranger-token", "name": "Чужой"}, token=token_of(stranger)
        )
        clock.current = LATER
        api.post("/push-devices", {"platform": "apns", "token": APNS_TOKEN, "name": "iPad"}, token=token)
        pixel, ipad = PushDevice.objects.filter(user=maria).order_by("pk")

        response = api.get("/push-devices", token=token)

        assert response.status_code == 200
        assert response.json() == [
            device_body(ipad, created_at="2026-11-22T10:10:00Z"),
            device_body(pixel),
        ]

    def test_none(self, api: Api, token: str) -> None:
        assert api.get("/push-devices", token=token).json() == []


# --- Removing -------------------------------------------------------------------------


class TestRemove:
    def test_by_its_id(self, api: Api, token: str, maria: User) -> None:
        api.post("/push-devices", {"platform": "fcm", "token": FCM_TOKEN}, token=token)
        api.post("/push-devices", {"platform": "apns", "token": APNS_TOKEN}, token=token)
        pixel = PushDevice.objects.get(token=FCM_TOKEN)

        response = api.delete(f"/push-devices/{pixel.pk}", token=token)

        assert response.status_code == 204
        assert response.content == b""
        assert devices() == [(maria.pk, "apns", APNS_TOKEN, "", NOW, NOW)]

    def test_by_its_token_at_logout(self, api: Api, token: str, maria: User) -> None:
        api.post("/push-devices", {"platform": "fcm", "token": FCM_TOKEN}, token=token)
        api.post("/push-devices", {"platform": "apns", "token": APNS_TOKEN}, token=token)

        response = api.post("/push-devices/unregister", {"token": f" {FCM_TOKEN} "}, token=token)

        assert response.status_code == 204
        assert devices() == [(maria.pk, "apns", APNS_TOKEN, "", NOW, NOW)]

    def test_another_users_device_by_id_is_not_found(self, api: Api, token: str, stranger: User) -> None:
        api.post("/push-devices", {"platform": "fcm", "token": FCM_TOKEN, "name": "Чужой"}, token=token_of(stranger))
        theirs = PushDevice.objects.get()
        before = devices()

        response = api.delete(f"/push-devices/{theirs.pk}", token=token)

        assert response.status_code == 404
        answer = problem(response)
        assert (answer["code"], answer["detail"]) == ("push_device_not_found", "Устройство не найдено")
        assert "Чужой" not in response.content.decode()
        assert devices() == before

    def test_another_users_device_by_token_is_not_found(self, api: Api, token: str, stranger: User) -> None:
        api.post("/push-devices", {"platform": "fcm", "token": FCM_TOKEN}, token=token_of(stranger))
        before = devices()

        response = api.post("/push-devices/unregister", {"token": FCM_TOKEN}, token=token)

        assert response.status_code == 404
        assert problem(response)["code"] == "push_device_not_found"
        assert devices() == before

    def test_an_unknown_device_is_not_found(self, api: Api, token: str) -> None:
        api.post("/push-devices", {"platform": "fcm", "token": FCM_TOKEN}, token=token)
        device = PushDevice.objects.get()
        before = devices()

        by_id = api.delete(f"/push-devices/{device.pk + 1000}", token=token)
        by_token = api.post("/push-devices/unregister", {"token": "never-registered"}, token=token)
        again = [api.delete(f"/push-devices/{device.pk}", token=token).status_code for _ in range(2)]

        assert (by_id.status_code, by_token.status_code) == (404, 404)
        assert problem(by_id)["code"] == problem(by_token)["code"] == "push_device_not_found"
        assert before != devices() == []
        assert again == [204, 404]

    @pytest.mark.parametrize(
        ("path", "field", "message"),
        [
            ("0", "device_id", "Ожидается число не меньше 1"),
            ("-5", "device_id", "Ожидается число не меньше 1"),
            ("pixel", "device_id", "Ожидается целое число"),
            (str(2**63), "device_id", f"Ожидается число не больше {2**63 - 1}"),
        ],
    )
    def test_an_id_that_is_not_an_id(self, api: Api, token: str, path: str, field: str, message: str) -> None:
        api.post("/push-devices", {"platform": "fcm", "token": FCM_TOKEN}, token=token)
        before = devices()

        response = api.delete(f"/push-devices/{path}", token=token)

        assert response.status_code == 422
        assert problem(response)["errors"] == [{"field": field, "message": message}]
        assert devices() == before

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            ({"token": ""}, [("token", "Обязательное поле: заполните его")]),
            ({}, [("token", "Обязательное поле: заполните его")]),
            ({"token": "a" * 501}, [("token", "Слишком длинно: не больше 500 символов")]),
            ({"token": ["x"]}, [("token", "Ожидается строка")]),
            ({"token": FCM_TOKEN, "platform": "fcm"}, [("platform", "Неизвестное поле: уберите его")]),
        ],
    )
    def test_a_bad_token_to_unregister(
        self, api: Api, token: str, body: dict[str, Any], errors: list[tuple[str, str]]
    ) -> None:
        api.post("/push-devices", {"platform": "fcm", "token": FCM_TOKEN}, token=token)
        before = devices()

        response = api.post("/push-devices/unregister", body, token=token)

        assert response.status_code == 422
        answer = problem(response)
        assert answer["code"] == "validation_failed"
        assert [(e["field"], e["message"]) for e in answer["errors"]] == errors
        assert devices() == before


# --- Without a token ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/push-devices", None),
        ("POST", "/push-devices", {"platform": "fcm", "token": FCM_TOKEN}),
        ("POST", "/push-devices/unregister", {"token": FCM_TOKEN}),
        ("DELETE", "/push-devices/1", None),
    ],
)
def test_without_a_token(api: Api, method: str, path: str, body: Any) -> None:
    for token in (None, "not-a-token"):
        response = api.call(method, path, body, token=token)

        assert response.status_code == 401
        assert problem(response)["code"] == ("not_authenticated" if token is None else "invalid_token")
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert devices() == []
