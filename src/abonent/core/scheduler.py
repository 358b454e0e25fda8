"""Beat for the embedded default: the periodic jobs of ``CELERY_BEAT_SCHEDULE`` run in a
thread of the portal's own process, where no Celery beat runs (jobs are in-process).

It reads the same schedule beat reads, with Celery's own schedule objects deciding when an
entry is due, and runs each due task in place. Every periodic job is safe to run twice or
late (the delivery sweep claims rows, the reminders keep one notification per occasion),
so a restart that runs them at once does no harm. At scale this thread is off and beat
sends the same tasks to the workers.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from celery import Celery
from celery.schedules import BaseSchedule, schedule
from django.db import close_old_connections

logger = logging.getLogger(__name__)

_started: threading.Thread | None = None
_lock = threading.Lock()


def _as_schedule(value: Any, app: Celery) -> BaseSchedule:
    if isinstance(value, BaseSchedule):
        return value
    if isinstance(value, dt.timedelta):
        return schedule(run_every=value, app=app)
    return schedule(run_every=dt.timedelta(seconds=float(value)), app=app)


class EmbeddedBeat:
    """Checks the schedule every ``tick`` seconds and runs what is due."""

    def __init__(self, *, app: Celery, entries: dict[str, dict[str, Any]], tick: float = 20) -> None:
        # The task modules, as a worker imports them when it starts: in the portal's process
        # nothing else may have imported them yet, and a task not imported is not known.
        app.loader.import_default_modules()
        self.app = app
        self.entries = {name: (entry, _as_schedule(entry["schedule"], app)) for name, entry in entries.items()}
        self.tick = tick
        self.last_run: dict[str, dt.datetime] = {}
        self.stop = threading.Event()

    def run_due(self) -> list[str]:
        """Run the entries that are due now (each first at once); returns their names."""
        ran = []
        for name, (entry, when) in self.entries.items():
            last = self.last_run.get(name)
            if last is not None and not when.is_due(last).is_due:
                continue
            self.last_run[name] = when.now()
            try:
                self.app.tasks[entry["task"]].apply(kwargs=entry.get("kwargs") or {})
            except Exception:
                logger.exception("the periodic job %s failed", name)
            finally:
                close_old_connections()
            ran.append(name)
        return ran

    def loop(self) -> None:
        while not self.stop.is_set():
            self.run_due()
            self.stop.wait(self.tick)


def scheduler_start(*, app: Celery, entries: dict[str, dict[str, Any]]) -> threading.Thread | None:
    """Start the embedded beat once per process (a daemon thread); None if it runs already."""
    global _started
    with _lock:
        if _started is not None and _started.is_alive():
            return None
        beat = EmbeddedBeat(app=app, entries=entries)
        _started = threading.Thread(target=beat.loop, name="embedded-beat", daemon=True)
        _started.start()
        logger.info("periodic jobs run in this process: %s", ", ".join(entries))
        return _started
