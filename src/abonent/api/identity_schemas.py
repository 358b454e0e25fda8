"""Input and output of the identity endpoints (registration, login, tokens, profile).

Inputs are strict: unknown fields, wrong JSON types and over-long strings are refused with
a 422 problem naming the field. Rules about the values themselves (what a phone number
is, how strong a password must be) belong to the identity services.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from abonent.identity import policy
from abonent.identity.services import CodeSent, TokenPair

_SPACES = re.compile(r"\s+")
_CODE = re.compile(rf"\d{{{policy.CODE_LENGTH}}}")


def _code(value: str) -> str:
    digits = _SPACES.sub("", value)
    if not _CODE.fullmatch(digits):
        raise PydanticCustomError("code_format", "Код — {length} цифр из сообщения", {"length": policy.CODE_LENGTH})
    return digits


Login = Annotated[
    str,
    Field(
        min_length=1,
        max_length=254,
        description="Телефон (+7 912 345-67-89, 8 912 345-67-89) или адрес электронной почты",
        examples=["+79123456789"],
    ),
]
Password = Annotated[str, Field(min_length=1, max_length=128)]
Code = Annotated[
    str,
    Field(max_length=32, description="Код из SMS или письма: 6 цифр, пробелы не важны", examples=["123456"]),
    AfterValidator(_code),
]
DeviceName = Annotated[
    str,
    Field(max_length=120, description="Название устройства, которое увидит пользователь в списке сеансов"),
    AfterValidator(str.strip),
]


class In(Schema):
    """A request body: no unknown fields, no type coercion."""

    model_config = ConfigDict(extra="forbid", strict=True)


# --- Requests -------------------------------------------------------------------------


class RegisterIn(In):
    login: Login
    password: Password
    personal_data_consent: bool = Field(description="Согласие на обработку персональных данных; без него нельзя")
    marketing_consent: bool = Field(False, description="Согласие на рекламные и информационные рассылки")


class LoginOnlyIn(In):
    login: Login


class RegisterConfirmIn(In):
    login: Login
    code: Code
    device_name: DeviceName = ""


class LoginIn(In):
    login: Login
    password: Password
    device_name: DeviceName = ""


class RefreshIn(In):
    refresh_token: str = Field(min_length=1, max_length=200)


class PasswordResetByCodeIn(In):
    login: Login
    code: Code
    new_password: Password


class PasswordResetByLinkIn(In):
    uid: str = Field(min_length=1, max_length=64, description="Часть ссылки из письма после /password/reset/")
    token: str = Field(min_length=1, max_length=100, description="Следующая часть ссылки из письма")
    new_password: Password


class PasswordChangeIn(In):
    old_password: Password
    new_password: Password


class PhoneIn(In):
    phone: str = Field(min_length=1, max_length=32, examples=["+79123456789"])


class PhoneConfirmIn(PhoneIn):
    code: Code


class EmailIn(In):
    email: str = Field(min_length=1, max_length=254, examples=["ivanova@mail.ru"])


class EmailConfirmIn(EmailIn):
    code: Code


class MarketingConsentIn(In):
    given: bool


class LanguageIn(In):
    language: str = Field(
        min_length=1,
        max_length=8,
        description="Язык сообщений (e-mail, SMS, push, уведомления в личном кабинете): ru — русский, en — английский",
        examples=["ru"],
    )


class DeletionRequestIn(In):
    reason: str = Field("", max_length=2000, description="Причина, своими словами; можно не указывать")


# --- Responses ------------------------------------------------------------------------


class CodeSentOut(Schema):
    contact_kind: Literal["phone", "email"] = Field(
        description="Куда отправлено: phone — код в SMS, email — код (или ссылка при восстановлении пароля) в письме"
    )
    masked: str = Field(description="Телефон или адрес, частично скрытый: +7 912 ***-**-89, iv***@mail.ru")
    resend_after_seconds: int = Field(description="Через сколько секунд можно запросить код снова")


class TokenPairOut(Schema):
    access_token: str
    refresh_token: str = Field(description="Одноразовый: обменивается на новую пару в /auth/token/refresh")
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Через сколько секунд истечёт access_token")
    refresh_expires_at: dt.datetime
    session_id: int = Field(description="Сеанс этого устройства (см. /profile/sessions)")


class ConsentDocumentOut(Schema):
    kind: Literal["personal_data", "marketing"]
    version: str
    purpose: str
    text: str
    effective_from: dt.datetime


class ConsentOut(Schema):
    kind: Literal["personal_data", "marketing"]
    version: str
    granted_at: dt.datetime
    withdrawn_at: dt.datetime | None


class MarketingConsentOut(Schema):
    given: bool
    version: str | None
    granted_at: dt.datetime | None


class DeletionRequestOut(Schema):
    status: Literal["new", "in_progress", "done", "refused"]
    requested_at: dt.datetime
    due_by: dt.date = Field(description="Срок рассмотрения (30 дней)")


class ProfileOut(Schema):
    id: int
    phone: str | None
    email: str | None
    phone_confirmed: bool
    email_confirmed: bool
    last_name: str
    first_name: str
    middle_name: str
    language: str = Field(description="Язык сообщений: ru — русский, en — английский (PUT /profile/language)")
    consents: list[ConsentOut]
    deletion_request: DeletionRequestOut | None = Field(description="Заявка на удаление профиля, пока она открыта")


class SessionOut(Schema):
    id: int
    kind: Literal["web", "app"]
    device_name: str
    user_agent: str
    ip: str | None
    created_at: dt.datetime
    last_seen_at: dt.datetime
    current: bool = Field(description="Это устройство (сеанс токена запроса)")


class SessionsEndedOut(Schema):
    ended: int


# --- Mapping (also for other routers that log a device in, such as Госуслуги) -------------


def code_sent_body(sent: CodeSent) -> dict[str, Any]:
    """A ``CodeSentOut`` for where a code went."""
    return {
        "contact_kind": sent.contact_kind.value,
        "masked": sent.masked,
        "resend_after_seconds": int(policy.CODE_RESEND_MIN_INTERVAL.total_seconds()),
    }


def token_pair_body(pair: TokenPair, now: dt.datetime) -> dict[str, Any]:
    """A ``TokenPairOut`` for a pair issued at ``now``."""
    return {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "token_type": "Bearer",
        "expires_in": int((pair.access_expires_at - now).total_seconds()),
        "refresh_expires_at": pair.refresh_expires_at,
        "session_id": pair.session_id,
    }
