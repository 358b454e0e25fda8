"""Prices and norms for billing tests: one price per direction and the norms of a region,
in force from 2020 on, unless a test sets its own."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from abonent.billing.enums import Direction, NormKind
from abonent.billing.models import Norm, Tariff
from abonent.core.models import Supplier

PRICES = {Direction.COOKING: "13.5200", Direction.COOKING_WATER_HEATER: "12.4200", Direction.HEATING: "9.6240"}
NORMS = {NormKind.COOKING_CENTRAL_HW: "10", NormKind.COOKING: "15", NormKind.WATER_HEATER: "15"}
# heating per m² by month, January first (Костромская область's profile)
HEATING = ("11", "11", "11", "11", "2", "1", "1", "1", "2", "11", "11", "11")


def billing_data_make(supplier: Supplier, *, since: dt.date = dt.date(2020, 1, 1)) -> None:
    for direction, price in PRICES.items():
        Tariff.objects.create(supplier=supplier, direction=direction, price=Decimal(price), valid_from=since)
    for kind, value in NORMS.items():
        Norm.objects.create(supplier=supplier, kind=kind, value=Decimal(value), valid_from=since)
    for month, value in enumerate(HEATING, start=1):
        Norm.objects.create(
            supplier=supplier, kind=NormKind.HEATING, month=month, value=Decimal(value), valid_from=since
        )
