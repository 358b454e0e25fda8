"""Paying accounts through the API: a payment starts pending with the gateway's page, the
sandbox takes the payer's decision, and the payment, its list and the account's balance show
the outcome; every bad input says what to fix and leaves nothing behind (no payment, no
part, nothing at the gateway, no ledger entry); a user sees only their own payments."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from abonent.core.models import Supplier
from abonent.core.services import supplier_create
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.identity.models import User
from abonent.identity.services import app_session_start
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.models import LedgerEntry
from abonent.payments.gateways.base import GatewayRefused, GatewayUnavailable
from abonent.payments.gateways.sandbox import SandboxGateway
from abonent.payments.models import Payment, PaymentPart, SandboxPayment
from abonent.payments.services import sandbox_payment_decide
from tests.api.conftest import NOW, Api, FakeClock, Subscriber, problem
from tests.conftest import SUPPLIER_MOSCOW
from tests.factories import account_make
from tests.payments.payments_data import D

pytestmark = pytest.mark.django_db

PHONE = "+79123456789"  # the subscriber's, where the receipt goes by default


def token_for(user: User, now: dt.datetime = NOW) -> str:
    return app_session_start(user=user, device_name="Pixel 8", user_agent="", ip=None, now=now).access_token


def link(user: User, account: PersonalAccount) -> PersonalAccount:
    AccountLink.objects.create(user=user, account=account, proof="pin", channel="web", linked_at=NOW)
    return account


@pytest.fixture
def token(api: Api, subscriber: Subscriber) -> str:
    return token_for(subscriber.user)


@pytest.fixture
def account(supplier: Supplier, subscriber: Subscriber) -> PersonalAccount:
    return link(subscriber.user, account_make(supplier=supplier, number="770000000001"))


@pytest.fixture
def dacha(supplier: Supplier, subscriber: Subscriber) -> PersonalAccount:
    """The subscriber's second account with the same supplier."""
    return link(subscriber.user, account_make(supplier=supplier, number="770000000002", street="ул. Лесная"))


@pytest.fixture
def stranger(supplier: Supplier, register: Any) -> tuple[User, PersonalAccount]:
    """Another user with an account of their own."""
    other = register("+79161112233").user
    return other, link(other, account_make(supplier=supplier, number="770000000099"))


def second_supplier(**terms: Any) -> Supplier:
    return supplier_create(
        **{**SUPPLIER_MOSCOW, "code": "yantar", "short_name": "Янтарьгаз", "time_zone": "Europe/Kaliningrad"},
        terms=terms or None,
    )


def part(account: PersonalAccount, amount: Any = "1250.50", **extra: Any) -> dict[str, Any]:
    return {"account_id": account.pk, "amount": amount, **extra}


def start(api: Api, token: str | None, *parts: dict[str, Any], method: str = "bank_card", **extra: Any) -> Any:
    return api.post("/payments", {"parts": list(parts), "method": method, **extra}, token=token)


def nothing_written() -> None:
    """No trace of a payment anywhere: ours, the gateway's, the ledger."""
    assert not Payment.objects.exists()
    assert not PaymentPart.objects.exists()
    assert not SandboxPayment.objects.exists()
    assert not LedgerEntry.objects.exists()


def errors_of(response: Any) -> list[dict[str, str]]:
    body = problem(response)
    assert (response.status_code, body["code"]) == (422, "validation_failed"), body
    errors: list[dict[str, str]] = body["errors"]
    return errors


def part_out(account: PersonalAccount, amount: str, service: str = "gas", period: str | None = None) -> dict[str, Any]:
    labels = {"gas": "газоснабжение", "penalty": "пени", "vdgo": "ТО ВДГО"}
    return {
        "account_id": account.pk,
        "account_number": account.number,
        "service": service,
        "service_label": labels[service],
        "amount": amount,
        "period": period,
    }


# --- Starting a payment -----------------------------------------------------------------


