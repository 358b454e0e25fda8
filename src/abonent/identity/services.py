"""Identity use cases: registration, login, sessions and app tokens, recovery, changes of
contacts and password, consents and profile deletion.

Each public function takes ``now`` (and the request's ``ip`` where it matters) from the
interface. Functions that check a confirmation code do it before opening their
transaction, so a wrong code still counts against its tries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.core.audit import audit_record
from abonent.core.errors import DomainError, ValidationFailed
from abonent.core.ratelimit import Limit, rate_hit, rate_reset
from abonent.identity import policy
from abonent.identity.codes import CodeExpired, code_check, code_send, resend_check, send_counted
from abonent.identity.contacts import contact_mask, email_normalize, login_parse, phone_normalize
from abonent.identity.enums import (
    AuthChannel,
    CodePurpose,
    ConsentKind,
    ContactKind,
    DeletionStatus,
    SessionKind,
    TokenKind,
)
from abonent.identity.models import (
    ApiToken,
    AuthSession,
    ConfirmationCode,
    Consent,
    DeletionRequest,
    User,
)
from abonent.identity.selectors import consent_document_get
from abonent.notifications.services import email_send, sms_send

# --- Errors ---------------------------------------------------------------------------


class ConsentRequired(DomainError):
    code = "consent_required"
    message = _("Чтобы зарегистрироваться, дайте согласие на обработку персональных данных")


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    message = _("Неверный телефон, e-mail или пароль")


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    message = _("Слишком много попыток. Повторите через {minutes} мин.")

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(minutes=max(1, (retry_after + 59) // 60))
        self.retry_after = retry_after


class ProfileNotConfirmed(DomainError):
    code = "profile_not_confirmed"
    message = _("Профиль ещё не подтверждён: введите код, который мы отправили при регистрации")


class SessionNotFound(DomainError):
    code = "session_not_found"
    message = _("Сеанс не найден или уже завершён")


class InvalidToken(DomainError):
    code = "invalid_token"
    message = _("Токен недействителен или истёк: войдите снова")


class RefreshTokenReused(DomainError):
    code = "refresh_token_reused"
    message = _("Токен обновления уже использовался; сеанс завершён для безопасности. Войдите снова")


class ResetLinkInvalid(DomainError):
    code = "reset_link_invalid"
    message = _("Ссылка для смены пароля устарела или уже использована. Запросите новую")


class WrongPassword(DomainError):
    code = "wrong_password"
    message = _("Текущий пароль введён неверно")


class ContactTaken(DomainError):
    code = "contact_taken"
    message = _("Этот {what} уже указан в другом профиле")


class ContactUnchanged(DomainError):
    code = "contact_unchanged"
    message = _("Это ваш текущий {what}")


class DeletionAlreadyRequested(DomainError):
    code = "deletion_already_requested"
    message = _("Заявка на удаление профиля уже подана и рассматривается")


class DeletionRequestTaken(DomainError):
    code = "deletion_request_taken"
    message = _("Заявка уже в работе")


class DeletionRequestClosed(DomainError):
    code = "deletion_request_closed"
    message = _("Заявка уже обработана")


# --- Helpers --------------------------------------------------------------------------

_DUMMY_PASSWORD_HASH: str | None = None


def _burn_password_hash(password: str) -> None:
    """Spend the time a real password check takes, so answers do not tell whether a
    phone or e-mail is registered."""
    global _DUMMY_PASSWORD_HASH
    if _DUMMY_PASSWORD_HASH is None:
        _DUMMY_PASSWORD_HASH = make_password("abonent-timing-equaliser")
    User(password=_DUMMY_PASSWORD_HASH).check_password(password)


def _password_validate(password: str, *, user: User | None = None, field: str = "password") -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationFailed({field: [str(m) for m in exc.messages]}) from None


def _user_by_contact(kind: str, value: str) -> User | None:
    lookup = {"phone": value} if kind == ContactKind.PHONE else {"email__iexact": value}
    return User.objects.filter(**lookup).first()


def _code_user_id(row: ConfirmationCode) -> int:
    if row.user_id is None:  # a code always names its profile where one is needed
        raise CodeExpired(field="code")
    return row.user_id


def _limit(limit: Limit, subject: str, now: dt.datetime) -> None:
    verdict = rate_hit(limit=limit, subject=subject, now=now)
    if not verdict.allowed:
        raise TooManyAttempts(retry_after=verdict.retry_after)


def _notify(user: User, *, subject: str, text: str) -> None:
    """A security notice to the user's confirmed contacts (phone first)."""
    if user.phone and user.phone_confirmed_at:
        sms_send(phone=user.phone, text=text)
    elif user.email and user.email_confirmed_at:
        email_send(to=user.email, subject=subject, body=text)


