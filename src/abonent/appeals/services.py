"""Writing appeals, applications for connection and guests' messages, and moving them
through the workflow of ``workflow.py``.

Every public function is one transaction: the case, its message, its files, the history
event and the audit record are written together or not at all. Files are stored before the
commit; if anything fails after that, the stored files are removed again, so neither a row
without its file nor a file without its row is left behind. The applicant is notified
after the commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO

from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.appeals import policy
from abonent.appeals.enums import (
    ACCOUNT_CATEGORIES,
    APPEAL_CATEGORIES,
    FINAL_STATUSES,
    Action,
    AppealKind,
    Category,
    ConnectionProgram,
    DocumentKind,
    NotifyChannel,
    Role,
    Status,
    Usage,
)
from abonent.appeals.models import Appeal, Attachment, ConnectionDetails, DeadlineRule, Event, Message
from abonent.appeals.workflow import target_status, transition_get
from abonent.core.audit import audit_record
from abonent.core.calendar import working_day_add, working_days_between
from abonent.core.errors import DomainError, NotFound, ValidationFailed
from abonent.core.models import Supplier
from abonent.core.ratelimit import Limit, rate_hit
from abonent.core.selectors import supplier_local_date, suppliers_active
from abonent.core.uploads import FileRejected, FileType, file_type_detect, filename_clean
from abonent.customers.models import PersonalAccount
from abonent.customers.selectors import account_link_get
from abonent.identity.contacts import InvalidEmail, InvalidPhone, email_normalize, phone_normalize
from abonent.identity.models import User
from abonent.identity.selectors import recipient_of
from abonent.notifications.enums import Kind
from abonent.notifications.services import email_send, notify, sms_send

# --- Errors -----------------------------------------------------------------------------


class AppealNotFound(NotFound):
    code = "appeal_not_found"
    message = _("Обращение не найдено среди ваших")


class AttachmentNotFound(NotFound):
    code = "attachment_not_found"
    message = _("Файл не найден")


class TransitionNotAllowed(DomainError):
    code = "transition_not_allowed"
    message = _("Действие «{action}» недоступно: обращение в состоянии «{status}»")


class FeedbackRateLimited(DomainError):
    code = "too_many_messages"
    message = _("С этого адреса уже отправлено много сообщений. Попробуйте через {minutes} мин.")

    def __init__(self, *, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(minutes=max(1, (retry_after + 59) // 60))


class FeedbackTooFast(DomainError):
    code = "form_too_fast"
    message = _("Форма отправлена слишком быстро или устарела. Обновите страницу и отправьте сообщение ещё раз.")


# --- Input ------------------------------------------------------------------------------


@dataclass
class NewFile:
    """An uploaded file as an interface hands it over: its name as sent, its content and
    size, and what document it is (for a connection application)."""

    name: str
    content: IO[bytes]
    size: int
    document_kind: str = DocumentKind.OTHER


@dataclass
class _Checked:
    upload: NewFile
    kind: FileType
    name: str
    size: int


@dataclass
class _Errors:
    fields: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(str(message))

    def raise_any(self) -> None:
        if self.fields:
            raise ValidationFailed(self.fields)


def _text_check(text: str, errors: _Errors, *, required: bool, field_name: str = "text") -> str:
    value = (text or "").strip()
    if required and not value:
        errors.add(field_name, gettext("Напишите текст сообщения"))
    elif len(value) > policy.TEXT_LIMIT:
        errors.add(
            field_name,
            gettext("Текст длиннее {limit} знаков ({length}): сократите его").format(
                limit=policy.TEXT_LIMIT, length=len(value)
            ),
        )
    return value


def _files_check(files: Sequence[NewFile], errors: _Errors, *, already: int = 0) -> list[_Checked]:
    """Each file's type read from its content; sizes and counts within the limits."""
    checked: list[_Checked] = []
    if len(files) > policy.FILES_PER_MESSAGE:
        errors.add(
            "files",
            gettext("Можно приложить не больше {limit} файлов за раз, выбрано {count}").format(
                limit=policy.FILES_PER_MESSAGE, count=len(files)
            ),
        )
        return checked
    if already + len(files) > policy.FILES_PER_APPEAL:
        errors.add(
            "files",
            gettext("К обращению можно приложить не больше {limit} файлов, уже приложено {count}").format(
                limit=policy.FILES_PER_APPEAL, count=already
            ),
        )
        return checked
    limit_mb = policy.FILE_SIZE_LIMIT // (1024 * 1024)
    for upload in files:
        shown = filename_clean(upload.name, kind=None)
        if upload.document_kind not in DocumentKind.values:
            errors.add("files", gettext("Файл «{name}»: неизвестный вид документа").format(name=shown))
            continue
        # The size an interface states is not trusted alone: the stream's own length counts.
        upload.content.seek(0, 2)
        real = upload.content.tell()
        upload.content.seek(0)
        if max(upload.size, real) > policy.FILE_SIZE_LIMIT:
            errors.add(
                "files", gettext("Файл «{name}» больше {limit} МБ: уменьшите его").format(name=shown, limit=limit_mb)
            )
            continue
        if real == 0:
            errors.add("files", gettext("Файл «{name}» пустой").format(name=shown))
            continue
        try:
            kind = file_type_detect(upload.content)
        except FileRejected as exc:
            errors.add("files", gettext("Файл «{name}»: {reason}").format(name=shown, reason=exc.message))
            continue
        checked.append(_Checked(upload, kind, filename_clean(upload.name, kind=kind), real))
    return checked


