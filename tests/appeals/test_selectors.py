"""Reading appeals: only the applicant's own, the queue in the order operators work it, the
stages of a connection application, the answer templates and the counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from abonent.appeals.enums import Action, AppealKind, Category, Role, Status
from abonent.appeals.models import AnswerTemplate, Appeal, Attachment
from abonent.appeals.selectors import (
    answer_templates_for,
    appeal_events,
    appeal_for_operator,
    appeal_get,
    appeals_list,
    attachment_for_operator,
    attachment_get,
    connection_stages,
    due_state,
    operator_actions,
    queue_counts,
    queue_ordered,
    subscriber_actions,
)
from abonent.appeals.services import (
    AppealNotFound,
    AttachmentNotFound,
    appeal_create,
    appeal_operator_act,
    appeal_reply,
    connection_apply,
)
from abonent.core.models import Supplier
from abonent.identity.models import User
from tests.appeals.factories import (
    NOW,
    appeal_make,
    applicant_make,
    at,
    connection_documents,
    connection_request,
    new_file,
)
from tests.core import files

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 23)


@pytest.fixture
def stranger(db: None) -> User:
    return applicant_make(phone="+79161112233", email="stranger@example.org")


def test_appeals_list_holds_only_the_users_own_the_newest_first(
    supplier: Supplier, applicant: User, stranger: User
) -> None:
    older = appeal_make(supplier=supplier, user=applicant, created_at=at(days=-3))
    newer = appeal_make(supplier=supplier, user=applicant, kind=AppealKind.CONNECTION, created_at=at(days=-1))
    theirs = appeal_make(supplier=supplier, user=stranger)
    appeal_make(supplier=supplier, kind=AppealKind.FEEDBACK)

    assert appeals_list(user=applicant) == [newer, older]
    assert appeals_list(user=stranger) == [theirs]


def test_appeal_get_gives_the_users_case_with_its_thread(
    supplier: Supplier, applicant: User, operator: User, media: Path
) -> None:
    appeal = appeal_create(
        user=applicant,
        category=Category.OTHER,
        text="Вопрос",
        account_id=None,
        supplier_id=supplier.pk,
        files=[new_file(files.jpeg(), "фото.jpg")],
        channel="web",
        now=NOW,
    )
    appeal_operator_act(operator=operator, appeal_id=appeal.pk, action=Action.ASK, text="Уточните", now=at(hours=1))
    appeal_reply(user=applicant, appeal_id=appeal.pk, text="Уточняю", channel="web", now=at(hours=2))

    got = appeal_get(user=applicant, appeal_id=appeal.pk)

    thread = [(m.role, m.text, [a.name for a in m.attachments.all()]) for m in got.messages.all()]
    assert thread == [
        (Role.SUBSCRIBER, "Вопрос", ["фото.jpg"]),
        (Role.OPERATOR, "Уточните", []),
        (Role.SUBSCRIBER, "Уточняю", []),
    ]
    assert [(e.action, e.old_status, e.new_status) for e in appeal_events(appeal=got)] == [
        ("create", "", Status.NEW),
        ("ask", Status.NEW, Status.WAITING),
        ("subscriber_reply", Status.WAITING, Status.IN_PROGRESS),
    ]
    assert appeal_for_operator(appeal_id=appeal.pk) == got


def test_another_persons_case_is_not_found(supplier: Supplier, applicant: User, stranger: User) -> None:
    theirs = appeal_make(supplier=supplier, user=stranger)
    guest = appeal_make(supplier=supplier, kind=AppealKind.FEEDBACK)

    for appeal_id in (theirs.pk, guest.pk, 999_999):
        with pytest.raises(AppealNotFound):
            appeal_get(user=applicant, appeal_id=appeal_id)
    with pytest.raises(AppealNotFound):
        appeal_for_operator(appeal_id=999_999)


def _attachment(appeal: Appeal, name: str) -> Attachment:
    return Attachment.objects.create(
        appeal=appeal,
        file=f"appeals/{appeal.pk}/{'a' * 32}.pdf",
        name=name,
        mime="application/pdf",
        size=100,
        sha256="0" * 64,
        role=Role.SUBSCRIBER,
        created_at=NOW,
    )


def test_a_file_is_given_only_with_its_own_case_to_its_own_applicant(
    supplier: Supplier, applicant: User, stranger: User
) -> None:
    mine = appeal_make(supplier=supplier, user=applicant)
    also_mine = appeal_make(supplier=supplier, user=applicant)
    theirs = appeal_make(supplier=supplier, user=stranger)
    my_file = _attachment(mine, "мой.pdf")
    their_file = _attachment(theirs, "чужой.pdf")

    assert attachment_get(user=applicant, appeal_id=mine.pk, attachment_id=my_file.pk) == my_file
    for appeal_id, attachment_id in (
        (theirs.pk, their_file.pk),  # another's case
        (mine.pk, their_file.pk),  # another's file under my case's number
        (also_mine.pk, my_file.pk),  # my file under another of my cases
        (mine.pk, 999_999),
    ):
        with pytest.raises(AttachmentNotFound) as missing:
            attachment_get(user=applicant, appeal_id=appeal_id, attachment_id=attachment_id)
        assert missing.value.text == "Файл не найден"
    assert attachment_for_operator(attachment_id=their_file.pk) == their_file
    with pytest.raises(AttachmentNotFound):
        attachment_for_operator(attachment_id=999_999)


def test_the_queue_overdue_first_then_the_nearest_then_no_deadline_and_finished_last(supplier: Supplier) -> None:
    def make(name: str, status: Status, due_on: dt.date | None, created_days_ago: int) -> Appeal:
        return appeal_make(
            supplier=supplier, summary=name, status=status, due_on=due_on, created_at=at(days=-created_days_ago)
        )

    make("closed", Status.CLOSED, None, 9)
    make("due in a week", Status.NEW, dt.date(2026, 11, 30), 1)
    make("overdue by 3 days", Status.NEW, dt.date(2026, 11, 20), 2)
    make("waiting, newer", Status.WAITING, None, 1)
    make("withdrawn", Status.WITHDRAWN, None, 10)
    make("due today", Status.IN_PROGRESS, TODAY, 5)
    make("overdue by 5 days", Status.IN_PROGRESS, dt.date(2026, 11, 18), 8)
    make("answered", Status.ANSWERED, None, 7)
    make("due in 2 days", Status.NEW, dt.date(2026, 11, 25), 1)
    make("refused with a stale term", Status.REFUSED, dt.date(2026, 11, 1), 3)

    order = [a.summary for a in queue_ordered(Appeal.objects.all(), today=TODAY)]

    assert order == [
        "overdue by 5 days",
        "overdue by 3 days",
        "due today",
        "due in 2 days",
        "due in a week",
        "answered",  # no running term: the older first
        "waiting, newer",
        "refused with a stale term",
        "withdrawn",
        "closed",
    ]


@pytest.mark.parametrize(
    ("status", "due_on", "state"),
    [
        (Status.NEW, None, ""),
        (Status.NEW, dt.date(2026, 11, 20), "overdue"),
        (Status.IN_PROGRESS, TODAY, "today"),
        (Status.CHECKED, dt.date(2026, 11, 24), ""),
        (Status.CLOSED, dt.date(2026, 11, 20), ""),
        (Status.GAS_STARTED, TODAY, ""),
    ],
)
def test_due_state(supplier: Supplier, status: Status, due_on: dt.date | None, state: str) -> None:
    appeal = appeal_make(supplier=supplier, status=status, due_on=due_on)

    assert due_state(appeal, today=TODAY) == state


# --- The stages of a connection application ----------------------------------------------

LABELS = ["заявка подана", "заявка проверена", "договор направлен", "выполняются работы", "газ пущен"]


def _stages(appeal: Appeal) -> list[tuple[str, str, dt.datetime | None, str]]:
    return [(s.status, s.label, s.reached_at, s.state) for s in connection_stages(appeal=appeal)]


def test_the_stages_of_a_new_application(supplier: Supplier, applicant: User) -> None:
    appeal = appeal_make(supplier=supplier, user=applicant, kind=AppealKind.CONNECTION, created_at=at(days=-2))

    assert _stages(appeal) == [
        (Status.NEW, LABELS[0], at(days=-2), "current"),
        (Status.CHECKED, LABELS[1], None, "ahead"),
        (Status.CONTRACT_SENT, LABELS[2], None, "ahead"),
        (Status.WORKS, LABELS[3], None, "ahead"),
        (Status.GAS_STARTED, LABELS[4], None, "ahead"),
    ]


def test_the_stages_with_the_day_each_was_reached_also_while_waiting(
    supplier: Supplier, applicant: User, operator: User, media: Path
) -> None:
    appeal = connection_apply(
        user=applicant, request=connection_request(supplier), files=connection_documents(), channel="web", now=NOW
    )

    def act(action: str, now: dt.datetime, text: str = "") -> None:
        appeal_operator_act(operator=operator, appeal_id=appeal.pk, action=action, text=text, now=now)
        appeal.refresh_from_db()

    act(Action.TAKE, at(hours=1))
    act(Action.CHECK, at(days=1))
    act(Action.ASK, at(days=2), "Приложите план участка с отметкой места ввода")
    waiting = _stages(appeal)
    appeal_reply(user=applicant, appeal_id=appeal.pk, text="Приложила", channel="web", now=at(days=3))
    appeal.refresh_from_db()
    act(Action.SEND_CONTRACT, at(days=4))

    assert appeal.status == Status.CONTRACT_SENT
    assert waiting == [
        (Status.NEW, LABELS[0], NOW, "done"),
        (Status.CHECKED, LABELS[1], at(days=1), "current"),
        (Status.CONTRACT_SENT, LABELS[2], None, "ahead"),
        (Status.WORKS, LABELS[3], None, "ahead"),
        (Status.GAS_STARTED, LABELS[4], None, "ahead"),
    ]
    assert _stages(appeal) == [
        (Status.NEW, LABELS[0], NOW, "done"),
        (Status.CHECKED, LABELS[1], at(days=1), "done"),  # the first time it was reached, not the return
        (Status.CONTRACT_SENT, LABELS[2], at(days=4), "current"),
        (Status.WORKS, LABELS[3], None, "ahead"),
        (Status.GAS_STARTED, LABELS[4], None, "ahead"),
    ]

    act(Action.START_WORKS, at(days=10))
    act(Action.START_GAS, at(days=20))

    assert _stages(appeal) == [
        (Status.NEW, LABELS[0], NOW, "done"),
        (Status.CHECKED, LABELS[1], at(days=1), "done"),
        (Status.CONTRACT_SENT, LABELS[2], at(days=4), "done"),
        (Status.WORKS, LABELS[3], at(days=10), "done"),
        (Status.GAS_STARTED, LABELS[4], at(days=20), "done"),
    ]


def test_the_stages_of_an_application_waiting_since_it_was_new(
    supplier: Supplier, applicant: User, operator: User
) -> None:
    appeal = appeal_make(supplier=supplier, user=applicant, kind=AppealKind.CONNECTION)
    appeal_operator_act(operator=operator, appeal_id=appeal.pk, action=Action.ASK, text="Вопрос", now=at(hours=1))
    appeal.refresh_from_db()

    assert [(s.status, s.state) for s in connection_stages(appeal=appeal)] == [
        (Status.NEW, "current"),
        (Status.CHECKED, "ahead"),
        (Status.CONTRACT_SENT, "ahead"),
        (Status.WORKS, "ahead"),
        (Status.GAS_STARTED, "ahead"),
    ]


# --- For operators -----------------------------------------------------------------------


def test_answer_templates_of_the_supplier_and_common_of_the_topic_and_any(
    supplier: Supplier, supplier_kld: Supplier
) -> None:
    def template(title: str, owner: Supplier | None, category: str, *, active: bool = True) -> None:
        AnswerTemplate.objects.create(supplier=owner, category=category, title=title, text=title, is_active=active)

    template("Г: свой, о начислении", supplier, Category.CHARGE)
    template("В: свой, на любую тему", supplier, "")
    template("Б: общий, о начислении", None, Category.CHARGE)
    template("А: общий, на любую тему", None, "")
    template("Д: чужого поставщика", supplier_kld, Category.CHARGE)
    template("Е: своего, о другом", supplier, Category.PAYMENT)
    template("Ж: не используется", supplier, Category.CHARGE, active=False)
    appeal = appeal_make(supplier=supplier, category=Category.CHARGE)

    assert [t.title for t in answer_templates_for(appeal=appeal)] == [
        "А: общий, на любую тему",
        "Б: общий, о начислении",
        "В: свой, на любую тему",
        "Г: свой, о начислении",
    ]


def test_queue_counts_open_cases_by_kind(supplier: Supplier) -> None:
    for kind, status in [
        (AppealKind.APPEAL, Status.NEW),
        (AppealKind.APPEAL, Status.WAITING),
        (AppealKind.APPEAL, Status.ANSWERED),
        (AppealKind.APPEAL, Status.CLOSED),
        (AppealKind.APPEAL, Status.WITHDRAWN),
        (AppealKind.CONNECTION, Status.WORKS),
        (AppealKind.CONNECTION, Status.GAS_STARTED),
        (AppealKind.CONNECTION, Status.REFUSED),
    ]:
        appeal_make(supplier=supplier, kind=kind, status=status)

    assert queue_counts() == {"appeal": 3, "connection": 1, "feedback": 0}


def test_the_actions_each_side_has_now(supplier: Supplier) -> None:
    answered = appeal_make(supplier=supplier, status=Status.ANSWERED)
    checked = appeal_make(supplier=supplier, kind=AppealKind.CONNECTION, status=Status.CHECKED)

    assert (subscriber_actions(answered), operator_actions(answered)) == (["subscriber_reply", "rate"], ["close"])
    assert (subscriber_actions(checked), operator_actions(checked)) == (
        ["subscriber_reply", "withdraw"],
        ["take", "ask", "send_contract", "refuse", "answer"],
    )


def test_the_stages_of_a_refused_application_end_where_it_was_refused(
    supplier: Supplier, applicant: User, operator: User
) -> None:
    appeal = appeal_make(supplier=supplier, user=applicant, kind=AppealKind.CONNECTION, created_at=at(days=-2))
    appeal_operator_act(operator=operator, appeal_id=appeal.pk, action="check", now=at(days=-1))
    appeal_operator_act(operator=operator, appeal_id=appeal.pk, action="refuse", text="Нет сети в посёлке", now=at())
    appeal.refresh_from_db()

    assert _stages(appeal) == [
        (Status.NEW, LABELS[0], at(days=-2), "done"),
        (Status.CHECKED, LABELS[1], at(days=-1), "done"),
        (Status.CONTRACT_SENT, LABELS[2], None, "ahead"),
        (Status.WORKS, LABELS[3], None, "ahead"),
        (Status.GAS_STARTED, LABELS[4], None, "ahead"),
    ]
