"""Identity through the API: registration, login and tokens, recovery, the profile.

Each handler parses its input, makes one call into ``abonent.identity.services`` (a
login is the check and then the device's session) and maps the result; errors become
problems in ``api/errors.py``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from abonent.api.auth import bearer, client_ip, principal
from abonent.api.identity_schemas import (
    CodeSentOut,
    ConsentDocumentOut,
    DeletionRequestIn,
    DeletionRequestOut,
    EmailConfirmIn,
    EmailIn,
    LanguageIn,
    LoginIn,
    LoginOnlyIn,
    MarketingConsentIn,
    MarketingConsentOut,
    PasswordChangeIn,
    PasswordResetByCodeIn,
    PasswordResetByLinkIn,
    PhoneConfirmIn,
    PhoneIn,
    ProfileOut,
    RefreshIn,
    RegisterConfirmIn,
    RegisterIn,
    SessionOut,
    SessionsEndedOut,
    TokenPairOut,
    code_sent_body,
    token_pair_body,
)
from abonent.api.schemas import INVALID, TOO_MANY, UNAUTHORIZED, Problem
from abonent.core import clock
from abonent.identity import selectors as identity_selectors
from abonent.identity import services as identity
from abonent.identity.enums import AuthChannel, ConsentKind, ContactKind
from abonent.identity.models import AuthSession, ConsentDocument, DeletionRequest, User

# The web page that takes the token of an e-mailed password reset link.
PASSWORD_RESET_PAGE = "/password/reset/"

auth_router = Router(tags=["auth"])
profile_router = Router(tags=["profile"], auth=bearer)


# --- Mapping --------------------------------------------------------------------------


def _user_agent(request: HttpRequest) -> str:
    return str(request.META.get("HTTP_USER_AGENT", ""))


def _deletion_request(request: DeletionRequest) -> dict[str, Any]:
    return {"status": request.status, "requested_at": request.requested_at, "due_by": request.due_by}


def _profile(user: User) -> dict[str, Any]:
    deletion = identity_selectors.deletion_request_open_get(user=user)
    return {
        "id": user.pk,
        "phone": user.phone,
        "email": user.email,
        "phone_confirmed": user.phone_confirmed_at is not None,
        "email_confirmed": user.email_confirmed_at is not None,
        "last_name": user.last_name,
        "first_name": user.first_name,
        "middle_name": user.middle_name,
        "language": user.language,
        "consents": [
            {
                "kind": consent.kind,
                "version": consent.document.version,
                "granted_at": consent.granted_at,
                "withdrawn_at": consent.withdrawn_at,
            }
            for consent in identity_selectors.consents_list(user=user)
        ],
        "deletion_request": _deletion_request(deletion) if deletion is not None else None,
    }


def _session(session: AuthSession, *, current: AuthSession) -> dict[str, Any]:
    return {
        "id": session.pk,
        "kind": session.kind,
        "device_name": session.device_name,
        "user_agent": session.user_agent,
        "ip": session.ip,
        "created_at": session.created_at,
        "last_seen_at": session.last_seen_at,
        "current": session.pk == current.pk,
    }


def _consent_document(document: ConsentDocument) -> dict[str, Any]:
    return {
        "kind": document.kind,
        "version": document.version,
        "purpose": document.purpose,
        "text": document.text,
        "effective_from": document.effective_from,
    }


# --- Registration ---------------------------------------------------------------------


@auth_router.get(
    "/consent-documents",
    response={200: list[ConsentDocumentOut]},
    summary="Тексты согласий для экрана регистрации",
)
def consent_documents(request: HttpRequest) -> list[dict[str, Any]]:
    """The versions in force of the consent to personal data processing (required) and to
    marketing messages (optional), to show before ``POST /auth/register``."""
    documents = identity_selectors.consent_documents_get(now=clock.now())
    return [_consent_document(documents[kind.value]) for kind in ConsentKind]


@auth_router.post(
    "/register",
    response={202: CodeSentOut, **INVALID, **TOO_MANY},
    summary="Регистрация по телефону или e-mail: отправить код",
)
def register(request: HttpRequest, payload: RegisterIn) -> Status[dict[str, Any]]:
    """Starts registration and sends a 6-digit code to the phone (SMS) or e-mail.

    The answer is the same when the phone or e-mail is already registered (its owner is
    told by a message instead), so it does not reveal who is registered.
    Errors: 422 ``invalid_login``, ``consent_required``, ``validation_failed`` (password);
    429 ``code_resend_too_soon``, ``too_many_attempts`` with ``Retry-After``.
    """
    sent = identity.registration_start(
        login=payload.login,
        password=payload.password,
        personal_data_consent=payload.personal_data_consent,
        marketing_consent=payload.marketing_consent,
        channel=AuthChannel.APP,
        ip=client_ip(request),
        now=clock.now(),
    )
    return Status(202, code_sent_body(sent))


@auth_router.post(
    "/register/resend",
    response={202: CodeSentOut, **INVALID, **TOO_MANY},
    summary="Отправить код регистрации ещё раз",
)
def register_resend(request: HttpRequest, payload: LoginOnlyIn) -> Status[dict[str, Any]]:
    """Sends a new code to a profile not confirmed yet (earlier codes stop working). The
    answer is the same whatever the login.

    Errors: 422 ``invalid_login``; 429 ``code_resend_too_soon``, ``too_many_attempts``.
    """
    sent = identity.registration_code_resend(login=payload.login, ip=client_ip(request), now=clock.now())
    return Status(202, code_sent_body(sent))


@auth_router.post(
    "/register/confirm",
    response={201: TokenPairOut, **INVALID, **TOO_MANY},
    summary="Подтвердить регистрацию кодом и войти",
)
def register_confirm(request: HttpRequest, payload: RegisterConfirmIn) -> Status[dict[str, Any]]:
    """Activates the profile and logs this device in.

    Errors: 422 ``code_invalid`` (with the tries left), ``code_expired``, ``invalid_login``;
    429 ``code_attempts_exhausted``, ``too_many_attempts``.
    """
    now = clock.now()
    pair = identity.app_registration_confirm(
        login=payload.login,
        code=payload.code,
        device_name=payload.device_name,
        user_agent=_user_agent(request),
        ip=client_ip(request),
        now=now,
    )
    return Status(201, token_pair_body(pair, now))


# --- Login and tokens -----------------------------------------------------------------


@auth_router.post(
    "/login",
    response={200: TokenPairOut, 401: Problem, 403: Problem, **INVALID, **TOO_MANY},
    summary="Вход по телефону или e-mail и паролю",
)
def login(request: HttpRequest, payload: LoginIn) -> dict[str, Any]:
    """Starts a session for this device: a short-lived access token and a refresh token.

    Errors: 401 ``invalid_credentials`` (the same whether the login is unknown or the
    password wrong); 403 ``profile_not_confirmed``; 422 ``invalid_login``;
    429 ``too_many_attempts`` with ``Retry-After``.
    """
    now = clock.now()
    pair = identity.app_login(
        login=payload.login,
        password=payload.password,
        device_name=payload.device_name,
        user_agent=_user_agent(request),
        ip=client_ip(request),
        now=now,
    )
    return token_pair_body(pair, now)


@auth_router.post(
    "/token/refresh",
    response={200: TokenPairOut, 401: Problem, **INVALID},
    summary="Обменять токен обновления на новую пару",
)
def token_refresh(request: HttpRequest, payload: RefreshIn) -> dict[str, Any]:
    """The refresh token works once. Presented a second time it ends the device's session.

    Errors: 401 ``invalid_token``, ``refresh_token_reused``.
    """
    now = clock.now()
    pair = identity.app_tokens_refresh(refresh_token=payload.refresh_token, now=now)
    return token_pair_body(pair, now)


@auth_router.post("/logout", auth=bearer, response={204: None, **UNAUTHORIZED}, summary="Выйти на этом устройстве")
def logout(request: HttpRequest) -> Status[None]:
    """The device's tokens stop working."""
    _user, session = principal(request)
    identity.app_session_end(session=session, now=clock.now())
    return Status(204, None)


