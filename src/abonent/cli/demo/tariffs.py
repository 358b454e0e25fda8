"""The demo suppliers' prices, consumption norms and the benefits of some accounts: the data
a billing run needs, covering the whole history of the seed.

Prices change on 1 July each year (the federal indexation of gas prices for households), and
on 1 January 2026, when VAT went from 20 % to 22 %. The Kaliningrad prices of the second half
of 2025 and of 2026 are the published ones; the Moscow region's are demo figures of the same
order. Earlier and later years are derived from them by the yearly indexation (the published
factors for 2024 and 2025, an assumed one for the other years), rounded to 3 places.

Norms are per resident per month (cooking with central hot water, cooking without it, a gas
water heater) and per m² of heated area by month for heating, in force from before the
history on. Rows are made once; a later run whose history reaches further back or forward
adds the rows it lacks and closes the open-ended row before them, as an operator would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from abonent.billing.enums import BenefitCategory, BenefitMode, Direction, NormKind
from abonent.billing.models import Benefit, Dated, Norm, Tariff
from abonent.cli.demo.generator import HEATING_BY_MONTH, Rng
from abonent.cli.demo.suppliers import DemoSupplier
from abonent.core.models import Supplier

_PRICE_PLACES = Decimal("0.001")
_NORM_PLACES = Decimal("0.01")
VAT_CHANGE = dt.date(2026, 1, 1)
VAT_FACTOR = Decimal(122) / Decimal(120)
# the indexation on 1 July of the year; other years take the default
INDEXATION = {2024: Decimal("1.110"), 2025: Decimal("1.103"), 2026: Decimal("1.099")}
INDEXATION_DEFAULT = Decimal("1.080")
NORMS_FROM = dt.date(2016, 1, 1)  # when the demo norms took effect (earlier if the history starts earlier)
BASIS = "демо-данные: цены по образцу регионального тарифного органа"
NORM_BASIS = "демо-данные: нормативы по образцу регионального органа власти"


@dataclass(frozen=True)
class RegionPrices:
    """Prices per direction from 1 July 2025 and from 1 January 2026 (VAT 22 %)."""

    h2_2025: dict[str, str]
    from_2026: dict[str, str]


PRICES: dict[str, RegionPrices] = {
    "stolgaz": RegionPrices(
        h2_2025={Direction.COOKING: "8.670", Direction.COOKING_WATER_HEATER: "8.240", Direction.HEATING: "7.890"},
        from_2026={Direction.COOKING: "8.810", Direction.COOKING_WATER_HEATER: "8.380", Direction.HEATING: "8.020"},
    ),
    "yantargaz": RegionPrices(  # Калининградская область: 13,30 → 13,52; 12,22 → 12,42; 9,467 → 9,624
        h2_2025={Direction.COOKING: "13.300", Direction.COOKING_WATER_HEATER: "12.220", Direction.HEATING: "9.467"},
        from_2026={Direction.COOKING: "13.520", Direction.COOKING_WATER_HEATER: "12.420", Direction.HEATING: "9.624"},
    ),
}

# m³ per resident per month
PERSON_NORMS: dict[str, dict[str, str]] = {
    "stolgaz": {NormKind.COOKING_CENTRAL_HW: "10.00", NormKind.COOKING: "14.80", NormKind.WATER_HEATER: "24.50"},
    "yantargaz": {NormKind.COOKING_CENTRAL_HW: "9.80", NormKind.COOKING: "15.50", NormKind.WATER_HEATER: "26.00"},
}
HEATING_NORM_MARGIN = Decimal("1.2")  # the norm is above what a household usually burns


def _round(value: Decimal, places: Decimal) -> Decimal:
    return value.quantize(places, rounding=ROUND_HALF_UP)


def price_changes(first: dt.date, last: dt.date) -> list[dt.date]:
    """The days prices change from the one in force on ``first`` through ``last``."""
    start = dt.date(first.year if first >= dt.date(first.year, 7, 1) else first.year - 1, 7, 1)
    days = [dt.date(year, 7, 1) for year in range(start.year, last.year + 1) if dt.date(year, 7, 1) <= last]
    if start <= VAT_CHANGE <= last:
        days.append(VAT_CHANGE)
    return sorted(days)


def price_on(code: str, direction: str, day: dt.date) -> Decimal:
    """The demo price of a direction from ``day`` (a day prices change) on."""
    region = PRICES[code]
    if dt.date(2025, 7, 1) <= day < VAT_CHANGE:
        return Decimal(region.h2_2025[direction])
    if VAT_CHANGE <= day < dt.date(2026, 7, 1):
        return Decimal(region.from_2026[direction])
    if day < dt.date(2025, 7, 1):
        price = Decimal(region.h2_2025[direction])
        year = 2025
        while dt.date(year, 7, 1) > day:
            price /= INDEXATION.get(year, INDEXATION_DEFAULT)
            year -= 1
        return _round(price, _PRICE_PLACES)
    price = Decimal(region.from_2026[direction])
    for year in range(2026, day.year + 1):
        price *= INDEXATION.get(year, INDEXATION_DEFAULT)
    return _round(price, _PRICE_PLACES)


def heating_norms(demo: DemoSupplier) -> dict[int, Decimal]:
    """m³ per m² of heated area by month (months without heating have no row)."""
    coldest = Decimal(demo.heating_m3_per_m2) / 10 * HEATING_NORM_MARGIN
    return {
        month: _round(coldest * share / 100, _NORM_PLACES)
        for month, share in enumerate(HEATING_BY_MONTH, start=1)
        if share
    }


def _chain(rows: Iterable[Dated]) -> list[Dated]:
    """Rows of one direction or norm, oldest first, each ending the day before the next starts;
    returns the rows whose end had to change."""
    ordered = sorted(rows, key=lambda r: r.valid_from)
    changed = []
    for row, after in zip(ordered, [*ordered[1:], None], strict=True):
        end = after.valid_from - dt.timedelta(days=1) if after is not None else None
        if row.valid_to != end:
            row.valid_to = end
            changed.append(row)
    return changed


def prices_ensure(supplier: Supplier, demo: DemoSupplier, *, first: dt.date, last: dt.date) -> int:
    """The prices of every direction from ``first`` through ``last``; returns how many rows
    were added."""
    existing = {(t.direction, t.valid_from): t for t in Tariff.objects.filter(supplier=supplier)}
    new = [
        Tariff(
            supplier=supplier,
            direction=direction,
            price=price_on(demo.code, direction, day),
            valid_from=day,
            basis=BASIS,
        )
        for day in price_changes(first, last)
        for direction in Direction.values
        if (direction, day) not in existing
    ]
    if not new:
        return 0
    Tariff.objects.bulk_create(new)
    for direction in Direction.values:
        rows = list(Tariff.objects.filter(supplier=supplier, direction=direction))
        for row in _chain(rows):
            row.save(update_fields=["valid_to"])
    return len(new)


def norms_ensure(supplier: Supplier, demo: DemoSupplier, *, first: dt.date) -> int:
    """The norms in force from before ``first`` on; returns how many rows were added."""
    start = min(NORMS_FROM, first)
    wanted: list[tuple[str, int, Decimal]] = [
        (kind, 0, Decimal(value)) for kind, value in PERSON_NORMS[demo.code].items()
    ] + [(NormKind.HEATING, month, value) for month, value in heating_norms(demo).items()]
    kinds = {(kind, month) for kind, month, _ in wanted}
    existing = Norm.objects.filter(supplier=supplier)
    covered = {(n.kind, n.month) for n in existing if n.valid_from <= start}
    new = [
        Norm(supplier=supplier, kind=kind, month=month, value=value, valid_from=start, basis=NORM_BASIS)
        for kind, month, value in wanted
        if (kind, month) not in covered
    ]
    if not new:
        return 0
    Norm.objects.bulk_create(new)
    for kind, month in kinds:
        for row in _chain(Norm.objects.filter(supplier=supplier, kind=kind, month=month)):
            row.save(update_fields=["valid_to"])
    return len(new)


# --- benefits -------------------------------------------------------------------------------
BENEFIT_SHARE = 0.07  # of the accounts
# (category, percent, within the norm, for one person (else all), weight)
_BENEFITS = (
    (BenefitCategory.VETERAN, "50", True, True, 40),
    (BenefitCategory.DISABLED, "50", True, False, 20),
    (BenefitCategory.LARGE_FAMILY, "30", False, False, 15),
    (BenefitCategory.WAR_VETERAN, "50", True, True, 10),
    (BenefitCategory.CHERNOBYL, "50", True, True, 5),
    (BenefitCategory.RURAL_SPECIALIST, "100", True, True, 10),
)
_BENEFIT_WEIGHTS = tuple(sum(b[4] for b in _BENEFITS[: i + 1]) for i in range(len(_BENEFITS)))


@dataclass(frozen=True)
class DemoBenefit:
    category: str
    share: Decimal
    persons: int | None
    within_norm: bool
    mode: str
    valid_from: dt.date
    valid_to: dt.date | None
    document: str


def benefit_draw(
    *, seed: int, code: str, number: str, residents: int, history: tuple[dt.date, dt.date], demo: bool = False
) -> DemoBenefit | None:
    """The benefit of an account, if it has one: drawn from a stream of its own, so it does
    not depend on which other accounts exist. ``history`` is (first day, last day)."""
    rng = Rng(f"{seed}:{code}:{number}:benefit")
    if not demo and rng.random() >= BENEFIT_SHARE:
        return None
    category, share, within, one, _weight = _BENEFITS[0] if demo else rng.weighted(_BENEFITS, _BENEFIT_WEIGHTS)
    first, last = history
    span = (last - first).days
    draw = rng.random()
    if demo or draw < 0.6:
        valid_from, valid_to = first - dt.timedelta(days=rng.between(30, 3000)), None
    elif draw < 0.85:
        valid_from, valid_to = first + dt.timedelta(days=rng.between(30, span - 30)), None
    else:  # ended during the history (moved out, the right lapsed)
        valid_from = first - dt.timedelta(days=rng.between(30, 1000))
        valid_to = first + dt.timedelta(days=rng.between(60, span - 60))
    mode = BenefitMode.DISCOUNT if demo or rng.random() < 0.4 else BenefitMode.COMPENSATION
    return DemoBenefit(
        category=category,
        share=Decimal(share),
        persons=1 if one or residents < 2 else None,
        within_norm=within,
        mode=mode,
        valid_from=valid_from,
        valid_to=valid_to,
        document=f"удостоверение № {rng.between(100000, 999999)} (демо)",
    )


def benefits_ensure(benefits: dict[int, DemoBenefit]) -> int:
    """The benefits by account id, for accounts that have none yet; returns how many were added."""
    ids = sorted(benefits)
    have: set[int] = set()
    for at in range(0, len(ids), 900):
        have.update(Benefit.objects.filter(account_id__in=ids[at : at + 900]).values_list("account_id", flat=True))
    new = [
        Benefit(
            account_id=account_id,
            category=b.category,
            share=b.share,
            persons=b.persons,
            within_norm=b.within_norm,
            mode=b.mode,
            valid_from=b.valid_from,
            valid_to=b.valid_to,
            document=b.document,
        )
        for account_id, b in sorted(benefits.items())
        if account_id not in have
    ]
    Benefit.objects.bulk_create(new, batch_size=500)
    return len(new)