# --- Registration ---------------------------------------------------------------------


@dataclass(frozen=True)
class CodeSent:
    """What a person is told after asking for a code: where it went, masked."""

    contact_kind: ContactKind
    recipient: str
    masked: str


def registration_start(
    *,
    login: str,
    password: str,
    personal_data_consent: bool,
    marketing_consent: bool,
    channel: AuthChannel,
    ip: str | None,
    now: dt.datetime,
) -> CodeSent:
    """Start registration by phone or e-mail: an inactive profile and a code to the contact.

    When the contact already belongs to an active profile, nothing is created and the
    owner is told by a message instead; the answer is the same, so it does not reveal
    who is registered.
    Raises InvalidLogin, ConsentRequired, ValidationFailed (password), CodeResendTooSoon,
    TooManyAttempts.
    """
    kind, recipient = login_parse(login)
    if not personal_data_consent:
        raise ConsentRequired(field="personal_data_consent")
    _password_validate(password, user=User(phone=recipient) if kind == ContactKind.PHONE else User(email=recipient))
    if ip:
        _limit(policy.CODE_SEND_PER_IP, ip, now)
    resend_check(recipient=recipient, now=now)
    existing = _user_by_contact(kind, recipient)
    sent = CodeSent(contact_kind=kind, recipient=recipient, masked=contact_mask(kind, recipient))
    if existing is not None and existing.is_active:
        make_password(password)  # same work as a new registration
        _already_registered_notice(existing, kind, recipient, now)
        return sent
    with transaction.atomic():
        if existing is not None:  # an earlier registration that was never confirmed
            existing.delete()
        user = User(username=f"u-{secrets.token_hex(8)}", is_active=False)
        if kind == ContactKind.PHONE:
            user.phone = recipient
        else:
            user.email = recipient
        user.set_password(password)
        user.save()
        _consent_grant(user, ConsentKind.PERSONAL_DATA, channel=channel, ip=ip, now=now)
        if marketing_consent:
            _consent_grant(user, ConsentKind.MARKETING, channel=channel, ip=ip, now=now)
        code_send(purpose=CodePurpose.REGISTER, contact_kind=kind, recipient=recipient, user=user, now=now)
    return sent


def _already_registered_notice(user: User, kind: ContactKind, recipient: str, now: dt.datetime) -> None:
    with transaction.atomic():
        send_counted(purpose=CodePurpose.REGISTER, contact_kind=kind, recipient=recipient, now=now)
        text = (
            "Кто-то пытается зарегистрироваться в личном кабинете с вашим номером или адресом. "
            "У вас уже есть профиль: войдите или восстановите пароль. Если это были не вы, ничего не делайте."
        )
        if kind == ContactKind.PHONE:
            sms_send(phone=recipient, text=text)
        else:
            email_send(to=recipient, subject="Вы уже зарегистрированы", body=text)


def registration_confirm(
    *, login: str, code: str, ip: str | None, now: dt.datetime, channel: AuthChannel = AuthChannel.WEB
) -> User:
    """Activate the profile registered with ``login`` when ``code`` is right.

    Raises InvalidLogin, TooManyAttempts, CodeExpired, CodeInvalid, CodeAttemptsExhausted.
    """
    kind, recipient = login_parse(login)
    if ip:
        _limit(policy.CODE_CHECK_PER_IP, ip, now)
    row = code_check(purpose=CodePurpose.REGISTER, recipient=recipient, code=code, now=now)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=_code_user_id(row))
        user.is_active = True
        if kind == ContactKind.PHONE:
            user.phone_confirmed_at = now
        else:
            user.email_confirmed_at = now
        user.save(update_fields=["is_active", "phone_confirmed_at", "email_confirmed_at"])
        audit_record(
            at=now,
            actor_id=user.pk,
            channel=channel,
            action="user.registered",
            object_type="user",
            object_id=user.pk,
            ip=ip,
        )
    return user


