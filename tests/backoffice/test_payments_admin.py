"""The back office for payments: the read-only lists and pages, finding a payment, a refund
through the payments service (who may, bad values, a form sent twice, a gateway that does
not answer), asking the gateway about a payment or a refund that waits."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client

from abonent.core.models import AuditRecord, Supplier
from abonent.customers.models import PersonalAccount
from abonent.identity.models import User
from abonent.identity.roles import ADMINISTRATOR, OPERATOR, SENIOR_OPERATOR
from abonent.ledger.enums import EntryKind
from abonent.ledger.models import LedgerEntry
from abonent.payments.enums import Channel, EventStatus, PaymentStatus, RefundStatus
from abonent.payments.gateways.base import GatewayUnavailable
from abonent.payments.gateways.sandbox import SandboxGateway, sandbox_decide
from abonent.payments.models import (
    GatewayEvent,
    Payment,
    Refund,
    RegistryFile,
    RegistryLine,
    SandboxPayment,
)
from abonent.payments.services import payment_settle, sandbox_payment_decide
from tests.payments.payments_data import NOW as PAID
from tests.payments.payments_data import D, pay, payer_make

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)
NNBSP = "\u202f"
BO = "/backoffice"
LISTS = [
    "payments/payment",
    "payments/gatewayevent",
    "payments/refund",
    "payments/registryfile",
    "payments/registryline",
]
REASON = "Платёж внесён дважды, заявление абонента от 21.11.2026"


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("abonent.core.clock.now", lambda: NOW)


def staff(role: str | None, username: str = "op") -> Client:
    member = User.objects.create(username=username, is_staff=True, first_name="Ольга", last_name="Смирнова")
    if role is not None:
        member.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(member)
    return client


def text(response: Any) -> str:
    """The page with its layout's line breaks and indents as single spaces."""
    return re.sub(r"[ \t\r\n]+", " ", response.content.decode())


def messages_of(client: Client, response: Any) -> list[str]:
    assert response.status_code == 302, response.content.decode()[:3000]
    page = client.get(response["Location"])
    return [str(m) for m in get_messages(page.wsgi_request)]


def paid(supplier: Supplier, capture: Any, amount: str = "1250.50") -> tuple[Payment, PersonalAccount]:
    """A payment approved on the sandbox's page, its notification received and processed."""
    user, (account,) = payer_make(supplier)
    payment = pay(user, account, amount)
    with capture(execute=True):
        sandbox_payment_decide(gateway_payment_id=payment.gateway_payment_id, approve=True, now=PAID)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    return payment, account


@pytest.fixture
def payment(supplier: Supplier, django_capture_on_commit_callbacks: Any) -> Payment:
    return paid(supplier, django_capture_on_commit_callbacks)[0]


def refund_url(payment: Payment) -> str:
    return f"{BO}/payments/payment/{payment.pk}/refund/"


def change_url(payment: Payment) -> str:
    return f"{BO}/payments/payment/{payment.pk}/change/"


def refund_form(client: Client, payment: Payment, **fields: str) -> dict[str, str]:
    """The form as the page gives it (with its key), filled in."""
    page = client.get(refund_url(payment))
    assert page.status_code == 200
    return {"key": page.context["form"].initial["key"], "amount": "300,25", "reason": REASON, **fields}


def nothing_refunded(payment: Payment) -> None:
    assert not Refund.objects.exists()
    assert not LedgerEntry.objects.filter(kind=EntryKind.REFUND).exists()
    assert not AuditRecord.objects.filter(action="payment_refund").exists()
    assert SandboxPayment.objects.get(pk=payment.gateway_payment_id).refunded == 0


# --- Lists and pages ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [OPERATOR, SENIOR_OPERATOR, ADMINISTRATOR])
def test_every_role_sees_the_payment_lists(payment: Payment, role: str) -> None:
    client = staff(role)

    for model in LISTS:
        assert client.get(f"{BO}/{model}/").status_code == 200, model


def test_staff_without_a_role_see_no_payments(payment: Payment) -> None:
    client = staff(None)

    for model in LISTS:
        assert client.get(f"{BO}/{model}/").status_code == 403, model
    assert client.get(change_url(payment)).status_code == 403


