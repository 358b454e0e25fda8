"""The profile: contacts, password, marketing consent, sessions and devices, deletion."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from abonent.identity.enums import AuthChannel, ConsentKind, DeletionStatus
from abonent.identity.models import AuthSession, Consent, ConsentDocument, DeletionRequest, User
from abonent.notifications.models import OutboxMessage
from tests.web.html import heading_levels, headings_in_order, inline_code
from tests.web.identity import (
    IP,
    NEW_PASSWORD,
    NOW,
    PASSWORD,
    PHONE,
    Browser,
    CaptureCallbacks,
    Clock,
    code_in,
    emails_to,
    last_sms_code,
    sms_bodies,
    user_make,
    wrong_code,
)

pytestmark = pytest.mark.django_db

NEW_PHONE = "+79031234567"


def field_error(name: str, text: str) -> str:
    return f'<p class="field__error" id="id_{name}_error"><span class="visually-hidden">Ошибка: </span>{text}</p>'


@pytest.fixture
def me(browser: Browser, maria: User) -> Browser:
    """Maria, logged in on her phone."""
    response = browser.post("/login/", {"login": PHONE, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def consent(user: User, kind: ConsentKind, *, at: dt.datetime = NOW - dt.timedelta(days=2)) -> Consent:
    return Consent.objects.create(
        user=user,
        document=ConsentDocument.objects.get(kind=kind),
        kind=kind,
        granted_at=at,
        channel=AuthChannel.WEB,
        ip=IP,
    )


# --- The page ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/profile/",
        "/profile/phone/",
        "/profile/email/",
        "/profile/password/",
        "/profile/sessions/",
        "/profile/delete/",
    ],
)
def test_every_page_asks_to_log_in_first(browser: Browser, path: str) -> None:
    assertRedirects(browser.get(path), f"/login/?next={path}", fetch_redirect_response=False)


@pytest.mark.parametrize(
    "path",
    ["/profile/marketing/", "/profile/sessions/end-others/", "/profile/sessions/1/end/", "/profile/phone/resend/"],
)
def test_every_action_asks_to_log_in_first(browser: Browser, maria: User, path: str) -> None:
    consent(maria, ConsentKind.MARKETING)

    response = browser.post(path, {"given": "0"})

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
    assert Consent.objects.get().withdrawn_at is None


def test_the_profile_shows_contacts_consents_and_links(me: Browser, maria: User) -> None:
    consent(maria, ConsentKind.PERSONAL_DATA)

    response = me.get("/profile/")

    assert response.status_code == 200
    html = response.content.decode()
    assertContains(response, "<title>Профиль — Абонент</title>", html=True)
    assertContains(response, "<h1>Профиль</h1>", html=True)
    assertContains(
        response,
        '<dd><span class="nowrap">+7 912 345-67-89</span> <span class="badge badge--ok">подтверждён</span></dd>',
        html=True,
    )
    assertContains(response, '<dd><span class="muted">не указан</span></dd>', html=True)
    assertContains(response, '<a class="link-block" href="/profile/email/">Добавить e‑mail</a>', html=True)
    assertContains(response, '<a class="link-block" href="/profile/phone/">Изменить телефон</a>', html=True)
    assertContains(response, '<a class="link-block" href="/profile/password/">Сменить пароль</a>', html=True)
    assertContains(response, '<a class="link-block" href="/profile/sessions/">Сеансы и устройства</a>', html=True)
    assertContains(response, '<h3 class="consent__title">Обработка персональных данных</h3>', html=True)
    assertContains(response, "<dd>20.11.2026 12:00</dd>", html=True)  # 09:00 UTC in Moscow time
    assertContains(response, "<dd>нет, действует</dd>", html=True)
    assertContains(response, "<p>Вы не получаете новости и предложения.</p>", html=True)
    assertContains(response, '<a class="link-block" href="/profile/delete/">Удалить профиль</a>', html=True)
    assert inline_code(html) == []
    assert headings_in_order(heading_levels(html))


# --- Phone and e-mail -------------------------------------------------------------------------


def test_change_the_phone_with_the_code_sent_to_the_new_one(me: Browser, maria: User, clock: Clock) -> None:
    page = me.get("/profile/phone/")
    assertContains(page, '<p class="lead">Сейчас указан <span class="contact">+7 912 345-67-89</span>. Новый будет')
    assertContains(page, 'type="tel" name="phone" autocomplete="tel"')

    response = me.post("/profile/phone/", {"phone": "8 903 123-45-67"})

    assertRedirects(response, "/profile/phone/confirm/", fetch_redirect_response=False)
    assertContains(
        me.get("/profile/phone/confirm/"), 'Мы отправили код на <span class="contact">+7 903 ***-**-67</span>'
    )
    [sms] = sms_bodies(NEW_PHONE)
    assert sms.startswith("Код для смены телефона в личном кабинете: ")
    maria.refresh_from_db()
    assert maria.phone == PHONE

    clock.advance(minutes=1)
    response = me.post("/profile/phone/confirm/", {"code": code_in(sms)})

    assertRedirects(response, "/profile/", fetch_redirect_response=False)
    maria.refresh_from_db()
    assert (maria.phone, maria.phone_confirmed_at) == (NEW_PHONE, clock.at)
    profile = me.get("/profile/")
    assertContains(profile, "Телефон изменён.")
    assertContains(profile, '<span class="nowrap">+7 903 123-45-67</span>', html=True)
    assert "abonent.contact_change.phone" not in me.session


def test_a_bad_new_phone(me: Browser, maria: User) -> None:
    response = me.post("/profile/phone/", {"phone": "123"})

    assertContains(
        response,
        field_error("phone", "Введите номер мобильного телефона России: +7 912 345-67-89 или 8 912 345-67-89"),
        html=True,
    )
    assert OutboxMessage.objects.count() == 0


def test_the_same_phone_again(me: Browser) -> None:
    response = me.post("/profile/phone/", {"phone": "+7 912 345 67 89"})

    assertContains(response, field_error("phone", "Это ваш текущий телефон"), html=True)
    assert OutboxMessage.objects.count() == 0


def test_a_phone_of_another_profile_is_refused_at_the_code(me: Browser, maria: User) -> None:
    user_make(phone=NEW_PHONE)
    me.post("/profile/phone/", {"phone": NEW_PHONE})

    response = me.post("/profile/phone/confirm/", {"code": last_sms_code(NEW_PHONE)})

    assertContains(response, "<li>Этот телефон уже указан в другом профиле</li>", html=True)
    maria.refresh_from_db()
    assert maria.phone == PHONE


def test_a_wrong_code_keeps_the_old_phone(me: Browser, maria: User) -> None:
    me.post("/profile/phone/", {"phone": NEW_PHONE})

    response = me.post("/profile/phone/confirm/", {"code": wrong_code(last_sms_code(NEW_PHONE))})

    assertContains(response, field_error("code", "Неверный код. Осталось попыток: 4"), html=True)
    maria.refresh_from_db()
    assert maria.phone == PHONE


def test_a_new_code_for_the_new_phone(me: Browser, clock: Clock) -> None:
    me.post("/profile/phone/", {"phone": NEW_PHONE})
    clock.advance(minutes=1)

    response = me.post("/profile/phone/resend/")

    assertRedirects(response, "/profile/phone/confirm/", fetch_redirect_response=False)
    assert len(sms_bodies(NEW_PHONE)) == 2
    assertContains(me.get("/profile/phone/confirm/"), "Мы отправили новый код на +7 903 ***-**-67.")


def test_add_an_email_with_the_code_sent_there(me: Browser, maria: User) -> None:
    page = me.get("/profile/email/")
    assertContains(page, 'type="email" name="email" autocomplete="email"')

    response = me.post("/profile/email/", {"email": "Maria@Example.ORG"})

    assertRedirects(response, "/profile/email/confirm/", fetch_redirect_response=False)
    [message] = emails_to("Maria@example.org")
    assert message.subject == "Подтверждение e-mail"

    response = me.post("/profile/email/confirm/", {"code": code_in(str(message.body))})

    assertRedirects(response, "/profile/", fetch_redirect_response=False)
    maria.refresh_from_db()
    assert (maria.email, maria.email_confirmed_at) == ("Maria@example.org", NOW)
    profile = me.get("/profile/")
    assertContains(profile, "Адрес e‑mail изменён.")
    assertContains(
        profile,
        '<dd><span class="break">Maria@example.org</span> <span class="badge badge--ok">подтверждён</span></dd>',
        html=True,
    )


def test_a_bad_email(me: Browser) -> None:
    response = me.post("/profile/email/", {"email": "maria@"})

    assertContains(
        response, field_error("email", "Введите адрес электронной почты полностью, например ivanova@mail.ru"), html=True
    )
    assert mail.outbox == []


def test_the_code_page_without_a_change_goes_back(me: Browser) -> None:
    assertRedirects(me.get("/profile/email/confirm/"), "/profile/email/", fetch_redirect_response=False)


# --- Password ---------------------------------------------------------------------------------


def test_change_the_password_other_sessions_end_this_one_stays(
    me: Browser, other_browser: Browser, maria: User, clock: Clock
) -> None:
    other_browser.post("/login/", {"login": PHONE, "password": PASSWORD})
    mine = AuthSession.objects.get(session_key=me.session.session_key)
    other_key = other_browser.session.session_key
    assertContains(me.get("/profile/password/"), 'name="old_password" autocomplete="current-password"')

    clock.advance(minutes=3)
    response = me.post(
        "/profile/password/",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assertRedirects(response, "/profile/", fetch_redirect_response=False)
    maria.refresh_from_db()
    assert maria.check_password(NEW_PASSWORD)
    profile = me.get("/profile/")
    assert profile.status_code == 200
    assertContains(profile, "Пароль изменён. На других устройствах выполнен выход из кабинета.")
    mine.refresh_from_db()
    assert (mine.ended_at, mine.session_key) == (None, me.session.session_key)
    other = AuthSession.objects.get(session_key=other_key)
    assert (other.ended_at, other.end_reason) == (clock.at, "password_changed")
    assert not Session.objects.filter(session_key=other_key).exists()
    assertRedirects(other_browser.get("/profile/"), "/login/?next=/profile/", fetch_redirect_response=False)
    # the current session is still checked by its rules afterwards
    clock.advance(minutes=31)
    assertRedirects(me.get("/profile/"), "/login/?next=/profile/", fetch_redirect_response=False)


def test_a_wrong_current_password_changes_nothing(me: Browser, other_browser: Browser, maria: User) -> None:
    other_browser.post("/login/", {"login": PHONE, "password": PASSWORD})

    response = me.post(
        "/profile/password/",
        {"old_password": "не тот", "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assertContains(response, field_error("old_password", "Текущий пароль введён неверно"), html=True)
    maria.refresh_from_db()
    assert maria.check_password(PASSWORD)
    assert AuthSession.objects.filter(ended_at__isnull=True).count() == 2
    assert sms_bodies(PHONE) == []


# --- Marketing consent ------------------------------------------------------------------------


def test_withdraw_and_give_the_marketing_consent(me: Browser, maria: User, clock: Clock) -> None:
    given = consent(maria, ConsentKind.MARKETING)
    page = me.get("/profile/")
    assertContains(
        page, "<p>Вы согласились получать от поставщика газа новости и предложения по SMS и e‑mail.</p>", html=True
    )
    assertContains(page, '<input type="hidden" name="given" value="0">', html=True)

    clock.advance(minutes=20)
    response = me.post("/profile/marketing/", {"given": "0"})

    assertRedirects(response, "/profile/#marketing", fetch_redirect_response=False)
    given.refresh_from_db()
    assert (given.withdrawn_at, given.withdrawn_channel) == (clock.at, "web")
    page = me.get("/profile/")
    assertContains(
        page,
        "Вы отказались от новостей и предложений. Уведомления по договору будут приходить как раньше.",
    )
    assertContains(page, "<p>Вы не получаете новости и предложения.</p>", html=True)
    assertContains(page, "<dd>22.11.2026 12:20</dd>", html=True)  # withdrawn, Moscow time

    me.post("/profile/marketing/", {"given": "1"})

    assert Consent.objects.filter(user=maria, kind=ConsentKind.MARKETING, withdrawn_at__isnull=True).count() == 1
    assert Consent.objects.filter(user=maria, kind=ConsentKind.MARKETING).count() == 2


def test_a_broken_marketing_form_changes_nothing(me: Browser, maria: User) -> None:
    consent(maria, ConsentKind.MARKETING)

    me.post("/profile/marketing/", {"given": "maybe"})

    assert Consent.objects.get().withdrawn_at is None


# --- Sessions and devices ---------------------------------------------------------------------


def test_the_list_of_sessions_marks_this_device(me: Browser, other_browser: Browser, clock: Clock) -> None:
    clock.advance(minutes=5)
    other_browser.post("/login/", {"login": PHONE, "password": PASSWORD})
    clock.advance(minutes=2)

    response = me.get("/profile/sessions/")

    html = response.content.decode()
    assertContains(response, "<h1>Сеансы и устройства</h1>", html=True)
    assertContains(
        response,
        '<h2 class="session__title"><span>Android · Chrome</span>'
        '<span class="badge badge--ok">это устройство</span></h2>',
        html=True,
    )
    assertContains(response, '<h2 class="session__title"><span>Windows · Firefox</span></h2>', html=True)
    assertContains(response, "<dd>198.51.100.7</dd>", html=True)
    assertContains(response, "<dd>203.0.113.5</dd>", html=True)
    assertContains(response, "<dd>22.11.2026 12:05</dd>", html=True)  # the other device's login, Moscow time
    assertContains(response, "<dd>22.11.2026 12:07</dd>", html=True)  # this device's last activity
    assert html.count("Завершить сеанс") == 1  # not for this device
    assertContains(response, "Выйти на всех других устройствах")
    assert inline_code(html) == []
    assert headings_in_order(heading_levels(html))
    # the most recently active first
    assert html.index("Android · Chrome") < html.index("Windows · Firefox")


def test_end_one_session(me: Browser, other_browser: Browser, clock: Clock) -> None:
    other_browser.post("/login/", {"login": PHONE, "password": PASSWORD})
    other = AuthSession.objects.get(session_key=other_browser.session.session_key)

    response = me.post(f"/profile/sessions/{other.pk}/end/")

    assertRedirects(response, "/profile/sessions/", fetch_redirect_response=False)
    other.refresh_from_db()
    assert (other.ended_at, other.end_reason) == (NOW, "ended_by_user")
    page = me.get("/profile/sessions/")
    assertContains(page, "Сеанс завершён: на том устройстве нужно будет войти снова.")
    assertNotContains(page, "Windows · Firefox")
    assertRedirects(other_browser.get("/profile/"), "/login/?next=/profile/", fetch_redirect_response=False)


def test_a_session_of_someone_else_cannot_be_ended(me: Browser, clock: Clock) -> None:
    stranger = user_make(phone="+79035550000")
    theirs = AuthSession.objects.create(
        user=stranger,
        kind="web",
        session_key="x" * 32,
        created_at=NOW,
        last_seen_at=NOW,
        expires_at=NOW + dt.timedelta(hours=12),
    )

    response = me.post(f"/profile/sessions/{theirs.pk}/end/")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.ended_at is None


def test_ending_this_very_session_logs_out(me: Browser) -> None:
    mine = AuthSession.objects.get()

    response = me.post(f"/profile/sessions/{mine.pk}/end/")

    assertRedirects(response, "/login/", fetch_redirect_response=False)
    assert "_auth_user_id" not in me.session


def test_end_every_other_session(
    me: Browser, other_browser: Browser, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    tablet = Browser(django_capture_on_commit_callbacks, ip="192.0.2.10", user_agent="Mozilla/5.0 (iPad)")
    other_browser.post("/login/", {"login": PHONE, "password": PASSWORD})
    tablet.post("/login/", {"login": PHONE, "password": PASSWORD})

    response = me.post("/profile/sessions/end-others/")

    assertRedirects(response, "/profile/sessions/", fetch_redirect_response=False)
    assert AuthSession.objects.filter(ended_at__isnull=True).get().session_key == me.session.session_key
    page = me.get("/profile/sessions/")
    assertContains(page, "Завершено сеансов на других устройствах: 2.")
    assertNotContains(page, "Выйти на всех других устройствах")
    assert me.get("/profile/").status_code == 200


# --- Deletion ---------------------------------------------------------------------------------


def test_ask_to_delete_the_profile(me: Browser, maria: User, clock: Clock) -> None:
    page = me.get("/profile/delete/")
    assertContains(page, "Мы рассмотрим заявку в течение 30 дней")
    assertContains(page, "Останется только то, что поставщик газа обязан хранить по закону")

    response = me.post("/profile/delete/", {"reason": "  Переехала  ", "confirm": "on"})

    assertRedirects(response, "/profile/", fetch_redirect_response=False)
    request = DeletionRequest.objects.get()
    assert (request.user, request.status, request.reason, request.due_by, request.contact) == (
        maria,
        DeletionStatus.NEW,
        "Переехала",
        dt.date(2026, 12, 22),
        PHONE,
    )
    profile = me.get("/profile/")
    assertContains(profile, "Заявка на удаление профиля принята. Мы рассмотрим её до 22.12.2026 и сообщим результат.")
    assertContains(profile, '<p class="status-line"><strong>Заявка от 22.11.2026: принята.</strong></p>', html=True)
    assertNotContains(profile, "/profile/delete/")
    assert sms_bodies(PHONE) == [
        "Заявка на удаление профиля принята. Мы рассмотрим её до 22.12.2026 и сообщим результат."
    ]
    # the page now shows the open request instead of the form
    page = me.get("/profile/delete/")
    assertContains(page, "Заявка от 22.11.2026: принята.")
    assertNotContains(page, 'name="confirm"')


def test_a_second_request_is_refused(me: Browser) -> None:
    me.post("/profile/delete/", {"confirm": "on"})

    response = me.post("/profile/delete/", {"confirm": "on"})

    assertContains(response, "<li>Заявка на удаление профиля уже подана и рассматривается</li>", html=True)
    assert DeletionRequest.objects.count() == 1
    assert len(sms_bodies(PHONE)) == 1


def test_without_the_confirmation_nothing_is_asked(me: Browser) -> None:
    response = me.post("/profile/delete/", {"reason": "Переехала"})

    assertContains(response, field_error("confirm", "Отметьте, что вы хотите удалить профиль"), html=True)
    assert DeletionRequest.objects.count() == 0
    assert sms_bodies(PHONE) == []
