"""The profile of a logged-in person: contacts, password, consents, sessions and devices,
the request to delete the profile."""

from __future__ import annotations

from typing import Any

from django.contrib import auth, messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from abonent.core import clock
from abonent.core.errors import DomainError
from abonent.identity import selectors as identity_selectors
from abonent.identity import services as identity
from abonent.identity.enums import AuthChannel, ConsentKind, ContactKind
from abonent.identity.models import User
from abonent.web.forms import (
    CodeForm,
    DeletionForm,
    EmailForm,
    MarketingConsentForm,
    PasswordChangeForm,
    PhoneForm,
    error_text,
    form_error,
    retry_after,
)
from abonent.web.sessions import client_ip, current_session_id

CONTACT_KEY = "abonent.contact_change.{kind}"


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # the views are behind login_required
    return user


def _page(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    if status == 429 and (seconds := context.get("retry_after")):
        response["Retry-After"] = str(seconds)
    return response


def _failed(form: Any, exc: DomainError, context: dict[str, Any]) -> int:
    context["retry_after"] = retry_after(exc)
    return form_error(form, exc)


@never_cache
@login_required
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    consents = identity_selectors.consents_list(user=user)
    return render(
        request,
        "web/profile/index.html",
        {
            "profile": user,
            "consents": consents,
            "marketing_given": any(c.kind == ConsentKind.MARKETING and c.withdrawn_at is None for c in consents),
            "deletion": identity_selectors.deletion_request_open_get(user=user),
        },
    )


# --- Phone and e-mail -----------------------------------------------------------------

_CONTACT_FORMS: dict[str, type[PhoneForm] | type[EmailForm]] = {"phone": PhoneForm, "email": EmailForm}


def _contact_pending(request: HttpRequest, kind: str) -> dict[str, str] | None:
    value = request.session.get(CONTACT_KEY.format(kind=kind))
    return value if isinstance(value, dict) and value.get("value") else None


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def contact_change(request: HttpRequest, kind: str) -> HttpResponse:
    form_class = _CONTACT_FORMS[kind]
    form = form_class(request.POST) if request.method == "POST" else form_class()
    user = _user(request)
    context: dict[str, Any] = {"form": form, "kind": kind, "current": getattr(user, kind)}
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            sent = identity.contact_change_start(
                user=user, kind=ContactKind(kind), value=form.cleaned_data[kind], ip=client_ip(request), now=clock.now()
            )
        except DomainError as exc:
            status = _failed(form, exc, context)
        else:
            request.session[CONTACT_KEY.format(kind=kind)] = {"value": sent.recipient, "masked": sent.masked}
            return redirect(f"web:profile_{kind}_confirm")
    return _page(request, "web/profile/contact_change.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def contact_change_confirm(request: HttpRequest, kind: str) -> HttpResponse:
    pending = _contact_pending(request, kind)
    if pending is None:
        return redirect(f"web:profile_{kind}")
    form = CodeForm(request.POST) if request.method == "POST" else CodeForm()
    context: dict[str, Any] = {"form": form, "kind": kind, "masked": pending["masked"]}
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            identity.contact_change_confirm(
                user=_user(request),
                kind=ContactKind(kind),
                value=pending["value"],
                code=form.cleaned_data["code"],
                ip=client_ip(request),
                now=clock.now(),
            )
        except DomainError as exc:
            status = _failed(form, exc, context)
        else:
            del request.session[CONTACT_KEY.format(kind=kind)]
            messages.success(
                request, _("Телефон изменён.") if kind == ContactKind.PHONE else _("Адрес e‑mail изменён.")
            )
            return redirect("web:profile")
    return _page(request, "web/profile/contact_confirm.html", context, status=status)


@never_cache
@login_required
@require_POST
def contact_change_resend(request: HttpRequest, kind: str) -> HttpResponse:
    pending = _contact_pending(request, kind)
    if pending is None:
        return redirect(f"web:profile_{kind}")
    try:
        sent = identity.contact_change_start(
            user=_user(request), kind=ContactKind(kind), value=pending["value"], ip=client_ip(request), now=clock.now()
        )
    except DomainError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Мы отправили новый код на %(contact)s.") % {"contact": sent.masked})
    return redirect(f"web:profile_{kind}_confirm")


# --- Password -------------------------------------------------------------------------


@never_cache
@login_required
@sensitive_post_parameters("old_password", "new_password", "new_password2")
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST) if request.method == "POST" else PasswordChangeForm()
    context: dict[str, Any] = {"form": form}
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = identity.password_change(
                user=_user(request),
                old_password=data["old_password"],
                new_password=data["new_password"],
                keep_session_id=current_session_id(request),
                ip=client_ip(request),
                now=clock.now(),
            )
        except DomainError as exc:
            status = _failed(form, exc, context)
        else:
            # This browser stays logged in. Not update_session_auth_hash(): it gives the
            # session a new key, which the AuthSession kept by the service does not know.
            request.session[auth.HASH_SESSION_KEY] = user.get_session_auth_hash()
            messages.success(request, _("Пароль изменён. На других устройствах выполнен выход из кабинета."))
            return redirect("web:profile")
    return _page(request, "web/profile/password.html", context, status=status)


# --- Consents -------------------------------------------------------------------------


@never_cache
@login_required
@require_POST
def marketing_consent(request: HttpRequest) -> HttpResponse:
    form = MarketingConsentForm(request.POST)
    if form.is_valid():
        given = form.cleaned_data["given"]
        identity.marketing_consent_set(
            user=_user(request), given=given, channel=AuthChannel.WEB, ip=client_ip(request), now=clock.now()
        )
        messages.success(
            request,
            _("Вы согласились получать новости и предложения.")
            if given
            else _("Вы отказались от новостей и предложений. Уведомления по договору будут приходить как раньше."),
        )
    return redirect(reverse("web:profile") + "#marketing")


# --- Sessions and devices -------------------------------------------------------------


@never_cache
@login_required
@require_GET
def sessions(request: HttpRequest) -> HttpResponse:
    active = identity_selectors.sessions_list(user=_user(request), now=clock.now())
    current = current_session_id(request)
    return render(
        request,
        "web/profile/sessions.html",
        {"sessions": active, "current_id": current, "others": sum(1 for s in active if s.pk != current)},
    )


@never_cache
@login_required
@require_POST
def session_end(request: HttpRequest, session_id: int) -> HttpResponse:
    try:
        identity.session_end(user=_user(request), session_id=session_id, now=clock.now())
    except identity.SessionNotFound:
        # another person's session, or one already ended: nothing here to show
        raise Http404 from None
    if session_id == current_session_id(request):
        auth.logout(request)  # the service has ended this very browser's session
        messages.success(request, _("Вы вышли из личного кабинета."))
        return redirect("web:login")
    messages.success(request, _("Сеанс завершён: на том устройстве нужно будет войти снова."))
    return redirect("web:profile_sessions")


@never_cache
@login_required
@require_POST
def sessions_end_others(request: HttpRequest) -> HttpResponse:
    ended = identity.sessions_end_all(
        user=_user(request), now=clock.now(), keep_session_id=current_session_id(request), reason="ended_by_user"
    )
    messages.success(request, _("Завершено сеансов на других устройствах: %(count)s.") % {"count": ended})
    return redirect("web:profile_sessions")


# --- Deletion -------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def deletion(request: HttpRequest) -> HttpResponse:
    form = DeletionForm(request.POST) if request.method == "POST" else DeletionForm()
    user = _user(request)
    context: dict[str, Any] = {"form": form}
    status = 200
    if request.method == "GET":
        context["deletion"] = identity_selectors.deletion_request_open_get(user=user)
    elif form.is_valid():
        try:
            created = identity.deletion_request_create(
                user=user, reason=form.cleaned_data["reason"], channel=AuthChannel.WEB, now=clock.now()
            )
        except DomainError as exc:
            status = _failed(form, exc, context)
        else:
            messages.success(
                request,
                _("Заявка на удаление профиля принята. Мы рассмотрим её до %(date)s и сообщим результат.")
                % {"date": f"{created.due_by:%d.%m.%Y}"},
            )
            return redirect("web:profile")
    return _page(request, "web/profile/delete.html", context, status=status)
