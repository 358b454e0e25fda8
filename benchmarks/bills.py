"""Bills (ЕПД) at size: a supplier's month drawn in bulk, and one bill downloaded.

Seeds ``--accounts`` demo accounts into a fresh database (SQLite in a temporary directory, or
a new database on the PostgreSQL server of ``--database-url``) and prepares their money the
way ``billing.py`` does (prices, norms, benefits; August and September 2026 run and mostly
paid), then runs October 2026's billing, so each active account has a bill for October with
an opening debt or credit, a charge, a payment history. That preparation runs in a child
process.

Then it measures, for the bills of October 2026 of every supplier:

- bulk generation: a run opened here for each supplier (``bills_run_start``), its chunks
  shared by ``--workers`` processes (chunk k goes to worker k mod W), each calling
  ``bills_chunk_process`` on its chunks — what a Celery worker runs for ``bills_chunk_task``
  — and the runs closed here. Reported: wall time (processes started, Django and the
  typesetter loaded, every chunk done), bills per second, the workers' own time from their
  first chunk to their last, megabytes written, and each worker's peak memory (``ru_maxrss``);
- one download, ``bill_get``, for ``--downloads`` accounts chosen at random: when the stored
  bill is current (the content read, the file read from storage and checked), and when it is
  out of date (a payment posted to the account after the run, so the bill is drawn again and
  stored): calls per second, p50, p95, p99.

With ``--profile N`` one chunk of September's bills (the same work as October's) is drawn in
this process under cProfile first, and the time is split into what the bill is made of:
content read from the database, the QR code, Typst, cutting the batch's PDF into one file a
bill, storage, the database writes.

    .venv/bin/python benchmarks/bills.py --accounts 10000
    .venv/bin/python benchmarks/bills.py --accounts 10000 --workers 2 --profile 30
    .venv/bin/python benchmarks/bills.py --accounts 100000 --database-url postgres://abonent@127.0.0.1:55433/postgres

The files land in the benchmark's temporary directory (one bill is about 40 KB: 1 000 000
accounts make about 40 GB of bills; mind the disk).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed import _pg_admin, _with_database

TODAY = dt.date(2026, 11, 22)  # the seed's "today": its history ends with October 2026
MEASURED = (2026, 10)
NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)  # when the bills are drawn


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--database-url", default=None, help="postgres://… of a server to create the database on")
    parser.add_argument("--workers", type=int, default=2, help="processes drawing the runs' chunks at once")
    parser.add_argument("--chunk-size", type=int, default=None, help="accounts per chunk (the service's default)")
    parser.add_argument("--downloads", type=int, default=200, help="bill_get calls per case")
    parser.add_argument("--profile", type=int, default=0, help="profile one chunk and print the top N functions")
    parser.add_argument("--keep", action="store_true", help="keep the database and the files afterwards")
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)  # the child's part
    parser.add_argument("--worker", type=int, default=-1, help=argparse.SUPPRESS)  # a worker's number
    parser.add_argument("--runs", default="", help=argparse.SUPPRESS)  # the runs' ids, for a worker
    args = parser.parse_args()
    if args.prepare:
        return _prepare(args)
    if args.worker >= 0:
        return _work(args)

    work = Path(tempfile.mkdtemp(prefix="abonent-bills-bench-"))
    name = f"abonent_bench_{os.getpid()}"
    if args.database_url:
        _pg_admin(args.database_url, f"CREATE DATABASE {name}")
        url = _with_database(args.database_url, name)
    else:
        url = f"sqlite:///{work / 'abonent.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": url, "ABONENT_VAR_DIR": str(work)}
    env["DJANGO_SETTINGS_MODULE"] = "abonent.config.settings"
    os.environ.update(env)
    try:
        subprocess.run([sys.executable, "-m", "abonent", "migrate", "--noinput", "-v", "0"], env=env, check=True)
        started = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--prepare", "--accounts", str(args.accounts)], env=env, check=True)
        print(f"prepared in {time.perf_counter() - started:,.0f} s")
        return _measure(args, work)
    finally:
        if args.database_url and not args.keep:
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            _pg_admin(args.database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if args.keep:
            print(f"kept: {work}" + (f" and the database {name}" if args.database_url else ""))
        else:
            shutil.rmtree(work, ignore_errors=True)


def _prepare(args: argparse.Namespace) -> int:
    """The seed and two months run and paid (``billing.py``), then October's run."""
    from billing import _prepare as billing_prepare

    billing_prepare(argparse.Namespace(accounts=args.accounts, chunk_size=None))
    from abonent.billing.services import billing_run
    from abonent.cli.demo.history import run_moment
    from abonent.core.models import Supplier
    from abonent.core.periods import Period

    period = Period(*MEASURED)
    for supplier in Supplier.objects.order_by("pk"):
        moment = run_moment(supplier, period, TODAY)
        started = time.perf_counter()
        run = billing_run(supplier=supplier, period=period, now=lambda m=moment: m, today=moment.date())
        print(
            f"{supplier.code}: {period} run in {time.perf_counter() - started:,.1f} s "
            f"({run.summary['accounts']:,} accounts billed)"
        )
    return 0