# --- Password recovery ----------------------------------------------------------------


@auth_router.post(
    "/password/forgot",
    response={202: CodeSentOut, **INVALID, **TOO_MANY},
    summary="Восстановление пароля: код в SMS или ссылка в письме",
)
def password_forgot(request: HttpRequest, payload: LoginOnlyIn) -> Status[dict[str, Any]]:
    """A phone gets a code (then ``POST /auth/password/reset``); an e-mail gets a link to
    the portal's page, valid one hour (or ``POST /auth/password/reset-link`` with its parts).
    The answer does not tell whether the login is registered. Call again to resend.

    Errors: 422 ``invalid_login``; 429 ``code_resend_too_soon``, ``too_many_attempts``.
    """
    sent = identity.password_reset_start(
        login=payload.login,
        link_base=request.build_absolute_uri(PASSWORD_RESET_PAGE),
        ip=client_ip(request),
        now=clock.now(),
    )
    return Status(202, code_sent_body(sent))


@auth_router.post(
    "/password/reset",
    response={204: None, **INVALID, **TOO_MANY},
    summary="Новый пароль по коду из SMS",
)
def password_reset(request: HttpRequest, payload: PasswordResetByCodeIn) -> Status[None]:
    """Every session of the profile ends.

    Errors: 422 ``code_invalid``, ``code_expired``, ``validation_failed`` (new_password),
    ``invalid_login``; 429 ``code_attempts_exhausted``, ``too_many_attempts``.
    """
    identity.password_reset_by_code(
        login=payload.login,
        code=payload.code,
        new_password=payload.new_password,
        ip=client_ip(request),
        now=clock.now(),
        channel=AuthChannel.APP,
    )
    return Status(204, None)


