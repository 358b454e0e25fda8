"""Logging in with an outside identity: "Войти через Госуслуги" (ЕСИА).

The provider says who the person is (its ``sub``) and, verified by it, their phone,
e-mail and name (:mod:`abonent.identity.oidc` checks all of that). :func:`external_login`
then decides:

(a) the provider's account is already linked to a profile → that profile is logged in;
(b) it is not, but a phone or e-mail the provider verified is a *confirmed* contact of an
    active profile → nothing is linked yet: a code goes to that contact and
    :func:`external_link_confirm` with the code links the accounts and logs in, so a
    Госуслуги account alone never takes over a profile;
(c) nothing matches → a new profile can be made, but only after the person gives a
    separate, explicit consent to the processing of personal data (152-ФЗ ст.9): nothing is
    written until :func:`external_register` gets it. The profile takes the provider's
    verified contacts (confirmed) and name; it has no password (one can be set through
    password recovery).

Between the steps the interfaces keep the state on the server: the web in the browser's
session; the API (:func:`external_app_start` and the functions after it) in a row of
Django's session table, keyed by a hash of the OAuth ``state`` and a ``flow_key`` that
only the app has, expiring with the step.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from abonent.core.audit import audit_record
from abonent.core.errors import DomainError
from abonent.core.ratelimit import Limit, rate_hit
from abonent.identity import policy
from abonent.identity.codes import CodeResendTooSoon, code_check, code_send
from abonent.identity.contacts import InvalidEmail, InvalidPhone, contact_mask, email_normalize, phone_normalize
from abonent.identity.enums import AuthChannel, CodePurpose, ConsentKind, ContactKind
from abonent.identity.models import ConfirmationCode, Consent, ConsentDocument, ExternalIdentity, User
from abonent.identity.oidc import (
    AuthorizationRequest,
    LoginFlow,
    NotConfigured,
    OidcClient,
    OidcError,
    ProviderConfig,
    ProviderErrorResponse,
    ProviderUnavailable,
    provider_config,
)
from abonent.identity.selectors import consent_documents_get
from abonent.identity.services import (
    CodeSent,
    ConsentRequired,
    TokenPair,
    TooManyAttempts,
    app_session_start,
)

logger = logging.getLogger(__name__)

#: How long the person may take at the provider before coming back.
FLOW_TTL = dt.timedelta(minutes=15)
#: How long a started confirmation or consent step waits for the person.
PENDING_TTL = dt.timedelta(minutes=30)
#: Logins started from one address: each may cost a call to the signing service (ЕСИА)
#: and, for the apps, a row kept on the server.
START_PER_IP = Limit("external-start:ip", limit=30, window=15 * 60)

# --- Errors ---------------------------------------------------------------------------


class ExternalLoginDisabled(DomainError):
    code = "external_login_disabled"
    message = _("Вход через Госуслуги сейчас недоступен. Войдите по номеру телефона или e-mail")


class ExternalLoginUnavailable(DomainError):
    code = "external_login_unavailable"
    message = _(
        "Госуслуги сейчас не отвечают. Попробуйте войти через несколько минут или войдите по номеру телефона или e-mail"
    )


class ExternalLoginCancelled(DomainError):
    code = "external_login_cancelled"
    message = _("Вход через Госуслуги отменён. Можно попробовать ещё раз или войти по номеру телефона или e-mail")


class ExternalLoginRefused(DomainError):
    code = "external_login_refused"
    message = _("Госуслуги не подтвердили вход. Попробуйте ещё раз или войдите по номеру телефона или e-mail")

    def __init__(self, *, provider_error: str) -> None:
        super().__init__()
        self.provider_error = provider_error


class ExternalStateInvalid(DomainError):
    code = "external_state_invalid"
    message = _("Вход через Госуслуги устарел или был начат в другом окне. Начните вход заново")


class ExternalResponseInvalid(DomainError):
    code = "external_response_invalid"
    message = _("Ответ Госуслуг не прошёл проверку, вход не выполнен. Начните вход заново")


class ExternalStepExpired(DomainError):
    code = "external_step_expired"
    message = _("Время на этот шаг истекло. Начните вход через Госуслуги заново")


class ExternalProfileInactive(DomainError):
    code = "external_profile_inactive"
    message = _("Профиль, к которому привязана эта учётная запись Госуслуг, отключён. Обратитесь к поставщику газа")


class ExternalAlreadyLinked(DomainError):
    code = "external_already_linked"
    message = _("К вашему профилю уже привязана другая учётная запись Госуслуг. Войдите по номеру телефона или e-mail")


class RedirectUriNotAllowed(DomainError):
    code = "redirect_uri_not_allowed"
    message = _("Этот адрес возврата не зарегистрирован для входа через Госуслуги")


# --- What the provider told us, and the steps in between --------------------------------


def _verified(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _name(value: Any) -> str:
    return str(value).strip()[:150] if isinstance(value, str | int) else ""


@dataclass(frozen=True)
class ExternalPerson:
    """The person as the provider describes them: only contacts it verified are kept."""

    subject: str
    phone: str | None = None
    email: str | None = None
    last_name: str = ""
    first_name: str = ""
    middle_name: str = ""

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> ExternalPerson:
        """The person from standard OpenID claims. Raises ExternalResponseInvalid without ``sub``."""
        subject = claims.get("sub")
        if not isinstance(subject, str | int) or isinstance(subject, bool) or not str(subject).strip():
            raise ExternalResponseInvalid()
        phone = email = None
        if _verified(claims.get("phone_number_verified")) and isinstance(claims.get("phone_number"), str):
            try:
                phone = phone_normalize(claims["phone_number"])
            except InvalidPhone:
                phone = None  # not a Russian mobile number: not a login here
        if _verified(claims.get("email_verified")) and isinstance(claims.get("email"), str):
            try:
                email = email_normalize(claims["email"])
            except InvalidEmail:
                email = None
        return cls(
            subject=str(subject).strip()[:255],
            phone=phone,
            email=email,
            last_name=_name(claims.get("family_name")),
            first_name=_name(claims.get("given_name")),
            middle_name=_name(claims.get("middle_name")),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "phone": self.phone,
            "email": self.email,
            "last_name": self.last_name,
            "first_name": self.first_name,
            "middle_name": self.middle_name,
        }

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)


@dataclass(frozen=True)
class PendingLink:
    """Waiting for the code sent to the matching profile's contact."""

    provider: str
    subject: str
    user_id: int
    contact_kind: ContactKind
    recipient: str
    started_at: dt.datetime

    @property
    def masked(self) -> str:
        return contact_mask(self.contact_kind, self.recipient)