@contextmanager
def _files_kept_on_commit() -> Iterator[list[str]]:
    """Names of files stored inside the block; removed again if the block fails."""
    stored: list[str] = []
    try:
        yield stored
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise


def _files_store(
    appeal: Appeal,
    message: Message | None,
    checked: list[_Checked],
    *,
    role: Role,
    user: User | None,
    now: dt.datetime,
    stored: list[str],
) -> list[Attachment]:
    attachments = []
    for item in checked:
        content = item.upload.content
        content.seek(0)
        digest = hashlib.sha256()
        for chunk in iter(lambda: content.read(1 << 20), b""):  # noqa: B023 - read at once
            digest.update(chunk)
        content.seek(0)
        name = default_storage.save(
            f"appeals/{appeal.pk}/{uuid.uuid4().hex}.{item.kind.extension}", File(content, name=item.name)
        )
        stored.append(name)
        attachments.append(
            Attachment(
                appeal=appeal,
                message=message,
                document_kind=item.upload.document_kind,
                file=name,
                name=item.name,
                mime=item.kind.mime,
                size=item.size,
                sha256=digest.hexdigest(),
                role=role,
                uploaded_by=user,
                created_at=now,
            )
        )
    Attachment.objects.bulk_create(attachments)
    return attachments


def notify_channels_for(user: User) -> list[NotifyChannel]:
    """How the user can be told of an answer, the preferred first: by SMS and by e-mail only
    to a confirmed contact; in the portal always."""
    recipient = recipient_of(user)
    channels = []
    if recipient.phone is not None:
        channels.append(NotifyChannel.SMS)
    if recipient.email is not None:
        channels.append(NotifyChannel.EMAIL)
    return [*channels, NotifyChannel.PORTAL]


def _notify_channel_check(user: User, channel: str, errors: _Errors) -> str:
    if channel not in NotifyChannel.values:
        errors.add("notify_channel", gettext("Выберите, как сообщать об ответе"))
    elif channel not in notify_channels_for(user):
        if channel == NotifyChannel.EMAIL:
            errors.add("notify_channel", gettext("В профиле нет подтверждённого e-mail: выберите другой способ"))
        else:
            errors.add("notify_channel", gettext("В профиле нет подтверждённого телефона: выберите другой способ"))
    return channel


# --- Deadlines --------------------------------------------------------------------------


def term_days(*, supplier: Supplier, category: str, stage: str) -> int | None:
    """The term in working days of the supplier's step starting in ``stage``; None: no term."""
    rules: dict[int | None, int] = dict(
        DeadlineRule.objects.filter(category=category, stage=stage)
        .filter(Q(supplier=supplier) | Q(supplier__isnull=True))
        .values_list("supplier_id", "working_days")
    )
    if supplier.pk in rules:
        return rules[supplier.pk]
    if None in rules:
        return rules[None]
    return policy.DEFAULT_TERMS.get((category, stage))


