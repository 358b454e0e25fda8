"""Money of an account through the API, on an account billed month by month for a year:
the balance and what is due, the charges with how each was computed page by page, the
penalty with its breakdown on a day, the prices, norms and benefits, the consumption next
to the year before; every bad input with what to fix, and that a user reaches only their
own accounts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from abonent.billing.enums import BenefitCategory, BenefitMode
from abonent.billing.models import Benefit, Charge
from abonent.billing.services import billing_run
from abonent.core.models import Supplier
from abonent.core.periods import Period
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.identity.models import User
from abonent.identity.services import app_session_start
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.models import LedgerEntry
from abonent.ledger.services import NewEntry, entries_post
from tests.api.conftest import NOW, Api, FakeClock, Subscriber, problem
from tests.billing.billing_data import billing_data_make
from tests.factories import account_make, meter_make, reading_make

pytestmark = pytest.mark.django_db

# The meter's reading at the end of each month (2025-09 is where the year starts).
READINGS = {
    Period(2025, 9): "10000", Period(2025, 10): "10150", Period(2025, 11): "10550", Period(2025, 12): "11100",
    Period(2026, 1): "11700", Period(2026, 2): "12220", Period(2026, 3): "12600", Period(2026, 4): "12800",
    Period(2026, 5): "12860", Period(2026, 6): "12885", Period(2026, 7): "12905", Period(2026, 8): "12927",
    Period(2026, 9): "13017",
}  # fmt: skip
# What the bank brought: the day and the amount.
PAYMENTS = ((dt.date(2025, 12, 5), "1443.60"), (dt.date(2026, 3, 20), "10000.00"), (dt.date(2026, 6, 5), "15000.00"))
FIRST, LAST = Period(2025, 10), Period(2026, 10)


def token_for(user: User, now: dt.datetime = NOW) -> str:
    return app_session_start(user=user, device_name="Pixel 8", user_agent="", ip=None, now=now).access_token


@pytest.fixture
def token(api: Api, subscriber: Subscriber) -> str:
    return token_for(subscriber.user)


def pay(account: PersonalAccount, day: dt.date, amount: str) -> None:
    """A payment of gas as a bank's registry posts it to the ledger, naming no period."""
    period = Period.of(day)
    entries_post(
        entries=[
            NewEntry(account.pk, Service.GAS, EntryKind.PAYMENT, period, period, -Decimal(amount), day, f"bank:{day}")
        ],
        now=dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC),
    )


def bill(supplier: Supplier, period: Period) -> None:
    """The supplier's run for ``period`` on the 2nd of the month after it."""
    at = dt.datetime.combine(period.next().day(2), dt.time(3), tzinfo=dt.UTC)
    billing_run(supplier=supplier, period=period, now=lambda: at, today=at.date())


@pytest.fixture
def linked(supplier: Supplier, subscriber: Subscriber) -> PersonalAccount:
    """Heated by gas (54,3 m²), three residents, with a meter; linked, not billed yet."""
    account = account_make(supplier=supplier, uses_heating=True, heated_area=Decimal("54.30"))
    AccountLink.objects.create(
        user=subscriber.user, account=account, is_default=True, proof="pin", channel="web", linked_at=NOW
    )
    meter_make(account=account)
    return account


@pytest.fixture
def account(supplier: Supplier, linked: PersonalAccount) -> PersonalAccount:
    """The meter read every month but October 2026; a veteran's benefit from September 2026;
    billed from October 2025 to October 2026, with three payments, the last two late."""
    billing_data_make(supplier)
    meter = linked.meters.get()
    for period, value in READINGS.items():
        reading_make(meter, period, value)
    Benefit.objects.create(
        account=linked,
        category=BenefitCategory.VETERAN,
        share=Decimal(50),
        persons=1,
        mode=BenefitMode.DISCOUNT,
        document="Удостоверение ветерана труда Т-II № 123456",
        valid_from=dt.date(2026, 9, 1),
    )
    payments = list(PAYMENTS)
    period = FIRST
    while period <= LAST:
        while payments and payments[0][0] < period.next().day(2):
            pay(linked, *payments.pop(0))
        bill(supplier, period)
        period = period.next()
    return linked


