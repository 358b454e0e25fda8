"""The demo subscriber sends a meter reading in a real browser, on a small phone, with
JavaScript on: opens the account, «Передать показания», types a value that cannot be read
and is told so, types a good one and watches the consumption appear, sends it, sees
«Принято» and the new reading on top of the meter's history. Screenshots at 360 and 1280 px
go to test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_UP, Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from abonent.customers.models import AccountLink
from abonent.identity.models import User
from abonent.metering.enums import ReadingChannel, ReadingStatus
from abonent.metering.models import Reading
from abonent.metering.selectors import reading_form
from abonent.web.templatetags.ru_format import ru_number
from tests.e2e.conftest import DESKTOP, PHONE, icon_left
from tests.e2e.test_accounts_journey import _check, _nav

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NNBSP = "\u202f"


@pytest.fixture
def scripted_page(browser: Browser, problems: list[str]) -> Iterator[Page]:
    """A page with JavaScript on: the form's script shows the consumption as one types."""
    context = browser.new_context(locale="ru-RU", timezone_id="Europe/Moscow", viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"script: {error}"))
    page.on("requestfailed", lambda request: None if icon_left(request) else problems.append(f"failed: {request.url}"))
    page.on(
        "response",
        lambda response: problems.append(f"{response.status}: {response.url}") if response.status >= 400 else None,
    )
    try:
        yield page
    finally:
        context.close()


def _typed(base: Decimal, decimals: int) -> tuple[str, Decimal]:
    """A value some 12,5 m³ above ``base`` that the meter can show, as a person types it."""
    step = Decimal(1).scaleb(-decimals)
    value = (base + Decimal("12.5")).quantize(step, rounding=ROUND_UP)
    return f"{value.normalize():f}".replace(".", ","), value


