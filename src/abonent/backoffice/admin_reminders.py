"""The back office for reminders and announcements.

- Announcements: a draft is written through ``announcement_create`` (the generic forms
  never save one) and changed through ``announcement_update`` while it is a draft; its page
  says how many subscribers it reaches, and «Разослать» (a confirmation, then a POST) sends
  it through ``announcement_send``: marked at once, so a second press sends nothing, and
  delivered by a job. A sent announcement is read-only, with its results.
- The day's reminder runs, read-only, with what each told per kind; «Разослать напоминания
  сейчас» runs today's reminders of a supplier at once (outside the sending hours too),
  through the job that calls ``reminders_run``.

Who may do what (see ``identity/roles.py``): every operator sees both; senior operators
write and send announcements (``add_announcement``, ``change_announcement``) and, as those
who may write to all of a supplier's subscribers, run the day's reminders now.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.backoffice.admin_billing import _operator, day, moment
from abonent.backoffice.admin_notifications import ReadOnlyList, TitledList, kind_label, user_short
from abonent.core import clock
from abonent.core.errors import DomainError, ValidationFailed
from abonent.core.jobs import job_enqueue
from abonent.core.models import Supplier
from abonent.core.money import format_number
from abonent.core.selectors import supplier_local_date, suppliers_active
from abonent.notifications.enums import Channel
from abonent.reminders.enums import AnnouncementStatus, RunStatus
from abonent.reminders.models import Announcement, ReminderRun
from abonent.reminders.selectors import announcement_audience
from abonent.reminders.services import (
    TEXT_LIMIT,
    TITLE_LIMIT,
    AnnouncementNotFound,
    announcement_create,
    announcement_send,
    announcement_update,
)
from abonent.reminders.tasks import reminders_run_now

logger = logging.getLogger(__name__)

#: Running the day's reminders of a supplier now: the senior operators' permission to write
#: to all of a supplier's subscribers.
RUN_PERMISSION = "reminders.add_announcement"
#: Where the audit log says a sending came from.
CHANNEL = "backoffice"
_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.PUSH)


def told_line(told: dict[str, Any]) -> str:
    """«уведомлено 12, уже были уведомлены 1; e-mail 8, SMS 0, push 3»."""
    text = gettext("уведомлено %(notified)s") % {"notified": format_number(int(told.get("notified", 0)))}
    repeated = int(told.get("repeated", 0))
    if repeated:
        text += ", " + gettext("уже были уведомлены %(count)s") % {"count": format_number(repeated)}
    sent = [f"{Channel(c).label} {format_number(int(told[c]))}" for c in _CHANNELS if told.get(c)]
    return f"{text}; {', '.join(sent)}" if sent else text


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """A run's results, a line per kind: «Новая квитанция: уведомлено 12; e-mail 8, push 3»."""
    return [f"{capfirst(kind_label(kind))}: {told_line(told)}" for kind, told in summary.items()]


# --- Announcements --------------------------------------------------------------------------


