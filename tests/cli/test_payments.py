"""`abonent payments reconcile`: what the embedded default runs in place of Celery beat."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from abonent.core.models import Supplier
from abonent.payments.enums import PaymentStatus
from abonent.payments.models import Payment, SandboxPayment
from tests.payments.payments_data import NOW, pay, payer_make


def reconcile(clock_at: dt.datetime, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr("abonent.core.clock.now", lambda: clock_at)
    out = StringIO()
    call_command("payments", "reconcile", stdout=out)
    return out.getvalue()


def test_reconcile_settles_a_payment_whose_notification_was_lost(
    supplier: Supplier, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, (account,) = payer_make(supplier)
    payment = pay(user, account, "500.00")
    SandboxPayment.objects.filter(pk=payment.gateway_payment_id).update(status="succeeded", captured_at=NOW)

    assert "Спрашивать не о чем" in reconcile(NOW + dt.timedelta(minutes=5), monkeypatch)  # too early to ask
    out = reconcile(NOW + dt.timedelta(minutes=20), monkeypatch)

    assert "Спрошено о платежах: 1; оплачено: 1" in out
    assert Payment.objects.get().status == PaymentStatus.SUCCEEDED


def test_no_action_is_an_error_that_says_what_to_type() -> None:
    err = StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("payments", stderr=err)
    assert exc.value.code == 2
    assert "reconcile" in err.getvalue()
