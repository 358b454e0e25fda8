"""Appeals through the API: the user's appeals and applications for connection to the gas
network with their threads, writing one with photos or scans, answering an operator's
question, rating the answer, withdrawing, the attached files; a guest's message from the
contacts page; the profile's deletion requests with their status.

A user reaches only their own cases and files: any other id is 404 ``appeal_not_found`` or
``attachment_not_found``, whether such a case exists or not; an appeal names only an account
linked to the user (404 ``account_not_found``). What can be done to a case now is the
workflow's table: anything else is 409 ``transition_not_allowed`` and changes nothing. Each
handler parses its input, makes one call into ``abonent.appeals`` and maps the result;
errors become problems in ``api/errors.py``. A refused request leaves nothing behind: no
case, no message, no stored file.

Appeals, messages and applications are ``multipart/form-data``: the fields as form fields,
the files as file fields (one field repeated for several files). A file field the operation
does not know is refused (422), never ignored.

Mounted by ``api/urls.py``: ``api.add_router("/appeals", appeals.router)``,
``api.add_router("/connection-applications", appeals.connection_router)``,
``api.add_router("/feedback", appeals.feedback_router)`` and
``api.add_router("/profile", appeals.deletion_router)`` (deletion requests are cases the
supplier's operators decide, as appeals are).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Annotated, Any

from django.http import FileResponse, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext
from ninja import File, Form, Path, Router, Status, UploadedFile

from abonent.api.appeals_schemas import (
    FILE_RESPONSE,
    FILES_DESCRIPTION,
    AppealDetailOut,
    AppealForm,
    AppealsPageOut,
    CategoryOut,
    ConnectionForm,
    DeletionRequestItemOut,
    FeedbackAcceptedOut,
    FeedbackIn,
    MessageForm,
    RatingIn,
)
from abonent.api.auth import bearer, client_ip, principal
from abonent.api.pagination import DEFAULT_LIMIT, Cursor, Limit, page_after
from abonent.api.schemas import INVALID, TOO_MANY, UNAUTHORIZED, Problem
from abonent.appeals import selectors
from abonent.appeals import services as appeals
from abonent.appeals.enums import (
    ACCOUNT_CATEGORIES,
    APPEAL_CATEGORIES,
    Action,
    AppealKind,
    Category,
    ConnectionProgram,
    DocumentKind,
    Role,
)
from abonent.appeals.enums import (
    Status as AppealStatus,
)
from abonent.appeals.models import Appeal, Attachment, ConnectionDetails, Event, Message
from abonent.core import clock
from abonent.core.errors import ValidationFailed
from abonent.core.money import VOLUME, quantize
from abonent.identity import selectors as identity_selectors
from abonent.identity.enums import AuthChannel, DeletionStatus
from abonent.identity.models import DeletionRequest

router = Router(tags=["appeals"], auth=bearer)
connection_router = Router(tags=["appeals"], auth=bearer)
feedback_router = Router(tags=["appeals"])
deletion_router = Router(tags=["profile"], auth=bearer)

AppealId = Annotated[int, Path(ge=1, le=2**63 - 1, description="Номер обращения или заявки из /appeals")]
AttachmentId = Annotated[int, Path(ge=1, le=2**63 - 1, description="id файла из переписки обращения")]
FileList = list[UploadedFile] | None

# 404 appeal_not_found; 422 an id that is not a positive whole number
NOT_FOUND: dict[int, Any] = {404: Problem, 422: Problem}
# what a step on a case can answer: not the user's case, not allowed now, invalid input
STEP_ERRORS: dict[int, Any] = {**UNAUTHORIZED, 404: Problem, 409: Problem, **INVALID}


# --- Input ----------------------------------------------------------------------------


def _uploads(request: HttpRequest, fields: dict[str, tuple[DocumentKind, FileList]]) -> list[appeals.NewFile]:
    """The files of the operation's file fields (name → the kind of document and the files
    sent in it), as the services take them.

    Raises ValidationFailed for a file field the operation does not know: its files would
    be lost without a word."""
    unknown = sorted(name for name in request.FILES if name not in fields)
    if unknown:
        message = gettext("Неизвестное поле с файлами: файлы передаются в {fields}").format(fields=", ".join(fields))
        raise ValidationFailed({name: [message] for name in unknown})
    return [
        appeals.NewFile(name=upload.name or "", content=upload, size=upload.size or 0, document_kind=kind)
        for kind, uploads in fields.values()
        for upload in uploads or ()
    ]


# --- Mapping --------------------------------------------------------------------------


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else moment.astimezone(dt.UTC)


def _action_label(action: str) -> str:
    if action == "create":
        return gettext("подано")
    return str(Action(action).label) if action in Action.values else action


def _appeal(appeal: Appeal) -> dict[str, Any]:
    account = appeal.account
    return {
        "id": appeal.pk,
        "kind": appeal.kind,
        "kind_label": str(AppealKind(appeal.kind).label),
        "category": appeal.category,
        "category_label": str(Category(appeal.category).label),
        "status": appeal.status,
        "status_label": str(AppealStatus(appeal.status).label),
        "summary": appeal.summary,
        "created_at": _utc(appeal.created_at),
        "status_changed_at": _utc(appeal.status_changed_at),
        "due_on": appeal.due_on,
        "unread": appeal.subscriber_unread,
        "account": None if account is None else {"id": account.pk, "number": account.number},
        "supplier": {"code": appeal.supplier.code, "short_name": appeal.supplier.short_name},
    }


def _attachment(request: HttpRequest, attachment: Attachment) -> dict[str, Any]:
    path = reverse("api-v1:appeal_file", kwargs={"appeal_id": attachment.appeal_id, "attachment_id": attachment.pk})
    return {
        "id": attachment.pk,
        "name": attachment.name,
        "mime": attachment.mime,
        "size": attachment.size,
        "document_kind": attachment.document_kind,
        "document_kind_label": str(DocumentKind(attachment.document_kind).label),
        "url": request.build_absolute_uri(path),
    }


def _message(request: HttpRequest, message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "role": message.role,
        "role_label": str(Role(message.role).label),
        "action": message.action,
        "created_at": _utc(message.created_at),
        "text": message.text,
        "attachments": [_attachment(request, attachment) for attachment in message.attachments.all()],
    }


def _event(event: Event) -> dict[str, Any]:
    return {
        "at": _utc(event.at),
        "action": event.action,
        "action_label": _action_label(event.action),
        "role": event.role,
        "old_status": event.old_status or None,
        "new_status": event.new_status,
        "new_status_label": str(AppealStatus(event.new_status).label),
    }


def _connection(details: ConnectionDetails) -> dict[str, Any]:
    return {
        "program": details.program,
        "program_label": str(ConnectionProgram(details.program).label),
        "applicant_name": details.applicant_name,
        "applicant_phone": details.applicant_phone,
        "object_address": details.object_address,
        "land_cadastral_number": details.land_cadastral_number,
        "house_cadastral_number": details.house_cadastral_number,
        "max_hourly_m3": str(quantize(details.max_hourly_m3, VOLUME)),
        "simplified": details.simplified,
        "usages": list(details.usages),
    }


def _detail(request: HttpRequest, appeal: Appeal) -> dict[str, Any]:
    """The case with its thread, history, what the applicant can do and, for an
    application, its details and stages."""
    events = selectors.appeal_events(appeal=appeal)
    connection = appeal.kind == AppealKind.CONNECTION
    return {
        **_appeal(appeal),
        "closed_at": _utc(appeal.closed_at),
        "notify_channel": appeal.notify_channel,
        "rating": appeal.rating,
        "rating_comment": appeal.rating_comment,
        "messages": [_message(request, message) for message in appeal.messages.all()],
        "events": [_event(event) for event in events],
        "actions": [{"code": code, "label": str(Action(code).label)} for code in selectors.subscriber_actions(appeal)],
        "connection": _connection(appeal.connection) if connection else None,
        "stages": [
            {"status": stage.status, "label": stage.label, "state": stage.state, "reached_at": _utc(stage.reached_at)}
            for stage in selectors.connection_stages(appeal=appeal, events=events)
        ]
        if connection
        else None,
    }


def _own_detail(request: HttpRequest, appeal_id: int) -> dict[str, Any]:
    """The user's case as it is now. Raises AppealNotFound."""
    user, _session = principal(request)
    return _detail(request, selectors.appeal_get(user=user, appeal_id=appeal_id))


