"""Logging a person in and out of the portal: Django's session plus our record of it
(identity's AuthSession, the list of devices a person sees and can end).

Every way of logging in on the web (password, registration, Госуслуги) goes through
:func:`session_start`, so the middleware (``web.middleware``) knows which sessions to check.
"""

from __future__ import annotations

from django.contrib import auth
from django.http import HttpRequest

from abonent.core import clock
from abonent.identity import policy
from abonent.identity import services as identity
from abonent.identity.models import User

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
#: The id of the AuthSession of this browser, kept in Django's session.
AUTH_SESSION_KEY = "abonent.auth_session_id"
#: "Remember me": the cookie outlives the browser, up to the absolute limit of a session.
REMEMBER_SECONDS = int(policy.SESSION_ABSOLUTE.total_seconds())


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def user_agent(request: HttpRequest) -> str:
    return str(request.META.get("HTTP_USER_AGENT", ""))


def session_start(request: HttpRequest, user: User, *, remember: bool) -> None:
    """Log ``user`` in (Django gives the browser a new session key) and record the session.

    Without "remember me" the cookie ends with the browser and the idle limit applies.
    """
    now = clock.now()
    if current_session_id(request) is not None and request.session.session_key:
        # logged in already (someone else, or again): that session ends here
        identity.web_session_end(session_key=request.session.session_key, now=now)
    auth.login(request, user, backend=MODEL_BACKEND)
    session_key = request.session.session_key
    assert session_key is not None  # login() has just created it
    record = identity.web_session_start(
        user=user,
        session_key=session_key,
        remember=remember,
        user_agent=user_agent(request),
        ip=client_ip(request),
        now=now,
    )
    request.session[AUTH_SESSION_KEY] = record.pk
    request.session.set_expiry(REMEMBER_SECONDS if remember else 0)


def session_end(request: HttpRequest) -> None:
    """Log the browser out and record it."""
    if request.session.session_key:
        identity.web_session_end(session_key=request.session.session_key, now=clock.now())
    auth.logout(request)


def current_session_id(request: HttpRequest) -> int | None:
    """The AuthSession id of this browser; None for a login through the back office."""
    value = request.session.get(AUTH_SESSION_KEY)
    return value if isinstance(value, int) else None
