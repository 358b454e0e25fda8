import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from abonent.core.periods import Period, PeriodFormatError

periods = st.builds(Period, st.integers(1990, 2100), st.integers(1, 12))


class TestArithmetic:
    def test_next_crosses_the_year_end(self) -> None:
        assert Period(2026, 12).next() == Period(2027, 1)

    def test_previous_crosses_the_year_start(self) -> None:
        assert Period(2026, 1).previous() == Period(2025, 12)

    @pytest.mark.parametrize(
        ("start", "months", "expected"),
        [
            (Period(2026, 11), 2, Period(2027, 1)),
            (Period(2026, 11), 14, Period(2028, 1)),
            (Period(2026, 3), -3, Period(2025, 12)),
            (Period(2026, 3), -27, Period(2023, 12)),
            (Period(2026, 3), 0, Period(2026, 3)),
        ],
    )
    def test_adding_months(self, start: Period, months: int, expected: Period) -> None:
        assert start + months == expected
        assert expected - months == start

    def test_months_since(self) -> None:
        assert Period(2027, 2).months_since(Period(2025, 11)) == 15
        assert Period(2025, 11).months_since(Period(2027, 2)) == -15

    @given(periods, st.integers(-600, 600))
    def test_adding_then_counting_gives_the_same_months(self, period: Period, months: int) -> None:
        assert (period + months).months_since(period) == months

    def test_ordering(self) -> None:
        assert sorted([Period(2027, 1), Period(2026, 12), Period(2026, 2)]) == [
            Period(2026, 2),
            Period(2026, 12),
            Period(2027, 1),
        ]


class TestDays:
    def test_half_open_bounds(self) -> None:
        period = Period(2026, 12)
        assert period.first_day == dt.date(2026, 12, 1)
        assert period.last_day == dt.date(2026, 12, 31)
        assert period.end == dt.date(2027, 1, 1)
        assert period.contains(dt.date(2026, 12, 31))
        assert not period.contains(dt.date(2027, 1, 1))

    def test_february_of_a_leap_year(self) -> None:
        assert Period(2028, 2).days == 29
        assert Period(2026, 2).days == 28

    def test_day_is_clamped_to_the_month(self) -> None:
        assert Period(2026, 2).day(30) == dt.date(2026, 2, 28)
        assert Period(2026, 3).day(15) == dt.date(2026, 3, 15)

    def test_of_a_date(self) -> None:
        assert Period.of(dt.date(2026, 11, 22)) == Period(2026, 11)


class TestParsing:
    @pytest.mark.parametrize(("text", "expected"), [("2026-11", Period(2026, 11)), ("01.2027", Period(2027, 1))])
    def test_parse(self, text: str, expected: Period) -> None:
        assert Period.parse(text) == expected

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("2026-13", "month 13 is not between 1 and 12"),
            ("2026-00", "month 0 is not between 1 and 12"),
            ("2026/11", "'2026/11': a period is written as YYYY-MM (e.g. 2026-11) or MM.YYYY"),
            ("26-11", "'26-11': a period is written as YYYY-MM (e.g. 2026-11) or MM.YYYY"),
            ("", "'': a period is written as YYYY-MM (e.g. 2026-11) or MM.YYYY"),
        ],
    )
    def test_parse_rejects(self, text: str, message: str) -> None:
        with pytest.raises(PeriodFormatError) as exc:
            Period.parse(text)
        assert str(exc.value) == message

    def test_int_round_trip(self) -> None:
        assert Period(2026, 11).to_int() == 202611
        assert Period.from_int(202611) == Period(2026, 11)

    def test_from_int_rejects_bad_month(self) -> None:
        with pytest.raises(PeriodFormatError):
            Period.from_int(202613)

    def test_str_and_label(self) -> None:
        assert str(Period(2026, 3)) == "2026-03"
        assert Period(2026, 3).label() == "март 2026"
