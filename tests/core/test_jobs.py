from typing import Any

import pytest
from django.db import transaction

from abonent.core.jobs import job_enqueue


class Recorder:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def apply_async(self, *, kwargs: dict[str, Any]) -> None:
        self.calls.append(kwargs)


@pytest.mark.django_db(transaction=True)
def test_job_is_sent_after_commit() -> None:
    task = Recorder()

    with transaction.atomic():
        job_enqueue(task, account_id=7)
        assert task.calls == []

    assert task.calls == [{"account_id": 7}]


@pytest.mark.django_db(transaction=True)
def test_job_is_not_sent_when_the_transaction_rolls_back() -> None:
    task = Recorder()

    def use_case() -> None:
        with transaction.atomic():
            job_enqueue(task, account_id=7)
            raise RuntimeError("the use case failed")

    with pytest.raises(RuntimeError):
        use_case()

    assert task.calls == []