def registration_code_resend(*, login: str, ip: str | None, now: dt.datetime) -> CodeSent:
    """Send a new registration code to a profile that is not confirmed yet.

    The answer is the same whatever the state of ``login``.
    Raises InvalidLogin, CodeResendTooSoon, TooManyAttempts.
    """
    kind, recipient = login_parse(login)
    if ip:
        _limit(policy.CODE_SEND_PER_IP, ip, now)
    resend_check(recipient=recipient, now=now)
    user = _user_by_contact(kind, recipient)
    if user is not None and not user.is_active:
        code_send(purpose=CodePurpose.REGISTER, contact_kind=kind, recipient=recipient, user=user, now=now)
    return CodeSent(contact_kind=kind, recipient=recipient, masked=contact_mask(kind, recipient))


# --- Login ----------------------------------------------------------------------------


def login_check(*, login: str, password: str, ip: str | None, now: dt.datetime) -> User:
    """The user whose phone or e-mail is ``login`` and whose password is ``password``.

    Attempts are counted before the password is hashed: per account and address, per
    account and per address, each a cool-off of at most 15 minutes.
    Raises InvalidLogin, TooManyAttempts, InvalidCredentials, ProfileNotConfirmed.
    """
    kind, value = login_parse(login)
    subject = value.lower()
    if ip:
        _limit(policy.LOGIN_PER_IP, ip, now)
        _limit(policy.LOGIN_PER_ACCOUNT_AND_IP, f"{subject}|{ip}", now)
    _limit(policy.LOGIN_PER_ACCOUNT, subject, now)
    user = _user_by_contact(kind, value)
    if user is None:
        _burn_password_hash(password)
        raise InvalidCredentials(field="login")
    if not user.check_password(password):
        raise InvalidCredentials(field="login")
    if not user.is_active:
        raise ProfileNotConfirmed(field="login")
    if ip:
        rate_reset(limit=policy.LOGIN_PER_ACCOUNT_AND_IP, subject=f"{subject}|{ip}")
    User.objects.filter(pk=user.pk).update(last_login=now)
    return user


# --- Web sessions and app devices -----------------------------------------------------


def web_session_start(
    *, user: User, session_key: str, remember: bool, user_agent: str, ip: str | None, now: dt.datetime
) -> AuthSession:
    """Record a browser session that Django's login() has just started."""
    return AuthSession.objects.create(
        user=user,
        kind=SessionKind.WEB,
        session_key=session_key,
        device_name=_device_name(user_agent),
        user_agent=user_agent[:300],
        ip=ip,
        remember=remember,
        created_at=now,
        last_seen_at=now,
        expires_at=now + policy.SESSION_ABSOLUTE,
    )


def web_session_touch(*, session_key: str, now: dt.datetime) -> bool:
    """Whether the browser session is still valid (not ended, not past 12 hours, not idle
    for 30 minutes unless "remember me"); marks its activity. An invalid one is ended."""
    session = AuthSession.objects.filter(session_key=session_key, ended_at__isnull=True).first()
    if session is None:
        return False
    idle_limit = None if session.remember else session.last_seen_at + policy.SESSION_IDLE
    if now >= session.expires_at or (idle_limit is not None and now >= idle_limit):
        _sessions_end(AuthSession.objects.filter(pk=session.pk), now=now, reason="expired")
        return False
    if now - session.last_seen_at >= policy.SESSION_TOUCH_EVERY:
        AuthSession.objects.filter(pk=session.pk).update(last_seen_at=now)
    return True


def web_session_end(*, session_key: str, now: dt.datetime) -> None:
    """Record that a browser session was logged out."""
    AuthSession.objects.filter(session_key=session_key, ended_at__isnull=True).update(ended_at=now, end_reason="logout")


