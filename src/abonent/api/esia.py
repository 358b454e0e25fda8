"""«Войти через Госуслуги» for the mobile apps: the portal's journey through the API.

1. ``POST /auth/esia/start`` → the address to open in the browser (or an in-app browser
   tab), the OAuth ``state`` and a ``flow_key``. The app keeps the flow_key to itself: it is
   never in a URL, so a code and state caught on their way back to the app are not enough
   to finish someone's login.
2. The provider sends the browser back to the app's ``redirect_uri`` with ``code`` and
   ``state`` (or ``error``); ``POST /auth/esia/complete`` with them and the flow_key →
   ``200`` tokens, or ``202`` with the next step:
   - ``confirmation_required``: a profile with the person's phone or e-mail exists; a code
     went to it → ``POST /auth/esia/confirm`` (``/confirm/resend`` for a new code);
   - ``consent_required``: a new profile is to be made; show the consent texts →
     ``POST /auth/esia/consent``.

Each handler parses its input and makes one call into ``identity.external``.
Mounted by ``api/urls.py``: ``api.add_router("/auth/esia", esia.router)``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from abonent.api.auth import client_ip
from abonent.api.identity_schemas import (
    Code,
    CodeSentOut,
    ConsentDocumentOut,
    DeviceName,
    In,
    TokenPairOut,
    code_sent_body,
    token_pair_body,
)
from abonent.api.schemas import Problem
from abonent.core import clock
from abonent.identity import external
from abonent.identity.oidc import ESIA
from abonent.identity.services import TokenPair

router = Router(tags=["auth: Госуслуги"])


def _problems(*statuses: int) -> dict[int, Any]:
    """The problems an endpoint answers with (400 is a body that is not JSON)."""
    return dict.fromkeys((400, *statuses), Problem)


State = Annotated[str, Field(min_length=1, max_length=200, description="state из ответа /auth/esia/start")]
FlowKey = Annotated[
    str, Field(min_length=1, max_length=100, description="flow_key из ответа /auth/esia/start (только у приложения)")
]


def _user_agent(request: HttpRequest) -> str:
    return str(request.META.get("HTTP_USER_AGENT", ""))


# --- Schemas --------------------------------------------------------------------------


class StartIn(In):
    redirect_uri: str | None = Field(
        None,
        max_length=500,
        description="Куда Госуслуги вернут человека: адрес приложения из ESIA_APP_REDIRECT_URIS; "
        "без него — адрес портала",
    )


class StartOut(Schema):
    authorization_url: str = Field(description="Открыть в браузере")
    state: str
    flow_key: str = Field(description="Хранить в приложении и отправить в /complete; никому не показывать")
    expires_at: dt.datetime = Field(description="До этого времени нужно вызвать /complete")


class CompleteIn(In):
    state: State
    flow_key: FlowKey
    code: str = Field("", max_length=2000, description="code из адреса возврата")
    error: str = Field("", max_length=100, description="error из адреса возврата, если вход не удался")
    iss: str | None = Field(None, max_length=500, description="iss из адреса возврата, если он есть")
    device_name: DeviceName = ""


class PersonOut(Schema):
    last_name: str
    first_name: str
    middle_name: str
    phone: str | None
    email: str | None


class StepOut(Schema):
    status: Literal["confirmation_required", "consent_required"]
    state: str
    expires_at: dt.datetime = Field(description="До этого времени нужно закончить шаг")
    code_sent: CodeSentOut | None = Field(
        None, description="confirmation_required: куда отправлен код для привязки к существующему профилю"
    )
    person: PersonOut | None = Field(None, description="consent_required: данные из Госуслуг для нового профиля")
    consent_documents: list[ConsentDocumentOut] | None = Field(
        None, description="consent_required: тексты согласий, которые нужно показать"
    )


class FlowIn(In):
    state: State
    flow_key: FlowKey


class ConfirmIn(FlowIn):
    code: Code
    device_name: DeviceName = ""


class ConsentIn(FlowIn):
    personal_data_consent: bool = Field(description="Согласие на обработку персональных данных; без него нельзя")
    marketing_consent: bool = Field(False, description="Согласие на рекламные и информационные рассылки")
    device_name: DeviceName = ""


def _step(state: str, outcome: external.ConfirmationNeeded | external.ConsentNeeded) -> dict[str, Any]:
    body: dict[str, Any] = {"state": state, "expires_at": outcome.pending.started_at + external.PENDING_TTL}
    if isinstance(outcome, external.ConfirmationNeeded):
        return {**body, "status": "confirmation_required", "code_sent": code_sent_body(outcome.sent)}
    person = outcome.pending.person
    return {
        **body,
        "status": "consent_required",
        "person": {
            "last_name": person.last_name,
            "first_name": person.first_name,
            "middle_name": person.middle_name,
            "phone": person.phone,
            "email": person.email,
        },
        "consent_documents": [
            {
                "kind": document.kind,
                "version": document.version,
                "purpose": document.purpose,
                "text": document.text,
                "effective_from": document.effective_from,
            }
            for document in outcome.documents.values()
        ],
    }


# --- Endpoints ------------------------------------------------------------------------


@router.post("/start", response={200: StartOut, **_problems(404, 422, 429, 503)}, summary="Начать вход через Госуслуги")
def start(request: HttpRequest, payload: StartIn) -> dict[str, Any]:
    """The address to open and what to send back to ``/complete``.

    Errors: 404 ``external_login_disabled``; 422 ``redirect_uri_not_allowed``;
    429 ``too_many_attempts``; 503 ``external_login_unavailable``.
    """
    started = external.external_app_start(
        provider=ESIA, redirect_uri=payload.redirect_uri, ip=client_ip(request), now=clock.now()
    )
    return {
        "authorization_url": started.authorization_url,
        "state": started.state,
        "flow_key": started.flow_key,
        "expires_at": started.expires_at,
    }


@router.post(
    "/complete",
    response={200: TokenPairOut, 202: StepOut, **_problems(403, 404, 409, 422, 429, 502, 503)},
    summary="Закончить вход через Госуслуги: code и state из адреса возврата",
)
def complete(request: HttpRequest, payload: CompleteIn) -> Status[dict[str, Any]]:
    """Tokens for this device when the Госуслуги account is linked to a profile; otherwise
    202 with the next step (``confirmation_required`` or ``consent_required``). A state
    works once: after an error start again.

    Errors: 403 ``external_login_cancelled`` (the person refused at Госуслуги),
    ``external_profile_inactive``; 404 ``external_login_disabled``; 409 ``external_already_linked``; 422
    ``external_state_invalid``; 429 ``code_resend_too_soon``, ``too_many_attempts``;
    502 ``external_response_invalid``, ``external_login_refused``; 503 ``external_login_unavailable``.
    """
    now = clock.now()
    result = external.external_app_complete(
        provider=ESIA,
        state=payload.state,
        flow_key=payload.flow_key,
        code=payload.code,
        error=payload.error,
        iss=payload.iss,
        device_name=payload.device_name,
        user_agent=_user_agent(request),
        ip=client_ip(request),
        now=now,
    )
    if isinstance(result, TokenPair):
        return Status(200, token_pair_body(result, now))
    return Status(202, _step(payload.state, result))


@router.post(
    "/confirm",
    response={200: TokenPairOut, **_problems(403, 409, 422, 429)},
    summary="Привязать Госуслуги к существующему профилю кодом из SMS или письма",
)
def confirm(request: HttpRequest, payload: ConfirmIn) -> dict[str, Any]:
    """Links the Госуслуги account to the profile and logs this device in.

    Errors: 422 ``code_invalid`` (with the tries left), ``code_expired``,
    ``external_step_expired``; 403 ``external_profile_inactive``; 409 ``external_already_linked``; 429 ``code_attempts_exhausted``,
    ``too_many_attempts``.
    """
    now = clock.now()
    pair = external.external_app_confirm(
        state=payload.state,
        flow_key=payload.flow_key,
        code=payload.code,
        device_name=payload.device_name,
        user_agent=_user_agent(request),
        ip=client_ip(request),
        now=now,
    )
    return token_pair_body(pair, now)


@router.post(
    "/confirm/resend", response={202: CodeSentOut, **_problems(422, 429)}, summary="Отправить код для привязки ещё раз"
)
def confirm_resend(request: HttpRequest, payload: FlowIn) -> Status[dict[str, Any]]:
    """A new code (earlier ones stop working).

    Errors: 422 ``external_step_expired``; 429 ``code_resend_too_soon``, ``too_many_attempts``.
    """
    sent = external.external_app_code_resend(
        state=payload.state, flow_key=payload.flow_key, ip=client_ip(request), now=clock.now()
    )
    return Status(202, code_sent_body(sent))


@router.post(
    "/consent",
    response={201: TokenPairOut, **_problems(409, 422, 503)},
    summary="Создать профиль по данным Госуслуг с согласием на обработку персональных данных",
)
def consent(request: HttpRequest, payload: ConsentIn) -> Status[dict[str, Any]]:
    """Makes the profile, linked to the Госуслуги account, and logs this device in. Without
    the consent nothing is saved.

    Errors: 422 ``consent_required``, ``external_step_expired``; 503 ``consent_text_missing``
    when no consent text is published.
    """
    now = clock.now()
    pair = external.external_app_register(
        state=payload.state,
        flow_key=payload.flow_key,
        personal_data_consent=payload.personal_data_consent,
        marketing_consent=payload.marketing_consent,
        device_name=payload.device_name,
        user_agent=_user_agent(request),
        ip=client_ip(request),
        now=now,
    )
    return Status(201, token_pair_body(pair, now))
