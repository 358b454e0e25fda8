"""Paying on the portal: the pay page with every account and what is due on it, the gas and
the penalty apart; the amounts the domain refuses, said next to their fields with what was
typed kept; accounts of two suppliers; a gateway that does not answer; the sandbox's
payment page approved and declined; the payment's page, the history; other people's payments.

NOW is 22.11.2026; June–October 2026 are billed (tests/web/money_data.py): the metered
account owes 429,96 ₽ for gas, the one billed by the norm 7 679,94 ₽ for gas and 35,36 ₽
of penalty."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from html import unescape

import pytest
from django.http import HttpResponse
from django.test import Client
from pytest_django.fixtures import Settings

from abonent.core.models import Supplier
from abonent.customers.models import PersonalAccount
from abonent.identity.models import User
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.models import LedgerEntry
from abonent.ledger.selectors import balances_get
from abonent.payments.enums import PaymentStatus
from abonent.payments.gateways.base import GatewayUnavailable
from abonent.payments.gateways.sandbox import SandboxGateway
from abonent.payments.models import Payment, SandboxPayment
from tests.factories import account_make
from tests.web.html import heading_levels, headings_in_order, inline_code
from tests.web.identity import NOW, Browser, CaptureCallbacks, user_make
from tests.web.money_data import Billed, billed_accounts_make
from tests.web.test_money import link_make, log_in, rub, text

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def me(browser: Browser, maria: User) -> Browser:
    return log_in(browser)


@pytest.fixture
def billed(supplier: Supplier, maria: User) -> Billed:
    billed = billed_accounts_make(supplier)
    link_make(maria, billed.metered)
    link_make(maria, billed.by_norm)
    return billed


def ok(response: HttpResponse) -> HttpResponse:
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    assert inline_code(html) == []
    assert headings_in_order(heading_levels(html)), heading_levels(html)
    return response


def field_error(response: HttpResponse, name: str) -> str:
    """The error printed next to the field ``name`` (empty when there is none)."""
    match = re.search(rf'<p class="field__error" id="id_{name}_error">(.*?)</p>', response.content.decode(), re.S)
    return re.sub(r"[ \t\r\n]+", " ", unescape(re.sub(r"<[^>]+>", "", match.group(1)))).strip() if match else ""


def value_of(response: HttpResponse, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', response.content.decode())
    assert match is not None, name
    found = re.search(r'value="([^"]*)"', match.group(0))
    return unescape(found.group(1)) if found else None


def checked(response: HttpResponse, name: str, value: str | None = None) -> bool:
    pattern = rf'<input[^>]*name="{name}"' + (rf'[^>]*value="{value}"' if value else "") + r"[^>]*>"
    match = re.search(pattern, response.content.decode())
    assert match is not None, name
    return " checked" in match.group(0)


def form(account: PersonalAccount, gas: str = "", *, penalty: str | None = None, **extra: str) -> dict[str, str]:
    """The pay page's form with one account ticked."""
    data = {f"account_{account.pk}": "on", f"amount_{account.pk}_gas": gas, "method": "bank_card", "receipt": ""}
    if penalty is not None:
        data[f"amount_{account.pk}_penalty"] = penalty
    data.update(extra)
    return data


def approve(browser: Browser, payment: Payment, decision: str = "approve") -> HttpResponse:
    """The sandbox's page: the decision is sent, and the notification after the commit."""
    return browser.post(f"/sandbox/pay/{payment.gateway_payment_id}/", {"decision": decision})


# --- The pay page -------------------------------------------------------------------------------


