"""The Celery adapters of a bulk bill run, eager (no broker): the run task opens the run and
sends its chunks as a group, the last chunk closes the run; a failure marks the run failed,
and a run after it draws only what is missing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage

from abonent.billing.enums import RunStatus
from abonent.billing.services import billing_run
from abonent.core.models import AuditRecord, Supplier
from abonent.core.periods import Period, PeriodFormatError
from abonent.core.selectors import SupplierNotFound
from abonent.documents.models import Bill, BillChunk, BillRun
from abonent.documents.services import (
    LEASE,
    BillNotAvailable,
    BillRunInProgress,
    bill_get,
    bills_run_fail,
    bills_run_start,
)
from abonent.documents.tasks import bills_chunk_task, bills_run_task, bills_runs_resume_task
from abonent.identity.models import User
from tests.billing.billing_data import October, october_make
from tests.factories import account_make

pytestmark = pytest.mark.django_db

OCTOBER = Period(2026, 10)
RUN_AT = dt.datetime(2026, 11, 2, 3, 0, tzinfo=dt.UTC)  # October's billing run
NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("abonent.core.clock.now", lambda: NOW)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture(autouse=True)
def eager() -> None:
    from abonent.config.celery import app

    assert app.conf.task_always_eager  # no broker in tests: the tasks run in this process


@pytest.fixture
def october(supplier: Supplier) -> October:
    """Three accounts with October's charges posted, and a fourth opened later, with none."""
    accounts = october_make(supplier)
    account_make(supplier=supplier, number="770000000009", opened_on=dt.date(2026, 11, 10))
    billing_run(supplier=supplier, period=OCTOBER, now=lambda: RUN_AT, today=RUN_AT.date())
    return accounts


@pytest.fixture
def olga(db: None) -> User:
    return User.objects.create(username="olga", is_staff=True)


def bills() -> list[tuple[str, str, int | None]]:
    return sorted(Bill.objects.values_list("account__number", "amount_due", "run_id"))  # type: ignore[arg-type]


def test_the_run_task_draws_every_bill_chunk_by_chunk_and_finishes_the_run(october: October, olga: User) -> None:
    run_id = bills_run_task.delay("gaz-msk", "2026-10", olga.pk, chunk_size=1).get()

    run = BillRun.objects.get()
    assert run.pk == run_id
    assert (run.status, run.chunks, run.started_by_id, run.channel, run.started_at, run.finished_at) == (
        RunStatus.DONE, 4, olga.pk, "cli", NOW, NOW
    )  # fmt: skip
    assert not BillChunk.objects.filter(run=run, done_at__isnull=True).exists()
    stored = list(Bill.objects.order_by("account__number"))
    assert [(b.account.number, str(b.amount_due), b.due_on, b.run_id) for b in stored] == [
        ("770000000001", "425.88", dt.date(2026, 11, 15), run.pk),
        ("770000000002", "304.20", dt.date(2026, 11, 15), run.pk),
        ("770000000003", "1234.95", dt.date(2026, 11, 15), run.pk),
    ]
    assert run.summary == {"accounts": 3, "drawn": 3, "current": 0, "bytes": sum(b.size for b in stored)}
    for bill in stored:
        with default_storage.open(bill.file, "rb") as handle:
            assert handle.read(5) == b"%PDF-"
    assert AuditRecord.objects.filter(action="bill_run_finish", object_id=str(run.pk), actor_id=olga.pk).exists()


def test_the_same_period_again_draws_nothing(october: October) -> None:
    bills_run_task.delay("gaz-msk", "2026-10", None, chunk_size=2)
    first = {b.pk: (b.file, b.rendered_at) for b in Bill.objects.all()}

    bills_run_task.delay("gaz-msk", "2026-10", None, chunk_size=2)

    second = BillRun.objects.order_by("-pk").first()
    assert second is not None
    assert (second.status, second.summary["drawn"], second.summary["current"], second.summary["bytes"]) == (
        RunStatus.DONE, 0, 3, 0
    )  # fmt: skip
    assert {b.pk: (b.file, b.rendered_at) for b in Bill.objects.all()} == first


def test_a_bill_drawn_on_demand_before_the_run_is_left_as_it_is(october: October) -> None:
    on_demand = bill_get(account=october.by_norm, period=OCTOBER, now=NOW - dt.timedelta(hours=1)).bill

    bills_run_task.delay("gaz-msk", "2026-10", None)

    run = BillRun.objects.get()
    assert (run.summary["drawn"], run.summary["current"]) == (2, 1)
    kept = Bill.objects.get(account=october.by_norm)
    assert (kept.pk, kept.file, kept.rendered_at, kept.run_id) == (
        on_demand.pk, on_demand.file, NOW - dt.timedelta(hours=1), None
    )  # fmt: skip