def _term_start(appeal: Appeal, stage: str, today: dt.date) -> None:
    days = term_days(supplier=appeal.supplier, category=appeal.category, stage=stage)
    appeal.due_on = working_day_add(today, days) if days is not None else None
    appeal.days_left_paused = None


def _deadline_move(appeal: Appeal, old: Status, new: Status, *, today: dt.date) -> None:
    """Where the case's deadline goes when it moves from ``old`` to ``new``."""
    if new == old:
        return
    if new == Status.WAITING:
        # The applicant owes the next step: the term stands still with what it had left.
        left = working_days_between(today, appeal.due_on) if appeal.due_on and appeal.due_on > today else 0
        appeal.days_left_paused, appeal.due_on = left, None
    elif old == Status.WAITING and new in (Status.IN_PROGRESS, Status.NEW, Status.CHECKED):
        appeal.due_on = working_day_add(today, appeal.days_left_paused or 0)
        appeal.days_left_paused = None
    elif old == Status.ANSWERED and new == Status.IN_PROGRESS:
        _term_start(appeal, Status.NEW, today)  # not content with the answer: a new term
    elif new == Status.CHECKED:
        _term_start(appeal, Status.CHECKED, today)
    elif new != Status.IN_PROGRESS:  # taking a case keeps its term; anything else ends it
        appeal.due_on = None
        appeal.days_left_paused = None


# --- Writing ----------------------------------------------------------------------------


def _event(
    appeal: Appeal, *, actor: User | None, role: Role, action: str, channel: str, old: str, now: dt.datetime
) -> None:
    Event.objects.create(
        appeal=appeal,
        at=now,
        actor=actor,
        role=role,
        action=action,
        channel=channel,
        old_status=old,
        new_status=appeal.status,
    )
    audit_record(
        at=now,
        actor_id=actor.pk if actor else None,
        channel=channel,
        action=f"appeal.{action}",
        object_type="appeal",
        object_id=appeal.pk,
        before={"status": old} if old else None,
        after={"status": appeal.status},
    )


