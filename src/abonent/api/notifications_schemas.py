"""Input and output of the endpoints of messages to the subscriber: push devices, the
notification preferences, the notification centre.

Inputs are strict like every other JSON body (no unknown fields, no type coercion, bounded
strings and lists). What a token must look like, which kinds and channels a subscriber
chooses and which of them cannot be switched off is said by the notifications services,
which name the field. Outputs: instants in UTC with their offset.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field
from pydantic.json_schema import JsonDict

from abonent.api.identity_schemas import In
from abonent.notifications.enums import Kind
from abonent.notifications.models import RECIPIENT_LIMIT
from abonent.notifications.policy import CENTRE_LIMIT

DEVICE_NAME_LIMIT = 120
TOKEN_SUFFIX_LENGTH = 8
#: Twelve kinds a subscriber chooses, four channels each: more pairs than this is not a
#: settings screen.
CHOICES_LIMIT = 100

PlatformCode = Literal["fcm", "apns"]
ChannelCode = Literal["portal", "push", "email", "sms"]
# The kinds as an enum of the document, not as a schema of their own: another "Kind" or
# "Channel" of the project would take its name.
KIND_ENUM: JsonDict = {"enum": list(Kind.values)}
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
KIND_DESCRIPTION = "Вид сообщений: " + ", ".join(Kind.values)
CHANNEL_DESCRIPTION = (
    "Канал: portal — в личном кабинете, push — push-уведомление на устройство, email — письмо на подтверждённый "
    "e-mail, sms — SMS на подтверждённый телефон"
)

# --- Requests -------------------------------------------------------------------------


class PushDeviceIn(In):
    platform: PlatformCode = Field(
        description="Сервис push-уведомлений: fcm — Firebase Cloud Messaging (Android), apns — Apple Push "
        "Notification service (iOS)"
    )
    token: str = Field(
        min_length=1,
        max_length=RECIPIENT_LIMIT,
        description=f"Токен устройства, который выдал сервис: для FCM — до {RECIPIENT_LIMIT} латинских букв, цифр "
        "и знаков - _ : . ; для APNs — 64 шестнадцатеричные цифры",
        examples=["dQw4w9WgXcQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx"],
    )
    name: str = Field(
        "",
        max_length=DEVICE_NAME_LIMIT,
        description="Название устройства для списка устройств, можно не указывать",
        examples=["Pixel 8"],
    )


class PushDeviceTokenIn(In):
    token: str = Field(
        min_length=1, max_length=RECIPIENT_LIMIT, description="Токен устройства, который приложение регистрировало"
    )


class PreferenceChoiceIn(In):
    kind: str = Field(min_length=1, max_length=40, description=KIND_DESCRIPTION, examples=["readings_open"])
    channel: str = Field(min_length=1, max_length=20, description=CHANNEL_DESCRIPTION, examples=["sms"])
    enabled: bool = Field(description="true — получать, false — не получать")


class PreferencesIn(In):
    choices: list[PreferenceChoiceIn] = Field(
        max_length=CHOICES_LIMIT,
        description="Что изменить: пары вид + канал с новым значением; пары, которых нет в списке, остаются как "
        "были. Каждая пара — не больше одного раза",
    )


class NotificationsReadIn(In):
    ids: list[Id] | None = Field(
        None,
        max_length=CENTRE_LIMIT,
        description=f"id уведомлений, которые отметить прочитанными (до {CENTRE_LIMIT}); null или отсутствие — "
        "отметить все",
    )


# --- Responses ------------------------------------------------------------------------


class PushDeviceOut(Schema):
    id: int = Field(description="id устройства: для DELETE /push-devices/{device_id}")
    platform: PlatformCode
    name: str = Field(description="Название устройства; пустая строка — без названия")
    token_suffix: str = Field(
        description=f"Последние {TOKEN_SUFFIX_LENGTH} знаков токена: по ним приложение узнаёт своё устройство в "
        "списке. Токен целиком API не отдаёт"
    )
    created_at: dt.datetime = Field(description="Когда устройство зарегистрировано впервые")
    last_seen_at: dt.datetime = Field(description="Когда приложение регистрировало токен последний раз")


class ChannelChoiceOut(Schema):
    channel: ChannelCode = Field(description=CHANNEL_DESCRIPTION)
    label: str = Field(description="Название канала, на языке запроса")
    enabled: bool = Field(description="Получает ли абонент сообщения этого вида этим каналом")
    mandatory: bool = Field(description="Обязательное уведомление: отключить нельзя (enabled всегда true)")
    available: bool = Field(
        description="Дойдёт ли сообщение: portal — всегда; email и sms — если e-mail или телефон профиля "
        "подтверждён; push — если зарегистрировано устройство"
    )


class KindPreferencesOut(Schema):
    kind: str = Field(description="Вид сообщений", json_schema_extra=KIND_ENUM)
    label: str = Field(description="Название вида, на языке запроса")
    channels: list[ChannelChoiceOut] = Field(
        description="Каналы, которыми этот вид отправляется, в порядке portal, push, email, sms"
    )


class NotificationItemOut(Schema):
    id: int
    kind: str = Field(description="Вид сообщения", json_schema_extra=KIND_ENUM)
    title: str
    body: str = Field(description="Текст сообщения (простой текст)")
    created_at: dt.datetime
    read: bool = Field(description="Прочитано (отмечено POST /notifications/read)")
    read_at: dt.datetime | None = Field(description="Когда отмечено прочитанным; null — не прочитано")
    account_id: int | None = Field(
        description="Лицевой счёт, о котором сообщение (id в /accounts); null — сообщение не о счёте или счёт "
        "больше не привязан к профилю"
    )


class NotificationsPageOut(Schema):
    items: list[NotificationItemOut] = Field(description="Уведомления, новые первыми")
    next_cursor: str | None = Field(description="cursor следующей страницы; null — это последняя")
    unread_count: int = Field(description="Сколько всего непрочитанных уведомлений (для значка)")


class UnreadCountOut(Schema):
    unread_count: int = Field(description="Сколько непрочитанных уведомлений")


class NotificationsReadOut(Schema):
    marked: int = Field(description="Сколько уведомлений стали прочитанными сейчас (уже прочитанные не считаются)")
    unread_count: int = Field(description="Сколько непрочитанных осталось")
