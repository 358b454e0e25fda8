"""Meter readings on the portal: the form with the window and the previous readings, what
became of the values sent (post/redirect/get), the values that cannot be read, a form sent
twice, other people's accounts and meters, and a meter's history."""

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
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.identity.models import User
from abonent.metering import services
from abonent.metering.enums import MeterStatus, ReadingChannel, ReadingStatus
from abonent.metering.models import Meter, Reading
from tests.factories import account_make, meter_make, reading_make
from tests.web.html import heading_levels, headings_in_order, inline_code
from tests.web.identity import IP, NOW, PASSWORD, PHONE, Browser, Clock, user_make

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"
NNBSP = "\u202f"  # between thousands
NOVEMBER = Period(2026, 11)  # NOW is 22.11.2026, inside the window of 15–25 November
OCTOBER = Period(2026, 10)
WINDOW = "Показания за ноябрь 2026 принимаются с 15.11.2026 по 25.11.2026 включительно."


def log_in(browser: Browser, phone: str = PHONE) -> Browser:
    response = browser.post("/login/", {"login": phone, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def link_make(user: User, account: PersonalAccount) -> AccountLink:
    return AccountLink.objects.create(
        user=user, account=account, proof=LinkProof.PIN, channel="web", linked_at=NOW - dt.timedelta(days=1)
    )


@pytest.fixture
def me(browser: Browser, maria: User) -> Browser:
    """Maria, logged in on her phone."""
    return log_in(browser)


@pytest.fixture
def account(supplier: Supplier, maria: User) -> PersonalAccount:
    account = account_make(supplier=supplier)
    link_make(maria, account)
    return account


@pytest.fixture
def meter(account: PersonalAccount) -> Meter:
    """A meter with its reading for October: 1234,5 m³."""
    meter = meter_make(account=account, initial_value=Decimal("3.2"))
    reading_make(meter, OCTOBER, "1234.5")
    return meter


def url(account: PersonalAccount) -> str:
    return f"/accounts/{account.pk}/readings/"


def send(browser: Browser, account: PersonalAccount, values: dict[Meter, str], key: str = "form-1") -> HttpResponse:
    data = {f"meter_{meter.pk}": value for meter, value in values.items()}
    return browser.post(url(account), {"submission_key": key, **data})


def input_tag(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert match is not None, name
    return match.group(0)


def field_error(meter: Meter, text: str) -> str:
    return (
        f'<p class="field__error" id="id_meter_{meter.pk}_error">'
        f'<span class="visually-hidden">Ошибка: </span>{text}</p>'
    )


def web_readings() -> list[tuple[Decimal, Period, str]]:
    return list(
        Reading.objects.filter(channel=ReadingChannel.WEB, period=NOVEMBER).values_list("value", "period", "status")
    )


# --- The form ---------------------------------------------------------------------------------


def test_the_form_shows_the_window_and_the_previous_reading(
    me: Browser, account: PersonalAccount, meter: Meter
) -> None:
    page = me.get(url(account))

    assert page.status_code == 200
    html = page.content.decode()
    assertContains(page, "<h1>Передача показаний</h1>", html=True)
    assertContains(page, f'<p class="window__message">{WINDOW}</p>', html=True)
    assertContains(
        page,
        '<p class="window__zone">В последний день показания принимаются до 24:00 по времени поставщика: '
        "московское время.</p>",
        html=True,
    )
    assertContains(
        page,
        f'<label class="reading__label" for="id_meter_{meter.pk}">СГМН-1 G6 <span class="nowrap">№{NBSP}0412345</span>'
        "</label>",
        html=True,
    )
    assertContains(
        page,
        f'<p class="reading__previous">Предыдущее показание: <strong class="nowrap">1{NNBSP}234,5 м³</strong> '
        "за октябрь 2026, от 20.10.2026.</p>",
        html=True,
    )
    assertContains(
        page, '<p class="field__hint">Цифры со счётчика, например 1234,567. Дробную часть можно не вводить.</p>'
    )
    field = input_tag(html, f"meter_{meter.pk}")
    for attribute in (
        'type="text"',
        'inputmode="decimal"',
        'autocomplete="off"',
        'data-base="1234.500"',
        'data-digits="5"',
        'data-decimals="3"',
        f'aria-describedby="id_meter_{meter.pk}_helptext"',
    ):
        assert attribute in field, (attribute, field)
    assert "value=" not in field
    assertContains(
        page,
        f'<p class="reading__live" id="id_meter_{meter.pk}_live" hidden>Расход: '
        f'<output class="reading__consumption" for="id_meter_{meter.pk}"></output> м³</p>',
        html=True,
    )
    # a new submission key each time the form is shown
    keys = [re.findall(r'<input type="hidden" name="submission_key" value="([0-9a-f]{32})"', html)]
    keys.append(re.findall(r'name="submission_key" value="([0-9a-f]{32})"', me.get(url(account)).content.decode()))
    assert [len(found) for found in keys] == [1, 1]
    assert keys[0] != keys[1]
    assertContains(page, '<script src="/static/web/readings.js" defer></script>', html=True)
    assertContains(page, '<button class="button" type="submit">Отправить показания</button>', html=True)
    assert inline_code(html) == []
    assert headings_in_order(heading_levels(html)), heading_levels(html)
    assert "no-cache" in page["Cache-Control"]
    assert "private" in page["Cache-Control"]


def test_the_time_zone_is_the_suppliers(
    browser: Browser, maria: User, supplier_kaliningrad: Supplier, clock: Clock
) -> None:
    account = account_make(supplier=supplier_kaliningrad, number="390000000007")
    link_make(maria, account)
    meter_make(account=account, decimals=0)
    clock.at = dt.datetime(2026, 11, 25, 21, 30, tzinfo=dt.UTC)  # 23:30 in Kaliningrad, 00:30 in Moscow

    page = log_in(browser).get(url(account))

    assertContains(
        page,
        '<p class="window__message">Показания за ноябрь 2026 принимаются с 15.11.2026 по 25.11.2026 '
        "включительно. Сегодня последний день.</p>",
        html=True,
    )
    assertContains(page, "по времени поставщика: калининградское время (МСК−1).")
    assertContains(page, '<p class="field__hint">Только целые кубометры, например 1234.</p>', html=True)
    assertContains(
        page,
        '<p class="reading__previous">Показаний ещё не передавали: расход считается от показания при установке, '
        '<strong class="nowrap">0 м³</strong>.</p>',
        html=True,
    )


def test_a_reading_sent_already_a_removed_meter_and_one_past_its_verification(
    me: Browser, account: PersonalAccount, meter: Meter
) -> None:
    reading_make(
        meter,
        NOVEMBER,
        "1300.25",
        read_on=dt.date(2026, 11, 18),
        submitted_at=dt.datetime(2026, 11, 18, 8, tzinfo=dt.UTC),
    )
    expired = meter_make(account=account, serial="0987654", model="ВК G4", verification_due_on=dt.date(2026, 11, 1))
    removed = meter_make(account=account, serial="5555", status=MeterStatus.REMOVED, installed_on=dt.date(2010, 1, 1))

    page = me.get(url(account))

    html = page.content.decode()
    assertContains(
        page,
        f'<p class="alert alert--info">Показание за ноябрь 2026 уже передано: <strong class="nowrap">1{NNBSP}300,25 м³</strong>, '
        "18.11.2026. Новое показание заменит его.</p>",
        html=True,
    )
    # the base of a correction is still October's reading
    assert 'data-base="1234.500"' in input_tag(html, f"meter_{meter.pk}")
    assertContains(
        page,
        '<p class="alert alert--passed">Срок поверки истёк 01.11.2026: показание сохранится, но не будет учтено '
        "в расчёте — газ начисляется по нормативу.</p>",
        html=True,
    )
    assert f'name="meter_{expired.pk}"' in html
    assert f'name="meter_{removed.pk}"' not in html
    assertContains(page, '<p class="reading__refusal">Счётчик снят: показания по нему не принимаются.</p>', html=True)


def test_a_supplier_that_takes_no_readings_in_the_portal(
    me: Browser, supplier: Supplier, account: PersonalAccount, meter: Meter
) -> None:
    SupplierTerms.objects.filter(supplier=supplier).update(readings_allowed=False)

    page = me.get(url(account))

    assertContains(page, "Поставщик не принимает показания через личный кабинет: передайте их по телефону.")
    assertContains(page, '<a class="phone" href="tel:88001000001">8 800 100-00-01</a>', html=True)
    assertNotContains(page, '<form class="form card readings-form"')
    assertNotContains(page, "readings.js")
    # the account's page says so instead of offering the form
    detail = me.get(f"/accounts/{account.pk}/")
    assertContains(detail, "Поставщик не принимает показания через личный кабинет")
    assertNotContains(detail, "Передать показания")


# --- Sending ------------------------------------------------------------------------------------


def test_good_values_are_stored_and_the_results_shown(
    me: Browser, maria: User, account: PersonalAccount, meter: Meter
) -> None:
    second = meter_make(account=account, serial="0987654", model="ВК G4")
    reading_make(second, OCTOBER, "500")

    response = send(me, account, {meter: " 1 300,25 ", second: "512.5"}, key="f1")

    assertRedirects(response, f"/accounts/{account.pk}/readings/sent/", fetch_redirect_response=False)
    stored = Reading.objects.filter(period=NOVEMBER).order_by("meter_id")
    assert [
        (r.meter, r.value, r.consumption, r.channel, r.status, r.submitted_by, r.read_on, r.submission_key)
        for r in stored
    ] == [
        (
            meter,
            Decimal("1300.25"),
            Decimal("65.75"),
            "web",
            "accepted",
            maria,
            dt.date(2026, 11, 22),
            f"f1:{meter.pk}",
        ),
        (second, Decimal("512.5"), Decimal("12.5"), "web", "accepted", maria, dt.date(2026, 11, 22), f"f1:{second.pk}"),
    ]
    assert list(AuditRecord.objects.filter(action="reading_submit").values_list("ip", "channel")) == [
        (IP, "web"),
        (IP, "web"),
    ]

    page = me.get(response["Location"])

    assert page.status_code == 200
    assertContains(page, "<h1>Показания переданы</h1>", html=True)
    assertContains(page, '<p class="result__status">Принято</p>', count=2, html=True)
    assertContains(
        page,
        f'<div class="props__row"><dt>Показание</dt><dd><strong class="nowrap">1{NNBSP}300,25 м³</strong></dd></div>',
        html=True,
    )
    assertContains(
        page,
        '<div class="props__row"><dt>Расход за ноябрь 2026</dt><dd class="nowrap">65,75 м³</dd></div>',
        html=True,
    )
    assertContains(
        page,
        '<div class="props__row"><dt>Расход за ноябрь 2026</dt><dd class="nowrap">12,5 м³</dd></div>',
        html=True,
    )
    assertContains(
        page,
        f'<a class="link-block" href="/accounts/{account.pk}/meters/{meter.pk}/">История показаний'
        '<span class="visually-hidden"> — СГМН-1 G6 № 0412345</span></a>',
        html=True,
    )
    assert inline_code(page.content.decode()) == []
    assert headings_in_order(heading_levels(page.content.decode()))
    # reloading the page sends nothing again
    assert me.get(response["Location"]).status_code == 200
    assert Reading.objects.filter(period=NOVEMBER).count() == 2


@pytest.mark.parametrize("typed", ["1300,25", "1300.25", "1 300,250", "01300,25"])
def test_a_comma_or_a_dot(me: Browser, account: PersonalAccount, meter: Meter, typed: str) -> None:
    response = send(me, account, {meter: typed})

    assert response.status_code == 302
    assert web_readings() == [(Decimal("1300.250"), NOVEMBER, "accepted")]


def test_each_meter_accepted_or_refused_on_its_own(me: Browser, account: PersonalAccount, meter: Meter) -> None:
    second = meter_make(account=account, serial="0987654", model="ВК G4")
    reading_make(second, OCTOBER, "500")
    expired = meter_make(account=account, serial="77", model="Гранд-4", verification_due_on=dt.date(2026, 11, 1))

    response = send(me, account, {meter: "1300", second: "400", expired: "10"})
    page = me.get(response["Location"])

    assertContains(page, "<h1>Приняты не все показания</h1>", html=True)
    assertContains(page, '<p class="result__status">Принято</p>', count=1, html=True)
    assertContains(
        page,
        '<p class="result__status">Не принято: Показание меньше предыдущего (500 м³ за октябрь 2026). '
        "Проверьте цифры до запятой; если счётчик заменён или обнулился, сообщите поставщику</p>",
        html=True,
    )
    assertContains(page, '<div class="props__row"><dt>Вы ввели</dt><dd class="break">400</dd></div>', html=True)
    assertContains(
        page,
        f'<a class="link-block" href="/accounts/{account.pk}/readings/">Исправить и отправить снова</a>',
        html=True,
    )
    assertContains(
        page,
        '<p class="result__status">Принято, но не будет учтено в расчёте: истёк срок поверки</p>',
        html=True,
    )
    assertContains(
        page, '<div class="props__row"><dt>Расход за ноябрь 2026</dt><dd class="nowrap">10 м³</dd></div>', html=True
    )
    assert sorted(web_readings()) == [
        (Decimal("10.000"), NOVEMBER, ReadingStatus.NOT_FOR_BILLING),
        (Decimal("1300.000"), NOVEMBER, ReadingStatus.ACCEPTED),
    ]


BAD_VALUES = [
    ("-5", "Показание не может быть отрицательным: введите число со счётчика без знака «минус»"),
    ("много", "Введите показание цифрами, например 1234 или 1234,567"),
    ("12a", "Введите показание цифрами, например 1234 или 1234,567"),
    ("123456", "У этого счётчика 5 цифр до запятой: показание не может быть больше 99999,999"),
    ("1300,1234", "Для этого счётчика укажите не больше 3 знаков после запятой"),
    ("1,300.5", "Введите показание цифрами, например 1234 или 1234,567"),
    ("١٢٣٤", "Введите показание цифрами, например 1234 или 1234,567"),  # Arabic-Indic digits
    ("9" * 400, "У этого счётчика 5 цифр до запятой: показание не может быть больше 99999,999"),
]


@pytest.mark.parametrize(("typed", "error"), BAD_VALUES)
def test_a_value_that_cannot_be_read_is_said_next_to_its_field_and_nothing_is_stored(
    me: Browser, account: PersonalAccount, meter: Meter, typed: str, error: str
) -> None:
    second = meter_make(account=account, serial="0987654", model="ВК G4")

    response = send(me, account, {meter: typed, second: "10"})

    assert response.status_code == 200
    assertContains(response, field_error(meter, error), html=True)
    assertContains(
        response,
        f'<ul class="error-summary__list"><li><a href="#id_meter_{meter.pk}">{error}</a></li></ul>',
        html=True,
    )
    html = response.content.decode()
    assert 'aria-invalid="true"' in input_tag(html, f"meter_{meter.pk}")
    assert f'aria-describedby="id_meter_{meter.pk}_helptext id_meter_{meter.pk}_error"' in input_tag(
        html, f"meter_{meter.pk}"
    )
    # what was typed is kept, the other meter's value too, and the same key
    assert f'value="{typed}"' in input_tag(html, f"meter_{meter.pk}")
    assert 'value="10"' in input_tag(html, f"meter_{second.pk}")
    assert 'value="form-1"' in input_tag(html, "submission_key")
    assert Reading.objects.filter(period=NOVEMBER).count() == 0
    assert not AuditRecord.objects.filter(action__startswith="reading").exists()
    assert inline_code(html) == []
    assert headings_in_order(heading_levels(html)), heading_levels(html)


def test_an_empty_form_asks_for_a_value(me: Browser, account: PersonalAccount, meter: Meter) -> None:
    response = send(me, account, {meter: "   "})

    assert response.status_code == 200
    assertContains(
        response,
        '<ul class="error-summary__list"><li>Введите показание хотя бы одного счётчика</li></ul>',
        html=True,
    )
    assert Reading.objects.filter(period=NOVEMBER).count() == 0


def test_the_same_form_sent_twice_stores_one_reading(me: Browser, account: PersonalAccount, meter: Meter) -> None:
    first = send(me, account, {meter: "1300"}, key="double-click")
    again = send(me, account, {meter: "1300"}, key="double-click")

    assert first.status_code == again.status_code == 302
    assert web_readings() == [(Decimal("1300.000"), NOVEMBER, "accepted")]
    assert AuditRecord.objects.filter(action__startswith="reading").count() == 1
    assertContains(me.get(again["Location"]), '<p class="result__status">Принято</p>', html=True)


def test_a_form_sent_again_after_its_reading_changed_says_what_became_of_it(
    me: Browser, account: PersonalAccount, meter: Meter
) -> None:
    """A POST resent later answers with the reading it made, which was corrected since or
    rejected by an operator: the page does not call it simply «Принято»."""
    send(me, account, {meter: "1300"}, key="old-form")
    send(me, account, {meter: "1290"}, key="new-form")

    corrected = me.get(send(me, account, {meter: "1300"}, key="old-form")["Location"])

    assertContains(
        corrected, '<p class="result__status">Принято, но позже заменено исправленным показанием</p>', html=True
    )
    operator = user_make(phone="+79000000002", is_staff=True, first_name="Ольга", last_name="Смирнова")
    standing = Reading.objects.get(period=NOVEMBER, status=ReadingStatus.ACCEPTED)
    services.reading_reject(operator=operator, reading_id=standing.pk, reason="Контролёр снял 1250 м³", now=NOW)

    rejected = me.get(send(me, account, {meter: "1290"}, key="new-form")["Location"])

    assertContains(rejected, "<h1>Показания не приняты</h1>", html=True)
    assertContains(rejected, '<p class="result__status">Не принято: Контролёр снял 1250 м³</p>', html=True)
    assert Reading.objects.filter(period=NOVEMBER).count() == 2


def test_a_correction_replaces_the_reading_and_the_history_keeps_both(
    me: Browser, account: PersonalAccount, meter: Meter, clock: Clock
) -> None:
    send(me, account, {meter: "1300"}, key="first")
    clock.advance(days=1)
    log_in(me)  # the session of yesterday has ended

    form = me.get(url(account))
    assertContains(form, "Показание за ноябрь 2026 уже передано:")
    response = send(me, account, {meter: "1290,5"}, key="second")

    page = me.get(response["Location"])
    assertContains(
        page,
        f'<div class="props__row"><dt>Заменило показание</dt><dd class="nowrap">1{NNBSP}300 м³</dd></div>',
        html=True,
    )
    assertContains(
        page, '<div class="props__row"><dt>Расход за ноябрь 2026</dt><dd class="nowrap">56 м³</dd></div>', html=True
    )
    assert sorted(web_readings()) == [
        (Decimal("1290.500"), NOVEMBER, ReadingStatus.ACCEPTED),
        (Decimal("1300.000"), NOVEMBER, ReadingStatus.SUPERSEDED),
    ]

    history = me.get(f"/accounts/{account.pk}/meters/{meter.pk}/")

    rows = re.findall(r'<tr class="history-table__row[^"]*">.*?</tr>', history.content.decode(), re.S)
    assert [_cells(row) for row in rows] == [
        ["Ноябрь 2026", "23.11.2026", "1 290,5", "56", "Личный кабинет", "принято вместо 1 300 м³"],
        ["Ноябрь 2026", "22.11.2026", "1 300", "65,5", "Личный кабинет", "исправлено"],
        ["Октябрь 2026", "20.10.2026", "1 234,5", "1 231,3", "Личный кабинет", "принято"],
    ]
    assert 'class="history-table__row history-table__row--past"' in rows[1]


def _cells(row: str) -> list[str]:
    """The text of a row's cells, spaces between words as they read."""
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).replace(NNBSP, " ").split()) for cell in cells]


