"""The back office for billing and the ledger.

- Tariffs, norms, benefits, the key rate, penalty rate caps and moratoria: data with dates
  that operators maintain. The models' own checks (a price or norm overlapping one in force,
  an end before the start) are shown next to the field they are about.
- Billing runs, read-only, with their results in words; billing periods, with the action
  «Закрыть период» (through ``billing_period_close``).
- The ledger, read-only: entries and balances are posted by the services only; an account's
  entries and balances on one page, and an operator's correction posted through
  ``entry_correct`` (a new entry, never a change of an old one).

Who may do what: viewing needs the ``view_`` permissions; changing the data, ``add_`` and
``change_``; closing a period, ``change_billingperiod``; a correction, ``add_ledgerentry``
(see ``identity/roles.py``).
"""

from __future__ import annotations

import contextlib
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.billing.enums import RunStatus, VolumeMethod
from abonent.billing.models import (
    Benefit,
    BillingPeriod,
    BillingRun,
    KeyRate,
    Norm,
    PenaltyMoratorium,
    PenaltyRateCap,
    Tariff,
)
from abonent.billing.services import billing_period_close
from abonent.core import clock
from abonent.core.errors import DomainError, ValidationFailed
from abonent.core.money import format_number, format_rubles
from abonent.core.periods import MONTHS_NOMINATIVE, Period, PeriodFormatError
from abonent.core.selectors import supplier_local_date
from abonent.customers.models import PersonalAccount
from abonent.customers.services import account_number_normalize
from abonent.identity.models import User
from abonent.ledger.enums import Service
from abonent.ledger.models import LedgerBalance, LedgerEntry
from abonent.ledger.selectors import balances_get, entries_list
from abonent.ledger.services import NOTE_MAX_LENGTH, REASON_MIN_LENGTH, entry_correct

#: Posting an operator's correction to an account.
CORRECT_PERMISSION = "ledger.add_ledgerentry"
#: Closing a billing period.
CLOSE_PERMISSION = "billing.change_billingperiod"
#: How many entries the account's ledger page shows at a time.
ENTRIES_PAGE_SIZE = 100
_KEY = re.compile(r"^[0-9a-f]{32}$")


# --- Showing values -------------------------------------------------------------------


def rubles(value: Decimal | str | None) -> str:
    """«1 234,56 ₽»; «—» when there is none."""
    return "—" if value is None else format_rubles(value)


def m3(value: Decimal | str | None) -> str:
    """«1 234,5 м³»; «—» when there is none."""
    return "—" if value is None else f"{format_number(value)}\u00a0м³"


def moment(value: Any) -> str:
    return timezone.localtime(value).strftime("%d.%m.%Y %H:%M") if value else "—"


def day(value: Any) -> str:
    return f"{value:%d.%m.%Y}" if value else "—"


