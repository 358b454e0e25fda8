"""The payment history in the portal: the user's online payments and the payments that banks
and payment agents sent in their registries to the user's accounts, merged newest first, each
with its channel; «Показать ещё» pages on without JavaScript; registry payments are shown to
every user linked to the account and to no one else; a repeated or refused line is no payment.

Registry payments are made by the real import (``registry_import``) of registry files."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from urllib.parse import urlencode

import pytest
from django.http import HttpResponse
from pytest_django.fixtures import Settings

from abonent.core.models import Supplier
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.identity.models import User
from abonent.payments.models import Payment, RegistryLine
from abonent.payments.registries import registry_import
from abonent.payments.services import PartInput, payment_settle, payment_start, sandbox_payment_decide
from tests.factories import account_make
from tests.web.html import heading_levels, headings_in_order, inline_code
from tests.web.identity import NOW, Browser, user_make
from tests.web.test_money import link_make, log_in, rub, text

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"
MSK = dt.timezone(dt.timedelta(hours=3))
HUSBAND = "+79160000001"
STRANGER = "+79160000002"
PROFILES = {"agent": {"channel": "agent"}, "qr": {"channel": "qr"}}


@pytest.fixture(autouse=True)
def _profiles(settings: Settings) -> None:
    """Registries of payment agents and of banks' QR payments: the default columns."""
    settings.PAYMENT_REGISTRY_PROFILES = PROFILES


@pytest.fixture
def me(browser: Browser, maria: User) -> Browser:
    return log_in(browser)


@pytest.fixture
def home(supplier: Supplier, maria: User) -> PersonalAccount:
    account = account_make(supplier=supplier, number="770000000001")
    link = link_make(maria, account)
    link.name = "Дом"
    link.save()
    return account


@pytest.fixture
def husband(home: PersonalAccount) -> User:
    """Another user linked to the same account."""
    user = user_make(phone=HUSBAND)
    link_make(user, home)
    return user


@pytest.fixture
def stranger(supplier: Supplier) -> tuple[User, PersonalAccount]:
    user = user_make(phone=STRANGER)
    account = account_make(supplier=supplier, number="770000000099")
    link_make(user, account)
    return user, account


def registry(
    supplier: Supplier, *lines: str, source: str = "sber", profile: str = "default", name: str = "reestr.txt"
) -> None:
    """Import a registry of ``lines`` (``ДД.ММ.ГГГГ;ЧЧ:ММ:СС;счёт;сумма;ММ.ГГГГ;плательщик;номер``)
    with its summary line, through the real import."""
    total = sum(int(line.split(";")[3].replace(",", "")) for line in lines)
    summary = f"={len(lines)};{total // 100},{total % 100:02d}"
    content = "\n".join([*lines, summary]).encode()
    registry_import(supplier=supplier, source=source, content=content, file_name=name, now=NOW, profile=profile)


def paid_online(user: User, account: PersonalAccount, amount: str, *, at: dt.datetime) -> Payment:
    """An online payment started a minute before ``at`` and paid at ``at`` on the sandbox."""
    payment = payment_start(
        user=user,
        parts=[PartInput(account_id=account.pk, amount=amount)],
        method="sbp",
        return_url="http://testserver/payments/return/",
        now=at - dt.timedelta(minutes=1),
    )
    assert payment.gateway_payment_id is not None
    sandbox_payment_decide(gateway_payment_id=payment.gateway_payment_id, approve=True, now=at)
    payment_settle(payment_id=payment.pk, now=at)
    payment.refresh_from_db()
    assert payment.paid_at == at
    return payment


def ok(response: HttpResponse) -> HttpResponse:
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    assert inline_code(html) == []
    assert headings_in_order(heading_levels(html)), heading_levels(html)
    return response


def rows(response: HttpResponse) -> list[str]:
    """Each row of the history as a reader sees it."""
    html = response.content.decode()
    found = re.findall(r'<tr class="history-table__row">(.*?)</tr>', html, re.S)
    words = [re.sub(r"[ \t\r\n]+", " ", unescape(re.sub(r"<[^>]+>", " ", row))).strip() for row in found]
    return [row.replace(" ,", ",") for row in words]


def more_link(response: HttpResponse) -> str | None:
    """Where «Показать ещё» leads, if it is there."""
    match = re.search(r'<a class="link-block" rel="next" href="([^"]+)">Показать ещё</a>', response.content.decode())
    return unescape(match.group(1)) if match else None


def acc(number: str) -> str:
    """«л/с 77 0000 000001», as the rows write an account."""
    return f"л/с{NBSP}{number[:2]}{NBSP}{number[2:6]}{NBSP}{number[6:]}"


# --- Registry payments next to online ones ---------------------------------------------------