def test_the_list_shows_a_payment_the_russian_way(payment: Payment) -> None:
    listed = text(staff(OPERATOR).get(f"{BO}/payments/payment/"))

    for shown in [
        "20.11.2026",  # paid on, the supplier's day
        f"1{NNBSP}250,50\u00a0₽",
        "онлайн на портале",
        "песочница",
        "банковская карта",
        "оплачен",
        "+7 916 123-45-67",
        payment.gateway_payment_id,
    ]:
        assert shown in listed, shown


def test_the_payment_page_shows_its_parts_events_and_links_to_the_ledger(payment: Payment) -> None:
    client = staff(OPERATOR)
    account = payment.parts.get().account

    page = text(client.get(change_url(payment)))

    assert f"<h2>Платёж 1{NNBSP}250,50\u00a0₽ от 20.11.2026 12:00, оплачен</h2>" in page
    assert f'href="/backoffice/customers/personalaccount/{account.pk}/change/">{account.number}</a>' in page
    assert f'href="/backoffice/ledger/ledgerentry/account/{account.pk}/"' in page
    assert "<td>газоснабжение</td>" in page
    event = GatewayEvent.objects.get()
    assert f'href="/backoffice/payments/gatewayevent/{event.pk}/change/"' in page
    assert "payment.succeeded" in page
    assert "Возвратов по платежу не было." in page
    assert refund_url(payment) not in page  # an operator returns no money
    assert f"{payment.pk}/settle/" not in page  # nothing to ask: the payment has succeeded
    assert 'name="_save"' not in page


def test_payments_are_found_by_account_public_id_and_gateway_id(
    supplier: Supplier, django_capture_on_commit_callbacks: Any
) -> None:
    first, account = paid(supplier, django_capture_on_commit_callbacks)
    user, (other,) = payer_make(supplier, phone="+79169876543")
    second = pay(user, other, "99.00")
    client = staff(OPERATOR)

    def found(term: str) -> list[int]:
        return [p.pk for p in client.get(f"{BO}/payments/payment/", {"q": term}).context["cl"].result_list]

    number = account.number
    assert found(f"{number[:2]} {number[2:6]} {number[6:]}") == [first.pk]
    assert found(str(first.public_id)) == [first.pk]
    assert found(str(second.gateway_payment_id)) == [second.pk]
    assert found("nothing-like-this") == []
    assert sorted(found("")) == sorted([first.pk, second.pk])


def test_payments_are_filtered_by_status_and_channel(
    supplier: Supplier, django_capture_on_commit_callbacks: Any
) -> None:
    first, _account = paid(supplier, django_capture_on_commit_callbacks)
    user, (other,) = payer_make(supplier, phone="+79169876543")
    waiting = pay(user, other, "99.00")
    client = staff(OPERATOR)

    def listed(**params: Any) -> list[int]:
        return [p.pk for p in client.get(f"{BO}/payments/payment/", params).context["cl"].result_list]

    assert listed(status__exact=PaymentStatus.PENDING) == [waiting.pk]
    assert listed(status__exact=PaymentStatus.SUCCEEDED, channel__exact=Channel.ONLINE) == [first.pk]
    assert listed(channel__exact=Channel.BANK) == []
    assert sorted(listed(supplier__id__exact=supplier.pk)) == sorted([first.pk, waiting.pk])


def test_a_notification_about_no_payment_here_is_in_the_inbox(payment: Payment) -> None:
    GatewayEvent.objects.create(
        gateway="sandbox", event_key="payment.succeeded:unknown-1", event="payment.succeeded", object_id="unknown-1",
        received_at=NOW, remote_addr="203.0.113.7", status=EventStatus.REJECTED, error="no such payment here",
        deliveries=3, payload={"event": "payment.succeeded", "object": {"id": "unknown-1"}},
    )  # fmt: skip
    client = staff(OPERATOR)

    listed = text(client.get(f"{BO}/payments/gatewayevent/", {"status__exact": EventStatus.REJECTED}))
    found = text(client.get(f"{BO}/payments/gatewayevent/", {"q": "unknown-1"}))
    event = GatewayEvent.objects.get(object_id="unknown-1")
    page = text(client.get(f"{BO}/payments/gatewayevent/{event.pk}/change/"))

    for shown in ["unknown-1", "отклонено", "no such payment here", "203.0.113.7", "22.11.2026 12:00"]:
        assert shown in listed, shown
    assert "unknown-1" in found
    assert payment.gateway_payment_id not in found
    assert "/backoffice/payments/payment/?q=unknown-1" in page
    assert "&quot;object&quot;" in page  # the payload as it came, escaped


