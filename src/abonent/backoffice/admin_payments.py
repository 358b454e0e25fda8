"""The back office for payments.

- Payments, read-only: found by an account number however it is written, the payment's own
  number or the gateway's; the page of one shows what it paid on which account (with links
  to the account's ledger), the gateway's notifications about it and its refunds.
- «Вернуть деньги»: a refund of a succeeded online payment, started through
  ``refund_start``; what the service refuses is shown next to the field or above the form.
- «Спросить у платёжного сервиса»: a payment still waiting is settled by ``payment_settle``
  (the gateway's answer applied, as its notification would have been); a refund still
  waiting, by ``refund_settle``.
- The gateway's notifications as they came: the inbox to look at when a payer says the
  money was taken but not credited. Refunds and bank registries (files and their lines),
  read-only.
- «Загрузить реестр»: a bank's registry of payments checked first (a dry run), then
  imported through ``registry_import`` by its valid lines or whole, with a report: the
  counts, the summary line, the lines repeated or refused; a file that cannot be imported
  at all is refused next to the file field and nothing is written.

Who may do what: viewing needs the ``view_`` permissions (asking the gateway about a payment
too: it applies what the gateway says, nobody decides anything); a refund and asking the
gateway about one, ``add_refund``; importing a registry, ``add_registryfile`` (see
``identity/roles.py``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from abonent.backoffice.admin_accounts import user_contacts
from abonent.backoffice.admin_billing import ReadOnlyAdmin, _operator, day, moment, rubles
from abonent.backoffice.admin_readings import UploadLimit
from abonent.core import clock
from abonent.core.errors import DomainError, ValidationFailed
from abonent.core.models import Supplier
from abonent.core.selectors import suppliers_active
from abonent.customers.models import PersonalAccount
from abonent.customers.services import account_number_normalize
from abonent.ledger.enums import Service
from abonent.payments.enums import Channel, PaymentStatus, RefundStatus
from abonent.payments.models import GatewayEvent, Payment, PaymentPart, Refund, RegistryFile, RegistryLine
from abonent.payments.registries import (
    SOURCE_RE,
    RegistryAlreadyLoaded,
    RegistryFileInvalid,
    RegistryMode,
    RegistryReport,
    registry_import,
)
from abonent.payments.registry_format import DEFAULT, ProfileError, profiles
from abonent.payments.selectors import refunded_get
from abonent.payments.services import (
    PaymentGatewayUnavailable,
    RefundNotAllowed,
    payment_settle,
    refund_settle,
    refund_start,
)

#: Starting a refund, and asking the gateway about a refund that waits.
REFUND_PERMISSION = "payments.add_refund"
#: The session's list of refund forms already sent (see ``PaymentAdmin.refund_view``).
SENT_FORMS = "backoffice_refund_forms"
#: How many sent forms the session remembers (the oldest are forgotten first).
SENT_FORMS_KEPT = 50
_KEY = re.compile(r"^[0-9a-f]{32}$")
#: Payment states the gateway may still change: the payment page offers to ask it.
WAITING = (PaymentStatus.CREATED, PaymentStatus.PENDING)


def titled(base: type[admin.FieldListFilter], title: str | Promise) -> type[admin.FieldListFilter]:
    """A field's list filter under a title of its own (the field has no Russian name)."""

    class Titled(base):  # type: ignore[valid-type,misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.title = title

    return Titled


def _payment_url(payment_id: int) -> str:
    return reverse("admin:payments_payment_change", args=[payment_id])


def payment_link(payment: Payment | None) -> SafeString | str:
    """«1 250,50 ₽, оплачен» linking to the payment's page; «—» when there is none."""
    if payment is None:
        return "—"
    return format_html(
        '<a href="{}">{}, {}</a>', _payment_url(payment.pk), rubles(payment.amount), payment.get_status_display()
    )


def payer_display(payment: Payment) -> str:
    """Who paid: the name from a bank's registry, else the portal's user."""
    if payment.payer:
        return payment.payer
    return user_contacts(payment.user) if payment.user is not None else "—"


def _term_search(term: str) -> Q | None:
    """The payments a search term names: the account number however it is written («77 0000
    000001»), the payment's own number (a UUID), the gateway's number or a bank's reference.
    None for an empty term."""
    term = term.strip()
    if not term:
        return None
    found = Q(gateway_payment_id=term) | Q(reference=term)
    with contextlib.suppress(ValueError):
        found |= Q(public_id=uuid.UUID(term))
    with contextlib.suppress(DomainError):
        accounts = PersonalAccount.objects.filter(number=account_number_normalize(term)).values("pk")
        found |= Q(pk__in=PaymentPart.objects.filter(account__in=accounts).values("payment_id"))
    return found


class PaymentsAdmin(ReadOnlyAdmin):
    """Read-only, with «—» for what is not there and a heading of the row in words."""

    empty_value_display = "—"

    def heading(self, obj: Any) -> str:
        return str(obj)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        if obj is not None:
            context["subtitle"] = self.heading(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)


# --- Payments ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PartRow:
    part: PaymentPart
    service: str
    period: str
    amount: str
    account_url: str
    ledger_url: str | None


@dataclass(frozen=True)
class EventRow:
    event: GatewayEvent
    received: str
    url: str