def test_registry_payments_show_with_their_channel_for_every_linked_user(
    me: Browser, other_browser: Browser, supplier: Supplier, home: PersonalAccount, husband: User
) -> None:
    registry(supplier, "20.11.2026;10:15:00;770000000001;1250,50;10.2026;Иванов Пётр;SB-1", source="sber")
    registry(supplier, "21.11.2026;09:00:00;770000000001;300,00;;Иванов Пётр;AG-1", source="kassa", profile="agent")
    registry(supplier, "21.11.2026;18:30:05;770000000001;99,99;11.2026;Иванова М.;QR-1", source="vtb", profile="qr")

    expected = [
        f"21.11.2026 18:30 {rub('99,99')} {acc('770000000001')} (Дом), газоснабжение за ноябрь 2026: {rub('99,99')} "
        "Приложение банка по QR-коду, vtb зачислен",
        f"21.11.2026 09:00 {rub('300,00')} {acc('770000000001')} (Дом), газоснабжение: {rub('300,00')} "
        "Платёжный агент, kassa зачислен",
        f"20.11.2026 10:15 {rub('1 250,50')} {acc('770000000001')} (Дом), газоснабжение за октябрь 2026: "
        f"{rub('1 250,50')} В отделении банка, sber зачислен",
    ]
    assert rows(ok(me.get("/payments/"))) == expected
    # the account's own page does not repeat its number
    prefix = f"{acc('770000000001')} (Дом), газоснабжение"
    assert rows(ok(me.get(f"/accounts/{home.pk}/payments/"))) == [
        row.replace(prefix, "Газоснабжение") for row in expected
    ]
    # the husband sees them too, without his name for the account
    log_in(other_browser, HUSBAND)
    assert [row.replace(" (Дом)", "") for row in expected] == rows(ok(other_browser.get("/payments/")))
    page = text(ok(me.get("/payments/")))
    assert "ваши платежи в личном кабинете и все платежи на ваши счета через банки и платёжных агентов" in page
    assert "Показать ещё" not in page


def test_registry_payments_are_not_shown_to_users_not_linked_to_the_account(
    me: Browser, supplier: Supplier, home: PersonalAccount, stranger: tuple[User, PersonalAccount]
) -> None:
    _user, theirs = stranger
    registry(supplier, "20.11.2026;10:15:00;770000000099;777,00;10.2026;Петров;SB-9")

    assert "Платежей ещё не было." in text(ok(me.get("/payments/")))
    assert "Платежей по этому счёту ещё не было." in text(ok(me.get(f"/accounts/{home.pk}/payments/")))
    assert me.get(f"/accounts/{theirs.pk}/payments/").status_code == 404


def test_an_unlinked_account_takes_its_registry_payments_away(
    me: Browser, supplier: Supplier, home: PersonalAccount, maria: User
) -> None:
    registry(supplier, "20.11.2026;10:15:00;770000000001;1250,50;10.2026;Иванов;SB-1")
    assert len(rows(ok(me.get("/payments/")))) == 1

    AccountLink.objects.filter(user=maria, account=home).delete()

    assert "Платежей ещё не было." in text(ok(me.get("/payments/")))
    assert me.get(f"/accounts/{home.pk}/payments/").status_code == 404


def test_online_and_registry_payments_newest_first(
    me: Browser, supplier: Supplier, home: PersonalAccount, maria: User
) -> None:
    dacha = account_make(supplier=supplier, number="770000000002")
    link_make(maria, dacha)
    online = paid_online(maria, home, "500.00", at=dt.datetime(2026, 11, 20, 12, 0, tzinfo=MSK))
    pending = payment_start(
        user=maria,
        parts=[PartInput(account_id=dacha.pk, amount="70.00")],
        method="bank_card",
        return_url="http://testserver/payments/return/",
        now=dt.datetime(2026, 11, 21, 8, 0, tzinfo=MSK),
    )
    registry(
        supplier,
        "19.11.2026;09:00:00;770000000001;100,00;;Иванов;SB-1",
        "20.11.2026;12:30:00;770000000002;200,00;;Иванов;SB-2",
        "22.11.2026;07:45:00;770000000001;300,00;;Иванов;SB-3",
    )

    shown = rows(ok(me.get("/payments/")))

    assert [row[:16] for row in shown] == [
        "22.11.2026 07:45",
        "21.11.2026 08:00",
        "20.11.2026 12:30",
        "20.11.2026 12:00",
        "19.11.2026 09:00",
    ]
    assert shown[1].endswith("Онлайн на портале, банковская карта Кассовый чек: +7 912 345-67-89 ожидает оплаты")
    assert shown[3].endswith("Онлайн на портале, СБП Кассовый чек: +7 912 345-67-89 оплачен")
    html = me.get("/payments/").content.decode()
    assert f'href="/payments/{online.public_id}/"' in html
    assert f'href="/payments/{pending.public_id}/"' in html
    # one account's page: what paid on it
    assert [row[:16] for row in rows(ok(me.get(f"/accounts/{home.pk}/payments/")))] == [
        "22.11.2026 07:45",
        "20.11.2026 12:00",
        "19.11.2026 09:00",
    ]


