"""Background jobs, sent only after the transaction that asked for them commits.

Without CELERY_BROKER_URL Celery runs tasks eagerly, so in the embedded default a job runs
in the same process right after the commit; with a broker it goes to the workers.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.db import transaction


class _Task(Protocol):
    def apply_async(self, *, kwargs: dict[str, Any]) -> Any: ...


def job_enqueue(task: _Task, /, **kwargs: Any) -> None:
    """Run ``task`` with keyword arguments after the current transaction commits
    (at once when there is none). Arguments must be JSON values (ids, not objects)."""
    transaction.on_commit(lambda: task.apply_async(kwargs=kwargs), robust=False)
