"""A subscriber's personal accounts: the first page after login, the link assistant, the list,
an account's page, its name and the default mark, the paper bill or the bill by e-mail,
unlinking.

Every view that takes an account id reads the user's link to it first
(``account_link_get``): an account that is not linked to this user is "not found", whether it
exists or not.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from abonent.billing import selectors as billing
from abonent.core import clock
from abonent.core.errors import DomainError, ValidationFailed
from abonent.core.models import LinkProof
from abonent.core.selectors import TermsNotSet, paperless_allowed, supplier_local_date
from abonent.customers import selectors as customers
from abonent.customers import services as accounts
from abonent.customers.models import AccountLink
from abonent.identity.enums import AuthChannel
from abonent.identity.models import User
from abonent.identity.selectors import recipient_of
from abonent.metering import selectors as metering
from abonent.web.forms import (
    BY_EMAIL,
    PAPER,
    AccountLinkForm,
    AccountSettingsForm,
    PaperBillForm,
    form_error,
    retry_after,
)
from abonent.web.sessions import client_ip
from abonent.web.templatetags.portal import account_number

PROOF_FIELDS = tuple(LinkProof.values)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # the views are behind login_required
    return user


def link_or_404(request: HttpRequest, account_id: int) -> AccountLink:
    """The user's link to the account; 404 for an account not linked to them."""
    try:
        return customers.account_link_get(user=_user(request), account_id=account_id)
    except accounts.AccountNotFound:
        raise Http404 from None