def test_the_pay_page_lists_every_account_with_what_is_due_and_the_penalty_apart(me: Browser, billed: Billed) -> None:
    response = ok(me.get("/payments/new/"))
    shown = text(response)
    metered, by_norm = billed.metered, billed.by_norm

    assert "Оплата без комиссии" in shown
    assert "Комиссии нет: с карты или счёта спишется ровно та сумма, которую вы укажете." in shown
    assert f"К оплате: {rub('429,96')}" in shown
    assert f"К оплате: {rub('7 715,30')}" in shown
    assert f"За газ, ₽ Долг {rub('7 679,94')}" in shown
    assert f"Пени, ₽ Пени за просрочку оплаты: {rub('35,36')}" in shown
    assert value_of(response, f"amount_{metered.pk}_gas") == "429,96"
    assert value_of(response, f"amount_{by_norm.pk}_gas") == "7679,94"
    assert value_of(response, f"amount_{by_norm.pk}_penalty") == "35,36"
    assert f'name="amount_{metered.pk}_penalty"' not in response.content.decode()  # no penalty, no line
    assert checked(response, f"account_{metered.pk}")
    assert checked(response, f"account_{by_norm.pk}")
    assert checked(response, "method", "bank_card")
    assert not checked(response, "method", "sbp")
    assert "Банковская карта" in shown
    assert "СБП" in shown
    assert value_of(response, "receipt") == "+7 912 345-67-89"  # the profile's phone
    assert 'inputmode="decimal"' in response.content.decode()


def test_opened_from_an_account_only_that_account_is_ticked(me: Browser, billed: Billed) -> None:
    response = ok(me.get(f"/payments/new/?account={billed.by_norm.pk}"))

    assert checked(response, f"account_{billed.by_norm.pk}")
    assert not checked(response, f"account_{billed.metered.pk}")


def test_the_account_page_leads_to_the_pay_page_and_the_payments(me: Browser, billed: Billed) -> None:
    html = ok(me.get(f"/accounts/{billed.metered.pk}/")).content.decode()

    assert f'href="/payments/new/?account={billed.metered.pk}"' in html
    assert f'href="/accounts/{billed.metered.pk}/payments/"' in html
    assert 'href="/payments/new/"' in html  # the menu


def test_without_accounts_the_page_says_to_link_one(me: Browser) -> None:
    shown = text(ok(me.get("/payments/new/")))

    assert "Чтобы оплатить газ, привяжите лицевой счёт." in shown


def test_a_guest_is_asked_to_log_in(browser: Browser) -> None:
    for path in ("/payments/", "/payments/new/", f"/payments/{uuid.uuid4()}/"):
        response = browser.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("0", "Сумма должна быть больше нуля"),
        ("0,00", "Сумма должна быть больше нуля"),
        ("-100", "Сумма должна быть больше нуля"),
        ("100,555", "Не больше двух знаков после запятой: рубли и копейки"),
        ("500000,01", "Не больше 500\u202f000,00 ₽ одним платежом"),
        ("сто рублей", "Сумма — это число рублей, например 1250,50"),
        ("12a", "Сумма — это число рублей, например 1250,50"),
        ("", "Укажите сумму"),
    ],
)
def test_a_wrong_amount_is_said_next_to_its_field_and_kept(me: Browser, billed: Billed, typed: str, error: str) -> None:
    response = ok(me.post("/payments/new/", form(billed.metered, typed, receipt="maria@example.org")))

    assert field_error(response, f"amount_{billed.metered.pk}_gas") == f"Ошибка: {error}"
    assert "Проверьте, что введено" in text(response)
    assert value_of(response, f"amount_{billed.metered.pk}_gas") == (typed or None)
    assert value_of(response, "receipt") == "maria@example.org"
    assert checked(response, f"account_{billed.metered.pk}")
    assert not Payment.objects.exists()
    assert not SandboxPayment.objects.exists()


def test_a_wrong_penalty_amount_is_said_next_to_the_penalty(me: Browser, billed: Billed) -> None:
    response = ok(me.post("/payments/new/", form(billed.by_norm, "7679,94", penalty="35,3611")))

    assert field_error(response, f"amount_{billed.by_norm.pk}_penalty") == (
        "Ошибка: Не больше двух знаков после запятой: рубли и копейки"
    )
    assert field_error(response, f"amount_{billed.by_norm.pk}_gas") == ""
    assert not Payment.objects.exists()


def test_nothing_ticked_and_no_method(me: Browser, billed: Billed) -> None:
    response = ok(me.post("/payments/new/", {"receipt": ""}))

    assert field_error(response, "method") == "Ошибка: Выберите способ оплаты: банковская карта или СБП"
    assert not Payment.objects.exists()


