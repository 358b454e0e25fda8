"""The back office for appeals: the queue with its order and filters, the case page with
the operator's every step through the appeals service (and what it refuses, with nothing
written), the answer templates with and without JavaScript, the operators' downloads, the
start page's counts, the answer templates' and terms' pages, and who may do what."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pikepdf
import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client
from PIL import Image
from pytest_django.fixtures import Settings

from abonent.appeals.enums import (
    Action,
    AppealKind,
    Category,
    ConnectionProgram,
    NotifyChannel,
    Role,
    Status,
    Usage,
)
from abonent.appeals.models import AnswerTemplate, Appeal, Attachment, ConnectionDetails, DeadlineRule, Event, Message
from abonent.appeals.services import NewFile, appeal_create, appeal_operator_act
from abonent.core.models import AuditRecord, Supplier
from abonent.core.services import supplier_create
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.identity.models import User
from abonent.identity.roles import ADMINISTRATOR, OPERATOR, SENIOR_OPERATOR
from abonent.notifications.models import Delivery
from tests.conftest import SUPPLIER_MOSCOW
from tests.factories import account_make

pytestmark = pytest.mark.django_db

#: Monday 23.11.2026, 10:00 in Moscow: a working day in the middle of a working week.
NOW = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 23)
QUEUE = "/backoffice/appeals/appeal/"
ANSWER = "Начисление пересчитано, изменения будут в квитанции за декабрь."
NOT_ALLOWED = "Действие «закрыть» недоступно: обращение в состоянии «принято»"
TEXT_REQUIRED = "Напишите текст сообщения"


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> dt.datetime:
    monkeypatch.setattr("abonent.core.clock.now", lambda: NOW)
    return NOW


@pytest.fixture(autouse=True)
def media(settings: Settings, tmp_path: Path) -> Path:
    """The default storage in a directory of the test's own."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


# --- People, cases and files -------------------------------------------------------------


def staff(role: str | None, username: str = "op", *, permissions: tuple[str, ...] = ()) -> Client:
    """A logged-in browser of a member of staff in the group of ``role`` (None: in no group)."""
    member = User.objects.create(username=username, is_staff=True, first_name="Ольга", last_name="Смирнова")
    if role is not None:
        member.groups.add(Group.objects.get(name=role))
    member.user_permissions.add(*Permission.objects.filter(codename__in=permissions))
    client = Client()
    client.force_login(member)
    return client


def member(username: str = "op") -> User:
    return User.objects.get(username=username)


@pytest.fixture
def operator() -> Client:
    return staff(OPERATOR)


@pytest.fixture
def subscriber() -> User:
    return User.objects.create(
        username="maria",
        phone="+79123456789",
        email="maria@example.org",
        first_name="Мария",
        last_name="Иванова",
        middle_name="Петровна",
        phone_confirmed_at=NOW,
        email_confirmed_at=NOW,
    )


@pytest.fixture
def account(supplier: Supplier, subscriber: User) -> PersonalAccount:
    account = account_make(supplier=supplier)
    AccountLink.objects.create(user=subscriber, account=account, proof="pin", channel="web", linked_at=NOW)
    return account


@pytest.fixture
def yantar() -> Supplier:
    return supplier_create(
        **{**SUPPLIER_MOSCOW, "code": "yantar", "short_name": "Янтарьгаз", "time_zone": "Europe/Kaliningrad"}
    )


def case(
    supplier: Supplier,
    *,
    user: User | None = None,
    kind: str = AppealKind.APPEAL,
    status: str = Status.NEW,
    category: str | None = None,
    due_on: dt.date | None = None,
    created_at: dt.datetime = NOW - dt.timedelta(days=3),
    **fields: Any,
) -> Appeal:
    """A case standing in ``status``, as a row (to reach a status without walking there)."""
    default_category = {
        AppealKind.APPEAL: Category.OTHER,
        AppealKind.CONNECTION: Category.CONNECTION,
        AppealKind.FEEDBACK: Category.FEEDBACK,
    }[AppealKind(kind)]
    values: dict[str, Any] = {
        "summary": "Прошу пересчитать начисление за октябрь",
        "channel": "web",
        "notify_channel": NotifyChannel.PORTAL,
        "status_changed_at": created_at,
        "status_before_waiting": Status.NEW if status == Status.WAITING else "",
    }
    if kind == AppealKind.FEEDBACK:
        values.update(guest_name="Пётр Сидоров", guest_contact="petr@example.org", notify_channel=NotifyChannel.EMAIL)
    values.update(fields)
    return Appeal.objects.create(
        kind=kind,
        category=category or default_category,
        supplier=supplier,
        user=user,
        status=status,
        created_at=created_at,
        due_on=due_on,
        **values,
    )


