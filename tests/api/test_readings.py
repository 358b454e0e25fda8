"""Meter readings through the API: the window and the meters, readings of several meters at
once with a result per meter, one meter's reading and its correction, repeats stored once,
every bad value with what to fix and nothing stored, the history page by page, and that a
user reaches only their own accounts and meters."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from abonent.core.models import AuditRecord, Supplier, SupplierTerms
from abonent.core.periods import Period
from abonent.core.services import supplier_create
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.identity.models import User
from abonent.identity.services import app_session_start
from abonent.metering import services as metering
from abonent.metering.enums import MeterStatus, ReadingChannel, ReadingStatus
from abonent.metering.models import Meter, Reading
from tests.api.conftest import IP, Api, FakeClock, Subscriber, problem
from tests.conftest import SUPPLIER_MOSCOW
from tests.factories import account_make, meter_make
from tests.factories import reading_make as standing
from tests.web.identity import user_make

pytestmark = pytest.mark.django_db

IN_WINDOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)  # 12:00 in Moscow, the window is 15–25
AFTER_WINDOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
BEFORE_WINDOW = dt.datetime(2026, 11, 3, 9, 0, tzinfo=dt.UTC)

NOT_A_NUMBER = "Введите показание цифрами, например 1234 или 1234,567"
NEGATIVE = "Показание не может быть отрицательным: введите число со счётчика без знака «минус»"
TOO_MANY_DIGITS = "У этого счётчика 5 цифр до запятой: показание не может быть больше 99999,999"
TOO_MANY_DECIMALS = "Для этого счётчика укажите не больше 3 знаков после запятой"
NOT_A_VALUE = "Показание — строка с цифрами («1234,567») или число; null, true/false, списки и объекты не подходят"


# --- The world --------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _in_the_window(clock: FakeClock) -> None:
    clock.current = IN_WINDOW


def token_now(user: User, clock: FakeClock) -> str:
    """An access token issued at the clock's time (one lives 15 minutes)."""
    return app_session_start(user=user, device_name="Pixel 8", user_agent="", ip=None, now=clock.current).access_token


@pytest.fixture
def token(api: Api, subscriber: Subscriber, clock: FakeClock) -> str:
    return token_now(subscriber.user, clock)


@pytest.fixture
def account(supplier: Supplier, subscriber: Subscriber) -> PersonalAccount:
    account = account_make(supplier=supplier)
    AccountLink.objects.create(
        user=subscriber.user, account=account, is_default=True, proof="pin", channel="web", linked_at=IN_WINDOW
    )
    return account


@pytest.fixture
def meter(account: PersonalAccount) -> Meter:
    """Installed at 3,2 m³; October's reading 1234,5."""
    meter = meter_make(account=account, initial_value=Decimal("3.2"))
    standing(meter, Period(2026, 10), "1234.5", "1231.3")
    return meter


def terms(supplier: Supplier, **changes: object) -> None:
    SupplierTerms.objects.filter(supplier=supplier).update(**changes)


def readings() -> list[tuple[int, str, str, str]]:
    """Every reading there is, to compare before and after a refused request."""
    return [
        (pk, str(period), str(value), status)
        for pk, period, value, status in Reading.objects.order_by("pk").values_list("pk", "period", "value", "status")
    ]


def reading_audits() -> int:
    return AuditRecord.objects.filter(object_type="reading").count()


def one(api: Api, token: str, account: PersonalAccount, meter: Meter, value: Any, *, key: str | None = None) -> Any:
    """POST a reading of one meter, with an Idempotency-Key if given."""
    headers = {"Authorization": f"Bearer {token}", "User-Agent": "abonent-android/3.1"}
    if key is not None:
        headers["Idempotency-Key"] = key
    with api.capture(execute=True):
        return api.client.post(
            f"/api/v1/accounts/{account.pk}/meters/{meter.pk}/readings",
            json.dumps({"value": value}),
            content_type="application/json",
            headers=headers,
            REMOTE_ADDR=IP,
        )


def several(api: Api, token: str, account: PersonalAccount, body: Any, *, key: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}", "User-Agent": "abonent-android/3.1"}
    if key is not None:
        headers["Idempotency-Key"] = key
    with api.capture(execute=True):
        return api.client.post(
            f"/api/v1/accounts/{account.pk}/readings",
            body if isinstance(body, str) else json.dumps(body),
            content_type="application/json",
            headers=headers,
            REMOTE_ADDR=IP,
        )


def reading_body(reading: Reading, **changes: Any) -> dict[str, Any]:
    """A reading sent through the app in the window, as the API shows it."""
    body = {
        "id": reading.pk,
        "period": "2026-11",
        "read_on": "2026-11-20",
        "submitted_at": "2026-11-20T09:00:00Z",
        "value": str(reading.value),
        "consumption": str(reading.consumption),
        "channel": "app",
        "channel_label": "мобильное приложение",
        "operator_name": None,
        "status": "accepted",
        "status_label": "принято",
        "rejection_reason": None,
        "replaces_id": None,
    }
    return {**body, **changes}


# --- The window and the meters ----------------------------------------------------------


