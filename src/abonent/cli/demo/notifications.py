"""The demo subscriber's messages, made through the notifications and the reminders as the
day's jobs and an operator would make them: a phone with the app registered for push, the
reading window opening, the bill of the last billed month, and an operator's announcement
of planned works — so the notification centre and the outbox are not empty in the demo.

The occasions are keyed as the day's reminders key them, so the real job of the day tells
nobody twice; the announcement is made only when the supplier has none of that title; the
device is registered only when the subscriber has none. A second seed adds nothing.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from abonent.billing.enums import RunStatus
from abonent.billing.models import BillingRun
from abonent.core.money import format_rubles
from abonent.core.periods import Period
from abonent.core.selectors import payment_due_date, supplier_terms_on
from abonent.customers.models import PersonalAccount, address_short
from abonent.identity.models import User
from abonent.identity.selectors import recipient_of
from abonent.ledger.selectors import balances_get
from abonent.metering.selectors import window_of
from abonent.notifications.enums import Kind, PushPlatform
from abonent.notifications.models import Notification, PushDevice
from abonent.notifications.services import Occasion, notify_many, push_device_register
from abonent.reminders.models import Announcement
from abonent.reminders.services import announcement_create, announcement_deliver, announcement_send

#: The demo subscriber's phone, as the app registers it for push.
DEVICE_TOKEN = "demo-device-0001"
DEVICE_NAME = "Телефон Анны (демо)"
ANNOUNCEMENT_TITLE = "Плановые работы на газопроводе"
ANNOUNCEMENT_TEXT = (
    "В связи с плановым техническим обслуживанием газопровода возможны кратковременные перерывы "
    "в подаче газа с 9:00 до 17:00. Пожалуйста, не оставляйте включённые газовые приборы без присмотра. "
    "При запахе газа звоните 104."
)
#: Reminders are told at this local hour (the day's job starts at 10:00).
HOUR = 10


@dataclass
class NotificationsReport:
    notifications: int = 0  # told now
    devices: int = 0  # registered now


def _at(day: dt.date, hour: int, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=zone).astimezone(dt.UTC)


def _values(account: PersonalAccount) -> dict[str, str]:
    return {
        "account": account.number,
        "address": address_short(account.locality, account.street, account.house, account.apartment),
    }


def notifications_ensure(
    *, user: User, account: PersonalAccount, operator: User, today: dt.date
) -> NotificationsReport:
    """The demo subscriber's device and messages (what is missing of them)."""
    report = NotificationsReport()
    supplier = account.supplier
    zone = zoneinfo.ZoneInfo(supplier.time_zone)
    before = Notification.objects.filter(user=user).count()
    if not PushDevice.objects.filter(user=user).exists():
        push_device_register(
            user=user, platform=PushPlatform.FCM, token=DEVICE_TOKEN, name=DEVICE_NAME, now=_at(today, 9, zone)
        )
        report.devices = 1
    recipient = recipient_of(user)

    # The reading window of this month, or of the last one if this month's is still to open.
    period = Period.of(today)
    opens, closes = window_of(terms=supplier_terms_on(supplier=supplier, day=today), period=period)
    if opens > today:
        period = period.previous()
        opens, closes = window_of(terms=supplier_terms_on(supplier=supplier, day=period.first_day), period=period)
    values = {
        **_values(account),
        "period": period.label(),
        "opens": f"{opens:%d.%m.%Y}",
        "closes": f"{closes:%d.%m.%Y}",
    }
    occasion = Occasion(recipient=recipient, key=f"readings_open:{account.pk}:{period}", values=values,
                        account_id=account.pk)  # fmt: skip
    notify_many(kind=Kind.READINGS_OPEN, occasions=[occasion], supplier=supplier, now=_at(opens, HOUR, zone))

    # The bill of the last billed month, on the day of its run.
    billed = (
        BillingRun.objects.filter(supplier=supplier, status=RunStatus.DONE, finished_at__isnull=False)
        .order_by("-period")
        .first()
    )
    if billed is not None and billed.finished_at is not None:
        due = sum((amount for amount in balances_get(account=account).values() if amount > 0), Decimal("0"))
        values = {
            **_values(account),
            "period": billed.period.label(),
            "amount": format_rubles(due),
            "due_date": f"{payment_due_date(supplier=supplier, period=billed.period):%d.%m.%Y}",
        }
        told_on = billed.finished_at.astimezone(zone).date()
        occasion = Occasion(recipient=recipient, key=f"bill:{account.pk}:{billed.period}", values=values,
                            account_id=account.pk)  # fmt: skip
        notify_many(kind=Kind.BILL_READY, occasions=[occasion], supplier=supplier, now=_at(told_on, HOUR, zone))

    # An operator's announcement to the subscriber's locality, sent the day before.
    if not Announcement.objects.filter(supplier=supplier, title=ANNOUNCEMENT_TITLE).exists():
        yesterday = _at(today - dt.timedelta(days=1), 11, zone)
        announcement = announcement_create(
            supplier=supplier, title=ANNOUNCEMENT_TITLE, text=ANNOUNCEMENT_TEXT, actor=operator, now=yesterday,
            locality=account.locality,
        )  # fmt: skip
        with transaction.atomic():  # delivered here, at the moment of the story; the job then finds it done
            announcement_send(announcement_id=announcement.pk, actor=operator, now=yesterday, channel="cli")
            announcement_deliver(announcement_id=announcement.pk, now=yesterday)
    report.notifications = Notification.objects.filter(user=user).count() - before
    return report
