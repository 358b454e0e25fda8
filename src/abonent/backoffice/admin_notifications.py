"""The back office for messages to subscribers.

- The delivery log (every e-mail, SMS and push), read-only: an operator finds why a
  subscriber got no SMS by their phone however written, their e-mail or their user number
  (``deliveries_search``), and narrows it by channel, state, kind, supplier and days. The
  texts are not shown: those of sent messages are purged by design (they carry one-time
  codes).
- Notifications (the entries of the subscribers' notification centres), read-only, each
  with the deliveries it went out as.
- Push devices (the token shortened) and preferences, read-only.
- Message templates per supplier and language (senior operators): the form names the
  placeholders of the kind and shows its built-in text; the model's check refuses an
  unknown placeholder or braces that do not pair; «Предпросмотр» fills the text with
  sample values and saves nothing.

Who may do what (see ``identity/roles.py``): every operator sees the log, the notifications
and the templates; senior operators add, change and delete templates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import NON_FIELD_ERRORS
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.backoffice.admin_accounts import SearchKey, _users_with, phone_display, search_key
from abonent.backoffice.admin_billing import ReadOnlyAdmin, moment
from abonent.core import clock
from abonent.core.models import Supplier
from abonent.core.money import format_rubles
from abonent.core.periods import Period
from abonent.identity.contacts import InvalidLogin, login_parse
from abonent.identity.models import User
from abonent.notifications.enums import Channel, Kind
from abonent.notifications.models import Delivery, Notification, Preference, PushDevice, Template
from abonent.notifications.selectors import deliveries_search
from abonent.notifications.templates import (
    BUILT_IN,
    LIMITS,
    Rendered,
    built_in,
    placeholders_of,
    render,
)

#: Kinds of the log that are not in the catalogue of ``Kind``: messages a person asked for.
OTHER_KINDS: dict[str, Any] = {
    "message": _("служебные: коды подтверждения, сообщения о профиле"),
    "bill": _("квитанция на e-mail по запросу"),
}
#: A push token is shown by its start and end: enough to tell devices apart.
TOKEN_SHOWN = (12, 6)


# --- Showing values -------------------------------------------------------------------


def token_short(token: str) -> str:
    """«dGVzdC1kZXZp…c2Vk» for a long push token; a short one as it is."""
    head, tail = TOKEN_SHOWN
    return token if len(token) <= head + tail + 1 else f"{token[:head]}…{token[-tail:]}"


def recipient_display(channel: str, recipient: str) -> str:
    if channel == Channel.PUSH:
        return token_short(recipient)
    if channel == Channel.SMS:
        return phone_display(recipient)
    return recipient


def kind_label(kind: str) -> str:
    if kind in Kind.values:
        return str(Kind(kind).label)
    return str(OTHER_KINDS.get(kind, kind))


def user_short(user: User | None) -> str:
    """«Смирнова Анна, № 42» (the login when there is no name); «—» for nobody."""
    if user is None:
        return "—"
    name = " ".join(part for part in (user.last_name, user.first_name) if part) or user.get_username()
    return f"{name}, №\u00a0{user.pk}"


def users_search(queryset: QuerySet[Any], term: str, field: str = "user") -> QuerySet[Any] | None:
    """The rows of the user that ``term`` names: a user number, a phone however written or
    an e-mail; None when it names none of them."""
    term = term.strip().lstrip("№").strip()
    if term.isdigit() and len(term) < 10:
        return queryset.filter(**{f"{field}_id": int(term)})
    key: SearchKey | None = search_key(term)
    if key is None or key.kind == "number":
        return None
    return queryset.filter(**{f"{field}__in": _users_with(key)})


# --- Filters ----------------------------------------------------------------------------


def _day(text: str) -> dt.date:
    """A day as typed: 2026-11-23 (a date field sends it so) or 23.11.2026."""
    text = text.strip()
    try:
        if "." in text:
            day, month, year = text.split(".")
            return dt.date(int(year), int(month), int(day))
        return dt.date.fromisoformat(text)
    except ValueError:
        raise IncorrectLookupParameters(text) from None


class DayRangeFilter(admin.ListFilter):
    """From one day to another (both included) in the back office's time zone: two date
    fields in the filters' column, sent with the list's other choices."""

    title = _("дни")
    template = "backoffice/filter_day_range.html"
    field = "created_at"
    SINCE, UNTIL = "since", "until"

    def __init__(self, request: HttpRequest, params: dict[str, Any], model: Any, model_admin: Any) -> None:
        super().__init__(request, params, model, model_admin)
        for name in (self.SINCE, self.UNTIL):
            if name in params:
                value = params.pop(name)
                text = value[-1] if isinstance(value, list) else value
                if text.strip():
                    self.used_parameters[name] = text
        self.kept = [
            (name, value)
            for name, values in request.GET.lists()
            if name not in {self.SINCE, self.UNTIL, "p", "e"}
            for value in values
        ]

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str | None]:
        return [self.SINCE, self.UNTIL]

    def choices(self, changelist: Any) -> Any:
        yield {
            "since": self.used_parameters.get(self.SINCE, ""),
            "until": self.used_parameters.get(self.UNTIL, ""),
            "kept": self.kept,
            "clear_url": (changelist.get_query_string(remove=[self.SINCE, self.UNTIL]) if self.used_parameters else ""),
        }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        zone = timezone.get_current_timezone()
        if self.SINCE in self.used_parameters:
            since = dt.datetime.combine(_day(str(self.used_parameters[self.SINCE])), dt.time(), tzinfo=zone)
            queryset = queryset.filter(**{f"{self.field}__gte": since})
        if self.UNTIL in self.used_parameters:
            until = dt.datetime.combine(_day(str(self.used_parameters[self.UNTIL])), dt.time(), tzinfo=zone)
            queryset = queryset.filter(**{f"{self.field}__lt": until + dt.timedelta(days=1)})
        return queryset


class KindFilter(admin.SimpleListFilter):
    """The kinds of the log, listed (not looked up: that would read the whole log)."""

    title = _("вид")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        return [(str(value), str(label)) for value, label in Kind.choices] + [
            (value, str(label)) for value, label in OTHER_KINDS.items()
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(kind=self.value()) if self.value() else queryset


class ReadFilter(admin.SimpleListFilter):
    title = _("прочитано")
    parameter_name = "read"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        return [("no", gettext("не прочитано")), ("yes", gettext("прочитано"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "no":
            return queryset.filter(read_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(read_at__isnull=False)
        return queryset


class TitledList(admin.ModelAdmin):
    """A list titled by what it is («Журнал доставки сообщений»), not «Выберите … для просмотра»."""

    list_title: Any = None

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        title = self.list_title or capfirst(self.opts.verbose_name_plural)
        return super().changelist_view(request, {"title": title, **(extra_context or {})})


class ReadOnlyList(TitledList, ReadOnlyAdmin):
    pass


# --- The delivery log -------------------------------------------------------------------


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyList):
    """The delivery log, read-only; the texts are not shown (sent and failed ones are purged)."""

    list_display = ["created_column", "channel", "kind_column", "recipient_column", "status", "attempts",
                    "provider", "error_column", "next_column", "sent_column", "user_column", "supplier_column"]  # fmt: skip
    list_display_links = ["created_column"]
    list_filter = ["channel", "status", KindFilter, "supplier", DayRangeFilter]
    search_fields = ["=recipient"]  # the search itself: get_search_results
    search_help_text = _(
        "Телефон получателя в любой записи (8 916 123-45-67, +7 (916) 123 45 67), его e-mail "
        "или номер пользователя — все сообщения ему"
    )
    list_select_related = ["user", "supplier"]
    ordering = ["-created_at", "-id"]
    list_per_page = 50
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    change_list_template = "backoffice/delivery_change_list.html"
    readonly_fields = ("created_column", "channel", "kind_column", "recipient_column", "user_column",
                       "supplier_column", "notification_column", "subject", "text_column", "attachment_name",
                       "status", "attempts", "limited", "provider", "provider_message_id", "last_attempt_column",
                       "next_column", "sent_column", "last_error", "payload")  # fmt: skip
    fields = readonly_fields

    @admin.display(description=_("создано"), ordering="created_at")
    def created_column(self, obj: Delivery) -> str:
        return moment(obj.created_at)

    @admin.display(description=_("вид"), ordering="kind")
    def kind_column(self, obj: Delivery) -> str:
        return kind_label(obj.kind)

    @admin.display(description=_("получатель"), ordering="recipient")
    def recipient_column(self, obj: Delivery) -> str:
        return recipient_display(obj.channel, obj.recipient)

    @admin.display(description=_("ошибка"))
    def error_column(self, obj: Delivery) -> str:
        return Truncator(obj.last_error).chars(80) if obj.last_error else ""

    @admin.display(description=_("следующая попытка"), ordering="next_attempt_at")
    def next_column(self, obj: Delivery) -> str:
        return moment(obj.next_attempt_at)

    @admin.display(description=_("последняя попытка"))
    def last_attempt_column(self, obj: Delivery) -> str:
        return moment(obj.last_attempt_at)

    @admin.display(description=_("отправлено"), ordering="sent_at")
    def sent_column(self, obj: Delivery) -> str:
        return moment(obj.sent_at)

    @admin.display(description=_("пользователь"))
    def user_column(self, obj: Delivery) -> str:
        return user_short(obj.user)

    @admin.display(description=_("поставщик"))
    def supplier_column(self, obj: Delivery) -> str:
        return obj.supplier.short_name if obj.supplier else "—"

    @admin.display(description=_("уведомление"))
    def notification_column(self, obj: Delivery) -> SafeString | str:
        if obj.notification_id is None:
            return "—"
        url = reverse("admin:notifications_notification_change", args=[obj.notification_id])
        return format_html('<a href="{}">№\u00a0{}</a>', url, obj.notification_id)

    @admin.display(description=_("текст"))
    def text_column(self, obj: Delivery) -> str:
        return gettext("Текст не показывается: после отправки он удаляется из журнала (в нём бывают коды)")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Delivery], search_term: str
    ) -> tuple[QuerySet[Delivery], bool]:
        term = search_term.strip().lstrip("№").strip()
        if not term:
            return queryset, False
        if term.isdigit() and len(term) < 10:  # a user's number
            return queryset & deliveries_search(user_id=int(term)), False
        try:
            _kind, recipient = login_parse(term)  # a phone however written, or an e-mail
        except InvalidLogin:
            recipient = term  # a push token, or an address as it was stored
        return queryset & deliveries_search(recipient=recipient), False


# --- Notifications ------------------------------------------------------------------------


@admin.register(Notification)
class NotificationAdmin(ReadOnlyList):
    """The entries of the subscribers' notification centres and the deliveries of each."""

    list_display = ["created_column", "user_column", "kind", "title", "supplier_column", "in_portal", "read_column"]
    list_display_links = ["created_column", "title"]
    list_filter = ["kind", "supplier", ReadFilter, DayRangeFilter]
    search_fields = ["=occasion"]  # the search itself: get_search_results
    search_help_text = _("Телефон, e-mail или номер пользователя; повод (например, bill:42:2026-10)")
    list_select_related = ["user", "supplier"]
    ordering = ["-created_at", "-id"]
    list_per_page = 50
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    readonly_fields = ("created_column", "user_column", "supplier_column", "account_column", "kind", "occasion",
                       "title", "body", "in_portal", "read_column", "deliveries_column")  # fmt: skip
    fields = readonly_fields

    @admin.display(description=_("создано"), ordering="created_at")
    def created_column(self, obj: Notification) -> str:
        return moment(obj.created_at)

    @admin.display(description=_("прочитано"), ordering="read_at")
    def read_column(self, obj: Notification) -> str:
        return moment(obj.read_at)

    @admin.display(description=_("пользователь"))
    def user_column(self, obj: Notification) -> str:
        return user_short(obj.user)

    @admin.display(description=_("поставщик"))
    def supplier_column(self, obj: Notification) -> str:
        return obj.supplier.short_name if obj.supplier else "—"

    @admin.display(description=_("лицевой счёт"))
    def account_column(self, obj: Notification) -> SafeString | str:
        if obj.account_id is None:
            return "—"
        url = reverse("admin:customers_personalaccount_change", args=[obj.account_id])
        return format_html('<a href="{}">{}</a>', url, gettext("Открыть лицевой счёт"))

    @admin.display(description=_("доставка"))
    def deliveries_column(self, obj: Notification) -> SafeString | str:
        deliveries = list(obj.deliveries.order_by("created_at", "pk"))
        if not deliveries:
            return gettext("только в личном кабинете") if obj.in_portal else "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (d.get_channel_display(), recipient_display(d.channel, d.recipient), d.get_status_display(),
                 moment(d.sent_at))
                for d in deliveries
            ),
        )  # fmt: skip
        url = f"{reverse('admin:notifications_delivery_changelist')}?{urlencode({'notification__id__exact': obj.pk})}"
        return format_html(
            '<table><tbody>{}</tbody></table><p><a href="{}">{}</a></p>', rows, url, gettext("В журнале доставки")
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Notification], search_term: str
    ) -> tuple[QuerySet[Notification], bool]:
        if not search_term.strip():
            return queryset, False
        found = users_search(queryset, search_term)
        return (found if found is not None else queryset.filter(occasion=search_term.strip())), False