class TestCurrent:
    def test_in_the_window(self, api: Api, token: str, account: PersonalAccount, meter: Meter) -> None:
        expired = meter_make(account=account, serial="0400002", verification_due_on=dt.date(2026, 11, 1), decimals=0)
        removed = meter_make(
            account=account, serial="0300001", status=MeterStatus.REMOVED, installed_on=dt.date(2010, 1, 1)
        )

        response = api.get(f"/accounts/{account.pk}/readings/current", token=token)

        assert response.status_code == 200
        assert response.json() == {
            "window": {
                "period": "2026-11",
                "period_label": "ноябрь 2026",
                "today": "2026-11-20",
                "opens_on": "2026-11-15",
                "closes_on": "2026-11-25",
                "opens_at": "2026-11-15T00:00:00+03:00",
                "closes_at": "2026-11-26T00:00:00+03:00",
                "state": "open",
                "is_open": True,
                "readings_allowed": True,
                "time_zone": "Europe/Moscow",
                "message": "Показания за ноябрь 2026 принимаются с 15.11.2026 по 25.11.2026 включительно.",
            },
            "meters": [
                {
                    "id": meter.pk,
                    "serial": "0412345",
                    "model": "СГМН-1 G6",
                    "digits": 5,
                    "decimals": 3,
                    "status": "active",
                    "accepts": True,
                    "refusal": None,
                    "verification_due_on": "2029-06-01",
                    "verification_passed": False,
                    "base_value": "1234.500",
                    "previous": {"value": "1234.500", "period": "2026-10", "read_on": "2026-10-20"},
                    "current": None,
                },
                {
                    "id": expired.pk,
                    "serial": "0400002",
                    "model": "СГМН-1 G6",
                    "digits": 5,
                    "decimals": 0,
                    "status": "active",
                    "accepts": True,
                    "refusal": None,
                    "verification_due_on": "2026-11-01",
                    "verification_passed": True,
                    "base_value": "0.000",
                    "previous": None,
                    "current": None,
                },
                {
                    "id": removed.pk,
                    "serial": "0300001",
                    "model": "СГМН-1 G6",
                    "digits": 5,
                    "decimals": 3,
                    "status": "removed",
                    "accepts": False,
                    "refusal": "Счётчик снят: показания по нему не принимаются.",
                    "verification_due_on": "2029-06-01",
                    "verification_passed": False,
                    "base_value": "0.000",
                    "previous": None,
                    "current": None,
                },
            ],
        }

    def test_the_reading_already_sent_is_current(
        self, api: Api, token: str, account: PersonalAccount, meter: Meter
    ) -> None:
        sent = one(api, token, account, meter, "1300,25").json()

        entry = api.get(f"/accounts/{account.pk}/readings/current", token=token).json()["meters"][0]

        assert (entry["base_value"], entry["current"]) == ("1234.500", sent)

    def test_after_the_window_readings_count_for_the_next_month(
        self, api: Api, clock: FakeClock, subscriber: Subscriber, account: PersonalAccount, meter: Meter
    ) -> None:
        clock.current = AFTER_WINDOW

        window = api.get(f"/accounts/{account.pk}/readings/current", token=token_now(subscriber.user, clock)).json()[
            "window"
        ]

        assert {k: window[k] for k in ("period", "today", "opens_on", "closes_on", "state", "is_open")} == {
            "period": "2026-12",
            "today": "2026-11-26",
            "opens_on": "2026-12-15",
            "closes_on": "2026-12-25",
            "state": "after",
            "is_open": False,
        }
        assert window["message"] == (
            "Приём показаний за ноябрь 2026 закончился. Показания, переданные сейчас, будут учтены "
            "за декабрь 2026; приём за декабрь 2026 — с 15.12.2026 по 25.12.2026."
        )

    def test_before_the_window(
        self, api: Api, clock: FakeClock, subscriber: Subscriber, account: PersonalAccount
    ) -> None:
        clock.current = BEFORE_WINDOW

        window = api.get(f"/accounts/{account.pk}/readings/current", token=token_now(subscriber.user, clock)).json()[
            "window"
        ]

        assert (window["period"], window["state"], window["is_open"]) == ("2026-11", "before", False)

    def test_the_window_in_the_suppliers_time_zone(
        self, api: Api, clock: FakeClock, subscriber: Subscriber, token: str
    ) -> None:
        kaliningrad = supplier_create(
            **{**SUPPLIER_MOSCOW, "code": "yantar", "short_name": "Янтарьгаз", "time_zone": "Europe/Kaliningrad"}
        )
        account = account_make(supplier=kaliningrad, number="390000000002")
        AccountLink.objects.create(
            user=subscriber.user, account=account, proof="pin", channel="web", linked_at=IN_WINDOW
        )
        clock.current = dt.datetime(2026, 11, 25, 21, 30, tzinfo=dt.UTC)  # 23:30 on the 25th there, the 26th in Moscow

        window = api.get(f"/accounts/{account.pk}/readings/current", token=token_now(subscriber.user, clock)).json()[
            "window"
        ]

        assert {k: window[k] for k in ("today", "state", "opens_at", "closes_at", "time_zone")} == {
            "today": "2026-11-25",
            "state": "open",
            "opens_at": "2026-11-15T00:00:00+02:00",
            "closes_at": "2026-11-26T00:00:00+02:00",
            "time_zone": "Europe/Kaliningrad",
        }
        assert window["message"].endswith("Сегодня последний день.")

    def test_a_supplier_that_takes_no_readings_in_the_app(
        self, api: Api, token: str, supplier: Supplier, account: PersonalAccount
    ) -> None:
        terms(supplier, readings_allowed=False)

        window = api.get(f"/accounts/{account.pk}/readings/current", token=token).json()["window"]

        assert (window["readings_allowed"], window["message"]) == (
            False,
            "Поставщик не принимает показания через личный кабинет: передайте их по телефону.",
        )