def connection(supplier: Supplier, user: User, *, status: str = Status.NEW, **fields: Any) -> Appeal:
    appeal = case(
        supplier, user=user, kind=AppealKind.CONNECTION, status=status, summary="Догазификация: ул. Лесная, д. 7"
    )
    ConnectionDetails.objects.create(
        appeal=appeal,
        program=ConnectionProgram.DOGAZIFICATION,
        applicant_name="Иванова Мария Петровна",
        applicant_phone="+79123456789",
        object_address="Московская область, г. Подольск, ул. Лесная, д. 7",
        land_cadastral_number="50:55:0010203:45",
        house_cadastral_number="50:55:0010203:146",
        max_hourly_m3=Decimal("5.000"),
        usages=[Usage.COOKING, Usage.HEATING],
        **fields,
    )
    return appeal


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def pdf() -> bytes:
    document = pikepdf.new()
    document.add_blank_page()
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + b"This program cannot be run in DOS mode."
)


def page_of(appeal: Appeal) -> str:
    return f"{QUEUE}{appeal.pk}/change/"


def shown(client: Client, response: HttpResponse) -> list[str]:
    """The messages an action left, as the page it leads to shows them."""
    assert response.status_code == 302
    page = client.get(response["Location"])
    return [str(m) for m in get_messages(page.wsgi_request)]


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()]


# --- The queue ---------------------------------------------------------------------------


def listed(client: Client, **query: str) -> list[int]:
    response = client.get(QUEUE, query)
    assert response.status_code == 200
    return [appeal.pk for appeal in response.context["cl"].result_list]


def test_the_queue_puts_overdue_first_then_the_nearest_deadline_and_finished_last(
    operator: Client, supplier: Supplier
) -> None:
    later = case(supplier, due_on=dt.date(2026, 11, 30))
    finished = case(supplier, status=Status.CLOSED)
    overdue_long = case(supplier, due_on=dt.date(2026, 11, 16))
    waiting = case(supplier, status=Status.WAITING, days_left_paused=3)
    today = case(supplier, status=Status.IN_PROGRESS, due_on=TODAY)
    overdue = case(supplier, due_on=dt.date(2026, 11, 20))
    soon = case(supplier, due_on=dt.date(2026, 11, 25))

    assert listed(operator, status="all") == [
        overdue_long.pk,
        overdue.pk,
        today.pk,
        soon.pk,
        later.pk,
        waiting.pk,
        finished.pk,
    ]
    assert listed(operator) == [overdue_long.pk, overdue.pk, today.pk, soon.pk, later.pk, waiting.pk]


def test_the_queue_marks_overdue_and_today(operator: Client, supplier: Supplier, subscriber: User) -> None:
    case(supplier, user=subscriber, due_on=dt.date(2026, 11, 20))
    case(supplier, user=subscriber, due_on=TODAY)

    content = operator.get(QUEUE).content.decode()

    assert '20.11.2026 <span class="appeal-due appeal-due-overdue">просрочено</span>' in content
    assert '23.11.2026 <span class="appeal-due appeal-due-today">сегодня</span>' in content
    assert "Иванова Мария Петровна" in content
    assert "Добавить обращение" not in content


def test_filters_by_supplier_kind_category_and_status(
    operator: Client, supplier: Supplier, yantar: Supplier, subscriber: User
) -> None:
    charge = case(supplier, category=Category.CHARGE)
    other = case(yantar, category=Category.OTHER)
    application = connection(supplier, subscriber)
    guest = case(supplier, kind=AppealKind.FEEDBACK)
    closed = case(supplier, category=Category.CHARGE, status=Status.CLOSED)
    answered = case(supplier, status=Status.ANSWERED)

    assert set(listed(operator, supplier__id__exact=str(yantar.pk))) == {other.pk}
    assert set(listed(operator, kind__exact=AppealKind.CONNECTION)) == {application.pk}
    assert set(listed(operator, kind__exact=AppealKind.FEEDBACK)) == {guest.pk}
    assert set(listed(operator, category__exact=Category.CHARGE)) == {charge.pk}
    assert set(listed(operator, category__exact=Category.CHARGE, status="all")) == {charge.pk, closed.pk}
    assert set(listed(operator)) == {charge.pk, other.pk, application.pk, guest.pk, answered.pk}
    assert set(listed(operator, status=Status.CLOSED)) == {closed.pk}
    assert set(listed(operator, status=Status.ANSWERED)) == {answered.pk}
    assert operator.get(QUEUE, {"status": "nonsense"}).status_code == 302  # the admin's «wrong filter» redirect


