"""Bills stored as files: one drawn on demand and served while current, drawn again when what
it says changes or its file is gone; a supplier's period drawn in bulk runs of chunks that
skip the current bills, with the lease that lets a new run take over a killed one."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from abonent.billing.enums import RunStatus
from abonent.core.models import AuditRecord
from abonent.core.periods import Period
from abonent.documents.models import Bill, BillChunk, BillRun
from abonent.documents.services import (
    LEASE,
    BillNotAvailable,
    BillRunInProgress,
    BillRunNotRunning,
    NoEmailForBill,
    bill_content,
    bill_email,
    bill_get,
    bills_chunk_process,
    bills_generate,
    bills_run_finish,
    bills_run_start,
)
from abonent.notifications.models import Delivery
from tests.documents.conftest import NOW, OCTOBER, Billed, pay
from tests.web.identity import CaptureCallbacks, user_make

D = Decimal
MINUTE = dt.timedelta(minutes=1)


def stored_files() -> list[str]:
    """The files under the media folder, relative to it, sorted."""
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def file_bytes(name: str) -> bytes:
    return (Path(settings.MEDIA_ROOT) / name).read_bytes()


# --- on demand -----------------------------------------------------------------------------


def test_the_first_request_draws_and_stores_the_bill(billed: Billed) -> None:
    account = billed.by_reading
    content = bill_content(account=account, period=OCTOBER)

    got = bill_get(account=account, period=OCTOBER, now=NOW)

    name = f"bills/{billed.supplier.pk}/2026-10/770000000001-{content.fingerprint[:16]}.pdf"
    bill = Bill.objects.get()
    assert (bill.account_id, bill.period, bill.amount_due, bill.due_on) == (
        account.pk, OCTOBER, D("727.88"), dt.date(2026, 11, 15)
    )  # fmt: skip
    assert (bill.fingerprint, bill.file, bill.rendered_at, bill.run_id) == (content.fingerprint, name, NOW, None)
    assert (bill.sha256, bill.size) == (hashlib.sha256(got.pdf).hexdigest(), len(got.pdf))
    assert got.pdf.startswith(b"%PDF-")
    assert stored_files() == [name]
    assert file_bytes(name) == got.pdf
    assert (got.bill.pk, got.bill.account, got.filename) == (bill.pk, account, "kvitanciya-770000000001-2026-10.pdf")


def test_a_current_bill_is_served_from_storage(billed: Billed) -> None:
    account = billed.by_norm
    first = bill_get(account=account, period=OCTOBER, now=NOW)

    second = bill_get(account=account, period=OCTOBER, now=NOW + dt.timedelta(hours=1))

    assert second.pdf == first.pdf
    assert second.bill.pk == first.bill.pk
    bill = Bill.objects.get()
    assert (bill.sha256, bill.rendered_at, bill.file) == (first.bill.sha256, NOW, first.bill.file)  # not drawn again
    assert stored_files() == [first.bill.file]


def test_a_payment_to_the_period_draws_the_bill_again_and_the_old_file_goes_after_commit(
    billed: Billed, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    account = billed.by_norm
    first = bill_get(account=account, period=OCTOBER, now=NOW)
    later = NOW + dt.timedelta(hours=2)
    pay(account, "100.00", dt.date(2026, 10, 30))

    with django_capture_on_commit_callbacks() as callbacks:
        second = bill_get(account=account, period=OCTOBER, now=later)
        assert sorted(stored_files()) == sorted([first.bill.file, second.bill.file])  # the old one still served

    bill = Bill.objects.get()
    assert bill.pk == first.bill.pk
    assert bill.fingerprint == bill_content(account=account, period=OCTOBER).fingerprint != first.bill.fingerprint
    assert (bill.amount_due, bill.rendered_at, bill.file) == (D("204.20"), later, second.bill.file)
    assert bill.file != first.bill.file
    assert (bill.sha256, bill.size) == (hashlib.sha256(second.pdf).hexdigest(), len(second.pdf))
    assert len(callbacks) == 1
    callbacks[0]()  # the transaction commits
    assert stored_files() == [second.bill.file]
    assert file_bytes(second.bill.file) == second.pdf


def test_a_changed_bill_removes_its_old_file_once_committed(
    billed: Billed, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    account = billed.by_norm
    with django_capture_on_commit_callbacks(execute=True):
        first = bill_get(account=account, period=OCTOBER, now=NOW)
    pay(account, "100.00", dt.date(2026, 10, 30))

    with django_capture_on_commit_callbacks(execute=True):
        second = bill_get(account=account, period=OCTOBER, now=NOW + MINUTE)

    assert second.bill.file != first.bill.file
    assert stored_files() == [second.bill.file]
    assert Bill.objects.count() == 1


def test_a_stored_file_gone_from_storage_is_drawn_again(
    billed: Billed, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    account = billed.by_norm
    first = bill_get(account=account, period=OCTOBER, now=NOW)
    (Path(settings.MEDIA_ROOT) / first.bill.file).unlink()
    assert stored_files() == []

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = bill_get(account=account, period=OCTOBER, now=NOW + MINUTE)

    assert callbacks == []  # nothing to remove: the file is drawn under its own name again
    bill = Bill.objects.get()
    assert (bill.file, bill.fingerprint, bill.rendered_at) == (first.bill.file, first.bill.fingerprint, NOW + MINUTE)
    assert bill.sha256 == hashlib.sha256(again.pdf).hexdigest() == first.bill.sha256  # the same content, same bytes
    assert stored_files() == [first.bill.file]
    assert file_bytes(bill.file) == again.pdf


def test_a_damaged_stored_file_is_drawn_again_and_replaced(
    billed: Billed, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    account = billed.by_norm
    first = bill_get(account=account, period=OCTOBER, now=NOW)
    (Path(settings.MEDIA_ROOT) / first.bill.file).write_bytes(b"%PDF-1.7 cut short")

    with django_capture_on_commit_callbacks(execute=True):
        again = bill_get(account=account, period=OCTOBER, now=NOW + MINUTE)

    assert again.pdf == first.pdf
    bill = Bill.objects.get()
    assert bill.sha256 == first.bill.sha256
    assert bill.file != first.bill.file  # the name was taken by the damaged file: stored under another
    assert stored_files() == [bill.file]  # and the damaged one removed
    assert file_bytes(bill.file) == first.pdf


def test_no_bill_for_a_period_without_charges_and_nothing_stored(billed: Billed) -> None:
    with pytest.raises(BillNotAvailable):
        bill_get(account=billed.quiet, period=OCTOBER, now=NOW)
    with pytest.raises(BillNotAvailable):
        bill_get(account=billed.by_norm, period=Period(2026, 11), now=NOW)

    assert Bill.objects.count() == 0
    assert stored_files() == []


def test_a_bill_by_email_needs_an_address_and_sends_nothing_without_one(billed: Billed) -> None:
    with pytest.raises(NoEmailForBill) as raised:
        bill_email(account=billed.by_norm, period=OCTOBER, user=user_make(), now=NOW, channel="web")

    assert raised.value.errors == {"email": ["Укажите и подтвердите e-mail в профиле — квитанция придёт на него"]}
    assert (Bill.objects.count(), Delivery.objects.count(), stored_files()) == (0, 0, [])
    assert not AuditRecord.objects.filter(action="bill_email").exists()


# --- in bulk -------------------------------------------------------------------------------


def test_a_bulk_run_draws_every_bill_of_the_period(billed: Billed) -> None:
    started: list[int] = []
    chunks: list[object] = []

    run = bills_generate(
        supplier=billed.supplier, period=OCTOBER, now=lambda: NOW, chunk_size=2,
        on_start=started.append, on_chunk=chunks.append,
    )  # fmt: skip

    bills = {b.account_id: b for b in Bill.objects.all()}
    sizes = sum(b.size for b in bills.values())
    assert (run.status, run.chunks, run.finished_at, run.error) == (RunStatus.DONE, 2, NOW, "")
    # four accounts in chunks of two ids; the quiet one has no bill
    assert run.summary == {"accounts": 3, "drawn": 3, "current": 0, "bytes": sizes}
    assert started == [2]
    assert len(chunks) == 2
    assert set(bills) == {billed.by_reading.pk, billed.by_norm.pk, billed.in_debt.pk}
    assert {b.account_id: b.amount_due for b in bills.values()} == {
        billed.by_reading.pk: D("727.88"), billed.by_norm.pk: D("304.20"), billed.in_debt.pk: D("1437.75")
    }  # fmt: skip
    for bill in bills.values():
        assert bill.run_id == run.pk
        assert bill.rendered_at == NOW
        assert bill.fingerprint == bill_content(account=bill.account, period=OCTOBER).fingerprint
        assert hashlib.sha256(file_bytes(bill.file)).hexdigest() == bill.sha256
        assert len(file_bytes(bill.file)) == bill.size
    assert stored_files() == sorted(b.file for b in bills.values())
    assert list(AuditRecord.objects.filter(object_type="bill_run").order_by("id").values_list("action", "after")) == [
        ("bill_run_start", {"supplier": "gaz-msk", "period": "2026-10"}),
        ("bill_run_finish", run.summary),
    ]


def test_a_second_run_finds_every_bill_current(billed: Billed) -> None:
    first = bills_generate(supplier=billed.supplier, period=OCTOBER, now=lambda: NOW, chunk_size=2)
    files = stored_files()
    rows = list(Bill.objects.order_by("id").values_list("id", "file", "sha256", "rendered_at", "run_id"))

    second = bills_generate(supplier=billed.supplier, period=OCTOBER, now=lambda: NOW + MINUTE, chunk_size=2)

    assert second.pk != first.pk
    assert second.summary == {"accounts": 3, "drawn": 0, "current": 3, "bytes": 0}
    assert stored_files() == files
    assert list(Bill.objects.order_by("id").values_list("id", "file", "sha256", "rendered_at", "run_id")) == rows


def test_a_run_after_a_payment_draws_only_the_changed_bill(
    billed: Billed, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    bills_generate(supplier=billed.supplier, period=OCTOBER, now=lambda: NOW, chunk_size=2)
    old = Bill.objects.get(account=billed.by_norm).file
    pay(billed.by_norm, "100.00", dt.date(2026, 10, 30))

    with django_capture_on_commit_callbacks(execute=True):
        run = bills_generate(supplier=billed.supplier, period=OCTOBER, now=lambda: NOW + MINUTE, chunk_size=2)

    changed = Bill.objects.get(account=billed.by_norm)
    assert run.summary == {"accounts": 3, "drawn": 1, "current": 2, "bytes": changed.size}
    assert (changed.amount_due, changed.run_id, changed.rendered_at) == (D("204.20"), run.pk, NOW + MINUTE)
    assert changed.file != old
    assert old not in stored_files()
    assert len(stored_files()) == 3


def test_a_run_whose_lease_ran_out_is_taken_over(billed: Billed) -> None:
    killed = bills_run_start(
        supplier=billed.supplier, period=OCTOBER, now=NOW, actor_id=None, channel="cli", chunk_size=2
    )
    first_chunk, second_chunk = killed.parts.order_by("first_account_id")
    stats = bills_chunk_process(chunk_id=first_chunk.pk, now=NOW + MINUTE)  # then the worker died
    assert stats is not None
    drawn_before = stats.drawn
    later = NOW + MINUTE + LEASE + MINUTE

    run = bills_generate(supplier=billed.supplier, period=OCTOBER, now=lambda: later, chunk_size=2)

    killed.refresh_from_db()
    assert (killed.status, killed.finished_at) == (RunStatus.FAILED, later)
    assert killed.error == "прерван: срок аренды истёк, продолжен новым запуском"
    assert (run.status, run.chunks) == (RunStatus.DONE, 2)
    # the bills the killed run drew are current; the rest drawn now: as one run never interrupted
    assert run.summary["accounts"] == 3
    assert (run.summary["current"], run.summary["drawn"]) == (drawn_before, 3 - drawn_before)
    assert drawn_before == 2  # the first two accounts: by_reading and by_norm
    assert Bill.objects.count() == 3
    assert len(stored_files()) == 3
    with pytest.raises(BillRunNotRunning) as raised:
        bills_chunk_process(chunk_id=second_chunk.pk, now=later)
    assert str(raised.value) == f"Формирование квитанций №{killed.pk} уже закончено"
    assert BillChunk.objects.get(pk=second_chunk.pk).done_at is None
    assert BillRun.objects.filter(status=RunStatus.RUNNING).count() == 0


def test_a_running_run_with_a_valid_lease_stops_a_new_one(billed: Billed) -> None:
    running = bills_run_start(
        supplier=billed.supplier, period=OCTOBER, now=NOW, actor_id=None, channel="cli", chunk_size=2
    )
    first_chunk = running.parts.order_by("first_account_id").first()
    assert first_chunk is not None
    bills_chunk_process(chunk_id=first_chunk.pk, now=NOW + dt.timedelta(minutes=4))  # the lease renewed
    assert BillRun.objects.get(pk=running.pk).lease_until == NOW + dt.timedelta(minutes=4) + LEASE
    files = stored_files()
    chunks = BillChunk.objects.count()

    with pytest.raises(BillRunInProgress) as raised:
        bills_generate(supplier=billed.supplier, period=OCTOBER, now=lambda: NOW + dt.timedelta(minutes=8))

    assert raised.value.code == "bill_run_in_progress"
    assert str(raised.value) == (
        "Квитанции за октябрь 2026 уже формируются (запуск 22.11.2026 09:00 UTC): дождитесь окончания"
    )
    assert list(BillRun.objects.values_list("pk", "status")) == [(running.pk, RunStatus.RUNNING)]
    assert BillChunk.objects.count() == chunks
    assert stored_files() == files
    assert AuditRecord.objects.filter(action="bill_run_start").count() == 1


def test_a_chunk_done_already_is_not_drawn_again(billed: Billed) -> None:
    run = bills_run_start(supplier=billed.supplier, period=OCTOBER, now=NOW, actor_id=None, channel="cli")
    (chunk,) = run.parts.all()
    stats = bills_chunk_process(chunk_id=chunk.pk, now=NOW)
    assert stats is not None
    assert stats.as_json() == {
        "accounts": 3,
        "drawn": 3,
        "current": 0,
        "bytes": sum(b.size for b in Bill.objects.all()),
    }
    rows = list(Bill.objects.order_by("id").values_list("id", "file", "rendered_at"))

    assert bills_chunk_process(chunk_id=chunk.pk, now=NOW + MINUTE) is None

    assert list(Bill.objects.order_by("id").values_list("id", "file", "rendered_at")) == rows
    assert BillChunk.objects.get(pk=chunk.pk).done_at == NOW
    finished = bills_run_finish(run_id=run.pk, now=NOW + MINUTE)
    assert finished is not None
    assert finished.summary == stats.as_json()
    assert bills_run_finish(run_id=run.pk, now=NOW + MINUTE) is None  # closed already


def test_a_run_is_finished_only_when_every_chunk_is_done(billed: Billed) -> None:
    operator = user_make(phone="+79160000007", is_staff=True)
    run = bills_run_start(supplier=billed.supplier, period=OCTOBER, now=NOW, actor_id=operator.pk,
                          channel="backoffice", chunk_size=2)  # fmt: skip
    first, second = run.parts.order_by("first_account_id")
    bills_chunk_process(chunk_id=first.pk, now=NOW)

    assert bills_run_finish(run_id=run.pk, now=NOW) is None
    assert BillRun.objects.get(pk=run.pk).status == RunStatus.RUNNING

    bills_chunk_process(chunk_id=second.pk, now=NOW)
    finished = bills_run_finish(run_id=run.pk, now=NOW + MINUTE)
    assert finished is not None
    assert (finished.status, finished.started_by_id, finished.channel) == (RunStatus.DONE, operator.pk, "backoffice")
    assert (finished.summary["accounts"], finished.summary["drawn"]) == (3, 3)


def test_a_run_for_a_period_before_the_suppliers_terms_is_refused(billed: Billed) -> None:
    with pytest.raises(BillNotAvailable):
        bills_generate(supplier=billed.supplier, period=Period(2004, 12), now=lambda: NOW)

    assert (BillRun.objects.count(), BillChunk.objects.count(), Bill.objects.count()) == (0, 0, 0)
    assert not AuditRecord.objects.filter(object_type="bill_run").exists()
