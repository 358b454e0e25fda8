"""The profile through the API: what it shows, changes of phone and e-mail, marketing consent."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from abonent.core.models import AuditRecord
from abonent.identity.models import Consent, User
from tests.api.conftest import (
    NOW,
    Api,
    FakeClock,
    Subscriber,
    last_code,
    login,
    mail_to,
    messages_sent,
    problem,
    sms_to,
    wrong,
)

pytestmark = pytest.mark.django_db

NEW_PHONE = "+79120001122"


class TestProfile:
    def test_shows_contacts_names_and_consents(self, api: Api, subscriber: Subscriber, tokens: dict[str, Any]) -> None:
        User.objects.filter(pk=subscriber.user.pk).update(
            last_name="Иванова", first_name="Мария", middle_name="Петровна"
        )

        response = api.get("/profile", token=tokens["access_token"])

        assert response.status_code == 200
        assert response.json() == {
            "id": subscriber.user.pk,
            "phone": "+79123456789",
            "email": None,
            "phone_confirmed": True,
            "email_confirmed": False,
            "last_name": "Иванова",
            "first_name": "Мария",
            "middle_name": "Петровна",
            "language": "ru",
            "consents": [
                {
                    "kind": "personal_data",
                    "version": "2026-11-01",
                    "granted_at": "2026-11-22T08:00:00Z",
                    "withdrawn_at": None,
                }
            ],
            "deletion_request": None,
        }


class TestPhoneChange:
    def test_code_to_the_new_number_then_the_change(
        self, api: Api, mail_subscriber: Subscriber, clock: FakeClock
    ) -> None:
        token = login(api, mail_subscriber)["access_token"]

        started = api.post("/profile/phone", {"phone": "8 912 000-11-22"}, token=token)

        assert started.status_code == 202
        assert started.json() == {"contact_kind": "phone", "masked": "+7 912 ***-**-22", "resend_after_seconds": 60}
        assert sms_to(NEW_PHONE)[0].startswith("Код для смены телефона в личном кабинете: ")
        assert User.objects.get().phone is None
        clock.advance(minutes=2)

        confirmed = api.post("/profile/phone/confirm", {"phone": NEW_PHONE, "code": last_code(NEW_PHONE)}, token=token)

        assert confirmed.status_code == 200
        profile = confirmed.json()
        assert (profile["phone"], profile["phone_confirmed"], profile["email"], profile["email_confirmed"]) == (
            NEW_PHONE,
            True,
            "ivanova@mail.ru",
            True,
        )
        user = User.objects.get()
        assert (user.phone, user.phone_confirmed_at) == (NEW_PHONE, clock.current)
        audit = AuditRecord.objects.get(action="phone.changed")
        assert (audit.before, audit.after, audit.ip) == ({"phone": None}, {"phone": NEW_PHONE}, "203.0.113.7")

    def test_wrong_code_changes_nothing(self, api: Api, mail_subscriber: Subscriber) -> None:
        token = login(api, mail_subscriber)["access_token"]
        api.post("/profile/phone", {"phone": NEW_PHONE}, token=token)

        response = api.post(
            "/profile/phone/confirm", {"phone": NEW_PHONE, "code": wrong(last_code(NEW_PHONE))}, token=token
        )

        assert response.status_code == 422
        assert problem(response)["code"] == "code_invalid"
        assert User.objects.get().phone is None
        assert not AuditRecord.objects.filter(action="phone.changed").exists()

    def test_current_number_is_refused(self, api: Api, subscriber: Subscriber, tokens: dict[str, Any]) -> None:
        response = api.post("/profile/phone", {"phone": "8 (912) 345-67-89"}, token=tokens["access_token"])

        assert response.status_code == 422
        assert problem(response)["errors"] == [{"field": "phone", "message": "Это ваш текущий телефон"}]
        assert messages_sent() == 0

    def test_bad_number(self, api: Api, subscriber: Subscriber, tokens: dict[str, Any]) -> None:
        response = api.post("/profile/phone", {"phone": "+7 495 123-45-67"}, token=tokens["access_token"])

        assert response.status_code == 422
        assert problem(response)["code"] == "invalid_phone"
        assert messages_sent() == 0

    def test_number_of_another_profile_is_refused_at_confirmation(
        self, api: Api, register: Any, mail_subscriber: Subscriber
    ) -> None:
        register(NEW_PHONE)
        token = login(api, mail_subscriber)["access_token"]
        api.post("/profile/phone", {"phone": NEW_PHONE}, token=token)

        response = api.post("/profile/phone/confirm", {"phone": NEW_PHONE, "code": last_code(NEW_PHONE)}, token=token)

        assert response.status_code == 409
        assert problem(response)["errors"] == [
            {"field": "phone", "message": "Этот телефон уже указан в другом профиле"}
        ]
        assert User.objects.get(email="ivanova@mail.ru").phone is None

    def test_needs_a_token(self, api: Api, subscriber: Subscriber) -> None:
        response = api.post("/profile/phone", {"phone": NEW_PHONE})

        assert response.status_code == 401
        assert messages_sent() == 0


class TestEmailChange:
    def test_code_to_the_new_address_then_the_change(
        self, api: Api, subscriber: Subscriber, tokens: dict[str, Any]
    ) -> None:
        started = api.post("/profile/email", {"email": "maria@Example.RU"}, token=tokens["access_token"])

        assert started.status_code == 202
        assert started.json() == {"contact_kind": "email", "masked": "ma***@example.ru", "resend_after_seconds": 60}
        [message] = mail_to("maria@example.ru")
        assert message.subject == "Подтверждение e-mail"

        confirmed = api.post(
            "/profile/email/confirm",
            {"email": "maria@example.ru", "code": last_code("maria@example.ru")},
            token=tokens["access_token"],
        )

        assert confirmed.status_code == 200
        assert (confirmed.json()["email"], confirmed.json()["email_confirmed"]) == ("maria@example.ru", True)
        assert User.objects.get().email_confirmed_at == NOW

    def test_bad_address(self, api: Api, subscriber: Subscriber, tokens: dict[str, Any]) -> None:
        response = api.post("/profile/email", {"email": "maria@"}, token=tokens["access_token"])

        assert response.status_code == 422
        assert problem(response)["errors"] == [
            {"field": "email", "message": "Введите адрес электронной почты полностью, например ivanova@mail.ru"}
        ]
        assert mail.outbox == []

    def test_unknown_field(self, api: Api, subscriber: Subscriber, tokens: dict[str, Any]) -> None:
        response = api.post(
            "/profile/email", {"email": "maria@example.ru", "phone": "+79120001122"}, token=tokens["access_token"]
        )

        assert response.status_code == 422
        assert problem(response)["errors"] == [{"field": "phone", "message": "Неизвестное поле: уберите его"}]
        assert messages_sent() == 0


class TestMarketingConsent:
    def test_give_then_withdraw(
        self, api: Api, subscriber: Subscriber, tokens: dict[str, Any], clock: FakeClock
    ) -> None:
        given = api.put("/profile/consents/marketing", {"given": True}, token=tokens["access_token"])

        assert given.status_code == 200
        assert given.json() == {"given": True, "version": "2026-11-01", "granted_at": "2026-11-22T10:00:00Z"}
        consent = Consent.objects.get(kind="marketing")
        assert (consent.channel, consent.ip, consent.withdrawn_at) == ("app", "203.0.113.7", None)
        clock.advance(minutes=5)

        withdrawn = api.put("/profile/consents/marketing", {"given": False}, token=tokens["access_token"])

        assert withdrawn.status_code == 200
        assert withdrawn.json() == {"given": False, "version": None, "granted_at": None}
        consent.refresh_from_db()
        assert (consent.withdrawn_at, consent.withdrawn_channel) == (clock.current, "app")
        profile = api.get("/profile", token=tokens["access_token"]).json()
        assert [(c["kind"], c["withdrawn_at"]) for c in profile["consents"]] == [
            ("marketing", "2026-11-22T10:05:00Z"),
            ("personal_data", None),
        ]

    def test_giving_twice_keeps_one_consent(self, api: Api, subscriber: Subscriber, tokens: dict[str, Any]) -> None:
        api.put("/profile/consents/marketing", {"given": True}, token=tokens["access_token"])
        api.put("/profile/consents/marketing", {"given": True}, token=tokens["access_token"])

        assert Consent.objects.filter(kind="marketing").count() == 1

    def test_given_must_be_a_boolean(self, api: Api, subscriber: Subscriber, tokens: dict[str, Any]) -> None:
        response = api.put("/profile/consents/marketing", {"given": "yes"}, token=tokens["access_token"])

        assert response.status_code == 422
        assert problem(response)["errors"] == [{"field": "given", "message": "Ожидается true или false"}]
        assert not Consent.objects.filter(kind="marketing").exists()
