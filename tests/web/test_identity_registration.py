"""Registration on the portal: the form, the code sent to the phone or e-mail, the first login."""

from __future__ import annotations

import re

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from abonent.identity.enums import ConsentKind
from abonent.identity.models import AuthSession, Consent, ConsentDocument, User
from abonent.notifications.models import OutboxMessage
from tests.web.html import heading_levels, headings_in_order, inline_code
from tests.web.identity import (
    IP,
    NOW,
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


def form(login: str = "8 (912) 345-67-89", **overrides: object) -> dict[str, object]:
    return {
        "login": login,
        "password": PASSWORD,
        "password2": PASSWORD,
        "personal_data_consent": "on",
        **overrides,
    }


def field_error(name: str, text: str) -> str:
    return f'<p class="field__error" id="id_{name}_error"><span class="visually-hidden">Ошибка: </span>{text}</p>'


def assert_nothing_happened() -> None:
    assert User.objects.count() == 0
    assert Consent.objects.count() == 0
    assert OutboxMessage.objects.count() == 0
    assert mail.outbox == []


# --- The form ---------------------------------------------------------------------------------


def test_the_form_shows_both_consents_with_their_full_text_and_version(browser: Browser) -> None:
    response = browser.get("/register/")

    assert response.status_code == 200
    html = response.content.decode()
    assertContains(response, "<title>Регистрация — Абонент</title>", html=True)
    assertContains(
        response,
        '<input type="text" name="login" autocomplete="username" spellcheck="false" autocapitalize="none" '
        'class="field__input" maxlength="254" required aria-describedby="id_login_helptext" id="id_login">',
        html=True,
    )
    assertContains(response, 'name="password" autocomplete="new-password"')
    assertContains(response, 'name="password2" autocomplete="new-password"')
    assertContains(
        response,
        '<input type="checkbox" name="personal_data_consent" required class="checkbox__input" '
        'aria-describedby="id_personal_data_consent_helptext" id="id_personal_data_consent">',
        html=True,
    )
    assertContains(
        response,
        '<input type="checkbox" name="marketing_consent" class="checkbox__input" '
        'aria-describedby="id_marketing_consent_helptext" id="id_marketing_consent">',
        html=True,
    )
    # the whole texts, readable before agreeing, with the version agreed to
    assertContains(response, '<summary class="document__summary">Прочитать текст согласия</summary>', html=True)
    assertContains(response, "Согласие на обработку персональных данных")
    assertContains(response, "После отзыва данные удаляются в течение 30 дней")
    assertContains(response, "Согласие на получение информационных и рекламных сообщений")
    assert html.count("Редакция 2026-11-01") == 2
    assertContains(response, '<form class="form card" method="post" action="/register/" novalidate>')
    assertContains(response, 'name="csrfmiddlewaretoken"')
    assert inline_code(html) == []
    assert headings_in_order(heading_levels(html))
    assert "no-cache" in response["Cache-Control"]


# --- By phone ---------------------------------------------------------------------------------


def test_by_phone_the_code_from_the_sms_confirms_and_logs_in(browser: Browser, clock: Clock) -> None:
    response = browser.post("/register/", form("8 (912) 345-67-89", marketing_consent="on"))

    assertRedirects(response, "/register/confirm/", fetch_redirect_response=False)
    user = User.objects.get()
    assert (user.phone, user.email, user.is_active, user.phone_confirmed_at) == (PHONE, None, False, None)
    assert user.check_password(PASSWORD)
    assert [(c.kind, c.document.version, c.channel, c.ip, c.granted_at) for c in Consent.objects.order_by("kind")] == [
        (ConsentKind.MARKETING, "2026-11-01", "web", IP, NOW),
        (ConsentKind.PERSONAL_DATA, "2026-11-01", "web", IP, NOW),
    ]
    [sms] = sms_bodies(PHONE)
    assert re.fullmatch(
        r"Код для регистрации в личном кабинете: \d{6}\. Никому его не сообщайте\. Код действует 10 минут\.", sms
    )
    assert browser.session["abonent.registration"] == {"login": PHONE, "masked": "+7 912 ***-**-89"}
    assert "_auth_user_id" not in browser.session

    page = browser.get("/register/confirm/")
    assertContains(
        page, '<p class="lead">Мы отправили код на <span class="contact">+7 912 ***-**-89</span></p>', html=True
    )
    assertContains(page, 'autocomplete="one-time-code" inputmode="numeric"')

    clock.advance(minutes=3)
    response = browser.post("/register/confirm/", {"code": code_in(sms)})

    assertRedirects(response, "/home/", fetch_redirect_response=False)
    user.refresh_from_db()
    assert (user.is_active, user.phone_confirmed_at) == (True, clock.at)
    assert browser.session["_auth_user_id"] == str(user.pk)
    assert "abonent.registration" not in browser.session
    session = AuthSession.objects.get()
    assert (session.user, session.session_key, session.remember, session.ip, session.device_name) == (
        user,
        browser.session.session_key,
        False,
        IP,
        "Android",
    )
    assert browser.session["abonent.auth_session_id"] == session.pk
    assert browser.session.get_expire_at_browser_close()
    # no accounts yet: the first page is linking one
    assertRedirects(browser.get("/home/"), "/accounts/link/", fetch_redirect_response=False)
    assertContains(browser.get("/accounts/link/"), "Профиль создан, вы вошли в личный кабинет.")
    assertContains(browser.get("/profile/"), '<span class="nowrap">+7 912 345-67-89</span>', html=True)


def test_by_email_the_code_comes_by_mail(browser: Browser) -> None:
    response = browser.post("/register/", form(" Maria@Example.ORG "))

    assertRedirects(response, "/register/confirm/", fetch_redirect_response=False)
    user = User.objects.get()
    assert (user.phone, user.email, user.is_active) == (None, "Maria@example.org", False)
    [message] = emails_to("Maria@example.org")
    assert message.subject == "Код подтверждения регистрации"
    assert OutboxMessage.objects.count() == 0
    assertContains(
        browser.get("/register/confirm/"), 'Мы отправили код на <span class="contact">Ma***@example.org</span>'
    )

    response = browser.post("/register/confirm/", {"code": code_in(str(message.body))})

    assertRedirects(response, "/home/", fetch_redirect_response=False)
    user.refresh_from_db()
    assert (user.is_active, user.email_confirmed_at) == (True, NOW)
    assert AuthSession.objects.filter(user=user, ended_at__isnull=True).count() == 1


# --- Refused ----------------------------------------------------------------------------------


def test_without_the_personal_data_consent(browser: Browser) -> None:
    data = form()
    del data["personal_data_consent"]

    response = browser.post("/register/", data)

    assert response.status_code == 200
    assertContains(
        response,
        field_error(
            "personal_data_consent", "Чтобы зарегистрироваться, дайте согласие на обработку персональных данных"
        ),
        html=True,
    )
    assertContains(
        response,
        '<input type="checkbox" name="personal_data_consent" required class="checkbox__input" aria-invalid="true" '
        'aria-describedby="id_personal_data_consent_helptext id_personal_data_consent_error" '
        'id="id_personal_data_consent">',
        html=True,
    )
    assertContains(
        response,
        '<a href="#id_personal_data_consent">Чтобы зарегистрироваться, дайте согласие на обработку персональных данных</a>',
        html=True,
    )
    assert_nothing_happened()


def test_the_error_summary_takes_the_focus_and_links_to_the_field(browser: Browser) -> None:
    response = browser.post("/register/", form("123"))

    html = response.content.decode()
    summary = '<div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" autofocus>'
    assert summary in html
    assert html.index(summary) < html.index('<form class="form card"')
    assertContains(
        response,
        '<a href="#id_login">Введите номер мобильного телефона (+7 912 345-67-89) или адрес электронной почты</a>',
        html=True,
    )
    assert headings_in_order(heading_levels(html))


def test_a_bad_phone(browser: Browser) -> None:
    response = browser.post("/register/", form("123"))

    assert response.status_code == 200
    assertContains(
        response,
        field_error("login", "Введите номер мобильного телефона (+7 912 345-67-89) или адрес электронной почты"),
        html=True,
    )
    assertContains(response, 'aria-invalid="true" aria-describedby="id_login_helptext id_login_error" id="id_login"')
    assertContains(response, 'value="123"')
    assertNotContains(response, PASSWORD)  # passwords are not sent back
    assert_nothing_happened()


def test_a_weak_password(browser: Browser) -> None:
    response = browser.post("/register/", form(password="12345678", password2="12345678"))

    assert response.status_code == 200
    hidden = '<span class="visually-hidden">Ошибка: </span>'
    assertContains(
        response,
        f'<p class="field__error" id="id_password_error">'
        f"{hidden}Введённый пароль слишком короткий. Он должен состоять из как минимум 10 символов.<br>"
        f"{hidden}Введённый пароль слишком широко распространён.<br>"
        f"{hidden}Введённый пароль состоит только из цифр.</p>",
        html=True,
    )
    assert_nothing_happened()


def test_passwords_that_do_not_match(browser: Browser) -> None:
    response = browser.post("/register/", form(password2=PASSWORD + "!"))

    assert response.status_code == 200
    assertContains(
        response, field_error("password2", "Пароли не совпадают. Введите один и тот же пароль дважды"), html=True
    )
    assert_nothing_happened()


def test_empty_form_says_what_to_fill_in(browser: Browser) -> None:
    response = browser.post("/register/", {})

    assertContains(response, field_error("login", "Введите номер телефона или адрес e‑mail"), html=True)
    assertContains(response, field_error("password", "Введите пароль"), html=True)
    assertContains(response, field_error("password2", "Введите пароль ещё раз"), html=True)
    assert_nothing_happened()


def test_an_already_registered_phone_gets_the_same_answer_and_its_owner_a_notice(browser: Browser) -> None:
    owner = user_make()

    response = browser.post("/register/", form("+7 912 345-67-89"))

    assertRedirects(response, "/register/confirm/", fetch_redirect_response=False)
    assertContains(
        browser.get("/register/confirm/"), 'Мы отправили код на <span class="contact">+7 912 ***-**-89</span>'
    )
    assert list(User.objects.all()) == [owner]
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)
    assert Consent.objects.count() == 0
    assert sms_bodies(PHONE) == [
        "Кто-то пытается зарегистрироваться в личном кабинете с вашим номером или адресом. "
        "У вас уже есть профиль: войдите или восстановите пароль. Если это были не вы, ничего не делайте."
    ]
    # whatever code is tried, nothing is activated and nobody is logged in
    response = browser.post("/register/confirm/", {"code": "123456"})
    assertContains(response, "Код устарел или уже использован. Запросите новый код")
    assert AuthSession.objects.count() == 0
    assert "_auth_user_id" not in browser.session


