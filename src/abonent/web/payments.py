"""Paying from the portal: the pay page, the page a payer comes back to from the payment
page of the gateway, and the history of payments: the person's online payments and what
banks and payment agents sent in their registries to the accounts linked to the person.

The pay page lists every account linked to the person with what is due on it, the gas and
the penalty (пени) each on its own line, both editable; the person ticks the accounts to
pay, chooses card or СБП and where the fiscal receipt goes. One POST makes one call,
``payment_start``, and sends the person to the gateway's payment page. The amounts are read
and checked by the payments domain; its errors are put next to the fields they name, and
the form keeps what was typed.

Accounts of several suppliers: one payment has one payee, so the domain refuses accounts of
two suppliers in one payment. The page stays one form (one choice of method and receipt),
with the accounts grouped under their supplier's name and a note that each supplier is paid
separately; at first only the accounts of one supplier are ticked, and ticking accounts of
two gives the domain's error above the form. A second payment is one more pass of the form.

Only the payer's own online payments are shown: a payment of someone else is "not found".
Registry payments are the account's, whoever paid: every person linked to it sees them.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from abonent.billing import selectors as billing
from abonent.billing.selectors import AccountMoney
from abonent.core import clock
from abonent.core.errors import DomainError, ValidationFailed
from abonent.core.models import Supplier
from abonent.core.money import format_rubles
from abonent.customers import selectors as customers
from abonent.customers.models import AccountLink
from abonent.identity.models import User
from abonent.ledger.enums import Service
from abonent.payments import selectors as payments
from abonent.payments import services as paying
from abonent.payments.enums import FINAL_STATUSES, Channel, Method, PaymentStatus
from abonent.payments.models import Payment
from abonent.web.accounts import link_or_404
from abonent.web.forms import ChoiceRadios, PortalForm, form_error

log = logging.getLogger(__name__)

AMOUNT_MAX_LENGTH = 20
RECEIPT_MAX_LENGTH = 254
HISTORY_PAGE_SIZE = 20

#: Where each gateway's payment page is: the pay page's form is sent there through a
#: redirect, which the Content-Security-Policy (form-action) has to allow. The sandbox's page
#: is on this site.
GATEWAY_PAGE_ORIGINS: dict[str, list[str]] = {"yookassa": ["https://yoomoney.ru"]}

#: The lines of an account a payer can pay, in the order the page shows them; the gas line
#: is always there, the others when there is a debt on them.
LINES = (Service.GAS, Service.PENALTY, Service.VDGO)

#: The label of each line's amount field.
LINE_LABELS: dict[str, Any] = {
    Service.GAS: _("За газ, ₽"),
    Service.PENALTY: _("Пени, ₽"),
    Service.VDGO: _("ТО ВДГО, ₽"),
}

#: Why a gateway canceled a payment, in words (YooKassa's codes, which the sandbox speaks too).
CANCELLATION_REASONS: dict[str, Any] = {
    "card_expired": _("истёк срок действия карты"),
    "insufficient_funds": _("на карте недостаточно денег"),
    "3d_secure_failed": _("не пройдено подтверждение платежа в банке"),
    "call_issuer": _("банк отклонил платёж: позвоните в свой банк"),
    "canceled_by_merchant": _("платёж отменён поставщиком"),
    "expired_on_confirmation": _("время на оплату истекло"),
    "fraud_suspected": _("банк заподозрил мошенничество и отклонил платёж"),
    "general_decline": _("банк отклонил платёж без объяснения причин"),
    "invalid_card_number": _("неверный номер карты"),
    "invalid_csc": _("неверный код CVC/CVV"),
    "issuer_unavailable": _("банк не ответил"),
    "payment_method_limit_exceeded": _("превышен лимит платежей"),
    "payment_method_restricted": _("операции по карте запрещены"),
    "permission_revoked": _("вы отозвали разрешение на оплату"),
}


# --- The pay page ----------------------------------------------------------------------------


@dataclass
class PayLine:
    """One line of an account on the pay page: its service, what is owed on it (positive:
    a debt, negative: paid ahead) and the name of its amount's field."""

    service: str
    balance: Decimal
    field: str

    @property
    def due(self) -> Decimal:
        return self.balance if self.balance > 0 else Decimal("0.00")


@dataclass
class PayAccount:
    link: AccountLink
    money: AccountMoney
    include_field: str
    lines: list[PayLine] = field(default_factory=list)

    @property
    def account_id(self) -> int:
        return self.link.account_id


@dataclass
class BoundAccount:
    """An account of the form: its checkbox, and each line with the field of its amount."""

    row: PayAccount
    include: forms.BoundField
    lines: list[tuple[PayLine, forms.BoundField]]


@dataclass
class SupplierGroup:
    supplier: Supplier
    accounts: list[BoundAccount]


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # the views are behind login_required
    return user