def test_nothing_ticked(me: Browser, billed: Billed) -> None:
    response = ok(me.post("/payments/new/", {"method": "sbp", "receipt": ""}))

    assert "Выберите хотя бы один лицевой счёт" in text(response)
    assert checked(response, "method", "sbp")
    assert not Payment.objects.exists()


def test_a_wrong_receipt_address(me: Browser, billed: Billed) -> None:
    response = ok(me.post("/payments/new/", form(billed.metered, "100", receipt="maria@")))

    assert (
        field_error(response, "receipt")
        == "Ошибка: Введите адрес электронной почты полностью, например ivanova@mail.ru"
    )
    assert value_of(response, "receipt") == "maria@"
    assert not Payment.objects.exists()


def test_accounts_of_two_suppliers_are_paid_separately(
    me: Browser, billed: Billed, maria: User, supplier_kaliningrad: Supplier
) -> None:
    other = account_make(supplier=supplier_kaliningrad, number="390000000001")
    link_make(maria, other)

    page = ok(me.get("/payments/new/"))
    shown = text(page)
    assert "Счета разных поставщиков газа оплачиваются отдельными платежами." in shown
    assert supplier_kaliningrad.short_name in shown
    assert not checked(page, f"account_{other.pk}")  # the other supplier's account has no debt

    data = form(billed.metered, "100")
    data |= {f"account_{other.pk}": "on", f"amount_{other.pk}_gas": "50"}
    response = ok(me.post("/payments/new/", data))

    assert "Проверьте, что введено Счета разных поставщиков оплачиваются отдельными платежами" in text(response)
    assert value_of(response, f"amount_{other.pk}_gas") == "50"
    assert not Payment.objects.exists()


def test_the_gateway_does_not_answer_nothing_is_lost(
    me: Browser, billed: Billed, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(self: SandboxGateway, request: object) -> None:
        raise GatewayUnavailable("timeout")

    monkeypatch.setattr(SandboxGateway, "payment_create", down)

    response = ok(me.post("/payments/new/", form(billed.metered, "429,96", method="sbp")))

    assert "Платёжный сервис сейчас не отвечает. Попробуйте оплатить через несколько минут" in text(response)
    assert value_of(response, f"amount_{billed.metered.pk}_gas") == "429,96"
    assert checked(response, "method", "sbp")
    payment = Payment.objects.get()  # kept: reconciliation asks the gateway about it later
    assert payment.status == PaymentStatus.CREATED
    assert not LedgerEntry.objects.filter(kind=EntryKind.PAYMENT, account=billed.metered, posted_on=NOW.date()).exists()


# --- Through the sandbox ------------------------------------------------------------------------


def test_paid_through_the_sandbox_the_balance_is_paid_off(me: Browser, billed: Billed) -> None:
    by_norm = billed.by_norm
    data = form(by_norm, "7 679,94", penalty="35,36")  # the metered account is left out
    response = me.post("/payments/new/", data)

    payment = Payment.objects.get()
    assert (payment.status, payment.amount, payment.method) == (PaymentStatus.PENDING, D("7715.30"), "bank_card")
    assert [(p.account_id, p.service, p.amount) for p in payment.parts.order_by("pk")] == [
        (by_norm.pk, Service.GAS, D("7679.94")),
        (by_norm.pk, Service.PENALTY, D("35.36")),
    ]
    assert payment.receipt_phone == "+79123456789"
    assert response.status_code == 302
    assert response["Location"] == f"http://testserver/sandbox/pay/{payment.gateway_payment_id}/"
    gateway_side = SandboxPayment.objects.get()
    assert gateway_side.return_url == f"http://testserver/payments/{payment.public_id}/"

    sandbox = ok(me.get(response["Location"]))
    shown = text(sandbox)
    assert "Тестовая оплата — деньги не списываются" in shown
    assert f"Оплата {rub('7 715,30')}" in shown
    assert f"Назначение: Оплата по л/с {by_norm.number}" in shown
    assert "Способ: Банковская карта" in shown

    back = approve(me, payment)

    assert back.status_code == 302
    assert back["Location"] == f"http://testserver/payments/{payment.public_id}/"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert balances_get(account=by_norm)[Service.GAS] == D("0.00")
    assert balances_get(account=by_norm)[Service.PENALTY] == D("0.00")

    result = text(ok(me.get(f"/payments/{payment.public_id}/")))
    assert "Платёж оплачен" in result
    assert f"{rub('7 715,30')} без комиссии" in result
    assert "Деньги получены 22.11.2026 12:00." in result
    assert f"Газоснабжение: {rub('7 679,94')} Пени: {rub('35,36')}" in result
    assert "Баланс после оплаты Газоснабжение Оплачено полностью" in result
    assert "Кассовый чек: +7 912 345-67-89" in result

    account = text(ok(me.get(f"/accounts/{by_norm.pk}/")))
    assert "Газоснабжение Оплачено полностью Платить сейчас ничего не нужно." in account

    history = text(ok(me.get("/payments/")))
    assert (
        f"22.11.2026 12:00 {rub('7 715,30')} л/с{NBSP}77{NBSP}0000{NBSP}000002 , газоснабжение: {rub('7 679,94')} "
        f"л/с{NBSP}77{NBSP}0000{NBSP}000002 , пени: {rub('35,36')} Онлайн на портале, банковская карта "
        "Кассовый чек: +7 912 345-67-89 оплачен" in history
    )
    assert "22.11.2026" in text(ok(me.get(f"/accounts/{by_norm.pk}/payments/")))
    assert "Платежей по этому счёту" in text(ok(me.get(f"/accounts/{billed.metered.pk}/payments/")))

    # the sandbox's page once decided, and the payment's page again: nothing new
    assert "Этот платёж уже подтверждён." in text(ok(me.get(f"/sandbox/pay/{payment.gateway_payment_id}/")))
    ok(me.get(f"/payments/{payment.public_id}/"))
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYMENT, account=by_norm, posted_on=NOW.date()).count() == 2


