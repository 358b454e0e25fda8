"""A guest's message from the contacts page: the robot trap, the form's age, the limits per
address, the contact normalized, and the operator's answer sent to that contact."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from abonent.appeals import policy
from abonent.appeals.enums import Action, AppealKind, Category, NotifyChannel, Role, Status
from abonent.appeals.models import Appeal, Event, Message
from abonent.appeals.services import FeedbackRateLimited, FeedbackTooFast, appeal_operator_act, feedback_send
from abonent.core.errors import ValidationFailed
from abonent.core.models import AuditRecord, RateCounter, Supplier
from abonent.identity.models import User
from abonent.notifications.enums import Channel, DeliveryStatus
from abonent.notifications.models import Delivery
from tests.appeals.factories import NO_ROWS, NOW, at, rows

pytestmark = pytest.mark.django_db

IP = "203.0.113.7"
TEXT = "Здравствуйте! Подскажите, как заключить договор на техобслуживание газового котла?"
CONTACT_ERROR = "Укажите e-mail или номер мобильного телефона, чтобы мы могли ответить"


def send(supplier: Supplier, **fields: Any) -> Appeal | None:
    values: dict[str, Any] = {
        "supplier_id": supplier.pk,
        "name": "Пётр",
        "contact": "petr@example.org",
        "text": TEXT,
        "ip": IP,
        "channel": "web",
        "now": NOW,
        **fields,
    }
    return feedback_send(**values)


def test_a_message_from_the_contacts_page(supplier: Supplier) -> None:
    appeal = send(
        supplier,
        name="  Пётр   Сергеевич ",
        contact=" Petr.Ivanov@Example.ORG ",
        text=f"  {TEXT}  ",
        form_issued_at=NOW - dt.timedelta(minutes=5),
    )

    assert appeal is not None
    assert Appeal.objects.values().get(pk=appeal.pk) == {
        "id": appeal.pk,
        "kind": AppealKind.FEEDBACK,
        "category": Category.FEEDBACK,
        "supplier_id": supplier.pk,
        "account_id": None,
        "user_id": None,
        "guest_name": "Пётр Сергеевич",
        "guest_contact": "Petr.Ivanov@example.org",
        "summary": TEXT,
        "status": Status.NEW,
        "status_before_waiting": "",
        "assignee_id": None,
        "channel": "web",
        "notify_channel": NotifyChannel.EMAIL,
        "created_at": NOW,
        "status_changed_at": NOW,
        "due_on": at(days=14).date(),  # 10 working days
        "days_left_paused": None,
        "closed_at": None,
        "subscriber_unread": False,
        "rating": None,
        "rating_comment": "",
        "rated_at": None,
    }
    assert list(Message.objects.filter(appeal=appeal).values_list("author", "role", "action", "text")) == [
        (None, Role.SUBSCRIBER, "create", TEXT)
    ]
    assert list(
        Event.objects.filter(appeal=appeal).values_list("actor", "role", "action", "channel", "new_status")
    ) == [(None, Role.SUBSCRIBER, "create", "web", Status.NEW)]
    assert list(
        AuditRecord.objects.filter(object_type="appeal", object_id=str(appeal.pk)).values_list("actor_id", "action")
    ) == [(None, "appeal.create")]
    assert rows()["deliveries"] == 0


@pytest.mark.parametrize(
    ("contact", "stored", "channel"),
    [
        ("8 (912) 345-67-89", "+79123456789", NotifyChannel.SMS),
        ("+7 912 345 67 89", "+79123456789", NotifyChannel.SMS),
        ("9123456789", "+79123456789", NotifyChannel.SMS),
        ("ivan@MAIL.RU", "ivan@mail.ru", NotifyChannel.EMAIL),
    ],
)
def test_the_contact_is_an_email_or_a_phone(supplier: Supplier, contact: str, stored: str, channel: str) -> None:
    appeal = send(supplier, contact=contact)

    assert appeal is not None
    assert (appeal.guest_contact, appeal.notify_channel) == (stored, channel)


def test_a_robot_filling_the_hidden_field_gets_nothing_written(supplier: Supplier) -> None:
    assert send(supplier, trap="http://spam.example", form_issued_at=NOW - dt.timedelta(seconds=1)) is None
    assert rows() == NO_ROWS
    assert RateCounter.objects.count() == 0


@pytest.mark.parametrize(
    ("age", "refused"),
    [
        (dt.timedelta(seconds=0), True),
        (dt.timedelta(seconds=2.9), True),
        (dt.timedelta(seconds=policy.FEEDBACK_MIN_SECONDS), False),
        (dt.timedelta(hours=23, minutes=59), False),
        (dt.timedelta(seconds=policy.FEEDBACK_MAX_AGE_SECONDS), False),
        (dt.timedelta(seconds=policy.FEEDBACK_MAX_AGE_SECONDS + 1), True),
        (dt.timedelta(days=3), True),
        (-dt.timedelta(minutes=5), True),  # issued "in the future": not a form we gave out
    ],
)
def test_a_form_sent_too_fast_or_too_late(supplier: Supplier, age: dt.timedelta, refused: bool) -> None:
    if refused:
        with pytest.raises(FeedbackTooFast) as error:
            send(supplier, form_issued_at=NOW - age)
        assert error.value.code == "form_too_fast"
        assert error.value.text == (
            "Форма отправлена слишком быстро или устарела. Обновите страницу и отправьте сообщение ещё раз."
        )
        assert rows() == NO_ROWS
        assert RateCounter.objects.count() == 0
    else:
        assert send(supplier, form_issued_at=NOW - age) is not None


def test_every_bad_field_at_once_and_no_limit_counted(supplier: Supplier) -> None:
    with pytest.raises(ValidationFailed) as failed:
        send(supplier, supplier_id=None, name=" ", contact="позвоните мне", text="\n")

    assert failed.value.errors == {
        "supplier_id": ["Выберите поставщика газа из списка"],
        "name": ["Как к вам обращаться?"],
        "contact": [CONTACT_ERROR],
        "text": ["Напишите текст сообщения"],
    }
    assert rows() == NO_ROWS
    assert RateCounter.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"supplier_id": 999_999}, {"supplier_id": ["Выберите поставщика газа из списка"]}),
        ({"name": "Я" * 151}, {"name": ["Имя длиннее 150 знаков"]}),
        ({"contact": ""}, {"contact": [CONTACT_ERROR]}),
        ({"contact": "petr@"}, {"contact": [CONTACT_ERROR]}),
        ({"contact": "+7 495 123-45-67"}, {"contact": [CONTACT_ERROR]}),
        ({"text": "я" * 5001}, {"text": ["Текст длиннее 5000 знаков (5001): сократите его"]}),
    ],
)
def test_a_bad_field(supplier: Supplier, fields: dict[str, Any], errors: dict[str, list[str]]) -> None:
    with pytest.raises(ValidationFailed) as failed:
        send(supplier, **fields)

    assert failed.value.errors == errors
    assert rows() == NO_ROWS


def test_an_inactive_supplier_takes_no_messages(supplier: Supplier) -> None:
    Supplier.objects.filter(pk=supplier.pk).update(is_active=False)

    with pytest.raises(ValidationFailed) as failed:
        send(supplier)

    assert failed.value.errors == {"supplier_id": ["Выберите поставщика газа из списка"]}


def test_three_messages_an_hour_from_one_address(supplier: Supplier) -> None:
    for minute in range(policy.FEEDBACK_PER_HOUR):
        assert send(supplier, now=at(minutes=minute)) is not None

    with pytest.raises(FeedbackRateLimited) as limited:
        send(supplier, now=at(minutes=10))

    assert (limited.value.code, limited.value.retry_after) == ("too_many_messages", 50 * 60)
    assert limited.value.text == "С этого адреса уже отправлено много сообщений. Попробуйте через 50 мин."
    assert Appeal.objects.count() == 3
    # another address is not held back; the same one is let through in the next hour
    assert send(supplier, ip="198.51.100.20", now=at(minutes=11)) is not None
    assert send(supplier, now=at(hours=1)) is not None
    assert Appeal.objects.count() == 5


def test_ten_messages_a_day_from_one_address(supplier: Supplier) -> None:
    # three an hour from 07:00 to 09:59 UTC, then the tenth at 10:00
    times = [at(hours=hour, minutes=minute) for hour in range(3) for minute in (0, 20, 40)] + [at(hours=3)]
    for now in times:
        assert send(supplier, now=now) is not None
    assert Appeal.objects.count() == policy.FEEDBACK_PER_DAY

    with pytest.raises(FeedbackRateLimited) as limited:
        send(supplier, now=at(hours=3, minutes=30))  # 10:30 UTC: the day's window ends at midnight UTC

    assert limited.value.retry_after == 13 * 3600 + 30 * 60
    assert limited.value.text == "С этого адреса уже отправлено много сообщений. Попробуйте через 810 мин."
    assert Appeal.objects.count() == policy.FEEDBACK_PER_DAY
    assert send(supplier, now=dt.datetime(2026, 11, 24, 0, 0, tzinfo=dt.UTC)) is not None


def test_a_message_without_an_address_is_limited_as_one_address(supplier: Supplier) -> None:
    for minute in range(policy.FEEDBACK_PER_HOUR):
        send(supplier, ip="", now=at(minutes=minute))

    with pytest.raises(FeedbackRateLimited):
        send(supplier, ip="", now=at(minutes=5))


# --- The operator's answer ---------------------------------------------------------------


def test_the_answer_goes_to_the_guests_email_and_closes_the_message(supplier: Supplier, operator: User) -> None:
    appeal = send(supplier, contact="Petr@Example.org")
    assert appeal is not None
    answer = "Договор заключается в офисе или на сайте, раздел «Техобслуживание». Возьмите паспорт."

    appeal_operator_act(operator=operator, appeal_id=appeal.pk, action=Action.ANSWER, text=answer, now=at(hours=3))

    appeal.refresh_from_db()
    assert (appeal.status, appeal.closed_at, appeal.due_on, appeal.assignee) == (
        Status.CLOSED,
        at(hours=3),
        None,
        operator,
    )
    assert list(
        Delivery.objects.values_list("channel", "kind", "recipient", "subject", "body", "status", "created_at")
    ) == [
        (
            Channel.EMAIL,
            "appeal_update",
            "Petr@example.org",
            "Ответ на ваше сообщение от 23.11.2026",
            answer,
            DeliveryStatus.PENDING,
            at(hours=3),
        )
    ]


def test_the_answer_to_a_phone_goes_by_sms(supplier: Supplier, operator: User) -> None:
    appeal = send(supplier, contact="8 912 345-67-89")
    assert appeal is not None
    answer = "Перезвоните нам: 8 800 100-00-01. " + "Подробно. " * 80

    appeal_operator_act(operator=operator, appeal_id=appeal.pk, action=Action.ANSWER, text=answer, now=at(hours=3))

    [delivery] = Delivery.objects.all()
    assert (delivery.channel, delivery.recipient, delivery.subject, delivery.body) == (
        Channel.SMS,
        "+79123456789",
        "",
        answer.strip()[:600],
    )
    assert len(delivery.body) == 600


def test_the_subject_names_the_day_at_the_suppliers_place(supplier: Supplier, operator: User) -> None:
    late = dt.datetime(2026, 11, 23, 21, 30, tzinfo=dt.UTC)  # 00:30 on the 24th in Moscow
    appeal = send(supplier, now=late)
    assert appeal is not None

    appeal_operator_act(operator=operator, appeal_id=appeal.pk, action=Action.ANSWER, text="Ответ", now=at(days=1))

    assert Delivery.objects.get().subject == "Ответ на ваше сообщение от 24.11.2026"


def test_taking_or_closing_as_spam_tells_the_guest_nothing(supplier: Supplier, operator: User) -> None:
    appeal = send(supplier)
    assert appeal is not None

    appeal_operator_act(operator=operator, appeal_id=appeal.pk, action=Action.TAKE, now=at(hours=1))
    appeal_operator_act(
        operator=operator, appeal_id=appeal.pk, action=Action.CLOSE, text="Реклама, не отвечаем", now=at(hours=2)
    )

    appeal.refresh_from_db()
    assert (appeal.status, appeal.closed_at) == (Status.CLOSED, at(hours=2))
    assert list(Message.objects.filter(appeal=appeal).values_list("role", "action", "text")) == [
        (Role.SUBSCRIBER, "create", TEXT),
        (Role.OPERATOR, "close", "Реклама, не отвечаем"),
    ]
    assert Delivery.objects.count() == 0
