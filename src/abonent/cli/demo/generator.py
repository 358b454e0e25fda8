"""One demo personal account with everything that hangs off it, as rows ready to write.

Account *i* of a supplier is drawn from a random stream of its own, ``Rng(f"{seed}:{code}:{i}")``:
it is the same whichever batch it falls in and whatever other accounts are made, so the
data depends on the seed and the day only, and a larger run extends a smaller one.

Rows are tuples in the column order of ``writer`` (ids first, then the fields); ids come
from an ``IdCursor`` so that children can name their parents without asking the database.
Volumes are counted in whole litres (int) and turned into m³ with three places at the end.

Before the history's first month each meter that was in service has an opening reading: the
value the previous billing system last had, loaded by the nightly import. Billing counts the
first month from it (without it the first reading would be measured from the installation).
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import random
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate
from typing import Any, TypeVar

from abonent.cli.demo import names
from abonent.cli.demo.suppliers import DemoSupplier
from abonent.core.periods import Period
from abonent.customers.enums import AccountStatus, ContractKind, ContractStatus, EquipmentKind
from abonent.customers.pins import pin_hash
from abonent.metering.enums import MeterStatus, ReadingChannel, ReadingStatus

Row = tuple[Any, ...]
T = TypeVar("T")

HISTORY_MONTHS = 24
METER_SHARE = 0.85
_NUMBER_SPACE = 10**10
_NUMBER_STEP = 3**20  # coprime with 10: index → number is a bijection on 10 digits
_UTC = dt.UTC

# How much of the coldest month's heating each month takes, and how water heating and
# cooking follow the seasons, in percent (January first).
HEATING_BY_MONTH = (100, 92, 75, 45, 12, 0, 0, 0, 8, 40, 68, 90)
WATER_BY_MONTH = (115, 112, 108, 100, 92, 85, 80, 82, 92, 100, 108, 112)
COOKING_BY_MONTH = (102, 100, 100, 100, 98, 92, 88, 90, 98, 100, 102, 108)

# A channel, when in the local day readings come by it (from, length, in seconds), and
# whether it reports the meter exactly (to the litre) or in whole m³ as people do.
_Channel = tuple[str, int, int, bool]
_CHANNELS: tuple[_Channel, ...] = (
    (ReadingChannel.WEB.value, 7 * 3600, 16 * 3600, False),
    (ReadingChannel.APP.value, 7 * 3600, 16 * 3600 + 3000, False),
    (ReadingChannel.OPERATOR.value, 9 * 3600, 8 * 3600, False),
    (ReadingChannel.CONTROLLER.value, 10 * 3600, 8 * 3600, True),
    (ReadingChannel.IMPORT.value, 2 * 3600, 2 * 3600, True),  # the nightly load from the billing system
    (ReadingChannel.PHONE.value, 9 * 3600, 8 * 3600, False),
)
_CHANNEL_CUM_WEIGHTS = tuple(accumulate((35, 30, 8, 7, 15, 5)))
_OPENING = _CHANNELS[4]  # the opening reading comes with the load from the billing system

_RESIDENTS = (1, 2, 3, 4, 5, 6)
_RESIDENTS_FLAT = tuple(accumulate((22, 34, 24, 13, 5, 2)))
_RESIDENTS_HOUSE = tuple(accumulate((12, 30, 25, 20, 9, 4)))

_METERS_BY_SIZE: dict[str, tuple[names.MeterModel, ...]] = {
    size: tuple(m for m in names.METER_MODELS if m.size == size) for size in ("small", "g4", "g6")
}

_DOUBLE_CIRCUIT_BOILERS = tuple(b for b in names.BOILERS if b[1])
_BIG_CITIES = frozenset({"г. Москва", "г. Калининград"})

_ACCOUNT_STATUS_ACTIVE = AccountStatus.ACTIVE.value
_ACCOUNT_STATUS_CLOSED = AccountStatus.CLOSED.value
_ACCOUNT_STATUS_SUSPENDED = AccountStatus.SUSPENDED.value
_CONTRACT_KIND_SUPPLY = ContractKind.SUPPLY.value
_CONTRACT_KIND_VDGO = ContractKind.VDGO.value
_CONTRACT_STATUS_ACTIVE = ContractStatus.ACTIVE.value
_CONTRACT_STATUS_EXPIRED = ContractStatus.EXPIRED.value
_CONTRACT_STATUS_TERMINATED = ContractStatus.TERMINATED.value
_EQUIPMENT_KIND_BOILER = EquipmentKind.BOILER.value
_EQUIPMENT_KIND_CONVECTOR = EquipmentKind.CONVECTOR.value
_EQUIPMENT_KIND_STOVE = EquipmentKind.STOVE.value
_EQUIPMENT_KIND_WATER_HEATER = EquipmentKind.WATER_HEATER.value
_METER_STATUS_ACTIVE = MeterStatus.ACTIVE.value
_METER_STATUS_REMOVED = MeterStatus.REMOVED.value
_ACCEPTED = ReadingStatus.ACCEPTED.value
_NOT_FOR_BILLING = ReadingStatus.NOT_FOR_BILLING.value


class Rng(random.Random):
    """``random.Random`` with quicker draws for the hot loops: one call to ``random()`` each
    instead of the rejection sampling of ``randint`` and ``choice`` (uniform enough for demo
    data, and just as deterministic)."""

    def below(self, n: int) -> int:
        """0 ≤ result < n."""
        return int(self.random() * n)

    def between(self, low: int, high: int) -> int:
        """low ≤ result ≤ high."""
        return low + int(self.random() * (high - low + 1))

    def pick(self, items: Sequence[T]) -> T:
        return items[int(self.random() * len(items))]

    def weighted(self, items: Sequence[T], cum_weights: Sequence[int]) -> T:
        return items[bisect.bisect_right(cum_weights, self.random() * cum_weights[-1])]


class IdCursor:
    """The next free primary key of each table; the generator takes ids from it in order."""

    __slots__ = ("account", "contract", "equipment", "meter", "reading")

    def __init__(self, *, account: int = 1, equipment: int = 1, contract: int = 1, meter: int = 1, reading: int = 1):
        self.account = account
        self.equipment = equipment
        self.contract = contract
        self.meter = meter
        self.reading = reading

    def copy(self) -> IdCursor:
        return IdCursor(
            account=self.account,
            equipment=self.equipment,
            contract=self.contract,
            meter=self.meter,
            reading=self.reading,
        )


@dataclass(frozen=True, slots=True)
class WindowDay:
    """A day of a reading window: the local date and its local midnight in UTC."""

    local_date: dt.date
    utc_midnight: dt.datetime
    zone: zoneinfo.ZoneInfo | None  # set only where the UTC offset changes during the day


@dataclass(frozen=True, slots=True)
class PeriodPlan:
    period: int  # YYYYMM
    first_day: dt.date
    factors: tuple[int, int, int]  # percent of the monthly cooking, water heating and heating
    window: tuple[WindowDay, ...]
    opening: bool = False  # the month before the history: only the opening reading


@dataclass(frozen=True)
class SupplierPlan:
    """What every account of one supplier in this run shares."""

    demo: DemoSupplier
    supplier_id: int
    seed: int
    today: dt.date
    periods: tuple[PeriodPlan, ...]
    submission_key: str
    number_offset: int
    localities: tuple[tuple[names.Region, names.Locality], ...] = field(repr=False)
    locality_cum_weights: tuple[int, ...] = field(repr=False)

    def number(self, index: int) -> str:
        """The personal account number of account ``index``: 12 digits, unique per supplier."""
        return f"{self.demo.number_prefix}{(index * _NUMBER_STEP + self.number_offset) % _NUMBER_SPACE:010d}"


@dataclass(frozen=True)
class GeneratedAccount:
    index: int
    number: str
    pin: str
    holder: str
    address: str
    status: str
    account: Row
    equipment: list[Row]
    contracts: list[Row]
    meters: list[Row]
    readings: list[Row]


def _stable_int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _window_day(day: dt.date, zone: zoneinfo.ZoneInfo) -> WindowDay:
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    late = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=zone)
    steady = midnight.utcoffset() == late.utcoffset()
    return WindowDay(day, midnight.astimezone(_UTC), None if steady else zone)


def supplier_plan(
    *,
    demo: DemoSupplier,
    supplier_id: int,
    time_zone: str,
    seed: int,
    today: dt.date,
    windows: Sequence[tuple[dt.date, int, int]],
) -> SupplierPlan:
    """The plan for one supplier's accounts. ``windows`` are the supplier's terms as
    (effective from, first day, last day of the reading window), in any order."""
    zone = zoneinfo.ZoneInfo(time_zone)
    terms = sorted(windows)
    starts = [t[0] for t in terms]
    last = Period.of(today) - 1
    periods = []
    for offset in range(HISTORY_MONTHS, -1, -1):
        period = last - offset
        at = bisect.bisect_right(starts, period.first_day) - 1
        first, end = (terms[at][1], terms[at][2]) if at >= 0 else (15, 25)
        days = dict.fromkeys(period.day(d) for d in range(first, end + 1))
        periods.append(
            PeriodPlan(
                period.to_int(),
                period.first_day,
                (
                    COOKING_BY_MONTH[period.month - 1],
                    WATER_BY_MONTH[period.month - 1],
                    HEATING_BY_MONTH[period.month - 1],
                ),
                tuple(_window_day(d, zone) for d in days),
                opening=offset == HISTORY_MONTHS,
            )
        )
    localities = tuple((region, loc) for region in demo.regions for loc in region.localities)
    weights = []
    for region in demo.regions:
        total = sum(loc.weight for loc in region.localities)
        weights += [region.weight * loc.weight * 1000 // total for loc in region.localities]
    return SupplierPlan(
        demo=demo,
        supplier_id=supplier_id,
        seed=seed,
        today=today,
        periods=tuple(periods),
        submission_key=f"seed-{seed}",
        number_offset=_stable_int(f"{seed}:{demo.code}:numbers") % _NUMBER_SPACE,
        localities=localities,
        locality_cum_weights=tuple(accumulate(weights)),
    )


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def _area(rng: Rng, low: int, high: int) -> Decimal:
    """A heated area between ``low`` and ``high`` m², in steps of 0.1 m²."""
    return Decimal(rng.between(low * 10, high * 10)).scaleb(-1).quantize(Decimal("0.01"))


@dataclass(slots=True)
class _Household:
    flat: bool
    stove: str | None = None
    water_heater: str | None = None
    boiler: str | None = None
    double_circuit: bool = False
    convectors: list[str] = field(default_factory=list)
    central_hot_water: bool = False
    heated_area: Decimal = Decimal("0.00")

    @property
    def uses_heating(self) -> bool:
        return self.boiler is not None or bool(self.convectors)

    @property
    def uses_water_heating(self) -> bool:
        return self.water_heater is not None or (self.boiler is not None and self.double_circuit)


def _household(rng: Rng, plan: SupplierPlan, flat: bool, city: bool) -> _Household:
    h = _Household(flat=flat)
    if flat:
        h.stove = rng.pick(names.STOVES)
        if rng.random() < plan.demo.flats_with_boiler:
            h.boiler, h.double_circuit = rng.pick(_DOUBLE_CIRCUIT_BOILERS)
            h.heated_area = _area(rng, 30, 95)
        else:
            h.central_hot_water = rng.random() < (0.9 if city else 0.7)
            if not h.central_hot_water:
                h.water_heater = rng.pick(names.WATER_HEATERS)
        return h
    heating = rng.random()
    if heating < 0.88:
        h.boiler, h.double_circuit = rng.pick(names.BOILERS)
        h.heated_area = _area(rng, 60, 260)
        if not h.double_circuit and rng.random() < 0.5:
            h.water_heater = rng.pick(names.WATER_HEATERS)
    elif heating < 0.94:
        h.convectors = [rng.pick(names.CONVECTORS) for _ in range(rng.between(1, 3))]
        h.heated_area = _area(rng, 25, 70)
        if rng.random() < 0.5:
            h.water_heater = rng.pick(names.WATER_HEATERS)
    # An electric stove in some houses that heat with gas; a house with no gas heating cooks on gas.
    if not h.uses_heating or rng.random() < 0.9:
        h.stove = rng.pick(names.STOVES)
    return h


def _address(rng: Rng, plan: SupplierPlan) -> tuple[str, names.Locality, Row, bool]:
    region, loc = rng.weighted(plan.localities, plan.locality_cum_weights)
    postal_code = f"{loc.postal_code + rng.below(loc.postal_span):06d}"
    flat = rng.random() < loc.flats_share
    village = not loc.name.startswith("г.")
    street = "" if (village and not flat and rng.random() < 0.15) else rng.pick(loc.streets)
    if flat:
        house = str(rng.between(1, 140))
        suffix = rng.random()
        if suffix < 0.12:
            house += f" к{rng.between(1, 4)}"
        elif suffix < 0.17:
            house += "А"
        apartment = str(rng.between(1, 280))
    else:
        house = str(rng.between(1, 95))
        if rng.random() < 0.06:
            house += rng.pick("АБ")
        apartment = str(rng.between(1, 2)) if rng.random() < 0.08 else ""
    parts = [postal_code, region.name, loc.name, street, f"д. {house}"] + ([f"кв. {apartment}"] if apartment else [])
    address = ", ".join(p for p in parts if p)
    return address, loc, (postal_code, region.name, loc.name, street, house, apartment), flat


def account_generate(plan: SupplierPlan, index: int, ids: IdCursor) -> GeneratedAccount:
    """Account ``index`` of the plan's supplier with its equipment, contracts, meters and
    readings; takes its ids from ``ids``."""
    rng = Rng(f"{plan.seed}:{plan.demo.code}:{index}")
    today = plan.today
    number = plan.number(index)
    pin = f"{rng.below(1_000_000):06d}"

    # The holder: a surname, a name and a patronymic that agree in gender
    female = rng.random() < 0.55
    surname = rng.pick(names.SURNAMES)
    father = rng.pick(names.MALE_NAMES)
    if female:
        last, first, middle = names.feminine_surname(surname), rng.pick(names.FEMALE_NAMES), father[2]
    else:
        last, first, middle = surname, rng.pick(names.MALE_NAMES)[0], father[1]
    if rng.random() < 0.01:
        middle = ""  # some people have none

    address, loc, address_fields, flat = _address(rng, plan)
    house = _household(rng, plan, flat, city=loc.name in _BIG_CITIES)
    residents = rng.weighted(_RESIDENTS, _RESIDENTS_FLAT if flat else _RESIDENTS_HOUSE)
    opened_on = today - _days(rng.between(3 * 365, 20 * 365))
    status_draw = rng.random()
    if status_draw < 0.02:
        status, closed_on = _ACCOUNT_STATUS_CLOSED, today - _days(rng.between(30, 700))
    elif status_draw < 0.03:
        status, closed_on = _ACCOUNT_STATUS_SUSPENDED, None
    else:
        status, closed_on = _ACCOUNT_STATUS_ACTIVE, None
    until = closed_on or today

    account_id = ids.account
    ids.account += 1
    account = (
        account_id,
        plan.supplier_id,
        number,
        last,
        first,
        middle,
        *address_fields,
        residents,
        house.heated_area,
        house.central_hot_water,
        house.stove is not None,
        house.uses_water_heating,
        house.uses_heating,
        status,
        opened_on,
        closed_on,
        pin_hash(supplier_id=plan.supplier_id, number=number, pin=pin),
    )

    # Gas equipment
    equipment: list[Row] = []
    span = max((until - opened_on).days - 30, 1)

    def installed() -> dt.date | None:
        return None if rng.random() < 0.1 else opened_on + _days(rng.below(span))

    items: list[tuple[str, str]] = []
    if house.stove:
        items.append((_EQUIPMENT_KIND_STOVE, house.stove))
    if house.water_heater:
        items.append((_EQUIPMENT_KIND_WATER_HEATER, house.water_heater))
    if house.boiler:
        items.append((_EQUIPMENT_KIND_BOILER, house.boiler))
    items += [(_EQUIPMENT_KIND_CONVECTOR, model) for model in house.convectors]
    for kind, model in items:
        equipment.append((ids.equipment, account_id, kind, model, installed()))
        ids.equipment += 1

    # Contracts: gas supply for every account, maintenance of the gas equipment (ТО ВДГО) for most
    demo = plan.demo
    closed = closed_on is not None
    contracts: list[Row] = [
        (
            ids.contract,
            account_id,
            _CONTRACT_KIND_SUPPLY,
            f"{demo.contract_prefix}-{number[2:6]}-{number[6:]}",
            demo.fields["legal_name"],
            opened_on,
            opened_on,
            closed_on,
            _CONTRACT_STATUS_TERMINATED if closed else _CONTRACT_STATUS_ACTIVE,
        )
    ]
    ids.contract += 1
    if rng.random() < 0.85:
        term_years = 3 if rng.random() < 0.8 else 5
        draw = rng.random()
        if draw < 0.12:
            valid_to = today + _days(rng.between(1, 60))
        elif draw < 0.25:
            valid_to = today - _days(rng.between(1, 400))
        else:
            valid_to = today + _days(rng.between(61, term_years * 365 - 1))
        valid_from = max(_add_years(valid_to, -term_years) + _days(1), opened_on)
        contract_status = _CONTRACT_STATUS_ACTIVE if valid_to >= today else _CONTRACT_STATUS_EXPIRED
        if closed_on is not None and valid_to > closed_on:
            valid_to, contract_status = closed_on, _CONTRACT_STATUS_TERMINATED
        if valid_to >= valid_from:
            contracts.append(
                (
                    ids.contract,
                    account_id,
                    _CONTRACT_KIND_VDGO,
                    f"ТО-{valid_from.year}/{rng.between(1000, 99999)}",
                    rng.pick(demo.vdgo_contractors),
                    valid_from,
                    valid_from,
                    valid_to,
                    contract_status,
                )
            )
            ids.contract += 1

    # Meters and their readings
    meters: list[Row] = []
    readings: list[Row] = []
    if rng.random() < METER_SHARE:
        cooking_l = (5000 + 4000 * residents) if house.stove else 0
        water_l = 8000 * residents if house.water_heater else 0
        if house.boiler and house.double_circuit:
            water_l = 7000 * residents
        heating_l = int(house.heated_area * demo.heating_m3_per_m2 * 100) if house.uses_heating else 0
        # (size, cooking, water heating, heating) that each meter counts
        loads: list[tuple[str, int, int, int]]
        if heating_l and cooking_l and rng.random() < 0.22:
            loads = [("g6", 0, water_l, heating_l), ("small", cooking_l, 0, 0)]
        elif heating_l:
            loads = [("g6" if house.heated_area > 120 else "g4", cooking_l, water_l, heating_l)]
        elif water_l:
            loads = [("g4", cooking_l, water_l, 0)]
        else:
            loads = [("small" if rng.random() < 0.6 else "g4", cooking_l, 0, 0)]
        level = 0.7 + 0.6 * rng.random()  # how thrifty the household is
        diligence = 0.55 + 0.45 * rng.random()  # how often it sends readings
        preferred = rng.weighted(_CHANNELS, _CHANNEL_CUM_WEIGHTS)
        serials: set[str] = set()
        for size, cooking, water, heating in loads:
            meter_model = rng.pick(_METERS_BY_SIZE[size])
            serial = str(rng.between(10 ** (meter_model.serial_digits - 1), 10**meter_model.serial_digits - 1))
            while serial in serials:
                serial = str(rng.between(10 ** (meter_model.serial_digits - 1), 10**meter_model.serial_digits - 1))
            serials.add(serial)
            draw = rng.random()
            if draw < 0.08:
                due = today + _days(rng.between(1, 60))
            elif draw < 0.20:
                due = today - _days(rng.between(1, 540))
            else:
                due = today + _days(rng.between(61, meter_model.verification_years * 365))
            last_verified = _add_years(due, -meter_model.verification_years)
            installed_on = last_verified if last_verified >= opened_on else opened_on + _days(rng.between(0, 400))
            if closed_on is not None and installed_on >= closed_on:
                installed_on = max(opened_on, closed_on - _days(365))
            sealed_on = min(installed_on + _days(rng.between(0, 7)), today)
            meter_id = ids.meter
            ids.meter += 1
            initial_l = _readings(
                rng,
                plan,
                readings,
                ids,
                meter_id=meter_id,
                capacity_l=10**meter_model.digits * 1000,
                installed_on=installed_on,
                due=due,
                closed_on=closed_on,
                monthly=(int(cooking * level), int(water * level), int(heating * level)),
                diligence=diligence,
                preferred=preferred,
            )
            meters.append(
                (
                    meter_id,
                    account_id,
                    serial,
                    meter_model.name,
                    meter_model.digits,
                    3,
                    Decimal(initial_l).scaleb(-3),
                    installed_on,
                    sealed_on,
                    due,
                    _METER_STATUS_REMOVED if closed else _METER_STATUS_ACTIVE,
                    closed_on,
                )
            )

    return GeneratedAccount(
        index=index,
        number=number,
        pin=pin,
        holder=" ".join(p for p in (last, first, middle) if p),
        address=address,
        status=status,
        account=account,
        equipment=equipment,
        contracts=contracts,
        meters=meters,
        readings=readings,
    )


def _readings(
    rng: Rng,
    plan: SupplierPlan,
    out: list[Row],
    ids: IdCursor,
    *,
    meter_id: int,
    capacity_l: int,
    installed_on: dt.date,
    due: dt.date,
    closed_on: dt.date | None,
    monthly: tuple[int, int, int],
    diligence: float,
    preferred: _Channel,
) -> int:
    """Monthly readings of one meter over the plan's periods: the meter turns all the time,
    the household sends what it shows on most months, inside the reading window. Returns
    what the meter showed when it was installed, in litres."""
    cooking, water, heating = monthly
    average = (cooking * 99 + water * 99 + heating * 530 // 12) // 100  # litres in an average month
    installed_period = installed_on.year * 100 + installed_on.month
    closed_period = closed_on.year * 100 + closed_on.month if closed_on else 999999
    months_before = max((plan.periods[0].first_day - installed_on).days // 30, 0)
    value = min(int(months_before * average * (0.8 + 0.3 * rng.random())), capacity_l * 6 // 10)
    initial = rng.below(5000)  # a new meter shows a few m³ after the check at the factory
    value += initial
    reported = initial
    random_ = rng.random
    key = plan.submission_key
    next_id = ids.reading
    timedelta = dt.timedelta
    for pp in plan.periods:
        if pp.period <= installed_period or pp.period >= closed_period:
            continue
        cook_pct, water_pct, heat_pct = pp.factors
        value += int((cooking * cook_pct + water * water_pct + heating * heat_pct) * (0.85 + 0.3 * random_())) // 100
        if random_() >= diligence and not pp.opening:
            continue  # not sent this month
        channel, start, length, exact = preferred if random_() < 0.8 else rng.weighted(_CHANNELS, _CHANNEL_CUM_WEIGHTS)
        if pp.opening:
            channel, start, length, exact = _OPENING
        day = pp.window[int(random_() * len(pp.window))]
        seconds = start + int(random_() * length)
        if day.zone is None:
            submitted = day.utc_midnight + timedelta(seconds=seconds)
        else:
            local = dt.datetime.combine(day.local_date, dt.time(0), tzinfo=day.zone) + timedelta(seconds=seconds)
            submitted = local.astimezone(_UTC)
        shown = value if exact else value - value % 1000
        before = reported
        if shown > reported:
            reported = shown
        out.append(
            (
                next_id,
                meter_id,
                pp.period,
                Decimal(reported).scaleb(-3),
                Decimal(reported - before).scaleb(-3),
                day.local_date,
                submitted,
                channel,
                "",
                _NOT_FOR_BILLING if day.local_date > due else _ACCEPTED,
                key,
                "",
                "",
            )
        )
        next_id += 1
    ids.reading = next_id
    return initial
