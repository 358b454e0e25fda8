"""Deadlines: the term of the topic in working days of the production calendar, counted
from the day at the supplier's place; a question to the applicant stops it, the reply
starts it again with the days it had left; a new term when the applicant is not content
with the answer; the stages of a connection application each with its own term."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from abonent.appeals import policy
from abonent.appeals.enums import Action, AppealKind, Category, Status
from abonent.appeals.models import Appeal, DeadlineRule
from abonent.appeals.services import (
    appeal_create,
    appeal_operator_act,
    appeal_reply,
    appeal_withdraw,
    connection_apply,
    feedback_send,
    term_days,
)
from abonent.core.models import Supplier
from abonent.identity.models import User
from tests.appeals.factories import account_linked, appeal_make, connection_documents, connection_request

pytestmark = pytest.mark.django_db


def utc(year: int, month: int, day: int, hour: int = 7, minute: int = 0) -> dt.datetime:
    """A moment in UTC; 07:00 is 10:00 in Moscow and 09:00 in Kaliningrad."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


def create(user: User, supplier: Supplier, now: dt.datetime, category: str = Category.OTHER) -> Appeal:
    return appeal_create(
        user=user, category=category, text="Вопрос", account_id=None, supplier_id=supplier.pk, channel="web", now=now
    )


def act(operator: User, appeal: Appeal, action: str, now: dt.datetime, text: str = "Текст") -> Appeal:
    appeal_operator_act(operator=operator, appeal_id=appeal.pk, action=action, text=text, now=now)
    appeal.refresh_from_db()
    return appeal


def reply(user: User, appeal: Appeal, now: dt.datetime) -> Appeal:
    appeal_reply(user=user, appeal_id=appeal.pk, text="Ответ на вопрос", channel="web", now=now)
    appeal.refresh_from_db()
    return appeal


# --- The term of a new case --------------------------------------------------------------


def test_the_day_is_the_suppliers_and_new_year_holidays_do_not_count(
    supplier: Supplier, supplier_kld: Supplier, applicant: User
) -> None:
    # 21:30 UTC on Tuesday 29.12.2026: Wednesday 00:30 in Moscow, still Tuesday 23:30 in Kaliningrad.
    # 31.12.2026 is a day off and 01.01–10.01.2027 are holidays and a weekend.
    now = utc(2026, 12, 29, 21, 30)

    in_moscow = create(applicant, supplier, now)
    in_kaliningrad = create(applicant, supplier_kld, now)

    assert in_kaliningrad.due_on == dt.date(2027, 1, 21)  # from 29.12: 30.12, then 11.01 … 21.01
    assert in_moscow.due_on == dt.date(2027, 1, 22)  # from 30.12: 11.01 … 22.01


def test_a_working_saturday_counts_and_the_days_off_around_it_do_not(supplier: Supplier, applicant: User) -> None:
    # 20.02.2027 is a working Saturday; 22.02 is the day off moved from it, 23.02 a holiday.
    account = account_linked(user=applicant, supplier=supplier)
    readings = appeal_create(
        user=applicant,
        category=Category.READINGS,
        text="Показания не приняты",
        account_id=account.pk,
        channel="web",
        now=utc(2027, 2, 18),
    )
    other = create(applicant, supplier, utc(2027, 2, 18))

    assert readings.due_on == dt.date(2027, 2, 24)  # 19.02, 20.02 (Saturday), 24.02
    assert other.due_on == dt.date(2027, 3, 5)


def test_a_case_on_a_holiday_counts_from_the_next_working_day(supplier: Supplier, applicant: User) -> None:
    appeal = create(applicant, supplier, utc(2027, 1, 3, 12))  # a Sunday of the New Year holidays

    assert appeal.due_on == dt.date(2027, 1, 22)  # 11.01 is the first of the 10 days


@pytest.mark.parametrize(
    ("category", "days"), sorted((c, d) for (c, s), d in policy.DEFAULT_TERMS.items() if s == Status.NEW)
)
def test_the_default_terms(supplier: Supplier, category: str, days: int) -> None:
    assert term_days(supplier=supplier, category=category, stage=Status.NEW) == days


