"""Devices of a profile through the API: the list, ending one or all others, password change."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from abonent.identity.models import ApiToken, AuthSession, User
from abonent.identity.services import web_session_start
from tests.api.conftest import NOW, PASSWORD, Api, FakeClock, Subscriber, login, messages_sent, problem, sms_to

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Синий-самовар-2027"


@pytest.fixture
def browser(subscriber: Subscriber, clock: FakeClock) -> tuple[Client, AuthSession]:
    """The subscriber logged in on the web portal an hour ago, with «запомнить меня»."""
    client = Client()
    client.force_login(subscriber.user)
    session_key = client.session.session_key
    assert session_key is not None
    session = web_session_start(
        user=subscriber.user,
        session_key=session_key,
        remember=True,
        user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        ip="198.51.100.9",
        now=clock.current - dt.timedelta(hours=1),
    )
    return client, session


class TestList:
    def test_every_device_with_this_one_marked(
        self, api: Api, subscriber: Subscriber, browser: tuple[Client, AuthSession], clock: FakeClock
    ) -> None:
        tablet = login(api, subscriber, device_name="Планшет")
        clock.advance(minutes=1)
        phone = login(api, subscriber, device_name="Pixel 8", ip="203.0.113.8")

        response = api.get("/profile/sessions", token=phone["access_token"])

        assert response.status_code == 200
        assert response.json() == [
            {
                "id": phone["session_id"],
                "kind": "app",
                "device_name": "Pixel 8",
                "user_agent": "abonent-android/3.1 (Android 14)",
                "ip": "203.0.113.8",
                "created_at": "2026-11-22T10:01:00Z",
                "last_seen_at": "2026-11-22T10:01:00Z",
                "current": True,
            },
            {
                "id": tablet["session_id"],
                "kind": "app",
                "device_name": "Планшет",
                "user_agent": "abonent-android/3.1 (Android 14)",
                "ip": "203.0.113.7",
                "created_at": "2026-11-22T10:00:00Z",
                "last_seen_at": "2026-11-22T10:00:00Z",
                "current": False,
            },
            {
                "id": browser[1].pk,
                "kind": "web",
                "device_name": "Windows",
                "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
                "ip": "198.51.100.9",
                "created_at": "2026-11-22T09:00:00Z",
                "last_seen_at": "2026-11-22T09:00:00Z",
                "current": False,
            },
        ]

    def test_ended_sessions_are_not_listed(self, api: Api, subscriber: Subscriber) -> None:
        old = login(api, subscriber, device_name="Старый телефон")
        api.post("/auth/logout", token=old["access_token"])
        current = login(api, subscriber)

        listed = api.get("/profile/sessions", token=current["access_token"]).json()

        assert [s["id"] for s in listed] == [current["session_id"]]


class TestEndOne:
    def test_other_device_is_logged_out_at_once(self, api: Api, subscriber: Subscriber) -> None:
        other = login(api, subscriber, device_name="Планшет")
        mine = login(api, subscriber)

        response = api.delete(f"/profile/sessions/{other['session_id']}", token=mine["access_token"])

        assert response.status_code == 204
        assert api.get("/profile", token=other["access_token"]).status_code == 401
        assert api.post("/auth/token/refresh", {"refresh_token": other["refresh_token"]}).status_code == 401
        assert api.get("/profile", token=mine["access_token"]).status_code == 200
        ended = AuthSession.objects.get(pk=other["session_id"])
        assert (ended.ended_at, ended.end_reason) == (NOW, "ended_by_user")
        assert not ApiToken.objects.filter(session=ended).exists()

    def test_browser_is_logged_out(
        self, api: Api, subscriber: Subscriber, browser: tuple[Client, AuthSession], tokens: dict[str, Any]
    ) -> None:
        client, web = browser

        response = api.delete(f"/profile/sessions/{web.pk}", token=tokens["access_token"])

        assert response.status_code == 204
        assert not Session.objects.filter(session_key=client.session.session_key).exists()

    def test_session_of_another_profile_is_not_found(
        self, api: Api, subscriber: Subscriber, register: Any, tokens: dict[str, Any]
    ) -> None:
        stranger = login(api, register("+79120001122"))

        response = api.delete(f"/profile/sessions/{stranger['session_id']}", token=tokens["access_token"])

        assert response.status_code == 404
        assert problem(response) == {
            "type": "urn:abonent:problem:session_not_found",
            "title": "Сеанс не найден или уже завершён",
            "status": 404,
            "detail": "Сеанс не найден или уже завершён",
            "instance": f"/api/v1/profile/sessions/{stranger['session_id']}",
            "code": "session_not_found",
        }
        assert api.get("/profile", token=stranger["access_token"]).status_code == 200

    def test_id_must_be_a_number(self, api: Api, tokens: dict[str, Any]) -> None:
        response = api.delete("/profile/sessions/first", token=tokens["access_token"])

        assert response.status_code == 422
        assert problem(response)["errors"] == [{"field": "session_id", "message": "Ожидается целое число"}]

    def test_ending_this_session_is_logging_out(self, api: Api, tokens: dict[str, Any]) -> None:
        response = api.delete(f"/profile/sessions/{tokens['session_id']}", token=tokens["access_token"])

        assert response.status_code == 204
        assert api.get("/profile", token=tokens["access_token"]).status_code == 401


class TestEndAllOthers:
    def test_every_other_device_ends(
        self, api: Api, subscriber: Subscriber, browser: tuple[Client, AuthSession]
    ) -> None:
        other = login(api, subscriber, device_name="Планшет")
        mine = login(api, subscriber)

        response = api.delete("/profile/sessions", token=mine["access_token"])

        assert response.status_code == 200
        assert response.json() == {"ended": 2}
        assert api.get("/profile", token=other["access_token"]).status_code == 401
        assert api.get("/profile", token=mine["access_token"]).status_code == 200
        assert list(AuthSession.objects.filter(ended_at__isnull=True).values_list("pk", flat=True)) == [
            mine["session_id"]
        ]

    def test_nothing_to_end(self, api: Api, tokens: dict[str, Any]) -> None:
        response = api.delete("/profile/sessions", token=tokens["access_token"])

        assert response.json() == {"ended": 0}


class TestPasswordChange:
    def test_other_devices_end_this_one_stays(
        self, api: Api, subscriber: Subscriber, browser: tuple[Client, AuthSession]
    ) -> None:
        other = login(api, subscriber, device_name="Планшет")
        mine = login(api, subscriber)

        response = api.post(
            "/profile/password", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, token=mine["access_token"]
        )

        assert response.status_code == 204
        assert User.objects.get().check_password(NEW_PASSWORD)
        assert api.get("/profile", token=mine["access_token"]).status_code == 200
        assert api.get("/profile", token=other["access_token"]).status_code == 401
        assert set(AuthSession.objects.exclude(pk=mine["session_id"]).values_list("end_reason", flat=True)) == {
            "password_changed"
        }
        assert sms_to(subscriber.login) == [
            "Пароль от личного кабинета изменён. Если это были не вы, восстановите пароль и обратитесь к поставщику."
        ]

    def test_wrong_old_password_changes_nothing(self, api: Api, subscriber: Subscriber) -> None:
        other = login(api, subscriber, device_name="Планшет")
        mine = login(api, subscriber)

        response = api.post(
            "/profile/password",
            {"old_password": "Не-тот-пароль-1", "new_password": NEW_PASSWORD},
            token=mine["access_token"],
        )

        assert response.status_code == 422
        assert problem(response)["errors"] == [{"field": "old_password", "message": "Текущий пароль введён неверно"}]
        assert User.objects.get().check_password(PASSWORD)
        assert api.get("/profile", token=other["access_token"]).status_code == 200
        assert messages_sent() == 0

    def test_weak_new_password(self, api: Api, subscriber: Subscriber, tokens: dict[str, Any]) -> None:
        # the generated username is random digits, which "1234567890" can be too similar to
        User.objects.filter(pk=subscriber.user.pk).update(username="u-subscriber")
        response = api.post(
            "/profile/password", {"old_password": PASSWORD, "new_password": "1234567890"}, token=tokens["access_token"]
        )

        assert response.status_code == 422
        assert problem(response)["errors"] == [
            {"field": "new_password", "message": "Введённый пароль слишком широко распространён."},
            {"field": "new_password", "message": "Введённый пароль состоит только из цифр."},
        ]
        assert User.objects.get().check_password(PASSWORD)

    def test_needs_a_token(self, api: Api, subscriber: Subscriber) -> None:
        response = api.post("/profile/password", {"old_password": PASSWORD, "new_password": NEW_PASSWORD})

        assert response.status_code == 401
        assert User.objects.get().check_password(PASSWORD)
