"""Input and output of the meter readings endpoints.

A reading's value comes as a string written the way a person reads the meter («1234,567»
or «1234.567») or as a JSON number. A number is turned into the digits it stands for and
never computed with: an integer exactly, a fraction by the shortest decimal form that is
the same number (1234.567 stays «1234.567», 1e308 becomes a 1 and 308 zeros). Whether the
digits fit the meter is said by the metering services, which name the meter; a value of
another JSON type (null, true, a list, an object) is refused here, naming the field.

Outputs: dates ISO 8601, instants with their offset, volumes in m³ as decimal strings
with three places.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from abonent.api.accounts_schemas import DecimalText
from abonent.api.identity_schemas import In
from abonent.metering.enums import MeterStatus, ReadingChannel, ReadingStatus
from abonent.metering.selectors import WindowState

#: More meters than an account has; a longer list is a mistake of the client.
READINGS_MAX = 50
KEY_MAX_LENGTH = 200
VALUE_DESCRIPTION = (
    "Показание, м³: строка с цифрами, как на счётчике, с запятой или точкой перед дробной частью "
    "(«1234,567», «01234.5»), или число JSON (1234.567)"
)


def _value_text(value: object) -> str:
    """The digits of a value sent as a string or a JSON number."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return repr(value)  # NaN, Infinity: not a number, as the services say
        return format(Decimal(repr(value)), "f")
    raise PydanticCustomError(
        "reading_value_type",
        "Показание — строка с цифрами («1234,567») или число; null, true/false, списки и объекты не подходят",
    )


ReadingValue = Annotated[
    str,
    BeforeValidator(_value_text),
    WithJsonSchema(
        {"anyOf": [{"type": "string"}, {"type": "number"}], "description": VALUE_DESCRIPTION, "examples": ["1234,567"]}
    ),
]
PeriodText = Annotated[str, Field(pattern=r"^\d{4}-\d{2}$", description="Расчётный период, ГГГГ-ММ")]


# --- Requests -------------------------------------------------------------------------


class ReadingIn(In):
    value: ReadingValue


class MeterReadingIn(In):
    meter_id: int = Field(ge=1, le=2**63 - 1, description="id счётчика из /accounts/{account_id}/readings/current")
    value: ReadingValue


class ReadingsIn(In):
    readings: list[MeterReadingIn] = Field(
        max_length=READINGS_MAX,
        description="По одному показанию на счётчик, хотя бы одно. Счётчик, по которому показание не "
        "передаётся, в список не включают",
    )


# --- Responses ------------------------------------------------------------------------


class MeterReadingOut(Schema):
    """A reading as every readings endpoint shows it."""

    id: int
    period: PeriodText = Field(description="Расчётный период, за который учтено показание, ГГГГ-ММ")
    read_on: dt.date | None = Field(description="День снятия показания по времени поставщика; null — неизвестен")
    submitted_at: dt.datetime = Field(description="Когда передано")
    value: DecimalText = Field(description="Показание, м³, три знака: «1234.567»")
    consumption: DecimalText | None = Field(
        description="Расход с предыдущего действующего показания (первого — с показания при установке), м³, "
        "три знака; null — не рассчитан"
    )
    channel: ReadingChannel = Field(description="Способ передачи")
    channel_label: str = Field(description="Способ передачи словами, на языке запроса")
    operator_name: str | None = Field(description="Оператор, который внёс показание; null — передал абонент")
    status: ReadingStatus = Field(
        description="accepted — принято; not_for_billing — сохранено, но к расчёту не принято (истёк срок поверки); "
        "superseded — заменено исправленным; rejected — отклонено оператором (причина в rejection_reason)"
    )
    status_label: str = Field(description="Состояние словами, на языке запроса")
    rejection_reason: str | None = Field(description="Почему оператор отклонил показание; null — не отклонено")
    replaces_id: int | None = Field(description="id показания за тот же период, которое это исправляет")


