"""Telling the applicant: an operator's step reaches them the way they chose (the answer in
an e-mail, a short SMS without it, nothing but the mark in the portal), their own steps do
not, and a deleted profile gets nothing. One answer goes out over real SMTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from pytest_django.fixtures import Settings

from abonent.appeals.enums import Action, AppealKind, NotifyChannel, Status
from abonent.appeals.models import Appeal
from abonent.appeals.selectors import appeals_unread_count
from abonent.appeals.services import (
    appeal_create,
    appeal_mark_read,
    appeal_operator_act,
    appeal_rate,
    appeal_reply,
    appeal_withdraw,
)
from abonent.core.models import Supplier
from abonent.identity.models import User
from abonent.notifications.enums import Channel, DeliveryStatus, Provider
from abonent.notifications.models import Delivery
from tests.appeals.factories import APPLICANT_EMAIL, APPLICANT_PHONE, NOW, appeal_make, applicant_make, at
from tests.conftest import free_port
from tests.notifications.conftest import SmtpServer, use_smtp

pytestmark = pytest.mark.django_db

ANSWER = "Начисление за октябрь пересчитано по показаниям 01234, новая сумма — в квитанции за ноябрь."
FOOTER = "\n\nВся переписка — в личном кабинете, раздел «Обращения»."


def deliveries() -> list[tuple[str, str, str, str, str, dt.datetime]]:
    return list(
        Delivery.objects.order_by("pk").values_list("channel", "kind", "recipient", "subject", "body", "created_at")
    )


def case(supplier: Supplier, user: User, channel: str, **fields: Any) -> Appeal:
    return appeal_make(supplier=supplier, user=user, notify_channel=channel, **fields)


def unread(appeal: Appeal) -> bool:
    appeal.refresh_from_db()
    return appeal.subscriber_unread


def test_an_answer_by_email_carries_the_answer(supplier: Supplier, applicant: User, operator: User) -> None:
    appeal = case(supplier, applicant, NotifyChannel.EMAIL, status=Status.IN_PROGRESS)

    appeal_operator_act(operator=operator, appeal_id=appeal.pk, action=Action.ANSWER, text=ANSWER, now=at(hours=1))

    headline = f"Обращение № {appeal.pk}: дан ответ"
    assert deliveries() == [
        (Channel.EMAIL, "appeal_update", APPLICANT_EMAIL, headline, f"{headline}.\n\n{ANSWER}{FOOTER}", at(hours=1))
    ]
    assert unread(appeal) is True


def test_an_answer_by_sms_is_short_and_without_the_answer(supplier: Supplier, applicant: User, operator: User) -> None:
    appeal = case(supplier, applicant, NotifyChannel.SMS, status=Status.IN_PROGRESS)

    appeal_operator_act(operator=operator, appeal_id=appeal.pk, action=Action.ANSWER, text=ANSWER, now=at(hours=1))

    assert deliveries() == [
        (
            Channel.SMS,
            "appeal_update",
            APPLICANT_PHONE,
            "",
            f"Обращение № {appeal.pk}: дан ответ. Подробности в личном кабинете.",
            at(hours=1),
        )
    ]
    assert unread(appeal) is True


def test_an_answer_in_the_portal_only_is_a_mark_there(supplier: Supplier, applicant: User, operator: User) -> None:
    appeal = case(supplier, applicant, NotifyChannel.PORTAL, status=Status.IN_PROGRESS)

    appeal_operator_act(operator=operator, appeal_id=appeal.pk, action=Action.ANSWER, text=ANSWER, now=at(hours=1))

    assert deliveries() == []
    assert unread(appeal) is True
    assert appeals_unread_count(user=applicant) == 1


@pytest.mark.parametrize(
    ("kind", "status", "action", "text", "headline"),
    [
        (AppealKind.APPEAL, Status.NEW, Action.TAKE, "", "Обращение № {pk}: в работе"),
        (
            AppealKind.APPEAL,
            Status.IN_PROGRESS,
            Action.ASK,
            "Пришлите фото счётчика.",
            "Обращение № {pk}: ждёт ответа заявителя",
        ),
        (AppealKind.APPEAL, Status.ANSWERED, Action.CLOSE, "", "Обращение № {pk}: закрыто"),
        (AppealKind.CONNECTION, Status.NEW, Action.CHECK, "", "Заявка № {pk}: заявка проверена"),
        (
            AppealKind.CONNECTION,
            Status.WORKS,
            Action.ANSWER,
            "Работы начнутся 1 декабря.",
            "Заявка № {pk}: новое сообщение",
        ),
        (
            AppealKind.CONNECTION,
            Status.CHECKED,
            Action.REFUSE,
            "Участок вне зоны газификации.",
            "Заявка № {pk}: отказано",
        ),
    ],
)
def test_each_step_of_an_operator_is_told_by_email(
    supplier: Supplier,
    applicant: User,
    operator: User,
    kind: str,
    status: Status,
    action: Action,
    text: str,
    headline: str,
) -> None:
    appeal = case(supplier, applicant, NotifyChannel.EMAIL, kind=kind, status=status)

    appeal_operator_act(operator=operator, appeal_id=appeal.pk, action=action, text=text, now=at(hours=1))

    subject = headline.format(pk=appeal.pk)
    body = f"{subject}." + (f"\n\n{text}" if text else "") + FOOTER
    assert deliveries() == [(Channel.EMAIL, "appeal_update", APPLICANT_EMAIL, subject, body, at(hours=1))]
    assert unread(appeal) is True


def test_taking_a_connection_application_moves_nothing_and_tells_nothing(
    supplier: Supplier, applicant: User, operator: User
) -> None:
    appeal = case(supplier, applicant, NotifyChannel.EMAIL, kind=AppealKind.CONNECTION)

    appeal_operator_act(operator=operator, appeal_id=appeal.pk, action=Action.TAKE, now=at(hours=1))

    assert deliveries() == []
    assert unread(appeal) is False


def test_the_applicants_own_steps_tell_them_nothing(supplier: Supplier, applicant: User, media: Path) -> None:
    created = appeal_create(
        user=applicant,
        category="other",
        text="Вопрос",
        account_id=None,
        supplier_id=supplier.pk,
        notify_channel=NotifyChannel.EMAIL,
        channel="web",
        now=NOW,
    )
    waiting = case(supplier, applicant, NotifyChannel.SMS, status=Status.WAITING)
    answered = case(supplier, applicant, NotifyChannel.EMAIL, status=Status.ANSWERED)
    open_ = case(supplier, applicant, NotifyChannel.EMAIL, status=Status.IN_PROGRESS)

    appeal_reply(user=applicant, appeal_id=waiting.pk, text="Вот фото", channel="web", now=at(hours=1))
    appeal_rate(user=applicant, appeal_id=answered.pk, rating=5, channel="web", now=at(hours=1))
    appeal_withdraw(user=applicant, appeal_id=open_.pk, channel="web", now=at(hours=1))

    assert deliveries() == []
    assert [unread(appeal) for appeal in (created, waiting, answered, open_)] == [False, False, False, False]


def test_mark_read_clears_the_mark_of_the_users_own_case_only(
    supplier: Supplier, applicant: User, operator: User
) -> None:
    stranger = applicant_make(phone="+79161112233", email="stranger@example.org")
    mine = case(supplier, applicant, NotifyChannel.PORTAL, status=Status.IN_PROGRESS, subscriber_unread=True)
    theirs = case(supplier, stranger, NotifyChannel.PORTAL, status=Status.IN_PROGRESS, subscriber_unread=True)

    appeal_mark_read(user=applicant, appeal_id=theirs.pk)
    assert (unread(mine), unread(theirs)) == (True, True)

    appeal_mark_read(user=applicant, appeal_id=mine.pk)
    assert (unread(mine), unread(theirs)) == (False, True)
    assert (appeals_unread_count(user=applicant), appeals_unread_count(user=stranger)) == (0, 1)

    appeal_operator_act(operator=operator, appeal_id=mine.pk, action=Action.ANSWER, text=ANSWER, now=at(hours=1))
    assert unread(mine) is True


@pytest.mark.parametrize("channel", [NotifyChannel.EMAIL, NotifyChannel.SMS])
def test_a_deleted_profile_gets_nothing(supplier: Supplier, applicant: User, operator: User, channel: str) -> None:
    appeal = case(supplier, applicant, channel, status=Status.IN_PROGRESS)
    User.objects.filter(pk=applicant.pk).update(is_active=False)

    appeal_operator_act(operator=operator, appeal_id=appeal.pk, action=Action.ANSWER, text=ANSWER, now=at(hours=1))

    assert deliveries() == []
    assert Appeal.objects.get(pk=appeal.pk).status == Status.ANSWERED


@pytest.mark.parametrize(
    ("channel", "gone"),
    [(NotifyChannel.EMAIL, {"email_confirmed_at": None}), (NotifyChannel.SMS, {"phone": None})],
)
def test_a_contact_no_longer_confirmed_gets_nothing(
    supplier: Supplier, operator: User, channel: str, gone: dict[str, Any]
) -> None:
    user = applicant_make()
    appeal = case(supplier, user, channel, status=Status.IN_PROGRESS)
    User.objects.filter(pk=user.pk).update(**gone)

    appeal_operator_act(operator=operator, appeal_id=appeal.pk, action=Action.ANSWER, text=ANSWER, now=at(hours=1))

    assert deliveries() == []
    assert unread(appeal) is True


# --- Over real SMTP ----------------------------------------------------------------------

Capture = Callable[..., AbstractContextManager[Any]]


@pytest.fixture
def smtp_server(settings: Settings) -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    use_smtp(settings, server.port)
    try:
        yield server
    finally:
        server.stop()


def test_the_answer_arrives_by_email_over_smtp(
    supplier: Supplier,
    applicant: User,
    operator: User,
    smtp_server: SmtpServer,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    appeal = case(supplier, applicant, NotifyChannel.EMAIL, status=Status.IN_PROGRESS)

    with django_capture_on_commit_callbacks(execute=True):  # the test's transaction "commits" here
        appeal_operator_act(operator=operator, appeal_id=appeal.pk, action=Action.ANSWER, text=ANSWER, now=at(hours=1))

    [envelope] = smtp_server.envelopes
    assert (envelope.mail_from, envelope.rcpt_tos) == ("noreply@localhost", [APPLICANT_EMAIL])
    [message] = smtp_server.messages
    headline = f"Обращение № {appeal.pk}: дан ответ"
    assert message["To"] == APPLICANT_EMAIL
    assert message["Subject"].lstrip() == headline
    assert message.get_content() == f"{headline}.\n\n{ANSWER}{FOOTER}\n"
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.provider, delivery.provider_message_id) == (
        DeliveryStatus.SENT,
        Provider.SMTP,
        message["Message-ID"],
    )
