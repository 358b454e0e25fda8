"""An account's money on the portal: the balance on the account's page, the charges month
by month with how each was calculated, the penalties by debt, the prices, norms and
benefits, the consumption chart; other people's accounts, a guest, an account never billed.

NOW is 22.11.2026; June–October 2026 are billed (tests/web/money_data.py)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from html import unescape

import pytest
from django.http import HttpResponse
from pytest_django.asserts import assertRedirects

from abonent.core.models import LinkProof, Supplier
from abonent.core.periods import Period
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.identity.models import User
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.services import NewEntry, entries_post
from abonent.web.charts import scale_top
from tests.factories import account_make
from tests.web.html import heading_levels, headings_in_order, inline_code
from tests.web.identity import NOW, PASSWORD, PHONE, Browser, user_make
from tests.web.money_data import Billed, billed_accounts_make

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"
NNBSP = "\u202f"
PAGES = ("charges", "penalties", "tariffs", "consumption")


def log_in(browser: Browser, phone: str = PHONE) -> Browser:
    response = browser.post("/login/", {"login": phone, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def link_make(user: User, account: PersonalAccount) -> AccountLink:
    return AccountLink.objects.create(
        user=user, account=account, proof=LinkProof.PIN, channel="web", linked_at=NOW - dt.timedelta(days=1)
    )


def text(response: HttpResponse) -> str:
    """The page's main content as a reader sees it: no tags, one space between words, the
    no-break spaces of numbers kept."""
    html = response.content.decode()
    main = html[html.index('<main id="main"') : html.index("</main>")]
    main = re.sub(r"<(title|desc)\b.*?</\1>", " ", main, flags=re.S)  # the chart's own texts
    main = main.replace("</dt>", ":</dt>")  # the style sheet puts a colon after a term of these lists
    words = unescape(re.sub(r"<[^>]+>", " ", main))
    return re.sub(r"[ \t\r\n]+", " ", words)


def rub(amount: str) -> str:
    """«1 234,56 ₽» as the pages write it: narrow no-break spaces between thousands."""
    return amount.replace(" ", NNBSP) + NBSP + "₽"


@pytest.fixture
def me(browser: Browser, maria: User) -> Browser:
    return log_in(browser)


@pytest.fixture
def billed(supplier: Supplier, maria: User) -> Billed:
    billed = billed_accounts_make(supplier)
    link_make(maria, billed.metered)
    link_make(maria, billed.by_norm)
    return billed


def page(browser: Browser, account: PersonalAccount, name: str = "") -> HttpResponse:
    response = browser.get(f"/accounts/{account.pk}/{name + '/' if name else ''}")
    assert response.status_code == 200
    assert inline_code(response.content.decode()) == []
    assert headings_in_order(heading_levels(response.content.decode()))
    return response


# --- The account's page -----------------------------------------------------------------------


def test_the_account_page_says_the_debt_what_to_pay_and_by_when(me: Browser, billed: Billed) -> None:
    shown = text(page(me, billed.metered))

    assert f"Газоснабжение Задолженность {rub('429,96')}" in shown
    assert "Пени " not in shown.split("Оплата и начисления")[1].split("К оплате")[0]  # no penalty line at zero
    assert f"К оплате: {rub('429,96')}" in shown
    assert (
        "Срок оплаты квитанции за октябрь 2026 — 15.11.2026 — прошёл. "
        "На долг, не оплаченный вовремя, начисляются пени." in shown
    )
    assert (
        f"За октябрь 2026 начислено {rub('154,18')} за 12,414 м³ — "
        "по среднемесячному объёму: показания не переданы." in shown
    )
    html = page(me, billed.metered).content.decode()
    for name in PAGES:
        assert f'href="/accounts/{billed.metered.pk}/{name}/"' in html


def test_a_penalty_has_its_own_line(me: Browser, billed: Billed) -> None:
    shown = text(page(me, billed.by_norm))

    assert f"Газоснабжение Задолженность {rub('7 679,94')}" in shown
    assert f"Пени Задолженность {rub('35,36')}" in shown
    assert f"К оплате: {rub('7 715,30')}" in shown


def pay(account: PersonalAccount, amount: str, key: str) -> None:
    """A payment on 20.11.2026, as a bank registry would post it."""
    entries_post(
        entries=[
            NewEntry(
                account_id=account.pk,
                service=Service.GAS,
                kind=EntryKind.PAYMENT,
                period=Period(2026, 11),
                billed_in=Period(2026, 11),
                amount=-Decimal(amount),
                posted_on=dt.date(2026, 11, 20),
                source_key=f"test-payment:{key}",
            )
        ],
        now=NOW,
    )


def test_a_balance_paid_in_full_and_an_overpayment(me: Browser, billed: Billed) -> None:
    pay(billed.metered, "429.96", "full")
    assert "Газоснабжение Оплачено полностью Платить сейчас ничего не нужно." in text(page(me, billed.metered))

    pay(billed.metered, "70.04", "ahead")
    shown = text(page(me, billed.metered))
    assert f"Газоснабжение Переплата {rub('70,04')}" in shown
    assert "Платить сейчас ничего не нужно: переплата учтётся в следующих начислениях." in shown


def test_an_account_never_billed_says_so(me: Browser, maria: User, supplier: Supplier) -> None:
    account = account_make(supplier=supplier)
    link_make(maria, account)

    assert "Начислений по счёту пока нет: они появятся после первого расчёта за месяц." in text(page(me, account))
    assert "Начислений по этому счёту пока нет." in text(page(me, account, "charges"))
    assert "Просроченных долгов нет — пени не начисляются." in text(page(me, account, "penalties"))
    assert "Начислений по этому счёту пока нет, поэтому и графика расхода нет." in text(
        page(me, account, "consumption")
    )
    tariffs = text(page(me, account, "tariffs"))
    assert "Поставщик газа ещё не опубликовал цены." in tariffs
    assert "Льгот по счёту нет." in tariffs


# --- Charges ----------------------------------------------------------------------------------


def test_the_charges_newest_first_with_the_months_turnover(me: Browser, billed: Billed) -> None:
    shown = text(page(me, billed.metered, "charges"))

    months = re.findall(r"(Июнь|Июль|Август|Сентябрь|Октябрь) 2026 ", shown)
    assert months == ["Октябрь", "Сентябрь", "Август", "Июль", "Июнь"]
    october = shown[shown.index("Октябрь 2026") : shown.index("Сентябрь 2026")]
    assert (
        f"Октябрь 2026 {rub('154,18')} за 12,414 м³ По среднемесячному объёму: показания не переданы "
        f"На начало месяца: долг {rub('301,48')} Начислено: {rub('154,18')} Льгота: {rub('−25,70')} "
        f"Оплачено: {rub('0,00')} На конец месяца: долг {rub('429,96')}" in october
    )
    september = shown[shown.index("Сентябрь 2026") : shown.index("Август 2026")]
    assert (
        f"На начало месяца: переплата {rub('33,01')} Начислено: {rub('401,39')} Льгота: {rub('−66,90')} "
        f"Оплачено: {rub('0,00')} На конец месяца: долг {rub('301,48')}" in september
    )
    august = shown[shown.index("Август 2026") : shown.index("Июль 2026")]
    assert f"Оплачено: {rub('300,00')}" in august


def test_how_a_month_by_the_meter_was_calculated(me: Browser, billed: Billed) -> None:
    response = page(me, billed.metered, "charges")
    html = response.content.decode()
    shown = text(response)
    september = shown[shown.index("Сентябрь 2026") : shown.index("Август 2026")]

    assert '<details class="calc">' in html  # folded, opened without a script
    assert (
        f"Как рассчитано — сентябрь 2026 Счётчик №{NBSP}0412345 Показания: 1{NNBSP}035,5 → 1{NNBSP}080 м³ "
        "Уже начислено по среднему за месяцы без показаний: −12,182 м³ Объём за месяц: 32,318 м³ "
        "Сумма Объём: 32,318 м³ Цена 1 м³: 12,42 ₽ "
        "(пищеприготовление и подогрев воды плитой и водонагревателем) "
        f"Начислено: {rub('401,39')} Льгота: ветеран труда: {rub('66,90')} 50 % на 10,773 м³, скидка в квитанции"
        in september.replace(NBSP + "%", " %")
    )
    october = shown[shown.index("Октябрь 2026") : shown.index("Сентябрь 2026")]
    assert "Показания: не переданы: взят средний расход за месяц Объём за месяц: 12,414 м³" in october


def test_how_a_month_by_the_norm_was_calculated(me: Browser, billed: Billed) -> None:
    shown = text(page(me, billed.by_norm, "charges"))
    october = shown[shown.index("Октябрь 2026") : shown.index("Сентябрь 2026")]

    assert f"Октябрь 2026 {rub('4 576,21')} за 475,5 м³ По нормативу: нет прибора учёта" in october
    assert (
        "По нормативу Проживает: 2 чел. Отапливаемая площадь: 40,5 м² Объём по нормативу: 475,5 м³ "
        "Какие нормативы действуют Сумма Объём: 475,5 м³ Цена 1 м³: 9,624 ₽ "
        "(отопление, в том числе с другими направлениями)" in october
    )
    assert f"Начислены пени: {rub('21,82')} Пени на конец месяца: долг {rub('35,36')}" in october


# --- Penalties ----------------------------------------------------------------------------------


def test_the_penalties_by_debt_with_the_days_and_the_rate(me: Browser, billed: Billed) -> None:
    shown = text(page(me, billed.by_norm, "penalties"))

    assert f"Пени на 22.11.2026: {rub('60,94')}" in shown
    assert "с 31-го по 90-й день — 1/300 ставки за каждый день;" in shown
    assert "части 14 статьи 155 Жилищного кодекса РФ" in shown
    debts = re.findall(r"Долг за (\w+ 2026)", shown)
    assert debts == ["октябрь 2026", "сентябрь 2026", "август 2026", "июль 2026", "июнь 2026"]
    june = shown[shown.index("Долг за июнь 2026") :]
    assert (
        f"Долг за июнь 2026 Сумма: {rub('678,49')} Срок оплаты: 15.07.2026 Не оплачено: {rub('678,49')} "
        f"Пени: {rub('32,72')}" in june
    )
    assert f"{rub('678,49')} 22.11.2026 не оплачено — посчитано на сегодня 60 40 9,5{NBSP}% {rub('32,72')}" in june
    october = shown[shown.index("Долг за октябрь 2026") : shown.index("Долг за сентябрь 2026")]
    assert f"{rub('4 576,21')} 22.11.2026 не оплачено — посчитано на сегодня 0 0 — {rub('0,00')}" in october


def test_a_debt_paid_partly_on_time_shows_both_parts(me: Browser, billed: Billed) -> None:
    shown = text(page(me, billed.metered, "penalties"))

    assert f"Пени на 22.11.2026: {rub('0,76')}" in shown
    assert re.findall(r"Долг за (\w+ 2026)", shown) == ["октябрь 2026", "сентябрь 2026"]  # the rest paid on time
    september = shown[shown.index("Долг за сентябрь 2026") :]
    assert f"{rub('33,01')} 12.08.2026 оплачено в срок 0 0 — {rub('0,00')}" in september
    assert f"{rub('301,48')} 22.11.2026 не оплачено — посчитано на сегодня 8 0 9,5{NBSP}% {rub('0,76')}" in september


# --- Prices, norms, benefits ----------------------------------------------------------------


def test_the_prices_with_the_accounts_own_marked(me: Browser, billed: Billed) -> None:
    shown = text(page(me, billed.metered, "tariffs"))

    assert "Действуют на 22.11.2026." in shown
    assert (
        "Пищеприготовление и подогрев воды плитой и водонагревателем ваш тариф 12,42 ₽ за 1 м³ с 01.01.2020 "
        "Пищеприготовление и подогрев воды газовой плитой 13,52 ₽ за 1 м³ с 01.01.2020 "
        "Отопление, в том числе с другими направлениями 9,624 ₽ за 1 м³ с 01.01.2020" in shown
    )
    assert (
        "Пищеприготовление и подогрев воды газовой плитой без горячего водоснабжения 15 м³ на 1 человека в месяц "
        "Проживает по счёту: 3 чел. Подогрев воды газовым водонагревателем 15 м³ на 1 человека в месяц "
        "Проживает по счёту: 3 чел." in shown
    )
    assert (
        "Ветеран труда Размер: 50 % на 1 чел., в пределах норматива Как предоставляется: скидка в квитанции "
        "Действует: с 01.08.2026, бессрочно Основание: Удостоверение ветерана труда серия Т-IV № 123456"
        in shown.replace(NBSP, " ")
    )


def test_the_heating_norm_of_the_month_with_the_area(me: Browser, billed: Billed) -> None:
    shown = text(page(me, billed.by_norm, "tariffs"))

    assert (
        "Отопление, на 1 м² отапливаемой площади 11 м³ на 1 м² отапливаемой площади в месяц (норматив на ноябрь) "
        "Отапливаемая площадь по счёту: 40,5 м²" in shown
    )
    assert "Отопление, в том числе с другими направлениями ваш тариф 9,624 ₽ за 1 м³" in shown


# --- The consumption chart ------------------------------------------------------------------


def test_the_chart_is_an_svg_with_a_table_of_the_same_numbers(me: Browser, billed: Billed) -> None:
    response = page(me, billed.metered, "consumption")
    html = response.content.decode()
    shown = text(response)

    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'role="img" aria-labelledby="chart-title chart-desc"' in svg
    assert "style=" not in svg
    assert "<title>октябрь 2026: 12,414 м³</title>" in svg
    assert len(re.findall(r'<rect class="chart__bar chart__bar--now"', svg)) == 5  # June–October
    assert "chart__bar--before" not in svg  # nothing billed a year before
    # the tallest bar (September, 32,318 m³) against a scale of 50 m³: 168 px × 32,318 / 50
    assert 'height="108.59"' in svg
    assert ">50 м³<" in svg
    assert ">25 м³<" in svg
    assert "Ноябрь 2024 — октябрь 2026 расход в месяце тот же месяц годом раньше" in shown
    rows = shown[shown.index("Таблица с числами") :]
    assert f"Октябрь 2026 12,414 {rub('154,18')} — — Сентябрь 2026 32,318 {rub('401,39')} — —" in rows
    assert "Октябрь 2025 — — — —" in rows
    assert rows.count(" 2026 ") + rows.count(" 2025 ") + rows.count(" 2024 ") >= 24


# --- Whose pages ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_another_persons_account_is_not_found(
    name: str, other_browser: Browser, billed: Billed, supplier: Supplier
) -> None:
    user_make(phone="+79160000002")
    stranger = log_in(other_browser, "+79160000002")

    response = stranger.get(f"/accounts/{billed.metered.pk}/{name}/")

    assert response.status_code == 404
    body = response.content.decode()
    for secret in ("429,96", "0412345", "Садовая"):
        assert secret not in body


@pytest.mark.parametrize("name", PAGES)
def test_a_guest_is_sent_to_log_in(name: str, browser: Browser, billed: Billed) -> None:
    url = f"/accounts/{billed.metered.pk}/{name}/"

    assertRedirects(browser.get(url), f"/login/?next={url}", fetch_redirect_response=False)


def test_an_account_that_does_not_exist_is_not_found_either(me: Browser, billed: Billed) -> None:
    assert me.get("/accounts/999999/charges/").status_code == 404


@pytest.mark.parametrize(
    ("largest", "top"),
    [("0", "1"), ("0.4", "0.5"), ("7", "10"), ("12.414", "20"), ("32.318", "50"), ("201", "250"), ("475.5", "500")],
)
def test_the_chart_scale_ends_on_a_round_number(largest: str, top: str) -> None:
    assert scale_top(Decimal(largest)) == Decimal(top)


def test_the_chart_names_every_third_month_and_a_year_where_it_changes(me: Browser, billed: Billed) -> None:
    html = page(me, billed.metered, "consumption").content.decode()
    svg = html[html.index("<svg") : html.index("</svg>")]

    months = re.findall(r'<text x="[\d.]+%" y="214.00" text-anchor="middle">(\w+)</text>', svg)
    years = re.findall(r'<text class="chart__year" [^>]*>(\d+)</text>', svg)
    assert months == ["янв", "апр", "июл", "окт", "янв", "апр", "июл", "окт"]  # the newest (October) named
    assert years == ["2025", "2026"]