def test_the_results_page_without_a_form_sent_is_the_form(me: Browser, account: PersonalAccount, meter: Meter) -> None:
    response = me.get(f"/accounts/{account.pk}/readings/sent/")

    assertRedirects(response, url(account), fetch_redirect_response=False)


# --- Other people's accounts and meters ------------------------------------------------------------


@pytest.fixture
def strangers(supplier: Supplier) -> tuple[PersonalAccount, Meter]:
    """Someone else's account with a meter."""
    owner = user_make(phone="+79030000001")
    account = account_make(supplier=supplier, number="770000000002", street="ул. Лесная")
    link_make(owner, account)
    meter = meter_make(account=account, serial="9990001")
    reading_make(meter, OCTOBER, "700")
    return account, meter


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_persons_account_is_not_found(
    me: Browser, strangers: tuple[PersonalAccount, Meter], method: str
) -> None:
    account, meter = strangers

    response = me.get(url(account)) if method == "get" else send(me, account, {meter: "710"})

    assert response.status_code == 404
    for secret in ("770000000002", "Лесная", "9990001"):
        assertNotContains(response, secret, status_code=404)
    assert Reading.objects.filter(period=NOVEMBER).count() == 0
    assert me.get(f"/accounts/{account.pk}/readings/sent/").status_code == 404