def _sessions_end(sessions: QuerySet[AuthSession], *, now: dt.datetime, reason: str) -> int:
    ended = 0
    for session in sessions.select_for_update():
        if session.session_key:
            SessionStore(session_key=session.session_key).delete()
        session.tokens.all().delete()
        session.ended_at = now
        session.end_reason = reason
        session.save(update_fields=["ended_at", "end_reason"])
        ended += 1
    return ended


@transaction.atomic
def session_end(*, user: User, session_id: int, now: dt.datetime) -> None:
    """End one of the user's sessions (a browser or an app). Raises SessionNotFound."""
    if not _sessions_end(
        AuthSession.objects.filter(pk=session_id, user=user, ended_at__isnull=True), now=now, reason="ended_by_user"
    ):
        raise SessionNotFound()


@transaction.atomic
def sessions_end_all(*, user: User, now: dt.datetime, keep_session_id: int | None = None, reason: str) -> int:
    """End every session of the user but ``keep_session_id``; returns how many were ended."""
    sessions = AuthSession.objects.filter(user=user, ended_at__isnull=True)
    if keep_session_id is not None:
        sessions = sessions.exclude(pk=keep_session_id)
    return _sessions_end(sessions, now=now, reason=reason)


def _device_name(user_agent: str) -> str:
    ua = user_agent.lower()
    for needle, name in (
        ("iphone", "iPhone"),
        ("ipad", "iPad"),
        ("android", "Android"),
        ("windows", "Windows"),
        ("mac os", "Mac"),
        ("linux", "Linux"),
    ):
        if needle in ua:
            return name
    return "Устройство"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    access_expires_at: dt.datetime
    refresh_expires_at: dt.datetime
    session_id: int


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _tokens_issue(session: AuthSession, now: dt.datetime) -> TokenPair:
    access, refresh = "at_" + secrets.token_urlsafe(32), "rt_" + secrets.token_urlsafe(32)
    access_until, refresh_until = now + policy.ACCESS_TOKEN_TTL, now + policy.REFRESH_TOKEN_TTL
    ApiToken.objects.bulk_create(
        [
            ApiToken(
                session=session,
                kind=TokenKind.ACCESS,
                token_hash=_token_hash(access),
                created_at=now,
                expires_at=access_until,
            ),
            ApiToken(
                session=session,
                kind=TokenKind.REFRESH,
                token_hash=_token_hash(refresh),
                created_at=now,
                expires_at=refresh_until,
            ),
        ]
    )
    AuthSession.objects.filter(pk=session.pk).update(last_seen_at=now, expires_at=refresh_until)
    return TokenPair(access, refresh, access_until, refresh_until, session.pk)


@transaction.atomic
def app_session_start(*, user: User, device_name: str, user_agent: str, ip: str | None, now: dt.datetime) -> TokenPair:
    """A new app device for ``user`` with a short-lived access token and a refresh token."""
    session = AuthSession.objects.create(
        user=user,
        kind=SessionKind.APP,
        device_name=(device_name or _device_name(user_agent))[:120],
        user_agent=user_agent[:300],
        ip=ip,
        remember=True,
        created_at=now,
        last_seen_at=now,
        expires_at=now + policy.REFRESH_TOKEN_TTL,
    )
    return _tokens_issue(session, now)


def app_login(
    *, login: str, password: str, device_name: str, user_agent: str, ip: str | None, now: dt.datetime
) -> TokenPair:
    """Log a mobile app device in with phone or e-mail and password: ``login_check`` then
    a new device session. Raises what ``login_check`` raises."""
    user = login_check(login=login, password=password, ip=ip, now=now)
    return app_session_start(user=user, device_name=device_name, user_agent=user_agent, ip=ip, now=now)


def app_registration_confirm(
    *, login: str, code: str, device_name: str, user_agent: str, ip: str | None, now: dt.datetime
) -> TokenPair:
    """Confirm a registration from the app and log that device in. Raises what
    ``registration_confirm`` raises."""
    user = registration_confirm(login=login, code=code, ip=ip, now=now, channel=AuthChannel.APP)
    return app_session_start(user=user, device_name=device_name, user_agent=user_agent, ip=ip, now=now)


