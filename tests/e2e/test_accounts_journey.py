"""A subscriber links a personal account in a real browser, with JavaScript off, on a small
phone: logs in, lands on the link assistant, gets the PIN wrong once, links the account and
sees its meters and contracts. Screenshots at 360 and 1280 px go to test-artifacts/."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from abonent.core.models import Supplier, SupplierTerms
from abonent.core.periods import Period
from abonent.customers.enums import ContractKind
from abonent.customers.models import AccountLink, Contract, GasEquipment, PersonalAccount
from abonent.identity.models import User
from abonent.metering.enums import ReadingChannel
from abonent.metering.models import Reading
from tests.e2e.conftest import DESKTOP, PHONE
from tests.factories import account_make, meter_make
from tests.web.identity import consent_documents_publish

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Зелёный-чайник-42"
NUMBER = "+7 912 345-67-89"


@pytest.fixture
def portal(live_server: LiveServer, settings: Settings, db: None) -> str:
    consent_documents_publish()
    settings.DEMO_OUTBOX_PAGE = True
    return live_server.url


@pytest.fixture
def maria(db: None) -> User:
    user = User(username="u-maria", phone="+79123456789", is_active=True, phone_confirmed_at=timezone.now())
    user.set_password(PASSWORD)
    user.save()
    return user


def _today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def account(supplier: Supplier) -> PersonalAccount:
    """An account with two meters (one to be verified soon, one past it), a stove and two
    contracts, the maintenance one ending soon."""
    today = _today()
    supplier.phones = "+7 (495) 555-26-02 — абонентский отдел, 104 — аварийная газовая служба"
    supplier.save()
    account = account_make(supplier=supplier, uses_water_heating=True, heated_area=Decimal("54.3"))
    soon = meter_make(account=account, serial="0412345", verification_due_on=today + dt.timedelta(days=30))
    previous = Period.of(today).previous()
    Reading.objects.create(
        meter=soon,
        period=previous,
        value=Decimal("1234.567"),
        submitted_at=timezone.now() - dt.timedelta(days=20),
        channel=ReadingChannel.WEB,
        submission_key="seed",
    )
    meter_make(
        account=account,
        serial="0987654321",
        model="Гранд-4ТК",
        installed_on=dt.date(2012, 3, 1),
        verification_due_on=today - dt.timedelta(days=10),
    )
    GasEquipment.objects.create(account=account, kind="stove", model="Гефест 3200", installed_on=dt.date(2015, 4, 1))
    GasEquipment.objects.create(account=account, kind="water_heater", model="Нева 4510")
    Contract.objects.create(
        account=account,
        kind=ContractKind.SUPPLY,
        number="ГП-2015/1234",
        signed_on=dt.date(2015, 4, 1),
        valid_from=dt.date(2015, 4, 1),
    )
    Contract.objects.create(
        account=account,
        kind=ContractKind.VDGO,
        number="ТО-77/2024",
        contractor="АО «Мособлгаз», филиал «Подольскмежрайгаз»",
        signed_on=today - dt.timedelta(days=700),
        valid_from=today - dt.timedelta(days=700),
        valid_to=today + dt.timedelta(days=40),
    )
    return account


def _no_horizontal_scroll(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"


def _too_small_targets(page: Page) -> list[str]:
    """Buttons, inputs, radio and checkbox labels, stand-alone links shorter than 44 px."""
    small = []
    for element in page.locator(
        "main .button, main .field__input, main .checkbox__label, main .choice__label, main .link-block, "
        "main .link-button, main .switcher__summary, main .switcher__link, main .supplier__contacts dd a, "
        ".site-nav__link"
    ).all():
        box = element.bounding_box()
        if box is not None and element.is_visible() and box["height"] < 44:  # not inside a closed <details>
            small.append(f"{element.inner_text()!r}: {box['height']:.0f} px")
    return small


def _check(page: Page, artifacts: Path, name: str) -> None:
    _no_horizontal_scroll(page)
    assert _too_small_targets(page) == []
    page.screenshot(path=artifacts / f"{name}.png", full_page=True)


def _nav(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Основное меню")


def _log_in(page: Page, portal: str) -> None:
    page.goto(portal + "/login/")
    page.get_by_label("Телефон или e\u2011mail").fill(NUMBER)
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Войти", exact=True).click()
    # the page after the login loaded, so that going on elsewhere does not cut its request short
    page.wait_for_url(lambda url: "/login/" not in url)


def test_link_an_account_with_its_pin_and_see_it(
    page: Page, problems: list[str], portal: str, maria: User, account: PersonalAccount, artifacts: Path
) -> None:
    page.set_viewport_size(PHONE)
    _log_in(page, portal)

    # no account yet: the first page is the link assistant
    expect(page.get_by_role("heading", level=1)).to_have_text("Привязка лицевого счёта")
    expect(page.get_by_role("img", name="Образец квитанции за газ", exact=False)).to_be_visible()
    expect(page.get_by_text("Кабинет работает с абонентами поставщика Газпром межрегионгаз Москва.")).to_be_visible()
    _check(page, artifacts, "accounts-link-360")

    number = page.get_by_label("Номер лицевого счёта")
    expect(number).to_have_attribute("inputmode", "numeric")
    number.fill("77 0000 000001")
    page.get_by_label("PIN-код", exact=False).fill("654321")
    page.get_by_role("button", name="Привязать счёт").click()

    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Не удалось привязать счёт: проверьте номер лицевого счёта и PIN-код")
    expect(page.get_by_label("Номер лицевого счёта")).to_have_value("77 0000 000001")
    expect(page.get_by_label("PIN-код", exact=False)).to_have_value("")
    _check(page, artifacts, "accounts-link-error-360")
    assert AccountLink.objects.count() == 0

    page.get_by_label("PIN-код", exact=False).fill("123456")
    page.get_by_role("button", name="Привязать счёт").click()

    # the account's page
    expect(page.get_by_role("heading", level=1)).to_have_text("г. Подольск, ул. Садовая, д. 12, кв. 34")
    expect(page.get_by_text("Лицевой счёт 77 0000 000001 привязан к вашему профилю.")).to_be_visible()
    meters = page.locator("#meters")
    expect(meters.get_by_role("heading", name="СГМН-1 G6 № 0412345")).to_be_visible()
    expect(meters.get_by_text("1\u202f234,567 м³")).to_be_visible()
    expect(meters.get_by_text("Скоро заканчивается срок поверки")).to_be_visible()
    expect(meters.get_by_text("Срок поверки истёк", exact=True)).to_be_visible()
    contracts = page.locator("#contracts")
    expect(contracts.get_by_role("heading", name="Договор поставки газа")).to_be_visible()
    expect(contracts.get_by_text("Скоро заканчивается срок договора")).to_be_visible()
    expect(page.get_by_text("Иванова М. П.")).to_be_visible()
    expect(page.get_by_role("link", name="8 800 100-00-01")).to_have_attribute("href", "tel:88001000001")
    expect(page.get_by_role("link", name="104 — аварийная газовая служба")).to_have_attribute("href", "tel:104")
    _check(page, artifacts, "accounts-detail-360")
    link = AccountLink.objects.get()
    assert (link.user, link.account) == (maria, account)

    # the list
    _nav(page).get_by_role("link", name="Мои счета").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Мои лицевые счета")
    expect(page.get_by_role("heading", level=2, name="г. Подольск, ул. Садовая, д. 12, кв. 34")).to_be_visible()
    _check(page, artifacts, "accounts-list-360")

    # renamed
    page.get_by_role("link", name="Переименовать").click()
    expect(page.get_by_label("Название счёта")).to_be_visible()
    _check(page, artifacts, "accounts-settings-360")
    page.get_by_label("Название счёта").fill("Дом")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Дом")

    # the same at desktop width
    page.set_viewport_size(DESKTOP)
    _check(page, artifacts, "accounts-detail-1280")
    _nav(page).get_by_role("link", name="Мои счета").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Мои лицевые счета")
    _check(page, artifacts, "accounts-list-1280")
    page.get_by_role("link", name="Привязать ещё один счёт").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Привязка лицевого счёта")
    _check(page, artifacts, "accounts-link-1280")
    assert problems == []


def test_two_suppliers_a_meter_value_and_the_switcher(
    page: Page,
    problems: list[str],
    portal: str,
    maria: User,
    account: PersonalAccount,
    supplier: Supplier,
    supplier_kaliningrad: Supplier,
    artifacts: Path,
) -> None:
    SupplierTerms.objects.filter(supplier=supplier_kaliningrad).update(link_proofs=["pin", "meter_value"])
    dacha = account_make(
        supplier=supplier_kaliningrad,
        number="390000000007",
        pin="4321",
        postal_code="238530",
        region="Калининградская область",
        locality="г. Зеленоградск",
        street="ул. Морская",
        house="5",
        apartment="",
    )
    meter = meter_make(account=dacha, serial="7700001")
    Reading.objects.create(
        meter=meter,
        period=Period.of(_today()).previous(),
        value=Decimal("812"),
        submitted_at=timezone.now() - dt.timedelta(days=25),
        channel=ReadingChannel.WEB,
        submission_key="seed",
    )
    AccountLink.objects.create(user=maria, account=account, proof="pin", channel="web", linked_at=timezone.now())

    page.set_viewport_size(PHONE)
    _log_in(page, portal)
    expect(page.get_by_role("heading", level=1)).to_have_text("г. Подольск, ул. Садовая, д. 12, кв. 34")

    _nav(page).get_by_role("link", name="Мои счета").click()
    page.get_by_role("link", name="Привязать ещё один счёт").click()
    expect(page.get_by_role("group", name="Выберите поставщика газа", exact=False)).to_be_visible()
    page.get_by_label("Не знаю — определить по номеру").check()
    page.get_by_label("Номер лицевого счёта").fill("390000000007")
    page.get_by_label("Показание счётчика", exact=True).check()
    # the PIN's field folds away, the meter's opens
    expect(page.get_by_label("PIN-код", exact=True)).to_be_hidden()
    expect(page.get_by_label("Показание счётчика сегодня, м³")).to_be_visible()
    page.get_by_label("Показание счётчика сегодня, м³").fill("820")
    _check(page, artifacts, "accounts-link-choices-360")
    page.get_by_role("button", name="Привязать счёт").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("г. Зеленоградск, ул. Морская, д. 5")
    switcher = page.get_by_role("navigation", name="Ваши лицевые счета")
    switcher.get_by_text("Сменить счёт (всего 2)").click()
    current = switcher.locator('[aria-current="page"]')
    expect(current).to_contain_text("39 0000 000007")
    _check(page, artifacts, "accounts-switcher-360")
    switcher.get_by_role("link", name="г. Подольск", exact=False).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("г. Подольск, ул. Садовая, д. 12, кв. 34")

    # the list with two: one made the default, the other unlinked after confirming
    _nav(page).get_by_role("link", name="Мои счета").click()
    page.get_by_role("button", name="Сделать основным — г. Зеленоградск, ул. Морская, д. 5").click()
    expect(page.get_by_text("Основной счёт — 39 0000 000007.")).to_be_visible()
    _check(page, artifacts, "accounts-list-two-360")
    page.get_by_role("link", name="Отвязать — г. Подольск, ул. Садовая, д. 12, кв. 34").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Отвязать лицевой счёт?")
    _check(page, artifacts, "accounts-unlink-360")
    page.get_by_role("button", name="Да, отвязать счёт").click()
    expect(page.get_by_text("Лицевой счёт 77 0000 000001 больше не показывается в вашем кабинете.")).to_be_visible()
    assert list(AccountLink.objects.values_list("account__number", "is_default")) == [("390000000007", True)]
    assert problems == []


def test_the_demo_subscriber_links_a_demo_account(
    page: Page, problems: list[str], live_server: LiveServer, settings: Settings, artifacts: Path
) -> None:
    """What `make run` prints works: the demo subscriber logs in with the printed password,
    lands on the account already linked, and links another printed account with its PIN."""
    from abonent.cli.demo.seeding import SUBSCRIBER, seed_run

    report = seed_run(accounts=40, seed=2026, today=_today(), batch_size=20)
    first, second = report.suppliers[0].accounts[:2]
    assert report.subscriber.linked == first.number
    page.set_viewport_size(PHONE)

    page.goto(live_server.url + "/login/")
    page.get_by_label("Телефон или e\u2011mail").fill(SUBSCRIBER.email)
    page.get_by_label("Пароль", exact=True).fill(SUBSCRIBER.password)
    page.get_by_role("button", name="Войти", exact=True).click()

    # one account: the first page is that account
    expect(page.get_by_role("heading", level=1)).to_have_text("Дом")
    expect(page.locator("main")).to_contain_text(f"{first.number[:2]} {first.number[2:6]} {first.number[6:]}")

    _nav(page).get_by_role("link", name="Мои счета").click()
    page.get_by_role("link", name="Привязать ещё один счёт").click()
    # the form has loaded before its fields are looked at: the demo has two suppliers, so the
    # form asks for one
    expect(page.get_by_role("heading", level=1)).to_have_text("Привязка лицевого счёта")
    page.get_by_label("Не знаю", exact=False).check()
    page.get_by_label("Номер лицевого счёта").fill(second.number)
    page.get_by_role("textbox", name="PIN-код").fill(second.pin)
    page.get_by_role("button", name="Привязать счёт").click()

    expect(page.get_by_text("привязан к вашему профилю", exact=False)).to_be_visible()
    if second.meters:
        expect(page.locator("#meters").get_by_role("heading", level=3).first).to_be_visible()
    expect(page.locator("#contracts").get_by_role("heading", name="Договор поставки газа")).to_be_visible()
    _check(page, artifacts, "accounts-demo-linked-360")
    user = User.objects.get(phone=SUBSCRIBER.phone)
    assert sorted(AccountLink.objects.filter(user=user).values_list("account__number", flat=True)) == sorted(
        [first.number, second.number]
    )
    assert problems == []