@pytest.mark.parametrize(
    ("supplier_code", "period", "error"),
    [
        ("gaz-spb", "2026-10", SupplierNotFound),
        ("gaz-msk", "2026-13", PeriodFormatError),
        ("gaz-msk", "2004-01", BillNotAvailable),  # no terms of the supplier cover it: no due date
    ],
)
def test_a_refusal_at_the_start_starts_nothing(
    october: October, supplier_code: str, period: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        bills_run_task.delay(supplier_code, period, None)

    assert BillRun.objects.count() == 0
    assert Bill.objects.count() == 0


def test_a_run_in_progress_is_not_started_twice(october: October, supplier: Supplier) -> None:
    running = bills_run_start(supplier=supplier, period=OCTOBER, now=NOW, actor_id=None, channel="cli")

    with pytest.raises(BillRunInProgress, match="Квитанции за октябрь 2026 уже формируются"):
        bills_run_task.delay("gaz-msk", "2026-10", None)

    assert list(BillRun.objects.values_list("pk", "status")) == [(running.pk, RunStatus.RUNNING)]
    assert Bill.objects.count() == 0


def test_a_chunk_that_fails_marks_the_run_failed_and_a_new_run_takes_over(
    october: October, settings: Any, tmp_path: Path
) -> None:
    good_media = settings.MEDIA_ROOT
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    settings.MEDIA_ROOT = blocked  # the storage cannot write a file

    with pytest.raises(OSError, match="not-a-folder"):
        bills_run_task.delay("gaz-msk", "2026-10", None, chunk_size=1)

    failed = BillRun.objects.get()
    assert (failed.status, failed.finished_at) == (RunStatus.FAILED, NOW)
    assert failed.error.startswith(("FileExistsError: ", "NotADirectoryError: ")), failed.error
    assert Bill.objects.count() == 0
    assert BillChunk.objects.filter(run=failed, done_at__isnull=True).count() == 4

    settings.MEDIA_ROOT = good_media
    bills_run_task.delay("gaz-msk", "2026-10", None, chunk_size=1)

    assert list(BillRun.objects.order_by("pk").values_list("status", flat=True)) == [
        RunStatus.FAILED,
        RunStatus.DONE,
    ]
    assert [number for number, _amount, _run in bills()] == ["770000000001", "770000000002", "770000000003"]


def test_a_chunk_sent_again_after_the_run_is_done_draws_nothing(october: October) -> None:
    bills_run_task.delay("gaz-msk", "2026-10", None, chunk_size=1)
    run = BillRun.objects.get()
    before = bills()
    chunk = run.parts.order_by("first_account_id").first()
    assert chunk is not None

    assert bills_chunk_task.delay(chunk.pk, run.pk).get() is None

    assert bills() == before
    run.refresh_from_db()
    assert run.status == RunStatus.DONE


def test_a_chunk_of_a_run_that_has_ended_is_left_to_the_run_that_goes_on(october: October, supplier: Supplier) -> None:
    run = bills_run_start(supplier=supplier, period=OCTOBER, now=NOW, actor_id=None, channel="cli")
    bills_run_fail(run_id=run.pk, error="прерван", now=NOW)
    chunk = run.parts.get()

    assert bills_chunk_task.delay(chunk.pk, run.pk).get() is None

    assert Bill.objects.count() == 0
    run.refresh_from_db()
    assert (run.status, run.error) == (RunStatus.FAILED, "прерван")


def test_a_chunk_returns_how_many_bills_it_drew_and_the_last_one_closes_the_run(
    october: October, supplier: Supplier
) -> None:
    run = bills_run_start(supplier=supplier, period=OCTOBER, now=NOW, actor_id=None, channel="cli", chunk_size=2)
    first, second = run.parts.order_by("first_account_id")

    assert bills_chunk_task.delay(first.pk, run.pk).get() == 2
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    assert bills_chunk_task.delay(second.pk, run.pk).get() == 1  # the account opened in November has no bill
    run.refresh_from_db()
    assert (run.status, run.summary["accounts"], run.summary["drawn"]) == (RunStatus.DONE, 3, 3)


def test_a_chunk_is_acknowledged_when_it_ends_and_sent_again_if_its_worker_dies() -> None:
    assert (bills_chunk_task.acks_late, bills_chunk_task.reject_on_worker_lost) == (True, True)


def test_a_supplier_without_accounts_has_a_run_with_nothing_to_do(supplier: Supplier) -> None:
    bills_run_task.delay("gaz-msk", "2026-10", None)

    run = BillRun.objects.get()
    assert (run.status, run.chunks, run.summary) == (
        RunStatus.DONE, 0, {"accounts": 0, "drawn": 0, "current": 0, "bytes": 0}
    )  # fmt: skip


def test_a_bill_run_whose_chunk_jobs_were_lost_is_taken_over_when_its_lease_runs_out(
    october: October, supplier: Supplier, monkeypatch: pytest.MonkeyPatch
) -> None:
    stalled = bills_run_start(supplier=supplier, period=OCTOBER, now=NOW, actor_id=None, channel="cli", chunk_size=2)
    assert bills_runs_resume_task.delay().get() == 0  # the lease holds
    assert not Bill.objects.exists()

    monkeypatch.setattr("abonent.core.clock.now", lambda: NOW + LEASE + dt.timedelta(seconds=1))
    assert bills_runs_resume_task.delay().get() == 1

    stalled.refresh_from_db()
    new = BillRun.objects.exclude(pk=stalled.pk).get()
    assert (stalled.status, new.status, new.channel) == (RunStatus.FAILED, RunStatus.DONE, "resume")
    assert [number for number, _, _ in bills()] == ["770000000001", "770000000002", "770000000003"]
    assert bills_runs_resume_task.delay().get() == 0