def app_tokens_refresh(*, refresh_token: str, now: dt.datetime) -> TokenPair:
    """Exchange a refresh token for a new pair; the old one stops working.

    A refresh token presented a second time means it was copied: the whole device
    session is ended (and stays ended: the error is raised after that is committed).
    Raises InvalidToken, RefreshTokenReused.
    """
    with transaction.atomic():
        token = (
            ApiToken.objects.select_for_update()
            .select_related("session")
            .filter(token_hash=_token_hash(refresh_token or ""), kind=TokenKind.REFRESH)
            .first()
        )
        if token is None or token.session.ended_at is not None or token.expires_at <= now:
            raise InvalidToken()
        if not User.objects.filter(pk=token.session.user_id, is_active=True).exists():
            raise InvalidToken()
        if token.used_at is None:
            token.used_at = now
            token.save(update_fields=["used_at"])
            ApiToken.objects.filter(session_id=token.session_id, kind=TokenKind.ACCESS).delete()
            return _tokens_issue(token.session, now)
        _sessions_end(AuthSession.objects.filter(pk=token.session_id), now=now, reason="refresh_token_reused")
    raise RefreshTokenReused()


def access_token_authenticate(*, access_token: str, now: dt.datetime) -> tuple[User, AuthSession]:
    """The user and device of a valid access token. Raises InvalidToken."""
    token = (
        ApiToken.objects.select_related("session", "session__user")
        .filter(token_hash=_token_hash(access_token or ""), kind=TokenKind.ACCESS, expires_at__gt=now)
        .first()
    )
    if token is None or token.session.ended_at is not None or not token.session.user.is_active:
        raise InvalidToken()
    return token.session.user, token.session


@transaction.atomic
def app_session_end(*, session: AuthSession, now: dt.datetime) -> None:
    """Log an app device out: its tokens stop working."""
    _sessions_end(AuthSession.objects.filter(pk=session.pk, ended_at__isnull=True), now=now, reason="logout")


# --- Password recovery ----------------------------------------------------------------


class _ResetTokens(PasswordResetTokenGenerator):
    key_salt = "abonent.identity.password_reset"


_reset_tokens = _ResetTokens()


def password_reset_start(*, login: str, link_base: str, ip: str | None, now: dt.datetime) -> CodeSent:
    """Send a code by SMS (phone) or a single-use link valid one hour by e-mail.

    ``link_base`` is the address of the page that takes the link's token
    (``https://lk.example/password/reset/``). The answer does not depend on whether
    ``login`` is registered.
    Raises InvalidLogin, CodeResendTooSoon, TooManyAttempts.
    """
    kind, recipient = login_parse(login)
    if ip:
        _limit(policy.CODE_SEND_PER_IP, ip, now)
    resend_check(recipient=recipient, now=now)
    user = _user_by_contact(kind, recipient)
    sent = CodeSent(contact_kind=kind, recipient=recipient, masked=contact_mask(kind, recipient))
    if user is None or not user.is_active:
        return sent
    if kind == ContactKind.PHONE:
        code_send(purpose=CodePurpose.PASSWORD_RESET, contact_kind=kind, recipient=recipient, user=user, now=now)
        return sent
    with transaction.atomic():
        send_counted(purpose=CodePurpose.PASSWORD_RESET, contact_kind=kind, recipient=recipient, now=now, user=user)
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        link = f"{link_base.rstrip('/')}/{uid}/{_reset_tokens.make_token(user)}/"
        email_send(
            to=recipient,
            subject="Восстановление пароля",
            body=(
                "Чтобы задать новый пароль для личного кабинета, откройте ссылку:\n"
                f"{link}\n\nСсылка действует 1 час и только один раз. "
                "Если вы не просили сменить пароль, просто удалите письмо: пароль останется прежним."
            ),
        )
    return sent


def password_reset_by_code(
    *,
    login: str,
    code: str,
    new_password: str,
    ip: str | None,
    now: dt.datetime,
    channel: AuthChannel = AuthChannel.WEB,
) -> User:
    """Set a new password with the code sent by SMS; every session of the user ends.

    Raises InvalidLogin, TooManyAttempts, ValidationFailed, CodeExpired, CodeInvalid,
    CodeAttemptsExhausted.
    """
    kind, recipient = login_parse(login)
    if ip:
        _limit(policy.CODE_CHECK_PER_IP, ip, now)
    user = _user_by_contact(kind, recipient)
    _password_validate(new_password, user=user, field="new_password")
    row = code_check(purpose=CodePurpose.PASSWORD_RESET, recipient=recipient, code=code, now=now)
    return _password_set(
        User.objects.get(pk=_code_user_id(row)), new_password, now=now, ip=ip, action="password.reset", channel=channel
    )


