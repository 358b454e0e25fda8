"""Reads of meters and readings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext

from abonent.core.selectors import supplier_local_date
from abonent.customers.models import AccountLink
from abonent.customers.selectors import Horizon, horizon, warning_days
from abonent.metering.enums import MeterStatus, ReadingStatus
from abonent.metering.models import Meter, Reading

# Readings that stand (a cancelled one does not)
STANDING = (ReadingStatus.ACCEPTED, ReadingStatus.NOT_FOR_BILLING)


@dataclass(frozen=True)
class MeterView:
    """A meter as its account page shows it: the last reading that stands and how near the
    end of its verification interval is (a removed meter has no warning)."""

    meter: Meter
    last_reading: Reading | None
    verification: Horizon
    days_left: int | None

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
