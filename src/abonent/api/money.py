"""Money of an account through the API: the balance of each service and what is due, the
charges with how each was computed, the penalty with its breakdown, the prices, norms and
benefits that apply, and the consumption month by month next to the year before.

A user reaches only the accounts linked to them: any other id is 404 ``account_not_found``,
whether such an account exists or not. Each handler parses its input, makes one call into
``abonent.billing`` and maps the result; errors become problems in ``api/errors.py``.
"Today" is the supplier's calendar day at the moment of the request.
Mounted by ``api/urls.py``: ``api.add_router("/accounts", money.router)``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Router

from abonent.api.accounts import NOT_FOUND, AccountId
from abonent.api.auth import bearer, principal
from abonent.api.money_schemas import (
    MONTHS_DEFAULT,
    AsOf,
    BalanceOut,
    ChargesPageOut,
    ConsumptionOut,
    Months,
    PenaltiesOut,
    TariffsOut,
)
from abonent.api.pagination import DEFAULT_LIMIT, Cursor, Limit, page_after
from abonent.api.schemas import UNAUTHORIZED
from abonent.billing import selectors as billing
from abonent.billing.enums import BenefitCategory, BenefitMode, VolumeMethod
from abonent.billing.models import Benefit
from abonent.billing.penalties import ItemPenalty, PenaltyPart
from abonent.billing.selectors import ChargeView, ChartMonth, MeterLine, NormLine, PriceLine
from abonent.core import clock
from abonent.core.money import RUBLE, TARIFF, VOLUME, quantize
from abonent.core.selectors import supplier_local_date
from abonent.customers import selectors as customers_selectors
from abonent.customers.models import PersonalAccount
from abonent.ledger.enums import Service
from abonent.ledger.selectors import Turnover

router = Router(tags=["money"], auth=bearer)

AREA = Decimal("0.01")  # m², as stored
PERCENT = Decimal("0.01")
NORM = Decimal("0.0001")  # m³ per person or per m², as stored


# --- Mapping --------------------------------------------------------------------------


def _decimal(value: Decimal | None, step: Decimal) -> str | None:
    """A decimal string with the places of ``step``; never «-0.00»."""
    if value is None:
        return None
    rounded = quantize(value, step)
    return str(rounded if rounded else abs(rounded))


def _rub(value: Decimal) -> str:
    return str(_decimal(value, RUBLE))


def _m3(value: Decimal) -> str:
    return str(_decimal(value, VOLUME))


def _account(request: HttpRequest, account_id: int) -> PersonalAccount:
    """The account, if it is linked to the user. Raises AccountNotFound."""
    user, _session = principal(request)
    return customers_selectors.account_link_get(user=user, account_id=account_id).account


def _today(account: PersonalAccount) -> dt.date:
    return supplier_local_date(supplier=account.supplier, now=clock.now())


def _turnover(row: Turnover | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "opening": _rub(row.opening),
        "charged": _rub(row.charged),
        "benefit": _rub(row.benefit),
        "recalculated": _rub(row.recalculated),
        "paid": _rub(row.paid),
        "corrected": _rub(row.corrected),
        "closing": _rub(row.closing),
    }


def _charge_meter(line: MeterLine) -> dict[str, Any]:
    return {
        "meter_id": line.meter_id,
        "serial": line.serial,
        "method": line.method,
        "method_label": str(VolumeMethod(line.method).label),
        "volume": _m3(line.volume),
        "reading_value": _decimal(line.reading_value, VOLUME),
        "previous_value": _decimal(line.previous_value, VOLUME),
        "deducted": _m3(line.deducted),
        "average": _decimal(line.average, VOLUME),
    }


def _charge_benefit(benefit: dict[str, Any]) -> dict[str, Any]:
    """A benefit as the run recorded it in the charge's details."""
    return {
        "id": benefit["id"],
        "category": benefit["category"],
        "category_label": str(BenefitCategory(benefit["category"]).label),
        "mode": benefit["mode"],
        "mode_label": str(BenefitMode(benefit["mode"]).label),
        "share": _decimal(Decimal(benefit["share"]), PERCENT),
        "volume": _m3(Decimal(benefit["volume"])),
        "amount": _rub(Decimal(benefit["amount"])),
    }