def test_a_payment_starts_pending_with_the_gateway_page(
    api: Api, token: str, account: PersonalAccount, dacha: PersonalAccount
) -> None:
    response = start(
        api,
        token,
        part(account, "1250.50"),
        part(account, "120,35", service="penalty", period="2026-10"),
        part(dacha, "300"),
        method="sbp",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    payment = Payment.objects.get()
    gateway_side = SandboxPayment.objects.get()
    assert body == {
        "id": str(payment.public_id),
        "created_at": "2026-11-22T10:00:00Z",
        "amount": "1670.85",
        "status": "pending",
        "status_label": "ожидает оплаты",
        "channel": "online",
        "channel_label": "онлайн на портале",
        "method": "sbp",
        "method_label": "СБП",
        "confirmation_url": f"http://testserver/sandbox/pay/{gateway_side.id}/",
        "paid_at": None,
        "paid_on": None,
        "canceled_reason": None,
        "receipt_email": None,
        "receipt_phone": PHONE,
        "parts": [
            part_out(account, "1250.50"),
            part_out(account, "120.35", "penalty", "2026-10"),
            part_out(dacha, "300.00"),
        ],
    }
    # the gateway sends the payer back to the portal's page of this payment
    assert gateway_side.return_url == f"http://testserver/payments/{payment.public_id}/"
    assert (gateway_side.amount, gateway_side.method) == (D("1670.85"), "sbp")
    assert gateway_side.receipt["customer"] == {"phone": PHONE}
    assert not LedgerEntry.objects.exists()  # nothing is posted before the gateway says it is paid


def test_the_app_names_where_the_payer_comes_back_and_the_receipt_contact(
    api: Api, token: str, account: PersonalAccount
) -> None:
    response = start(
        api,
        token,
        part(account),
        return_url="https://app.gaz.example/payments/done?from=gateway",
        receipt_email=" Ivanova@Mail.RU ",
        receipt_phone="8 (916) 123-45-67",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["receipt_email"], body["receipt_phone"]) == ("Ivanova@mail.ru", "+79161234567")
    gateway_side = SandboxPayment.objects.get()
    assert gateway_side.return_url == "https://app.gaz.example/payments/done?from=gateway"
    assert gateway_side.receipt["customer"] == {"email": "Ivanova@mail.ru", "phone": "+79161234567"}


def test_paid_on_the_sandbox_the_payment_and_the_balance_show_it(
    api: Api, token: str, account: PersonalAccount, django_capture_on_commit_callbacks: Any
) -> None:
    started = start(api, token, part(account, "1250.50")).json()
    gateway_id = SandboxPayment.objects.get().id

    # the payer approves on the gateway's page; its notification comes after the commit
    with django_capture_on_commit_callbacks(execute=True):
        back = sandbox_payment_decide(gateway_payment_id=gateway_id, approve=True, now=NOW)

    assert back == f"http://testserver/payments/{started['id']}/"
    shown = api.get(f"/payments/{started['id']}", token=token)
    assert shown.status_code == 200, shown.content
    body = shown.json()
    assert {k: body[k] for k in ("status", "status_label", "amount", "paid_at", "paid_on", "confirmation_url")} == {
        "status": "succeeded",
        "status_label": "оплачен",
        "amount": "1250.50",
        "paid_at": "2026-11-22T10:00:00Z",
        "paid_on": "2026-11-22",
        "confirmation_url": None,
    }
    entry = LedgerEntry.objects.get()
    assert (entry.account_id, entry.kind, entry.amount) == (account.pk, EntryKind.PAYMENT, D("-1250.50"))
    balance = api.get(f"/accounts/{account.pk}/balance", token=token).json()
    assert balance["balances"][0] == {"service": "gas", "label": "газоснабжение", "balance": "-1250.50"}
    assert balance["overpaid"] == "1250.50"


def test_coming_back_before_the_notification_the_payment_is_asked_from_the_gateway(
    api: Api, token: str, account: PersonalAccount
) -> None:
    started = start(api, token, part(account, "500.00", service="vdgo")).json()
    # decided on the gateway's side; its notification has not arrived (the commit callbacks do not run)
    sandbox_payment_decide(gateway_payment_id=SandboxPayment.objects.get().id, approve=True, now=NOW)

    body = api.get(f"/payments/{started['id']}", token=token).json()

    assert body["status"] == "succeeded"
    entry = LedgerEntry.objects.get()
    assert (entry.service, entry.amount) == (Service.VDGO, D("-500.00"))
    # asked again: nothing new
    api.get(f"/payments/{started['id']}", token=token)
    assert LedgerEntry.objects.count() == 1


def test_declined_on_the_gateway_page_the_payment_is_canceled_and_nothing_is_posted(
    api: Api, token: str, account: PersonalAccount
) -> None:
    started = start(api, token, part(account)).json()
    sandbox_payment_decide(gateway_payment_id=SandboxPayment.objects.get().id, approve=False, now=NOW)

    body = api.get(f"/payments/{started['id']}", token=token).json()

    assert (body["status"], body["canceled_reason"], body["confirmation_url"]) == ("canceled", "card_expired", None)
    assert not LedgerEntry.objects.exists()


def test_when_the_gateway_does_not_answer_the_payment_is_shown_as_stored(
    api: Api, token: str, account: PersonalAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = start(api, token, part(account)).json()
    sandbox_payment_decide(gateway_payment_id=SandboxPayment.objects.get().id, approve=True, now=NOW)

    def down(self: SandboxGateway, payment_id: str) -> None:
        raise GatewayUnavailable("timeout")

    monkeypatch.setattr(SandboxGateway, "payment_get", down)
    response = api.get(f"/payments/{started['id']}", token=token)

    assert response.status_code == 200, response.content
    assert response.json() == started  # still pending, as stored
    assert not LedgerEntry.objects.exists()


# --- What the gateway says ---------------------------------------------------------------


def test_the_gateway_not_answering_is_503_and_the_payment_waits_for_reconciliation(
    api: Api, token: str, account: PersonalAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(self: SandboxGateway, request: Any) -> None:
        raise GatewayUnavailable("connection refused")

    monkeypatch.setattr(SandboxGateway, "payment_create", down)
    response = start(api, token, part(account))

    body = problem(response)
    assert (response.status_code, body["code"]) == (503, "payment_gateway_unavailable")
    assert body["detail"] == "Платёжный сервис сейчас не отвечает. Попробуйте оплатить через несколько минут"
    # kept as created, for reconciliation to ask the gateway; nothing posted
    assert list(Payment.objects.values_list("status", "gateway_payment_id")) == [("created", None)]
    assert not LedgerEntry.objects.exists()


def test_the_gateway_refusing_is_409_and_the_payment_is_canceled(
    api: Api, token: str, account: PersonalAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: SandboxGateway, request: Any) -> None:
        raise GatewayRefused("receipt.customer is invalid", code="invalid_request")

    monkeypatch.setattr(SandboxGateway, "payment_create", refuse)
    response = start(api, token, part(account))

    body = problem(response)
    assert (response.status_code, body["code"]) == (409, "payment_refused")
    assert body["detail"] == "Платёжный сервис отклонил платёж: receipt.customer is invalid"
    assert list(Payment.objects.values_list("status", "canceled_reason")) == [("canceled", "invalid_request")]
    assert not LedgerEntry.objects.exists()


# --- Bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "Сумма должна быть больше нуля"),
        ("0.00", "Сумма должна быть больше нуля"),
        ("-10.00", "Сумма должна быть больше нуля"),
        ("10.005", "Не больше двух знаков после запятой: рубли и копейки"),
        ("0.001", "Не больше двух знаков после запятой: рубли и копейки"),
        ("500000.01", "Не больше 500\u202f000,00 ₽ одним платежом"),
        ("1e30", "Не больше 500\u202f000,00 ₽ одним платежом"),
        ("сто рублей", "Сумма — это число рублей, например 1250,50"),
        ("NaN", "Сумма — это число рублей, например 1250,50"),
        (" ", "Укажите сумму"),
    ],
)
def test_a_bad_amount_is_named_with_what_to_fix(
    api: Api, token: str, account: PersonalAccount, amount: str, message: str
) -> None:
    response = start(api, token, part(account, amount))

    assert errors_of(response) == [{"field": "parts.0.amount", "message": message}]
    nothing_written()


def test_the_limit_is_a_setting(api: Api, token: str, account: PersonalAccount, settings: Any) -> None:
    settings.PAYMENT_MAX_AMOUNT = "15000.00"

    assert errors_of(start(api, token, part(account, "15000.01"))) == [
        {"field": "parts.0.amount", "message": "Не больше 15\u202f000,00 ₽ одним платежом"}
    ]
    assert start(api, token, part(account, "15000.00")).status_code == 201


@pytest.mark.parametrize("amount", [1250.5, 1250, 0.1])
def test_an_amount_sent_as_a_json_number_is_refused(
    api: Api, token: str, account: PersonalAccount, amount: float
) -> None:
    response = start(api, token, part(account, amount))

    assert errors_of(response) == [
        {
            "field": "parts.0.amount",
            "message": 'Сумму передают строкой в кавычках: "1250.50"; числа JSON не подходят — в них теряются копейки',
        }
    ]
    nothing_written()


def test_the_sum_of_the_parts_may_not_pass_the_limit(
    api: Api, token: str, account: PersonalAccount, dacha: PersonalAccount
) -> None:
    response = start(api, token, part(account, "300000.00"), part(dacha, "200000.01"))

    assert errors_of(response) == [{"field": "parts", "message": "Не больше 500\u202f000,00 ₽ одним платежом"}]
    nothing_written()


def test_no_parts(api: Api, token: str, account: PersonalAccount) -> None:
    response = start(api, token)

    assert errors_of(response) == [{"field": "parts", "message": "Выберите хотя бы один лицевой счёт"}]
    nothing_written()


def test_more_parts_than_a_payment_takes(api: Api, token: str, account: PersonalAccount) -> None:
    response = start(api, token, *[part(account, "1.00") for _ in range(21)])

    assert errors_of(response) == [{"field": "parts", "message": "Слишком много элементов: не больше 20"}]
    nothing_written()


def test_an_unknown_method(api: Api, token: str, account: PersonalAccount) -> None:
    response = start(api, token, part(account), method="cash")

    assert errors_of(response) == [{"field": "method", "message": "Допустимые значения: 'bank_card', 'sbp'"}]
    nothing_written()


def test_a_method_the_supplier_does_not_take(api: Api, token: str, subscriber: Subscriber) -> None:
    yantar = second_supplier(sbp_allowed=False)
    account = link(subscriber.user, account_make(supplier=yantar, number="390000000001"))

    response = start(api, token, part(account), method="sbp")

    assert errors_of(response) == [
        {"field": "method", "message": "Поставщик не принимает оплату этим способом: выберите другой"}
    ]
    nothing_written()
    assert start(api, token, part(account), method="bank_card").status_code == 201


def test_an_account_of_another_user(
    api: Api, token: str, account: PersonalAccount, stranger: tuple[User, PersonalAccount]
) -> None:
    _other, theirs = stranger

    response = start(api, token, part(account), part(theirs))

    assert errors_of(response) == [
        {"field": "parts.1.account", "message": "Этот лицевой счёт не привязан к вашему профилю"}
    ]
    nothing_written()


def test_an_account_that_does_not_exist(api: Api, token: str, account: PersonalAccount) -> None:
    response = start(api, token, {"account_id": account.pk + 1000, "amount": "10.00"})

    assert errors_of(response) == [
        {"field": "parts.0.account", "message": "Этот лицевой счёт не привязан к вашему профилю"}
    ]
    nothing_written()


def test_accounts_of_two_suppliers_in_one_payment(
    api: Api, token: str, account: PersonalAccount, subscriber: Subscriber
) -> None:
    elsewhere = link(subscriber.user, account_make(supplier=second_supplier(), number="390000000001"))

    response = start(api, token, part(account), part(elsewhere))

    assert errors_of(response) == [
        {"field": "parts", "message": "Счета разных поставщиков оплачиваются отдельными платежами"}
    ]
    nothing_written()


def test_the_same_account_and_service_twice(api: Api, token: str, account: PersonalAccount) -> None:
    response = start(api, token, part(account, "10.00"), part(account, "20.00"))

    assert errors_of(response) == [{"field": "parts.1.account", "message": "Этот счёт и услуга уже есть в платеже"}]
    nothing_written()


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"service": "electricity"}, "parts.0.service", "Допустимые значения: 'gas', 'penalty', 'vdgo'"),
        ({"period": "2026-13"}, "parts.0.period", "Период — год и месяц ГГГГ-ММ, например 2026-10"),
        ({"period": "10.2026"}, "parts.0.period", "Период — год и месяц ГГГГ-ММ, например 2026-10"),
        ({"period": 202610}, "parts.0.period", "Ожидается строка"),
        ({"account_id": "1"}, "parts.0.account_id", "Ожидается целое число"),
        ({"account_id": 0}, "parts.0.account_id", "Ожидается число не меньше 1"),
        ({"amount": None}, "parts.0.amount", 'Сумму передают строкой в кавычках, например "1250.50"'),
        ({"amount": ""}, "parts.0.amount", "Укажите сумму"),
        ({"amount": "1" * 21}, "parts.0.amount", "Слишком длинно: не больше 20 символов"),
        ({"comment": "за ноябрь"}, "parts.0.comment", "Неизвестное поле: уберите его"),
    ],
)
def test_a_bad_part_is_named_by_its_position(
    api: Api, token: str, account: PersonalAccount, extra: dict[str, Any], field: str, message: str
) -> None:
    response = start(api, token, {**part(account), **extra})

    assert errors_of(response) == [{"field": field, "message": message}]
    nothing_written()


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        (
            {"receipt_email": "ivanova@"},
            "receipt_email",
            "Введите адрес электронной почты полностью, например ivanova@mail.ru",
        ),
        (
            {"receipt_phone": "12345"},
            "receipt_phone",
            "Введите номер мобильного телефона России: +7 912 345-67-89 или 8 912 345-67-89",
        ),
        (
            {"return_url": "javascript:alert(1)"},
            "return_url",
            "Адрес возврата — полный адрес страницы: https://… (или не указывайте его)",
        ),
        (
            {"return_url": "/payments/"},
            "return_url",
            "Адрес возврата — полный адрес страницы: https://… (или не указывайте его)",
        ),
    ],
)
def test_bad_receipt_contacts_and_return_address(
    api: Api, token: str, account: PersonalAccount, extra: dict[str, Any], field: str, message: str
) -> None:
    response = start(api, token, part(account), **extra)

    assert errors_of(response) == [{"field": field, "message": message}]
    nothing_written()