def _page(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    if status == 429 and (seconds := context.get("retry_after")):
        response["Retry-After"] = str(seconds)
    return response


# --- The first page after login ---------------------------------------------------------


@never_cache
@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The account to start with (the only one, or the default one), else the list of
    accounts, else the link assistant for a person with none yet."""
    user = _user(request)
    start = customers.account_link_start(user=user)
    if start is not None:
        return redirect("web:account", account_id=start.account_id)
    if customers.account_links_list(user=user):
        return redirect("web:accounts")
    return redirect("web:account_link")


# --- Linking ----------------------------------------------------------------------------


def _link_failed(form: AccountLinkForm, exc: DomainError, context: dict[str, Any]) -> int:
    """The domain names the proof's value ``value``; here it is the field of its kind."""
    if isinstance(exc, ValidationFailed) and "value" in exc.errors:
        kind = form.cleaned_data.get("proof") or ""
        renamed = {(kind if name == "value" else name): texts for name, texts in exc.errors.items()}
        exc = ValidationFailed(renamed)
    context["retry_after"] = retry_after(exc)
    return form_error(form, exc)


@never_cache
@login_required
@sensitive_post_parameters(*PROOF_FIELDS)
@require_http_methods(["GET", "POST"])
def account_link(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    options = customers.link_options(now=now)
    form = AccountLinkForm(request.POST if request.method == "POST" else None, options=options)
    context: dict[str, Any] = {"form": form, "options": options}
    status = 200
    if request.method == "POST" and options and form.is_valid():
        try:
            link = accounts.account_link(
                user=_user(request),
                number=form.cleaned_data["number"],
                proof=form.cleaned_data["proof"],
                value=form.proof_value,
                supplier_code=form.supplier_code,
                channel=AuthChannel.WEB,
                ip=client_ip(request),
                now=now,
            )
        except DomainError as exc:
            status = _link_failed(form, exc, context)
        else:
            messages.success(
                request,
                _("Лицевой счёт %(number)s привязан к вашему профилю.")
                % {"number": account_number(link.account.number)},
            )
            return redirect("web:account", account_id=link.account_id)
    return _page(request, "web/accounts/link.html", context, status=status)


# --- The list and an account's page -------------------------------------------------------


@never_cache
@login_required
@require_GET
def account_list(request: HttpRequest) -> HttpResponse:
    return render(request, "web/accounts/list.html", {"links": customers.account_links_list(user=_user(request))})


@never_cache
@login_required
@require_GET
def account_detail(request: HttpRequest, account_id: int) -> HttpResponse:
    link = link_or_404(request, account_id)
    account = link.account
    now = clock.now()
    meters = metering.meters_list(link=link, now=now)
    try:
        window = metering.reading_window(supplier=account.supplier, now=now)
    except TermsNotSet:
        window = None  # the supplier has no terms yet: nothing to say about readings
    return render(
        request,
        "web/accounts/detail.html",
        {
            "link": link,
            "account": account,
            "supplier": account.supplier,
            "directions": [name for _code, name in account.usage_directions],
            "links": customers.account_links_list(user=_user(request)),
            "equipment": customers.equipment_list(link=link),
            "meters": meters,
            "readings_window": window if any(view.accepts for view in meters) else None,
            "contracts": customers.contracts_list(link=link, now=now),
            "money": billing.account_money_get(account=account),
            "last_charge": next(iter(billing.charges_list(account=account, months=1)), None),
            "today": supplier_local_date(supplier=account.supplier, now=now),
            "paperless_allowed": paperless_allowed(supplier=account.supplier, now=now),
        },
    )


# --- The paper bill or the bill by e-mail ---------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account_paper_bill(request: HttpRequest, account_id: int) -> HttpResponse:
    """How the account's bill comes: on paper or by e-mail to the user instead. The choice
    is offered where the supplier allows it; a bill by e-mail may always be turned back to
    paper."""
    link = link_or_404(request, account_id)
    user = _user(request)
    account = link.account
    now = clock.now()
    current = PAPER if account.paperless_user_id is None else BY_EMAIL
    form = PaperBillForm(request.POST) if request.method == "POST" else PaperBillForm(initial={"paper": current})
    if request.method == "POST" and form.is_valid():
        paper = form.cleaned_data["paper"]
        try:
            accounts.paper_bill_set(
                user=user, account_id=account_id, paper=paper, channel=AuthChannel.WEB, ip=client_ip(request), now=now
            )
        except accounts.AccountNotFound:
            raise Http404 from None
        except DomainError as exc:
            form_error(form, exc)
        else:
            number = account_number(account.number)
            if paper:
                text = _("Квитанция по счёту %(number)s будет приходить на бумаге.") % {"number": number}
            else:
                text = _("Квитанция по счёту %(number)s будет приходить на e‑mail %(email)s вместо бумажной.") % {
                    "number": number,
                    "email": user.email,
                }
            messages.success(request, text)
            return redirect(reverse("web:account", kwargs={"account_id": account_id}) + "#bill")
    context = {
        "form": form,
        "link": link,
        "account": account,
        "supplier": account.supplier,
        "allowed": paperless_allowed(supplier=account.supplier, now=now),
        "email_confirmed": recipient_of(user).email is not None,
    }
    return render(request, "web/accounts/paper_bill.html", context)


# --- Name, default, unlinking -------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account_settings(request: HttpRequest, account_id: int) -> HttpResponse:
    link = link_or_404(request, account_id)
    if request.method == "POST":
        form = AccountSettingsForm(request.POST)
    else:
        form = AccountSettingsForm(initial={"name": link.name, "make_default": link.is_default})
    context: dict[str, Any] = {"form": form, "link": link, "account": link.account}
    if request.method == "POST" and form.is_valid():
        try:
            accounts.account_link_update(
                user=_user(request),
                account_id=account_id,
                name=form.cleaned_data["name"],
                make_default=form.cleaned_data["make_default"],
                channel=AuthChannel.WEB,
                ip=client_ip(request),
                now=clock.now(),
            )
        except accounts.AccountNotFound:
            raise Http404 from None
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Изменения сохранены."))
            return redirect("web:account", account_id=account_id)
    return render(request, "web/accounts/settings.html", context)


@never_cache
@login_required
@require_POST
def account_make_default(request: HttpRequest, account_id: int) -> HttpResponse:
    """The one-button "make it the default account" of the list."""
    link = link_or_404(request, account_id)
    try:
        accounts.account_link_update(
            user=_user(request),
            account_id=account_id,
            make_default=True,
            channel=AuthChannel.WEB,
            ip=client_ip(request),
            now=clock.now(),
        )
    except accounts.AccountNotFound:
        raise Http404 from None
    messages.success(
        request,
        _("Основной счёт — %(number)s. Его страница откроется сразу после входа.")
        % {"number": account_number(link.account.number)},
    )
    return redirect("web:accounts")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account_unlink(request: HttpRequest, account_id: int) -> HttpResponse:
    """GET asks to confirm, POST unlinks."""
    link = link_or_404(request, account_id)
    if request.method == "POST":
        try:
            accounts.account_unlink(
                user=_user(request),
                account_id=account_id,
                channel=AuthChannel.WEB,
                ip=client_ip(request),
                now=clock.now(),
            )
        except accounts.AccountNotFound:
            raise Http404 from None
        messages.success(
            request,
            _("Лицевой счёт %(number)s больше не показывается в вашем кабинете.")
            % {"number": account_number(link.account.number)},
        )
        return redirect("web:accounts")
    return render(request, "web/accounts/unlink.html", {"link": link, "account": link.account})
