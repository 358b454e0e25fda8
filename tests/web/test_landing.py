from __future__ import annotations

import pytest
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains
from pytest_django.fixtures import Settings

from abonent.core.models import Supplier
from tests.web.html import heading_levels, headings_in_order

pytestmark = pytest.mark.django_db


def test_lists_each_active_supplier_with_its_contacts(
    client: Client, supplier: Supplier, supplier_kaliningrad: Supplier
) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assertContains(response, '<h2 id="contacts-title">Контакты поставщиков</h2>', html=True)
    # Moscow
    assertContains(
        response, '<h3 id="supplier-gaz-msk" class="supplier__name">Газпром межрегионгаз Москва</h3>', html=True
    )
    assertContains(response, '<p class="supplier__legal">ООО &quot;Газпром межрегионгаз Москва&quot;</p>', html=True)
    assertContains(response, '<a class="phone" href="tel:88001000001">8 800 100-00-01</a>', html=True)
    assertContains(response, '<a href="mailto:info@gaz-msk.example">info@gaz-msk.example</a>', html=True)
    assertContains(response, '<a href="https://gaz-msk.example">gaz-msk.example</a>', html=True)
    assertContains(
        response,
        '<a class="button" href="https://gaz-msk.example/feedback">Написать обращение'
        '<span class="visually-hidden"> — Газпром межрегионгаз Москва</span></a>',
        html=True,
    )
    assertContains(response, 'пн–пт 8:00–20:00<br><span class="supplier__tz">московское время</span>', html=True)
    # Kaliningrad: the phone's href keeps the + and drops the brackets, spaces and dashes
    assertContains(response, '<a class="phone" href="tel:+74012606060">+7 (4012) 60-60-60</a>', html=True)
    assertContains(response, '<a href="mailto:abonent@gaz-kld.example">abonent@gaz-kld.example</a>', html=True)
    assertContains(response, '<a href="https://www.gaz-kld.example/">gaz-kld.example</a>', html=True)
    assertContains(
        response,
        'пн–пт 9:00–18:00, сб 9:00–14:00<br><span class="supplier__tz">калининградское время (МСК−1)</span>',
        html=True,
    )
    # in the order of suppliers_active(): by short name
    html = response.content.decode()
    assert html.index("Газпром межрегионгаз Москва") < html.index("Калининградская газовая компания")
    assertNotContains(response, "Контакты поставщиков газа пока не добавлены")


def test_leaves_out_inactive_suppliers(client: Client, supplier: Supplier, supplier_kaliningrad: Supplier) -> None:
    Supplier.objects.filter(pk=supplier_kaliningrad.pk).update(is_active=False)

    response = client.get("/")

    assertContains(response, "tel:88001000001", count=1)
    assertNotContains(response, "Калининградская газовая компания")
    assertNotContains(response, "tel:+74012606060")


def test_a_supplier_without_office_hours_site_and_feedback_page_shows_its_time_zone(
    client: Client, supplier_kaliningrad: Supplier
) -> None:
    Supplier.objects.filter(pk=supplier_kaliningrad.pk).update(office_hours="", site="", feedback_url="")

    response = client.get("/")

    assertContains(
        response,
        '<div class="supplier__row"><dt>Часовой пояс</dt>'
        '<dd><span class="supplier__tz">калининградское время (МСК−1)</span></dd></div>',
        html=True,
    )
    assertNotContains(response, "supplier__actions")
    assertNotContains(response, "<dt>Сайт</dt>", html=True)


def test_without_suppliers_shows_a_friendly_message(client: Client) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assertContains(
        response,
        '<p class="empty">Контакты поставщиков газа пока не добавлены. '
        "Телефон горячей линии вашего поставщика указан в квитанции за газ.</p>",
        html=True,
    )
    assertNotContains(response, 'class="suppliers"')
    assertNotContains(response, "tel:")


def test_tells_what_the_service_does(client: Client) -> None:
    response = client.get("/")

    for title in [
        "Узнать баланс и начисления",
        "Передать показания счётчика",
        "Оплатить без комиссии",
        "Оплатить по QR\u2011коду",
        "Скачать квитанцию",
        "Написать обращение или подать заявку",
    ]:
        assertContains(response, f"<h3>{title}</h3>", html=True)
    assertContains(response, "через Систему быстрых платежей (СБП)")
    assertContains(response, "(ЕПД) за любой месяц в формате PDF")


def test_layout_has_language_landmarks_skip_link_and_ordered_headings(client: Client, supplier: Supplier) -> None:
    response = client.get("/")
    html = response.content.decode()

    assert '<html lang="ru">' in html
    assert html.index('<a class="skip-link" href="#main">') < html.index("<header")
    assertContains(response, '<main id="main" class="site-main" tabindex="-1">')
    assertContains(response, '<nav class="site-nav" aria-label="Основное меню">')
    assertContains(response, "<footer")
    assertContains(response, '<a href="/contacts/">Контакты поставщиков газа</a>', html=True)
    assertContains(response, "Оплата в личном кабинете\u00a0— без комиссии.")
    assert heading_levels(html) == [1, 2, 3, 3, 3, 3, 3, 3, 2, 2, 3]
    assert headings_in_order(heading_levels(html))


def test_navigation_shows_the_outbox_only_in_the_demo(client: Client, settings: Settings) -> None:
    settings.DEMO_OUTBOX_PAGE = True
    assertContains(
        client.get("/"),
        '<a class="site-nav__link" href="/" aria-current="page">Главная</a>',
        html=True,
    )
    assertContains(client.get("/"), '<a class="site-nav__link" href="/demo/outbox/">Исходящие (демо)</a>', html=True)

    settings.DEMO_OUTBOX_PAGE = False
    assertNotContains(client.get("/"), "/demo/outbox/")


def test_navigation_links_the_back_office_for_staff_only(client: Client, admin_client: Client) -> None:
    link = '<a class="site-nav__link" href="/backoffice/">Бэк-офис</a>'

    assertNotContains(client.get("/"), "/backoffice/")
    assertContains(admin_client.get("/"), link, html=True)