@auth_router.post(
    "/password/reset-link",
    response={204: None, **INVALID},
    summary="Новый пароль по ссылке из письма",
)
def password_reset_link(request: HttpRequest, payload: PasswordResetByLinkIn) -> Status[None]:
    """The link works once and for one hour; every session of the profile ends.

    Errors: 422 ``reset_link_invalid``, ``validation_failed`` (new_password).
    """
    identity.password_reset_by_link(
        uid=payload.uid,
        token=payload.token,
        new_password=payload.new_password,
        ip=client_ip(request),
        now=clock.now(),
        channel=AuthChannel.APP,
    )
    return Status(204, None)


# --- Profile --------------------------------------------------------------------------


@profile_router.get("", response={200: ProfileOut, **UNAUTHORIZED}, summary="Профиль")
def profile_get(request: HttpRequest) -> dict[str, Any]:
    user, _session = principal(request)
    return _profile(user)


@profile_router.post(
    "/password",
    response={204: None, **UNAUTHORIZED, **INVALID, **TOO_MANY},
    summary="Сменить пароль",
)
def password_change(request: HttpRequest, payload: PasswordChangeIn) -> Status[None]:
    """This device stays logged in; every other session ends.

    Errors: 422 ``wrong_password`` (old_password), ``validation_failed`` (new_password);
    429 ``too_many_attempts``.
    """
    user, session = principal(request)
    identity.password_change(
        user=user,
        old_password=payload.old_password,
        new_password=payload.new_password,
        keep_session_id=session.pk,
        ip=client_ip(request),
        now=clock.now(),
        channel=AuthChannel.APP,
    )
    return Status(204, None)


def _contact_change_start(request: HttpRequest, kind: ContactKind, value: str) -> Status[dict[str, Any]]:
    user, _session = principal(request)
    sent = identity.contact_change_start(user=user, kind=kind, value=value, ip=client_ip(request), now=clock.now())
    return Status(202, code_sent_body(sent))


def _contact_change_confirm(request: HttpRequest, kind: ContactKind, value: str, code: str) -> dict[str, Any]:
    user, _session = principal(request)
    user = identity.contact_change_confirm(
        user=user, kind=kind, value=value, code=code, ip=client_ip(request), now=clock.now(), channel=AuthChannel.APP
    )
    return _profile(user)


@profile_router.post(
    "/phone",
    response={202: CodeSentOut, **UNAUTHORIZED, **INVALID, **TOO_MANY},
    summary="Сменить телефон: отправить код на новый номер",
)
def phone_change(request: HttpRequest, payload: PhoneIn) -> Status[dict[str, Any]]:
    """The change is made when the code is entered; call again to resend the code.

    Errors: 422 ``invalid_phone``, ``contact_unchanged``; 429 ``code_resend_too_soon``,
    ``too_many_attempts``.
    """
    return _contact_change_start(request, ContactKind.PHONE, payload.phone)


@profile_router.post(
    "/phone/confirm",
    response={200: ProfileOut, **UNAUTHORIZED, 409: Problem, **INVALID, **TOO_MANY},
    summary="Сменить телефон: подтвердить кодом",
)
def phone_change_confirm(request: HttpRequest, payload: PhoneConfirmIn) -> dict[str, Any]:
    """Errors: 409 ``contact_taken``; 422 ``invalid_phone``, ``code_invalid``,
    ``code_expired``; 429 ``code_attempts_exhausted``, ``too_many_attempts``."""
    return _contact_change_confirm(request, ContactKind.PHONE, payload.phone, payload.code)


