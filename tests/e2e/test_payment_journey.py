"""A subscriber with a debt pays it in a real browser, on a small phone, with JavaScript
off: from the account's page to the pay page, on to the sandbox gateway's page where the
payment is approved, back to the payment's page that says it is paid and shows the new
balance, and the account's page says so too. The sandbox's notification is handed over in
this process after the commit, as in the embedded default. Screenshots of the three pages at
360 and 1280 px go to the test's temporary directory."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch

import pytest
from django.apps import apps
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from abonent.billing.models import KeyRate
from abonent.core.models import Supplier
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.identity.models import User
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.models import LedgerEntry
from abonent.payments.enums import PaymentStatus
from abonent.payments.models import Payment
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.test_accounts_journey import PASSWORD, _log_in, _no_horizontal_scroll, _too_small_targets
from tests.factories import account_make
from tests.web.identity import consent_documents_publish
from tests.web.money_data import billed_accounts_make

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NBSP = "\u00a0"
NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)  # the October bill was due on 15.11.2026


@pytest.fixture
def portal(live_server: LiveServer, settings: Settings, db: None) -> Iterator[str]:
    """The portal, its clock standing on NOW, paying through the sandbox, whose notification
    is handed to the payments service in this process after the commit."""
    consent_documents_publish()
    settings.PAYMENT_GATEWAY = "sandbox"
    settings.SANDBOX_NOTIFY_URL = ""
    with patch("abonent.core.clock.now", lambda: NOW):
        yield live_server.url


@pytest.fixture
def maria(db: None) -> User:
    user = User(username="u-maria", phone="+79123456789", is_active=True, phone_confirmed_at=NOW)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def billed(supplier: Supplier, maria: User) -> AccountLink:
    """Maria's account, billed June–October 2026, 429,96 ₽ of gas unpaid."""
    if not KeyRate.objects.exists():
        importlib.import_module("abonent.billing.migrations.0002_penalty_rates").forwards(apps, None)
    billed = billed_accounts_make(supplier)
    return AccountLink.objects.create(
        user=maria, account=billed.metered, proof="pin", channel="web", linked_at=NOW, name="Дом"
    )


def _shots(page: Page, directory: Path, name: str) -> None:
    """The page at a phone's width and at a desktop's, checked at both, back to the phone."""
    for size, width in ((PHONE, 360), (DESKTOP, 1280)):
        page.set_viewport_size(size)
        _no_horizontal_scroll(page)
        assert _too_small_targets(page) == []
        page.screenshot(path=directory / f"{name}-{width}.png", full_page=True)
    page.set_viewport_size(PHONE)


