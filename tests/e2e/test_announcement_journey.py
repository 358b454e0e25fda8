"""An announcement from the back office to the subscriber, in a real browser: a senior
operator (JavaScript on, a desktop) writes planned works for a locality, sees how many
subscribers it reaches, sends it after the confirmation and sees it sent; the subscriber
(JavaScript off, a small phone) finds it marked new in the notification centre; the
operator then finds the e-mail it went out as in the delivery log by the address.
Screenshots at 360 and 1280 px go to test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_django.live_server_helper import LiveServer

from abonent.core.models import Supplier
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.identity.models import User
from abonent.identity.roles import SENIOR_OPERATOR
from abonent.notifications.enums import Kind
from abonent.notifications.models import Delivery, Notification
from abonent.reminders.enums import AnnouncementStatus
from abonent.reminders.models import Announcement
from tests.e2e.conftest import DESKTOP, PHONE, icon_left
from tests.factories import account_make
from tests.web.identity import consent_documents_publish

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SUBSCRIBER_PASSWORD = "Зелёный-чайник-42"
OPERATOR_PASSWORD = "старший-оператор-2026"
TITLE = "Плановые работы 25 ноября"
TEXT = "25 ноября с 9:00 до 17:00 в г. Подольске будет приостановлена подача газа: плановые работы на газопроводе."


def _no_horizontal_scroll(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"


def _shot(page: Page, artifacts: Path, name: str, *, scroll: bool = True) -> None:
    if scroll:
        _no_horizontal_scroll(page)
    page.screenshot(path=artifacts / f"{name}.png", full_page=True)


def _watched(context: BrowserContext, problems: list[str]) -> Page:
    page = context.new_page()
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"script: {error}"))
    page.on("requestfailed", lambda request: None if icon_left(request) else problems.append(f"failed: {request.url}"))
    page.on(
        "response",
        lambda response: problems.append(f"{response.status}: {response.url}") if response.status >= 400 else None,
    )
    return page


@pytest.fixture
def portal(live_server: LiveServer, db: None) -> str:
    consent_documents_publish()
    return live_server.url


@pytest.fixture
def account(supplier: Supplier) -> PersonalAccount:
    return account_make(supplier=supplier)  # г. Подольск


@pytest.fixture
def maria(account: PersonalAccount) -> User:
    user = User(
        username="u-maria",
        phone="+79123456789",
        email="maria@example.org",
        first_name="Мария",
        last_name="Иванова",
        is_active=True,
        phone_confirmed_at=timezone.now(),
        email_confirmed_at=timezone.now(),
    )
    user.set_password(SUBSCRIBER_PASSWORD)
    user.save()
    AccountLink.objects.create(
        user=user, account=account, proof="pin", channel="web", linked_at=timezone.now(), is_default=True
    )
    return user


@pytest.fixture
def irina(supplier: Supplier) -> User:
    operator = User(username="irina", is_staff=True, first_name="Ирина", last_name="Лебедева")
    operator.set_password(OPERATOR_PASSWORD)
    operator.save()
    operator.groups.add(Group.objects.get(name=SENIOR_OPERATOR))
    return operator


@pytest.fixture
def subscriber_page(context: BrowserContext, problems: list[str]) -> Page:
    """The subscriber's phone: JavaScript off."""
    return _watched(context, problems)


@pytest.fixture
def operator_page(browser: Browser, problems: list[str]) -> Iterator[Page]:
    context = browser.new_context(locale="ru-RU", timezone_id="Europe/Moscow", viewport=DESKTOP)
    context.set_default_timeout(10_000)
    context.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    try:
        yield _watched(context, problems)
    finally:
        context.close()


