"""Reading appeals: the applicant's own (never another's), the operators' queue with the
overdue first, the thread, the history and the stages of a connection application."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.files import File
from django.db.models import BooleanField, Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from abonent.appeals.enums import FINAL_STATUSES, AppealKind, Role, Status
from abonent.appeals.models import AnswerTemplate, Appeal, Attachment, Event, Message
from abonent.appeals.services import AppealNotFound, AttachmentNotFound
from abonent.appeals.workflow import CONNECTION_STAGES, actions_available
from abonent.identity.models import User


def appeals_list(*, user: User) -> list[Appeal]:
    """The user's appeals and applications, the newest first."""
    return list(Appeal.objects.filter(user=user).select_related("account", "supplier").order_by("-created_at", "-pk"))


def appeals_unread_count(*, user: User) -> int:
    """How many of the user's cases have something the user has not seen."""
    return Appeal.objects.filter(user=user, subscriber_unread=True).count()


def appeal_get(*, user: User, appeal_id: int) -> Appeal:
    """One of the user's cases with its thread and files. Raises AppealNotFound."""
    appeal = (
        Appeal.objects.filter(user=user, pk=appeal_id)
        .select_related("account", "supplier", "connection")
        .prefetch_related(_thread_prefetch())
        .first()
    )
    if appeal is None:
        raise AppealNotFound()
    return appeal


def appeal_for_operator(*, appeal_id: int) -> Appeal:
    """Any case, for the back office. Raises AppealNotFound."""
    appeal = (
        Appeal.objects.filter(pk=appeal_id)
        .select_related("account", "supplier", "connection", "user", "assignee")
        .prefetch_related(_thread_prefetch())
        .first()
    )
    if appeal is None:
        raise AppealNotFound()
    return appeal


def _thread_prefetch() -> Prefetch:
    return Prefetch(
        "messages",
        queryset=Message.objects.select_related("author").prefetch_related("attachments").order_by("created_at", "pk"),
    )


def appeal_events(*, appeal: Appeal) -> list[Event]:
    return list(appeal.events.select_related("actor").order_by("at", "pk"))


def attachment_get(*, user: User, appeal_id: int, attachment_id: int) -> Attachment:
    """A file of one of the user's cases. Raises AttachmentNotFound."""
    attachment = Attachment.objects.filter(pk=attachment_id, appeal_id=appeal_id, appeal__user=user).first()
    if attachment is None:
        raise AttachmentNotFound()
    return attachment


def attachment_for_operator(*, attachment_id: int) -> Attachment:
    """Any file, for the back office. Raises AttachmentNotFound."""
    attachment = Attachment.objects.filter(pk=attachment_id).first()
    if attachment is None:
        raise AttachmentNotFound()
    return attachment


def attachment_open(attachment: Attachment) -> File:
    """The stored file of ``attachment``, open for reading. Raises AttachmentNotFound when
    the storage no longer has it."""
    try:
        return attachment.file.storage.open(attachment.file.name or "", "rb")
    except (FileNotFoundError, IsADirectoryError):
        raise AttachmentNotFound() from None


def subscriber_actions(appeal: Appeal) -> list[str]:
    """What the applicant can do with the case now."""
    return [str(action) for action in actions_available(appeal.kind, appeal.status, Role.SUBSCRIBER)]


def operator_actions(appeal: Appeal) -> list[str]:
    """What an operator can do with the case now."""
    return [str(action) for action in actions_available(appeal.kind, appeal.status, Role.OPERATOR)]


@dataclass(frozen=True)
class Stage:
    status: Status
    label: str
    reached_at: dt.datetime | None
    state: str  # "done", "current", "ahead"


def connection_stages(*, appeal: Appeal, events: list[Event] | None = None) -> list[Stage]:
    """The stages of a connection application with the day each was reached."""
    reached: dict[str, dt.datetime] = {}
    for event in events if events is not None else appeal_events(appeal=appeal):
        reached.setdefault(event.new_status, event.at)
    reached.setdefault(Status.NEW, appeal.created_at)
    current = appeal.status_before_waiting if appeal.status == Status.WAITING else appeal.status
    order = list(CONNECTION_STAGES)
    ended = current not in order  # refused or withdrawn: the stages it reached are done, no more
    position = (
        max(index for index, status in enumerate(order) if status in reached) if ended else order.index(Status(current))
    )
    stages = []
    for index, status in enumerate(order):
        label = str(_("заявка подана")) if status == Status.NEW else str(status.label)
        if index < position or (index == position and (ended or status == Status.GAS_STARTED)):
            state = "done"
        elif index == position:
            state = "current"
        else:
            state = "ahead"
        stages.append(Stage(status, label, reached.get(status) if index <= position else None, state))
    return stages


def due_state(appeal: Appeal, *, today: dt.date) -> str:
    """ "overdue", "today" or "" for a case whose deadline runs."""
    if appeal.due_on is None or appeal.status in FINAL_STATUSES:
        return ""
    if appeal.due_on < today:
        return "overdue"
    if appeal.due_on == today:
        return "today"
    return ""


def queue_ordered(appeals: QuerySet[Appeal], *, today: dt.date) -> QuerySet[Appeal]:
    """The queue as operators work it: overdue first, then by deadline (the nearest
    first), cases with no running deadline after them and finished ones last."""
    return appeals.annotate(
        overdue=Case(When(due_on__lt=today, then=Value(True)), default=Value(False), output_field=BooleanField()),
        finished=Case(
            When(status__in=list(FINAL_STATUSES), then=Value(1)), default=Value(0), output_field=IntegerField()
        ),
        no_deadline=Case(When(due_on__isnull=True, then=Value(1)), default=Value(0), output_field=IntegerField()),
    ).order_by("finished", "-overdue", "no_deadline", "due_on", "created_at")


#: The deadline filters of the queue: passed, today, within DUE_SOON_DAYS calendar days,
#: none running (the applicant is asked, the answer is given, or the case is finished).
DUE_OVERDUE, DUE_TODAY, DUE_SOON, DUE_NONE = "overdue", "today", "soon", "none"
DUE_SOON_DAYS = 3


def queue_by_deadline(appeals: QuerySet[Appeal], *, due: str, today: dt.date) -> QuerySet[Appeal]:
    """The cases of ``appeals`` whose deadline is in the state ``due`` (one of DUE_*).
    Raises ValueError for another value."""
    running = appeals.exclude(status__in=list(FINAL_STATUSES))
    if due == DUE_OVERDUE:
        return running.filter(due_on__lt=today)
    if due == DUE_TODAY:
        return running.filter(due_on=today)
    if due == DUE_SOON:
        return running.filter(due_on__gte=today, due_on__lte=today + dt.timedelta(days=DUE_SOON_DAYS))
    if due == DUE_NONE:
        return appeals.filter(due_on__isnull=True)
    raise ValueError(due)


def answer_templates_for(*, appeal: Appeal) -> list[AnswerTemplate]:
    """Templates an operator can insert into a reply to ``appeal``: the supplier's and the
    common ones, of the case's topic or of any."""
    return list(
        AnswerTemplate.objects.filter(is_active=True)
        .filter(Q(supplier=appeal.supplier) | Q(supplier__isnull=True))
        .filter(Q(category=appeal.category) | Q(category=""))
        .order_by("title")
    )


def queue_counts() -> dict[str, int]:
    """Open cases by kind, for the back office's start page."""
    rows = (
        Appeal.objects.exclude(status__in=list(FINAL_STATUSES))
        .values("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    counts = dict.fromkeys(AppealKind.values, 0)
    counts.update(dict(rows))
    return counts