def test_registries_are_listed_with_their_lines(supplier: Supplier, payment: Payment) -> None:
    account = payment.parts.get().account
    registry = RegistryFile.objects.create(
        source="sber", name="reestr_20261121.txt", sha256="a" * 64, profile="sber-standard", channel=Channel.BANK,
        supplier=supplier, loaded_at=NOW, lines_total=2, lines_posted=1, lines_failed=1, amount_posted=D("500.00"),
    )  # fmt: skip
    RegistryLine.objects.create(file=registry, line_no=1, source="sber", reference="R-1", account=account,
                                account_number=account.number, paid_at=NOW, amount=D("500.00"), payer="Иванов И. И.",
                                status=RegistryLine.Status.POSTED)  # fmt: skip
    RegistryLine.objects.create(file=registry, line_no=2, source="sber", reference="R-2", account_number="123",
                                status=RegistryLine.Status.FAILED, error="Нет такого лицевого счёта")  # fmt: skip
    client = staff(OPERATOR)

    files = text(client.get(f"{BO}/payments/registryfile/"))
    file_page = text(client.get(f"{BO}/payments/registryfile/{registry.pk}/change/"))
    lines = client.get(f"{BO}/payments/registryline/", {"file__id__exact": registry.pk})
    by_account = client.get(f"{BO}/payments/registryline/", {"q": account.number})

    assert "reestr_20261121.txt" in files
    assert "500,00\u00a0₽" in files
    assert f"registryline/?file__id__exact={registry.pk}" in file_page
    assert [line.line_no for line in lines.context["cl"].result_list] == [1, 2]
    assert "Нет такого лицевого счёта" in text(lines)
    assert [line.line_no for line in by_account.context["cl"].result_list] == [1]
    line = RegistryLine.objects.get(line_no=1)
    assert client.get(f"{BO}/payments/registryline/{line.pk}/change/").status_code == 200


def test_nothing_is_added_changed_or_deleted_even_by_a_superuser(payment: Payment) -> None:
    root = User.objects.create(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)

    assert client.get(f"{BO}/payments/payment/add/").status_code == 403
    assert client.post(change_url(payment), {"amount": "1"}).status_code == 403
    assert client.get(f"{BO}/payments/payment/{payment.pk}/delete/").status_code == 403
    assert client.get(f"{BO}/payments/refund/add/").status_code == 403
    assert client.get(f"{BO}/payments/gatewayevent/add/").status_code == 403


# --- A refund -------------------------------------------------------------------------------


def test_an_operator_may_not_return_money(payment: Payment) -> None:
    client = staff(OPERATOR)

    assert client.get(refund_url(payment)).status_code == 403
    assert client.post(refund_url(payment), {"key": "0" * 32, "amount": "300", "reason": REASON}).status_code == 403
    nothing_refunded(payment)


