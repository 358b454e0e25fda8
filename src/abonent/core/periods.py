"""The billing period: a year and a month, with arithmetic across year ends.

A period is half-open in time: it starts on the 1st of its month and ends at the start of
the next month. It is stored as an integer ``YYYYMM`` (202611 for November 2026).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from functools import total_ordering
from typing import Self

from django.utils.translation import pgettext_lazy

_PERIOD_RE = re.compile(r"^\s*(\d{4})-(\d{2})\s*$")
_PERIOD_RU_RE = re.compile(r"^\s*(\d{2})\.(\d{4})\s*$")

MONTHS_NOMINATIVE = (
    pgettext_lazy("month", "январь"), pgettext_lazy("month", "февраль"), pgettext_lazy("month", "март"),
    pgettext_lazy("month", "апрель"), pgettext_lazy("month", "май"), pgettext_lazy("month", "июнь"),
    pgettext_lazy("month", "июль"), pgettext_lazy("month", "август"), pgettext_lazy("month", "сентябрь"),
    pgettext_lazy("month", "октябрь"), pgettext_lazy("month", "ноябрь"), pgettext_lazy("month", "декабрь"),
)  # fmt: skip


class PeriodFormatError(ValueError):
    """Text or a number that is not a period."""


@total_ordering
@dataclass(frozen=True, slots=True)
class Period:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise PeriodFormatError(f"month {self.month} is not between 1 and 12")
        if not 1900 <= self.year <= 9999:
            raise PeriodFormatError(f"year {self.year} is out of range 1900–9999")

    # Factories
    @classmethod
    def of(cls, day: dt.date) -> Self:
        return cls(day.year, day.month)

    @classmethod
    def parse(cls, text: str) -> Self:
        """From ``2026-11`` (ISO) or ``11.2026`` (the Russian way)."""
        if m := _PERIOD_RE.match(text):
            return cls(int(m[1]), int(m[2]))
        if m := _PERIOD_RU_RE.match(text):
            return cls(int(m[2]), int(m[1]))
        raise PeriodFormatError(f"{text!r}: a period is written as YYYY-MM (e.g. 2026-11) or MM.YYYY")

    @classmethod
    def from_int(cls, value: int) -> Self:
        if not isinstance(value, int) or isinstance(value, bool):
            raise PeriodFormatError(f"{value!r} is not a YYYYMM number")
        return cls(value // 100, value % 100)

    # Arithmetic
    def _index(self) -> int:
        return self.year * 12 + self.month - 1

    @classmethod
    def _from_index(cls, index: int) -> Self:
        return cls(index // 12, index % 12 + 1)

    def __add__(self, months: int) -> Self:
        if not isinstance(months, int):
            return NotImplemented
        return self._from_index(self._index() + months)

    def __sub__(self, months: int) -> Self:
        if not isinstance(months, int):
            return NotImplemented
        return self._from_index(self._index() - months)

    def months_since(self, other: Period) -> int:
        return self._index() - other._index()

    def next(self) -> Self:
        return self + 1

    def previous(self) -> Self:
        return self - 1

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._index() < other._index()

    # Views
    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.year, self.month, self.days)

    @property
    def end(self) -> dt.date:
        """The first day after the period (the exclusive upper bound)."""
        return self.next().first_day

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    def day(self, number: int) -> dt.date:
        """Day ``number`` of the month, or the last day where the month is shorter."""
        return dt.date(self.year, self.month, min(number, self.days))

    def contains(self, day: dt.date) -> bool:
        return self.first_day <= day < self.end

    def to_int(self) -> int:
        return self.year * 100 + self.month

    def label(self) -> str:
        """«ноябрь 2026», in the active language."""
        return f"{MONTHS_NOMINATIVE[self.month - 1]} {self.year}"

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"