# --- One meter --------------------------------------------------------------------------


class TestOneMeter:
    def test_accepted(
        self, api: Api, token: str, subscriber: Subscriber, account: PersonalAccount, meter: Meter
    ) -> None:
        response = one(api, token, account, meter, "1300,25")

        assert response.status_code == 201
        reading = Reading.objects.get(period=Period(2026, 11))
        assert response.json() == reading_body(reading, value="1300.250", consumption="65.750")
        assert (reading.channel, reading.submitted_by, reading.status) == (
            ReadingChannel.APP,
            subscriber.user,
            ReadingStatus.ACCEPTED,
        )
        audit = AuditRecord.objects.get(action="reading_submit")
        assert (audit.channel, audit.ip, audit.after["value"]) == ("app", IP, "1300.25")

    @pytest.mark.parametrize(
        ("value", "stored"),
        [
            ("1300,5", "1300.500"),
            ("1300.5", "1300.500"),
            (" 1 300,5 ", "1300.500"),
            ("01300", "1300.000"),
            (1300, "1300.000"),  # a JSON integer
            (1300.5, "1300.500"),  # a JSON fraction, by its digits
            (1234.567, "1234.567"),
            (9999.999, "9999.999"),
        ],
    )
    def test_comma_dot_and_numbers(
        self, api: Api, token: str, account: PersonalAccount, meter: Meter, value: Any, stored: str
    ) -> None:
        response = one(api, token, account, meter, value)

        assert response.status_code == 201, response.content
        assert response.json()["value"] == stored
        assert str(Reading.objects.get(period=Period(2026, 11)).value) == stored

    @pytest.mark.parametrize(
        ("value", "code", "message"),
        [
            ("-5", "reading_negative", NEGATIVE),
            (-1300, "reading_negative", NEGATIVE),
            ("много", "reading_not_a_number", NOT_A_NUMBER),
            ("", "reading_not_a_number", NOT_A_NUMBER),
            ("1,2,3", "reading_not_a_number", NOT_A_NUMBER),
            ("1e5", "reading_not_a_number", NOT_A_NUMBER),
            ("١٢٣", "reading_not_a_number", NOT_A_NUMBER),  # Arabic-Indic digits
            ("１２３４", "reading_not_a_number", NOT_A_NUMBER),  # full-width digits
            ("NaN", "reading_not_a_number", NOT_A_NUMBER),
            ("123456", "reading_too_many_digits", TOO_MANY_DIGITS),
            ("9" * 400, "reading_too_many_digits", TOO_MANY_DIGITS),
            (10**400, "reading_too_many_digits", TOO_MANY_DIGITS),
            (1e308, "reading_too_many_digits", TOO_MANY_DIGITS),
            ("1300,1234", "reading_too_many_decimals", TOO_MANY_DECIMALS),
            (1300.1234, "reading_too_many_decimals", TOO_MANY_DECIMALS),
        ],
    )
    def test_bad_values_say_what_to_fix_and_store_nothing(
        self, api: Api, token: str, account: PersonalAccount, meter: Meter, value: Any, code: str, message: str
    ) -> None:
        before = readings()

        response = one(api, token, account, meter, value)

        assert response.status_code == 422
        body = problem(response)
        assert (body["code"], body["detail"], body["errors"]) == (
            code,
            message,
            [{"field": "value", "message": message}],
        )
        assert readings() == before
        assert reading_audits() == 0

    @pytest.mark.parametrize("value", [None, True, [1300], {"value": "1300"}])
    def test_a_value_of_another_json_type(
        self, api: Api, token: str, account: PersonalAccount, meter: Meter, value: Any
    ) -> None:
        before = readings()

        response = one(api, token, account, meter, value)

        assert response.status_code == 422
        body = problem(response)
        assert (body["code"], body["errors"]) == ("validation_failed", [{"field": "value", "message": NOT_A_VALUE}])
        assert readings() == before

    def test_nan_as_a_bare_json_token(self, api: Api, token: str, account: PersonalAccount, meter: Meter) -> None:
        response = api.post(f"/accounts/{account.pk}/meters/{meter.pk}/readings", raw='{"value": NaN}', token=token)

        assert response.status_code == 422
        assert problem(response)["code"] == "reading_not_a_number"
        assert Reading.objects.count() == 1

    def test_a_meter_with_whole_cubic_metres_only(self, api: Api, token: str, account: PersonalAccount) -> None:
        whole = meter_make(account=account, serial="77", decimals=0)

        response = one(api, token, account, whole, "1300,5")

        assert response.status_code == 422
        body = problem(response)
        assert (body["code"], body["detail"]) == (
            "reading_too_many_decimals",
            "Для этого счётчика укажите только целые кубометры, без цифр после запятой",
        )

    @pytest.mark.parametrize(
        ("value", "setting", "code", "message"),
        [
            (
                "1200",
                {},
                "reading_below_previous",
                "Показание меньше предыдущего (1\u202f234,5 м³ за октябрь 2026). Проверьте цифры до запятой; "
                "если счётчик заменён или обнулился, сообщите поставщику",
            ),
            (
                "1734,6",
                {"max_monthly_consumption": Decimal(500)},
                "reading_too_high",
                "Расход 500,1 м³ больше допустимого: не более 500 м³ с предыдущего показания. "
                "Проверьте, нет ли лишней цифры",
            ),
            (
                "1234,5",
                {"zero_consumption_allowed": False},
                "reading_zero_consumption",
                "Показание равно предыдущему (1\u202f234,5 м³), а поставщик не принимает нулевой расход. "
                "Если газом не пользовались, сообщите об этом поставщику",
            ),
        ],
    )
    def test_the_suppliers_rules(
        self,
        api: Api,
        token: str,
        supplier: Supplier,
        account: PersonalAccount,
        meter: Meter,
        value: str,
        setting: dict[str, Any],
        code: str,
        message: str,
    ) -> None:
        terms(supplier, **setting)
        before = readings()

        response = one(api, token, account, meter, value)

        assert response.status_code == 422
        body = problem(response)
        assert (body["code"], body["detail"], body["errors"]) == (
            code,
            message,
            [{"field": "value", "message": message}],
        )
        assert readings() == before
        assert reading_audits() == 0

    def test_past_verification_kept_but_not_for_billing(
        self, api: Api, token: str, account: PersonalAccount, meter: Meter
    ) -> None:
        Meter.objects.filter(pk=meter.pk).update(verification_due_on=dt.date(2026, 11, 19))

        response = one(api, token, account, meter, "1300")

        assert response.status_code == 201
        assert (response.json()["status"], response.json()["status_label"]) == (
            "not_for_billing",
            "не принято к расчёту: истёк срок поверки",
        )

    def test_the_same_key_twice_stores_one_reading(
        self, api: Api, token: str, account: PersonalAccount, meter: Meter
    ) -> None:
        first = one(api, token, account, meter, "1300,5", key="4f1c2a9e-key")
        again = one(api, token, account, meter, "1300,5", key="4f1c2a9e-key")

        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == first.json()
        assert list(Reading.objects.filter(period=Period(2026, 11)).values_list("submission_key", flat=True)) == [
            "4f1c2a9e-key"
        ]
        assert AuditRecord.objects.filter(action="reading_submit").count() == 1

    def test_a_retry_after_the_window_closed_answers_with_the_reading_it_made(
        self, api: Api, clock: FakeClock, subscriber: Subscriber, token: str, account: PersonalAccount, meter: Meter
    ) -> None:
        first = one(api, token, account, meter, "1300", key="late-retry")
        clock.current = AFTER_WINDOW

        retry = one(api, token_now(subscriber.user, clock), account, meter, "1300", key="late-retry")

        assert (retry.status_code, retry.json()) == (200, first.json())
        assert not Reading.objects.filter(period=Period(2026, 12)).exists()

    def test_an_overlong_key(self, api: Api, token: str, account: PersonalAccount, meter: Meter) -> None:
        response = one(api, token, account, meter, "1300", key="k" * 201)

        assert response.status_code == 422
        assert problem(response)["errors"] == [
            {"field": "Idempotency-Key", "message": "Слишком длинно: не больше 200 символов"}
        ]
        assert Reading.objects.count() == 1

    def test_the_same_key_with_another_value_is_refused(
        self, api: Api, token: str, account: PersonalAccount, meter: Meter
    ) -> None:
        one(api, token, account, meter, "1300,5", key="4f1c2a9e-key")
        before = readings()

        response = one(api, token, account, meter, "1301", key="4f1c2a9e-key")

        assert response.status_code == 422
        body = problem(response)
        assert (body["code"], body["detail"]) == (
            "submission_key_reused",
            "Этот ключ передачи уже использован для другого показания; для новой передачи нужен новый ключ",
        )
        assert readings() == before

    def test_the_same_value_again_without_a_key_changes_nothing(
        self, api: Api, token: str, account: PersonalAccount, meter: Meter
    ) -> None:
        first = one(api, token, account, meter, "1300,5")
        again = one(api, token, account, meter, "1300.500")

        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["id"] == first.json()["id"]

    def test_a_correction_in_the_window_and_the_history_keeps_both(
        self, api: Api, token: str, account: PersonalAccount, meter: Meter
    ) -> None:
        first = one(api, token, account, meter, "1300").json()

        response = one(api, token, account, meter, "1290,5")

        assert response.status_code == 201
        corrected = response.json()
        assert (corrected["replaces_id"], corrected["consumption"]) == (first["id"], "56.000")
        items = api.get(f"/accounts/{account.pk}/meters/{meter.pk}/readings", token=token).json()["items"]
        assert [(i["id"], i["value"], i["consumption"], i["status"], i["replaces_id"]) for i in items] == [
            (corrected["id"], "1290.500", "56.000", "accepted", first["id"]),
            (first["id"], "1300.000", "65.500", "superseded", None),
            (items[2]["id"], "1234.500", "1231.300", "accepted", None),
        ]
        assert items[1]["status_label"] == "заменено исправленным"

    def test_after_the_window_the_reading_counts_for_the_next_month(
        self, api: Api, clock: FakeClock, subscriber: Subscriber, account: PersonalAccount, meter: Meter, token: str
    ) -> None:
        november = one(api, token, account, meter, "1300").json()
        clock.current = AFTER_WINDOW

        response = one(api, token_now(subscriber.user, clock), account, meter, "1310")

        assert response.status_code == 201
        december = response.json()
        assert (december["period"], december["read_on"], december["consumption"], december["replaces_id"]) == (
            "2026-12",
            "2026-11-26",
            "10.000",
            None,
        )
        assert Reading.objects.get(pk=november["id"]).status == ReadingStatus.ACCEPTED

    @pytest.mark.parametrize(("status", "state"), [(MeterStatus.REMOVED, "снят"), (MeterStatus.FAULTY, "неисправен")])
    def test_a_meter_out_of_service(
        self, api: Api, token: str, account: PersonalAccount, meter: Meter, status: str, state: str
    ) -> None:
        Meter.objects.filter(pk=meter.pk).update(status=status)
        before = readings()

        response = one(api, token, account, meter, "1300")

        assert response.status_code == 409
        body = problem(response)
        assert (body["code"], body["detail"]) == (
            "meter_not_in_service",
            f"Счётчик № 0412345 {state}: показания по нему не принимаются. Обратитесь к поставщику",
        )
        assert readings() == before

    def test_a_supplier_that_takes_no_readings_in_the_app(
        self, api: Api, token: str, supplier: Supplier, account: PersonalAccount, meter: Meter
    ) -> None:
        terms(supplier, readings_allowed=False)

        response = one(api, token, account, meter, "1300")

        assert response.status_code == 409
        assert problem(response)["code"] == "readings_not_accepted"
        assert Reading.objects.count() == 1

    def test_bad_bodies(self, api: Api, token: str, account: PersonalAccount, meter: Meter) -> None:
        path = f"/accounts/{account.pk}/meters/{meter.pk}/readings"

        not_json = api.post(path, raw="{value: 1300}", token=token)
        missing = api.post(path, {}, token=token)
        unknown = api.post(path, {"value": "1300", "period": "2026-10"}, token=token)

        assert (not_json.status_code, problem(not_json)["code"]) == (400, "invalid_json")
        assert (missing.status_code, problem(missing)["errors"]) == (
            422,
            [{"field": "value", "message": "Обязательное поле: заполните его"}],
        )
        assert (unknown.status_code, problem(unknown)["errors"]) == (
            422,
            [{"field": "period", "message": "Неизвестное поле: уберите его"}],
        )
        assert Reading.objects.count() == 1