def get(api: Api, token: str | None, account: PersonalAccount | int, tail: str) -> Any:
    account_id = account if isinstance(account, int) else account.pk
    return api.get(f"/accounts/{account_id}/{tail}", token=token)


def ledger() -> list[tuple[Any, ...]]:
    """Every entry and every charge there is, to compare before and after a request."""
    entries = LedgerEntry.objects.order_by("pk").values_list("pk", "service", "kind", "amount")
    charges = Charge.objects.order_by("pk").values_list("pk", "period", "amount")
    return [*entries, *charges]


def errors_of(response: Any) -> list[dict[str, str]]:
    body = problem(response)
    assert (response.status_code, body["code"]) == (422, "validation_failed"), body
    errors: list[dict[str, str]] = body["errors"]
    return errors


# --- Balance ----------------------------------------------------------------------------


def test_balance_per_service_with_the_amount_due_and_its_date(api: Api, token: str, account: PersonalAccount) -> None:
    response = get(api, token, account, "balance")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "balances": [
            {"service": "gas", "label": "газоснабжение", "balance": "4464.02"},
            {"service": "penalty", "label": "пени", "balance": "540.34"},
            {"service": "vdgo", "label": "ТО ВДГО", "balance": "0.00"},
        ],
        "amount_due": "5004.36",
        "overpaid": "0.00",
        "due_on": "2026-11-15",
        "last_period": "2026-10",
        "last_period_label": "октябрь 2026",
    }


def test_a_balance_paid_ahead_keeps_its_minus(api: Api, token: str, account: PersonalAccount) -> None:
    pay(account, dt.date(2026, 11, 20), "6000.00")

    body = get(api, token, account, "balance").json()

    assert [line["balance"] for line in body["balances"]] == ["-1535.98", "540.34", "0.00"]
    assert (body["amount_due"], body["overpaid"]) == ("540.34", "995.64")


def test_an_account_never_billed_owes_nothing(api: Api, token: str, supplier: Supplier, subscriber: Subscriber) -> None:
    fresh = account_make(supplier=supplier, number="770000000009")
    AccountLink.objects.create(user=subscriber.user, account=fresh, proof="pin", channel="web", linked_at=NOW)

    balance = get(api, token, fresh, "balance").json()
    charges = get(api, token, fresh, "charges").json()
    penalties = get(api, token, fresh, "penalties").json()
    consumption = get(api, token, fresh, "consumption").json()

    assert balance == {
        "balances": [
            {"service": "gas", "label": "газоснабжение", "balance": "0.00"},
            {"service": "penalty", "label": "пени", "balance": "0.00"},
            {"service": "vdgo", "label": "ТО ВДГО", "balance": "0.00"},
        ],
        "amount_due": "0.00",
        "overpaid": "0.00",
        "due_on": None,
        "last_period": None,
        "last_period_label": None,
    }
    assert charges == {"items": [], "next_cursor": None}
    assert penalties == {"as_of": "2026-11-22", "total": "0.00", "items": []}
    assert consumption == {"months": []}


# --- Charges ----------------------------------------------------------------------------

BENEFIT = {
    "id": 0,  # set by the test
    "category": "veteran",
    "category_label": "ветеран труда",
    "mode": "discount",
    "mode_label": "скидка в квитанции",
    "share": "50.00",
}
HEATING = {
    "direction": "heating",
    "direction_label": "отопление, в том числе с другими направлениями",
    "price": "9.6240",
    "norm_inputs": {"residents": 3, "heated_area": "54.30", "norm_volume": None},
}
NO_MOVEMENT = {"recalculated": "0.00", "corrected": "0.00", "benefit": "0.00", "paid": "0.00"}


