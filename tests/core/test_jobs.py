"""Jobs are sent after the commit; a broker that cannot be reached does not turn the
committed request into an error (core.jobs)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnreachable

from abonent.core.jobs import job_enqueue, retry_countdown

pytestmark = pytest.mark.django_db(transaction=True)


class Task:
    name = "abonent.tests.job"

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error
        self.sent: list[dict[str, Any]] = []

    def apply_async(self, *, kwargs: dict[str, Any]) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append(kwargs)


def test_a_job_is_sent_only_when_the_transaction_commits() -> None:
    task = Task()
    with transaction.atomic():
        job_enqueue(task, payment_id=7)
        assert task.sent == []
    assert task.sent == [{"payment_id": 7}]

    def rolled_back() -> None:
        with transaction.atomic():
            job_enqueue(task, payment_id=8)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        rolled_back()
    assert task.sent == [{"payment_id": 7}]  # nothing sent for what was not committed


def test_an_unreachable_broker_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    task = Task(BrokerUnreachable("Error 111 connecting to 127.0.0.1:6379. Connection refused."))
    with caplog.at_level(logging.ERROR, logger="abonent.core.jobs"), transaction.atomic():
        job_enqueue(task, payment_id=7)
    [record] = caplog.records
    assert "broker is unreachable" in record.getMessage()
    assert (record.task, record.job_kwargs) == ("abonent.tests.job", {"payment_id": 7})  # type: ignore[attr-defined]


def test_any_other_error_of_a_job_still_surfaces() -> None:
    """In-process (no broker) a job's own failure is a bug to see, not a broker to wait for."""

    def committed() -> None:
        with transaction.atomic():
            job_enqueue(Task(ValueError("a bug")), payment_id=7)

    with pytest.raises(ValueError, match="a bug"):
        committed()


@pytest.mark.parametrize(("retries", "seconds"), [(0, 2), (1, 4), (4, 32), (5, 60), (7, 60)])
def test_a_job_whose_database_went_away_waits_longer_each_time(retries: int, seconds: int) -> None:
    assert retry_countdown(retries) == seconds


class BoundTask:
    """What retry_when_database_gone reads of a bound Celery task."""

    max_retries = 8

    def __init__(self, *, retries: int, eager: bool = False) -> None:
        self.request = type("Request", (), {"retries": retries, "is_eager": eager})()
        self.retried: list[tuple[BaseException, int]] = []

    def retry(self, *, exc: BaseException, countdown: int) -> Exception:
        self.retried.append((exc, countdown))
        return RuntimeError("retry")  # what Celery's retry returns to be raised


def test_a_job_whose_database_went_away_is_tried_again_until_its_retries_run_out() -> None:
    from django.db import OperationalError

    from abonent.core.jobs import retry_when_database_gone

    gone = OperationalError("server closed the connection unexpectedly")
    task = BoundTask(retries=2)
    with pytest.raises(RuntimeError, match="retry"):
        retry_when_database_gone(task, gone)
    assert task.retried == [(gone, 8)]

    for spent in (BoundTask(retries=8), BoundTask(retries=0, eager=True)):  # no retries left; in-process
        retry_when_database_gone(spent, gone)
        assert spent.retried == []
    other = BoundTask(retries=0)
    retry_when_database_gone(other, ValueError("a bug"))  # not the database: fail at once
    assert other.retried == []