def _pay_accounts(links: list[AccountLink]) -> list[PayAccount]:
    rows = []
    for link in links:
        money = billing.account_money_get(account=link.account)
        row = PayAccount(link=link, money=money, include_field=f"account_{link.account_id}")
        for service in LINES:
            balance = money.balances.get(service, Decimal("0.00"))
            if service == Service.GAS or balance > 0:
                row.lines.append(PayLine(service=service, balance=balance, field=f"amount_{link.account_id}_{service}"))
        rows.append(row)
    return rows


def _line_hint(line: PayLine) -> str:
    """What is owed on the line, said next to its amount."""
    if line.balance > 0:
        if line.service == Service.PENALTY:
            return gettext("Пени за просрочку оплаты: %(sum)s") % {"sum": format_rubles(line.balance)}
        return gettext("Долг %(sum)s") % {"sum": format_rubles(line.balance)}
    if line.balance < 0:
        return gettext("Переплата %(sum)s: платить сейчас не обязательно") % {"sum": format_rubles(-line.balance)}
    return gettext("Долга нет: можно оплатить вперёд")


def _typed(amount: Decimal) -> str:
    """An amount as a person would type it into the field: 1234,56."""
    return f"{amount:.2f}".replace(".", ",")


class PaymentForm(PortalForm):
    """A checkbox and the amounts of each account, the method, where the receipt goes.

    The amounts are only collected here (text as typed): ``payment_start`` reads them and
    says what is wrong. ``parts`` are what is sent, each with the fields it came from, so
    that an error about the N-th part goes next to its field."""

    method = forms.ChoiceField(
        label=_("Способ оплаты"),
        widget=ChoiceRadios(attrs={"class": "choice__input"}),
        error_messages={
            "required": _("Выберите способ оплаты: банковская карта или СБП"),
            "invalid_choice": _("Выберите способ оплаты из списка"),
        },
    )
    receipt = forms.CharField(
        label=_("Куда прислать кассовый чек"),
        max_length=RECEIPT_MAX_LENGTH,
        required=False,
        help_text=_("E-mail или номер мобильного телефона. Чек об оплате придёт туда от платёжного сервиса."),
        widget=forms.TextInput(attrs={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"}),
    )

    def __init__(self, *args: Any, accounts: list[PayAccount], methods: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.accounts = accounts
        method = self.fields["method"]
        assert isinstance(method, forms.ChoiceField)
        method.choices = [(value, Method(value).label) for value in methods]
        for row in accounts:
            self.fields[row.include_field] = forms.BooleanField(
                label=_("Оплатить по этому счёту"),
                required=False,
                widget=forms.CheckboxInput(attrs={"class": "checkbox__input pay-account__include"}),
            )
            for line in row.lines:
                self.fields[line.field] = forms.CharField(
                    label=LINE_LABELS.get(line.service, line.service),
                    help_text=_line_hint(line),
                    required=False,
                    max_length=AMOUNT_MAX_LENGTH,
                    error_messages={"max_length": _("Сумма — это число рублей, например 1250,50")},
                    widget=forms.TextInput(
                        attrs={
                            "class": "field__input field__input--amount",
                            "inputmode": "decimal",
                            "autocomplete": "off",
                            "spellcheck": "false",
                        }
                    ),
                )
        self.sent: list[tuple[paying.PartInput, str, str]] = []

    def groups(self) -> list[SupplierGroup]:
        """The accounts under their supplier, suppliers in the order of their first account."""
        groups: dict[int, SupplierGroup] = {}
        for row in self.accounts:
            supplier = row.link.account.supplier
            bound = BoundAccount(
                row=row, include=self[row.include_field], lines=[(line, self[line.field]) for line in row.lines]
            )
            groups.setdefault(supplier.pk, SupplierGroup(supplier=supplier, accounts=[])).accounts.append(bound)
        return list(groups.values())

    def parts(self) -> list[paying.PartInput]:
        """What the person asks to pay: each ticked account's lines with an amount typed;
        a ticked account with no amount at all is sent with an empty one (the domain says
        to give the sum)."""
        self.sent = []
        for row in self.accounts:
            if not self.cleaned_data.get(row.include_field):
                continue
            typed = [(line, str(self.cleaned_data.get(line.field) or "").strip()) for line in row.lines]
            filled = [(line, text) for line, text in typed if text] or typed[:1]
            for line, text in filled:
                part = paying.PartInput(account_id=row.account_id, amount=text, service=line.service)
                self.sent.append((part, row.include_field, line.field))
        return [part for part, _include, _amount in self.sent]

    @property
    def receipt_contact(self) -> tuple[str, str]:
        """The receipt's e-mail and phone: an address with «@» is an e-mail, else a phone."""
        value = str(self.cleaned_data.get("receipt") or "").strip()
        return (value, "") if "@" in value else ("", value)

    def payment_error(self, exc: DomainError) -> None:
        """The domain's errors next to the fields they name: ``parts.N.amount`` is the N-th
        part's amount, ``parts.N.account`` its account's checkbox, the receipt's e-mail or
        phone the one receipt field."""
        if not isinstance(exc, ValidationFailed):
            form_error(self, exc, field=None)
            return
        renamed: dict[str, list[str]] = {}
        for name, texts in exc.errors.items():
            target: str | None = name
            head, _dot, rest = name.partition(".")
            if head == "parts" and rest:
                index, _dot, what = rest.partition(".")
                if index.isdigit() and int(index) < len(self.sent):
                    _part, include, amount = self.sent[int(index)]
                    target = amount if what == "amount" else include
            elif name in ("receipt_email", "receipt_phone"):
                target = "receipt"
            renamed.setdefault(target if target in self.fields else "", []).extend(texts)
        for name, texts in renamed.items():
            for text in texts:
                self.add_error(name or None, text)


def _methods(accounts: list[PayAccount]) -> list[str]:
    """The methods that at least one supplier of the accounts takes today (the domain checks
    the supplier of the payment itself)."""
    now = clock.now()
    suppliers = {row.link.account.supplier_id: row.link.account.supplier for row in accounts}
    allowed = {m for supplier in suppliers.values() for m in payments.methods_allowed(supplier=supplier, now=now)}
    return [m for m in Method.values if m in allowed]


def _initial(request: HttpRequest, accounts: list[PayAccount], methods: list[str]) -> dict[str, Any]:
    """What the form starts with: each line's debt; ticked, the account the page was opened
    from (``?account=``), or the accounts of an earlier payment tried again (``?repeat=``),
    or else every account with a debt of the first supplier that has one."""
    user = _user(request)
    initial: dict[str, Any] = {
        "method": methods[0] if methods else "",
        "receipt": user.email or _phone_typed(user.phone or ""),
    }
    for row in accounts:
        for line in row.lines:
            initial[line.field] = _typed(line.due) if line.due else ""
    repeat = payments.payment_get(user=user, public_id=request.GET["repeat"]) if request.GET.get("repeat") else None
    wanted = request.GET.get("account", "")
    if repeat is not None:
        ids = {part.account_id for part in repeat.parts.all()}
        for part in repeat.parts.all():
            initial[f"amount_{part.account_id}_{part.service}"] = _typed(part.amount)
        if repeat.method in methods:
            initial["method"] = repeat.method
        if repeat.receipt_email or repeat.receipt_phone:
            initial["receipt"] = repeat.receipt_email or _phone_typed(repeat.receipt_phone)
    elif wanted.isdigit() and any(row.account_id == int(wanted) for row in accounts):
        ids = {int(wanted)}
    else:
        owing = [row for row in accounts if row.money.amount_due > 0]
        supplier_id = owing[0].link.account.supplier_id if owing else None
        ids = {row.account_id for row in owing if row.link.account.supplier_id == supplier_id}
    for row in accounts:
        initial[row.include_field] = row.account_id in ids
    return initial


def _phone_typed(phone: str) -> str:
    """+79123456789 → +7 912 345-67-89, as people write it."""
    if len(phone) == 12 and phone.startswith("+7") and phone[1:].isdigit():
        return f"+7 {phone[2:5]} {phone[5:8]}-{phone[8:10]}-{phone[10:]}"
    return phone


def _return_url(request: HttpRequest, public_id: uuid.UUID) -> str:
    return request.build_absolute_uri(reverse("web:payment", kwargs={"public_id": public_id}))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def payment_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    accounts = _pay_accounts(customers.account_links_list(user=user))
    methods = _methods(accounts)
    if request.method == "POST":
        form = PaymentForm(request.POST, accounts=accounts, methods=methods)
    else:
        form = PaymentForm(initial=_initial(request, accounts, methods), accounts=accounts, methods=methods)
    if request.method == "POST" and accounts and methods and form.is_valid():
        email, phone = form.receipt_contact
        public_id = uuid.uuid4()
        try:
            payment = paying.payment_start(
                user=user,
                parts=form.parts(),
                method=form.cleaned_data["method"],
                return_url=_return_url(request, public_id),
                now=clock.now(),
                receipt_email=email,
                receipt_phone=phone,
                public_id=public_id,
            )
        except DomainError as exc:
            form.payment_error(exc)
        else:
            if payment.confirmation_url and payment.status not in FINAL_STATUSES:
                return redirect(payment.confirmation_url)
            return redirect("web:payment", public_id=payment.public_id)
    response = render(
        request,
        "web/payments/new.html",
        {
            "form": form,
            "accounts": accounts,
            "groups": form.groups(),
            "methods": methods,
            "max_amount": paying.max_amount(),
        },
    )
    origins = GATEWAY_PAGE_ORIGINS.get(settings.PAYMENT_GATEWAY)
    if origins:
        response._csp_update = {"form-action": origins}  # type: ignore[attr-defined]
    return response


# --- The payment's page ----------------------------------------------------------------------


@dataclass
class PaidAccount:
    """An account a payment paid on, with its balance now (None for an account that is no
    longer linked to the person: its balance is not theirs to see)."""

    link: AccountLink | None
    number: str
    parts: list[Any]
    money: AccountMoney | None


def _paid_accounts(request: HttpRequest, payment: Payment, *, with_money: bool) -> list[PaidAccount]:
    links = {link.account_id: link for link in customers.account_links_list(user=_user(request))}
    rows: dict[int, PaidAccount] = {}
    for part in payment.parts.all():
        row = rows.get(part.account_id)
        if row is None:
            link = links.get(part.account_id)
            money = billing.account_money_get(account=link.account) if with_money and link is not None else None
            row = rows[part.account_id] = PaidAccount(link=link, number=part.account.number, parts=[], money=money)
        row.parts.append(part)
    return list(rows.values())


@never_cache
@login_required
@require_GET
def payment_result(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Where the gateway sends the payer back: the payment asked from the gateway while it
    is not final, then paid, declined, or still in progress."""
    user = _user(request)
    payment = payments.payment_get(user=user, public_id=str(public_id))
    if payment is None:
        raise Http404
    if payment.status not in FINAL_STATUSES:
        try:
            paying.payment_settle(payment_id=payment.pk, now=clock.now())
        except (paying.PaymentGatewayUnavailable, paying.PaymentMismatch) as exc:
            log.warning("payment %s: not settled from its page: %s", payment.public_id, exc)
        payment = payments.payment_get(user=user, public_id=str(public_id))
        assert payment is not None
    succeeded = payment.status == PaymentStatus.SUCCEEDED
    return render(
        request,
        "web/payments/result.html",
        {
            "payment": payment,
            "supplier": payment.supplier,
            "paid_accounts": _paid_accounts(request, payment, with_money=succeeded),
            "reason": CANCELLATION_REASONS.get(payment.canceled_reason, ""),
        },
    )


# --- The history -----------------------------------------------------------------------------


@dataclass
class HistoryRow:
    """An item of the history with, for each part, the user's link to its account (None for
    an account no longer linked: its name is not shown)."""

    item: payments.HistoryItem
    parts: list[tuple[payments.HistoryPart, AccountLink | None]]

    @property
    def how(self) -> str:
        """The channel, and the method of an online payment or the bank or agent of a
        registry's: «онлайн на портале, СБП», «в отделении банка, sber»."""
        item = self.item
        detail = str(Method(item.method).label) if item.method else item.bank
        channel = str(Channel(item.channel).label)
        return f"{channel}, {detail}" if detail else channel

    @property
    def receipt_email(self) -> str:
        """The e-mail with places to break a line: after «@» and before each dot, so that a
        long address wraps there and not in the middle of a word."""
        local, _at, domain = self.item.receipt_email.partition("@")
        parts = format_html_join(mark_safe("<wbr>."), "{}", ((part,) for part in domain.split(".")))
        return format_html("{}@<wbr>{}", local, parts)


def _history(request: HttpRequest, context: dict[str, Any], account_id: int | None = None) -> HttpResponse:
    """Every payment to the user's accounts, online and from bank registries, newest first,
    a page at a time: «Показать ещё» goes on after the last row shown (``?cursor=``)."""
    user = _user(request)
    after = None
    if cursor := request.GET.get("cursor", ""):
        try:
            after = payments.HistoryCursor.parse(cursor)
        except payments.HistoryCursorInvalid:
            return redirect(request.path)  # a cursor mangled on the way: the newest payments
    page = payments.payment_history_list(user=user, account_id=account_id, after=after, limit=HISTORY_PAGE_SIZE)
    links = {link.account_id: link for link in customers.account_links_list(user=user)}
    rows = [HistoryRow(item, [(part, links.get(part.account_id)) for part in item.parts]) for item in page.items]
    context.update(rows=rows, later=after is not None, next_cursor=page.next.text() if page.next else "")
    return render(request, "web/payments/history.html", context)


@never_cache
@login_required
@require_GET
def payment_history(request: HttpRequest) -> HttpResponse:
    return _history(request, {})


@never_cache
@login_required
@require_GET
def account_payments(request: HttpRequest, account_id: int) -> HttpResponse:
    link = link_or_404(request, account_id)
    return _history(request, {"link": link, "account": link.account}, account_id=link.account_id)