def _charge(view: ChargeView) -> dict[str, Any]:
    return {
        "period": str(view.period),
        "period_label": view.period.label(),
        "method": view.method,
        "method_label": view.method_label,
        "direction": view.direction,
        "direction_label": view.direction_label,
        "volume": _m3(view.volume),
        "price": _decimal(view.price, TARIFF),
        "amount": _rub(view.amount),
        "benefit_volume": _m3(view.benefit_volume),
        "benefit_amount": _rub(view.benefit_amount),
        "benefits": [_charge_benefit(benefit) for benefit in view.benefits],
        "meters": [_charge_meter(line) for line in view.meters],
        "norm_inputs": {
            "residents": view.residents,
            "heated_area": _decimal(view.heated_area, AREA),
            "norm_volume": _decimal(view.norm_volume, VOLUME),
        },
        "turnover": {"gas": _turnover(view.turnover), "penalty": _turnover(view.penalty)},
    }


def _charge_key(view: ChargeView) -> int:
    return view.period.to_int()


def _part(part: PenaltyPart) -> dict[str, Any]:
    return {
        "amount": _rub(part.amount),
        "paid": part.paid,
        "until": part.until,
        "days_1_300": part.days_first,
        "days_1_130": part.days_second,
        "rate": _decimal(part.rate, PERCENT),
        "penalty": _rub(part.penalty),
    }


def _penalty_item(item: ItemPenalty) -> dict[str, Any]:
    debt = item.item
    return {
        "period": str(debt.period),
        "period_label": debt.period.label(),
        "amount": _rub(debt.amount),
        "due_on": debt.due_on,
        "unpaid": _rub(item.unpaid),
        "penalty": _rub(item.penalty),
        "parts": [_part(part) for part in item.parts],
    }


def _price(line: PriceLine) -> dict[str, Any]:
    return {
        "direction": line.direction,
        "label": line.label,
        "price": _decimal(line.price, TARIFF),
        "valid_from": line.valid_from,
        "valid_to": line.valid_to,
        "applies": line.applies,
    }


def _norm(line: NormLine) -> dict[str, Any]:
    return {
        "kind": line.kind,
        "label": line.label,
        "value": _decimal(line.value, NORM),
        "unit": line.unit,
        "month": line.month,
        "units": str(line.units) if line.unit == "person" else _decimal(line.units, AREA),
        "applies": line.applies,
    }


def _benefit(benefit: Benefit) -> dict[str, Any]:
    return {
        "id": benefit.pk,
        "category": benefit.category,
        "category_label": str(benefit.get_category_display()),
        "share": _decimal(benefit.share, PERCENT),
        "persons": benefit.persons,
        "within_norm": benefit.within_norm,
        "mode": benefit.mode,
        "mode_label": str(benefit.get_mode_display()),
        "document": benefit.document,
        "valid_from": benefit.valid_from,
        "valid_to": benefit.valid_to,
    }


def _month(month: ChartMonth) -> dict[str, Any]:
    return {
        "period": str(month.period),
        "period_label": month.period.label(),
        "volume": _decimal(month.volume, VOLUME),
        "amount": _decimal(month.amount, RUBLE),
        "volume_year_before": _decimal(month.volume_year_before, VOLUME),
        "amount_year_before": _decimal(month.amount_year_before, RUBLE),
    }


# --- Operations -----------------------------------------------------------------------


@router.get(
    "/{account_id}/balance",
    response={200: BalanceOut, **UNAUTHORIZED, **NOT_FOUND},
    summary="Баланс счёта и сумма к оплате",
)
def balance_get(request: HttpRequest, account_id: AccountId) -> dict[str, Any]:
    """The balance of each service (gas, penalty, vdgo; above zero a debt, below zero paid
    ahead), the amount due (the debts added up), and the due date of the last bill.

    Errors: 404 ``account_not_found`` (not linked to the user, or no such account).
    """
    account = _account(request, account_id)
    money = billing.account_money_get(account=account)
    return {
        "balances": [
            {"service": service, "label": str(Service(service).label), "balance": _rub(amount)}
            for service, amount in money.balances.items()
        ],
        "amount_due": _rub(money.amount_due),
        "overpaid": _rub(money.overpaid),
        "due_on": money.due_on,
        "last_period": None if money.last_period is None else str(money.last_period),
        "last_period_label": None if money.last_period is None else money.last_period.label(),
    }


