"""Journeys through the guest pages in a real browser, with JavaScript off (the portal works
without it), on a small phone and on a desktop. Screenshots go to test-artifacts/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from abonent.core.models import Supplier
from abonent.notifications.enums import Channel
from abonent.notifications.models import OutboxMessage
from tests.e2e.conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIZES = [pytest.param(PHONE, id="360x740"), pytest.param(DESKTOP, id="1280x800")]


def _name(size: ViewportSize) -> str:
    return f"{size['width']}x{size['height']}"


def _no_horizontal_scroll(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"


def _too_small_targets(page: Page, selector: str) -> list[str]:
    """Controls matched by ``selector`` that are shorter than 44 px (WCAG 2.5.5)."""
    small = []
    for element in page.locator(selector).all():
        box = element.bounding_box()
        assert box is not None, selector
        if box["height"] < 44:
            small.append(f"{element.inner_text()!r}: {box['height']:.0f} px")
    return small


@pytest.mark.parametrize("size", SIZES)
def test_landing_shows_the_suppliers_contacts(
    page: Page,
    problems: list[str],
    live_server: LiveServer,
    supplier: Supplier,
    supplier_kaliningrad: Supplier,
    artifacts: Path,
    size: ViewportSize,
) -> None:
    page.set_viewport_size(size)
    page.goto(live_server.url + "/")

    expect(page).to_have_title("Личный кабинет абонента — Абонент")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", level=1)).to_have_text("Личный кабинет абонента газоснабжения")
    contacts = page.get_by_role("region", name="Контакты поставщиков")
    moscow = contacts.get_by_role("listitem").filter(has_text="Газпром межрегионгаз Москва")
    kaliningrad = contacts.get_by_role("listitem").filter(has_text="Калининградская газовая компания")
    expect(moscow.get_by_role("link", name="8 800 100-00-01")).to_have_attribute("href", "tel:88001000001")
    expect(moscow.get_by_text("московское время")).to_be_visible()
    expect(kaliningrad.get_by_role("link", name="+7 (4012) 60-60-60")).to_have_attribute("href", "tel:+74012606060")
    expect(kaliningrad.get_by_role("link", name="abonent@gaz-kld.example")).to_be_visible()
    expect(kaliningrad.get_by_text("калининградское время (МСК−1)")).to_be_visible()
    expect(
        kaliningrad.get_by_role("link", name="Написать обращение — Калининградская газовая компания")
    ).to_be_visible()

    _no_horizontal_scroll(page)
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "18px"
    assert _too_small_targets(page, ".site-nav__link, .button, .phone, .supplier__contacts dd a") == []
    assert problems == []
    page.screenshot(path=artifacts / f"landing-{_name(size)}.png", full_page=True)


def test_landing_without_suppliers(page: Page, live_server: LiveServer) -> None:
    page.goto(live_server.url + "/")

    expect(page.get_by_text("Контакты поставщиков газа пока не добавлены.")).to_be_visible()
    _no_horizontal_scroll(page)


@pytest.mark.parametrize("size", SIZES)
def test_the_first_tab_reaches_the_skip_link_which_moves_focus_to_main(
    page: Page, live_server: LiveServer, supplier: Supplier, artifacts: Path, size: ViewportSize
) -> None:
    page.set_viewport_size(size)
    page.goto(live_server.url + "/")
    skip = page.get_by_role("link", name="Перейти к основному содержанию")
    expect(skip).not_to_be_in_viewport()

    page.keyboard.press("Tab")

    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.screenshot(path=artifacts / f"skip-link-{_name(size)}.png")

    page.keyboard.press("Enter")

    expect(page.locator("main#main")).to_be_focused()
    page.keyboard.press("Tab")
    # the next stop is the first link inside main: the supplier's phone, not the header again
    expect(page.get_by_role("link", name="8 800 100-00-01")).to_be_focused()
    page.screenshot(path=artifacts / f"focus-in-main-{_name(size)}.png")


def test_focus_is_visible_on_the_navigation(page: Page, live_server: LiveServer, artifacts: Path) -> None:
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # the brand link
    page.keyboard.press("Tab")  # «Главная»

    home = page.get_by_role("navigation", name="Основное меню").get_by_role("link", name="Главная")
    expect(home).to_be_focused()
    style = home.evaluate("e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color]")
    assert style == ["rgb(255, 221, 0)", "rgb(11, 12, 12)"]
    page.screenshot(path=artifacts / "focus-nav-360x740.png")


def _outbox(settings: Settings) -> None:
    settings.DEMO_OUTBOX_PAGE = True
    OutboxMessage.objects.create(
        channel=Channel.SMS,
        recipient="+79161234567",
        body="Код для входа в личный кабинет: 482913. Никому не сообщайте его.",
        created_at=dt.datetime(2026, 11, 22, 9, 5, tzinfo=dt.UTC),
    )
    OutboxMessage.objects.create(
        channel=Channel.EMAIL,
        recipient="ivanova.tatyana.sergeevna.1948@example-long-mail-domain.ru",
        subject="Подтвердите адрес электронной почты",
        body=(
            "Здравствуйте, Татьяна Сергеевна!\n\n"
            "Чтобы подтвердить адрес, введите код 771204 или откройте ссылку:\n"
            "https://abonent.example/confirm/7f3a9c0e5b2d4e8f9a1b3c5d7e9f0a2b4c6d8e0f\n\n"
            "Если вы не регистрировались, просто удалите это письмо."
        ),
        created_at=dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.UTC),
    )


@pytest.mark.parametrize("size", SIZES)
def test_outbox_shows_the_sent_messages(
    page: Page,
    problems: list[str],
    live_server: LiveServer,
    settings: Settings,
    artifacts: Path,
    size: ViewportSize,
) -> None:
    _outbox(settings)
    page.set_viewport_size(size)
    page.goto(live_server.url + "/")
    page.get_by_role("navigation", name="Основное меню").get_by_role("link", name="Исходящие (демо)").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Исходящие сообщения")
    messages = page.locator(".messages > li")
    expect(messages).to_have_count(2)
    expect(messages.nth(0)).to_contain_text("Подтвердите адрес электронной почты")
    expect(messages.nth(0)).to_contain_text("22.11.2026 12:30")
    expect(messages.nth(1)).to_contain_text("Код для входа в личный кабинет: 482913.")
    expect(messages.nth(1)).to_contain_text("22.11.2026 12:05")
    _no_horizontal_scroll(page)
    assert _too_small_targets(page, ".site-nav__link, .button, .field__input") == []
    page.screenshot(path=artifacts / f"outbox-{_name(size)}.png", full_page=True)

    page.get_by_label("Телефон или e\u2011mail получателя").fill("8 916 123-45-67")
    page.get_by_role("button", name="Найти").click()

    expect(page).to_have_url(live_server.url + "/demo/outbox/?to=8+916+123-45-67")
    expect(page.get_by_role("heading", level=2)).to_have_text("Сообщения для +79161234567")
    expect(messages).to_have_count(1)
    expect(messages.nth(0)).to_contain_text("482913")
    expect(page.get_by_role("link", name="Показать все сообщения")).to_be_visible()
    assert _too_small_targets(page, ".filter a, .site-footer a") == []
    assert problems == []
    page.screenshot(path=artifacts / f"outbox-filtered-{_name(size)}.png", full_page=True)


def test_outbox_empty(page: Page, live_server: LiveServer, settings: Settings, artifacts: Path) -> None:
    settings.DEMO_OUTBOX_PAGE = True
    page.goto(live_server.url + "/demo/outbox/")

    expect(page.get_by_text("Сообщений пока нет.")).to_be_visible()
    page.screenshot(path=artifacts / "outbox-empty-360x740.png", full_page=True)


@pytest.mark.parametrize("size", SIZES)
def test_error_page(page: Page, live_server: LiveServer, artifacts: Path, size: ViewportSize) -> None:
    page.set_viewport_size(size)
    response = page.goto(live_server.url + "/no-such-page/")

    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Страница не найдена")
    _no_horizontal_scroll(page)
    page.screenshot(path=artifacts / f"error-404-{_name(size)}.png", full_page=True)

    page.get_by_role("link", name="На главную").click()

    expect(page).to_have_url(live_server.url + "/")
