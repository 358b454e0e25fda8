"""Bearer access tokens of the mobile apps: the only way to authenticate to the API.

Session cookies of the web portal are not accepted here, so a browser visiting another
site cannot make API calls on its user's behalf, and the API needs no CSRF tokens.
"""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest
from ninja.security import HttpBearer

from abonent.core import clock
from abonent.identity.models import AuthSession, User
from abonent.identity.services import InvalidToken, access_token_authenticate

# Tokens we issue are about 46 characters; anything much longer is not ours.
_TOKEN_MAX_LENGTH = 200


class BearerAuth(HttpBearer):
    """``Authorization: Bearer <access token>``; ``request.auth`` becomes ``(user, session)``.

    No header → 401 ``not_authenticated``; a wrong, expired or revoked token → 401
    ``invalid_token`` (both with ``WWW-Authenticate: Bearer``, see ``api/errors.py``).
    """

    def authenticate(self, request: HttpRequest, token: str) -> tuple[User, AuthSession]:
        token = token.strip()
        if not token or len(token) > _TOKEN_MAX_LENGTH:
            raise InvalidToken()
        return access_token_authenticate(access_token=token, now=clock.now())


bearer = BearerAuth()


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from (``REMOTE_ADDR``), for logs and audit records."""
    return request.META.get("REMOTE_ADDR") or None


def principal(request: HttpRequest) -> tuple[User, AuthSession]:
    """The user and the device (app session) of an authenticated request."""
    return cast(tuple[User, AuthSession], request.auth)  # type: ignore[attr-defined]
