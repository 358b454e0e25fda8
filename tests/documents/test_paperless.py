"""Paper bills given up: the subscriber chooses it (where the supplier allows, with a
confirmed e-mail), and every bulk run's bill then reaches them by e-mail as a PDF, once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from abonent.core.models import AuditRecord, SupplierTerms
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.customers.services import (
    AccountNotFound,
    PaperlessNeedsEmail,
    PaperlessNotAllowed,
    paper_bill_set,
)
from abonent.documents.models import Bill
from abonent.documents.services import bills_email_paperless, bills_generate
from abonent.notifications.enums import Channel, DeliveryStatus, Kind
from abonent.notifications.models import Delivery, Notification
from tests.documents.conftest import NOW, OCTOBER, Billed
from tests.web.identity import CaptureCallbacks, user_make

UTC = dt.UTC


def link(user: object, account: PersonalAccount) -> None:
    AccountLink.objects.create(user=user, account=account, proof="pin", channel="web", linked_at=NOW)


def test_the_bill_of_an_account_without_paper_comes_by_email_once(
    billed: Billed, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    maria = user_make(email="maria@example.org")
    link(maria, billed.by_norm)
    link(maria, billed.in_debt)
    paper_bill_set(user=maria, account_id=billed.by_norm.pk, paper=False, channel="web", ip=None, now=NOW)

    with django_capture_on_commit_callbacks(execute=True):
        bills_generate(supplier=billed.supplier, period=OCTOBER, now=lambda: NOW, chunk_size=2)

    bill = Bill.objects.get(account=billed.by_norm, period=OCTOBER.to_int())
    [notification] = Notification.objects.all()
    assert (notification.kind, notification.occasion, notification.account_id, notification.user_id) == (
        Kind.BILL_BY_EMAIL,
        f"bill_by_email:{billed.by_norm.pk}:2026-10",
        billed.by_norm.pk,
        maria.pk,
    )
    [delivery] = Delivery.objects.all()
    assert (delivery.channel, delivery.status, delivery.recipient, delivery.attachment, delivery.attachment_name) == (
        Channel.EMAIL,
        DeliveryStatus.SENT,
        "maria@example.org",
        bill.file,
        f"bill-{billed.by_norm.number}-2026-10.pdf",
    )
    [message] = mail.outbox
    assert message.subject == f"Квитанция за газ за октябрь 2026, лицевой счёт {billed.by_norm.number}"
    assert "К оплате: 304,20\u00a0₽ до 15.11.2026." in message.body
    assert "вы получаете её на e-mail вместо бумажной" in message.body
    [(name, content, mimetype)] = message.attachments
    assert (name, mimetype, content[:5]) == (f"bill-{billed.by_norm.number}-2026-10.pdf", "application/pdf", b"%PDF-")

    # A second run, or the job again: nothing more is sent.
    with django_capture_on_commit_callbacks(execute=True):
        bills_generate(supplier=billed.supplier, period=OCTOBER, now=lambda: NOW, chunk_size=2)
        summary = bills_email_paperless(supplier=billed.supplier, period=OCTOBER, now=NOW)
    assert (summary.notified, summary.repeated) == (0, 1)
    assert Delivery.objects.count() == 1
    assert len(mail.outbox) == 1


def test_back_to_paper_stops_the_emails(billed: Billed, django_capture_on_commit_callbacks: CaptureCallbacks) -> None:
    maria = user_make(email="maria@example.org")
    link(maria, billed.by_norm)
    paper_bill_set(user=maria, account_id=billed.by_norm.pk, paper=False, channel="web", ip=None, now=NOW)
    account = paper_bill_set(user=maria, account_id=billed.by_norm.pk, paper=True, channel="api", ip=None, now=NOW)

    with django_capture_on_commit_callbacks(execute=True):
        bills_generate(supplier=billed.supplier, period=OCTOBER, now=lambda: NOW, chunk_size=2)

    assert (account.paperless_user_id, account.paperless_since) == (None, None)
    assert Notification.objects.count() == 0
    assert mail.outbox == []
    assert list(
        AuditRecord.objects.filter(action="account.paper_bill").order_by("id").values_list("channel", "before", "after")
    ) == [
        ("web", {"paperless_user": None}, {"paperless_user": maria.pk}),
        ("api", {"paperless_user": maria.pk}, {"paperless_user": None}),
    ]


def test_giving_up_paper_needs_a_confirmed_email_and_the_suppliers_consent(billed: Billed) -> None:
    phone_only = user_make(phone="+79161112233")
    link(phone_only, billed.by_norm)

    with pytest.raises(PaperlessNeedsEmail) as exc:
        paper_bill_set(user=phone_only, account_id=billed.by_norm.pk, paper=False, channel="web", ip=None, now=NOW)
    assert exc.value.errors == {"paper": ["Укажите и подтвердите e-mail в профиле — квитанция будет приходить на него"]}

    maria = user_make(phone=None, email="maria@example.org")
    link(maria, billed.by_norm)
    SupplierTerms.objects.filter(supplier=billed.supplier).update(paperless_allowed=False)
    with pytest.raises(PaperlessNotAllowed) as refused:
        paper_bill_set(user=maria, account_id=billed.by_norm.pk, paper=False, channel="web", ip=None, now=NOW)
    assert refused.value.text == f"Поставщик «{billed.supplier.short_name}» не принимает отказ от бумажной квитанции"

    with pytest.raises(AccountNotFound):  # not linked
        paper_bill_set(user=maria, account_id=billed.in_debt.pk, paper=False, channel="web", ip=None, now=NOW)

    billed.by_norm.refresh_from_db()
    assert billed.by_norm.paperless_user_id is None
    assert not AuditRecord.objects.filter(action="account.paper_bill").exists()