# --- Devices and preferences ----------------------------------------------------------------


class _UserRows(ReadOnlyList):
    """Rows of a subscriber, found by their phone, e-mail or user number."""

    search_fields = ["=user__id"]  # the search itself: get_search_results
    search_help_text = _("Телефон, e-mail или номер пользователя")
    list_select_related = ["user"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description=_("пользователь"))
    def user_column(self, obj: Any) -> str:
        return user_short(obj.user)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        if not search_term.strip():
            return queryset, False
        found = users_search(queryset, search_term)
        return (found if found is not None else queryset.none()), False


@admin.register(PushDevice)
class PushDeviceAdmin(_UserRows):
    list_display = ["user_column", "platform", "token_column", "name", "created_column", "seen_column"]
    list_filter = ["platform"]
    ordering = ["-last_seen_at", "-id"]
    readonly_fields = ("user_column", "platform", "token_column", "name", "created_column", "seen_column")
    fields = readonly_fields

    @admin.display(description=_("токен устройства"))
    def token_column(self, obj: PushDevice) -> str:
        return token_short(obj.token)

    @admin.display(description=_("зарегистрировано"), ordering="created_at")
    def created_column(self, obj: PushDevice) -> str:
        return moment(obj.created_at)

    @admin.display(description=_("последняя регистрация"), ordering="last_seen_at")
    def seen_column(self, obj: PushDevice) -> str:
        return moment(obj.last_seen_at)