def test_no_contact_for_the_receipt(api: Api, token: str, account: PersonalAccount, subscriber: Subscriber) -> None:
    User.objects.filter(pk=subscriber.user.pk).update(phone=None, email=None)

    response = start(api, token, part(account))

    assert errors_of(response) == [
        {"field": "receipt_email", "message": "Укажите e-mail или телефон для кассового чека"}
    ]
    nothing_written()


def test_every_mistake_at_once(api: Api, token: str, account: PersonalAccount) -> None:
    response = start(api, token, part(account, "0"), part(account, "12.345", service="penalty"), method="sbp")

    assert errors_of(response) == [
        {"field": "parts.0.amount", "message": "Сумма должна быть больше нуля"},
        {"field": "parts.1.amount", "message": "Не больше двух знаков после запятой: рубли и копейки"},
    ]
    nothing_written()


def test_a_body_that_is_not_json(api: Api, token: str, account: PersonalAccount) -> None:
    response = api.post("/payments", raw='{"parts": [', token=token)

    assert (response.status_code, problem(response)["code"]) == (400, "invalid_json")
    nothing_written()


def test_without_a_token_nothing_is_paid_nor_shown(api: Api, account: PersonalAccount) -> None:
    for response in (
        start(api, None, part(account)),
        api.get("/payments"),
        api.get(f"/payments/{uuid.uuid4()}"),
        start(api, "not-a-token", part(account)),
    ):
        assert response.status_code == 401
        assert problem(response)["code"] in {"not_authenticated", "invalid_token"}
    nothing_written()


