"""Registration, login and logout, password recovery.

Each view checks the form's shape, makes one call into ``identity.services`` and shows the
result or the domain error next to its field. Between the steps of a journey (the code
page after the registration form) the contact is kept in the session, never in the URL.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from abonent.core import clock
from abonent.core.errors import DomainError
from abonent.identity import selectors as identity_selectors
from abonent.identity import services as identity
from abonent.identity.enums import AuthChannel, ContactKind
from abonent.web.forms import (
    CodeForm,
    LoginForm,
    NewPasswordForm,
    PasswordForgotForm,
    PasswordResetCodeForm,
    RegistrationForm,
    ResendForm,
    error_text,
    form_error,
    retry_after,
)
from abonent.web.sessions import client_ip, session_end, session_start

logger = logging.getLogger(__name__)

REGISTRATION_KEY = "abonent.registration"
RESET_KEY = "abonent.password_reset"
PASSWORDS = ("password", "password2", "new_password", "new_password2")


def _page(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    if status == 429 and (seconds := context.get("retry_after")):
        response["Retry-After"] = str(seconds)
    return response


def _failed(form: Any, exc: DomainError, context: dict[str, Any], *, field: str | None = "") -> int:
    context["retry_after"] = retry_after(exc)
    return form_error(form, exc, field=field)


def _pending(request: HttpRequest, key: str) -> dict[str, str] | None:
    value = request.session.get(key)
    return value if isinstance(value, dict) and value.get("login") else None


# --- Registration ---------------------------------------------------------------------


@never_cache
@sensitive_post_parameters(*PASSWORDS)
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("web:home")
    now = clock.now()
    try:
        documents = identity_selectors.consent_documents_get(now=now)
    except DomainError as exc:
        logger.error("registration is closed: %s", exc.text)
        return render(request, "web/auth/register_closed.html", status=503)
    form = RegistrationForm(request.POST) if request.method == "POST" else RegistrationForm()
    context: dict[str, Any] = {
        "form": form,
        "personal_data": documents["personal_data"],
        "marketing": documents["marketing"],
    }
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            sent = identity.registration_start(
                login=data["login"],
                password=data["password"],
                personal_data_consent=data["personal_data_consent"],
                marketing_consent=data["marketing_consent"],
                channel=AuthChannel.WEB,
                ip=client_ip(request),
                now=now,
            )
        except DomainError as exc:
            status = _failed(form, exc, context)
        else:
            request.session[REGISTRATION_KEY] = {"login": sent.recipient, "masked": sent.masked}
            return redirect("web:register_confirm")
    return _page(request, "web/auth/register.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def register_confirm(request: HttpRequest) -> HttpResponse:
    pending = _pending(request, REGISTRATION_KEY)
    if pending is None:
        return redirect("web:register")
    form = CodeForm(request.POST) if request.method == "POST" else CodeForm()
    context: dict[str, Any] = {"form": form, "masked": pending["masked"]}
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = identity.registration_confirm(
                login=pending["login"], code=form.cleaned_data["code"], ip=client_ip(request), now=clock.now()
            )
        except DomainError as exc:
            status = _failed(form, exc, context)
        else:
            del request.session[REGISTRATION_KEY]
            session_start(request, user, remember=False)
            messages.success(request, _("Профиль создан, вы вошли в личный кабинет."))
            return redirect("web:home")
    return _page(request, "web/auth/register_confirm.html", context, status=status)


@never_cache
@require_POST
def register_resend(request: HttpRequest) -> HttpResponse:
    """A new registration code: from the code page, or from the login page for a profile
    that was never confirmed (then the login comes in the form)."""
    form = ResendForm(request.POST)
    pending = _pending(request, REGISTRATION_KEY)
    login = (form.cleaned_data.get("login") if form.is_valid() else "") or (pending or {}).get("login")
    if not login:
        return redirect("web:register")
    try:
        sent = identity.registration_code_resend(login=login, ip=client_ip(request), now=clock.now())
    except DomainError as exc:
        messages.error(request, error_text(exc))
        if pending is None:
            return redirect("web:login")
    else:
        request.session[REGISTRATION_KEY] = {"login": sent.recipient, "masked": sent.masked}
        messages.success(request, _("Мы отправили новый код на %(contact)s.") % {"contact": sent.masked})
    return redirect("web:register_confirm")


# --- Login and logout -----------------------------------------------------------------


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and request.user.is_authenticated:
        return HttpResponseRedirect(_next_url(request))
    form = LoginForm(request.POST) if request.method == "POST" else LoginForm()
    context: dict[str, Any] = {
        "form": form,
        "next": request.POST.get("next") or request.GET.get("next") or "",
        "esia_enabled": getattr(settings, "ESIA_ENABLED", False),
    }
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = identity.login_check(
                login=data["login"], password=data["password"], ip=client_ip(request), now=clock.now()
            )
        except identity.InvalidCredentials as exc:
            # above the form: it must not tell whether the phone or the password was wrong
            status = _failed(form, exc, context, field=None)
        except identity.ProfileNotConfirmed as exc:
            context["unconfirmed_login"] = data["login"]
            status = _failed(form, exc, context)
        except DomainError as exc:
            status = _failed(form, exc, context)
        else:
            session_start(request, user, remember=data["remember"])
            return HttpResponseRedirect(_next_url(request))
    return _page(request, "web/auth/login.html", context, status=status)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    session_end(request)
    messages.success(request, _("Вы вышли из личного кабинета."))
    return redirect("web:landing")


# --- Password recovery ----------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def password_forgot(request: HttpRequest) -> HttpResponse:
    form = PasswordForgotForm(request.POST) if request.method == "POST" else PasswordForgotForm()
    context: dict[str, Any] = {"form": form}
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            sent = identity.password_reset_start(
                login=form.cleaned_data["login"],
                link_base=request.build_absolute_uri("/password/reset/"),
                ip=client_ip(request),
                now=clock.now(),
            )
        except DomainError as exc:
            status = _failed(form, exc, context)
        else:
            request.session[RESET_KEY] = {"login": sent.recipient, "masked": sent.masked, "kind": sent.contact_kind}
            if sent.contact_kind == ContactKind.PHONE:
                return redirect("web:password_reset_code")
            return redirect("web:password_forgot_sent")
    return _page(request, "web/auth/password_forgot.html", context, status=status)


@never_cache
@require_http_methods(["GET"])
def password_forgot_sent(request: HttpRequest) -> HttpResponse:
    pending = _pending(request, RESET_KEY)
    if pending is None:
        return redirect("web:password_forgot")
    return render(request, "web/auth/password_forgot_sent.html", {"masked": pending["masked"]})


def _password_reset_done(request: HttpRequest) -> HttpResponse:
    # The service has ended every session of the person, this browser's among them: start afresh.
    auth.logout(request)
    messages.success(
        request,
        _("Пароль изменён. На всех устройствах, где был открыт кабинет, выполнен выход. Войдите с новым паролем."),
    )
    return redirect("web:login")


@never_cache
@sensitive_post_parameters(*PASSWORDS)
@require_http_methods(["GET", "POST"])
def password_reset_code(request: HttpRequest) -> HttpResponse:
    pending = _pending(request, RESET_KEY)
    if pending is None or pending.get("kind") != ContactKind.PHONE:
        return redirect("web:password_forgot")
    form = PasswordResetCodeForm(request.POST) if request.method == "POST" else PasswordResetCodeForm()
    context: dict[str, Any] = {"form": form, "masked": pending["masked"]}
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            identity.password_reset_by_code(
                login=pending["login"],
                code=data["code"],
                new_password=data["new_password"],
                ip=client_ip(request),
                now=clock.now(),
            )
        except DomainError as exc:
            status = _failed(form, exc, context)
        else:
            return _password_reset_done(request)
    return _page(request, "web/auth/password_reset_code.html", context, status=status)


@never_cache
@require_POST
def password_reset_resend(request: HttpRequest) -> HttpResponse:
    pending = _pending(request, RESET_KEY)
    if pending is None:
        return redirect("web:password_forgot")
    try:
        sent = identity.password_reset_start(
            login=pending["login"],
            link_base=request.build_absolute_uri("/password/reset/"),
            ip=client_ip(request),
            now=clock.now(),
        )
    except DomainError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request, _("Если такой профиль есть, мы отправили новый код на %(contact)s.") % {"contact": sent.masked}
        )
    return redirect("web:password_reset_code")


@never_cache
@sensitive_post_parameters(*PASSWORDS)
@require_http_methods(["GET", "POST"])
def password_reset_link(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    form = NewPasswordForm(request.POST) if request.method == "POST" else NewPasswordForm()
    context: dict[str, Any] = {"form": form}
    status = 200
    try:
        if request.method == "GET":
            identity.password_reset_link_user(uid=uidb64, token=token)
        elif form.is_valid():
            try:
                identity.password_reset_by_link(
                    uid=uidb64,
                    token=token,
                    new_password=form.cleaned_data["new_password"],
                    ip=client_ip(request),
                    now=clock.now(),
                )
            except identity.ResetLinkInvalid:
                raise
            except DomainError as exc:
                status = _failed(form, exc, context)
            else:
                return _password_reset_done(request)
    except identity.ResetLinkInvalid:
        return render(request, "web/auth/password_reset_link_invalid.html")
    return _page(request, "web/auth/password_reset_link.html", context, status=status)
