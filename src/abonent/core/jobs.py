"""Background jobs, sent only after the transaction that asked for them commits.

Without CELERY_BROKER_URL Celery runs tasks eagerly, so in the embedded default a job runs
in the same process right after the commit; with a broker it goes to the workers.

When the broker cannot be reached (Redis restarting) sending waits a few seconds
(``CELERY_TASK_PUBLISH_RETRY_POLICY``) and then gives up with an error in the log, not in the
answer: what asked for the job has been committed, and every job has a sweep that finds its
work again (the delivery log's retries, the reconciliation of pending payments, runs taken
over by a new run), so the user is not told of a failure that did not happen.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from django.db import InterfaceError, OperationalError, transaction
from kombu.exceptions import OperationalError as BrokerUnreachable
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# The database went away under a job (PostgreSQL restarting, a connection cut): worth
# running the job again in a moment rather than failing what it belongs to.
DATABASE_GONE = (OperationalError, InterfaceError)


class _Task(Protocol):
    name: str

    def apply_async(self, *, kwargs: dict[str, Any]) -> Any: ...


def _send(task: _Task, kwargs: dict[str, Any]) -> None:
    try:
        task.apply_async(kwargs=kwargs)
    except (BrokerUnreachable, RedisError, ConnectionError) as exc:
        log.error(
            "job not sent: the broker is unreachable; its sweep will find the work",
            extra={"task": task.name, "job_kwargs": kwargs, "error": str(exc)},
        )


def job_enqueue(task: _Task, /, **kwargs: Any) -> None:
    """Run ``task`` with keyword arguments after the current transaction commits
    (at once when there is none). Arguments must be JSON values (ids, not objects)."""
    transaction.on_commit(lambda: _send(task, kwargs), robust=False)


def retry_countdown(retries: int) -> int:
    """Seconds before the next try of a job whose database went away: 2, 4, 8, … up to 60."""
    return min(2 ** (retries + 1), 60)


def retry_when_database_gone(task: Any, exc: BaseException) -> None:
    """Raise the bound job's retry when ``exc`` is the database going away and the job may be
    tried again (not in-process, where the caller waits for it); return otherwise, so the
    caller goes on to fail what the job belongs to."""
    request = task.request
    if isinstance(exc, DATABASE_GONE) and not request.is_eager and request.retries < (task.max_retries or 0):
        raise task.retry(exc=exc, countdown=retry_countdown(request.retries)) from exc
