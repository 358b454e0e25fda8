"""Registries of one bank imported at the same moment (two operators, or a retried upload
while the first is still running): a payment in both is posted once. Real concurrency needs
PostgreSQL: the SQLite test database is in memory."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection

from abonent.core.models import Supplier
from abonent.ledger.models import LedgerEntry
from abonent.ledger.selectors import balances_get, ledger_verify
from abonent.payments.models import RegistryFile, RegistryLine
from abonent.payments.registries import RegistryAlreadyLoaded, RegistryReport, registry_import
from tests.factories import account_make

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
ACCOUNTS = ("500000000017", "500000000018", "500000000019")
SHARED = 300  # references in both files


def registry(references: range) -> bytes:
    lines = [f"05.11.2026;14:23:05;{ACCOUNTS[n % 3]};{n}.50;10.2026;Плательщик {n};R{n}" for n in references]
    total = sum(Decimal(f"{n}.50") for n in references)
    return ("\n".join([*lines, f"={len(lines)};{total}"]) + "\n").encode()


def at_once(*calls: Callable[[], object]) -> list[object]:
    """The calls run in threads of their own, each with its own connection, started together."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait(10)
        try:
            results[index] = calls[index]()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the SQLite test database is in memory, where concurrent writers fail instead of waiting")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_files_of_a_bank_at_once_post_a_shared_payment_once(supplier: Supplier) -> None:
    postgres_only()
    accounts = [account_make(supplier=supplier, number=number) for number in ACCOUNTS]
    first, second = range(1, 501), range(201, 701)  # R201…R500 in both

    def load(references: range, name: str) -> Callable[[], RegistryReport]:
        content = registry(references)
        return lambda: registry_import(supplier=supplier, source="sber", content=content, file_name=name, now=NOW)

    results = at_once(load(first, "first.txt"), load(second, "second.txt"))

    reports = [r for r in results if isinstance(r, RegistryReport)]
    assert len(reports) == 2, results
    counts = sorted((r.file_name, r.lines, r.posted, r.duplicates, r.failed) for r in reports)
    assert counts in (
        [("first.txt", 500, 500, 0, 0), ("second.txt", 500, 200, 300, 0)],
        [("first.txt", 500, 200, 300, 0), ("second.txt", 500, 500, 0, 0)],
    )
    assert sorted(LedgerEntry.objects.values_list("source_key", flat=True)) == sorted(
        f"registry:sber:R{n}" for n in range(1, 701)
    )
    statuses: dict[str, list[str]] = {}
    for reference, status in RegistryLine.objects.values_list("reference", "status"):
        statuses.setdefault(reference, []).append(status)
    assert {ref: sorted(s) for ref, s in statuses.items()} == {
        f"R{n}": ["duplicate", "posted"] if 201 <= n <= 500 else ["posted"] for n in range(1, 701)
    }
    assert sorted(RegistryFile.objects.values_list("name", "lines_posted", "lines_duplicate")) == [
        (c[0], c[2], c[3]) for c in counts
    ]
    paid = sum(Decimal(f"{n}.50") for n in range(1, 701))
    assert -sum(balances_get(account=a)["gas"] for a in accounts) == paid
    assert ledger_verify() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_file_twice_at_once_is_loaded_once(supplier: Supplier) -> None:
    postgres_only()
    for number in ACCOUNTS:
        account_make(supplier=supplier, number=number)
    content = registry(range(1, 2001))

    def load() -> RegistryReport:
        return registry_import(supplier=supplier, source="sber", content=content, file_name="r.txt", now=NOW)

    results = at_once(load, load)

    assert sorted(type(r).__name__ for r in results) == ["RegistryAlreadyLoaded", "RegistryReport"], results
    (refused,) = [r for r in results if isinstance(r, RegistryAlreadyLoaded)]
    assert refused.text == "Этот файл уже загружен 20.11.2026 12:00: проведено строк 2000"
    assert RegistryFile.objects.count() == 1
    assert LedgerEntry.objects.count() == 2000
    assert RegistryLine.objects.count() == 2000