def test_default_terms_are_those_of_the_policy() -> None:
    assert policy.DEFAULT_TERMS == {
        ("charge", "new"): 10,
        ("readings", "new"): 3,
        ("payment", "new"): 5,
        ("meter", "new"): 10,
        ("equipment", "new"): 10,
        ("complaint", "new"): 10,
        ("other", "new"): 10,
        ("feedback", "new"): 10,
        ("connection", "new"): 3,
        ("connection", "checked"): 10,
    }


def test_no_term_for_a_stage_without_one(supplier: Supplier) -> None:
    assert term_days(supplier=supplier, category=Category.OTHER, stage=Status.CHECKED) is None
    assert term_days(supplier=supplier, category=Category.CONNECTION, stage=Status.CONTRACT_SENT) is None


def test_the_suppliers_rule_beats_the_common_one_which_beats_the_default(
    supplier: Supplier, supplier_kld: Supplier, applicant: User
) -> None:
    now = utc(2026, 11, 23)  # Monday
    assert create(applicant, supplier, now).due_on == dt.date(2026, 12, 7)  # the default: 10

    DeadlineRule.objects.create(supplier=None, category=Category.OTHER, stage=Status.NEW, working_days=5)
    assert term_days(supplier=supplier, category=Category.OTHER, stage=Status.NEW) == 5
    assert create(applicant, supplier, now).due_on == dt.date(2026, 11, 30)

    DeadlineRule.objects.create(supplier=supplier, category=Category.OTHER, stage=Status.NEW, working_days=2)
    assert term_days(supplier=supplier, category=Category.OTHER, stage=Status.NEW) == 2
    assert create(applicant, supplier, now).due_on == dt.date(2026, 11, 25)
    # another supplier still has the common rule, and a rule of one topic is not another's
    assert term_days(supplier=supplier_kld, category=Category.OTHER, stage=Status.NEW) == 5
    assert term_days(supplier=supplier, category=Category.COMPLAINT, stage=Status.NEW) == 10


def test_a_rule_may_give_a_term_where_the_default_has_none(supplier: Supplier) -> None:
    DeadlineRule.objects.create(
        supplier=supplier, category=Category.CONNECTION, stage=Status.CONTRACT_SENT, working_days=20
    )

    assert term_days(supplier=supplier, category=Category.CONNECTION, stage=Status.CONTRACT_SENT) == 20


# --- A question stops the term, the reply starts it again --------------------------------


def test_a_question_stops_the_term_and_the_reply_resumes_with_the_days_left(
    supplier: Supplier, applicant: User, operator: User
) -> None:
    appeal = create(applicant, supplier, utc(2026, 11, 23))
    assert appeal.due_on == dt.date(2026, 12, 7)

    appeal = act(operator, appeal, Action.TAKE, utc(2026, 11, 24))
    assert (appeal.due_on, appeal.days_left_paused) == (dt.date(2026, 12, 7), None)  # taking keeps the term

    appeal = act(operator, appeal, Action.ASK, utc(2026, 11, 25))
    # 26, 27, 30.11, 1, 2, 3, 4, 7.12: eight working days were left
    assert (appeal.status, appeal.due_on, appeal.days_left_paused) == (Status.WAITING, None, 8)

    appeal = reply(applicant, appeal, utc(2026, 11, 30))
    assert (appeal.status, appeal.due_on, appeal.days_left_paused) == (Status.IN_PROGRESS, dt.date(2026, 12, 10), None)


