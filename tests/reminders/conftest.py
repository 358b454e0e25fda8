"""Subscribers of the reminder tests: a user linked to an active account with a working
meter, their contacts confirmed, a phone with the app where a test asks for one; the
moment of a run given in the supplier's local time; what was told to whom, read back."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from pytest_django.fixtures import Settings

from abonent.core import clock
from abonent.core.models import LinkProof, Supplier
from abonent.core.periods import Period
from abonent.core.services import supplier_create
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.identity.models import User
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.services import NewEntry, entries_post
from abonent.metering.models import Meter
from abonent.notifications.enums import PushPlatform
from abonent.notifications.models import Delivery, Notification
from abonent.notifications.services import push_device_register
from tests.factories import account_make, meter_make
from tests.web.identity import user_make
from tests.web.suppliers import SUPPLIER_KALININGRAD

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")
KALININGRAD = zoneinfo.ZoneInfo("Europe/Kaliningrad")
LINKED_AT = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)


def local(day: dt.date, hour: int, minute: int = 0, *, zone: zoneinfo.ZoneInfo = MOSCOW) -> dt.datetime:
    """The moment that is ``hour:minute`` of ``day`` at the supplier's place, in UTC."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone).astimezone(dt.UTC)


@pytest.fixture(autouse=True)
def _portal(settings: Settings) -> None:
    """The portal's address the messages give."""
    settings.PORTAL_URL = "https://lk.gaz-msk.example/"


@pytest.fixture
def kaliningrad(db: None) -> Supplier:
    return supplier_create(**SUPPLIER_KALININGRAD)


@pytest.fixture
def held_clock(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The clock the jobs read, standing at the moment a test sets (``held_clock.at``)."""

    class Held:
        at = dt.datetime(2026, 11, 15, 8, 0, tzinfo=dt.UTC)

        def __call__(self) -> dt.datetime:
            return self.at

    held = Held()
    monkeypatch.setattr(clock, "now", held)
    return held


@dataclass
class Subscriber:
    user: User
    account: PersonalAccount
    meter: Meter | None

    @property
    def number(self) -> str:
        return self.account.number


def subscriber_make(
    supplier: Supplier,
    n: int,
    *,
    email: bool = True,
    phone: bool = True,
    device: bool = False,
    meter: bool = True,
    language: str = "ru",
    user: User | None = None,
    **account_fields: Any,
) -> Subscriber:
    """Subscriber ``n`` of ``supplier``: an active user (e-mail user<n>@example.org and phone
    +7916000<n> confirmed, as asked) linked to account 7700000000<n> (3900… in Kaliningrad)
    with a working meter; ``user`` links another account to a user made before."""
    prefix = "39" if supplier.time_zone == "Europe/Kaliningrad" else "77"
    account = account_make(supplier=supplier, number=f"{prefix}{n:010d}", **account_fields)
    if user is None:
        if phone or email:
            user = user_make(
                phone=f"+7916{n:07d}" if phone else None,
                email=f"user{n}@example.org" if email else None,
                language=language,
            )
        else:
            user = User.objects.create(username=f"u-{n}", is_active=True, language=language)
        if device:
            push_device_register(user=user, platform=PushPlatform.FCM, token=f"fcm-token-{n}", now=LINKED_AT)
    link_make(user, account)
    return Subscriber(user=user, account=account, meter=meter_make(account=account) if meter else None)


def link_make(user: User, account: PersonalAccount) -> AccountLink:
    return AccountLink.objects.create(
        user=user, account=account, proof=LinkProof.PIN, channel="web", linked_at=LINKED_AT
    )


def charge_post(account: PersonalAccount, period: Period, amount: str) -> None:
    """The charge for ``period`` on the account's ledger (its bill's amount)."""
    entries_post(
        entries=[
            NewEntry(
                account_id=account.pk,
                service=Service.GAS,
                kind=EntryKind.CHARGE,
                period=period,
                billed_in=period,
                amount=Decimal(amount),
                posted_on=period.last_day,
                source_key=f"test-charge:{account.pk}:{period}",
            )
        ],
        now=dt.datetime.combine(period.last_day, dt.time(23), tzinfo=dt.UTC),
    )


def payment_post(account: PersonalAccount, period: Period, amount: str, on: dt.date) -> None:
    entries_post(
        entries=[
            NewEntry(
                account_id=account.pk,
                service=Service.GAS,
                kind=EntryKind.PAYMENT,
                period=period,
                billed_in=Period.of(on),
                amount=-Decimal(amount),
                posted_on=on,
                source_key=f"test-payment:{account.pk}:{period}:{on}",
                pays_period=period,
            )
        ],
        now=dt.datetime.combine(on, dt.time(12), tzinfo=dt.UTC),
    )


def told() -> list[tuple[str, str, str]]:
    """What was told to whom: (user's login, kind, occasion), in the order told."""
    return [
        (username, kind, occasion)
        for username, kind, occasion in Notification.objects.order_by("pk").values_list(
            "user__username", "kind", "occasion"
        )
    ]


def occasions() -> set[tuple[str, str]]:
    """(kind, occasion) of everything told."""
    return set(Notification.objects.values_list("kind", "occasion"))


def sent() -> list[tuple[str, str, str, dt.datetime | None]]:
    """The deliveries: (channel, kind, recipient, next attempt), e-mail before push before SMS
    for each notification, in the order told."""
    order = {"email": 0, "push": 1, "sms": 2}
    rows = Delivery.objects.values_list("notification_id", "channel", "kind", "recipient", "next_attempt_at")
    return [row[1:] for row in sorted(rows, key=lambda r: (r[0] or 0, order[r[1]], r[3]))]