def test_an_announcement_reaches_the_notification_centre(
    subscriber_page: Page,
    operator_page: Page,
    problems: list[str],
    portal: str,
    artifacts: Path,
    maria: User,
    irina: User,
    supplier: Supplier,
) -> None:
    # the senior operator writes the announcement and sees whom it reaches
    desk = operator_page
    desk.goto(f"{portal}/backoffice/login/")
    desk.get_by_label("Имя пользователя").fill("irina")
    desk.get_by_label("Пароль").fill(OPERATOR_PASSWORD)
    desk.get_by_role("button", name="Войти").click()
    desk.wait_for_url(f"{portal}/backoffice/")
    desk.wait_for_load_state("load")  # the start page's icons, not cut off by the next goto
    desk.goto(f"{portal}/backoffice/reminders/announcement/")
    expect(desk.get_by_role("heading", level=1)).to_have_text("Объявления")
    desk.get_by_role("link", name="Добавить объявление").click()
    desk.get_by_label("Поставщик").select_option(label=supplier.short_name)
    desk.get_by_label("Населённый пункт").fill("г. Подольск")
    desk.get_by_label("Заголовок").fill(TITLE)
    desk.get_by_label("Текст").fill(TEXT)
    _shot(desk, artifacts, "announcement-journey-form-1280")
    desk.get_by_role("button", name="Сохранить черновик и посмотреть, кому он придёт").click()
    expect(desk.locator(".messagelist")).to_contain_text("Черновик сохранён")
    expect(desk.locator("#announcement-audience")).to_have_text("1")
    _shot(desk, artifacts, "announcement-journey-draft-1280")

    # «Разослать…» asks again, then sends
    desk.get_by_role("link", name="Разослать…").click()
    expect(desk.locator("#announcement-audience")).to_have_text("1")
    _shot(desk, artifacts, "announcement-journey-confirm-1280")
    desk.get_by_role("button", name="Разослать", exact=True).click()
    expect(desk.locator(".messagelist")).to_contain_text("Объявление разослано: уведомлено 1; e-mail 1.")
    expect(desk.locator("#announcement-told")).to_have_text("уведомлено 1; e-mail 1")
    expect(desk.get_by_role("link", name="Разослать…")).to_have_count(0)
    _shot(desk, artifacts, "announcement-journey-sent-1280")
    announcement = Announcement.objects.get()
    assert (announcement.status, announcement.sent_by) == (AnnouncementStatus.SENT, irina)

    # the subscriber finds it, marked new, in the notification centre
    page = subscriber_page
    page.goto(f"{portal}/login/")
    page.get_by_label("Телефон или e\u2011mail").fill("+7 912 345-67-89")
    page.get_by_label("Пароль", exact=True).fill(SUBSCRIBER_PASSWORD)
    page.get_by_role("button", name="Войти", exact=True).click()
    page.wait_for_url(f"{portal}/accounts/**")
    page.wait_for_load_state("load")  # the landing page whole, not cut off by the next goto
    page.goto(f"{portal}/notifications/")
    item = page.locator(".notice-item").filter(has_text=TITLE)
    expect(item).to_have_count(1)
    expect(item.locator(".badge--new")).to_have_text("новое")
    expect(item).to_contain_text(TEXT)
    _shot(page, artifacts, "announcement-journey-centre-360")
    notification = Notification.objects.get(user=maria)
    assert (notification.kind, notification.title) == (Kind.ANNOUNCEMENT, TITLE)

    # the operator finds the e-mail it went out as in the delivery log, by the address
    desk.goto(f"{portal}/backoffice/notifications/delivery/")
    desk.locator("#searchbar").fill("Maria@example.org")
    desk.get_by_role("button", name="Найти").click()
    rows = desk.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("maria@example.org")
    expect(rows).to_contain_text("объявления поставщика")
    _shot(desk, artifacts, "announcement-journey-log-1280")
    desk.set_viewport_size(PHONE)
    desk.reload()
    _shot(desk, artifacts, "announcement-journey-log-360", scroll=False)
    assert Delivery.objects.get().recipient == "maria@example.org"

    assert problems == []