def test_a_question_asked_late_in_the_day_counts_the_suppliers_day(
    supplier: Supplier, supplier_kld: Supplier, applicant: User, operator: User
) -> None:
    late = utc(2026, 11, 25, 21, 30)  # Thursday 00:30 in Moscow, Wednesday 23:30 in Kaliningrad
    in_moscow = appeal_make(supplier=supplier, user=applicant, status=Status.IN_PROGRESS, due_on=dt.date(2026, 12, 7))
    in_kaliningrad = appeal_make(
        supplier=supplier_kld, user=applicant, status=Status.IN_PROGRESS, due_on=dt.date(2026, 12, 7)
    )

    assert act(operator, in_moscow, Action.ASK, late).days_left_paused == 7
    assert act(operator, in_kaliningrad, Action.ASK, late).days_left_paused == 8


@pytest.mark.parametrize(
    "due_on",
    [dt.date(2026, 11, 20), dt.date(2026, 11, 23)],
    ids=["overdue", "due today"],
)
def test_a_question_on_an_overdue_case_leaves_no_days(
    supplier: Supplier, applicant: User, operator: User, due_on: dt.date
) -> None:
    appeal = appeal_make(supplier=supplier, user=applicant, status=Status.IN_PROGRESS, due_on=due_on)

    appeal = act(operator, appeal, Action.ASK, utc(2026, 11, 23))
    assert (appeal.due_on, appeal.days_left_paused) == (None, 0)

    appeal = reply(applicant, appeal, utc(2026, 11, 26))
    assert (appeal.status, appeal.due_on, appeal.days_left_paused) == (Status.IN_PROGRESS, dt.date(2026, 11, 26), None)


def test_a_reply_on_a_weekend_resumes_from_that_day(supplier: Supplier, applicant: User) -> None:
    appeal = appeal_make(supplier=supplier, user=applicant, status=Status.WAITING, due_on=None, days_left_paused=3)

    appeal = reply(applicant, appeal, utc(2026, 12, 26, 12))  # Saturday

    assert appeal.due_on == dt.date(2026, 12, 30)  # Monday 28, Tuesday 29, Wednesday 30


def test_an_answer_while_waiting_ends_the_paused_term(supplier: Supplier, applicant: User, operator: User) -> None:
    appeal = appeal_make(supplier=supplier, user=applicant, status=Status.WAITING, due_on=None, days_left_paused=6)

    appeal = act(operator, appeal, Action.ANSWER, utc(2026, 11, 23))

    assert (appeal.status, appeal.due_on, appeal.days_left_paused) == (Status.ANSWERED, None, None)


def test_not_content_with_the_answer_starts_a_new_term(supplier: Supplier, applicant: User, operator: User) -> None:
    DeadlineRule.objects.create(supplier=supplier, category=Category.COMPLAINT, stage=Status.NEW, working_days=4)
    appeal = appeal_make(supplier=supplier, user=applicant, category=Category.COMPLAINT, status=Status.IN_PROGRESS)

    appeal = act(operator, appeal, Action.ANSWER, utc(2026, 11, 24))
    assert (appeal.status, appeal.due_on) == (Status.ANSWERED, None)

    appeal = reply(applicant, appeal, utc(2026, 12, 2))  # Wednesday

    assert (appeal.status, appeal.due_on, appeal.days_left_paused) == (Status.IN_PROGRESS, dt.date(2026, 12, 8), None)


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (Status.ANSWERED, Action.CLOSE),
        (Status.IN_PROGRESS, Action.ANSWER),
    ],
)
def test_an_answered_or_closed_case_has_no_deadline(
    supplier: Supplier, applicant: User, operator: User, status: Status, action: Action
) -> None:
    appeal = appeal_make(supplier=supplier, user=applicant, status=status, due_on=dt.date(2026, 12, 1))

    assert act(operator, appeal, action, utc(2026, 11, 23)).due_on is None


def test_a_withdrawn_case_has_no_deadline(supplier: Supplier, applicant: User) -> None:
    appeal = appeal_make(supplier=supplier, user=applicant, status=Status.IN_PROGRESS, due_on=dt.date(2026, 12, 1))

    appeal_withdraw(user=applicant, appeal_id=appeal.pk, channel="web", now=utc(2026, 11, 23))

    appeal.refresh_from_db()
    assert (appeal.status, appeal.due_on) == (Status.WITHDRAWN, None)