class AnnouncementForm(forms.Form):
    """What an operator writes. The fields are not checked here: the service's messages
    are shown next to them, and nothing is written when it refuses."""

    supplier = forms.ModelChoiceField(
        label=_("Поставщик"),
        queryset=Supplier.objects.none(),  # set in __init__
        error_messages={"required": _("Выберите поставщика")},
        help_text=_("Объявление получат абоненты, привязавшие лицевой счёт этого поставщика"),
    )
    locality = forms.CharField(
        label=_("Населённый пункт"),
        required=False,
        widget=forms.TextInput(attrs={"size": 40, "maxlength": 150}),
        help_text=_("Пусто — все абоненты поставщика; название как в адресе лицевого счёта, например «г. Тула»"),
    )
    street = forms.CharField(
        label=_("Улица"),
        required=False,
        widget=forms.TextInput(attrs={"size": 40, "maxlength": 150}),
        help_text=_("Пусто — весь населённый пункт; как в адресе, например «ул. Ленина»"),
    )
    title = forms.CharField(
        label=_("Заголовок"),
        required=False,
        widget=forms.TextInput(attrs={"size": 60, "maxlength": TITLE_LIMIT}),
        help_text=_("До %(limit)s символов: его видно в push-уведомлении и в SMS") % {"limit": TITLE_LIMIT},
    )
    text = forms.CharField(
        label=_("Текст"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80, "maxlength": TEXT_LIMIT}),
        help_text=_("До %(limit)s символов") % {"limit": TEXT_LIMIT},
    )
    safety = forms.BooleanField(
        label=_("Сообщение о безопасности"),
        required=False,
        help_text=_(
            "Только об угрозе жизни и имуществу (утечка газа, авария): придёт всем по всем каналам, даже "
            "отключённым абонентом, и в любое время суток. Плановые работы — обычное объявление: оно "
            "учитывает настройки абонентов, а SMS и push ждут утра"
        ),
    )

    def __init__(self, *args: Any, with_supplier: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if with_supplier:
            field = self.fields["supplier"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = suppliers_active()
        else:
            del self.fields["supplier"]

    def add_service_errors(self, exc: ValidationFailed) -> None:
        for field, errors in exc.errors.items():
            for error in errors:
                self.add_error(field if field in self.fields else None, error)


def area_of(announcement: Announcement) -> str:
    if announcement.street:
        return f"{announcement.locality}, {announcement.street}"
    return announcement.locality or gettext("все абоненты поставщика")


@admin.register(Announcement)
class AnnouncementAdmin(TitledList):
    list_display = ["title", "supplier", "area_column", "safety", "status", "created_column", "author_column",
                    "sent_column", "told_column"]  # fmt: skip
    list_display_links = ["title"]
    list_filter = ["status", "safety", "supplier"]
    search_fields = ["title"]
    list_select_related = ["supplier", "created_by"]
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description=_("кому"))
    def area_column(self, obj: Announcement) -> str:
        return area_of(obj)

    @admin.display(description=_("создано"), ordering="created_at")
    def created_column(self, obj: Announcement) -> str:
        return moment(obj.created_at)

    @admin.display(description=_("автор"))
    def author_column(self, obj: Announcement) -> str:
        return user_short(obj.created_by)

    @admin.display(description=_("разослано"), ordering="sent_at")
    def sent_column(self, obj: Announcement) -> str:
        return moment(obj.sent_at)

    @admin.display(description=_("итоги"))
    def told_column(self, obj: Announcement) -> str:
        return told_line(obj.summary) if obj.summary else "—"

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path("<int:pk>/send/", self.admin_site.admin_view(self.send_view), name="reminders_announcement_send"),
            *super().get_urls(),
        ]

    # --- A new draft ---------------------------------------------------------------------

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        """A draft through ``announcement_create``; its page follows, with the audience."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = AnnouncementForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                announcement = announcement_create(
                    supplier=data["supplier"],
                    title=data["title"],
                    text=data["text"],
                    locality=data["locality"],
                    street=data["street"],
                    safety=data["safety"],
                    actor=_operator(request),
                    now=clock.now(),
                )
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            else:
                messages.success(
                    request, gettext("Черновик сохранён. Проверьте, кому он придёт, и нажмите «Разослать».")
                )
                return HttpResponseRedirect(reverse("admin:reminders_announcement_change", args=[announcement.pk]))
        return self._page(request, None, form, title=gettext("Новое объявление"))

    # --- The announcement's page ---------------------------------------------------------

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """The announcement: its audience and results; a draft is changed here (through
        ``announcement_update``) by those who may send it."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        announcement = self._announcement(object_id)
        can_change = self.has_change_permission(request, announcement)
        draft = announcement.status == AnnouncementStatus.DRAFT
        if request.method == "POST" and not can_change:
            raise PermissionDenied
        if request.method == "POST" and not draft:
            messages.error(request, gettext("Объявление уже разослано: разосланное не меняется"))
            return HttpResponseRedirect(request.path)
        form = None
        if can_change and draft:
            initial = {name: getattr(announcement, name) for name in ("locality", "street", "title", "text", "safety")}
            form = AnnouncementForm(request.POST if request.method == "POST" else None, initial=initial,
                                    with_supplier=False)  # fmt: skip
            if form.is_bound and form.is_valid():
                try:
                    announcement_update(announcement_id=announcement.pk, **form.cleaned_data)
                except ValidationFailed as exc:
                    form.add_service_errors(exc)
                except DomainError as exc:  # sent by someone else meanwhile
                    messages.error(request, exc.text)
                    return HttpResponseRedirect(request.path)
                else:
                    messages.success(request, gettext("Черновик сохранён."))
                    return HttpResponseRedirect(request.path)
        return self._page(request, announcement, form, title=announcement.title)

    def _announcement(self, object_id: str) -> Announcement:
        try:
            pk = int(unquote(object_id))
        except ValueError:
            raise Http404(gettext("Объявление не найдено")) from None
        announcement = Announcement.objects.select_related("supplier", "created_by", "sent_by").filter(pk=pk).first()
        if announcement is None:
            raise Http404(gettext("Объявление не найдено"))
        return announcement

    def _page(
        self, request: HttpRequest, announcement: Announcement | None, form: AnnouncementForm | None, *, title: str
    ) -> HttpResponse:
        audience = None
        if announcement is not None and announcement.status != AnnouncementStatus.SENT:
            audience = announcement_audience(announcement=announcement).count()
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "announcement": announcement,
            "form": form,
            "area": area_of(announcement) if announcement else "",
            "audience": audience,
            "told": told_line(announcement.summary) if announcement and announcement.summary else "",
            "author": user_short(announcement.created_by) if announcement else "",
            "sender": user_short(announcement.sent_by) if announcement and announcement.sent_by else "",
            "can_send": (
                announcement is not None
                and announcement.status == AnnouncementStatus.DRAFT
                and self.has_change_permission(request, announcement)
            ),
        }
        if announcement is not None:
            context.update(
                created=moment(announcement.created_at),
                sent=moment(announcement.sent_at),
                finished=moment(announcement.finished_at),
            )
        return TemplateResponse(request, "backoffice/announcement.html", context)

    # --- «Разослать» ----------------------------------------------------------------------

    def send_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Ask again, with the audience; a POST sends through ``announcement_send``."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        announcement = self._announcement(str(pk))
        back = reverse("admin:reminders_announcement_change", args=[pk])
        if announcement.status != AnnouncementStatus.DRAFT:
            messages.error(request, gettext("Объявление уже разослано"))
            return HttpResponseRedirect(back)
        if request.method == "POST":
            try:
                sent = announcement_send(announcement_id=pk, actor=_operator(request), now=clock.now(), channel=CHANNEL)
            except ValidationFailed as exc:
                problems = [error for errors in exc.errors.values() for error in errors]
                messages.error(request, gettext("Не разослано: %(problems)s") % {"problems": "; ".join(problems)})
            except AnnouncementNotFound:
                raise Http404(gettext("Объявление не найдено")) from None
            except DomainError as exc:  # sent by someone else a moment ago
                messages.error(request, exc.text)
            else:
                sent.refresh_from_db()
                if sent.status == AnnouncementStatus.SENT:
                    text = gettext("Объявление разослано: %(told)s.") % {"told": told_line(sent.summary)}
                else:
                    text = gettext("Объявление отправлено в рассылку: итоги появятся на этой странице.")
                messages.success(request, text)
            return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Разослать объявление?"),
            "opts": self.opts,
            "announcement": announcement,
            "area": area_of(announcement),
            "audience": announcement_audience(announcement=announcement).count(),
            "back_url": back,
        }
        return TemplateResponse(request, "backoffice/announcement_send.html", context)