@admin.register(Preference)
class PreferenceAdmin(_UserRows):
    list_display = ["user_column", "kind", "channel", "enabled", "changed_column"]
    list_filter = ["kind", "channel", "enabled"]
    ordering = ["user_id", "kind", "channel"]
    readonly_fields = ("user_column", "kind", "channel", "enabled", "changed_column")
    fields = readonly_fields

    @admin.display(description=_("изменено"), ordering="changed_at")
    def changed_column(self, obj: Preference) -> str:
        return moment(obj.changed_at)


# --- Message templates ----------------------------------------------------------------------

#: What each placeholder is, for the one who writes a template.
PLACEHOLDER_HINTS: dict[str, Any] = {
    "supplier": _("краткое наименование поставщика"),
    "hotline": _("телефон горячей линии поставщика"),
    "account": _("номер лицевого счёта"),
    "address": _("адрес помещения"),
    "portal": _("адрес личного кабинета"),
    "period": _("расчётный период, например «ноябрь 2026»"),
    "opens": _("первый день приёма показаний"),
    "closes": _("последний день приёма показаний"),
    "amount": _("сумма, например «1 234,56 ₽»"),
    "due_date": _("срок оплаты"),
    "periods": _("неоплаченные периоды"),
    "meter_serial": _("заводской номер счётчика"),
    "verification_due": _("дата окончания поверки"),
    "days_left": _("сколько дней осталось"),
    "contract_number": _("номер договора"),
    "contract_ends": _("дата окончания договора"),
    "title": _("заголовок объявления или ответа"),
    "text": _("текст объявления или ответа"),
    "paid_on": _("дата оплаты"),
}