def test_declined_on_the_sandbox_nothing_is_paid_and_it_can_be_tried_again(me: Browser, billed: Billed) -> None:
    metered = billed.metered
    me.post("/payments/new/", form(metered, "200,50", method="sbp", receipt="Maria@Example.ORG"))
    payment = Payment.objects.get()
    assert payment.receipt_email == "Maria@example.org"

    back = approve(me, payment, "decline")

    assert back["Location"] == f"http://testserver/payments/{payment.public_id}/"
    result = text(ok(me.get(back["Location"])))
    assert "Платёж не прошёл" in result
    assert "Оплата отклонена: истёк срок действия карты. Деньги не списаны." in result
    assert "Баланс после оплаты" not in result
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELED
    assert not LedgerEntry.objects.filter(kind=EntryKind.PAYMENT, posted_on=NOW.date()).exists()
    assert balances_get(account=metered)[Service.GAS] == D("429.96")
    history = text(ok(me.get("/payments/")))
    assert f"{rub('200,50')} л/с{NBSP}77{NBSP}0000{NBSP}000001 , газоснабжение: {rub('200,50')} " in history
    assert "Онлайн на портале, СБП Кассовый чек: Maria@ example .org не прошёл" in history  # <wbr> in the address

    again = ok(me.get(f"/payments/new/?repeat={payment.public_id}"))
    assert value_of(again, f"amount_{metered.pk}_gas") == "200,50"
    assert checked(again, f"account_{metered.pk}")
    assert not checked(again, f"account_{billed.by_norm.pk}")
    assert checked(again, "method", "sbp")
    assert value_of(again, "receipt") == "Maria@example.org"


def test_back_before_deciding_the_payment_is_still_processing(me: Browser, billed: Billed) -> None:
    me.post("/payments/new/", form(billed.metered, "100"))
    payment = Payment.objects.get()

    result = text(ok(me.get(f"/payments/{payment.public_id}/")))

    assert "Платёж обрабатывается" in result
    assert "Обновите страницу через минуту" in result
    assert "Вернуться на страницу оплаты" in result
    assert Payment.objects.get().status == PaymentStatus.PENDING
    assert "банковская карта Кассовый чек: +7 912 345-67-89 ожидает оплаты" in text(ok(me.get("/payments/")))