@dataclass(frozen=True)
class PendingProfile:
    """Waiting for the consent to make a new profile of ``person``."""

    provider: str
    person: ExternalPerson
    started_at: dt.datetime


Pending = PendingLink | PendingProfile


def pending_as_dict(pending: Pending) -> dict[str, Any]:
    """A step to keep in a session (JSON)."""
    common = {"provider": pending.provider, "started_at": pending.started_at.isoformat()}
    if isinstance(pending, PendingLink):
        return {
            "kind": "link",
            **common,
            "subject": pending.subject,
            "user_id": pending.user_id,
            "contact_kind": str(pending.contact_kind),
            "recipient": pending.recipient,
        }
    return {"kind": "profile", **common, "person": pending.person.as_dict()}


def pending_from_dict(data: Any) -> Pending | None:
    """The step kept by :func:`pending_as_dict`, or None when ``data`` is not one."""
    try:
        started = dt.datetime.fromisoformat(data["started_at"])
        if data["kind"] == "link":
            return PendingLink(
                provider=str(data["provider"]),
                subject=str(data["subject"]),
                user_id=int(data["user_id"]),
                contact_kind=ContactKind(data["contact_kind"]),
                recipient=str(data["recipient"]),
                started_at=started,
            )
        if data["kind"] == "profile":
            return PendingProfile(
                provider=str(data["provider"]), person=ExternalPerson(**data["person"]), started_at=started
            )
    except (TypeError, KeyError, ValueError):
        return None
    return None


