"""Login cost: how many password logins a core can check per second, and their latency.

Runs ``identity.services.login_check`` (rate limits counted in the database, then the
Argon2id hash at the OWASP parameters) against a fresh SQLite database, one process, and
prints throughput and latency percentiles; also the same for a wrong password and for an
unknown login, which must cost the same (no timing oracle).

    .venv/bin/python benchmarks/login.py --logins 200
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logins", type=int, default=200, help="checks per case (default 200)")
    args = parser.parse_args()
    if args.logins < 10:
        parser.error("--logins: at least 10")

    var = Path(tempfile.mkdtemp(prefix="abonent-login-bench-"))
    os.environ.update({"ABONENT_VAR_DIR": str(var), "DATABASE_URL": f"sqlite:///{var / 'bench.sqlite3'}"})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "abonent.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from abonent.identity.models import User
    from abonent.identity.services import InvalidCredentials, login_check

    call_command("migrate", verbosity=0)
    password = "Зелёный-чайник-42"
    user = User(username="u-bench", phone="+79123456789", is_active=True)
    user.set_password(password)
    user.save()

    def run(login: str, secret: str) -> list[float]:
        times = []
        for n in range(args.logins):
            now = dt.datetime(2026, 11, 22, tzinfo=dt.UTC) + dt.timedelta(hours=n)  # a fresh rate window each time
            started = time.perf_counter()
            with contextlib.suppress(InvalidCredentials):
                login_check(login=login, password=secret, ip=f"198.51.100.{n % 250}", now=now)
            times.append((time.perf_counter() - started) * 1000)
        return times

    print(f"{'case':<16} {'logins/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for case, login, secret in (
        ("right password", "+79123456789", password),
        ("wrong password", "+79123456789", "Не-тот-пароль-1"),
        ("unknown login", "+79990001122", password),
    ):
        times = sorted(run(login, secret))
        q = statistics.quantiles(times, n=100)
        print(f"{case:<16} {1000 / statistics.mean(times):>9.1f} {q[49]:>8.1f} {q[94]:>8.1f} {q[98]:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