def _operator(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _account_search(queryset: QuerySet[Any], term: str, lookup: str) -> QuerySet[Any] | None:
    """The rows of the account whose number is ``term`` however it is written
    («77 0000 000001»); None when ``term`` is not an account number."""
    with contextlib.suppress(DomainError):
        return queryset.filter(**{lookup: account_number_normalize(term.strip())})
    return None


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the services only: seen, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


# --- Prices, norms, benefits, penalty rates -------------------------------------------


#: Prices, norms and rates are typed the Russian way, with a comma: «13,52».
LOCALIZED: dict[type[models.Field[Any, Any]], dict[str, Any]] = {models.DecimalField: {"localize": True}}


class DatedAdmin(admin.ModelAdmin):
    """Rows in force from a day through a day: newest first, with the days the Russian way."""

    date_hierarchy = "valid_from"
    formfield_overrides = LOCALIZED

    @admin.display(description=_("действует с"), ordering="valid_from")
    def from_column(self, obj: Any) -> str:
        return day(obj.valid_from)

    @admin.display(description=_("действует по"), ordering="valid_to")
    def to_column(self, obj: Any) -> str:
        return day(obj.valid_to) if obj.valid_to else gettext("бессрочно")


@admin.register(Tariff)
class TariffAdmin(DatedAdmin):
    list_display = ["supplier", "direction", "price_column", "from_column", "to_column", "basis"]
    list_filter = ["supplier", "direction"]
    list_select_related = ["supplier"]
    search_fields = ["basis"]
    fields = ["supplier", "direction", "price", "valid_from", "valid_to", "basis"]

    @admin.display(description=_("цена за 1 м³"), ordering="price")
    def price_column(self, obj: Tariff) -> str:
        return f"{format_number(obj.price)}\u00a0₽"


class MonthFilter(admin.SimpleListFilter):
    """The month of a norm: every month, or one month of a heating profile."""

    title = _("месяц")
    parameter_name = "month"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        return [("0", gettext("каждый месяц")), *((str(n), str(name)) for n, name in enumerate(MONTHS_NOMINATIVE, 1))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if value.isdigit() and 0 <= int(value) <= 12:
            return queryset.filter(month=int(value))
        raise IncorrectLookupParameters(value)


def month_label(month: int) -> str:
    return gettext("каждый месяц") if not month else str(MONTHS_NOMINATIVE[month - 1])


@admin.register(Norm)
class NormAdmin(DatedAdmin):
    list_display = ["supplier", "kind", "month_column", "value_column", "from_column", "to_column", "basis"]
    list_filter = ["supplier", "kind", MonthFilter]
    list_select_related = ["supplier"]
    search_fields = ["basis"]
    fields = ["supplier", "kind", "month", "value", "valid_from", "valid_to", "basis"]

    @admin.display(description=_("месяц"), ordering="month")
    def month_column(self, obj: Norm) -> str:
        return month_label(obj.month)

    @admin.display(description=_("норматив, м³"), ordering="value")
    def value_column(self, obj: Norm) -> str:
        return format_number(obj.value)


class BenefitInline(admin.TabularInline):
    """The account's benefits on its page (changed there by those allowed to change benefits)."""

    model = Benefit
    formfield_overrides = LOCALIZED
    extra = 0
    fields = ["category", "share", "persons", "within_norm", "mode", "valid_from", "valid_to", "document"]


@admin.register(Benefit)
class BenefitAdmin(DatedAdmin):
    list_display = ["account", "category", "share_column", "persons_column", "within_norm", "mode", "from_column",
                    "to_column"]  # fmt: skip
    list_filter = ["account__supplier", "category", "mode", "within_norm"]
    list_select_related = ["account"]
    raw_id_fields = ["account"]
    search_fields = ["=account__number", "document"]
    search_help_text = _("Номер лицевого счёта (12 цифр) или документ-основание")
    fields = ["account", "category", "share", "persons", "within_norm", "mode", "valid_from", "valid_to", "document"]
    show_full_result_count = False

    @admin.display(description=_("размер"), ordering="share")
    def share_column(self, obj: Benefit) -> str:
        return f"{format_number(obj.share)}\u00a0%"

    @admin.display(description=_("на проживающих"), ordering="persons")
    def persons_column(self, obj: Benefit) -> str:
        return str(obj.persons) if obj.persons else gettext("на всех")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Benefit], search_term: str
    ) -> tuple[QuerySet[Benefit], bool]:
        found = _account_search(queryset, search_term, "account__number")
        if found is not None:
            return found, False
        return super().get_search_results(request, queryset, search_term)


@admin.register(KeyRate)
class KeyRateAdmin(admin.ModelAdmin):
    list_display = ["from_column", "rate_column"]
    formfield_overrides = LOCALIZED
    fields = ["effective_from", "rate"]

    @admin.display(description=_("действует с"), ordering="effective_from")
    def from_column(self, obj: KeyRate) -> str:
        return day(obj.effective_from)

    @admin.display(description=_("ставка"), ordering="rate")
    def rate_column(self, obj: KeyRate) -> str:
        return f"{format_number(obj.rate)}\u00a0%"


@admin.register(PenaltyRateCap)
class PenaltyRateCapAdmin(DatedAdmin):
    list_display = ["rate_column", "from_column", "to_column", "basis"]
    fields = ["rate", "valid_from", "valid_to", "basis"]

    @admin.display(description=_("ставка не выше"), ordering="rate")
    def rate_column(self, obj: PenaltyRateCap) -> str:
        return f"{format_number(obj.rate)}\u00a0%"


