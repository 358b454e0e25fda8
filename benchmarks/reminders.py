"""The day's reminders at size: selecting who is to be told and enqueueing their messages,
for N accounts.

Builds ``--accounts`` accounts of the two demo suppliers (60/40) in a fresh database (SQLite
in a temporary directory, or a new database on the PostgreSQL server of ``--database-url``),
straight into the tables (``core.bulk.rows_insert``), in a child process: a user for each,
linked to it, with a working meter (verification due spread over 2027–2034), 70 % with a
confirmed e-mail, 50 % with a confirmed phone, 40 % with the app on a phone (a push
device), 5 % who asked for the window's SMS too, 3 % who switched the last day's e-mail off,
1 % reading English; 1 % of the accounts closed. For the due-date and debt days, 30 % of
the accounts owe: half of them October 2026, half September and October.

Then it measures, in this process, ``reminders_run`` of each supplier on the days asked for
(``--days``, each at 10:05 local time, in this order):

- ``open``: the reading window opens (the 15th): every account with a working meter and no
  reading, by push and in the portal by default;
- ``last``: its last day (the 25th), nobody having sent a reading (the worst case): e-mail,
  push and the portal by default;
- ``due``: three days before the due date of October (12.11.2026): those who owe;
- ``debt``: five days after it (20.11.2026): the debt reminder and the debt notice (two
  periods unpaid; e-mail, SMS and the portal whatever the preferences).

Jobs go to a broker that is not eager (``CELERY_BROKER_URL=memory://localhost/``): each batch's job is
really serialised and published, and nothing is sent. Before each day's run the selection
alone is timed (the occasions read and built, nothing written). Reported per day and
supplier: occasions selected and per second, notifications and deliveries inserted (by
channel), jobs published and the deliveries they carry, seconds; then the peak memory of
the process (``ru_maxrss``; the data is built in a child process).

    .venv/bin/python benchmarks/reminders.py --accounts 10000
    .venv/bin/python benchmarks/reminders.py --accounts 1000000 --database-url postgres://abonent@127.0.0.1:55433/postgres
    .venv/bin/python benchmarks/reminders.py --accounts 20000 --days open --profile 30   # where the time goes

    # options: --batch N (occasions told in one transaction, the service's default 1 000)
    #          --tracemalloc (peak of Python's own allocations per run; slower) --keep
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
import tracemalloc
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed import _pg_admin, _with_database

CHUNK = 50_000  # accounts built and inserted at a time
DAYS = ("open", "last", "due", "debt")
RUN_AT = dt.time(10, 5)
LINKED_AT = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)
SEPTEMBER, OCTOBER = 202609, 202610
LOCALITIES = 40
STREETS = 150


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--database-url", default=None, help="postgres://… of a server to create the database on")
    parser.add_argument("--days", default="open,last,due,debt", help="days to run, of: " + ", ".join(DAYS))
    parser.add_argument("--batch", type=int, default=None, help="occasions told in one transaction")
    parser.add_argument("--profile", type=int, default=0, help="profile the runs and print the top N functions")
    parser.add_argument("--tracemalloc", action="store_true", help="trace Python's allocations (slower)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)  # the child's part
    args = parser.parse_args()
    args.day_list = [d.strip() for d in args.days.split(",") if d.strip()]
    if not args.day_list or set(args.day_list) - set(DAYS):
        parser.error(f"--days: some of {', '.join(DAYS)}, separated by commas")
    if args.accounts < 10:
        parser.error("--accounts: at least 10")
    if args.prepare:
        return _prepare(args)

    work = Path(tempfile.mkdtemp(prefix="abonent-reminders-bench-"))
    name = f"abonent_bench_{os.getpid()}"
    if args.database_url:
        _pg_admin(args.database_url, f"CREATE DATABASE {name}")
        url = _with_database(args.database_url, name)
    else:
        url = f"sqlite:///{work / 'abonent.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": url, "ABONENT_VAR_DIR": str(work)}
    env["DJANGO_SETTINGS_MODULE"] = "abonent.config.settings"
    # Jobs are published to a broker in this process and never run: what is measured is the
    # selection and the enqueueing, not the sending.
    env["CELERY_BROKER_URL"] = "memory://localhost/"
    os.environ.update(env)
    try:
        subprocess.run([sys.executable, "-m", "abonent", "migrate", "--noinput", "-v", "0"], env=env, check=True)
        started = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--prepare", "--accounts", str(args.accounts)], env=env, check=True)
        print(f"prepared in {time.perf_counter() - started:,.1f} s")
        return _measure(args)
    finally:
        if args.database_url and not args.keep:
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            _pg_admin(args.database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        elif args.keep:
            print(f"kept: {url}")
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


# --- The data ---------------------------------------------------------------------------


def _prepare(args: argparse.Namespace) -> int:
    """Suppliers, users, accounts, links, meters, devices, preferences, debts."""
    import django

    django.setup()
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from abonent.cli.demo.suppliers import DEMO_SUPPLIERS, accounts_split
    from abonent.core.bulk import rows_insert
    from abonent.core.services import supplier_create
    from abonent.customers.models import AccountLink, PersonalAccount
    from abonent.identity.models import User
    from abonent.ledger.models import LedgerBalance, LedgerEntry
    from abonent.metering.models import Meter
    from abonent.notifications.models import Preference, PushDevice

    started = time.perf_counter()
    created: Counter[str] = Counter()
    first = 1 + max(
        User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
        PersonalAccount.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
    )
    n = first
    for demo, count in zip(DEMO_SUPPLIERS, accounts_split(args.accounts), strict=True):
        supplier = supplier_create(terms=dict(demo.terms), **demo.fields)
        region = demo.regions[0]
        for start in range(0, count, CHUNK):
            rows: dict[str, list[tuple[Any, ...]]] = {
                "user": [], "account": [], "link": [], "meter": [], "device": [], "preference": [],
                "balance": [], "entry": [],
            }  # fmt: skip
            for i in range(n + start, n + min(start + CHUNK, count)):
                _rows_of(i, supplier.pk, demo.number_prefix, region, rows)
            with transaction.atomic():
                rows_insert(User, USER_FIELDS, rows["user"])
                rows_insert(PersonalAccount, ACCOUNT_FIELDS, rows["account"])
                rows_insert(AccountLink, LINK_FIELDS, rows["link"])
                rows_insert(Meter, METER_FIELDS, rows["meter"])
                rows_insert(PushDevice, DEVICE_FIELDS, rows["device"])
                rows_insert(Preference, PREFERENCE_FIELDS, rows["preference"])
                rows_insert(LedgerBalance, BALANCE_FIELDS, rows["balance"])
                rows_insert(LedgerEntry, ENTRY_FIELDS, rows["entry"])
            for table, table_rows in rows.items():
                created[table] += len(table_rows)
        n += count
    models = [User, PersonalAccount, AccountLink, Meter]
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)
        cursor.execute("ANALYZE")  # the planner's statistics, as after a day of autovacuum
    print(
        f"{connection.vendor}: built {args.accounts:,} accounts in {time.perf_counter() - started:,.1f} s: "
        + ", ".join(f"{table} {count:,}" for table, count in created.items())
    )
    return 0


USER_FIELDS = (
    "id", "password", "is_superuser", "username", "first_name", "last_name", "is_staff", "is_active",
    "date_joined", "email", "phone", "middle_name", "phone_confirmed_at", "email_confirmed_at", "language",
)  # fmt: skip
ACCOUNT_FIELDS = (
    "id", "supplier_id", "number", "holder_last_name", "holder_first_name", "holder_middle_name", "postal_code",
    "region", "locality", "street", "house", "apartment", "residents", "heated_area", "central_hot_water",
    "uses_cooking", "uses_water_heating", "uses_heating", "status", "opened_on", "closed_on", "pin_hash",
)  # fmt: skip
LINK_FIELDS = ("id", "user_id", "account_id", "name", "is_default", "proof", "channel", "linked_at")
METER_FIELDS = (
    "id", "account_id", "serial", "model", "digits", "decimals", "initial_value", "installed_on",
    "verification_due_on", "status",
)  # fmt: skip
DEVICE_FIELDS = ("user_id", "platform", "token", "name", "created_at", "last_seen_at")
PREFERENCE_FIELDS = ("user_id", "kind", "channel", "enabled", "changed_at")
BALANCE_FIELDS = ("account_id", "service", "amount")
ENTRY_FIELDS = (
    "account_id", "service", "kind", "period", "billed_in", "amount", "posted_on", "created_at", "source_key",
    "note",
)  # fmt: skip


def _rows_of(i: int, supplier_id: int, prefix: str, region: Any, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    """Subscriber ``i``: the same id for the user, the account, the link and the meter."""
    confirmed = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)
    joined = dt.datetime(2026, 1, 9, 18, 0, tzinfo=dt.UTC)
    email_at = confirmed if i % 10 < 7 else None
    phone_at = confirmed if i % 4 < 2 else None
    language = "en" if i % 100 == 42 else "ru"
    rows["user"].append(
        (i, "!", False, f"bench-{i}", "Мария", "Иванова", False, True, joined, f"user{i}@bench.example",
         f"+7900{i:07d}", "Петровна", phone_at, email_at, language)
    )  # fmt: skip
    closed = i % 100 == 7
    rows["account"].append(
        (i, supplier_id, f"{prefix}{i:010d}", "Иванова", "Мария", "Петровна", "142100", region.name,
         f"г. Город-{i % LOCALITIES}", f"ул. Улица-{i % STREETS}", str(1 + i % 60), str(1 + i % 120), 2,
         Decimal("0"), False, True, False, False, "closed" if closed else "active", dt.date(2015, 4, 1),
         dt.date(2026, 6, 30) if closed else None, "0" * 64)
    )  # fmt: skip
    rows["link"].append((i, i, i, "", True, "pin", "bench", LINKED_AT))
    due = dt.date(2027, 1, 1) + dt.timedelta(days=(i * 7919) % 2920)  # 2027–2034, spread
    rows["meter"].append((i, i, f"{i:08d}", "СГМН-1 G6", 5, 3, Decimal("0"), dt.date(2019, 6, 1), due, "active"))
    if i % 5 < 2:
        rows["device"].append((i, "fcm", f"bench-fcm-token-{i}", "Android", confirmed, confirmed))
    if i % 20 == 4:  # of those with a confirmed phone
        rows["preference"].append((i, "readings_open", "sms", True, confirmed))
    if i % 100 in (11, 12, 13):
        rows["preference"].append((i, "readings_last_day", "email", False, confirmed))
    if i % 10 < 3:  # owes: October, or September and October
        both = (i // 10) % 2 == 1
        october, september = Decimal("1234.56"), Decimal("800.00")
        rows["balance"].append((i, "gas", october + september if both else october))
        rows["entry"].append(
            (i, "gas", "charge", OCTOBER, OCTOBER, october, dt.date(2026, 10, 31), confirmed, f"bench:{i}:10", "")
        )
        if both:
            rows["entry"].append(
                (i, "gas", "charge", SEPTEMBER, SEPTEMBER, september, dt.date(2026, 9, 30), confirmed,
                 f"bench:{i}:09", "")
            )  # fmt: skip


# --- The measurement ---------------------------------------------------------------------


@dataclass
class Result:
    day: str
    supplier: str
    local_day: dt.date
    select_seconds: float
    selected: int
    seconds: float = 0.0
    told: dict[str, Any] = field(default_factory=dict)
    notifications: int = 0
    deliveries: Counter[str] = field(default_factory=Counter)
    jobs: int = 0
    job_ids: int = 0
    python_peak_mib: float = 0.0


def _day_of(which: str, supplier: Any) -> dt.date:
    from abonent.core.periods import Period
    from abonent.core.selectors import payment_due_date, supplier_terms_on
    from abonent.metering.selectors import window_of
    from abonent.notifications.policy import DEBT_DAYS_AFTER, PAYMENT_DUE_DAYS_BEFORE

    november = Period(2026, 11)
    if which in ("open", "last"):
        opens, closes = window_of(terms=supplier_terms_on(supplier=supplier, day=november.first_day), period=november)
        return opens if which == "open" else closes
    due = payment_due_date(supplier=supplier, period=Period.from_int(OCTOBER))
    return (
        due - dt.timedelta(days=PAYMENT_DUE_DAYS_BEFORE) if which == "due" else due + dt.timedelta(days=DEBT_DAYS_AFTER)
    )


def _measure(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from celery.signals import after_task_publish
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count

    from abonent.core.models import Supplier
    from abonent.notifications.models import Delivery, Notification
    from abonent.reminders.selectors import reminders_due
    from abonent.reminders.services import BATCH, reminders_run

    assert not settings.CELERY_TASK_ALWAYS_EAGER, "the jobs must go to the broker"
    batch = args.batch or BATCH
    published = {"jobs": 0, "ids": 0}

    def count(sender: Any = None, body: Any = None, **_kwargs: Any) -> None:
        published["jobs"] += 1
        kwargs = body[1] if isinstance(body, tuple | list) and len(body) > 1 else {}
        published["ids"] += len(kwargs.get("delivery_ids", ()))

    after_task_publish.connect(count, weak=False)
    suppliers = list(Supplier.objects.order_by("pk"))
    profiler = cProfile.Profile() if args.profile else None
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results: list[Result] = []
    # a supplier's local day is run once: two of the days may fall on the same date
    runs: dict[tuple[int, dt.date], list[str]] = {}
    for which in args.day_list:
        for supplier in suppliers:
            runs.setdefault((supplier.pk, _day_of(which, supplier)), []).append(which)
    by_pk = {s.pk: s for s in suppliers}
    for (supplier_pk, day), names in runs.items():
        supplier, which = by_pk[supplier_pk], "+".join(names)
        now = dt.datetime.combine(day, RUN_AT, tzinfo=zoneinfo.ZoneInfo(supplier.time_zone)).astimezone(dt.UTC)
        started = time.perf_counter()
        selected = sum(len(b) for due in reminders_due(supplier=supplier, day=day, size=batch) for b in due.batches)
        result = Result(which, supplier.code, day, time.perf_counter() - started, selected)
        jobs_before, ids_before = published["jobs"], published["ids"]
        if args.tracemalloc:
            tracemalloc.start()
        if profiler is not None:
            profiler.enable()
        started = time.perf_counter()
        run = reminders_run(supplier=supplier, now=now, size=batch)
        result.seconds = time.perf_counter() - started
        if profiler is not None:
            profiler.disable()
        if args.tracemalloc:
            result.python_peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        assert run is not None, f"{supplier.code} {day}: the day had been run"
        result.told = dict(run.summary)
        result.jobs = published["jobs"] - jobs_before
        result.job_ids = published["ids"] - ids_before
        result.notifications = Notification.objects.filter(supplier=supplier, created_at=now).count()
        result.deliveries = Counter(
            dict(
                Delivery.objects.filter(supplier=supplier, created_at=now)
                .values_list("channel")
                .annotate(n=Count("id"))
                .order_by()
                .values_list("channel", "n")
            )
        )
        results.append(result)
        print(f"  {which} {supplier.code} {day:%d.%m.%Y}: {result.seconds:,.1f} s", flush=True)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    _report(args, connection.vendor, batch, results, rss_before, peak_mib)
    if profiler is not None:
        for order in ("tottime", "cumulative"):
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats(order).print_stats(args.profile)
            print(f"\n--- profile by {order} ---")
            print(text.getvalue())
    return 0


def _report(
    args: argparse.Namespace, vendor: str, batch: int, results: list[Result], rss_before: float, peak_mib: float
) -> None:
    print()
    print(f"{vendor}: reminders of the day for {args.accounts:,} accounts, batches of {batch:,}")
    print(
        f"{'day':<9} {'supplier':<10} {'date':<10} {'select s':>8} {'told':>9} {'told/s':>8} {'run s':>7} "
        f"{'notif.':>9} {'e-mail':>8} {'sms':>7} {'push':>8} {'jobs':>5} {'ids in jobs':>11}"
        + (f" {'py peak':>8}" if args.tracemalloc else "")
    )
    totals: Counter[str] = Counter()
    seconds = 0.0
    for r in results:
        told = sum(v.get("notified", 0) + v.get("repeated", 0) for v in r.told.values())
        print(
            f"{r.day:<9} {r.supplier:<10} {r.local_day:%d.%m.%Y} {r.select_seconds:>8.1f} {told:>9,} "
            f"{(told / r.seconds if r.seconds else 0):>8,.0f} {r.seconds:>7.1f} {r.notifications:>9,} "
            f"{r.deliveries['email']:>8,} {r.deliveries['sms']:>7,} {r.deliveries['push']:>8,} {r.jobs:>5,} "
            f"{r.job_ids:>11,}" + (f" {r.python_peak_mib:>6.0f} M" if args.tracemalloc else "")
        )
        assert told == r.selected, f"{r.day} {r.supplier}: selected {r.selected}, told {told}"
        totals.update({"told": told, "notifications": r.notifications, "jobs": r.jobs, **r.deliveries})
        seconds += r.seconds
    print(
        f"all: {totals['told']:,} occasions in {seconds:,.1f} s ({totals['told'] / seconds:,.0f}/s); "
        f"{totals['notifications']:,} notifications, {totals['email']:,} e-mails, {totals['sms']:,} SMS, "
        f"{totals['push']:,} pushes; {totals['jobs']:,} jobs published"
    )
    print(f"peak memory of the process (ru_maxrss): {peak_mib:,.0f} MiB (after Django's start: {rss_before:,.0f} MiB)")


if __name__ == "__main__":
    sys.exit(main())