@dataclass(frozen=True)
class LoggedIn:
    user: User
    created: bool = False


@dataclass(frozen=True)
class ConfirmationNeeded:
    pending: PendingLink
    sent: CodeSent


@dataclass(frozen=True)
class ConsentNeeded:
    pending: PendingProfile
    documents: dict[str, ConsentDocument]


Outcome = LoggedIn | ConfirmationNeeded | ConsentNeeded


# --- Helpers --------------------------------------------------------------------------


def _config(provider: str) -> ProviderConfig:
    try:
        return provider_config(provider)
    except NotConfigured as exc:
        logger.info("external login %s is off: %s", provider, exc.reason)
        raise ExternalLoginDisabled() from None


def _limit(limit: Limit, subject: str, now: dt.datetime) -> None:
    verdict = rate_hit(limit=limit, subject=subject, now=now)
    if not verdict.allowed:
        raise TooManyAttempts(retry_after=verdict.retry_after)


def _match(person: ExternalPerson) -> tuple[User, ContactKind, str] | None:
    """The active subscriber's profile whose confirmed phone (first) or e-mail is the
    person's verified one. Staff profiles are never linked to an outside login."""
    subscribers = User.objects.filter(is_active=True, is_staff=False, is_superuser=False)
    if person.phone:
        user = subscribers.filter(phone=person.phone, phone_confirmed_at__isnull=False).first()
        if user is not None and user.phone:
            return user, ContactKind.PHONE, user.phone
    if person.email:
        user = subscribers.filter(email__iexact=person.email, email_confirmed_at__isnull=False).first()
        if user is not None and user.email:
            return user, ContactKind.EMAIL, user.email
    return None


def _expired(started_at: dt.datetime, ttl: dt.timedelta, now: dt.datetime) -> bool:
    return not (started_at <= now + dt.timedelta(seconds=60) and now - started_at <= ttl)


# --- Starting and finishing at the provider -------------------------------------------


def external_login_start(
    *, provider: str, ip: str | None, now: dt.datetime, redirect_uri: str | None = None
) -> AuthorizationRequest:
    """The provider's address to send the person to, and the flow to keep on the server
    until they come back (``redirect_uri``: the portal's callback unless given).

    Raises ExternalLoginDisabled, RedirectUriNotAllowed, TooManyAttempts, ExternalLoginUnavailable.
    """
    config = _config(provider)
    if redirect_uri is not None and redirect_uri not in config.redirect_uris:
        raise RedirectUriNotAllowed(field="redirect_uri")
    if ip:
        _limit(START_PER_IP, ip, now)
    try:
        return OidcClient(config).authorization_request(now=now, redirect_uri=redirect_uri)
    except NotConfigured as exc:
        logger.warning("external login %s is misconfigured: %s", provider, exc.reason)
        raise ExternalLoginDisabled() from None
    except ProviderUnavailable as exc:
        logger.warning("external login %s: provider unavailable at start: %s", provider, exc.reason)
        raise ExternalLoginUnavailable() from None


