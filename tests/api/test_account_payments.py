"""``GET /api/v1/accounts/{account_id}/payments``: every payment to an account — the user's own
online payments and the payments banks and payment agents sent in their registries, whoever
paid — newest first, with their channel, in cursor pages that go on across both kinds; only
for an account linked to the user; a repeated or refused registry line is no payment.

Registry payments are made by the real import (``registry_import``) of registry files."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings

from abonent.core.models import Supplier
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.identity.models import User
from abonent.identity.services import app_session_start
from abonent.payments.models import Payment, RegistryLine
from abonent.payments.registries import registry_import
from abonent.payments.services import PartInput, payment_settle, payment_start, sandbox_payment_decide
from tests.api.conftest import NOW, Api, Subscriber, problem
from tests.factories import account_make

pytestmark = pytest.mark.django_db

MSK = dt.timezone(dt.timedelta(hours=3))
NUMBER = "770000000001"


@pytest.fixture(autouse=True)
def _profiles(settings: Settings) -> None:
    """Registries of payment agents and of banks' QR payments: the default columns."""
    settings.PAYMENT_REGISTRY_PROFILES = {"agent": {"channel": "agent"}, "qr": {"channel": "qr"}}


def token_for(user: User) -> str:
    return app_session_start(user=user, device_name="Pixel 8", user_agent="", ip=None, now=NOW).access_token


def link(user: User, account: PersonalAccount) -> PersonalAccount:
    AccountLink.objects.create(user=user, account=account, proof="pin", channel="web", linked_at=NOW)
    return account


@pytest.fixture
def token(api: Api, subscriber: Subscriber) -> str:
    return token_for(subscriber.user)


@pytest.fixture
def account(supplier: Supplier, subscriber: Subscriber) -> PersonalAccount:
    return link(subscriber.user, account_make(supplier=supplier, number=NUMBER))


def registry(
    supplier: Supplier, *lines: str, source: str = "sber", profile: str = "default", name: str = "r.txt"
) -> None:
    """Import a registry of ``lines`` (``ДД.ММ.ГГГГ;ЧЧ:ММ:СС;счёт;сумма;ММ.ГГГГ;плательщик;номер``)
    with its summary line, through the real import."""
    total = sum(int(line.split(";")[3].replace(",", "")) for line in lines)
    content = "\n".join([*lines, f"={len(lines)};{total // 100},{total % 100:02d}"]).encode()
    registry_import(supplier=supplier, source=source, content=content, file_name=name, now=NOW, profile=profile)


def paid_online(user: User, account: PersonalAccount, amount: str, *, at: dt.datetime) -> Payment:
    """An online payment started a minute before ``at`` and paid at ``at`` on the sandbox."""
    payment = payment_start(
        user=user,
        parts=[PartInput(account_id=account.pk, amount=amount)],
        method="sbp",
        return_url="http://testserver/payments/return/",
        receipt_email="maria@mail.example",
        now=at - dt.timedelta(minutes=1),
    )
    assert payment.gateway_payment_id is not None
    sandbox_payment_decide(gateway_payment_id=payment.gateway_payment_id, approve=True, now=at)
    payment_settle(payment_id=payment.pk, now=at)
    return payment


def listed(api: Api, token: str, account: PersonalAccount, query: str = "") -> dict[str, Any]:
    response = api.get(f"/accounts/{account.pk}/payments{query}", token=token)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def all_pages(api: Api, token: str, account: PersonalAccount, limit: int) -> list[list[str]]:
    """The amounts of each page, following next_cursor to the end."""
    pages, query = [], f"?limit={limit}"
    while True:
        body = listed(api, token, account, query)
        pages.append([item["amount"] for item in body["items"]])
        if body["next_cursor"] is None:
            return pages
        query = f"?limit={limit}&cursor={body['next_cursor']}"


# --- Both kinds ---------------------------------------------------------------------------------


