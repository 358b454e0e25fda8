from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains
from pytest_django.fixtures import Settings

from abonent.notifications.enums import Channel
from abonent.notifications.models import OutboxMessage
from abonent.web.views import outbox_recipient

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def _message(recipient: str, body: str, at: dt.datetime, *, channel: str = Channel.SMS, subject: str = "") -> None:
    OutboxMessage.objects.create(channel=channel, recipient=recipient, subject=subject, body=body, created_at=at)


@pytest.fixture
def messages() -> None:
    _message("+79161234567", "Код для входа: 1111", dt.datetime(2026, 11, 22, 9, 5, tzinfo=UTC))
    _message(
        "ivanova@example.ru",
        "Здравствуйте!\nВаш код: 2222",
        dt.datetime(2026, 11, 22, 21, 30, tzinfo=UTC),
        channel=Channel.EMAIL,
        subject="Подтверждение адреса",
    )
    _message("+79161234567", "Код для входа: 3333", dt.datetime(2026, 11, 22, 10, 0, tzinfo=UTC))


@pytest.fixture(autouse=True)
def _demo(settings: Settings) -> None:
    settings.DEMO_OUTBOX_PAGE = True


def _bodies(html: str) -> list[str]:
    bodies = []
    start = 0
    while (start := html.find('<pre class="message__body">', start)) != -1:
        start += len('<pre class="message__body">')
        bodies.append(html[start : html.index("</pre>", start)])
    return bodies


def test_lists_the_messages_newest_first_in_moscow_time(client: Client, messages: None) -> None:
    response = client.get("/demo/outbox/")

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    assert _bodies(response.content.decode()) == [
        "Здравствуйте!\nВаш код: 2222",
        "Код для входа: 3333",
        "Код для входа: 1111",
    ]
    # 21:30 UTC on 22.11 is 00:30 on 23.11 in Moscow
    assertContains(response, '<time datetime="2026-11-23T00:30:00+03:00">23.11.2026 00:30</time>', html=True)
    assertContains(response, '<time datetime="2026-11-22T12:05:00+03:00">22.11.2026 12:05</time>', html=True)
    assertContains(response, '<span class="badge badge--email">e-mail</span>', count=1, html=True)
    assertContains(response, '<span class="message__to">ivanova@example.ru</span>', count=1, html=True)
    assertContains(
        response,
        '<p class="message__subject"><span class="muted">Тема:</span> Подтверждение адреса</p>',
        html=True,
    )
    assertContains(response, '<span class="badge badge--sms">SMS</span>', count=2, html=True)
    assertContains(response, "SMS и письма никуда не отправляются, а сохраняются здесь.")
    assertContains(
        response, '<label class="field__label" for="outbox-to">Телефон или e\u2011mail получателя</label>', html=True
    )


def test_shows_at_most_the_latest_50(client: Client) -> None:
    start = dt.datetime(2026, 11, 1, tzinfo=UTC)
    for n in range(55):
        _message("+79161234567", f"Сообщение {n}", start + dt.timedelta(minutes=n))

    bodies = _bodies(client.get("/demo/outbox/").content.decode())

    assert bodies == [f"Сообщение {n}" for n in range(54, 4, -1)]


def test_filters_by_recipient(client: Client, messages: None) -> None:
    response = client.get("/demo/outbox/", {"to": "+79161234567"})

    assert _bodies(response.content.decode()) == ["Код для входа: 3333", "Код для входа: 1111"]
    assertContains(response, '<h2 id="outbox-list-title">Сообщения для +79161234567</h2>', html=True)
    assertContains(response, 'value="+79161234567"')
    assertContains(response, '<a class="link-block" href="/demo/outbox/">Показать все сообщения</a>', html=True)


def test_finds_a_phone_written_the_usual_way(client: Client, messages: None) -> None:
    response = client.get("/demo/outbox/", {"to": " 8 (916) 123-45-67 "})

    assert _bodies(response.content.decode()) == ["Код для входа: 3333", "Код для входа: 1111"]


def test_filters_by_e_mail(client: Client, messages: None) -> None:
    response = client.get("/demo/outbox/", {"to": "ivanova@example.ru"})

    assert _bodies(response.content.decode()) == ["Здравствуйте!\nВаш код: 2222"]


def test_nothing_for_the_recipient(client: Client, messages: None) -> None:
    response = client.get("/demo/outbox/", {"to": "+79990000000"})

    assert _bodies(response.content.decode()) == []
    assertContains(
        response,
        '<p class="empty">Для +79990000000 сообщений нет. '
        "Проверьте, как записан номер или адрес: телефон\u00a0— в формате +79161234567.</p>",
        html=True,
    )


def test_empty_outbox(client: Client) -> None:
    response = client.get("/demo/outbox/")

    assert response.status_code == 200
    assertContains(
        response,
        '<p class="empty">Сообщений пока нет. Они появятся здесь, когда кабинет отправит SMS или письмо'
        "\u00a0— например, код при регистрации.</p>",
        html=True,
    )
    assertNotContains(response, 'class="messages"')


def test_the_body_is_escaped(client: Client) -> None:
    _message("+79161234567", "<b>код</b> & <script>alert(1)</script>", dt.datetime(2026, 11, 22, tzinfo=UTC))

    response = client.get("/demo/outbox/")

    assertContains(response, "&lt;b&gt;код&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;")
    assertNotContains(response, "<script>alert(1)</script>")


def test_is_404_when_the_demo_page_is_off(client: Client, settings: Settings, messages: None) -> None:
    settings.DEMO_OUTBOX_PAGE = False

    response = client.get("/demo/outbox/")

    assert response.status_code == 404
    assertNotContains(response, "Код для входа", status_code=404)


def test_only_get(client: Client) -> None:
    assert client.post("/demo/outbox/").status_code == 405


@pytest.mark.parametrize(
    ("typed", "looked_up"),
    [
        ("", None),
        ("   ", None),
        ("+79161234567", "+79161234567"),
        ("+7 916 123-45-67", "+79161234567"),
        ("8 (916) 123-45-67", "+79161234567"),
        ("79161234567", "+79161234567"),
        ("9161234567", "+79161234567"),
        ("+44 20 7946 0958", "+442079460958"),
        (" Ivanova@Example.ru ", "Ivanova@Example.ru"),
    ],
)
def test_outbox_recipient(typed: str, looked_up: str | None) -> None:
    assert outbox_recipient(typed) == looked_up