@profile_router.post(
    "/email",
    response={202: CodeSentOut, **UNAUTHORIZED, **INVALID, **TOO_MANY},
    summary="Сменить e-mail: отправить код на новый адрес",
)
def email_change(request: HttpRequest, payload: EmailIn) -> Status[dict[str, Any]]:
    """The change is made when the code is entered; call again to resend the code.

    Errors: 422 ``invalid_email``, ``contact_unchanged``; 429 ``code_resend_too_soon``,
    ``too_many_attempts``.
    """
    return _contact_change_start(request, ContactKind.EMAIL, payload.email)


@profile_router.post(
    "/email/confirm",
    response={200: ProfileOut, **UNAUTHORIZED, 409: Problem, **INVALID, **TOO_MANY},
    summary="Сменить e-mail: подтвердить кодом",
)
def email_change_confirm(request: HttpRequest, payload: EmailConfirmIn) -> dict[str, Any]:
    """Errors: 409 ``contact_taken``; 422 ``invalid_email``, ``code_invalid``,
    ``code_expired``; 429 ``code_attempts_exhausted``, ``too_many_attempts``."""
    return _contact_change_confirm(request, ContactKind.EMAIL, payload.email, payload.code)


@profile_router.put(
    "/consents/marketing",
    response={200: MarketingConsentOut, **UNAUTHORIZED, **INVALID},
    summary="Дать или отозвать согласие на рассылки",
)
def marketing_consent_put(request: HttpRequest, payload: MarketingConsentIn) -> dict[str, Any]:
    """Separate from the consent to personal data processing, and optional."""
    user, _session = principal(request)
    identity.marketing_consent_set(
        user=user, given=payload.given, channel=AuthChannel.APP, ip=client_ip(request), now=clock.now()
    )
    active = next(
        (
            consent
            for consent in identity_selectors.consents_list(user=user)
            if consent.kind == ConsentKind.MARKETING and consent.withdrawn_at is None
        ),
        None,
    )
    return {
        "given": active is not None,
        "version": active.document.version if active else None,
        "granted_at": active.granted_at if active else None,
    }


@profile_router.put(
    "/language",
    response={200: ProfileOut, **UNAUTHORIZED, **INVALID},
    summary="Язык сообщений",
)
def language_set(request: HttpRequest, payload: LanguageIn) -> dict[str, Any]:
    """The language of the messages the user is sent from now on: e-mail, SMS, push and the
    notification centre (the API's own answers follow ``Accept-Language``). Answers the
    profile.

    Errors: 422 ``validation_failed`` (``language`` not ru or en, or not a string).
    """
    user, _session = principal(request)
    return _profile(identity.user_language_set(user=user, language=payload.language))


@profile_router.get(
    "/sessions",
    response={200: list[SessionOut], **UNAUTHORIZED},
    summary="Устройства, на которых выполнен вход",
)
def sessions_list(request: HttpRequest) -> list[dict[str, Any]]:
    """Browsers and apps, the most recently active first; ``current`` marks this device."""
    user, current = principal(request)
    return [_session(s, current=current) for s in identity_selectors.sessions_list(user=user, now=clock.now())]


@profile_router.delete(
    "/sessions/{session_id}",
    response={204: None, **UNAUTHORIZED, 404: Problem, 422: Problem},
    summary="Завершить сеанс на устройстве",
)
def session_delete(request: HttpRequest, session_id: int) -> Status[None]:
    """Its tokens (or browser session) stop working at once. Ending the current session
    is logging out. Errors: 404 ``session_not_found``."""
    user, _session = principal(request)
    identity.session_end(user=user, session_id=session_id, now=clock.now())
    return Status(204, None)


@profile_router.delete(
    "/sessions",
    response={200: SessionsEndedOut, **UNAUTHORIZED},
    summary="Завершить сеансы на всех других устройствах",
)
def sessions_delete_others(request: HttpRequest) -> dict[str, int]:
    user, current = principal(request)
    ended = identity.sessions_end_all(user=user, now=clock.now(), keep_session_id=current.pk, reason="ended_by_user")
    return {"ended": ended}


@profile_router.post(
    "/deletion-request",
    response={201: DeletionRequestOut, **UNAUTHORIZED, 409: Problem, **INVALID},
    summary="Заявка на удаление профиля",
)
def deletion_request_create(request: HttpRequest, payload: DeletionRequestIn) -> Status[dict[str, Any]]:
    """Considered within 30 days; the answer comes to the phone or e-mail of the profile.

    Errors: 409 ``deletion_already_requested``.
    """
    user, _session = principal(request)
    created = identity.deletion_request_create(
        user=user, reason=payload.reason, channel=AuthChannel.APP, now=clock.now()
    )
    return Status(201, _deletion_request(created))