def test_filters_by_deadline(operator: Client, supplier: Supplier) -> None:
    overdue = case(supplier, due_on=dt.date(2026, 11, 20))
    today = case(supplier, due_on=TODAY)
    in_two_days = case(supplier, due_on=dt.date(2026, 11, 25))
    in_a_week = case(supplier, due_on=dt.date(2026, 11, 30))
    waiting = case(supplier, status=Status.WAITING, days_left_paused=4)

    assert listed(operator, due="overdue") == [overdue.pk]
    assert listed(operator, due="today") == [today.pk]
    assert listed(operator, due="soon") == [today.pk, in_two_days.pk]
    assert listed(operator, due="none") == [waiting.pk]
    assert len(listed(operator)) == 5
    assert in_a_week.pk in listed(operator)


def test_filters_by_assignee(operator: Client, supplier: Supplier) -> None:
    colleague = User.objects.create(username="colleague", is_staff=True)
    mine = case(supplier, status=Status.IN_PROGRESS, assignee=member())
    theirs = case(supplier, status=Status.IN_PROGRESS, assignee=colleague)
    nobody = case(supplier)

    assert listed(operator, assignee="mine") == [mine.pk]
    assert listed(operator, assignee="nobody") == [nobody.pk]
    assert set(listed(operator)) == {mine.pk, theirs.pk, nobody.pk}


def test_search_by_number_account_applicant_phone_and_text(
    operator: Client, supplier: Supplier, subscriber: User, account: PersonalAccount
) -> None:
    about_account = case(
        supplier, user=subscriber, account=account, category=Category.CHARGE, summary="Двойное начисление"
    )
    guest = case(supplier, kind=AppealKind.FEEDBACK, summary="Не работает сайт", guest_contact="+79161234567")
    closed = case(supplier, user=subscriber, status=Status.CLOSED, summary="Старый вопрос про пени")

    assert listed(operator, q=str(guest.pk)) == [guest.pk]
    assert listed(operator, q=f"№ {closed.pk}") == [closed.pk]  # a closed case is found by a search
    assert listed(operator, q="7700 0000 0001") == [about_account.pk]
    assert listed(operator, q="иванова") == [about_account.pk, closed.pk]
    assert listed(operator, q="Пётр") == [guest.pk]
    assert listed(operator, q="8 916 123-45-67") == [guest.pk]
    assert listed(operator, q="maria@example.org") == [about_account.pk, closed.pk]
    assert listed(operator, q="начисление") == [about_account.pk]
    assert listed(operator, q="пени", status=Status.NEW) == []


# --- Who may see and act ------------------------------------------------------------------


def test_a_member_of_staff_without_the_permissions_gets_nothing(supplier: Supplier) -> None:
    appeal = case(supplier)
    client = staff(None, "clerk")

    assert client.get(QUEUE).status_code == 403
    assert client.get(page_of(appeal)).status_code == 403
    assert client.post(page_of(appeal), {"action": Action.TAKE}).status_code == 403
    appeal.refresh_from_db()
    assert appeal.status == Status.NEW


def test_a_user_who_may_only_see_cannot_act(supplier: Supplier, subscriber: User) -> None:
    appeal = case(supplier, user=subscriber)
    client = staff(None, "auditor", permissions=("view_appeal",))

    page = client.get(page_of(appeal))
    response = client.post(page_of(appeal), {"action": Action.TAKE})

    assert page.status_code == 200
    assert 'id="appeal-action"' not in page.content.decode()
    assert response.status_code == 403
    appeal.refresh_from_db()
    assert (appeal.status, appeal.assignee) == (Status.NEW, None)
    assert not Event.objects.filter(appeal=appeal).exists()


def test_someone_not_of_staff_is_sent_to_the_login(supplier: Supplier, subscriber: User) -> None:
    appeal = case(supplier, user=subscriber)
    client = Client()
    client.force_login(subscriber)

    response = client.post(page_of(appeal), {"action": Action.TAKE})

    assert response.status_code == 302
    assert response["Location"].startswith("/backoffice/login/")
    appeal.refresh_from_db()
    assert appeal.status == Status.NEW