def _deletion_request(item: DeletionRequest) -> dict[str, Any]:
    decided = item.status in (DeletionStatus.DONE, DeletionStatus.REFUSED)
    return {
        "id": item.pk,
        "status": item.status,
        "status_label": str(DeletionStatus(item.status).label),
        "requested_at": _utc(item.requested_at),
        "due_by": item.due_by,
        "taken_at": _utc(item.taken_at),
        "processed_at": _utc(item.processed_at),
        "outcome": (item.outcome or None) if decided else None,
    }


def _appeal_id(appeal: Appeal) -> int:
    return appeal.pk


def _categories(categories: Iterable[Category]) -> list[dict[str, Any]]:
    return [
        {"code": category, "label": str(category.label), "needs_account": category in ACCOUNT_CATEGORIES}
        for category in categories
    ]


# --- Appeals --------------------------------------------------------------------------
# /categories is declared before /{appeal_id}, so that it is not read as an id.


@router.get("/categories", response={200: list[CategoryOut], **UNAUTHORIZED}, summary="Темы обращений")
def categories_list(request: HttpRequest) -> list[dict[str, Any]]:
    """The topics an appeal is written on, in the order to show them; ``needs_account``:
    an appeal on the topic names one of the user's accounts (``account_id``)."""
    return _categories(APPEAL_CATEGORIES)


