"""Registration through the API: a code to the phone or e-mail, then the device is logged in."""

from __future__ import annotations

import json

import pytest
from django.core import mail

from abonent.identity.models import ApiToken, AuthSession, ConfirmationCode, Consent, User
from abonent.notifications.models import OutboxMessage
from tests.api.conftest import (
    NOW,
    PASSWORD,
    Api,
    FakeClock,
    Subscriber,
    code_in,
    last_code,
    mail_to,
    messages_sent,
    problem,
    sms_to,
    wrong,
)

pytestmark = pytest.mark.django_db

PHONE = "+79123456789"


def register_body(login: str = "8 (912) 345-67-89", **overrides: object) -> dict[str, object]:
    return {
        "login": login,
        "password": PASSWORD,
        "personal_data_consent": True,
        "marketing_consent": False,
        **overrides,
    }


def assert_nobody_registered() -> None:
    assert User.objects.count() == 0
    assert Consent.objects.count() == 0
    assert ConfirmationCode.objects.count() == 0
    assert messages_sent() == 0


class TestRegisterByPhone:
    def test_code_goes_by_sms_and_the_answer_masks_the_number(self, api: Api) -> None:
        response = api.post("/auth/register", register_body())

        assert response.status_code == 202
        assert response.json() == {"contact_kind": "phone", "masked": "+7 912 ***-**-89", "resend_after_seconds": 60}
        user = User.objects.get()
        assert (user.phone, user.email, user.is_active, user.phone_confirmed_at) == (PHONE, None, False, None)
        [sms] = sms_to(PHONE)
        assert sms == (
            f"Код для регистрации в личном кабинете: {code_in(sms)}. Никому его не сообщайте. Код действует 10 минут."
        )
        assert mail.outbox == []
        assert [(c.kind, c.channel, c.ip, c.granted_at) for c in Consent.objects.all()] == [
            ("personal_data", "app", "203.0.113.7", NOW)
        ]

    def test_confirm_activates_the_profile_and_logs_the_device_in(self, api: Api) -> None:
        api.post("/auth/register", register_body(marketing_consent=True))

        response = api.post(
            "/auth/register/confirm", {"login": "+7 912 345-67-89", "code": last_code(PHONE), "device_name": "Pixel 8"}
        )

        assert response.status_code == 201
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
        assert pair["access_token"].startswith("at_")
        assert pair["refresh_token"].startswith("rt_")
        user = User.objects.get()
        assert (user.is_active, user.phone_confirmed_at) == (True, NOW)
        assert (session.user_id, session.kind, session.device_name, session.ip) == (
            user.pk,
            "app",
            "Pixel 8",
            "203.0.113.7",
        )
        assert sorted(Consent.objects.values_list("kind", flat=True)) == ["marketing", "personal_data"]
        profile = api.get("/profile", token=pair["access_token"])
        assert profile.status_code == 200
        assert profile.json()["phone"] == PHONE

    def test_code_with_spaces_is_accepted(self, api: Api) -> None:
        api.post("/auth/register", register_body())
        code = last_code(PHONE)

        response = api.post(
            "/auth/register/confirm", {"login": PHONE, "code": f" {code[:3]} {code[3:]} ", "device_name": "  "}
        )

        assert response.status_code == 201
        assert AuthSession.objects.get().device_name == "Android"  # from the User-Agent when not named


class TestRegisterByEmail:
    def test_code_goes_by_mail_and_confirms(self, api: Api) -> None:
        response = api.post("/auth/register", register_body("Ivanova@Mail.RU"))

        assert response.status_code == 202
        assert response.json() == {"contact_kind": "email", "masked": "Iv***@mail.ru", "resend_after_seconds": 60}
        [message] = mail_to("Ivanova@mail.ru")
        assert message.subject == "Код подтверждения регистрации"
        assert OutboxMessage.objects.count() == 0

        confirmed = api.post(
            "/auth/register/confirm", {"login": "Ivanova@mail.ru", "code": last_code("Ivanova@mail.ru")}
        )

        assert confirmed.status_code == 201
        user = User.objects.get()
        assert (user.email, user.phone, user.is_active, user.email_confirmed_at) == (
            "Ivanova@mail.ru",
            None,
            True,
            NOW,
        )