def test_charges_newest_first_with_how_each_was_computed(api: Api, token: str, account: PersonalAccount) -> None:
    meter_id = account.meters.get().pk
    benefit = {**BENEFIT, "id": Benefit.objects.get().pk}

    response = get(api, token, account, "charges")

    assert response.status_code == 200, response.content
    body = response.json()
    assert [item["period"] for item in body["items"]] == [str(LAST - months) for months in range(13)]
    assert body["next_cursor"] is None
    october, september = body["items"][:2]
    assert october == {
        "period": "2026-10",
        "period_label": "октябрь 2026",
        "method": "average",
        "method_label": "по среднемесячному объёму: показания не переданы",
        **HEATING,
        "volume": "251.417",  # (13017 − 10000) / 12
        "amount": "2419.64",
        "benefit_volume": "83.806",
        "benefit_amount": "403.27",
        "benefits": [{**benefit, "volume": "83.806", "amount": "403.27"}],
        "meters": [
            {
                "meter_id": meter_id,
                "serial": "0412345",
                "method": "average",
                "method_label": "по среднемесячному объёму: показания не переданы",
                "volume": "251.417",
                "reading_value": None,
                "previous_value": None,
                "deducted": "0.000",
                "average": "251.417",
            }
        ],
        "turnover": {
            "gas": {
                **NO_MOVEMENT,
                "opening": "2447.65",
                "charged": "2419.64",
                "benefit": "-403.27",
                "closing": "4464.02",
            },
            "penalty": {**NO_MOVEMENT, "opening": "508.73", "charged": "31.61", "closing": "540.34"},
        },
    }
    assert september == {
        "period": "2026-09",
        "period_label": "сентябрь 2026",
        "method": "reading",
        "method_label": "по показаниям прибора учёта",
        **HEATING,
        "volume": "90.000",
        "amount": "866.16",
        "benefit_volume": "30.000",
        "benefit_amount": "144.36",
        "benefits": [{**benefit, "volume": "30.000", "amount": "144.36"}],
        "meters": [
            {
                "meter_id": meter_id,
                "serial": "0412345",
                "method": "reading",
                "method_label": "по показаниям прибора учёта",
                "volume": "90.000",
                "reading_value": "13017.000",
                "previous_value": "12927.000",
                "deducted": "0.000",
                "average": None,
            }
        ],
        "turnover": {
            "gas": {
                **NO_MOVEMENT,
                "opening": "1725.85",
                "charged": "866.16",
                "benefit": "-144.36",
                "closing": "2447.65",
            },
            "penalty": {**NO_MOVEMENT, "opening": "484.88", "charged": "23.85", "closing": "508.73"},
        },
    }


def test_a_month_with_payments_shows_them_in_its_turnover(api: Api, token: str, account: PersonalAccount) -> None:
    body = get(api, token, account, "charges").json()

    march = next(item for item in body["items"] if item["period"] == "2026-03")
    assert (march["volume"], march["amount"], march["benefits"]) == ("380.000", "3657.12", [])
    assert march["turnover"]["gas"] == {
        **NO_MOVEMENT,
        "opening": "19921.68",  # five bills from October to February, less the payment of December
        "charged": "3657.12",
        "paid": "10000.00",
        "closing": "13578.80",
    }


def test_charges_page_by_page_with_the_cursor(api: Api, token: str, account: PersonalAccount) -> None:
    periods: list[str] = []
    pages = 0
    path = "charges?limit=5"
    while True:
        response = get(api, token, account, path)
        assert response.status_code == 200, response.content
        body = response.json()
        pages += 1
        periods += [item["period"] for item in body["items"]]
        if body["next_cursor"] is None:
            break
        path = f"charges?limit=5&cursor={body['next_cursor']}"

    assert pages == 3
    assert periods == [str(LAST - months) for months in range(13)]