@router.get("", response={200: AppealsPageOut, **UNAUTHORIZED, 422: Problem}, summary="Мои обращения и заявки")
def appeals_list(request: HttpRequest, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT) -> dict[str, Any]:
    """The user's appeals and applications for connection, newest first, each with its
    status and the deadline of the supplier's next step; ``unread``: there is an answer or
    a change the user has not seen (opening the case marks it seen). Pages of ``limit``;
    the next one with ``?cursor=<next_cursor>``, until ``next_cursor`` is null.

    Errors: 422 ``cursor_invalid`` (a cursor not from this list), ``validation_failed``
    (``limit`` not from 1 to 100).
    """
    user, _session = principal(request)
    page = page_after(selectors.appeals_list(user=user), key=_appeal_id, cursor=cursor, limit=limit)
    return {"items": [_appeal(appeal) for appeal in page.items], "next_cursor": page.next_cursor}


@router.post(
    "",
    response={201: AppealDetailOut, **UNAUTHORIZED, 404: Problem, **INVALID},
    summary="Написать обращение",
)
def appeal_create(
    request: HttpRequest,
    form: Form[AppealForm],
    files: Annotated[FileList, File(None, description=FILES_DESCRIPTION)] = None,
) -> Status[dict[str, Any]]:
    """An appeal to the supplier, as ``multipart/form-data``: ``category`` (from
    ``/appeals/categories``), ``account_id`` (one of the user's accounts: the appeal goes to
    its supplier; required for a topic with ``needs_account``) or else ``supplier_id`` (from
    ``/suppliers``), ``text``, ``notify_channel`` and up to 10 photos or scans in the field
    ``files`` (repeated for each file). Answers the new case (``new``, with its deadline).

    Errors (nothing is stored: no case, no file):
    - 422 ``validation_failed`` with ``errors`` naming each field: ``category`` (not from
      the list), ``text`` (empty, longer than 5000), ``account`` (none for a topic that needs
      one), ``supplier`` (none, or no such supplier), ``notify_channel`` (email or sms with
      no confirmed e-mail or phone in the profile), ``files`` (more than 10, one over 10 MB,
      an empty one, one that is not JPEG, PNG, WebP or PDF by its content whatever its name,
      a damaged one), a file field other than ``files``, a form field of a wrong type;
    - 404 ``account_not_found``: ``account_id`` is not linked to the user;
    - 400 ``invalid_multipart``: the body is not ``multipart/form-data``.
    """
    user, _session = principal(request)
    appeal = appeals.appeal_create(
        user=user,
        category=form.category,
        text=form.text,
        account_id=form.account_id,
        supplier_id=form.supplier_id,
        files=_uploads(request, {"files": (DocumentKind.OTHER, files)}),
        notify_channel=form.notify_channel,
        channel=AuthChannel.APP,
        now=clock.now(),
    )
    return Status(201, _own_detail(request, appeal.pk))


