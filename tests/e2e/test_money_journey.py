"""A subscriber looks into their money in a real browser, on a small phone, with JavaScript
off: the account's page says the debt, what to pay and by when; «Начисления по месяцам»
opens the months, and «Как рассчитано» unfolds the meter's readings; then the penalties by
debt, the prices and norms, and the consumption chart with its table. Screenshots at 360 and
1280 px go to test-artifacts/."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterator
from pathlib import Path
from unittest.mock import patch

import pytest
from django.apps import apps
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from abonent.billing.models import KeyRate
from abonent.core.models import Supplier
from abonent.customers.models import AccountLink
from abonent.identity.models import User
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.test_accounts_journey import PASSWORD, _check, _log_in
from tests.web.identity import consent_documents_publish
from tests.web.money_data import billed_accounts_make

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NBSP = "\u00a0"
NNBSP = "\u202f"
NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)  # the October bill was due on 15.11.2026


@pytest.fixture
def portal(live_server: LiveServer, settings: Settings, db: None) -> Iterator[str]:
    """The portal, its clock standing on NOW (the live server runs in this process)."""
    consent_documents_publish()
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
    """Maria's account, billed June–October 2026, the October bill unpaid. The key rates are
    the migration's: an earlier browser test emptied every table."""
    if not KeyRate.objects.exists():
        importlib.import_module("abonent.billing.migrations.0002_penalty_rates").forwards(apps, None)
    billed = billed_accounts_make(supplier)
    return AccountLink.objects.create(
        user=maria, account=billed.metered, proof="pin", channel="web", linked_at=NOW, name="Дом"
    )


def _heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def test_the_subscriber_sees_the_balance_charges_penalties_prices_and_chart(
    page: Page, problems: list[str], portal: str, billed: AccountLink, artifacts: Path
) -> None:
    page.set_viewport_size(PHONE)
    _log_in(page, portal)

    # the account's page: the debt, what to pay, the last charge
    _heading(page, "Дом")
    money = page.locator("#money")
    expect(money.locator(".balances__row")).to_have_text(f"Газоснабжение Задолженность 429,96{NBSP}₽")
    expect(money.locator(".money__due-sum")).to_have_text(f"К оплате: 429,96{NBSP}₽")
    expect(
        money.get_by_text("Срок оплаты квитанции за октябрь 2026 — 15.11.2026 — прошёл", exact=False)
    ).to_be_visible()
    _check(page, artifacts, "money-account-360")
    money.get_by_role("link", name="Начисления по месяцам").click()

    # the charges, newest first; «Как рассчитано» opens without a script
    _heading(page, "Начисления")
    first = page.locator(".charge").first
    expect(first.get_by_role("heading", level=2)).to_have_text("Октябрь 2026")
    expect(first.locator(".charge__amount")).to_have_text(f"154,18{NBSP}₽")
    september = page.locator(".charge").nth(1)
    calc = september.locator(".calc__body")
    expect(calc).to_be_hidden()
    _check(page, artifacts, "money-charges-360")
    september.get_by_text("Как рассчитано").click()
    expect(calc).to_be_visible()
    expect(calc).to_contain_text(f"1{NNBSP}035,5 → 1{NNBSP}080 м³")
    expect(calc).to_contain_text("−12,182 м³")
    expect(calc).to_contain_text("ветеран труда")
    september.screenshot(path=artifacts / "money-charges-calc-360.png")

    # the penalties by debt
    page.get_by_role("navigation", name="Оплата и начисления").get_by_role("link", name="Пени").click()
    _heading(page, "Пени")
    expect(page.locator(".penalty-total__sum")).to_have_text(f"0,76{NBSP}₽")
    expect(page.get_by_role("heading", name="Долг за сентябрь 2026")).to_be_visible()
    expect(page.get_by_text("первые 30 дней просрочки пени не начисляют", exact=False)).to_be_visible()
    _check(page, artifacts, "money-penalties-360")

    # the prices and norms, the account's own price marked
    page.get_by_role("link", name="Тарифы и нормативы").click()
    _heading(page, "Тарифы и нормативы")
    own = page.locator(".price--own")
    expect(own).to_contain_text("ваш тариф")
    expect(own).to_contain_text("12,42 ₽")
    expect(page.locator("#benefits")).to_contain_text("Ветеран труда")
    _check(page, artifacts, "money-tariffs-360")

    # the chart with its table
    page.get_by_role("link", name="Расход газа").click()
    _heading(page, "Расход газа")
    chart = page.get_by_role("img", name="Расход газа по месяцам, м³")
    expect(chart).to_be_visible()
    expect(page.locator(".chart__bar--now")).to_have_count(5)
    page.get_by_text("Таблица с числами").click()
    expect(page.locator(".chart__table tbody tr").first).to_contain_text("Октябрь 2026")
    expect(page.locator(".chart__table tbody tr").first).to_contain_text("12,414")
    _check(page, artifacts, "money-consumption-360")

    # the same at desktop width
    page.set_viewport_size(DESKTOP)
    _check(page, artifacts, "money-consumption-1280")
    page.get_by_role("link", name="Начисления", exact=True).click()
    _heading(page, "Начисления")
    _check(page, artifacts, "money-charges-1280")
    page.get_by_role("link", name="Пени", exact=True).click()
    _heading(page, "Пени")
    _check(page, artifacts, "money-penalties-1280")
    page.get_by_role("link", name="Тарифы и нормативы").click()
    _heading(page, "Тарифы и нормативы")
    _check(page, artifacts, "money-tariffs-1280")
    page.get_by_role("link", name="Лицевой счёт: Дом").click()
    _heading(page, "Дом")
    _check(page, artifacts, "money-account-1280")
    assert problems == []
