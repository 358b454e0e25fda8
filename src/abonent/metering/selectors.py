"""Reads of meters and readings."""

from __future__ import annotations

import datetime as dt
import enum
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet
from django.utils.translation import gettext

from abonent.core.models import Supplier, SupplierTerms
from abonent.core.periods import Period
from abonent.core.selectors import supplier_local_date, supplier_terms_on
from abonent.customers.enums import AccountStatus
from abonent.customers.models import AccountLink
from abonent.customers.selectors import Horizon, horizon, warning_days
from abonent.metering.enums import MeterStatus
from abonent.metering.models import STANDING, Meter, Reading
from abonent.metering.services import MeterNotFound, id_valid, reading_period


@dataclass(frozen=True)
class MeterView:
    """A meter as its account page shows it: the last reading that stands and how near the
    end of its verification interval is (a removed meter has no warning)."""

    meter: Meter
    last_reading: Reading | None
    verification: Horizon
    days_left: int | None

    @property
    def accepts(self) -> bool:
        return meter_takes_readings(self.meter)

    @property
    def warning(self) -> str | None:
        """What the verification date means for billing, in the active language; None
        while it is far off."""
        due = f"{self.meter.verification_due_on:%d.%m.%Y}"
        if self.verification == Horizon.SOON:
            return gettext(
                "Срок поверки счётчика истекает %(due)s. После этой даты его показания не принимаются "
                "к расчёту и газ начисляется по нормативу потребления, обычно это дороже. "
                "Закажите поверку или замену счётчика заранее."
            ) % {"due": due}
        if self.verification == Horizon.PASSED:
            return gettext(
                "Срок поверки счётчика истёк %(due)s. Его показания не принимаются к расчёту: "
                "газ начисляется по нормативу потребления. Проведите поверку или замените счётчик "
                "и сообщите об этом поставщику."
            ) % {"due": due}
        return None


def meter_takes_readings(meter: Meter) -> bool:
    """A working meter of an account that is not closed (the service says why not, if not)."""
    return meter.status == MeterStatus.ACTIVE and meter.account.status != AccountStatus.CLOSED


def reading_last(*, meter: Meter) -> Reading | None:
    return meter.readings.filter(status__in=STANDING).order_by("-period", "-submitted_at", "-pk").first()


def meters_list(*, link: AccountLink, now: dt.datetime) -> list[MeterView]:
    """The meters of the user's linked account, working ones first."""
    account = link.account
    today = supplier_local_date(supplier=account.supplier, now=now)
    days, _ = warning_days(supplier=account.supplier, today=today)
    views = []
    for meter in account.meters.order_by("installed_on", "pk"):
        if meter.status == MeterStatus.REMOVED:
            state, left = Horizon.OK, None
        else:
            # verified through the date of its next verification, inclusive
            state, left = horizon(until=meter.verification_due_on, today=today, warning_days=days)
        views.append(MeterView(meter=meter, last_reading=reading_last(meter=meter), verification=state, days_left=left))
    views.sort(key=lambda v: v.meter.status == MeterStatus.REMOVED)
    return views


# --- The reading window ---------------------------------------------------------------


class WindowState(enum.StrEnum):
    BEFORE = "before"  # the window of the period has not opened yet
    OPEN = "open"
    AFTER = "after"  # this month's window has closed: readings count for the next month


@dataclass(frozen=True)
class ReadingWindow:
    """Where the supplier's reading window stands on a local day, and what a reading sent
    now counts for. Dates are the supplier's local days; the window takes readings from
    the start of ``opens_on`` to the end of ``closes_on``."""

    supplier: Supplier
    today: dt.date
    period: Period  # the period a reading sent now counts for
    opens_on: dt.date  # the window of ``period``
    closes_on: dt.date
    state: WindowState
    readings_allowed: bool

    @property
    def is_open(self) -> bool:
        return self.state == WindowState.OPEN

    @property
    def opens_at(self) -> dt.datetime:
        return dt.datetime.combine(self.opens_on, dt.time(0), tzinfo=zoneinfo.ZoneInfo(self.supplier.time_zone))

    @property
    def closes_at(self) -> dt.datetime:
        """The first moment after the window (exclusive)."""
        day = self.closes_on + dt.timedelta(days=1)
        return dt.datetime.combine(day, dt.time(0), tzinfo=zoneinfo.ZoneInfo(self.supplier.time_zone))

    @property
    def message(self) -> str:
        """The window in one or two sentences, in the active language."""
        if not self.readings_allowed:
            return gettext("Поставщик не принимает показания через личный кабинет: передайте их по телефону.")
        values = {
            "period": self.period.label(),
            "opens": f"{self.opens_on:%d.%m.%Y}",
            "closes": f"{self.closes_on:%d.%m.%Y}",
        }
        if self.state == WindowState.OPEN:
            if self.today == self.closes_on:
                return (
                    gettext(
                        "Показания за %(period)s принимаются с %(opens)s по %(closes)s включительно. "
                        "Сегодня последний день."
                    )
                    % values
                )
            return gettext("Показания за %(period)s принимаются с %(opens)s по %(closes)s включительно.") % values
        if self.state == WindowState.BEFORE:
            return (
                gettext(
                    "Приём показаний за %(period)s — с %(opens)s по %(closes)s. "
                    "Показания, переданные раньше, тоже будут учтены за %(period)s."
                )
                % values
            )
        return gettext(
            "Приём показаний за %(previous)s закончился. Показания, переданные сейчас, будут учтены "
            "за %(period)s; приём за %(period)s — с %(opens)s по %(closes)s."
        ) % {**values, "previous": self.period.previous().label()}