@router.get(
    "/{appeal_id}",
    response={200: AppealDetailOut, **UNAUTHORIZED, **NOT_FOUND},
    summary="Обращение или заявка с перепиской",
)
def appeal_get(request: HttpRequest, appeal_id: AppealId) -> dict[str, Any]:
    """The case with its thread (each message with its files and their download
    addresses), the history of its statuses, what the user can do now (``actions``) and,
    for an application for connection, its details and stages with the day each was
    reached. Opening the case marks what is new in it as seen (``unread`` false).

    Errors: 404 ``appeal_not_found`` (not the user's, or no such case); 422
    ``validation_failed`` (the id is not a positive whole number).
    """
    user, _session = principal(request)
    appeals.appeal_mark_read(user=user, appeal_id=appeal_id)
    return _own_detail(request, appeal_id)


@router.post(
    "/{appeal_id}/messages",
    response={201: AppealDetailOut, **STEP_ERRORS},
    summary="Написать в переписку или ответить на вопрос",
)
def appeal_reply(
    request: HttpRequest,
    appeal_id: AppealId,
    form: Form[MessageForm],
    files: Annotated[FileList, File(None, description=FILES_DESCRIPTION)] = None,
) -> Status[dict[str, Any]]:
    """A message of the user's in the case's thread, as ``multipart/form-data``: ``text``
    and up to 10 files in ``files``. While the case is worked, it adds to it; the answer to
    an operator's question (status ``waiting``) returns the case to work; after an answer
    (``answered``) it says the user is not content, and the case is worked again. Answers
    the case as it is now.

    Errors (nothing is stored):
    - 409 ``transition_not_allowed``: the case is finished (closed, withdrawn, refused,
      gas started);
    - 422 ``validation_failed``: ``text`` (empty without files, or empty answer to a
      question; longer than 5000), ``files`` (as for ``POST /appeals``; a case gathers at
      most 50 files), a file field other than ``files``;
    - 404 ``appeal_not_found``;
    - 400 ``invalid_multipart``: the body is not ``multipart/form-data``.
    """
    user, _session = principal(request)
    appeal = appeals.appeal_reply(
        user=user,
        appeal_id=appeal_id,
        text=form.text,
        files=_uploads(request, {"files": (DocumentKind.OTHER, files)}),
        channel=AuthChannel.APP,
        now=clock.now(),
    )
    return Status(201, _own_detail(request, appeal.pk))