def external_login_callback(
    *,
    provider: str,
    flow: Mapping[str, Any] | None,
    state: str,
    code: str,
    error: str = "",
    iss: str | None = None,
    ip: str | None,
    now: dt.datetime,
) -> Outcome:
    """Finish the login when the person comes back from the provider with ``code`` (or
    ``error``) and ``state``; ``flow`` is what was kept on the server at the start (None
    when nothing was). Then decide as :func:`external_login` does.

    Raises ExternalLoginDisabled, ExternalStateInvalid, ExternalLoginCancelled,
    ExternalLoginRefused, ExternalLoginUnavailable, ExternalResponseInvalid, and what
    external_login raises.
    """
    config = _config(provider)
    login_flow = LoginFlow.from_dict(flow) if flow is not None else None
    if login_flow is None or not state or not hmac.compare_digest(login_flow.state.encode(), state.encode()):
        raise ExternalStateInvalid()
    if _expired(login_flow.started_at, FLOW_TTL, now):
        raise ExternalStateInvalid()
    if error:
        error = re.sub(r"[^a-z_]", "", error.lower())[:60]  # an OAuth error code; logged
        logger.info("external login %s: the provider answered %s", provider, error)
        if error == "access_denied":
            raise ExternalLoginCancelled()
        if error in ("temporarily_unavailable", "server_error"):
            raise ExternalLoginUnavailable()
        raise ExternalLoginRefused(provider_error=error)
    if not code:
        raise ExternalResponseInvalid()
    try:
        claims = OidcClient(config).callback(flow=login_flow, code=code, iss=iss, now=now)
    except ProviderUnavailable as exc:
        logger.warning("external login %s: provider unavailable: %s", provider, exc.reason)
        raise ExternalLoginUnavailable() from None
    except (ProviderErrorResponse, OidcError) as exc:
        logger.warning("external login %s: answer rejected: %s", provider, exc.reason)
        raise ExternalResponseInvalid() from None
    return external_login(provider=provider, claims=claims, ip=ip, now=now)


# --- The decision ---------------------------------------------------------------------


def external_login(*, provider: str, claims: Mapping[str, Any], ip: str | None, now: dt.datetime) -> Outcome:
    """What happens after the provider vouched for the person with ``claims``: (a) the
    linked profile logs in; (b) a code goes to the matching profile's confirmed contact;
    (c) the consent step for a new profile (nothing written yet).

    Raises ExternalResponseInvalid (no subject), ExternalProfileInactive,
    ExternalAlreadyLinked, TooManyAttempts, CodeResendTooSoon.
    """
    person = ExternalPerson.from_claims(claims)
    link = ExternalIdentity.objects.select_related("user").filter(provider=provider, subject=person.subject).first()
    if link is not None:
        if not link.user.is_active:
            raise ExternalProfileInactive()
        with transaction.atomic():
            ExternalIdentity.objects.filter(pk=link.pk).update(last_login_at=now)
            User.objects.filter(pk=link.user_id).update(last_login=now)
        return LoggedIn(user=link.user)

    match = _match(person)
    if match is None:
        pending_profile = PendingProfile(provider=provider, person=person, started_at=now)
        return ConsentNeeded(pending=pending_profile, documents=consent_documents_get(now=now))

    user, kind, recipient = match
    if ExternalIdentity.objects.filter(user=user, provider=provider).exists():
        raise ExternalAlreadyLinked()
    pending_link = PendingLink(
        provider=provider,
        subject=person.subject,
        user_id=user.pk,
        contact_kind=kind,
        recipient=recipient,
        started_at=now,
    )
    try:
        sent = _link_code_send(pending_link, user=user, ip=ip, now=now)
    except CodeResendTooSoon:
        # The person came back within a minute: the code sent a moment ago still works.
        if _live_link_code(pending_link, now=now) is None:
            raise
        sent = CodeSent(contact_kind=kind, recipient=recipient, masked=pending_link.masked)
    return ConfirmationNeeded(pending=pending_link, sent=sent)


def _link_code_send(pending: PendingLink, *, user: User, ip: str | None, now: dt.datetime) -> CodeSent:
    if ip:
        _limit(policy.CODE_SEND_PER_IP, ip, now)
    code_send(
        purpose=CodePurpose.LINK_EXTERNAL,
        contact_kind=pending.contact_kind,
        recipient=pending.recipient,
        user=user,
        payload={"provider": pending.provider, "subject": pending.subject},
        now=now,
    )
    return CodeSent(contact_kind=pending.contact_kind, recipient=pending.recipient, masked=pending.masked)