def test_online_and_registry_payments_with_their_channels(
    api: Api, token: str, supplier: Supplier, account: PersonalAccount, subscriber: Subscriber
) -> None:
    online = paid_online(subscriber.user, account, "500.00", at=dt.datetime(2026, 11, 20, 12, 0, tzinfo=MSK))
    registry(supplier, f"19.11.2026;09:00:00;{NUMBER};1250,50;10.2026;Иванов Пётр;SB-1", source="sber")
    registry(supplier, f"21.11.2026;09:00:00;{NUMBER};300,00;;Иванов Пётр;AG-1", source="kassa", profile="agent")
    registry(supplier, f"22.11.2026;08:30:05;{NUMBER};99,99;11.2026;Иванова;QR-1", source="vtb", profile="qr")

    body = listed(api, token, account)

    part = {"account_id": account.pk, "account_number": NUMBER, "service": "gas", "service_label": "газоснабжение"}
    registry_item = {
        "kind": "registry",
        "status": "succeeded",
        "status_label": "зачислен",
        "payment_id": None,
        "method": None,
        "method_label": None,
        "receipt_email": None,
        "receipt_phone": None,
    }
    assert body == {
        "items": [
            {
                **registry_item,
                "at": "2026-11-22T05:30:05Z",
                "amount": "99.99",
                "channel": "qr",
                "channel_label": "приложение банка по QR-коду",
                "parts": [{**part, "amount": "99.99", "period": "2026-11"}],
                "bank": "vtb",
                "period": "2026-11",
            },
            {
                **registry_item,
                "at": "2026-11-21T06:00:00Z",
                "amount": "300.00",
                "channel": "agent",
                "channel_label": "платёжный агент",
                "parts": [{**part, "amount": "300.00", "period": None}],
                "bank": "kassa",
                "period": None,
            },
            {
                "kind": "online",
                "at": "2026-11-20T09:00:00Z",
                "amount": "500.00",
                "status": "succeeded",
                "status_label": "оплачен",
                "channel": "online",
                "channel_label": "онлайн на портале",
                "parts": [{**part, "amount": "500.00", "period": None}],
                "payment_id": str(online.public_id),
                "method": "sbp",
                "method_label": "СБП",
                "receipt_email": "maria@mail.example",
                "receipt_phone": "+79123456789",  # the profile's, as well
                "bank": None,
                "period": None,
            },
            {
                **registry_item,
                "at": "2026-11-19T06:00:00Z",
                "amount": "1250.50",
                "channel": "bank",
                "channel_label": "в отделении банка",
                "parts": [{**part, "amount": "1250.50", "period": "2026-10"}],
                "bank": "sber",
                "period": "2026-10",
            },
        ],
        "next_cursor": None,
    }
    # the list of online payments stays as it was
    assert [p["id"] for p in api.get("/payments", token=token).json()["items"]] == [str(online.public_id)]


def test_an_online_payment_not_paid_is_placed_by_its_start(
    api: Api, token: str, supplier: Supplier, account: PersonalAccount, subscriber: Subscriber
) -> None:
    payment_start(
        user=subscriber.user,
        parts=[PartInput(account_id=account.pk, amount="70.00")],
        method="bank_card",
        return_url="http://testserver/payments/return/",
        now=dt.datetime(2026, 11, 20, 10, 0, tzinfo=MSK),
    )
    registry(
        supplier,
        f"20.11.2026;09:59:59;{NUMBER};1,00;;Иванов;SB-1",
        f"20.11.2026;10:00:01;{NUMBER};2,00;;Иванов;SB-2",
    )

    items = listed(api, token, account)["items"]

    assert [(i["kind"], i["at"], i["status"]) for i in items] == [
        ("registry", "2026-11-20T07:00:01Z", "succeeded"),
        ("online", "2026-11-20T07:00:00Z", "pending"),
        ("registry", "2026-11-20T06:59:59Z", "succeeded"),
    ]


