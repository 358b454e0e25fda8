"""An appeal from the subscriber to the operator and back, in a real browser: the subscriber
(JavaScript off, a small phone) writes an appeal about a charge with a photo of the bill;
the operator (JavaScript on, a desktop) finds it in the back office's queue from the start
page, opens the case, sees the photo, inserts an answer template, edits it and answers;
the subscriber sees «новое» on the list of appeals and reads the answer. Screenshots at
360 and 1280 px go to test-artifacts/."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from abonent.appeals.enums import Action, Category, Status
from abonent.appeals.models import AnswerTemplate, Appeal, Attachment, Event, Message
from abonent.core.models import Supplier
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.identity.models import User
from abonent.identity.roles import OPERATOR
from tests.e2e.conftest import DESKTOP, PHONE, icon_left
from tests.factories import account_make
from tests.web.identity import consent_documents_publish

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SUBSCRIBER_PASSWORD = "Зелёный-чайник-42"
OPERATOR_PASSWORD = "оператор-пароль-2026"
QUESTION = "В квитанции за октябрь начислено вдвое больше обычного. Прошу проверить."
TEMPLATE = "Начисление пересчитано, изменения будут в квитанции за следующий месяц."
GREETING = "Здравствуйте, Мария Петровна!"


def _no_horizontal_scroll(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"


def _shot(page: Page, artifacts: Path, name: str, *, scroll: bool = True) -> None:
    if scroll:
        _no_horizontal_scroll(page)
    page.screenshot(path=artifacts / f"{name}.png", full_page=True)


def _photo() -> bytes:
    """A small photo of a bill, as a phone's camera would give it (JPEG)."""
    buffer = io.BytesIO()
    image = Image.new("RGB", (320, 240), (236, 232, 220))
    for x in range(20, 300, 3):
        image.putpixel((x, 60 + x // 10), (30, 30, 30))
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _watched(context: BrowserContext, problems: list[str]) -> Page:
    page = context.new_page()
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"script: {error}"))
    page.on("requestfailed", lambda request: None if icon_left(request) else problems.append(f"failed: {request.url}"))
    page.on(
        "response",
        lambda response: problems.append(f"{response.status}: {response.url}") if response.status >= 400 else None,
    )
    return page