@dataclass(frozen=True)
class RefundRow:
    refund: Refund
    created: str
    amount: str
    by: str
    url: str


class RefundForm(forms.Form):
    # Not required here: an empty amount or reason gets the service's own message, next to the field.
    amount = forms.CharField(
        label=_("Сумма возврата, ₽"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": 14}),
    )
    reason = forms.CharField(
        label=_("Причина"),
        required=False,
        max_length=300,
        help_text=_("Например: «платёж внесён дважды, заявление абонента от 20.11.2026»"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )
    key = forms.CharField(widget=forms.HiddenInput)

    def clean_key(self) -> str:
        key: str = self.cleaned_data["key"]
        if not _KEY.match(key):
            raise forms.ValidationError(gettext("Откройте форму возврата заново"))
        return key


def _claim(request: HttpRequest, key: str) -> bool:
    """Note the form's key in the session, saved at once; False when it was sent before."""
    sent: dict[str, int | None] = dict(request.session.get(SENT_FORMS, {}))
    if key in sent:
        return False
    sent[key] = None
    request.session[SENT_FORMS] = dict(list(sent.items())[-SENT_FORMS_KEPT:])
    request.session.save()
    return True


def _settle_claim(request: HttpRequest, key: str, refund_id: int | None) -> None:
    """The form led to the refund (kept, with its id when known), or to nothing (forgotten:
    the operator puts the values right and sends the same form again)."""
    sent: dict[str, int | None] = dict(request.session.get(SENT_FORMS, {}))
    if refund_id is None:
        sent.pop(key, None)
    else:
        sent[key] = refund_id
    request.session[SENT_FORMS] = sent


@admin.register(Payment)
class PaymentAdmin(PaymentsAdmin):
    list_display = ["created_column", "paid_column", "supplier", "channel", "gateway", "method", "status",
                    "amount_column", "payer_column", "gateway_payment_id"]  # fmt: skip
    list_filter = ["supplier", "status", "channel", "gateway"]
    list_select_related = ["supplier", "user"]
    search_fields = ["=gateway_payment_id"]
    search_help_text = _(
        "Номер лицевого счёта (12 цифр), номер платежа, номер платежа в платёжном сервисе или номер операции банка"
    )
    ordering = ["-created_at", "-pk"]
    show_full_result_count = False
    readonly_fields = ("public_id_column", "supplier", "channel", "gateway", "method", "status", "amount_column",
                       "created_column", "paid_column", "payer_column", "gateway_payment_id", "canceled_reason",
                       "receipt_email", "receipt_phone", "receipt_url", "source", "reference")  # fmt: skip
    fields = readonly_fields
    change_form_template = "backoffice/payment_change_form.html"

    def heading(self, obj: Payment) -> str:
        return gettext("Платёж %(amount)s от %(created)s, %(status)s") % {
            "amount": rubles(obj.amount),
            "created": moment(obj.created_at),
            "status": obj.get_status_display(),
        }

    @admin.display(description=_("номер платежа"))
    def public_id_column(self, obj: Payment) -> str:
        return str(obj.public_id)

    @admin.display(description=_("создан"), ordering="created_at")
    def created_column(self, obj: Payment) -> str:
        return moment(obj.created_at)

    @admin.display(description=_("дата оплаты"), ordering="paid_on")
    def paid_column(self, obj: Payment) -> str:
        return day(obj.paid_on)

    @admin.display(description=_("сумма"), ordering="amount")
    def amount_column(self, obj: Payment) -> str:
        return rubles(obj.amount)

    @admin.display(description=_("плательщик"))
    def payer_column(self, obj: Payment) -> str:
        return payer_display(obj)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Payment], search_term: str
    ) -> tuple[QuerySet[Payment], bool]:
        found = _term_search(search_term)
        return (queryset if found is None else queryset.filter(found)), False

    def has_refund_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(REFUND_PERMISSION)

    def _payment(self, payment_id: int) -> Payment:
        payment = Payment.objects.select_related("supplier", "user").filter(pk=payment_id).first()
        if payment is None:
            raise Http404
        return payment

    def _part_rows(self, request: HttpRequest, payment: Payment) -> list[PartRow]:
        sees_ledger = request.user.has_perm("ledger.view_ledgerentry")
        return [
            PartRow(
                part=part,
                service=str(Service(part.service).label) if part.service in Service.values else part.service,
                period=part.period.label() if part.period else "—",
                amount=rubles(part.amount),
                account_url=reverse("admin:customers_personalaccount_change", args=[part.account_id]),
                ledger_url=(
                    reverse("admin:ledger_ledgerentry_account", args=[part.account_id]) if sees_ledger else None
                ),
            )
            for part in payment.parts.select_related("account").order_by("pk")
        ]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Payment | None = None,
    ) -> HttpResponse:
        if obj is not None:
            online = obj.channel == Channel.ONLINE
            refunded = refunded_get(payment=obj)
            context.update(
                {
                    "part_rows": self._part_rows(request, obj),
                    "event_rows": [
                        EventRow(e, moment(e.received_at), reverse("admin:payments_gatewayevent_change", args=[e.pk]))
                        for e in obj.events.order_by("-received_at", "-pk")
                    ],
                    "refund_rows": [
                        RefundRow(
                            refund=r,
                            created=moment(r.created_at),
                            amount=rubles(r.amount),
                            by=user_contacts(r.created_by) if r.created_by is not None else "—",
                            url=reverse("admin:payments_refund_change", args=[r.pk]),
                        )
                        for r in obj.refunds.select_related("created_by").order_by("-created_at", "-pk")
                    ],
                    "refunded": rubles(refunded.succeeded),
                    "refund_pending": rubles(refunded.pending) if refunded.pending else None,
                    # the buttons are offered where the service may agree; it decides
                    "refund_url": (
                        reverse("admin:payments_payment_refund", args=[obj.pk])
                        if online
                        and obj.status == PaymentStatus.SUCCEEDED
                        and refunded.left > 0
                        and self.has_refund_permission(request)
                        else None
                    ),
                    "settle_url": (
                        reverse("admin:payments_payment_settle", args=[obj.pk])
                        if online and obj.status in WAITING
                        else None
                    ),
                }
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "<int:payment_id>/refund/", self.admin_site.admin_view(self.refund_view), name="payments_payment_refund"
            ),
            path(
                "<int:payment_id>/settle/", self.admin_site.admin_view(self.settle_view), name="payments_payment_settle"
            ),
            *super().get_urls(),
        ]

    def refund_view(self, request: HttpRequest, payment_id: int) -> HttpResponse:
        """Return money of a succeeded online payment through ``refund_start``: the service
        splits it over the payment's parts, asks the gateway and posts the reversing entries;
        the reason and the operator's name go to the audit log. Only a POST changes anything.

        A form sent twice (a second click, a reload, Back and send again) starts one refund.
        The service makes a new idempotence key for every call, so the form carries a key of
        its own and the operator's session remembers the keys of the forms sent: the key is
        written to the session, and the session saved to the database (shared by every app
        server), before the service is called, so a second sending that arrives while the
        first still waits for the gateway finds it and only leads back to the payment. A key
        is forgotten when the service refused the values (nothing was started): the operator
        puts them right and sends the same form again. It is kept when a refund was started,
        even if the gateway did not answer: that refund waits and is sent again from its own
        page, never by starting another one. Whatever gets through, the service never returns
        more than what is left of the payment."""
        if not self.has_refund_permission(request):
            raise PermissionDenied
        payment = self._payment(payment_id)
        back = _payment_url(payment.pk)
        form = RefundForm(request.POST if request.method == "POST" else None, initial={"key": uuid.uuid4().hex})
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            if not _claim(request, data["key"]):
                messages.warning(
                    request, gettext("Этот возврат уже оформлен: повторная отправка формы ничего не изменила.")
                )
                return HttpResponseRedirect(back)
            try:
                refund = refund_start(
                    payment_id=payment.pk,
                    amount=data["amount"],
                    reason=data["reason"],
                    actor_id=_operator(request).pk,
                    now=clock.now(),
                )
            except ValidationFailed as exc:
                _settle_claim(request, data["key"], None)
                for field, errors in exc.errors.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            except RefundNotAllowed as exc:
                _settle_claim(request, data["key"], None)
                form.add_error(exc.field if exc.field in form.fields else None, exc.text)
            except PaymentGatewayUnavailable as exc:
                form.add_error(
                    None,
                    gettext(
                        "%(error)s. Возврат записан и ждёт отправки: не оформляйте его снова, а откройте его "
                        "в списке возвратов и нажмите «Спросить у платёжного сервиса»."
                    )
                    % {"error": exc.text.rstrip(".")},
                )
            except DomainError as exc:
                form.add_error(None, exc.text)
            else:
                _settle_claim(request, data["key"], refund.pk)
                values = {"amount": rubles(refund.amount), "payment": payment.public_id}
                if refund.status == RefundStatus.SUCCEEDED:
                    messages.success(
                        request,
                        gettext("Деньги возвращены: %(amount)s по платежу %(payment)s, проводки возврата сделаны.")
                        % values,
                    )
                else:
                    messages.success(
                        request,
                        gettext(
                            "Возврат %(amount)s по платежу %(payment)s отправлен в платёжный сервис и ждёт его ответа."
                        )
                        % values,
                    )
                return HttpResponseRedirect(back)
        refunded = refunded_get(payment=payment)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Возврат по платежу %(payment)s") % {"payment": payment.public_id},
            "opts": self.opts,
            "payment": payment,
            "amount": rubles(payment.amount),
            "paid_on": day(payment.paid_on),
            "payer": payer_display(payment),
            "refunded": rubles(refunded.succeeded),
            "refund_pending": rubles(refunded.pending) if refunded.pending else None,
            "left": rubles(refunded.left),
            "part_rows": self._part_rows(request, payment),
            "form": form,
            "back_url": back,
        }
        return TemplateResponse(request, "backoffice/payment_refund.html", context)

    def settle_view(self, request: HttpRequest, payment_id: int) -> HttpResponse:
        """Ask the gateway how a waiting payment stands and apply its answer (POST only),
        through ``payment_settle``: what reconciliation does some minutes later anyway."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        before = self._payment(payment_id)
        back = _payment_url(before.pk)
        try:
            payment = payment_settle(payment_id=before.pk, now=clock.now())
        except DomainError as exc:
            messages.error(request, exc.text)
            return HttpResponseRedirect(back)
        if before.status not in WAITING:
            messages.info(
                request,
                gettext("Платёж уже не ждёт ответа платёжного сервиса: %(status)s.")
                % {"status": payment.get_status_display()},
            )
        elif payment.status == PaymentStatus.SUCCEEDED:
            messages.success(
                request,
                gettext("Платёжный сервис подтвердил оплату %(amount)s: платёж проведён по лицевому счёту.")
                % {"amount": rubles(payment.amount)},
            )
        elif payment.status == PaymentStatus.CANCELED:
            messages.warning(
                request,
                gettext(
                    "Платёж отменён платёжным сервисом (%(reason)s): деньги не списаны или будут возвращены банком."
                )
                % {"reason": payment.canceled_reason or "—"},
            )
        else:
            messages.info(
                request,
                gettext("Платёж ещё не оплачен: плательщик не завершил оплату на странице платёжного сервиса."),
            )
        return HttpResponseRedirect(back)


# --- The gateway's notifications ----------------------------------------------------------


@admin.register(GatewayEvent)
class GatewayEventAdmin(PaymentsAdmin):
    """Notifications as the gateway sent them. A rejected one says why; one about a payment
    not found here names the gateway's number to look for."""

    list_display = ["received_column", "gateway_column", "event_column", "object_column", "status_column",
                    "deliveries_column", "error_column", "remote_column", "payment_column"]  # fmt: skip
    list_filter = [
        ("gateway", titled(admin.ChoicesFieldListFilter, _("платёжный шлюз"))),
        ("status", titled(admin.ChoicesFieldListFilter, _("состояние"))),
        ("event", titled(admin.AllValuesFieldListFilter, _("событие"))),
    ]
    list_select_related = ["payment"]
    search_fields = ["=object_id"]
    search_help_text = _("Номер платежа или возврата в платёжном сервисе")
    ordering = ["-received_at", "-pk"]
    show_full_result_count = False
    readonly_fields = ("received_column", "gateway_column", "event_column", "object_column", "status_column",
                       "deliveries_column", "error_column", "remote_column", "processed_column", "payment_column",
                       "payments_found", "payload_column")  # fmt: skip
    fields = readonly_fields

    def heading(self, obj: GatewayEvent) -> str:
        return gettext("Уведомление %(event)s от %(received)s, %(status)s") % {
            "event": obj.event or "—",
            "received": moment(obj.received_at),
            "status": obj.get_status_display(),
        }

    @admin.display(description=_("получено"), ordering="received_at")
    def received_column(self, obj: GatewayEvent) -> str:
        return moment(obj.received_at)

    @admin.display(description=_("платёжный шлюз"), ordering="gateway")
    def gateway_column(self, obj: GatewayEvent) -> str:
        return obj.get_gateway_display()

    @admin.display(description=_("событие"), ordering="event")
    def event_column(self, obj: GatewayEvent) -> str:
        return obj.event or "—"

    @admin.display(description=_("номер в шлюзе"), ordering="object_id")
    def object_column(self, obj: GatewayEvent) -> str:
        return obj.object_id or "—"

    @admin.display(description=_("состояние"), ordering="status")
    def status_column(self, obj: GatewayEvent) -> str:
        return obj.get_status_display()

    @admin.display(description=_("доставок"), ordering="deliveries")
    def deliveries_column(self, obj: GatewayEvent) -> int:
        return obj.deliveries

    @admin.display(description=_("ошибка"))
    def error_column(self, obj: GatewayEvent) -> str:
        return obj.error or "—"

    @admin.display(description=_("адрес отправителя"))
    def remote_column(self, obj: GatewayEvent) -> str:
        return obj.remote_addr or "—"

    @admin.display(description=_("обработано"), ordering="processed_at")
    def processed_column(self, obj: GatewayEvent) -> str:
        return moment(obj.processed_at)

    @admin.display(description=_("платёж"))
    def payment_column(self, obj: GatewayEvent) -> SafeString | str:
        return payment_link(obj.payment)

    @admin.display(description=_("платежи с этим номером"))
    def payments_found(self, obj: GatewayEvent) -> SafeString | str:
        if not obj.object_id:
            return "—"
        url = f"{reverse('admin:payments_payment_changelist')}?{urlencode({'q': obj.object_id})}"
        return format_html('<a href="{}">{}</a>', url, gettext("Найти"))

    @admin.display(description=_("содержимое"))
    def payload_column(self, obj: GatewayEvent) -> SafeString:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, ensure_ascii=False, indent=2, sort_keys=True))