# --- The user's payments --------------------------------------------------------------------


def test_the_list_newest_first_page_by_page(
    api: Api, token: str, account: PersonalAccount, dacha: PersonalAccount, clock: FakeClock
) -> None:
    ids = []
    for amount, on in (("100.00", account), ("200.00", dacha), ("300.00", account)):
        ids.append(start(api, token, part(on, amount)).json()["id"])
        clock.advance(seconds=30)

    first = api.get("/payments?limit=2", token=token).json()
    second = api.get(f"/payments?limit=2&cursor={first['next_cursor']}", token=token).json()

    assert [p["id"] for p in first["items"]] == [ids[2], ids[1]]
    assert [p["amount"] for p in first["items"]] == ["300.00", "200.00"]
    assert first["items"][1]["parts"] == [part_out(dacha, "200.00")]
    assert first["next_cursor"] is not None
    assert [p["id"] for p in second["items"]] == [ids[0]]
    assert second["next_cursor"] is None
    # a new payment at the top does not shift the pages
    start(api, token, part(account, "400.00"))
    again = api.get(f"/payments?limit=2&cursor={first['next_cursor']}", token=token).json()
    assert [p["id"] for p in again["items"]] == [ids[0]]


def test_the_list_of_one_account(api: Api, token: str, account: PersonalAccount, dacha: PersonalAccount) -> None:
    on_account = start(api, token, part(account, "100.00")).json()["id"]
    on_both = start(api, token, part(account, "50.00"), part(dacha, "70.00")).json()["id"]
    start(api, token, part(dacha, "200.00"))

    body = api.get(f"/payments?account_id={account.pk}", token=token).json()

    assert [p["id"] for p in body["items"]] == [on_both, on_account]


