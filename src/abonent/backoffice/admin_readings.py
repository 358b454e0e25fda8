"""The back office for meters and readings.

- The list of readings, read-only: a reading is recorded, accepted or rejected only through
  the metering services, never through the generic admin forms.
- «Показания на проверку»: the readings that look wrong (far above the meter's average, a
  drop, zero for months) and wait for an operator, each with the meter's readings before it;
  the operator accepts one or rejects it with a reason the subscriber sees.
- «Ввести показание» on a meter's page: a reading an operator takes from a subscriber.
- «Загрузить показания из файла»: a CSV file checked first (a dry run), then applied whole
  or by its valid lines, with a report per line.

Who may do what: viewing needs ``view_reading``; the review, ``change_reading``; entering
and importing, ``add_reading`` (see ``identity/roles.py``).
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.core.paginator import Paginator
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import Window
from django.db.models.functions import RowNumber
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from abonent.backoffice.admin_accounts import client_ip
from abonent.core import clock
from abonent.core.errors import DomainError
from abonent.core.models import Supplier
from abonent.core.money import format_number
from abonent.core.periods import Period, PeriodFormatError
from abonent.core.selectors import supplier_local_date
from abonent.customers.services import account_number_normalize
from abonent.identity.models import User
from abonent.metering.enums import ReadingStatus, ReviewReason
from abonent.metering.models import STANDING, Meter, Reading
from abonent.metering.selectors import readings_to_review
from abonent.metering.services import (
    IMPORT_MAX_BYTES,
    REASON_MAX_LENGTH,
    REASON_MIN_LENGTH,
    ImportFileInvalid,
    ImportLine,
    ImportMode,
    ImportReport,
    LineOutcome,
    Recorded,
    reading_enter_by_operator,
    reading_reject,
    reading_review_confirm,
    readings_import,
)

#: Accepting a flagged reading or rejecting one with a reason.
REVIEW_PERMISSION = "metering.change_reading"
#: Entering a reading on a subscriber's behalf.
ENTER_PERMISSION = "metering.add_reading"
#: Importing a file records readings as entering them does. A permission of its own
#: («import_reading») would be declared on the Reading model; until then, the same one.
IMPORT_PERMISSION = "metering.add_reading"

#: How many of the meter's readings before the one looked at the review shows.
PREVIOUS_SHOWN = 4
#: How many standing readings of each meter are fetched to find those before a flagged one.
PREVIOUS_FETCHED = 12
#: How many readings the meter's page and the entry page list.
METER_READINGS_SHOWN = 12
REVIEW_PAGE_SIZE = 50
#: How many lines of an import's report the page shows (errors first).
REPORT_ROWS_SHOWN = 1000
SAMPLE_HEADER = "supplier;account;serial;value;date"
SAMPLE_FILE_NAME = "readings-sample.csv"
_EXCEL_SUFFIXES = (".xlsx", ".xls", ".xlsm", ".ods")


# --- Showing values -------------------------------------------------------------------


def m3(value: Decimal | None) -> str:
    """A volume the Russian way, without trailing zeros: «1 234,5»; «—» when there is none."""
    return "—" if value is None else format_number(value)


def review_display(reading: Reading) -> str:
    """Why the reading was flagged and whether an operator has decided: «расход намного выше
    среднего — ждёт решения»; empty for a reading that was not flagged."""
    if not reading.review:
        return ""
    reason = str(ReviewReason(reading.review).label)
    if reading.reviewed_at is not None:
        day = timezone.localtime(reading.reviewed_at).strftime("%d.%m.%Y")
        return gettext("%(reason)s — проверено %(day)s") % {"reason": reason, "day": day}
    if reading.status in STANDING:
        return gettext("%(reason)s — ждёт решения") % {"reason": reason}
    return reason


def reading_summary(reading: Reading) -> str:
    """«№ 0412345, ноябрь 2026: 1 300,5 м³» — the meter, the period and the value."""
    return gettext("№ %(serial)s, %(period)s: %(value)s м³") % {
        "serial": reading.meter.serial,
        "period": reading.period.label(),
        "value": m3(reading.value),
    }


def safe_next(request: HttpRequest, default: str) -> str:
    """Where to go back to after an action: the page it was started from, if it is ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _operator(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


# --- Filters of the list of readings --------------------------------------------------


class ReviewFilter(admin.SimpleListFilter):
    """«Требует проверки»: readings flagged and not decided yet (as in the review queue),
    flagged and decided, or flagged for a given reason."""

    title = _("требует проверки")
    parameter_name = "review_state"

    PENDING = "pending"
    DECIDED = "decided"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        return [
            (self.PENDING, gettext("ждёт решения оператора")),
            (self.DECIDED, gettext("проверено оператором")),
            *(
                (str(value), gettext("отмечено: %(reason)s") % {"reason": label})
                for value, label in ReviewReason.choices
            ),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == self.PENDING:
            return queryset & readings_to_review()
        if value == self.DECIDED:
            return queryset.exclude(review="").exclude(reviewed_at=None)
        if value in ReviewReason.values:
            return queryset.filter(review=value)
        if value:
            raise IncorrectLookupParameters(value)
        return queryset


class PeriodFilter(admin.SimpleListFilter):
    """The billing period: next month, this month and the year before it (listed from the
    calendar, not looked up in the readings, which would read all of them)."""

    title = _("расчётный период")
    parameter_name = "period"
    MONTHS_BACK = 12

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        this_month = Period.of(timezone.localdate(clock.now()))
        periods = [this_month.next(), *(this_month - back for back in range(self.MONTHS_BACK + 1))]
        return [(str(period), period.label()) for period in periods]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        try:
            return queryset.filter(period=Period.parse(value))
        except PeriodFormatError:
            raise IncorrectLookupParameters(value) from None


# --- Readings -------------------------------------------------------------------------


@dataclass(frozen=True)
class EarlierReading:
    """A reading of the meter before the one looked at, as the review shows it."""

    period: str
    value: str
    consumption: str


@dataclass(frozen=True)
class ReviewRow:
    """A reading waiting for an operator, with what is needed to judge it."""

    reading: Reading
    value: str
    consumption: str
    reason: str
    previous: list[EarlierReading]
    reading_url: str
    account_url: str
    meter_url: str
    confirm_url: str
    reject_url: str


@dataclass(frozen=True)
class MeterReadingRow:
    """A reading in the list of a meter's latest readings."""

    reading: Reading
    value: str
    consumption: str
    review: str
    url: str


@dataclass(frozen=True)
class ReportRow:
    number: int
    outcome: str
    text: str
    is_error: bool
    url: str | None


@dataclass(frozen=True)
class ReportView:
    """An import's report as the page shows it."""

    file_name: str
    mode: str
    dry_run: bool
    applied: bool
    total: int
    recorded: int
    unchanged: int
    errors: int
    verdict: str
    level: str  # "success" | "warning" | "error": the class of the verdict's message
    rows: list[ReportRow]
    hidden: int


def earlier_readings(readings: list[Reading], *, shown: int = PREVIOUS_SHOWN) -> dict[int, list[Reading]]:
    """For each reading, the standing readings of its meter for the periods before it,
    newest first, at most ``shown`` — in one query for all of them."""
    if not readings:
        return {}
    latest: dict[int, Period] = {}
    for reading in readings:
        if reading.meter_id not in latest or latest[reading.meter_id] < reading.period:
            latest[reading.meter_id] = reading.period
    before = Q()
    for meter_id, period in latest.items():
        before |= Q(meter_id=meter_id, period__lt=period)
    ranked = (
        Reading.objects.filter(before, status__in=STANDING)
        .annotate(rank=Window(RowNumber(), partition_by=[F("meter_id")], order_by=F("period").desc()))
        .filter(rank__lte=PREVIOUS_FETCHED)
        .order_by("meter_id", "-period")
    )
    by_meter: dict[int, list[Reading]] = defaultdict(list)
    for earlier in ranked:
        by_meter[earlier.meter_id].append(earlier)
    return {
        reading.pk: [e for e in by_meter[reading.meter_id] if e.period < reading.period][:shown] for reading in readings
    }


def _earlier_rows(readings: list[Reading]) -> list[EarlierReading]:
    return [EarlierReading(r.period.label(), m3(r.value), m3(r.consumption)) for r in readings]


class RejectForm(forms.Form):
    # Not required here: a reason that is too short gets the service's own message, next to the field.
    reason = forms.CharField(
        label=_("Причина отклонения"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        help_text=_(
            "Абонент увидит её в истории показаний счётчика. Например: «Контролёр 19.11.2026 снял показание 1041 м³»"
        ),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60, "required": True, "minlength": REASON_MIN_LENGTH}),
    )


MODES = [
    (ImportMode.WHOLE.value, _("Весь файл — только если все строки верны")),
    (ImportMode.VALID_LINES.value, _("Верные строки, остальные — в отчёт")),
]


class ImportForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("Как загружать"),
        choices=MODES,
        initial=ImportMode.WHOLE.value,
        widget=forms.RadioSelect,
    )
    file = forms.FileField(
        label=_("Файл CSV"),
        help_text=_(
            "Столбцы supplier (код поставщика), account (лицевой счёт), serial (заводской номер счётчика), "
            "value (показание), date (дата показания: 05.11.2026 или 2026-11-05); разделитель — точка с запятой, "
            "запятая или табуляция; кодировка UTF-8 или Windows-1251. Из Excel: «Сохранить как» → «CSV (разделители — "
            "точки с запятой)». Не больше %(mb)s МБ."
        )
        % {"mb": IMPORT_MAX_BYTES // 2**20},
    )


class UploadLimit(FileUploadHandler):
    """Counts the bytes of an uploaded file as they arrive and stops keeping them past the
    limit: the rest of the request is read and dropped, so the browser gets the answer."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


@admin.register(Reading)
class ReadingAdmin(admin.ModelAdmin):
    list_display = [
        "serial_column",
        "account_column",
        "supplier_column",
        "period_column",
        "value_column",
        "consumption_column",
        "channel",
        "status",
        "review_column",
        "submitted_column",
    ]
    list_filter = [
        ("meter__account__supplier", admin.RelatedFieldListFilter),
        "status",
        "channel",
        ReviewFilter,
        PeriodFilter,
    ]
    search_fields = ["=meter__serial", "=meter__account__number"]
    search_help_text = _("Номер лицевого счёта (12 цифр) или заводской номер счётчика")
    list_select_related = ["meter__account__supplier"]
    ordering = ["-pk"]
    show_full_result_count = False
    fields = [
        "meter",
        "account_column",
        "period_column",
        "value_column",
        "consumption_column",
        "read_on_column",
        "submitted_column",
        "channel",
        "submitted_by",
        "operator_name",
        "status",
        "replaces",
        "review",
        "reviewed_column",
        "reviewed_by",
        "rejection_reason",
    ]
    change_list_template = "backoffice/reading_change_list.html"
    change_form_template = "backoffice/reading_change_form.html"

    # --- Columns -----------------------------------------------------------------------

    @admin.display(description=_("счётчик"), ordering="meter__serial")
    def serial_column(self, obj: Reading) -> str:
        return f"№ {obj.meter.serial}"

    @admin.display(description=_("лицевой счёт"), ordering="meter__account__number")
    def account_column(self, obj: Reading) -> str:
        url = reverse("admin:customers_personalaccount_change", args=[obj.meter.account_id])
        return format_html('<a href="{}">{}</a>', url, obj.meter.account.number)

    @admin.display(description=_("поставщик"))
    def supplier_column(self, obj: Reading) -> str:
        return obj.meter.account.supplier.short_name

    @admin.display(description=_("период"), ordering="period")
    def period_column(self, obj: Reading) -> str:
        return obj.period.label()

    @admin.display(description=_("показание, м³"), ordering="value")
    def value_column(self, obj: Reading) -> str:
        return m3(obj.value)

    @admin.display(description=_("расход, м³"), ordering="consumption")
    def consumption_column(self, obj: Reading) -> str:
        return m3(obj.consumption)

    @admin.display(description=_("проверка"), ordering="review")
    def review_column(self, obj: Reading) -> str:
        return review_display(obj) or "—"

    @admin.display(description=_("передано"), ordering="submitted_at")
    def submitted_column(self, obj: Reading) -> str:
        return timezone.localtime(obj.submitted_at).strftime("%d.%m.%Y %H:%M")

    @admin.display(description=_("дата показания"), ordering="read_on")
    def read_on_column(self, obj: Reading) -> str:
        return f"{obj.read_on:%d.%m.%Y}" if obj.read_on else "—"

    @admin.display(description=_("проверено"), ordering="reviewed_at")
    def reviewed_column(self, obj: Reading) -> str:
        return timezone.localtime(obj.reviewed_at).strftime("%d.%m.%Y %H:%M") if obj.reviewed_at else "—"

    # --- Read-only: readings change through the metering services only ----------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Reading]:
        return super().get_queryset(request).select_related("meter__account__supplier")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Reading], search_term: str
    ) -> tuple[QuerySet[Reading], bool]:
        """An account number however it is written («77 0000 000001»), else a meter's serial:
        through the meters (indexed by their account), not a join on every reading."""
        term = search_term.strip()
        if not term:
            return queryset, False
        meters = Q(serial=term)
        with contextlib.suppress(DomainError):  # not an account number: a serial only
            meters |= Q(account__number=account_number_normalize(term))
        return queryset.filter(meter__in=Meter.objects.filter(meters).values("pk")), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_review_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(REVIEW_PERMISSION)

    def has_import_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(IMPORT_PERMISSION)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        context = {
            "can_review": self.has_review_permission(request),
            "can_import": self.has_import_permission(request),
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Reading | None = None,
    ) -> HttpResponse:
        if obj is not None and self.has_review_permission(request):
            here = reverse("admin:metering_reading_change", args=[obj.pk])
            standing = obj.status in STANDING
            context["reject_url"] = (
                f"{reverse('admin:metering_reading_reject', args=[obj.pk])}?{urlencode({'next': here})}"
                if standing
                else None
            )
            context["confirm_url"] = (
                reverse("admin:metering_reading_confirm", args=[obj.pk])
                if standing and obj.review and obj.reviewed_at is None
                else None
            )
            context["back_url"] = here
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path("review/", self.admin_site.admin_view(self.review_view), name="metering_reading_review"),
            path(
                "<int:reading_id>/confirm/",
                self.admin_site.admin_view(self.confirm_view),
                name="metering_reading_confirm",
            ),
            path(
                "<int:reading_id>/reject/", self.admin_site.admin_view(self.reject_view), name="metering_reading_reject"
            ),
            # the size of the upload is checked before the CSRF check reads the request (see import_view)
            path(
                "import/",
                self.admin_site.admin_view(csrf_exempt(self.import_view)),
                name="metering_reading_import",
            ),
            path(
                "import/sample.csv",
                self.admin_site.admin_view(self.import_sample_view),
                name="metering_reading_import_sample",
            ),
            *super().get_urls(),
        ]

    # --- The review -------------------------------------------------------------------

    def review_view(self, request: HttpRequest) -> HttpResponse:
        """The readings that wait for an operator, oldest first, with the meter's readings
        before each; optionally of one supplier."""
        if not self.has_review_permission(request):
            raise PermissionDenied
        suppliers = list(Supplier.objects.order_by("short_name").only("pk", "short_name"))
        queryset = readings_to_review()
        chosen = next((s for s in suppliers if str(s.pk) == request.GET.get("supplier")), None)
        if chosen is not None:
            queryset = queryset.filter(meter__account__supplier=chosen)
        page = Paginator(queryset, REVIEW_PAGE_SIZE).get_page(request.GET.get("p"))
        readings = list(page.object_list)
        earlier = earlier_readings(readings)
        here = request.get_full_path()
        rows = [
            ReviewRow(
                reading=reading,
                value=m3(reading.value),
                consumption=m3(reading.consumption),
                reason=str(ReviewReason(reading.review).label),
                previous=_earlier_rows(earlier[reading.pk]),
                reading_url=reverse("admin:metering_reading_change", args=[reading.pk]),
                account_url=reverse("admin:customers_personalaccount_change", args=[reading.meter.account_id]),
                meter_url=reverse("admin:metering_meter_change", args=[reading.meter_id]),
                confirm_url=reverse("admin:metering_reading_confirm", args=[reading.pk]),
                reject_url=f"{reverse('admin:metering_reading_reject', args=[reading.pk])}?{urlencode({'next': here})}",
            )
            for reading in readings
        ]
        base = reverse("admin:metering_reading_review")
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Показания на проверку"),
            "opts": self.opts,
            "rows": rows,
            "page": page,
            "here": here,
            "suppliers": [
                (s, f"{base}?{urlencode({'supplier': s.pk})}", chosen is not None and s.pk == chosen.pk)
                for s in suppliers
            ],
            "all_suppliers_url": base,
            "chosen_supplier": chosen,
            "page_url": f"{base}?{urlencode({'supplier': chosen.pk})}&p=" if chosen else f"{base}?p=",
        }
        return TemplateResponse(request, "backoffice/reading_review.html", context)

    def confirm_view(self, request: HttpRequest, reading_id: int) -> HttpResponse:
        """Accept a flagged reading as it is (POST only), through the metering service."""
        if not self.has_review_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        back = safe_next(request, reverse("admin:metering_reading_review"))
        try:
            reading = reading_review_confirm(
                operator=_operator(request), reading_id=reading_id, now=clock.now(), ip=client_ip(request)
            )
        except DomainError as exc:
            messages.error(request, exc.text)
        else:
            reading = Reading.objects.select_related("meter").get(pk=reading.pk)
            messages.success(
                request,
                gettext("Показание %(reading)s принято после проверки.") % {"reading": reading_summary(reading)},
            )
        return HttpResponseRedirect(back)

    def reject_view(self, request: HttpRequest, reading_id: int) -> HttpResponse:
        """Ask for the reason, then reject the reading through the metering service. Only a
        POST changes anything; a reason the service refuses is shown next to the field."""
        if not self.has_review_permission(request):
            raise PermissionDenied
        reading = Reading.objects.select_related("meter__account__supplier").filter(pk=reading_id).first()
        if reading is None:
            raise Http404
        back = safe_next(request, reverse("admin:metering_reading_review"))
        form = RejectForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                reading_reject(
                    operator=_operator(request),
                    reading_id=reading.pk,
                    reason=form.cleaned_data["reason"],
                    now=clock.now(),
                    ip=client_ip(request),
                )
            except DomainError as exc:
                if exc.field not in form.fields:
                    messages.error(request, exc.text)
                    return HttpResponseRedirect(back)
                form.add_error(exc.field, exc.text)
            else:
                messages.success(
                    request,
                    gettext(
                        "Показание %(reading)s по лицевому счёту %(number)s отклонено. "
                        "Абонент увидит причину в истории показаний."
                    )
                    % {"reading": reading_summary(reading), "number": reading.meter.account.number},
                )
                return HttpResponseRedirect(back)
        earlier = earlier_readings([reading])[reading.pk]
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Отклонить показание %(reading)s") % {"reading": reading_summary(reading)},
            "opts": self.opts,
            "reading": reading,
            "value": m3(reading.value),
            "consumption": m3(reading.consumption),
            "review": review_display(reading),
            "previous": _earlier_rows(earlier),
            "standing": reading.status in STANDING,
            "form": form,
            "back_url": back,
            "next": back,
        }
        return TemplateResponse(request, "backoffice/reading_reject.html", context)

    # --- Import -----------------------------------------------------------------------

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """The upload is counted as it arrives and dropped past the service's limit: the
        handler must be in place before anything reads the request, the CSRF check included,
        so this view is exempt from the admin's CSRF wrapping and checks the token itself."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        limit = UploadLimit(request, IMPORT_MAX_BYTES)
        request.upload_handlers.insert(0, limit)
        checked: HttpResponse = csrf_protect(self._import)(request, limit)
        return checked

    def _import(self, request: HttpRequest, limit: UploadLimit) -> HttpResponse:
        report: ReportView | None = None
        form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
        if limit.exceeded:
            form = ImportForm(request.POST)  # the file was dropped: its error is the size, not its absence
            form.is_valid()
            form.errors.pop("file", None)
            form.add_error("file", _too_big())
        elif form.is_bound and form.is_valid():
            report = self._import_file(request, form)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Загрузить показания из файла"),
            "opts": self.opts,
            "form": form,
            "report": report,
            "sample_url": reverse("admin:metering_reading_import_sample"),
        }
        return TemplateResponse(request, "backoffice/reading_import.html", context)

    def _import_file(self, request: HttpRequest, form: ImportForm) -> ReportView | None:
        upload = form.cleaned_data["file"]
        if upload.size is not None and upload.size > IMPORT_MAX_BYTES:
            form.add_error("file", _too_big())
            return None
        mode = ImportMode(form.cleaned_data["mode"])
        dry_run = "apply" not in request.POST
        try:
            report = readings_import(
                operator=_operator(request),
                content=upload.read(),
                mode=mode,
                dry_run=dry_run,
                now=clock.now(),
                file_name=upload.name or "",
            )
        except ImportFileInvalid as exc:
            form.add_error("file", _with_excel_hint(exc.text, upload.name or ""))
            return None
        return report_view(report, file_name=upload.name or "", mode=mode)

    def import_sample_view(self, request: HttpRequest) -> HttpResponse:
        """A file to start from: the header and one line (UTF-8 with a BOM, so that Excel
        opens it in the right encoding)."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        code = Supplier.objects.order_by("pk").values_list("code", flat=True).first() or "gaz-msk"
        today = timezone.localdate(clock.now())
        line = f"{code};770000000001;0412345;1300,5;{today:%d.%m.%Y}"
        response = HttpResponse(f"\ufeff{SAMPLE_HEADER}\r\n{line}\r\n", content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{SAMPLE_FILE_NAME}"'
        return response


def _too_big() -> str:
    return gettext("Файл больше %(mb)s МБ: разделите его на части") % {"mb": IMPORT_MAX_BYTES // 2**20}


def _with_excel_hint(text: str, file_name: str) -> str:
    if file_name.lower().endswith(_EXCEL_SUFFIXES):
        return text + ". " + gettext("Похоже, это файл Excel: сохраните его как CSV (разделители — точки с запятой)")
    return text


def _line_outcome(line: ImportLine, *, dry_run: bool, applied: bool) -> str:
    if line.outcome == LineOutcome.ERROR:
        return gettext("ошибка")
    if line.outcome == LineOutcome.UNCHANGED:
        return gettext("уже есть")
    return gettext("записано") if applied else gettext("будет записано") if dry_run else gettext("не записано")


def _line_text(line: ImportLine) -> str:
    if line.outcome == LineOutcome.ERROR or line.reading is None:
        return line.message
    reading = line.reading
    return gettext("Лицевой счёт %(number)s, счётчик %(reading)s, расход %(consumption)s м³") % {
        "number": reading.meter.account.number,
        "reading": reading_summary(reading),
        "consumption": m3(reading.consumption),
    }


def report_view(report: ImportReport, *, file_name: str, mode: ImportMode) -> ReportView:
    """The report of an import with its verdict: whether anything was written, and why not."""
    recorded = report.count(LineOutcome.RECORDED)
    unchanged = report.count(LineOutcome.UNCHANGED)
    errors = len(report.errors)
    counts = {"recorded": recorded, "unchanged": unchanged, "errors": errors}
    if not report.lines:
        verdict, level = gettext("В файле нет строк с показаниями: ничего не записано."), "warning"
    elif report.dry_run and not errors:
        verdict = gettext(
            "Проверка: ошибок нет, ничего не записано. Нажмите «Загрузить», чтобы записать показания: "
            "новых — %(recorded)s, уже есть — %(unchanged)s."
        )
        verdict, level = verdict % counts, "success"
    elif report.dry_run and mode == ImportMode.WHOLE:
        verdict = gettext(
            "Проверка: ничего не записано. Строк с ошибками — %(errors)s: весь файл не загрузится, пока они "
            "не исправлены. В режиме «верные строки» будут записаны новые показания — %(recorded)s."
        )
        verdict, level = verdict % counts, "warning"
    elif report.dry_run:
        verdict = gettext(
            "Проверка: ничего не записано. При загрузке будут записаны новые показания — %(recorded)s; "
            "строки с ошибками (%(errors)s) будут пропущены."
        )
        verdict, level = verdict % counts, "warning"
    elif not report.applied:
        verdict = gettext(
            "Файл не загружен, ничего не записано: строк с ошибками — %(errors)s. Исправьте их или загрузите "
            "в режиме «верные строки»."
        )
        verdict, level = verdict % counts, "error"
    elif errors:
        verdict = gettext(
            "Загружены верные строки: записано показаний — %(recorded)s, уже были — %(unchanged)s. "
            "Строки с ошибками (%(errors)s) не загружены: исправьте их и загрузите ещё раз."
        )
        verdict, level = verdict % counts, "warning"
    else:
        verdict = gettext("Файл загружен: записано показаний — %(recorded)s, уже были — %(unchanged)s.")
        verdict, level = verdict % counts, "success"
    ordered = sorted(report.lines, key=lambda line: (line.outcome != LineOutcome.ERROR, line.number))
    shown = ordered[:REPORT_ROWS_SHOWN]
    rows = [
        ReportRow(
            number=line.number,
            outcome=_line_outcome(line, dry_run=report.dry_run, applied=report.applied),
            text=_line_text(line),
            is_error=line.outcome == LineOutcome.ERROR,
            url=(
                reverse("admin:metering_reading_change", args=[line.reading.pk])
                if report.applied and line.reading is not None
                else None
            ),
        )
        for line in shown
    ]
    return ReportView(
        file_name=file_name,
        mode=str(dict(MODES)[mode.value]),
        dry_run=report.dry_run,
        applied=report.applied,
        total=len(report.lines),
        recorded=recorded,
        unchanged=unchanged,
        errors=errors,
        verdict=verdict,
        level=level,
        rows=rows,
        hidden=len(ordered) - len(shown),
    )


# --- Meters ---------------------------------------------------------------------------


class ReadingEntryForm(forms.Form):
    # Not required here: an empty value gets the service's own message, next to the field.
    value = forms.CharField(
        label=_("Показание, м³"),
        required=False,
        max_length=100,
        help_text=_("Цифры со счётчика; дробную часть можно отделить запятой или точкой: 1234,567"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": 14}),
    )
    date = forms.DateField(
        label=_("Дата показания"),
        help_text=_("Когда абонент снял показание, по местному времени поставщика; по этой дате определяется период"),
        widget=AdminDateWidget,
    )


@admin.register(Meter)
class MeterAdmin(admin.ModelAdmin):
    list_display = ["serial", "model", "account", "verification_due_on", "status"]
    search_fields = ["=serial", "=account__number"]
    list_select_related = ["account"]
    raw_id_fields = ["account"]
    show_full_result_count = False
    change_form_template = "backoffice/meter_change_form.html"

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """A meter leaves service by its status («снят»); deleting it would delete its readings."""
        return False

    def has_enter_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(ENTER_PERMISSION)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Meter | None = None,
    ) -> HttpResponse:
        if obj is not None:
            if self.has_enter_permission(request):
                context["enter_url"] = reverse("admin:metering_meter_reading_enter", args=[obj.pk])
            if request.user.has_perm("metering.view_reading"):
                context["meter_readings"] = meter_reading_rows(obj)
                context["meter_readings_shown"] = METER_READINGS_SHOWN
                context["meter_readings_url"] = meter_readings_url(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "<int:meter_id>/reading/",
                self.admin_site.admin_view(self.enter_view),
                name="metering_meter_reading_enter",
            ),
            *super().get_urls(),
        ]

    def enter_view(self, request: HttpRequest, meter_id: int) -> HttpResponse:
        """A reading taken from a subscriber, recorded through the metering service with the
        operator's name; what the service refuses is shown next to the field it is about."""
        if not self.has_enter_permission(request):
            raise PermissionDenied
        meter = Meter.objects.select_related("account__supplier").filter(pk=meter_id).first()
        if meter is None:
            raise Http404
        back = safe_next(request, reverse("admin:metering_meter_change", args=[meter.pk]))
        today = supplier_local_date(supplier=meter.account.supplier, now=clock.now())
        form = ReadingEntryForm(request.POST if request.method == "POST" else None, initial={"date": today})
        if form.is_bound and form.is_valid():
            try:
                recorded = reading_enter_by_operator(
                    operator=_operator(request),
                    meter_id=meter.pk,
                    value=form.cleaned_data["value"],
                    read_on=form.cleaned_data["date"],
                    now=clock.now(),
                    ip=client_ip(request),
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.text)
            else:
                _entered_messages(request, meter, recorded)
                return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Ввести показание счётчика № %(serial)s") % {"serial": meter.serial},
            "opts": self.opts,
            "meter": meter,
            "account": meter.account,
            "form": form,
            "today": today,
            "meter_readings": meter_reading_rows(meter, limit=PREVIOUS_SHOWN + 2),
            "media": self.media + form.media,
            "back_url": back,
            "next": back,
        }
        return TemplateResponse(request, "backoffice/reading_enter.html", context)