def test_another_accounts_meter_in_the_form_is_not_found_and_nothing_is_stored(
    me: Browser, account: PersonalAccount, meter: Meter, strangers: tuple[PersonalAccount, Meter]
) -> None:
    _, theirs = strangers

    response = send(me, account, {meter: "1300", theirs: "710"})

    assert response.status_code == 404
    assert Reading.objects.filter(period=NOVEMBER).count() == 0
    assert not AuditRecord.objects.filter(action__startswith="reading").exists()


@pytest.mark.parametrize("name", ["meter_99999999999999999999", "meter_9223372036854775808"])
def test_a_meter_id_no_meter_can_have_is_not_found(
    me: Browser, account: PersonalAccount, meter: Meter, name: str
) -> None:
    response = me.post(url(account), {"submission_key": "k", f"meter_{meter.pk}": "1300", name: "1"})

    assert response.status_code == 404
    assert Reading.objects.filter(period=NOVEMBER).count() == 0


def test_another_persons_meter_history_is_not_found(
    me: Browser, account: PersonalAccount, meter: Meter, strangers: tuple[PersonalAccount, Meter]
) -> None:
    theirs_account, theirs = strangers

    for path in (
        f"/accounts/{theirs_account.pk}/meters/{theirs.pk}/",  # their account
        f"/accounts/{account.pk}/meters/{theirs.pk}/",  # their meter under my account
        f"/accounts/{theirs_account.pk}/meters/{meter.pk}/",  # my meter under their account
        f"/accounts/{account.pk}/meters/999999/",
    ):
        response = me.get(path)
        assert response.status_code == 404, path
        assertNotContains(response, "9990001", status_code=404)


