"""An operator works readings in the back office in a real browser: opens «Показания на
проверку» from the start page, rejects a reading far above the meter's average with a
reason, checks a CSV file (one line wrong: nothing is written, the report says why), loads
its valid lines, and enters a reading a subscriber dictated by phone. Screenshots at 1280
and 360 px go to test-artifacts/."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from abonent.core.models import Supplier
from abonent.core.periods import Period
from abonent.identity.models import User
from abonent.identity.roles import OPERATOR
from abonent.metering import services
from abonent.metering.enums import ReadingChannel, ReadingStatus, ReviewReason
from abonent.metering.models import Meter, Reading
from tests.e2e.conftest import DESKTOP, PHONE
from tests.factories import account_make, meter_make, reading_make

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "оператор-пароль-2026"
REASON = "Контролёр снял 1041 м³ — в показании лишняя цифра"


def _no_horizontal_scroll(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"


def _shot(page: Page, artifacts: Path, name: str, *, scroll: bool = True) -> None:
    if scroll:
        _no_horizontal_scroll(page)
    page.screenshot(path=artifacts / f"{name}.png", full_page=True)


def _meter_with_history(supplier: Supplier) -> Meter:
    """Months of 10 m³ up to last month, on an account of the supplier."""
    meter = meter_make(account=account_make(supplier=supplier), serial="0412345")
    current = Period.of(timezone.localdate())
    for months_ago, value in zip(range(6, 0, -1), ["1000", "1010", "1020", "1030", "1040", "1050"], strict=True):
        reading_make(meter, current - months_ago, value, "10")
    return meter


def test_an_operator_reviews_imports_and_enters_readings(
    page: Page, live_server: LiveServer, artifacts: Path, supplier: Supplier
) -> None:
    operator = User(username="olga", is_staff=True, first_name="Ольга", last_name="Смирнова")
    operator.set_password(PASSWORD)
    operator.save()
    operator.groups.add(Group.objects.get(name=OPERATOR))
    meter = _meter_with_history(supplier)
    robot = User.objects.create(username="robot", is_staff=True)
    now = timezone.now()
    high = services.reading_enter_by_operator(
        operator=robot, meter_id=meter.pk, value="1110", read_on=timezone.localdate(), now=now
    ).reading
    assert high.review == ReviewReason.HIGH

    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/backoffice/login/")
    page.get_by_label("Имя пользователя").fill("olga")
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()

    # the review queue, from the start page
    page.get_by_role("link", name="Показания на проверку").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Показания на проверку")
    expect(page.get_by_text(meter.serial).first).to_be_visible()
    _shot(page, artifacts, "backoffice-review-1280")
    page.get_by_role("link", name="Отклонить").first.click()
    expect(page.get_by_label("Причина")).to_be_visible()
    _shot(page, artifacts, "backoffice-reject-1280")
    page.get_by_label("Причина").fill(REASON)
    page.get_by_role("button", name="Отклонить").click()
    expect(page.locator(".messagelist")).to_contain_text("отклонено")
    high.refresh_from_db()
    assert (high.status, high.rejection_reason, high.reviewed_by) == (ReadingStatus.REJECTED, REASON, operator)

    # import: a check first, then the valid lines
    page.goto(f"{live_server.url}/backoffice/metering/reading/import/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Загрузить показания")
    today = timezone.localdate()
    csv = (
        "supplier;account;serial;value;date\n"
        f"{supplier.code};7700 0000 0001;{meter.serial};1061,5;{today:%d.%m.%Y}\n"
        f"{supplier.code};770000000001;нет-такого;1300;{today:%d.%m.%Y}\n"
    )
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "readings.csv", "mimeType": "text/csv", "buffer": csv.encode("cp1251")}]
    )
    page.get_by_label("верные строки", exact=False).check()
    page.get_by_role("button", name="Проверить").click()
    expect(page.get_by_text("нет счётчика № нет-такого").first).to_be_visible()
    _shot(page, artifacts, "backoffice-import-check-1280")
    assert not Reading.objects.filter(meter=meter, value=Decimal("1061.5")).exists()
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "readings.csv", "mimeType": "text/csv", "buffer": csv.encode("cp1251")}]
    )
    page.get_by_label("верные строки", exact=False).check()
    page.get_by_role("button", name="Загрузить").click()
    expect(page.get_by_text("нет счётчика № нет-такого").first).to_be_visible()
    imported = Reading.objects.get(meter=meter, value=Decimal("1061.5"))
    assert (imported.channel, imported.operator_name) == (ReadingChannel.IMPORT, "Ольга Смирнова")
    _shot(page, artifacts, "backoffice-import-applied-1280")

    # a reading dictated by phone, entered from the meter's page
    page.goto(f"{live_server.url}/backoffice/metering/meter/{meter.pk}/change/")
    page.get_by_role("link", name="Ввести показание").first.click()
    expect(page.get_by_label("Показание")).to_be_visible()
    page.get_by_label("Показание").fill("1000")
    page.get_by_role("button", name="Записать показание").click()
    expect(page.get_by_text("меньше предыдущего").first).to_be_visible()
    _shot(page, artifacts, "backoffice-enter-error-1280")
    page.get_by_label("Показание").fill("1065")
    page.get_by_role("button", name="Записать показание").click()
    expect(page.locator(".messagelist")).to_be_visible()
    entered = Reading.objects.get(meter=meter, value=Decimal("1065"))
    assert (entered.channel, entered.submitted_by, entered.status) == (
        ReadingChannel.OPERATOR,
        operator,
        ReadingStatus.ACCEPTED,
    )
    assert entered.replaces == imported

    # the queue at a phone's width
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/backoffice/metering/reading/review/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Показания на проверку")
    _shot(page, artifacts, "backoffice-review-360", scroll=False)
    page.goto(f"{live_server.url}/backoffice/metering/reading/import/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Загрузить показания")
    _shot(page, artifacts, "backoffice-import-360", scroll=False)