def test_the_demo_subscriber_sends_a_reading(
    scripted_page: Page, problems: list[str], live_server: LiveServer, artifacts: Path
) -> None:
    from abonent.cli.demo.seeding import SUBSCRIBER, seed_run

    page = scripted_page
    seed_run(accounts=40, seed=2026, today=timezone.localdate(), batch_size=20)
    user = User.objects.get(phone=SUBSCRIBER.phone)
    link = AccountLink.objects.select_related("account__supplier").get(user=user)
    sheet = reading_form(link=link, now=timezone.now())
    entry = sheet.open_entries[0]
    meter = entry.meter
    typed, value = _typed(entry.base_value, meter.decimals)
    consumption = ru_number(value - entry.base_value)

    page.goto(live_server.url + "/login/")
    page.get_by_label("Телефон или e\u2011mail").fill(SUBSCRIBER.email)
    page.get_by_label("Пароль", exact=True).fill(SUBSCRIBER.password)
    page.get_by_role("button", name="Войти", exact=True).click()

    # the account's page, with the window and the button
    expect(page.get_by_role("heading", level=1)).to_have_text("Дом")
    meters = page.locator("#meters")
    expect(meters.get_by_text(sheet.window.message)).to_be_visible()
    _check(page, artifacts, "readings-account-360")
    meters.get_by_role("link", name="Передать показания").click()

    # the form: the window, the meter with its previous reading
    expect(page.get_by_role("heading", level=1)).to_have_text("Передача показаний")
    expect(page.get_by_text(sheet.window.message)).to_be_visible()
    expect(page.get_by_text("по времени поставщика: московское время", exact=False)).to_be_visible()
    field = page.locator(f"#id_meter_{meter.pk}")
    expect(field).to_have_attribute("inputmode", "decimal")
    expect(page.get_by_label(f"№\u00a0{meter.serial}", exact=False)).to_have_count(1)
    live = page.locator(f"#id_meter_{meter.pk}_live")
    expect(live).to_be_hidden()
    _check(page, artifacts, "readings-form-360")

    # a value that cannot be read: said next to the field, nothing stored
    field.fill("12a")
    expect(live).to_be_hidden()  # nothing to compute from letters
    page.get_by_role("button", name="Отправить показания").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Введите показание цифрами, например 1234 или 1234,567")
    expect(page.locator(f"#id_meter_{meter.pk}_error")).to_contain_text("Введите показание цифрами")
    _check(page, artifacts, "readings-form-error-360")
    assert not Reading.objects.filter(channel=ReadingChannel.WEB, submitted_by=user).exists()

    # a good one: the consumption appears as it is typed
    field.fill("")
    field.press_sequentially(typed)
    expect(live).to_be_visible()
    expect(live).to_have_text(f"Расход: {consumption} м³")
    _check(page, artifacts, "readings-form-typed-360")
    page.get_by_role("button", name="Отправить показания").click()

    # what became of it
    expected = (
        "Показания переданы",
        "Принято" if not entry.verification_passed else "Принято, но не будет учтено в расчёте: истёк срок поверки",
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(expected[0])
    expect(page.locator(".result__status")).to_have_text(expected[1])
    expect(page.locator(".result")).to_contain_text(f"{ru_number(value)} м³")
    expect(page.locator(".result")).to_contain_text(f"{consumption} м³")
    _check(page, artifacts, "readings-sent-360")
    reading = Reading.objects.get(channel=ReadingChannel.WEB, submitted_by=user)
    assert (reading.meter_id, reading.value, reading.consumption, reading.status) == (
        meter.pk,
        value,
        value - entry.base_value,
        ReadingStatus.NOT_FOR_BILLING if entry.verification_passed else ReadingStatus.ACCEPTED,
    )

    # the history, the new reading on top
    page.get_by_role("link", name="История показаний").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("История показаний")
    first_row = page.locator(".history-table tbody tr").first
    expect(first_row).to_contain_text(reading.period.label().capitalize())
    expect(first_row).to_contain_text(ru_number(value))
    expect(first_row).to_contain_text("Личный кабинет")
    _check(page, artifacts, "readings-history-360")

    # the same at desktop width
    page.set_viewport_size(DESKTOP)
    _check(page, artifacts, "readings-history-1280")
    page.get_by_role("link", name="Передать показания").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Передача показаний")
    expect(page.get_by_text("уже передано", exact=False).first).to_be_visible()
    _check(page, artifacts, "readings-form-1280")
    _nav(page).get_by_role("link", name="Мои счета").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Мои лицевые счета")
    page.get_by_role("link", name="Открыть", exact=False).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Дом")
    _check(page, artifacts, "readings-account-1280")
    assert problems == []


def test_the_consumption_script_counts_in_thousandths(
    scripted_page: Page, live_server: LiveServer, problems: list[str]
) -> None:
    """What the script shows for what people type, on a page of its own: no floating-point
    remainders, Russian digit groups, nothing for what the meter cannot show."""
    page = scripted_page
    page.goto(live_server.url + "/")  # any page of the portal: the script is served by it
    page.set_content(
        '<input id="m" data-base="1234.567" data-digits="5" data-decimals="3">'
        '<p id="m_live" hidden><output></output></p>'
        f'<script src="{live_server.url}/static/web/readings.js"></script>'
    )
    field, live = page.locator("#m"), page.locator("#m_live")
    for typed, shown in [
        ("1300,1", "65,533"),
        ("1300.1", "65,533"),
        ("1234,567", "0"),
        ("1234,6", "0,033"),
        ("01 300", "65,433"),
        ("99999,999", f"98{NNBSP}765,432"),
    ]:
        field.fill(typed)
        expect(live).to_be_visible()
        expect(live).to_have_text(shown)
    for typed in ["", "12a", "1234", "-1300", "1300,1234", "123456", "١٣٠٠", "1,300.5", "1e4"]:
        field.fill(typed)
        expect(live).to_be_hidden()
    assert problems == []
