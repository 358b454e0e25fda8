"""Online payments through the sandbox gateway: how many can be started, and how many
gateway notifications processed, per second.

Seeds ``--accounts`` demo accounts (no money history) into a fresh database (SQLite in a
temporary directory, or a new database on the PostgreSQL server of ``--database-url``),
links ``--payments`` of them to payers, then measures, in this process:

- ``payment_start``: a payer's payment created here and at the (sandbox) gateway;
- ``gateway_event_receive`` of a ``payment.succeeded`` notification for each of them: the
  notification stored, the state asked from the gateway, the payment settled and posted to
  the ledger — the work of the webhook endpoint without HTTP;
- the same notifications delivered a second time (duplicates: stored once, nothing posted).

    .venv/bin/python benchmarks/payments.py --accounts 10000 --payments 2000
    .venv/bin/python benchmarks/payments.py --accounts 100000 --payments 5000 --database-url postgres://abonent@127.0.0.1:55433/postgres
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed import _pg_admin, _with_database

TODAY = dt.date(2026, 11, 22)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--payments", type=int, default=2_000)
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

    from abonent.core.models import LinkProof
    from abonent.customers.models import AccountLink, PersonalAccount
    from abonent.identity.models import User
    from abonent.ledger.models import LedgerEntry
    from abonent.payments.gateways.sandbox import payment_as_notification
    from abonent.payments.models import Payment, SandboxPayment
    from abonent.payments.services import PartInput, gateway_event_receive, payment_start

    now = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
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

    print(f"{connection.vendor}: {args.accounts:,} accounts, {n:,} payments, one process")
    print(
        f"payment_start            {n / start_seconds:8.0f}/s  p50 {ms(starts, 50):6.2f} ms  p99 {ms(starts, 99):6.2f} ms"
    )
    print(
        f"notification (settled)   {n / event_seconds:8.0f}/s  p50 {ms(handled, 50):6.2f} ms  p99 {ms(handled, 99):6.2f} ms"
    )
    print(f"notification (repeated)  {n / repeat_seconds:8.0f}/s")
    print(f"ledger entries posted: {posted:,} (one per payment)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