@router.post(
    "/{appeal_id}/rating",
    response={200: AppealDetailOut, **STEP_ERRORS},
    summary="Оценить ответ",
)
def appeal_rate(request: HttpRequest, appeal_id: AppealId, payload: RatingIn) -> dict[str, Any]:
    """The user rates the answer from 1 to 5, with a comment if they like; the appeal is
    closed. Possible while the appeal is ``answered`` (``rate`` in ``actions``).

    Errors (nothing changes):
    - 409 ``transition_not_allowed``: the appeal has no answer to rate, is rated already,
      or is an application for connection;
    - 422 ``validation_failed``: ``rating`` not a whole number from 1 to 5, ``comment``
      longer than 5000;
    - 404 ``appeal_not_found``; 400 ``invalid_json``.
    """
    user, _session = principal(request)
    appeal = appeals.appeal_rate(
        user=user,
        appeal_id=appeal_id,
        rating=payload.rating,
        comment=payload.comment,
        channel=AuthChannel.APP,
        now=clock.now(),
    )
    return _own_detail(request, appeal.pk)


@router.post(
    "/{appeal_id}/withdraw",
    response={200: AppealDetailOut, **UNAUTHORIZED, 404: Problem, 409: Problem, 422: Problem},
    summary="Отозвать обращение или заявку",
)
def appeal_withdraw(request: HttpRequest, appeal_id: AppealId) -> dict[str, Any]:
    """The user withdraws the case (``withdraw`` in ``actions``): it is ``withdrawn`` and
    nothing more happens to it. An appeal can be withdrawn until it is answered, an
    application until the works start.

    Errors (nothing changes): 409 ``transition_not_allowed`` (answered, finished, or the
    works have started); 404 ``appeal_not_found``; 422 ``validation_failed`` (the id).
    """
    user, _session = principal(request)
    appeal = appeals.appeal_withdraw(user=user, appeal_id=appeal_id, channel=AuthChannel.APP, now=clock.now())
    return _own_detail(request, appeal.pk)


@router.get(
    "/{appeal_id}/files/{attachment_id}",
    response={200: None, **UNAUTHORIZED, **NOT_FOUND},
    summary="Файл из переписки",
    url_name="appeal_file",
    openapi_extra=FILE_RESPONSE,
)
def appeal_file(request: HttpRequest, appeal_id: AppealId, attachment_id: AttachmentId) -> FileResponse:
    """A file of the case's thread (``url`` of an attachment), as an attachment with its
    name, with the same access token: only the user whose case it is gets it.

    Errors: 404 ``attachment_not_found`` (not a file of the user's case, or no such file);
    422 ``validation_failed`` (an id that is not a positive whole number).
    """
    user, _session = principal(request)
    attachment = selectors.attachment_get(user=user, appeal_id=appeal_id, attachment_id=attachment_id)
    content = selectors.attachment_open(attachment)
    response = FileResponse(content, as_attachment=True, filename=attachment.name, content_type=attachment.mime)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- Applications for connection ------------------------------------------------------


