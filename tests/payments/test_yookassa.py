"""Online payments through YooKassa over real HTTP: the adapter against a local server that
speaks the YooKassa API v3 as its documentation describes (tests/payments/yookassa_server.py),
and the payments services on top, from the start of a payment to the ledger and back."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from pytest_django.fixtures import Settings as SettingsWrapper

from abonent.core.models import Supplier
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.models import LedgerEntry
from abonent.ledger.selectors import balances_get
from abonent.payments.enums import EventStatus, PaymentStatus, RefundStatus
from abonent.payments.gateways import gateway_for
from abonent.payments.gateways.base import (
    GatewayNotFound,
    GatewayRefused,
    GatewayUnavailable,
    PaymentRequest,
    Receipt,
    ReceiptItem,
)
from abonent.payments.gateways.yookassa import YooKassaGateway
from abonent.payments.models import GatewayEvent, Payment, Refund
from abonent.payments.services import (
    NotificationForbidden,
    PartInput,
    PaymentGatewayUnavailable,
    PaymentRefusedByGateway,
    RefundNotAllowed,
    gateway_event_receive,
    payment_settle,
    payment_start,
    payments_reconcile,
    refund_start,
)
from tests.payments.payments_data import NOW, RETURN, D, pay, payer_make
from tests.payments.yookassa_server import YooKassaServer

SHOP_ID = "100500"
SECRET = "test_Fh8hUAVVBGUGbjmlzba6TB0iyUbos_lueTHE-axOwM0"
YOOKASSA_IP = "185.71.76.5"  # inside 185.71.76.0/27, one of the addresses YooKassa notifies from
STRANGER_IP = "203.0.113.7"
PAID_AT = NOW + dt.timedelta(minutes=4)
LATER = NOW + dt.timedelta(minutes=30)  # past PAYMENT_RECONCILE_AFTER


@pytest.fixture
def yookassa(settings: SettingsWrapper) -> Iterator[YooKassaServer]:
    """A running YooKassa with the Moscow supplier's shop, and abonent pointed at it."""
    server = YooKassaServer({SHOP_ID: SECRET})
    server.start()
    settings.PAYMENT_GATEWAY = "yookassa"
    settings.YOOKASSA_API_URL = server.api_url
    settings.YOOKASSA_SHOPS = [f"gaz-msk={SHOP_ID}:{SECRET}"]
    settings.PAYMENT_HTTP_TIMEOUT = 1
    settings.PAYMENT_RECEIPT_VAT_CODE = 1
    try:
        yield server
    finally:
        server.stop()


def notify(body: bytes, *, remote_addr: str = YOOKASSA_IP, now: dt.datetime = NOW) -> GatewayEvent:
    return gateway_event_receive(gateway="yookassa", body=body, remote_addr=remote_addr, now=now)


def claim(event: str, payment: Payment, *, status: str) -> bytes:
    """A notification written by someone else than YooKassa: it claims what it likes."""
    body = {
        "type": "notification",
        "event": event,
        "object": {
            "id": payment.gateway_payment_id,
            "status": status,
            "paid": status == "succeeded",
            "amount": {"value": str(payment.amount), "currency": "RUB"},
            "metadata": {"payment": str(payment.public_id)},
        },
    }
    return json.dumps(body).encode("utf-8")


def payments_of(account_id: int) -> list[tuple[str, Decimal]]:
    return list(LedgerEntry.objects.filter(account_id=account_id).order_by("pk").values_list("kind", "amount"))


# --- creating a payment -----------------------------------------------------------------------


