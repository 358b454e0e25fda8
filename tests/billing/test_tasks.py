"""The Celery adapters of a billing run, eager (no broker): the run task opens the run and
sends its chunks as a chord that closes it; a failure marks the run failed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from abonent.billing.enums import RunStatus
from abonent.billing.models import BillingChunk, BillingPeriod, BillingRun, Charge, KeyRate
from abonent.billing.services import LEASE, PeriodClosed, billing_period_close, billing_run_start
from abonent.billing.tasks import (
    billing_chunk_task,
    billing_run_finish_task,
    billing_run_task,
    billing_runs_resume_task,
)
from abonent.core.models import AuditRecord, Supplier
from abonent.core.periods import Period
from abonent.identity.models import User
from abonent.ledger.models import LedgerEntry
from tests.billing.billing_data import October, billing_data_make, october_make

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("abonent.core.clock.now", lambda: NOW)


@pytest.fixture(autouse=True)
def eager() -> None:
    from abonent.config.celery import app

    assert app.conf.task_always_eager  # no broker in tests: the tasks run in this process


@pytest.fixture
def october(supplier: Supplier) -> October:
    return october_make(supplier)


@pytest.fixture
def olga(db: None) -> User:
    return User.objects.create(username="olga", is_staff=True)


def test_the_run_task_runs_every_chunk_and_finishes_the_run(october: October, olga: User) -> None:
    run_id = billing_run_task.delay("gaz-msk", "2026-10", olga.pk, chunk_size=1).get()

    run = BillingRun.objects.get()
    assert run.pk == run_id
    assert (run.status, run.chunks, run.started_by_id, run.started_at, run.finished_at) == (
        RunStatus.DONE, 3, olga.pk, NOW, NOW
    )  # fmt: skip
    assert not BillingChunk.objects.filter(run=run, done_at__isnull=True).exists()
    assert {k: run.summary[k] for k in ("accounts", "volume", "amount", "benefit", "penalty", "entries")} == {
        "accounts": 3,
        "volume": "91.500",
        "amount": "1237.08",
        "benefit": "304.20",
        "penalty": "32.15",
        "entries": 5,
    }
    assert run.summary["by_method"] == {"reading": [1, "31.500", "425.88"], "norm": [2, "60.000", "811.20"]}
    assert LedgerEntry.objects.filter(billed_in=Period(2026, 10)).count() == 5
    assert AuditRecord.objects.filter(action="billing_run_finish", object_id=str(run.pk), actor_id=olga.pk).exists()


def test_a_refusal_at_the_start_starts_nothing(october: October, supplier: Supplier) -> None:
    billing_period_close(supplier=supplier, period=Period(2026, 10), actor_id=None, now=NOW)

    with pytest.raises(PeriodClosed):
        billing_run_task.delay("gaz-msk", "2026-10", None)

    assert BillingRun.objects.count() == 0
    assert Charge.objects.count() == 0


def test_a_chunk_that_fails_marks_the_run_failed(october: October) -> None:
    KeyRate.objects.all().delete()  # the penalty of the account in debt cannot be computed

    with pytest.raises(Exception, match="Не хватает данных для расчёта за октябрь 2026"):
        billing_run_task.delay("gaz-msk", "2026-10", None, chunk_size=1)

    run = BillingRun.objects.get()
    assert (run.status, run.finished_at) == (RunStatus.FAILED, NOW)
    assert run.error.startswith("BillingDataMissing: Не хватает данных для расчёта за октябрь 2026")
    # the chunks before the failing one are posted; a new run takes over where it stopped
    assert BillingChunk.objects.filter(run=run, done_at__isnull=True).count() == 1
    assert not LedgerEntry.objects.filter(account=october.in_debt, billed_in=Period(2026, 10)).exists()


def test_a_run_taken_over_after_a_failure_ends_as_one_never_interrupted(october: October) -> None:
    KeyRate.objects.all().delete()
    with pytest.raises(Exception, match="Не хватает данных"):
        billing_run_task.delay("gaz-msk", "2026-10", None, chunk_size=1)
    KeyRate.objects.create(effective_from=dt.date(2026, 1, 1), rate=Decimal("16.50"))

    billing_run_task.delay("gaz-msk", "2026-10", None, chunk_size=1)

    assert list(BillingRun.objects.order_by("pk").values_list("status", flat=True)) == [
        RunStatus.FAILED,
        RunStatus.DONE,
    ]
    assert sorted(
        (e.account_id, e.service, str(e.amount)) for e in LedgerEntry.objects.filter(billed_in=Period(2026, 10))
    ) == sorted(
        [
            (october.by_reading.pk, "gas", "425.88"),
            (october.by_norm.pk, "gas", "608.40"),
            (october.by_norm.pk, "gas", "-304.20"),
            (october.in_debt.pk, "gas", "202.80"),
            (october.in_debt.pk, "penalty", "32.15"),
        ]
    )


def test_a_chunk_sent_again_after_the_run_is_done_posts_nothing(october: October) -> None:
    billing_run_task.delay("gaz-msk", "2026-10", None, chunk_size=1)
    run = BillingRun.objects.get()
    entries = LedgerEntry.objects.count()

    assert billing_chunk_task.delay(run.parts.first().pk, run.pk).get() is None
    assert billing_run_finish_task.delay(run.pk).get() == RunStatus.DONE
    assert LedgerEntry.objects.count() == entries


def test_a_supplier_without_accounts_has_a_run_with_nothing_to_do(supplier: Supplier) -> None:
    billing_data_make(supplier)

    billing_run_task.delay("gaz-msk", "2026-10", None)

    run = BillingRun.objects.get()
    assert (run.status, run.chunks, run.summary["accounts"]) == (RunStatus.DONE, 0, 0)
    assert BillingPeriod.objects.filter(supplier=supplier, closed_at__isnull=True).count() == 1


def test_a_run_whose_chunk_jobs_were_lost_is_taken_over_when_its_lease_runs_out(
    october: October, supplier: Supplier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run opened and its chunks' jobs never arrived (lost with a worker killed while the
    broker handed them over): the sweep leaves it while its lease holds, then a new run takes
    over and the ledger is that of a run never interrupted."""
    stalled = billing_run_start(
        supplier=supplier, period=Period(2026, 10), now=NOW, today=NOW.date(), actor_id=None, channel="cli",
        chunk_size=2,
    )  # fmt: skip
    assert billing_runs_resume_task.delay().get() == 0  # the lease holds: it may still be going
    assert LedgerEntry.objects.filter(billed_in=Period(2026, 10)).count() == 0

    later = NOW + LEASE + dt.timedelta(seconds=1)
    monkeypatch.setattr("abonent.core.clock.now", lambda: later)
    assert billing_runs_resume_task.delay().get() == 1

    stalled.refresh_from_db()
    new = BillingRun.objects.exclude(pk=stalled.pk).get()
    assert (stalled.status, new.status, new.channel, new.chunks) == (RunStatus.FAILED, RunStatus.DONE, "resume", 2)
    assert LedgerEntry.objects.filter(billed_in=Period(2026, 10)).count() == 5
    assert billing_runs_resume_task.delay().get() == 0  # nothing left to resume


def test_a_stalled_run_of_a_closed_period_is_left_failed_by_the_next_start(
    october: October, supplier: Supplier, monkeypatch: pytest.MonkeyPatch
) -> None:
    billing_run_start(
        supplier=supplier, period=Period(2026, 10), now=NOW, today=NOW.date(), actor_id=None, channel="cli",
        chunk_size=2,
    )  # fmt: skip
    BillingPeriod.objects.filter(supplier=supplier, period=Period(2026, 10)).update(closed_at=NOW)
    monkeypatch.setattr("abonent.core.clock.now", lambda: NOW + LEASE + dt.timedelta(seconds=1))

    assert billing_runs_resume_task.delay().get() == 0  # refused (PeriodClosed), said in the log
    assert BillingRun.objects.count() == 1