def test_registry_payments_are_shown_to_every_linked_user_and_no_one_else(
    api: Api, supplier: Supplier, account: PersonalAccount, subscriber: Subscriber, register: Any
) -> None:
    husband = register("+79160000001").user
    link(husband, account)
    stranger = register("+79160000002").user
    theirs = link(stranger, account_make(supplier=supplier, number="770000000099"))
    # the husband's online payment is his; the bank's payments are the account's
    paid_online(husband, account, "500.00", at=dt.datetime(2026, 11, 20, 12, 0, tzinfo=MSK))
    registry(
        supplier, f"19.11.2026;09:00:00;{NUMBER};1250,50;;Иванов;SB-1", "19.11.2026;09:00:00;770000000099;5,00;;П;SB-2"
    )

    mine = listed(api, token_for(subscriber.user), account)["items"]
    his = listed(api, token_for(husband), account)["items"]
    others = listed(api, token_for(stranger), theirs)["items"]

    assert [(i["kind"], i["amount"]) for i in mine] == [("registry", "1250.50")]
    assert [(i["kind"], i["amount"]) for i in his] == [("online", "500.00"), ("registry", "1250.50")]
    assert [(i["kind"], i["amount"]) for i in others] == [("registry", "5.00")]
    response = api.get(f"/accounts/{account.pk}/payments", token=token_for(stranger))
    body = problem(response)
    assert (response.status_code, body["code"]) == (404, "account_not_found")


def test_a_repeated_or_refused_registry_line_is_no_payment(
    api: Api, token: str, supplier: Supplier, account: PersonalAccount
) -> None:
    registry(supplier, f"20.11.2026;10:15:00;{NUMBER};1250,50;10.2026;Иванов;SB-1")
    registry(
        supplier,
        f"20.11.2026;10:15:00;{NUMBER};1250,50;10.2026;Иванов;SB-1",  # a repeat
        f"20.11.2026;10:16:00;{NUMBER};999,00;10.2026;Иванов;SB-1",  # the same number with other data
        name="again.txt",
    )
    assert sorted(RegistryLine.objects.filter(account=account).values_list("status", flat=True)) == [
        "duplicate",
        "failed",
        "posted",
    ]

    items = listed(api, token, account)["items"]

    assert [(i["at"], i["amount"]) for i in items] == [("2026-11-20T07:15:00Z", "1250.50")]


# --- Pages ---------------------------------------------------------------------------------------