class TestRegisterRefused:
    def test_without_consent(self, api: Api) -> None:
        response = api.post("/auth/register", register_body(personal_data_consent=False))

        assert response.status_code == 422
        assert problem(response) == {
            "type": "urn:abonent:problem:consent_required",
            "title": "Чтобы зарегистрироваться, дайте согласие на обработку персональных данных",
            "status": 422,
            "detail": "Чтобы зарегистрироваться, дайте согласие на обработку персональных данных",
            "instance": "/api/v1/auth/register",
            "code": "consent_required",
            "errors": [
                {
                    "field": "personal_data_consent",
                    "message": "Чтобы зарегистрироваться, дайте согласие на обработку персональных данных",
                }
            ],
        }
        assert_nobody_registered()

    @pytest.mark.parametrize("login", ["+7 495 123-45-67", "12345", "ivanova@", "не телефон"])
    def test_bad_phone_or_email(self, api: Api, login: str) -> None:
        response = api.post("/auth/register", register_body(login))

        assert response.status_code == 422
        body = problem(response)
        assert body["code"] == "invalid_login"
        assert body["errors"] == [
            {
                "field": "login",
                "message": "Введите номер мобильного телефона (+7 912 345-67-89) или адрес электронной почты",
            }
        ]
        assert_nobody_registered()

    def test_weak_password_says_every_reason(self, api: Api) -> None:
        response = api.post("/auth/register", register_body(password="12345"))

        assert response.status_code == 422
        body = problem(response)
        assert body["code"] == "validation_failed"
        assert body["errors"] == [
            {
                "field": "password",
                "message": "Введённый пароль слишком короткий. Он должен состоять из как минимум 10 символов.",
            },
            {"field": "password", "message": "Введённый пароль слишком широко распространён."},
            {"field": "password", "message": "Введённый пароль состоит только из цифр."},
        ]
        assert_nobody_registered()

    def test_unknown_field(self, api: Api) -> None:
        response = api.post("/auth/register", register_body(is_staff=True))

        assert response.status_code == 422
        body = problem(response)
        assert body["code"] == "validation_failed"
        assert body["errors"] == [{"field": "is_staff", "message": "Неизвестное поле: уберите его"}]
        assert_nobody_registered()

    def test_missing_field_and_wrong_type(self, api: Api) -> None:
        response = api.post("/auth/register", {"login": PHONE, "personal_data_consent": "да"})

        assert response.status_code == 422
        assert problem(response)["errors"] == [
            {"field": "password", "message": "Обязательное поле: заполните его"},
            {"field": "personal_data_consent", "message": "Ожидается true или false"},
        ]
        assert_nobody_registered()

    def test_too_long_login_and_password(self, api: Api) -> None:
        response = api.post("/auth/register", register_body("a" * 250 + "@x.ru", password="п" * 129))

        assert response.status_code == 422
        assert problem(response)["errors"] == [
            {"field": "login", "message": "Слишком длинно: не больше 254 символов"},
            {"field": "password", "message": "Слишком длинно: не больше 128 символов"},
        ]
        assert_nobody_registered()

    def test_not_json(self, api: Api) -> None:
        response = api.post("/auth/register", raw='{"login": "+79123456789",')

        assert response.status_code == 400
        assert problem(response) == {
            "type": "urn:abonent:problem:invalid_json",
            "title": "Тело запроса — не JSON",
            "status": 400,
            "detail": "Тело запроса не удалось разобрать как JSON: проверьте синтаксис и заголовок Content-Type",
            "instance": "/api/v1/auth/register",
            "code": "invalid_json",
        }
        assert_nobody_registered()

    def test_json_that_is_not_an_object(self, api: Api) -> None:
        response = api.post("/auth/register", raw=json.dumps([PHONE, PASSWORD]))

        assert response.status_code == 422
        assert problem(response)["errors"] == [{"field": "body", "message": "Ожидается объект JSON с полями"}]
        assert_nobody_registered()


class TestAlreadyRegistered:
    def test_same_answer_no_new_profile_and_the_owner_is_told(self, api: Api, subscriber: Subscriber) -> None:
        response = api.post("/auth/register", register_body(password="Другой-пароль-2026"))

        assert response.status_code == 202
        assert response.json() == {"contact_kind": "phone", "masked": "+7 912 ***-**-89", "resend_after_seconds": 60}
        assert list(User.objects.values_list("pk", flat=True)) == [subscriber.user.pk]
        user = User.objects.get()
        assert user.check_password(PASSWORD)
        assert sms_to(PHONE) == [
            "Кто-то пытается зарегистрироваться в личном кабинете с вашим номером или адресом. "
            "У вас уже есть профиль: войдите или восстановите пароль. Если это были не вы, ничего не делайте."
        ]
        assert AuthSession.objects.count() == 0


