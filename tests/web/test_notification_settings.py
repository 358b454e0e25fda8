"""The notification settings on the portal: a checkbox for each kind of message and channel,
the notices that cannot be switched off shown ticked and disabled, the channels that cannot
reach the subscriber explained; saving sends every checkbox as a browser does and the domain
takes the whole choice or none of it; the language of the messages.

Every refused request says what is wrong and changes nothing: no preference, no language."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from typing import Any

import pytest
from django.http import HttpResponse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from abonent.identity.models import User
from abonent.notifications.models import Preference, PushDevice
from tests.web.appeals_data import text
from tests.web.html import heading_levels, headings_in_order, inline_code
from tests.web.identity import EMAIL, NOW, PASSWORD, PHONE, Browser, user_make

pytestmark = pytest.mark.django_db

PAGE = "/profile/notifications/"
KINDS = [
    "readings_open", "readings_last_day", "bill_ready", "payment_due", "debt", "debt_notice", "meter_verification",
    "contract_ending", "appeal_update", "payment_confirmed", "announcement", "safety_notice",
]  # fmt: skip


def log_in(browser: Browser, login: str = PHONE) -> Browser:
    response = browser.post("/login/", {"login": login, "password": PASSWORD})
    assert response.status_code == 302
    return browser


@pytest.fixture
def me(browser: Browser, maria: User) -> Browser:
    """Мария: her phone confirmed, no e-mail, no device with the app."""
    return log_in(browser)


class _FormReader(HTMLParser):
    """What a browser sends with the form posted to ``action``, and the state of each checkbox."""

    def __init__(self, action: str) -> None:
        super().__init__(convert_charrefs=True)
        self.action = action
        self.inside = False
        self.data: list[tuple[str, str]] = []
        self.boxes: dict[str, str] = {}  # name → "on", "off", "on, disabled"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.inside = values.get("action") == self.action
        if not self.inside or tag != "input":
            return
        name, kind = values.get("name") or "", values.get("type")
        if kind == "checkbox":
            checked, disabled = "checked" in values, "disabled" in values
            self.boxes[name] = ("on" if checked else "off") + (", disabled" if disabled else "")
            if checked and not disabled:
                self.data.append((name, values.get("value") or "on"))
        elif kind == "hidden" or (kind == "radio" and "checked" in values):
            self.data.append((name, values.get("value") or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def read_form(response: HttpResponse, action: str = PAGE) -> _FormReader:
    reader = _FormReader(action)
    reader.feed(response.content.decode())
    return reader


def sent(response: HttpResponse, *, tick: tuple[str, ...] = (), untick: tuple[str, ...] = ()) -> dict[str, Any]:
    """The page's form as the browser sends it after the person ticks and unticks these boxes."""
    data: dict[str, Any] = {}
    for name, value in read_form(response).data:
        data.setdefault(name, []).append(value)
    for name in tick:
        data[name] = ["on"]
    for name in untick:
        data.pop(name)
    return data


def stored() -> list[tuple[int, str, str, bool]]:
    return sorted(Preference.objects.values_list("user_id", "kind", "channel", "enabled"))


def error_next_to(response: HttpResponse, name: str) -> str:
    html = response.content.decode()
    match = re.search(rf'<p class="field__error" id="id_{re.escape(name)}_error">(.*?)</p>', html, re.S)
    assert match is not None, f"no error next to {name}"
    shown = re.sub(r'<span class="visually-hidden">.*?</span>', "", match.group(1))
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", shown))).strip()