def window_of(*, terms: SupplierTerms, period: Period) -> tuple[dt.date, dt.date]:
    """The first and the last day of the window of ``period``."""
    return period.day(terms.reading_window_start_day), period.day(terms.reading_window_end_day)


def reading_window(*, supplier: Supplier, now: dt.datetime) -> ReadingWindow:
    """The supplier's window as it stands at ``now``. Raises TermsNotSet."""
    today = supplier_local_date(supplier=supplier, now=now)
    terms = supplier_terms_on(supplier=supplier, day=today)
    period = reading_period(terms=terms, day=today)
    if period != Period.of(today):
        terms_then = supplier_terms_on(supplier=supplier, day=period.first_day)
        opens, closes = window_of(terms=terms_then, period=period)
        state = WindowState.AFTER
    else:
        opens, closes = window_of(terms=terms, period=period)
        state = WindowState.OPEN if today >= opens else WindowState.BEFORE
    return ReadingWindow(
        supplier=supplier,
        today=today,
        period=period,
        opens_on=opens,
        closes_on=closes,
        state=state,
        readings_allowed=terms.readings_allowed,
    )


# --- The form of readings -------------------------------------------------------------


@dataclass(frozen=True)
class MeterEntry:
    """A meter as the form of readings shows it: what the new reading's consumption is
    measured from, the reading already sent for the period (a new one corrects it), and
    why the meter takes no readings, if it does not."""

    meter: Meter
    base_value: Decimal  # the reading before the period, or the value at installation
    previous: Reading | None
    current: Reading | None
    verification_passed: bool

    @property
    def accepts(self) -> bool:
        return meter_takes_readings(self.meter)

    @property
    def step(self) -> str:
        """The smallest step of the meter's value, for the input's ``step`` attribute."""
        return "1" if self.meter.decimals == 0 else "0." + "0" * (self.meter.decimals - 1) + "1"

    @property
    def refusal(self) -> str | None:
        if self.meter.account.status == AccountStatus.CLOSED:
            return gettext("Лицевой счёт закрыт: показания по нему не принимаются.")
        if self.meter.status == MeterStatus.REMOVED:
            return gettext("Счётчик снят: показания по нему не принимаются.")
        if self.meter.status == MeterStatus.FAULTY:
            return gettext("Счётчик неисправен: показания по нему не принимаются. Обратитесь к поставщику.")
        return None


@dataclass(frozen=True)
class ReadingForm:
    window: ReadingWindow
    entries: list[MeterEntry]

    @property
    def open_entries(self) -> list[MeterEntry]:
        return [e for e in self.entries if e.accepts]


def reading_form(*, link: AccountLink, now: dt.datetime) -> ReadingForm:
    """The meters of the user's linked account with what the form needs, working ones
    first. Raises TermsNotSet."""
    account = link.account
    window = reading_window(supplier=account.supplier, now=now)
    entries = []
    for meter in account.meters.order_by("installed_on", "pk"):
        readings = list(meter.readings.filter(status__in=STANDING, period__lte=window.period).order_by("-period")[:2])
        current = readings.pop(0) if readings and readings[0].period == window.period else None
        previous = readings[0] if readings else None
        entries.append(
            MeterEntry(
                meter=meter,
                base_value=previous.value if previous else meter.initial_value,
                previous=previous,
                current=current,
                verification_passed=window.today > meter.verification_due_on,
            )
        )
    entries.sort(key=lambda e: not e.accepts)
    return ReadingForm(window=window, entries=entries)


# --- History --------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    """A reading in its meter's history, with the consumption since the reading that stands
    for the period before it (the first one, since the value at installation)."""

    reading: Reading
    consumption: Decimal

    @property
    def standing(self) -> bool:
        return self.reading.status in STANDING


@dataclass(frozen=True)
class MeterHistory:
    meter: Meter
    rows: list[HistoryRow]  # newest first


def meter_of_link(*, link: AccountLink, meter_id: int) -> Meter:
    """A meter of the user's linked account. Raises MeterNotFound."""
    meter = Meter.objects.filter(account_id=link.account_id, pk=meter_id).first() if id_valid(meter_id) else None
    if meter is None:
        raise MeterNotFound()
    return meter


def readings_history(*, link: AccountLink, meter_id: int) -> MeterHistory:
    """Every reading of a meter of the user's linked account over its whole life, newest
    first, corrected and rejected ones too. Raises MeterNotFound."""
    meter = meter_of_link(link=link, meter_id=meter_id)
    readings = list(meter.readings.order_by("period", "submitted_at", "pk"))
    by_id = {reading.pk: reading for reading in readings}
    for reading in readings:
        if reading.replaces_id is not None:
            reading.replaces = by_id.get(reading.replaces_id)  # the same meter's: no second query
    capacity = Decimal(10) ** meter.digits
    base_by_period: dict[Period, Decimal] = {}
    last_standing = meter.initial_value
    rows = []
    current_period: Period | None = None
    for reading in readings:
        if reading.period != current_period:
            current_period = reading.period
            # the base of a period is the value that stands for the latest period before it
            base_by_period[current_period] = last_standing
        consumption = reading.value - base_by_period[current_period]
        if consumption < 0:
            consumption += capacity
        rows.append(HistoryRow(reading=reading, consumption=consumption))
        if reading.status in STANDING:
            last_standing = reading.value
    rows.reverse()
    return MeterHistory(meter=meter, rows=rows)


def readings_to_review() -> QuerySet[Reading]:
    """Readings that stand and were flagged as looking wrong, with no operator's decision
    yet, oldest first."""
    return (
        Reading.objects.filter(status__in=STANDING, reviewed_at=None)
        .exclude(review="")
        .select_related("meter", "meter__account", "meter__account__supplier")
        .order_by("submitted_at", "pk")
    )
