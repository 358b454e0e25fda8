"""The paper bill or the bill by e-mail, on the account's page and a page of its own: the way
the bill comes now, the choice where the supplier allows it, the way back to paper always.

Every refused request — another person's account, a supplier that does not allow it, no
confirmed e-mail, a value not offered — says what is wrong and changes nothing: the account
keeps its bill, no audit record is written."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.http import HttpResponse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from abonent.core.models import AuditRecord, LinkProof, Supplier
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.identity.models import User
from tests.factories import account_make
from tests.web.appeals_data import field_error, text
from tests.web.html import heading_levels, headings_in_order, inline_code
from tests.web.identity import EMAIL, NOW, PASSWORD, PHONE, Browser, user_make

pytestmark = pytest.mark.django_db

NUMBER = "77\u00a00000\u00a0000001"


def log_in(browser: Browser, login: str = PHONE) -> Browser:
    response = browser.post("/login/", {"login": login, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def link_make(user: User, account: PersonalAccount) -> AccountLink:
    return AccountLink.objects.create(
        user=user, account=account, proof=LinkProof.PIN, channel="web", linked_at=NOW - dt.timedelta(days=1)
    )


@pytest.fixture
def maria(db: None) -> User:
    """Мария, her phone and e-mail confirmed."""
    return user_make(email=EMAIL)


@pytest.fixture
def me(browser: Browser, maria: User) -> Browser:
    return log_in(browser)


@pytest.fixture
def account(supplier: Supplier, maria: User) -> PersonalAccount:
    account = account_make(supplier=supplier)
    link_make(maria, account)
    return account


def page_of(account: PersonalAccount) -> str:
    return f"/accounts/{account.pk}/bill-delivery/"


def bill_of(account: PersonalAccount) -> tuple[int | None, dt.datetime | None]:
    account.refresh_from_db()
    return account.paperless_user_id, account.paperless_since


def audit() -> list[tuple[str, str, dict[str, int | None], dict[str, int | None]]]:
    return list(
        AuditRecord.objects.filter(action="account.paper_bill")
        .order_by("pk")
        .values_list("channel", "object_id", "before", "after")
    )


def summary(response: HttpResponse) -> list[str]:
    match = re.search(r'<ul class="error-summary__list">(.*?)</ul>', response.content.decode(), re.S)
    assert match is not None, "no error summary"
    items = re.findall(r"<li>(.*?)</li>", match.group(1), re.S)
    return [re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", item))).strip() for item in items]


def not_allowed(supplier: Supplier) -> None:
    supplier.terms.update(paperless_allowed=False)


# --- The account's page -----------------------------------------------------------------------


def test_the_account_page_says_the_bill_comes_on_paper_and_offers_e_mail(me: Browser, account: PersonalAccount) -> None:
    response = me.get(f"/accounts/{account.pk}/")

    assert "Квитанция Сейчас: бумажная квитанция. Получать на e‑mail вместо бумажной" in text(response)
    assertContains(
        response, f'<a class="link-block" href="{page_of(account)}">Получать на e‑mail вместо бумажной</a>', html=True
    )


def test_where_the_supplier_does_not_allow_it_the_account_page_offers_nothing(
    me: Browser, account: PersonalAccount, supplier: Supplier
) -> None:
    not_allowed(supplier)

    response = me.get(f"/accounts/{account.pk}/")

    assert "Квитанция Сейчас: бумажная квитанция. Параметры" in text(response)
    assertNotContains(response, page_of(account))


# --- Giving up the paper bill and taking it back -------------------------------------------------


def test_the_bill_goes_to_e_mail_and_back_to_paper(
    me: Browser, maria: User, account: PersonalAccount, clock: object
) -> None:
    page = me.get(page_of(account))
    assert page.status_code == 200
    assertContains(
        page,
        '<input type="radio" name="paper" value="paper" class="choice__input" required id="id_paper_0" checked>',
        html=True,
    )
    assert (
        f"Как получать квитанцию Бумажную квитанцию, как обычно На e‑mail {EMAIL} вместо бумажной "
        "Квитанция придёт письмом с PDF-файлом, как только будет готова. Бумажную поставщик приносить не будет."
    ) in text(page)
    assert inline_code(page.content.decode()) == []
    assert headings_in_order(heading_levels(page.content.decode()))

    response = me.post(page_of(account), {"paper": "email"})

    assertRedirects(response, f"/accounts/{account.pk}/#bill", fetch_redirect_response=False)
    assert bill_of(account) == (maria.pk, NOW)
    assert audit() == [("web", str(account.pk), {"paperless_user": None}, {"paperless_user": maria.pk})]
    shown = me.get(f"/accounts/{account.pk}/")
    assertContains(
        shown,
        '<p class="flash__item flash__item--success" role="status">'
        f"Квитанция по счёту {NUMBER} будет приходить на e‑mail {EMAIL} вместо бумажной.</p>",
        html=True,
    )
    assert f"Квитанция Сейчас: на e‑mail {EMAIL} вместо бумажной. Бумажная квитанция или e‑mail" in text(shown)

    back = me.post(page_of(account), {"paper": "paper"})

    assertRedirects(back, f"/accounts/{account.pk}/#bill", fetch_redirect_response=False)
    assert bill_of(account) == (None, None)
    assert audit()[-1] == ("web", str(account.pk), {"paperless_user": maria.pk}, {"paperless_user": None})
    assertContains(me.get(f"/accounts/{account.pk}/"), f"Квитанция по счёту {NUMBER} будет приходить на бумаге.")


def test_the_bill_of_another_user_of_the_account_is_said_without_their_address(
    me: Browser, account: PersonalAccount
) -> None:
    husband = user_make(phone="+79165550001", email="ivan@example.org")
    link_make(husband, account)
    account.paperless_user = husband
    account.paperless_since = NOW - dt.timedelta(days=10)
    account.save()

    for path in (f"/accounts/{account.pk}/", page_of(account)):
        response = me.get(path)
        assert "Сейчас: на e‑mail другого пользователя, у которого есть доступ к этому счёту, вместо бумажной." in text(
            response
        )
        assertNotContains(response, "ivan@example.org")


# --- Refused ------------------------------------------------------------------------------------


def test_without_a_confirmed_e_mail_the_bill_stays_on_paper(browser: Browser, supplier: Supplier) -> None:
    user = user_make(email=None)
    account = account_make(supplier=supplier)
    link_make(user, account)
    log_in(browser)

    page = browser.get(page_of(account))
    assert (
        "Чтобы получать квитанцию на e‑mail, сначала укажите и подтвердите адрес. Добавить e‑mail в профиле"
    ) in text(page)
    assertContains(page, '<a href="/profile/email/">Добавить e‑mail в профиле</a>', html=True)

    response = browser.post(page_of(account), {"paper": "email"})

    assert response.status_code == 200
    assert (
        field_error(response, "paper") == "Укажите и подтвердите e-mail в профиле — квитанция будет приходить на него"
    )
    assert bill_of(account) == (None, None)
    assert audit() == []


def test_where_the_supplier_does_not_allow_it_the_page_says_so_and_a_crafted_request_is_refused(
    me: Browser, account: PersonalAccount, supplier: Supplier
) -> None:
    not_allowed(supplier)

    page = me.get(page_of(account))

    assert page.status_code == 200
    assert (
        "Поставщик «Газпром межрегионгаз Москва» не принимает отказ от бумажной квитанции: она приходит по почте."
    ) in text(page)
    assertNotContains(page, 'name="paper"')

    response = me.post(page_of(account), {"paper": "email"})

    assert response.status_code == 200
    assert summary(response) == ["Поставщик «Газпром межрегионгаз Москва» не принимает отказ от бумажной квитанции"]
    assert bill_of(account) == (None, None)
    assert audit() == []


def test_where_the_supplier_no_longer_allows_it_the_bill_can_still_come_back_to_paper(
    me: Browser, maria: User, account: PersonalAccount, supplier: Supplier
) -> None:
    account.paperless_user = maria
    account.paperless_since = NOW - dt.timedelta(days=100)
    account.save()
    not_allowed(supplier)

    assertContains(me.get(f"/accounts/{account.pk}/"), page_of(account))
    page = me.get(page_of(account))
    assert (
        "Поставщик «Газпром межрегионгаз Москва» больше не принимает отказ от бумажной квитанции, "
        "но вы можете вернуть бумажную. Получать бумажную квитанцию"
    ) in text(page)

    response = me.post(page_of(account), {"paper": "paper"})

    assertRedirects(response, f"/accounts/{account.pk}/#bill", fetch_redirect_response=False)
    assert bill_of(account) == (None, None)


@pytest.mark.parametrize("value", ["", "yes", "0"])
def test_a_choice_not_offered_is_refused(me: Browser, account: PersonalAccount, value: str) -> None:
    response = me.post(page_of(account), {"paper": value})

    assert response.status_code == 200
    assert field_error(response, "paper") == "Выберите, как получать квитанцию"
    assert bill_of(account) == (None, None)
    assert audit() == []


def test_another_persons_account_is_not_found(me: Browser, supplier: Supplier) -> None:
    stranger = user_make(phone="+79165550000", email="stranger@example.org")
    theirs = account_make(supplier=supplier, number="770000000099")
    link_make(stranger, theirs)

    assert me.get(page_of(theirs)).status_code == 404
    assert me.post(page_of(theirs), {"paper": "email"}).status_code == 404
    assert me.get("/accounts/999999/bill-delivery/").status_code == 404
    assert bill_of(theirs) == (None, None)
    assert audit() == []


def test_the_page_answers_only_its_methods(me: Browser, account: PersonalAccount) -> None:
    assert me.client.put(page_of(account)).status_code == 405
    assert bill_of(account) == (None, None)