@connection_router.post(
    "",
    response={201: AppealDetailOut, **UNAUTHORIZED, **INVALID},
    summary="Заявка на подключение дома к газу",
)
def connection_apply(
    request: HttpRequest,
    form: Form[ConnectionForm],
    files_land_title: Annotated[FileList, File(None, description="Документ о праве на земельный участок")] = None,
    files_house_title: Annotated[FileList, File(None, description="Документ о праве на дом")] = None,
    files_passport: Annotated[
        FileList, File(None, description="Паспорт заявителя (страницы с фото и пропиской)")
    ] = None,
    files_site_plan: Annotated[FileList, File(None, description="Ситуационный план участка")] = None,
    files_other: Annotated[FileList, File(None, description="Другие документы или фото, по желанию")] = None,
) -> Status[dict[str, Any]]:
    """An application for connection of a house to the gas network, as
    ``multipart/form-data``: the fields of the form and the documents, each kind in its own
    file field (repeated for several files): ``files_land_title`` (the title to the land
    plot), ``files_house_title`` (to the house), ``files_passport``, ``files_site_plan`` —
    each of these four at least once — and ``files_other``. JPEG, PNG, WebP or PDF, at most
    10 files in all, each up to 10 MB. Answers the new application (``new``) with its
    stages: new → checked → contract_sent → works → gas_started.

    Errors (nothing is stored: no application, no file):
    - 422 ``validation_failed`` with ``errors`` naming each field: ``supplier_id`` (no such
      supplier), ``applicant_name``, ``applicant_phone``, ``object_address``,
      ``land_cadastral_number`` and ``house_cadastral_number`` (written like
      50:21:0110501:123), ``max_hourly_m3`` (not a number, 0 or less, over 500, more than
      three places), ``usages`` (none, or not from the list), ``comment``,
      ``notify_channel``, ``program``; ``files`` (a required document missing, more than 10
      files, one over 10 MB, empty, not a photo or PDF by its content, damaged), a file
      field not listed above;
    - 400 ``invalid_multipart``: the body is not ``multipart/form-data``.
    """
    user, _session = principal(request)
    appeal = appeals.connection_apply(
        user=user,
        request=appeals.ConnectionRequest(
            supplier_id=form.supplier_id,
            program=form.program,
            applicant_name=form.applicant_name,
            applicant_phone=form.applicant_phone,
            object_address=form.object_address,
            land_cadastral_number=form.land_cadastral_number,
            house_cadastral_number=form.house_cadastral_number,
            max_hourly_m3=form.max_hourly_m3,
            usages=list(form.usages),
            comment=form.comment,
        ),
        files=_uploads(
            request,
            {
                "files_land_title": (DocumentKind.LAND_TITLE, files_land_title),
                "files_house_title": (DocumentKind.HOUSE_TITLE, files_house_title),
                "files_passport": (DocumentKind.PASSPORT, files_passport),
                "files_site_plan": (DocumentKind.SITE_PLAN, files_site_plan),
                "files_other": (DocumentKind.OTHER, files_other),
            },
        ),
        notify_channel=form.notify_channel,
        channel=AuthChannel.APP,
        now=clock.now(),
    )
    return Status(201, _own_detail(request, appeal.pk))


# --- A guest's message ----------------------------------------------------------------


@feedback_router.post(
    "",
    response={202: FeedbackAcceptedOut, **INVALID, **TOO_MANY},
    summary="Сообщение поставщику без входа",
)
def feedback_send(request: HttpRequest, payload: FeedbackIn) -> Status[dict[str, Any]]:
    """A message to the supplier from someone who has not logged in (the contacts page of
    an app): the answer goes to the e-mail or phone in ``contact``. No access token and no
    CAPTCHA: each address may send a few messages an hour and a day, and ``website`` must
    stay empty (a message with it filled is answered the same 202 and dropped).

    Errors (nothing is stored):
    - 422 ``validation_failed``: ``supplier_id`` (no such supplier), ``name``, ``contact``
      (neither an e-mail nor a mobile phone number), ``text`` (empty, longer than 5000);
    - 429 ``too_many_messages`` with ``Retry-After`` (seconds): too many messages from this
      address, send later;
    - 400 ``invalid_json``.
    """
    appeals.feedback_send(
        supplier_id=payload.supplier_id,
        name=payload.name,
        contact=payload.contact,
        text=payload.text,
        ip=client_ip(request) or "",
        trap=payload.website,
        form_issued_at=None,
        channel=AuthChannel.APP,
        now=clock.now(),
    )
    return Status(202, {"message": gettext("Сообщение отправлено. Ответ придёт на указанный e-mail или телефон.")})


# --- Deletion requests of the profile -------------------------------------------------


@deletion_router.get(
    "/deletion-requests",
    response={200: list[DeletionRequestItemOut], **UNAUTHORIZED},
    summary="Мои заявки на удаление профиля",
)
def deletion_requests_list(request: HttpRequest) -> list[dict[str, Any]]:
    """Every deletion request of the profile, newest first, decided ones included: when it
    was made, taken into work and decided, its term (30 days), and the outcome (``done``:
    the data is deleted except what the law requires to keep; ``refused``: why). A new one
    is made with ``POST /profile/deletion-request``."""
    user, _session = principal(request)
    return [_deletion_request(item) for item in identity_selectors.deletion_requests_list(user=user)]