def _entered_messages(request: HttpRequest, meter: Meter, recorded: Recorded) -> None:
    reading = recorded.reading
    values = {
        "value": m3(reading.value),
        "serial": meter.serial,
        "period": reading.period.label(),
        "consumption": m3(reading.consumption),
    }
    if not recorded.created:
        messages.info(
            request,
            gettext("Показание %(value)s м³ по счётчику № %(serial)s за %(period)s уже записано: ничего не изменено.")
            % values,
        )
        return
    text = gettext("Показание %(value)s м³ по счётчику № %(serial)s записано за %(period)s, расход %(consumption)s м³.")
    if recorded.replaced is not None:
        text += " " + gettext("Оно заменило показание %(previous)s м³, переданное за этот период раньше.") % {
            "previous": m3(recorded.replaced.value)
        }
    messages.success(request, text % values)
    if reading.status == ReadingStatus.NOT_FOR_BILLING:
        messages.warning(
            request,
            gettext("Срок поверки счётчика истёк: показание сохранено, но к расчёту не принимается."),
        )
    if reading.review:
        messages.warning(
            request,
            gettext("Показание отмечено для проверки: %(reason)s.") % {"reason": ReviewReason(reading.review).label},
        )


def meter_readings_url(meter: Meter) -> str:
    return f"{reverse('admin:metering_reading_changelist')}?{urlencode({'meter__id__exact': meter.pk})}"


def meter_reading_rows(meter: Meter, *, limit: int = METER_READINGS_SHOWN) -> list[MeterReadingRow]:
    """The meter's latest readings of every state, newest first."""
    readings = list(meter.readings.order_by("-period", "-submitted_at", "-pk")[:limit])
    return [
        MeterReadingRow(
            reading=reading,
            value=m3(reading.value),
            consumption=m3(reading.consumption),
            review=review_display(reading),
            url=reverse("admin:metering_reading_change", args=[reading.pk]),
        )
        for reading in readings
    ]