@pytest.fixture
def media(settings: Settings, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def portal(live_server: LiveServer, db: None, media: Path) -> str:
    consent_documents_publish()
    return live_server.url


@pytest.fixture
def account(supplier: Supplier) -> PersonalAccount:
    return account_make(supplier=supplier)


@pytest.fixture
def maria(account: PersonalAccount) -> User:
    user = User(
        username="u-maria",
        phone="+79123456789",
        first_name="Мария",
        last_name="Иванова",
        middle_name="Петровна",
        is_active=True,
        phone_confirmed_at=timezone.now(),
    )
    user.set_password(SUBSCRIBER_PASSWORD)
    user.save()
    AccountLink.objects.create(
        user=user, account=account, proof="pin", channel="web", linked_at=timezone.now(), is_default=True
    )
    return user


@pytest.fixture
def olga(supplier: Supplier) -> User:
    operator = User(username="olga", is_staff=True, first_name="Ольга", last_name="Смирнова")
    operator.set_password(OPERATOR_PASSWORD)
    operator.save()
    operator.groups.add(Group.objects.get(name=OPERATOR))
    AnswerTemplate.objects.create(supplier=supplier, category=Category.CHARGE, title="Перерасчёт", text=TEMPLATE)
    return operator


@pytest.fixture
def subscriber_page(context: BrowserContext, problems: list[str]) -> Page:
    """The subscriber's phone: JavaScript off (the portal's main journeys work without it)."""
    return _watched(context, problems)


@pytest.fixture
def operator_page(browser: Browser, problems: list[str]) -> Iterator[Page]:
    """The operator's desktop, with JavaScript on: the answer template is put in by the script."""
    context = browser.new_context(locale="ru-RU", timezone_id="Europe/Moscow", viewport=DESKTOP)
    context.set_default_timeout(10_000)
    # The admin's pages name no icon, and the browser asks for /favicon.ico on its own: not
    # a problem of the pages under test.
    context.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    try:
        yield _watched(context, problems)
    finally:
        context.close()


def test_an_appeal_with_a_photo_is_answered_in_the_back_office(
    subscriber_page: Page,
    operator_page: Page,
    problems: list[str],
    portal: str,
    artifacts: Path,
    maria: User,
    olga: User,
    account: PersonalAccount,
    media: Path,
) -> None:
    photo = _photo()

    # the subscriber writes an appeal about a charge, with a photo of the bill
    page = subscriber_page
    page.goto(f"{portal}/login/")
    page.get_by_label("Телефон или e\u2011mail").fill("+7 912 345-67-89")
    page.get_by_label("Пароль", exact=True).fill(SUBSCRIBER_PASSWORD)
    page.get_by_role("button", name="Войти", exact=True).click()
    page.wait_for_url(f"{portal}/accounts/{account.pk}/")  # the landing page loaded, not cut off by the next goto
    page.goto(f"{portal}/appeals/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Написать обращение")
    page.get_by_label("Вопрос по начислению").check()
    page.get_by_label("Текст обращения").fill(QUESTION)
    page.locator("input[type=file][name=files]").set_input_files(
        files=[{"name": "квитанция.jpg", "mimeType": "image/jpeg", "buffer": photo}]
    )
    _shot(page, artifacts, "appeals-journey-new-360")
    page.get_by_role("button", name="Отправить обращение").click()
    page.wait_for_url(re.compile(r"/appeals/\d+/$"))  # the appeal is saved before it is looked up
    appeal = Appeal.objects.get(user=maria)
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"№ {appeal.pk}")
    assert (appeal.category, appeal.account, appeal.status) == (Category.CHARGE, account, Status.NEW)
    attachment = Attachment.objects.get(appeal=appeal)
    assert (attachment.name, attachment.mime) == ("квитанция.jpg", "image/jpeg")
    assert (media / attachment.file.name).read_bytes() == photo

    # the operator finds it in the queue from the back office's start page and answers it
    desk = operator_page
    desk.goto(f"{portal}/backoffice/login/")
    desk.get_by_label("Имя пользователя").fill("olga")
    desk.get_by_label("Пароль").fill(OPERATOR_PASSWORD)
    desk.get_by_role("button", name="Войти").click()
    expect(desk.locator("#appeals-work")).to_contain_text("открыто: 1")
    _shot(desk, artifacts, "appeals-journey-backoffice-start-1280")
    desk.locator("#appeals-work").get_by_role("link", name="Обращения", exact=True).click()
    expect(desk.get_by_role("heading", level=1)).to_contain_text("обращени", ignore_case=True)
    row = desk.locator("#result_list tbody tr").filter(has_text="Иванова Мария Петровна")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Вопрос по начислению")
    expect(row).to_contain_text(account.number)
    _shot(desk, artifacts, "appeals-journey-queue-1280")
    row.get_by_role("link", name=f"№\u00a0{appeal.pk}").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text(f"Обращение № {appeal.pk}")
    expect(desk.locator("#appeal-thread")).to_contain_text(QUESTION)
    photo_link = desk.locator("#appeal-thread").get_by_role("link", name="квитанция.jpg")
    expect(photo_link).to_be_visible()
    expect(desk.locator("#appeal-deadline")).to_contain_text("осталось рабочих дней")
    expect(desk.get_by_role("button", name="Вставить шаблон")).to_be_hidden()  # the script does it
    with desk.expect_download() as download_info:
        photo_link.click()
    download = download_info.value
    assert download.suggested_filename == "квитанция.jpg"
    assert Path(download.path()).read_bytes() == photo
    desk.get_by_label("Текст").fill(GREETING)
    desk.get_by_label("Шаблон ответа").select_option(label="Перерасчёт")
    expect(desk.get_by_label("Текст")).to_have_value(f"{GREETING}\n\n{TEMPLATE}")
    _shot(desk, artifacts, "appeals-journey-case-1280")
    desk.get_by_role("button", name="Ответить", exact=True).click()
    expect(desk.locator(".messagelist")).to_contain_text("Сделано: «Ответить». Состояние — «дан ответ».")
    expect(desk.locator("#appeal-history")).to_contain_text("принято → дан ответ")
    appeal.refresh_from_db()
    assert (appeal.status, appeal.assignee, appeal.subscriber_unread) == (Status.ANSWERED, olga, True)
    answer = Message.objects.get(appeal=appeal, action=Action.ANSWER)
    assert (answer.author, answer.text) == (olga, f"{GREETING}\n\n{TEMPLATE}")
    event = Event.objects.get(appeal=appeal, action=Action.ANSWER)
    assert (event.actor, event.old_status, event.new_status) == (olga, Status.NEW, Status.ANSWERED)
    _shot(desk, artifacts, "appeals-journey-answered-1280")
    desk.set_viewport_size(PHONE)
    desk.reload()
    _shot(desk, artifacts, "appeals-journey-case-360", scroll=False)
    desk.goto(f"{portal}/backoffice/appeals/appeal/?status=all")
    _shot(desk, artifacts, "appeals-journey-queue-360", scroll=False)

    # the subscriber sees that there is something new and reads the answer
    page.goto(f"{portal}/appeals/")
    case = page.locator(".case").filter(has_text=f"Обращение № {appeal.pk}")
    expect(case.locator(".badge--new")).to_have_text("новое")
    _shot(page, artifacts, "appeals-journey-list-360")
    case.get_by_role("link", name=f"Обращение № {appeal.pk}").click()
    expect(page.locator(".thread")).to_contain_text(TEMPLATE)
    expect(page.locator(".thread")).to_contain_text(GREETING)
    _shot(page, artifacts, "appeals-journey-answer-360")
    appeal.refresh_from_db()
    assert appeal.subscriber_unread is False
    page.set_viewport_size(DESKTOP)
    page.reload()
    _shot(page, artifacts, "appeals-journey-answer-1280")
    page.goto(f"{portal}/appeals/")
    expect(page.locator(".case").filter(has_text=f"Обращение № {appeal.pk}").locator(".badge--new")).to_have_count(0)

    assert problems == []