def test_the_generic_forms_are_closed(operator: Client, supplier: Supplier) -> None:
    appeal = case(supplier)

    assert operator.get(f"{QUEUE}add/").status_code == 403
    assert operator.post(f"{QUEUE}{appeal.pk}/delete/").status_code == 403
    response = operator.post(page_of(appeal), {"status": Status.CLOSED, "summary": "x"})
    assert response.status_code == 200  # no action chosen: the page again with the error
    assert "Выберите действие" in response.content.decode()
    appeal.refresh_from_db()
    assert (appeal.status, appeal.summary) == (Status.NEW, "Прошу пересчитать начисление за октябрь")


# --- The case page ------------------------------------------------------------------------


def test_the_case_page_shows_the_case_the_thread_the_history_and_the_deadline(
    operator: Client, supplier: Supplier, subscriber: User, account: PersonalAccount
) -> None:
    appeal = appeal_create(
        user=subscriber,
        category=Category.CHARGE,
        text="Начислено вдвое больше обычного.\nПрошу проверить.",
        account_id=account.pk,
        files=[NewFile(name="квитанция.jpg", content=io.BytesIO(jpeg()), size=len(jpeg()))],
        channel="web",
        now=NOW - dt.timedelta(days=1),  # Sunday 22.11: the term of 10 working days ends on 04.12
    )
    robot = User.objects.create(username="robot", is_staff=True, first_name="Иван", last_name="Петров")
    appeal_operator_act(operator=robot, appeal_id=appeal.pk, action=Action.TAKE, now=NOW)
    attachment = Attachment.objects.get(appeal=appeal)

    page = operator.get(page_of(appeal))
    content = page.content.decode()

    assert page.status_code == 200
    assert f"Обращение № {appeal.pk}" in content
    assert "Начислено вдвое больше обычного.<br>Прошу проверить." in content
    assert f'href="{QUEUE}file/{attachment.pk}/"' in content
    assert "квитанция.jpg" in content
    assert "до 04.12.2026" in content
    assert "осталось рабочих дней: 9" in content
    assert "Петров Иван" in content  # the assignee
    assert "+7 912 345-67-89" in content
    assert "maria@example.org" in content
    assert "принято → в работе" in content  # the history
    assert "оператор Петров Иван" in content
    assert [b for b in ("take", "ask", "answer") if f'name="action" value="{b}"' in content] == ["ask", "answer"]


def test_the_connection_application_shows_its_details_and_stages(
    operator: Client, supplier: Supplier, subscriber: User
) -> None:
    application = connection(supplier, subscriber)
    Event.objects.create(
        appeal=application, at=NOW - dt.timedelta(days=3), role=Role.SUBSCRIBER, action="create", channel="web",
        new_status=Status.NEW,
    )  # fmt: skip
    appeal_operator_act(operator=member(), appeal_id=application.pk, action=Action.CHECK, now=NOW)

    content = operator.get(page_of(application)).content.decode()

    assert "Заявка на подключение к газу №" in content
    assert "50:55:0010203:146" in content
    assert "приготовление пищи, отопление" in content
    assert "5 м³/ч" in content
    assert "Заявка проверена — 23.11.2026" in content
    assert 'aria-current="step"' in content
    assert 'name="action" value="send_contract"' in content


def test_take(operator: Client, supplier: Supplier, subscriber: User) -> None:
    appeal = case(supplier, user=subscriber, due_on=dt.date(2026, 12, 4))

    response = operator.post(page_of(appeal), {"action": Action.TAKE, "text": ""})

    assert response["Location"] == page_of(appeal)
    assert shown(operator, response) == ["Сделано: «Взять в работу». Состояние — «в работе»."]
    appeal.refresh_from_db()
    assert (appeal.status, appeal.assignee, appeal.due_on) == (Status.IN_PROGRESS, member(), dt.date(2026, 12, 4))
    event = Event.objects.get(appeal=appeal)
    assert (event.action, event.actor, event.old_status, event.new_status, event.channel) == (
        Action.TAKE,
        member(),
        Status.NEW,
        Status.IN_PROGRESS,
        "operator",
    )
    audit = AuditRecord.objects.get(object_type="appeal", object_id=str(appeal.pk))
    assert (audit.actor_id, audit.before, audit.after) == (member().pk, {"status": "new"}, {"status": "in_progress"})


