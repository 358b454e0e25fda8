"""The workflow table, walked through the services: every (kind, action, role, status) it
allows moves the case where the table says and records the change; every one it does not
is refused and leaves everything as it was."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.db import transaction

from abonent.appeals import services
from abonent.appeals.enums import FINAL_STATUSES, Action, AppealKind, NotifyChannel, Role, Status
from abonent.appeals.models import Appeal, Event, Message
from abonent.appeals.services import (
    AppealNotFound,
    TransitionNotAllowed,
    appeal_operator_act,
    appeal_rate,
    appeal_reply,
    appeal_withdraw,
)
from abonent.appeals.workflow import RESUME, STAY, TABLE, actions_available, target_status, transition_get
from abonent.core.errors import ValidationFailed
from abonent.core.models import AuditRecord, Supplier
from abonent.identity.models import User
from abonent.notifications.models import Delivery
from tests.appeals.factories import NOW, appeal_make, applicant_make, at, operator_make, rows

A, C, F = AppealKind.APPEAL, AppealKind.CONNECTION, AppealKind.FEEDBACK
OP, SUB = Role.OPERATOR, Role.SUBSCRIBER
S = Status

#: The table as it should be, written out: (kind, action, role, from) → to.
EXPECTED: dict[tuple[str, str, str, str], str] = {
    # an appeal
    (A, Action.TAKE, OP, S.NEW): S.IN_PROGRESS,
    (A, Action.ASK, OP, S.NEW): S.WAITING,
    (A, Action.ASK, OP, S.IN_PROGRESS): S.WAITING,
    (A, Action.ANSWER, OP, S.NEW): S.ANSWERED,
    (A, Action.ANSWER, OP, S.IN_PROGRESS): S.ANSWERED,
    (A, Action.ANSWER, OP, S.WAITING): S.ANSWERED,
    (A, Action.CLOSE, OP, S.ANSWERED): S.CLOSED,
    (A, Action.SUBSCRIBER_REPLY, SUB, S.NEW): STAY,
    (A, Action.SUBSCRIBER_REPLY, SUB, S.IN_PROGRESS): STAY,
    (A, Action.SUBSCRIBER_REPLY, SUB, S.WAITING): S.IN_PROGRESS,
    (A, Action.SUBSCRIBER_REPLY, SUB, S.ANSWERED): S.IN_PROGRESS,
    (A, Action.RATE, SUB, S.ANSWERED): S.CLOSED,
    (A, Action.WITHDRAW, SUB, S.NEW): S.WITHDRAWN,
    (A, Action.WITHDRAW, SUB, S.IN_PROGRESS): S.WITHDRAWN,
    (A, Action.WITHDRAW, SUB, S.WAITING): S.WITHDRAWN,
    # an application for connection
    (C, Action.TAKE, OP, S.NEW): STAY,
    (C, Action.TAKE, OP, S.CHECKED): STAY,
    (C, Action.ASK, OP, S.NEW): S.WAITING,
    (C, Action.ASK, OP, S.CHECKED): S.WAITING,
    (C, Action.CHECK, OP, S.NEW): S.CHECKED,
    (C, Action.SEND_CONTRACT, OP, S.CHECKED): S.CONTRACT_SENT,
    (C, Action.START_WORKS, OP, S.CONTRACT_SENT): S.WORKS,
    (C, Action.START_GAS, OP, S.WORKS): S.GAS_STARTED,
    (C, Action.REFUSE, OP, S.NEW): S.REFUSED,
    (C, Action.REFUSE, OP, S.WAITING): S.REFUSED,
    (C, Action.REFUSE, OP, S.CHECKED): S.REFUSED,
    (C, Action.ANSWER, OP, S.NEW): STAY,
    (C, Action.ANSWER, OP, S.WAITING): STAY,
    (C, Action.ANSWER, OP, S.CHECKED): STAY,
    (C, Action.ANSWER, OP, S.CONTRACT_SENT): STAY,
    (C, Action.ANSWER, OP, S.WORKS): STAY,
    (C, Action.SUBSCRIBER_REPLY, SUB, S.NEW): STAY,
    (C, Action.SUBSCRIBER_REPLY, SUB, S.WAITING): RESUME,
    (C, Action.SUBSCRIBER_REPLY, SUB, S.CHECKED): STAY,
    (C, Action.SUBSCRIBER_REPLY, SUB, S.CONTRACT_SENT): STAY,
    (C, Action.SUBSCRIBER_REPLY, SUB, S.WORKS): STAY,
    (C, Action.WITHDRAW, SUB, S.NEW): S.WITHDRAWN,
    (C, Action.WITHDRAW, SUB, S.WAITING): S.WITHDRAWN,
    (C, Action.WITHDRAW, SUB, S.CHECKED): S.WITHDRAWN,
    (C, Action.WITHDRAW, SUB, S.CONTRACT_SENT): S.WITHDRAWN,
    # a guest's message
    (F, Action.TAKE, OP, S.NEW): S.IN_PROGRESS,
    (F, Action.ANSWER, OP, S.NEW): S.CLOSED,
    (F, Action.ANSWER, OP, S.IN_PROGRESS): S.CLOSED,
    (F, Action.CLOSE, OP, S.NEW): S.CLOSED,
    (F, Action.CLOSE, OP, S.IN_PROGRESS): S.CLOSED,
}

#: Actions that must come with a text.
NEEDS_TEXT = {
    (A, Action.ASK),
    (A, Action.ANSWER),
    (A, Action.SUBSCRIBER_REPLY),
    (C, Action.ASK),
    (C, Action.REFUSE),
    (C, Action.ANSWER),
    (C, Action.SUBSCRIBER_REPLY),
    (F, Action.ANSWER),
    (F, Action.CLOSE),
}

CHANNEL = {OP: "operator", SUB: "web"}


def test_the_table_is_exactly_the_expected_one() -> None:
    table = {
        (kind, transition.action, transition.role, status): target
        for kind, transitions in TABLE.items()
        for transition in transitions.values()
        for status, target in transition.moves.items()
    }
    needs_text = {
        (kind, transition.action)
        for kind, transitions in TABLE.items()
        for transition in transitions.values()
        if transition.needs_text
    }

    assert table == EXPECTED
    assert needs_text == NEEDS_TEXT


@pytest.mark.parametrize(("before", "after"), [(S.NEW, S.NEW), (S.CHECKED, S.CHECKED), ("", S.NEW)])
def test_resume_goes_back_to_the_status_before_waiting(before: str, after: Status) -> None:
    transition = transition_get(C, Action.SUBSCRIBER_REPLY, SUB)
    assert transition is not None

    assert target_status(transition, status=S.WAITING, before_waiting=before) == after


def test_transition_get_refuses_the_other_role_and_unknown_actions() -> None:
    assert transition_get(A, Action.TAKE, SUB) is None
    assert transition_get(A, Action.WITHDRAW, OP) is None
    assert transition_get(A, Action.CHECK, OP) is None  # a connection's action
    assert transition_get(A, "explode", OP) is None
    assert transition_get(A, Action.TAKE, Role.SYSTEM) is None


@pytest.mark.parametrize(
    ("kind", "status", "role", "actions"),
    [
        (A, S.NEW, OP, [Action.TAKE, Action.ASK, Action.ANSWER]),
        (A, S.NEW, SUB, [Action.SUBSCRIBER_REPLY, Action.WITHDRAW]),
        (A, S.ANSWERED, OP, [Action.CLOSE]),
        (A, S.ANSWERED, SUB, [Action.SUBSCRIBER_REPLY, Action.RATE]),
        (A, S.CLOSED, OP, []),
        (A, S.CLOSED, SUB, []),
        (C, S.NEW, OP, [Action.TAKE, Action.ASK, Action.CHECK, Action.REFUSE, Action.ANSWER]),
        (C, S.CHECKED, OP, [Action.TAKE, Action.ASK, Action.SEND_CONTRACT, Action.REFUSE, Action.ANSWER]),
        (C, S.WORKS, OP, [Action.START_GAS, Action.ANSWER]),
        (C, S.WORKS, SUB, [Action.SUBSCRIBER_REPLY]),
        (C, S.GAS_STARTED, SUB, []),
        (F, S.NEW, OP, [Action.TAKE, Action.ANSWER, Action.CLOSE]),
        (F, S.NEW, SUB, []),
    ],
)
def test_actions_available(kind: str, status: str, role: Role, actions: list[Action]) -> None:
    assert actions_available(kind, status, role) == actions


# --- Through the services ----------------------------------------------------------------


def _case(supplier: Supplier, applicant: User, kind: str, status: str, **fields: Any) -> Appeal:
    return appeal_make(
        supplier=supplier, user=None if kind == F else applicant, kind=kind, status=status, due_on=None, **fields
    )


def perform(appeal: Appeal, *, action: str, role: Role, actor: User, text: str, now: dt.datetime) -> None:
    """Take ``action`` as ``role`` through the service a person of that role has for it."""
    if role == OP:
        appeal_operator_act(operator=actor, appeal_id=appeal.pk, action=action, text=text, now=now)
    elif action == Action.SUBSCRIBER_REPLY and appeal.kind != F:
        appeal_reply(user=actor, appeal_id=appeal.pk, text=text, channel="web", now=now)
    elif action == Action.RATE and appeal.kind != F:
        appeal_rate(user=actor, appeal_id=appeal.pk, rating=4, channel="web", now=now)
    elif action == Action.WITHDRAW and appeal.kind != F:
        appeal_withdraw(user=actor, appeal_id=appeal.pk, channel="web", now=now)
    else:
        # The portal has no call by which an applicant names an operator's action, and a
        # guest has no case of their own there: what refuses it is the table itself.
        with transaction.atomic():
            services._move(
                Appeal.objects.select_for_update().select_related("supplier").get(pk=appeal.pk),
                action=action,
                role=role,
                actor=actor,
                text=text,
                files=(),
                channel="web",
                now=now,
                stored=[],
            )


def _allowed_cases() -> list[Any]:
    cases = []
    for (kind, action, role, status), target in EXPECTED.items():
        if target == RESUME:
            for before, back in ((S.NEW, S.NEW), (S.CHECKED, S.CHECKED)):
                cases.append(
                    pytest.param(kind, action, role, status, back, before, id=f"{kind}-{action}-{status}-{before}")
                )
        else:
            expected = status if target == STAY else target
            cases.append(pytest.param(kind, action, role, status, expected, "", id=f"{kind}-{action}-{status}"))
    return cases


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "action", "role", "status", "expected", "before_waiting"), _allowed_cases())
def test_an_allowed_transition_moves_the_case_and_records_it(
    supplier: Supplier,
    applicant: User,
    operator: User,
    kind: str,
    action: str,
    role: Role,
    status: Status,
    expected: Status,
    before_waiting: str,
) -> None:
    extra = {"status_before_waiting": before_waiting} if before_waiting else {}
    appeal = _case(supplier, applicant, kind, status, **extra)
    actor = operator if role == OP else applicant
    text = "Уточните, пожалуйста, показания на 1 ноября." if (kind, action) in NEEDS_TEXT else ""
    now = at(hours=2)

    perform(appeal, action=action, role=role, actor=actor, text=text, now=now)

    appeal.refresh_from_db()
    changed = expected != status
    assert appeal.status == expected
    assert appeal.status_changed_at == (now if changed else NOW)
    assert appeal.closed_at == (now if expected in FINAL_STATUSES else None)
    if expected == S.WAITING:
        assert appeal.status_before_waiting == status
    if role == OP:
        assert appeal.assignee == operator
        assert appeal.subscriber_unread is (changed or bool(text))
    else:
        assert (appeal.assignee, appeal.subscriber_unread) == (None, False)
    if action == Action.RATE:
        assert (appeal.rating, appeal.rating_comment, appeal.rated_at) == (4, "", now)

    recorded = changed or action in (Action.TAKE, Action.RATE)
    events = list(Event.objects.filter(appeal=appeal).values())
    audit = list(AuditRecord.objects.filter(object_type="appeal", object_id=str(appeal.pk)).values())
    if recorded:
        assert events == [
            {
                "id": events[0]["id"],
                "appeal_id": appeal.pk,
                "at": now,
                "actor_id": actor.pk,
                "role": role,
                "action": action,
                "channel": CHANNEL[role],
                "old_status": status,
                "new_status": expected,
            }
        ]
        assert audit == [
            {
                "id": audit[0]["id"],
                "at": now,
                "actor_id": actor.pk,
                "channel": CHANNEL[role],
                "action": f"appeal.{action}",
                "object_type": "appeal",
                "object_id": str(appeal.pk),
                "before": {"status": status},
                "after": {"status": expected},
                "ip": None,
            }
        ]
    else:  # a message that does not move the case is in the thread, not in the history
        assert (events, audit) == ([], [])
    messages = list(Message.objects.filter(appeal=appeal).values_list("author", "role", "action", "text", "created_at"))
    assert messages == ([(actor.pk, role, action, text, now)] if text else [])
    # a guest's answer goes to the guest; the applicants here chose the portal
    assert Delivery.objects.count() == (1 if (kind, action) == (F, Action.ANSWER) else 0)


def _refused_cases() -> list[Any]:
    return [
        pytest.param(kind, action, role, status, id=f"{kind}-{action}-{role}-{status}")
        for kind, action, role, status in itertools.product(AppealKind.values, Action.values, (SUB, OP), Status.values)
        if (kind, action, role, status) not in EXPECTED
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "action", "role", "status"), _refused_cases())
def test_a_transition_not_in_the_table_is_refused_and_changes_nothing(
    supplier: Supplier, applicant: User, operator: User, kind: str, action: str, role: Role, status: Status
) -> None:
    appeal = _case(supplier, applicant, kind, status)
    before = Appeal.objects.values().get(pk=appeal.pk)
    counts = rows()

    with pytest.raises(TransitionNotAllowed) as refused:
        perform(
            appeal,
            action=action,
            role=role,
            actor=operator if role == OP else applicant,
            text="Текст, который не должен сохраниться",
            now=at(hours=2),
        )

    assert refused.value.text == (
        f"Действие «{Action(action).label}» недоступно: обращение в состоянии «{Status(status).label}»"
    )
    assert Appeal.objects.values().get(pk=appeal.pk) == before
    assert rows() == counts


def test_the_expected_and_refused_cases_cover_every_combination() -> None:
    assert len(EXPECTED) + len(_refused_cases()) == len(AppealKind.values) * len(Action.values) * 2 * len(Status.values)


@pytest.mark.django_db
def test_an_unknown_action_is_refused_by_its_name(supplier: Supplier, applicant: User, operator: User) -> None:
    appeal = _case(supplier, applicant, A, S.NEW)
    counts = rows()

    with pytest.raises(TransitionNotAllowed) as refused:
        appeal_operator_act(operator=operator, appeal_id=appeal.pk, action="explode", now=NOW)

    assert refused.value.text == "Действие «explode» недоступно: обращение в состоянии «принято»"
    assert refused.value.code == "transition_not_allowed"
    assert rows() == counts


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "action", "status"),
    [
        (A, Action.ASK, S.NEW),
        (A, Action.ANSWER, S.IN_PROGRESS),
        (C, Action.REFUSE, S.CHECKED),
        (C, Action.ANSWER, S.WORKS),
        (F, Action.ANSWER, S.NEW),
        (F, Action.CLOSE, S.NEW),
    ],
)
@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_an_action_that_needs_a_text_is_refused_without_one(
    supplier: Supplier, applicant: User, operator: User, kind: str, action: str, status: Status, text: str
) -> None:
    appeal = _case(supplier, applicant, kind, status)
    before = Appeal.objects.values().get(pk=appeal.pk)
    counts = rows()

    with pytest.raises(ValidationFailed) as failed:
        appeal_operator_act(operator=operator, appeal_id=appeal.pk, action=action, text=text, now=NOW)

    assert failed.value.errors == {"text": ["Напишите текст сообщения"]}
    assert Appeal.objects.values().get(pk=appeal.pk) == before
    assert rows() == counts


@pytest.mark.django_db
def test_a_reply_needs_a_text(supplier: Supplier, applicant: User) -> None:
    appeal = _case(supplier, applicant, A, S.WAITING)
    counts = rows()

    with pytest.raises(ValidationFailed) as failed:
        appeal_reply(user=applicant, appeal_id=appeal.pk, text=" ", channel="web", now=NOW)

    assert failed.value.errors == {"text": ["Напишите текст сообщения"]}
    assert Appeal.objects.get(pk=appeal.pk).status == S.WAITING
    assert rows() == counts


@pytest.mark.django_db
@pytest.mark.parametrize("call", ["reply", "rate", "withdraw"])
def test_the_applicant_cannot_touch_another_persons_case(supplier: Supplier, applicant: User, call: str) -> None:
    stranger = applicant_make(phone="+79161112233", email="stranger@example.org")
    appeal = _case(supplier, applicant, A, S.ANSWERED)
    before = Appeal.objects.values().get(pk=appeal.pk)
    counts = rows()

    calls = {
        "reply": lambda: appeal_reply(user=stranger, appeal_id=appeal.pk, text="Это моё", channel="web", now=NOW),
        "rate": lambda: appeal_rate(user=stranger, appeal_id=appeal.pk, rating=1, channel="web", now=NOW),
        "withdraw": lambda: appeal_withdraw(user=stranger, appeal_id=appeal.pk, channel="web", now=NOW),
    }

    with pytest.raises(AppealNotFound) as missing:
        calls[call]()

    assert missing.value.text == "Обращение не найдено среди ваших"
    assert Appeal.objects.values().get(pk=appeal.pk) == before
    assert rows() == counts


@pytest.mark.django_db
def test_a_guest_message_is_nobodys_case_on_the_portal(supplier: Supplier, applicant: User) -> None:
    appeal = _case(supplier, applicant, F, S.NEW)

    with pytest.raises(AppealNotFound):
        appeal_reply(user=applicant, appeal_id=appeal.pk, text="Это моё", channel="web", now=NOW)
    with pytest.raises(AppealNotFound):
        appeal_withdraw(user=applicant, appeal_id=appeal.pk, channel="web", now=NOW)
    assert Appeal.objects.get(pk=appeal.pk).status == S.NEW


@pytest.mark.django_db
def test_an_operator_acting_on_a_case_that_does_not_exist(operator: User) -> None:
    with pytest.raises(AppealNotFound):
        appeal_operator_act(operator=operator, appeal_id=999_999, action=Action.TAKE, now=NOW)
    assert rows()["events"] == 0


# --- Rating ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("rating", [0, 6, -1, True, "5", 4.0, None])
def test_a_rating_outside_1_to_5_is_refused(supplier: Supplier, applicant: User, rating: Any) -> None:
    appeal = _case(supplier, applicant, A, S.ANSWERED)
    before = Appeal.objects.values().get(pk=appeal.pk)
    counts = rows()

    with pytest.raises(ValidationFailed) as failed:
        appeal_rate(user=applicant, appeal_id=appeal.pk, rating=rating, channel="web", now=NOW)

    assert failed.value.errors == {"rating": ["Оцените ответ от 1 до 5"]}
    assert Appeal.objects.values().get(pk=appeal.pk) == before
    assert rows() == counts


@pytest.mark.django_db
def test_a_rating_with_a_comment_closes_the_appeal(supplier: Supplier, applicant: User) -> None:
    appeal = _case(supplier, applicant, A, S.ANSWERED)

    appeal_rate(
        user=applicant,
        appeal_id=appeal.pk,
        rating=5,
        comment="  Спасибо, всё понятно.  ",
        channel="app",
        now=at(days=1),
    )

    appeal.refresh_from_db()
    assert (appeal.status, appeal.rating, appeal.rating_comment, appeal.rated_at, appeal.closed_at) == (
        S.CLOSED,
        5,
        "Спасибо, всё понятно.",
        at(days=1),
        at(days=1),
    )
    assert list(Event.objects.filter(appeal=appeal).values_list("action", "channel", "old_status", "new_status")) == [
        ("rate", "app", S.ANSWERED, S.CLOSED)
    ]
    assert Message.objects.filter(appeal=appeal).count() == 0


@pytest.mark.django_db
def test_a_rating_comment_too_long_is_refused(supplier: Supplier, applicant: User) -> None:
    appeal = _case(supplier, applicant, A, S.ANSWERED)

    with pytest.raises(ValidationFailed) as failed:
        appeal_rate(user=applicant, appeal_id=appeal.pk, rating=3, comment="я" * 5001, channel="web", now=NOW)

    assert failed.value.errors == {"comment": ["Текст длиннее 5000 знаков (5001): сократите его"]}
    assert Appeal.objects.get(pk=appeal.pk).rating is None


@pytest.mark.django_db
def test_a_rating_before_the_answer_is_refused_and_not_kept(supplier: Supplier, applicant: User) -> None:
    appeal = _case(supplier, applicant, A, S.IN_PROGRESS)

    with pytest.raises(TransitionNotAllowed):
        appeal_rate(user=applicant, appeal_id=appeal.pk, rating=2, comment="Долго", channel="web", now=NOW)

    appeal.refresh_from_db()
    assert (appeal.status, appeal.rating, appeal.rating_comment, appeal.rated_at) == (S.IN_PROGRESS, None, "", None)


# --- Who the case is assigned to ---------------------------------------------------------


@pytest.mark.django_db
def test_taking_a_case_makes_the_operator_its_assignee_and_answering_keeps_it(
    supplier: Supplier, applicant: User, operator: User
) -> None:
    other = operator_make(phone="+79990000002")
    appeal = _case(supplier, applicant, A, S.NEW, notify_channel=NotifyChannel.PORTAL)

    appeal_operator_act(operator=operator, appeal_id=appeal.pk, action=Action.TAKE, now=at(minutes=1))
    appeal_operator_act(operator=other, appeal_id=appeal.pk, action=Action.ANSWER, text="Ответ", now=at(minutes=2))

    appeal.refresh_from_db()
    assert appeal.assignee == operator
    assert list(Event.objects.filter(appeal=appeal).values_list("actor", "action")) == [
        (operator.pk, "take"),
        (other.pk, "answer"),
    ]