# --- A connection application and a guest's message ---------------------------------------


def test_a_connection_application_is_checked_in_3_days_and_the_contract_sent_in_10(
    supplier: Supplier, applicant: User, operator: User, media: Path
) -> None:
    appeal = connection_apply(
        user=applicant,
        request=connection_request(supplier),
        files=connection_documents(),
        channel="web",
        now=utc(2026, 11, 23),
    )
    assert appeal.due_on == dt.date(2026, 11, 26)

    appeal = act(operator, appeal, Action.TAKE, utc(2026, 11, 24), text="")
    assert (appeal.status, appeal.due_on) == (Status.NEW, dt.date(2026, 11, 26))  # taking keeps the term

    appeal = act(operator, appeal, Action.CHECK, utc(2026, 11, 25), text="")
    assert (appeal.status, appeal.due_on) == (Status.CHECKED, dt.date(2026, 12, 9))

    appeal = act(operator, appeal, Action.ASK, utc(2026, 11, 27))  # Friday: 30.11, 1–4, 7–9.12 left
    assert (appeal.status, appeal.due_on, appeal.days_left_paused) == (Status.WAITING, None, 8)

    appeal = reply(applicant, appeal, utc(2026, 12, 1))
    assert (appeal.status, appeal.due_on, appeal.days_left_paused) == (Status.CHECKED, dt.date(2026, 12, 11), None)

    appeal = act(operator, appeal, Action.TAKE, utc(2026, 12, 2), text="")
    assert appeal.due_on == dt.date(2026, 12, 11)

    for action in (Action.SEND_CONTRACT, Action.START_WORKS, Action.START_GAS):
        appeal = act(operator, appeal, action, utc(2026, 12, 3), text="")
        assert appeal.due_on is None, action
    assert appeal.status == Status.GAS_STARTED


def test_a_connection_asked_while_new_returns_to_new_with_its_days(
    supplier: Supplier, applicant: User, operator: User
) -> None:
    appeal = appeal_make(
        supplier=supplier, user=applicant, kind=AppealKind.CONNECTION, status=Status.NEW, due_on=dt.date(2026, 11, 26)
    )

    appeal = act(operator, appeal, Action.ASK, utc(2026, 11, 23))
    assert (appeal.status_before_waiting, appeal.days_left_paused) == (Status.NEW, 3)

    appeal = reply(applicant, appeal, utc(2026, 11, 30))
    assert (appeal.status, appeal.due_on) == (Status.NEW, dt.date(2026, 12, 3))


def test_the_suppliers_term_for_the_contract(supplier: Supplier, applicant: User, operator: User) -> None:
    DeadlineRule.objects.create(supplier=supplier, category=Category.CONNECTION, stage=Status.CHECKED, working_days=15)
    appeal = appeal_make(supplier=supplier, user=applicant, kind=AppealKind.CONNECTION, status=Status.NEW)

    appeal = act(operator, appeal, Action.CHECK, utc(2026, 11, 23), text="")

    assert appeal.due_on == dt.date(2026, 12, 14)


def test_a_guest_message_has_10_days_kept_when_taken_and_ended_by_the_answer(
    supplier: Supplier, operator: User
) -> None:
    appeal = feedback_send(
        supplier_id=supplier.pk,
        name="Пётр",
        contact="petr@example.org",
        text="Вопрос",
        ip="203.0.113.7",
        channel="web",
        now=utc(2026, 12, 24),
    )
    assert appeal is not None
    assert appeal.due_on == dt.date(2027, 1, 18)

    appeal = act(operator, appeal, Action.TAKE, utc(2026, 12, 25), text="")
    assert (appeal.status, appeal.due_on) == (Status.IN_PROGRESS, dt.date(2027, 1, 18))

    appeal = act(operator, appeal, Action.ANSWER, utc(2026, 12, 28))
    assert (appeal.status, appeal.due_on) == (Status.CLOSED, None)
