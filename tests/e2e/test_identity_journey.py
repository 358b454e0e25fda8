"""A person's whole way through the identity pages in a real browser, with JavaScript off, on a
small phone: register with a phone, read the code in the demo outbox, log out and in, forget
the password and set a new one. Screenshots of every form go to test-artifacts/."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from unittest.mock import patch

import pytest
from django.utils import timezone
from playwright.sync_api import BrowserContext, Locator, Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from abonent.identity.models import User
from tests.e2e.conftest import DESKTOP, PHONE
from tests.web.identity import consent_documents_publish

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Зелёный-чайник-42"
NEW_PASSWORD = "Синий-самовар-1948"
NUMBER = "+7 912 345-67-89"


class MovableClock:
    """The portal's clock: the real one, moved on when a test needs time to pass (a new code
    may be asked for a minute after the last one)."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return timezone.now() + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Iterator[MovableClock]:
    fake = MovableClock()
    with patch("abonent.core.clock.now", fake):
        yield fake


@pytest.fixture
def consent_texts(db: None) -> None:
    consent_documents_publish()


@pytest.fixture
def portal(live_server: LiveServer, settings: Settings, consent_texts: None, clock: MovableClock) -> str:
    settings.DEMO_OUTBOX_PAGE = True
    return live_server.url