# --- Refunds ----------------------------------------------------------------------------


@admin.register(Refund)
class RefundAdmin(PaymentsAdmin):
    list_display = ["created_column", "payment_column", "amount_column", "status", "reason", "by_column",
                    "succeeded_column", "gateway_id_column"]  # fmt: skip
    list_filter = ["status", "payment__supplier"]
    list_select_related = ["payment", "created_by"]
    search_fields = ["=gateway_refund_id"]
    search_help_text = _("Номер лицевого счёта (12 цифр), номер платежа или номер платежа в платёжном сервисе")
    ordering = ["-created_at", "-pk"]
    show_full_result_count = False
    readonly_fields = ("created_column", "payment_column", "amount_column", "status", "reason", "by_column",
                       "succeeded_column", "gateway_id_column")  # fmt: skip
    fields = readonly_fields
    change_form_template = "backoffice/payment_refund_change_form.html"

    def heading(self, obj: Refund) -> str:
        return gettext("Возврат %(amount)s от %(created)s, %(status)s") % {
            "amount": rubles(obj.amount),
            "created": moment(obj.created_at),
            "status": obj.get_status_display(),
        }

    @admin.display(description=_("оформлен"), ordering="created_at")
    def created_column(self, obj: Refund) -> str:
        return moment(obj.created_at)

    @admin.display(description=_("платёж"))
    def payment_column(self, obj: Refund) -> SafeString | str:
        return payment_link(obj.payment)

    @admin.display(description=_("сумма"), ordering="amount")
    def amount_column(self, obj: Refund) -> str:
        return rubles(obj.amount)

    @admin.display(description=_("оформил"))
    def by_column(self, obj: Refund) -> str:
        return user_contacts(obj.created_by) if obj.created_by is not None else "—"

    @admin.display(description=_("возвращено"), ordering="succeeded_at")
    def succeeded_column(self, obj: Refund) -> str:
        return moment(obj.succeeded_at)

    @admin.display(description=_("номер в шлюзе"))
    def gateway_id_column(self, obj: Refund) -> str:
        return obj.gateway_refund_id or "—"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Refund], search_term: str
    ) -> tuple[QuerySet[Refund], bool]:
        found = _term_search(search_term)
        if found is None:
            return queryset, False
        return queryset.filter(
            Q(payment__in=Payment.objects.filter(found).values("pk")) | Q(gateway_refund_id=search_term.strip())
        ), False

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Refund | None = None,
    ) -> HttpResponse:
        if obj is not None and obj.status == RefundStatus.PENDING and request.user.has_perm(REFUND_PERMISSION):
            context["settle_url"] = reverse("admin:payments_refund_settle", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "<int:refund_id>/settle/", self.admin_site.admin_view(self.settle_view), name="payments_refund_settle"
            ),
            *super().get_urls(),
        ]

    def settle_view(self, request: HttpRequest, refund_id: int) -> HttpResponse:
        """A refund that waits: sent to the gateway again (with its own idempotence key: the
        gateway returns once) or asked how it stands, through ``refund_settle``. POST only."""
        if not request.user.has_perm(REFUND_PERMISSION):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not Refund.objects.filter(pk=refund_id).exists():
            raise Http404
        back = reverse("admin:payments_refund_change", args=[refund_id])
        try:
            refund = refund_settle(refund_id=refund_id, now=clock.now())
        except DomainError as exc:
            messages.error(request, exc.text)
            return HttpResponseRedirect(back)
        values = {"amount": rubles(refund.amount), "status": refund.get_status_display()}
        if refund.status == RefundStatus.SUCCEEDED:
            messages.success(request, gettext("Возврат %(amount)s: %(status)s.") % values)
        elif refund.status == RefundStatus.CANCELED:
            messages.warning(request, gettext("Возврат %(amount)s: %(status)s платёжным сервисом.") % values)
        else:
            messages.info(request, gettext("Возврат %(amount)s ещё в обработке у платёжного сервиса.") % values)
        return HttpResponseRedirect(back)