@admin.register(PenaltyMoratorium)
class PenaltyMoratoriumAdmin(DatedAdmin):
    list_display = ["basis", "from_column", "to_column"]
    fields = ["valid_from", "valid_to", "basis"]


# --- Billing runs and periods ---------------------------------------------------------


@dataclass(frozen=True)
class MethodLine:
    method: str
    accounts: int
    volume: Decimal
    amount: Decimal


@dataclass(frozen=True)
class RunSummary:
    """A run's results (``BillingRun.summary``) as numbers."""

    accounts: int
    volume: Decimal
    amount: Decimal
    benefit: Decimal
    penalty: Decimal
    recalculated: Decimal
    recalculated_accounts: int
    entries: int
    by_method: list[MethodLine]

    @classmethod
    def of(cls, summary: dict[str, Any]) -> RunSummary:
        by_method = [
            MethodLine(
                str(VolumeMethod(method).label) if method in VolumeMethod.values else method,
                int(count),
                Decimal(volume),
                Decimal(amount),
            )
            for method, (count, volume, amount) in (summary.get("by_method") or {}).items()
        ]
        return cls(
            accounts=int(summary.get("accounts", 0)),
            volume=Decimal(str(summary.get("volume", "0"))),
            amount=Decimal(str(summary.get("amount", "0"))),
            benefit=Decimal(str(summary.get("benefit", "0"))),
            penalty=Decimal(str(summary.get("penalty", "0"))),
            recalculated=Decimal(str(summary.get("recalculated", "0"))),
            recalculated_accounts=int(summary.get("recalculated_accounts", 0)),
            entries=int(summary.get("entries", 0)),
            by_method=sorted(by_method, key=lambda line: (-line.accounts, str(line.method))),
        )


class PeriodListFilter(admin.SimpleListFilter):
    """The period, as it was run or closed (the values there are, newest first)."""

    title = _("период")
    parameter_name = "period"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        periods = model_admin.model.objects.order_by("-period").values_list("period", flat=True).distinct()[:24]
        return [(str(period), period.label()) for period in periods]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        try:
            return queryset.filter(period=Period.parse(value))
        except PeriodFormatError:
            raise IncorrectLookupParameters(value) from None


@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyAdmin):
    list_display = ["pk", "supplier", "period_column", "status", "started_column", "finished_column",
                    "accounts_column", "volume_column", "amount_column"]  # fmt: skip
    list_display_links = ["pk", "period_column"]
    list_filter = ["supplier", "status", PeriodListFilter]
    list_select_related = ["supplier"]
    ordering = ["-started_at", "-pk"]
    readonly_fields = ("supplier", "period_column", "status", "started_column", "finished_column", "chunks",
                       "channel", "started_by", "summary_display", "error")  # fmt: skip
    fields = readonly_fields
    show_full_result_count = False

    @admin.display(description=_("период"), ordering="period")
    def period_column(self, obj: BillingRun) -> str:
        return obj.period.label()

    @admin.display(description=_("начат"), ordering="started_at")
    def started_column(self, obj: BillingRun) -> str:
        return moment(obj.started_at)

    @admin.display(description=_("закончен"), ordering="finished_at")
    def finished_column(self, obj: BillingRun) -> str:
        return moment(obj.finished_at)

    @admin.display(description=_("лицевых счетов"))
    def accounts_column(self, obj: BillingRun) -> str:
        return format_number(RunSummary.of(obj.summary).accounts) if obj.summary else "—"

    @admin.display(description=_("объём"))
    def volume_column(self, obj: BillingRun) -> str:
        return m3(RunSummary.of(obj.summary).volume) if obj.summary else "—"

    @admin.display(description=_("начислено"))
    def amount_column(self, obj: BillingRun) -> str:
        return rubles(RunSummary.of(obj.summary).amount) if obj.summary else "—"

    @admin.display(description=_("итоги"))
    def summary_display(self, obj: BillingRun) -> SafeString | str:
        if not obj.summary:
            return gettext("Расчёт ещё идёт") if obj.status == RunStatus.RUNNING else "—"
        s = RunSummary.of(obj.summary)
        lines = [
            (gettext("Лицевых счетов"), format_number(s.accounts)),
            (gettext("Объём"), m3(s.volume)),
            (gettext("Начислено"), rubles(s.amount)),
            (gettext("Льготы"), rubles(s.benefit)),
            (gettext("Пени"), rubles(s.penalty)),
            (
                gettext("Перерасчёты"),
                gettext("%(amount)s, лицевых счетов: %(count)s")
                % {"amount": rubles(s.recalculated), "count": s.recalculated_accounts},
            ),
            (gettext("Проводок"), format_number(s.entries)),
        ]
        totals = format_html_join("", "<tr><th scope='row'>{}</th><td>{}</td></tr>", lines)
        methods = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((line.method, line.accounts, m3(line.volume), rubles(line.amount)) for line in s.by_method),
        )
        return format_html(
            "<table><tbody>{}</tbody></table><h3>{}</h3><table><thead><tr><th>{}</th><th>{}</th><th>{}</th>"
            "<th>{}</th></tr></thead><tbody>{}</tbody></table>",
            totals,
            gettext("По способу расчёта"),
            gettext("Способ"),
            gettext("Лицевых счетов"),
            gettext("Объём"),
            gettext("Начислено"),
            methods,
        )


