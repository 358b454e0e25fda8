"""The volume and amount of a period, worked out by hand: which rule gives the volume
(reading, average, norm) and the transitions between them, the norms, prices that change
inside a period, and benefits. Pure: no database."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from abonent.billing.engine import (
    AccountFacts,
    AccountResult,
    BenefitFacts,
    DataMissing,
    DatedValue,
    MeterFacts,
    MeterState,
    PeriodBook,
    account_compute,
    average_month,
)
from abonent.billing.enums import BenefitMode, Direction, NormKind, VolumeMethod
from abonent.core.periods import Period

D = Decimal
SINCE = dt.date(2020, 1, 1)
PRICES = {Direction.COOKING: "13.52", Direction.COOKING_WATER_HEATER: "12.42", Direction.HEATING: "9.624"}
NORMS = {NormKind.COOKING_CENTRAL_HW: "10", NormKind.COOKING: "15", NormKind.WATER_HEATER: "15"}
HEATING = ("11", "11", "11", "11", "2", "1", "1", "1", "2", "11", "11", "11")


def book(
    period: Period,
    *,
    prices: dict[str, list[DatedValue]] | None = None,
    norms: dict[str, list[DatedValue]] | None = None,
) -> PeriodBook:
    """The prices and norms of billing_data_make, with some replaced by a test."""
    tariffs = {d: [DatedValue(SINCE, None, D(p))] for d, p in PRICES.items()} | (prices or {})
    book_norms: dict[str, list[DatedValue]] = {k: [DatedValue(SINCE, None, D(v))] for k, v in NORMS.items()}
    book_norms[NormKind.HEATING] = [DatedValue(SINCE, None, D(v), m) for m, v in enumerate(HEATING, start=1)]
    return PeriodBook.build(period=period, tariffs=tariffs, norms=book_norms | (norms or {}))


def account(**fields: object) -> AccountFacts:
    values: dict[str, object] = {
        "account_id": 1,
        "residents": 3,
        "heated_area": D(0),
        "central_hot_water": False,
        "uses_cooking": True,
        "uses_water_heating": False,
        "uses_heating": False,
        **fields,
    }
    return AccountFacts(**values)  # type: ignore[arg-type]


JANUARY = Period(2026, 1)


def meter(**fields: object) -> MeterFacts:
    values: dict[str, object] = {
        "meter_id": 1,
        "digits": 5,
        "installed_on": dt.date(2019, 6, 1),
        "initial_value": D(0),
        "verification_due_on": dt.date(2029, 6, 1),
        "status": "active",
        "removed_on": None,
        "state": MeterState(JANUARY, D("1000.000")),
        **fields,
    }
    return MeterFacts(**values)  # type: ignore[arg-type]


def compute(
    period: Period, *meters: MeterFacts, benefits: tuple[BenefitFacts, ...] = (), **kw: object
) -> AccountResult:
    return account_compute(
        account=kw.pop("facts", account()),  # type: ignore[arg-type]
        meters=meters,
        benefits=benefits,
        book=kw.pop("prices_book", None) or book(period),  # type: ignore[arg-type]
    )


# --- readings ------------------------------------------------------------------------------


def test_a_reading_gives_the_volume_counted_since_the_last_one() -> None:
    result = compute(Period(2026, 2), meter(reading_id=7, reading_value=D("1042.5")))

    assert result.method == VolumeMethod.READING
    assert result.volume == D("42.500")  # 1042.5 − 1000
    assert result.amount == D("574.60")  # 42.5 × 13.52
    assert result.price == D("13.5200")
    assert result.direction == Direction.COOKING
    assert result.norm_volume is None
    (m,) = result.meters
    assert (m.raw, m.deducted, m.reading_id) == (D("42.500"), D(0), 7)
    assert m.state == MeterState(Period(2026, 2), D("1042.5"))  # the next period counts from here


def test_a_meter_past_its_last_digit_counts_over_zero() -> None:
    result = compute(Period(2026, 2), meter(state=MeterState(JANUARY, D("99990")), reading_value=D("15")))

    assert result.volume == D("25.000")  # 15 + 100 000 − 99 990
    assert result.amount == D("338.00")  # 25 × 13.52


# --- no reading: average for three months, then the norm -----------------------------------


def test_without_readings_three_months_on_the_average_then_the_norm() -> None:
    m = meter(average=D("30.000"))
    seen = []
    for month in (2, 3, 4, 5, 6):
        result = compute(Period(2026, month), m)
        seen.append((result.method, result.volume, result.amount, result.meters[0].state.estimated))
        m = dataclasses.replace(m, state=result.meters[0].state)

    assert seen == [
        # months 1–3 after January's reading: the average, 30 × 13.52 = 405.60, estimate adds up
        (VolumeMethod.AVERAGE, D("30.000"), D("405.60"), D("30.000")),
        (VolumeMethod.AVERAGE, D("30.000"), D("405.60"), D("60.000")),
        (VolumeMethod.AVERAGE, D("30.000"), D("405.60"), D("90.000")),
        # month 4: the norm, 3 residents × 15 = 45 m³, 45 × 13.52 = 608.40; the norm's volume is
        # an estimate too, which the next reading replaces
        (VolumeMethod.NORM_NO_READINGS, D("45.000"), D("608.40"), D("135.000")),
        (VolumeMethod.NORM_NO_READINGS, D("45.000"), D("608.40"), D("180.000")),
    ]


def test_without_an_average_the_norm_comes_at_once() -> None:
    result = compute(Period(2026, 2), meter(average=None))

    assert (result.method, result.volume, result.amount) == (VolumeMethod.NORM_NO_READINGS, D("45.000"), D("608.40"))


def test_a_reading_after_average_months_replaces_the_estimate() -> None:
    # January's reading 1000, then three months on an average of 30: 90 m³ estimated
    state = MeterState(JANUARY, D("1000"), D("90.000"))
    result = compute(Period(2026, 5), meter(state=state, reading_value=D("1100")))

    assert result.method == VolumeMethod.READING
    assert result.volume == D("10.000")  # counted 1100 − 1000 = 100, less 90 estimated
    assert result.amount == D("135.20")  # 10 × 13.52
    (m,) = result.meters
    assert (m.raw, m.deducted) == (D("100.000"), D("90.000"))
    assert m.state == MeterState(Period(2026, 5), D("1100"))  # nothing estimated any more


def test_a_reading_below_the_estimate_gives_a_negative_volume() -> None:
    state = MeterState(JANUARY, D("1000"), D("90.000"))
    result = compute(Period(2026, 5), meter(state=state, reading_value=D("1050")))

    assert result.volume == D("-40.000")  # counted 50, less 90 estimated
    assert result.amount == D("-540.80")  # −40 × 13.52: the run posts it as a recalculation
    assert result.benefits == []


# --- the average month ---------------------------------------------------------------------


def test_the_average_is_over_twelve_months_from_the_latest_reading_a_year_before() -> None:
    readings = [
        (Period(2024, 12), D("500")),
        (Period(2025, 1), D("520")),  # the latest 12+ months before January 2026
        (Period(2025, 3), D("560")),
        (Period(2026, 1), D("800")),
    ]

    # (800 − 520) / 12 = 23.3333…
    assert average_month(readings, last=JANUARY, installed=(Period(2019, 6), D(0)), digits=5) == D("23.333")


def test_the_average_is_over_more_than_twelve_months_when_no_reading_is_exactly_a_year_before() -> None:
    readings = [(Period(2024, 11), D("500")), (Period(2025, 3), D("560")), (Period(2026, 1), D("830"))]

    # (830 − 500) / 14 months = 23.5714…
    assert average_month(readings, last=JANUARY, installed=(Period(2019, 6), D(0)), digits=5) == D("23.571")


def test_a_meter_that_worked_less_than_a_year_averages_since_its_installation() -> None:
    readings = [(Period(2025, 10), D("30")), (Period(2026, 1), D("100"))]

    # (100 − 4 at installation) / 6 months (July 2025 → January 2026) = 16
    assert average_month(readings, last=JANUARY, installed=(Period(2025, 7), D(4)), digits=5) == D("16.000")


def test_the_average_counts_over_zero() -> None:
    readings = [(Period(2025, 1), D("99880")), (Period(2026, 1), D("20"))]

    # (20 + 100 000 − 99 880) / 12 = 11.6666…
    assert average_month(readings, last=JANUARY, installed=(Period(2019, 6), D(0)), digits=5) == D("11.667")


def test_no_average_without_the_reading_or_a_month_of_work() -> None:
    assert average_month([], last=JANUARY, installed=(Period(2019, 6), D(0)), digits=5) is None
    # installed in the month of its only reading: no whole month to average over
    assert average_month([(JANUARY, D("12"))], last=JANUARY, installed=(JANUARY, D(0)), digits=5) is None


# --- verification (поверка) ------------------------------------------------------------------


def test_verification_expiring_mid_history_puts_the_account_on_the_norm_from_that_period() -> None:
    due = dt.date(2026, 3, 15)
    m = meter(verification_due_on=due, average=D("30.000"))

    february = compute(Period(2026, 2), m)
    march = compute(Period(2026, 3), m)

    # February ends 28.02, before the due date: the average
    assert (february.method, february.volume) == (VolumeMethod.AVERAGE, D("30.000"))
    # 31.03 is past 15.03: the norm, 3 × 15 = 45 m³ → 608.40
    assert (march.method, march.volume, march.amount) == (VolumeMethod.NORM_VERIFICATION, D("45.000"), D("608.40"))


def test_a_due_date_on_the_last_day_of_the_period_still_counts_the_period() -> None:
    result = compute(Period(2026, 3), meter(verification_due_on=dt.date(2026, 3, 31), average=D("30.000")))

    assert (result.method, result.volume) == (VolumeMethod.AVERAGE, D("30.000"))


def test_a_reading_kept_as_not_for_billing_gives_the_norm_and_moves_the_start() -> None:
    m = meter(
        verification_due_on=dt.date(2026, 3, 15), reading_id=9, reading_value=D("1080"), reading_for_billing=False
    )
    result = compute(Period(2026, 3), m)

    assert (result.method, result.volume, result.amount) == (VolumeMethod.NORM_VERIFICATION, D("45.000"), D("608.40"))
    (mr,) = result.meters
    assert mr.volume == D("0.000")
    assert mr.state == MeterState(Period(2026, 3), D("1080"))  # the reading is kept


# --- a meter removed for verification or repair, faulty, none ------------------------------


def test_a_meter_removed_for_verification_is_on_the_average_for_three_months_then_the_norm() -> None:
    m = meter(status="checking", removed_on=dt.date(2026, 2, 10), average=D("30.000"))
    methods = [
        (compute(Period(2026, month), m).method, compute(Period(2026, month), m).volume) for month in (2, 3, 4, 5)
    ]

    assert methods == [
        (VolumeMethod.AVERAGE_CHECK, D("30.000")),  # February, removed 10.02
        (VolumeMethod.AVERAGE_CHECK, D("30.000")),
        (VolumeMethod.AVERAGE_CHECK, D("30.000")),  # April: the third month
        (VolumeMethod.NORM_CHECK, D("45.000")),  # May: 3 × 15
    ]


def test_a_faulty_meter_gives_the_norm() -> None:
    result = compute(Period(2026, 2), meter(status="faulty", reading_value=D("1040")))

    assert (result.method, result.volume, result.amount) == (VolumeMethod.NORM_FAULTY, D("45.000"), D("608.40"))


def test_no_meter_gives_the_norm() -> None:
    result = compute(Period(2026, 2))

    assert (result.method, result.volume, result.amount) == (VolumeMethod.NORM, D("45.000"), D("608.40"))
    assert result.norm_volume == D("45.000")


def test_a_meter_removed_before_the_period_or_installed_after_it_does_not_count() -> None:
    removed = meter(status="removed", removed_on=dt.date(2026, 1, 31), reading_value=D("1040"))
    later = meter(meter_id=2, installed_on=dt.date(2026, 3, 1))

    result = compute(Period(2026, 2), removed, later)

    assert (result.method, result.volume, result.meters) == (VolumeMethod.NORM, D("45.000"), [])


def test_two_meters_with_readings_add_up() -> None:
    first = meter(reading_value=D("1020"))
    second = meter(meter_id=2, state=MeterState(JANUARY, D("500")), reading_value=D("505.5"))

    result = compute(Period(2026, 2), first, second)

    assert (result.method, result.volume) == (VolumeMethod.READING, D("25.500"))  # 20 + 5.5
    assert result.amount == D("344.76")  # 25.5 × 13.52


def test_two_meters_one_on_a_reading_one_on_the_average_is_mixed() -> None:
    first = meter(reading_value=D("1020"))
    second = meter(meter_id=2, state=MeterState(JANUARY, D("500")), average=D("7.250"))

    result = compute(Period(2026, 2), first, second)

    assert (result.method, result.volume, result.amount) == (VolumeMethod.MIXED, D("27.250"), D("368.42"))
    # 20 + 7.25 = 27.25; 27.25 × 13.52 = 368.42


def test_two_meters_one_on_the_norm_puts_the_whole_account_on_the_norm() -> None:
    first = meter(reading_id=5, reading_value=D("1020"))
    second = meter(meter_id=2, status="faulty")

    result = compute(Period(2026, 2), first, second)

    assert (result.method, result.volume, result.amount) == (VolumeMethod.NORM_FAULTY, D("45.000"), D("608.40"))
    by_id = {m.meter_id: m for m in result.meters}
    assert by_id[1].volume == D("0.000")  # the norm covers it
    assert by_id[1].state == MeterState(Period(2026, 2), D("1020"))  # the next reading counts from here


def test_a_meter_without_readings_next_to_a_faulty_one_carries_its_share_of_the_norm() -> None:
    first = meter(average=D("30.000"))
    second = meter(meter_id=2, status="faulty")

    result = compute(Period(2026, 2), first, second)

    assert (result.method, result.volume) == (VolumeMethod.NORM_FAULTY, D("45.000"))
    by_id = {m.meter_id: m for m in result.meters}
    # half the norm (45 / 2 meters) instead of the average, to be replaced by the next reading
    assert (by_id[1].volume, by_id[1].state.estimated) == (D("22.500"), D("22.500"))


# --- norms ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "direction", "volume", "amount"),
    [
        # cooking without central hot water: 3 × 15 = 45 m³; 45 × 13.52 = 608.40
        ({}, Direction.COOKING, "45.000", "608.40"),
        # with central hot water: 3 × 10 = 30 m³; 30 × 13.52 = 405.60
        ({"central_hot_water": True}, Direction.COOKING, "30.000", "405.60"),
        # cooking and a water heater: 3 × (15 + 15) = 90 m³; 90 × 12.42 = 1117.80
        ({"uses_water_heating": True}, Direction.COOKING_WATER_HEATER, "90.000", "1117.80"),
        # one resident, central hot water and a water heater
        (
            {"residents": 1, "uses_cooking": True, "uses_water_heating": True, "central_hot_water": True},
            Direction.COOKING_WATER_HEATER,
            "25.000",  # 1 × 10 (cooking with hot water) + 1 × 15 (heater); 25 × 12.42 = 310.50
            "310.50",
        ),
    ],
)
def test_the_norm_per_resident(facts: dict[str, object], direction: str, volume: str, amount: str) -> None:
    result = compute(Period(2026, 2), facts=account(**facts))

    assert (result.direction, result.volume, result.amount) == (direction, D(volume), D(amount))


@pytest.mark.parametrize(
    ("month", "volume", "amount"),
    [
        (1, "925.000", "8902.20"),  # 3 × 15 + 80 m² × 11 = 925; 925 × 9.624 = 8902.20
        (5, "205.000", "1972.92"),  # 45 + 80 × 2 = 205; 205 × 9.624 = 1972.92
        (7, "125.000", "1203.00"),  # 45 + 80 × 1 = 125; 125 × 9.624 = 1203.00
        (10, "925.000", "8902.20"),  # the heating season again: 45 + 880
    ],
)
def test_the_heating_norm_per_square_metre_follows_the_month_profile(month: int, volume: str, amount: str) -> None:
    facts = account(uses_heating=True, heated_area=D("80"))

    result = compute(Period(2026, month), facts=facts)

    assert (result.direction, result.volume, result.amount) == (Direction.HEATING, D(volume), D(amount))


def test_a_month_missing_from_a_heating_profile_has_no_heating_by_the_norm() -> None:
    summer = {NormKind.HEATING: [DatedValue(SINCE, None, D("11"), m) for m in (1, 2, 3, 4, 10, 11, 12)]}
    facts = account(uses_heating=True, heated_area=D("80"))

    july = compute(Period(2026, 7), facts=facts, prices_book=book(Period(2026, 7), norms=summer))

    assert (july.volume, july.amount) == (D("45.000"), D("433.08"))  # cooking only: 45 × 9.624 = 433.08


def test_a_price_change_on_the_first_takes_the_new_price_for_the_whole_month() -> None:
    prices = {Direction.COOKING: [DatedValue(SINCE, dt.date(2026, 6, 30), D("13.52")),
                                  DatedValue(dt.date(2026, 7, 1), None, D("14.10"))]}  # fmt: skip
    june = compute(Period(2026, 6), meter(reading_value=D("1045")), prices_book=book(Period(2026, 6), prices=prices))
    july = compute(Period(2026, 7), meter(reading_value=D("1045")), prices_book=book(Period(2026, 7), prices=prices))

    assert (june.price, june.amount) == (D("13.5200"), D("608.40"))  # 45 × 13.52
    assert (july.price, july.amount) == (D("14.1000"), D("634.50"))  # 45 × 14.10


def test_a_price_change_mid_month_is_taken_by_days() -> None:
    prices = {Direction.COOKING: [DatedValue(SINCE, dt.date(2026, 7, 15), D("13.52")),
                                  DatedValue(dt.date(2026, 7, 16), None, D("14.10"))]}  # fmt: skip
    july = compute(Period(2026, 7), meter(reading_value=D("1045")), prices_book=book(Period(2026, 7), prices=prices))

    # 15 days × 13.52 + 16 days × 14.10 = 202.80 + 225.60 = 428.40 over 31 days
    # 45 × 428.40 / 31 = 621.870… → 621.87; the mean price 13.819354… → 13.8194
    assert (july.volume, july.amount, july.price) == (D("45.000"), D("621.87"), D("13.8194"))


def test_a_norm_change_mid_month_is_taken_by_days() -> None:
    norms = {NormKind.COOKING: [DatedValue(SINCE, dt.date(2026, 4, 10), D("15")),
                                DatedValue(dt.date(2026, 4, 11), None, D("12"))]}  # fmt: skip
    april = compute(Period(2026, 4), prices_book=book(Period(2026, 4), norms=norms))

    # per resident (10 × 15 + 20 × 12) / 30 = 13; × 3 = 39 m³; 39 × 13.52 = 527.28
    assert (april.method, april.volume, april.amount) == (VolumeMethod.NORM, D("39.000"), D("527.28"))


def test_a_leap_february_has_29_days() -> None:
    change = dt.date(2028, 2, 15)
    prices = {Direction.COOKING: [DatedValue(SINCE, change - dt.timedelta(days=1), D("13.52")),
                                  DatedValue(change, None, D("14.10"))]}  # fmt: skip
    norms = {NormKind.COOKING: [DatedValue(SINCE, change - dt.timedelta(days=1), D("15")),
                                DatedValue(change, None, D("12"))]}  # fmt: skip
    leap = Period(2028, 2)
    by_reading = compute(
        leap,
        meter(state=MeterState(Period(2028, 1), D("1000")), reading_value=D("1029")),
        prices_book=book(leap, prices=prices, norms=norms),
    )
    by_norm = compute(leap, prices_book=book(leap, prices=prices, norms=norms))

    # 14 days × 13.52 + 15 days × 14.10 = 189.28 + 211.50 = 400.78 over 29 days: 13.82 a day
    # 29 m³ × 400.78 / 29 = 400.78
    assert (by_reading.volume, by_reading.price, by_reading.amount) == (D("29.000"), D("13.8200"), D("400.78"))
    # the norm per resident (14 × 15 + 15 × 12) / 29 = 390 / 29 = 13.448…; × 3 = 40.3448… → 40.345
    # 40.345 × 13.82 = 557.5679 → 557.57
    assert (by_norm.volume, by_norm.amount) == (D("40.345"), D("557.57"))


def test_february_of_a_common_year_has_28_days() -> None:
    change = dt.date(2027, 2, 15)
    prices = {Direction.COOKING: [DatedValue(SINCE, change - dt.timedelta(days=1), D("13.52")),
                                  DatedValue(change, None, D("14.10"))]}  # fmt: skip
    february = Period(2027, 2)
    result = compute(
        february,
        meter(state=MeterState(Period(2027, 1), D("1000")), reading_value=D("1028")),
        prices_book=book(february, prices=prices),
    )

    # 14 × 13.52 + 14 × 14.10 = 386.68 over 28 days: 13.81; 28 m³ × 13.81 = 386.68
    assert (result.price, result.amount) == (D("13.8100"), D("386.68"))


def test_a_price_not_set_for_a_day_of_the_period_is_missing_data() -> None:
    prices = {Direction.COOKING: [DatedValue(SINCE, dt.date(2026, 7, 20), D("13.52"))]}

    with pytest.raises(DataMissing, match=r"21\.07\.2026"):
        book(Period(2026, 7), prices=prices)


# --- benefits -------------------------------------------------------------------------------


def benefit(**fields: object) -> BenefitFacts:
    values: dict[str, object] = {
        "benefit_id": 1,
        "category": "veteran",
        "share": D("50"),
        "persons": 1,
        "within_norm": True,
        "mode": BenefitMode.DISCOUNT,
        "valid_from": dt.date(2020, 1, 1),
        "valid_to": None,
        **fields,
    }
    return BenefitFacts(**values)  # type: ignore[arg-type]


def test_a_benefit_for_one_person_within_the_norm_is_a_discount() -> None:
    result = compute(Period(2026, 2), meter(reading_value=D("1060")), benefits=(benefit(),))

    assert (result.volume, result.amount) == (D("60.000"), D("811.20"))  # 60 × 13.52
    (b,) = result.benefits
    # the norm 45 < 60 consumed; 1 of 3 residents: 15 m³; 50 % of 15 × 13.52 = 101.40
    assert (b.volume, b.amount, b.mode) == (D("15.000"), D("101.40"), BenefitMode.DISCOUNT)
    assert (result.benefit_discount, result.benefit_volume, result.benefit_amount) == (
        D("101.40"),
        D("15.000"),
        D("101.40"),
    )


def test_a_benefit_within_the_norm_on_less_than_the_norm_takes_the_volume() -> None:
    result = compute(Period(2026, 2), meter(reading_value=D("1030")), benefits=(benefit(),))

    # 30 consumed < 45 norm: 30 × 1/3 = 10 m³; 50 % of 10 × 13.52 = 67.60
    assert [(b.volume, b.amount) for b in result.benefits] == [(D("10.000"), D("67.60"))]


def test_a_benefit_on_the_whole_volume_for_all_residents() -> None:
    b = benefit(share=D("30"), persons=None, within_norm=False)
    result = compute(Period(2026, 2), meter(reading_value=D("1060")), benefits=(b,))

    # all 60 m³; 30 % of 60 × 13.52 = 0.3 × 811.20 = 243.36
    assert [(x.volume, x.amount) for x in result.benefits] == [(D("60.000"), D("243.36"))]


def test_a_benefit_for_more_persons_than_live_there_covers_the_residents() -> None:
    b = benefit(share=D("100"), persons=5)
    result = compute(Period(2026, 2), meter(reading_value=D("1060")), benefits=(b,))

    # capped at 3 of 3 residents: the whole norm 45; 100 % × 45 × 13.52 = 608.40
    assert [(x.volume, x.amount) for x in result.benefits] == [(D("45.000"), D("608.40"))]


def test_a_compensated_benefit_is_shown_but_not_deducted() -> None:
    b = benefit(mode=BenefitMode.COMPENSATION)
    result = compute(Period(2026, 2), meter(reading_value=D("1060")), benefits=(b,))

    assert [(x.volume, x.amount, x.mode) for x in result.benefits] == [
        (D("15.000"), D("101.40"), BenefitMode.COMPENSATION)
    ]
    assert result.benefit_discount == D(0)
    assert result.benefit_amount == D("101.40")


def test_a_benefit_from_mid_month_is_taken_by_days() -> None:
    b = benefit(valid_from=dt.date(2026, 2, 15))
    result = compute(Period(2026, 2), meter(reading_value=D("1060")), benefits=(b,))

    # 15 m³ × 14 days of 28 = 7.5 m³; 50 % of 7.5 × 13.52 = 50.70
    assert [(x.volume, x.amount) for x in result.benefits] == [(D("7.500"), D("50.70"))]


def test_an_ended_benefit_or_no_consumption_gives_no_benefit() -> None:
    ended = benefit(valid_to=dt.date(2026, 1, 31))

    assert compute(Period(2026, 2), meter(reading_value=D("1060")), benefits=(ended,)).benefits == []
    assert compute(Period(2026, 2), meter(reading_value=D("1000")), benefits=(benefit(),)).benefits == []


def test_a_benefit_on_the_norm() -> None:
    result = compute(Period(2026, 2), benefits=(benefit(share=D("100"), persons=2),))

    # billed by the norm 45 m³; 2 of 3 residents: 30 m³; 100 % × 30 × 13.52 = 405.60
    assert (result.amount, [(x.volume, x.amount) for x in result.benefits]) == (
        D("608.40"),
        [(D("30.000"), D("405.60"))],
    )