@router.get(
    "/{account_id}/charges",
    response={200: ChargesPageOut, **UNAUTHORIZED, **NOT_FOUND},
    summary="Начисления и как они рассчитаны",
)
def charges_list(
    request: HttpRequest, account_id: AccountId, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> dict[str, Any]:
    """The gas charges of the last 36 billed periods, newest first, each with how it was
    computed: the method (by readings, by the average, by the norm, and why) with its label,
    the volume, the price and the amount, the benefits, each meter's line (reading, previous
    reading, volume charged before without readings and deducted now, average), what the
    norm is computed from, and the month's turnover of gas and of penalty as on the bill
    (opening, charged, benefit, recalculated, paid, corrected, closing). Pages of
    ``limit``; the next one with ``?cursor=<next_cursor>``, until ``next_cursor`` is null.

    Errors: 404 ``account_not_found``; 422 ``cursor_invalid`` (a cursor not from this list),
    ``validation_failed`` (``limit`` not from 1 to 100).
    """
    account = _account(request, account_id)
    page = page_after(billing.charges_list(account=account), key=_charge_key, cursor=cursor, limit=limit)
    return {"items": [_charge(view) for view in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/{account_id}/penalties",
    response={200: PenaltiesOut, **UNAUTHORIZED, **NOT_FOUND},
    summary="Пени и их расчёт",
)
def penalties_get(request: HttpRequest, account_id: AccountId, as_of: AsOf = None) -> dict[str, Any]:
    """The penalty for late payment of gas (ЖК РФ ст.155 ч.14) on ``as_of``, by debt: each
    bill's amount and due date, split into the parts paid on different days and the part
    still unpaid, each with its days of delay at 1/300 of the rate (days 31–90) and at 1/130
    (from day 91), the rate (the key rate on the day of payment, or on ``as_of`` for the
    unpaid part, lowered to the cap where there is one) and its penalty. The penalty of a
    debt is rounded to kopecks once. A day after today gives a forecast at today's rates.

    Errors: 404 ``account_not_found``; 422 ``validation_failed`` (``as_of`` is not a date
    written ГГГГ-ММ-ДД).
    """
    account = _account(request, account_id)
    result = billing.penalty_breakdown(account=account, as_of=as_of or _today(account))
    return {
        "as_of": result.as_of,
        "total": _rub(result.total),
        "items": [_penalty_item(item) for item in result.items],
    }


@router.get(
    "/{account_id}/tariffs",
    response={200: TariffsOut, **UNAUTHORIZED, **NOT_FOUND},
    summary="Цены, нормативы и льготы счёта",
)
def tariffs_get(request: HttpRequest, account_id: AccountId) -> dict[str, Any]:
    """The retail prices of gas in force today for every direction of use (the account's own
    first and marked ``applies``), the consumption norms that apply to the account (heating:
    this month's) with its residents or heated area, and the account's benefits in force now
    or from a later date.

    Errors: 404 ``account_not_found``.
    """
    account = _account(request, account_id)
    on = _today(account)
    return {
        "on": on,
        "prices": [_price(line) for line in billing.tariffs_for_account(account=account, on=on)],
        "norms": [_norm(line) for line in billing.norms_for_account(account=account, on=on)],
        "benefits": [_benefit(benefit) for benefit in billing.benefits_for_account(account=account, on=on)],
    }


@router.get(
    "/{account_id}/consumption",
    response={200: ConsumptionOut, **UNAUTHORIZED, **NOT_FOUND},
    summary="Потребление газа по месяцам",
)
def consumption_get(request: HttpRequest, account_id: AccountId, months: Months = MONTHS_DEFAULT) -> dict[str, Any]:
    """The gas volume and amount charged in each of the last ``months`` months up to the
    last billed one, oldest first, next to the same month a year before; null where there
    was no charge.

    Errors: 404 ``account_not_found``; 422 ``validation_failed`` (``months`` not a whole
    number from 1 to 36).
    """
    account = _account(request, account_id)
    return {"months": [_month(month) for month in billing.consumption_chart(account=account, months=months)]}
