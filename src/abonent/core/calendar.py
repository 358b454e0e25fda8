"""Working days of the Russian production calendar (производственный календарь).

Public holidays, the days off they are moved to and the Saturdays made working by the
government's yearly decree come from the maintained ``holidays`` library (its Russian
calendar carries the transfers year by year); a newer release of it brings next year's
decree. A working day is a weekday that is not a holiday or a transferred day off, or a
weekend day the decree made working.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _year(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("RU", years=year)


def is_working_day(day: dt.date) -> bool:
    """Whether ``day`` is a working day in Russia."""
    calendar = _year(day.year)
    if day in calendar.weekend_workdays:
        return True
    return day.weekday() < 5 and day not in calendar


def working_day_add(start: dt.date, days: int) -> dt.date:
    """The ``days``-th working day after ``start`` (``start`` itself is not counted, as a
    term "within N working days of receipt" is counted in Russian law); ``days`` ≥ 0, and
    0 gives ``start``."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    while days:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` ≤ ``start``):
    how many of a term's days have passed from ``start`` to ``end``."""
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count