# --- Bank registries ----------------------------------------------------------------------

#: Importing a bank's registry of payments (the generic «add» form stays closed).
REGISTRY_IMPORT_PERMISSION = "payments.add_registryfile"
#: How many codes of the banks and agents loaded before the source field suggests.
SOURCES_SUGGESTED = 50
REGISTRY_MODES = [
    (RegistryMode.VALID_LINES.value, _("Верные строки: провести их, остальные — в отчёт")),
    (RegistryMode.WHOLE.value, _("Весь файл — только если в нём нет ни одной ошибки")),
]


def registry_max_bytes() -> int:
    return int(settings.PAYMENT_REGISTRY_MAX_MB) * 2**20


def _registry_too_big() -> str:
    return gettext("Файл больше %(mb)s МБ: разделите его на части") % {"mb": settings.PAYMENT_REGISTRY_MAX_MB}


def _profile_label(name: str) -> str:
    return gettext("Стандартный") if name == DEFAULT.name else name


class RegistryImportForm(forms.Form):
    """The file comes last: the browser sends the fields in this order, and an upload
    stopped for its size drops what follows it, so the fields chosen before it are kept."""

    supplier = forms.ModelChoiceField(
        label=_("Поставщик"),
        queryset=Supplier.objects.none(),
        help_text=_("На чьи лицевые счета пришли платежи"),
        error_messages={"required": _("Выберите поставщика")},
    )
    source = forms.CharField(
        label=_("Банк или агент"),
        max_length=64,
        help_text=_(
            "Код банка или платёжного агента, приславшего реестр: латинские буквы, цифры, «-», «_» или «.», "
            "например sber. Повторы платежей ищутся среди реестров с тем же кодом"
        ),
        error_messages={"required": _("Укажите код банка или агента, например sber")},
        widget=forms.TextInput(
            attrs={"list": "registry-sources", "autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    profile = forms.ChoiceField(
        label=_("Формат файла"),
        help_text=_(
            "Стандартный: строка на платёж — дата;время;лицевой счёт;сумма;период;плательщик;номер операции, "
            "в конце итоговая строка «=количество;сумма». Другие форматы добавляет администратор"
        ),
    )
    mode = forms.ChoiceField(
        label=_("Как загружать"),
        choices=REGISTRY_MODES,
        initial=RegistryMode.VALID_LINES.value,
        widget=forms.RadioSelect(attrs={"class": "radiolist"}),
    )
    file = forms.FileField(
        label=_("Файл реестра"),
        error_messages={"required": _("Выберите файл реестра"), "empty": _("Файл пуст")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        suppliers = suppliers_active()
        supplier = self.fields["supplier"]
        assert isinstance(supplier, forms.ModelChoiceField)
        supplier.queryset = suppliers
        only = list(suppliers.values_list("pk", flat=True)[:2])
        if len(only) == 1:
            supplier.initial = only[0]
        self.profiles_error = ""
        try:
            names = sorted(profiles(), key=lambda name: (name != DEFAULT.name, name))
        except ProfileError as exc:
            names, self.profiles_error = [DEFAULT.name], str(exc)
        profile = self.fields["profile"]
        assert isinstance(profile, forms.ChoiceField)
        profile.choices = [(name, _profile_label(name)) for name in names]
        profile.initial = DEFAULT.name
        self.fields["file"].help_text = gettext(
            "Текстовый файл в кодировке UTF-8 или Windows-1251, не больше %(mb)s МБ. Например: "
            "«05.11.2026;14:23:05;770000000001;1250,50;10.2026;Иванова Мария;8800123456», последняя строка "
            "«=1;1250,50»"
        ) % {"mb": settings.PAYMENT_REGISTRY_MAX_MB}

    def clean_source(self) -> str:
        source: str = self.cleaned_data["source"].strip().lower()
        if not SOURCE_RE.match(source):
            raise forms.ValidationError(
                gettext("Код банка или агента — латинские буквы, цифры, «-», «_» или «.», до 64 знаков, например sber")
            )
        return source

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.profiles_error:
            self.add_error(
                "profile",
                gettext("Форматы реестров настроены с ошибкой: %(error)s. Сообщите администратору")
                % {"error": self.profiles_error},
            )
        return cleaned


@dataclass(frozen=True)
class ProblemRow:
    number: int
    status: str
    message: str
    is_error: bool


@dataclass(frozen=True)
class RegistryReportView:
    """A registry's import as the page shows it: the verdict, the counts, the problem lines."""

    file_name: str
    supplier: str
    source: str
    profile: str
    mode: str
    dry_run: bool
    applied: bool
    lines: int
    posted_label: str
    posted: str
    duplicates: int
    failed: int
    summary: str
    verdict: str
    level: str
    rows: list[ProblemRow]
    hidden: int
    file_url: str | None
    lines_url: str | None
    failed_url: str | None


def _registry_verdict(report: RegistryReport) -> tuple[str, str]:
    """What happened, or would happen, to the file, and how good that is (a message level)."""
    values = {
        "posted": report.posted,
        "amount": rubles(report.amount_posted),
        "duplicates": report.duplicates,
        "failed": report.failed,
    }
    whole = report.mode == RegistryMode.WHOLE
    if report.dry_run and not report.failed and not report.posted:
        text = gettext(
            "Проверка: ошибок нет, но все платежи файла (%(duplicates)s) уже проведены раньше: загрузка ничего "
            "не проведёт."
        )
        return text % values, "warning"
    if report.dry_run and not report.failed:
        text = gettext(
            "Проверка: ошибок нет, ничего не проведено. Нажмите «Загрузить», чтобы провести платежи: %(posted)s "
            "на сумму %(amount)s."
        )
        return text % values, "success"
    if report.dry_run and whole:
        text = gettext(
            "Проверка: ничего не проведено. Строк с ошибками — %(failed)s: в режиме «весь файл» реестр не "
            "загрузится, пока они не исправлены. В режиме «верные строки» будут проведены платежи: %(posted)s на "
            "сумму %(amount)s."
        )
        return text % values, "warning"
    if report.dry_run:
        text = gettext(
            "Проверка: ничего не проведено. При загрузке будут проведены платежи: %(posted)s на сумму "
            "%(amount)s; строки с ошибками (%(failed)s) будут пропущены."
        )
        return text % values, "warning"
    if not report.applied:
        text = gettext(
            "Реестр не загружен, ничего не проведено: строк с ошибками — %(failed)s. Попросите банк исправить "
            "их или загрузите файл в режиме «верные строки»."
        )
        return text % values, "error"
    if report.failed:
        text = gettext(
            "Реестр загружен, проведены верные строки: платежей %(posted)s на сумму %(amount)s. Строки с "
            "ошибками (%(failed)s) не проведены: попросите банк прислать их исправленными — проведённые "
            "платежи при этом не повторятся."
        )
        return text % values, "warning"
    return gettext("Реестр загружен: проведено платежей %(posted)s на сумму %(amount)s.") % values, "success"


def _posted_label(report: RegistryReport) -> str:
    if report.applied:
        return gettext("Проведено")
    if report.dry_run and not report.held_back:
        return gettext("Будет проведено")
    if report.dry_run:
        return gettext("Будет проведено в режиме «верные строки»")
    return gettext("Верные строки, не проведены")


def _summary_text(report: RegistryReport) -> str:
    if report.summary_count is None or report.summary_amount is None:
        return gettext("в этом формате итоговой строки нет")
    if report.amounts_unread:
        return gettext(
            "сошлось число платежей (%(count)s); сумму не сверить: в строках с ошибками (%(unread)s) она не прочитана"
        ) % {"count": report.summary_count, "unread": report.amounts_unread}
    return gettext("сошлась: платежей %(count)s на сумму %(amount)s") % {
        "count": report.summary_count,
        "amount": rubles(report.summary_amount),
    }


def registry_report_view(request: HttpRequest, report: RegistryReport, *, supplier: Supplier) -> RegistryReportView:
    verdict, level = _registry_verdict(report)
    failed = RegistryLine.Status.FAILED.value
    problems = sorted(report.problems, key=lambda problem: (problem.status != failed, problem.line))
    stored = report.applied and report.file_id is not None
    lines_url = failed_url = None
    if stored and request.user.has_perm("payments.view_registryline"):
        lines_url = (
            f"{reverse('admin:payments_registryline_changelist')}?{urlencode({'file__id__exact': report.file_id})}"
        )
        if report.failed:
            failed_url = f"{lines_url}&{urlencode({'status__exact': failed})}"
    return RegistryReportView(
        file_name=report.file_name,
        supplier=supplier.short_name,
        source=report.source,
        profile=_profile_label(report.profile),
        mode=str(dict(REGISTRY_MODES)[report.mode.value]),
        dry_run=report.dry_run,
        applied=report.applied,
        lines=report.lines,
        posted_label=_posted_label(report),
        posted=gettext("%(count)s на сумму %(amount)s")
        % {"count": report.posted, "amount": rubles(report.amount_posted)},
        duplicates=report.duplicates,
        failed=report.failed,
        summary=_summary_text(report),
        verdict=verdict,
        level=level,
        rows=[
            ProblemRow(
                number=problem.line,
                status=str(RegistryLine.Status(problem.status).label),
                message=problem.message,
                is_error=problem.status == failed,
            )
            for problem in problems
        ],
        hidden=report.problems_left_out,
        file_url=(
            reverse("admin:payments_registryfile_change", args=[report.file_id])
            if stored and request.user.has_perm("payments.view_registryfile")
            else None
        ),
        lines_url=lines_url,
        failed_url=failed_url,
    )


@admin.register(RegistryFile)
class RegistryFileAdmin(PaymentsAdmin):
    list_display = ["loaded_column", "source", "name", "supplier", "channel", "profile", "lines_total",
                    "lines_posted", "lines_failed", "lines_duplicate", "posted_column"]  # fmt: skip
    list_filter = ["supplier", "source", "channel"]
    list_select_related = ["supplier"]
    search_fields = ["name", "=sha256"]
    search_help_text = _("Имя файла")
    ordering = ["-loaded_at", "-pk"]
    show_full_result_count = False
    change_list_template = "backoffice/registry_change_list.html"
    readonly_fields = ("source", "name", "supplier", "channel", "profile", "loaded_column", "loaded_by_column",
                       "lines_total", "lines_posted", "lines_failed", "lines_duplicate", "posted_column",
                       "summary_count", "summary_column", "sha_column", "lines_link")  # fmt: skip
    fields = readonly_fields

    @admin.display(description=_("загружен"), ordering="loaded_at")
    def loaded_column(self, obj: RegistryFile) -> str:
        return moment(obj.loaded_at)

    @admin.display(description=_("загрузил"))
    def loaded_by_column(self, obj: RegistryFile) -> str:
        return user_contacts(obj.loaded_by) if obj.loaded_by is not None else "—"

    @admin.display(description=_("контрольная сумма SHA-256"))
    def sha_column(self, obj: RegistryFile) -> str:
        return obj.sha256

    @admin.display(description=_("проведено, ₽"), ordering="amount_posted")
    def posted_column(self, obj: RegistryFile) -> str:
        return rubles(obj.amount_posted)

    @admin.display(description=_("сумма по итогу файла"))
    def summary_column(self, obj: RegistryFile) -> str:
        return rubles(obj.summary_amount)

    @admin.display(description=_("строки"))
    def lines_link(self, obj: RegistryFile) -> SafeString:
        url = f"{reverse('admin:payments_registryline_changelist')}?{urlencode({'file__id__exact': obj.pk})}"
        return format_html('<a href="{}">{}</a>', url, gettext("Строки реестра"))

    # --- Import -----------------------------------------------------------------------

    def has_import_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(REGISTRY_IMPORT_PERMISSION)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        context = {"can_import": self.has_import_permission(request), **(extra_context or {})}
        return super().changelist_view(request, context)

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            # the size of the upload is checked before the CSRF check reads the request (see import_view)
            path(
                "import/",
                self.admin_site.admin_view(csrf_exempt(self.import_view)),
                name="payments_registryfile_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """«Проверить» imports the registry as a dry run, «Загрузить» for real, through
        ``registry_import``. The upload is counted as it arrives and dropped past
        PAYMENT_REGISTRY_MAX_MB: the handler must be in place before anything reads the
        request, the CSRF check included, so this view is exempt from the admin's CSRF
        wrapping and checks the token itself."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        limit = UploadLimit(request, registry_max_bytes())
        request.upload_handlers.insert(0, limit)
        checked: HttpResponse = csrf_protect(self._import)(request, limit)
        return checked

    def _import(self, request: HttpRequest, limit: UploadLimit) -> HttpResponse:
        report: RegistryReportView | None = None
        form = RegistryImportForm(request.POST, request.FILES) if request.method == "POST" else RegistryImportForm()
        if limit.exceeded:
            form = RegistryImportForm(request.POST)  # the file was dropped: its error is the size, not its absence
            form.is_valid()
            form.errors.pop("file", None)
            form.add_error("file", _registry_too_big())
        elif form.is_bound and form.is_valid():
            report = self._import_file(request, form)
        sources = (
            RegistryFile.objects.order_by("source").values_list("source", flat=True).distinct()[:SOURCES_SUGGESTED]
        )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Загрузить реестр платежей"),
            "opts": self.opts,
            "form": form,
            "report": report,
            "sources": list(sources),
        }
        return TemplateResponse(request, "backoffice/registry_import.html", context)

    def _import_file(self, request: HttpRequest, form: RegistryImportForm) -> RegistryReportView | None:
        """The report, or None with the file's error on the form."""
        upload = form.cleaned_data["file"]
        if upload.size is not None and upload.size > registry_max_bytes():
            form.add_error("file", _registry_too_big())
            return None
        supplier: Supplier = form.cleaned_data["supplier"]
        source: str = form.cleaned_data["source"]
        content = upload.read()
        try:
            report = registry_import(
                supplier=supplier,
                source=source,
                content=content,
                file_name=upload.name or "",
                now=clock.now(),
                profile=form.cleaned_data["profile"],
                mode=RegistryMode(form.cleaned_data["mode"]),
                dry_run="apply" not in request.POST,
                operator=_operator(request),
            )
        except RegistryAlreadyLoaded as exc:
            form.add_error("file", _loaded_before(request, exc.text, source=source, content=content))
            return None
        except RegistryFileInvalid as exc:
            form.add_error("file", exc.text)
            return None
        return registry_report_view(request, report, supplier=supplier)


def _loaded_before(request: HttpRequest, text: str, *, source: str, content: bytes) -> str:
    """The service's message about a file loaded before, with a link to that file."""
    earlier = (
        RegistryFile.objects.filter(source=source, sha256=hashlib.sha256(content).hexdigest())
        .values_list("pk", flat=True)
        .first()
    )
    if earlier is None or not request.user.has_perm("payments.view_registryfile"):
        return text
    url = reverse("admin:payments_registryfile_change", args=[earlier])
    return format_html('{}. <a href="{}">{}</a>', text, url, gettext("Открыть загруженный реестр"))


@admin.register(RegistryLine)
class RegistryLineAdmin(PaymentsAdmin):
    list_display = ["file_column", "line_no", "status", "account_number", "paid_column", "amount_column", "period_column",
                    "payer", "reference", "error"]  # fmt: skip
    list_filter = ["status", "file__source", "file__supplier"]
    list_select_related = ["file"]
    search_fields = ["=reference"]
    search_help_text = _("Номер лицевого счёта (12 цифр) или номер операции банка")
    ordering = ["-file__loaded_at", "file", "line_no"]
    show_full_result_count = False
    readonly_fields = ("file_column", "line_no", "status", "error", "account_column", "account_number", "paid_column",
                       "amount_column", "period_column", "payer", "reference")  # fmt: skip
    fields = readonly_fields

    def heading(self, obj: RegistryLine) -> str:
        return gettext("Строка %(line)s реестра %(file)s") % {"line": obj.line_no, "file": obj.file}

    @admin.display(description=_("реестр"), ordering="file__loaded_at")
    def file_column(self, obj: RegistryLine) -> SafeString:
        url = reverse("admin:payments_registryfile_change", args=[obj.file_id])
        return format_html('<a href="{}">{}</a>', url, obj.file)

    @admin.display(description=_("найденный лицевой счёт"))
    def account_column(self, obj: RegistryLine) -> SafeString | str:
        if obj.account_id is None:
            return "—"
        url = reverse("admin:customers_personalaccount_change", args=[obj.account_id])
        return format_html('<a href="{}">{}</a>', url, obj.account)

    @admin.display(description=_("оплачено"), ordering="paid_at")
    def paid_column(self, obj: RegistryLine) -> str:
        return moment(obj.paid_at)

    @admin.display(description=_("сумма"), ordering="amount")
    def amount_column(self, obj: RegistryLine) -> str:
        return rubles(obj.amount)

    @admin.display(description=_("за период"), ordering="period")
    def period_column(self, obj: RegistryLine) -> str:
        return obj.period.label() if obj.period else "—"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[RegistryLine], search_term: str
    ) -> tuple[QuerySet[RegistryLine], bool]:
        """An account number however it is written (as the bank wrote it, or the account it
        was matched to), else a bank's reference."""
        term = search_term.strip()
        if not term:
            return queryset, False
        found = Q(reference=term)
        with contextlib.suppress(DomainError):
            number = account_number_normalize(term)
            found |= Q(account_number=number) | Q(
                account__in=PersonalAccount.objects.filter(number=number).values("pk")
            )
        return queryset.filter(found), False