def password_reset_link_user(*, uid: str, token: str) -> User:
    """The user a reset link is for, while the link is valid. Raises ResetLinkInvalid."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError):
        raise ResetLinkInvalid() from None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not _reset_tokens.check_token(user, token):
        raise ResetLinkInvalid()
    return user


def password_reset_by_link(
    *, uid: str, token: str, new_password: str, ip: str | None, now: dt.datetime, channel: AuthChannel = AuthChannel.WEB
) -> User:
    """Set a new password with the e-mailed link (it works once); every session ends.

    Raises ResetLinkInvalid, ValidationFailed.
    """
    user = password_reset_link_user(uid=uid, token=token)
    _password_validate(new_password, user=user, field="new_password")
    return _password_set(user, new_password, now=now, ip=ip, action="password.reset", channel=channel)


@transaction.atomic
def _password_set(
    user: User,
    password: str,
    *,
    now: dt.datetime,
    ip: str | None,
    action: str,
    channel: str,
    keep_session_id: int | None = None,
) -> User:
    user.set_password(password)
    user.last_login = now  # also makes an e-mailed reset link single use
    user.save(update_fields=["password", "last_login"])
    sessions_end_all(user=user, now=now, keep_session_id=keep_session_id, reason="password_changed")
    audit_record(at=now, actor_id=user.pk, channel=channel, action=action, object_type="user", object_id=user.pk, ip=ip)
    _notify(
        user,
        subject="Пароль изменён",
        text="Пароль от личного кабинета изменён. Если это были не вы, восстановите пароль и обратитесь к поставщику.",
    )
    return user


# --- Changes of the profile -----------------------------------------------------------


def password_change(
    *,
    user: User,
    old_password: str,
    new_password: str,
    keep_session_id: int | None,
    ip: str | None,
    now: dt.datetime,
    channel: AuthChannel = AuthChannel.WEB,
) -> User:
    """Change the password; every other session of the user ends.

    Raises TooManyAttempts, WrongPassword, ValidationFailed.
    """
    _limit(policy.LOGIN_PER_ACCOUNT, f"user:{user.pk}", now)
    if not user.check_password(old_password):
        raise WrongPassword(field="old_password")
    _password_validate(new_password, user=user, field="new_password")
    return _password_set(
        user, new_password, now=now, ip=ip, action="password.changed", channel=channel, keep_session_id=keep_session_id
    )


_WHAT = {ContactKind.PHONE: _("телефон"), ContactKind.EMAIL: _("e-mail")}


def contact_change_start(*, user: User, kind: ContactKind, value: str, ip: str | None, now: dt.datetime) -> CodeSent:
    """Send a code to the new phone or e-mail; the change is made when it is entered.

    Raises InvalidPhone, InvalidEmail, ContactUnchanged, TooManyAttempts, CodeResendTooSoon.
    """
    recipient = phone_normalize(value) if kind == ContactKind.PHONE else email_normalize(value)
    current = user.phone if kind == ContactKind.PHONE else user.email
    if current and current.lower() == recipient.lower():
        raise ContactUnchanged(field=kind.value, what=str(_WHAT[kind]))
    if ip:
        _limit(policy.CODE_SEND_PER_IP, ip, now)
    purpose = CodePurpose.CHANGE_PHONE if kind == ContactKind.PHONE else CodePurpose.CHANGE_EMAIL
    code_send(purpose=purpose, contact_kind=kind, recipient=recipient, user=user, payload={"user": user.pk}, now=now)
    return CodeSent(contact_kind=kind, recipient=recipient, masked=contact_mask(kind, recipient))


def contact_change_confirm(
    *,
    user: User,
    kind: ContactKind,
    value: str,
    code: str,
    ip: str | None,
    now: dt.datetime,
    channel: AuthChannel = AuthChannel.WEB,
) -> User:
    """Make the change when the code sent to the new contact is right.

    Raises InvalidPhone, InvalidEmail, TooManyAttempts, CodeExpired, CodeInvalid,
    CodeAttemptsExhausted, ContactTaken.
    """
    recipient = phone_normalize(value) if kind == ContactKind.PHONE else email_normalize(value)
    if ip:
        _limit(policy.CODE_CHECK_PER_IP, ip, now)
    purpose = CodePurpose.CHANGE_PHONE if kind == ContactKind.PHONE else CodePurpose.CHANGE_EMAIL
    code_check(purpose=purpose, recipient=recipient, code=code, now=now, user_id=user.pk)
    field, confirmed = ("phone", "phone_confirmed_at") if kind == ContactKind.PHONE else ("email", "email_confirmed_at")
    before = getattr(user, field)
    try:
        with transaction.atomic():
            if User.objects.exclude(pk=user.pk).filter(**{f"{field}__iexact": recipient}).exists():
                raise ContactTaken(field=field, what=str(_WHAT[kind]))
            setattr(user, field, recipient)
            setattr(user, confirmed, now)
            user.save(update_fields=[field, confirmed])
            audit_record(
                at=now,
                actor_id=user.pk,
                channel=channel,
                action=f"{field}.changed",
                object_type="user",
                object_id=user.pk,
                before={field: before},
                after={field: recipient},
                ip=ip,
            )
    except IntegrityError:
        raise ContactTaken(field=field, what=str(_WHAT[kind])) from None
    return user


# --- Consents -------------------------------------------------------------------------


def _consent_grant(user: User, kind: ConsentKind, *, channel: str, ip: str | None, now: dt.datetime) -> Consent:
    document = consent_document_get(kind=kind, now=now)
    return Consent.objects.create(user=user, document=document, kind=kind, granted_at=now, channel=channel, ip=ip)


@transaction.atomic
def marketing_consent_set(*, user: User, given: bool, channel: AuthChannel, ip: str | None, now: dt.datetime) -> None:
    """Give or withdraw consent to marketing messages (separate from personal data)."""
    active = Consent.objects.select_for_update().filter(
        user=user, kind=ConsentKind.MARKETING, withdrawn_at__isnull=True
    )
    if given and not active.exists():
        _consent_grant(user, ConsentKind.MARKETING, channel=channel, ip=ip, now=now)
    elif not given:
        active.update(withdrawn_at=now, withdrawn_channel=channel)


# --- The language of messages ---------------------------------------------------------


@transaction.atomic
def user_language_set(*, user: User, language: str) -> User:
    """Choose the language of the messages the user is sent (e-mail, SMS, push and the
    notification centre): a code of ``settings.LANGUAGES``.

    Raises ValidationFailed (``language``, nothing changed) for any other code.
    """
    languages = dict(settings.LANGUAGES)
    if language not in languages:
        raise ValidationFailed(
            {"language": [gettext("Выберите язык сообщений: {choices}").format(choices=", ".join(languages.values()))]}
        )
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user


# --- Profile deletion -----------------------------------------------------------------


def deletion_request_create(*, user: User, reason: str, channel: AuthChannel, now: dt.datetime) -> DeletionRequest:
    """Ask for the profile to be deleted; operators process it within 30 days.

    Raises DeletionAlreadyRequested.
    """
    contact_kind, contact = (ContactKind.PHONE, user.phone) if user.phone else (ContactKind.EMAIL, user.email or "")
    try:
        with transaction.atomic():
            request = DeletionRequest.objects.create(
                user=user,
                contact=contact,
                contact_kind=contact_kind,
                requested_at=now,
                due_by=now.date() + dt.timedelta(days=policy.DELETION_DEADLINE_DAYS),
                reason=reason.strip()[:2000],
            )
            audit_record(
                at=now,
                actor_id=user.pk,
                channel=channel,
                action="deletion.requested",
                object_type="deletion_request",
                object_id=request.pk,
            )
            _notify(
                user,
                subject="Заявка на удаление профиля",
                text=f"Заявка на удаление профиля принята. Мы рассмотрим её до {request.due_by:%d.%m.%Y} и сообщим результат.",
            )
    except IntegrityError:
        raise DeletionAlreadyRequested() from None
    return request


def _deletion_open_get(request_id: int) -> DeletionRequest:
    request = DeletionRequest.objects.select_for_update().get(pk=request_id)
    if request.status not in (DeletionStatus.NEW, DeletionStatus.IN_PROGRESS):
        raise DeletionRequestClosed()
    return request


@transaction.atomic
def deletion_request_take(*, request_id: int, operator: User, now: dt.datetime) -> DeletionRequest:
    """An operator starts on a new request; the subscriber sees it «в работе».

    Raises DeletionRequestClosed (it is decided already), DeletionRequestTaken.
    """
    request = _deletion_open_get(request_id)
    if request.status != DeletionStatus.NEW:
        raise DeletionRequestTaken()
    request.status = DeletionStatus.IN_PROGRESS
    request.taken_at = now
    request.processed_by = operator
    request.save(update_fields=["status", "taken_at", "processed_by"])
    audit_record(
        at=now,
        actor_id=operator.pk,
        channel="operator",
        action="deletion.in_progress",
        object_type="deletion_request",
        object_id=request.pk,
        before={"status": DeletionStatus.NEW},
        after={"status": DeletionStatus.IN_PROGRESS},
    )
    return request


def _deletion_close(
    request: DeletionRequest, *, status: DeletionStatus, outcome: str, operator: User, now: dt.datetime, text: str
) -> DeletionRequest:
    old = request.status
    request.status = status
    request.outcome = outcome
    request.processed_at = now
    request.processed_by = operator
    request.save(update_fields=["status", "outcome", "processed_at", "processed_by"])
    audit_record(
        at=now,
        actor_id=operator.pk,
        channel="operator",
        action=f"deletion.{status}",
        object_type="deletion_request",
        object_id=request.pk,
        before={"status": old},
        after={"status": status},
    )
    _deletion_outcome_send(request, text + request.outcome)
    return request


@transaction.atomic
def deletion_request_complete(*, request_id: int, operator: User, outcome: str, now: dt.datetime) -> DeletionRequest:
    """Erase the profile's personal data and end its sessions. Records that law requires
    to keep (consents given, the audit trail, what other domains keep under their own
    rules) stay; the person is told the outcome at the contact they had.

    Raises DeletionRequestClosed.
    """
    request = _deletion_open_get(request_id)
    user = request.user
    if user is not None:
        sessions_end_all(user=user, now=now, reason="profile_deleted")
        user.external_identities.all().delete()
        user.codes.all().delete()
        Consent.objects.filter(user=user, withdrawn_at__isnull=True).update(
            withdrawn_at=now, withdrawn_channel="operator"
        )
        user.username = f"deleted-{user.pk}"
        user.first_name = user.last_name = user.middle_name = ""
        user.phone = user.email = None
        user.phone_confirmed_at = user.email_confirmed_at = None
        user.is_active = False
        user.set_unusable_password()
        user.save()
    return _deletion_close(
        request,
        status=DeletionStatus.DONE,
        outcome=outcome.strip() or "Профиль удалён",
        operator=operator,
        now=now,
        text="Ваш профиль в личном кабинете удалён. ",
    )


@transaction.atomic
def deletion_request_refuse(*, request_id: int, operator: User, outcome: str, now: dt.datetime) -> DeletionRequest:
    """Refuse the request with the reason in ``outcome``. Raises DeletionRequestClosed, ValidationFailed."""
    if not outcome.strip():
        raise ValidationFailed({"outcome": [gettext("Укажите причину отказа: её получит абонент")]})
    return _deletion_close(
        _deletion_open_get(request_id),
        status=DeletionStatus.REFUSED,
        outcome=outcome.strip(),
        operator=operator,
        now=now,
        text="Заявка на удаление профиля отклонена: ",
    )


def _deletion_outcome_send(request: DeletionRequest, text: str) -> None:
    if not request.contact:
        return
    if request.contact_kind == ContactKind.PHONE:
        sms_send(phone=request.contact, text=text)
    else:
        email_send(to=request.contact, subject="Удаление профиля", body=text)
