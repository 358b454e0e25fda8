"""Input and output of the personal account endpoints.

Inputs are strict like the identity ones (no unknown fields, no type coercion, bounded
strings); what a number or a PIN must look like is said by the customers services, which
name the field. Outputs: dates ISO 8601, money and volumes as decimal strings.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field

from abonent.api.identity_schemas import In
from abonent.api.schemas import SupplierOut
from abonent.customers.enums import AccountStatus, ContractKind, ContractStatus, EquipmentKind
from abonent.customers.selectors import Horizon
from abonent.customers.services import NAME_MAX_LENGTH
from abonent.metering.enums import MeterStatus, ReadingStatus

ProofKind = Literal["pin", "last_charge", "meter_value"]

DecimalText = Annotated[str, Field(pattern=r"^\d+(\.\d+)?$")]

# --- Requests -------------------------------------------------------------------------


class LinkIn(In):
    supplier: str | None = Field(
        None,
        max_length=40,
        description="Код поставщика из /accounts/link-options; можно не указывать: поставщик найдётся по номеру "
        "и подтверждению",
        examples=["gaz-msk"],
    )
    number: str = Field(
        min_length=1,
        max_length=32,
        description="Номер лицевого счёта: 12 цифр, как в квитанции (пробелы и дефисы допускаются)",
        examples=["770000000001"],
    )
    proof: ProofKind = Field(
        "pin",
        description="Чем подтверждается: pin — PIN-код с квитанции, last_charge — сумма последнего "
        "начисления, meter_value — текущее показание счётчика (что принимает поставщик — в /accounts/link-options)",
    )
    value: str = Field(
        min_length=1,
        max_length=32,
        description="PIN-код (4–10 цифр), сумма в рублях (1234,56) или показание в м³ (01234,567)",
        examples=["123456"],
    )


class PaperBillIn(In):
    paper: bool = Field(
        description="false — отказаться от бумажной квитанции: она будет приходить на подтверждённый e-mail профиля; "
        "true — снова получать бумажную"
    )


class LinkUpdateIn(In):
    name: str | None = Field(
        None,
        max_length=NAME_MAX_LENGTH,
        description="Своё название счёта («Дача», «Мама»); пустая строка убирает его, null или отсутствие — "
        "оставляет как есть",
    )
    is_default: bool | None = Field(
        None, description="true — сделать основным (прежний основной перестаёт им быть), false — не основной"
    )


# --- Responses ------------------------------------------------------------------------


class SupplierBriefOut(Schema):
    code: str
    short_name: str


class _Account(Schema):
    """What every view of an account starts with (the supplier is added by each)."""

    id: int = Field(description="Идентификатор счёта в API (не номер лицевого счёта): для /accounts/{account_id}")
    number: str = Field(description="Номер лицевого счёта, 12 цифр")
    name: str = Field(description="Название, которое дал пользователь; пустая строка — без названия")
    is_default: bool = Field(description="Основной счёт пользователя: с него начинается приложение")
    address: str
    status: AccountStatus


class AccountOut(_Account):
    supplier: SupplierBriefOut


class ProofOut(Schema):
    kind: ProofKind
    title: str = Field(description="Название способа на языке запроса")


class LinkOptionOut(Schema):
    supplier: SupplierBriefOut
    proofs: list[ProofOut] = Field(description="Способы подтверждения, которые поставщик принимает, в его порядке")


class ParametersOut(Schema):
    residents: int = Field(description="Проживает, человек")
    heated_area: DecimalText = Field(description="Отапливаемая площадь, м², два знака: «54.30»")
    central_hot_water: bool = Field(description="Есть центральное горячее водоснабжение")
    usage: list[Literal["cooking", "water_heating", "heating"]] = Field(
        description="Направления использования газа: пищеприготовление, подогрев воды, отопление"
    )


class EquipmentOut(Schema):
    id: int
    kind: EquipmentKind
    model: str
    installed_on: dt.date | None


class ReadingOut(Schema):
    period: str = Field(pattern=r"^\d{4}-\d{2}$", description="Расчётный период, ГГГГ-ММ")
    value: DecimalText = Field(description="Показание, м³, три знака: «1234.567»")
    submitted_at: dt.datetime
    status: ReadingStatus = Field(description="not_for_billing — передано после срока поверки, к расчёту не принято")


class HorizonOut(Schema):
    state: Horizon = Field(description="ok — срок далеко или его нет, soon — подходит, passed — истёк")
    days_left: int | None = Field(description="Дней до срока (0 — сегодня, меньше нуля — истёк); null — срока нет")
    warning: str | None = Field(description="Что это значит и что делать, на языке запроса; null — всё в порядке")


class MeterOut(Schema):
    id: int
    serial: str = Field(description="Заводской номер")
    model: str
    digits: int = Field(description="Разрядов до запятой")
    installed_on: dt.date
    verification_due_on: dt.date = Field(description="Очередная поверка до (включительно)")
    status: MeterStatus
    last_reading: ReadingOut | None = Field(description="Последнее действующее показание; null — показаний нет")
    verification: HorizonOut = Field(description="Срок поверки; у снятого счётчика всегда ok")


class ContractOut(Schema):
    id: int
    kind: ContractKind = Field(description="supply — поставка газа, vdgo — техническое обслуживание ВДГО")
    number: str
    contractor: str
    signed_on: dt.date
    valid_from: dt.date
    valid_to: dt.date | None = Field(description="null — бессрочный")
    status: ContractStatus
    state: Horizon = Field(description="Окончание срока: ok, soon, passed; у недействующего договора — ok")
    days_left: int | None
    warning: str | None


class PaperBillOut(Schema):
    """How the account's bill is delivered."""

    paper_bill: bool = Field(
        description="true — поставщик доставляет бумажную квитанцию; false — квитанция приходит на e-mail вместо "
        "бумажной"
    )
    bill_email_to_me: bool = Field(
        description="Квитанция приходит на e-mail этого профиля; false при paper_bill false — от бумажной "
        "квитанции отказался другой пользователь, к которому привязан этот счёт, и она приходит ему"
    )
    paperless_since: dt.datetime | None = Field(
        description="С какого момента без бумажной квитанции; null — с бумажной"
    )
    paperless_allowed: bool = Field(
        description="Поставщик позволяет отказаться от бумажной квитанции (PUT /accounts/{account_id}/paper-bill)"
    )


class AccountDetailOut(_Account, PaperBillOut):
    supplier: SupplierOut = Field(description="Поставщик с контактами")
    holder_masked: str = Field(description="Владелец: фамилия и инициалы, «Иванова М. П.»")
    opened_on: dt.date
    closed_on: dt.date | None
    linked_at: dt.datetime = Field(description="Когда пользователь привязал счёт")
    parameters: ParametersOut
    equipment: list[EquipmentOut]
    meters: list[MeterOut] = Field(description="Работающие счётчики первыми")
    contracts: list[ContractOut] = Field(description="Действующие договоры первыми")