def test_the_case_leads_back_to_the_queue_as_it_was_filtered(operator: Client, supplier: Supplier) -> None:
    appeal = case(supplier)
    here = f"{page_of(appeal)}?_changelist_filters=status%3Dall%26due%3Doverdue"

    page = operator.get(here)
    response = operator.post(here, {"action": Action.TAKE})

    assert f'href="{QUEUE}?status=all&amp;due=overdue"' in page.content.decode()
    assert response["Location"] == here


def test_ask_then_answer_then_close(operator: Client, supplier: Supplier, subscriber: User) -> None:
    appeal = case(supplier, user=subscriber, status=Status.IN_PROGRESS, due_on=dt.date(2026, 12, 4))

    operator.post(page_of(appeal), {"action": Action.ASK, "text": "Пришлите фото счётчика"})
    appeal.refresh_from_db()
    assert (appeal.status, appeal.due_on, appeal.days_left_paused) == (Status.WAITING, None, 9)
    operator.post(page_of(appeal), {"action": Action.ANSWER, "text": ANSWER})
    appeal.refresh_from_db()
    assert appeal.status == Status.ANSWERED
    operator.post(page_of(appeal), {"action": Action.CLOSE})
    appeal.refresh_from_db()

    assert appeal.status == Status.CLOSED
    assert list(Message.objects.filter(appeal=appeal).values_list("role", "action", "text")) == [
        (Role.OPERATOR, Action.ASK, "Пришлите фото счётчика"),
        (Role.OPERATOR, Action.ANSWER, ANSWER),
    ]
    assert list(Event.objects.filter(appeal=appeal).values_list("old_status", "new_status")) == [
        (Status.IN_PROGRESS, Status.WAITING),
        (Status.WAITING, Status.ANSWERED),
        (Status.ANSWERED, Status.CLOSED),
    ]
    content = operator.get(page_of(appeal)).content.decode()
    assert "Пришлите фото счётчика" in content
    assert ANSWER in content
    assert "дан ответ → закрыто" in content
    assert "С делом в этом состоянии оператору больше нечего делать." in content


def test_the_answer_reaches_the_subscriber_by_email(operator: Client, supplier: Supplier, subscriber: User) -> None:
    appeal = case(supplier, user=subscriber, status=Status.IN_PROGRESS, notify_channel=NotifyChannel.EMAIL)

    operator.post(page_of(appeal), {"action": Action.ANSWER, "text": ANSWER})

    delivery = Delivery.objects.get()
    assert (delivery.channel, delivery.recipient, delivery.kind) == ("email", "maria@example.org", "appeal_update")
    assert delivery.subject == f"Обращение № {appeal.pk}: дан ответ"
    appeal.refresh_from_db()
    assert appeal.subscriber_unread is True