def test_the_list_shows_only_the_users_own_payments(
    api: Api, token: str, account: PersonalAccount, stranger: tuple[User, PersonalAccount]
) -> None:
    other, theirs = stranger
    start(api, token_for(other), part(theirs, "999.00"))
    mine = start(api, token, part(account, "100.00")).json()["id"]

    assert [p["id"] for p in api.get("/payments", token=token).json()["items"]] == [mine]
    response = api.get(f"/payments?account_id={theirs.pk}", token=token)
    assert (response.status_code, problem(response)["code"]) == (404, "account_not_found")


def test_a_payment_of_another_user_is_not_found(
    api: Api, token: str, account: PersonalAccount, stranger: tuple[User, PersonalAccount]
) -> None:
    other, theirs = stranger
    theirs_id = start(api, token_for(other), part(theirs, "999.00")).json()["id"]

    for payment_id in (theirs_id, str(uuid.uuid4())):
        response = api.get(f"/payments/{payment_id}", token=token)
        body = problem(response)
        assert (response.status_code, body["code"], body["detail"]) == (404, "payment_not_found", "Платёж не найден")
    # asking did not settle it either
    assert Payment.objects.get().status == "pending"


def test_bad_list_and_payment_parameters(api: Api, token: str, account: PersonalAccount) -> None:
    assert errors_of(api.get("/payments/12345", token=token))[0]["field"] == "payment_id"
    assert errors_of(api.get("/payments?limit=0", token=token))[0]["field"] == "limit"
    assert errors_of(api.get("/payments?account_id=abc", token=token))[0]["field"] == "account_id"
    response = api.get("/payments?cursor=bm90LWEtY3Vyc29y", token=token)
    assert (response.status_code, problem(response)["code"]) == (422, "cursor_invalid")