def sample_values(supplier: Supplier | None) -> dict[str, str]:
    """Values that fill a template in a preview: plausible, and the same every time."""
    period = Period(2026, 11)
    return {
        "supplier": supplier.short_name if supplier else gettext("Газовая компания"),
        "hotline": supplier.hotline_phone if supplier else "8 800 100-00-00",
        "account": "770000000001",
        "address": gettext("Тула, ул. Ленина, д. 5, кв. 12"),
        "portal": settings.PORTAL_URL,
        "period": period.label(),
        "opens": "15.11.2026",
        "closes": "25.11.2026",
        "amount": format_rubles(Decimal("1234.56")),
        "due_date": "15.12.2026",
        "periods": gettext("{first} и {second}").format(
            first=period.previous().previous().label(), second=period.previous().label()
        ),
        "meter_serial": "0123456",
        "verification_due": "20.01.2027",
        "days_left": "58",
        "contract_number": "СГК-0012345",
        "contract_ends": "31.12.2026",
        "title": gettext("Плановые работы на газопроводе"),
        "text": gettext("25.11.2026 с 9:00 до 17:00 подача газа будет приостановлена."),
        "paid_on": "20.11.2026",
    }


@dataclass(frozen=True)
class KindHint:
    """A kind's placeholders and built-in texts, shown beside the template form."""

    kind: str
    label: str
    placeholders: list[tuple[str, str]]
    title: str
    body: str
    short: str


