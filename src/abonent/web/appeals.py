"""Appeals and applications on the portal: the list of a subscriber's cases (with their
requests to delete the profile), the form of an appeal, the application for connection of
a house to the gas network, a case's page with its stages, thread and history and what the
applicant can do now (reply, rate the answer, withdraw), the files of a case, and the
contacts page with the guests' message form.

Every view that takes a case's id reads it through the appeals domain, which knows only the
user's own cases: another's case or file is "not found", whether it exists or not. An
account named in an appeal is checked by the domain the same way. The rules — what may be
sent, which step is allowed in which status — are the domain's; the views pass on what was
typed and put the domain's errors next to the inputs they name.

The contacts page has no CAPTCHA: a field people do not see (robots fill it in) and the
time the form was shown, signed into the form, are handed to ``feedback_send``, which
decides; a form whose stamp is missing or forged counts as one shown long ago.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from abonent.appeals import selectors as appeals
from abonent.appeals import services as appealing
from abonent.appeals.enums import Action, AppealKind, Status, Usage
from abonent.appeals.models import Appeal, Event
from abonent.core import clock
from abonent.core.errors import DomainError
from abonent.core.selectors import suppliers_active
from abonent.customers import selectors as customers
from abonent.customers.services import AccountNotFound
from abonent.identity import selectors as identity_selectors
from abonent.identity.enums import AuthChannel
from abonent.identity.models import User
from abonent.web.appeals_forms import AppealForm, ConnectionForm, FeedbackForm, RateForm, ReplyForm
from abonent.web.forms import form_error
from abonent.web.sessions import client_ip


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # the views are behind login_required
    return user


def _noun(appeal: Appeal) -> str:
    return _("Заявка") if appeal.kind == AppealKind.CONNECTION else _("Обращение")


# --- The list ------------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def appeal_list(request: HttpRequest) -> HttpResponse:
    """The user's appeals and applications, the newest first, and their requests to delete
    the profile, followed the same way."""
    user = _user(request)
    context = {
        "appeals": appeals.appeals_list(user=user),
        "deletions": identity_selectors.deletion_requests_list(user=user),
    }
    return render(request, "web/appeals/list.html", context)


# --- Writing -------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def appeal_new(request: HttpRequest) -> HttpResponse:
    """An appeal to the supplier of one of the user's accounts, or to a supplier chosen when
    it is not about an account; ``?account=<id>`` chooses that account when it is linked."""
    user = _user(request)
    options: dict[str, Any] = {
        "user": user,
        "links": customers.account_links_list(user=user),
        "suppliers": list(suppliers_active()),
    }
    if request.method == "POST":
        form = AppealForm(request.POST, request.FILES, **options)
    else:
        form = AppealForm(account=request.GET.get("account"), **options)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            appeal = appealing.appeal_create(
                user=user,
                category=form.cleaned_data["category"],
                text=form.cleaned_data["text"],
                account_id=form.account_id,
                supplier_id=form.supplier_id,
                files=form.new_files,
                notify_channel=form.cleaned_data["notify_channel"],
                channel=AuthChannel.WEB,
                now=clock.now(),
            )
        except AccountNotFound:
            raise Http404 from None
        except DomainError as exc:
            status = form_error(form, exc)
        else:
            _sent(request, appeal)
            return redirect("web:appeal", appeal_id=appeal.pk)
    return render(request, "web/appeals/new.html", {"form": form}, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def connection_new(request: HttpRequest) -> HttpResponse:
    """An application for connection of a house to the gas network, with its documents."""
    user = _user(request)
    options: dict[str, Any] = {"user": user, "suppliers": list(suppliers_active())}
    form = (
        ConnectionForm(request.POST, request.FILES, **options)
        if request.method == "POST"
        else ConnectionForm(**options)
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            appeal = appealing.connection_apply(
                user=user,
                request=appealing.ConnectionRequest(
                    supplier_id=form.supplier,
                    program=data["program"],
                    applicant_name=data["applicant_name"],
                    applicant_phone=data["applicant_phone"],
                    object_address=data["object_address"],
                    land_cadastral_number=data["land_cadastral_number"],
                    house_cadastral_number=data["house_cadastral_number"],
                    max_hourly_m3=data["max_hourly_m3"],
                    usages=data["usages"],
                    comment=data["comment"],
                ),
                files=form.new_files,
                notify_channel=data["notify_channel"],
                channel=AuthChannel.WEB,
                now=clock.now(),
            )
        except DomainError as exc:
            status = form_error(form, exc)
        else:
            _sent(request, appeal)
            return redirect("web:appeal", appeal_id=appeal.pk)
    return render(request, "web/appeals/connection_new.html", {"form": form}, status=status)


def _sent(request: HttpRequest, appeal: Appeal) -> None:
    if appeal.kind == AppealKind.CONNECTION:
        text = _("Заявка № %(number)s подана.") % {"number": appeal.number}
    else:
        text = _("Обращение № %(number)s отправлено.") % {"number": appeal.number}
    if appeal.due_on:
        text += " " + _("Ответим до %(date)s.") % {"date": f"{appeal.due_on:%d.%m.%Y}"}
    messages.success(request, text)


# --- A case ------------------------------------------------------------------------------

#: What each step of the history was, in the applicant's words.
HISTORY = {
    "create": gettext_lazy("Подано"),
    Action.TAKE: gettext_lazy("Взято в работу"),
    Action.ASK: gettext_lazy("Вам задан вопрос"),
    Action.ANSWER: gettext_lazy("Дан ответ"),
    Action.SUBSCRIBER_REPLY: gettext_lazy("Вы ответили"),
    Action.RATE: gettext_lazy("Вы оценили ответ"),
    Action.CLOSE: gettext_lazy("Закрыто"),
    Action.REOPEN: gettext_lazy("Возвращено в работу"),
    Action.CHECK: gettext_lazy("Заявка проверена"),
    Action.SEND_CONTRACT: gettext_lazy("Договор направлен"),
    Action.START_WORKS: gettext_lazy("Начаты работы"),
    Action.START_GAS: gettext_lazy("Газ пущен"),
    Action.REFUSE: gettext_lazy("Отказано"),
    Action.WITHDRAW: gettext_lazy("Вы отозвали"),
}


def _status_words(status: str) -> str:
    """A status as the applicant reads it: the case waits for *them*."""
    return _("ждёт вашего ответа") if status == Status.WAITING else str(Status(status).label)


def _history(events: list[Event]) -> list[dict[str, Any]]:
    steps = []
    for event in events:
        what = str(HISTORY.get(event.action, event.action))
        status = _status_words(event.new_status) if event.new_status != event.old_status else ""
        # «Дан ответ», «Договор направлен»: the step says the status already
        steps.append({"at": event.at, "what": what, "status": "" if status.casefold() == what.casefold() else status})
    return steps


def _case(
    request: HttpRequest,
    appeal_id: int,
    *,
    reply: ReplyForm | None = None,
    rate: RateForm | None = None,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    """The case's page, with the forms the applicant can use now (those given keep what
    was typed and its errors); ``problem`` is said above them."""
    try:
        appeal = appeals.appeal_get(user=_user(request), appeal_id=appeal_id)
    except appealing.AppealNotFound:
        raise Http404 from None
    events = appeals.appeal_events(appeal=appeal)
    actions = appeals.subscriber_actions(appeal)
    connection = getattr(appeal, "connection", None) if appeal.kind == AppealKind.CONNECTION else None
    context = {
        "appeal": appeal,
        "noun": _noun(appeal),
        "thread": list(appeal.messages.all()),
        "history": _history(events),
        "stages": appeals.connection_stages(appeal=appeal, events=events) if connection else None,
        "connection": connection,
        "usages": [Usage(u).label for u in connection.usages if u in Usage.values] if connection else [],
        "can_reply": Action.SUBSCRIBER_REPLY in actions,
        "can_rate": Action.RATE in actions,
        "can_withdraw": Action.WITHDRAW in actions,
        "reply_form": reply or ReplyForm(),
        "rate_form": rate or RateForm(),
        "problem": problem,
    }
    return render(request, "web/appeals/detail.html", context, status=status)


@never_cache
@login_required
@require_GET
def appeal_detail(request: HttpRequest, appeal_id: int) -> HttpResponse:
    # seen before the page is drawn, so the menu's count of unread cases is right on it
    appealing.appeal_mark_read(user=_user(request), appeal_id=appeal_id)
    return _case(request, appeal_id)


@never_cache
@login_required
@require_POST
def appeal_reply(request: HttpRequest, appeal_id: int) -> HttpResponse:
    """The applicant writes in the thread: the answer to a question, more to say, or that
    they disagree with the answer."""
    form = ReplyForm(request.POST, request.FILES)
    form.is_valid()  # nothing to check here: the domain reads the text and the files
    try:
        appealing.appeal_reply(
            user=_user(request),
            appeal_id=appeal_id,
            text=form.cleaned_data["text"],
            files=form.new_files,
            channel=AuthChannel.WEB,
            now=clock.now(),
        )
    except appealing.AppealNotFound:
        raise Http404 from None
    except appealing.TransitionNotAllowed as exc:
        return _case(request, appeal_id, problem=exc.text, status=409)
    except DomainError as exc:
        return _case(request, appeal_id, reply=form, status=form_error(form, exc))
    messages.success(request, _("Сообщение отправлено."))
    return redirect("web:appeal", appeal_id=appeal_id)


@never_cache
@login_required
@require_POST
def appeal_rate(request: HttpRequest, appeal_id: int) -> HttpResponse:
    """The applicant rates the answer from 1 to 5; the appeal is closed."""
    form = RateForm(request.POST)
    form.is_valid()
    try:
        appealing.appeal_rate(
            user=_user(request),
            appeal_id=appeal_id,
            rating=form.mark,
            comment=form.cleaned_data["comment"],
            channel=AuthChannel.WEB,
            now=clock.now(),
        )
    except appealing.AppealNotFound:
        raise Http404 from None
    except appealing.TransitionNotAllowed as exc:
        return _case(request, appeal_id, problem=exc.text, status=409)
    except DomainError as exc:
        return _case(request, appeal_id, rate=form, status=form_error(form, exc))
    messages.success(request, _("Спасибо за оценку! Обращение закрыто."))
    return redirect("web:appeal", appeal_id=appeal_id)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def appeal_withdraw(request: HttpRequest, appeal_id: int) -> HttpResponse:
    """The question «withdraw it?» (GET) and the withdrawal itself (POST)."""
    user = _user(request)
    if request.method == "GET":
        try:
            appeal = appeals.appeal_get(user=user, appeal_id=appeal_id)
        except appealing.AppealNotFound:
            raise Http404 from None
        context = {
            "appeal": appeal,
            "noun": _noun(appeal),
            "allowed": Action.WITHDRAW in appeals.subscriber_actions(appeal),
        }
        return render(request, "web/appeals/withdraw.html", context)
    try:
        appeal = appealing.appeal_withdraw(user=user, appeal_id=appeal_id, channel=AuthChannel.WEB, now=clock.now())
    except appealing.AppealNotFound:
        raise Http404 from None
    except appealing.TransitionNotAllowed as exc:
        return _case(request, appeal_id, problem=exc.text, status=409)
    if appeal.kind == AppealKind.CONNECTION:
        messages.success(request, _("Заявка № %(number)s отозвана.") % {"number": appeal.number})
    else:
        messages.success(request, _("Обращение № %(number)s отозвано.") % {"number": appeal.number})
    return redirect("web:appeal", appeal_id=appeal_id)


@login_required
@require_GET
def appeal_file(request: HttpRequest, appeal_id: int, attachment_id: int) -> HttpResponseBase:
    """A file of the user's case, to save: never shown inline, never cached, its type the
    one read from its content when it was uploaded."""
    try:
        attachment = appeals.attachment_get(user=_user(request), appeal_id=appeal_id, attachment_id=attachment_id)
    except appealing.AttachmentNotFound:
        raise Http404 from None
    try:
        content = appeals.attachment_open(attachment)
    except appealing.AttachmentNotFound:
        raise Http404 from None
    response = FileResponse(content, as_attachment=True, filename=attachment.name, content_type=attachment.mime)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"  # a personal document: no shared or disk cache keeps it
    return response


# --- The contacts page --------------------------------------------------------------------

#: Signs the moment the form was shown, read from the portal's clock.
_FORM_STAMP = signing.Signer(salt="abonent.web.contacts.form-issued")
#: The moment of a form whose stamp is missing or forged: long ago, so the form is stale.
_UNKNOWN_ISSUE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def form_stamp(now: dt.datetime) -> str:
    return _FORM_STAMP.sign(str(int(now.timestamp())))


def form_issued_at(stamp: str) -> dt.datetime:
    """When the form with ``stamp`` was shown; long ago for a stamp not ours."""
    try:
        seconds = int(_FORM_STAMP.unsign(stamp))
    except (signing.BadSignature, ValueError):
        return _UNKNOWN_ISSUE
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


@never_cache
@require_http_methods(["GET", "POST"])
def contacts(request: HttpRequest) -> HttpResponse:
    """The suppliers' contacts and a message form for anyone, signed in or not."""
    suppliers = list(suppliers_active())
    now = clock.now()
    data = request.POST.copy()  # the form's stamp is renewed in it when the form was sent too soon
    if request.method == "POST":
        form = FeedbackForm(data, suppliers=suppliers)
    else:
        form = FeedbackForm(suppliers=suppliers, initial={"issued": form_stamp(now)})
    status = 200
    retry_after: int | None = None
    if request.method == "POST" and form.is_valid():
        sent = form.cleaned_data
        try:
            appealing.feedback_send(
                supplier_id=form.supplier,
                name=sent["name"],
                contact=sent["contact"],
                text=sent["text"],
                ip=client_ip(request) or "",
                trap=sent["website"],
                form_issued_at=form_issued_at(sent["issued"]),
                channel=AuthChannel.WEB,
                now=now,
            )
        except appealing.FeedbackRateLimited as exc:
            form.add_error(None, exc.text)
            status, retry_after = 429, exc.retry_after
        except appealing.FeedbackTooFast as exc:
            form.add_error(None, exc.text)
            data["issued"] = form_stamp(now)  # sent again after a while, the form passes
        except DomainError as exc:
            status = form_error(form, exc)
        else:
            # a robot caught by the trap is thanked the same way and is none the wiser
            return redirect("web:contacts_sent")
    response = render(request, "web/appeals/contacts.html", {"suppliers": suppliers, "form": form}, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@require_GET
def contacts_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "web/appeals/contacts_sent.html")