def test_a_new_month_at_the_top_does_not_move_the_next_page(
    api: Api, token: str, supplier: Supplier, account: PersonalAccount
) -> None:
    first = get(api, token, account, "charges?limit=2").json()
    bill(supplier, Period(2026, 11))  # a run after the first page, as if in December

    second = get(api, token, account, f"charges?limit=2&cursor={first['next_cursor']}").json()

    assert [item["period"] for item in first["items"]] == ["2026-10", "2026-09"]
    assert [item["period"] for item in second["items"]] == ["2026-08", "2026-07"]


def test_three_years_of_charges_are_reachable(api: Api, token: str, supplier: Supplier, subscriber: Subscriber) -> None:
    """An account without a meter, billed by the norm for 37 months: the last 36 come."""
    billing_data_make(supplier)
    norm = account_make(supplier=supplier, number="770000000005")
    AccountLink.objects.create(user=subscriber.user, account=norm, proof="pin", channel="web", linked_at=NOW)
    for months in range(36, -1, -1):
        bill(supplier, LAST - months)

    periods: list[str] = []
    path = "charges?limit=10"
    first = None
    while path:
        body = get(api, token, norm, path).json()
        first = first or body["items"][0]
        periods += [item["period"] for item in body["items"]]
        path = f"charges?limit=10&cursor={body['next_cursor']}" if body["next_cursor"] else ""

    assert (len(periods), periods[0], periods[-1]) == (36, "2026-10", "2023-11")
    assert first is not None
    assert {key: first[key] for key in ("method", "method_label", "volume", "price", "amount", "meters")} == {
        "method": "norm",
        "method_label": "по нормативу: нет прибора учёта",
        "volume": "45.000",  # 3 residents × 15 m³
        "price": "13.5200",
        "amount": "608.40",
        "meters": [],
    }
    assert first["norm_inputs"] == {"residents": 3, "heated_area": "0.00", "norm_volume": "45.000"}


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("limit=0", "limit", "Ожидается число не меньше 1"),
        ("limit=101", "limit", "Ожидается число не больше 100"),
        ("limit=ten", "limit", "Ожидается целое число"),
        ("cursor=" + "x" * 201, "cursor", "Слишком длинно: не больше 200 символов"),
    ],
)
def test_a_bad_limit_says_what_to_fix(
    api: Api, token: str, linked: PersonalAccount, query: str, field: str, message: str
) -> None:
    assert errors_of(get(api, token, linked, f"charges?{query}")) == [{"field": field, "message": message}]


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "eyJhZnRlciI6MjAyMjAxfQ",  # {"after":202201}: a period that is not in the list
        "eyJhZnRlciI6IjIwMjYwOSJ9",  # {"after":"202609"}: not a number
        "W10",  # []
    ],
)
def test_a_cursor_that_is_not_of_this_list_is_refused(
    api: Api, token: str, linked: PersonalAccount, cursor: str
) -> None:
    response = get(api, token, linked, f"charges?cursor={cursor}")

    body = problem(response)
    assert (response.status_code, body["code"]) == (422, "cursor_invalid")
    assert body["errors"] == [
        {
            "field": "cursor",
            "message": "Курсор не подходит к этому списку: запросите первую страницу без cursor и идите по next_cursor",
        }
    ]


# --- Penalties --------------------------------------------------------------------------

Part = tuple[str, bool, str, int, int, str, str]


def breakdown(body: dict[str, Any]) -> list[tuple[str, str, str, str, str, list[Part]]]:
    return [
        (
            item["period"],
            item["amount"],
            item["due_on"],
            item["unpaid"],
            item["penalty"],
            [
                (p["amount"], p["paid"], p["until"], p["days_1_300"], p["days_1_130"], p["rate"], p["penalty"])
                for p in item["parts"]
            ],
        )
        for item in body["items"]
    ]