def test_a_senior_operator_returns_part_of_a_payment(payment: Payment) -> None:
    client = staff(SENIOR_OPERATOR, "senior")
    account = payment.parts.get().account

    payment_page = text(client.get(change_url(payment)))
    form_page = text(client.get(refund_url(payment)))
    response = client.post(refund_url(payment), refund_form(client, payment))

    assert f'href="{refund_url(payment)}"' in payment_page
    assert f'Можно вернуть</label><div class="readonly" id="refund-left">1{NNBSP}250,50\u00a0₽' in form_page
    assert messages_of(client, response) == [
        f"Деньги возвращены: 300,25\u00a0₽ по платежу {payment.public_id}, проводки возврата сделаны."
    ]
    assert response["Location"] == change_url(payment)
    refund = Refund.objects.get()
    senior = User.objects.get(username="senior")
    assert (refund.amount, refund.status, refund.reason, refund.created_by_id, refund.created_at) == (
        D("300.25"), RefundStatus.SUCCEEDED, REASON, senior.pk, NOW,
    )  # fmt: skip
    entry = LedgerEntry.objects.get(kind=EntryKind.REFUND)
    assert (entry.account_id, entry.amount, entry.posted_on) == (account.pk, D("300.25"), dt.date(2026, 11, 22))
    record = AuditRecord.objects.get(action="payment_refund")
    assert (record.actor_id, record.channel, record.object_id) == (senior.pk, "backoffice", str(payment.pk))
    assert record.after == {"refund": refund.pk, "amount": "300.25", "reason": REASON}
    assert SandboxPayment.objects.get(pk=payment.gateway_payment_id).refunded == D("300.25")
    # the payment's page shows the refund and what is left
    page = text(client.get(change_url(payment)))
    assert f'href="/backoffice/payments/refund/{refund.pk}/change/"' in page
    assert "Возвращено: 300,25\u00a0₽" in page
    assert "950,25\u00a0₽" in text(client.get(refund_url(payment)))


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"amount": "0"}, "Сумма должна быть больше нуля"),
        ({"amount": "100,555"}, "Не больше двух знаков после запятой: рубли и копейки"),
        ({"amount": ""}, "Укажите сумму"),
        ({"amount": "сто"}, "Сумма — это число рублей, например 1250,50"),
        ({"amount": "1250,51"}, f"Возврат невозможен: к возврату осталось 1{NNBSP}250,50 ₽"),
        ({"reason": "  "}, "Напишите причину возврата"),
        ({"key": "not-a-key"}, "Откройте форму возврата заново"),
    ],
)
def test_bad_values_show_the_errors_and_return_nothing(payment: Payment, fields: dict[str, str], error: str) -> None:
    client = staff(SENIOR_OPERATOR)

    response = client.post(refund_url(payment), refund_form(client, payment, **fields))

    assert response.status_code == 200
    assert error in text(response)
    nothing_refunded(payment)


def test_the_amount_error_is_shown_next_to_the_amount(payment: Payment) -> None:
    client = staff(SENIOR_OPERATOR)

    response = client.post(refund_url(payment), refund_form(client, payment, amount="0", reason=""))

    form = response.context["form"]
    assert form.errors == {"amount": ["Сумма должна быть больше нуля"], "reason": ["Напишите причину возврата"]}


def test_the_same_form_sent_twice_returns_money_once(payment: Payment) -> None:
    client = staff(SENIOR_OPERATOR)
    form = refund_form(client, payment)

    first = client.post(refund_url(payment), form)
    assert messages_of(client, first)[0].startswith("Деньги возвращены")
    again = client.post(refund_url(payment), form)

    assert messages_of(client, again) == ["Этот возврат уже оформлен: повторная отправка формы ничего не изменила."]
    assert Refund.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 1
    assert SandboxPayment.objects.get(pk=payment.gateway_payment_id).refunded == D("300.25")
    # a new form is a new refund
    client.post(refund_url(payment), refund_form(client, payment, amount="100"))
    assert sorted(Refund.objects.values_list("amount", flat=True)) == [D("100.00"), D("300.25")]


def test_a_form_refused_is_sent_again_once_put_right(payment: Payment) -> None:
    client = staff(SENIOR_OPERATOR)
    form = refund_form(client, payment, amount="0")

    refused = client.post(refund_url(payment), form)
    accepted = client.post(refund_url(payment), {**form, "amount": "300,25"})

    assert refused.status_code == 200
    assert accepted.status_code == 302
    assert Refund.objects.get().amount == D("300.25")


def test_a_refund_of_a_payment_not_paid_is_refused(supplier: Supplier) -> None:
    user, (account,) = payer_make(supplier)
    waiting = pay(user, account)
    client = staff(SENIOR_OPERATOR)

    response = client.post(refund_url(waiting), refund_form(client, waiting))

    assert "Возврат невозможен: вернуть можно только оплаченный онлайн платёж" in text(response)
    assert refund_url(waiting) not in text(client.get(change_url(waiting)))
    assert not Refund.objects.exists()