def test_a_payment_is_created_with_its_idempotence_key_and_the_receipt(
    supplier: Supplier, yookassa: YooKassaServer
) -> None:
    user, (account,) = payer_make(supplier)

    payment = pay(user, account, "1250.50")

    (sent,) = yookassa.posts("/payments")
    assert sent.idempotence_key == payment.idempotence_key
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode(f"{SHOP_ID}:{SECRET}".encode()).decode()
    assert sent.headers["Content-Type"] == "application/json"
    body = sent.body
    assert sorted(body) == [
        "amount", "capture", "confirmation", "description", "metadata", "payment_method_data", "receipt"
    ]  # fmt: skip
    assert body["amount"] == {"value": "1250.50", "currency": "RUB"}
    assert body["capture"] is True
    assert body["confirmation"] == {"type": "redirect", "return_url": RETURN}
    assert body["description"] == f"Оплата по л/с {account.number}"
    assert body["metadata"] == {"payment": str(payment.public_id)}
    assert body["payment_method_data"] == {"type": "bank_card"}
    assert body["receipt"] == {
        "customer": {"email": "79161234567@mail.example", "phone": "79161234567"},
        "items": [
            {
                "description": f"Газоснабжение, л/с {account.number}",
                "quantity": "1.00",
                "amount": {"value": "1250.50", "currency": "RUB"},
                "vat_code": 1,
                "payment_subject": "service",
                "payment_mode": "full_payment",
            }
        ],
    }
    gateway_side = yookassa.payments[str(payment.gateway_payment_id)]
    assert (payment.status, gateway_side["status"]) == (PaymentStatus.PENDING, "pending")
    assert payment.confirmation_url == gateway_side["confirmation"]["confirmation_url"]
    assert payment.confirmation_url.startswith("https://yoomoney.ru/checkout/payments/v2/contract?orderId=")
    assert not LedgerEntry.objects.exists()


def test_an_sbp_payment_of_two_accounts_has_a_receipt_line_for_each(
    supplier: Supplier, yookassa: YooKassaServer, settings: SettingsWrapper
) -> None:
    settings.PAYMENT_RECEIPT_VAT_CODE = 11  # VAT 22 %
    user, (first, second) = payer_make(supplier, accounts=2)

    payment = payment_start(
        user=user, parts=[PartInput(account_id=first.pk, amount="1000"), PartInput(account_id=second.pk, amount="250,50")],
        method="sbp", return_url=RETURN, now=NOW, receipt_phone="+79035551234",
    )  # fmt: skip

    (sent,) = yookassa.posts("/payments")
    body = sent.body
    assert body["amount"] == {"value": "1250.50", "currency": "RUB"}
    assert body["payment_method_data"] == {"type": "sbp"}
    assert body["description"] == f"Оплата по л/с {first.number}, {second.number}"
    assert body["receipt"]["customer"] == {"email": "79161234567@mail.example", "phone": "79035551234"}
    assert [(i["description"], i["amount"]["value"], i["vat_code"]) for i in body["receipt"]["items"]] == [
        (f"Газоснабжение, л/с {first.number}", "1000.00", 11),
        (f"Газоснабжение, л/с {second.number}", "250.50", 11),
    ]
    assert yookassa.payments[str(payment.gateway_payment_id)]["payment_method"]["type"] == "sbp"
    assert payment.method == "sbp"


def test_a_payment_the_gateway_refuses_is_canceled_with_its_reason(
    supplier: Supplier, yookassa: YooKassaServer, settings: SettingsWrapper
) -> None:
    settings.PAYMENT_RECEIPT_VAT_CODE = 13  # not a code YooKassa knows
    user, (account,) = payer_make(supplier)

    with pytest.raises(PaymentRefusedByGateway) as refused:
        pay(user, account)

    assert refused.value.text == (
        "Платёжный сервис отклонил платёж: The VAT code is a whole number 1 to 12 (receipt.items[0].vat_code)"
    )
    payment = Payment.objects.get()
    assert (payment.status, payment.canceled_reason, payment.gateway_payment_id) == (
        PaymentStatus.CANCELED, "invalid_request", None
    )  # fmt: skip
    assert not yookassa.payments
    assert not LedgerEntry.objects.exists()


def test_a_supplier_without_a_shop_takes_no_payment(
    supplier: Supplier, yookassa: YooKassaServer, settings: SettingsWrapper
) -> None:
    settings.YOOKASSA_SHOPS = [f"yantargaz=200300:{SECRET}"]
    user, (account,) = payer_make(supplier)

    with pytest.raises(ImproperlyConfigured) as missing:
        pay(user, account)

    assert (
        str(missing.value)
        == "YOOKASSA_SHOPS has no shop for the supplier 'gaz-msk': add gaz-msk=<shop id>:<secret key>"
    )
    assert not Payment.objects.exists()  # nothing left "created" for reconciliation to stumble on
    assert not yookassa.requests


