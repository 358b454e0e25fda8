"""Devices for push notifications: registered and renewed by the app, a token moving to the
user who logged in on the device last, at most ten a user, removed by id or token."""

from __future__ import annotations

import datetime as dt

import pytest

from abonent.core.errors import ValidationFailed
from abonent.identity.models import User
from abonent.notifications.enums import PushPlatform
from abonent.notifications.models import PushDevice
from abonent.notifications.selectors import push_devices_list
from abonent.notifications.services import PushDeviceNotFound, push_device_register, push_device_remove
from tests.web.identity import user_make

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)
APNS = "0123456789abcdef" * 4
FCM = "dGVzdC10b2tlbg:APA91bH-k3_Xy.Z9"  # the characters an FCM registration token has


@pytest.fixture
def user(db: None) -> User:
    return user_make(email="maria@example.org")


@pytest.fixture
def other(db: None) -> User:
    return user_make(phone="+79160000002", email="other@example.org")


def devices() -> list[tuple[int, str, str, str, dt.datetime, dt.datetime]]:
    return list(
        PushDevice.objects.order_by("pk").values_list(
            "user_id", "platform", "token", "name", "created_at", "last_seen_at"
        )
    )


def test_a_device_is_registered_and_renewed(user: User) -> None:
    device = push_device_register(user=user, platform=PushPlatform.FCM, token=f"  {FCM}\n", name=" Pixel 8 ", now=NOW)

    assert devices() == [(user.pk, PushPlatform.FCM, FCM, "Pixel 8", NOW, NOW)]
    later = NOW + dt.timedelta(days=3)
    again = push_device_register(user=user, platform=PushPlatform.FCM, token=FCM, now=later)

    assert again.pk == device.pk
    assert devices() == [(user.pk, PushPlatform.FCM, FCM, "Pixel 8", NOW, later)]  # the name kept
    push_device_register(user=user, platform=PushPlatform.APNS, token=APNS, name="iPhone", now=later)
    assert [d.token for d in push_devices_list(user=user)] == [APNS, FCM]


def test_a_token_moves_to_the_user_who_registers_it_last(user: User, other: User) -> None:
    push_device_register(user=user, platform=PushPlatform.FCM, token=FCM, name="Планшет", now=NOW)

    later = NOW + dt.timedelta(hours=2)
    push_device_register(user=other, platform=PushPlatform.FCM, token=FCM, now=later)

    assert devices() == [(other.pk, PushPlatform.FCM, FCM, "Планшет", NOW, later)]
    assert list(push_devices_list(user=user)) == []


def test_the_eleventh_device_drops_the_least_recently_registered(user: User, other: User) -> None:
    for n in range(10):
        push_device_register(user=user, platform=PushPlatform.FCM, token=f"token-{n}", now=NOW + dt.timedelta(days=n))
    push_device_register(user=user, platform=PushPlatform.FCM, token="token-0", now=NOW + dt.timedelta(days=20))
    push_device_register(user=other, platform=PushPlatform.FCM, token="others", now=NOW)

    push_device_register(user=user, platform=PushPlatform.FCM, token="token-new", now=NOW + dt.timedelta(days=21))

    assert [d.token for d in push_devices_list(user=user)] == [
        "token-new", "token-0", "token-9", "token-8", "token-7", "token-6", "token-5", "token-4", "token-3", "token-2",
    ]  # fmt: skip
    assert [d.token for d in push_devices_list(user=other)] == ["others"]


@pytest.mark.parametrize(
    ("platform", "token", "name", "errors"),
    [
        ("gcm", FCM, "", {"platform": ["Укажите сервис: fcm, apns"]}),
        (PushPlatform.FCM, "   ", "", {"token": ["Укажите токен устройства"]}),
        (PushPlatform.FCM, "токен", "", {"token": ["Токен — до 500 латинских букв, цифр и знаков - _ : ."]}),
        (PushPlatform.FCM, "a b", "", {"token": ["Токен — до 500 латинских букв, цифр и знаков - _ : ."]}),
        (PushPlatform.FCM, "a" * 501, "", {"token": ["Токен — до 500 латинских букв, цифр и знаков - _ : ."]}),
        (PushPlatform.APNS, FCM, "", {"token": ["Токен APNs — 64 шестнадцатеричные цифры"]}),
        (PushPlatform.APNS, APNS[:-1], "", {"token": ["Токен APNs — 64 шестнадцатеричные цифры"]}),
        (PushPlatform.FCM, FCM, "я" * 121, {"name": ["Название устройства — до 120 символов"]}),
        (
            "",
            "",
            "",
            {"platform": ["Укажите сервис: fcm, apns"], "token": ["Укажите токен устройства"]},
        ),
    ],
)
def test_a_bad_registration_is_refused_and_nothing_is_stored(
    user: User, platform: str, token: str, name: str, errors: dict[str, list[str]]
) -> None:
    push_device_register(user=user, platform=PushPlatform.FCM, token="kept", now=NOW)

    with pytest.raises(ValidationFailed) as error:
        push_device_register(user=user, platform=platform, token=token, name=name, now=NOW + dt.timedelta(hours=1))

    assert error.value.errors == errors
    assert devices() == [(user.pk, PushPlatform.FCM, "kept", "", NOW, NOW)]


def test_a_device_is_removed_by_its_id_or_its_token(user: User) -> None:
    first = push_device_register(user=user, platform=PushPlatform.FCM, token="first", now=NOW)
    push_device_register(user=user, platform=PushPlatform.APNS, token=APNS, now=NOW)
    push_device_register(user=user, platform=PushPlatform.FCM, token="third", now=NOW)

    push_device_remove(user=user, device_id=first.pk)
    push_device_remove(user=user, token=f" {APNS} ")

    assert [d[2] for d in devices()] == ["third"]


def test_another_user_s_device_is_not_found_and_stays(user: User, other: User) -> None:
    theirs = push_device_register(user=other, platform=PushPlatform.FCM, token="theirs", now=NOW)

    for call in (
        {"device_id": theirs.pk},
        {"token": "theirs"},
        {"device_id": theirs.pk + 100},
        {"token": "nobody"},
        {},
        {"token": "  "},
    ):
        with pytest.raises(PushDeviceNotFound) as error:
            push_device_remove(user=user, **call)
        assert (error.value.code, error.value.text) == ("push_device_not_found", "Устройство не найдено")

    assert devices() == [(other.pk, PushPlatform.FCM, "theirs", "", NOW, NOW)]
