"""The back office for appeals, applications for connection to the gas network and guests'
messages from the contacts page.

- The queue (the list of cases), as operators work it: overdue first, then the nearest
  deadline, finished cases last (``queue_ordered``). Filters: supplier, kind, topic,
  status (the open cases unless another choice is made; a search looks through all of
  them), deadline, assignee; a search by number, account, phone or e-mail, applicant, text.
- The case page replaces the generic change form: the case and its applicant's contacts,
  an application's details and stages, the thread with its files, the history of changes
  and the deadline in working days, and one form for the operator's next step, sent to
  ``appeal_operator_act`` — with the answer templates of the case's supplier and topic.
  The generic form never changes a case.
- «Скачать»: a file of a case given to an operator as a download.
- Answer templates (kept by senior operators) and the terms of each topic (administrators).

Who may do what: the queue and a case need ``view_appeal``; acting on a case,
``change_appeal``; a file, ``view_attachment`` or ``view_appeal`` (see ``identity/roles.py``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.appeals import policy
from abonent.appeals.enums import FINAL_STATUSES, Action, AppealKind, Category, DocumentKind, Role, Status, Usage
from abonent.appeals.models import AnswerTemplate, Appeal, Attachment, DeadlineRule, Event, Message
from abonent.appeals.selectors import (
    DUE_NONE,
    DUE_OVERDUE,
    DUE_SOON,
    DUE_SOON_DAYS,
    DUE_TODAY,
    answer_templates_for,
    appeal_events,
    appeal_for_operator,
    attachment_for_operator,
    attachment_open,
    connection_stages,
    due_state,
    operator_actions,
    queue_by_deadline,
    queue_ordered,
)
from abonent.appeals.services import (
    AppealNotFound,
    AttachmentNotFound,
    NewFile,
    TransitionNotAllowed,
    appeal_operator_act,
)
from abonent.backoffice.admin_accounts import channel_display, phone_display, search_key, words_search
from abonent.backoffice.admin_billing import _operator, moment
from abonent.backoffice.admin_documents import file_size
from abonent.core import clock
from abonent.core.calendar import working_days_between
from abonent.core.errors import ValidationFailed
from abonent.core.money import format_number
from abonent.core.selectors import supplier_local_date
from abonent.core.uploads import DOCUMENT_TYPES
from abonent.identity.models import User

#: Seeing the queue and the cases.
VIEW_PERMISSION = "appeals.view_appeal"
#: Taking the next step on a case (through the appeals service only).
ACT_PERMISSION = "appeals.change_appeal"
#: Opening a file of a case (or seeing the cases at all).
FILE_PERMISSIONS = ("appeals.view_attachment", VIEW_PERMISSION)
#: Words of a search that may match the applicant or the text of a case.
APPEAL_WORD_LOOKUPS = [
    "summary__icontains",
    "guest_name__icontains",
    "user__last_name__istartswith",
    "user__first_name__istartswith",
    "connection__applicant_name__icontains",
]
#: The service's names of the fields it finds wrong → the case page form's.
_FORM_FIELDS = {"text": "text", "files": "attachments"}
#: The actions whose button is drawn as the main one.
_MAIN_ACTIONS = {Action.ANSWER}


def back_office_today() -> dt.date:
    """Today in the back office's time zone: the day the queue's filters and order use."""
    return timezone.localdate(clock.now())


def person(user: User | None) -> str:
    """A member of staff or a subscriber as others see them: «Смирнова Ольга» or the login."""
    if user is None:
        return "—"
    name = " ".join(part for part in (user.last_name, user.first_name) if part)
    return name or user.get_username()


def applicant_name(appeal: Appeal) -> str:
    """Who wrote: the applicant of a connection application, the guest, or the subscriber."""
    if appeal.kind == AppealKind.CONNECTION and hasattr(appeal, "connection"):
        return appeal.connection.applicant_name
    if appeal.kind == AppealKind.FEEDBACK:
        return appeal.guest_name or "—"
    if appeal.user is None:
        return gettext("профиль удалён")
    user = appeal.user
    name = " ".join(part for part in (user.last_name, user.first_name, user.middle_name) if part)
    return name or phone_display(user.phone) or user.email or user.get_username()


def action_label(action: str) -> str:
    if action == "create":
        return gettext("подано")
    return str(Action(action).label) if action in Action.values else action


def status_label(status: str) -> str:
    return str(Status(status).label) if status in Status.values else status or "—"


# --- The queue's filters ------------------------------------------------------------------


class StatusFilter(admin.SimpleListFilter):
    """The status: the open cases unless another choice is made — and all of them while
    searching, so that a closed case is found by its number or its applicant."""

    title = _("состояние")
    parameter_name = "status"
    ALL = "all"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        return [(self.ALL, gettext("все")), *((str(value), str(label)) for value, label in Status.choices)]

    def choices(self, changelist: Any) -> Any:
        value = self.value()
        searching = bool(changelist.query)
        yield {
            "selected": value is None and not searching,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": gettext("открытые"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup or (lookup == self.ALL and value is None and searching),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value is None:
            if request.GET.get(SEARCH_VAR, "").strip():
                return queryset
            return queryset.exclude(status__in=list(FINAL_STATUSES))
        if value == self.ALL:
            return queryset
        if value in Status.values:
            return queryset.filter(status=value)
        raise IncorrectLookupParameters(value)


class DeadlineFilter(admin.SimpleListFilter):
    """The deadline: passed, today, within a few days, or none running (the applicant is
    asked, the answer is given, the case is finished)."""

    title = _("срок")
    parameter_name = "due"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        return [
            (DUE_OVERDUE, gettext("просрочено")),
            (DUE_TODAY, gettext("истекает сегодня")),
            (DUE_SOON, gettext("в ближайшие %(days)s дня") % {"days": DUE_SOON_DAYS}),
            (DUE_NONE, gettext("срок не идёт")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value is None:
            return queryset
        try:
            return queue_by_deadline(queryset, due=value, today=back_office_today())
        except ValueError:
            raise IncorrectLookupParameters(value) from None


class AssigneeFilter(admin.SimpleListFilter):
    title = _("исполнитель")
    parameter_name = "assignee"
    MINE, NOBODY = "mine", "nobody"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        return [(self.MINE, gettext("мои")), (self.NOBODY, gettext("никто не взял"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value is None:
            return queryset
        if value == self.MINE:
            return queryset.filter(assignee=request.user)
        if value == self.NOBODY:
            return queryset.filter(assignee__isnull=True)
        raise IncorrectLookupParameters(value)


# --- The case page ------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.Field):
    """The files chosen, as uploaded: what they are and how large is the service's to judge."""

    widget = MultipleFileInput

    def clean(self, value: Any) -> list[UploadedFile]:
        if not value:
            return []
        return list(value) if isinstance(value, list | tuple) else [value]