class ReadingWindowOut(Schema):
    period: PeriodText = Field(description="Период, за который будет учтено показание, переданное сейчас")
    period_label: str = Field(description="Период словами: «ноябрь 2026», на языке запроса")
    today: dt.date = Field(description="Сегодня по времени поставщика")
    opens_on: dt.date = Field(description="Первый день приёма показаний за period")
    closes_on: dt.date = Field(description="Последний день приёма показаний за period (включительно)")
    opens_at: dt.datetime = Field(description="Начало приёма, со смещением часового пояса поставщика")
    closes_at: dt.datetime = Field(description="Конец приёма: первый момент после него, со смещением поставщика")
    state: WindowState = Field(
        description="before — приём за period ещё не начался (переданное сейчас всё равно учтётся за period); "
        "open — идёт; after — приём за прошлый месяц закончился, переданное сейчас учтётся за period"
    )
    is_open: bool = Field(description="Идёт приём показаний за period")
    readings_allowed: bool = Field(description="Поставщик принимает показания через приложение")
    time_zone: str = Field(description="Часовой пояс поставщика (IANA): «Europe/Moscow»")
    message: str = Field(description="Что всё это значит, одной-двумя фразами, на языке запроса")


class PreviousReadingOut(Schema):
    value: DecimalText = Field(description="Показание, м³, три знака")
    period: PeriodText
    read_on: dt.date | None


class MeterEntryOut(Schema):
    id: int
    serial: str = Field(description="Заводской номер")
    model: str
    digits: int = Field(description="Разрядов до запятой")
    decimals: int = Field(description="Сколько знаков после запятой принимается: от 0 до 3")
    status: MeterStatus
    accepts: bool = Field(description="Принимает ли счётчик показания (снятый или неисправный — нет)")
    refusal: str | None = Field(description="Почему показания не принимаются, на языке запроса; null — принимаются")
    verification_due_on: dt.date = Field(description="Очередная поверка до (включительно)")
    verification_passed: bool = Field(
        description="Срок поверки истёк: показание сохранится, но к расчёту не будет принято (not_for_billing)"
    )
    base_value: DecimalText = Field(
        description="От чего считается расход нового показания: предыдущее действующее показание или показание "
        "при установке, м³, три знака"
    )
    previous: PreviousReadingOut | None = Field(description="Действующее показание до period; null — его нет")
    current: MeterReadingOut | None = Field(
        description="Показание, уже переданное за period; новое исправит его. null — ещё не передано"
    )


class ReadingsCurrentOut(Schema):
    window: ReadingWindowOut
    meters: list[MeterEntryOut] = Field(description="Работающие счётчики первыми")


class ReadingErrorOut(Schema):
    code: str = Field(description="Стабильный код причины: reading_below_previous, meter_not_in_service, …")
    message: str = Field(description="Что исправить, на языке запроса")


class MeterResultOut(Schema):
    meter_id: int
    outcome: Literal["accepted", "not_for_billing", "rejected"] = Field(
        description="accepted — принято; not_for_billing — сохранено, но к расчёту не принято (истёк срок "
        "поверки); rejected — не принято, причина в error"
    )
    reading: MeterReadingOut | None = Field(description="Показание, которое стоит за этой передачей; null — отказ")
    error: ReadingErrorOut | None = Field(description="Причина отказа; null — принято")
    created: bool = Field(
        description="Записано сейчас; false — та же передача уже была записана (повтор с тем же Idempotency-Key "
        "или то же значение, что уже передано за период) или отказ"
    )
    corrected_reading_id: int | None = Field(
        description="id показания за тот же период, которое эта передача сейчас исправила; null — не исправляла"
    )


class ReadingsResultOut(Schema):
    results: list[MeterResultOut] = Field(description="По одному на счётчик, в порядке запроса")


class ReadingsPageOut(Schema):
    items: list[MeterReadingOut] = Field(description="Показания, новые первыми")
    next_cursor: str | None = Field(description="cursor следующей страницы; null — это последняя")