def test_registration_while_logged_in_goes_to_the_first_page(browser: Browser) -> None:
    user = user_make()
    browser.client.force_login(user)

    assertRedirects(browser.get("/register/"), "/home/", fetch_redirect_response=False)


# --- The code ---------------------------------------------------------------------------------


def test_a_wrong_code_five_times_and_the_code_is_spent(browser: Browser) -> None:
    browser.post("/register/", form())
    code = last_sms_code(PHONE)

    answers = [browser.post("/register/confirm/", {"code": wrong_code(code)}) for _ in range(4)]
    fifth = browser.post("/register/confirm/", {"code": wrong_code(code)})
    right_too_late = browser.post("/register/confirm/", {"code": code})

    for left, response in zip([4, 3, 2, 1], answers, strict=True):
        assertContains(response, field_error("code", f"Неверный код. Осталось попыток: {left}"), html=True)
    assertContains(fifth, field_error("code", "Слишком много неверных попыток. Запросите новый код"), html=True)
    assertContains(right_too_late, "Слишком много неверных попыток. Запросите новый код")
    assert User.objects.get().is_active is False
    assert AuthSession.objects.count() == 0
    assert "_auth_user_id" not in browser.session


def test_an_expired_code(browser: Browser, clock: Clock) -> None:
    browser.post("/register/", form())
    code = last_sms_code(PHONE)

    clock.advance(minutes=10)
    response = browser.post("/register/confirm/", {"code": code})

    assertContains(response, field_error("code", "Код устарел или уже использован. Запросите новый код"), html=True)
    assert User.objects.get().is_active is False
    assert AuthSession.objects.count() == 0


