"""Confirmation codes: 6 digits, 10 minutes, single use, 5 wrong tries, limited resends.

A code is stored as an HMAC under a server key, so the table alone does not reveal codes.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from abonent.core.errors import DomainError
from abonent.identity import policy
from abonent.identity.enums import CodePurpose, ContactKind
from abonent.identity.models import ConfirmationCode, User
from abonent.notifications.services import email_send, sms_send


class CodeResendTooSoon(DomainError):
    code = "code_resend_too_soon"
    message = _("Новый код можно запросить через {seconds} с")

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(seconds=retry_after)
        self.retry_after = retry_after


class CodeInvalid(DomainError):
    code = "code_invalid"
    message = _("Неверный код. Осталось попыток: {left}")


class CodeExpired(DomainError):
    code = "code_expired"
    message = _("Код устарел или уже использован. Запросите новый код")


class CodeAttemptsExhausted(DomainError):
    code = "code_attempts_exhausted"
    message = _("Слишком много неверных попыток. Запросите новый код")


@functools.lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    return hashlib.sha256(b"abonent.code:" + secret.encode()).digest()


def _hash(purpose: str, recipient: str, code: str) -> str:
    return hmac.new(_key(settings.SECRET_KEY), f"{purpose}:{recipient}:{code}".encode(), hashlib.sha256).hexdigest()


_TEXTS = {
    CodePurpose.REGISTER: ("Код для регистрации в личном кабинете: {code}", "Код подтверждения регистрации"),
    CodePurpose.PASSWORD_RESET: ("Код для восстановления пароля: {code}", "Восстановление пароля"),
    CodePurpose.CHANGE_PHONE: ("Код для смены телефона в личном кабинете: {code}", "Смена телефона"),
    CodePurpose.CHANGE_EMAIL: ("Код для смены e-mail в личном кабинете: {code}", "Подтверждение e-mail"),
    CodePurpose.LINK_EXTERNAL: ("Код для входа через Госуслуги: {code}", "Вход через Госуслуги"),
}


def resend_check(*, recipient: str, now: dt.datetime) -> None:
    """Raises CodeResendTooSoon when ``recipient`` had a code under a minute ago or 5 this hour."""
    recent = list(
        ConfirmationCode.objects.filter(recipient=recipient, created_at__gt=now - dt.timedelta(hours=1))
        .order_by("-created_at")
        .values_list("created_at", flat=True)[: policy.CODE_RESEND_PER_HOUR]
    )
    if recent and now - recent[0] < policy.CODE_RESEND_MIN_INTERVAL:
        wait = policy.CODE_RESEND_MIN_INTERVAL - (now - recent[0])
        raise CodeResendTooSoon(retry_after=max(1, int(wait.total_seconds())))
    if len(recent) >= policy.CODE_RESEND_PER_HOUR:
        wait = recent[-1] + dt.timedelta(hours=1) - now
        raise CodeResendTooSoon(retry_after=max(1, int(wait.total_seconds())))


def send_counted(
    *, purpose: CodePurpose, contact_kind: ContactKind, recipient: str, now: dt.datetime, user: User | None = None
) -> None:
    """Record that a message other than a code (a notice, a link) goes to ``recipient`` now:
    it counts against the same resend limits as a code, so the two paths look alike."""
    ConfirmationCode.objects.create(
        purpose=purpose,
        contact_kind=contact_kind,
        recipient=recipient,
        user=user,
        code_hash="-",
        created_at=now,
        expires_at=now + policy.CODE_TTL,
        consumed_at=now,
    )


def code_send(
    *,
    purpose: CodePurpose,
    contact_kind: ContactKind,
    recipient: str,
    now: dt.datetime,
    user: User | None = None,
    payload: dict[str, Any] | None = None,
) -> ConfirmationCode:
    """Make a code and send it to ``recipient`` once the transaction commits.

    Earlier codes of the same purpose for the recipient (and the same profile) stop working.
    Raises CodeResendTooSoon.
    """
    resend_check(recipient=recipient, now=now)
    code = f"{secrets.randbelow(10**policy.CODE_LENGTH):0{policy.CODE_LENGTH}d}"
    with transaction.atomic():
        earlier = ConfirmationCode.objects.filter(purpose=purpose, recipient=recipient, consumed_at__isnull=True)
        if user is not None:
            earlier = earlier.filter(user=user)
        earlier.update(consumed_at=now)
        row = ConfirmationCode.objects.create(
            purpose=purpose,
            contact_kind=contact_kind,
            recipient=recipient,
            user=user,
            code_hash=_hash(purpose, recipient, code),
            payload=payload or {},
            created_at=now,
            expires_at=now + policy.CODE_TTL,
        )
        text, subject = _TEXTS[purpose]
        body = text.format(code=code) + ". Никому его не сообщайте. Код действует 10 минут."
        if contact_kind == ContactKind.PHONE:
            sms_send(phone=recipient, text=body)
        else:
            email_send(
                to=recipient, subject=subject, body=body + "\n\nЕсли вы не запрашивали код, просто удалите письмо."
            )
    return row


def code_check(
    *, purpose: CodePurpose, recipient: str, code: str, now: dt.datetime, user_id: int | None = None
) -> ConfirmationCode:
    """Use the latest code of ``purpose`` sent to ``recipient`` (for the profile ``user_id``,
    when given: a code another profile asked for is not touched).

    A wrong code counts against its 5 tries: call this outside a transaction (services do,
    and open theirs after the code is accepted), so the count is not rolled back with the error.
    Raises CodeExpired, CodeAttemptsExhausted, CodeInvalid.
    """
    codes = ConfirmationCode.objects.filter(purpose=purpose, recipient=recipient, consumed_at__isnull=True)
    if user_id is not None:
        codes = codes.filter(user_id=user_id)
    row = codes.order_by("-created_at").first()
    if row is None or row.expires_at <= now:
        raise CodeExpired(field="code")
    if row.attempts >= policy.CODE_MAX_WRONG:
        raise CodeAttemptsExhausted(field="code")
    given = "".join(ch for ch in (code or "") if ch.isdigit())
    if not hmac.compare_digest(_hash(purpose, recipient, given), row.code_hash):
        ConfirmationCode.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
        left = policy.CODE_MAX_WRONG - row.attempts - 1
        if left <= 0:
            raise CodeAttemptsExhausted(field="code")
        raise CodeInvalid(field="code", left=left)
    claimed = ConfirmationCode.objects.filter(pk=row.pk, consumed_at__isnull=True).update(consumed_at=now)
    if not claimed:  # used by a concurrent request a moment ago
        raise CodeExpired(field="code")
    row.consumed_at = now
    return row
