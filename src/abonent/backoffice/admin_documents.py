"""The back office for bills (ЕПД).

- Bill runs, read-only, with their results: accounts with a bill, bills drawn, bills that
  were current already, the size of the files; a run that goes on shows how many of its
  parts are done. «Сформировать квитанции» (a supplier and a period) sends a run to the
  background jobs through ``bills_run_task``; in the embedded default it runs at once, in
  this process, and what the service refuses is shown next to the field.
- Bills, read-only: found by an account number however it is written, filtered by period
  and supplier; «Скачать» gives the stored file, as the subscriber was given it.

Who may do what: viewing needs ``view_billrun`` and ``view_bill``, downloading a bill
``view_bill``, starting a run ``add_billrun`` (see ``identity/roles.py``). Runs and bills are
written by the services only; a superuser may delete a run that has ended.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.backoffice.admin_billing import (
    PeriodListFilter,
    ReadOnlyAdmin,
    _account_search,
    _operator,
    day,
    moment,
    rubles,
)
from abonent.billing.enums import RunStatus
from abonent.core import clock
from abonent.core.errors import DomainError
from abonent.core.jobs import job_enqueue
from abonent.core.models import Supplier
from abonent.core.money import format_number
from abonent.core.periods import Period, PeriodFormatError
from abonent.core.selectors import suppliers_active
from abonent.documents.models import Bill, BillChunk, BillRun
from abonent.documents.tasks import bills_run_task

logger = logging.getLogger(__name__)

#: Starting a bulk run of a supplier's bills.
GENERATE_PERMISSION = "documents.add_billrun"


def file_size(size: int | None) -> str:
    """«48 КБ» below a megabyte, «12,3 МБ» from one."""
    if size is None:
        return "—"
    if size < 1024 * 1024:
        return gettext("%(size)s КБ") % {"size": format_number(round(size / 1024))}
    megabytes = (Decimal(size) / 1024 / 1024).quantize(Decimal("0.1"))
    return gettext("%(size)s МБ") % {"size": format_number(megabytes)}


def _count(summary: dict[str, Any], key: str) -> str:
    return format_number(int(summary[key])) if key in summary else "—"


# --- Bill runs --------------------------------------------------------------------------


class BillRunForm(forms.Form):
    supplier = forms.ModelChoiceField(
        label=_("Поставщик"),
        queryset=Supplier.objects.none(),  # set in __init__: the active suppliers
        error_messages={"required": _("Выберите поставщика")},
    )
    period = forms.CharField(
        label=_("Период"),
        max_length=7,
        help_text=_(
            "Месяц квитанций: 2026-10 или 10.2026. Квитанции получат лицевые счета, у которых в этом месяце "
            "были начисления или движения; уже сформированные и не изменившиеся не формируются заново"
        ),
        error_messages={"required": _("Укажите период, например 2026-10")},
        widget=forms.TextInput(attrs={"size": 8, "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["supplier"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = suppliers_active()

    def clean_period(self) -> Period:
        try:
            return Period.parse(self.cleaned_data["period"])
        except PeriodFormatError:
            raise forms.ValidationError(gettext("Период — месяц и год: 2026-10 или 10.2026")) from None


@admin.register(BillRun)
class BillRunAdmin(ReadOnlyAdmin):
    list_display = ["pk", "supplier", "period_column", "status", "started_column", "finished_column",
                    "accounts_column", "drawn_column", "current_column", "size_column"]  # fmt: skip
    list_display_links = ["pk", "period_column"]
    list_filter = ["supplier", "status", PeriodListFilter]
    list_select_related = ["supplier"]
    ordering = ["-started_at", "-pk"]
    show_full_result_count = False
    change_list_template = "backoffice/billrun_change_list.html"
    readonly_fields = ("supplier", "period_column", "status", "started_column", "finished_column", "progress_column",
                       "channel", "started_by", "summary_display", "error", "bills_link")  # fmt: skip
    fields = readonly_fields

    @admin.display(description=_("период"), ordering="period")
    def period_column(self, obj: BillRun) -> str:
        return obj.period.label()

    @admin.display(description=_("начат"), ordering="started_at")
    def started_column(self, obj: BillRun) -> str:
        return moment(obj.started_at)

    @admin.display(description=_("закончен"), ordering="finished_at")
    def finished_column(self, obj: BillRun) -> str:
        return moment(obj.finished_at)

    @admin.display(description=_("лицевых счетов"))
    def accounts_column(self, obj: BillRun) -> str:
        return _count(obj.summary, "accounts")

    @admin.display(description=_("сформировано"))
    def drawn_column(self, obj: BillRun) -> str:
        return _count(obj.summary, "drawn")

    @admin.display(description=_("уже были актуальны"))
    def current_column(self, obj: BillRun) -> str:
        return _count(obj.summary, "current")

    @admin.display(description=_("объём файлов"))
    def size_column(self, obj: BillRun) -> str:
        return file_size(int(obj.summary["bytes"])) if "bytes" in obj.summary else "—"

    @admin.display(description=_("частей готово"))
    def progress_column(self, obj: BillRun) -> str:
        done = BillChunk.objects.filter(run=obj, done_at__isnull=False).count()
        return gettext("%(done)s из %(total)s") % {"done": format_number(done), "total": format_number(obj.chunks)}

    @admin.display(description=_("итоги"))
    def summary_display(self, obj: BillRun) -> SafeString | str:
        if not obj.summary:
            return gettext("Формирование ещё идёт") if obj.status == RunStatus.RUNNING else "—"
        lines = [
            (gettext("Лицевых счетов с квитанцией"), _count(obj.summary, "accounts")),
            (gettext("Сформировано"), _count(obj.summary, "drawn")),
            (gettext("Уже были актуальны"), _count(obj.summary, "current")),
            (gettext("Объём файлов"), self.size_column(obj)),
        ]
        rows = format_html_join("", "<tr><th scope='row'>{}</th><td>{}</td></tr>", lines)
        return format_html("<table><tbody>{}</tbody></table>", rows)

    @admin.display(description=_("квитанции"))
    def bills_link(self, obj: BillRun) -> SafeString:
        url = f"{reverse('admin:documents_bill_changelist')}?{urlencode({'run__id__exact': obj.pk})}"
        return format_html('<a href="{}">{}</a>', url, gettext("Квитанции, сформированные этим запуском"))

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """A superuser clears away runs that have ended; a run that goes on is never deleted."""
        if not request.user.is_superuser:
            return False
        return not (isinstance(obj, BillRun) and obj.status == RunStatus.RUNNING)

    # --- «Сформировать квитанции» ---------------------------------------------------------

    def has_generate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(GENERATE_PERMISSION)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        context = {"can_generate": self.has_generate_permission(request), **(extra_context or {})}
        return super().changelist_view(request, context)

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path("generate/", self.admin_site.admin_view(self.generate_view), name="documents_billrun_generate"),
            *super().get_urls(),
        ]

    def generate_view(self, request: HttpRequest) -> HttpResponse:
        """A bulk run of a supplier's period, sent to the background jobs (``bills_run_task``).
        Only a POST starts anything; a refusal of the service (the period not covered, a run
        that goes on) is shown next to the period."""
        if not self.has_generate_permission(request):
            raise PermissionDenied
        initial = {"period": str(Period.of(timezone.localdate(clock.now())).previous())}
        form = BillRunForm(request.POST if request.method == "POST" else None, initial=initial)
        if form.is_bound and form.is_valid():
            supplier = form.cleaned_data["supplier"]
            period: Period = form.cleaned_data["period"]
            values = {"period": period.label(), "supplier": supplier.short_name}
            back = reverse("admin:documents_billrun_changelist")
            try:
                job_enqueue(
                    bills_run_task,
                    supplier_code=supplier.code,
                    period=str(period),
                    actor_id=_operator(request).pk,
                    channel="backoffice",
                )
            except DomainError as exc:
                form.add_error("period", exc.text)
            except Exception as exc:  # the run is marked failed with its error; the list shows it
                logger.exception("bill run of %s %s not done", supplier.code, period)
                error = f"{type(exc).__name__}: {exc}"
                text = gettext("Квитанции за %(period)s (%(supplier)s) не сформированы: %(error)s")
                messages.error(request, text % {**values, "error": error})
                return HttpResponseRedirect(back)
            else:
                if bills_run_task.app.conf.task_always_eager:
                    text = gettext("Квитанции за %(period)s (%(supplier)s) сформированы: итоги — в списке.")
                else:
                    text = gettext(
                        "Формирование квитанций за %(period)s (%(supplier)s) отправлено исполнителям фоновых "
                        "задач: ход и итоги — в списке."
                    )
                messages.success(request, text % values)
                return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Сформировать квитанции"),
            "opts": self.opts,
            "form": form,
        }
        return TemplateResponse(request, "backoffice/billrun_generate.html", context)


# --- Bills ------------------------------------------------------------------------------


class RecentPeriodFilter(PeriodListFilter):
    """The period of a bill: this month and the 24 before it, with no query (the distinct
    periods of millions of bills would be read from the whole index on every page)."""

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        this_month = Period.of(timezone.localdate(clock.now()))
        return [(str(period), period.label()) for period in (this_month - back for back in range(25))]


@admin.register(Bill)
class BillAdmin(ReadOnlyAdmin):
    list_display = ["account", "supplier_column", "period_column", "amount_column", "due_column", "size_column",
                    "rendered_column", "download_link"]  # fmt: skip
    list_filter = [RecentPeriodFilter, "account__supplier"]
    list_select_related = ["account", "account__supplier"]
    search_fields = ["=account__number"]
    search_help_text = _("Номер лицевого счёта (12 цифр)")
    ordering = ["-period", "-account"]  # the index on (period, account), read backwards
    show_full_result_count = False
    readonly_fields = ("account", "period_column", "amount_column", "due_column", "size_column", "rendered_column",
                       "run", "file", "sha256", "fingerprint", "download_link")  # fmt: skip
    fields = readonly_fields

    @admin.display(description=_("поставщик"), ordering="account__supplier")
    def supplier_column(self, obj: Bill) -> str:
        return obj.account.supplier.short_name

    @admin.display(description=_("период"), ordering="period")
    def period_column(self, obj: Bill) -> str:
        return obj.period.label()

    @admin.display(description=_("к оплате"), ordering="amount_due")
    def amount_column(self, obj: Bill) -> str:
        return rubles(obj.amount_due)

    @admin.display(description=_("оплатить до"), ordering="due_on")
    def due_column(self, obj: Bill) -> str:
        return day(obj.due_on)

    @admin.display(description=_("размер"), ordering="size")
    def size_column(self, obj: Bill) -> str:
        return file_size(obj.size)

    @admin.display(description=_("сформирована"), ordering="rendered_at")
    def rendered_column(self, obj: Bill) -> str:
        return moment(obj.rendered_at)

    @admin.display(description=_("файл"))
    def download_link(self, obj: Bill) -> SafeString:
        url = reverse("admin:documents_bill_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Скачать"))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Bill], search_term: str
    ) -> tuple[QuerySet[Bill], bool]:
        """An account number however it is written («77 0000 000001»)."""
        if not search_term.strip():
            return queryset, False
        found = _account_search(queryset, search_term, "account__number")
        return (found if found is not None else queryset.none()), False

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "<int:bill_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="documents_bill_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request: HttpRequest, bill_id: int) -> FileResponse:
        """The stored file of the bill, as a download."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        bill = Bill.objects.select_related("account").filter(pk=bill_id).first()
        if bill is None:
            raise Http404
        try:
            handle = default_storage.open(bill.file, "rb")
        except FileNotFoundError:
            raise Http404(gettext("Файла квитанции нет в хранилище: сформируйте её снова")) from None
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"kvitanciya-{bill.account.number}-{bill.period}.pdf",
            content_type="application/pdf",
        )
