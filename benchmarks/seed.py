"""How fast ``abonent seed`` loads N accounts into a fresh database, and with how much memory.

    .venv/bin/python benchmarks/seed.py --accounts 100000
    .venv/bin/python benchmarks/seed.py --accounts 1000000 --database-url postgres://postgres@127.0.0.1:55432/postgres

With no --database-url the run goes to a new SQLite file in a temporary directory. With a
PostgreSQL URL a new database (abonent_bench_<pid>) is created on that server, migrated,
seeded and dropped at the end (keep it with --keep). The migrations run in a child
process, so the peak memory reported (ru_maxrss) is that of Django plus the seed.

The seed runs without the money history (``abonent seed --no-billing``): that is billing
runs month by month, measured by ``billing.py``.

Reported: wall time of the seed, rows and rows per second per table (over the whole
seed's wall time: the tables are written batch by batch, interleaved), peak memory, and
the size of the database afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def _pg_admin(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)  # type: ignore[arg-type]


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--database-url", default=None, help="postgres://… of a server to create the database on")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--today", default="2026-11-22")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="abonent-bench-"))
    if args.database_url:
        name = f"abonent_bench_{os.getpid()}"
        admin_url = args.database_url
        _pg_admin(admin_url, f"CREATE DATABASE {name}")
        url = _with_database(admin_url, name)
    else:
        url = f"sqlite:///{work / 'abonent.sqlite3'}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ABONENT_VAR_DIR": str(work),
        "DJANGO_SETTINGS_MODULE": "abonent.config.settings",
    }
    os.environ.update(env)
    try:
        subprocess.run([sys.executable, "-m", "abonent", "migrate", "--noinput", "-v", "0"], env=env, check=True)

        import django

        django.setup()
        from django.db import connection

        from abonent.cli.demo.seeding import seed_run

        started = time.perf_counter()
        report = seed_run(
            accounts=args.accounts,
            seed=args.seed,
            today=dt.date.fromisoformat(args.today),
            batch_size=args.batch_size,
            billing=False,  # the loading of the accounts; their money history is billing.py's subject
        )
        seconds = time.perf_counter() - started
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_database_size(current_database())")
                size_mib = cursor.fetchone()[0] / 2**20  # type: ignore[index]
            else:
                size_mib = sum(p.stat().st_size for p in work.glob("abonent.sqlite3*")) / 2**20
        connection.close()
    finally:
        if args.database_url and not args.keep:
            _pg_admin(args.database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    tables = ["account", "equipment", "contract", "meter", "reading"]
    rows = {t: report.created[t] for t in tables}
    result = {
        "database": "postgresql" if args.database_url else "sqlite",
        "accounts": args.accounts,
        "batch_size": args.batch_size,
        "seconds": round(seconds, 1),
        "rows": rows,
        "rows_per_second": {t: round(n / seconds) for t, n in rows.items()},
        "all_rows_per_second": round(sum(rows.values()) / seconds),
        "accounts_per_second": round(args.accounts / seconds),
        "peak_rss_mib": round(peak_mib),
        "database_mib": round(size_mib),
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"{result['database']}: {args.accounts:,} accounts in {seconds:,.1f} s ({result['accounts_per_second']:,}/s)")
    print(f"{'table':<10} {'rows':>12} {'rows/s':>10}")
    for table, count in rows.items():
        print(f"{table:<10} {count:>12,} {result['rows_per_second'][table]:>10,}")
    print(f"{'all':<10} {sum(rows.values()):>12,} {result['all_rows_per_second']:>10,}")
    print(f"peak memory (ru_maxrss): {peak_mib:,.0f} MiB; database size: {size_mib:,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