@admin.register(BillingPeriod)
class BillingPeriodAdmin(ReadOnlyAdmin):
    list_display = ["supplier", "period_column", "state_column", "closed_column", "closed_by"]
    list_filter = ["supplier", PeriodListFilter]
    list_select_related = ["supplier", "closed_by"]
    ordering = ["-period", "supplier__short_name"]
    readonly_fields = ("supplier", "period_column", "state_column", "closed_column", "closed_by")
    fields = readonly_fields
    actions = ["close_periods"]

    @admin.display(description=_("период"), ordering="period")
    def period_column(self, obj: BillingPeriod) -> str:
        return obj.period.label()

    @admin.display(description=_("состояние"))
    def state_column(self, obj: BillingPeriod) -> str:
        return gettext("закрыт") if obj.closed_at else gettext("открыт")

    @admin.display(description=_("закрыт"), ordering="closed_at")
    def closed_column(self, obj: BillingPeriod) -> str:
        return moment(obj.closed_at)

    def has_close_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(CLOSE_PERMISSION)

    @admin.action(description=_("Закрыть период"), permissions=["close"])
    def close_periods(self, request: HttpRequest, queryset: QuerySet[BillingPeriod]) -> None:
        """Close the chosen periods through the billing service: no run posts to them any more."""
        for billing_period in queryset.select_related("supplier"):
            values = {"supplier": billing_period.supplier, "period": billing_period.period.label()}
            if billing_period.closed_at is not None:
                messages.info(request, gettext("Период %(period)s (%(supplier)s) уже закрыт.") % values)
                continue
            try:
                billing_period_close(
                    supplier=billing_period.supplier,
                    period=billing_period.period,
                    actor_id=_operator(request).pk,
                    now=clock.now(),
                )
            except DomainError as exc:
                messages.error(request, f"{billing_period.supplier}: {exc.text}")
            else:
                messages.success(
                    request,
                    gettext("Период %(period)s (%(supplier)s) закрыт: расчёт за него больше не проводится.") % values,
                )


# --- The ledger -----------------------------------------------------------------------


@admin.register(LedgerBalance)
class LedgerBalanceAdmin(ReadOnlyAdmin):
    list_display = ["account", "service", "amount_column"]
    list_filter = ["service", "account__supplier"]
    list_select_related = ["account"]
    search_fields = ["=account__number"]
    search_help_text = _("Номер лицевого счёта (12 цифр)")
    show_full_result_count = False

    @admin.display(description=_("сальдо"), ordering="amount")
    def amount_column(self, obj: LedgerBalance) -> str:
        return rubles(obj.amount)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[LedgerBalance], search_term: str
    ) -> tuple[QuerySet[LedgerBalance], bool]:
        if not search_term.strip():
            return queryset, False
        found = _account_search(queryset, search_term, "account__number")
        return (found if found is not None else queryset.none()), False


