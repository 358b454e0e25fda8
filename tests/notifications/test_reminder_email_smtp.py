"""Reminders and paperless bills by e-mail over real SMTP (aiosmtpd on a local port): the
message as the subscriber's mail server receives it."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from pytest_django.fixtures import Settings

from abonent.core import clock
from abonent.core.models import Supplier
from abonent.core.periods import Period
from abonent.customers.services import paper_bill_set
from abonent.documents.models import Bill
from abonent.documents.services import bills_email_paperless
from abonent.notifications.enums import Channel, DeliveryStatus, Kind, Provider
from abonent.notifications.models import Delivery
from abonent.reminders.services import reminders_run
from tests.notifications.conftest import SmtpServer
from tests.reminders.conftest import local, subscriber_make

pytestmark = pytest.mark.django_db

Capture = Callable[..., AbstractContextManager[Any]]
LAST_DAY = dt.date(2026, 11, 25)
ADDRESS = "г. Подольск, ул. Садовая, д. 12, кв. 34"


@pytest.fixture(autouse=True)
def _portal(settings: Settings) -> None:
    settings.PORTAL_URL = "https://lk.gaz-msk.example/"


def test_the_last_day_of_the_window_by_e_mail(
    supplier: Supplier,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    person = subscriber_make(supplier, 1)
    now = local(LAST_DAY, 10, 5)
    monkeypatch.setattr(clock, "now", lambda: now)

    with django_capture_on_commit_callbacks(execute=True):
        reminders_run(supplier=supplier, now=now)

    [envelope] = smtp_server.envelopes
    assert (envelope.mail_from, envelope.rcpt_tos) == ("noreply@localhost", ["user1@example.org"])
    [message] = smtp_server.messages
    assert message["From"] == "abonent <noreply@localhost>"
    assert message["To"] == "user1@example.org"
    assert message["Subject"].lstrip() == "Сегодня последний день приёма показаний"
    assert (message.get_content_type(), message.get_content_charset()) == ("text/plain", "utf-8")
    assert message.get_content() == (
        f"Здравствуйте!\n\nПо лицевому счёту 770000000001 ({ADDRESS}) ещё нет показаний за ноябрь 2026. "
        "Сегодня, 25.11.2026, последний день приёма. Показания, переданные позже, будут учтены в следующем "
        "месяце, а за ноябрь 2026 расход начислят по среднему или по нормативу.\n\n"
        "Передать показания: https://lk.gaz-msk.example/\n\n"
        "Газпром межрегионгаз Москва, горячая линия 8 800 100-00-01\n"
    )
    delivery = Delivery.objects.get()
    assert (
        delivery.channel,
        delivery.kind,
        delivery.status,
        delivery.provider,
        delivery.provider_message_id,
        delivery.sent_at,
        delivery.user_id,
        delivery.supplier_id,
        delivery.body_purged,
    ) == (
        Channel.EMAIL,
        Kind.READINGS_LAST_DAY,
        DeliveryStatus.SENT,
        Provider.SMTP,
        message["Message-ID"],
        now,
        person.user.pk,
        supplier.pk,
        True,
    )


def test_a_bill_instead_of_the_paper_one_arrives_with_its_pdf(
    supplier: Supplier,
    smtp_server: SmtpServer,
    settings: Settings,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    person = subscriber_make(supplier, 1, meter=False)
    paper_bill_set(
        user=person.user, account_id=person.account.pk, paper=False, channel="web", ip=None, now=local(LAST_DAY, 9)
    )
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
    stored = default_storage.save(f"bills/{person.account.pk}/2026-10/770000000001.pdf", ContentFile(pdf))
    Bill.objects.create(
        account=person.account,
        period=Period(2026, 10),
        amount_due=Decimal("1234.56"),
        due_on=dt.date(2026, 11, 15),
        fingerprint="0" * 64,
        file=stored,
        sha256=hashlib.sha256(pdf).hexdigest(),
        size=len(pdf),
        rendered_at=local(dt.date(2026, 11, 3), 4),
    )
    now = local(dt.date(2026, 11, 3), 5)  # at night: an e-mail does not wait for the morning
    monkeypatch.setattr(clock, "now", lambda: now)

    with django_capture_on_commit_callbacks(execute=True):
        summary = bills_email_paperless(supplier=supplier, period=Period(2026, 10), now=now)

    assert (summary.notified, summary.deliveries) == (1, {Channel.EMAIL: 1})
    [message] = smtp_server.messages
    assert message["To"] == "user1@example.org"
    assert message["Subject"].lstrip() == "Квитанция за газ за октябрь 2026, лицевой счёт 770000000001"
    assert message.get_content_type() == "multipart/mixed"
    text, attached = message.iter_parts()
    assert text.get_content() == (
        f"Здравствуйте!\n\nКвитанция за октябрь 2026 по лицевому счёту 770000000001 ({ADDRESS}) — во вложении: "
        "вы получаете её на e-mail вместо бумажной.\nК оплате: 1\u202f234,56\u00a0₽ до 15.11.2026.\n\n"
        "Газпром межрегионгаз Москва, горячая линия 8 800 100-00-01"
    )
    assert (attached.get_content_type(), attached.get_filename(), attached.get_content()) == (
        "application/pdf",
        "bill-770000000001-2026-10.pdf",
        pdf,
    )
    assert Delivery.objects.get().status == DeliveryStatus.SENT
