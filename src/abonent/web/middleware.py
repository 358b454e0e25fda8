"""The rules of a portal session on every request: 12 hours at most, 30 minutes idle unless
"remember me", and not ended from another device (identity's ``web_session_touch``)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from abonent.core import clock
from abonent.identity import services as identity
from abonent.web.sessions import AUTH_SESSION_KEY


class AuthSessionMiddleware:
    """Logs the browser out when its session is no longer valid.

    Only sessions started by the portal's login carry our mark; staff who log in to the back
    office through the admin have none and are left alone. Goes after the authentication
    and messages middleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        ours = AUTH_SESSION_KEY in session and session.session_key and request.user.is_authenticated
        if ours and not identity.web_session_touch(session_key=str(session.session_key), now=clock.now()):
            auth.logout(request)
            messages.info(
                request,
                _("Сеанс завершён: вы долго не пользовались кабинетом или вышли на другом устройстве. Войдите снова."),
            )
        return self.get_response(request)
