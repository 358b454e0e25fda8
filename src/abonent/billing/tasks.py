"""Celery adapters of billing runs: they read the clock and call the billing services.

``billing_run_task`` opens a run and sends its chunks: each chunk is a task of its own, so
the chunks spread over the workers, and the chunk that finds every chunk done closes the run
(under a row lock, so exactly one does). No result backend is needed. A chunk whose database
went away (PostgreSQL restarting) is tried again in a few seconds, up to 8 times; a chunk that
fails otherwise marks the run failed, and a new run of the period takes over where it stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import Task, group, shared_task

from abonent.billing.models import BillingRun
from abonent.billing.selectors import StalledRun, billing_runs_stalled
from abonent.billing.services import (
    CHUNK_SIZE,
    RunNotRunning,
    billing_chunk_process,
    billing_run_fail,
    billing_run_finish,
    billing_run_finish_when_done,
    billing_run_start,
)
from abonent.core import clock
from abonent.core.errors import DomainError
from abonent.core.jobs import retry_when_database_gone
from abonent.core.periods import Period
from abonent.core.selectors import supplier_by_code, supplier_local_date

log = logging.getLogger(__name__)


def _failed(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


@shared_task(name="abonent.billing.tasks.billing_run_task")
def billing_run_task(
    supplier_code: str, period: str, actor_id: int | None, *, channel: str = "cli", chunk_size: int = CHUNK_SIZE
) -> int:
    """Open a run of the supplier's period (``YYYY-MM``) and send its chunks; returns the
    run's id. The errors of ``billing_run_start`` (PeriodClosed, RunInProgress, PeriodNotOver,
    BillingDataMissing) and SupplierNotFound are raised as they are: nothing was started."""
    supplier = supplier_by_code(code=supplier_code)
    now = clock.now()
    run = billing_run_start(
        supplier=supplier,
        period=Period.parse(period),
        now=now,
        today=supplier_local_date(supplier=supplier, now=now),
        actor_id=actor_id,
        channel=channel,
        chunk_size=chunk_size,
    )
    chunk_ids = list(run.parts.order_by("first_account_id").values_list("id", flat=True))
    try:
        if not chunk_ids:
            billing_run_finish(run_id=run.pk, now=clock.now())
        else:
            group(billing_chunk_task.si(chunk_id, run.pk) for chunk_id in chunk_ids).apply_async()
    except Exception as exc:
        billing_run_fail(run_id=run.pk, error=_failed(exc), now=clock.now())
        raise
    return run.pk


@shared_task(bind=True, name="abonent.billing.tasks.billing_chunk_task", max_retries=8)
def billing_chunk_task(self: Task, chunk_id: int, run_id: int) -> int | None:
    """Compute and post one chunk of run ``run_id``; returns how many accounts it billed
    (None: it was done before). A run that has ended (failed, or taken over by a new one)
    leaves the chunk to the run that goes on; any other failure fails the run."""
    try:
        stats = billing_chunk_process(chunk_id=chunk_id, now=clock.now())
        billing_run_finish_when_done(run_id=run_id, now=clock.now())
    except RunNotRunning:
        return None
    except Exception as exc:
        retry_when_database_gone(self, exc)  # PostgreSQL restarting: again in a few seconds
        billing_run_fail(run_id=run_id, error=_failed(exc), now=clock.now())
        raise
    return None if stats is None else stats.accounts


@shared_task(name="abonent.billing.tasks.billing_run_finish_task")
def billing_run_finish_task(run_id: int) -> str:
    """Close the run when its chunks are done (the chord's body); returns its status."""
    try:
        run: BillingRun = billing_run_finish(run_id=run_id, now=clock.now())
    except Exception as exc:
        billing_run_fail(run_id=run_id, error=_failed(exc), now=clock.now())
        raise
    return str(run.status)


def stalled_runs_resume(stalled: list[StalledRun], run_task: Callable[..., int]) -> int:
    """Start ``run_task`` (billing's or the bills' run task) for each stalled run: the new run
    takes the old one over and does only what is missing. Returns how many were resumed; one
    refused (taken over meanwhile, its period closed) is said in the log and left."""
    resumed = 0
    for run in stalled:
        try:
            run_task(run.supplier_code, str(run.period), None, channel="resume", chunk_size=run.chunk_size)
        except DomainError as exc:
            log.warning("run %s (%s) not resumed: %s", run.run_id, run_task.__name__, exc)
            continue
        log.warning("run %s (%s) had stalled: taken over by a new run", run.run_id, run_task.__name__)
        resumed += 1
    return resumed


@shared_task(name="abonent.billing.tasks.billing_runs_resume_task", ignore_result=True, expires=55)
def billing_runs_resume_task() -> int:
    """Runs left running with a lease run out: a chunk's job was lost (the Redis broker may
    lose a job it was handing to a worker killed at that moment). Each is taken over by a
    new run of its period, which posts only what is missing. Returns how many were resumed."""
    return stalled_runs_resume(billing_runs_stalled(now=clock.now()), billing_run_task)