class TestConfirmationCode:
    def test_wrong_code_says_tries_left_and_the_fifth_spends_it(self, api: Api) -> None:
        api.post("/auth/register", register_body())
        code = last_code(PHONE)

        answers = [api.post("/auth/register/confirm", {"login": PHONE, "code": wrong(code)}) for _ in range(5)]

        assert [r.status_code for r in answers] == [422, 422, 422, 422, 429]
        assert [problem(r)["detail"] for r in answers[:4]] == [
            "Неверный код. Осталось попыток: 4",
            "Неверный код. Осталось попыток: 3",
            "Неверный код. Осталось попыток: 2",
            "Неверный код. Осталось попыток: 1",
        ]
        assert {problem(r)["code"] for r in answers[:4]} == {"code_invalid"}
        assert problem(answers[0])["errors"] == [{"field": "code", "message": "Неверный код. Осталось попыток: 4"}]
        exhausted = problem(answers[4])
        assert (exhausted["code"], exhausted["detail"]) == (
            "code_attempts_exhausted",
            "Слишком много неверных попыток. Запросите новый код",
        )
        # even the right code no longer works
        right = api.post("/auth/register/confirm", {"login": PHONE, "code": code})
        assert right.status_code == 429
        assert problem(right)["code"] == "code_attempts_exhausted"
        assert User.objects.get().is_active is False
        assert AuthSession.objects.count() == 0
        assert ApiToken.objects.count() == 0

    def test_code_expires_after_ten_minutes(self, api: Api, clock: FakeClock) -> None:
        api.post("/auth/register", register_body())
        clock.advance(minutes=10)

        response = api.post("/auth/register/confirm", {"login": PHONE, "code": last_code(PHONE)})

        assert response.status_code == 422
        assert problem(response)["code"] == "code_expired"
        assert User.objects.get().is_active is False
        assert AuthSession.objects.count() == 0

    @pytest.mark.parametrize("code", ["12345", "1234567", "12a456", ""])
    def test_code_must_be_six_digits(self, api: Api, code: str) -> None:
        api.post("/auth/register", register_body())

        response = api.post("/auth/register/confirm", {"login": PHONE, "code": code})

        assert response.status_code == 422
        assert problem(response)["errors"] == [{"field": "code", "message": "Код — 6 цифр из сообщения"}]
        assert ConfirmationCode.objects.get().attempts == 0  # not counted as a wrong try

    def test_device_name_is_limited(self, api: Api) -> None:
        api.post("/auth/register", register_body())

        response = api.post(
            "/auth/register/confirm", {"login": PHONE, "code": last_code(PHONE), "device_name": "x" * 121}
        )

        assert response.status_code == 422
        assert problem(response)["errors"] == [
            {"field": "device_name", "message": "Слишком длинно: не больше 120 символов"}
        ]
        assert User.objects.get().is_active is False


class TestResend:
    def test_too_soon_says_when_to_retry(self, api: Api, clock: FakeClock) -> None:
        api.post("/auth/register", register_body())
        clock.advance(seconds=20)

        response = api.post("/auth/register/resend", {"login": PHONE})

        assert response.status_code == 429
        assert response["Retry-After"] == "40"
        body = problem(response)
        assert (body["code"], body["detail"]) == ("code_resend_too_soon", "Новый код можно запросить через 40 с")
        assert len(sms_to(PHONE)) == 1

    def test_after_a_minute_a_new_code_replaces_the_old(self, api: Api, clock: FakeClock) -> None:
        api.post("/auth/register", register_body())
        first = last_code(PHONE)
        clock.advance(seconds=60)

        response = api.post("/auth/register/resend", {"login": "8 912 345 67 89"})

        assert response.status_code == 202
        assert response.json() == {"contact_kind": "phone", "masked": "+7 912 ***-**-89", "resend_after_seconds": 60}
        assert len(sms_to(PHONE)) == 2
        second = last_code(PHONE)
        if first != second:
            old = api.post("/auth/register/confirm", {"login": PHONE, "code": first})
            assert old.status_code == 422
        assert api.post("/auth/register/confirm", {"login": PHONE, "code": second}).status_code == 201

    def test_register_again_too_soon_is_refused_too(self, api: Api, clock: FakeClock) -> None:
        api.post("/auth/register", register_body())
        clock.advance(seconds=59)

        response = api.post("/auth/register", register_body())

        assert response.status_code == 429
        assert response["Retry-After"] == "1"
        assert len(sms_to(PHONE)) == 1
        assert User.objects.count() == 1

    def test_unknown_login_gets_the_same_answer_and_nothing_is_sent(self, api: Api) -> None:
        response = api.post("/auth/register/resend", {"login": "+79990001122"})

        assert response.status_code == 202
        assert response.json() == {"contact_kind": "phone", "masked": "+7 999 ***-**-22", "resend_after_seconds": 60}
        assert messages_sent() == 0


class TestConsentDocuments:
    def test_texts_in_force_for_the_registration_screen(self, api: Api) -> None:
        response = api.get("/auth/consent-documents")

        assert response.status_code == 200
        documents = response.json()
        assert [(d["kind"], d["version"], d["effective_from"]) for d in documents] == [
            ("personal_data", "2026-11-01", "2026-11-01T00:00:00Z"),
            ("marketing", "2026-11-01", "2026-11-01T00:00:00Z"),
        ]
        assert documents[0]["text"].startswith("Согласие на обработку персональных данных")
