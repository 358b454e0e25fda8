"""A subscriber's choices of what reaches them where: stored only where they differ from the
defaults; bad choices and switching off a mandatory notice refused with nothing stored."""

from __future__ import annotations

import datetime as dt

import pytest

from abonent.identity.models import User
from abonent.notifications.enums import Channel, Kind, PushPlatform
from abonent.notifications.models import Preference
from abonent.notifications.selectors import ChannelChoice, preferences_get
from abonent.notifications.services import PreferenceNotAllowed, Recipient, preferences_set, push_device_register
from tests.web.identity import user_make

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)
E, S, P, W = Channel.EMAIL, Channel.SMS, Channel.PUSH, Channel.PORTAL


@pytest.fixture
def user(db: None) -> User:
    return user_make(email="maria@example.org")


def stored(user: User) -> list[tuple[str, str, bool, dt.datetime]]:
    return list(
        Preference.objects.filter(user=user)
        .order_by("kind", "channel")
        .values_list("kind", "channel", "enabled", "changed_at")
    )


def reaching(user: User, *, email: bool, phone: bool) -> Recipient:
    """The user as a message sees them, with a confirmed e-mail and phone or not."""
    return Recipient(user_id=user.pk, email=user.email if email else None, phone=user.phone if phone else None)


def matrix(user: User, *, email: bool = True, phone: bool = True) -> dict[str, list[tuple[str, bool, bool, bool]]]:
    return {
        k.kind: [(c.channel, c.enabled, c.mandatory, c.available) for c in k.channels]
        for k in preferences_get(recipient=reaching(user, email=email, phone=phone))
    }


def test_the_defaults_of_a_new_subscriber(user: User) -> None:
    choices = preferences_get(recipient=reaching(user, email=True, phone=False))

    assert [(k.kind, k.label) for k in choices] == [
        (Kind.READINGS_OPEN, "открылся приём показаний"),
        (Kind.READINGS_LAST_DAY, "последний день приёма показаний"),
        (Kind.BILL_READY, "новая квитанция"),
        (Kind.PAYMENT_DUE, "приближается срок оплаты"),
        (Kind.DEBT, "задолженность"),
        (Kind.DEBT_NOTICE, "уведомление о задолженности за два периода"),
        (Kind.METER_VERIFICATION, "срок поверки счётчика"),
        (Kind.CONTRACT_ENDING, "окончание договора"),
        (Kind.APPEAL_UPDATE, "ответы на обращения"),
        (Kind.PAYMENT_CONFIRMED, "оплата зачислена"),
        (Kind.ANNOUNCEMENT, "объявления поставщика"),
        (Kind.SAFETY_NOTICE, "важные сообщения о безопасности"),
    ]  # the bill by e-mail is not the subscriber's to choose here: it follows the paper bill
    by_kind = {k.kind: k.channels for k in choices}
    # in the order of the page: the portal, push, e-mail, SMS; push unavailable without a device
    assert by_kind[Kind.READINGS_OPEN] == [
        ChannelChoice(channel=W, enabled=True, mandatory=False, available=True),
        ChannelChoice(channel=P, enabled=True, mandatory=False, available=False),
        ChannelChoice(channel=E, enabled=False, mandatory=False, available=True),
        ChannelChoice(channel=S, enabled=False, mandatory=False, available=False),
    ]
    assert by_kind[Kind.DEBT_NOTICE] == [
        ChannelChoice(channel=W, enabled=True, mandatory=True, available=True),
        ChannelChoice(channel=P, enabled=True, mandatory=False, available=False),
        ChannelChoice(channel=E, enabled=True, mandatory=True, available=True),
        ChannelChoice(channel=S, enabled=True, mandatory=True, available=False),
    ]
    assert [c.channel for c in by_kind[Kind.PAYMENT_CONFIRMED]] == [W, P, E]  # never by SMS
    assert {(c.enabled, c.mandatory) for c in by_kind[Kind.SAFETY_NOTICE]} == {(True, True)}
    assert stored(user) == []