def _live_link_code(pending: PendingLink, *, now: dt.datetime) -> ConfirmationCode | None:
    return (
        ConfirmationCode.objects.filter(
            purpose=CodePurpose.LINK_EXTERNAL,
            recipient=pending.recipient,
            user_id=pending.user_id,
            consumed_at__isnull=True,
            expires_at__gt=now,
            payload__subject=pending.subject,
        )
        .order_by("-created_at")
        .first()
    )


# --- (b) Linking to an existing profile -------------------------------------------------


def external_link_code_resend(*, pending: PendingLink, ip: str | None, now: dt.datetime) -> CodeSent:
    """Send a new code for the link. Raises ExternalStepExpired, CodeResendTooSoon, TooManyAttempts."""
    if _expired(pending.started_at, PENDING_TTL, now):
        raise ExternalStepExpired()
    user = User.objects.filter(pk=pending.user_id, is_active=True).first()
    if user is None:
        raise ExternalStepExpired()
    return _link_code_send(pending, user=user, ip=ip, now=now)


def external_link_confirm(*, pending: PendingLink, code: str, ip: str | None, now: dt.datetime) -> User:
    """Link the provider's account to the profile when ``code`` (sent to the profile's
    contact) is right, and log that profile in.

    Raises ExternalStepExpired, TooManyAttempts, CodeExpired, CodeInvalid,
    CodeAttemptsExhausted, ExternalProfileInactive, ExternalAlreadyLinked.
    """
    if _expired(pending.started_at, PENDING_TTL, now):
        raise ExternalStepExpired()
    if ip:
        _limit(policy.CODE_CHECK_PER_IP, ip, now)
    row = code_check(purpose=CodePurpose.LINK_EXTERNAL, recipient=pending.recipient, code=code, now=now)
    if row.user_id != pending.user_id or row.payload.get("subject") != pending.subject:
        raise ExternalStepExpired()  # a later login at the provider sent a newer code
    try:
        with transaction.atomic():
            user = User.objects.select_for_update().get(pk=pending.user_id)
            if not user.is_active:
                raise ExternalProfileInactive()
            link = ExternalIdentity.objects.create(
                user=user, provider=pending.provider, subject=pending.subject, created_at=now, last_login_at=now
            )
            user.last_login = now
            user.save(update_fields=["last_login"])
            audit_record(
                at=now,
                actor_id=user.pk,
                channel=AuthChannel.ESIA,
                action="external.linked",
                object_type="external_identity",
                object_id=link.pk,
                after={"provider": pending.provider, "subject": pending.subject, "confirmed_by": pending.contact_kind},
                ip=ip,
            )
    except IntegrityError:
        raise ExternalAlreadyLinked() from None
    return user


# --- (c) A new profile ------------------------------------------------------------------


def _contact_usable(field: str, value: str) -> bool:
    """Whether a new profile can take this phone or e-mail. A registration that was never
    confirmed gives way (as a new registration does); anyone else keeps theirs."""
    lookup = {field: value} if field == "phone" else {f"{field}__iexact": value}
    holder = User.objects.select_for_update().filter(**lookup).first()
    if holder is None:
        return True
    never_confirmed = holder.phone_confirmed_at is None and holder.email_confirmed_at is None
    if not holder.is_active and never_confirmed and holder.last_login is None:
        holder.delete()
        return True
    return False


