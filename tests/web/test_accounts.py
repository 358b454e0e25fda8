"""A subscriber's personal accounts on the portal: the link assistant, the list, an account's
page, its name and default mark, unlinking, the first page after login."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.http import HttpResponse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from abonent.core.audit import AuditRecord
from abonent.core.models import LinkProof, Supplier, SupplierTerms
from abonent.core.periods import Period
from abonent.customers import proofs
from abonent.customers.enums import AccountStatus, ContractKind, ContractStatus, EquipmentKind, LinkOutcome
from abonent.customers.models import AccountLink, Contract, GasEquipment, LinkAttempt, PersonalAccount
from abonent.identity.models import User
from abonent.metering.enums import ReadingChannel
from abonent.metering.models import Meter, Reading
from tests.factories import account_make, meter_make
from tests.web.html import heading_levels, headings_in_order, inline_code
from tests.web.identity import IP, NOW, PASSWORD, PHONE, Browser, user_make

pytestmark = pytest.mark.django_db

NUMBER = "770000000001"
PIN = "123456"
NBSP = "\u00a0"
SHOWN = f"77{NBSP}0000{NBSP}000001"  # the number as pages show it, never broken across lines
HOME = f"г.{NBSP}Подольск, ул.{NBSP}Садовая, д.{NBSP}12, кв.{NBSP}34"
HOME_FULL = f"142100, Московская область, {HOME}"
MISMATCH = "Не удалось привязать счёт: проверьте номер лицевого счёта и PIN-код (или другое подтверждение) по квитанции"


def field_error(name: str, text: str) -> str:
    return f'<p class="field__error" id="id_{name}_error"><span class="visually-hidden">Ошибка: </span>{text}</p>'


def summary(*items: str) -> str:
    return '<ul class="error-summary__list">' + "".join(items) + "</ul>"


def log_in(browser: Browser, phone: str = PHONE) -> Browser:
    response = browser.post("/login/", {"login": phone, "password": PASSWORD})
    assert response.status_code == 302
    return browser


@pytest.fixture
def me(browser: Browser, maria: User) -> Browser:
    """Maria, logged in on her phone."""
    return log_in(browser)


@pytest.fixture
def account(supplier: Supplier) -> PersonalAccount:
    return account_make(supplier=supplier)


def link_make(user: User, account: PersonalAccount, **fields: object) -> AccountLink:
    return AccountLink.objects.create(
        user=user, account=account, proof=LinkProof.PIN, channel="web", linked_at=NOW - dt.timedelta(days=1), **fields
    )


def proofs_accept(supplier: Supplier, *kinds: str) -> None:
    SupplierTerms.objects.filter(supplier=supplier).update(link_proofs=list(kinds))


def reading_make(meter: Meter, period: Period, value: str, submitted: dt.datetime) -> Reading:
    return Reading.objects.create(
        meter=meter,
        period=period,
        value=Decimal(value),
        submitted_at=submitted,
        channel=ReadingChannel.WEB,
        submission_key=f"k-{period}",
    )


def link_post(browser: Browser, **data: str) -> HttpResponse:
    return browser.post("/accounts/link/", {"supplier": "gaz-msk", "number": NUMBER, "proof": "pin", **data})


def input_tag(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert match is not None, name
    return match.group(0)


# --- The link assistant ---------------------------------------------------------------------


def test_the_assistant_with_one_supplier_and_the_pin(me: Browser, supplier: Supplier) -> None:
    page = me.get("/accounts/link/")

    assert page.status_code == 200
    html = page.content.decode()
    # one supplier: no choice to make, it is named and sent along
    assertContains(page, '<input type="hidden" name="supplier" value="gaz-msk" id="id_supplier">', html=True)
    assertContains(page, "Кабинет работает с абонентами поставщика <strong>Газпром межрегионгаз Москва</strong>.")
    assertNotContains(page, "Не знаю — определить по номеру")
    # one proof: the PIN, asked for directly
    assertContains(page, '<input type="hidden" name="proof" value="pin" id="id_proof">', html=True)
    assert 'name="meter_value"' not in html
    assertContains(
        page,
        '<label class="step__title" for="id_pin"><span class="step__number">'
        '<span class="visually-hidden">Шаг </span>3</span><span>PIN-код</span></label>',
        html=True,
    )
    assertContains(page, '<label class="step__title" for="id_number">', count=1)
    # the sample bill with the number and the PIN explained in words
    assertContains(page, 'src="/static/web/bill-sample.svg"')
    assertContains(page, "2 — номер лицевого счёта: 12 цифр, например 77 0000 000001. 3 — PIN-код рядом с ним")
    pin = input_tag(html, "pin")
    assert 'autocomplete="off"' in pin
    assert 'inputmode="numeric"' in pin
    assert 'inputmode="numeric"' in input_tag(html, "number")


def test_link_with_the_pin(me: Browser, maria: User, account: PersonalAccount) -> None:
    response = link_post(me, number="77 0000 000001", pin=PIN)

    assertRedirects(response, f"/accounts/{account.pk}/", fetch_redirect_response=False)
    link = AccountLink.objects.get()
    assert (link.user, link.account, link.proof, link.channel, link.linked_at, link.name, link.is_default) == (
        maria,
        account,
        "pin",
        "web",
        NOW,
        "",
        False,
    )
    attempt = LinkAttempt.objects.get()
    assert (attempt.outcome, attempt.account, attempt.number, attempt.ip, attempt.channel) == (
        LinkOutcome.LINKED,
        account,
        NUMBER,
        IP,
        "web",
    )
    page = me.get(response["Location"])
    assertContains(
        page,
        '<p class="flash__item flash__item--success" role="status">'
        f"Лицевой счёт {SHOWN} привязан к вашему профилю.</p>",
        html=True,
    )


def test_link_with_a_meter_value(me: Browser, maria: User, supplier: Supplier, account: PersonalAccount) -> None:
    proofs_accept(supplier, "pin", "meter_value")
    meter = meter_make(account=account)
    reading_make(meter, Period(2026, 10), "1200", NOW - dt.timedelta(days=30))

    page = me.get("/accounts/link/")
    # a choice of two, the PIN chosen; each with its own field under it
    assertContains(
        page,
        '<input type="radio" name="proof" value="pin" class="choice__input" id="id_proof_0" required checked>',
        html=True,
    )
    assertContains(
        page,
        '<input type="radio" name="proof" value="meter_value" class="choice__input" id="id_proof_1" required>',
        html=True,
    )
    assertContains(page, '<label class="choice__label" for="id_proof_1">Показание счётчика</label>', html=True)
    assertContains(page, '<label class="field__label" for="id_meter_value">Показание счётчика сегодня, м³</label>')

    response = link_post(me, proof="meter_value", meter_value="1 210", pin="")

    assertRedirects(response, f"/accounts/{account.pk}/", fetch_redirect_response=False)
    assert AccountLink.objects.get().proof == "meter_value"


def test_a_meter_value_too_far_from_the_last_reading_does_not_prove(
    me: Browser, supplier: Supplier, account: PersonalAccount
) -> None:
    proofs_accept(supplier, "pin", "meter_value")
    meter = meter_make(account=account)
    reading_make(meter, Period(2026, 10), "1200", NOW - dt.timedelta(days=30))

    response = link_post(me, proof="meter_value", meter_value="5000")

    assertContains(response, summary(f"<li>{MISMATCH}</li>"), html=True)
    assert AccountLink.objects.count() == 0
    # the kind chosen stays chosen, its value is asked for again
    html = response.content.decode()
    assert "checked" in input_tag(html, 'proof" value="meter_value')
    assert "value=" not in input_tag(html, "meter_value")


def test_the_supplier_found_by_the_number(
    me: Browser, maria: User, supplier: Supplier, supplier_kaliningrad: Supplier
) -> None:
    account = account_make(supplier=supplier_kaliningrad, number="390000000007", pin="4321")

    page = me.get("/accounts/link/")
    for index, (code, name) in enumerate(
        [
            ("gaz-msk", "Газпром межрегионгаз Москва"),
            ("gaz-kld", "Калининградская газовая компания"),
            ("unknown", "Не знаю — определить по номеру"),
        ]
    ):
        assertContains(
            page,
            f'<input type="radio" name="supplier" value="{code}" class="choice__input" id="id_supplier_{index}" required>',
            html=True,
        )
        assertContains(
            page, f'<label class="choice__label" for="id_supplier_{index}"><span>{name}</span></label>', html=True
        )
    radios = re.findall(r'<input type="radio" name="supplier"[^>]*>', page.content.decode())
    assert len(radios) == 3
    assert not any("checked" in radio for radio in radios)  # a choice to make, none made for the person

    response = link_post(me, supplier="unknown", number="3900 0000 0007", pin="4321")

    assertRedirects(response, f"/accounts/{account.pk}/", fetch_redirect_response=False)
    assert AccountLink.objects.get().account == account
    assert LinkAttempt.objects.get().supplier == supplier_kaliningrad


def test_with_several_suppliers_one_must_be_chosen(
    me: Browser, supplier: Supplier, supplier_kaliningrad: Supplier, account: PersonalAccount
) -> None:
    response = me.post("/accounts/link/", {"number": NUMBER, "proof": "pin", "pin": PIN})

    text = "Выберите своего поставщика газа или «Не знаю — определить по номеру»"
    assertContains(response, field_error("supplier", text), html=True)
    assertContains(response, f'<li><a href="#id_supplier_0">{text}</a></li>', html=True)
    assert AccountLink.objects.count() == LinkAttempt.objects.count() == 0
    # what was typed stays, except the PIN
    html = response.content.decode()
    assert f'value="{NUMBER}"' in input_tag(html, "number")
    assert "value=" not in input_tag(html, "pin")


def test_a_number_two_suppliers_have_asks_for_the_supplier(
    me: Browser, supplier: Supplier, supplier_kaliningrad: Supplier
) -> None:
    account_make(supplier=supplier)
    account_make(supplier=supplier_kaliningrad)  # the same number and PIN

    response = link_post(me, supplier="unknown", pin=PIN)

    text = "Номер 770000000001 есть у нескольких поставщиков: выберите своего поставщика из списка"
    assertContains(response, field_error("supplier", text), html=True)
    assert AccountLink.objects.count() == 0
    html = response.content.decode()
    assert "checked" in input_tag(html, 'supplier" value="unknown')  # the choice made stays made
    assert 'value="770000000001"' in input_tag(html, "number")


def test_a_proof_the_supplier_does_not_accept_is_said_next_to_the_choice(
    me: Browser, supplier: Supplier, supplier_kaliningrad: Supplier
) -> None:
    proofs_accept(supplier, "pin", "meter_value")
    account_make(supplier=supplier_kaliningrad)

    page = me.get("/accounts/link/")
    # the suppliers accept different proofs: each says which
    assertContains(
        page,
        '<label class="choice__label" for="id_supplier_0"><span>Газпром межрегионгаз Москва'
        '<span class="choice__hint">Подтверждение: PIN-код с квитанции, показание счётчика</span></span></label>',
        html=True,
    )
    assertContains(
        page,
        '<label class="choice__label" for="id_supplier_1"><span>Калининградская газовая компания'
        '<span class="choice__hint">Подтверждение: PIN-код с квитанции</span></span></label>',
        html=True,
    )

    response = link_post(me, supplier="gaz-kld", proof="meter_value", meter_value="1234")

    assertContains(
        response,
        field_error(
            "proof",
            "Калининградская газовая компания не принимает этот способ подтверждения. Подойдёт: PIN-код с квитанции",
        ),
        html=True,
    )
    assert AccountLink.objects.count() == LinkAttempt.objects.count() == 0


def test_a_wrong_pin_and_a_number_that_does_not_exist_get_the_same_answer(
    me: Browser, account: PersonalAccount
) -> None:
    wrong_pin = link_post(me, pin="654321")
    no_such_number = link_post(me, number="770000009999", pin=PIN)

    for response in (wrong_pin, no_such_number):
        assert response.status_code == 200
        assertContains(response, summary(f"<li>{MISMATCH}</li>"), html=True)
        assertNotContains(response, "field__error")
    error_of = re.compile(r'<div class="error-summary".*?</div>', re.S)
    first = error_of.search(wrong_pin.content.decode())
    second = error_of.search(no_such_number.content.decode())
    assert first is not None
    assert second is not None
    assert first.group(0) == second.group(0)
    assert AccountLink.objects.count() == 0
    assert list(LinkAttempt.objects.order_by("pk").values_list("number", "outcome", "account")) == [
        (NUMBER, LinkOutcome.MISMATCH, None),
        ("770000009999", LinkOutcome.MISMATCH, None),
    ]
    assert "value=" not in input_tag(wrong_pin.content.decode(), "pin")


def test_after_five_failures_the_assistant_says_when_to_try_again(me: Browser, account: PersonalAccount) -> None:
    for _ in range(5):
        assertContains(link_post(me, pin="000000"), MISMATCH)

    response = link_post(me, pin=PIN)  # even the right PIN waits

    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    assertContains(
        response,
        summary(
            "<li>Слишком много неудачных попыток привязать счёт. Повторите через 60 мин. "
            "или обратитесь к поставщику газа</li>"
        ),
        html=True,
        status_code=429,
    )
    assert AccountLink.objects.count() == 0
    assert list(LinkAttempt.objects.order_by("pk").values_list("outcome", flat=True)) == [
        *[LinkOutcome.MISMATCH] * 5,
        LinkOutcome.BLOCKED,
    ]


def test_a_closed_account_cannot_be_linked(me: Browser, supplier: Supplier) -> None:
    account_make(supplier=supplier, status=AccountStatus.CLOSED, closed_on=dt.date(2025, 3, 1))

    response = link_post(me, pin=PIN)

    assertContains(
        response,
        summary(
            "<li>Лицевой счёт 770000000001 закрыт: его нельзя привязать. "
            "Если это ошибка, обратитесь к поставщику газа</li>"
        ),
        html=True,
    )
    assert AccountLink.objects.count() == 0
    assert LinkAttempt.objects.get().outcome == LinkOutcome.CLOSED


def test_an_account_linked_already(me: Browser, maria: User, account: PersonalAccount) -> None:
    link_make(maria, account)

    response = link_post(me, pin=PIN)

    assertContains(response, summary("<li>Лицевой счёт 770000000001 уже привязан к вашему профилю</li>"), html=True)
    assert AccountLink.objects.count() == 1
    assert LinkAttempt.objects.count() == 0


def test_a_malformed_number_and_pin_are_said_next_to_their_fields(me: Browser, account: PersonalAccount) -> None:
    response = link_post(me, number="7700-12", pin="12")

    assertContains(response, field_error("number", "Номер лицевого счёта — 12 цифр, как в квитанции"), html=True)
    assertContains(response, field_error("pin", "PIN-код — от 4 до 10 цифр, как в квитанции"), html=True)
    assertContains(
        response,
        summary(
            '<li><a href="#id_number">Номер лицевого счёта — 12 цифр, как в квитанции</a></li>',
            '<li><a href="#id_pin">PIN-код — от 4 до 10 цифр, как в квитанции</a></li>',
        ),
        html=True,
    )
    html = response.content.decode()
    assert 'value="7700-12"' in input_tag(html, "number")
    assert 'aria-invalid="true"' in input_tag(html, "pin")
    assert "value=" not in input_tag(html, "pin")
    assert AccountLink.objects.count() == LinkAttempt.objects.count() == 0


def test_empty_fields_are_asked_for(me: Browser, account: PersonalAccount) -> None:
    response = link_post(me, number="", pin="")

    assertContains(response, field_error("number", "Введите номер лицевого счёта из квитанции"), html=True)
    assertContains(response, field_error("pin", "Введите PIN-код из квитанции"), html=True)
    assert LinkAttempt.objects.count() == 0


def test_when_no_supplier_takes_a_proof_the_portal_can_check(
    me: Browser, supplier: Supplier, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(proofs._CHECKS, "last_charge")  # an install that cannot check it
    proofs_accept(supplier, "last_charge")

    page = me.get("/accounts/link/")
    assertContains(page, "Сейчас привязать лицевой счёт в личном кабинете нельзя")
    assertNotContains(page, 'name="number"')

    response = link_post(me, pin=PIN)
    assert response.status_code == 200
    assert LinkAttempt.objects.count() == 0


def test_the_proof_is_kept_out_of_error_reports(me: Browser, account: PersonalAccount) -> None:
    response = link_post(me, pin="000000")

    request = response.wsgi_request  # type: ignore[attr-defined]
    assert sorted(request.sensitive_post_parameters) == ["last_charge", "meter_value", "pin"]


# --- The list, the default account, renaming, unlinking ----------------------------------------


def test_an_empty_list_leads_to_the_assistant(me: Browser) -> None:
    page = me.get("/accounts/")

    assertContains(page, "<h1>Мои лицевые счета</h1>", html=True)
    assertContains(page, "У вас пока нет привязанных лицевых счетов.")
    assertContains(page, '<a class="button" href="/accounts/link/">Привязать лицевой счёт</a>', html=True)
    assertContains(page, '<a class="site-nav__link" href="/accounts/" aria-current="page">Мои счета</a>', html=True)


def test_the_list_shows_each_account(
    me: Browser, maria: User, supplier: Supplier, supplier_kaliningrad: Supplier
) -> None:
    home = account_make(supplier=supplier)
    dacha = account_make(
        supplier=supplier_kaliningrad,
        number="390000000007",
        locality="г. Зеленоградск",
        street="ул. Морская",
        house="5",
        apartment="",
        postal_code="238530",
        region="Калининградская область",
    )
    link_make(maria, home, is_default=True)
    link_make(maria, dacha, name="Дача")

    page = me.get("/accounts/")

    assertContains(
        page,
        f'<h2 class="account-card__title" id="account-{home.pk}"><a href="/accounts/{home.pk}/">'
        f'{HOME}</a> <span class="badge badge--ok">основной</span></h2>',
        html=True,
    )
    assertContains(
        page,
        f'<h2 class="account-card__title" id="account-{dacha.pk}"><a href="/accounts/{dacha.pk}/">Дача</a></h2>',
        html=True,
    )
    assertContains(
        page,
        f'<div class="props__row"><dt>Лицевой счёт</dt><dd class="nowrap">39{NBSP}0000{NBSP}000007</dd></div>',
        html=True,
    )
    assertContains(
        page, '<div class="props__row"><dt>Поставщик</dt><dd>Калининградская газовая компания</dd></div>', html=True
    )
    assertContains(
        page,
        f'<div class="props__row"><dt>Адрес</dt><dd>238530, Калининградская область, г.{NBSP}Зеленоградск, '
        f"ул.{NBSP}Морская, д.{NBSP}5</dd></div>",
        html=True,
    )
    assertContains(page, '<span class="badge badge--ok">действует</span>', count=2)
    # the default one first; only the other can be made the default
    html = page.content.decode()
    assert html.index(f"account-{home.pk}") < html.index(f"account-{dacha.pk}")
    assertContains(page, f'action="/accounts/{dacha.pk}/default/"', count=1)
    assertNotContains(page, f'action="/accounts/{home.pk}/default/"')
    assertContains(page, f'href="/accounts/{dacha.pk}/unlink/"')
    assertContains(page, f'href="/accounts/{dacha.pk}/settings/"')


def test_make_another_account_the_default(me: Browser, maria: User, supplier: Supplier) -> None:
    first = link_make(maria, account_make(supplier=supplier), is_default=True)
    second = link_make(maria, account_make(supplier=supplier, number="770000000002"))

    assert me.get(f"/accounts/{second.account_id}/default/").status_code == 405
    response = me.post(f"/accounts/{second.account_id}/default/")

    assertRedirects(response, "/accounts/", fetch_redirect_response=False)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)
    assertContains(
        me.get("/accounts/"), f"Основной счёт — 77{NBSP}0000{NBSP}000002. Его страница откроется сразу после входа."
    )
    assertRedirects(me.get("/home/"), f"/accounts/{second.account_id}/", fetch_redirect_response=False)


def test_rename_and_make_default(me: Browser, maria: User, account: PersonalAccount) -> None:
    link = link_make(maria, account)

    page = me.get(f"/accounts/{account.pk}/settings/")
    assertContains(page, "<h1>Название и основной счёт</h1>", html=True)
    html = page.content.decode()
    assert 'maxlength="40"' in input_tag(html, "name")
    assert "checked" not in input_tag(html, "make_default")

    response = me.post(f"/accounts/{account.pk}/settings/", {"name": "  Дом   у  реки ", "make_default": "on"})

    assertRedirects(response, f"/accounts/{account.pk}/", fetch_redirect_response=False)
    link.refresh_from_db()
    assert (link.name, link.is_default) == ("Дом у реки", True)
    audit = AuditRecord.objects.get(action="account.link_update")
    assert (audit.before, audit.after, audit.channel, audit.ip) == (
        {"name": "", "is_default": False},
        {"name": "Дом у реки", "is_default": True},
        "web",
        IP,
    )
    detail = me.get(f"/accounts/{account.pk}/")
    assertContains(detail, '<h1 class="account-head__title">Дом у реки</h1>', html=True)
    assertContains(detail, f"<span>{HOME}</span>", html=True)  # the name given, the address still said
    assertContains(detail, "Изменения сохранены.")

    # unticked: no longer the default; an empty name: the address again
    me.post(f"/accounts/{account.pk}/settings/", {"name": ""})
    link.refresh_from_db()
    assert (link.name, link.is_default) == ("", False)


def test_a_name_too_long_is_refused(me: Browser, maria: User, account: PersonalAccount) -> None:
    link = link_make(maria, account, name="Дом")

    response = me.post(f"/accounts/{account.pk}/settings/", {"name": "Д" * 41, "make_default": "on"})

    assert response.status_code == 200
    assertContains(response, field_error("name", "Название — не длиннее 40 символов"), html=True)
    link.refresh_from_db()
    assert (link.name, link.is_default) == ("Дом", False)
    assert AuditRecord.objects.filter(action="account.link_update").count() == 0


def test_unlink_after_confirming(me: Browser, maria: User, account: PersonalAccount) -> None:
    link_make(maria, account, name="Мама")
    someone = user_make(phone="+79030000001")
    link_make(someone, account)

    page = me.get(f"/accounts/{account.pk}/unlink/")
    assertContains(page, "<h1>Отвязать лицевой счёт?</h1>", html=True)
    assertContains(page, "Сам лицевой счёт и договор с поставщиком газа не меняются")
    assertContains(page, '<button class="button button--danger" type="submit">Да, отвязать счёт</button>', html=True)
    assert AccountLink.objects.filter(user=maria).count() == 1  # looking is not unlinking

    response = me.post(f"/accounts/{account.pk}/unlink/")

    assertRedirects(response, "/accounts/", fetch_redirect_response=False)
    assert not AccountLink.objects.filter(user=maria).exists()
    assert AccountLink.objects.filter(user=someone, account=account).exists()  # theirs stays
    assert PersonalAccount.objects.filter(pk=account.pk).exists()
    audit = AuditRecord.objects.get(action="account.unlink")
    assert (audit.actor_id, audit.channel, audit.ip) == (maria.pk, "web", IP)
    assertContains(me.get("/accounts/"), f"Лицевой счёт {SHOWN} больше не показывается в вашем кабинете.")
    assert me.get(f"/accounts/{account.pk}/").status_code == 404


# --- The first page after login ------------------------------------------------------------------


def test_home_without_accounts_is_the_assistant(me: Browser) -> None:
    assertRedirects(me.get("/home/"), "/accounts/link/", fetch_redirect_response=False)


def test_home_with_one_account_is_its_page(me: Browser, maria: User, account: PersonalAccount) -> None:
    link_make(maria, account)

    assertRedirects(me.get("/home/"), f"/accounts/{account.pk}/", fetch_redirect_response=False)


def test_home_with_several_and_no_default_is_the_list(me: Browser, maria: User, supplier: Supplier) -> None:
    link_make(maria, account_make(supplier=supplier))
    link_make(maria, account_make(supplier=supplier, number="770000000002"))

    assertRedirects(me.get("/home/"), "/accounts/", fetch_redirect_response=False)


def test_login_goes_home_unless_it_was_sent_elsewhere(browser: Browser, maria: User, account: PersonalAccount) -> None:
    link_make(maria, account)

    response = browser.post("/login/", {"login": PHONE, "password": PASSWORD})
    assertRedirects(response, "/home/", fetch_redirect_response=False)
    assertRedirects(browser.get("/home/"), f"/accounts/{account.pk}/", fetch_redirect_response=False)

    browser.post("/logout/")
    assertRedirects(browser.get("/accounts/"), "/login/?next=/accounts/", fetch_redirect_response=False)
    response = browser.post("/login/", {"login": PHONE, "password": PASSWORD, "next": "/accounts/"})
    assertRedirects(response, "/accounts/", fetch_redirect_response=False)


# --- The account's page ------------------------------------------------------------------------


@pytest.fixture
def furnished(account: PersonalAccount) -> PersonalAccount:
    """An account with what its page shows: two meters (one to be verified soon, one past it),
    equipment, a supply contract and a maintenance contract that ends soon."""
    account.heated_area = Decimal("45.50")
    account.uses_water_heating = True
    account.save()
    soon = meter_make(account=account, serial="0412345", verification_due_on=dt.date(2026, 12, 20))
    reading_make(soon, Period(2026, 10), "1234.500", dt.datetime(2026, 10, 20, 7, 30, tzinfo=dt.UTC))
    meter_make(account=account, serial="0987654", model="ВК G4", verification_due_on=dt.date(2026, 11, 1))
    GasEquipment.objects.create(
        account=account, kind=EquipmentKind.STOVE, model="Гефест 3200", installed_on=dt.date(2015, 4, 1)
    )
    Contract.objects.create(
        account=account,
        kind=ContractKind.SUPPLY,
        number="ГП-2015/1234",
        contractor="",
        signed_on=dt.date(2015, 4, 1),
        valid_from=dt.date(2015, 4, 1),
    )
    Contract.objects.create(
        account=account,
        kind=ContractKind.VDGO,
        number="ТО-77/2024",
        contractor="АО «Мособлгаз»",
        signed_on=dt.date(2024, 1, 9),
        valid_from=dt.date(2024, 1, 10),
        valid_to=dt.date(2027, 1, 9),
        status=ContractStatus.ACTIVE,
    )
    return account


def test_the_account_page(me: Browser, maria: User, supplier: Supplier, furnished: PersonalAccount) -> None:
    link_make(maria, furnished)
    supplier.phones = "+7 (495) 123-45-67; приёмная: 8 (4967) 55-12-00"
    supplier.save()

    page = me.get(f"/accounts/{furnished.pk}/")

    assert page.status_code == 200
    assertContains(page, f'<h1 class="account-head__title">{HOME}</h1>', html=True)
    # the holder, masked; the address
    assertContains(page, '<div class="props__row"><dt>Владелец счёта</dt><dd>Иванова М. П.</dd></div>', html=True)
    assertNotContains(page, "Мария")
    assertNotContains(page, "Петровна")
    assertContains(
        page,
        f'<div class="props__row"><dt>Адрес</dt><dd>{HOME_FULL}</dd></div>',
        html=True,
    )
    # the parameters
    assertContains(page, '<div class="props__row"><dt>Проживает</dt><dd>3 чел.</dd></div>', html=True)
    assertContains(page, '<div class="props__row"><dt>Отапливаемая площадь</dt><dd>45,5 м²</dd></div>', html=True)
    assertContains(
        page, '<div class="props__row"><dt>Центральное горячее водоснабжение</dt><dd>нет</dd></div>', html=True
    )
    assertContains(
        page,
        '<div class="props__row"><dt>Направления использования газа</dt>'
        "<dd>пищеприготовление, подогрев воды</dd></div>",
        html=True,
    )
    assertContains(page, "Газовая плита")
    assertContains(page, "Гефест 3200")
    # the meters: the last reading, the verification with its warning
    assertContains(page, '<h3 class="item__title">СГМН-1 G6 <span class="nowrap">№\xa00412345</span></h3>', html=True)
    assertContains(page, '<strong class="nowrap">1\u202f234,5 м³</strong>')
    assertContains(page, "за октябрь 2026, передано 20.10.2026")
    assertContains(
        page,
        '<div class="alert alert--soon"><p class="alert__title">Скоро заканчивается срок поверки</p>'
        "<p>Срок поверки счётчика истекает 20.12.2026. После этой даты его показания не принимаются к расчёту "
        "и газ начисляется по нормативу потребления, обычно это дороже. Закажите поверку или замену счётчика "
        "заранее.</p></div>",
        html=True,
    )
    assertContains(page, '<h3 class="item__title">ВК G4 <span class="nowrap">№\xa00987654</span></h3>', html=True)
    assertContains(
        page,
        '<div class="alert alert--passed"><p class="alert__title">Срок поверки истёк</p>'
        "<p>Срок поверки счётчика истёк 01.11.2026. Его показания не принимаются к расчёту: газ начисляется "
        "по нормативу потребления. Проведите поверку или замените счётчик и сообщите об этом поставщику.</p></div>",
        html=True,
    )
    assertContains(page, '<span class="muted">ещё не передавали</span>', html=True)
    # the contracts, the one ending soon with its warning
    assertContains(page, '<h3 class="item__title">Договор поставки газа</h3>', html=True)
    assertContains(page, '<div class="props__row"><dt>Номер</dt><dd>ГП-2015/1234</dd></div>', html=True)
    assertContains(page, '<div class="props__row"><dt>Действует</dt><dd>с 01.04.2015, бессрочно</dd></div>', html=True)
    assertContains(page, '<h3 class="item__title">Договор о техническом обслуживании ВДГО</h3>', html=True)
    assertContains(page, '<div class="props__row"><dt>Исполнитель</dt><dd>АО «Мособлгаз»</dd></div>', html=True)
    assertContains(
        page, '<div class="props__row"><dt>Действует</dt><dd>с 10.01.2024 по 09.01.2027</dd></div>', html=True
    )
    assertContains(
        page,
        '<div class="alert alert--soon"><p class="alert__title">Скоро заканчивается срок договора</p>'
        "<p>Договор о техническом обслуживании газового оборудования действует до 09.01.2027. Заключите новый "
        "заранее: без действующего договора ТО ВДГО поставку газа могут приостановить.</p></div>",
        html=True,
    )
    # the supplier and its contacts
    assertContains(page, '<a class="phone" href="tel:88001000001">8 800 100-00-01</a>', html=True)
    assertContains(page, '<a class="break" href="mailto:info@gaz-msk.example">info@gaz-msk.example</a>', html=True)
    assertContains(page, "пн–пт 8:00–20:00")
    assertContains(
        page,
        '<dd><a class="contact" href="tel:+74951234567">+7 (495) 123-45-67</a><br>'
        '<a class="contact" href="tel:84967551200">приёмная: 8 (4967) 55-12-00</a></dd>',
        html=True,
    )
    # one account: no switcher; nothing about money yet
    assertNotContains(page, "switcher")
    assertNotContains(page, "₽")
    assertContains(page, '<a class="site-nav__link" href="/accounts/" aria-current="true">Мои счета</a>', html=True)


def test_an_account_with_nothing_yet(me: Browser, maria: User, account: PersonalAccount) -> None:
    link_make(maria, account)

    page = me.get(f"/accounts/{account.pk}/")

    assertContains(page, "Счётчиков нет: газ начисляется по нормативу потребления.")
    assertContains(page, "Договоров в кабинете пока нет.")
    assertContains(page, "Сведений об оборудовании нет.")
    assertContains(page, '<div class="props__row"><dt>Отапливаемая площадь</dt><dd>нет</dd></div>', html=True)


def test_the_switcher_between_accounts(me: Browser, maria: User, supplier: Supplier) -> None:
    home = account_make(supplier=supplier)
    dacha = account_make(supplier=supplier, number="770000000002")
    link_make(maria, home)
    link_make(maria, dacha, name="Дача")

    page = me.get(f"/accounts/{dacha.pk}/")

    assertContains(page, '<nav class="switcher" aria-label="Ваши лицевые счета">')
    assertContains(page, '<summary class="switcher__summary">Сменить счёт (всего 2)</summary>', html=True)
    assertContains(
        page,
        f'<a class="switcher__link" href="/accounts/{dacha.pk}/" aria-current="page">'
        f'<span class="switcher__name">Дача</span><span class="switcher__number">77{NBSP}0000{NBSP}000002</span></a>',
        html=True,
    )
    assertContains(
        page,
        f'<a class="switcher__link" href="/accounts/{home.pk}/">'
        f'<span class="switcher__name">{HOME}</span>'
        f'<span class="switcher__number">{SHOWN}</span></a>',
        html=True,
    )
    assertContains(page, 'aria-current="page"', count=1)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/accounts/{id}/"),
        ("get", "/accounts/{id}/settings/"),
        ("post", "/accounts/{id}/settings/"),
        ("get", "/accounts/{id}/unlink/"),
        ("post", "/accounts/{id}/unlink/"),
        ("post", "/accounts/{id}/default/"),
    ],
)
def test_another_persons_account_is_not_found(me: Browser, furnished: PersonalAccount, method: str, path: str) -> None:
    owner = user_make(phone="+79030000001")
    link = link_make(owner, furnished, name="Моя квартира")

    url = path.format(id=furnished.pk)
    response = me.get(url) if method == "get" else me.post(url, {"name": "Чужое", "make_default": "on"})

    assert response.status_code == 404
    for secret in ("770000000001", SHOWN, "Садовая", "Иванова", "Моя квартира", "0412345"):
        assertNotContains(response, secret, status_code=404)
    link.refresh_from_db()
    assert (link.name, link.is_default) == ("Моя квартира", False)
    assert AuditRecord.objects.count() == 0


def test_an_account_that_does_not_exist_is_not_found(me: Browser) -> None:
    assert me.get("/accounts/999999/").status_code == 404


# --- Every page --------------------------------------------------------------------------------

PAGES = ["/accounts/", "/accounts/link/", "/accounts/{id}/", "/accounts/{id}/settings/", "/accounts/{id}/unlink/"]


@pytest.mark.parametrize("path", [*PAGES, "/home/", "/accounts/{id}/default/"])
def test_pages_need_login(browser: Browser, account: PersonalAccount, path: str) -> None:
    url = path.format(id=account.pk)

    response = browser.get(url)

    assertRedirects(response, f"/login/?next={url}", fetch_redirect_response=False)


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_private_with_no_inline_code(
    me: Browser, maria: User, furnished: PersonalAccount, supplier_kaliningrad: Supplier, path: str
) -> None:
    link_make(maria, furnished)
    link_make(maria, account_make(supplier=supplier_kaliningrad, number="390000000007"))

    response = me.get(path.format(id=furnished.pk))

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    html = response.content.decode()
    assert inline_code(html) == []
    assert headings_in_order(heading_levels(html)), heading_levels(html)
    forms = re.findall(r'<form[^>]*method="post"[^>]*>(.*?)</form>', html, re.S)
    assert forms
    assert all('name="csrfmiddlewaretoken"' in body for body in forms)


def test_the_assistant_with_errors_is_in_order(me: Browser, supplier: Supplier, supplier_kaliningrad: Supplier) -> None:
    proofs_accept(supplier, "pin", "meter_value")

    response = me.post("/accounts/link/", {})

    html = response.content.decode()
    assert inline_code(html) == []
    assert headings_in_order(heading_levels(html)), heading_levels(html)


def test_the_main_menu_has_my_accounts(me: Browser) -> None:
    assertContains(me.get("/profile/"), '<a class="site-nav__link" href="/accounts/">Мои счета</a>', html=True)


def test_guests_have_no_accounts_in_the_menu(browser: Browser) -> None:
    assertNotContains(browser.get("/login/"), "Мои счета")
