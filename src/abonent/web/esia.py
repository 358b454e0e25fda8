"""«Войти через Госуслуги» in the portal (mounted at ``/auth/esia/``).

``start/`` sends the browser to the provider; ``callback/`` is where it comes back
(``ESIA_REDIRECT_URI``). Then, by what ``identity.external`` decides: the person is logged
in; or asked for the code sent to the contact of the profile that matches them
(``confirm/``); or asked for their consent before a new profile is made (``consent/``).

The flow (state, nonce, PKCE verifier) and the pending step are kept in the browser's
session on the server, never in the URL or a page. Each view makes one call into
``identity.external`` and shows the result or its error.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from abonent.core import clock
from abonent.core.errors import DomainError
from abonent.identity import external
from abonent.identity.enums import ContactKind
from abonent.identity.models import User
from abonent.identity.oidc import ESIA
from abonent.identity.selectors import consent_documents_get
from abonent.identity.services import TooManyAttempts
from abonent.web.forms import CodeForm, PortalForm, error_text, form_error, retry_after
from abonent.web.sessions import client_ip, session_start

app_name = "esia"

#: The flows started in this browser, by state (a few, for several tabs).
FLOWS_KEY = "abonent.esia.flows"
FLOWS_KEPT = 3
#: The step waiting for the person (a code, or the consent), and where to go after it.
PENDING_KEY = "abonent.esia.pending"

_STATUS: dict[type[DomainError], int] = {
    external.ExternalLoginDisabled: 404,
    external.ExternalLoginUnavailable: 503,
    external.ExternalLoginCancelled: 200,
    TooManyAttempts: 429,
}


class ConsentForm(PortalForm):
    # Required by the rules (ConsentRequired says so); marked required for assistive technology.
    personal_data_consent = forms.BooleanField(
        label=_("Я даю согласие на обработку моих персональных данных"),
        help_text=_("Обязательно: без этого согласия кабинет не может работать."),
        required=False,
        widget=forms.CheckboxInput(attrs={"required": True}),
    )
    marketing_consent = forms.BooleanField(
        label=_("Я согласен(на) получать новости и предложения поставщика газа"),
        help_text=_("Не обязательно. Отказаться можно в любой момент в профиле."),
        required=False,
    )


# --- Helpers --------------------------------------------------------------------------


def _next_url(request: HttpRequest, target: Any) -> str:
    if isinstance(target, str) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _problem(request: HttpRequest, exc: DomainError) -> HttpResponse:
    """The page for a login that cannot go on: what happened, and the ways forward."""
    status = next((code for cls, code in _STATUS.items() if isinstance(exc, cls)), 400)
    context = {
        "message": error_text(exc),
        "cancelled": isinstance(exc, external.ExternalLoginCancelled),
        "retry": not isinstance(exc, external.ExternalLoginDisabled | external.ExternalProfileInactive),
    }
    response = render(request, "web/esia/problem.html", context, status=status)
    if (seconds := retry_after(exc)) is not None:
        response["Retry-After"] = str(seconds)
    return response


def _pending(request: HttpRequest) -> tuple[external.Pending | None, str]:
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None, ""
    return external.pending_from_dict(data), str(data.get("next") or "")


def _logged_in(request: HttpRequest, user: User, next_url: str) -> HttpResponse:
    request.session.pop(PENDING_KEY, None)
    session_start(request, user, remember=False)
    return HttpResponseRedirect(_next_url(request, next_url))


def _page(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    if status == 429 and (seconds := context.get("retry_after")):
        response["Retry-After"] = str(seconds)
    return response


def _expired(request: HttpRequest) -> HttpResponse:
    request.session.pop(PENDING_KEY, None)
    return _problem(request, external.ExternalStepExpired())


# --- Start and callback ---------------------------------------------------------------


@never_cache
@require_GET
def start(request: HttpRequest) -> HttpResponse:
    """Send the browser to the provider; ``?next=`` is where to go after the login."""
    try:
        auth_request = external.external_login_start(provider=ESIA, ip=client_ip(request), now=clock.now())
    except DomainError as exc:
        return _problem(request, exc)
    flows = request.session.get(FLOWS_KEY)
    flows = dict(list(flows.items())[-(FLOWS_KEPT - 1) :]) if isinstance(flows, dict) else {}
    flows[auth_request.flow.state] = {**auth_request.flow.as_dict(), "next": request.GET.get("next", "")}
    request.session[FLOWS_KEY] = flows
    return HttpResponseRedirect(auth_request.url)


@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """Where the provider sends the browser back, with ``code`` (or ``error``) and ``state``."""
    state = request.GET.get("state", "")
    flows = request.session.get(FLOWS_KEY)
    flow = flows.pop(state, None) if isinstance(flows, dict) and state else None
    if flow is not None:
        request.session[FLOWS_KEY] = flows  # a state is used once
    try:
        outcome = external.external_login_callback(
            provider=ESIA,
            flow=flow,
            state=state,
            code=request.GET.get("code", ""),
            error=request.GET.get("error", ""),
            iss=request.GET.get("iss"),
            ip=client_ip(request),
            now=clock.now(),
        )
    except DomainError as exc:
        return _problem(request, exc)
    next_url = str(flow.get("next") or "") if isinstance(flow, dict) else ""
    if isinstance(outcome, external.LoggedIn):
        return _logged_in(request, outcome.user, next_url)
    request.session[PENDING_KEY] = {**external.pending_as_dict(outcome.pending), "next": next_url}
    if isinstance(outcome, external.ConfirmationNeeded):
        return redirect("esia:confirm")
    return redirect("esia:consent")


# --- (b) The code that links Госуслуги to an existing profile ----------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest) -> HttpResponse:
    pending, next_url = _pending(request)
    if not isinstance(pending, external.PendingLink):
        return _expired(request)
    form = CodeForm(request.POST) if request.method == "POST" else CodeForm()
    context: dict[str, Any] = {
        "form": form,
        "masked": pending.masked,
        "by_phone": pending.contact_kind == ContactKind.PHONE,
    }
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = external.external_link_confirm(
                pending=pending, code=form.cleaned_data["code"], ip=client_ip(request), now=clock.now()
            )
        except (external.ExternalStepExpired, external.ExternalAlreadyLinked, external.ExternalProfileInactive) as exc:
            request.session.pop(PENDING_KEY, None)
            return _problem(request, exc)
        except DomainError as exc:
            status = form_error(form, exc)
            context["retry_after"] = retry_after(exc)
        else:
            return _logged_in(request, user, next_url)
    return _page(request, "web/esia/confirm.html", context, status=status)


@never_cache
@require_POST
def confirm_resend(request: HttpRequest) -> HttpResponse:
    """A new code, back on the code page with a note of what happened."""
    pending, _next = _pending(request)
    if not isinstance(pending, external.PendingLink):
        return _expired(request)
    try:
        sent = external.external_link_code_resend(pending=pending, ip=client_ip(request), now=clock.now())
    except external.ExternalStepExpired:
        return _expired(request)
    except DomainError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, gettext("Мы отправили новый код на %(contact)s.") % {"contact": sent.masked})
    return redirect("esia:confirm")


# --- (c) The consent before a new profile -----------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest) -> HttpResponse:
    pending, next_url = _pending(request)
    if not isinstance(pending, external.PendingProfile):
        return _expired(request)
    now = clock.now()
    if request.method == "POST" and request.POST.get("action") == "decline":
        request.session.pop(PENDING_KEY, None)
        return render(request, "web/esia/declined.html")
    form = ConsentForm(request.POST) if request.method == "POST" else ConsentForm()
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = external.external_register(
                pending=pending,
                personal_data_consent=form.cleaned_data["personal_data_consent"],
                marketing_consent=form.cleaned_data["marketing_consent"],
                ip=client_ip(request),
                now=now,
            )
        except external.ExternalStepExpired as exc:
            request.session.pop(PENDING_KEY, None)
            return _problem(request, exc)
        except DomainError as exc:
            status = form_error(form, exc)
        else:
            return _logged_in(request, user, next_url)
    try:
        documents = consent_documents_get(now=now)
    except DomainError as exc:
        return _problem(request, exc)
    context = {
        "form": form,
        "person": pending.person,
        "personal_data": documents["personal_data"],
        "marketing": documents["marketing"],
    }
    return render(request, "web/esia/consent.html", context, status=status)


urlpatterns = [
    path("start/", start, name="start"),
    path("callback/", callback, name="callback"),
    path("confirm/", confirm, name="confirm"),
    path("confirm/resend/", confirm_resend, name="confirm_resend"),
    path("consent/", consent, name="consent"),
]