def _work(args: argparse.Namespace) -> int:
    """One worker: the chunks of the runs whose position is its number modulo the workers.
    Prints what it did as JSON on its last line."""
    begun = time.perf_counter()
    import django

    django.setup()
    from abonent.documents.models import BillChunk
    from abonent.documents.services import bills_chunk_process

    runs = [int(run_id) for run_id in args.runs.split(",")]
    ids = list(
        BillChunk.objects.filter(run_id__in=runs).order_by("run_id", "first_account_id").values_list("id", flat=True)
    )
    mine = ids[args.worker :: args.workers]
    ready = time.perf_counter()
    drawn = 0
    for chunk_id in mine:
        stats = bills_chunk_process(chunk_id=chunk_id, now=NOW)
        drawn += stats.drawn if stats is not None else 0
    done = time.perf_counter()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "chunks": len(mine),
                "drawn": drawn,
                "setup": ready - begun,
                "busy": done - ready,
                "cpu": cpu.ru_utime + cpu.ru_stime,
            }
        )
    )
    return 0


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def _folder_bytes(root: Path, period: object) -> int:
    """The size of the period's files on disk (``bills/<supplier>/<period>/``)."""
    return sum(f.stat().st_size for f in root.glob(f"bills/*/{period}/*") if f.is_file())


def _measure(args: argparse.Namespace, work: Path) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from abonent.core.models import Supplier
    from abonent.core.periods import Period
    from abonent.documents.models import Bill
    from abonent.documents.services import bills_run_finish, bills_run_start

    period = Period(*MEASURED)
    chunk = {"chunk_size": args.chunk_size} if args.chunk_size else {}
    suppliers = list(Supplier.objects.order_by("pk"))
    if args.profile:
        _profile_chunk(args, suppliers[0])

    # --- bulk ---------------------------------------------------------------------------
    started = time.perf_counter()
    runs = [
        bills_run_start(supplier=s, period=period, now=NOW, actor_id=None, channel="cli", **chunk) for s in suppliers
    ]
    command = [sys.executable, __file__, "--workers", str(args.workers), "--runs", ",".join(str(r.pk) for r in runs)]
    workers = [
        subprocess.Popen([*command, "--worker", str(k)], stdout=subprocess.PIPE, text=True) for k in range(args.workers)
    ]
    reports: list[dict[str, Any]] = []
    peaks: list[int] = []
    failed = False
    for w in workers:
        _pid, status, usage = os.wait4(w.pid, 0)
        peaks.append(usage.ru_maxrss)
        failed = failed or status != 0
        assert w.stdout is not None
        lines = w.stdout.read().strip().splitlines()
        if lines:
            reports.append(json.loads(lines[-1]))
    if failed:
        raise SystemExit("a worker failed")
    finished = [bills_run_finish(run_id=r.pk, now=NOW) for r in runs]
    wall = time.perf_counter() - started
    assert all(r is not None for r in finished), "a run was left unfinished"

    accounts = sum(int(r.summary["accounts"]) for r in finished if r is not None)
    drawn = sum(int(r.summary["drawn"]) for r in finished if r is not None)
    written = sum(int(r.summary["bytes"]) for r in finished if r is not None)
    chunks = sum(r.chunks for r in finished if r is not None)
    busy = max(r["busy"] for r in reports)
    setup = max(r["setup"] for r in reports)
    cpu = sum(r["cpu"] for r in reports)
    media = Path(settings.MEDIA_ROOT)
    print()
    print(
        f"{connection.vendor}: bills of {period} for {args.accounts:,} accounts, {len(suppliers)} suppliers, "
        f"{chunks} chunks, {args.workers} worker processes"
    )
    print(f"accounts with a bill: {accounts:,}; drawn: {drawn:,}")
    print(
        f"wall time {wall:,.1f} s: {drawn / wall:,.1f} bills/s "
        f"(the workers' own time, first chunk to last: {busy:,.1f} s, {drawn / busy:,.1f} bills/s; "
        f"starting a worker: {setup:,.1f} s; CPU of the workers {cpu:,.1f} s, {cpu / drawn * 1000:,.1f} ms a bill)"
    )
    print(
        f"written: {written / 1e6:,.1f} MB in the runs' summaries, {written / max(drawn, 1) / 1024:,.1f} KiB a bill; "
        f"the period's files on disk {_folder_bytes(media, period) / 1e6:,.1f} MB"
    )
    print("peak memory of each worker (ru_maxrss): " + ", ".join(f"{p / 1024:,.0f} MiB" for p in peaks))

    # --- downloads ----------------------------------------------------------------------
    _downloads(args, period)
    print(f"bills stored: {Bill.objects.count():,}")
    return 0