def test_penalties_today_by_debt_and_part(api: Api, token: str, account: PersonalAccount) -> None:
    response = get(api, token, account, "penalties")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["as_of"], body["total"]) == ("2026-11-22", "566.95")
    assert breakdown(body) == [
        ("2025-10", "1443.60", "2025-11-10", "0.00", "0.00", [("1443.60", True, "2025-12-05", 0, 0, "0.00", "0.00")]),
        # 3849,60 × 9,5 % × (60 / 300 + 10 / 130) = 73,14 + 28,13
        ("2025-11", "3849.60", "2025-12-10", "0.00", "101.27", [("3849.60", True, "2026-03-20", 60, 10, "9.50", "101.27")]),
        ("2025-12", "5293.20", "2026-01-10", "0.00", "65.37", [("5293.20", True, "2026-03-20", 39, 0, "9.50", "65.37")]),
        (
            "2026-01", "5774.40", "2026-02-10", "0.00", "185.43",
            [("857.20", True, "2026-03-20", 8, 0, "9.50", "2.17"), ("4917.20", True, "2026-06-05", 60, 25, "9.50", "183.26")],
        ),
        ("2026-02", "5004.48", "2026-03-15", "0.00", "82.41", [("5004.48", True, "2026-06-05", 52, 0, "9.50", "82.41")]),
        ("2026-03", "3657.12", "2026-04-15", "0.00", "24.32", [("3657.12", True, "2026-06-05", 21, 0, "9.50", "24.32")]),
        (
            "2026-04", "1924.80", "2026-05-15", "503.60", "46.74",
            [("1421.20", True, "2026-06-05", 0, 0, "0.00", "0.00"), ("503.60", False, "2026-11-22", 60, 101, "9.50", "46.74")],
        ),
        ("2026-05", "577.44", "2026-06-15", "577.44", "40.51", [("577.44", False, "2026-11-22", 60, 70, "9.50", "40.51")]),
        ("2026-06", "240.60", "2026-07-15", "240.60", "11.60", [("240.60", False, "2026-11-22", 60, 40, "9.50", "11.60")]),
        ("2026-07", "192.48", "2026-08-15", "192.48", "4.92", [("192.48", False, "2026-11-22", 60, 9, "9.50", "4.92")]),
        ("2026-08", "211.73", "2026-09-15", "211.73", "2.55", [("211.73", False, "2026-11-22", 38, 0, "9.50", "2.55")]),
        ("2026-09", "721.80", "2026-10-15", "721.80", "1.83", [("721.80", False, "2026-11-22", 8, 0, "9.50", "1.83")]),
        ("2026-10", "2016.37", "2026-11-15", "2016.37", "0.00", [("2016.37", False, "2026-11-22", 0, 0, "0.00", "0.00")]),
    ]  # fmt: skip
    assert body["items"][1]["period_label"] == "ноябрь 2025"


def test_penalties_on_the_last_billed_day_are_what_was_posted(api: Api, token: str, account: PersonalAccount) -> None:
    body = get(api, token, account, "penalties?as_of=2026-10-31").json()

    assert (body["as_of"], body["total"]) == ("2026-10-31", "540.34")  # the penalty balance
    assert breakdown(body)[7] == (
        "2026-05", "577.44", "2026-06-15", "577.44", "31.23", [("577.44", False, "2026-10-31", 60, 48, "9.50", "31.23")]
    )  # fmt: skip


def test_penalties_by_default_on_the_suppliers_today(
    api: Api, clock: FakeClock, subscriber: Subscriber, account: PersonalAccount
) -> None:
    clock.current = dt.datetime(2026, 11, 22, 21, 30, tzinfo=dt.UTC)  # 00:30 on the 23rd in Moscow

    body = get(api, token_for(subscriber.user, clock.current), account, "penalties").json()

    assert (body["as_of"], body["total"]) == ("2026-11-23", "568.35")  # a day more on six debts


