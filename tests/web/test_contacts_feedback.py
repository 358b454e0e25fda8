"""The contacts page: every active supplier's hotline, e-mail, office hours and address, and a
message form for guests with no CAPTCHA — a field people do not see (a robot that fills it
in is thanked and nothing is written), the signed time the form was shown (sent within
seconds, days later or with a stamp that is not ours, it is refused) and a few messages an
hour from one address (then 429). Linked from the footer of every page and from the landing
page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from pytest_django.asserts import assertContains, assertRedirects

from abonent.appeals.models import Appeal, Message
from abonent.core.models import Supplier
from abonent.notifications.models import Delivery
from tests.web.appeals_data import field_error, input_tag, text
from tests.web.html import heading_levels, headings_in_order, inline_code
from tests.web.identity import PASSWORD, Browser, Clock

pytestmark = pytest.mark.django_db


def stamp(browser: Browser) -> str:
    """The signed time of a contacts form shown now."""
    html = browser.get("/contacts/").content.decode()
    match = re.search(r'<input type="hidden" name="issued" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def send(browser: Browser, supplier: Supplier, issued: str, **data: Any) -> HttpResponse:
    form = {
        "issued": issued,
        "supplier_id": str(supplier.pk),
        "name": "Пётр Сидоров",
        "contact": "petr@example.org",
        "text": "Когда придёт квитанция за ноябрь?",
        "website": "",
        **data,
    }
    return browser.post("/contacts/", form)


def shown_and_sent(
    browser: Browser, clock: Clock, supplier: Supplier, *, seconds: float = 20, **data: Any
) -> HttpResponse:
    issued = stamp(browser)
    clock.advance(seconds=seconds)
    return send(browser, supplier, issued, **data)


def nothing_written() -> None:
    assert Appeal.objects.count() == 0
    assert Message.objects.count() == 0
    assert Delivery.objects.count() == 0


def top_error(response: HttpResponse) -> str:
    match = re.search(r'<ul class="error-summary__list">\s*<li>(.*?)</li>', response.content.decode(), re.S)
    assert match is not None
    return match.group(1)


# --- The page ---------------------------------------------------------------------------------


def test_the_page_lists_each_suppliers_contacts(
    browser: Browser, supplier: Supplier, supplier_kaliningrad: Supplier
) -> None:
    response = browser.get("/contacts/")

    assert response.status_code == 200
    page = text(response)
    assert (
        'Газпром межрегионгаз Москва ООО "Газпром межрегионгаз Москва" Горячая линия: 8 800 100-00-01 '
        "Электронная почта: info@gaz-msk.example Часы работы: пн–пт 8:00–20:00 московское время "
        "Адрес: 117393, г. Москва, ул. Профсоюзная, д. 3 Сайт: gaz-msk.example"
    ) in page
    assert "Калининградская газовая компания" in page
    html = response.content.decode()
    assert 'href="tel:88001000001"' in html
    assert inline_code(html) == []
    assert headings_in_order(heading_levels(html))


def test_the_form_has_a_trap_people_neither_see_nor_reach(browser: Browser, supplier: Supplier) -> None:
    html = browser.get("/contacts/").content.decode()

    trap = re.search(r'<div class="form-trap" aria-hidden="true">(.*?)</div>', html, re.S)
    assert trap is not None
    field = input_tag(trap.group(1), "website")
    assert 'type="text"' in field
    assert 'tabindex="-1"' in field
    assert 'autocomplete="off"' in field
    assert re.search(r'<input type="hidden" name="issued" value="\d+:[\w-]+"', html)


def test_the_footer_and_the_landing_page_link_the_contacts(client: Client, supplier: Supplier) -> None:
    landing = client.get("/")

    assertContains(landing, '<a href="/contacts/">Контакты поставщиков газа</a>', html=True)
    assertContains(landing, '<a class="link-block" href="/contacts/">Написать поставщику газа с сайта</a>', html=True)
    assertContains(client.get("/login/"), '<a href="/contacts/">Контакты поставщиков газа</a>', html=True)


# --- Sending ----------------------------------------------------------------------------------


def test_a_message_is_sent_and_thanked_for(browser: Browser, clock: Clock, supplier: Supplier) -> None:
    response = shown_and_sent(browser, clock, supplier, contact="8 (916) 123-45-67")

    assertRedirects(response, "/contacts/sent/")
    appeal = Appeal.objects.get()
    assert (appeal.kind, appeal.category, appeal.status, appeal.supplier) == ("feedback", "feedback", "new", supplier)
    assert (appeal.user, appeal.guest_name, appeal.guest_contact) == (None, "Пётр Сидоров", "+79161234567")
    assert (appeal.channel, appeal.notify_channel) == ("web", "sms")
    assert Message.objects.get().text == "Когда придёт квитанция за ноябрь?"
    assert "Спасибо, сообщение отправлено" in text(browser.get("/contacts/sent/"))


def test_a_robot_that_fills_the_trap_is_thanked_and_nothing_is_written(
    browser: Browser, clock: Clock, supplier: Supplier
) -> None:
    response = shown_and_sent(browser, clock, supplier, website="https://spam.example")

    assertRedirects(response, "/contacts/sent/")
    nothing_written()


def test_a_form_sent_within_seconds_is_refused_and_given_a_new_stamp(
    browser: Browser, clock: Clock, supplier: Supplier
) -> None:
    first = stamp(browser)
    clock.advance(seconds=1)

    response = send(browser, supplier, first)

    assert response.status_code == 200
    assert top_error(response) == (
        "Форма отправлена слишком быстро или устарела. Обновите страницу и отправьте сообщение ещё раз."
    )
    nothing_written()
    again = re.search(r'name="issued" value="([^"]+)"', response.content.decode())
    assert again is not None
    assert again.group(1) != first
    assert "Когда придёт квитанция за ноябрь?</textarea>" in response.content.decode()  # kept as typed

    clock.advance(seconds=10)
    assert send(browser, supplier, again.group(1)).status_code == 302
    assert Appeal.objects.count() == 1


@pytest.mark.parametrize(
    "issued",
    ["", "1795683600", "1795683600:forged-signature", "not-a-stamp"],
    ids=["missing", "unsigned", "forged", "garbage"],
)
def test_a_form_without_our_stamp_is_refused(browser: Browser, clock: Clock, supplier: Supplier, issued: str) -> None:
    clock.advance(seconds=30)

    response = send(browser, supplier, issued)

    assert response.status_code == 200
    assert top_error(response).startswith("Форма отправлена слишком быстро или устарела.")
    nothing_written()


def test_a_form_shown_more_than_a_day_ago_is_refused(browser: Browser, clock: Clock, supplier: Supplier) -> None:
    response = shown_and_sent(browser, clock, supplier, seconds=25 * 3600)

    assert top_error(response).startswith("Форма отправлена слишком быстро или устарела.")
    nothing_written()


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"text": "  "}, "text", "Напишите текст сообщения"),
        ({"contact": "где-то"}, "contact", "Укажите e-mail или номер мобильного телефона, чтобы мы могли ответить"),
        ({"name": ""}, "name", "Как к вам обращаться?"),
        ({"supplier_id": "999999"}, "supplier_id", "Выберите поставщика газа из списка"),
    ],
    ids=["empty-text", "bad-contact", "no-name", "unknown-supplier"],
)
def test_a_wrong_message_is_refused_next_to_the_field(
    browser: Browser, clock: Clock, supplier: Supplier, data: dict[str, Any], field: str, error: str
) -> None:
    response = shown_and_sent(browser, clock, supplier, **data)

    assert response.status_code == 200
    assert field_error(response, field) == error
    nothing_written()


def test_a_few_messages_an_hour_from_one_address_then_429(
    browser: Browser, other_browser: Browser, clock: Clock, supplier: Supplier
) -> None:
    for n in range(3):
        assert shown_and_sent(browser, clock, supplier, text=f"Сообщение {n}").status_code == 302

    response = shown_and_sent(browser, clock, supplier, text="Четвёртое")

    assert response.status_code == 429
    assert re.fullmatch(
        r"С этого адреса уже отправлено много сообщений\. Попробуйте через \d+ мин\.", top_error(response)
    )
    assert int(response["Retry-After"]) > 0
    assert "Четвёртое</textarea>" in response.content.decode()
    assert Appeal.objects.count() == 3
    assert Delivery.objects.count() == 0
    # another address is not held back
    assert shown_and_sent(other_browser, clock, supplier, text="С другого адреса").status_code == 302
    assert Appeal.objects.count() == 4


def test_a_signed_in_subscriber_is_pointed_to_the_appeals(browser: Browser, supplier: Supplier, maria: Any) -> None:
    browser.post("/login/", {"login": maria.phone, "password": PASSWORD})

    response = browser.get("/contacts/")

    assert 'href="/appeals/new/">в обращении</a>' in response.content.decode()