def _downloads(args: argparse.Namespace, period: Any) -> None:
    from abonent.customers.models import PersonalAccount
    from abonent.documents.models import Bill
    from abonent.documents.services import bill_get
    from abonent.ledger.enums import EntryKind, Service
    from abonent.ledger.services import NewEntry, entries_post

    ids = list(Bill.objects.filter(period=period).values_list("account_id", flat=True))
    picked = random.Random(2026).sample(ids, min(args.downloads, len(ids)))
    accounts = {a.pk: a for a in PersonalAccount.objects.filter(pk__in=picked).select_related("supplier")}

    def timed(label: str, expect_drawn: bool) -> None:
        samples = []
        redrawn = 0
        begun = time.perf_counter()
        for k, account_id in enumerate(picked):
            now = NOW + dt.timedelta(hours=1, seconds=k)
            t0 = time.perf_counter()
            got = bill_get(account=accounts[account_id], period=period, now=now)
            samples.append((time.perf_counter() - t0) * 1000)
            redrawn += got.bill.rendered_at == now
        total = time.perf_counter() - begun
        assert redrawn == (len(picked) if expect_drawn else 0), (label, redrawn)
        p50, p95, p99 = _percentiles(samples)
        print(
            f"{label:<44} {len(picked) / total:>8.1f} calls/s   p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   "
            f"p99 {p99:7.1f} ms"
        )

    print()
    print(f"bill_get, {len(picked)} accounts at random, one process:")
    timed("stored bill current (served from storage)", expect_drawn=False)
    # a payment after the run: what the bill says changes, so the next download draws it again
    entries = [
        NewEntry(
            account_id=account_id, service=Service.GAS, kind=EntryKind.PAYMENT, period=period, billed_in=period,
            amount=Decimal("-100.00"), posted_on=period.last_day, source_key=f"bench-late-payment:{account_id}",
        )
        for account_id in picked
    ]  # fmt: skip
    entries_post(entries=entries, now=NOW)
    timed("stored bill out of date (drawn and stored)", expect_drawn=True)


def _profile_chunk(args: argparse.Namespace, supplier: Any) -> None:
    """One chunk of September's bills drawn here under cProfile, the time split by what it
    goes to."""
    from abonent.core.periods import Period
    from abonent.customers.models import PersonalAccount
    from abonent.documents.services import bill_get, bills_chunk_process, bills_run_finish, bills_run_start

    period = Period(*MEASURED).previous()
    chunk = {"chunk_size": args.chunk_size} if args.chunk_size else {}
    # warm up with a bill of another supplier: the typesetter's fonts, Django's first queries
    other = PersonalAccount.objects.exclude(supplier=supplier).filter(ledger_entries__billed_in=period).first()
    if other is not None:
        bill_get(account=other, period=period, now=NOW)
    run = bills_run_start(supplier=supplier, period=period, now=NOW, actor_id=None, channel="cli", **chunk)
    ids = list(run.parts.order_by("first_account_id").values_list("id", flat=True))
    profiler = cProfile.Profile()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    profiler.enable()
    stats = bills_chunk_process(chunk_id=ids[0], now=NOW)
    profiler.disable()
    wall = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    for chunk_id in ids[1:]:  # the rest, so the run can be closed (not measured)
        bills_chunk_process(chunk_id=chunk_id, now=NOW)
    bills_run_finish(run_id=run.pk, now=NOW)
    assert stats is not None
    print()
    print(
        f"profile: one chunk of {period}, {stats.drawn} bills drawn in {wall:.2f} s under cProfile "
        f"({stats.drawn / wall:.1f} bills/s; CPU of the process {cpu:.2f} s — more than the wall time means Typst's "
        f"threads)"
    )
    table = pstats.Stats(profiler)
    entries: dict[tuple[str, int, str], tuple[Any, ...]] = table.stats  # type: ignore[attr-defined]

    def cumulative(match: str, where: str = "") -> float:
        return sum(v[3] for (file, _line, func), v in entries.items() if match in func and where in file)

    qr = cumulative("qr_png", "documents/qr.py")
    png_files = cumulative("write_bytes", "pathlib")  # the batch's QR codes, for Typst to read
    typeset = cumulative("compile", "documents/render.py")
    typst = cumulative("compile' of 'typst")
    stored = cumulative("save", "django/core/files/storage")
    parts = [
        ("content read (BillBook: queries and Python)", cumulative("__init__", "documents/content.py")
         + cumulative("contents", "documents/content.py")),
        ("QR codes (zxing-cpp and the PNG)", qr),
        ("QR code files written for Typst", png_files),
        ("Typst (compiling the batch's document)", typst),
        ("the batch's data for Typst (JSON)", typeset - qr - png_files - typst),
        ("cutting the batch into one PDF a bill (pikepdf)", cumulative("bills_pdf", "documents/render.py") - typeset),
        ("storage (the bills' files written)", stored),
        ("Bill rows (the old file's name, update_or_create)", cumulative("_store", "documents/services.py") - stored),
    ]  # fmt: skip
    parts.append(("the rest (the chunk's bookkeeping, commits)", wall - sum(seconds for _label, seconds in parts)))
    for label, seconds in parts:
        print(f"  {label:<50} {seconds:6.2f} s  {seconds / wall * 100:5.1f} %")
    print(f"  {'all of the chunk':<50} {wall:6.2f} s")
    for order in ("tottime", "cumulative"):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(order).print_stats(args.profile)
        print(f"\n--- profile by {order} ---")
        print(text.getvalue())


if __name__ == "__main__":
    sys.exit(main())
