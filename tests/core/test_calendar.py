"""Working days of the Russian production calendar: holidays, the days off they are moved
to, the Saturdays made working, and counting terms in working days."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from abonent.core.calendar import is_working_day, working_day_add, working_days_between

D = dt.date


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # 2025
        (D(2025, 1, 1), False),  # New Year
        (D(2025, 1, 7), False),  # Christmas
        (D(2025, 1, 8), False),
        (D(2025, 1, 9), True),
        (D(2025, 3, 8), False),  # Women's Day on a Saturday, moved to 13.06
        (D(2025, 3, 10), True),
        (D(2025, 5, 2), False),  # moved from Saturday 04.01
        (D(2025, 5, 8), False),  # moved from Sunday 23.02
        (D(2025, 6, 13), False),  # moved from Saturday 08.03
        (D(2025, 11, 1), True),  # a working Saturday
        (D(2025, 11, 3), False),  # the day off moved from it
        (D(2025, 12, 31), False),  # moved from Sunday 05.01
        # 2026
        (D(2026, 1, 9), False),  # moved from Saturday 03.01
        (D(2026, 1, 12), True),
        (D(2026, 2, 23), False),
        (D(2026, 3, 9), False),  # Women's Day on a Sunday
        (D(2026, 5, 11), False),  # Victory Day on a Saturday
        (D(2026, 11, 4), False),
        (D(2026, 11, 5), True),
        (D(2026, 11, 21), False),  # an ordinary Saturday
        (D(2026, 11, 22), False),  # an ordinary Sunday
        (D(2026, 11, 23), True),
        (D(2026, 12, 31), False),  # moved from Sunday 04.01
        # 2027
        (D(2027, 1, 8), False),
        (D(2027, 1, 11), True),
        (D(2027, 2, 20), True),  # a working Saturday
        (D(2027, 2, 22), False),  # the day off moved from it
        (D(2027, 2, 23), False),
        (D(2027, 2, 24), True),
        (D(2027, 5, 3), False),
        (D(2027, 5, 10), False),
        (D(2027, 6, 14), False),
        (D(2027, 11, 5), False),  # moved from Saturday 02.01
        (D(2027, 12, 31), False),  # moved from Sunday 03.01
    ],
)
def test_is_working_day(day: dt.date, working: bool) -> None:
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "days", "end"),
    [
        (D(2026, 11, 23), 0, D(2026, 11, 23)),
        (D(2027, 1, 1), 0, D(2027, 1, 1)),  # 0 days: the start itself, a holiday or not
        (D(2026, 11, 23), 1, D(2026, 11, 24)),  # the start is not counted
        (D(2026, 11, 20), 1, D(2026, 11, 23)),  # Friday + 1: Monday
        (D(2026, 11, 21), 1, D(2026, 11, 23)),  # from a Saturday
        (D(2027, 1, 3), 1, D(2027, 1, 11)),  # from a holiday: the first working day after it
        (D(2026, 12, 30), 1, D(2027, 1, 11)),  # across the New Year
        (D(2026, 12, 29), 2, D(2027, 1, 11)),
        (D(2027, 2, 19), 1, D(2027, 2, 20)),  # onto the working Saturday
        (D(2027, 2, 19), 2, D(2027, 2, 24)),  # past 21–23.02
        (D(2026, 11, 23), 10, D(2026, 12, 7)),
        (D(2025, 10, 31), 1, D(2025, 11, 1)),
        (D(2025, 10, 31), 2, D(2025, 11, 5)),  # 02.11 Sunday, 03.11 moved, 04.11 holiday
    ],
)
def test_working_day_add(start: dt.date, days: int, end: dt.date) -> None:
    assert working_day_add(start, days) == end


def test_working_day_add_refuses_negative_days() -> None:
    with pytest.raises(ValueError, match="days must not be negative"):
        working_day_add(D(2026, 11, 23), -1)


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (D(2026, 11, 23), D(2026, 11, 23), 0),
        (D(2026, 11, 24), D(2026, 11, 23), 0),  # the end before the start
        (D(2026, 11, 20), D(2026, 11, 22), 0),  # Friday to Sunday
        (D(2026, 11, 20), D(2026, 11, 23), 1),
        (D(2026, 12, 30), D(2027, 1, 10), 0),
        (D(2026, 12, 30), D(2027, 1, 11), 1),
        (D(2027, 2, 19), D(2027, 2, 24), 2),
        (D(2026, 11, 25), D(2026, 12, 7), 8),
    ],
)
def test_working_days_between(start: dt.date, end: dt.date, days: int) -> None:
    assert working_days_between(start, end) == days


@given(
    start=st.dates(min_value=D(2025, 1, 1), max_value=D(2027, 11, 30)),
    days=st.integers(min_value=0, max_value=30),
)
def test_the_days_between_a_start_and_its_term_are_the_term(start: dt.date, days: int) -> None:
    end = working_day_add(start, days)

    assert working_days_between(start, end) == days
    assert days == 0 or is_working_day(end)