def summary(response: HttpResponse) -> list[str]:
    html = response.content.decode()
    match = re.search(r'<ul class="error-summary__list">(.*?)</ul>', html, re.S)
    assert match is not None, "no error summary"
    items = re.findall(r"<li>(.*?)</li>", match.group(1), re.S)
    return [re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", item))).strip() for item in items]


# --- The page ------------------------------------------------------------------------------------


def test_the_matrix_shows_each_kind_by_each_channel_with_the_defaults(me: Browser) -> None:
    response = me.get(PAGE)

    assert response.status_code == 200
    boxes = read_form(response).boxes
    assert len(boxes) == 47  # 12 kinds × 4 channels, but payment confirmations go out by no SMS
    assert {name: boxes[name] for name in boxes if name.startswith(("bill_ready.", "payment_confirmed."))} == {
        "bill_ready.portal": "on",
        "bill_ready.push": "on",
        "bill_ready.email": "on",
        "bill_ready.sms": "off",
        "payment_confirmed.portal": "on",
        "payment_confirmed.push": "on",
        "payment_confirmed.email": "on",
    }
    assert {name: boxes[name] for name in boxes if name.startswith(("debt_notice.", "safety_notice."))} == {
        "debt_notice.portal": "on, disabled",
        "debt_notice.push": "on",
        "debt_notice.email": "on, disabled",
        "debt_notice.sms": "on, disabled",
        "safety_notice.portal": "on, disabled",
        "safety_notice.push": "on, disabled",
        "safety_notice.email": "on, disabled",
        "safety_notice.sms": "on, disabled",
    }
    page = text(response)
    assert (
        "Уведомление о задолженности за два периода Нельзя отключить: обязательное уведомление "
        "(в личном кабинете, e-mail, SMS)."
    ) in page
    assert "Важные сообщения о безопасности Нельзя отключить: обязательное уведомление." in page
    html = response.content.decode()
    assert [re.sub(r"<[^>]+>", "", m) for m in re.findall(r'<span class="prefs__kind-name">(.*?)</span>', html)] == [
        "Открылся приём показаний", "Последний день приёма показаний", "Новая квитанция",
        "Приближается срок оплаты", "Задолженность", "Уведомление о задолженности за два периода",
        "Срок поверки счётчика", "Окончание договора", "Ответы на обращения", "Оплата зачислена",
        "Объявления поставщика", "Важные сообщения о безопасности",
    ]  # fmt: skip
    # each checkbox is named for a reader, its kind and channel, and whether it can be switched off
    assert re.search(
        r'<label class="prefs__item" for="id_debt_notice\.email">\s*<input[^>]*>\s*<span class="prefs__what">\s*'
        r'<span class="prefs__channel">E-mail <span class="prefs__off">не подключено</span></span>\s*'
        r'<span class="visually-hidden"> — уведомление о задолженности за два периода</span>\s*'
        r'<span class="prefs__lock">обязательно</span>',
        html,
    )
    assert "SMS: не отправляется" in page
    assert inline_code(html) == []
    assert headings_in_order(heading_levels(html))


def test_channels_that_cannot_reach_the_subscriber_say_how_to_connect_them(me: Browser) -> None:
    response = me.get(PAGE)

    page = text(response)
    assert "В личном кабинете: Всегда: в разделе «Уведомления» после входа." in page
    assert (
        "Push-уведомление: не подключено Установите мобильное приложение и войдите в него — "
        "тогда push-уведомления будут приходить на телефон."
    ) in page
    assert "E-mail: не подключено Нет подтверждённого e‑mail. Добавьте e‑mail в профиле" in page
    assert "SMS: На +7 912 345-67-89 ." in page
    assertContains(response, 'На <span class="nowrap">+7 912 345-67-89</span>.')
    assertContains(response, '<a href="/profile/email/">Добавьте e‑mail в профиле</a>', html=True)
    # in the two columns' headers, and beside each of their checkboxes (on a phone the headers are hidden)
    assert response.content.decode().count('<span class="prefs__off">не подключено</span>') == 2 + 2 * 12


def test_with_every_channel_connected_nothing_is_marked_missing(browser: Browser) -> None:
    user = user_make(email=EMAIL)
    PushDevice.objects.create(user=user, platform="fcm", token="token-1", created_at=NOW, last_seen_at=NOW)
    log_in(browser)

    response = browser.get(PAGE)

    page = text(response)
    assert "Push-уведомление: На телефоны и планшеты, где установлено мобильное приложение и выполнен вход." in page
    assert f"E-mail: На {EMAIL}." in page
    assert "не подключено" not in page


def test_the_profile_leads_to_the_settings_and_the_centre(me: Browser) -> None:
    response = me.get("/profile/")

    assertContains(response, f'<a class="link-block" href="{PAGE}">Настройки уведомлений</a>', html=True)
    assertContains(response, '<a class="link-block" href="/notifications/">Все уведомления</a>', html=True)
    assert "Язык сообщений: Русский." in text(response)


# --- Saving ------------------------------------------------------------------------------------


def test_saving_stores_what_differs_from_the_defaults(me: Browser, maria: User) -> None:
    page = me.get(PAGE)

    response = me.post(
        PAGE,
        sent(page, tick=("bill_ready.sms", "debt.sms"), untick=("readings_open.push", "announcement.email")),
    )

    assertRedirects(response, PAGE, fetch_redirect_response=False)
    assert stored() == [
        (maria.pk, "announcement", "email", False),
        (maria.pk, "bill_ready", "sms", True),
        (maria.pk, "debt", "sms", True),
        (maria.pk, "readings_open", "push", False),
    ]
    again = me.get(PAGE)
    assertContains(
        again,
        '<p class="flash__item flash__item--success" role="status">Настройки уведомлений сохранены.</p>',
        html=True,
    )
    boxes = read_form(again).boxes
    assert [boxes["bill_ready.sms"], boxes["debt.sms"], boxes["readings_open.push"], boxes["announcement.email"]] == [
        "on", "on", "off", "off",
    ]  # fmt: skip


def test_saving_the_page_as_it_is_stores_nothing_and_back_to_a_default_forgets_the_choice(
    me: Browser, maria: User
) -> None:
    me.post(PAGE, sent(me.get(PAGE)))
    assert stored() == []

    me.post(PAGE, sent(me.get(PAGE), tick=("bill_ready.sms",)))
    me.post(PAGE, sent(me.get(PAGE), untick=("bill_ready.sms",)))

    assert stored() == []


def test_a_channel_not_connected_can_be_chosen_for_later(me: Browser, maria: User) -> None:
    response = me.post(PAGE, sent(me.get(PAGE), untick=("bill_ready.email",), tick=("bill_ready.push",)))

    assertRedirects(response, PAGE, fetch_redirect_response=False)
    assert stored() == [(maria.pk, "bill_ready", "email", False)]


# --- Refused ------------------------------------------------------------------------------------


@pytest.fixture
def chosen(me: Browser, maria: User) -> list[tuple[int, str, str, bool]]:
    """Мария's choice so far: SMS about a new bill."""
    me.post(PAGE, sent(me.get(PAGE), tick=("bill_ready.sms",)))
    before = stored()
    assert before == [(maria.pk, "bill_ready", "sms", True)]
    return before


def test_switching_off_a_notice_that_cannot_be_switched_off_is_refused(
    me: Browser, chosen: list[tuple[int, str, str, bool]]
) -> None:
    page = me.get(PAGE)

    response = me.post(PAGE, sent(page, untick=("debt_notice.email", "bill_ready.sms"), tick=("debt.sms",)))

    assert response.status_code == 200
    assert error_next_to(response, "debt_notice.email") == (
        "«уведомление о задолженности за два периода» (e-mail) нельзя отключить: это уведомление обязательно"
    )
    assert summary(response) == [
        "«уведомление о задолженности за два периода» (e-mail) нельзя отключить: это уведомление обязательно"
    ]
    assert stored() == chosen  # neither the SMS about a bill switched off nor the one about a debt on
    boxes = read_form(response).boxes
    assert boxes["debt_notice.email"] == "on, disabled"  # shown as it stays
    assert [boxes["bill_ready.sms"], boxes["debt.sms"]] == ["off", "on"]  # the rest as sent, to send again
    assertNotContains(response, "Настройки уведомлений сохранены.")


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("nonsense.email", "Такого вида сообщений нет: nonsense"),
        ("bill_by_email.email", "Такого вида сообщений нет: bill_by_email"),
        ("bill_ready.fax", "«новая квитанция» не отправляется каналом fax"),
        ("payment_confirmed.sms", "«оплата зачислена» не отправляется каналом sms"),
    ],
)
def test_a_pair_the_page_does_not_have_is_refused(
    me: Browser, chosen: list[tuple[int, str, str, bool]], name: str, error: str
) -> None:
    response = me.post(PAGE, {**sent(me.get(PAGE), tick=("debt.sms",)), name: "on"})

    assert response.status_code == 200
    assert summary(response) == [error]
    assert stored() == chosen