def external_register(
    *,
    pending: PendingProfile,
    personal_data_consent: bool,
    marketing_consent: bool,
    ip: str | None,
    now: dt.datetime,
) -> User:
    """Make the profile of the person the provider vouched for, linked to their account,
    with their consents, once they agreed to the processing of personal data.

    Raises ConsentRequired, ExternalStepExpired (too late, or their contact has meanwhile
    become another profile's: the login has to decide again), DomainError (no consent text).
    """
    if _expired(pending.started_at, PENDING_TTL, now):
        raise ExternalStepExpired()
    if not personal_data_consent:
        raise ConsentRequired(field="personal_data_consent")
    person = pending.person
    documents = consent_documents_get(now=now)
    try:
        with transaction.atomic():
            if ExternalIdentity.objects.filter(provider=pending.provider, subject=person.subject).exists():
                raise ExternalStepExpired()  # made a moment ago (a second click): log in again
            if _match(person) is not None:
                raise ExternalStepExpired()
            phone = person.phone if person.phone and _contact_usable("phone", person.phone) else None
            email = person.email if person.email and _contact_usable("email", person.email) else None
            user = User(
                username=f"u-{secrets.token_hex(8)}",
                is_active=True,
                last_name=person.last_name,
                first_name=person.first_name,
                middle_name=person.middle_name,
                phone=phone,
                phone_confirmed_at=now if phone else None,
                email=email,
                email_confirmed_at=now if email else None,
                last_login=now,
                date_joined=now,
            )
            user.set_unusable_password()
            user.save()
            link = ExternalIdentity.objects.create(
                user=user, provider=pending.provider, subject=person.subject, created_at=now, last_login_at=now
            )
            kinds = [ConsentKind.PERSONAL_DATA, *([ConsentKind.MARKETING] if marketing_consent else [])]
            for kind in kinds:
                Consent.objects.create(
                    user=user,
                    document=documents[kind.value],
                    kind=kind,
                    granted_at=now,
                    channel=AuthChannel.ESIA,
                    ip=ip,
                )
            audit_record(
                at=now,
                actor_id=user.pk,
                channel=AuthChannel.ESIA,
                action="user.registered",
                object_type="user",
                object_id=user.pk,
                after={"provider": pending.provider, "external_identity": link.pk},
                ip=ip,
            )
    except IntegrityError:
        raise ExternalStepExpired() from None
    return user


# --- The mobile apps: the same steps through the API ----------------------------------
#
# The app cannot keep the flow in a browser session, and the flow's secrets (nonce, PKCE
# verifier) must not leave the server. So the flow and then the pending step live in a
# row of Django's session table (shared by every app server, purged by clearsessions),
# keyed by a hash of the OAuth state and a flow_key. The state travels through the
# browser and the provider; the flow_key is only in the API's answer to the app, so a
# code and state caught on their way back to the app are not enough to finish the login.


@dataclass(frozen=True)
class AppLoginStart:
    authorization_url: str
    state: str
    flow_key: str
    expires_at: dt.datetime


def _app_key(state: str, flow_key: str) -> str:
    return "xid-" + hashlib.sha256(f"{state}\x00{flow_key}".encode()).hexdigest()[:36]


def _app_put(key: str, data: dict[str, Any], *, now: dt.datetime, ttl: dt.timedelta) -> None:
    Session.objects.update_or_create(
        session_key=key, defaults={"session_data": SessionStore().encode(data), "expire_date": now + ttl}
    )


def _app_get(key: str, *, now: dt.datetime) -> dict[str, Any] | None:
    row = Session.objects.filter(session_key=key, expire_date__gt=now).first()
    return SessionStore().decode(row.session_data) if row is not None else None


def _app_take(key: str, *, now: dt.datetime) -> dict[str, Any] | None:
    """The row's data, deleting it; None when it is not there (or another request took it)."""
    data = _app_get(key, now=now)
    if data is None:
        return None
    deleted, _rows = Session.objects.filter(session_key=key).delete()
    return data if deleted else None


def _app_pending(state: str, flow_key: str, now: dt.datetime) -> tuple[str, Pending | None]:
    key = _app_key(state or "", flow_key or "")
    data = _app_get(key, now=now)
    return key, pending_from_dict(data.get("pending")) if data else None


