"""Input and output of the payments endpoints.

An amount comes as a decimal string in rubles («1250.50»; «1250,50» is read too), never as a
JSON number: a binary float cannot hold every sum of kopecks, so a number is refused with a
message that says to send a string. Whether the amount is positive, has at most two places
and fits the limit of one payment is said by the payments services, which name the part
(``parts.<index>.amount``). Outputs: money as decimal strings with two places, instants with
their offset, dates ISO 8601.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
import uuid
from typing import Annotated, Literal

from ninja import Query, Schema
from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from abonent.api.accounts_schemas import DecimalText
from abonent.api.identity_schemas import In
from abonent.api.readings_schemas import PeriodText
from abonent.core.periods import Period, PeriodFormatError
from abonent.ledger.enums import Service
from abonent.payments.enums import Channel, EventStatus, Method, PaymentStatus
from abonent.payments.services import MAX_PARTS

AMOUNT_MAX_LENGTH = 20
RETURN_URL_MAX_LENGTH = 500  # what the payment keeps of it
_PERIOD = re.compile(r"^\d{4}-\d{2}$")


def _amount_text(value: object) -> object:
    """The amount as it was sent, if it is a string; a JSON number loses kopecks on the way."""
    if isinstance(value, str):
        if len(value) > AMOUNT_MAX_LENGTH:
            raise PydanticCustomError("string_too_long", "too long", {"max_length": AMOUNT_MAX_LENGTH})
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise PydanticCustomError(
            "amount_not_string",
            'Сумму передают строкой в кавычках: "1250.50"; числа JSON не подходят — в них теряются копейки',
        )
    raise PydanticCustomError("amount_not_string", 'Сумму передают строкой в кавычках, например "1250.50"')


AmountText = Annotated[
    str,
    BeforeValidator(_amount_text),
    WithJsonSchema(
        {
            "type": "string",
            "description": "Сумма в рублях строкой, с копейками через точку или запятую: «1250.50». "
            "Число JSON не принимается",
            "examples": ["1250.50"],
        }
    ),
]


def _period_text(value: str) -> str:
    """A billing period written ГГГГ-ММ, a real month of it."""
    try:
        if not _PERIOD.fullmatch(value):
            raise PeriodFormatError(value)
        Period.parse(value)
    except PeriodFormatError:
        raise PydanticCustomError("period_invalid", "Период — год и месяц ГГГГ-ММ, например 2026-10") from None
    return value


PeriodIn = Annotated[
    str,
    AfterValidator(_period_text),
    WithJsonSchema({"type": "string", "pattern": _PERIOD.pattern, "examples": ["2026-10"]}),
]


def _return_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise PydanticCustomError(
            "return_url_invalid", "Адрес возврата — полный адрес страницы: https://… (или не указывайте его)"
        )
    return value


# --- Requests -------------------------------------------------------------------------


class PartIn(In):
    account_id: int = Field(ge=1, le=2**63 - 1, description="id счёта из /accounts (не номер лицевого счёта)")
    amount: AmountText
    service: Literal["gas", "penalty", "vdgo"] = Field(
        "gas", description="За что: gas — газоснабжение, penalty — пени, vdgo — ТО ВДГО"
    )
    period: PeriodIn | None = Field(
        None, description="За какой период, ГГГГ-ММ; без него оплата гасит самый старый долг"
    )


class PaymentIn(In):
    parts: list[PartIn] = Field(
        max_length=MAX_PARTS,
        description="Что оплачивается: по строке на счёт и услугу, хотя бы одна; счета одного поставщика",
    )
    method: Literal["bank_card", "sbp"] = Field(description="bank_card — банковская карта, sbp — СБП")
    return_url: Annotated[str | None, AfterValidator(_return_url)] = Field(
        None,
        max_length=RETURN_URL_MAX_LENGTH,
        description="Куда платёжный сервис вернёт плательщика; без него — страница платежа на портале "
        "(/payments/<id>/)",
    )
    receipt_email: str | None = Field(
        None, max_length=254, description="E-mail для кассового чека; без него — e-mail профиля"
    )
    receipt_phone: str | None = Field(
        None, max_length=32, description="Телефон для кассового чека; без него — телефон профиля"
    )


AccountFilter = Annotated[
    int | None, Query(None, ge=1, le=2**63 - 1, description="Только платежи по этому счёту (id из /accounts)")
]


# --- Responses ------------------------------------------------------------------------


class PartOut(Schema):
    account_id: int = Field(description="id счёта в API")
    account_number: str = Field(description="Номер лицевого счёта")
    service: Service = Field(description="gas — газоснабжение, penalty — пени, vdgo — ТО ВДГО")
    service_label: str = Field(description="Услуга словами, на языке запроса")
    amount: DecimalText = Field(description="Сумма, ₽, два знака")
    period: PeriodText | None = Field(description="За какой период; null — гасит самый старый долг")


class PaymentOut(Schema):
    id: uuid.UUID = Field(description="Идентификатор платежа: для /payments/{id}")
    created_at: dt.datetime = Field(description="Когда начат")
    amount: DecimalText = Field(description="Сумма, ₽, два знака")
    status: PaymentStatus = Field(
        description="created — создан, платёжный сервис ещё не ответил; pending — ждёт оплаты; "
        "succeeded — оплачен; canceled — отменён или отклонён"
    )
    status_label: str = Field(description="Состояние словами, на языке запроса")
    channel: Channel = Field(description="Как пришли деньги: online — онлайн в кабинете")
    channel_label: str
    method: Method | None = Field(description="bank_card — карта, sbp — СБП; null — не известен")
    method_label: str | None
    confirmation_url: str | None = Field(
        description="Страница платёжного сервиса, где платят; null — платёж уже оплачен или отменён"
    )
    paid_at: dt.datetime | None = Field(description="Когда оплачен; null — ещё не оплачен")
    paid_on: dt.date | None = Field(description="День оплаты по времени поставщика: с него платёж учтён")
    canceled_reason: str | None = Field(description="Почему отменён (код платёжного сервиса); null — не отменён")
    receipt_email: str | None = Field(description="Куда отправлен кассовый чек")
    receipt_phone: str | None
    parts: list[PartOut] = Field(description="Как сумма разложена по счетам и услугам")


class PaymentsPageOut(Schema):
    items: list[PaymentOut] = Field(description="Платежи, новые первыми")
    next_cursor: str | None = Field(description="cursor следующей страницы; null — это последняя")


class AccountPaymentOut(Schema):
    kind: Literal["online", "registry"] = Field(
        description="online — онлайн-платёж пользователя в кабинете; registry — платёж через банк или платёжного "
        "агента, пришедший в реестре платежей (кто бы ни платил: деньги — на счёт)"
    )
    at: dt.datetime = Field(description="Когда оплачен; онлайн-платёж, ещё не оплаченный, — когда начат")
    amount: DecimalText = Field(description="Сумма, ₽, два знака")
    status: PaymentStatus = Field(
        description="succeeded — оплачен (платёж из реестра — всегда succeeded: зачислен); у онлайн-платежа "
        "ещё created, pending, canceled, как в /payments"
    )
    status_label: str = Field(description="Состояние словами, на языке запроса; у платежа из реестра — «зачислен»")
    channel: Channel = Field(
        description="Как пришли деньги: online — онлайн в кабинете, bank — в отделении банка, agent — платёжный "
        "агент, qr — приложение банка по QR-коду"
    )
    channel_label: str = Field(description="Канал словами, на языке запроса")
    parts: list[PartOut] = Field(description="Как сумма разложена по счетам и услугам")
    payment_id: uuid.UUID | None = Field(
        description="Онлайн-платёж: его id для /payments/{id}; null — платёж из реестра"
    )
    method: Method | None = Field(description="Онлайн-платёж: bank_card — карта, sbp — СБП; null — не известен")
    method_label: str | None
    receipt_email: str | None = Field(description="Онлайн-платёж: куда отправлен кассовый чек")
    receipt_phone: str | None
    bank: str | None = Field(description="Платёж из реестра: код банка или агента, приславшего реестр; иначе null")
    period: PeriodText | None = Field(
        description="Платёж из реестра: за какой период, ГГГГ-ММ, если плательщик его назвал; иначе null"
    )


class AccountPaymentsPageOut(Schema):
    items: list[AccountPaymentOut] = Field(
        description="Платежи на счёт, новые первыми: по времени оплаты, при равном — онлайн-платежи раньше"
    )
    next_cursor: str | None = Field(description="cursor следующей страницы; null — это последняя")


class NotificationOut(Schema):
    status: EventStatus = Field(
        description="processed — обработано (или обработано раньше: повтор); received — сохранено; "
        "rejected — не относится к нашим платежам или платёжный сервис не подтвердил его: повторять не нужно"
    )