def test_a_connection_application_through_its_stages(
    operator: Client, supplier: Supplier, subscriber: User, media: Path
) -> None:
    application = connection(supplier, subscriber)

    operator.post(page_of(application), {"action": Action.CHECK})
    application.refresh_from_db()
    assert (application.status, application.due_on) == (Status.CHECKED, dt.date(2026, 12, 7))
    contract = SimpleUploadedFile("Договор о подключении.pdf", pdf(), content_type="application/pdf")
    response = operator.post(
        page_of(application),
        {"action": Action.SEND_CONTRACT, "text": "Договор во вложении", "attachments": [contract]},
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Status.CONTRACT_SENT
    attachment = Attachment.objects.get(appeal=application)
    assert (attachment.name, attachment.mime, attachment.role, attachment.uploaded_by) == (
        "Договор о подключении.pdf",
        "application/pdf",
        Role.OPERATOR,
        member(),
    )
    assert (media / attachment.file.name).read_bytes() == pdf()
    operator.post(page_of(application), {"action": Action.START_WORKS})
    application.refresh_from_db()
    assert application.status == Status.WORKS
    operator.post(page_of(application), {"action": Action.START_GAS})
    application.refresh_from_db()

    assert application.status == Status.GAS_STARTED
    assert list(Event.objects.filter(appeal=application).values_list("action", flat=True)) == [
        Action.CHECK,
        Action.SEND_CONTRACT,
        Action.START_WORKS,
        Action.START_GAS,
    ]


def test_refuse_with_a_reason(operator: Client, supplier: Supplier, subscriber: User) -> None:
    application = connection(supplier, subscriber)

    response = operator.post(page_of(application), {"action": Action.REFUSE, "text": "Участок вне зоны газоснабжения"})

    assert shown(operator, response) == ["Сделано: «Отказать». Состояние — «отказано»."]
    application.refresh_from_db()
    assert application.status == Status.REFUSED
    assert Message.objects.get(appeal=application).text == "Участок вне зоны газоснабжения"


def test_refusal_without_a_reason_is_shown_next_to_the_text(
    operator: Client, supplier: Supplier, subscriber: User
) -> None:
    application = connection(supplier, subscriber)

    response = operator.post(page_of(application), {"action": Action.REFUSE, "text": "   "})

    assert response.status_code == 200
    assert response.context["form"].errors == {"text": [TEXT_REQUIRED]}
    application.refresh_from_db()
    assert application.status == Status.NEW
    assert not Message.objects.exists()
    assert not Event.objects.exists()


def test_a_guests_message_is_answered_by_email(operator: Client, supplier: Supplier) -> None:
    guest = case(supplier, kind=AppealKind.FEEDBACK)

    page = operator.get(page_of(guest)).content.decode()
    operator.post(page_of(guest), {"action": Action.ANSWER, "text": ANSWER})

    assert 'name="attachments"' not in page  # a guest gets the text only
    assert "petr@example.org" in page
    guest.refresh_from_db()
    assert guest.status == Status.CLOSED
    delivery = Delivery.objects.get()
    assert (delivery.channel, delivery.recipient, delivery.body, delivery.kind) == (
        "email",
        "petr@example.org",
        ANSWER,
        "appeal_update",
    )


# --- What is refused, with nothing written ------------------------------------------------


def test_an_action_the_status_does_not_allow_changes_nothing(
    operator: Client, supplier: Supplier, subscriber: User
) -> None:
    appeal = case(supplier, user=subscriber, notify_channel=NotifyChannel.EMAIL)

    response = operator.post(page_of(appeal), {"action": Action.CLOSE, "text": "Закрываю"})

    assert response.status_code == 200
    assert [str(m) for m in get_messages(response.wsgi_request)] == [NOT_ALLOWED]
    appeal.refresh_from_db()
    assert (appeal.status, appeal.assignee) == (Status.NEW, None)
    assert not Event.objects.exists()
    assert not Message.objects.exists()
    assert not Delivery.objects.exists()
    assert "Закрываю" in response.content.decode()  # the text is kept for another try


def test_two_operators_at_once(operator: Client, supplier: Supplier, subscriber: User) -> None:
    appeal = case(supplier, user=subscriber)
    colleague = User.objects.create(username="colleague", is_staff=True, last_name="Кузнецова")
    operator.get(page_of(appeal))  # both see «принято»
    appeal_operator_act(operator=colleague, appeal_id=appeal.pk, action=Action.TAKE, now=NOW)

    response = operator.post(page_of(appeal), {"action": Action.TAKE})

    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Действие «взять в работу» недоступно: обращение в состоянии «в работе»"
    ]
    appeal.refresh_from_db()
    assert appeal.assignee == colleague
    assert Event.objects.filter(appeal=appeal).count() == 1
    assert 'name="action" value="take"' not in response.content.decode()  # the page shows the case as it is now


def test_an_unknown_action_is_refused(operator: Client, supplier: Supplier) -> None:
    appeal = case(supplier)

    response = operator.post(page_of(appeal), {"action": "explode"})

    assert response.status_code == 200
    assert "action" in response.context["form"].errors
    appeal.refresh_from_db()
    assert appeal.status == Status.NEW
    assert not Event.objects.exists()


def test_an_answer_without_text_is_shown_next_to_the_field(
    operator: Client, supplier: Supplier, subscriber: User
) -> None:
    appeal = case(supplier, user=subscriber, status=Status.IN_PROGRESS, notify_channel=NotifyChannel.EMAIL)

    response = operator.post(page_of(appeal), {"action": Action.ANSWER, "text": ""})

    assert response.status_code == 200
    assert response.context["form"].errors == {"text": [TEXT_REQUIRED]}
    assert TEXT_REQUIRED in response.content.decode()
    appeal.refresh_from_db()
    assert appeal.status == Status.IN_PROGRESS
    assert not Message.objects.exists()
    assert not Event.objects.exists()
    assert not Delivery.objects.exists()