def test_reading_money_writes_nothing(api: Api, token: str, account: PersonalAccount) -> None:
    before = ledger()

    for tail in ("balance", "charges", "penalties?as_of=2027-03-01", "tariffs", "consumption"):
        assert get(api, token, account, tail).status_code == 200

    assert ledger() == before


@pytest.mark.parametrize(
    "as_of", ["22.11.2026", "2026-11-31", "2026-02-29", "2026-11-22T00:00:00", "1795305600", "20261122", "", "сегодня"]
)
def test_a_bad_day_says_the_format(api: Api, token: str, linked: PersonalAccount, as_of: str) -> None:
    response = get(api, token, linked, f"penalties?as_of={as_of}")

    assert errors_of(response) == [{"field": "as_of", "message": "Ожидается дата в формате ГГГГ-ММ-ДД"}]


# --- Tariffs ----------------------------------------------------------------------------


def test_prices_norms_and_benefits_that_apply(api: Api, token: str, account: PersonalAccount) -> None:
    response = get(api, token, account, "tariffs")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "on": "2026-11-22",
        "prices": [
            {
                "direction": "heating",
                "label": "отопление, в том числе с другими направлениями",
                "price": "9.6240",
                "valid_from": "2020-01-01",
                "valid_to": None,
                "applies": True,
            },
            {
                "direction": "cooking",
                "label": "пищеприготовление и подогрев воды газовой плитой",
                "price": "13.5200",
                "valid_from": "2020-01-01",
                "valid_to": None,
                "applies": False,
            },
            {
                "direction": "cooking_wh",
                "label": "пищеприготовление и подогрев воды плитой и водонагревателем",
                "price": "12.4200",
                "valid_from": "2020-01-01",
                "valid_to": None,
                "applies": False,
            },
        ],
        "norms": [
            {
                "kind": "cooking",
                "label": "пищеприготовление и подогрев воды газовой плитой без горячего водоснабжения",
                "value": "15.0000",
                "unit": "person",
                "month": 0,
                "units": "3",
                "applies": True,
            },
            {
                "kind": "heating",
                "label": "отопление, на 1 м² отапливаемой площади",
                "value": "11.0000",
                "unit": "m2",
                "month": 11,
                "units": "54.30",
                "applies": True,
            },
        ],
        "benefits": [
            {
                "id": Benefit.objects.get().pk,
                "category": "veteran",
                "category_label": "ветеран труда",
                "share": "50.00",
                "persons": 1,
                "within_norm": True,
                "mode": "discount",
                "mode_label": "скидка в квитанции",
                "document": "Удостоверение ветерана труда Т-II № 123456",
                "valid_from": "2026-09-01",
                "valid_to": None,
            }
        ],
    }


def test_a_benefit_that_has_ended_is_not_shown(api: Api, token: str, account: PersonalAccount) -> None:
    Benefit.objects.update(valid_to=dt.date(2026, 10, 31))

    assert get(api, token, account, "tariffs").json()["benefits"] == []


# --- Consumption ------------------------------------------------------------------------


def test_consumption_month_by_month_next_to_the_year_before(api: Api, token: str, account: PersonalAccount) -> None:
    response = get(api, token, account, "consumption?months=3")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "months": [
            {
                "period": "2026-08",
                "period_label": "август 2026",
                "volume": "22.000",
                "amount": "211.73",
                "volume_year_before": None,
                "amount_year_before": None,
            },
            {
                "period": "2026-09",
                "period_label": "сентябрь 2026",
                "volume": "90.000",
                "amount": "866.16",
                "volume_year_before": None,
                "amount_year_before": None,
            },
            {
                "period": "2026-10",
                "period_label": "октябрь 2026",
                "volume": "251.417",
                "amount": "2419.64",
                "volume_year_before": "150.000",
                "amount_year_before": "1443.60",
            },
        ]
    }