def test_a_malformed_shop_entry_is_named_without_its_secret(settings: SettingsWrapper) -> None:
    settings.YOOKASSA_SHOPS = [f"gaz-msk={SECRET}"]  # the shop id forgotten

    with pytest.raises(ImproperlyConfigured) as malformed:
        YooKassaGateway.for_supplier("gaz-msk")

    assert str(malformed.value) == "YOOKASSA_SHOPS: the entry for 'gaz-msk' is not supplier_code=shop_id:secret_key"
    assert SECRET not in str(malformed.value)


# --- the payment's state --------------------------------------------------------------------------


def test_the_state_is_asked_from_the_gateway_and_posted_once(supplier: Supplier, yookassa: YooKassaServer) -> None:
    user, (account,) = payer_make(supplier)
    payment = pay(user, account, "1250.50")
    yookassa.pay(str(payment.gateway_payment_id), at=PAID_AT)

    settled = payment_settle(payment_id=payment.pk, now=LATER)

    (asked,) = [r for r in yookassa.requests if r.method == "GET"]
    assert asked.path == f"/v3/payments/{payment.gateway_payment_id}"
    assert asked.idempotence_key is None
    assert (settled.status, settled.paid_at, settled.paid_on) == (
        PaymentStatus.SUCCEEDED,
        PAID_AT,
        dt.date(2026, 11, 20),
    )
    assert settled.method == "bank_card"
    entry = LedgerEntry.objects.get(account=account)
    assert (entry.kind, entry.amount, entry.posted_on) == (EntryKind.PAYMENT, D("-1250.50"), dt.date(2026, 11, 20))
    assert balances_get(account=account)[Service.GAS] == D("-1250.50")

    payment_settle(payment_id=payment.pk, now=LATER)  # asked again: nothing new
    assert payments_of(account.pk) == [(EntryKind.PAYMENT, D("-1250.50"))]


def test_the_payers_decline_cancels_the_payment(supplier: Supplier, yookassa: YooKassaServer) -> None:
    user, (account,) = payer_make(supplier)
    payment = pay(user, account)
    yookassa.decline(str(payment.gateway_payment_id), reason="expired_on_confirmation", party="yoo_kassa")

    event = notify(yookassa.notification("payment.canceled", str(payment.gateway_payment_id)))

    payment.refresh_from_db()
    assert (payment.status, payment.canceled_reason) == (PaymentStatus.CANCELED, "expired_on_confirmation")
    assert event.status == EventStatus.PROCESSED
    assert not LedgerEntry.objects.exists()


# --- notifications ----------------------------------------------------------------------------------


def test_a_payment_succeeded_notification_from_yookassa_posts_one_entry(
    supplier: Supplier, yookassa: YooKassaServer
) -> None:
    user, (account,) = payer_make(supplier)
    payment = pay(user, account, "1250.50")
    yookassa.pay(str(payment.gateway_payment_id), at=PAID_AT)
    body = yookassa.notification("payment.succeeded", str(payment.gateway_payment_id))

    event = notify(body)
    again = notify(body, now=NOW + dt.timedelta(minutes=10))  # YooKassa delivers again when unsure

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payments_of(account.pk) == [(EntryKind.PAYMENT, D("-1250.50"))]
    assert (event.pk, event.status, event.payment_id, event.remote_addr) == (
        again.pk, EventStatus.PROCESSED, payment.pk, YOOKASSA_IP
    )  # fmt: skip
    assert again.deliveries == 2
    assert len([r for r in yookassa.requests if r.method == "GET"]) == 1  # the repeat was not even asked