def test_a_bad_file_is_refused_and_nothing_is_stored(
    operator: Client, supplier: Supplier, subscriber: User, media: Path
) -> None:
    appeal = case(supplier, user=subscriber, status=Status.IN_PROGRESS, notify_channel=NotifyChannel.EMAIL)
    program = SimpleUploadedFile("договор.pdf", EXE, content_type="application/pdf")
    photo = SimpleUploadedFile("фото.jpg", jpeg(), content_type="image/jpeg")

    response = operator.post(
        page_of(appeal), {"action": Action.ANSWER, "text": ANSWER, "attachments": [photo, program]}
    )

    assert response.status_code == 200
    errors = response.context["form"].errors["attachments"]
    assert errors == ["Файл «договор.pdf»: такой тип файла не принимается, загрузите JPEG, PNG, WebP или PDF"]
    assert errors[0] in response.content.decode()
    appeal.refresh_from_db()
    assert appeal.status == Status.IN_PROGRESS
    assert not Attachment.objects.exists()
    assert not Message.objects.exists()
    assert not Event.objects.exists()
    assert not Delivery.objects.exists()
    assert stored_files(media) == []


# --- Answer templates ---------------------------------------------------------------------


@pytest.fixture
def templates(supplier: Supplier, yantar: Supplier) -> dict[str, AnswerTemplate]:
    return {
        "common": AnswerTemplate.objects.create(title="Благодарность", text="Спасибо за обращение."),
        "charge": AnswerTemplate.objects.create(
            supplier=supplier, category=Category.CHARGE, title="Перерасчёт", text="Начисление пересчитано."
        ),
        "readings": AnswerTemplate.objects.create(
            category=Category.READINGS, title="Показания", text="Показания приняты."
        ),
        "yantar": AnswerTemplate.objects.create(supplier=yantar, title="Янтарь", text="Ответ Янтарьгаза."),
        "old": AnswerTemplate.objects.create(title="Старый", text="Не используется.", is_active=False),
    }


def test_the_templates_offered_are_the_suppliers_and_the_common_ones_of_the_topic(
    operator: Client, supplier: Supplier, templates: dict[str, AnswerTemplate]
) -> None:
    appeal = case(supplier, category=Category.CHARGE)

    content = operator.get(page_of(appeal)).content.decode()

    assert (
        f'<option value="{templates["common"].pk}" data-text="Спасибо за обращение.">Благодарность</option>' in content
    )
    assert f'value="{templates["charge"].pk}"' in content
    for other in ("readings", "yantar", "old"):
        assert f'value="{templates[other].pk}"' not in content
    assert "backoffice/appeals.js" in content
    assert "<script>" not in content.split("</head>")[1]  # nothing inline: the policy forbids it


