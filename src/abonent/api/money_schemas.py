"""Output and query parameters of the money endpoints: balance, charges, penalties, tariffs,
consumption.

Money is a decimal string in rubles with two places («1234.56»), a price per m³ has four
(«13.5200»), a volume in m³ three («25.500»). An amount that can be below zero (a balance
paid ahead, a recalculation that lowers the debt) keeps its minus: «-120.00». Periods are
«ГГГГ-ММ», dates ISO 8601.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from ninja import Query, Schema
from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from abonent.api.accounts_schemas import DecimalText
from abonent.api.readings_schemas import PeriodText
from abonent.billing.enums import BenefitCategory, BenefitMode, Direction, NormKind, VolumeMethod
from abonent.ledger.enums import Service

MONTHS_MAX = 36
MONTHS_DEFAULT = 24
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

SignedDecimalText = Annotated[str, Field(pattern=r"^-?\d+(\.\d+)?$")]


def _iso_date(value: object) -> object:
    """A day written as ГГГГ-ММ-ДД and nothing else (no time, no timestamp, no 2026-02-30)."""
    if value is None or isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    # the type the API's error mapping explains as «a date in the format ГГГГ-ММ-ДД»
    raise PydanticCustomError("date_parsing", "Ожидается дата в формате ГГГГ-ММ-ДД")


AsOf = Annotated[
    dt.date | None,
    BeforeValidator(_iso_date),
    Query(
        None,
        description="День расчёта пеней, ГГГГ-ММ-ДД; без него — сегодня по времени поставщика. "
        "Платежи после этого дня не учитываются",
        examples=["2026-11-22"],
    ),
]
Months = Annotated[
    int,
    Query(ge=1, le=MONTHS_MAX, description=f"Сколько последних месяцев показать: от 1 до {MONTHS_MAX}"),
]


# --- Balance --------------------------------------------------------------------------


class ServiceBalanceOut(Schema):
    service: Service = Field(description="gas — газоснабжение, penalty — пени, vdgo — ТО ВДГО")
    label: str = Field(description="Услуга словами, на языке запроса")
    balance: SignedDecimalText = Field(
        description="Сальдо, ₽: больше нуля — долг, меньше нуля — переплата (оплачено вперёд)"
    )


class BalanceOut(Schema):
    balances: list[ServiceBalanceOut] = Field(description="По одной строке на каждую услугу, в том числе нулевые")
    amount_due: DecimalText = Field(
        description="К оплате, ₽: сумма долгов по услугам (переплата одной услуги не уменьшает долг другой)"
    )
    overpaid: DecimalText = Field(description="Переплата по счёту в целом, ₽; 0.00 — переплаты нет")
    due_on: dt.date | None = Field(
        description="Срок оплаты последней квитанции (за last_period); null — начислений ещё не было"
    )
    last_period: PeriodText | None = Field(description="Последний рассчитанный период, ГГГГ-ММ; null — не было")
    last_period_label: str | None = Field(description="Он же словами: «октябрь 2026», на языке запроса")


# --- Charges --------------------------------------------------------------------------


class ChargeBenefitOut(Schema):
    id: int = Field(description="id льготы из /accounts/{account_id}/tariffs")
    category: BenefitCategory
    category_label: str
    mode: BenefitMode = Field(description="discount — скидка в квитанции, compensation — компенсация от соцзащиты")
    mode_label: str
    share: DecimalText = Field(description="Размер льготы, %: «50.00»")
    volume: DecimalText = Field(description="Объём, на который предоставлена льгота, м³")
    amount: DecimalText = Field(description="Сумма льготы, ₽")


class ChargeMeterOut(Schema):
    meter_id: int
    serial: str = Field(description="Заводской номер")
    method: VolumeMethod
    method_label: str
    volume: SignedDecimalText = Field(
        description="Объём по счётчику за период, м³ (меньше нуля — снят объём, начисленный раньше без показаний)"
    )
    reading_value: DecimalText | None = Field(description="Показание, по которому рассчитано, м³; null — без показания")
    previous_value: DecimalText | None = Field(description="Предыдущее показание, от которого считается расход, м³")
    deducted: DecimalText = Field(
        description="Вычтено из расхода: объём, начисленный раньше по среднему или нормативу без показаний, м³"
    )
    average: DecimalText | None = Field(description="Среднемесячный объём, если объём рассчитан по нему, м³")


class TurnoverOut(Schema):
    """A month of one service as the bill shows it: closing = opening + charged + benefit +
    recalculated − paid + corrected."""

    opening: SignedDecimalText = Field(description="Долг (меньше нуля — переплата) на начало периода, ₽")
    charged: DecimalText = Field(description="Начислено, ₽")
    benefit: SignedDecimalText = Field(description="Льгота, ₽ (ноль или меньше нуля)")
    recalculated: SignedDecimalText = Field(description="Перерасчёт, ₽")
    paid: DecimalText = Field(description="Оплачено, ₽")
    corrected: SignedDecimalText = Field(description="Корректировка, ₽")
    closing: SignedDecimalText = Field(description="Долг (меньше нуля — переплата) на конец периода, ₽")


class ChargeTurnoverOut(Schema):
    gas: TurnoverOut | None = Field(description="Газоснабжение; null — движения нет")
    penalty: TurnoverOut | None = Field(description="Пени; null — движения нет")


class NormInputsOut(Schema):
    residents: int | None = Field(description="Проживало, человек, на момент расчёта")
    heated_area: DecimalText | None = Field(description="Отапливаемая площадь, м², на момент расчёта")
    norm_volume: DecimalText | None = Field(
        description="Объём по нормативу за период, м³; null — норматив не применялся"
    )


class ChargeOut(Schema):
    period: PeriodText
    period_label: str = Field(description="Период словами: «октябрь 2026», на языке запроса")
    method: VolumeMethod | Literal[""] = Field(
        description="Как найден объём (ПП РФ №549): reading — по показаниям, "
        "average… — по среднемесячному, norm… — по нормативу"
    )
    method_label: str = Field(description="Способ словами, на языке запроса")
    direction: Direction | Literal[""] = Field(description="Направление использования газа, по которому взята цена")
    direction_label: str
    volume: SignedDecimalText = Field(description="Объём за период, м³")
    price: DecimalText | None = Field(description="Цена за 1 м³, ₽, четыре знака; null — не применялась")
    amount: SignedDecimalText = Field(description="Начислено за период, ₽")
    benefit_volume: DecimalText = Field(description="Объём, на который предоставлены льготы, м³")
    benefit_amount: DecimalText = Field(description="Сумма льгот, ₽")
    benefits: list[ChargeBenefitOut]
    meters: list[ChargeMeterOut] = Field(description="Расчёт по каждому счётчику; пусто — счётчиков нет")
    norm_inputs: NormInputsOut = Field(description="Из чего считается норматив")
    turnover: ChargeTurnoverOut = Field(description="Движение по счёту в квитанции за этот период")


class ChargesPageOut(Schema):
    items: list[ChargeOut] = Field(description="Начисления, новые первыми")
    next_cursor: str | None = Field(description="cursor следующей страницы; null — это последняя")


# --- Penalties ------------------------------------------------------------------------


class PenaltyPartOut(Schema):
    amount: DecimalText = Field(description="Часть долга, ₽")
    paid: bool = Field(description="true — эта часть оплачена в день until; false — не оплачена на as_of")
    until: dt.date = Field(description="По какой день начисляются пени на эту часть (день оплаты или as_of)")
    days_1_300: int = Field(description="Дней просрочки с 31-го по 90-й, по 1/300 ставки (без дней моратория)")
    days_1_130: int = Field(description="Дней просрочки с 91-го, по 1/130 ставки (без дней моратория)")
    rate: DecimalText = Field(
        description="Ставка, % годовых: ключевая ставка на день until с учётом ограничения; 0 — пени не начисляются"
    )
    penalty: DecimalText = Field(
        description="Пени на эту часть, ₽, округлено до копеек (пени по долгу "
        "округляются один раз и могут отличаться от суммы частей на копейку)"
    )


class PenaltyItemOut(Schema):
    period: PeriodText = Field(description="Квитанция, которой начислен долг")
    period_label: str
    amount: DecimalText = Field(description="Начислено в этой квитанции, ₽")
    due_on: dt.date = Field(description="Срок оплаты; первый день просрочки — следующий")
    unpaid: DecimalText = Field(description="Не оплачено на as_of, ₽")
    penalty: DecimalText = Field(description="Пени по этому долгу, ₽")
    parts: list[PenaltyPartOut] = Field(description="Части долга: оплаченные в разные дни и неоплаченная")


class PenaltiesOut(Schema):
    as_of: dt.date = Field(description="День расчёта")
    total: DecimalText = Field(description="Пени всего на as_of, ₽")
    items: list[PenaltyItemOut] = Field(description="Долги по квитанциям, старые первыми")


# --- Tariffs --------------------------------------------------------------------------


class PriceOut(Schema):
    direction: Direction
    label: str = Field(description="Направление использования газа словами")
    price: DecimalText = Field(description="Розничная цена за 1 м³, ₽ с НДС, четыре знака")
    valid_from: dt.date
    valid_to: dt.date | None = Field(description="null — бессрочно")
    applies: bool = Field(description="По этой цене считается газ этого счёта")


class NormOut(Schema):
    kind: NormKind
    label: str
    value: DecimalText = Field(description="Норматив, м³ в месяц на человека или на 1 м², четыре знака")
    unit: Literal["person", "m2"] = Field(description="person — на проживающего, m2 — на 1 м² отапливаемой площади")
    month: int = Field(description="Месяц, для которого норматив отопления (1–12); 0 — норматив на любой месяц")
    units: DecimalText = Field(description="Сколько проживающих или м² у счёта")
    applies: bool


class BenefitOut(Schema):
    id: int
    category: BenefitCategory
    category_label: str
    share: DecimalText = Field(description="Размер, %")
    persons: int | None = Field(description="На скольких проживающих; null — на всех")
    within_norm: bool = Field(description="true — на объём в пределах норматива, false — на весь объём")
    mode: BenefitMode
    mode_label: str
    document: str = Field(description="Документ-основание; пустая строка — не указан")
    valid_from: dt.date
    valid_to: dt.date | None = Field(description="null — бессрочно")


class TariffsOut(Schema):
    on: dt.date = Field(description="День, на который показаны цены и нормативы: сегодня по времени поставщика")
    prices: list[PriceOut] = Field(description="Цены по направлениям; цена счёта первой")
    norms: list[NormOut] = Field(description="Нормативы, которые применяются к счёту (отопление — текущего месяца)")
    benefits: list[BenefitOut] = Field(description="Льготы счёта, действующие сейчас или с будущей даты")


# --- Consumption ----------------------------------------------------------------------


class ConsumptionMonthOut(Schema):
    period: PeriodText
    period_label: str
    volume: SignedDecimalText | None = Field(description="Объём, м³; null — начисления за месяц нет")
    amount: SignedDecimalText | None = Field(description="Начислено, ₽; null — начисления за месяц нет")
    volume_year_before: SignedDecimalText | None = Field(description="Объём в том же месяце годом раньше, м³")
    amount_year_before: SignedDecimalText | None = Field(description="Начислено в том же месяце годом раньше, ₽")


class ConsumptionOut(Schema):
    months: list[ConsumptionMonthOut] = Field(
        description="По месяцу до последнего рассчитанного, старые первыми; пусто — начислений не было"
    )
