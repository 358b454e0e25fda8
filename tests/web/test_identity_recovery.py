"""Password recovery: a code by SMS for a phone, a single-use link by e-mail for an address."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from unittest.mock import patch

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.sessions.models import Session
from django.core import mail
from pytest_django.asserts import assertContains, assertRedirects

from abonent.identity.models import AuthSession, User
from abonent.notifications.models import OutboxMessage
from tests.web.identity import (
    EMAIL,
    NEW_PASSWORD,
    PASSWORD,
    PHONE,
    Browser,
    Clock,
    code_in,
    emails_to,
    last_sms_code,
    sms_bodies,
    user_make,
    wrong_code,
)

pytestmark = pytest.mark.django_db

SAME_ANSWER_PHONE = (
    '<p class="lead">Если такой профиль есть, мы отправили код на <span class="contact">+7 912 ***-**-89</span>.</p>'
)
PASSWORD_CHANGED_SMS = (
    "Пароль от личного кабинета изменён. Если это были не вы, восстановите пароль и обратитесь к поставщику."
)


def new_password(**extra: str) -> dict[str, str]:
    return {"new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD, **extra}


def field_error(name: str, text: str) -> str:
    return f'<p class="field__error" id="id_{name}_error"><span class="visually-hidden">Ошибка: </span>{text}</p>'


def can_log_in(browser: Browser, password: str, login: str = PHONE) -> bool:
    response = browser.post("/login/", {"login": login, "password": password})
    if response.status_code == 302:
        browser.post("/logout/")
        return True
    return False


# --- By SMS code ------------------------------------------------------------------------------


def test_by_sms_code_every_session_ends_and_the_new_password_works(
    browser: Browser, other_browser: Browser, maria: User, clock: Clock
) -> None:
    other_browser.post("/login/", {"login": PHONE, "password": PASSWORD})
    other_key = other_browser.session.session_key
    assert browser.get("/password/forgot/").status_code == 200

    response = browser.post("/password/forgot/", {"login": "8 912 345-67-89"})

    assertRedirects(response, "/password/reset/code/", fetch_redirect_response=False)
    page = browser.get("/password/reset/code/")
    assertContains(page, SAME_ANSWER_PHONE, html=True)
    assertContains(page, 'autocomplete="one-time-code" inputmode="numeric"')
    assertContains(page, 'name="new_password" autocomplete="new-password"')
    [sms] = sms_bodies(PHONE)
    assert re.fullmatch(
        r"Код для восстановления пароля: \d{6}\. Никому его не сообщайте\. Код действует 10 минут\.", sms
    )

    clock.advance(minutes=2)
    response = browser.post("/password/reset/code/", new_password(code=code_in(sms)))

    assertRedirects(response, "/login/", fetch_redirect_response=False)
    maria.refresh_from_db()
    assert maria.check_password(NEW_PASSWORD)
    assert sms_bodies(PHONE) == [sms, PASSWORD_CHANGED_SMS]
    ended = AuthSession.objects.get(session_key=other_key)
    assert (ended.ended_at, ended.end_reason) == (clock.at, "password_changed")
    assert not Session.objects.filter(session_key=other_key).exists()
    assertRedirects(other_browser.get("/profile/"), "/login/?next=/profile/", fetch_redirect_response=False)
    assertContains(
        browser.get("/login/"),
        "Пароль изменён. На всех устройствах, где был открыт кабинет, выполнен выход. Войдите с новым паролем.",
    )
    assert "abonent.password_reset" not in browser.session
    assert can_log_in(browser, NEW_PASSWORD)
    assert not can_log_in(browser, PASSWORD)


def test_an_unknown_phone_gets_the_same_answer_and_no_sms(browser: Browser) -> None:
    response = browser.post("/password/forgot/", {"login": "+7 912 345-67-89"})

    assertRedirects(response, "/password/reset/code/", fetch_redirect_response=False)
    assertContains(browser.get("/password/reset/code/"), SAME_ANSWER_PHONE, html=True)
    assert OutboxMessage.objects.count() == 0
    response = browser.post("/password/reset/code/", new_password(code="123456"))
    assertContains(response, field_error("code", "Код устарел или уже использован. Запросите новый код"), html=True)


def test_a_wrong_code_changes_nothing(browser: Browser, maria: User) -> None:
    browser.post("/password/forgot/", {"login": PHONE})
    code = last_sms_code(PHONE)

    response = browser.post("/password/reset/code/", new_password(code=wrong_code(code)))

    assertContains(response, field_error("code", "Неверный код. Осталось попыток: 4"), html=True)
    maria.refresh_from_db()
    assert maria.check_password(PASSWORD)
    assert len(sms_bodies(PHONE)) == 1


def test_a_weak_new_password_is_refused_and_the_code_still_works(browser: Browser, maria: User) -> None:
    browser.post("/password/forgot/", {"login": PHONE})
    code = last_sms_code(PHONE)

    response = browser.post(
        "/password/reset/code/", {"code": code, "new_password": "qwerty", "new_password2": "qwerty"}
    )

    assertContains(response, 'id="id_new_password_error"')
    assertContains(response, "Введённый пароль слишком короткий.")
    maria.refresh_from_db()
    assert maria.check_password(PASSWORD)
    assertRedirects(
        browser.post("/password/reset/code/", new_password(code=code)), "/login/", fetch_redirect_response=False
    )


def test_new_passwords_that_do_not_match(browser: Browser, maria: User) -> None:
    browser.post("/password/forgot/", {"login": PHONE})

    response = browser.post(
        "/password/reset/code/", new_password(code=last_sms_code(PHONE), new_password2=NEW_PASSWORD + "1")
    )

    assertContains(
        response, field_error("new_password2", "Пароли не совпадают. Введите один и тот же пароль дважды"), html=True
    )
    maria.refresh_from_db()
    assert maria.check_password(PASSWORD)


def test_a_new_code_too_soon(browser: Browser, maria: User, clock: Clock) -> None:
    browser.post("/password/forgot/", {"login": PHONE})
    clock.advance(seconds=50)

    assertRedirects(
        browser.post("/password/reset/code/resend/"), "/password/reset/code/", fetch_redirect_response=False
    )

    assertContains(browser.get("/password/reset/code/"), "Новый код можно запросить через 10 сек.")
    assert len(sms_bodies(PHONE)) == 1
    clock.advance(seconds=10)
    browser.post("/password/reset/code/resend/")
    assertContains(browser.get("/password/reset/code/"), "Если такой профиль есть, мы отправили новый код на")
    assert len(sms_bodies(PHONE)) == 2


def test_asking_again_too_soon_from_the_first_form(browser: Browser, maria: User, clock: Clock) -> None:
    browser.post("/password/forgot/", {"login": PHONE})
    clock.advance(seconds=1)

    response = browser.post("/password/forgot/", {"login": PHONE})

    assert response.status_code == 429
    assertContains(response, "<li>Новый код можно запросить через 59 сек.</li>", html=True, status_code=429)


def test_the_code_page_without_a_request_goes_back_to_the_form(browser: Browser) -> None:
    assertRedirects(browser.get("/password/reset/code/"), "/password/forgot/", fetch_redirect_response=False)
    assertRedirects(browser.post("/password/reset/code/resend/"), "/password/forgot/", fetch_redirect_response=False)


# --- By e-mail link ---------------------------------------------------------------------------


def reset_link(address: str = EMAIL) -> str:
    [message] = emails_to(address)
    match = re.search(r"http://testserver(/password/reset/[^/\s]+/[^/\s]+/)", str(message.body))
    assert match is not None, message.body
    return match.group(1)


def test_by_email_link_once(browser: Browser, other_browser: Browser, clock: Clock) -> None:
    user = user_make(phone=None, email=EMAIL)
    other_browser.post("/login/", {"login": EMAIL, "password": PASSWORD})

    response = browser.post("/password/forgot/", {"login": "Maria@Example.org"})

    assertRedirects(response, "/password/forgot/sent/", fetch_redirect_response=False)
    assertContains(
        browser.get("/password/forgot/sent/"),
        '<p class="lead">Если такой профиль есть, мы отправили письмо со ссылкой на '
        '<span class="contact">Ma***@example.org</span>.</p>',
        html=True,
    )
    [message] = mail.outbox
    assert message.subject == "Восстановление пароля"
    link = reset_link("Maria@example.org")
    page = browser.get(link)
    assert page.status_code == 200
    assertContains(page, "<h1>Новый пароль</h1>", html=True)
    assertContains(page, f'<form class="form card" method="post" action="{link}" novalidate>')

    clock.advance(minutes=30)
    response = browser.post(link, new_password())

    assertRedirects(response, "/login/", fetch_redirect_response=False)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert AuthSession.objects.get().end_reason == "password_changed"
    assertRedirects(other_browser.get("/profile/"), "/login/?next=/profile/", fetch_redirect_response=False)
    # the link works once
    again = browser.get(link)
    assertContains(again, "<h1>Ссылка устарела</h1>", html=True)
    assertContains(again, '<a class="button" href="/password/forgot/">Запросить новую ссылку</a>', html=True)
    browser.post(link, {"new_password": PASSWORD, "new_password2": PASSWORD})
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert can_log_in(browser, NEW_PASSWORD, login=EMAIL)


def test_an_unknown_address_gets_the_same_answer_and_no_mail(browser: Browser) -> None:
    response = browser.post("/password/forgot/", {"login": EMAIL})

    assertRedirects(response, "/password/forgot/sent/", fetch_redirect_response=False)
    assertContains(browser.get("/password/forgot/sent/"), '<span class="contact">ma***@example.org</span>')
    assert mail.outbox == []


@pytest.mark.parametrize("link", ["/password/reset/MQ/bad-token/", "/password/reset/!!!/x/"])
def test_a_broken_link(browser: Browser, link: str) -> None:
    user_make(phone=None, email=EMAIL)

    response = browser.get(link)

    assert response.status_code == 200
    assertContains(response, "<h1>Ссылка устарела</h1>", html=True)


def _later(minutes: int) -> Any:
    """Django's reset tokens read the real clock: move it on."""
    real = PasswordResetTokenGenerator._now
    return patch.object(PasswordResetTokenGenerator, "_now", lambda self: real(self) + dt.timedelta(minutes=minutes))


def test_the_link_works_within_the_hour(browser: Browser, clock: Clock) -> None:
    user_make(phone=None, email=EMAIL)
    browser.post("/password/forgot/", {"login": EMAIL})
    link = reset_link()

    clock.advance(minutes=59)
    with _later(59):
        response = browser.post(link, new_password())

    assertRedirects(response, "/login/", fetch_redirect_response=False)


def test_the_link_expires_after_an_hour(browser: Browser, clock: Clock) -> None:
    user = user_make(phone=None, email=EMAIL)
    browser.post("/password/forgot/", {"login": EMAIL})
    link = reset_link()

    clock.advance(minutes=61)
    with _later(61):
        page = browser.get(link)
        browser.post(link, new_password())

    assertContains(page, "<h1>Ссылка устарела</h1>", html=True)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
