"""Login, logout and the rules of a portal session (12 hours, 30 minutes idle, ended elsewhere)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.http import HttpResponse
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects
from pytest_django.fixtures import Settings

from abonent.identity.models import AuthSession, User
from abonent.notifications.models import OutboxMessage
from tests.web.html import inline_code
from tests.web.identity import EMAIL, IP, NOW, PASSWORD, PHONE, Browser, Clock, sms_bodies, user_make

pytestmark = pytest.mark.django_db

WRONG = '<ul class="error-summary__list"><li>Неверный телефон, e-mail или пароль</li></ul>'
WRONG_EN = '<ul class="error-summary__list"><li>Wrong phone number, email or password</li></ul>'


def log_in(browser: Browser, login: str = "8 912 345-67-89", password: str = PASSWORD, **extra: str) -> HttpResponse:
    return browser.post("/login/", {"login": login, "password": password, **extra})


def logged_in(browser: Browser) -> bool:
    return "_auth_user_id" in browser.session


def test_the_form(browser: Browser) -> None:
    response = browser.get("/login/")

    assert response.status_code == 200
    assertContains(response, "<h1>Вход в личный кабинет</h1>", html=True)
    assertContains(response, 'name="login" autocomplete="username"')
    assertContains(response, 'name="password" autocomplete="current-password"')
    assertContains(
        response,
        '<label class="checkbox__label" for="id_remember">Запомнить меня</label>',
        html=True,
    )
    assertContains(response, '<a class="link-block" href="/password/forgot/">Забыли пароль?</a>', html=True)
    assertNotContains(response, "Госуслуги")
    assert inline_code(response.content.decode()) == []


def test_the_gosuslugi_button_is_there_when_esia_is_on(browser: Browser, settings: Settings) -> None:
    settings.ESIA_ENABLED = True

    response = browser.get("/login/")

    assertContains(
        response,
        '<a class="button button--secondary button--wide" href="/auth/esia/start/">Войти через Госуслуги</a>',
        html=True,
    )


def test_by_phone_written_any_way(browser: Browser, maria: User, clock: Clock) -> None:
    response = log_in(browser, "8 (912) 345-67-89")

    assertRedirects(response, "/home/", fetch_redirect_response=False)
    assert browser.session["_auth_user_id"] == str(maria.pk)
    session = AuthSession.objects.get()
    assert (session.user, session.session_key, session.remember, session.ip, session.created_at) == (
        maria,
        browser.session.session_key,
        False,
        IP,
        NOW,
    )
    profile = browser.get("/profile/")
    assertContains(profile, "<h1>Профиль</h1>", html=True)
    assertContains(
        profile,
        '<button class="site-nav__link site-nav__button" type="submit">Выйти</button>',
        html=True,
    )
    assertContains(profile, '<a class="site-nav__link" href="/profile/" aria-current="page">Профиль</a>', html=True)
    assertNotContains(profile, '<a class="site-nav__link" href="/login/">Войти</a>', html=True)


def test_by_email(browser: Browser) -> None:
    user_make(phone=None, email=EMAIL)

    assertRedirects(log_in(browser, "Maria@Example.org"), "/home/", fetch_redirect_response=False)


def test_the_session_key_changes_at_login(browser: Browser, maria: User) -> None:
    browser.get("/login/")
    browser.client.session.save()
    before = browser.client.cookies.get(django_settings.SESSION_COOKIE_NAME)

    log_in(browser)

    after = browser.client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert before is None or before.value != after


def test_it_goes_back_to_the_page_that_asked_for_login(browser: Browser, maria: User) -> None:
    assertRedirects(browser.get("/profile/sessions/"), "/login/?next=/profile/sessions/", fetch_redirect_response=False)
    page = browser.get("/login/?next=/profile/sessions/")
    assertContains(page, '<input type="hidden" name="next" value="/profile/sessions/">', html=True)

    response = log_in(browser, next="/profile/sessions/")

    assertRedirects(response, "/profile/sessions/", fetch_redirect_response=False)


def test_it_never_goes_to_another_site(browser: Browser, maria: User) -> None:
    response = log_in(browser, next="https://evil.example/")

    assertRedirects(response, "/home/", fetch_redirect_response=False)


def test_a_wrong_password_and_an_unknown_login_get_the_same_answer_above_the_form(
    browser: Browser, maria: User
) -> None:
    wrong = log_in(browser, password="не тот пароль")
    unknown = log_in(browser, login="+7 999 000-00-00")

    for response in (wrong, unknown):
        assert response.status_code == 200
        assertContains(response, WRONG, html=True)
        # not tied to a field: neither the login nor the password is marked wrong
        assertNotContains(response, 'aria-invalid="true"')
        assertNotContains(response, 'class="field__error"')
    assert not logged_in(browser)
    assert AuthSession.objects.count() == 0


def test_a_login_that_is_neither_phone_nor_email(browser: Browser) -> None:
    response = log_in(browser, login="Мария")

    assertContains(
        response,
        '<p class="field__error" id="id_login_error"><span class="visually-hidden">Ошибка: </span>'
        "Введите номер мобильного телефона (+7 912 345-67-89) или адрес электронной почты</p>",
        html=True,
    )


def test_five_wrong_tries_from_one_address_then_wait(browser: Browser, other_browser: Browser, maria: User) -> None:
    for _ in range(5):
        assertContains(log_in(browser, password="не тот пароль"), WRONG, html=True)

    response = log_in(browser)  # even the right password waits now

    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assertContains(
        response,
        '<ul class="error-summary__list"><li>Слишком много попыток. Повторите через 15 мин.</li></ul>',
        html=True,
        status_code=429,
    )
    assert not logged_in(browser)
    assert AuthSession.objects.count() == 0
    # another address is not held back
    assertRedirects(log_in(other_browser), "/home/", fetch_redirect_response=False)


def test_a_profile_never_confirmed_gets_a_way_to_finish_registration(browser: Browser, clock: Clock) -> None:
    User.objects.filter(pk=user_make().pk).update(is_active=False, phone_confirmed_at=None)

    response = log_in(browser)

    assertContains(
        response,
        '<p class="field__error" id="id_login_error"><span class="visually-hidden">Ошибка: </span>'
        "Профиль ещё не подтверждён: введите код, который мы отправили при регистрации</p>",
        html=True,
    )
    assertContains(response, '<input type="hidden" name="login" value="8 912 345-67-89">', html=True)
    assertContains(response, 'action="/register/confirm/resend/"')
    assert not logged_in(browser)
    assert OutboxMessage.objects.count() == 0

    response = browser.post("/register/confirm/resend/", {"login": "8 912 345-67-89"})

    assertRedirects(response, "/register/confirm/", fetch_redirect_response=False)
    assert len(sms_bodies(PHONE)) == 1
    assertContains(browser.get("/register/confirm/"), "Мы отправили новый код на +7 912 ***-**-89.")


# --- Remember me and the session's limits ----------------------------------------------------


def test_without_remember_me_the_cookie_ends_with_the_browser(browser: Browser, maria: User) -> None:
    response = log_in(browser)

    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == ""
    assert cookie["expires"] == ""
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert AuthSession.objects.get().remember is False


def test_with_remember_me_the_cookie_lasts_12_hours(browser: Browser, maria: User) -> None:
    response = log_in(browser, remember="on")

    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == 12 * 60 * 60
    assert AuthSession.objects.get().remember is True


def test_idle_for_31_minutes_logs_out(browser: Browser, maria: User, clock: Clock) -> None:
    log_in(browser)
    clock.advance(minutes=29)
    assert browser.get("/profile/").status_code == 200  # activity moves the idle limit on

    clock.advance(minutes=31)
    response = browser.get("/profile/")

    assertRedirects(response, "/login/?next=/profile/", fetch_redirect_response=False)
    assert not logged_in(browser)
    session = AuthSession.objects.get()
    assert (session.ended_at, session.end_reason) == (clock.at, "expired")
    assertContains(
        browser.get("/login/"),
        "Сеанс завершён: вы долго не пользовались кабинетом или вышли на другом устройстве. Войдите снова.",
    )


def test_remember_me_is_not_logged_out_when_idle_but_is_after_12_hours(
    browser: Browser, maria: User, clock: Clock
) -> None:
    log_in(browser, remember="on")

    clock.advance(hours=11, minutes=59)
    assert browser.get("/profile/").status_code == 200

    clock.advance(minutes=1)
    assertRedirects(browser.get("/profile/"), "/login/?next=/profile/", fetch_redirect_response=False)
    assert not logged_in(browser)
    assert AuthSession.objects.get().end_reason == "expired"


def test_12_hours_is_the_limit_however_active(browser: Browser, maria: User, clock: Clock) -> None:
    log_in(browser)
    for _ in range(24):  # 11 h 36 min, never idle for 30 minutes
        clock.advance(minutes=29)
        assert browser.get("/profile/").status_code == 200, clock.at

    clock.advance(minutes=24)  # 12 hours after login, 24 minutes after the last page
    response = browser.get("/profile/")

    assertRedirects(response, "/login/?next=/profile/", fetch_redirect_response=False)
    assert not logged_in(browser)
    assert AuthSession.objects.get().ended_at == NOW + dt.timedelta(hours=12)


def test_a_session_ended_from_another_device_is_logged_out(
    browser: Browser, other_browser: Browser, maria: User
) -> None:
    log_in(browser)
    log_in(other_browser)
    mine = AuthSession.objects.get(session_key=browser.session.session_key)

    response = other_browser.post(f"/profile/sessions/{mine.pk}/end/")

    assertRedirects(response, "/profile/sessions/", fetch_redirect_response=False)
    assertRedirects(browser.get("/profile/"), "/login/?next=/profile/", fetch_redirect_response=False)
    assert other_browser.get("/profile/").status_code == 200


def test_back_office_staff_logged_in_through_the_admin_are_left_alone(clock: Clock) -> None:
    staff = user_make(phone=None, email="operator@gaz.example", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)

    clock.advance(hours=13)
    response = client.get("/profile/")

    assert response.status_code == 200
    assert AuthSession.objects.count() == 0


# --- Logout -----------------------------------------------------------------------------------


def test_logout_is_a_post_that_ends_the_session(browser: Browser, maria: User, clock: Clock) -> None:
    log_in(browser)
    key = browser.session.session_key
    clock.advance(minutes=5)

    assert browser.get("/logout/").status_code == 405
    assert logged_in(browser)

    response = browser.post("/logout/")

    assertRedirects(response, "/", fetch_redirect_response=False)
    assert not logged_in(browser)
    assert not Session.objects.filter(session_key=key).exists()
    session = AuthSession.objects.get()
    assert (session.ended_at, session.end_reason) == (clock.at, "logout")
    landing = browser.get("/")
    assertContains(landing, "Вы вышли из личного кабинета.")
    assertContains(landing, '<a class="site-nav__link" href="/login/">Войти</a>', html=True)
    assertContains(landing, '<a class="site-nav__link" href="/register/">Регистрация</a>', html=True)


def test_a_form_without_the_csrf_token_is_refused(maria: User) -> None:
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR=IP)

    response = client.post("/login/", {"login": PHONE, "password": PASSWORD})

    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    assert AuthSession.objects.count() == 0
    maria.refresh_from_db()
    assert maria.last_login is None


def test_with_the_csrf_token_it_goes_through(maria: User, clock: Clock) -> None:
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR=IP)
    client.get("/login/")
    token = client.cookies[django_settings.CSRF_COOKIE_NAME].value

    response = client.post("/login/", {"login": PHONE, "password": PASSWORD, "csrfmiddlewaretoken": token})

    assertRedirects(response, "/home/", fetch_redirect_response=False)


def test_the_login_page_in_english(browser: Browser) -> None:
    response = browser.get("/login/", HTTP_ACCEPT_LANGUAGE="en")

    assertContains(response, "<h1>Sign in to the portal</h1>", html=True)
    assertContains(response, '<label class="field__label" for="id_login">Phone number or email</label>', html=True)
    assertContains(response, '<a class="site-nav__link" href="/register/">Register</a>', html=True)


def test_a_wrong_password_is_explained_in_english(browser: Browser, maria: User) -> None:
    response = browser.post(
        "/login/", {"login": "8 912 345-67-89", "password": "не тот пароль"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    assertContains(response, WRONG_EN, html=True)
    assert not logged_in(browser)