def external_app_start(*, provider: str, redirect_uri: str | None, ip: str | None, now: dt.datetime) -> AppLoginStart:
    """Start a login for a mobile app: the address to open, the ``state`` and the
    ``flow_key`` the app sends back with the code.

    Raises ExternalLoginDisabled, RedirectUriNotAllowed, TooManyAttempts, ExternalLoginUnavailable.
    """
    request = external_login_start(provider=provider, ip=ip, now=now, redirect_uri=redirect_uri)
    flow_key = secrets.token_urlsafe(32)
    _app_put(
        _app_key(request.flow.state, flow_key),
        {"provider": provider, "flow": request.flow.as_dict()},
        now=now,
        ttl=FLOW_TTL,
    )
    return AppLoginStart(
        authorization_url=request.url, state=request.flow.state, flow_key=flow_key, expires_at=now + FLOW_TTL
    )


def external_app_complete(
    *,
    provider: str,
    state: str,
    flow_key: str,
    code: str,
    error: str = "",
    iss: str | None = None,
    device_name: str,
    user_agent: str,
    ip: str | None,
    now: dt.datetime,
) -> TokenPair | ConfirmationNeeded | ConsentNeeded:
    """Finish the app's login with what the provider returned: tokens, or the next step
    (kept for the app under the same state and flow_key).

    Raises what external_login_callback raises.
    """
    key = _app_key(state or "", flow_key or "")
    data = _app_take(key, now=now)
    flow = data.get("flow") if data and data.get("provider") == provider else None
    outcome = external_login_callback(
        provider=provider, flow=flow, state=state, code=code, error=error, iss=iss, ip=ip, now=now
    )
    if isinstance(outcome, LoggedIn):
        return app_session_start(user=outcome.user, device_name=device_name, user_agent=user_agent, ip=ip, now=now)
    _app_put(key, {"provider": provider, "pending": pending_as_dict(outcome.pending)}, now=now, ttl=PENDING_TTL)
    return outcome


def external_app_code_resend(*, state: str, flow_key: str, ip: str | None, now: dt.datetime) -> CodeSent:
    """A new code for the app's pending link. Raises ExternalStepExpired, CodeResendTooSoon, TooManyAttempts."""
    _key, pending = _app_pending(state, flow_key, now)
    if not isinstance(pending, PendingLink):
        raise ExternalStepExpired()
    return external_link_code_resend(pending=pending, ip=ip, now=now)


def external_app_confirm(
    *, state: str, flow_key: str, code: str, device_name: str, user_agent: str, ip: str | None, now: dt.datetime
) -> TokenPair:
    """Link with the code and give the app its tokens. Raises what external_link_confirm raises."""
    key, pending = _app_pending(state, flow_key, now)
    if not isinstance(pending, PendingLink):
        raise ExternalStepExpired()
    user = external_link_confirm(pending=pending, code=code, ip=ip, now=now)
    Session.objects.filter(session_key=key).delete()
    return app_session_start(user=user, device_name=device_name, user_agent=user_agent, ip=ip, now=now)


def external_app_register(
    *,
    state: str,
    flow_key: str,
    personal_data_consent: bool,
    marketing_consent: bool,
    device_name: str,
    user_agent: str,
    ip: str | None,
    now: dt.datetime,
) -> TokenPair:
    """Make the new profile with the person's consent and give the app its tokens.

    Raises what external_register raises.
    """
    key, pending = _app_pending(state, flow_key, now)
    if not isinstance(pending, PendingProfile):
        raise ExternalStepExpired()
    user = external_register(
        pending=pending,
        personal_data_consent=personal_data_consent,
        marketing_consent=marketing_consent,
        ip=ip,
        now=now,
    )
    Session.objects.filter(session_key=key).delete()
    return app_session_start(user=user, device_name=device_name, user_agent=user_agent, ip=ip, now=now)
