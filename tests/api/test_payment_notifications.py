"""The gateways' notifications through the API: no token and no CSRF, only the gateway's
addresses; stored as they came, never trusted (the payment's state is asked from the
gateway), processed once however often they come; bad ones refused with nothing posted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from abonent.core.models import Supplier
from abonent.customers.models import AccountLink
from abonent.ledger.models import LedgerEntry
from abonent.payments.enums import EventStatus, PaymentStatus
from abonent.payments.gateways.base import GatewayUnavailable
from abonent.payments.gateways.sandbox import SandboxGateway, payment_as_notification, sandbox_decide
from abonent.payments.models import GatewayEvent, Payment, SandboxPayment
from abonent.payments.services import PartInput, payment_start
from tests.api.conftest import NOW, Api, Subscriber, problem
from tests.factories import account_make
from tests.payments.payments_data import D

pytestmark = pytest.mark.django_db

SANDBOX = "/payments/notifications/sandbox"
LOCAL = "127.0.0.1"  # where the sandbox's own notifications come from
YOOKASSA_ADDRESS = "185.71.76.10"  # one of the addresses YooKassa publishes


@pytest.fixture
def payment(api: Api, supplier: Supplier, subscriber: Subscriber) -> Payment:
    """Started for 1 250,50 ₽ and pending at the sandbox."""
    account = account_make(supplier=supplier)
    AccountLink.objects.create(user=subscriber.user, account=account, proof="pin", channel="web", linked_at=NOW)
    return payment_start(
        user=subscriber.user,
        parts=[PartInput(account_id=account.pk, amount="1250.50")],
        method="bank_card",
        return_url="http://testserver/payments/return/",
        now=NOW,
    )


def decided(payment: Payment, *, approve: bool = True) -> bytes:
    """The payer decided on the sandbox's page; the notification the sandbox would send."""
    assert payment.gateway_payment_id is not None
    row = sandbox_decide(payment_id=payment.gateway_payment_id, approve=approve, now=NOW)
    return json.dumps(payment_as_notification(row)).encode()


def notify(api: Api, body: bytes | str, *, gateway: str = "sandbox", ip: str = LOCAL) -> Any:
    raw = body.decode() if isinstance(body, bytes) else body
    return api.post(f"/payments/notifications/{gateway}", raw=raw, ip=ip)


def stored(payment: Payment) -> tuple[str, int]:
    payment.refresh_from_db()
    return payment.status, LedgerEntry.objects.count()


def test_a_notification_is_answered_with_its_status_and_the_payment_posted(api: Api, payment: Payment) -> None:
    response = notify(api, decided(payment))

    assert response.status_code == 200, response.content
    assert response.json() == {"status": "processed"}
    assert stored(payment) == (PaymentStatus.SUCCEEDED, 1)
    entry = LedgerEntry.objects.get()
    assert entry.amount == D("-1250.50")
    event = GatewayEvent.objects.get()
    assert (event.gateway, event.event, event.remote_addr, event.payment_id) == (
        "sandbox",
        "payment.succeeded",
        LOCAL,
        payment.pk,
    )


def test_a_repeat_is_answered_the_same_and_posts_nothing_new(api: Api, payment: Payment) -> None:
    body = decided(payment)
    notify(api, body)

    again = notify(api, body)

    assert (again.status_code, again.json()) == (200, {"status": "processed"})
    assert stored(payment) == (PaymentStatus.SUCCEEDED, 1)
    assert list(GatewayEvent.objects.values_list("deliveries", flat=True)) == [2]


def test_a_canceled_payment(api: Api, payment: Payment) -> None:
    response = notify(api, decided(payment, approve=False))

    assert response.json() == {"status": "processed"}
    assert stored(payment) == (PaymentStatus.CANCELED, 0)


def test_what_the_notification_says_is_not_trusted(api: Api, payment: Payment) -> None:
    """A notification that the payment succeeded, while at the gateway it is still pending."""
    row = SandboxPayment.objects.get()
    forged = {**payment_as_notification(row), "event": "payment.succeeded"}
    forged["object"] = {**forged["object"], "status": "succeeded", "paid": True}

    response = notify(api, json.dumps(forged))

    assert (response.status_code, response.json()) == (200, {"status": "rejected"})
    assert GatewayEvent.objects.get().error == "the gateway does not confirm payment.succeeded"
    assert stored(payment) == (PaymentStatus.PENDING, 0)
    # the gateway's own notification, once the payer has paid, is processed
    assert notify(api, decided(payment)).json() == {"status": "processed"}
    assert stored(payment) == (PaymentStatus.SUCCEEDED, 1)


def test_a_notification_about_a_payment_we_do_not_have_is_not_sent_again(api: Api, payment: Payment) -> None:
    body = {"type": "notification", "event": "payment.succeeded", "object": {"id": "2d7a8b1c-not-ours"}}

    response = notify(api, json.dumps(body), gateway="yookassa", ip=YOOKASSA_ADDRESS)

    assert (response.status_code, response.json()) == (200, {"status": "rejected"})
    assert GatewayEvent.objects.get().error == "no such payment here"
    assert stored(payment) == (PaymentStatus.PENDING, 0)


