"""Login, bearer access tokens, rotating refresh tokens and logout through the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from abonent.identity.models import ApiToken, AuthSession, User
from tests.api.conftest import NOW, PASSWORD, Api, FakeClock, Subscriber, login, problem

pytestmark = pytest.mark.django_db


def assert_no_session() -> None:
    assert AuthSession.objects.count() == 0
    assert ApiToken.objects.count() == 0


class TestLogin:
    def test_phone_written_any_way_and_password_give_a_token_pair(self, api: Api, subscriber: Subscriber) -> None:
        response = api.post(
            "/auth/login", {"login": "8 (912) 345-67-89", "password": PASSWORD, "device_name": "Телефон Маши"}
        )

        assert response.status_code == 200
        pair = response.json()
        session = AuthSession.objects.get()
        assert pair == {
            "access_token": pair["access_token"],
            "refresh_token": pair["refresh_token"],
            "token_type": "Bearer",
            "expires_in": 900,
            "refresh_expires_at": "2026-12-22T10:00:00Z",
            "session_id": session.pk,
        }
        assert (session.user_id, session.kind, session.device_name, session.ip, session.created_at) == (
            subscriber.user.pk,
            "app",
            "Телефон Маши",
            "203.0.113.7",
            NOW,
        )
        assert session.user_agent == "abonent-android/3.1 (Android 14)"
        assert sorted(ApiToken.objects.values_list("kind", flat=True)) == ["access", "refresh"]
        assert User.objects.get().last_login == NOW

    def test_email_login(self, api: Api, mail_subscriber: Subscriber) -> None:
        response = api.post("/auth/login", {"login": "IVANOVA@MAIL.RU", "password": PASSWORD})

        assert response.status_code == 200

    def test_wrong_password_and_unknown_login_get_the_same_answer(self, api: Api, subscriber: Subscriber) -> None:
        wrong_password = api.post("/auth/login", {"login": subscriber.login, "password": "Не-тот-пароль-1"})
        unknown = api.post("/auth/login", {"login": "+79990001122", "password": PASSWORD})

        assert wrong_password.status_code == unknown.status_code == 401
        assert wrong_password["WWW-Authenticate"] == unknown["WWW-Authenticate"] == "Bearer"
        assert (
            problem(wrong_password)
            == problem(unknown)
            == {
                "type": "urn:abonent:problem:invalid_credentials",
                "title": "Неверный телефон, e-mail или пароль",
                "status": 401,
                "detail": "Неверный телефон, e-mail или пароль",
                "instance": "/api/v1/auth/login",
                "code": "invalid_credentials",
                "errors": [{"field": "login", "message": "Неверный телефон, e-mail или пароль"}],
            }
        )
        assert_no_session()

    def test_unconfirmed_profile(self, api: Api) -> None:
        api.post(
            "/auth/register",
            {"login": "+79125550011", "password": PASSWORD, "personal_data_consent": True, "marketing_consent": False},
        )

        response = api.post("/auth/login", {"login": "+79125550011", "password": PASSWORD})

        assert response.status_code == 403
        assert problem(response)["code"] == "profile_not_confirmed"
        assert_no_session()

    def test_bad_login_format(self, api: Api) -> None:
        response = api.post("/auth/login", {"login": "Мария", "password": PASSWORD})

        assert response.status_code == 422
        assert problem(response)["code"] == "invalid_login"

    def test_unknown_field_is_refused(self, api: Api, subscriber: Subscriber) -> None:
        response = api.post("/auth/login", {"login": subscriber.login, "password": PASSWORD, "remember": True})

        assert response.status_code == 422
        assert problem(response)["errors"] == [{"field": "remember", "message": "Неизвестное поле: уберите его"}]
        assert_no_session()


class TestLoginRateLimit:
    def test_sixth_attempt_for_one_login_from_one_address_waits(self, api: Api, subscriber: Subscriber) -> None:
        answers = [
            api.post("/auth/login", {"login": subscriber.login, "password": f"Неверный-{i}-пароль"}) for i in range(5)
        ]
        assert [r.status_code for r in answers] == [401] * 5

        limited = api.post("/auth/login", {"login": subscriber.login, "password": PASSWORD})

        assert limited.status_code == 429
        assert limited["Retry-After"] == "900"  # the 15-minute window began at 10:00
        assert problem(limited) == {
            "type": "urn:abonent:problem:too_many_attempts",
            "title": "Слишком много попыток. Повторите через 15 мин.",
            "status": 429,
            "detail": "Слишком много попыток. Повторите через 15 мин.",
            "instance": "/api/v1/auth/login",
            "code": "too_many_attempts",
        }
        assert_no_session()

    def test_another_address_and_the_next_window_are_not_limited(
        self, api: Api, subscriber: Subscriber, clock: FakeClock
    ) -> None:
        for i in range(6):
            api.post("/auth/login", {"login": subscriber.login, "password": f"Неверный-{i}-пароль"})

        assert (
            api.post("/auth/login", {"login": subscriber.login, "password": PASSWORD}, ip="198.51.100.2").status_code
            == 200
        )
        clock.advance(minutes=15)
        assert api.post("/auth/login", {"login": subscriber.login, "password": PASSWORD}).status_code == 200


class TestAccessToken:
    def test_works_until_it_expires(self, api: Api, tokens: dict[str, Any], clock: FakeClock) -> None:
        clock.advance(minutes=14, seconds=59)
        assert api.get("/profile", token=tokens["access_token"]).status_code == 200

        clock.advance(seconds=1)
        response = api.get("/profile", token=tokens["access_token"])

        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'
        assert problem(response) == {
            "type": "urn:abonent:problem:invalid_token",
            "title": "Токен недействителен или истёк: войдите снова",
            "status": 401,
            "detail": "Токен недействителен или истёк: войдите снова",
            "instance": "/api/v1/profile",
            "code": "invalid_token",
        }

    def test_no_token(self, api: Api) -> None:
        response = api.get("/profile")

        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"
        assert problem(response)["code"] == "not_authenticated"

    @pytest.mark.parametrize("token", ["at_not-a-real-token", "x" * 500])
    def test_unknown_token(self, api: Api, token: str) -> None:
        response = api.get("/profile", token=token)

        assert response.status_code == 401
        assert problem(response)["code"] == "invalid_token"

    def test_refresh_token_is_not_an_access_token(self, api: Api, tokens: dict[str, Any]) -> None:
        response = api.get("/profile", token=tokens["refresh_token"])

        assert response.status_code == 401
        assert problem(response)["code"] == "invalid_token"

    def test_other_schemes_are_not_accepted(self, api: Api, tokens: dict[str, Any]) -> None:
        response = api.client.get("/api/v1/profile", headers={"Authorization": f"Token {tokens['access_token']}"})

        assert response.status_code == 401
        assert problem(response)["code"] == "not_authenticated"


class TestWebSessionIsNotApiAuth:
    def test_logged_in_browser_cookie_does_not_authenticate(self, api: Api, subscriber: Subscriber) -> None:
        api.client.force_login(subscriber.user)

        profile = api.get("/profile")
        logout = api.post("/auth/logout")

        assert profile.status_code == logout.status_code == 401
        assert problem(profile)["code"] == problem(logout)["code"] == "not_authenticated"

    def test_json_endpoints_need_no_csrf_token(self, api: Api, subscriber: Subscriber) -> None:
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(subscriber.user)

        response = browser.post(
            "/api/v1/auth/login",
            {"login": subscriber.login, "password": PASSWORD},
            content_type="application/json",
        )

        assert response.status_code == 200


class TestRefresh:
    def test_rotates_the_pair(self, api: Api, tokens: dict[str, Any], clock: FakeClock) -> None:
        clock.advance(days=29)

        response = api.post("/auth/token/refresh", {"refresh_token": tokens["refresh_token"]})

        assert response.status_code == 200
        pair = response.json()
        assert pair["access_token"] != tokens["access_token"]
        assert pair["refresh_token"] != tokens["refresh_token"]
        assert (pair["expires_in"], pair["refresh_expires_at"], pair["session_id"]) == (
            900,
            "2027-01-20T10:00:00Z",
            tokens["session_id"],
        )
        assert api.get("/profile", token=pair["access_token"]).status_code == 200
        assert api.get("/profile", token=tokens["access_token"]).status_code == 401
        assert AuthSession.objects.get().last_seen_at == clock.current

    def test_second_use_of_a_refresh_token_ends_the_session(self, api: Api, tokens: dict[str, Any]) -> None:
        rotated = api.post("/auth/token/refresh", {"refresh_token": tokens["refresh_token"]}).json()

        reused = api.post("/auth/token/refresh", {"refresh_token": tokens["refresh_token"]})

        assert reused.status_code == 401
        assert reused["WWW-Authenticate"] == 'Bearer error="invalid_token"'
        assert problem(reused)["code"] == "refresh_token_reused"
        assert problem(reused)["detail"] == (
            "Токен обновления уже использовался; сеанс завершён для безопасности. Войдите снова"
        )
        assert api.get("/profile", token=rotated["access_token"]).status_code == 401
        again = api.post("/auth/token/refresh", {"refresh_token": rotated["refresh_token"]})
        assert again.status_code == 401
        assert problem(again)["code"] == "invalid_token"
        session = AuthSession.objects.get()
        assert (session.ended_at, session.end_reason) == (NOW, "refresh_token_reused")
        assert ApiToken.objects.count() == 0

    def test_expired_refresh_token(self, api: Api, tokens: dict[str, Any], clock: FakeClock) -> None:
        clock.advance(days=30)

        response = api.post("/auth/token/refresh", {"refresh_token": tokens["refresh_token"]})

        assert response.status_code == 401
        assert problem(response)["code"] == "invalid_token"

    def test_unknown_refresh_token(self, api: Api, subscriber: Subscriber) -> None:
        response = api.post("/auth/token/refresh", {"refresh_token": "rt_made-up"})

        assert response.status_code == 401
        assert problem(response)["code"] == "invalid_token"
        assert_no_session()


class TestLogout:
    def test_ends_this_device_only(self, api: Api, subscriber: Subscriber, tokens: dict[str, Any]) -> None:
        other = login(api, subscriber, device_name="Планшет")

        response = api.post("/auth/logout", token=tokens["access_token"])

        assert response.status_code == 204
        assert response.content == b""
        assert api.get("/profile", token=tokens["access_token"]).status_code == 401
        assert api.post("/auth/token/refresh", {"refresh_token": tokens["refresh_token"]}).status_code == 401
        assert api.get("/profile", token=other["access_token"]).status_code == 200
        ended = AuthSession.objects.get(pk=tokens["session_id"])
        assert (ended.ended_at, ended.end_reason) == (NOW, "logout")
        assert AuthSession.objects.get(pk=other["session_id"]).ended_at is None