def test_a_notification_from_an_address_not_yookassas_is_refused(supplier: Supplier, yookassa: YooKassaServer) -> None:
    user, (account,) = payer_make(supplier)
    payment = pay(user, account, "1250.50")
    yookassa.pay(str(payment.gateway_payment_id))
    body = yookassa.notification("payment.succeeded", str(payment.gateway_payment_id))

    with pytest.raises(NotificationForbidden):
        notify(body, remote_addr=STRANGER_IP)

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert not LedgerEntry.objects.exists()
    event = GatewayEvent.objects.get()
    assert (event.status, event.error) == (EventStatus.REJECTED, f"source {STRANGER_IP} is not the gateway's")
    assert not [r for r in yookassa.requests if r.method == "GET"]  # the gateway was not even asked

    # the same notification from YooKassa itself goes through
    notify(body)
    assert payments_of(account.pk) == [(EntryKind.PAYMENT, D("-1250.50"))]
    event.refresh_from_db()
    assert (event.status, event.deliveries) == (EventStatus.PROCESSED, 2)


def test_a_forged_success_the_gateway_does_not_confirm_posts_nothing(
    supplier: Supplier, yookassa: YooKassaServer
) -> None:
    user, (account,) = payer_make(supplier)
    payment = pay(user, account, "1250.50")

    event = notify(claim("payment.succeeded", payment, status="succeeded"))

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING  # YooKassa says pending
    assert not LedgerEntry.objects.exists()
    assert (event.status, event.error) == (EventStatus.REJECTED, "the gateway does not confirm payment.succeeded")

    # the real one, when the payer does pay, is not taken for a repeat of the forged one
    yookassa.pay(str(payment.gateway_payment_id))
    real = notify(yookassa.notification("payment.succeeded", str(payment.gateway_payment_id)))
    assert (real.pk, real.status, real.deliveries) == (event.pk, EventStatus.PROCESSED, 2)
    assert payments_of(account.pk) == [(EntryKind.PAYMENT, D("-1250.50"))]


def test_a_gateway_payment_of_another_amount_is_rejected(supplier: Supplier, yookassa: YooKassaServer) -> None:
    user, (account,) = payer_make(supplier)
    payment = pay(user, account, "1250.50")
    gateway_id = str(payment.gateway_payment_id)
    yookassa.payments[gateway_id]["amount"]["value"] = "1.00"  # not what we asked for
    yookassa.pay(gateway_id)

    event = notify(yookassa.notification("payment.succeeded", gateway_id))

    assert event.status == EventStatus.REJECTED
    assert event.error == "Данные платёжного сервиса не совпадают с платежом: amount 1.00 ≠ 1250.50"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert not LedgerEntry.objects.exists()


def test_a_cancellation_arriving_after_the_success_changes_nothing(
    supplier: Supplier, yookassa: YooKassaServer
) -> None:
    user, (account,) = payer_make(supplier)
    payment = pay(user, account, "1250.50")
    yookassa.pay(str(payment.gateway_payment_id))
    notify(yookassa.notification("payment.succeeded", str(payment.gateway_payment_id)))

    late = notify(claim("payment.canceled", payment, status="canceled"), now=NOW + dt.timedelta(minutes=5))

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert (late.status, late.error) == (EventStatus.REJECTED, "the gateway does not confirm payment.canceled")
    assert payments_of(account.pk) == [(EntryKind.PAYMENT, D("-1250.50"))]


def test_a_success_arriving_after_the_cancellation_posts_nothing(supplier: Supplier, yookassa: YooKassaServer) -> None:
    user, (account,) = payer_make(supplier)
    payment = pay(user, account, "1250.50")
    yookassa.decline(str(payment.gateway_payment_id))
    notify(yookassa.notification("payment.canceled", str(payment.gateway_payment_id)))

    late = notify(claim("payment.succeeded", payment, status="succeeded"))

    payment.refresh_from_db()
    assert (payment.status, late.status) == (PaymentStatus.CANCELED, EventStatus.REJECTED)
    assert not LedgerEntry.objects.exists()


# --- the gateway does not answer ----------------------------------------------------------------