# --- The day's reminders --------------------------------------------------------------------


class RunForm(forms.Form):
    supplier = forms.ModelChoiceField(
        label=_("Поставщик"),
        queryset=Supplier.objects.none(),  # set in __init__
        error_messages={"required": _("Выберите поставщика")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["supplier"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = suppliers_active()


@admin.register(ReminderRun)
class ReminderRunAdmin(ReadOnlyList):
    list_display = ["day_column", "supplier", "status", "finished_column", "summary_column", "error_column"]
    list_display_links = ["day_column"]
    list_filter = ["status", "supplier"]
    list_select_related = ["supplier"]
    ordering = ["-day", "supplier__short_name"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    change_list_template = "backoffice/reminderrun_change_list.html"
    readonly_fields = ("supplier", "day_column", "status", "started_column", "finished_column", "summary_column",
                       "error")  # fmt: skip
    fields = readonly_fields

    @admin.display(description=_("день"), ordering="day")
    def day_column(self, obj: ReminderRun) -> str:
        return day(obj.day)

    @admin.display(description=_("начат"), ordering="started_at")
    def started_column(self, obj: ReminderRun) -> str:
        return moment(obj.started_at)

    @admin.display(description=_("закончен"), ordering="finished_at")
    def finished_column(self, obj: ReminderRun) -> str:
        return moment(obj.finished_at)

    @admin.display(description=_("итоги"))
    def summary_column(self, obj: ReminderRun) -> SafeString | str:
        lines = summary_lines(obj.summary or {})
        if not lines:
            return gettext("Напоминать было не о чем") if obj.status == RunStatus.DONE else "—"
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))

    @admin.display(description=_("ошибка"))
    def error_column(self, obj: ReminderRun) -> str:
        return Truncator(obj.error).chars(120) if obj.error else ""

    # --- «Разослать напоминания сейчас» ----------------------------------------------------

    def has_run_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RUN_PERMISSION)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        context = {"can_run": self.has_run_permission(request), **(extra_context or {})}
        return super().changelist_view(request, context)

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path("run/", self.admin_site.admin_view(self.run_view), name="reminders_reminderrun_run"),
            *super().get_urls(),
        ]

    def run_view(self, request: HttpRequest) -> HttpResponse:
        """Today's reminders of a supplier, now (outside the sending hours too): the job
        that calls ``reminders_run``. Only a POST starts anything; a day already done is
        not run again."""
        if not self.has_run_permission(request):
            raise PermissionDenied
        form = RunForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            supplier = form.cleaned_data["supplier"]
            now = clock.now()
            today = supplier_local_date(supplier=supplier, now=now)
            values = {"supplier": supplier.short_name, "day": day(today)}
            back = reverse("admin:reminders_reminderrun_changelist")
            earlier = ReminderRun.objects.filter(supplier=supplier, day=today).first()
            if earlier is not None and earlier.status == RunStatus.DONE:
                text = gettext(
                    "Напоминания «%(supplier)s» за %(day)s уже разосланы в %(at)s: каждое напоминание уходит "
                    "один раз в день."
                )
                messages.info(request, text % {**values, "at": moment(earlier.finished_at)})
                return HttpResponseRedirect(back)
            try:
                job_enqueue(reminders_run_now, supplier_code=supplier.code)
            except Exception as exc:  # the run is marked failed with its error; the list shows it
                logger.exception("reminders of %s not run", supplier.code)
                text = gettext("Напоминания «%(supplier)s» за %(day)s не разосланы: %(error)s")
                messages.error(request, text % {**values, "error": f"{type(exc).__name__}: {exc}"})
                return HttpResponseRedirect(back)
            messages.success(request, self._outcome(supplier, today, values))
            return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Разослать напоминания сейчас"),
            "opts": self.opts,
            "form": form,
        }
        return TemplateResponse(request, "backoffice/reminderrun_run.html", context)

    @staticmethod
    def _outcome(supplier: Supplier, today: dt.date, values: dict[str, str]) -> str:
        if not reminders_run_now.app.conf.task_always_eager:
            text = gettext(
                "Напоминания «%(supplier)s» за %(day)s отправлены исполнителям фоновых задач: итоги — в списке."
            )
            return text % values
        run = ReminderRun.objects.filter(supplier=supplier, day=today).first()
        if run is not None and run.status == RunStatus.DONE:
            lines = summary_lines(run.summary or {})
            told = "; ".join(lines) if lines else gettext("Напоминать было не о чем")
            return gettext("Напоминания «%(supplier)s» за %(day)s разосланы. %(told)s.") % {**values, "told": told}
        return (
            gettext("Напоминания «%(supplier)s» за %(day)s рассылаются в другом процессе: итоги — в списке.") % values
        )