def test_a_template_is_inserted_without_javascript(
    operator: Client, supplier: Supplier, subscriber: User, templates: dict[str, AnswerTemplate]
) -> None:
    appeal = case(supplier, user=subscriber, category=Category.CHARGE, status=Status.IN_PROGRESS)

    response = operator.post(
        page_of(appeal),
        {"insert_template": "1", "template": str(templates["charge"].pk), "text": "Здравствуйте, Мария Петровна!"},
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert form["text"].value() == "Здравствуйте, Мария Петровна!\n\nНачисление пересчитано."
    assert "Здравствуйте, Мария Петровна!\n\nНачисление пересчитано.</textarea>" in response.content.decode()
    appeal.refresh_from_db()
    assert appeal.status == Status.IN_PROGRESS
    assert not Message.objects.exists()
    assert not Event.objects.exists()


def test_a_template_of_another_supplier_is_not_inserted(
    operator: Client, supplier: Supplier, templates: dict[str, AnswerTemplate]
) -> None:
    appeal = case(supplier, category=Category.CHARGE)

    response = operator.post(
        page_of(appeal), {"insert_template": "1", "template": str(templates["yantar"].pk), "text": "Черновик"}
    )

    assert "Выберите шаблон из списка" in response.content.decode()
    assert response.context["form"]["text"].value() == "Черновик"
    assert "Ответ Янтарьгаза." not in response.content.decode()


def test_senior_operators_keep_the_templates(supplier: Supplier) -> None:
    senior = staff(SENIOR_OPERATOR, "senior")
    operator = staff(OPERATOR, "op")
    form = {"title": "Пени", "supplier": str(supplier.pk), "category": Category.CHARGE, "text": "Пени начислены по закону.", "is_active": "on"}  # fmt: skip

    refused = operator.post("/backoffice/appeals/answertemplate/add/", form)
    added = senior.post("/backoffice/appeals/answertemplate/add/", form)

    assert refused.status_code == 403
    assert added.status_code == 302
    template = AnswerTemplate.objects.get()
    assert (template.title, template.supplier, template.category) == ("Пени", supplier, Category.CHARGE)
    listing = operator.get("/backoffice/appeals/answertemplate/", {"category__exact": Category.CHARGE})
    assert listing.status_code == 200
    assert "Пени" in listing.content.decode()


def test_the_terms_page_names_the_defaults_and_only_administrators_change_them(supplier: Supplier) -> None:
    operator = staff(OPERATOR, "op")
    administrator = staff(ADMINISTRATOR, "admin")
    form = {"category": Category.CHARGE, "stage": Status.NEW, "supplier": str(supplier.pk), "working_days": "7"}

    listing = operator.get("/backoffice/appeals/deadlinerule/").content.decode()
    refused = operator.post("/backoffice/appeals/deadlinerule/add/", form)
    added = administrator.post("/backoffice/appeals/deadlinerule/add/", form)
    too_long = administrator.post("/backoffice/appeals/deadlinerule/add/", {**form, "working_days": "90"})

    assert "где правила нет, действуют сроки по умолчанию" in listing
    assert "<td>Вопрос по начислению</td><td>принято</td><td>10</td>" in listing
    assert "действует для новых обращений" in listing
    assert refused.status_code == 403
    assert added.status_code == 302
    assert too_long.status_code == 200
    rule = DeadlineRule.objects.get()
    assert (rule.supplier, rule.category, rule.working_days) == (supplier, Category.CHARGE, 7)
    stages = administrator.get("/backoffice/appeals/deadlinerule/add/").context["adminform"].form.fields["stage"]
    assert [value for value, _label in stages.choices] == [Status.NEW, Status.CHECKED]


# --- Files --------------------------------------------------------------------------------


@pytest.fixture
def photo(supplier: Supplier, subscriber: User) -> Attachment:
    appeal = appeal_create(
        user=subscriber,
        category=Category.EQUIPMENT,
        text="Плита не зажигается",
        account_id=None,
        supplier_id=supplier.pk,
        files=[NewFile(name="../Фото плиты.JPG", content=io.BytesIO(jpeg()), size=len(jpeg()))],
        channel="web",
        now=NOW,
    )
    return Attachment.objects.get(appeal=appeal)


def test_an_operator_downloads_a_file(operator: Client, photo: Attachment) -> None:
    response = operator.get(f"{QUEUE}file/{photo.pk}/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == jpeg()  # type: ignore[attr-defined]
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == f"attachment; filename*=utf-8''{quote('Фото плиты.jpg')}"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert {"private", "no-store"} <= {part.strip() for part in response["Cache-Control"].split(",")}


def test_a_file_only_with_the_permission(photo: Attachment) -> None:
    clerk = staff(None, "clerk")
    files_only = staff(None, "archivist", permissions=("view_attachment",))
    visitor = Client()
    visitor.force_login(photo.uploaded_by)  # type: ignore[arg-type]

    assert clerk.get(f"{QUEUE}file/{photo.pk}/").status_code == 403
    assert files_only.get(f"{QUEUE}file/{photo.pk}/").status_code == 200
    assert visitor.get(f"{QUEUE}file/{photo.pk}/").status_code == 302  # to the back office's login
    assert files_only.get(f"{QUEUE}file/{photo.pk + 1}/").status_code == 404


def test_a_file_gone_from_the_storage_is_not_found(operator: Client, photo: Attachment, media: Path) -> None:
    (media / photo.file.name).unlink()

    assert operator.get(f"{QUEUE}file/{photo.pk}/").status_code == 404


# --- The start page -----------------------------------------------------------------------


def test_the_start_page_counts_the_open_cases_by_kind(operator: Client, supplier: Supplier, subscriber: User) -> None:
    case(supplier)
    case(supplier, status=Status.IN_PROGRESS)
    case(supplier, status=Status.CLOSED)
    connection(supplier, subscriber)
    nobody = staff(None, "clerk")

    content = operator.get("/backoffice/").content.decode()

    assert f'<a href="{QUEUE}?kind__exact=appeal">Обращения</a></th>\n        <td>открыто: 2</td>' in content
    assert f'<a href="{QUEUE}?kind__exact=connection">Заявки на подключение к газу</a>' in content
    assert "открыто: 1" in content
    assert "открыто: 0" in content
    assert 'id="appeals-work"' not in nobody.get("/backoffice/").content.decode()