class CorrectionForm(forms.Form):
    # Not required here: an empty amount or reason gets the service's own message, next to the field.
    amount = forms.CharField(
        label=_("Сумма, ₽"),
        required=False,
        max_length=30,
        help_text=_("Плюс увеличивает долг, минус уменьшает: 320,50 или −150,00"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": 14}),
    )
    service = forms.ChoiceField(label=_("Услуга"), choices=Service.choices)
    period = forms.CharField(
        label=_("За период"),
        max_length=7,
        help_text=_("Месяц, который исправляется: 2026-10 или 10.2026"),
        widget=forms.TextInput(attrs={"size": 8, "autocomplete": "off"}),
    )
    reason = forms.CharField(
        label=_("Причина"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        help_text=_("Её увидят в выписке по счёту: например, «ошибка в показании за октябрь, акт от 20.11.2026»"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60, "minlength": REASON_MIN_LENGTH}),
    )
    key = forms.CharField(widget=forms.HiddenInput)

    def clean_period(self) -> Period:
        try:
            return Period.parse(self.cleaned_data["period"])
        except PeriodFormatError:
            raise forms.ValidationError(gettext("Период — месяц и год: 2026-10 или 10.2026")) from None

    def clean_key(self) -> str:
        key: str = self.cleaned_data["key"]
        if not _KEY.match(key):
            raise forms.ValidationError(gettext("Откройте форму корректировки заново"))
        return key


@dataclass(frozen=True)
class BalanceLine:
    service: str
    amount: str
    is_debt: bool


def balance_lines(account: PersonalAccount) -> list[BalanceLine]:
    """Each service's balance, for people: positive is a debt."""
    return [
        BalanceLine(str(Service(service).label), rubles(amount), amount > 0)
        for service, amount in balances_get(account=account).items()
    ]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    """Entries are never changed or deleted: a mistake is put right by a correction, a new entry."""

    list_display = ["posted_column", "account", "service", "kind", "period_column", "billed_in_column",
                    "amount_column", "volume_column", "note"]  # fmt: skip
    list_filter = ["service", "kind", "account__supplier"]
    list_select_related = ["account"]
    search_fields = ["=account__number"]
    search_help_text = _("Номер лицевого счёта (12 цифр)")
    ordering = ["-billed_in", "-posted_on", "-pk"]
    show_full_result_count = False
    readonly_fields = ("account", "service", "kind", "period_column", "billed_in_column", "amount_column",
                       "volume_column", "posted_column", "created_column", "source_key", "note")  # fmt: skip
    fields = readonly_fields

    @admin.display(description=_("дата"), ordering="posted_on")
    def posted_column(self, obj: LedgerEntry) -> str:
        return day(obj.posted_on)

    @admin.display(description=_("проведено"), ordering="created_at")
    def created_column(self, obj: LedgerEntry) -> str:
        return moment(obj.created_at)

    @admin.display(description=_("за период"), ordering="period")
    def period_column(self, obj: LedgerEntry) -> str:
        return obj.period.label()

    @admin.display(description=_("в квитанции за"), ordering="billed_in")
    def billed_in_column(self, obj: LedgerEntry) -> str:
        return obj.billed_in.label()

    @admin.display(description=_("сумма"), ordering="amount")
    def amount_column(self, obj: LedgerEntry) -> str:
        return rubles(obj.amount)

    @admin.display(description=_("объём"), ordering="volume")
    def volume_column(self, obj: LedgerEntry) -> str:
        return m3(obj.volume)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[LedgerEntry], search_term: str
    ) -> tuple[QuerySet[LedgerEntry], bool]:
        """An account number however it is written («77 0000 000001»): through the
        accounts (entries are indexed by their account), not a join on every entry."""
        if not search_term.strip():
            return queryset, False
        with contextlib.suppress(DomainError):
            number = account_number_normalize(search_term.strip())
            return queryset.filter(account__in=PersonalAccount.objects.filter(number=number).values("pk")), False
        return queryset.none(), False

    def has_correct_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(CORRECT_PERMISSION)

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "account/<int:account_id>/",
                self.admin_site.admin_view(self.account_view),
                name="ledger_ledgerentry_account",
            ),
            path(
                "account/<int:account_id>/correct/",
                self.admin_site.admin_view(self.correct_view),
                name="ledger_ledgerentry_correct",
            ),
            *super().get_urls(),
        ]

    def _account(self, account_id: int) -> PersonalAccount:
        account = PersonalAccount.objects.select_related("supplier").filter(pk=account_id).first()
        if account is None:
            raise Http404
        return account

    def account_view(self, request: HttpRequest, account_id: int) -> HttpResponse:
        """The account's balances and its entries, newest bill first."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        account = self._account(account_id)
        page = Paginator(
            entries_list(account=account).only(
                "pk", "service", "kind", "period", "billed_in", "amount", "volume", "posted_on", "note"
            ),
            ENTRIES_PAGE_SIZE,
        ).get_page(request.GET.get("p"))
        can_correct = self.has_correct_permission(request)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Проводки и сальдо лицевого счёта %(number)s") % {"number": account.number},
            "opts": self.opts,
            "account": account,
            "balances": balance_lines(account),
            "page": page,
            "rows": [
                {
                    "entry": entry,
                    "period": entry.period.label(),
                    "billed_in": entry.billed_in.label(),
                    "amount": rubles(entry.amount),
                    "volume": m3(entry.volume),
                    "url": reverse("admin:ledger_ledgerentry_change", args=[entry.pk]),
                }
                for entry in page.object_list
            ],
            "account_url": reverse("admin:customers_personalaccount_change", args=[account.pk]),
            "correct_url": reverse("admin:ledger_ledgerentry_correct", args=[account.pk]) if can_correct else None,
        }
        return TemplateResponse(request, "backoffice/ledger_account.html", context)

    def correct_view(self, request: HttpRequest, account_id: int) -> HttpResponse:
        """An operator's correction: a new entry through the ledger service, with the reason
        and the operator's name in the audit log. Only a POST changes anything; what the
        service refuses is shown next to the field it is about. The form carries a key of its
        own: sent twice, it posts once."""
        if not self.has_correct_permission(request):
            raise PermissionDenied
        account = self._account(account_id)
        back = reverse("admin:ledger_ledgerentry_account", args=[account.pk])
        now = clock.now()
        today = supplier_local_date(supplier=account.supplier, now=now)
        form = CorrectionForm(
            request.POST if request.method == "POST" else None,
            initial={"key": uuid.uuid4().hex, "period": str(Period.of(today).previous()), "service": Service.GAS},
        )
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                entry = entry_correct(
                    account=account,
                    service=data["service"],
                    period=data["period"],
                    amount=data["amount"],
                    reason=data["reason"],
                    actor_id=_operator(request).pk,
                    channel="backoffice",
                    now=now,
                    source_key=f"correction:{account.pk}:{data['key']}",
                )
            except ValidationFailed as exc:
                for field, errors in exc.errors.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.text)
            else:
                messages.success(
                    request,
                    gettext(
                        "Корректировка %(amount)s (%(service)s, за %(period)s) проведена по лицевому счёту %(number)s."
                    )
                    % {
                        "amount": rubles(entry.amount),
                        "service": Service(entry.service).label,
                        "period": entry.period.label(),
                        "number": account.number,
                    },
                )
                return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Корректировка по лицевому счёту %(number)s") % {"number": account.number},
            "opts": self.opts,
            "account": account,
            "balances": balance_lines(account),
            "form": form,
            "today": today,
            "billed_in": Period.of(today).label(),
            "back_url": back,
            "account_url": reverse("admin:customers_personalaccount_change", args=[account.pk]),
        }
        return TemplateResponse(request, "backoffice/ledger_correct.html", context)


def ledger_links(request: HttpRequest, account: PersonalAccount) -> dict[str, Any]:
    """What the account's page shows of its money: the balances and links to the ledger
    page and the correction form, as far as the user may use them."""
    user = request.user
    if not user.has_perm("ledger.view_ledgerentry"):
        return {}
    return {
        "ledger_balances": balance_lines(account),
        "ledger_url": reverse("admin:ledger_ledgerentry_account", args=[account.pk]),
        "ledger_correct_url": (
            reverse("admin:ledger_ledgerentry_correct", args=[account.pk])
            if user.has_perm(CORRECT_PERMISSION)
            else None
        ),
    }