def test_a_new_code_too_soon_then_after_a_minute(browser: Browser, clock: Clock) -> None:
    browser.post("/register/", form())
    first = last_sms_code(PHONE)

    clock.advance(seconds=18)
    response = browser.post("/register/confirm/resend/")

    assertRedirects(response, "/register/confirm/", fetch_redirect_response=False)
    page = browser.get("/register/confirm/")
    assertContains(
        page,
        '<p class="flash__item flash__item--error" role="alert">Новый код можно запросить через 42 сек.</p>',
        html=True,
    )
    assert len(sms_bodies(PHONE)) == 1

    clock.advance(seconds=42)
    response = browser.post("/register/confirm/resend/")

    assertRedirects(response, "/register/confirm/", fetch_redirect_response=False)
    assertContains(browser.get("/register/confirm/"), "Мы отправили новый код на +7 912 ***-**-89.")
    assert len(sms_bodies(PHONE)) == 2
    second = last_sms_code(PHONE)
    # the first code no longer works; the new one does
    if first != second:
        assertContains(browser.post("/register/confirm/", {"code": first}), "Неверный код. Осталось попыток: 4")
    assertRedirects(browser.post("/register/confirm/", {"code": second}), "/home/", fetch_redirect_response=False)


def test_registering_again_too_soon_is_refused_above_the_form(browser: Browser, clock: Clock) -> None:
    browser.post("/register/", form())
    clock.advance(seconds=30)

    response = browser.post("/register/", form())

    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    assertContains(response, "<li>Новый код можно запросить через 30 сек.</li>", html=True, status_code=429)
    assert User.objects.count() == 1
    assert len(sms_bodies(PHONE)) == 1


def test_the_code_page_without_a_registration_goes_back_to_the_form(browser: Browser) -> None:
    assertRedirects(browser.get("/register/confirm/"), "/register/", fetch_redirect_response=False)
    assertRedirects(browser.post("/register/confirm/", {"code": "123456"}), "/register/", fetch_redirect_response=False)
    assertRedirects(browser.post("/register/confirm/resend/"), "/register/", fetch_redirect_response=False)
    assert Session.objects.count() == 0 or "_auth_user_id" not in browser.session


def test_without_a_published_consent_text_registration_is_closed(browser: Browser) -> None:
    ConsentDocument.objects.all().delete()

    response = browser.get("/register/")

    assert response.status_code == 503
    assertContains(response, "<h1>Регистрация временно недоступна</h1>", html=True, status_code=503)
    assertNotContains(response, "администратор", status_code=503)
    assertNotContains(response, 'name="password"', status_code=503)
