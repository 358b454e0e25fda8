"""A billing run at size: one month of N demo accounts, in steady state.

Seeds ``--accounts`` demo accounts into a fresh database (SQLite in a temporary directory,
or a new database on the PostgreSQL server of ``--database-url``) without their money
history, gives the suppliers the demo prices and norms and some accounts their benefits,
then prepares the two months before the one measured: their billing runs, each followed by
payments (nine accounts in debt in ten pay it all by the due date, the others owe). That is
the steady state of a monthly run: every meter has the state of the month before, so the run
reads little history, and the accounts in debt for two months accrue a penalty.

Then it measures ``billing_run`` of October 2026 for every supplier, in this process
(the preparation runs in a child process, so the peak memory reported, ``ru_maxrss``, is
that of Django and the run): wall time, accounts per second, ledger entries, charge rows,
and beside it the time the database takes to load the same number of ledger-like rows with
no logic at all (PostgreSQL: COPY into a scratch table with a unique key; SQLite: one
``executemany``), the floor a set-based run could approach.

    .venv/bin/python benchmarks/billing.py --accounts 10000
    .venv/bin/python benchmarks/billing.py --accounts 100000 --database-url postgres://abonent@127.0.0.1:55433/postgres
    .venv/bin/python benchmarks/billing.py --accounts 10000 --profile 30   # where the time goes
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import io
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed import _pg_admin, _with_database

TODAY = dt.date(2026, 11, 22)  # the seed's "today": its history ends with October 2026
SEED = 2026
MEASURED = (2026, 10)
PAYERS = 90  # percent of the accounts in debt that pay it all by the due date, each month
PREPARED = 2  # months run and paid before the one measured (a debt 2 months old accrues penalty)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--database-url", default=None, help="postgres://… of a server to create the database on")
    parser.add_argument("--chunk-size", type=int, default=None, help="accounts per chunk (the engine's default)")
    parser.add_argument("--profile", type=int, default=0, help="profile the run and print the top N functions")
    parser.add_argument(
        "--workers", type=int, default=1, help="processes taking the run's chunks at once, as Celery workers do"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)  # the child's part
    parser.add_argument("--worker-of", type=int, default=0, help=argparse.SUPPRESS)  # a worker's run id
    parser.add_argument("--worker", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--moment", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        return _prepare(args)
    if args.worker_of:
        return _work(args)

    work = Path(tempfile.mkdtemp(prefix="abonent-billing-bench-"))
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
        subprocess.run(
            [sys.executable, __file__, "--prepare", "--accounts", str(args.accounts)]
            + (["--chunk-size", str(args.chunk_size)] if args.chunk_size else []),
            env=env,
            check=True,
        )
        print(f"prepared in {time.perf_counter() - started:,.0f} s")
        return _measure(args)
    finally:
        if args.database_url and not args.keep:
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            _pg_admin(args.database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _run_kwargs(args: argparse.Namespace) -> dict[str, int]:
    return {"chunk_size": args.chunk_size} if args.chunk_size else {}


def _prepare(args: argparse.Namespace) -> int:
    """The seed without history, prices, norms, benefits, and the previous month run and paid."""
    import django

    django.setup()
    from django.db import connection

    from abonent.billing.services import billing_run
    from abonent.cli.demo.generator import Rng
    from abonent.cli.demo.history import _SupplierHistory, history_periods, run_moment
    from abonent.cli.demo.seeding import plan_for, seed_run
    from abonent.cli.demo.suppliers import DEMO_SUPPLIERS
    from abonent.cli.demo.tariffs import benefits_ensure, norms_ensure, prices_ensure
    from abonent.core.models import Supplier
    from abonent.core.periods import Period
    from abonent.core.selectors import payment_due_date
    from abonent.ledger.enums import EntryKind, Service
    from abonent.ledger.models import LedgerBalance
    from abonent.ledger.services import NewEntry, entries_post

    started = time.perf_counter()
    seed_run(accounts=args.accounts, seed=SEED, today=TODAY, batch_size=5000, billing=False)
    print(f"{connection.vendor}: seeded {args.accounts:,} accounts in {time.perf_counter() - started:,.0f} s")
    measured = Period(*MEASURED)
    for demo in DEMO_SUPPLIERS:
        supplier = Supplier.objects.get(code=demo.code)
        plan = plan_for(demo, supplier, seed=SEED, today=TODAY)
        periods = history_periods(plan)
        prices_ensure(supplier, demo, first=periods[0].first_day, last=TODAY)
        norms_ensure(supplier, demo, first=periods[0].first_day)
        history = _SupplierHistory(supplier=supplier, plan=plan, seed=SEED, today=TODAY, periods=periods, demo="")
        benefits_ensure(history.benefits())
        for back in range(PREPARED, 0, -1):
            previous = measured - back
            moment = run_moment(supplier, previous, TODAY)
            started = time.perf_counter()
            run = billing_run(
                supplier=supplier, period=previous, now=lambda m=moment: m, today=moment.date(), **_run_kwargs(args)
            )
            seconds = time.perf_counter() - started
            due = payment_due_date(supplier=supplier, period=previous)
            entries = []
            for account_id, number, amount in LedgerBalance.objects.filter(
                account__supplier=supplier, service=Service.GAS, amount__gt=0
            ).values_list("account_id", "account__number", "amount"):
                if Rng(f"{number}:{previous}:bench-payer").random() * 100 < PAYERS:
                    entries.append(
                        NewEntry(
                            account_id=account_id, service=Service.GAS, kind=EntryKind.PAYMENT, period=previous,
                            billed_in=Period.of(due), amount=-amount, posted_on=due,
                            source_key=f"bench:{account_id}:{previous}", pays_period=previous,
                        )
                    )  # fmt: skip
            for at in range(0, len(entries), 20_000):
                entries_post(entries=entries[at : at + 20_000], now=moment + dt.timedelta(days=10))
            print(
                f"{demo.code}: {previous} run in {seconds:,.1f} s ({run.summary['entries']:,} entries), "
                f"{len(entries):,} of the balances in debt paid by the due date"
            )
    return 0


def _scratch_load(rows: int) -> float:
    """Seconds to load ``rows`` ledger-like rows into a scratch table, with no logic."""
    from django.db import connection, transaction

    now = dt.datetime(2026, 11, 3, 1, tzinfo=dt.UTC)
    data = [
        (i, "gas", "charge", 202610, 202610, Decimal("1234.56"), Decimal("123.456"), dt.date(2026, 10, 31), now,
         f"scratch:{i}:gas:2026-10")
        for i in range(rows)
    ]  # fmt: skip
    columns = "account_id, service, kind, period, billed_in, amount, volume, posted_on, created_at, source_key"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_scratch")
        cursor.execute(
            "CREATE TABLE bench_scratch (id integer PRIMARY KEY"
            + (" GENERATED BY DEFAULT AS IDENTITY" if connection.vendor == "postgresql" else "")
            + ", account_id bigint NOT NULL, service varchar(8) NOT NULL, kind varchar(10) NOT NULL,"
            " period integer NOT NULL, billed_in integer NOT NULL, amount numeric(14, 2) NOT NULL,"
            " volume numeric(12, 3), posted_on date NOT NULL, created_at timestamp NOT NULL,"
            " source_key varchar(100) NOT NULL UNIQUE)"
        )
        cursor.execute("CREATE INDEX bench_scratch_account ON bench_scratch (account_id, service, billed_in)")
    started = time.perf_counter()
    with transaction.atomic():
        raw = connection.connection
        if connection.vendor == "postgresql":
            with raw.cursor() as cursor, cursor.copy(f"COPY bench_scratch ({columns}) FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in range(10))
            raw.executemany(
                f"INSERT INTO bench_scratch ({columns}) VALUES ({marks})",
                [(*r[:5], str(r[5]), str(r[6]), r[7].isoformat(), r[8].isoformat(), r[9]) for r in data],
            )
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_scratch")
    return seconds


_worker_peaks: list[int] = []  # ru_maxrss of each worker, KiB


def _work(args: argparse.Namespace) -> int:
    """One worker: the chunks of the run whose position is its number modulo the workers."""
    import django

    django.setup()
    from abonent.billing.models import BillingChunk
    from abonent.billing.services import billing_chunk_process

    moment = dt.datetime.fromisoformat(args.moment)
    ids = list(
        BillingChunk.objects.filter(run_id=args.worker_of).order_by("first_account_id").values_list("id", flat=True)
    )
    for chunk_id in ids[args.worker :: args.workers]:
        billing_chunk_process(chunk_id=chunk_id, now=moment)
    return 0


def _run_parallel(args: argparse.Namespace, supplier: object, period: object, moment: dt.datetime) -> object:
    """Open the run here, let ``--workers`` processes take its chunks, close it here."""
    from abonent.billing.services import billing_run_finish, billing_run_start

    run = billing_run_start(
        supplier=supplier, period=period, now=moment, today=moment.date(), actor_id=None, channel="cli",
        **_run_kwargs(args),
    )  # fmt: skip
    command = [sys.executable, __file__, "--worker-of", str(run.pk), "--workers", str(args.workers)]
    command += ["--moment", moment.isoformat()]
    workers = [subprocess.Popen([*command, "--worker", str(k)]) for k in range(args.workers)]
    failed = False
    for w in workers:
        _pid, status, usage = os.wait4(w.pid, 0)
        _worker_peaks.append(usage.ru_maxrss)
        failed = failed or status != 0
    if failed:
        raise SystemExit("a worker failed")
    return billing_run_finish(run_id=run.pk, now=moment)


def _measure(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.db import connection

    from abonent.billing.models import Charge
    from abonent.billing.services import billing_run
    from abonent.cli.demo.history import run_moment
    from abonent.core.models import Supplier
    from abonent.core.periods import Period
    from abonent.ledger.models import LedgerEntry

    period = Period(*MEASURED)
    suppliers = list(Supplier.objects.order_by("pk"))
    entries_before = LedgerEntry.objects.count()
    profiler = cProfile.Profile() if args.profile else None
    results = []
    for supplier in suppliers:
        moment = run_moment(supplier, period, TODAY)
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        if args.workers > 1:
            run = _run_parallel(args, supplier, period, moment)
        else:
            run = billing_run(
                supplier=supplier, period=period, now=lambda m=moment: m, today=moment.date(), **_run_kwargs(args)
            )
        if profiler is not None:
            profiler.disable()
        results.append((supplier.code, time.perf_counter() - started, run))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.workers > 1:  # the largest worker (the preparation's child is larger: left out)
        peak_mib = max(_worker_peaks) / 1024 if _worker_peaks else 0
    entries = LedgerEntry.objects.count() - entries_before
    charges = Charge.objects.filter(period=period.to_int()).count()
    scratch = _scratch_load(entries)

    seconds = sum(r[1] for r in results)
    accounts = sum(int(r[2].summary["accounts"]) for r in results)
    print()
    print(f"{connection.vendor}: billing run of {period} (steady state: the {PREPARED} months before run and paid)")
    print(
        f"{'supplier':<10} {'accounts':>9} {'chunks':>6} {'seconds':>8} {'acc/s':>7} {'entries':>8} {'penalty ₽':>11}"
    )
    for code, secs, run in results:
        s = run.summary
        print(
            f"{code:<10} {s['accounts']:>9,} {run.chunks:>6} {secs:>8.1f} {s['accounts'] / secs:>7,.0f} "
            f"{s['entries']:>8,} {Decimal(s['penalty']):>11,.2f}"
        )
    print(f"{'all':<10} {accounts:>9,} {'':>6} {seconds:>8.1f} {accounts / seconds:>7,.0f} {entries:>8,}")
    who = f"of each of the {args.workers} workers" if args.workers > 1 else "of the process"
    print(f"charge rows written: {charges:,}; peak memory {who} (ru_maxrss): {peak_mib:,.0f} MiB")
    loader = "COPY" if connection.vendor == "postgresql" else "executemany"
    print(
        f"the same {entries:,} ledger-like rows by {loader} into a scratch table: {scratch:.2f} s "
        f"({entries / scratch:,.0f} rows/s) — the run takes {seconds / scratch:,.0f}× that"
    )
    if profiler is not None:
        for order in ("tottime", "cumulative"):
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats(order).print_stats(args.profile)
            print(f"\n--- profile by {order} ---")
            print(text.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
