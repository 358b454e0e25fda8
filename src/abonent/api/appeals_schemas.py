"""Input and output of the appeals endpoints: appeals and applications for connection to the
gas network with their threads and files, guests' messages, the profile's deletion requests.

An appeal, a message of its thread and an application come as ``multipart/form-data``
(fields and files together); the rating and a guest's message as JSON, strict like every
other JSON body. What a value must be (a category from the list, a cadastral number, a
consumption above zero, a file that is a photo or a PDF) is said by the appeals services,
which name the field. Outputs: instants in UTC with their offset, dates ISO 8601, volumes as
decimal strings.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from abonent.api.accounts_schemas import DecimalText, SupplierBriefOut
from abonent.api.identity_schemas import In
from abonent.appeals import policy
from abonent.appeals.enums import (
    AppealKind,
    Category,
    ConnectionProgram,
    DocumentKind,
    NotifyChannel,
    Role,
    Status,
    Usage,
)
from abonent.identity.enums import DeletionStatus

_LIMIT_MB = policy.FILE_SIZE_LIMIT // (1024 * 1024)
FILES_DESCRIPTION = (
    f"Фотографии или сканы: JPEG, PNG, WebP или PDF, не больше {policy.FILES_PER_MESSAGE} файлов за раз, "
    f"каждый до {_LIMIT_MB} МБ. Тип определяется по содержимому, а не по имени файла"
)
NOTIFY_DESCRIPTION = (
    "Как сообщать об ответе: portal — только в личном кабинете, email — письмом на подтверждённый e-mail "
    "профиля, sms — SMS на подтверждённый телефон профиля"
)
TEXT_DESCRIPTION = f"Текст, до {policy.TEXT_LIMIT} знаков"

# The file of GET /appeals/{appeal_id}/files/{attachment_id}, described for the OpenAPI document.
FILE_RESPONSE: dict[str, Any] = {
    "responses": {
        200: {
            "description": "Файл вложения (с его именем в Content-Disposition)",
            "content": {
                mime: {"schema": {"type": "string", "format": "binary", "contentMediaType": mime}}
                for mime in ("image/jpeg", "image/png", "image/webp", "application/pdf")
            },
        }
    }
}


# --- Requests -------------------------------------------------------------------------
# Form fields come as text; they are read as the types below (not strictly), the rest of
# the rules is the services'.


class AppealForm(Schema):
    category: str = Field(max_length=20, description="Тема: код из /appeals/categories", examples=["charge"])
    account_id: int | None = Field(
        None,
        ge=1,
        le=2**63 - 1,
        description="id лицевого счёта из /accounts, о котором обращение; для тем с needs_account обязателен. "
        "Обращение уйдёт поставщику этого счёта",
    )
    supplier_id: int | None = Field(
        None,
        ge=1,
        le=2**63 - 1,
        description="id поставщика из /suppliers, которому адресовано обращение без лицевого счёта "
        "(когда account_id не указан)",
    )
    text: str = Field(description=TEXT_DESCRIPTION)
    notify_channel: NotifyChannel = Field(NotifyChannel.PORTAL, description=NOTIFY_DESCRIPTION)


class MessageForm(Schema):
    text: str = Field(
        "", description=TEXT_DESCRIPTION + ". Можно не писать, если приложены файлы (кроме ответа на вопрос)"
    )


class ConnectionForm(Schema):
    supplier_id: int = Field(ge=1, le=2**63 - 1, description="id поставщика газа из /suppliers")
    program: ConnectionProgram = Field(
        description="dogazification — догазификация (бесплатно до границы участка), "
        "paid — технологическое присоединение (платно)"
    )
    applicant_name: str = Field(max_length=300, description="Фамилия, имя и отчество заявителя")
    applicant_phone: str = Field(max_length=40, description="Телефон заявителя", examples=["+7 912 345-67-89"])
    object_address: str = Field(max_length=400, description="Адрес дома, который нужно подключить")
    land_cadastral_number: str = Field(
        max_length=60, description="Кадастровый номер земельного участка", examples=["50:21:0110501:123"]
    )
    house_cadastral_number: str = Field(
        max_length=60, description="Кадастровый номер дома", examples=["50:21:0110501:456"]
    )
    max_hourly_m3: str = Field(
        max_length=20,
        description=f"Максимальный часовой расход газа, м³/ч: число больше 0 и не больше {policy.HOURLY_LIMIT_M3}, "
        f"до трёх знаков после точки или запятой; до {policy.SIMPLIFIED_MAX_HOURLY_M3} м³/ч — упрощённый порядок",
        examples=["5", "6,5"],
    )
    usages: list[Usage] = Field(
        description="Для чего будет газ, хотя бы одно: поле повторяется для каждого (cooking, water_heating, "
        "heating, other)"
    )
    comment: str = Field("", description="Комментарий к заявке, можно не писать; " + TEXT_DESCRIPTION.lower())
    notify_channel: NotifyChannel = Field(NotifyChannel.PORTAL, description=NOTIFY_DESCRIPTION)


class RatingIn(In):
    rating: int = Field(ge=1, le=5, description="Оценка ответа от 1 до 5")
    comment: str = Field("", max_length=policy.TEXT_LIMIT, description="Отзыв об ответе, можно не писать")


class FeedbackIn(In):
    supplier_id: int = Field(ge=1, le=2**63 - 1, description="id поставщика газа из /suppliers")
    name: str = Field(max_length=300, description="Как к вам обращаться")
    contact: str = Field(
        max_length=254, description="E-mail или номер мобильного телефона для ответа", examples=["ivanova@mail.ru"]
    )
    text: str = Field(description=TEXT_DESCRIPTION)
    website: str = Field(
        "",
        description="Не заполняйте: поле-ловушка для роботов (в форме оно скрыто от людей). Сообщение с "
        "заполненным полем принимается с тем же ответом 202, но никуда не попадает",
    )


# --- Responses ------------------------------------------------------------------------


class CategoryOut(Schema):
    code: Category = Field(description="Код темы для поля category")
    label: str = Field(description="Название темы, на языке запроса")
    needs_account: bool = Field(description="Обращение на эту тему указывает лицевой счёт (account_id)")


class AccountBriefOut(Schema):
    id: int = Field(description="id счёта в /accounts")
    number: str = Field(description="Номер лицевого счёта, 12 цифр")


class AppealOut(Schema):
    """A case as the list shows it."""

    id: int = Field(description="Номер обращения или заявки: для /appeals/{appeal_id}")
    kind: AppealKind = Field(description="appeal — обращение, connection — заявка на подключение к газу")
    kind_label: str
    category: Category
    category_label: str
    status: Status = Field(
        description="new — принято, in_progress — в работе, waiting — ждёт ответа заявителя, answered — дан ответ, "
        "closed — закрыто, checked — заявка проверена, contract_sent — договор направлен, works — выполняются "
        "работы, gas_started — газ пущен, refused — отказано, withdrawn — отозвано"
    )
    status_label: str = Field(description="Состояние словами, на языке запроса")
    summary: str = Field(description="Кратко: начало текста обращения или программа и адрес заявки")
    created_at: dt.datetime = Field(description="Когда подано")
    status_changed_at: dt.datetime = Field(description="Когда последний раз изменилось состояние")
    due_on: dt.date | None = Field(
        description="Срок следующего шага поставщика (день по времени поставщика); null — срок не идёт "
        "(ждём ответа заявителя или всё завершено)"
    )
    unread: bool = Field(description="Есть ответ или изменение, которое заявитель ещё не видел")
    account: AccountBriefOut | None = Field(description="Лицевой счёт, о котором обращение; null — без счёта")
    supplier: SupplierBriefOut


class AppealsPageOut(Schema):
    items: list[AppealOut] = Field(description="Обращения и заявки, новые первыми")
    next_cursor: str | None = Field(description="cursor следующей страницы; null — это последняя")


class AttachmentOut(Schema):
    id: int
    name: str = Field(description="Имя файла (расширение — по настоящему типу содержимого)")
    mime: str = Field(description="Тип содержимого: image/jpeg, image/png, image/webp, application/pdf")
    size: int = Field(description="Размер, байт")
    document_kind: DocumentKind = Field(
        description="Что это: land_title — документ о праве на участок, house_title — на дом, passport — паспорт, "
        "site_plan — ситуационный план, other — другой документ или фото"
    )
    document_kind_label: str
    url: str = Field(description="Адрес, по которому файл скачивается с тем же токеном доступа")


class MessageOut(Schema):
    id: int
    role: Role = Field(description="subscriber — заявитель, operator — оператор поставщика, system — система")
    role_label: str
    action: str = Field(
        description="Что это за сообщение: create — текст обращения, ask — вопрос оператора (на него отвечают "
        "POST /appeals/{appeal_id}/messages), answer — ответ оператора, subscriber_reply — сообщение заявителя, "
        "refuse — причина отказа, close — причина закрытия"
    )
    created_at: dt.datetime
    text: str
    attachments: list[AttachmentOut]


class EventOut(Schema):
    at: dt.datetime
    action: str = Field(description="create — подано, take — взято в работу, ask, answer, withdraw, rate, …")
    action_label: str
    role: Role
    old_status: Status | None = Field(description="Было; null — при подаче")
    new_status: Status = Field(description="Стало")
    new_status_label: str


class ActionOut(Schema):
    code: Literal["subscriber_reply", "rate", "withdraw"] = Field(
        description="subscriber_reply — написать или ответить на вопрос (POST /appeals/{appeal_id}/messages), "
        "rate — оценить ответ (POST …/rating), withdraw — отозвать (POST …/withdraw)"
    )
    label: str


class ConnectionOut(Schema):
    program: ConnectionProgram
    program_label: str
    applicant_name: str
    applicant_phone: str = Field(description="Телефон заявителя, +7XXXXXXXXXX")
    object_address: str
    land_cadastral_number: str
    house_cadastral_number: str
    max_hourly_m3: DecimalText = Field(description="Максимальный часовой расход, м³/ч, три знака: «5.000»")
    simplified: bool = Field(
        description=f"До {policy.SIMPLIFIED_MAX_HOURLY_M3} м³/ч включительно: расчёт максимального часового "
        "расхода не нужен"
    )
    usages: list[Usage]


class StageOut(Schema):
    status: Status = Field(description="new (заявка подана), checked, contract_sent, works, gas_started")
    label: str
    state: Literal["done", "current", "ahead"] = Field(
        description="done — пройден, current — идёт сейчас, ahead — впереди"
    )
    reached_at: dt.datetime | None = Field(description="Когда этап достигнут; null — ещё нет")


class AppealDetailOut(AppealOut):
    closed_at: dt.datetime | None = Field(description="Когда завершено; null — ещё идёт")
    notify_channel: NotifyChannel
    rating: int | None = Field(description="Оценка ответа заявителем, 1–5; null — не оценено")
    rating_comment: str
    messages: list[MessageOut] = Field(description="Переписка, по времени")
    events: list[EventOut] = Field(description="История состояний, по времени")
    actions: list[ActionOut] = Field(description="Что заявитель может сделать сейчас")
    connection: ConnectionOut | None = Field(description="Сведения заявки на подключение; null — это обращение")
    stages: list[StageOut] | None = Field(description="Этапы подключения по порядку с датами; null — это обращение")


class FeedbackAcceptedOut(Schema):
    message: str = Field(description="Что будет дальше, на языке запроса")


class DeletionRequestItemOut(Schema):
    id: int
    status: DeletionStatus = Field(
        description="new — принята, in_progress — в работе, done — профиль удалён, refused — отказано"
    )
    status_label: str
    requested_at: dt.datetime = Field(description="Когда подана")
    due_by: dt.date = Field(description="Срок рассмотрения (30 дней)")
    taken_at: dt.datetime | None = Field(description="Когда взята в работу; null — ещё нет")
    processed_at: dt.datetime | None = Field(description="Когда решена; null — ещё нет")
    outcome: str | None = Field(description="Результат или причина отказа; null — ещё не решена")