def test_the_accounts_page_names_only_the_other_accounts_of_a_payment(
    me: Browser, supplier: Supplier, home: PersonalAccount, maria: User
) -> None:
    dacha = account_make(supplier=supplier, number="770000000002")
    link_make(maria, dacha)
    payment_start(
        user=maria,
        parts=[PartInput(account_id=home.pk, amount="100.00"), PartInput(account_id=dacha.pk, amount="50.00")],
        method="bank_card",
        return_url="http://testserver/payments/return/",
        now=NOW,
    )

    (row,) = rows(ok(me.get(f"/accounts/{home.pk}/payments/")))

    assert f"{rub('150,00')} Газоснабжение: {rub('100,00')} {acc('770000000002')}, газоснабжение: {rub('50,00')}" in row


def test_another_users_online_payments_are_theirs(
    me: Browser, supplier: Supplier, home: PersonalAccount, husband: User
) -> None:
    paid_online(husband, home, "500.00", at=dt.datetime(2026, 11, 20, 12, 0, tzinfo=MSK))
    registry(supplier, "19.11.2026;09:00:00;770000000001;100,00;;Иванов;SB-1")

    assert [row[:16] for row in rows(ok(me.get("/payments/")))] == ["19.11.2026 09:00"]


# --- Pages ------------------------------------------------------------------------------------


def test_more_pages_the_history_across_both_kinds_at_equal_moments(
    me: Browser, supplier: Supplier, home: PersonalAccount, maria: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("abonent.web.payments.HISTORY_PAGE_SIZE", 2)
    noon = dt.datetime(2026, 11, 20, 12, 0, tzinfo=MSK)
    first = paid_online(maria, home, "11.00", at=noon)
    second = paid_online(maria, home, "12.00", at=noon)
    registry(
        supplier,
        "20.11.2026;12:00:00;770000000001;21,00;;Иванов;SB-1",
        "20.11.2026;12:00:00;770000000001;22,00;;Иванов;SB-2",
        "20.11.2026;11:59:59;770000000001;23,00;;Иванов;SB-3",
    )
    assert first.paid_at == second.paid_at == RegistryLine.objects.get(reference="SB-1").paid_at

    amounts = []
    path: str | None = "/payments/"
    pages = 0
    while path is not None:
        response = ok(me.get(path if path.startswith("/") else "/payments/" + path))
        amounts.append([re.search(r"\d+,\d\d", row).group(0) for row in rows(response)])  # type: ignore[union-attr]
        path = more_link(response)
        pages += 1
        if pages > 1:
            assert "К последним платежам" in text(response)

    # at one moment the online payments first, then the registry's, each the later first
    assert amounts == [["12,00", "11,00"], ["22,00", "21,00"], ["23,00"]]


def test_a_page_goes_on_after_its_last_row_whatever_came_in_meanwhile(
    me: Browser, supplier: Supplier, home: PersonalAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("abonent.web.payments.HISTORY_PAGE_SIZE", 2)
    registry(
        supplier,
        "17.11.2026;10:00:00;770000000001;100,00;;Иванов;SB-1",
        "18.11.2026;10:00:00;770000000001;200,00;;Иванов;SB-2",
        "19.11.2026;10:00:00;770000000001;300,00;;Иванов;SB-3",
    )
    more = more_link(ok(me.get("/payments/")))
    assert more is not None
    registry(supplier, "20.11.2026;10:00:00;770000000001;400,00;;Иванов;SB-4", name="second.txt")

    last = rows(ok(me.get("/payments/" + more)))

    assert [row[:16] for row in last] == ["17.11.2026 10:00"]


def test_a_mangled_cursor_leads_to_the_newest_payments(me: Browser, home: PersonalAccount) -> None:
    for cursor in ("bm90LWEtY3Vyc29y", "eyJhZnRlciI6IDV9", "%%%"):
        response = me.get("/payments/?" + urlencode({"cursor": cursor}))
        assert (response.status_code, response["Location"]) == (302, "/payments/")
    response = me.get(f"/accounts/{home.pk}/payments/?cursor=x")
    assert (response.status_code, response["Location"]) == (302, f"/accounts/{home.pk}/payments/")


# --- What is no payment ------------------------------------------------------------------------


def test_a_repeated_or_refused_registry_line_never_shows(
    me: Browser, supplier: Supplier, home: PersonalAccount
) -> None:
    registry(supplier, "20.11.2026;10:15:00;770000000001;1250,50;10.2026;Иванов;SB-1")
    # the bank sends the payment again, once more with other data, and one for a number that is not there
    registry(
        supplier,
        "20.11.2026;10:15:00;770000000001;1250,50;10.2026;Иванов;SB-1",
        "20.11.2026;10:16:00;770000000001;999,00;10.2026;Иванов;SB-1",
        "20.11.2026;10:17:00;770000000077;500,00;10.2026;Иванов;SB-2",
        name="again.txt",
    )
    statuses = sorted(RegistryLine.objects.filter(account=home).values_list("status", flat=True))
    assert statuses == ["duplicate", "failed", "posted"]  # the refused ones are on the account too

    shown = rows(ok(me.get("/payments/")))

    assert len(shown) == 1
    assert shown[0].startswith(f"20.11.2026 10:15 {rub('1 250,50')}")


def test_a_guest_is_asked_to_log_in(browser: Browser) -> None:
    response = browser.get("/payments/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
