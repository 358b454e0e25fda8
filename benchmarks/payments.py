"""Online payments through the sandbox gateway: how many can be started, and how many
gateway notifications processed, per second.

Seeds ``--accounts`` demo accounts (no money history) into a fresh database (SQLite in a
temporary directory, or a new database on the PostgreSQL server of ``--database-url``),
links ``--payments`` of them to payers, then measures, in this process:

- ``payment_start``: a payer's payment created here and at the (sandbox) gateway;
- ``gateway_event_receive`` of a ``payment.succeeded`` notification for each of them: the
  notification stored, the state asked from the gateway, the payment settled and posted to
  the ledger — the work of the webhook endpoint without HTTP;
- the same notifications delivered a second time (duplicates: stored once, nothing posted);
- with ``--registry-lines``: a bank registry of that many lines (Windows-1251, the default
  format, payments to the accounts in turn) imported by ``registry_import`` — every line
  checked, stored and posted to the ledger with the balances moved — against a plain COPY of
  the same lines into a table with no indexes; then the same file's lines again in another
  file, all of them repeats.

    .venv/bin/python benchmarks/payments.py --accounts 10000 --payments 2000
    .venv/bin/python benchmarks/payments.py --accounts 100000 --payments 5000 --database-url postgres://abonent@127.0.0.1:55433/postgres
    .venv/bin/python benchmarks/payments.py --accounts 1000000 --payments 0 --registry-lines 1000000 --database-url …
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed import _pg_admin, _with_database

TODAY = dt.date(2026, 11, 22)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--payments", type=int, default=2_000)
    parser.add_argument("--registry-lines", type=int, default=0, help="import a bank registry of this many lines")
    parser.add_argument("--profile", type=int, default=0, help="profile the registry import, print the top N")
    parser.add_argument("--database-url", default=None, help="postgres://… of a server to create the database on")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="abonent-payments-bench-"))
    name = f"abonent_bench_{os.getpid()}"
    if args.database_url:
        _pg_admin(args.database_url, f"CREATE DATABASE {name}")
        url = _with_database(args.database_url, name)
    else:
        url = f"sqlite:///{work / 'abonent.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": url, "ABONENT_VAR_DIR": str(work), "PAYMENT_GATEWAY": "sandbox"}
    env["DJANGO_SETTINGS_MODULE"] = "abonent.config.settings"
    env["SANDBOX_NOTIFY_URL"] = ""
    os.environ.update(env)
    try:
        subprocess.run([sys.executable, "-m", "abonent", "migrate", "--noinput", "-v", "0"], env=env, check=True)
        subprocess.run(
            [sys.executable, "-m", "abonent", "seed", "--accounts", str(args.accounts), "--no-billing",
             "--no-progress", "--today", TODAY.isoformat()],
            env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        return _measure(args)
    finally:
        if args.database_url and not args.keep:
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            _pg_admin(args.database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _measure(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.db import connection

    now = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
    print(f"{connection.vendor}: {args.accounts:,} accounts, one process")
    if args.payments:
        _online(args, now)
    if args.registry_lines:
        _registry(args, now)
    return 0


def _online(args: argparse.Namespace, now: dt.datetime) -> None:
    from abonent.core.models import LinkProof
    from abonent.customers.models import AccountLink, PersonalAccount
    from abonent.identity.models import User
    from abonent.ledger.models import LedgerEntry
    from abonent.payments.gateways.sandbox import payment_as_notification
    from abonent.payments.models import Payment, SandboxPayment
    from abonent.payments.services import PartInput, gateway_event_receive, payment_start

    accounts = list(PersonalAccount.objects.order_by("pk")[: args.payments])
    users = []
    for i, account in enumerate(accounts):
        user = User.objects.create(username=f"bench-{i}", email=f"bench{i}@mail.example", is_active=True)
        AccountLink.objects.create(user=user, account=account, proof=LinkProof.PIN, channel="web", linked_at=now)
        users.append(user)

    starts = []
    began = time.perf_counter()
    for user, account in zip(users, accounts, strict=True):
        t = time.perf_counter()
        payment_start(user=user, parts=[PartInput(account_id=account.pk, amount="1234.56")], method="bank_card",
                      return_url="https://lk.example/payments/", now=now)  # fmt: skip
        starts.append(time.perf_counter() - t)
    start_seconds = time.perf_counter() - began

    SandboxPayment.objects.update(status="succeeded", captured_at=now)
    bodies = [json.dumps(payment_as_notification(row)).encode() for row in SandboxPayment.objects.all()]
    handled = []
    began = time.perf_counter()
    for body in bodies:
        t = time.perf_counter()
        gateway_event_receive(gateway="sandbox", body=body, remote_addr="127.0.0.1", now=now)
        handled.append(time.perf_counter() - t)
    event_seconds = time.perf_counter() - began
    began = time.perf_counter()
    for body in bodies:
        gateway_event_receive(gateway="sandbox", body=body, remote_addr="127.0.0.1", now=now)
    repeat_seconds = time.perf_counter() - began

    n = len(bodies)
    posted = LedgerEntry.objects.filter(kind="payment").count()
    assert posted == n == Payment.objects.filter(status="succeeded").count(), (posted, n)

    def ms(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100)[q - 1] * 1000

    print(f"online: {n:,} payments")
    print(
        f"payment_start            {n / start_seconds:8.0f}/s  p50 {ms(starts, 50):6.2f} ms  p99 {ms(starts, 99):6.2f} ms"
    )
    print(
        f"notification (settled)   {n / event_seconds:8.0f}/s  p50 {ms(handled, 50):6.2f} ms  p99 {ms(handled, 99):6.2f} ms"
    )
    print(f"notification (repeated)  {n / repeat_seconds:8.0f}/s")
    print(f"ledger entries posted: {posted:,} (one per payment)")


def _registry(args: argparse.Namespace, now: dt.datetime) -> None:
    import resource

    from django.db import connection

    from abonent.core.models import Supplier
    from abonent.customers.models import PersonalAccount
    from abonent.ledger.models import LedgerEntry
    from abonent.payments.registries import registry_import

    supplier = Supplier.objects.order_by("pk").first()
    assert supplier is not None
    numbers = list(PersonalAccount.objects.filter(supplier=supplier).order_by("pk").values_list("number", flat=True))
    n = args.registry_lines
    day = now.date() - dt.timedelta(days=1)
    # written in pieces, so that the benchmark's own peak of memory stays below the import's
    total = Decimal(0)
    body = bytearray()
    for at in range(0, n, 100_000):
        piece = []
        for i in range(at, min(n, at + 100_000)):
            amount = Decimal(100 + i % 5000) + Decimal(i % 100) / 100
            total += amount
            piece.append(
                f"{day:%d.%m.%Y};{i // 3600 % 24:02}:{i // 60 % 60:02}:{i % 60:02};{numbers[i % len(numbers)]};"
                f"{str(amount).replace('.', ',')};10.2026;Плательщик Иван Иванович {i % 1000};R{i:09}\n"
            )
        body += "".join(piece).encode("cp1251")
    del numbers
    content = bytes(body) + f"={n};{str(total).replace('.', ',')}\n".encode()
    del body
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.perf_counter()
    phases = _phases_timed()
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    report = registry_import(supplier=supplier, source="bench", content=content, file_name="bench.txt", now=now)
    if profiler is not None:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)
    spent = dict(phases)
    seconds = time.perf_counter() - began
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert report.applied, report
    assert (report.posted, report.failed) == (n, 0), report
    posted = LedgerEntry.objects.filter(source_key__startswith="registry:bench:").count()
    assert posted == n, posted
    again = content.replace(b"\n=", b"\n\n=")  # other bytes, the same lines
    del content
    began = time.perf_counter()
    repeat = registry_import(supplier=supplier, source="bench", content=again, file_name="again.txt", now=now)
    repeat_seconds = time.perf_counter() - began
    assert (repeat.duplicates, repeat.posted) == (n, 0), repeat
    copy_seconds = _scratch_copy(again)
    print(
        f"registry import          {n / seconds:8.0f} lines/s  {n:,} lines ({len(again) / 2**20:.0f} MiB) in "
        f"{seconds:.1f} s; peak RSS {max(rss, rss_before) / 1024:.0f} MiB"
    )
    classify, write, ledger, commit = (
        spent.get(k, 0.0) for k in ("_classify", "_write", "entries_post_select", "commit")
    )
    print(
        f"  reading, checking and staging (COPY) the lines {seconds - classify - write - commit:.1f} s, "
        f"classifying {classify:.1f} s, storing the lines {write - ledger:.1f} s, posting to the ledger "
        f"{ledger:.1f} s, commit {commit:.1f} s"
    )
    print(f"registry, all repeats    {n / repeat_seconds:8.0f} lines/s  in {repeat_seconds:.1f} s")
    print(f"plain COPY of the lines  {n / copy_seconds:8.0f} lines/s  in {copy_seconds:.1f} s ({connection.vendor})")


def _phases_timed() -> dict[str, float]:
    """Seconds spent in each step of the import, the database's work included."""
    from django.db import transaction

    from abonent.payments import registries

    spent: dict[str, float] = {}

    def timed(name: str, function: object) -> object:
        def wrapper(*args: object, **kwargs: object) -> object:
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)  # type: ignore[operator]
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - began

        return wrapper

    for name in ("_classify", "_write", "entries_post_select"):
        setattr(registries, name, timed(name, getattr(registries, name)))
    original = transaction.Atomic.__exit__
    transaction.Atomic.__exit__ = timed("commit", original)  # type: ignore[method-assign]
    return spent


def _scratch_copy(content: bytes) -> float:
    """Seconds to split the file's lines and load them as they are into a table with no
    indexes: the floor of an import that checks and posts nothing."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_registry")
        cursor.execute(
            "CREATE TABLE bench_registry (day text, at text, account text, amount numeric(14, 2), period text, "
            "payer text, reference text)"
        )
    began = time.perf_counter()
    text = content.decode("cp1251")
    with transaction.atomic():
        rows = (line.split(";") for line in text.splitlines() if line and not line.startswith("="))
        raw = connection.connection
        if connection.vendor == "postgresql":
            with raw.cursor() as cursor, cursor.copy("COPY bench_registry FROM STDIN") as copy:
                for row in rows:
                    row[3] = row[3].replace(",", ".")
                    copy.write_row(row)
        else:
            raw.executemany("INSERT INTO bench_registry VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    seconds = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_registry")
    return seconds


if __name__ == "__main__":
    sys.exit(main())
