"""The back office for personal accounts: finding one by its number, address, holder, or the
phone or e-mail of a user linked to it; the users linked to it, each of whom an operator can
unlink with a reason (through the customers service, which keeps it in the audit log); and
the log of tries to link an account."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.backoffice.admin_billing import BenefitInline, ledger_links
from abonent.core.clock import now
from abonent.core.errors import DomainError, NotFound, ValidationFailed
from abonent.customers.models import AccountLink, Contract, GasEquipment, LinkAttempt, PersonalAccount
from abonent.customers.services import UNLINK_REASON_MIN_LENGTH, account_number_normalize, account_unlink_by_operator
from abonent.identity.contacts import email_normalize, phone_normalize
from abonent.identity.enums import AuthChannel
from abonent.identity.models import User
from abonent.metering.models import Meter

#: Unlinking a user from an account removes the link (through the service, with a reason).
UNLINK_PERMISSION = "customers.delete_accountlink"
#: How many of the latest tries to link the account its page shows.
ATTEMPTS_SHOWN = 20

_E164_RU = re.compile(r"^\+7(\d{3})(\d{3})(\d{2})(\d{2})$")
_CHANNELS = {"backoffice": _("бэк-офис")}


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def phone_display(phone: str | None) -> str:
    """+79123456789 as people write it: +7 912 345-67-89."""
    match = _E164_RU.match(phone or "")
    return "+7 {} {}-{}-{}".format(*match.groups()) if match else phone or ""


def channel_display(channel: str) -> str:
    """Where a link or a try came from, in words: «портал», «мобильное приложение»."""
    if channel in AuthChannel.values:
        return str(AuthChannel(channel).label)
    return str(_CHANNELS.get(channel, channel))


def user_contacts(user: User) -> str:
    """Who the user is, for an operator: name (if given), phone, e-mail."""
    name = " ".join(p for p in (user.last_name, user.first_name, user.middle_name) if p)
    parts = [name, phone_display(user.phone), user.email or ""]
    return ", ".join(p for p in parts if p) or user.get_username()


@dataclass(frozen=True)
class SearchKey:
    """A search term that names one thing exactly: an account number, a phone, an e-mail."""

    kind: str  # "number" | "phone" | "email"
    value: str


def search_key(term: str) -> SearchKey | None:
    """What an operator typed, if it is a 12-digit account number («77 0000 000001»), an
    e-mail, or a mobile phone written any usual Russian way («8 916 123-45-67»,
    «+7 (916) 123 45 67»); None for anything else (names, addresses)."""
    term = (term or "").strip().strip("\"'")
    if not term:
        return None
    try:
        return SearchKey("number", account_number_normalize(term))
    except DomainError:
        pass
    if "@" in term:
        try:
            return SearchKey("email", email_normalize(term))
        except DomainError:
            return None
    try:
        return SearchKey("phone", phone_normalize(term))
    except DomainError:
        return None


def _users_with(key: SearchKey) -> QuerySet[User]:
    """The user with that phone or e-mail, by the unique index. E-mails are stored as typed
    at registration (the domain in lower case): only when no address is exactly the one
    typed is it compared ignoring case, which the index does not serve."""
    if key.kind == "phone":
        return User.objects.filter(phone=key.value)
    exact = User.objects.filter(email__in={key.value, key.value.lower()})
    return exact if exact.exists() else User.objects.filter(email__iexact=key.value)


#: What a word of a search for an account may match (the account's own fields: no join, no
#: duplicates). A house number («12», «12А», «12/1», «5к2») is only a house: as a part of a
#: street it would match most of them and cost a look at every row.
ACCOUNT_WORD_LOOKUPS = [
    "holder_last_name__istartswith",
    "holder_first_name__istartswith",
    "street__icontains",
    "locality__icontains",
]
ACCOUNT_HOUSE_LOOKUPS = ["house__iexact"]
_HOUSE = re.compile(r"\d[\d/]*(?:[^\W\d_]\d*)?")
#: Words said before a house number, not stored with it: «Садовая д. 12».
_HOUSE_WORDS = {"д", "д.", "дом"}


def _case_variants(word: str, vendor: str) -> set[str]:
    """SQLite compares letters other than Latin ones case-sensitively («иванова» would not
    find «Иванова»): there, the word is also tried in the cases names are written in."""
    if vendor != "sqlite":
        return {word}
    return {word, word.lower(), word.capitalize(), word.upper()}


def words_search(
    queryset: QuerySet[Any], term: str, lookups: list[str], house_lookups: list[str] | None = None
) -> QuerySet[Any]:
    """Every word of ``term`` (a phrase in quotes is one word) matches one of ``lookups``;
    a house number, one of ``house_lookups`` when they are given."""
    vendor = connections[queryset.db].vendor
    for bit in smart_split(term):
        word = unescape_string_literal(bit) if bit[:1] in {'"', "'"} and bit[-1:] == bit[:1] else bit
        if not word.strip() or (house_lookups and word.lower() in _HOUSE_WORDS):
            continue
        fields = house_lookups if house_lookups and _HOUSE.fullmatch(word) else lookups
        match = Q()
        for variant in _case_variants(word, vendor):
            for lookup in fields:
                match |= Q(**{lookup: variant})
        queryset = queryset.filter(match)
    return queryset


# --- Personal accounts ----------------------------------------------------------------


class MeterInline(admin.TabularInline):
    """The account's meters, each with links to its readings and to entering one (for those
    allowed to see readings and to enter them)."""

    model = Meter
    extra = 0
    fields = ["serial", "model", "installed_on", "verification_due_on", "status"]
    readonly_fields = ["readings_link", "enter_reading_link"]
    show_change_link = True

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fields = list(super().get_fields(request, obj))
        if request.user.has_perm("metering.view_reading"):
            fields.append("readings_link")
        if request.user.has_perm("metering.add_reading"):  # the entry page's permission
            fields.append("enter_reading_link")
        return fields

    @admin.display(description=_("показания"))
    def readings_link(self, obj: Meter) -> str:
        if obj.pk is None:
            return ""
        url = f"{reverse('admin:metering_reading_changelist')}?{urlencode({'meter__id__exact': obj.pk})}"
        return format_html('<a href="{}">{}</a>', url, gettext("Показания"))

    @admin.display(description="")
    def enter_reading_link(self, obj: Meter) -> str:
        if obj.pk is None:
            return ""
        url = reverse("admin:metering_meter_reading_enter", args=[obj.pk])
        back = reverse("admin:customers_personalaccount_change", args=[obj.account_id])
        return format_html(
            '<a href="{}?{}" class="addlink">{}</a>', url, urlencode({"next": back}), gettext("Ввести показание")
        )


class EquipmentInline(admin.TabularInline):
    model = GasEquipment
    extra = 0


class ContractInline(admin.TabularInline):
    model = Contract
    extra = 0


@dataclass(frozen=True)
class LinkRow:
    """A user linked to the account, as its page lists them."""

    link: AccountLink
    contacts: str
    channel: str
    user_url: str | None
    unlink_url: str | None


@dataclass(frozen=True)
class AttemptRow:
    """A try to link the account, as its page lists them."""

    attempt: LinkAttempt
    contacts: str
    channel: str


class UnlinkForm(forms.Form):
    # Not required here: an empty reason gets the service's own message, next to the field.
    reason = forms.CharField(
        label=_("Причина отвязки"),
        required=False,
        max_length=500,
        help_text=_("Например: «обращение владельца счёта от 20.11.2026, счёт привязал посторонний»"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60, "required": True, "minlength": UNLINK_REASON_MIN_LENGTH}),
    )


@admin.register(PersonalAccount)
class PersonalAccountAdmin(admin.ModelAdmin):
    list_display = ["number", "holder_name", "address", "supplier", "status"]
    list_filter = ["supplier", "status", "uses_heating"]
    # A number, a phone or an e-mail is looked up exactly; any other words must each match
    # the start of the holder's surname or name, the house, or a part of the street or
    # locality (stored with «ул.», «г.» in front). See get_search_results.
    search_fields = ["=number", "^holder_last_name", "^holder_first_name", "street", "locality", "=house"]
    search_help_text = _(
        "Номер лицевого счёта, телефон или e-mail привязавшего его пользователя, "
        "фамилия и имя владельца, улица, населённый пункт, дом"
    )
    list_select_related = ["supplier"]
    show_full_result_count = False
    inlines = [MeterInline, EquipmentInline, ContractInline, BenefitInline]
    change_form_template = "backoffice/personalaccount_change_form.html"
    # The bill by e-mail instead of paper is the subscriber's choice, made in their account.
    readonly_fields = ["paperless_user", "paperless_since"]

    @admin.display(description=_("владелец"))
    def holder_name(self, obj: PersonalAccount) -> str:
        return obj.holder_name

    @admin.display(description=_("адрес"))
    def address(self, obj: PersonalAccount) -> str:
        return obj.address

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[PersonalAccount], search_term: str
    ) -> tuple[QuerySet[PersonalAccount], bool]:
        key = search_key(search_term)
        if key is None:
            return words_search(queryset, search_term, ACCOUNT_WORD_LOOKUPS, ACCOUNT_HOUSE_LOOKUPS), False
        if key.kind == "number":
            return queryset.filter(number=key.value), False
        # a subquery rather than a join: an account appears once however many users match
        linked = AccountLink.objects.filter(user__in=_users_with(key)).values("account_id")
        return queryset.filter(pk__in=linked), False

    # --- The users linked to the account, the tries to link it ------------------------

    def has_unlink_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(UNLINK_PERMISSION)

    def _link_rows(self, request: HttpRequest, account: PersonalAccount) -> list[LinkRow]:
        can_unlink = self.has_unlink_permission(request)
        user_admin = self.admin_site.is_registered(User) and request.user.has_perm("identity.view_user")
        links = AccountLink.objects.filter(account=account).select_related("user").order_by("linked_at", "pk")
        return [
            LinkRow(
                link=link,
                contacts=user_contacts(link.user),
                channel=channel_display(link.channel),
                user_url=reverse("admin:identity_user_change", args=[link.user_id]) if user_admin else None,
                unlink_url=(
                    reverse("admin:customers_personalaccount_unlink", args=[account.pk, link.pk])
                    if can_unlink
                    else None
                ),
            )
            for link in links
        ]

    def _attempt_rows(self, account: PersonalAccount) -> list[AttemptRow]:
        """The latest tries to link the account's number: those that named its supplier or
        found the account, and those that named no supplier (the number matched nothing)."""
        attempts = (
            LinkAttempt.objects.filter(number=account.number)
            .filter(Q(supplier=account.supplier_id) | Q(supplier__isnull=True))
            .select_related("user")
            .order_by("-at", "-pk")[:ATTEMPTS_SHOWN]
        )
        return [AttemptRow(a, user_contacts(a.user), channel_display(a.channel)) for a in attempts]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: PersonalAccount | None = None,
    ) -> HttpResponse:
        if obj is not None:
            user = request.user
            query = urlencode({"q": obj.number})
            if user.has_perm("customers.view_accountlink"):
                context["link_rows"] = self._link_rows(request, obj)
            if user.has_perm("customers.view_linkattempt"):
                context["link_attempts"] = self._attempt_rows(obj)
                context["link_attempts_shown"] = ATTEMPTS_SHOWN
                context["link_attempts_url"] = f"{reverse('admin:customers_linkattempt_changelist')}?{query}"
            if user.has_perm("core.view_auditrecord"):
                context["link_audit_url"] = f"{reverse('admin:core_auditrecord_changelist')}?{query}"
            context.update(ledger_links(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "<path:object_id>/links/<int:link_id>/unlink/",
                self.admin_site.admin_view(self.unlink_view),
                name="customers_personalaccount_unlink",
            ),
            *super().get_urls(),
        ]

    def unlink_view(self, request: HttpRequest, object_id: str, link_id: int) -> HttpResponse:
        """Ask for the reason, then remove the user's link through the customers service.
        Only a POST changes anything; the reason the service refuses is shown on the form."""
        if not self.has_unlink_permission(request):
            raise PermissionDenied
        account = self.get_object(request, unquote(object_id))
        if account is None:
            raise Http404
        link = AccountLink.objects.select_related("user").filter(pk=link_id, account=account).first()
        if link is None:
            raise Http404
        back = reverse("admin:customers_personalaccount_change", args=[account.pk])
        form = UnlinkForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            operator = request.user
            assert isinstance(operator, User)
            try:
                account_unlink_by_operator(
                    operator=operator,
                    link_id=link.pk,
                    reason=form.cleaned_data["reason"],
                    ip=client_ip(request),
                    now=now(),
                )
            except ValidationFailed as exc:
                for field, errors in exc.errors.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            except NotFound as exc:
                messages.error(request, exc.text)
                return HttpResponseRedirect(back)
            else:
                messages.success(
                    request,
                    gettext(
                        "Пользователь %(user)s отвязан от лицевого счёта %(number)s. Причина записана в журнал изменений."
                    )
                    % {"user": user_contacts(link.user), "number": account.number},
                )
                return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Отвязать пользователя от лицевого счёта %(number)s") % {"number": account.number},
            "opts": self.opts,
            "account": account,
            "link": link,
            "contacts": user_contacts(link.user),
            "form": form,
            "back_url": back,
        }
        return TemplateResponse(request, "backoffice/accountlink_unlink.html", context)


# --- The log of tries to link an account ----------------------------------------------


class ChannelFilter(admin.SimpleListFilter):
    """The channels a subscriber links an account from, named in words (listed, not looked
    up in the log: that would read all of it on every page)."""

    title = _("откуда")
    parameter_name = "channel"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        return [(str(value), str(label)) for value, label in AuthChannel.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(channel=self.value()) if self.value() else queryset


@admin.register(LinkAttempt)
class LinkAttemptAdmin(admin.ModelAdmin):
    """Every try to link an account, read-only: the services write it."""

    list_display = [
        "at",
        "number",
        "supplier",
        "user_column",
        "outcome",
        "proof",
        "channel_column",
        "ip",
        "account_column",
    ]
    list_filter = ["outcome", ChannelFilter, "supplier"]
    search_fields = ["=number"]
    search_help_text = _("Номер лицевого счёта (12 цифр), телефон или e-mail пользователя")
    date_hierarchy = "at"
    ordering = ["-at", "-pk"]
    list_select_related = ["user", "supplier", "account"]
    show_full_result_count = False

    @admin.display(description=_("пользователь"))
    def user_column(self, obj: LinkAttempt) -> str:
        return user_contacts(obj.user)

    @admin.display(description=_("откуда"), ordering="channel")
    def channel_column(self, obj: LinkAttempt) -> str:
        return channel_display(obj.channel)

    @admin.display(description=_("лицевой счёт"), ordering="account")
    def account_column(self, obj: LinkAttempt) -> str:
        if obj.account_id is None:
            return "—"
        url = reverse("admin:customers_personalaccount_change", args=[obj.account_id])
        return format_html('<a href="{}">{}</a>', url, obj.account)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[LinkAttempt], search_term: str
    ) -> tuple[QuerySet[LinkAttempt], bool]:
        key = search_key(search_term)
        if key is None:
            return super().get_search_results(request, queryset, search_term)
        if key.kind == "number":
            return queryset.filter(number=key.value), False
        return queryset.filter(user__in=_users_with(key)), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