def test_the_spec_lists_the_payments_operations(api: Api) -> None:
    paths = api.client.get("/api/v1/openapi.json").json()["paths"]

    assert set(paths["/api/v1/payments"]) == {"get", "post"}
    assert set(paths["/api/v1/payments/{payment_id}"]) == {"get"}
    assert set(paths["/api/v1/payments/notifications/{gateway}"]) == {"post"}
    assert "security" not in paths["/api/v1/payments/notifications/{gateway}"]["post"]
    amount = paths["/api/v1/payments"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert amount == {"$ref": "#/components/schemas/PaymentIn"}
    assert set(paths["/api/v1/payments"]["post"]["responses"]) >= {"201", "401", "409", "422", "503"}


def test_the_day_of_payment_is_the_suppliers(api: Api, subscriber: Subscriber, clock: FakeClock) -> None:
    """Paid at 23:30 in Kaliningrad on 22.11 — 21:30 UTC, already the 23rd in Moscow."""
    account = link(subscriber.user, account_make(supplier=second_supplier(), number="390000000001"))
    clock.current = dt.datetime(2026, 11, 22, 21, 30, tzinfo=dt.UTC)
    token = token_for(subscriber.user, clock.current)
    started = start(api, token, part(account)).json()
    sandbox_payment_decide(gateway_payment_id=SandboxPayment.objects.get().id, approve=True, now=clock.current)

    body = api.get(f"/payments/{started['id']}", token=token).json()

    assert (body["paid_at"], body["paid_on"]) == ("2026-11-22T21:30:00Z", "2026-11-22")
