"""Celery adapters of bulk bill runs: they read the clock and call the documents services.

``bills_run_task`` opens a run and sends its chunks: each chunk is a task of its own, so the
chunks spread over the workers, and the chunk that finds every chunk done closes the run
(under a row lock, so exactly one does). No result backend is needed. A chunk that fails
marks the run failed (one whose database went away is tried again in a few seconds first); a
new run of the period takes over and draws only what is missing.

A chunk is acknowledged after it ends, and sent again when its worker dies: a chunk run
twice draws only the bills that are not current yet, so the second attempt finishes the
first one's work and writes nothing twice.
"""

from __future__ import annotations

from celery import Task, group, shared_task

from abonent.billing.selectors import runs_stalled
from abonent.billing.tasks import stalled_runs_resume
from abonent.core import clock
from abonent.core.jobs import retry_when_database_gone
from abonent.core.models import Supplier
from abonent.core.periods import Period
from abonent.core.selectors import supplier_by_code
from abonent.documents.models import BillRun
from abonent.documents.services import (
    CHUNK_SIZE,
    BillRunNotRunning,
    bills_chunk_process,
    bills_email_paperless,
    bills_run_fail,
    bills_run_finish,
    bills_run_start,
)


def _failed(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


@shared_task(name="abonent.documents.tasks.bills_run_task")
def bills_run_task(
    supplier_code: str, period: str, actor_id: int | None, *, channel: str = "cli", chunk_size: int = CHUNK_SIZE
) -> int:
    """Open a bill run of the supplier's period (``YYYY-MM``) and send its chunks; returns
    the run's id. The errors of ``bills_run_start`` (BillNotAvailable, BillRunInProgress),
    SupplierNotFound and PeriodFormatError are raised as they are: nothing was started."""
    supplier = supplier_by_code(code=supplier_code)
    run = bills_run_start(
        supplier=supplier,
        period=Period.parse(period),
        now=clock.now(),
        actor_id=actor_id,
        channel=channel,
        chunk_size=chunk_size,
    )
    chunk_ids = list(run.parts.order_by("first_account_id").values_list("id", flat=True))
    try:
        if not chunk_ids:
            bills_run_finish(run_id=run.pk, now=clock.now())
        else:
            group(bills_chunk_task.si(chunk_id, run.pk) for chunk_id in chunk_ids).apply_async()
    except Exception as exc:
        bills_run_fail(run_id=run.pk, error=_failed(exc), now=clock.now())
        raise
    return run.pk


@shared_task(
    bind=True,
    name="abonent.documents.tasks.bills_chunk_task",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=8,
)
def bills_chunk_task(self: Task, chunk_id: int, run_id: int) -> int | None:
    """Draw the missing and out-of-date bills of one chunk of run ``run_id``; returns how
    many it drew (None: the chunk was done before, or the run has ended). The last chunk to
    end closes the run. A run that has ended (failed, or taken over by a new one) leaves the
    chunk to the run that goes on; any other failure fails the run."""
    try:
        stats = bills_chunk_process(chunk_id=chunk_id, now=clock.now())
        bills_run_finish(run_id=run_id, now=clock.now())
    except BillRunNotRunning:
        return None
    except Exception as exc:
        retry_when_database_gone(self, exc)  # PostgreSQL restarting: again in a few seconds
        bills_run_fail(run_id=run_id, error=_failed(exc), now=clock.now())
        raise
    return None if stats is None else stats.drawn


@shared_task(name="abonent.documents.tasks.bills_email_paperless_task", ignore_result=True)
def bills_email_paperless_task(*, supplier_id: int, period: str) -> None:
    """E-mail the drawn bills of the period to the subscribers who gave up the paper one."""
    supplier = Supplier.objects.get(pk=supplier_id)
    bills_email_paperless(supplier=supplier, period=Period.parse(period), now=clock.now())


@shared_task(name="abonent.documents.tasks.bills_runs_resume_task", ignore_result=True, expires=55)
def bills_runs_resume_task() -> int:
    """Bill runs left running with a lease run out (a chunk's job lost with its worker): each
    is taken over by a new run of its period, which draws only the bills still missing."""
    return stalled_runs_resume(runs_stalled(BillRun.objects.all(), now=clock.now()), bills_run_task)
