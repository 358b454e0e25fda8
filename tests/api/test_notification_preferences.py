"""What a subscriber receives, kind by kind and channel by channel, through the API: the
defaults, what can reach them, changing a few pairs, the notices that cannot be switched off;
and the language of the messages. A refused change changes nothing, not even its valid pairs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from abonent.identity.models import User
from abonent.identity.services import app_session_start
from abonent.notifications.models import Preference
from abonent.notifications.services import push_device_register
from tests.api.conftest import NOW, Api, FakeClock, problem
from tests.web.identity import user_make

pytestmark = pytest.mark.django_db

PATH = "/profile/notification-preferences"
LATER = NOW + dt.timedelta(minutes=5)

# The table as a subscriber who changed nothing sees it: for each kind, its channels in the
# order portal, push, e-mail, SMS, each (enabled, mandatory).
DEFAULTS: dict[str, dict[str, tuple[bool, bool]]] = {
    "readings_open": {"portal": (True, False), "push": (True, False), "email": (False, False), "sms": (False, False)},
    "readings_last_day": {
        "portal": (True, False),
        "push": (True, False),
        "email": (True, False),
        "sms": (False, False),
    },
    "bill_ready": {"portal": (True, False), "push": (True, False), "email": (True, False), "sms": (False, False)},
    "payment_due": {"portal": (True, False), "push": (True, False), "email": (False, False), "sms": (False, False)},
    "debt": {"portal": (True, False), "push": (True, False), "email": (True, False), "sms": (False, False)},
    "debt_notice": {"portal": (True, True), "push": (True, False), "email": (True, True), "sms": (True, True)},
    "meter_verification": {
        "portal": (True, False),
        "push": (True, False),
        "email": (True, False),
        "sms": (False, False),
    },
    "contract_ending": {"portal": (True, False), "push": (True, False), "email": (True, False), "sms": (False, False)},
    "appeal_update": {"portal": (True, False), "push": (True, False), "email": (False, False), "sms": (False, False)},
    "payment_confirmed": {"portal": (True, False), "push": (True, False), "email": (True, False)},
    "announcement": {"portal": (True, False), "push": (True, False), "email": (True, False), "sms": (False, False)},
    "safety_notice": {"portal": (True, True), "push": (True, True), "email": (True, True), "sms": (True, True)},
}
CHANNEL_LABELS = {"portal": "в личном кабинете", "push": "push-уведомление", "email": "e-mail", "sms": "SMS"}


@pytest.fixture
def maria(clock: FakeClock) -> User:
    """Her phone confirmed, no e-mail, no device."""
    return user_make(phone="+79123456789", first_name="Мария")


@pytest.fixture
def token(maria: User) -> str:
    return app_session_start(user=maria, device_name="Pixel 8", user_agent="", ip=None, now=NOW).access_token


def table(body: list[dict[str, Any]]) -> dict[str, dict[str, tuple[bool, bool]]]:
    return {item["kind"]: {c["channel"]: (c["enabled"], c["mandatory"]) for c in item["channels"]} for item in body}


def reach(body: list[dict[str, Any]]) -> set[tuple[str, bool]]:
    """Which channels can reach the subscriber, the same for every kind."""
    return {(c["channel"], c["available"]) for item in body for c in item["channels"]}


def stored() -> list[tuple[int, str, str, bool, dt.datetime]]:
    return list(
        Preference.objects.order_by("kind", "channel").values_list(
            "user_id", "kind", "channel", "enabled", "changed_at"
        )
    )


def patch(api: Api, token: str, *choices: tuple[str, str, Any]) -> Any:
    body = {"choices": [{"kind": kind, "channel": channel, "enabled": enabled} for kind, channel, enabled in choices]}
    return api.call("PATCH", PATH, body, token=token)


# --- Reading ---------------------------------------------------------------------------


class TestGet:
    def test_the_defaults_of_every_kind_a_subscriber_chooses(self, api: Api, token: str) -> None:
        response = api.get(PATH, token=token)

        assert response.status_code == 200
        body = response.json()
        assert table(body) == DEFAULTS  # the bill by e-mail is not the subscriber's to choose here
        assert [item["kind"] for item in body] == list(DEFAULTS)
        assert body[5] == {
            "kind": "debt_notice",
            "label": "уведомление о задолженности за два периода",
            "channels": [
                {
                    "channel": "portal",
                    "label": "в личном кабинете",
                    "enabled": True,
                    "mandatory": True,
                    "available": True,
                },
                {
                    "channel": "push",
                    "label": "push-уведомление",
                    "enabled": True,
                    "mandatory": False,
                    "available": False,
                },
                {"channel": "email", "label": "e-mail", "enabled": True, "mandatory": True, "available": False},
                {"channel": "sms", "label": "SMS", "enabled": True, "mandatory": True, "available": True},
            ],
        }
        assert {item["kind"]: item["label"] for item in body}["payment_confirmed"] == "оплата зачислена"
        assert {c["label"] for item in body for c in item["channels"]} == set(CHANNEL_LABELS.values())

    def test_what_can_reach_the_subscriber(self, api: Api, token: str, maria: User) -> None:
        assert reach(api.get(PATH, token=token).json()) == {
            ("portal", True),
            ("push", False),
            ("email", False),
            ("sms", True),
        }

        User.objects.filter(pk=maria.pk).update(email="maria@mail.ru", email_confirmed_at=NOW, phone_confirmed_at=None)
        push_device_register(user=maria, platform="fcm", token="pixel-token", now=NOW)

        assert reach(api.get(PATH, token=token).json()) == {
            ("portal", True),
            ("push", True),
            ("email", True),
            ("sms", False),
        }

    def test_an_unconfirmed_email_does_not_reach(self, api: Api, token: str, maria: User) -> None:
        User.objects.filter(pk=maria.pk).update(email="maria@mail.ru", email_confirmed_at=None)

        assert ("email", False) in reach(api.get(PATH, token=token).json())

    def test_in_english(self, api: Api, token: str) -> None:
        response = api.client.get(
            "/api/v1" + PATH, headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"}
        )

        assert response.status_code == 200
        assert table(response.json()) == DEFAULTS


# --- Changing --------------------------------------------------------------------------


class TestPatch:
    def test_a_few_pairs_and_the_rest_keep_theirs(self, api: Api, token: str, maria: User) -> None:
        response = patch(
            api,
            token,
            ("readings_open", "push", False),
            ("readings_open", "sms", True),
            ("bill_ready", "email", True),  # as the default: nothing to store
            ("debt_notice", "push", False),  # the push of the notice is not mandatory
            ("debt_notice", "email", True),  # switching a mandatory one on is allowed, it is on anyway
        )

        assert response.status_code == 200
        expected = {kind: dict(channels) for kind, channels in DEFAULTS.items()}
        expected["readings_open"].update(push=(False, False), sms=(True, False))
        expected["debt_notice"]["push"] = (False, False)
        assert table(response.json()) == expected
        assert table(api.get(PATH, token=token).json()) == expected
        assert stored() == [
            (maria.pk, "debt_notice", "push", False, NOW),
            (maria.pk, "readings_open", "push", False, NOW),
            (maria.pk, "readings_open", "sms", True, NOW),
        ]

    def test_back_to_the_default_forgets_the_choice(self, api: Api, token: str, maria: User, clock: FakeClock) -> None:
        patch(api, token, ("readings_open", "push", False), ("announcement", "email", False))
        clock.current = LATER

        response = patch(api, token, ("readings_open", "push", True), ("announcement", "email", False))

        assert response.status_code == 200
        assert table(response.json())["readings_open"] == DEFAULTS["readings_open"]
        assert stored() == [(maria.pk, "announcement", "email", False, NOW)]

    def test_nothing_to_change(self, api: Api, token: str) -> None:
        response = patch(api, token)

        assert response.status_code == 200
        assert table(response.json()) == DEFAULTS
        assert stored() == []

    def test_another_users_choices_are_theirs(self, api: Api, token: str, maria: User) -> None:
        stranger = user_make(phone="+79160000002")
        stranger_token = app_session_start(user=stranger, device_name="", user_agent="", ip=None, now=NOW)
        patch(api, stranger_token.access_token, ("readings_open", "push", False))

        assert table(api.get(PATH, token=token).json()) == DEFAULTS
        assert stored() == [(stranger.pk, "readings_open", "push", False, NOW)]

    @pytest.mark.parametrize(
        ("choices", "errors"),
        [
            (
                [("debt_notice", "sms", False)],
                [("debt_notice.sms", "«уведомление о задолженности за два периода» (SMS) нельзя отключить: это "
                  "уведомление обязательно")],
            ),
            (
                [("safety_notice", "push", False)],
                [("safety_notice.push", "«важные сообщения о безопасности» (push-уведомление) нельзя отключить: это "
                  "уведомление обязательно")],
            ),
            ([("spam", "email", True)], [("spam.email", "Такого вида сообщений нет: spam")]),
            ([("bill_by_email", "email", False)], [("bill_by_email.email", "Такого вида сообщений нет: bill_by_email")]),
            (
                [("payment_confirmed", "sms", True)],
                [("payment_confirmed.sms", "«оплата зачислена» не отправляется каналом sms")],
            ),
            (
                [("readings_open", "fax", True)],
                [("readings_open.fax", "«открылся приём показаний» не отправляется каналом fax")],
            ),
            (
                [("readings_open", "push", False), ("debt_notice", "portal", False), ("debt", "telegram", True)],
                [
                    ("debt_notice.portal", "«уведомление о задолженности за два периода» (в личном кабинете) нельзя "
                     "отключить: это уведомление обязательно"),
                    ("debt.telegram", "«задолженность» не отправляется каналом telegram"),
                ],
            ),
        ],
    )  # fmt: skip
    def test_refused_pairs_change_nothing(
        self, api: Api, token: str, maria: User, choices: list[tuple[str, str, bool]], errors: list[tuple[str, str]]
    ) -> None:
        patch(api, token, ("announcement", "email", False))
        before = stored()

        response = patch(api, token, *choices)

        assert response.status_code == 422
        answer = problem(response)
        assert (answer["code"], answer["detail"]) == ("preference_not_allowed", "Эти настройки нельзя сохранить")
        assert [(e["field"], e["message"]) for e in answer["errors"]] == errors
        assert stored() == before == [(maria.pk, "announcement", "email", False, NOW)]

    def test_the_same_pair_twice(self, api: Api, token: str) -> None:
        response = patch(api, token, ("readings_open", "push", False), ("readings_open", "push", True))

        assert response.status_code == 422
        answer = problem(response)
        assert answer["code"] == "validation_failed"
        assert answer["errors"] == [
            {"field": "readings_open.push", "message": "Эта пара указана в choices больше одного раза"}
        ]
        assert stored() == []

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            ({}, [("choices", "Обязательное поле: заполните его")]),
            ({"choices": None}, [("choices", "Ожидается список JSON")]),
            ({"choices": {"readings_open": False}}, [("choices", "Ожидается список JSON")]),
            (
                {"choices": [{"kind": "readings_open", "channel": "push", "enabled": "no"}]},
                [("choices.0.enabled", "Ожидается true или false")],
            ),
            (
                {"choices": [{"kind": "readings_open", "channel": "push", "enabled": 0}]},
                [("choices.0.enabled", "Ожидается true или false")],
            ),
            ({"choices": [{"kind": "readings_open", "channel": "push"}]}, [("choices.0.enabled", "Обязательное поле: заполните его")]),
            (
                {"choices": [{"kind": "", "channel": "push", "enabled": False}]},
                [("choices.0.kind", "Обязательное поле: заполните его")],
            ),
            (
                {"choices": [{"kind": "k" * 41, "channel": "push", "enabled": False}]},
                [("choices.0.kind", "Слишком длинно: не больше 40 символов")],
            ),
            (
                {"choices": [{"kind": "readings_open", "channel": "c" * 21, "enabled": False}]},
                [("choices.0.channel", "Слишком длинно: не больше 20 символов")],
            ),
            (
                {"choices": [{"kind": "readings_open", "channel": "push", "enabled": False, "user": 2}]},
                [("choices.0.user", "Неизвестное поле: уберите его")],
            ),
            (
                {"choices": [], "language": "en"},
                [("language", "Неизвестное поле: уберите его")],
            ),
            (
                {"choices": [{"kind": "readings_open", "channel": "push", "enabled": False}] * 101},
                [("choices", "Слишком много элементов: не больше 100")],
            ),
        ],
    )  # fmt: skip
    def test_bad_input(self, api: Api, token: str, body: dict[str, Any], errors: list[tuple[str, str]]) -> None:
        response = api.call("PATCH", PATH, body, token=token)

        assert response.status_code == 422
        answer = problem(response)
        assert answer["code"] == "validation_failed"
        assert [(e["field"], e["message"]) for e in answer["errors"]] == errors
        assert stored() == []

    def test_not_json(self, api: Api, token: str) -> None:
        response = api.call("PATCH", PATH, raw="readings_open.push=false", token=token)

        assert response.status_code == 400
        assert problem(response)["code"] == "invalid_json"
        assert stored() == []


# --- The language of messages ----------------------------------------------------------


class TestLanguage:
    def test_the_profile_says_it_and_it_can_be_changed(self, api: Api, token: str, maria: User) -> None:
        assert api.get("/profile", token=token).json()["language"] == "ru"

        response = api.put("/profile/language", {"language": "en"}, token=token)

        assert response.status_code == 200
        assert response.json()["language"] == "en"
        assert response.json()["id"] == maria.pk
        assert User.objects.get(pk=maria.pk).language == "en"
        assert api.get("/profile", token=token).json()["language"] == "en"

    @pytest.mark.parametrize(
        ("body", "field", "message"),
        [
            ({"language": "de"}, "language", "Выберите язык сообщений: Русский, English"),
            ({"language": "RU"}, "language", "Выберите язык сообщений: Русский, English"),
            ({"language": ""}, "language", "Обязательное поле: заполните его"),
            ({"language": "english-uk"}, "language", "Слишком длинно: не больше 8 символов"),
            ({"language": None}, "language", "Ожидается строка"),
            ({}, "language", "Обязательное поле: заполните его"),
        ],
    )
    def test_a_language_we_do_not_write_in(
        self, api: Api, token: str, maria: User, body: dict[str, Any], field: str, message: str
    ) -> None:
        response = api.put("/profile/language", body, token=token)

        assert response.status_code == 422
        answer = problem(response)
        assert answer["code"] == "validation_failed"
        assert answer["errors"] == [{"field": field, "message": message}]
        assert User.objects.get(pk=maria.pk).language == "ru"


# --- Without a token ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", PATH, None),
        ("PATCH", PATH, {"choices": [{"kind": "readings_open", "channel": "push", "enabled": False}]}),
        ("PUT", "/profile/language", {"language": "en"}),
    ],
)
def test_without_a_token(api: Api, method: str, path: str, body: Any) -> None:
    response = api.call(method, path, body)

    assert response.status_code == 401
    assert problem(response)["code"] == "not_authenticated"
    assert stored() == []