def test_the_page_answers_only_its_methods(me: Browser, chosen: list[tuple[int, str, str, bool]]) -> None:
    assert me.client.put(PAGE).status_code == 405
    assert me.get("/profile/notifications/language/").status_code == 405
    assert stored() == chosen


# --- The language of the messages -------------------------------------------------------------


def test_the_language_of_the_messages_is_chosen(me: Browser, maria: User) -> None:
    page = me.get(PAGE)
    assert read_form(page, "/profile/notifications/language/").data[-1] == ("language", "ru")
    assertContains(page, '<label class="choice__label" for="id_language_1" lang="en">English</label>', html=True)

    response = me.post("/profile/notifications/language/", {"language": "en"})

    assertRedirects(response, f"{PAGE}#language", fetch_redirect_response=False)
    maria.refresh_from_db()
    assert maria.language == "en"
    again = me.get(PAGE)
    assertContains(
        again,
        '<p class="flash__item flash__item--success" role="status">Сообщения будут приходить на языке: English.</p>',
        html=True,
    )
    assert read_form(again, "/profile/notifications/language/").data[-1] == ("language", "en")
    assert "Язык сообщений: English." in text(me.get("/profile/"))


@pytest.mark.parametrize(
    ("value", "error"),
    [("de", "Выберите язык сообщений: Русский, English"), ("", "Выберите язык сообщений")],
)
def test_a_language_we_do_not_have_is_refused(me: Browser, maria: User, value: str, error: str) -> None:
    response = me.post("/profile/notifications/language/", {"language": value})

    assert response.status_code == 200
    assert error_next_to(response, "language") == error
    maria.refresh_from_db()
    assert maria.language == "ru"
    assert stored() == []


def test_the_language_of_another_profile_is_left_alone(me: Browser, maria: User) -> None:
    other = user_make(phone="+79165550000")

    me.post("/profile/notifications/language/", {"language": "en"})

    other.refresh_from_db()
    assert other.language == "ru"
