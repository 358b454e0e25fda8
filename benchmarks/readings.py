"""Meter readings at size: submissions on the last day of the supplier's window, among N
demo accounts.

Seeds ``--accounts`` demo accounts into a fresh database (SQLite in a temporary directory,
or a new database on the PostgreSQL server of ``--database-url``), links a user to each of
a sample of accounts (one working meter each), then measures with ``now`` at 18:00 local
time of the supplier on the last day of its window, in months after the demo history
(November 2026, then December …), each value the meter's last standing reading plus a
plausible month's consumption:

- ``reading_submit`` for ``--tries`` meters of different accounts, one after another, with
  its SQL queries; then a correction of each (a new value for the same period) and a replay
  of the correction (the same submission key: nothing new is stored);
- sustained load: ``--workers`` processes (or, with ``--threads``, threads of this one
  process, who share its interpreter lock), each with its own connection, submitting for
  meters of their own for ``--seconds``: submissions per second and latency per worker
  count;
- a hot spot: as many workers as the largest worker count submitting for one meter at the
  same moment, ``--hot-rounds`` times (the meter's row lock puts them in a line); then a
  check that exactly one reading stands for the meter and period;
- reads: ``reading_form`` and ``readings_history`` of meters with two years of history.

The link is built before each call as ``account_link_get`` returns it (account and
supplier loaded, the user not), outside the time measured.

    .venv/bin/python benchmarks/readings.py --accounts 10000
    .venv/bin/python benchmarks/readings.py --accounts 1000000 --database-url postgres://postgres@127.0.0.1:55432/postgres
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zoneinfo
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed import _pg_admin, _with_database

TODAY = dt.date(2026, 11, 22)  # the seed's "today": its readings end with October 2026
SEED = 2026
POOL_MAX = 20_000  # accounts linked for the measurements
MONTHS_MAX = 60  # months of submissions a meter's value must have room for
HISTORY_MIN = 20  # readings a meter needs to count as "two years of history"
BARRIER_SECONDS = 120  # how long a worker waits for the others before giving up
IN_CHUNK = 900  # SQLite's old limit on the parameters of one query
CORRECTION = Decimal("1.000")  # a subscriber who misread a digit sends the value again, 1 m³ more

_TRANSACTION = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}  # not counted as queries


@dataclass(frozen=True)
class Target:
    """A meter of a linked account, with what its values are made from."""

    meter_id: int
    link_id: int
    user_id: int
    account: Any  # PersonalAccount with its supplier loaded
    base: Decimal  # the last standing reading of the seed (or the value at installation)
    step: Decimal  # the month's consumption it is given
    history: int  # readings in the seed

    def value(self, month: int) -> Decimal:
        return self.base + self.step * month


def _percentiles(times: Sequence[float]) -> str:
    return f"{1000 / statistics.mean(times):>9.1f} {_latencies(times)}"


def _latencies(times: Sequence[float]) -> str:
    if len(times) < 2:
        return f"{'–':>8} {'–':>8} {'–':>8}"
    q = statistics.quantiles(sorted(times), n=100)
    return f"{q[49]:>8.2f} {q[94]:>8.2f} {q[98]:>8.2f}"


def _text(value: Decimal) -> str:
    """A value as a person types it: 1234,567."""
    return f"{value:f}".replace(".", ",")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--tries", type=int, default=300, help="calls per sequential case (default 300)")
    parser.add_argument("--seconds", type=float, default=20, help="length of each sustained run (default 20)")
    parser.add_argument("--workers", default="1,2,4,8", help="worker counts of the sustained runs (default 1,2,4,8)")
    parser.add_argument("--threads", action="store_true", help="workers are threads of one process, not processes")
    parser.add_argument("--hot-rounds", type=int, default=20, help="submissions per worker for one meter (default 20)")
    parser.add_argument("--explain", action="store_true", help="print the query plans of one submission")
    parser.add_argument("--database-url", default=None, help="postgres://… of a server to create the database on")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if args.tries < 20:
        parser.error("--tries: at least 20")
    try:
        args.worker_counts = sorted({int(w) for w in args.workers.split(",") if w.strip()})
    except ValueError:
        parser.error("--workers: worker counts separated by commas, e.g. 1,2,4,8")
    if not args.worker_counts or args.worker_counts[0] < 1:
        parser.error("--workers: each count at least 1")
    if args.seconds <= 0 or args.hot_rounds < 1:
        parser.error("--seconds and --hot-rounds: more than 0")

    work = Path(tempfile.mkdtemp(prefix="abonent-readings-bench-"))
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
        return _run(args, work)
    finally:
        if args.database_url and not args.keep:
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            _pg_admin(args.database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _database_mib(work: Path) -> float:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return cursor.fetchone()[0] / 2**20  # type: ignore[index]
    return sum(p.stat().st_size for p in work.glob("abonent.sqlite3*")) / 2**20


def _run(args: argparse.Namespace, work: Path) -> int:
    import django

    django.setup()
    from django.db import connection, reset_queries

    from abonent.cli.demo.seeding import seed_run
    from abonent.metering.models import Reading

    started = time.perf_counter()
    seed_run(accounts=args.accounts, seed=SEED, today=TODAY, batch_size=5000, billing=False)
    seconds = time.perf_counter() - started
    readings = Reading.objects.count()
    print(
        f"{connection.vendor}: seeded {args.accounts:,} accounts ({readings:,} readings) in {seconds:,.0f} s; "
        f"database size {_database_mib(work):,.0f} MiB"
    )
    reset_queries()  # the log of a debug run is full after the seed

    bench = _Bench(args)
    print(
        f"{len(bench.targets):,} meters of as many accounts linked for the run; "
        f"{'threads' if args.threads else 'processes'} as workers"
    )
    if args.explain:
        bench.explain()
    print()
    print(f"{'case':<34} {'calls/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  queries")
    bench.reads()
    failed = bench.sequential()
    print()
    print(
        f"{'workers':<10} {'seconds':>7} {'submitted':>9} {'errors':>6} {'per s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
    )
    for workers in args.worker_counts:
        failed |= bench.sustained(workers)
    failed |= bench.hot_spot(args.worker_counts[-1])
    print(f"database size afterwards {_database_mib(work):,.0f} MiB")
    return 1 if failed else 0


class _Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.targets, self.hot = self._link()
        self.month = 1  # the next month to submit in: 1 is November 2026, the first after the seed
        self._nows: dict[tuple[int, int], dt.datetime] = {}
        self._now_table()

    # --- Set-up (not timed) -----------------------------------------------------------

    def _link(self) -> tuple[list[Target], list[Target]]:
        """Users linked to a sample of active accounts across the whole table, one working
        meter of each; and the users who share the hot spot's account."""
        from django.db.models import Max, Min

        from abonent.core.models import LinkProof
        from abonent.customers.enums import AccountStatus
        from abonent.customers.models import AccountLink, PersonalAccount
        from abonent.identity.models import User
        from abonent.metering.enums import MeterStatus
        from abonent.metering.models import STANDING, Meter, Reading

        bounds = Meter.objects.aggregate(low=Min("pk"), high=Max("pk"))
        rng = random.Random(7)
        wanted = min(POOL_MAX, self.args.accounts) + 1
        span = range(bounds["low"], bounds["high"] + 1)
        ids = rng.sample(span, min(len(span), wanted * 2))
        meters: dict[int, Meter] = {}  # by account
        for at in range(0, len(ids), IN_CHUNK):
            for meter in Meter.objects.filter(
                pk__in=ids[at : at + IN_CHUNK],
                status=MeterStatus.ACTIVE,
                account__status=AccountStatus.ACTIVE,
                installed_on__lt=TODAY,
                decimals=3,
            ):
                meters.setdefault(meter.account_id, meter)
        last: dict[int, tuple[Decimal, int]] = {}
        chosen = list(meters.values())
        for at in range(0, len(chosen), IN_CHUNK):
            rows = Reading.objects.filter(
                meter_id__in=[m.pk for m in chosen[at : at + IN_CHUNK]], status__in=STANDING
            ).order_by("meter_id", "period")
            for meter_id, value in rows.values_list("meter_id", "value"):
                count = last.get(meter_id, (Decimal(0), 0))[1]
                last[meter_id] = (value, count + 1)
        plans = []
        for meter in chosen:
            base, history = last.get(meter.pk, (meter.initial_value, 0))
            step = Decimal(rng.randint(5_000, 40_000)).scaleb(-3)
            if base + step * MONTHS_MAX < 10**meter.digits:
                plans.append((meter, base, step, history))
        plans = plans[:wanted]
        if len(plans) < self.args.tries + 2:
            raise SystemExit("too few meters for the number of tries: raise --accounts or lower --tries")
        # the last meter is the hot spot's: its account gets a user for each worker
        extra = self.args.worker_counts[-1] - 1
        now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
        users = [User(username=f"bench-{n}", phone=f"+7900{n:07d}", is_active=True) for n in range(len(plans) + extra)]
        User.objects.bulk_create(users, batch_size=2000)
        user_ids = list(User.objects.filter(username__startswith="bench-").order_by("pk").values_list("pk", flat=True))
        accounts = [m.account_id for m, *_ in plans] + [plans[-1][0].account_id] * extra
        AccountLink.objects.bulk_create(
            [
                AccountLink(user_id=u, account_id=a, proof=LinkProof.PIN, channel="web", linked_at=now)
                for u, a in zip(user_ids, accounts, strict=True)
            ],
            batch_size=2000,
        )
        by_user = dict(AccountLink.objects.filter(user_id__in=user_ids).values_list("user_id", "pk"))
        loaded = {}
        account_ids = sorted(set(accounts))
        for at in range(0, len(account_ids), IN_CHUNK):
            loaded.update(PersonalAccount.objects.select_related("supplier").in_bulk(account_ids[at : at + IN_CHUNK]))
        targets = [
            Target(m.pk, by_user[u], u, loaded[m.account_id], base, step, history)
            for u, (m, base, step, history) in zip(user_ids, plans, strict=False)
        ]
        hot = targets.pop()
        return targets, [hot] + [
            replace(hot, link_id=by_user[u], user_id=u) for u in user_ids[len(plans) : len(plans) + extra]
        ]

    def _now_table(self) -> None:
        """18:00 local time on the last day of each month's window, per supplier."""
        from abonent.core.models import Supplier
        from abonent.core.periods import Period
        from abonent.core.selectors import supplier_terms_on

        first = Period.of(TODAY)
        for supplier in Supplier.objects.all():
            zone = zoneinfo.ZoneInfo(supplier.time_zone)
            for month in range(1, MONTHS_MAX + 1):
                period = first + (month - 1)
                terms = supplier_terms_on(supplier=supplier, day=period.first_day)
                day = period.day(terms.reading_window_end_day)
                self._nows[(supplier.pk, month)] = dt.datetime.combine(day, dt.time(18), tzinfo=zone)

    def now(self, target: Target, month: int) -> dt.datetime:
        return self._nows[(target.account.supplier_id, month)]

    @staticmethod
    def link(target: Target) -> Any:
        """The link as ``account_link_get`` returns it: the account and its supplier loaded."""
        from abonent.customers.models import AccountLink

        link = AccountLink(pk=target.link_id, user_id=target.user_id, account=target.account)
        link._state.adding = False
        link._state.db = "default"
        return link

    def submit(self, target: Target, value: Decimal, month: int, key: str) -> Any:
        from abonent.metering.services import reading_submit

        link = self.link(target)
        return reading_submit(
            link=link,
            meter_id=target.meter_id,
            value=_text(value),
            channel="web",
            submission_key=key,
            now=self.now(target, month),
            ip="198.51.100.7",
        )

    # --- Cases ------------------------------------------------------------------------

    def _case(self, title: str, calls: Sequence[Callable[[], object]], check: Callable[[object], bool]) -> bool:
        """Times the calls after the first, whose queries are counted; True if one gave a
        result it should not have."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            wrong = not check(calls[0]())
        times = []
        for call in calls[1:]:
            begin = time.perf_counter()
            result = call()
            times.append((time.perf_counter() - begin) * 1000)
            wrong |= not check(result)
        statements = [q["sql"].split(None, 1)[0].upper() for q in queries.captured_queries]
        print(f"{title:<34} {_percentiles(times)}  {sum(1 for s in statements if s not in _TRANSACTION)}")
        if wrong:
            print(f"  !! {title}: a call did not give the expected result")
        return wrong

    def reads(self) -> None:
        from abonent.metering.selectors import reading_form, readings_history

        long = [t for t in self.targets if t.history >= HISTORY_MIN]
        if len(long) < 2:
            print(f"{'reads':<34} (no meter with {HISTORY_MIN} readings)")
            return
        chosen = [long[n % len(long)] for n in range(self.args.tries + 1)]
        self._case(
            f"reading_form ({statistics.mean(t.history for t in long):.0f} readings)",
            [lambda t=t: reading_form(link=self.link(t), now=self.now(t, self.month)) for t in chosen],
            lambda form: len(form.entries) > 0,  # type: ignore[attr-defined]
        )
        self._case(
            "readings_history",
            [lambda t=t: readings_history(link=self.link(t), meter_id=t.meter_id) for t in chosen],
            lambda history: len(history.rows) >= HISTORY_MIN,  # type: ignore[attr-defined]
        )

    def sequential(self) -> bool:
        month = self.month
        self.month += 1
        chosen = self.targets[: self.args.tries + 1]
        wrong = self._case(
            "reading_submit, new reading",
            [lambda t=t: self.submit(t, t.value(month), month, f"b{month}-{t.meter_id}") for t in chosen],
            lambda r: r.created and r.replaced is None,  # type: ignore[attr-defined]
        )
        corrections = [
            lambda t=t: self.submit(t, t.value(month) + CORRECTION, month, f"b{month}-{t.meter_id}-c") for t in chosen
        ]
        wrong |= self._case(
            "reading_submit, correction",
            corrections,
            lambda r: r.created and r.replaced is not None,  # type: ignore[attr-defined]
        )
        wrong |= self._case(
            "reading_submit, replay (same key)",
            corrections,
            lambda r: not r.created,  # type: ignore[attr-defined]
        )
        return wrong

    # --- Workers ----------------------------------------------------------------------

    def _together(self, workers: int, work: Callable[[int, Any], dict[str, Any]]) -> list[dict[str, Any]]:
        """Runs ``work(index, barrier)`` in ``workers`` threads or processes, each with its own
        database connection, and returns what each returned."""
        from django.db import connections

        def guarded(index: int, barrier: Any) -> dict[str, Any]:
            try:
                return work(index, barrier)
            except BaseException as exc:  # noqa: BLE001 - the others must not wait for this one
                barrier.abort()
                return {"failure": f"{type(exc).__name__}: {exc}"}
            finally:
                connections.close_all()

        if self.args.threads:
            barrier: Any = threading.Barrier(workers)
            results: list[dict[str, Any]] = [{} for _ in range(workers)]

            def run(index: int) -> None:
                results[index] = guarded(index, barrier)

            threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return self._checked(results)

        context = multiprocessing.get_context("fork")
        barrier = context.Barrier(workers)
        queue = context.Queue()
        connections.close_all()  # a child must not share the parent's connection

        def child(index: int) -> None:
            queue.put((index, guarded(index, barrier)))

        processes = [context.Process(target=child, args=(i,)) for i in range(workers)]
        for process in processes:
            process.start()
        collected = dict(queue.get() for _ in processes)
        for process in processes:
            process.join()
        return self._checked([collected[i] for i in range(workers)])

    @staticmethod
    def _checked(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        failures = sorted({r["failure"] for r in results if "failure" in r})
        if failures:
            raise RuntimeError("a worker failed: " + "; ".join(failures))
        return results

    def sustained(self, workers: int) -> bool:
        """Each worker submits for its own share of the meters until the time is up; when
        it has been through them it goes on with the next month."""
        first = self.month
        seconds = self.args.seconds

        def work(index: int, barrier: Any) -> dict[str, Any]:
            mine = self.targets[index::workers]
            times: list[float] = []
            errors: Counter[str] = Counter()
            month, at = first, 0
            barrier.wait(BARRIER_SECONDS)
            start = time.perf_counter()
            end = start + seconds
            while time.perf_counter() < end and month <= MONTHS_MAX:
                target = mine[at]
                begin = time.perf_counter()
                try:
                    recorded = self.submit(target, target.value(month), month, f"s{month}-{target.meter_id}")
                except Exception as exc:  # noqa: BLE001 - counted and shown
                    errors[type(exc).__name__] += 1
                else:
                    times.append((time.perf_counter() - begin) * 1000)
                    if not recorded.created:
                        errors["not created"] += 1
                at += 1
                if at == len(mine):
                    month, at = month + 1, 0
            last = month if at else month - 1
            return {"times": times, "errors": errors, "start": start, "stop": time.perf_counter(), "last": last}

        results = self._together(workers, work)
        self.month = max(r["last"] for r in results) + 1
        times = [t for r in results for t in r["times"]]
        errors = sum((r["errors"] for r in results), Counter())
        wall = max(r["stop"] for r in results) - min(r["start"] for r in results)
        print(
            f"{workers:<10} {wall:>7.1f} {len(times):>9,} {sum(errors.values()):>6} {len(times) / wall:>9.1f}"
            f" {_latencies(times)}"
        )
        if errors:
            print(f"  errors: {dict(errors)}")
        return bool(errors)

    def hot_spot(self, workers: int) -> bool:
        """``workers`` users of one account send a reading of its one meter at the same
        moment, round after round, each a different value: each waits for the meter's lock
        and corrects the one before it."""
        from abonent.core.periods import Period
        from abonent.metering.enums import ReadingStatus
        from abonent.metering.models import STANDING, Reading

        month = self.month
        self.month += 1
        rounds = self.args.hot_rounds
        users = self.hot[:workers]
        if len(users) < workers:
            print("hot spot: too few users")
            return True

        def work(index: int, barrier: Any) -> dict[str, Any]:
            target = users[index]
            times: list[float] = []
            errors: Counter[str] = Counter()
            start = stop = 0.0
            for round_ in range(rounds):
                barrier.wait(BARRIER_SECONDS)
                if round_ == 0:
                    start = time.perf_counter()
                value = target.value(month) + Decimal(round_ * workers + index + 1).scaleb(-3)
                begin = time.perf_counter()
                try:
                    self.submit(target, value, month, f"h{month}-{round_}-{index}")
                except Exception as exc:  # noqa: BLE001 - counted and shown
                    errors[type(exc).__name__] += 1
                else:
                    times.append((time.perf_counter() - begin) * 1000)
                stop = time.perf_counter()
            return {"times": times, "errors": errors, "start": start, "stop": stop}

        results = self._together(workers, work)
        times = [t for r in results for t in r["times"]]
        errors = sum((r["errors"] for r in results), Counter())
        wall = max(r["stop"] for r in results) - min(r["start"] for r in results)
        period = Period.of(TODAY) + (month - 1)
        meter_id = users[0].meter_id
        readings = Reading.objects.filter(meter_id=meter_id, period=period)
        standing = readings.filter(status__in=STANDING).count()
        superseded = readings.filter(status=ReadingStatus.SUPERSEDED).count()
        print(
            f"{'hot spot':<10} {wall:>7.1f} {len(times):>9,} {sum(errors.values()):>6} {len(times) / wall:>9.1f}"
            f" {_latencies(times)}"
        )
        print(
            f"  {workers} workers × {rounds} rounds on one meter: {standing} reading stands for {period}, "
            f"{superseded} superseded"
        )
        if errors:
            print(f"  errors: {dict(errors)}")
        wrong = standing != 1 or standing + superseded != len(times)
        if wrong:
            print("  !! the meter's readings for the period are not one standing and the rest superseded")
        return wrong or bool(errors)

    # --- Query plans ------------------------------------------------------------------

    def explain(self) -> None:
        """The queries of one submission (a new reading) and the plan of each read, in a
        transaction that is rolled back."""
        from django.db import connection, transaction
        from django.test.utils import CaptureQueriesContext

        target = self.targets[-1]
        with transaction.atomic():
            with CaptureQueriesContext(connection) as queries:
                self.submit(target, target.value(self.month), self.month, "explain")
            print(f"\nthe {len(queries)} queries of one submission:")
            with connection.cursor() as cursor:
                for n, query in enumerate(queries.captured_queries, 1):
                    sql = query["sql"]
                    print(f"\n{n}. {sql}")
                    if not sql.lstrip().upper().startswith("SELECT"):
                        continue
                    if connection.vendor == "postgresql":
                        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}")
                    else:
                        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
                    for row in cursor.fetchall():
                        print("     " + " ".join(str(c) for c in row if c is not None))
            transaction.set_rollback(True)


if __name__ == "__main__":
    sys.exit(main())