# --- Several meters at once --------------------------------------------------------------


class TestSeveralMeters:
    @pytest.fixture
    def meters(self, account: PersonalAccount, meter: Meter) -> dict[str, Meter]:
        second = meter_make(account=account, serial="0400002")
        standing(second, Period(2026, 10), "500", "12")
        expired = meter_make(account=account, serial="0400003", verification_due_on=dt.date(2026, 11, 1))
        removed = meter_make(account=account, serial="0400004", status=MeterStatus.REMOVED)
        return {"kitchen": meter, "boiler": second, "expired": expired, "removed": removed}

    def test_a_result_for_each_meter(
        self, api: Api, token: str, account: PersonalAccount, meters: dict[str, Meter]
    ) -> None:
        body = {
            "readings": [
                {"meter_id": meters["kitchen"].pk, "value": "1300,25"},
                {"meter_id": meters["boiler"].pk, "value": "400"},
                {"meter_id": meters["expired"].pk, "value": 20},
                {"meter_id": meters["removed"].pk, "value": "10"},
            ]
        }

        response = several(api, token, account, body)

        assert response.status_code == 200
        kitchen = Reading.objects.get(meter=meters["kitchen"], period=Period(2026, 11))
        expired = Reading.objects.get(meter=meters["expired"], period=Period(2026, 11))
        assert response.json() == {
            "results": [
                {
                    "meter_id": meters["kitchen"].pk,
                    "outcome": "accepted",
                    "reading": reading_body(kitchen, value="1300.250", consumption="65.750"),
                    "error": None,
                    "created": True,
                    "corrected_reading_id": None,
                },
                {
                    "meter_id": meters["boiler"].pk,
                    "outcome": "rejected",
                    "reading": None,
                    "error": {
                        "code": "reading_below_previous",
                        "message": "Показание меньше предыдущего (500 м³ за октябрь 2026). Проверьте цифры до "
                        "запятой; если счётчик заменён или обнулился, сообщите поставщику",
                    },
                    "created": False,
                    "corrected_reading_id": None,
                },
                {
                    "meter_id": meters["expired"].pk,
                    "outcome": "not_for_billing",
                    "reading": reading_body(
                        expired,
                        value="20.000",
                        consumption="20.000",
                        status="not_for_billing",
                        status_label="не принято к расчёту: истёк срок поверки",
                    ),
                    "error": None,
                    "created": True,
                    "corrected_reading_id": None,
                },
                {
                    "meter_id": meters["removed"].pk,
                    "outcome": "rejected",
                    "reading": None,
                    "error": {
                        "code": "meter_not_in_service",
                        "message": "Счётчик № 0400004 снят: показания по нему не принимаются. Обратитесь к поставщику",
                    },
                    "created": False,
                    "corrected_reading_id": None,
                },
            ]
        }
        assert Reading.objects.filter(period=Period(2026, 11)).count() == 2

    def test_the_same_request_with_the_same_key_stores_nothing_new(
        self, api: Api, token: str, account: PersonalAccount, meters: dict[str, Meter]
    ) -> None:
        body = {
            "readings": [
                {"meter_id": meters["kitchen"].pk, "value": "1300"},
                {"meter_id": meters["boiler"].pk, "value": "510"},
            ]
        }
        first = several(api, token, account, body, key="form-1").json()["results"]

        again = several(api, token, account, body, key="form-1").json()["results"]

        assert [(r["outcome"], r["created"], r["reading"]["id"]) for r in again] == [
            ("accepted", False, first[0]["reading"]["id"]),
            ("accepted", False, first[1]["reading"]["id"]),
        ]
        assert sorted(
            Reading.objects.filter(period=Period(2026, 11)).values_list("submission_key", flat=True)
        ) == sorted([f"form-1:{meters['kitchen'].pk}", f"form-1:{meters['boiler'].pk}"])

    def test_a_correction_names_the_reading_it_corrected(
        self, api: Api, token: str, account: PersonalAccount, meters: dict[str, Meter]
    ) -> None:
        kitchen = meters["kitchen"].pk
        first = several(api, token, account, {"readings": [{"meter_id": kitchen, "value": "1300"}]}).json()

        second = several(api, token, account, {"readings": [{"meter_id": kitchen, "value": "1295"}]}).json()

        [result] = second["results"]
        assert (result["created"], result["corrected_reading_id"], result["reading"]["replaces_id"]) == (
            True,
            first["results"][0]["reading"]["id"],
            first["results"][0]["reading"]["id"],
        )

    def test_values_that_cannot_be_readings_store_nothing(
        self, api: Api, token: str, account: PersonalAccount, meters: dict[str, Meter]
    ) -> None:
        before = readings()
        body = {
            "readings": [
                {"meter_id": meters["kitchen"].pk, "value": "1300"},
                {"meter_id": meters["boiler"].pk, "value": "5,5,5"},
                {"meter_id": meters["expired"].pk, "value": 1e308},
            ]
        }

        response = several(api, token, account, body)

        assert response.status_code == 422
        problem_body = problem(response)
        assert (problem_body["code"], problem_body["detail"]) == (
            "readings_invalid",
            "Исправьте показания, отмеченные в errors",
        )
        assert problem_body["errors"] == [
            {
                "field": f"readings.{meters['boiler'].pk}.value",
                "message": NOT_A_NUMBER,
                "code": "reading_not_a_number",
            },
            {
                "field": f"readings.{meters['expired'].pk}.value",
                "message": TOO_MANY_DIGITS,
                "code": "reading_too_many_digits",
            },
        ]
        assert readings() == before
        assert reading_audits() == 0

    def test_a_meter_of_another_account_stores_nothing(
        self, api: Api, token: str, supplier: Supplier, account: PersonalAccount, meters: dict[str, Meter]
    ) -> None:
        other = meter_make(account=account_make(supplier=supplier, number="770000000002"), serial="1")
        before = readings()
        body = {"readings": [{"meter_id": meters["kitchen"].pk, "value": "1300"}, {"meter_id": other.pk, "value": "1"}]}

        response = several(api, token, account, body)

        assert response.status_code == 404
        body_ = problem(response)
        assert (body_["code"], body_["errors"]) == (
            "meter_not_found",
            [{"field": f"readings.{other.pk}.meter_id", "message": "Счётчик не найден на этом лицевом счёте"}],
        )
        assert readings() == before

    @pytest.mark.parametrize(
        ("body", "field", "message"),
        [
            ({"readings": []}, "readings", "Введите показание хотя бы одного счётчика"),
            ({}, "readings", "Обязательное поле: заполните его"),
            ({"readings": {"1": "1300"}}, "readings", "Ожидается список JSON"),
            ({"readings": [{"meter_id": 1}]}, "readings.0.value", "Обязательное поле: заполните его"),
            ({"readings": [{"meter_id": "1", "value": "1300"}]}, "readings.0.meter_id", "Ожидается целое число"),
            ({"readings": [{"meter_id": 0, "value": "1300"}]}, "readings.0.meter_id", "Ожидается число не меньше 1"),
            ({"readings": [{"meter_id": 1, "value": None}]}, "readings.0.value", NOT_A_VALUE),
            ({"readings": [{"meter_id": 1, "value": ["1300"]}]}, "readings.0.value", NOT_A_VALUE),
            (
                {"readings": [{"meter_id": 1, "value": "1"}] * 51},
                "readings",
                "Слишком много элементов: не больше 50",
            ),
        ],
    )
    def test_bad_bodies(
        self,
        api: Api,
        token: str,
        account: PersonalAccount,
        meters: dict[str, Meter],
        body: dict[str, Any],
        field: str,
        message: str,
    ) -> None:
        before = readings()

        response = several(api, token, account, body)

        assert response.status_code == 422
        problem_body = problem(response)
        assert (problem_body["code"], problem_body["errors"]) == (
            "validation_failed",
            [{"field": field, "message": message}],
        )
        assert readings() == before

    def test_a_meter_listed_twice(
        self, api: Api, token: str, account: PersonalAccount, meters: dict[str, Meter]
    ) -> None:
        kitchen = meters["kitchen"].pk
        body = {"readings": [{"meter_id": kitchen, "value": "1300"}, {"meter_id": kitchen, "value": "1310"}]}

        response = several(api, token, account, body)

        assert response.status_code == 422
        assert problem(response)["errors"] == [
            {
                "field": "readings.1.meter_id",
                "message": f"Счётчик {kitchen} уже есть в списке: оставьте одно показание на счётчик",
            }
        ]
        assert Reading.objects.filter(period=Period(2026, 11)).count() == 0

    def test_not_json(self, api: Api, token: str, account: PersonalAccount) -> None:
        response = several(api, token, account, "readings=1300")

        assert (response.status_code, problem(response)["code"]) == (400, "invalid_json")