def _summary(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 200 else line[:199] + "…"


def _open(
    *,
    kind: AppealKind,
    category: str,
    supplier: Supplier,
    account: PersonalAccount | None,
    user: User | None,
    text: str,
    checked: list[_Checked],
    notify_channel: str,
    channel: str,
    now: dt.datetime,
    summary: str,
    guest_name: str = "",
    guest_contact: str = "",
    stored: list[str],
) -> Appeal:
    today = supplier_local_date(supplier=supplier, now=now)
    appeal = Appeal(
        kind=kind,
        category=category,
        supplier=supplier,
        account=account,
        user=user,
        guest_name=guest_name,
        guest_contact=guest_contact,
        summary=_summary(summary),
        status=Status.NEW,
        channel=channel,
        notify_channel=notify_channel,
        created_at=now,
        status_changed_at=now,
    )
    _term_start(appeal, Status.NEW, today)
    appeal.save()
    message = Message.objects.create(
        appeal=appeal, author=user, role=Role.SUBSCRIBER, action="create", text=text, created_at=now
    )
    _files_store(appeal, message, checked, role=Role.SUBSCRIBER, user=user, now=now, stored=stored)
    _event(appeal, actor=user, role=Role.SUBSCRIBER, action="create", channel=channel, old="", now=now)
    return appeal


def appeal_create(
    *,
    user: User,
    category: str,
    text: str,
    account_id: int | None,
    supplier_id: int | None = None,
    files: Sequence[NewFile] = (),
    notify_channel: str = NotifyChannel.PORTAL,
    channel: str,
    now: dt.datetime,
) -> Appeal:
    """Write an appeal to the supplier of one of the user's accounts (or, when it is not
    about an account, to a supplier chosen by id).

    Raises ValidationFailed (every wrong field at once), AccountNotFound (an account the
    user has not linked).
    """
    errors = _Errors()
    if category not in APPEAL_CATEGORIES:
        errors.add("category", gettext("Выберите тему обращения из списка"))
    body = _text_check(text, errors, required=True)
    account: PersonalAccount | None = None
    supplier: Supplier | None = None
    if account_id is not None:
        account = account_link_get(user=user, account_id=account_id).account
        supplier = account.supplier
    elif category in ACCOUNT_CATEGORIES:
        errors.add("account", gettext("Выберите лицевой счёт, о котором обращение"))
    elif supplier_id is None:
        errors.add("supplier", gettext("Выберите поставщика газа, которому адресовано обращение"))
    else:
        supplier = suppliers_active().filter(pk=supplier_id).first()
        if supplier is None:
            errors.add("supplier", gettext("Такого поставщика газа нет: выберите из списка"))
    _notify_channel_check(user, notify_channel, errors)
    checked = _files_check(files, errors)
    errors.raise_any()
    assert supplier is not None
    with _files_kept_on_commit() as stored, transaction.atomic():
        return _open(
            kind=AppealKind.APPEAL,
            category=category,
            supplier=supplier,
            account=account,
            user=user,
            text=body,
            checked=checked,
            notify_channel=notify_channel,
            channel=channel,
            now=now,
            summary=body,
            stored=stored,
        )


_CADASTRAL = re.compile(r"^\d{2}:\d{2}:\d{6,7}:\d{1,9}$")


@dataclass
class ConnectionRequest:
    """What an applicant writes in an application for connection to the gas network."""

    supplier_id: int | None
    program: str
    applicant_name: str
    applicant_phone: str
    object_address: str
    land_cadastral_number: str
    house_cadastral_number: str
    max_hourly_m3: str | Decimal
    usages: Sequence[str]
    comment: str = ""


def connection_apply(
    *,
    user: User,
    request: ConnectionRequest,
    files: Sequence[NewFile],
    notify_channel: str = NotifyChannel.PORTAL,
    channel: str,
    now: dt.datetime,
) -> Appeal:
    """Apply for connection of a house to the gas network with the documents it needs.

    Raises ValidationFailed (every wrong field at once).
    """
    errors = _Errors()
    supplier = suppliers_active().filter(pk=request.supplier_id).first() if request.supplier_id else None
    if supplier is None:
        errors.add("supplier_id", gettext("Выберите поставщика газа из списка"))
    if request.program not in ConnectionProgram.values:
        errors.add("program", gettext("Выберите: догазификация или технологическое присоединение"))
    name = " ".join((request.applicant_name or "").split())
    if not name:
        errors.add("applicant_name", gettext("Укажите фамилию, имя и отчество заявителя"))
    elif len(name) > 200:
        errors.add("applicant_name", gettext("ФИО длиннее 200 знаков"))
    phone = ""
    try:
        phone = phone_normalize(request.applicant_phone, field="applicant_phone")
    except InvalidPhone as exc:
        errors.add("applicant_phone", exc.text)
    address = " ".join((request.object_address or "").split())
    if not address:
        errors.add("object_address", gettext("Укажите адрес дома, который нужно подключить"))
    elif len(address) > 300:
        errors.add("object_address", gettext("Адрес длиннее 300 знаков"))
    cadastral = {}
    for key, message in (
        ("land_cadastral_number", _("Кадастровый номер участка записывается так: 50:21:0110501:123")),
        ("house_cadastral_number", _("Кадастровый номер дома записывается так: 50:21:0110501:123")),
    ):
        value = (getattr(request, key) or "").strip().replace(" ", "")
        if not _CADASTRAL.match(value):
            errors.add(key, str(message))
        cadastral[key] = value
    hourly = Decimal(0)
    try:
        hourly = Decimal(str(request.max_hourly_m3).strip().replace(",", "."))
        if not hourly.is_finite() or hourly <= 0 or hourly > policy.HOURLY_LIMIT_M3:
            raise InvalidOperation
        if hourly != hourly.quantize(Decimal("0.001")):  # m³/h to litres, no finer
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors.add(
            "max_hourly_m3",
            gettext("Укажите расход числом больше 0 и не больше {limit} м³/ч, например 5 или 6,5").format(
                limit=policy.HOURLY_LIMIT_M3
            ),
        )
    usages = list(dict.fromkeys(request.usages or []))
    if not usages or any(usage not in Usage.values for usage in usages):
        errors.add("usages", gettext("Отметьте, для чего будет использоваться газ"))
    comment = _text_check(request.comment, errors, required=False, field_name="comment")
    _notify_channel_check(user, notify_channel, errors)
    checked = _files_check(files, errors)
    if "files" not in errors.fields:
        present = {item.upload.document_kind for item in checked}
        missing = [DocumentKind(kind).label for kind in policy.CONNECTION_DOCUMENTS_REQUIRED if kind not in present]
        if missing:
            errors.add("files", gettext("Приложите: {documents}").format(documents=", ".join(map(str, missing))))
    errors.raise_any()
    assert supplier is not None
    program = ConnectionProgram(request.program)
    with _files_kept_on_commit() as stored, transaction.atomic():
        appeal = _open(
            kind=AppealKind.CONNECTION,
            category=Category.CONNECTION,
            supplier=supplier,
            account=None,
            user=user,
            text=comment,
            checked=checked,
            notify_channel=notify_channel,
            channel=channel,
            now=now,
            summary=f"{program.label}: {address}",
            stored=stored,
        )
        ConnectionDetails.objects.create(
            appeal=appeal,
            program=program,
            applicant_name=name,
            applicant_phone=phone,
            object_address=address,
            max_hourly_m3=hourly,
            usages=usages,
            **cadastral,
        )
    return appeal


FEEDBACK_HOURLY = Limit("feedback-hour", policy.FEEDBACK_PER_HOUR, 3600)
FEEDBACK_DAILY = Limit("feedback-day", policy.FEEDBACK_PER_DAY, 86400)


def feedback_send(
    *,
    supplier_id: int | None,
    name: str,
    contact: str,
    text: str,
    ip: str,
    trap: str = "",
    form_issued_at: dt.datetime | None = None,
    channel: str,
    now: dt.datetime,
) -> Appeal | None:
    """A guest's message from the contacts page, in the operators' queue; the answer goes
    to the e-mail or phone the guest left.

    No CAPTCHA: a filled hidden field (``trap``) is a robot's — nothing is written and
    None returned, the robot is not told; a web form sent within seconds of being shown or
    days later is refused; each address may send a few messages an hour and a day.

    Raises FeedbackTooFast, FeedbackRateLimited, ValidationFailed.
    """
    if trap.strip():
        return None
    if form_issued_at is not None:
        age = (now - form_issued_at).total_seconds()
        if age < policy.FEEDBACK_MIN_SECONDS or age > policy.FEEDBACK_MAX_AGE_SECONDS:
            raise FeedbackTooFast()
    errors = _Errors()
    supplier = suppliers_active().filter(pk=supplier_id).first() if supplier_id else None
    if supplier is None:
        errors.add("supplier_id", gettext("Выберите поставщика газа из списка"))
    guest = " ".join((name or "").split())
    if not guest:
        errors.add("name", gettext("Как к вам обращаться?"))
    elif len(guest) > 150:
        errors.add("name", gettext("Имя длиннее 150 знаков"))
    address = ""
    value = (contact or "").strip()
    try:
        address = email_normalize(value, field="contact") if "@" in value else phone_normalize(value, field="contact")
    except (InvalidEmail, InvalidPhone):
        errors.add("contact", gettext("Укажите e-mail или номер мобильного телефона, чтобы мы могли ответить"))
    body = _text_check(text, errors, required=True)
    errors.raise_any()
    assert supplier is not None
    for limit in (FEEDBACK_HOURLY, FEEDBACK_DAILY):
        verdict = rate_hit(limit=limit, subject=ip or "unknown", now=now)
        if not verdict.allowed:
            raise FeedbackRateLimited(retry_after=verdict.retry_after)
    with transaction.atomic():
        return _open(
            kind=AppealKind.FEEDBACK,
            category=Category.FEEDBACK,
            supplier=supplier,
            account=None,
            user=None,
            text=body,
            checked=[],
            notify_channel=NotifyChannel.EMAIL if "@" in address else NotifyChannel.SMS,
            channel=channel,
            now=now,
            summary=body,
            guest_name=guest,
            guest_contact=address,
            stored=[],
        )


# --- The workflow -----------------------------------------------------------------------


def _locked(appeal_id: int, *, user: User | None = None) -> Appeal:
    # Only the case is locked: PostgreSQL refuses FOR UPDATE on the nullable side of the
    # outer join to the applicant (a guest's message has none).
    appeals = Appeal.objects.select_for_update(of=("self",)).select_related("supplier", "user")
    if user is not None:
        appeals = appeals.filter(user=user)
    appeal = appeals.filter(pk=appeal_id).first()
    if appeal is None:
        raise AppealNotFound()
    return appeal


def _move(
    appeal: Appeal,
    *,
    action: str,
    role: Role,
    actor: User | None,
    text: str,
    files: Sequence[NewFile],
    channel: str,
    now: dt.datetime,
    stored: list[str],
) -> Message | None:
    """Take ``action`` on the locked ``appeal``: check it against the table, write the
    message and files, move the status and the deadline, record the change."""
    transition = transition_get(appeal.kind, action, role)
    new = (
        target_status(transition, status=appeal.status, before_waiting=appeal.status_before_waiting)
        if transition
        else None
    )
    if transition is None or new is None:
        label = Action(action).label if action in Action.values else action
        raise TransitionNotAllowed(action=label, status=Status(appeal.status).label)
    errors = _Errors()
    body = _text_check(text, errors, required=transition.needs_text and not files)
    already = appeal.attachments.count() if files else 0
    checked = _files_check(files, errors, already=already)
    errors.raise_any()
    old = Status(appeal.status)
    today = supplier_local_date(supplier=appeal.supplier, now=now)
    message = None
    if body or checked:
        message = Message.objects.create(
            appeal=appeal, author=actor, role=role, action=action, text=body, created_at=now
        )
        _files_store(appeal, message, checked, role=role, user=actor, now=now, stored=stored)
    if new == Status.WAITING:
        appeal.status_before_waiting = old
    _deadline_move(appeal, old, new, today=today)
    appeal.status = new
    if new != old:
        appeal.status_changed_at = now
        appeal.closed_at = now if new in FINAL_STATUSES else None
    if role == Role.OPERATOR:
        if action == Action.TAKE or appeal.assignee_id is None:
            appeal.assignee = actor
        if new != old or message is not None:
            appeal.subscriber_unread = True
    appeal.save()
    if new != old or action in (Action.TAKE, Action.RATE):
        _event(appeal, actor=actor, role=role, action=action, channel=channel, old=old, now=now)
    if role == Role.OPERATOR and (new != old or message is not None):
        _applicant_notify(appeal, action=action, message=message, changed=new != old, now=now)
    return message


def _applicant_notify(appeal: Appeal, *, action: str, message: Message | None, changed: bool, now: dt.datetime) -> None:
    """Tell the applicant of a new status or a reply, the way they chose (sent on commit).
    A guest hears only the answer itself (not that a message was taken or closed as spam)."""
    what = Status(appeal.status).label if changed else "новое сообщение"
    if appeal.kind == AppealKind.FEEDBACK:
        if action != Action.ANSWER or message is None or not message.text:
            return
        sent_on = supplier_local_date(supplier=appeal.supplier, now=appeal.created_at)
        subject = f"Ответ на ваше сообщение от {sent_on:%d.%m.%Y}"
        if appeal.notify_channel == NotifyChannel.EMAIL:
            email_send(to=appeal.guest_contact, subject=subject, body=message.text, kind="appeal_update", now=now)
        else:
            sms_send(phone=appeal.guest_contact, text=message.text[:600], kind="appeal_update", now=now)
        return
    user = appeal.user
    if user is None or not user.is_active:
        return
    noun = "Заявка" if appeal.kind == AppealKind.CONNECTION else "Обращение"
    headline = f"{noun} № {appeal.pk}: {what}"
    channel = appeal.notify_channel if appeal.notify_channel in notify_channels_for(user) else NotifyChannel.PORTAL
    body = headline + "."
    if message is not None and message.text:
        body += "\n\n" + message.text
    body += "\n\nВся переписка — в личном кабинете, раздел «Обращения»."
    # The channel chosen on the case is asked for this once; the subscriber's preferences
    # add the rest (push and the notification centre by default).
    notify(
        kind=Kind.APPEAL_UPDATE,
        recipient=recipient_of(user),
        key=f"appeal:{appeal.pk}:m{message.pk}"
        if message is not None
        else f"appeal:{appeal.pk}:{appeal.status}:{now.timestamp():.6f}",
        values={"title": headline, "text": body},
        supplier=appeal.supplier,
        account_id=appeal.account_id,
        now=now,
        also=frozenset({channel}) if channel != NotifyChannel.PORTAL else frozenset(),
    )


def appeal_operator_act(
    *,
    operator: User,
    appeal_id: int,
    action: str,
    text: str = "",
    files: Sequence[NewFile] = (),
    channel: str = "operator",
    now: dt.datetime,
) -> Appeal:
    """An operator's step on a case: take it, ask, answer, move a connection application to
    its next stage, refuse, close — whatever the table allows from the case's status.

    Raises AppealNotFound, TransitionNotAllowed, ValidationFailed.
    """
    with _files_kept_on_commit() as stored, transaction.atomic():
        appeal = _locked(appeal_id)
        _move(
            appeal,
            action=action,
            role=Role.OPERATOR,
            actor=operator,
            text=text,
            files=files,
            channel=channel,
            now=now,
            stored=stored,
        )
    return appeal


def _subscriber_act(
    *,
    user: User,
    appeal_id: int,
    action: Action,
    text: str = "",
    files: Sequence[NewFile] = (),
    channel: str,
    now: dt.datetime,
    rating: tuple[int, str] | None = None,
) -> Appeal:
    with _files_kept_on_commit() as stored, transaction.atomic():
        appeal = _locked(appeal_id, user=user)
        if rating is not None:
            appeal.rating, appeal.rating_comment = rating
            appeal.rated_at = now
        _move(
            appeal,
            action=action,
            role=Role.SUBSCRIBER,
            actor=user,
            text=text,
            files=files,
            channel=channel,
            now=now,
            stored=stored,
        )
    return appeal


def appeal_reply(
    *, user: User, appeal_id: int, text: str, files: Sequence[NewFile] = (), channel: str, now: dt.datetime
) -> Appeal:
    """The applicant writes in the thread: more to say, the answer to a question (the case
    goes back to work), or disagreement with the answer (it is worked again).

    Raises AppealNotFound, TransitionNotAllowed, ValidationFailed.
    """
    return _subscriber_act(
        user=user, appeal_id=appeal_id, action=Action.SUBSCRIBER_REPLY, text=text, files=files, channel=channel, now=now
    )


def appeal_rate(
    *, user: User, appeal_id: int, rating: int, comment: str = "", channel: str, now: dt.datetime
) -> Appeal:
    """Rate the answer from 1 to 5 (with an optional comment); the appeal is closed.

    Raises AppealNotFound, TransitionNotAllowed, ValidationFailed.
    """
    errors = _Errors()
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        errors.add("rating", gettext("Оцените ответ от 1 до 5"))
    remark = _text_check(comment, errors, required=False, field_name="comment")
    errors.raise_any()
    return _subscriber_act(
        user=user, appeal_id=appeal_id, action=Action.RATE, channel=channel, now=now, rating=(rating, remark)
    )


def appeal_withdraw(*, user: User, appeal_id: int, channel: str, now: dt.datetime) -> Appeal:
    """The applicant withdraws the case. Raises AppealNotFound, TransitionNotAllowed."""
    return _subscriber_act(user=user, appeal_id=appeal_id, action=Action.WITHDRAW, channel=channel, now=now)


def appeal_mark_read(*, user: User, appeal_id: int) -> None:
    """The applicant has seen what is new in the case."""
    Appeal.objects.filter(pk=appeal_id, user=user, subscriber_unread=True).update(subscriber_unread=False)