@pytest.mark.parametrize("trouble", ["500", "429", "timeout"])
def test_no_answer_leaves_the_payment_created_and_reconciliation_sends_it_with_the_same_key(
    supplier: Supplier, yookassa: YooKassaServer, trouble: str
) -> None:
    if trouble == "timeout":
        yookassa.hang_next(seconds=3)
    else:
        yookassa.fail_next(status=int(trouble))
    user, (account,) = payer_make(supplier)

    with pytest.raises(PaymentGatewayUnavailable):
        pay(user, account, "1250.50")

    payment = Payment.objects.get()
    assert (payment.status, payment.gateway_payment_id) == (PaymentStatus.CREATED, None)
    assert not yookassa.payments

    result = payments_reconcile(now=LATER)

    assert (result.asked, result.still_pending, result.failed) == (1, 1, 0)
    first, second = yookassa.posts("/payments")
    assert first.idempotence_key == second.idempotence_key == payment.idempotence_key
    assert first.body == second.body  # the very same request
    (gateway_id,) = yookassa.payments
    payment.refresh_from_db()
    assert (payment.status, payment.gateway_payment_id) == (PaymentStatus.PENDING, gateway_id)

    yookassa.pay(gateway_id)  # the payer continues from the payment's page
    notify(yookassa.notification("payment.succeeded", gateway_id), now=LATER)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payments_of(account.pk) == [(EntryKind.PAYMENT, D("-1250.50"))]


def test_a_late_answer_the_gateway_created_is_found_again_with_the_same_key(
    supplier: Supplier, yookassa: YooKassaServer
) -> None:
    """YooKassa created the payment; its answer came after we stopped waiting."""
    yookassa.hang_next(seconds=3, processed=True)
    user, (account,) = payer_make(supplier)

    with pytest.raises(PaymentGatewayUnavailable):
        pay(user, account, "1250.50")

    payment = Payment.objects.get()
    assert (payment.status, payment.gateway_payment_id) == (PaymentStatus.CREATED, None)
    (gateway_id,) = yookassa.payments  # it is there, we just do not know it

    result = payments_reconcile(now=LATER)

    assert (result.asked, result.still_pending, result.failed) == (1, 1, 0)
    first, second = yookassa.posts("/payments")
    assert (first.body, first.idempotence_key) == (second.body, second.idempotence_key)
    assert second.status == 200
    assert list(yookassa.payments) == [gateway_id]  # the same payment, not a second one
    payment.refresh_from_db()
    assert (payment.status, payment.gateway_payment_id) == (PaymentStatus.PENDING, gateway_id)

    yookassa.pay(gateway_id, at=LATER)
    payments_reconcile(now=LATER + dt.timedelta(minutes=5))
    payment.refresh_from_db()
    assert (payment.status, payment.paid_at) == (PaymentStatus.SUCCEEDED, LATER)
    assert payments_of(account.pk) == [(EntryKind.PAYMENT, D("-1250.50"))]


def test_an_answer_that_is_not_yookassas_json_is_no_answer(supplier: Supplier, yookassa: YooKassaServer) -> None:
    yookassa.answer_next(b"<html><body>502 Bad Gateway</body></html>", status=200)
    user, (account,) = payer_make(supplier)

    with pytest.raises(PaymentGatewayUnavailable):
        pay(user, account)

    assert Payment.objects.get().status == PaymentStatus.CREATED


def test_reconciliation_goes_on_past_a_payment_the_gateway_refuses_to_tell(
    supplier: Supplier, yookassa: YooKassaServer
) -> None:
    user, (account,) = payer_make(supplier)
    refused, fine = pay(user, account, "100.00"), pay(user, account, "200.00")
    yookassa.pay(str(fine.gateway_payment_id))
    yookassa.answer_next(
        json.dumps({"type": "error", "id": "e1", "code": "forbidden", "description": "Not enough rights"}).encode(),
        status=403,
    )

    result = payments_reconcile(now=LATER)

    assert (result.asked, result.failed, result.succeeded) == (2, 1, 1)
    refused.refresh_from_db()
    fine.refresh_from_db()
    assert (refused.status, fine.status) == (PaymentStatus.PENDING, PaymentStatus.SUCCEEDED)
    assert payments_of(account.pk) == [(EntryKind.PAYMENT, D("-200.00"))]


# --- the adapter alone ----------------------------------------------------------------------------


def _request(key: str, amount: str = "10.00") -> PaymentRequest:
    item = ReceiptItem(description="Газоснабжение", amount=Decimal(amount), vat_code=1)
    return PaymentRequest(
        idempotence_key=key, amount=Decimal(amount), description="Оплата", return_url=RETURN, method="",
        receipt=Receipt(email="payer@mail.example", phone="", items=[item]), metadata={"payment": "p-1"},
    )  # fmt: skip