def test_push_is_available_once_a_device_is_registered(user: User) -> None:
    push_device_register(user=user, platform=PushPlatform.FCM, token="fcm-token-1", now=NOW)

    assert matrix(user)[Kind.BILL_READY] == [
        (W, True, False, True),
        (P, True, False, True),
        (E, True, False, True),
        (S, False, False, True),
    ]


def test_only_the_choices_that_differ_from_the_defaults_are_stored(user: User) -> None:
    changed = preferences_set(
        user=user,
        choices={
            (Kind.READINGS_OPEN, E): True,  # off by default
            (Kind.READINGS_OPEN, P): True,  # on by default: nothing to store
            (Kind.BILL_READY, E): False,
            (Kind.DEBT_NOTICE, P): False,  # push of the notice may be switched off
            (Kind.DEBT_NOTICE, E): True,  # mandatory, on: fine, nothing to store
        },
        now=NOW,
    )

    assert changed == 3
    assert stored(user) == [
        (Kind.BILL_READY, E, False, NOW),
        (Kind.DEBT_NOTICE, P, False, NOW),
        (Kind.READINGS_OPEN, E, True, NOW),
    ]
    assert matrix(user)[Kind.READINGS_OPEN][2] == (E, True, False, True)

    later = NOW + dt.timedelta(days=1)
    changed = preferences_set(
        user=user,
        choices={(Kind.READINGS_OPEN, E): False, (Kind.BILL_READY, E): False, (Kind.PAYMENT_DUE, S): True},
        now=later,
    )

    assert changed == 2  # back to the default (the row goes), and a new one; the same choice again is no change
    assert stored(user) == [
        (Kind.BILL_READY, E, False, NOW),
        (Kind.DEBT_NOTICE, P, False, NOW),
        (Kind.PAYMENT_DUE, S, True, later),
    ]
    assert preferences_set(user=user, choices={}, now=later) == 0


def test_one_user_s_choices_are_not_another_s(user: User) -> None:
    other = user_make(phone="+79160000002", email="other@example.org")
    preferences_set(user=other, choices={(Kind.READINGS_OPEN, S): True}, now=NOW)

    preferences_set(user=user, choices={(Kind.READINGS_OPEN, S): False}, now=NOW)

    assert stored(user) == []
    assert stored(other) == [(Kind.READINGS_OPEN, S, True, NOW)]
    assert matrix(user)[Kind.READINGS_OPEN][3] == (S, False, False, True)


def test_bad_choices_are_refused_each_with_its_reason_and_nothing_is_stored(user: User) -> None:
    preferences_set(user=user, choices={(Kind.PAYMENT_DUE, E): True}, now=NOW)
    before = stored(user)

    with pytest.raises(PreferenceNotAllowed) as error:
        preferences_set(
            user=user,
            choices={
                (Kind.READINGS_OPEN, S): True,  # fine, but not stored: the whole call is refused
                (Kind.PAYMENT_DUE, E): False,
                ("weather", E): True,
                (Kind.BILL_BY_EMAIL, E): False,
                (Kind.PAYMENT_CONFIRMED, S): True,
                (Kind.BILL_READY, "fax"): True,
                (Kind.DEBT_NOTICE, E): False,
                (Kind.DEBT_NOTICE, S): False,
                (Kind.SAFETY_NOTICE, P): False,
            },
            now=NOW + dt.timedelta(hours=1),
        )

    assert (error.value.code, error.value.text) == ("preference_not_allowed", "Эти настройки нельзя сохранить")
    assert error.value.errors == {
        "weather.email": ["Такого вида сообщений нет: weather"],
        "bill_by_email.email": ["Такого вида сообщений нет: bill_by_email"],
        "payment_confirmed.sms": ["«оплата зачислена» не отправляется каналом sms"],
        "bill_ready.fax": ["«новая квитанция» не отправляется каналом fax"],
        "debt_notice.email": [
            "«уведомление о задолженности за два периода» (e-mail) нельзя отключить: это уведомление обязательно"
        ],
        "debt_notice.sms": [
            "«уведомление о задолженности за два периода» (SMS) нельзя отключить: это уведомление обязательно"
        ],
        "safety_notice.push": [
            "«важные сообщения о безопасности» (push-уведомление) нельзя отключить: это уведомление обязательно"
        ],
    }
    assert stored(user) == before
