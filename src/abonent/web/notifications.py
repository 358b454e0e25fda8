"""The subscriber's messages on the portal: the notification centre, and the settings of what
comes where (each kind of message by each channel) and in which language.

The centre shows the user's own messages only, newest first, a page at a time («Показать
ещё» goes on before the last one shown). Looking at a page is reading it: the messages
shown unread are marked read as the page is drawn, and still carry their «новое» mark on
that page, so the person sees what is new without a button to press for each one (one
more step is one too many on a phone, and a per-message button is one more thing to miss).
«Отметить все прочитанными» reads the rest, those on pages not opened yet.

A message about a personal account links the account's page only while the user is still
linked to it: the centre never leads to an account that is not theirs.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from abonent.core import clock
from abonent.core.errors import DomainError
from abonent.customers import selectors as customers
from abonent.identity import services as identity
from abonent.identity.models import User
from abonent.identity.selectors import recipient_of
from abonent.notifications import selectors as notices
from abonent.notifications import services as notifying
from abonent.web.forms import form_error
from abonent.web.notifications_forms import LanguageForm, PreferencesForm

#: Messages on a page of the centre.
PAGE_SIZE = 20


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # the views are behind login_required
    return user


# --- The notification centre --------------------------------------------------------------


def _cursor(text: str) -> int | None:
    """The id the page goes on before; None for a missing or mangled one."""
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        return None
    return int(text) or None


@never_cache
@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    raw = request.GET.get("before_id", "")
    before_id = _cursor(raw)
    if raw and before_id is None:
        return redirect("web:notifications")  # a cursor mangled on the way: the newest messages
    found = list(
        notices.notifications_list(user=user, limit=PAGE_SIZE + 1, before_id=before_id).select_related("supplier")
    )
    items, more = found[:PAGE_SIZE], len(found) > PAGE_SIZE
    unread = [item.pk for item in items if item.read_at is None]
    if unread:
        # one removed meanwhile (old messages are cleared) leaves them unread until the next look
        with contextlib.suppress(notifying.NotificationNotFound):
            notifying.notifications_mark_read(user=user, now=clock.now(), notification_ids=unread)
    links = {link.account_id: link for link in customers.account_links_list(user=user)}
    context = {
        "items": [(item, links.get(item.account_id) if item.account_id else None) for item in items],
        "next_before": items[-1].pk if more else None,
        "later": before_id is not None,
        # the menu's count, after this page was read: the unread ones on pages not opened yet
        "notifications_unread": notices.notifications_unread_count(user=user),
    }
    return render(request, "web/notifications/list.html", context)


@never_cache
@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    marked = notifying.notifications_mark_read(user=_user(request), now=clock.now())
    if marked:
        messages.success(request, _("Все уведомления отмечены прочитанными."))
    else:
        messages.info(request, _("Непрочитанных уведомлений нет."))
    return redirect("web:notifications")


# --- Settings: what comes where, and in which language ----------------------------------------


def _matrix(user: User) -> list[notices.KindChoices]:
    return notices.preferences_get(recipient=recipient_of(user))


def _settings_page(
    request: HttpRequest,
    *,
    form: PreferencesForm | None = None,
    language_form: LanguageForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    context: dict[str, Any] = {
        "form": form or PreferencesForm(matrix=_matrix(user)),
        "language_form": language_form or LanguageForm(initial={"language": user.language}),
        "profile": user,
    }
    return render(request, "web/notifications/settings.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    """The matrix of kinds and channels; saving sends every checkbox, the domain takes the
    whole choice or, when a pair cannot be chosen so, none of it."""
    if request.method == "GET":
        return _settings_page(request)
    user = _user(request)
    form = PreferencesForm(request.POST, matrix=_matrix(user))
    status = 200
    if form.is_valid():
        try:
            notifying.preferences_set(user=user, choices=form.choices, now=clock.now())
        except DomainError as exc:
            status = form_error(form, exc)
        else:
            messages.success(request, _("Настройки уведомлений сохранены."))
            return redirect("web:profile_notifications")
    return _settings_page(request, form=form, status=status)


@never_cache
@login_required
@require_POST
def message_language(request: HttpRequest) -> HttpResponse:
    form = LanguageForm(request.POST)
    if form.is_valid():
        try:
            user = identity.user_language_set(user=_user(request), language=form.cleaned_data["language"])
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(
                request,
                _("Сообщения будут приходить на языке: %(language)s.") % {"language": user.get_language_display()},
            )
            return redirect(reverse("web:profile_notifications") + "#language")
    return _settings_page(request, language_form=form)