# --- History ----------------------------------------------------------------------------


class TestHistory:
    @pytest.fixture
    def year(self, meter: Meter) -> list[Reading]:
        """Readings from November 2025 to October 2026, 10 m³ a month, newest first."""
        Reading.objects.filter(meter=meter).delete()
        made = [standing(meter, Period(2025, 11) + i, str(Decimal("1124.5") + 10 * i), "10") for i in range(12)]
        return made[::-1]

    def test_page_by_page_to_the_end(
        self, api: Api, token: str, account: PersonalAccount, meter: Meter, year: list[Reading]
    ) -> None:
        path = f"/accounts/{account.pk}/meters/{meter.pk}/readings"
        seen: list[int] = []
        cursor = ""
        pages = 0
        while True:
            response = api.get(f"{path}?limit=5" + (f"&cursor={cursor}" if cursor else ""), token=token)
            assert response.status_code == 200
            page = response.json()
            seen += [item["id"] for item in page["items"]]
            pages += 1
            if page["next_cursor"] is None:
                break
            cursor = page["next_cursor"]

        assert pages == 3
        assert seen == [r.pk for r in year]

    def test_an_item(self, api: Api, token: str, account: PersonalAccount, meter: Meter, year: list[Reading]) -> None:
        page = api.get(f"/accounts/{account.pk}/meters/{meter.pk}/readings?limit=1", token=token).json()

        assert page["items"] == [
            {
                "id": year[0].pk,
                "period": "2026-10",
                "read_on": "2026-10-20",
                "submitted_at": "2026-10-20T09:00:00Z",
                "value": "1234.500",
                "consumption": "10.000",
                "channel": "web",
                "channel_label": "личный кабинет",
                "operator_name": None,
                "status": "accepted",
                "status_label": "принято",
                "rejection_reason": None,
                "replaces_id": None,
            }
        ]
        assert page["next_cursor"]

    def test_the_default_page_is_everything_up_to_50(
        self, api: Api, token: str, account: PersonalAccount, meter: Meter, year: list[Reading]
    ) -> None:
        page = api.get(f"/accounts/{account.pk}/meters/{meter.pk}/readings", token=token).json()

        assert (len(page["items"]), page["next_cursor"]) == (12, None)

    def test_a_new_reading_at_the_top_does_not_shift_the_pages(
        self, api: Api, token: str, account: PersonalAccount, meter: Meter, year: list[Reading]
    ) -> None:
        path = f"/accounts/{account.pk}/meters/{meter.pk}/readings?limit=5"
        first = api.get(path, token=token).json()
        one(api, token, account, meter, "1240")

        second = api.get(f"{path}&cursor={first['next_cursor']}", token=token).json()

        assert [i["id"] for i in second["items"]] == [r.pk for r in year[5:10]]

    def test_an_operators_reading_and_a_rejected_one(
        self, api: Api, token: str, account: PersonalAccount, meter: Meter
    ) -> None:
        operator = user_make(phone="+79000000002", is_staff=True, first_name="Ольга", last_name="Смирнова")
        entered = metering.reading_enter_by_operator(
            operator=operator, meter_id=meter.pk, value="1250", read_on=dt.date(2026, 11, 18), now=IN_WINDOW
        ).reading
        metering.reading_reject(
            operator=operator, reading_id=entered.pk, reason="Контролёр снял 1241 м³ 19.11.2026", now=IN_WINDOW
        )

        item = api.get(f"/accounts/{account.pk}/meters/{meter.pk}/readings", token=token).json()["items"][0]

        assert {k: item[k] for k in ("channel", "channel_label", "operator_name", "status", "rejection_reason")} == {
            "channel": "operator",
            "channel_label": "оператор",
            "operator_name": "Ольга Смирнова",
            "status": "rejected",
            "rejection_reason": "Контролёр снял 1241 м³ 19.11.2026",
        }

    def test_no_readings_yet(self, api: Api, token: str, account: PersonalAccount) -> None:
        fresh = meter_make(account=account, serial="new")

        page = api.get(f"/accounts/{account.pk}/meters/{fresh.pk}/readings", token=token).json()

        assert page == {"items": [], "next_cursor": None}

    @pytest.mark.parametrize("cursor", ["nonsense", "eyJhZnRlciI6IDF9", "W10", "eyJhZnRlciI6dHJ1ZX0"])
    def test_a_cursor_that_is_not_from_this_list(
        self, api: Api, token: str, account: PersonalAccount, meter: Meter, year: list[Reading], cursor: str
    ) -> None:
        response = api.get(f"/accounts/{account.pk}/meters/{meter.pk}/readings?cursor={cursor}", token=token)

        assert response.status_code == 422
        body = problem(response)
        assert body["code"] == "cursor_invalid"
        assert body["errors"][0]["field"] == "cursor"

    def test_a_cursor_of_another_meter(
        self, api: Api, token: str, account: PersonalAccount, meter: Meter, year: list[Reading]
    ) -> None:
        other = meter_make(account=account, serial="2")
        cursor = api.get(f"/accounts/{account.pk}/meters/{meter.pk}/readings?limit=1", token=token).json()[
            "next_cursor"
        ]

        response = api.get(f"/accounts/{account.pk}/meters/{other.pk}/readings?cursor={cursor}", token=token)

        assert (response.status_code, problem(response)["code"]) == (422, "cursor_invalid")

    @pytest.mark.parametrize(
        ("limit", "message"),
        [
            ("0", "Ожидается число не меньше 1"),
            ("101", "Ожидается число не больше 100"),
            ("ten", "Ожидается целое число"),
        ],
    )
    def test_a_limit_out_of_range(
        self, api: Api, token: str, account: PersonalAccount, meter: Meter, limit: str, message: str
    ) -> None:
        response = api.get(f"/accounts/{account.pk}/meters/{meter.pk}/readings?limit={limit}", token=token)

        assert response.status_code == 422
        assert problem(response)["errors"] == [{"field": "limit", "message": message}]