@pytest.mark.parametrize(
    "path", ["/accounts/{id}/readings/", "/accounts/{id}/readings/sent/", "/accounts/{id}/meters/{meter}/"]
)
def test_pages_need_login(browser: Browser, account: PersonalAccount, meter: Meter, path: str) -> None:
    target = path.format(id=account.pk, meter=meter.pk)

    response = browser.get(target)

    assertRedirects(response, f"/login/?next={target}", fetch_redirect_response=False)


# --- A meter's history --------------------------------------------------------------------------


def test_the_history_of_a_meter(me: Browser, account: PersonalAccount, meter: Meter) -> None:
    operator = user_make(phone="+79000000002", is_staff=True, first_name="Ольга", last_name="Смирнова")
    meter.verification_due_on = dt.date(2029, 6, 1)
    meter.save()
    reading_make(
        meter,
        Period(2026, 9),
        "1200",
        read_on=None,
        submitted_at=dt.datetime(2026, 9, 24, 22, 30, tzinfo=dt.UTC),  # 25.09 in Moscow
        channel=ReadingChannel.APP,
    )
    services.reading_enter_by_operator(
        operator=operator, meter_id=meter.pk, value="1250", read_on=dt.date(2026, 11, 10), now=NOW
    )
    rejected = reading_make(meter, Period(2026, 8), "1100", channel=ReadingChannel.CONTROLLER)
    services.reading_reject(operator=operator, reading_id=rejected.pk, reason="Контролёр снял 1041 м³", now=NOW)

    page = me.get(f"/accounts/{account.pk}/meters/{meter.pk}/")

    assert page.status_code == 200
    html = page.content.decode()
    assertContains(page, "<h1>История показаний</h1>", html=True)
    assertContains(
        page,
        f'<h2 class="meter-card__title" id="meter-title">СГМН-1 G6 <span class="nowrap">№{NBSP}0412345</span></h2>',
        html=True,
    )
    assertContains(page, '<div class="props__row"><dt>Поверка до</dt><dd>01.06.2029</dd></div>', html=True)
    assertContains(page, '<div class="props__row"><dt>Установлен</dt><dd>01.06.2019</dd></div>', html=True)
    assertContains(
        page, '<div class="props__row"><dt>Показание при установке</dt><dd class="nowrap">3,2 м³</dd></div>', html=True
    )
    rows = re.findall(r'<tr class="history-table__row[^"]*">.*?</tr>', html, re.S)
    assert [_cells(row) for row in rows] == [
        ["Ноябрь 2026", "10.11.2026", "1 250", "15,5", "Оператор: Ольга Смирнова", "принято"],
        ["Октябрь 2026", "20.10.2026", "1 234,5", "34,5", "Личный кабинет", "принято"],
        ["Сентябрь 2026", "25.09.2026", "1 200", "1 196,8", "Мобильное приложение", "принято"],
        ["Август 2026", "20.08.2026", "1 100", "1 096,8", "Контролёр", "отклонено Причина: Контролёр снял 1041 м³"],
    ]
    assertContains(
        page, '<td class="num" data-label="Показание, м³"><span class="nowrap">1\u202f250</span></td>', html=True
    )
    assertContains(
        page, '<th scope="row" class="history-table__period" data-label="Период">Ноябрь 2026</th>', html=True
    )
    assertContains(page, f'<a class="button" href="/accounts/{account.pk}/readings/">Передать показания</a>', html=True)
    assert inline_code(html) == []
    assert headings_in_order(heading_levels(html)), heading_levels(html)


