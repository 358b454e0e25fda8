"""The scaled set-up started for real (deploy/local/cluster.py): PostgreSQL, Redis, two
gunicorn app servers behind nginx, two Celery workers and beat, each its own process group.

The cluster is started once for the package. Before the app servers and the workers start,
its seeded database is copied: the copy is the undisturbed reference, where the same billing
runs are made in one process with no broker, and every run the cluster makes through its
workers, under a fault or not, must leave the same ledger.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from tests.conftest import need_binary
from tests.e2e.conftest import browser  # noqa: F401 - the journeys' Chromium, for the cluster's journey

PROJECT = Path(__file__).resolve().parents[2]
SUPPLIERS = ("stolgaz", "yantargaz")
PERIODS = ("2026-09", "2026-10")
# the demo data's "today": its money history ends with August 2026, so September and
# October are the months the tests bill
SEED = ("--accounts", "3000", "--seed", "2026", "--today", "2026-09-20")
CHUNK = 20  # accounts a chunk: a run is 60 to 90 chunks, long enough to be hit in the middle
VISIBILITY = 20  # seconds before the job of a vanished worker is given out again


def _load_cluster_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("abonent_local_cluster", PROJECT / "deploy" / "local" / "cluster.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


cluster_module = _load_cluster_module()
Cluster: Any = cluster_module.Cluster


def ledger_digest(cluster: Any, supplier: str, period: str, database_url: str | None = None) -> list[tuple[Any, ...]]:
    """Every ledger entry billed in ``period`` to the supplier's accounts, as comparable rows."""
    import psycopg

    year, month = period.split("-")
    with psycopg.connect(database_url or cluster.database_url, autocommit=True) as conn:
        rows = conn.execute(
            """
            SELECT a.number, e.kind, e.service, e.period, e.billed_in, e.amount, e.volume, e.posted_on,
                   e.source_key, e.note
            FROM ledger_ledgerentry e
            JOIN customers_personalaccount a ON a.id = e.account_id
            JOIN core_supplier s ON s.id = a.supplier_id
            WHERE s.code = %s AND e.billed_in = %s AND e.kind <> 'payment'
            ORDER BY e.source_key
            """,
            (supplier, int(year) * 100 + int(month)),
        ).fetchall()
    return [tuple(row) for row in rows]


@pytest.fixture(scope="package")
def cluster() -> Iterator[Any]:
    for program, path in (("redis-server", None), ("nginx", "/usr/sbin/nginx"), ("initdb", None)):
        if program == "initdb":
            if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
                need_binary("postgresql")
        else:
            need_binary(program, path)
    # not under pytest's temporary root: PostgreSQL runs as its own user and must reach it
    directory = Path(tempfile.mkdtemp(prefix="abonent-cluster-"))
    directory.chmod(0o755)
    cluster = Cluster(directory, fast=True, visibility_timeout=VISIBILITY)
    try:
        cluster.prepare(seed=SEED)
        reference = cluster.database_copy("reference")
        cluster.launch()
        cluster.reference_url = reference
        yield cluster
    except BaseException:
        _print_logs(cluster)
        raise
    finally:
        cluster.stop()
        if os.environ.get("CLUSTER_KEEP"):  # to read its logs afterwards
            print(f"the cluster's files: {directory}", file=sys.stderr)
        else:
            shutil.rmtree(directory, ignore_errors=True)


def _print_logs(cluster: Any) -> None:
    for log in sorted(cluster.logs.glob("*.log")):
        lines = log.read_text(errors="replace").splitlines()[-40:]
        print(f"----- {log.name} (last {len(lines)} lines)\n" + "\n".join(lines), file=sys.stderr)


@pytest.fixture(scope="package")
def reference(cluster: Any) -> dict[tuple[str, str], list[tuple[Any, ...]]]:
    """The undisturbed runs: the same months billed in one process, no broker, no faults."""
    digests = {}
    env = cluster.env(DATABASE_URL=cluster.reference_url, CELERY_BROKER_URL="", REDIS_URL="")
    for period in PERIODS:
        for supplier in SUPPLIERS:
            subprocess.run(
                [
                    str(PROJECT / ".venv" / "bin" / "abonent"),
                    "billing",
                    "run",
                    "--supplier",
                    supplier,
                    "--period",
                    period,
                    "--chunk-size",
                    str(CHUNK),
                    "--no-progress",
                ],
                env=env,
                cwd=PROJECT,
                check=True,
                capture_output=True,
                timeout=600,
            )
            digests[(supplier, period)] = ledger_digest(cluster, supplier, period, cluster.reference_url)
            assert digests[(supplier, period)], f"the reference run of {supplier} {period} posted nothing"
    return digests


@pytest.fixture(autouse=True)
def _logs_on_failure(request: pytest.FixtureRequest, cluster: Any) -> Iterator[None]:
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        _print_logs(cluster)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)
