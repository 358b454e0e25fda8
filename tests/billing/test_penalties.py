"""Penalties (пени, ЖК РФ ст.155 ч.14) worked out by hand, with rate books built in the test:
the free 30 days, 1/300 for days 31–90 and 1/130 from day 91, partial payments, several debt
items, a payment naming its period, oldest-first settlement, the rate on the day of payment,
the 9.5 % cap and the moratorium of 2020. Pure: no database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from abonent.billing.penalties import DebtItem, Payment, RateBook, penalty_compute
from abonent.core.periods import Period

D = Decimal
JANUARY = Period(2026, 1)
FEBRUARY = Period(2026, 2)
# January 2026 is due 10.02.2026 (the 10th until 28.02.2026); February 2026 is due
# 15.03.2026 (the 15th from 01.03.2026)
JANUARY_DUE = dt.date(2026, 2, 10)
FEBRUARY_DUE = dt.date(2026, 3, 15)
# 21 % a year: 1000 ₽ accrue 1000 × 0.21 / 300 = 0.70 ₽ a day at 1/300
RATES = RateBook(key_rates=[(dt.date(2025, 1, 1), D("21"))])


def penalty(
    items: list[DebtItem], as_of: dt.date, payments: tuple[Payment, ...] = (), rates: RateBook = RATES
) -> list[Decimal]:
    result = penalty_compute(items=items, payments=payments, as_of=as_of, rates=rates)
    return [item.penalty for item in result.items]


def january(amount: str = "1000") -> DebtItem:
    return DebtItem(JANUARY, D(amount), JANUARY_DUE)


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (dt.date(2026, 2, 10), "0.00"),  # the due date itself
        (dt.date(2026, 3, 12), "0.00"),  # day 30 of delay (10.02 + 30)
        (dt.date(2026, 3, 13), "0.70"),  # day 31: 1 day × 1000 × 0.21 / 300
        (dt.date(2026, 5, 11), "42.00"),  # day 90: 60 days × 0.70
        # day 91: 60 × 0.70 + 1 × 1000 × 0.21 / 130 = 42 + 1.6153… = 43.6153… → 43.62
        (dt.date(2026, 5, 12), "43.62"),
    ],
)
def test_the_days_of_delay(as_of: dt.date, expected: str) -> None:
    assert penalty([january()], as_of) == [D(expected)]


def test_the_breakdown_names_the_days_and_the_rate() -> None:
    (item,) = penalty_compute(items=[january()], payments=(), as_of=dt.date(2026, 5, 12), rates=RATES).items

    (part,) = item.parts
    assert (part.paid, part.days_first, part.days_second, part.rate) == (False, 60, 1, D("21"))
    assert item.unpaid == D("1000")


def test_a_partial_payment_is_a_part_of_its_own() -> None:
    paid = Payment(dt.date(2026, 3, 27), D("400"))  # day 45 of delay

    result = penalty([january()], dt.date(2026, 5, 21), (paid,))  # day 100

    # paid 400: days 31–45, 15 days: 400 × 0.21 × 15 / 300 = 4.20
    # unpaid 600: 60 days at 1/300 and 10 at 1/130:
    #   600 × 0.21 × 60 / 300 = 25.20; 600 × 0.21 × 10 / 130 = 9.6923…
    # 4.20 + 25.20 + 9.6923… = 39.0923… → 39.09, rounded once for the item
    assert result == [D("39.09")]


def test_the_day_of_payment_is_a_day_of_delay() -> None:
    on_day_31 = Payment(dt.date(2026, 3, 13), D("1000"))

    # paid in full on day 31: 1 day × 0.70; nothing after
    assert penalty([january()], dt.date(2026, 6, 30), (on_day_31,)) == [D("0.70")]


def test_paid_in_time_no_penalty_and_payments_after_the_date_do_not_count() -> None:
    in_time = Payment(dt.date(2026, 2, 10), D("1000"))
    later = Payment(dt.date(2026, 4, 1), D("1000"))

    assert penalty([january()], dt.date(2026, 6, 30), (in_time,)) == [D("0.00")]
    # on 20.04.2026 (day 69) the payment of 01.04 counts; on 31.03 (day 49) it does not yet:
    #   paid 01.04 (day 50): 20 days × 0.70 = 14.00
    assert penalty([january()], dt.date(2026, 4, 20), (later,)) == [D("14.00")]
    #   unpaid on 31.03: 19 days × 0.70 = 13.30
    assert penalty([january()], dt.date(2026, 3, 31), (later,)) == [D("13.30")]


def test_several_debt_items_with_the_due_day_changed_on_1_march_2026() -> None:
    items = [january(), DebtItem(FEBRUARY, D("500"), FEBRUARY_DUE)]

    result = penalty(items, dt.date(2026, 4, 20))

    # January: due 10.02, 20.04 is day 69: 39 days × 1000 × 0.21 / 300 = 27.30
    # February: due 15.03 (not 10.03), 20.04 is day 36: 6 days × 500 × 0.21 / 300 = 2.10
    assert result == [D("27.30"), D("2.10")]


def test_a_payment_naming_a_period_settles_that_period_first() -> None:
    items = [january(), DebtItem(FEBRUARY, D("500"), FEBRUARY_DUE)]
    for_february = Payment(dt.date(2026, 3, 20), D("500"), FEBRUARY)

    result = penalty(items, dt.date(2026, 4, 20), (for_february,))

    # February paid 20.03 (day 5): nothing; January unpaid: 39 days × 0.70 = 27.30
    assert result == [D("27.30"), D("0.00")]


def test_a_payment_naming_no_period_settles_the_oldest_debt_first() -> None:
    items = [DebtItem(FEBRUARY, D("500"), FEBRUARY_DUE), january()]  # order given does not matter
    unnamed = Payment(dt.date(2026, 3, 20), D("500"))

    result = penalty(items, dt.date(2026, 4, 20), (unnamed,))

    # January: 500 paid 20.03 (day 38): 8 days × 500 × 0.21 / 300 = 2.80
    #          500 unpaid on 20.04 (day 69): 39 days × 500 × 0.21 / 300 = 13.65; 16.45
    # February: 500 unpaid (day 36): 6 days × 500 × 0.21 / 300 = 2.10
    assert result == [D("16.45"), D("2.10")]


def test_a_payment_larger_than_the_named_period_goes_on_to_the_oldest() -> None:
    items = [january(), DebtItem(FEBRUARY, D("500"), FEBRUARY_DUE)]
    named = Payment(dt.date(2026, 3, 20), D("800"), FEBRUARY)

    result = penalty(items, dt.date(2026, 4, 20), (named,))

    # February 500 paid 20.03 (day 5): 0; the other 300 to January on day 38:
    #   300 × 0.21 × 8 / 300 = 1.68; the unpaid 700: 700 × 0.21 × 39 / 300 = 19.11; 20.79
    assert result == [D("20.79"), D("0.00")]


def test_a_payment_ahead_settles_the_next_bill_before_it_is_due() -> None:
    items = [january(), DebtItem(FEBRUARY, D("500"), FEBRUARY_DUE)]
    ahead = Payment(dt.date(2026, 2, 5), D("1500"))

    assert penalty(items, dt.date(2026, 6, 30), (ahead,)) == [D("0.00"), D("0.00")]


def test_a_negative_bill_settles_debt_like_a_payment_on_its_due_date() -> None:
    # February's bill lowered the debt by 1000 (a recalculation), due 15.03 (day 33 of January)
    items = [january(), DebtItem(FEBRUARY, D("-1000"), FEBRUARY_DUE)]

    result = penalty(items, dt.date(2026, 6, 30))

    # January settled on 15.03, day 33: 3 days × 0.70 = 2.10
    assert result == [D("2.10")]


def test_the_rate_on_the_day_of_payment_applies_to_the_part_paid_and_the_calculation_date_to_the_rest() -> None:
    rates = RateBook(key_rates=[(dt.date(2025, 1, 1), D("21")), (dt.date(2026, 4, 1), D("15"))])
    paid = Payment(dt.date(2026, 3, 25), D("400"))  # day 43, at 21 %

    on_april_20 = penalty_compute(items=[january()], payments=(paid,), as_of=dt.date(2026, 4, 20), rates=rates)
    on_march_31 = penalty([january()], dt.date(2026, 3, 31), (paid,), rates)

    # paid 400: 13 days × 400 × 0.21 / 300 = 3.64
    # unpaid 600 on 20.04 (day 69) at the rate of 20.04, 15 %: 39 days × 600 × 0.15 / 300 = 11.70
    assert [i.penalty for i in on_april_20.items] == [D("15.34")]
    assert [(p.rate, p.days_first) for p in on_april_20.items[0].parts] == [(D("21"), 13), (D("15"), 39)]
    assert on_april_20.total == D("15.34")
    # on 31.03 (day 49) the rest is at 21 %: 19 days × 600 × 0.21 / 300 = 7.98; 3.64 + 7.98
    assert on_march_31 == [D("11.62")]


def test_the_rate_is_lowered_to_the_cap_while_the_cap_is_in_force() -> None:
    rates = RateBook(
        key_rates=[(dt.date(2025, 1, 1), D("21")), (dt.date(2027, 1, 1), D("12"))],
        caps=[(dt.date(2025, 1, 1), dt.date(2026, 12, 31), D("9.5"))],
    )

    # 20.04.2026, day 69: 39 days × 1000 × 0.095 / 300 = 12.35 (not 27.30 at 21 %)
    assert penalty([january()], dt.date(2026, 4, 20), rates=rates) == [D("12.35")]
    # paid 31.12.2026 (day 324), the cap's last day: 60 × 1000 × 0.095 / 300 = 19.00 plus
    # 234 days × 1000 × 0.095 / 130 = 171.0 → 190.00
    paid = Payment(dt.date(2026, 12, 31), D("1000"))
    assert penalty([january()], dt.date(2027, 2, 1), (paid,), rates) == [D("190.00")]
    # unpaid on 11.01.2027 (day 335): the cap has ended, the key rate 12 %:
    # 60 × 1000 × 0.12 / 300 = 24.00 plus 245 × 1000 × 0.12 / 130 = 226.153… → 250.15
    assert penalty([january()], dt.date(2027, 1, 11), rates=rates) == [D("250.15")]


def test_a_key_rate_below_the_cap_is_kept() -> None:
    rates = RateBook(
        key_rates=[(dt.date(2025, 1, 1), D("7.5"))], caps=[(dt.date(2025, 1, 1), dt.date(2026, 12, 31), D("9.5"))]
    )

    # 39 days × 1000 × 0.075 / 300 = 9.75
    assert penalty([january()], dt.date(2026, 4, 20), rates=rates) == [D("9.75")]


MORATORIUM_2020 = RateBook(
    key_rates=[(dt.date(2020, 1, 1), D("6"))], moratoria=[(dt.date(2020, 4, 6), dt.date(2020, 12, 31))]
)


def test_no_penalty_accrues_inside_the_moratorium_of_2020() -> None:
    february_2020 = DebtItem(Period(2020, 2), D("1000"), dt.date(2020, 3, 10))

    # day 31 is 10.04.2020, inside the moratorium: nothing
    assert penalty([february_2020], dt.date(2020, 4, 10), rates=MORATORIUM_2020) == [D("0.00")]
    # on 10.01.2021 (day 306): days 31–90 (10.04–08.06.2020) all inside; from day 91 (09.06.2020)
    # to 10.01.2021 are 216 days, 206 of them inside (to 31.12.2020): 10 days at 1/130
    # 10 × 1000 × 0.06 / 130 = 4.615… → 4.62
    assert penalty([february_2020], dt.date(2021, 1, 10), rates=MORATORIUM_2020) == [D("4.62")]


def test_days_before_the_moratorium_accrue_and_days_inside_still_count_in_the_numbering() -> None:
    january_2020 = DebtItem(Period(2020, 1), D("1000"), dt.date(2020, 2, 10))

    # on 30.04.2020 (day 80): days 31–80 are 11.03–30.04, 50 days, 25 of them from 06.04:
    # 25 × 1000 × 0.06 / 300 = 5.00
    assert penalty([january_2020], dt.date(2020, 4, 30), rates=MORATORIUM_2020) == [D("5.00")]


def test_each_item_is_rounded_once_at_the_end() -> None:
    # three payments of 100 on days 31, 32 and 33, each part 100 × 0.21 × n / 300:
    # 0.07 + 0.14 + 0.21 = 0.42 and the rest 700 unpaid on day 33: 3 × 0.49 = 1.47; 1.89
    payments = tuple(Payment(dt.date(2026, 3, 13) + dt.timedelta(days=i), D("100")) for i in range(3))
    result = penalty_compute(items=[january()], payments=payments, as_of=dt.date(2026, 3, 15), rates=RATES)

    assert [p.penalty for p in result.items[0].parts] == [D("0.07"), D("0.14"), D("0.21"), D("1.47")]
    assert result.total == D("1.89")

    # 1 ₽ for 1 day: 1 × 0.21 / 300 = 0.0007 a part; ten parts make 0.007 → 0.01, not 10 × 0.00
    small = tuple(Payment(dt.date(2026, 3, 13), D("1")) for _ in range(10))
    assert penalty([january("10")], dt.date(2026, 3, 13), small) == [D("0.01")]


def test_no_key_rate_known_is_an_error() -> None:
    with pytest.raises(LookupError):
        penalty([january()], dt.date(2026, 4, 20), rates=RateBook(key_rates=[(dt.date(2027, 1, 1), D("9"))]))
