"""Registration with a confirmation code (service level)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from abonent.core.errors import ValidationFailed
from abonent.identity.codes import CodeAttemptsExhausted, CodeExpired, CodeInvalid, CodeResendTooSoon
from abonent.identity.contacts import InvalidLogin
from abonent.identity.enums import AuthChannel, ConsentKind
from abonent.identity.models import ConfirmationCode, Consent, User
from abonent.identity.services import (
    ConsentRequired,
    registration_code_resend,
    registration_confirm,
    registration_start,
)
from abonent.notifications.models import OutboxMessage

# Messages go out after commit: these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
PASSWORD = "Зелёный-чайник-42"


def start(login: str = "8 (912) 345-67-89", *, now: dt.datetime = NOW, **overrides: object):  # type: ignore[no-untyped-def]
    args = {
        "login": login,
        "password": PASSWORD,
        "personal_data_consent": True,
        "marketing_consent": False,
        "channel": AuthChannel.WEB,
        "ip": "203.0.113.5",
        "now": now,
        **overrides,
    }
    return registration_start(**args)  # type: ignore[arg-type]


def last_code(recipient: str) -> str:
    body = OutboxMessage.objects.filter(recipient=recipient).order_by("-id").values_list("body", flat=True).first()
    assert body is not None
    match = re.search(r"\b(\d{6})\b", body)
    assert match is not None
    return match.group(1)


class TestRegistrationStart:
    def test_phone_any_common_way_is_stored_in_e164_and_code_sent_by_sms(self, settings) -> None:  # type: ignore[no-untyped-def]
        sent = start("8 (912) 345-67-89")

        user = User.objects.get()
        assert (user.phone, user.email, user.is_active) == ("+79123456789", None, False)
        assert user.check_password(PASSWORD)
        assert (sent.recipient, sent.masked) == ("+79123456789", "+7 912 ***-**-89")
        sms = OutboxMessage.objects.get()
        assert (sms.channel, sms.recipient) == ("sms", "+79123456789")
        assert re.fullmatch(
            r"Код для регистрации в личном кабинете: \d{6}\. Никому его не сообщайте\. Код действует 10 минут\.",
            sms.body,
        )

    def test_code_is_stored_hashed(self) -> None:
        start()

        code = last_code("+79123456789")
        row = ConfirmationCode.objects.get()
        assert code not in row.code_hash
        assert len(row.code_hash) == 64
        assert row.expires_at == NOW + dt.timedelta(minutes=10)

    def test_consents_are_separate_versioned_records(self) -> None:
        start(marketing_consent=True)

        consents = Consent.objects.order_by("kind")
        assert [(c.kind, c.document.version, c.channel, c.ip, c.granted_at) for c in consents] == [
            (ConsentKind.MARKETING, "2026-11-01", "web", "203.0.113.5", NOW),
            (ConsentKind.PERSONAL_DATA, "2026-11-01", "web", "203.0.113.5", NOW),
        ]

    def test_personal_data_consent_is_required(self) -> None:
        with pytest.raises(ConsentRequired) as exc:
            start(personal_data_consent=False)

        assert exc.value.field == "personal_data_consent"
        assert not User.objects.exists()
        assert not OutboxMessage.objects.exists()

    @pytest.mark.parametrize("login", ["123", "+1 202 555 0100", "8 495 123-45-67", "ivan@", "телефон"])
    def test_bad_login_is_refused(self, login: str) -> None:
        with pytest.raises(InvalidLogin):
            start(login)

        assert not User.objects.exists()
        assert not ConfirmationCode.objects.exists()

    def test_weak_password_is_refused_with_the_validators_messages(self) -> None:
        with pytest.raises(ValidationFailed) as exc:
            start(password="12345678")

        assert exc.value.errors == {
            "password": [
                "Введённый пароль слишком короткий. Он должен состоять из как минимум 10 символов.",
                "Введённый пароль слишком широко распространён.",
                "Введённый пароль состоит только из цифр.",
            ]
        }
        assert not User.objects.exists()

    def test_registered_phone_gets_a_notice_and_the_same_answer(self) -> None:
        start()
        registration_confirm(login="+79123456789", code=last_code("+79123456789"), ip=None, now=NOW)
        OutboxMessage.objects.all().delete()

        sent = start(now=NOW + dt.timedelta(minutes=5), password="Другой-пароль-2026")

        assert sent.masked == "+7 912 ***-**-89"
        assert User.objects.count() == 1
        assert User.objects.get().check_password(PASSWORD)
        notice = OutboxMessage.objects.get()
        assert notice.body.startswith("Кто-то пытается зарегистрироваться в личном кабинете с вашим номером")

    def test_unconfirmed_registration_is_replaced(self) -> None:
        start()
        start(now=NOW + dt.timedelta(minutes=2), password="Другой-пароль-2026")

        user = User.objects.get()
        assert user.check_password("Другой-пароль-2026")
        assert Consent.objects.filter(user=user).count() == 1


class TestRegistrationConfirm:
    def test_right_code_activates_the_profile(self) -> None:
        start("ivanova@Mail.RU")
        code = re.search(r"\d{6}", __import__("django.core.mail", fromlist=["outbox"]).outbox[-1].body).group(0)  # type: ignore[union-attr]

        user = registration_confirm(login="ivanova@mail.ru", code=code, ip=None, now=NOW + dt.timedelta(minutes=9))

        assert (user.is_active, user.email, user.email_confirmed_at, user.phone_confirmed_at) == (
            True,
            "ivanova@mail.ru",
            NOW + dt.timedelta(minutes=9),
            None,
        )

    def test_code_works_once(self) -> None:
        start()
        code = last_code("+79123456789")
        registration_confirm(login="+79123456789", code=code, ip=None, now=NOW)

        with pytest.raises(CodeExpired):
            registration_confirm(login="+79123456789", code=code, ip=None, now=NOW)

    def test_code_expires_after_10_minutes(self) -> None:
        start()

        with pytest.raises(CodeExpired):
            registration_confirm(
                login="+79123456789", code=last_code("+79123456789"), ip=None, now=NOW + dt.timedelta(minutes=10)
            )
        assert User.objects.get().is_active is False

    def test_five_wrong_tries_spend_the_code(self) -> None:
        start()
        code = last_code("+79123456789")
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"

        lefts = []
        for _ in range(4):
            with pytest.raises(CodeInvalid) as exc:
                registration_confirm(login="+79123456789", code=wrong, ip=None, now=NOW)
            lefts.append(str(exc.value))
        with pytest.raises(CodeAttemptsExhausted):
            registration_confirm(login="+79123456789", code=wrong, ip=None, now=NOW)
        with pytest.raises(CodeAttemptsExhausted):
            registration_confirm(login="+79123456789", code=code, ip=None, now=NOW)

        assert lefts == [f"Неверный код. Осталось попыток: {n}" for n in (4, 3, 2, 1)]
        assert User.objects.get().is_active is False

    def test_only_the_latest_code_works(self) -> None:
        start()
        first = last_code("+79123456789")
        registration_code_resend(login="+79123456789", ip=None, now=NOW + dt.timedelta(minutes=1))
        second = last_code("+79123456789")

        if first != second:
            with pytest.raises(CodeInvalid):
                registration_confirm(login="+79123456789", code=first, ip=None, now=NOW + dt.timedelta(minutes=2))
        assert registration_confirm(
            login="+79123456789", code=second, ip=None, now=NOW + dt.timedelta(minutes=2)
        ).is_active


class TestResendLimits:
    def test_resend_at_most_once_a_minute(self) -> None:
        start()

        with pytest.raises(CodeResendTooSoon) as exc:
            registration_code_resend(login="+79123456789", ip=None, now=NOW + dt.timedelta(seconds=40))

        assert exc.value.retry_after == 20
        assert str(exc.value) == "Новый код можно запросить через 20 с"
        assert OutboxMessage.objects.count() == 1

    def test_at_most_five_an_hour(self) -> None:
        start()
        for minute in (1, 2, 3, 4):
            registration_code_resend(login="+79123456789", ip=None, now=NOW + dt.timedelta(minutes=minute))

        with pytest.raises(CodeResendTooSoon) as exc:
            registration_code_resend(login="+79123456789", ip=None, now=NOW + dt.timedelta(minutes=5))

        assert exc.value.retry_after == 55 * 60
        assert OutboxMessage.objects.count() == 5
        registration_code_resend(login="+79123456789", ip=None, now=NOW + dt.timedelta(minutes=60, seconds=1))
        assert OutboxMessage.objects.count() == 6

    def test_resend_for_an_unknown_login_sends_nothing_but_answers_the_same(self) -> None:
        sent = registration_code_resend(login="+79990001122", ip=None, now=NOW)

        assert sent.masked == "+7 999 ***-**-22"
        assert not OutboxMessage.objects.exists()
