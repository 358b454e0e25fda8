"""The notification centre on the portal: the user's own messages, newest first, a page at a
time; the unread ones marked «новое» on the page that shows them and read from then on; the
menu's count of unread ones; «Отметить все прочитанными»; a link to the account a message is
about only while the user is linked to it.

NOW is Sunday 22.11.2026, 09:00 UTC: 12:00 in Moscow, 11:00 in Kaliningrad."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from abonent.core.models import LinkProof, Supplier
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.identity.models import User
from abonent.notifications.enums import Kind
from abonent.notifications.models import Notification
from abonent.notifications.services import Recipient, notify
from tests.factories import account_make
from tests.web.appeals_data import text
from tests.web.html import heading_levels, headings_in_order, inline_code
from tests.web.identity import NOW, PASSWORD, PHONE, Browser, user_make

pytestmark = pytest.mark.django_db

STRANGER_PHONE = "+79165550000"
MENU = '<a class="site-nav__link" href="/notifications/">Уведомления</a>'
MENU_CURRENT = '<a class="site-nav__link" href="/notifications/" aria-current="page">Уведомления</a>'


def menu_with(count: int, *, current: bool = False) -> str:
    attrs = ' aria-current="page"' if current else ""
    return (
        f'<a class="site-nav__link" href="/notifications/"{attrs}>Уведомления <span class="nav-count">{count}'
        '<span class="visually-hidden"> непрочитанных</span></span></a>'
    )


def log_in(browser: Browser, phone: str = PHONE) -> Browser:
    response = browser.post("/login/", {"login": phone, "password": PASSWORD})
    assert response.status_code == 302
    return browser


@pytest.fixture
def me(browser: Browser, maria: User) -> Browser:
    return log_in(browser)


@pytest.fixture
def stranger(db: None) -> User:
    return user_make(phone=STRANGER_PHONE)


def notice_make(
    user: User,
    *,
    title: str = "Открыт приём показаний",
    body: str = "Передайте показания до 25.11.2026.",
    supplier: Supplier | None = None,
    account: PersonalAccount | None = None,
    at: dt.datetime = NOW - dt.timedelta(hours=1),
    read_at: dt.datetime | None = None,
    kind: str = Kind.READINGS_OPEN,
    occasion: str = "",
) -> Notification:
    return Notification.objects.create(
        user=user,
        supplier=supplier,
        account_id=account.pk if account else None,
        kind=kind,
        occasion=occasion or f"test:{Notification.objects.count() + 1}:{title}",
        title=title,
        body=body,
        created_at=at,
        read_at=read_at,
    )


def link_make(user: User, account: PersonalAccount, name: str = "") -> AccountLink:
    return AccountLink.objects.create(
        user=user, account=account, proof=LinkProof.PIN, channel="web", linked_at=NOW - dt.timedelta(days=1), name=name
    )


def read_marks(user: User) -> dict[str, dt.datetime | None]:
    return dict(Notification.objects.filter(user=user).values_list("title", "read_at"))


def items_shown(html: str) -> list[str]:
    """The titles on the page, in order, each with «новое» before it when it is marked so."""
    found = re.findall(r'<h2 class="notice-item__title">(.*?)</h2>', html, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", item)).strip() for item in found]


# --- The list ----------------------------------------------------------------------------------


def test_the_centre_shows_the_messages_newest_first_with_the_unread_ones_marked(
    me: Browser, maria: User, supplier: Supplier, supplier_kaliningrad: Supplier
) -> None:
    notice_make(maria, title="Квитанция за октябрь", supplier=supplier, at=NOW - dt.timedelta(days=3),
                read_at=NOW - dt.timedelta(days=2))  # fmt: skip
    notice_make(maria, title="Скоро срок оплаты", supplier=supplier_kaliningrad, at=NOW - dt.timedelta(days=1),
                body="К оплате: 1 234,56 ₽ до 15.12.2026.\nОплатить без комиссии: https://lk.example/")  # fmt: skip
    notice_make(maria, title="Плановые работы", supplier=None, at=NOW - dt.timedelta(minutes=30),
                body="Отключение газа <b>24.11</b> с 10:00 до 14:00.", kind=Kind.ANNOUNCEMENT)  # fmt: skip

    response = me.get("/notifications/")

    assert response.status_code == 200
    html = response.content.decode()
    assert items_shown(html) == ["новое Плановые работы", "новое Скоро срок оплаты", "Квитанция за октябрь"]
    page = text(response)
    # the supplier's own time: 11:00 in Kaliningrad is 12:00 in Moscow; a message of no supplier in Moscow time
    assert "новое Скоро срок оплаты 21.11.2026 11:00 · Калининградская газовая компания К оплате: 1 234,56 ₽" in page
    assert "Плановые работы 22.11.2026 11:30 Отключение газа <b>24.11</b> с 10:00 до 14:00." in page
    assert "Квитанция за октябрь 19.11.2026 12:00 · Газпром межрегионгаз Москва Передайте показания" in page
    # the line breaks kept, an address a link, the text never taken for markup
    assert (
        '<div class="notice-item__body">К оплате: 1 234,56 ₽ до 15.12.2026.<br>Оплатить без комиссии: '
        '<a href="https://lk.example/" rel="nofollow">https://lk.example/</a></div>'
    ) in html
    assert "&lt;b&gt;24.11&lt;/b&gt;" in html
    assert html.count('class="card notice-item notice-item--unread"') == 2
    assert '<time datetime="2026-11-21T11:00:00+02:00">21.11.2026 11:00</time>' in html
    assertNotContains(response, "Показать ещё")
    assert inline_code(html) == []
    assert headings_in_order(heading_levels(html))


def test_looking_at_the_page_reads_the_messages_it_shows(me: Browser, maria: User, clock: Any) -> None:
    earlier = NOW - dt.timedelta(days=2)
    notice_make(maria, title="Прочитано раньше", at=NOW - dt.timedelta(days=3), read_at=earlier)
    notice_make(maria, title="Новое сообщение")

    first = me.get("/notifications/")

    assert items_shown(first.content.decode()) == ["новое Новое сообщение", "Прочитано раньше"]
    assert read_marks(maria) == {"Прочитано раньше": earlier, "Новое сообщение": NOW}
    clock.advance(minutes=5)
    again = me.get("/notifications/")
    assert items_shown(again.content.decode()) == ["Новое сообщение", "Прочитано раньше"]
    assert read_marks(maria) == {"Прочитано раньше": earlier, "Новое сообщение": NOW}  # read once


def test_a_message_links_its_account_only_while_the_user_is_linked_to_it(
    me: Browser, maria: User, stranger: User, supplier: Supplier
) -> None:
    home = account_make(supplier=supplier)
    link_make(maria, home, name="Дом")
    dacha = account_make(supplier=supplier, number="770000000002")
    link_make(maria, dacha)
    theirs = account_make(supplier=supplier, number="770000000099")
    link_make(stranger, theirs)
    notice_make(maria, title="О доме", account=home, supplier=supplier)
    notice_make(maria, title="О даче", account=dacha, supplier=supplier)
    notice_make(maria, title="О чужом счёте", account=theirs, supplier=supplier)
    notice_make(maria, title="Без счёта", supplier=supplier)
    AccountLink.objects.filter(user=maria, account=dacha).delete()  # unlinked since

    response = me.get("/notifications/")

    html = response.content.decode()
    assertContains(
        response,
        f'<a class="link-block" href="/accounts/{home.pk}/">Лицевой счёт 77\u00a00000\u00a0000001 (Дом)</a>',
        html=True,
    )
    assert html.count('class="notice-item__account"') == 1
    assert f"/accounts/{dacha.pk}/" not in html
    assert f"/accounts/{theirs.pk}/" not in html
    assert "000099" not in html


def test_a_message_told_through_the_domain_is_in_the_centre(me: Browser, maria: User, supplier: Supplier) -> None:
    account = account_make(supplier=supplier)
    link_make(maria, account)
    notify(
        kind=Kind.BILL_READY,
        recipient=Recipient(user_id=maria.pk, phone=PHONE),
        key=f"bill_ready:{account.pk}:2026-10",
        values={"account": "770000000001", "address": "г. Подольск, ул. Садовая, д. 12, кв. 34",
                "period": "октябрь 2026", "amount": "1 234,56 ₽", "due_date": "15.12.2026"},
        supplier=supplier,
        now=NOW - dt.timedelta(hours=2),
        account_id=account.pk,
    )  # fmt: skip
    notification = Notification.objects.get()

    response = me.get("/notifications/")

    assert items_shown(response.content.decode()) == [f"новое {notification.title}"]
    assert f"22.11.2026 10:00 · Газпром межрегионгаз Москва {notification.body.split()[0]}" in text(response)
    assertContains(response, f'href="/accounts/{account.pk}/"')


def test_with_no_messages_the_centre_says_what_will_come_here(me: Browser) -> None:
    response = me.get("/notifications/")

    assert response.status_code == 200
    assert (
        "Уведомлений пока нет. Здесь появятся напоминания о приёме показаний и сроке оплаты, "
        "новые квитанции и ответы на ваши обращения."
    ) in text(response)
    assertNotContains(response, "Отметить все прочитанными")
    assertNotContains(response, 'class="pager"')


def test_another_persons_messages_are_never_shown(me: Browser, maria: User, stranger: User) -> None:
    notice_make(maria, title="Моё старое", at=NOW - dt.timedelta(days=2))
    theirs = notice_make(stranger, title="Чужое сообщение", body="Чужой долг 9 999,99 ₽")
    notice_make(maria, title="Моё новое")

    whole = me.get("/notifications/").content.decode()
    before_theirs = me.get(f"/notifications/?before_id={theirs.pk}").content.decode()

    assert items_shown(whole) == ["новое Моё новое", "новое Моё старое"]
    assert items_shown(before_theirs) == ["Моё старое"]  # their id only cuts the list of mine
    for html in (whole, before_theirs):
        assert "Чужое" not in html
        assert "9 999,99" not in html
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_a_guest_is_sent_to_log_in(client: Client, maria: User) -> None:
    notice_make(maria)
    for path in ("/notifications/", "/profile/notifications/"):
        assertRedirects(client.get(path), f"/login/?next={quote(path)}", fetch_redirect_response=False)
    assertRedirects(
        client.post("/notifications/read/"), "/login/?next=/notifications/read/", fetch_redirect_response=False
    )
    assert Notification.objects.get().read_at is None


def test_the_pages_answer_only_their_methods(me: Browser, maria: User) -> None:
    notice_make(maria)

    assert me.post("/notifications/").status_code == 405
    assert me.get("/notifications/read/").status_code == 405
    assert Notification.objects.get().read_at is None


# --- Pages ------------------------------------------------------------------------------------


def test_show_more_goes_on_before_the_last_message_shown(me: Browser, maria: User) -> None:
    made = [notice_make(maria, title=f"Сообщение {n}", at=NOW - dt.timedelta(hours=30 - n)) for n in range(1, 26)]
    twentieth = made[5]  # the 20th newest

    first = me.get("/notifications/")

    html = first.content.decode()
    assert items_shown(html) == [f"новое Сообщение {n}" for n in range(25, 5, -1)]
    assertContains(
        first, f'<a class="link-block" rel="next" href="?before_id={twentieth.pk}">Показать ещё</a>', html=True
    )
    assertNotContains(first, "К последним уведомлениям")
    # the five on the next page are still unread: the menu says so, and the button reads them
    assertContains(first, menu_with(5, current=True), html=True)
    assert "Непрочитанных уведомлений на других страницах: 5." in text(first)
    assertContains(first, "Отметить все прочитанными")
    assert Notification.objects.filter(user=maria, read_at__isnull=True).count() == 5

    second = me.get(f"/notifications/?before_id={twentieth.pk}")

    assert items_shown(second.content.decode()) == [f"новое Сообщение {n}" for n in range(5, 0, -1)]
    assertNotContains(second, "Показать ещё")
    assertContains(second, '<a class="link-block" href="/notifications/">К последним уведомлениям</a>', html=True)
    assertContains(second, MENU_CURRENT, html=True)
    assertNotContains(second, "Отметить все прочитанными")
    assert Notification.objects.filter(user=maria, read_at__isnull=True).count() == 0


def test_before_the_oldest_there_is_nothing(me: Browser, maria: User) -> None:
    oldest = notice_make(maria)

    response = me.get(f"/notifications/?before_id={oldest.pk}")

    assert "Более ранних уведомлений нет. К последним уведомлениям" in text(response)


@pytest.mark.parametrize("cursor", ["abc", "-1", "0", "1.5", "١٢", "9" * 19])
def test_a_mangled_cursor_shows_the_newest_messages(me: Browser, maria: User, cursor: str) -> None:
    notice_make(maria)

    response = me.get(f"/notifications/?before_id={quote(cursor)}")

    assertRedirects(response, "/notifications/", fetch_redirect_response=False)
    assert Notification.objects.get().read_at is None


# --- Read all, the menu ---------------------------------------------------------------------------


def test_mark_all_read_reads_every_message_of_the_user_only(
    me: Browser, maria: User, stranger: User, clock: Any
) -> None:
    earlier = NOW - dt.timedelta(days=1)
    for n in range(3):
        notice_make(maria, title=f"Непрочитанное {n}")
    notice_make(maria, title="Прочитанное", read_at=earlier)
    notice_make(stranger, title="Чужое")
    clock.advance(minutes=1)

    response = me.post("/notifications/read/")

    assertRedirects(response, "/notifications/", fetch_redirect_response=False)
    assert read_marks(maria) == {
        "Непрочитанное 0": NOW + dt.timedelta(minutes=1),
        "Непрочитанное 1": NOW + dt.timedelta(minutes=1),
        "Непрочитанное 2": NOW + dt.timedelta(minutes=1),
        "Прочитанное": earlier,
    }
    assert read_marks(stranger) == {"Чужое": None}
    page = me.get("/notifications/")
    assertContains(
        page,
        '<p class="flash__item flash__item--success" role="status">Все уведомления отмечены прочитанными.</p>',
        html=True,
    )
    assert "новое" not in " ".join(items_shown(page.content.decode()))


def test_mark_all_read_with_nothing_unread_says_so(me: Browser, maria: User) -> None:
    notice_make(maria, read_at=NOW - dt.timedelta(days=1))

    me.post("/notifications/read/")

    assertContains(me.get("/notifications/"), "Непрочитанных уведомлений нет.")
    assert read_marks(maria) == {"Открыт приём показаний": NOW - dt.timedelta(days=1)}


def test_the_menu_counts_the_unread_messages(me: Browser, maria: User, stranger: User) -> None:
    assertContains(me.get("/profile/"), MENU, html=True)

    notice_make(maria, title="Первое")
    notice_make(maria, title="Второе")
    notice_make(maria, title="Прочитанное", read_at=NOW)
    notice_make(stranger, title="Чужое")
    Notification.objects.create(user=maria, kind=Kind.BILL_READY, occasion="not-in-portal", title="Не в кабинете",
                                body="", in_portal=False, created_at=NOW)  # fmt: skip

    assertContains(me.get("/profile/"), menu_with(2), html=True)
    centre = me.get("/notifications/")
    assertContains(centre, MENU_CURRENT, html=True)  # the page read them
    assert "Не в кабинете" not in centre.content.decode()
    assertContains(me.get("/profile/"), MENU, html=True)


def test_the_menu_counts_with_one_query_and_only_for_a_subscriber(me: Browser, maria: User, client: Client) -> None:
    notice_make(maria)
    with CaptureQueriesContext(connection) as profile:
        me.get("/profile/")
    with CaptureQueriesContext(connection) as centre:
        me.get("/notifications/")
    with CaptureQueriesContext(connection) as guest:
        client.get("/")

    def counts(captured: CaptureQueriesContext) -> int:
        return len([q for q in captured.captured_queries if 'FROM "notifications_notification"' in q["sql"]
                    and "COUNT(" in q["sql"]])  # fmt: skip

    assert counts(profile) == 1
    assert counts(centre) == 1
    assert [q for q in guest.captured_queries if '"notifications_notification"' in q["sql"]] == []