def _no_horizontal_scroll(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"


def _too_small_targets(page: Page) -> list[str]:
    """Buttons, inputs, checkbox labels and stand-alone links shorter than 44 px."""
    small = []
    for element in page.locator(
        "main .button, main .field__input, main .checkbox__label, main .link-block, main .document__summary, "
        ".site-nav__link"
    ).all():
        box = element.bounding_box()
        if box is not None and box["height"] < 44:
            small.append(f"{element.inner_text()!r}: {box['height']:.0f} px")
    return small


def _check(page: Page, artifacts: Path, name: str) -> None:
    _no_horizontal_scroll(page)
    assert _too_small_targets(page) == []
    page.screenshot(path=artifacts / f"{name}.png", full_page=True)


def _code_from_outbox(context: BrowserContext, portal: str, phone: str) -> str:
    """Read the newest code sent to ``phone`` on the demo outbox page, as a person would."""
    outbox = context.new_page()
    outbox.goto(portal + "/demo/outbox/")
    outbox.get_by_label("Телефон или e\u2011mail получателя").fill(phone)
    outbox.get_by_role("button", name="Найти").click()
    outbox.wait_for_url(re.compile(r"[?&]to="))  # the filtered list, not the whole outbox before it
    text = outbox.locator(".message__body").first.inner_text()
    outbox.close()
    match = re.search(r"\b(\d{6})\b", text)
    assert match is not None, text
    return match.group(1)


def _nav(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Основное меню")


def _log_out(page: Page) -> None:
    _nav(page).get_by_role("button", name="Выйти").click()
    expect(page.get_by_text("Вы вышли из личного кабинета.")).to_be_visible()


def _log_in(page: Page, password: str) -> None:
    _nav(page).get_by_role("link", name="Войти").click()
    page.get_by_label("Телефон или e\u2011mail").fill(NUMBER)
    page.get_by_label("Пароль", exact=True).fill(password)
    page.get_by_role("button", name="Войти", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Привязка лицевого счёта")  # no account linked yet


def test_register_log_out_and_in_recover_the_password(
    page: Page,
    context: BrowserContext,
    problems: list[str],
    portal: str,
    clock: MovableClock,
    artifacts: Path,
) -> None:
    page.set_viewport_size(PHONE)
    page.goto(portal + "/")

    # Registration
    _nav(page).get_by_role("link", name="Регистрация").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Регистрация")
    _check(page, artifacts, "register-360")
    page.get_by_text("Прочитать текст согласия", exact=True).click()
    expect(page.get_by_text("Цель обработки: регистрация и работа личного кабинета")).to_be_visible()
    _check(page, artifacts, "register-consent-open-360")

    page.get_by_label("Телефон или e\u2011mail").fill(NUMBER)
    page.get_by_label("Придумайте пароль").fill(PASSWORD)
    page.get_by_label("Повторите пароль").fill(PASSWORD + "!")
    page.get_by_role("button", name="Зарегистрироваться").click()

    # a mistake: the summary takes the focus and links to the field
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Пароли не совпадают")
    _check(page, artifacts, "register-errors-360")
    assert User.objects.count() == 0

    page.get_by_label("Придумайте пароль").fill(PASSWORD)
    page.get_by_label("Повторите пароль").fill(PASSWORD)
    page.get_by_label("Я даю согласие на обработку моих персональных данных").check()
    page.get_by_role("button", name="Зарегистрироваться").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Введите код")
    expect(page.get_by_text("Мы отправили код на +7 912 ***-**-89")).to_be_visible()
    _check(page, artifacts, "register-code-360")
    code = page.get_by_label("Код из сообщения")
    expect(code).to_have_attribute("autocomplete", "one-time-code")
    expect(code).to_have_attribute("inputmode", "numeric")
    code.fill(_code_from_outbox(context, portal, NUMBER))
    page.get_by_role("button", name="Подтвердить").click()

    # a new profile has no accounts: the first page is linking one
    expect(page.get_by_role("heading", level=1)).to_have_text("Привязка лицевого счёта")
    expect(page.get_by_text("Профиль создан, вы вошли в личный кабинет.")).to_be_visible()
    page.get_by_role("link", name="Профиль").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Профиль")
    expect(page.get_by_text("+7 912 345-67-89")).to_be_visible()
    _check(page, artifacts, "profile-360")

    # Log out, log in
    _log_out(page)
    expect(_nav(page).get_by_role("link", name="Регистрация")).to_be_visible()
    _nav(page).get_by_role("link", name="Войти").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Вход в личный кабинет")
    _check(page, artifacts, "login-360")
    page.get_by_label("Телефон или e\u2011mail").fill(NUMBER)
    page.get_by_label("Пароль", exact=True).fill("не тот пароль")
    page.get_by_role("button", name="Войти", exact=True).click()
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator(".error-summary")).to_contain_text("Неверный телефон, e-mail или пароль")
    _check(page, artifacts, "login-error-360")
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Войти", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Привязка лицевого счёта")  # no account linked yet
    _log_out(page)

    # Forgot the password: a code by SMS
    clock.advance(minutes=2)  # a new code to the same number is allowed a minute after the last one
    _nav(page).get_by_role("link", name="Войти").click()
    page.get_by_role("link", name="Забыли пароль?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Восстановление пароля")
    _check(page, artifacts, "password-forgot-360")
    page.get_by_label("Телефон или e\u2011mail, с которым вы входите").fill("8 912 345-67-89")
    page.get_by_role("button", name="Продолжить").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Новый пароль")
    expect(page.get_by_text("Если такой профиль есть, мы отправили код на +7 912 ***-**-89.")).to_be_visible()
    _check(page, artifacts, "password-reset-code-360")
    page.get_by_label("Код из сообщения").fill(_code_from_outbox(context, portal, NUMBER))
    page.get_by_label("Новый пароль", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Повторите новый пароль").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Сохранить пароль").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Вход в личный кабинет")
    expect(
        page.get_by_text("Пароль изменён. На всех устройствах, где был открыт кабинет, выполнен выход.")
    ).to_be_visible()
    page.get_by_label("Телефон или e\u2011mail").fill(NUMBER)
    page.get_by_label("Пароль", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Войти", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Привязка лицевого счёта")  # no account linked yet
    _nav(page).get_by_role("link", name="Профиль").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Профиль")

    page.set_viewport_size(DESKTOP)
    _no_horizontal_scroll(page)
    page.screenshot(path=artifacts / "profile-1280.png", full_page=True)
    assert problems == []


@pytest.fixture
def maria(db: None) -> User:
    user = User(username="u-maria", phone="+79123456789", is_active=True, phone_confirmed_at=timezone.now())
    user.set_password(PASSWORD)
    user.save()
    return user


def test_the_profile_forms_on_a_phone(
    page: Page, problems: list[str], portal: str, maria: User, artifacts: Path
) -> None:
    page.set_viewport_size(PHONE)
    page.goto(portal + "/login/")
    page.get_by_label("Телефон или e\u2011mail").fill(NUMBER)
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.get_by_label("Запомнить меня").check()
    page.get_by_role("button", name="Войти", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Привязка лицевого счёта")  # no account linked yet
    _nav(page).get_by_role("link", name="Профиль").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Профиль")

    page.get_by_role("link", name="Изменить телефон").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Смена телефона")
    _check(page, artifacts, "profile-phone-360")
    page.get_by_label("Новый номер мобильного телефона").fill("123")
    page.get_by_role("button", name="Получить код").click()
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.get_by_label("Новый номер мобильного телефона")).to_have_attribute("aria-invalid", "true")
    _check(page, artifacts, "profile-phone-error-360")
    page.get_by_label("Новый номер мобильного телефона").fill("+7 903 123-45-67")
    page.get_by_role("button", name="Получить код").click()
    expect(page.get_by_text("Мы отправили код на +7 903 ***-**-67")).to_be_visible()
    _check(page, artifacts, "profile-phone-code-360")
    page.get_by_role("link", name="Отмена").click()

    page.get_by_role("link", name="Добавить e\u2011mail").click()
    expect(page.get_by_label("E\u2011mail")).to_be_visible()
    _check(page, artifacts, "profile-email-360")
    page.get_by_role("link", name="Отмена").click()

    page.get_by_role("link", name="Сменить пароль").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Смена пароля")
    _check(page, artifacts, "profile-password-360")
    page.get_by_role("link", name="Отмена").click()

    page.get_by_role("link", name="Сеансы и устройства").click()
    expect(page.get_by_text("это устройство")).to_be_visible()
    _check(page, artifacts, "profile-sessions-360")
    page.get_by_role("link", name="Вернуться в профиль").click()

    page.get_by_role("link", name="Удалить профиль").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Удаление профиля")
    _check(page, artifacts, "profile-delete-360")
    page.get_by_label("Да, я хочу удалить профиль в личном кабинете").check()
    page.get_by_role("button", name="Подать заявку на удаление").click()
    expect(page.get_by_text("Заявка на удаление профиля принята.")).to_be_visible()
    _check(page, artifacts, "profile-after-deletion-request-360")

    page.get_by_role("button", name="Получать новости и предложения").click()
    expect(page.get_by_text("Вы согласились получать новости и предложения.")).to_be_visible()

    page.set_viewport_size(DESKTOP)
    _no_horizontal_scroll(page)
    page.screenshot(path=artifacts / "profile-full-1280.png", full_page=True)
    assert problems == []
