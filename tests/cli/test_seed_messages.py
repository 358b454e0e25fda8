"""``abonent seed`` and messages: the demo subscriber's notification centre is not empty (the
reading window, the last bill, an operator's announcement, the answers to their appeals),
their phone is registered for push and the pushes land in the outbox, one supplier lets
subscribers give up paper bills and the other does not, a senior operator can log in; a
second seed adds nothing."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from abonent.cli.demo.notifications import ANNOUNCEMENT_TITLE, DEVICE_TOKEN
from abonent.cli.demo.seeding import SUBSCRIBER
from abonent.core.models import Supplier
from abonent.core.selectors import supplier_terms_on
from abonent.customers.models import AccountLink
from abonent.identity.models import User
from abonent.identity.roles import SENIOR_OPERATOR
from abonent.notifications.enums import Channel, DeliveryStatus, Kind, PushPlatform
from abonent.notifications.models import Delivery, Notification, OutboxMessage, PushDevice
from abonent.reminders.enums import AnnouncementStatus
from abonent.reminders.models import Announcement

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = "2026-11-22"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def seed(**options: Any) -> str:
    out = StringIO()
    call_command(
        "seed", **{"today": TODAY, "no_progress": True, "accounts": 6, **options}, stdout=out, stderr=StringIO()
    )
    return out.getvalue()


def test_the_demo_subscriber_has_messages_a_phone_for_push_and_the_pushes_in_the_outbox() -> None:
    out = seed()

    user = User.objects.get(phone=SUBSCRIBER.phone)
    account = AccountLink.objects.get(user=user).account
    reminders = {
        n.kind: n for n in Notification.objects.filter(user=user, kind__in=[Kind.READINGS_OPEN, Kind.BILL_READY])
    }
    opened = reminders[Kind.READINGS_OPEN]
    assert (opened.occasion, opened.title, opened.account_id) == (
        f"readings_open:{account.pk}:2026-11", "Приём показаний за ноябрь 2026 открыт", account.pk,
    )  # fmt: skip
    assert opened.created_at == dt.datetime(2026, 11, 15, 7, 0, tzinfo=dt.UTC)  # 10:00 in Moscow
    bill = reminders[Kind.BILL_READY]
    assert (bill.occasion, bill.title) == (f"bill:{account.pk}:2026-10", "Квитанция за октябрь 2026")
    assert bill.created_at == dt.datetime(2026, 11, 3, 7, 0, tzinfo=dt.UTC)  # the day October was billed
    assert "до 15.11.2026" in bill.body

    announcement = Announcement.objects.get()
    assert (announcement.title, announcement.status, announcement.created_by.username) == (
        ANNOUNCEMENT_TITLE, AnnouncementStatus.SENT, "operator",
    )  # fmt: skip
    assert (announcement.supplier.code, announcement.locality) == ("stolgaz", account.locality)
    assert announcement.summary["notified"] == 1
    told = Notification.objects.get(user=user, kind=Kind.ANNOUNCEMENT)
    assert (told.title, told.occasion) == (ANNOUNCEMENT_TITLE, f"announcement:{announcement.pk}")

    device = PushDevice.objects.get(user=user)
    assert (device.platform, device.token) == (PushPlatform.FCM, DEVICE_TOKEN)
    pushes = Delivery.objects.filter(channel=Channel.PUSH, recipient=DEVICE_TOKEN)
    assert sorted(pushes.values_list("kind", "status")) == [
        (Kind.ANNOUNCEMENT, DeliveryStatus.SENT),
        (Kind.BILL_READY, DeliveryStatus.SENT),
        (Kind.READINGS_OPEN, DeliveryStatus.SENT),
    ]
    assert OutboxMessage.objects.filter(channel=Channel.PUSH, recipient=DEVICE_TOKEN).count() == 3

    total = Notification.objects.filter(user=user).count()
    assert total == 3 + Notification.objects.filter(user=user, kind=Kind.APPEAL_UPDATE).count()
    assert f"  в «Уведомлениях» {total} сообщений; push-уведомления на его демо-телефон — в исходящих" in out
    assert f"{total} уведомлений" in out.split("Создано: ")[1].splitlines()[0]
    assert "1 устройство для push" in out


def test_a_second_seed_tells_nobody_again() -> None:
    seed()
    counts = (Notification.objects.count(), Delivery.objects.count(), PushDevice.objects.count())

    out = seed()

    assert out.startswith("Демо-данные уже на месте, ничего не добавлено")
    assert (Notification.objects.count(), Delivery.objects.count(), PushDevice.objects.count()) == counts
    assert Announcement.objects.count() == 1


def test_one_supplier_lets_subscribers_give_up_paper_bills_and_the_other_does_not() -> None:
    seed()
    day = dt.date(2026, 11, 22)

    assert supplier_terms_on(supplier=Supplier.objects.get(code="stolgaz"), day=day).paperless_allowed is True
    assert supplier_terms_on(supplier=Supplier.objects.get(code="yantargaz"), day=day).paperless_allowed is False


def test_a_senior_operator_can_log_in_to_the_back_office() -> None:
    out = seed()

    senior = User.objects.get(username="senior")
    assert (senior.is_staff, senior.is_superuser) == (True, False)
    assert senior.check_password("senior-demo-2026")
    assert list(senior.groups.values_list("name", flat=True)) == [SENIOR_OPERATOR]
    assert "Старший оператор:  логин senior    пароль senior-demo-2026" in out


def test_without_billing_there_is_no_bill_to_tell_of() -> None:
    seed(no_billing=True)

    user = User.objects.get(phone=SUBSCRIBER.phone)
    assert sorted(
        Notification.objects.filter(user=user).exclude(kind=Kind.APPEAL_UPDATE).values_list("kind", flat=True)
    ) == [
        Kind.ANNOUNCEMENT,
        Kind.READINGS_OPEN,
    ]