def test_consumption_of_two_years_by_default(api: Api, token: str, account: PersonalAccount) -> None:
    months = get(api, token, account, "consumption").json()["months"]

    assert [(m["period"], m["volume"], m["volume_year_before"]) for m in months] == [
        *[(str(Period(2024, 11) + n), None, None) for n in range(11)],
        ("2025-10", "150.000", None),
        ("2025-11", "400.000", None),
        ("2025-12", "550.000", None),
        ("2026-01", "600.000", None),
        ("2026-02", "520.000", None),
        ("2026-03", "380.000", None),
        ("2026-04", "200.000", None),
        ("2026-05", "60.000", None),
        ("2026-06", "25.000", None),
        ("2026-07", "20.000", None),
        ("2026-08", "22.000", None),
        ("2026-09", "90.000", None),
        ("2026-10", "251.417", "150.000"),
    ]
    assert len(get(api, token, account, "consumption?months=36").json()["months"]) == 36


@pytest.mark.parametrize(
    ("months", "message"),
    [
        ("0", "Ожидается число не меньше 1"),
        ("-1", "Ожидается число не меньше 1"),
        ("37", "Ожидается число не больше 36"),
        ("1.5", "Ожидается целое число"),
        ("двенадцать", "Ожидается целое число"),
        ("", "Ожидается целое число"),
    ],
)
def test_bad_months_say_what_to_fix(api: Api, token: str, linked: PersonalAccount, months: str, message: str) -> None:
    response = get(api, token, linked, f"consumption?months={months}")

    assert errors_of(response) == [{"field": "months", "message": message}]


# --- Whose account ----------------------------------------------------------------------

TAILS = ["balance", "charges", "penalties", "tariffs", "consumption"]


def test_another_users_account_is_not_found(api: Api, register: Any, account: PersonalAccount) -> None:
    stranger = register("+79160000002")
    theirs = account_make(supplier=account.supplier, number="770000000002")
    AccountLink.objects.create(user=stranger.user, account=theirs, proof="pin", channel="web", linked_at=NOW)
    token = token_for(stranger.user)

    for tail in TAILS:
        response = get(api, token, account, tail)
        body = problem(response)
        assert (response.status_code, body["code"]) == (404, "account_not_found"), tail
        text = response.content.decode()
        assert [secret for secret in ("4464.02", "540.34", "9.6240", "Удостоверение") if secret in text] == [], tail
        assert get(api, token, theirs, tail).status_code == 200, tail


@pytest.mark.parametrize("tail", TAILS)
def test_an_unknown_or_unlinked_account_is_not_found(api: Api, token: str, linked: PersonalAccount, tail: str) -> None:
    unlinked = account_make(supplier=linked.supplier, number="770000000003")

    for account_id in (unlinked.pk, 999_999):
        response = get(api, token, account_id, tail)
        assert (response.status_code, problem(response)["code"]) == (404, "account_not_found")


@pytest.mark.parametrize("tail", TAILS)
def test_an_id_that_is_not_a_number_says_so(api: Api, token: str, tail: str) -> None:
    response = api.get(f"/accounts/счёт/{tail}", token=token)

    assert errors_of(response) == [{"field": "account_id", "message": "Ожидается целое число"}]


@pytest.mark.parametrize("tail", TAILS)
def test_without_a_token_nothing_is_shown(api: Api, linked: PersonalAccount, tail: str) -> None:
    response = get(api, None, linked, tail)

    body = problem(response)
    assert (response.status_code, body["code"], response["WWW-Authenticate"]) == (401, "not_authenticated", "Bearer")


@pytest.mark.parametrize("tail", TAILS)
def test_an_expired_token_is_refused(
    api: Api, clock: FakeClock, token: str, linked: PersonalAccount, tail: str
) -> None:
    clock.advance(hours=1)

    response = get(api, token, linked, tail)

    assert (response.status_code, problem(response)["code"]) == (401, "invalid_token")