def test_the_sandbox_decision_needs_the_pages_csrf_token(
    billed: Billed, maria: User, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(maria)
    page = client.get("/payments/new/")
    token = page.cookies["csrftoken"].value
    answer = client.post(
        "/payments/new/", {**form(billed.metered, "100"), "csrfmiddlewaretoken": token}, HTTP_X_CSRFTOKEN=token
    )
    assert answer.status_code == 302
    payment = Payment.objects.get()

    refused = client.post(f"/sandbox/pay/{payment.gateway_payment_id}/", {"decision": "approve"})

    assert refused.status_code == 403
    assert SandboxPayment.objects.get().status == "pending"
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            f"/sandbox/pay/{payment.gateway_payment_id}/", {"decision": "approve", "csrfmiddlewaretoken": token}
        )
    assert done.status_code == 302
    assert Payment.objects.get().status == PaymentStatus.SUCCEEDED


def test_the_sandbox_page_without_a_decision(me: Browser, billed: Billed) -> None:
    me.post("/payments/new/", form(billed.metered, "100"))
    payment = Payment.objects.get()

    response = me.post(f"/sandbox/pay/{payment.gateway_payment_id}/", {"decision": "maybe"})

    assert response.status_code == 400
    assert "Выберите: подтвердить оплату или отклонить её." in text(response)
    assert SandboxPayment.objects.get().status == "pending"


def test_the_sandbox_page_exists_only_with_the_sandbox_gateway(me: Browser, billed: Billed, settings: Settings) -> None:
    me.post("/payments/new/", form(billed.metered, "100"))
    payment = Payment.objects.get()
    assert me.get(f"/sandbox/pay/{payment.gateway_payment_id}/").status_code == 200
    assert me.get(f"/sandbox/pay/{uuid.uuid4()}/").status_code == 404

    settings.PAYMENT_GATEWAY = "yookassa"

    assert me.get(f"/sandbox/pay/{payment.gateway_payment_id}/").status_code == 404
    assert me.post(f"/sandbox/pay/{payment.gateway_payment_id}/", {"decision": "approve"}).status_code == 404
    assert SandboxPayment.objects.get().status == "pending"


def test_the_pay_page_lets_its_form_go_on_to_the_gateways_page(me: Browser, billed: Billed, settings: Settings) -> None:
    """The form is sent on to the gateway's page by a redirect: the page's policy allows it."""
    policy = me.get("/payments/new/")["Content-Security-Policy"]
    assert "form-action 'self'" in [d.strip() for d in policy.split(";")]  # the directives come in any order

    settings.PAYMENT_GATEWAY = "yookassa"

    assert "form-action 'self' https://yoomoney.ru" in me.get("/payments/new/")["Content-Security-Policy"]


# --- Other people's payments -----------------------------------------------------------------


def test_someone_elses_payment_is_not_found(me: Browser, billed: Billed, supplier: Supplier) -> None:
    stranger = user_make(phone="+79160000000")
    account = account_make(supplier=supplier, number="770000000099")
    link_make(stranger, account)
    client = Client()
    client.force_login(stranger)
    client.post("/payments/new/", form(account, "100"))
    theirs = Payment.objects.get(user=stranger)

    assert me.get(f"/payments/{theirs.public_id}/").status_code == 404
    assert me.get(f"/payments/{uuid.uuid4()}/").status_code == 404
    assert me.get("/payments/not-a-uuid/").status_code == 404
    assert me.get(f"/accounts/{account.pk}/payments/").status_code == 404
    assert "Платежей ещё не было." in text(ok(me.get("/payments/")))
    # their account cannot be slipped into my payment
    response = ok(me.post("/payments/new/", form(account, "100")))
    assert Payment.objects.filter(user__phone="+79123456789").count() == 0
    assert "Выберите хотя бы один лицевой счёт" in text(response)


NBSP = "\u00a0"