def test_a_removed_meter_with_no_readings(me: Browser, account: PersonalAccount) -> None:
    removed = meter_make(account=account, serial="5555", status=MeterStatus.REMOVED, removed_on=dt.date(2024, 3, 1))

    page = me.get(f"/accounts/{account.pk}/meters/{removed.pk}/")

    assertContains(page, '<div class="props__row"><dt>Состояние</dt><dd>снят 01.03.2024</dd></div>', html=True)
    assertContains(page, '<p class="empty">Показаний по этому счётчику ещё нет.</p>', html=True)
    assertNotContains(page, "Передать показания")


# --- The account's page ---------------------------------------------------------------------------


def test_the_account_page_leads_to_the_form_and_the_histories(
    me: Browser, account: PersonalAccount, meter: Meter
) -> None:
    removed = meter_make(account=account, serial="5555", status=MeterStatus.REMOVED, installed_on=dt.date(2010, 1, 1))

    page = me.get(f"/accounts/{account.pk}/")

    assertContains(page, f'<p class="meters-readings__window">{WINDOW}</p>', html=True)
    assertContains(
        page, f'<a class="button" href="/accounts/{account.pk}/readings/">Передать показания</a>', count=1, html=True
    )
    for one in (meter, removed):
        assertContains(
            page,
            f'<a class="link-block" href="/accounts/{account.pk}/meters/{one.pk}/">История показаний'
            f'<span class="visually-hidden"> — СГМН-1 G6 № {one.serial}</span></a>',
            html=True,
        )
    assertContains(page, '<a class="site-nav__link" href="/accounts/" aria-current="true">Мои счета</a>', html=True)


def test_no_button_when_no_meter_takes_readings(me: Browser, account: PersonalAccount) -> None:
    meter_make(account=account, serial="5555", status=MeterStatus.FAULTY)

    page = me.get(f"/accounts/{account.pk}/")

    assertNotContains(page, "Передать показания")
    assertNotContains(page, "meters-readings")
    assertContains(page, "История показаний")