def _heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def test_the_subscriber_pays_the_debt_through_the_sandbox(
    page: Page, problems: list[str], portal: str, billed: AccountLink, tmp_path: Path
) -> None:
    page.set_viewport_size(PHONE)
    _log_in(page, portal)

    # the account's page: the debt, and the way to pay it
    _heading(page, "Дом")
    money = page.locator("#money")
    expect(money.locator(".money__due-sum")).to_have_text(f"К оплате: 429,96{NBSP}₽")
    _shots(page, tmp_path, "account")
    money.get_by_role("link", name="Оплатить без комиссии").click()

    # the pay page: the account ticked with its debt, the card chosen, the receipt to the phone
    _heading(page, "Оплата без комиссии")
    expect(page.get_by_text("Комиссии нет", exact=False)).to_be_visible()
    account = page.locator(".pay-account")
    expect(account.locator(".pay-account__due")).to_have_text(f"К оплате: 429,96{NBSP}₽")
    expect(account.get_by_label("Оплатить по этому счёту")).to_be_checked()
    amount = account.get_by_label("За газ, ₽")
    expect(amount).to_have_value("429,96")
    expect(page.get_by_label("Банковская карта")).to_be_checked()
    expect(page.get_by_label("Куда прислать кассовый чек")).to_have_value("+7 912 345-67-89")
    _shots(page, tmp_path, "pay")

    # a wrong amount first: said next to the field, what was typed kept
    amount.fill("429,961")
    page.get_by_role("button", name="Перейти к оплате").click()
    expect(page.locator(".error-summary")).to_be_focused()
    expect(account.locator(".field__error")).to_have_text(
        "Ошибка: Не больше двух знаков после запятой: рубли и копейки"
    )
    expect(amount).to_have_value("429,961")
    _shots(page, tmp_path, "pay-error")
    amount.fill("429,96")
    page.get_by_role("button", name="Перейти к оплате").click()

    # the sandbox gateway's page
    _heading(page, f"Оплата 429,96{NBSP}₽")
    expect(page.get_by_text("Тестовая оплата — деньги не списываются")).to_be_visible()
    expect(page.get_by_text(f"Оплата по л/с {billed.account.number}")).to_be_visible()
    _shots(page, tmp_path, "sandbox")
    page.get_by_role("button", name="Подтвердить оплату").click()

    # back on the portal: paid, and the new balance
    _heading(page, "Платёж оплачен")
    expect(page.get_by_text("Деньги получены 22.11.2026 12:00", exact=False)).to_be_visible()
    paid = page.locator(".pay-paid__account")
    expect(paid.locator(".balances__row")).to_have_text("Газоснабжение Оплачено полностью")
    _shots(page, tmp_path, "result")
    payment = Payment.objects.get()
    assert (payment.status, payment.amount) == (PaymentStatus.SUCCEEDED, Decimal("429.96"))
    entry = LedgerEntry.objects.get(account=billed.account, kind=EntryKind.PAYMENT, source_key__startswith="payment:")
    assert (entry.service, entry.amount, entry.posted_on) == (Service.GAS, Decimal("-429.96"), dt.date(2026, 11, 22))

    # the account's page says it too, and the history has the payment
    page.get_by_role("link", name="К лицевому счёту").click()
    _heading(page, "Дом")
    expect(money.locator(".balances__row")).to_have_text("Газоснабжение Оплачено полностью")
    expect(money.get_by_text("Платить сейчас ничего не нужно.")).to_be_visible()
    money.get_by_role("link", name="Платежи", exact=True).click()
    _heading(page, "Платежи по счёту")
    expect(page.locator(".history-table__row")).to_contain_text("оплачен")
    _shots(page, tmp_path, "history")
    assert problems == []


def test_accounts_of_two_suppliers_and_a_penalty_on_the_pay_page(
    page: Page,
    problems: list[str],
    portal: str,
    billed: AccountLink,
    supplier_kaliningrad: Supplier,
    tmp_path: Path,
) -> None:
    """The account billed by the norm owes gas and a penalty, each on its own line; an
    account of another supplier is listed under its supplier's name, not ticked."""
    by_norm = PersonalAccount.objects.get(number="770000000002")
    AccountLink.objects.create(user=billed.user, account=by_norm, proof="pin", channel="web", linked_at=NOW)
    other = account_make(supplier=supplier_kaliningrad, number="390000000001")
    AccountLink.objects.create(user=billed.user, account=other, proof="pin", channel="web", linked_at=NOW)
    page.set_viewport_size(PHONE)
    _log_in(page, portal)
    page.goto(portal + "/payments/new/")

    _heading(page, "Оплата без комиссии")
    expect(
        page.get_by_text("Счета разных поставщиков газа оплачиваются отдельными платежами", exact=False)
    ).to_be_visible()
    expect(page.get_by_role("heading", level=2)).to_have_text(
        ["Газпром межрегионгаз Москва", supplier_kaliningrad.short_name]
    )
    norm = page.locator(".pay-account").nth(1)
    expect(norm.get_by_label("Пени, ₽")).to_have_value("35,36")
    expect(norm.get_by_text(f"Пени за просрочку оплаты: 35,36{NBSP}₽")).to_be_visible()
    third = page.locator(".pay-account").nth(2)
    expect(third.get_by_label("Оплатить по этому счёту")).not_to_be_checked()
    expect(third.get_by_label("За газ, ₽")).to_be_hidden()  # folded while the account is left out
    _shots(page, tmp_path, "pay-two-suppliers")

    third.get_by_text("Оплатить по этому счёту").click()
    third.get_by_label("За газ, ₽").fill("100")
    page.get_by_role("button", name="Перейти к оплате").click()
    expect(page.locator(".error-summary")).to_contain_text("Счета разных поставщиков оплачиваются отдельными платежами")
    expect(page.locator(".pay-account").nth(2).get_by_label("За газ, ₽")).to_have_value("100")
    assert not Payment.objects.exists()
    assert problems == []