def test_the_adapter_maps_yookassas_answers(yookassa: YooKassaServer, settings: SettingsWrapper) -> None:
    gateway = gateway_for(name="yookassa", supplier_code="gaz-msk")

    created = gateway.payment_create(_request("k-1"))
    assert "payment_method_data" not in yookassa.posts("/payments")[0].body  # the payer chooses on the page
    assert gateway.payment_create(_request("k-1")) == created  # a repeat: the same payment
    with pytest.raises(GatewayRefused) as duplicated:
        gateway.payment_create(_request("k-1", amount="20.00"))
    assert (str(duplicated.value), duplicated.value.code) == (
        "Idempotence key duplicated (Idempotence-Key)", "invalid_request"
    )  # fmt: skip
    assert len(yookassa.payments) == 1

    yookassa.pay(created.id, method="sbp", at=PAID_AT)
    paid = gateway.payment_get(created.id)
    assert (paid.status, paid.amount, paid.currency, paid.method, paid.captured_at, paid.metadata) == (
        "succeeded", D("10.00"), "RUB", "sbp", PAID_AT, {"payment": "p-1"}
    )  # fmt: skip

    with pytest.raises(GatewayNotFound) as unknown:
        gateway.payment_get("2d5f3c8a-000f-5000-9000-1b68e7b15f3f")
    assert unknown.value.code == "not_found"
    with pytest.raises(GatewayNotFound):
        gateway.refund_get("../payments/" + created.id)  # an id stays one path segment

    settings.YOOKASSA_SHOPS = [f"gaz-msk={SHOP_ID}:a-revoked-key"]
    with pytest.raises(GatewayRefused) as unauthorized:
        gateway_for(name="yookassa", supplier_code="gaz-msk").payment_get(created.id)
    assert unauthorized.value.code == "invalid_credentials"


def test_the_adapter_follows_no_redirect(yookassa: YooKassaServer) -> None:
    gateway = gateway_for(name="yookassa", supplier_code="gaz-msk")
    yookassa.answer_next(b"", status=302, headers={"Location": "http://127.0.0.1:9/v3/payments"})

    with pytest.raises(GatewayUnavailable, match="unexpected HTTP 302"):
        gateway.payment_get("any")

    assert len(yookassa.requests) == 1


def test_a_closed_port_is_no_answer(settings: SettingsWrapper, yookassa: YooKassaServer) -> None:
    yookassa.stop()
    gateway = gateway_for(name="yookassa", supplier_code="gaz-msk")

    with pytest.raises(GatewayUnavailable, match="no connection"):
        gateway.payment_get("any")


# --- refunds ------------------------------------------------------------------------------------


def _paid(supplier: Supplier, yookassa: YooKassaServer, amount: str = "1250.50") -> Payment:
    user, (account,) = payer_make(supplier)
    payment = pay(user, account, amount)
    yookassa.pay(str(payment.gateway_payment_id), at=PAID_AT)
    return payment_settle(payment_id=payment.pk, now=PAID_AT)


