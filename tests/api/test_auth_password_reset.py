"""Password recovery through the API: a code by SMS, or a single-use link by e-mail."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail

from abonent.identity.models import AuthSession, User
from tests.api.conftest import PASSWORD, Api, FakeClock, Subscriber, last_code, messages_sent, problem, sms_to, wrong

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Синий-самовар-2027"


class TestByPhone:
    def test_code_then_new_password_ends_every_session(
        self, api: Api, subscriber: Subscriber, tokens: dict[str, Any]
    ) -> None:
        response = api.post("/auth/password/forgot", {"login": "8 912 345-67-89"})

        assert response.status_code == 202
        assert response.json() == {"contact_kind": "phone", "masked": "+7 912 ***-**-89", "resend_after_seconds": 60}
        assert sms_to(subscriber.login)[0].startswith("Код для восстановления пароля: ")

        reset = api.post(
            "/auth/password/reset",
            {"login": subscriber.login, "code": last_code(subscriber.login), "new_password": NEW_PASSWORD},
        )

        assert reset.status_code == 204
        assert reset.content == b""
        user = User.objects.get()
        assert user.check_password(NEW_PASSWORD)
        assert api.get("/profile", token=tokens["access_token"]).status_code == 401
        assert AuthSession.objects.get().end_reason == "password_changed"
        assert sms_to(subscriber.login)[-1] == (
            "Пароль от личного кабинета изменён. Если это были не вы, восстановите пароль и обратитесь к поставщику."
        )
        assert api.post("/auth/login", {"login": subscriber.login, "password": PASSWORD}).status_code == 401
        assert api.post("/auth/login", {"login": subscriber.login, "password": NEW_PASSWORD}).status_code == 200

    def test_wrong_code_changes_nothing(self, api: Api, subscriber: Subscriber, tokens: dict[str, Any]) -> None:
        api.post("/auth/password/forgot", {"login": subscriber.login})
        sent = messages_sent()

        response = api.post(
            "/auth/password/reset",
            {"login": subscriber.login, "code": wrong(last_code(subscriber.login)), "new_password": NEW_PASSWORD},
        )

        assert response.status_code == 422
        assert problem(response)["detail"] == "Неверный код. Осталось попыток: 4"
        assert User.objects.get().check_password(PASSWORD)
        assert api.get("/profile", token=tokens["access_token"]).status_code == 200
        assert messages_sent() == sent

    def test_weak_new_password_is_refused_before_the_code_is_spent(self, api: Api, subscriber: Subscriber) -> None:
        api.post("/auth/password/forgot", {"login": subscriber.login})
        code = last_code(subscriber.login)

        weak = api.post("/auth/password/reset", {"login": subscriber.login, "code": code, "new_password": "qwerty"})

        assert weak.status_code == 422
        body = problem(weak)
        assert body["code"] == "validation_failed"
        assert {e["field"] for e in body["errors"]} == {"new_password"}
        assert User.objects.get().check_password(PASSWORD)
        good = api.post("/auth/password/reset", {"login": subscriber.login, "code": code, "new_password": NEW_PASSWORD})
        assert good.status_code == 204

    def test_unknown_login_gets_the_same_answer_and_nothing_is_sent(self, api: Api, subscriber: Subscriber) -> None:
        response = api.post("/auth/password/forgot", {"login": "+79990001122"})

        assert response.status_code == 202
        assert response.json() == {"contact_kind": "phone", "masked": "+7 999 ***-**-22", "resend_after_seconds": 60}
        assert messages_sent() == 0

    def test_second_request_within_a_minute_waits(self, api: Api, subscriber: Subscriber, clock: FakeClock) -> None:
        api.post("/auth/password/forgot", {"login": subscriber.login})
        clock.advance(seconds=30)

        response = api.post("/auth/password/forgot", {"login": subscriber.login})

        assert response.status_code == 429
        assert response["Retry-After"] == "30"
        assert problem(response)["code"] == "code_resend_too_soon"
        assert len(sms_to(subscriber.login)) == 1


class TestByEmail:
    def link_parts(self) -> tuple[str, str]:
        [message] = mail.outbox
        match = re.search(r"http://testserver/password/reset/([^/\s]+)/([^/\s]+)/", str(message.body))
        assert match is not None, message.body
        return match.group(1), match.group(2)

    def test_link_to_the_portal_page_then_new_password(
        self, api: Api, mail_subscriber: Subscriber, clock: FakeClock
    ) -> None:
        response = api.post("/auth/password/forgot", {"login": mail_subscriber.login})

        assert response.status_code == 202
        assert response.json() == {"contact_kind": "email", "masked": "iv***@mail.ru", "resend_after_seconds": 60}
        assert mail.outbox[0].subject == "Восстановление пароля"
        uid, token = self.link_parts()
        clock.advance(minutes=59)

        reset = api.post("/auth/password/reset-link", {"uid": uid, "token": token, "new_password": NEW_PASSWORD})

        assert reset.status_code == 204
        assert User.objects.get().check_password(NEW_PASSWORD)

    def test_link_works_once(self, api: Api, mail_subscriber: Subscriber) -> None:
        api.post("/auth/password/forgot", {"login": mail_subscriber.login})
        uid, token = self.link_parts()
        api.post("/auth/password/reset-link", {"uid": uid, "token": token, "new_password": NEW_PASSWORD})

        again = api.post(
            "/auth/password/reset-link", {"uid": uid, "token": token, "new_password": "Третий-пароль-2028"}
        )

        assert again.status_code == 422
        assert problem(again) == {
            "type": "urn:abonent:problem:reset_link_invalid",
            "title": "Ссылка для смены пароля устарела или уже использована. Запросите новую",
            "status": 422,
            "detail": "Ссылка для смены пароля устарела или уже использована. Запросите новую",
            "instance": "/api/v1/auth/password/reset-link",
            "code": "reset_link_invalid",
        }
        assert User.objects.get().check_password(NEW_PASSWORD)

    def test_made_up_link(self, api: Api, mail_subscriber: Subscriber) -> None:
        response = api.post(
            "/auth/password/reset-link", {"uid": "MQ", "token": "abc-def", "new_password": NEW_PASSWORD}
        )

        assert response.status_code == 422
        assert problem(response)["code"] == "reset_link_invalid"
        assert User.objects.get().check_password(PASSWORD)


def test_reset_by_code_is_rate_limited_per_address(api: Api, subscriber: Subscriber) -> None:
    api.post("/auth/password/forgot", {"login": subscriber.login})
    code = last_code(subscriber.login)
    other_logins = [f"+7912000{i:04d}" for i in range(30)]
    for phone in other_logins:  # codes tried for 30 other numbers from one address
        api.post("/auth/password/reset", {"login": phone, "code": code, "new_password": NEW_PASSWORD})

    response = api.post("/auth/password/reset", {"login": subscriber.login, "code": code, "new_password": NEW_PASSWORD})

    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert problem(response)["code"] == "too_many_attempts"
    assert User.objects.get().check_password(PASSWORD)
