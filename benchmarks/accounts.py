"""Personal accounts at size: linking with the PIN and reading the account page, among N
demo accounts.

Seeds ``--accounts`` demo accounts into a fresh database (SQLite in a temporary directory,
or a new database on the PostgreSQL server of ``--database-url``), then times, each
``--tries`` times over different accounts and users:

- ``account_link`` with the right PIN, the supplier found from the number and chosen;
- a wrong PIN and an unknown number (they must cost the same: no existence oracle);
- the account page's reads (the link, meters with their last reading, contracts,
  equipment), with the number of SQL queries.

    .venv/bin/python benchmarks/accounts.py --accounts 100000
    .venv/bin/python benchmarks/accounts.py --accounts 1000000 --database-url postgres://postgres@127.0.0.1:55432/postgres
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed import _pg_admin, _with_database


def _percentiles(times: list[float]) -> str:
    q = statistics.quantiles(sorted(times), n=100)
    return f"{1000 / statistics.mean(times):>9.1f} {q[49]:>8.2f} {q[94]:>8.2f} {q[98]:>8.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--tries", type=int, default=300, help="calls per case (default 300)")
    parser.add_argument("--database-url", default=None, help="postgres://… of a server to create the database on")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if args.tries < 20:
        parser.error("--tries: at least 20")

    work = Path(tempfile.mkdtemp(prefix="abonent-accounts-bench-"))
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
        return _run(args)
    finally:
        if args.database_url and not args.keep:
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            _pg_admin(args.database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from abonent.cli.demo.generator import IdCursor, account_generate
    from abonent.cli.demo.seeding import plan_for, seed_run
    from abonent.cli.demo.suppliers import DEMO_SUPPLIERS
    from abonent.core.models import Supplier
    from abonent.customers.models import AccountLink
    from abonent.customers.selectors import account_link_get, contracts_list, equipment_list
    from abonent.customers.services import LinkProofMismatch, account_link
    from abonent.identity.models import User
    from abonent.metering.selectors import meters_list

    today = dt.date(2026, 11, 22)
    started = time.perf_counter()
    seed_run(accounts=args.accounts, seed=2026, today=today, batch_size=5000, billing=False)
    print(f"{connection.vendor}: seeded {args.accounts:,} accounts in {time.perf_counter() - started:,.0f} s")

    demo = DEMO_SUPPLIERS[0]
    supplier = Supplier.objects.get(code=demo.code)
    plan = plan_for(demo, supplier, seed=2026, today=today)
    rng = random.Random(7)
    count = min(args.accounts // 2, 50_000)
    generated = [account_generate(plan, i, IdCursor()) for i in rng.sample(range(count), min(count, args.tries * 3))]
    active = [a for a in generated if a.status == "active"][: args.tries * 2]
    if len(active) < args.tries * 2:
        print("too few accounts for the number of tries: raise --accounts or lower --tries")
        return 2
    users = [User(username=f"bench-{n}", phone=f"+7900{n:07d}", is_active=True) for n in range(args.tries * 4)]
    User.objects.bulk_create(users)
    users = list(User.objects.filter(username__startswith="bench-").order_by("pk"))
    base = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)

    def timed(call: Callable[[int], object]) -> list[float]:
        times = []
        for n in range(args.tries):
            begin = time.perf_counter()
            with contextlib.suppress(LinkProofMismatch):
                call(n)
            times.append((time.perf_counter() - begin) * 1000)
        return times

    def link(user: User, number: str, pin: str, supplier_code: str | None) -> object:
        return account_link(
            user=user,
            number=number,
            proof="pin",
            value=pin,
            supplier_code=supplier_code,
            channel="web",
            ip=None,
            now=base,
        )

    cases = [
        ("link, supplier found", lambda n: link(users[n], active[n].number, active[n].pin, None)),
        (
            "link, supplier chosen",
            lambda n: link(users[args.tries + n], active[args.tries + n].number, active[args.tries + n].pin, demo.code),
        ),
        ("wrong PIN", lambda n: link(users[2 * args.tries + n], active[n].number, "000000", None)),
        ("unknown number", lambda n: link(users[3 * args.tries + n], f"99{n:010d}", "000000", None)),
    ]
    print(f"{'case':<24} {'calls/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for title, call in cases:
        print(f"{title:<24} {_percentiles(timed(call))}")

    now = base + dt.timedelta(hours=1)

    def page(n: int) -> int:
        link_ = account_link_get(user=users[n], account_id=account_ids[n])
        meters = meters_list(link=link_, now=now)
        contracts = contracts_list(link=link_, now=now)
        equipment = list(equipment_list(link=link_))
        return len(meters) + len(contracts) + len(equipment)

    linked = dict(AccountLink.objects.filter(user__in=users[: args.tries]).values_list("user_id", "account_id"))
    account_ids = {n: linked[u.pk] for n, u in enumerate(users[: args.tries])}
    reset_queries()  # the log of a debug run is full after the seed; an empty one counts from zero
    with CaptureQueriesContext(connection) as queries:
        page(0)
    print(f"{'account page reads':<24} {_percentiles(timed(page))}   ({len(queries)} queries)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