def test_a_refund_posts_a_reversing_entry_once_its_success_is_notified(
    supplier: Supplier, yookassa: YooKassaServer
) -> None:
    payment = _paid(supplier, yookassa)
    account_id = payment.parts.get().account_id
    yookassa.refund_status = "pending"  # SBP refunds take a while

    refund = refund_start(payment_id=payment.pk, amount="1000.00", reason="Оплачено дважды", actor_id=None, now=LATER)

    (sent,) = yookassa.posts("/refunds")
    assert sent.idempotence_key == refund.idempotence_key
    assert sent.body == {
        "payment_id": payment.gateway_payment_id,
        "amount": {"value": "1000.00", "currency": "RUB"},
        "description": "Оплачено дважды",
        "receipt": {
            "customer": {"email": "79161234567@mail.example", "phone": "79161234567"},
            "items": [
                {
                    "description": f"Газоснабжение, л/с {payment.parts.get().account.number}",
                    "quantity": "1.00",
                    "amount": {"value": "1000.00", "currency": "RUB"},
                    "vat_code": 1,
                    "payment_subject": "service",
                    "payment_mode": "full_payment",
                }
            ],
        },
    }
    assert (refund.status, refund.gateway_refund_id) == (RefundStatus.PENDING, next(iter(yookassa.refunds)))
    assert payments_of(account_id) == [(EntryKind.PAYMENT, D("-1250.50"))]

    yookassa.refund_succeed(str(refund.gateway_refund_id))
    body = yookassa.notification("refund.succeeded", str(refund.gateway_refund_id))
    event = notify(body, now=LATER)
    notify(body, now=LATER + dt.timedelta(minutes=1))

    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    event.refresh_from_db()
    assert (event.status, event.deliveries, event.payment_id) == (EventStatus.PROCESSED, 2, payment.pk)
    assert payments_of(account_id) == [(EntryKind.PAYMENT, D("-1250.50")), (EntryKind.REFUND, D("1000.00"))]
    assert balances_get(account=payment.parts.get().account)[Service.GAS] == D("-250.50")


def test_a_refund_above_what_is_left_is_refused(supplier: Supplier, yookassa: YooKassaServer) -> None:
    payment = _paid(supplier, yookassa)
    account_id = payment.parts.get().account_id
    refund_start(payment_id=payment.pk, amount="1000.00", reason="Оплачено дважды", actor_id=None, now=LATER)

    with pytest.raises(RefundNotAllowed) as refused:
        refund_start(payment_id=payment.pk, amount="300.00", reason="Ещё раз", actor_id=None, now=LATER)

    assert refused.value.text == "Возврат невозможен: к возврату осталось 250,50 ₽"
    assert len(yookassa.posts("/refunds")) == 1  # the gateway was not asked
    assert Refund.objects.count() == 1
    assert payments_of(account_id) == [(EntryKind.PAYMENT, D("-1250.50")), (EntryKind.REFUND, D("1000.00"))]


def test_a_refund_the_gateway_refuses_is_canceled_and_posts_nothing(
    supplier: Supplier, yookassa: YooKassaServer
) -> None:
    payment = _paid(supplier, yookassa)
    account_id = payment.parts.get().account_id
    # an operator already returned most of it in YooKassa's own dashboard
    yookassa.payments[str(payment.gateway_payment_id)]["refunded_amount"]["value"] = "1000.00"

    with pytest.raises(RefundNotAllowed) as refused:
        refund_start(payment_id=payment.pk, amount="500.00", reason="Оплачено дважды", actor_id=None, now=LATER)

    assert refused.value.text == (
        "Возврат невозможен: The refund amount is more than what is left of the payment (250.50) (amount)"
    )
    assert Refund.objects.get().status == RefundStatus.CANCELED
    assert payments_of(account_id) == [(EntryKind.PAYMENT, D("-1250.50"))]


@pytest.mark.parametrize("status", [503, 403])
def test_a_refund_notification_the_gateway_will_not_confirm_now_is_kept_for_a_retry(
    supplier: Supplier, yookassa: YooKassaServer, status: int
) -> None:
    """The gateway down (503), or refusing to tell (403: the shop's key lost its rights)."""
    payment = _paid(supplier, yookassa)
    yookassa.refund_status = "pending"
    refund = refund_start(payment_id=payment.pk, amount="100.00", reason="Ошибка суммы", actor_id=None, now=LATER)
    yookassa.refund_succeed(str(refund.gateway_refund_id))
    body = yookassa.notification("refund.succeeded", str(refund.gateway_refund_id))
    error = {"type": "error", "id": "e2", "code": "forbidden", "description": "Not enough rights"}
    yookassa.answer_next(json.dumps(error).encode(), status=status)

    with pytest.raises(PaymentGatewayUnavailable):  # our endpoint answers 5xx: YooKassa sends it again
        notify(body, now=LATER)

    assert GatewayEvent.objects.get().status == EventStatus.RECEIVED
    assert Refund.objects.get().status == RefundStatus.PENDING
    notify(body, now=LATER)
    assert Refund.objects.get().status == RefundStatus.SUCCEEDED
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 1