def kind_hints(language: str) -> list[KindHint]:
    hints = []
    for kind in BUILT_IN:
        title, body = built_in(kind=kind, channel=Channel.EMAIL, language=language)
        _title, short = built_in(kind=kind, channel=Channel.SMS, language=language)
        hints.append(
            KindHint(
                kind=str(kind),
                label=str(Kind(kind).label),
                placeholders=[
                    ("{" + name + "}", str(PLACEHOLDER_HINTS.get(name, ""))) for name in placeholders_of(kind)
                ],
                title=title,
                body=body,
                short=short,
            )
        )
    return hints


class TemplateForm(forms.ModelForm):
    """The generic form, with one difference: «Предпросмотр» checks the text as a save
    would and stops there — a form that is right is shown again, with the preview."""

    class Meta:
        model = Template
        fields = ["supplier", "kind", "channel", "language", "subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 10, "cols": 80})}

    previewing = False

    def full_clean(self) -> None:
        """The database's «one template per supplier, kind, channel and language», said in words."""
        super().full_clean()
        if not self.is_bound:
            return
        errors = self.errors.get(NON_FIELD_ERRORS)
        if not errors:
            return
        supplier = self.cleaned_data.get("supplier")
        if supplier is not None:
            twice = gettext(
                "У поставщика «%(supplier)s» уже есть шаблон этого вида для этого канала и языка: измените его"
            ) % {"supplier": supplier.short_name}
        else:
            twice = gettext("Общий шаблон этого вида для этого канала и языка уже есть: измените его")
        self.errors[NON_FIELD_ERRORS] = self.error_class(
            [twice if "template_unique" in str(error) else str(error) for error in errors], error_class="nonfield"
        )

    def is_valid(self) -> bool:
        valid = super().is_valid()
        if valid and "_preview" in self.data:
            self.previewing = True
            return False
        return valid


@admin.register(Template)
class TemplateAdmin(TitledList):
    form = TemplateForm
    list_display = ["kind", "channel", "language", "supplier_column", "subject", "updated_column"]
    list_display_links = ["kind"]
    list_filter = ["kind", "channel", "language", "supplier"]
    list_select_related = ["supplier"]
    search_fields = ["subject", "body"]
    readonly_fields = ["updated_column"]
    change_form_template = "backoffice/template_change_form.html"

    @admin.display(description=_("поставщик"), ordering="supplier__short_name")
    def supplier_column(self, obj: Template) -> str:
        return obj.supplier.short_name if obj.supplier else gettext("все")

    @admin.display(description=_("изменён"), ordering="updated_at")
    def updated_column(self, obj: Template) -> str:
        return moment(obj.updated_at) if obj.pk else "—"

    def get_fields(self, request: HttpRequest, obj: Template | None = None) -> list[Any]:
        fields = ["supplier", "kind", "channel", "language", "subject", "body"]
        return [*fields, "updated_column"] if obj is not None else fields

    def save_model(self, request: HttpRequest, obj: Template, form: Any, change: bool) -> None:
        obj.updated_at = clock.now()
        super().save_model(request, obj, form, change)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Template | None = None,
    ) -> HttpResponse:
        form = context["adminform"].form
        chosen = self._chosen(form, obj)
        language = chosen.get("language") or "ru"
        if language not in dict(settings.LANGUAGES):
            language = "ru"
        context["kind_hints"] = kind_hints(language)
        context["kind_chosen"] = chosen.get("kind", "")
        context["preview"] = self._preview(form, obj)
        channel = chosen.get("channel", "")
        context["channel_limit"] = LIMITS.get(Channel(channel)) if channel in Channel.values else None
        context["builtin_url"] = self._builtin_url(chosen) if add else ""
        return super().render_change_form(request, context, add, change, form_url, obj)

    @staticmethod
    def _chosen(form: forms.ModelForm, obj: Template | None) -> dict[str, str]:
        """The kind, channel and language the page is about: as sent, as given in the
        address (``?kind=…``), or as stored."""
        chosen = {}
        for name in ("kind", "channel", "language"):
            value = form.data.get(name) if form.is_bound else form.initial.get(name)
            if value is None and obj is not None:
                value = getattr(obj, name)
            chosen[name] = str(value or "")
        if chosen["kind"] not in Kind.values:
            chosen["kind"] = ""
        return chosen

    @staticmethod
    def _preview(form: TemplateForm, obj: Template | None) -> Rendered | None:
        """The text filled with sample values: of the form after «Предпросмотр», of the
        stored template when it is opened."""
        if form.is_bound and form.previewing:
            template = Template(**{name: form.cleaned_data[name] for name in TemplateForm.Meta.fields})
        elif not form.is_bound and obj is not None:
            template = obj
        else:
            return None
        with translation.override(template.language):
            values = sample_values(template.supplier)
        return render(title=template.subject, body=template.body, channel=template.channel, values=values)

    @staticmethod
    def _builtin_url(chosen: dict[str, str]) -> str:
        """The add page filled with the built-in text of the chosen kind and channel."""
        if not chosen["kind"] or chosen["channel"] not in Channel.values:
            return ""
        language = chosen["language"] or "ru"
        title, body = built_in(kind=chosen["kind"], channel=chosen["channel"], language=language)
        query = {"kind": chosen["kind"], "channel": chosen["channel"], "language": language, "body": body}
        if chosen["channel"] != Channel.SMS:
            query["subject"] = title
        return f"{reverse('admin:notifications_template_add')}?{urlencode(query)}"