def test_a_refund_the_gateway_did_not_hear_waits_and_is_sent_from_its_page(
    payment: Payment, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = staff(SENIOR_OPERATOR)
    form = refund_form(client, payment)

    def down(self: SandboxGateway, **kwargs: Any) -> None:
        raise GatewayUnavailable("timed out")

    monkeypatch.setattr(SandboxGateway, "refund_create", down)
    response = client.post(refund_url(payment), form)
    again = client.post(refund_url(payment), form)
    monkeypatch.undo()

    assert response.status_code == 200
    assert "Возврат записан и ждёт отправки" in text(response)
    assert again.status_code == 302  # the same form: no second refund
    refund = Refund.objects.get()
    assert (refund.status, refund.gateway_refund_id) == (RefundStatus.PENDING, None)
    assert not LedgerEntry.objects.filter(kind=EntryKind.REFUND).exists()

    page = text(client.get(f"{BO}/payments/refund/{refund.pk}/change/"))
    assert f'action="/backoffice/payments/refund/{refund.pk}/settle/"' in page
    settled = client.post(f"{BO}/payments/refund/{refund.pk}/settle/")

    assert messages_of(client, settled) == ["Возврат 300,25\u00a0₽: возвращено."]
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert LedgerEntry.objects.get(kind=EntryKind.REFUND).amount == D("300.25")
    assert staff(OPERATOR, "op2").post(f"{BO}/payments/refund/{refund.pk}/settle/").status_code == 403


# --- Asking the gateway -----------------------------------------------------------------------


def test_asking_the_gateway_settles_a_payment_the_payer_has_paid(supplier: Supplier) -> None:
    """The payer paid on the gateway's page; its notification never came."""
    user, (account,) = payer_make(supplier)
    waiting = pay(user, account, "1250.50")
    sandbox_decide(payment_id=str(waiting.gateway_payment_id), approve=True, now=PAID)
    client = staff(OPERATOR)

    page = text(client.get(change_url(waiting)))
    assert client.get(f"{BO}/payments/payment/{waiting.pk}/settle/").status_code == 405
    response = client.post(f"{BO}/payments/payment/{waiting.pk}/settle/")

    assert f'action="/backoffice/payments/payment/{waiting.pk}/settle/"' in page
    assert "Спросить у платёжного сервиса" in page
    assert messages_of(client, response) == [
        f"Платёжный сервис подтвердил оплату 1{NNBSP}250,50\u00a0₽: платёж проведён по лицевому счёту."
    ]
    waiting.refresh_from_db()
    assert (waiting.status, waiting.paid_on) == (PaymentStatus.SUCCEEDED, dt.date(2026, 11, 20))
    entry = LedgerEntry.objects.get(account=account)
    assert (entry.kind, entry.amount) == (EntryKind.PAYMENT, D("-1250.50"))
    # asked again: nothing new
    again = client.post(f"{BO}/payments/payment/{waiting.pk}/settle/")
    assert messages_of(client, again) == ["Платёж уже не ждёт ответа платёжного сервиса: оплачен."]
    assert LedgerEntry.objects.filter(account=account).count() == 1


def test_asking_about_a_payment_the_payer_has_not_finished(supplier: Supplier) -> None:
    user, (account,) = payer_make(supplier)
    waiting = pay(user, account)
    client = staff(OPERATOR)

    response = client.post(f"{BO}/payments/payment/{waiting.pk}/settle/")

    assert messages_of(client, response) == [
        "Платёж ещё не оплачен: плательщик не завершил оплату на странице платёжного сервиса."
    ]
    waiting.refresh_from_db()
    assert waiting.status == PaymentStatus.PENDING
    assert not LedgerEntry.objects.exists()


def test_a_gateway_that_does_not_answer_is_reported(supplier: Supplier, monkeypatch: pytest.MonkeyPatch) -> None:
    user, (account,) = payer_make(supplier)
    waiting = pay(user, account)
    client = staff(OPERATOR)

    def down(self: SandboxGateway, payment_id: str) -> None:
        raise GatewayUnavailable("timed out")

    monkeypatch.setattr(SandboxGateway, "payment_get", down)
    response = client.post(f"{BO}/payments/payment/{waiting.pk}/settle/")
    monkeypatch.undo()

    assert messages_of(client, response) == [
        "Платёжный сервис сейчас не отвечает. Попробуйте оплатить через несколько минут"
    ]
    assert Payment.objects.get().status == PaymentStatus.PENDING
    assert payment_settle(payment_id=waiting.pk, now=NOW).status == PaymentStatus.PENDING


def test_staff_without_a_role_may_not_ask_the_gateway(supplier: Supplier) -> None:
    user, (account,) = payer_make(supplier)
    waiting = pay(user, account)

    assert staff(None).post(f"{BO}/payments/payment/{waiting.pk}/settle/").status_code == 403
