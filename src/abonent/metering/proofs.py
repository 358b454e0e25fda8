"""The current value of a meter as a proof of owning a personal account.

Whoever stands by the meter can read it; whoever does not cannot guess it. The value must
not be below the account's last reading of that meter (unless the supplier allows a
rollover) and not above it by more than the meter could plausibly have counted since: twice
its average monthly consumption over the readings on record for every month since the last
reading, and at least ``MIN_ALLOWANCE`` m³ a month. A meter with no reading on record proves
nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from abonent.core.periods import Period
from abonent.core.selectors import TermsNotSet, supplier_local_date, supplier_terms_on
from abonent.customers.models import PersonalAccount
from abonent.metering.enums import MeterStatus
from abonent.metering.selectors import STANDING

MIN_ALLOWANCE = Decimal("30")  # m³ a month
HISTORY_READINGS = 13


def meter_value_matches(account: PersonalAccount, value: str | Decimal, now: dt.datetime) -> bool:
    if not isinstance(value, Decimal):
        return False
    today = supplier_local_date(supplier=account.supplier, now=now)
    try:
        rollover = supplier_terms_on(supplier=account.supplier, day=today).rollover_allowed
    except TermsNotSet:
        rollover = False
    current = Period.of(today)
    for meter in account.meters.exclude(status=MeterStatus.REMOVED):
        capacity = Decimal(10) ** meter.digits
        if value >= capacity:
            continue
        history = list(
            meter.readings.filter(status__in=STANDING)
            .order_by("-period", "-submitted_at", "-pk")
            .values_list("period", "value")[:HISTORY_READINGS]
        )
        if not history:
            continue
        last_period, last_value = history[0]
        delta = value - last_value
        if delta < 0 and rollover:
            delta += capacity
        if delta < 0:
            continue
        oldest_period, oldest_value = history[-1]
        span = last_period.months_since(oldest_period)
        used = last_value - oldest_value
        average = used / span if span > 0 and used > 0 else Decimal(0)
        months = max(current.months_since(last_period), 0) + 1
        if delta <= max(average * 2, MIN_ALLOWANCE) * months:
            return True
    return False
