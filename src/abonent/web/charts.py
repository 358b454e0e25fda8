"""The consumption chart of an account's page, drawn on the server as SVG: a pair of bars a
month (the month, and the same month a year before), as wide as the page (the horizontal
positions are percentages, so the text keeps its size on a phone and on a wide screen), with
three lines of the scale. Only geometry is worked out here; the numbers are billing's.

The numbers go into the SVG as strings with a dot: a Decimal would be localized by the
template («4,17»), which SVG cannot read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from abonent.billing.selectors import ChartMonth
from abonent.core.money import format_number

MONTHS_SHORT = (
    pgettext_lazy("month short", "янв"), pgettext_lazy("month short", "фев"), pgettext_lazy("month short", "мар"),
    pgettext_lazy("month short", "апр"), pgettext_lazy("month short", "май"), pgettext_lazy("month short", "июн"),
    pgettext_lazy("month short", "июл"), pgettext_lazy("month short", "авг"), pgettext_lazy("month short", "сен"),
    pgettext_lazy("month short", "окт"), pgettext_lazy("month short", "ноя"), pgettext_lazy("month short", "дек"),
)  # fmt: skip

TOP = 28  # px above the plot: the label of the top line
PLOT = 168  # px of the plot
BOTTOM = 44  # px below it: the month and the year
LABEL_EVERY = 3  # months between labels, counted back from the newest
_HUNDRED = Decimal(100)
_STEP = Decimal("0.01")
_NICE = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))


@dataclass(frozen=True)
class Bar:
    x: str  # percent of the width
    width: str  # percent
    y: str  # px
    height: str  # px
    css: str  # chart__bar--now or chart__bar--before
    title: str


@dataclass(frozen=True)
class Tick:
    y: str  # px: the line
    label_y: str  # px: its label, just above it
    label: str


@dataclass(frozen=True)
class MonthLabel:
    x: str  # percent
    anchor: str  # text-anchor
    month: str
    year: str  # under the first label and where the year changes, else empty


@dataclass(frozen=True)
class BarChart:
    height: int
    baseline: str  # px
    month_y: str  # px: the line of the months' names under the plot
    year_y: str  # px: the line of the years
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[MonthLabel]
    first: ChartMonth
    last: ChartMonth


def _text(value: Decimal) -> str:
    return f"{value.quantize(_STEP, rounding=ROUND_HALF_UP):f}"


def scale_top(largest: Decimal) -> Decimal:
    """The top of the scale: the smallest of 1, 2, 2.5, 5 times a power of ten that is at
    least ``largest`` (1 for nothing used)."""
    if largest <= 0:
        return Decimal(1)
    power = Decimal(1).scaleb(largest.adjusted())
    return next(n * power for n in _NICE if n * power >= largest)


def consumption_bars(months: Sequence[ChartMonth]) -> BarChart:
    """The geometry of the chart of ``months`` (oldest first, as billing gives them)."""
    values = [v for m in months for v in (m.volume, m.volume_year_before) if v is not None]
    top = scale_top(max(values, default=Decimal(0)))
    slot = _HUNDRED / len(months)
    base = Decimal(TOP + PLOT)

    def bar(index: int, offset: str, width: str, value: Decimal | None, css: str, title: str) -> Bar | None:
        if value is None or value <= 0:
            return None
        height = Decimal(PLOT) * value / top
        return Bar(
            x=_text(slot * index + slot * Decimal(offset)),
            width=_text(slot * Decimal(width)),
            y=_text(base - height),
            height=_text(height),
            css=css,
            title=title,
        )

    bars: list[Bar] = []
    labels: list[MonthLabel] = []
    shown_year = ""
    for index, month in enumerate(months):
        label = month.period.label()
        before = month.period - 12
        for made in (
            bar(index, "0.12", "0.36", month.volume_year_before, "chart__bar--before",
                _("%(month)s: %(volume)s м³") % {"month": before.label(), "volume": _number(month.volume_year_before)}),
            bar(index, "0.5", "0.38", month.volume, "chart__bar--now",
                _("%(month)s: %(volume)s м³") % {"month": label, "volume": _number(month.volume)}),
        ):  # fmt: skip
            if made is not None:
                bars.append(made)
        if (len(months) - 1 - index) % LABEL_EVERY == 0:
            # centred under its bars; the newest one reaches a little into the card's padding
            # (the SVG lets it: overflow visible), as an end-anchored one would run into the one before
            year = str(month.period.year)
            labels.append(
                MonthLabel(
                    x=_text(slot * index + slot / 2),
                    anchor="middle",
                    month=str(MONTHS_SHORT[month.period.month - 1]),
                    year="" if year == shown_year else year,
                )
            )
            shown_year = year
    # the zero line needs no label: the bars stand on it
    ticks = [
        Tick(
            y=_text(base - Decimal(PLOT) * share),
            label_y=_text(base - Decimal(PLOT) * share - 6),
            label=_("%(volume)s м³") % {"volume": format_number(top * share)} if share else "",
        )
        for share in (Decimal(0), Decimal("0.5"), Decimal(1))
    ]
    return BarChart(
        height=TOP + PLOT + BOTTOM,
        baseline=_text(base),
        month_y=_text(base + 18),
        year_y=_text(base + 36),
        bars=bars,
        ticks=ticks,
        labels=labels,
        first=months[0],
        last=months[-1],
    )


def _number(value: Decimal | None) -> str:
    return format_number(value) if value is not None else ""
