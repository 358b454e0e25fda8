"""The embedded beat: the periodic jobs of the schedule run in place when due, each at once
on the first check; one that fails does not keep the others from running."""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from celery.schedules import crontab, schedule
from django.conf import settings

from abonent.config.celery import app
from abonent.core.scheduler import EmbeddedBeat

# The beat closes the database connections that went stale after each job, as a request does.
pytestmark = pytest.mark.django_db

calls: list[str] = []


@app.task(name="tests.core.test_scheduler.record")
def record(*, what: str) -> None:
    calls.append(what)


@app.task(name="tests.core.test_scheduler.fail")
def fail() -> None:
    calls.append("fail")
    raise RuntimeError("the job broke")


class Clock:
    """The time the schedules see, moved by the test."""

    def __init__(self) -> None:
        self.at = dt.datetime(2026, 11, 22, 9, 0, 30, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    calls.clear()
    return Clock()


def beat(clock: Clock) -> EmbeddedBeat:
    return EmbeddedBeat(
        app=app,
        entries={
            "every-minute": {
                "task": "tests.core.test_scheduler.record",
                "schedule": schedule(run_every=dt.timedelta(minutes=1), nowfun=clock),
                "kwargs": {"what": "minute"},
            },
            "broken": {"task": "tests.core.test_scheduler.fail", "schedule": schedule(run_every=60, nowfun=clock)},
            "hourly-at-5": {
                "task": "tests.core.test_scheduler.record",
                "schedule": crontab(minute=5, nowfun=clock),
                "kwargs": {"what": "hourly"},
            },
        },
    )


def test_the_first_check_runs_everything_and_an_immediate_second_nothing(clock: Clock) -> None:
    embedded = beat(clock)

    assert embedded.run_due() == ["every-minute", "broken", "hourly-at-5"]
    assert calls == ["minute", "fail", "hourly"]
    assert embedded.run_due() == []
    assert calls == ["minute", "fail", "hourly"]


def test_an_entry_runs_again_when_its_interval_has_passed(clock: Clock) -> None:
    embedded = beat(clock)
    embedded.run_due()
    calls.clear()

    clock.at += dt.timedelta(seconds=59)
    assert embedded.run_due() == []
    clock.at += dt.timedelta(seconds=1)  # 09:01:30
    assert embedded.run_due() == ["every-minute", "broken"]
    clock.at = dt.datetime(2026, 11, 22, 9, 5, 0, tzinfo=dt.UTC)
    assert embedded.run_due() == ["every-minute", "broken", "hourly-at-5"]
    clock.at += dt.timedelta(seconds=20)
    assert embedded.run_due() == []
    assert calls == ["minute", "fail", "minute", "fail", "hourly"]


def test_a_failing_job_is_logged_and_the_others_still_run(clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    embedded = beat(clock)

    logger = logging.getLogger("abonent.core.scheduler")
    logger.addHandler(caplog.handler)  # the project's loggers do not propagate to the root
    try:
        ran = embedded.run_due()
    finally:
        logger.removeHandler(caplog.handler)

    assert ran == ["every-minute", "broken", "hourly-at-5"]
    assert calls == ["minute", "fail", "hourly"]
    [failure] = caplog.records
    assert failure.getMessage() == "the periodic job broken failed"
    assert failure.exc_info is not None
    assert str(failure.exc_info[1]) == "the job broke"


def test_the_schedule_of_the_install_is_what_the_embedded_beat_reads() -> None:
    embedded = EmbeddedBeat(app=app, entries=settings.CELERY_BEAT_SCHEDULE)

    assert set(embedded.entries) >= {"deliveries-retry-due", "payments-reconcile", "reminders-run-due"}
    for name, (_entry, when) in embedded.entries.items():
        assert when.is_due(dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).is_due, name
    reminders: Any = embedded.entries["reminders-run-due"][1]
    assert (reminders.minute, len(reminders.hour)) == ({5}, 24)


FRESH_PROCESS = """
import django
django.setup()
from celery import current_app
from django.conf import settings
from abonent.core.scheduler import EmbeddedBeat

EmbeddedBeat(app=current_app, entries=settings.CELERY_BEAT_SCHEDULE)
print(sorted(e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] not in current_app.tasks))
"""


def test_in_a_fresh_portal_process_every_task_of_the_schedule_is_known(tmp_path: Path) -> None:
    """The portal's process imports no task module by itself (a worker does when it starts):
    the beat must, or its jobs are "not registered" until some request happens to import them."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "abonent.config.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    }
    env.pop("CELERY_BROKER_URL", None)

    done = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS], env=env, capture_output=True, text=True, timeout=120, check=False
    )

    assert (done.returncode, done.stdout, done.stderr) == (0, "[]\n", "")