def test_pages_go_on_across_both_kinds_at_equal_moments(
    api: Api, token: str, supplier: Supplier, account: PersonalAccount, subscriber: Subscriber
) -> None:
    noon = dt.datetime(2026, 11, 20, 12, 0, tzinfo=MSK)
    paid_online(subscriber.user, account, "11.00", at=noon)
    paid_online(subscriber.user, account, "12.00", at=noon)
    registry(
        supplier,
        f"20.11.2026;12:00:00;{NUMBER};21,00;;Иванов;SB-1",
        f"20.11.2026;12:00:00;{NUMBER};22,00;;Иванов;SB-2",
        f"20.11.2026;12:00:01;{NUMBER};24,00;;Иванов;SB-4",
        f"20.11.2026;11:59:59;{NUMBER};23,00;;Иванов;SB-3",
    )

    expected = ["24.00", "12.00", "11.00", "22.00", "21.00", "23.00"]
    for limit in (1, 2, 3, 4, 6, 100):
        pages = all_pages(api, token, account, limit)
        assert [amount for page in pages for amount in page] == expected, limit
        assert [len(page) for page in pages[:-1]] == [limit] * (len(pages) - 1)
        assert len(pages) == max(1, -(-len(expected) // limit))


def test_a_page_goes_on_after_its_last_item_whatever_came_in_meanwhile(
    api: Api, token: str, supplier: Supplier, account: PersonalAccount, subscriber: Subscriber
) -> None:
    registry(
        supplier, f"18.11.2026;10:00:00;{NUMBER};100,00;;Иванов;SB-1", f"19.11.2026;10:00:00;{NUMBER};200,00;;И;SB-2"
    )
    first = listed(api, token, account, "?limit=1")
    paid_online(subscriber.user, account, "300.00", at=dt.datetime(2026, 11, 21, 12, 0, tzinfo=MSK))
    registry(supplier, f"20.11.2026;10:00:00;{NUMBER};400,00;;Иванов;SB-3", name="more.txt")

    second = listed(api, token, account, f"?limit=1&cursor={first['next_cursor']}")

    assert [i["amount"] for i in first["items"]] == ["200.00"]
    assert [i["amount"] for i in second["items"]] == ["100.00"]
    assert second["next_cursor"] is None


def test_a_long_history_costs_no_more_queries_than_a_short_one(
    api: Api, token: str, supplier: Supplier, account: PersonalAccount, subscriber: Subscriber
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            listed(api, token, account, "?limit=2")
        return len(captured)

    registry(supplier, f"01.11.2026;10:00:00;{NUMBER};1,00;;И;SB-0")
    paid_online(subscriber.user, account, "5.00", at=dt.datetime(2026, 11, 2, 12, 0, tzinfo=MSK))
    short = queries()
    registry(
        supplier, *(f"{day:02d}.11.2026;10:00:00;{NUMBER};{day},00;;И;SB-{day}" for day in range(3, 20)), name="n.txt"
    )
    for day in range(3, 20):
        paid_online(subscriber.user, account, f"{day}.50", at=dt.datetime(2026, 11, day, 12, 0, tzinfo=MSK))

    assert queries() == short


# --- Errors ----------------------------------------------------------------------------------------


def test_an_account_not_linked_or_not_there_is_not_found(
    api: Api, token: str, supplier: Supplier, account: PersonalAccount
) -> None:
    other = account_make(supplier=supplier, number="770000000055")
    registry(supplier, f"19.11.2026;09:00:00;{other.number};5,00;;П;SB-1")

    for account_id in (other.pk, 999_999):
        response = api.get(f"/accounts/{account_id}/payments", token=token)
        body = problem(response)
        assert (response.status_code, body["code"]) == (404, "account_not_found")


def test_a_bad_cursor_or_limit_is_422(api: Api, token: str, supplier: Supplier, account: PersonalAccount) -> None:
    registry(supplier, f"19.11.2026;09:00:00;{NUMBER};5,00;;П;SB-1", f"19.11.2026;09:00:01;{NUMBER};6,00;;П;SB-2")
    other_lists_cursor = "eyJhZnRlciI6MX0"  # {"after":1}: the cursor of the other lists

    for cursor in ("bm90LWEtY3Vyc29y", other_lists_cursor, "eyJhdCI6IngiLCJraW5kIjoib25saW5lIiwiaWQiOjF9", "%%%"):
        response = api.get(f"/accounts/{account.pk}/payments?cursor={cursor}", token=token)
        body = problem(response)
        assert (response.status_code, body["code"]) == (422, "cursor_invalid"), cursor
        assert body["errors"][0]["field"] == "cursor"
    for query in ("limit=0", "limit=101", "limit=x"):
        response = api.get(f"/accounts/{account.pk}/payments?{query}", token=token)
        body = problem(response)
        assert (response.status_code, body["code"]) == (422, "validation_failed"), query
        assert body["errors"][0]["field"] == "limit"
    response = api.get(f"/accounts/{account.pk}/payments?cursor={'a' * 201}", token=token)
    assert (response.status_code, problem(response)["code"]) == (422, "validation_failed")


def test_without_a_token_nothing_is_shown(api: Api, account: PersonalAccount) -> None:
    response = api.get(f"/accounts/{account.pk}/payments")
    assert (response.status_code, problem(response)["code"]) == (401, "not_authenticated")


def test_the_spec_documents_the_operation(api: Api) -> None:
    spec = api.client.get("/api/v1/openapi.json").json()
    operation = spec["paths"]["/api/v1/accounts/{account_id}/payments"]["get"]

    assert operation["summary"] == "Платежи на лицевой счёт: онлайн и через банки"
    assert {p["name"] for p in operation["parameters"]} == {"account_id", "cursor", "limit"}
    assert set(operation["responses"]) >= {"200", "401", "404", "422"}
    assert "application/problem+json" in operation["responses"]["404"]["content"]
    item = spec["components"]["schemas"]["AccountPaymentOut"]
    assert set(item["properties"]) == {
        "kind",
        "at",
        "amount",
        "status",
        "status_label",
        "channel",
        "channel_label",
        "parts",
        "payment_id",
        "method",
        "method_label",
        "receipt_email",
        "receipt_phone",
        "bank",
        "period",
    }
    assert item["properties"]["kind"]["enum"] == ["online", "registry"]
    assert set(spec["paths"]["/api/v1/payments"]) == {"get", "post"}