class ActionForm(forms.Form):
    """The operator's next step: the action is the button pressed."""

    action = forms.ChoiceField(choices=Action.choices, required=False)
    # Not required here: a text the action needs gets the service's own message, next to the field.
    text = forms.CharField(
        label=_("Текст"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
        help_text=_(
            "Ответ, вопрос заявителю или причина отказа. Заявитель увидит его в личном кабинете и получит "
            "уведомление; гостю с сайта ответ уходит на оставленный им e-mail или телефон."
        ),
    )
    attachments = MultipleFileField(
        label=_("Файлы"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": ",".join(kind.mime for kind in DOCUMENT_TYPES)}),
        help_text=_("Например, договор в PDF. JPEG, PNG, WebP или PDF, до %(mb)s МБ каждый, не больше %(count)s за раз")
        % {"mb": policy.FILE_SIZE_LIMIT // 2**20, "count": policy.FILES_PER_MESSAGE},
    )

    def clean_text(self) -> str:
        """Lines as the browser sends them (CR LF) stored as lines (LF)."""
        return newlines_plain(self.cleaned_data["text"])


def newlines_plain(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass(frozen=True)
class FileLink:
    name: str
    url: str
    size: str
    kind: str


@dataclass(frozen=True)
class ThreadItem:
    message: Message
    who: str
    from_operator: bool
    action: str
    files: list[FileLink]


@dataclass(frozen=True)
class HistoryRow:
    event: Event
    who: str
    action: str
    old: str
    new: str
    channel: str


@dataclass(frozen=True)
class Deadline:
    """The deadline as the case page shows it: «до 05.12.2026», its state ("overdue",
    "today" or "") and how much is left or how late it is, in working days."""

    text: str
    state: str = ""
    detail: str = ""


@dataclass(frozen=True)
class ActionButton:
    value: str
    label: str
    main: bool


def deadline_of(appeal: Appeal, *, today: dt.date) -> Deadline:
    if appeal.status in FINAL_STATUSES:
        return Deadline(gettext("дело завершено"))
    if appeal.due_on is None:
        if appeal.days_left_paused is not None:
            detail = gettext("останется рабочих дней: %(days)s") % {"days": appeal.days_left_paused}
            return Deadline(gettext("приостановлен, пока заявитель не ответит"), detail=detail)
        return Deadline(gettext("не идёт"))
    text = gettext("до %(day)s") % {"day": f"{appeal.due_on:%d.%m.%Y}"}
    state = due_state(appeal, today=today)
    if state == "overdue":
        late = working_days_between(appeal.due_on, today)
        detail = gettext("рабочих дней после срока: %(days)s") % {"days": late} if late else ""
        return Deadline(text, state, detail)
    if state == "today":
        return Deadline(text, state)
    left = working_days_between(today, appeal.due_on)
    return Deadline(text, state, gettext("осталось рабочих дней: %(days)s") % {"days": left})


def _file_links(attachments: list[Attachment]) -> list[FileLink]:
    return [
        FileLink(
            name=attachment.name,
            url=reverse("admin:appeals_appeal_file", args=[attachment.pk]),
            size=file_size(attachment.size),
            # «другой документ или фото» says nothing: only the documents of an application are named
            kind=str(DocumentKind(attachment.document_kind).label)
            if attachment.document_kind in DocumentKind.values and attachment.document_kind != DocumentKind.OTHER
            else "",
        )
        for attachment in attachments
    ]


def _thread(appeal: Appeal) -> list[ThreadItem]:
    items = []
    for message in appeal.messages.all():
        operator = message.role == Role.OPERATOR
        if operator:
            who = gettext("Оператор %(name)s") % {"name": person(message.author)}
        elif message.role == Role.SUBSCRIBER:
            who = applicant_name(appeal)
        else:
            who = str(Role(message.role).label)
        items.append(
            ThreadItem(
                message=message,
                who=who,
                from_operator=operator,
                action=action_label(message.action) if message.action else "",
                files=_file_links(list(message.attachments.all())),
            )
        )
    return items


def _history(events: list[Event]) -> list[HistoryRow]:
    rows = []
    for event in events:
        if event.role == Role.OPERATOR:
            who = gettext("оператор %(name)s") % {"name": person(event.actor)}
        elif event.role == Role.SUBSCRIBER:
            who = gettext("заявитель")
        else:
            who = str(Role(event.role).label) if event.role in Role.values else event.role
        rows.append(
            HistoryRow(
                event=event,
                who=who,
                action=action_label(event.action),
                old=status_label(event.old_status) if event.old_status else "",
                new=status_label(event.new_status),
                channel=channel_display(event.channel),
            )
        )
    return rows


def _template_appended(text: str, template: str) -> str:
    """The template's text after what is written already (a blank line between)."""
    text = text.rstrip()
    return f"{text}\n\n{template}" if text else template


# --- The queue and the case ---------------------------------------------------------------


@admin.register(Appeal)
class AppealAdmin(admin.ModelAdmin):
    # What an operator looks at first comes first: on a narrow screen the rest scrolls.
    list_display = [
        "number_column",
        "due_column",
        "status",
        "kind",
        "category_column",
        "applicant_column",
        "account_column",
        "supplier_column",
        "assignee_column",
        "created_column",
    ]
    list_display_links = ["number_column"]
    list_filter = ["supplier", "kind", "category", StatusFilter, DeadlineFilter, AssigneeFilter]
    search_fields = ["=pk"]  # the search itself: get_search_results
    search_help_text = _(
        "Номер обращения, лицевой счёт, телефон или e-mail заявителя, фамилия или имя, слова из текста; "
        "поиск идёт и по закрытым"
    )
    list_select_related = ["supplier", "account", "user", "assignee", "connection"]
    list_per_page = 50
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    change_list_template = "backoffice/appeal_change_list.html"

    # --- Columns -----------------------------------------------------------------------

    @admin.display(description=_("№"), ordering="pk")
    def number_column(self, obj: Appeal) -> str:
        return f"№\u00a0{obj.pk}"

    @admin.display(description=_("тема"), ordering="category")
    def category_column(self, obj: Appeal) -> SafeString:
        """The topic, and under it the start of the text."""
        return format_html(
            '{}<br><span class="appeal-summary">{}</span>', obj.get_category_display(), Truncator(obj.summary).chars(50)
        )

    @admin.display(description=_("поставщик"), ordering="supplier__short_name")
    def supplier_column(self, obj: Appeal) -> str:
        return obj.supplier.short_name

    @admin.display(description=_("лицевой счёт"), ordering="account__number")
    def account_column(self, obj: Appeal) -> str:
        return obj.account.number if obj.account else "—"

    @admin.display(description=_("заявитель"))
    def applicant_column(self, obj: Appeal) -> str:
        return applicant_name(obj)

    @admin.display(description=_("исполнитель"), ordering="assignee__last_name")
    def assignee_column(self, obj: Appeal) -> str:
        return person(obj.assignee) if obj.assignee else "—"

    @admin.display(description=_("срок"), ordering="due_on")
    def due_column(self, obj: Appeal) -> SafeString | str:
        if obj.due_on is None:
            return "—"
        state = due_state(obj, today=supplier_local_date(supplier=obj.supplier, now=clock.now()))
        day = f"{obj.due_on:%d.%m.%Y}"
        if state == "overdue":
            return format_html('{} <span class="appeal-due appeal-due-overdue">{}</span>', day, gettext("просрочено"))
        if state == "today":
            return format_html('{} <span class="appeal-due appeal-due-today">{}</span>', day, gettext("сегодня"))
        return day

    @admin.display(description=_("подано"), ordering="created_at")
    def created_column(self, obj: Appeal) -> str:
        return moment(obj.created_at)

    # --- The queue ---------------------------------------------------------------------

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return super().changelist_view(
            request, {"title": gettext("Очередь обращений и заявок"), **(extra_context or {})}
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Appeal]:
        """Overdue first, then the nearest deadline, finished last; a column the operator
        sorts by goes before this order."""
        return queue_ordered(super().get_queryset(request), today=back_office_today())

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Appeal], search_term: str
    ) -> tuple[QuerySet[Appeal], bool]:
        term = search_term.strip().lstrip("№").strip()
        if not term:
            return queryset, False
        key = search_key(term)
        if key is not None and key.kind == "number":
            return queryset.filter(account__number=key.value), False
        if key is not None and key.kind == "phone":
            found = Q(user__phone=key.value) | Q(guest_contact=key.value) | Q(connection__applicant_phone=key.value)
            return queryset.filter(found), False
        if key is not None and key.kind == "email":
            return queryset.filter(Q(user__email__iexact=key.value) | Q(guest_contact__iexact=key.value)), False
        if term.isdigit() and len(term) <= 12:
            return queryset.filter(pk=int(term)), False
        return words_search(queryset, term, APPEAL_WORD_LOOKUPS), False

    # --- Permissions: the generic forms never write a case ----------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_act_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(ACT_PERMISSION)

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path("file/<int:attachment_id>/", self.admin_site.admin_view(self.file_view), name="appeals_appeal_file"),
            *super().get_urls(),
        ]

    # --- The case page -----------------------------------------------------------------

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The case and the operator's next step. Only a POST of someone allowed to act
        changes anything, and only through ``appeal_operator_act``."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        appeal = self._appeal(object_id)
        can_act = self.has_act_permission(request)
        if request.method == "POST" and not can_act:
            raise PermissionDenied
        templates = answer_templates_for(appeal=appeal) if can_act else []
        if request.method != "POST":
            return self._case_page(request, appeal, ActionForm(), templates, can_act=can_act)
        if "insert_template" in request.POST:
            return self._template_inserted(request, appeal, templates)
        form = ActionForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._case_page(request, appeal, form, templates, can_act=True)
        action = form.cleaned_data["action"]
        if not action:
            form.add_error(None, gettext("Выберите действие: нажмите одну из кнопок под формой"))
            return self._case_page(request, appeal, form, templates, can_act=True)
        files = [
            NewFile(name=upload.name or "", content=upload, size=upload.size or 0)
            for upload in form.cleaned_data["attachments"]
        ]
        try:
            appeal_operator_act(
                operator=_operator(request),
                appeal_id=appeal.pk,
                action=action,
                text=form.cleaned_data["text"],
                files=files,
                now=clock.now(),
            )
        except ValidationFailed as exc:
            for field, errors in exc.errors.items():
                name = _FORM_FIELDS.get(field)
                for error in errors:
                    form.add_error(name, error)
        except TransitionNotAllowed as exc:
            # Another operator has moved the case meanwhile: the page shows it as it is now.
            messages.error(request, exc.text)
            appeal = self._appeal(object_id)
        except AppealNotFound:
            raise Http404 from None
        else:
            appeal = self._appeal(object_id)
            text = gettext("Сделано: «%(action)s». Состояние — «%(status)s».") % {
                "action": capfirst(action_label(action)),
                "status": status_label(appeal.status),
            }
            messages.success(request, text)
            return HttpResponseRedirect(request.get_full_path())
        return self._case_page(request, appeal, form, templates, can_act=True)

    def _appeal(self, object_id: str) -> Appeal:
        try:
            return appeal_for_operator(appeal_id=int(object_id))
        except (ValueError, AppealNotFound):
            raise Http404(gettext("Обращение не найдено")) from None

    def _template_inserted(self, request: HttpRequest, appeal: Appeal, templates: list[AnswerTemplate]) -> HttpResponse:
        """Without JavaScript: the page again, the chosen template's text after what is
        written; nothing is sent."""
        chosen = next((t for t in templates if str(t.pk) == request.POST.get("template")), None)
        text = newlines_plain(request.POST.get("text", ""))
        if chosen is None:
            form = ActionForm(initial={"text": text})
            template_error = gettext("Выберите шаблон из списка")
        else:
            form = ActionForm(initial={"text": _template_appended(text, chosen.text)})
            template_error = ""
        if request.FILES:
            messages.warning(request, gettext("Выбранные файлы не сохраняются при вставке шаблона: выберите их снова"))
        return self._case_page(
            request, appeal, form, templates, can_act=True, template_chosen=chosen, template_error=template_error
        )

    def _case_page(
        self,
        request: HttpRequest,
        appeal: Appeal,
        form: ActionForm,
        templates: list[AnswerTemplate],
        *,
        can_act: bool,
        template_chosen: AnswerTemplate | None = None,
        template_error: str = "",
    ) -> HttpResponse:
        events = appeal_events(appeal=appeal)
        today = supplier_local_date(supplier=appeal.supplier, now=clock.now())
        connection = getattr(appeal, "connection", None) if appeal.kind == AppealKind.CONNECTION else None
        actions = operator_actions(appeal) if can_act else []
        kind = AppealKind(appeal.kind)
        orphan_files = _file_links(list(appeal.attachments.filter(message__isnull=True)))
        context = {
            **self.admin_site.each_context(request),
            "title": f"{capfirst(kind.label)} № {appeal.pk}",
            "opts": self.opts,
            "appeal": appeal,
            "kind_label": capfirst(kind.label),
            "applicant": applicant_name(appeal),
            "assignee": person(appeal.assignee) if appeal.assignee else "",
            "hourly": format_number(connection.max_hourly_m3) if connection else "",
            "user_phone": phone_display(appeal.user.phone) if appeal.user and appeal.user.phone else "",
            "connection": connection,
            "connection_phone": phone_display(connection.applicant_phone) if connection else "",
            "usages": (
                ", ".join(str(Usage(u).label) for u in connection.usages if u in Usage.values) if connection else ""
            ),
            "stages": connection_stages(appeal=appeal, events=events) if connection else [],
            "deadline": deadline_of(appeal, today=today),
            "time_zone": appeal.supplier.time_zone,
            "zone_differs": appeal.supplier.time_zone != timezone.get_current_timezone_name(),
            "thread": _thread(appeal),
            "orphan_files": orphan_files,
            "history": _history(events),
            "can_act": can_act,
            "buttons": [ActionButton(a, capfirst(action_label(a)), a in _MAIN_ACTIONS) for a in actions],
            "form": form,
            "with_files": appeal.kind != AppealKind.FEEDBACK,
            "templates": templates,
            "template_chosen": template_chosen.pk if template_chosen else None,
            "template_error": template_error,
            "account_url": (
                reverse("admin:customers_personalaccount_change", args=[appeal.account_id])
                if appeal.account_id and request.user.has_perm("customers.view_personalaccount")
                else ""
            ),
            # back to the queue as it was filtered when the case was opened from it
            "queue_url": add_preserved_filters(
                {"preserved_filters": self.get_preserved_filters(request), "opts": self.opts},
                reverse("admin:appeals_appeal_changelist"),
            ),
        }
        return TemplateResponse(request, "backoffice/appeal_case.html", context)

    # --- Files -------------------------------------------------------------------------

    def file_view(self, request: HttpRequest, attachment_id: int) -> FileResponse:
        """A file of a case, as a download under the name it was stored with."""
        if not any(request.user.has_perm(permission) for permission in FILE_PERMISSIONS):
            raise PermissionDenied
        try:
            attachment = attachment_for_operator(attachment_id=attachment_id)
        except AttachmentNotFound:
            raise Http404(gettext("Файл не найден")) from None
        try:
            handle = attachment_open(attachment)
        except AttachmentNotFound:
            raise Http404(gettext("Файла нет в хранилище")) from None
        response = FileResponse(handle, as_attachment=True, filename=attachment.name, content_type=attachment.mime)
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


# --- Answer templates and terms ----------------------------------------------------------


@admin.register(AnswerTemplate)
class AnswerTemplateAdmin(admin.ModelAdmin):
    list_display = ["title", "supplier_column", "category_column", "is_active"]
    list_filter = ["supplier", "category", "is_active"]
    empty_value_display = _("все поставщики")
    search_fields = ["title", "text"]
    list_select_related = ["supplier"]
    fields = ["title", "supplier", "category", "text", "is_active"]

    @admin.display(description=_("поставщик"), ordering="supplier__short_name")
    def supplier_column(self, obj: AnswerTemplate) -> str:
        return obj.supplier.short_name if obj.supplier else gettext("все")

    @admin.display(description=_("тема"), ordering="category")
    def category_column(self, obj: AnswerTemplate) -> str:
        return obj.get_category_display() if obj.category else gettext("любая")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["help_texts"] = {
            "supplier": gettext("Пусто — шаблон для всех поставщиков"),
            "category": gettext("Пусто — для обращений на любую тему"),
            "text": gettext("Оператор вставляет текст в ответ и правит его перед отправкой"),
            "is_active": gettext("Снятый шаблон не предлагается операторам, но остаётся в списке"),
        }
        return super().get_form(request, obj, change, **kwargs)


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(admin.ModelAdmin):
    list_display = ["category", "stage", "supplier_column", "working_days"]
    list_filter = ["supplier", "category"]
    empty_value_display = _("все поставщики")
    list_select_related = ["supplier"]
    fields = ["category", "stage", "supplier", "working_days"]
    change_list_template = "backoffice/appeal_deadlinerule_change_list.html"

    @admin.display(description=_("поставщик"), ordering="supplier__short_name")
    def supplier_column(self, obj: DeadlineRule) -> str:
        return obj.supplier.short_name if obj.supplier else gettext("все")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["help_texts"] = {
            "supplier": gettext("Пусто — для всех поставщиков; правило поставщика важнее общего"),
            "stage": gettext(
                "С какого состояния идёт срок: «принято» — срок ответа (у заявки на подключение — проверки); "
                "«заявка проверена» — срок направления договора"
            ),
            "working_days": gettext(
                "Рабочие дни по производственному календарю, от 1 до 60. Новый срок действует для новых "
                "обращений и этапов; у уже идущих срок не меняется"
            ),
        }
        return super().get_form(request, obj, change, **kwargs)

    def formfield_for_choice_field(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        """A term starts only in the statuses the defaults name (the answer's, the check's,
        the contract's)."""
        if db_field.name == "stage":
            stages = {stage for _category, stage in policy.DEFAULT_TERMS}
            kwargs["choices"] = [(status.value, status.label) for status in Status if status in stages]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        context = {
            "default_terms": [
                {"category": Category(category).label, "stage": Status(stage).label, "days": days}
                for (category, stage), days in policy.DEFAULT_TERMS.items()
            ],
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)