# --- Whose it is ------------------------------------------------------------------------


class TestAccess:
    @pytest.fixture
    def strangers(self, supplier: Supplier, register: Any) -> tuple[PersonalAccount, Meter]:
        """Another subscriber's account with a meter."""
        other = register("+79030000000")
        theirs = account_make(supplier=supplier, number="770000000002")
        AccountLink.objects.create(user=other.user, account=theirs, proof="pin", channel="web", linked_at=IN_WINDOW)
        return theirs, meter_make(account=theirs, serial="THEIRS-1")

    def test_another_users_account_is_not_found(
        self, api: Api, token: str, meter: Meter, strangers: tuple[PersonalAccount, Meter]
    ) -> None:
        theirs, their_meter = strangers
        before = readings()

        answers = [
            api.get(f"/accounts/{theirs.pk}/readings/current", token=token),
            api.get(f"/accounts/{theirs.pk}/meters/{their_meter.pk}/readings", token=token),
            one(api, token, theirs, their_meter, "10"),
            several(api, token, theirs, {"readings": [{"meter_id": their_meter.pk, "value": "10"}]}),
        ]

        assert [(a.status_code, problem(a)["code"]) for a in answers] == [(404, "account_not_found")] * 4
        assert all("THEIRS-1" not in a.content.decode() for a in answers)
        assert readings() == before

    def test_another_accounts_meter_through_my_account_is_not_found(
        self, api: Api, token: str, account: PersonalAccount, strangers: tuple[PersonalAccount, Meter]
    ) -> None:
        _theirs, their_meter = strangers

        answers = [
            api.get(f"/accounts/{account.pk}/meters/{their_meter.pk}/readings", token=token),
            one(api, token, account, their_meter, "10"),
            api.get(f"/accounts/{account.pk}/meters/999999/readings", token=token),
        ]

        assert [(a.status_code, problem(a)["code"]) for a in answers] == [(404, "meter_not_found")] * 3
        assert not Reading.objects.filter(meter=their_meter).exists()

    def test_not_logged_in(self, api: Api, account: PersonalAccount, meter: Meter) -> None:
        answers = [
            api.get(f"/accounts/{account.pk}/readings/current"),
            api.get(f"/accounts/{account.pk}/meters/{meter.pk}/readings"),
            api.post(f"/accounts/{account.pk}/meters/{meter.pk}/readings", {"value": "1300"}),
            api.post(f"/accounts/{account.pk}/readings", {"readings": [{"meter_id": meter.pk, "value": "1300"}]}),
        ]

        assert [(a.status_code, problem(a)["code"], a["WWW-Authenticate"]) for a in answers] == [
            (401, "not_authenticated", "Bearer")
        ] * 4
        assert Reading.objects.count() == 1

    def test_an_expired_token(
        self, api: Api, clock: FakeClock, token: str, account: PersonalAccount, meter: Meter
    ) -> None:
        clock.advance(minutes=16)

        response = one(api, token, account, meter, "1300")

        assert (response.status_code, problem(response)["code"]) == (401, "invalid_token")
        assert Reading.objects.count() == 1