def test_an_event_we_do_not_handle_is_stored_and_not_sent_again(api: Api, payment: Payment) -> None:
    body = {"type": "notification", "event": "deal.closed", "object": {"id": payment.gateway_payment_id}}

    response = notify(api, json.dumps(body))

    assert (response.status_code, response.json()) == (200, {"status": "rejected"})
    assert stored(payment) == (PaymentStatus.PENDING, 0)


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[]",
        '{"event": "payment.succeeded"}',
        '{"event": "payment.succeeded", "object": {"id": 42}}',
        "",
    ],
)
def test_a_malformed_notification_is_400_and_nothing_is_posted(api: Api, payment: Payment, body: str) -> None:
    response = notify(api, body)

    problem_body = problem(response)
    assert (response.status_code, problem_body["code"]) == (400, "notification_malformed")
    assert problem_body["detail"] == "Уведомление отклонено: это не уведомление платёжного сервиса"
    assert list(GatewayEvent.objects.values_list("status", flat=True)) == [EventStatus.REJECTED]
    assert stored(payment) == (PaymentStatus.PENDING, 0)


def test_from_an_address_that_is_not_the_gateways_it_is_403_and_nothing_is_posted(api: Api, payment: Payment) -> None:
    body = decided(payment)

    response = notify(api, body, ip="203.0.113.7")

    problem_body = problem(response)
    assert (response.status_code, problem_body["code"]) == (403, "notification_forbidden")
    assert problem_body["detail"] == "Уведомление отклонено: адрес отправителя не принадлежит платёжному сервису"
    event = GatewayEvent.objects.get()
    assert (event.status, event.error) == (EventStatus.REJECTED, "source 203.0.113.7 is not the gateway's")
    assert stored(payment) == (PaymentStatus.PENDING, 0)
    # a sandbox address is not YooKassa's either
    assert notify(api, body, gateway="yookassa").status_code == 403
    # the gateway's own delivery of the same event still goes through
    assert notify(api, body).json() == {"status": "processed"}
    assert stored(payment) == (PaymentStatus.SUCCEEDED, 1)


def test_an_unknown_gateway_is_404_and_nothing_is_stored(api: Api, payment: Payment) -> None:
    response = notify(api, decided(payment), gateway="paypal")

    body = problem(response)
    assert (response.status_code, body["code"]) == (404, "gateway_not_found")
    assert not GatewayEvent.objects.exists()
    assert stored(payment) == (PaymentStatus.PENDING, 0)


def test_a_body_over_64_kb_is_413_and_nothing_is_stored(api: Api, payment: Payment) -> None:
    notification = payment_as_notification(SandboxPayment.objects.get())
    notification["padding"] = "x" * 64 * 1024

    response = notify(api, json.dumps(notification))

    body = problem(response)
    assert (response.status_code, body["code"]) == (413, "payload_too_large")
    assert body["detail"] == "Уведомление платёжного сервиса не больше 64 КБ"
    assert not GatewayEvent.objects.exists()
    assert stored(payment) == (PaymentStatus.PENDING, 0)


def test_a_body_of_exactly_64_kb_is_read(api: Api, payment: Payment) -> None:
    text = json.dumps({**payment_as_notification(SandboxPayment.objects.get()), "padding": ""})
    text = text[:-2] + "x" * (64 * 1024 - len(text)) + text[-2:]
    assert len(text.encode()) == 64 * 1024

    assert notify(api, text).status_code == 200


def test_the_gateway_not_answering_is_503_so_that_the_notification_comes_again(
    api: Api, payment: Payment, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = decided(payment)

    def down(self: SandboxGateway, payment_id: str) -> None:
        raise GatewayUnavailable("timeout")

    with monkeypatch.context() as patch:
        patch.setattr(SandboxGateway, "payment_get", down)
        response = notify(api, body)

    assert (response.status_code, problem(response)["code"]) == (503, "payment_gateway_unavailable")
    assert GatewayEvent.objects.get().status == EventStatus.RECEIVED
    assert stored(payment) == (PaymentStatus.PENDING, 0)
    # sent again when the gateway answers
    assert notify(api, body).json() == {"status": "processed"}
    assert stored(payment) == (PaymentStatus.SUCCEEDED, 1)


def test_no_token_and_no_csrf_token_are_needed(payment: Payment) -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post("/api/v1" + SANDBOX, decided(payment), content_type="application/json", REMOTE_ADDR=LOCAL)

    assert (response.status_code, response.json()) == (200, {"status": "processed"})


def test_only_post(api: Api) -> None:
    response = api.get(SANDBOX, ip=LOCAL)

    assert response.status_code == 405
    assert not GatewayEvent.objects.exists()


def test_the_sandbox_posting_over_http_reaches_the_endpoint(
    api: Api, payment: Payment, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With SANDBOX_NOTIFY_URL set the sandbox sends its notification over HTTP, as YooKassa
    does; here the request is handed to the test client instead of a socket."""
    import urllib.request

    settings.SANDBOX_NOTIFY_URL = "http://testserver/api/v1" + SANDBOX
    sent: list[Any] = []

    class Answer:
        def __enter__(self) -> Answer:
            return self

        def __exit__(self, *args: object) -> None:
            return None

        def read(self) -> bytes:
            return b""

    def urlopen(request: urllib.request.Request, timeout: float) -> Answer:
        assert request.full_url == settings.SANDBOX_NOTIFY_URL
        assert isinstance(request.data, bytes)
        sent.append(notify(api, request.data))
        return Answer()

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    from abonent.payments.services import sandbox_notify

    decided(payment)
    sandbox_notify(gateway_payment_id=str(payment.gateway_payment_id), now=NOW)

    assert [r.json() for r in sent] == [{"status": "processed"}]
    assert stored(payment) == (PaymentStatus.SUCCEEDED, 1)
