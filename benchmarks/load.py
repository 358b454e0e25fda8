"""A realistic load on the local cluster: subscribers of the portal and of the mobile apps.

    .venv/bin/python benchmarks/load.py --accounts 10000 --duration 30
    .venv/bin/python benchmarks/load.py --accounts 1000000 --duration 600
    .venv/bin/python benchmarks/load.py --accounts 1000000 --duration 600 --reuse --json

The cluster is deploy/local/cluster.py's (PostgreSQL, Redis, two app servers behind nginx, two
Celery workers, beat) in --dir (default: abonent-load-<accounts> in the system's temporary
directory). The set-up is kept there, so a measurement can be repeated with --reuse:

1. the cluster is made and started, and seeded with ``abonent seed --accounts N --no-billing
   --seed 2026`` (the first time only);
2. the demo prices, norms and benefits of both suppliers (the seed without billing has none);
3. the billing run of the last complete month through the workers (``abonent billing run
   --workers``), so the accounts have charges and their bills can be drawn;
4. --users subscribers, each linked to a random account billed that month (one in ten to two
   or three), with a known password.

Before every measurement each subscriber is logged in afresh, on the portal (a session, as
after a login with "remember me") and in the app (an access token, valid 15 minutes), so the
timed run measures the portal and not the logins, which are a share of the mix of their own.

The load is wrk with benchmarks/load.lua: --connections keep-alive connections, each sending
its next request as soon as the answer to the last one is in (a closed loop: the throughput
the cluster gives at that concurrency), the kind drawn by the weights of MIX and the subscriber
at random. Reported per kind and overall: requests, requests per second, latency percentiles
(p50, p95, p99, max), errors (a status or redirect other than the one the kind must answer,
answers slower than --timeout, requests whose connection failed) and the error rate; the peak
memory of the cluster's processes and the CPU each part of it used, the load average, and the
database's size. Each run's files (the samples, wrk's output, a `top` taken half-way, the
result as JSON) are kept in DIR/load-runs/<time>/.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
LUA = Path(__file__).resolve().with_name("load.lua")
SEED = 2026
STATE_FILE = "load-setup.json"
USERS_FILE = "load-users.tsv"
#: The load's subscribers have phones +7998NNNNNNN (the demo subscriber is +79990000001).
PHONE_PREFIX = "+7998"
#: Every load subscriber's password (ASCII: it goes into JSON and forms as it is).
PASSWORD = "Zelyonyi-chainik-42"

#: The mix: (kind, weight in percent, what it is). A day inside the readings window (the 15th
#: to the 25th), when subscribers come to send readings: on the portal (60 %) a visit is the
#: home page, the account, the readings form and sending it, now and then the charges, the
#: bill, the pay page and a payment; most come with a remembered session, a few log in. The
#: mobile apps (40 %) mostly ask the balance, the accounts and the meters, and send readings.
MIX: list[tuple[str, int, str]] = [
    ("login_form", 4, "GET /login/ (no session)"),
    ("login", 4, "POST /login/: password, remember me → 302 /home/"),
    ("home", 12, "GET /home/ → 302 the default account"),
    ("account", 10, "GET /accounts/<id>/"),
    ("charges", 4, "GET /accounts/<id>/charges/"),
    ("readings", 9, "GET /accounts/<id>/readings/"),
    ("reading_submit", 6, "POST /accounts/<id>/readings/ every meter → 302 …/readings/sent/"),
    ("payments", 2, "GET /accounts/<id>/payments/"),
    ("pay_page", 4, "GET /payments/new/?account=<id>"),
    ("pay_start", 2, "POST /payments/new/ card or СБП → 302 /sandbox/pay/<id>/"),
    ("bill_pdf", 3, "GET /accounts/<id>/bills/<month>.pdf"),
    ("api_login", 1, "POST /api/v1/auth/login"),
    ("api_accounts", 10, "GET /api/v1/accounts"),
    ("api_account", 5, "GET /api/v1/accounts/<id>"),
    ("api_balance", 12, "GET /api/v1/accounts/<id>/balance"),
    ("api_readings", 8, "GET /api/v1/accounts/<id>/readings/current"),
    ("api_reading_submit", 4, "POST /api/v1/accounts/<id>/meters/<id>/readings → 201"),
]


def cluster_module() -> ModuleType:
    """deploy/local/cluster.py, loaded by its path (deploy/ is not a package)."""
    path = PROJECT / "deploy" / "local" / "cluster.py"
    spec = importlib.util.spec_from_file_location("abonent_local_cluster", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def log(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)  # noqa: DTZ005 (a local clock for the reader)


def shell(cluster: Any, script: str, params: dict[str, Any], *, timeout: float = 3600) -> Any:
    """Run ``script`` in ``abonent shell`` with the cluster's environment; ``PARAMS`` is
    ``params`` inside it, and what it prints after ``RESULT`` is returned (JSON)."""
    code = f"import json\nPARAMS = json.loads({json.dumps(json.dumps(params))})\n{script}"
    done = cluster.abonent("shell", "-c", code, check=False, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f"abonent shell failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise SystemExit(f"abonent shell printed no result:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


# --- the scripts run inside the cluster's Django (abonent shell -c) ----------------------

TARIFFS = """
import datetime as dt
from django.utils import timezone
from abonent.cli.demo.history import _SupplierHistory, history_periods
from abonent.cli.demo.seeding import plan_for
from abonent.cli.demo.suppliers import DEMO_SUPPLIERS
from abonent.cli.demo.tariffs import benefits_ensure, norms_ensure, prices_ensure
from abonent.core.models import Supplier
from abonent.core.periods import Period

# what benchmarks/billing.py gives the suppliers: the seed without billing has no prices
today = dt.date.fromisoformat(PARAMS["today"]) if PARAMS["today"] else timezone.localdate()
made = {}
for demo in DEMO_SUPPLIERS:
    supplier = Supplier.objects.get(code=demo.code)
    plan = plan_for(demo, supplier, seed=PARAMS["seed"], today=today)
    periods = history_periods(plan)
    history = _SupplierHistory(supplier=supplier, plan=plan, seed=PARAMS["seed"], today=today, periods=periods, demo="")
    made[demo.code] = {
        "prices": prices_ensure(supplier, demo, first=periods[0].first_day, last=today),
        "norms": norms_ensure(supplier, demo, first=periods[0].first_day),
        "benefits": benefits_ensure(history.benefits()),
    }
print("RESULT " + json.dumps({"today": today.isoformat(), "period": str(Period.of(today) - 1), "made": made}))
"""

USERS = """
import datetime as dt
import random
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from abonent.customers.enums import AccountStatus
from abonent.customers.models import AccountLink
from abonent.identity.enums import AuthChannel, ConsentKind
from abonent.identity.models import Consent, User
from abonent.identity.selectors import consent_document_get
from abonent.core.periods import Period

prefix, wanted = PARAMS["prefix"], PARAMS["users"]
have = User.objects.filter(phone__startswith=prefix).count()
need = wanted - have
created = links = 0
if need > 0:
    now = dt.datetime.now(dt.UTC)
    rng = random.Random(PARAMS["seed"] * 7919 + have)
    # one in ten has two or three accounts
    counts = [1 if rng.random() < 0.9 else rng.choice((2, 3)) for _ in range(need)]
    # accounts charged in the billed month, drawn at random (each at most one load user)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT e.account_id FROM ledger_ledgerentry e "
            "JOIN customers_personalaccount a ON a.id = e.account_id "
            "WHERE e.period = %s AND e.kind = 'charge' AND a.status <> %s "
            "AND NOT EXISTS (SELECT 1 FROM customers_accountlink l WHERE l.account_id = e.account_id)",
            [Period.parse(PARAMS["period"]).to_int(), AccountStatus.CLOSED],
        )
        pool = [row[0] for row in cursor.fetchall()]
    if len(pool) < sum(counts):
        raise SystemExit(f"only {len(pool)} accounts charged in {PARAMS['period']} and free; {sum(counts)} wanted")
    chosen = iter(rng.sample(pool, sum(counts)))
    # A benchmark: every load user has the same password, hashed once (Argon2 takes ~30 ms a
    # hash) and the encoded hash reused; the same salt for all matters to nobody here.
    encoded = make_password(PARAMS["password"])
    document = consent_document_get(kind=ConsentKind.PERSONAL_DATA, now=now)
    with transaction.atomic():
        users = User.objects.bulk_create(
            [
                User(
                    username=f"u-load-{have + i:07d}",
                    phone=f"{prefix}{have + i:07d}",
                    password=encoded,
                    is_active=True,
                    phone_confirmed_at=now,
                    date_joined=now,
                )
                for i in range(need)
            ],
            batch_size=1000,
        )
        Consent.objects.bulk_create(
            [
                Consent(user=u, document=document, kind=ConsentKind.PERSONAL_DATA, granted_at=now, channel=AuthChannel.WEB)
                for u in users
            ],
            batch_size=1000,
        )
        rows = []
        for user, count in zip(users, counts, strict=True):
            for n in range(count):
                rows.append(
                    AccountLink(user=user, account_id=next(chosen), proof="pin", channel="web", linked_at=now, is_default=n == 0)
                )
        AccountLink.objects.bulk_create(rows, batch_size=1000)
    created, links = len(users), len(rows)
print("RESULT " + json.dumps({"had": have, "created": created, "links": links}))
"""

SESSIONS = """
import datetime as dt
from importlib import import_module
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.models import Session
from django.db import transaction
from django.test import RequestFactory
from django.utils.crypto import get_random_string
from abonent.core.models import Supplier
from abonent.customers.models import AccountLink
from abonent.identity.models import AuthSession, User
from abonent.identity.services import app_session_start
from abonent.metering.selectors import reading_form
from abonent.payments.selectors import methods_allowed
from abonent.web.sessions import session_start

now = dt.datetime.now(dt.UTC)
users = list(User.objects.filter(phone__startswith=PARAMS["prefix"]).order_by("phone")[: PARAMS["users"]])
# the sessions of the last run end (their rows go: the load's users only)
old = AuthSession.objects.filter(user__phone__startswith=PARAMS["prefix"])
keys = [k for k in old.values_list("session_key", flat=True) if k]
Session.objects.filter(session_key__in=keys).delete()
ended = old.delete()[0]

store = import_module(settings.SESSION_ENGINE).SessionStore
factory = RequestFactory()
methods = {s.pk: (methods_allowed(supplier=s, now=now) or ["bank_card"])[0] for s in Supplier.objects.all()}
links = {}
for link in AccountLink.objects.filter(user__in=users).select_related("account__supplier").order_by("-is_default", "pk"):
    links.setdefault(link.user_id, []).append(link)
lines = ["#" + "\\t".join([settings.CSRF_COOKIE_NAME, settings.SESSION_COOKIE_NAME, PARAMS["password"]])]


def prepare(user):
    # the user's line: a portal session as the login form leaves it, an app token, and the
    # accounts with their meters that take readings
    request = factory.get("/login/", REMOTE_ADDR="127.0.0.1", HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14) load")
    request.session = store()
    request.user = AnonymousUser()
    session_start(request, user, remember=True)  # what the login form does after the password
    request.session.save()
    pair = app_session_start(user=user, device_name="load", user_agent="abonent-android/3.2 load", ip="127.0.0.1", now=now)
    accounts, meters = [], 0
    for link in links.get(user.pk, []):
        specs = []
        for entry in reading_form(link=link, now=now).entries:
            meter = entry.meter
            # a month's use on top must fit the meter's digits (no rollover in the load)
            if entry.accepts and entry.base_value + 100 < 10 ** meter.digits:
                specs.append(f"{meter.pk}:{entry.base_value:f}:{meter.decimals}")
        meters += len(specs)
        accounts.append(f"{link.account_id}|{methods[link.account.supplier_id]}|{'+'.join(specs)}")
    line = "\\t".join([user.phone, request.session.session_key, get_random_string(32), pair.access_token, ";".join(accounts)])
    return line, meters


meters = 0
for start in range(0, len(users), 500):
    with transaction.atomic():  # one commit a batch, not a dozen a user
        for user in users[start : start + 500]:
            line, count = prepare(user)
            lines.append(line)
            meters += count
with open(PARAMS["path"], "w", encoding="utf-8") as file:
    file.write("\\n".join(lines) + "\\n")
print("RESULT " + json.dumps({"users": len(users), "meters": meters, "sessions_ended": ended}))
"""

CHECK = """
import datetime as dt
from abonent.metering.models import Reading
from abonent.payments.models import Payment

since = dt.datetime.fromisoformat(PARAMS["since"])
readings = Reading.objects.filter(submitted_at__gte=since, submitted_by__phone__startswith=PARAMS["prefix"])
payments = Payment.objects.filter(created_at__gte=since, user__phone__startswith=PARAMS["prefix"])
by_channel = {}
for channel, status in readings.values_list("channel", "status"):
    by_channel.setdefault(channel, {}).setdefault(status, 0)
    by_channel[channel][status] += 1
print("RESULT " + json.dumps({"readings": by_channel, "payments": payments.count()}))
"""


# --- set-up ----------------------------------------------------------------------------------


def _state(cluster: Any) -> dict[str, Any]:
    path = cluster.dir / STATE_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def _state_save(cluster: Any, state: dict[str, Any]) -> None:
    (cluster.dir / STATE_FILE).write_text(json.dumps(state, indent=2, ensure_ascii=False))


def cluster_up(cluster: Any, accounts: int, timings: dict[str, float]) -> None:
    """Start the cluster (made and seeded the first time); a cluster that runs is left as it is."""
    running = cluster.running() if cluster.state_file.exists() else {}
    if running and all(running.values()):
        log(f"the cluster in {cluster.dir} runs")
        return
    if any(running.values()):
        log("part of the cluster runs: stopping it first")
        cluster.stop()
    first = not (cluster.dir / "postgres" / "data").exists()
    log(f"starting the cluster in {cluster.dir}" + (f" and seeding {accounts:,} accounts" if first else ""))
    started = time.monotonic()
    cluster.start(seed=("--accounts", str(accounts), "--no-billing", "--seed", str(SEED)) if first else ())
    timings["cluster start" + (" and seed" if first else "")] = time.monotonic() - started


def billing(cluster: Any, period: str, timings: dict[str, float]) -> dict[str, Any]:
    """The run of ``period`` for every supplier through the workers, unless it is done."""
    year, month = (int(p) for p in period.split("-"))
    runs: dict[str, Any] = {}
    for code, supplier_id in cluster.sql("SELECT code, id FROM core_supplier WHERE is_active ORDER BY id"):
        done = cluster.sql(
            "SELECT id FROM billing_billingrun WHERE supplier_id = %s AND period = %s AND status = 'done'",
            supplier_id,
            year * 100 + month,
        )
        if done:
            runs[str(code)] = "done before"
            continue
        log(f"billing {period} of {code} on the workers")
        started = time.monotonic()
        result = cluster.abonent(
            "billing", "run", "--supplier", str(code), "--period", period, "--workers", "--no-progress",
            check=False, timeout=4 * 3600,
        )  # fmt: skip
        if result.returncode != 0:
            # the command may lose track of a run it sent (its wait for the start needs a
            # result backend); the run itself is in the table
            log(f"billing run exited with {result.returncode}: following the run in the database")
        status = _wait_run(cluster, supplier_id, year * 100 + month)
        seconds = time.monotonic() - started
        timings[f"billing {period} {code}"] = seconds
        if status != "done":
            tail = (result.stdout + result.stderr)[-3000:]
            raise SystemExit(f"the billing run of {code} for {period} ended {status}:\n{tail}")
        runs[str(code)] = f"{seconds:.0f} s"
    return runs


def _wait_run(cluster: Any, supplier_id: object, period: int, timeout: float = 4 * 3600) -> str:
    deadline = time.monotonic() + timeout
    started = time.monotonic()
    while time.monotonic() < deadline:
        rows = cluster.sql(
            "SELECT status, error FROM billing_billingrun WHERE supplier_id = %s AND period = %s ORDER BY id DESC LIMIT 1",
            supplier_id,
            period,
        )
        if rows and rows[0][0] != "running":
            return str(rows[0][0]) + (f": {rows[0][1]}" if rows[0][1] else "")
        if not rows and time.monotonic() - started > 180:  # the task never made a run
            return "never started (see the workers' logs)"
        time.sleep(2)
    return "still running"


def setup(cluster: Any, args: argparse.Namespace, timings: dict[str, float]) -> dict[str, Any]:
    state = _state(cluster)
    if state.get("accounts") not in (None, args.accounts):
        raise SystemExit(
            f"{cluster.dir} holds {state['accounts']:,} accounts, not {args.accounts:,}: use another --dir"
        )
    cluster_up(cluster, args.accounts, timings)
    state["accounts"] = args.accounts
    _state_save(cluster, state)
    if "period" not in state:
        log("prices, norms and benefits of the suppliers")
        started = time.monotonic()
        made = shell(cluster, TARIFFS, {"today": None, "seed": SEED})
        timings["prices, norms, benefits"] = time.monotonic() - started
        state.update(today=made["today"], period=made["period"])
        _state_save(cluster, state)
    state["billing"] = billing(cluster, state["period"], timings)
    _state_save(cluster, state)
    started = time.monotonic()
    users = shell(
        cluster,
        USERS,
        {"prefix": PHONE_PREFIX, "users": args.users, "seed": SEED, "password": PASSWORD, "period": state["period"]},
    )
    if users["created"]:
        timings[f"{users['created']:,} users"] = time.monotonic() - started
        log(f"{users['created']:,} users made, {users['links']:,} links")
    state["users"] = max(state.get("users", 0), users["had"] + users["created"])
    _state_save(cluster, state)
    return state


def log_in(cluster: Any, args: argparse.Namespace, path: Path, timings: dict[str, float]) -> dict[str, Any]:
    log(f"logging {args.users:,} users in (portal sessions and app tokens)")
    started = time.monotonic()
    made = shell(
        cluster, SESSIONS, {"prefix": PHONE_PREFIX, "users": args.users, "password": PASSWORD, "path": str(path)}
    )
    timings["log the users in"] = time.monotonic() - started
    if made["users"] < args.users:
        raise SystemExit(f"only {made['users']} load users exist, {args.users} wanted")
    return dict(made)


# --- watching the cluster --------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _read(path: str) -> str:
    try:
        with open(path) as file:
            return file.read()
    except OSError:
        return ""


@dataclass
class Watch:
    """Samples the cluster's processes every ``every`` seconds while the load runs: the
    memory of each part (sum of RSS and of PSS, which shares the pages of PostgreSQL's
    shared buffers and of the forked workers fairly), the CPU each part used, the load
    average and how busy the machine's CPUs were."""

    groups: dict[int, str]  # process group → part
    postmaster: int | None
    wrk: int | None = None
    every: float = 2.0
    peak_rss: dict[str, int] = field(default_factory=dict)  # kB
    peak_pss: dict[str, int] = field(default_factory=dict)
    peak_total_pss: int = 0
    peak_total_rss: int = 0
    cpu: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # seconds
    loadavg: list[float] = field(default_factory=list)
    machine_busy: list[float] = field(default_factory=list)
    machine_seconds: float = 0.0  # CPU time used on the machine by anything
    _ticks: dict[int, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def part(self, pid: int, ppid: int, pgrp: int) -> str:
        if pid == self.postmaster or ppid == self.postmaster:
            return "postgres"
        if self.wrk is not None and pid == self.wrk:
            return "wrk (the load)"
        return self.groups.get(pgrp, "")

    def sample(self, first: bool = False) -> None:
        rss: dict[str, int] = defaultdict(int)
        pss: dict[str, int] = defaultdict(int)
        ticks: dict[int, int] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            stat = _read(f"/proc/{pid}/stat")
            if not stat:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            ppid, pgrp = int(fields[1]), int(fields[2])
            part = self.part(pid, ppid, pgrp)
            if not part:
                continue
            ticks[pid] = int(fields[11]) + int(fields[12])
            if not first:
                self.cpu[part] += (ticks[pid] - self._ticks.get(pid, 0)) / CLK_TCK
            for line in _read(f"/proc/{pid}/smaps_rollup").splitlines():
                if line.startswith("Rss:"):
                    rss[part] += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss[part] += int(line.split()[1])
        self._ticks = ticks
        for part in rss:
            self.peak_rss[part] = max(self.peak_rss.get(part, 0), rss[part])
            self.peak_pss[part] = max(self.peak_pss.get(part, 0), pss[part])
        cluster_parts = [p for p in rss if not p.startswith("wrk")]
        self.peak_total_pss = max(self.peak_total_pss, sum(pss[p] for p in cluster_parts))
        self.peak_total_rss = max(self.peak_total_rss, sum(rss[p] for p in cluster_parts))
        self.loadavg.append(float(_read("/proc/loadavg").split()[0]))

    def _cpu_times(self) -> tuple[int, int]:
        values = [int(v) for v in _read("/proc/stat").splitlines()[0].split()[1:]]
        idle = values[3] + values[4]
        return sum(values) - idle, sum(values)

    def _run(self) -> None:
        busy, total = self._cpu_times()
        while not self._stop.wait(self.every):
            self.sample()
            now_busy, now_total = self._cpu_times()
            if now_total > total:
                self.machine_busy.append((now_busy - busy) / (now_total - total))
            self.machine_seconds += (now_busy - busy) / CLK_TCK
            busy, total = now_busy, now_total

    def start(self) -> None:
        self.sample(first=True)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()


def watch_for(cluster: Any) -> Watch:
    groups = {pid: name for name, pid in cluster.state.pids.items()}
    pidfile = cluster.dir / "postgres" / "data" / "postmaster.pid"
    postmaster = int(pidfile.read_text().split()[0]) if pidfile.exists() else None
    return Watch(groups=groups, postmaster=postmaster)


# --- the run and its numbers -----------------------------------------------------------------


@dataclass
class Kind:
    name: str
    latencies: list[float] = field(default_factory=list)  # ms, of every answer
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def answered(self) -> int:
        return len(self.latencies)

    @property
    def failed(self) -> int:
        return sum(self.errors.values())


def _percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return 0.0
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def analyse(
    outdir: Path, mix: dict[str, int], timeout: float, step: int
) -> tuple[dict[str, Kind], dict[str, Any], list[dict[str, Any]]]:
    """The samples of wrk's threads by kind, wrk's totals, and the run in steps of ``step``
    seconds (answers, errors, median latency): whether it held steady."""
    kinds: dict[str, Kind] = {name: Kind(name) for name, weight in mix.items() if weight}
    steps: dict[int, list[float]] = defaultdict(list)
    step_errors: dict[int, int] = defaultdict(int)
    for path in sorted(outdir.glob("samples-*.tsv")):
        for line in path.read_text().splitlines():
            name, _status, latency_us, outcome, at_us = line.split("\t")
            kind = kinds.setdefault(name, Kind(name))
            ms = int(latency_us) / 1000
            kind.latencies.append(ms)
            bucket = int(at_us) // (step * 1_000_000)
            steps[bucket].append(ms)
            if outcome != "ok":
                kind.errors[outcome.removeprefix("error:")] += 1
                step_errors[bucket] += 1
            elif ms > timeout * 1000:
                kind.errors[f"slower than {timeout:g} s"] += 1
                step_errors[bucket] += 1
    summary = json.loads((outdir / "wrk.json").read_text())
    for name, count in summary.get("unanswered", {}).items():
        kinds.setdefault(name, Kind(name)).errors["no answer (connection failed)"] += count
    seconds = summary["duration_us"] / 1e6
    timeline = [
        {
            "from_s": bucket * step,
            "answers": len(steps[bucket]),
            "rps": round(len(steps[bucket]) / max(1e-3, min(step, seconds - bucket * step)), 1),
            "errors": step_errors[bucket],
            "p50_ms": round(_percentile(sorted(steps[bucket]), 50), 1),
            "p99_ms": round(_percentile(sorted(steps[bucket]), 99), 1),
        }
        for bucket in sorted(steps)
        if seconds - bucket * step >= step / 2  # not the last moments of the run alone
    ]
    return kinds, summary, timeline


def row(name: str, latencies: list[float], requests: int, failed: int, seconds: float) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "kind": name,
        "requests": requests,
        "rps": requests / seconds if seconds else 0.0,
        "p50_ms": _percentile(ordered, 50),
        "p95_ms": _percentile(ordered, 95),
        "p99_ms": _percentile(ordered, 99),
        "max_ms": ordered[-1] if ordered else 0.0,
        "errors": failed,
        "error_rate": failed / requests if requests else 0.0,
    }


def run_load(cluster: Any, args: argparse.Namespace, users_file: Path, outdir: Path) -> tuple[Watch, str, str]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    mix = ",".join(f"{name}:{weight}" for name, weight in args.mix.items() if weight > 0)
    command = [wrk, "-t", str(args.threads), "-c", str(args.connections), "-d", f"{args.duration}s"]
    command += ["--timeout", f"{args.timeout:g}s", "-s", str(LUA), cluster.url + "/"]
    command += ["--", str(users_file), str(outdir), mix, args.period, str(SEED), f"{args.timeout:g}", f"{args.think:g}"]
    watch = watch_for(cluster)
    log(f"load: {args.connections} connections, {args.threads} wrk threads, {args.duration} s → {cluster.url}")
    with open(outdir / "wrk.out", "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=outdir)
        watch.wrk = process.pid
        watch.start()
        top = ""
        try:
            deadline = time.monotonic() + args.duration / 2
            while process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.5)
            if process.poll() is None:
                top = subprocess.run(["top", "-b", "-n", "1", "-w", "200"], capture_output=True, text=True).stdout
                (outdir / "top.txt").write_text(top)
            process.wait(timeout=args.duration + 120)
        finally:
            if process.poll() is None:
                process.kill()
            watch.stop()
    return watch, (outdir / "wrk.out").read_text(), top


def report(
    *,
    args: argparse.Namespace,
    kinds: dict[str, Kind],
    summary: dict[str, Any],
    watch: Watch,
    database: dict[str, int],
    check: dict[str, Any],
    timings: dict[str, float],
    timeline: list[dict[str, Any]],
    outdir: Path,
) -> dict[str, Any]:
    seconds = summary["duration_us"] / 1e6
    rows = []
    for name, kind in kinds.items():
        unanswered = kind.errors.get("no answer (connection failed)", 0)
        rows.append(row(name, kind.latencies, kind.answered + unanswered, kind.failed, seconds))
    everything = [ms for kind in kinds.values() for ms in kind.latencies]
    total = sum(r["requests"] for r in rows)
    overall = row("all", everything, total, sum(r["errors"] for r in rows), seconds)
    errors = {name: dict(kind.errors) for name, kind in kinds.items() if kind.errors}
    cpu = dict(watch.cpu)
    cpu["other processes"] = max(0.0, watch.machine_seconds - sum(cpu.values()))
    cpu_total = sum(cpu.values())
    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "accounts": args.accounts,
        "users": args.users,
        "duration_s": round(seconds, 1),
        "connections": args.connections,
        "threads": args.threads,
        "think_ms": args.think,
        "timeout_s": args.timeout,
        "period": args.period,
        "mix": args.mix,
        "kinds": rows,
        "overall": overall,
        "errors_by_reason": errors,
        "socket_errors": summary["errors"],
        "unmatched_answers": summary.get("unmatched", 0),
        "memory_peak_kib": {
            "rss_by_part": watch.peak_rss,
            "pss_by_part": watch.peak_pss,
            "cluster_rss_sum": watch.peak_total_rss,
            "cluster_pss_sum": watch.peak_total_pss,
        },
        "cpu_seconds_by_part": {k: round(v, 1) for k, v in sorted(cpu.items(), key=lambda kv: -kv[1])},
        "cpu_share_by_part": {k: round(v / cpu_total, 3) for k, v in cpu.items()} if cpu_total else {},
        "machine_cpu_busy_mean": round(sum(watch.machine_busy) / len(watch.machine_busy), 3)
        if watch.machine_busy
        else None,
        "loadavg_1m": {
            "min": min(watch.loadavg, default=0),
            "mean": round(sum(watch.loadavg) / len(watch.loadavg), 2) if watch.loadavg else 0,
            "max": max(watch.loadavg, default=0),
        },
        "database_bytes": database,
        "stored_during_run": check,
        "setup_seconds": {k: round(v, 1) for k, v in timings.items()},
        "timeline": timeline,
        "files": str(outdir),
    }


def _mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB".replace(",", " ")


def print_table(result: dict[str, Any]) -> None:
    print(
        f"\n{result['accounts']:,} accounts, {result['users']:,} users, {result['duration_s']:g} s, "
        f"{result['connections']} connections"
        + (f" pausing {result['think_ms']:g} ms on average" if result["think_ms"] else "")
        + f", bill month {result['period']}\n"
    )
    head = f"{'kind':<20} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>9} {'errors':>7} {'rate':>7}"
    print(head)
    print("-" * len(head))
    for r in [*result["kinds"], result["overall"]]:
        if r["kind"] == "all":
            print("-" * len(head))
        print(
            f"{r['kind']:<20} {r['requests']:>9,} {r['rps']:>8.1f} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} "
            f"{r['p99_ms']:>8.1f} {r['max_ms']:>9.1f} {r['errors']:>7,} {r['error_rate']:>7.2%}"
        )
    if result["errors_by_reason"]:
        print("\nerrors:")
        for kind, reasons in result["errors_by_reason"].items():
            print(
                f"  {kind}: " + ", ".join(f"{why} × {n:,}" for why, n in sorted(reasons.items(), key=lambda kv: -kv[1]))
            )
    sock = result["socket_errors"]
    print(
        f"\nwrk: connect {sock['connect']}, read {sock['read']}, write {sock['write']}, "
        f"timeout {sock['timeout']} (over {result['timeout_s']:g} s; counted above as slower)"
    )
    memory = result["memory_peak_kib"]
    print("\npeak memory (sum over the part's processes):  part: RSS / PSS")
    for part in sorted(memory["rss_by_part"]):
        print(f"  {part:<16} {_mib(memory['rss_by_part'][part]):>10} / {_mib(memory['pss_by_part'][part]):>10}")
    print(f"  {'cluster':<16} {_mib(memory['cluster_rss_sum']):>10} / {_mib(memory['cluster_pss_sum']):>10}")
    print(f"\nCPU seconds during the run, by part (share of the {os.cpu_count()} CPUs' busy time):")
    for part, seconds in result["cpu_seconds_by_part"].items():
        print(f"  {part:<16} {seconds:>8.1f} s  {result['cpu_share_by_part'].get(part, 0):>6.1%}")
    busy = result["machine_cpu_busy_mean"]
    load = result["loadavg_1m"]
    print(
        f"\nmachine: CPU busy {busy or 0:.0%} on average; load average (1 min) {load['min']:.2f}–{load['max']:.2f}, "
        f"mean {load['mean']:.2f} on {os.cpu_count()} CPUs"
    )
    print(
        "\nthe run by steps: "
        + "  ".join(f"{t['from_s']}s {t['rps']:.0f}/s p50 {t['p50_ms']:.0f}" for t in result["timeline"])
    )
    db = result["database_bytes"]
    print(f"database: {db['before'] / 2**20:,.0f} MiB before, {db['after'] / 2**20:,.0f} MiB after")
    print(f"stored by the load: {json.dumps(result['stored_during_run'], ensure_ascii=False)}")
    if result["setup_seconds"]:
        print("set-up: " + ", ".join(f"{k} {v:,.0f} s" for k, v in result["setup_seconds"].items()))
    print(f"files: {result['files']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10_000, help="accounts seeded (default 10 000)")
    parser.add_argument("--users", type=int, default=2000, help="subscribers making the load (default 2 000)")
    parser.add_argument("--duration", type=int, default=600, help="seconds of load (default 600)")
    parser.add_argument("--connections", type=int, default=32, help="connections kept open (default 32)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument(
        "--think", type=float, default=0.0, help="mean pause (ms) of a connection between answer and next request (0)"
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="an answer slower than this is an error (10 s)")
    parser.add_argument(
        "--dir", default=None, help="the cluster's directory (default: abonent-load-<accounts> in TMPDIR)"
    )
    parser.add_argument("--reuse", action="store_true", help="skip the set-up when the cluster's directory exists")
    parser.add_argument("--stop", action="store_true", help="stop the cluster at the end")
    parser.add_argument(
        "--mix",
        dest="mix_text",
        metavar="KIND=WEIGHT,…",
        default="",
        help="weights to change: kind=weight,… (login=0 leaves logins out)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    args.mix = {name: weight for name, weight, _d in MIX}
    for item in filter(None, (part.strip() for part in args.mix_text.split(","))):
        name, _eq, weight = item.partition("=")
        if name not in args.mix or not weight.isdigit():
            parser.error(f"--mix: «{item}» is not kind=weight; the kinds: {', '.join(args.mix)}")
        args.mix[name] = int(weight)
    if not any(args.mix.values()):
        parser.error("--mix: every weight is 0")
    if args.accounts < 100:
        parser.error("--accounts: at least 100")
    if not 1 <= args.users <= args.accounts // 2:
        parser.error("--users: between 1 and half the accounts")
    if args.duration < 5:
        parser.error("--duration: at least 5 seconds")
    if args.duration > 840:
        parser.error("--duration: at most 840 s (the app's access tokens live 15 minutes)")
    if args.threads < 1 or args.connections < args.threads:
        parser.error("--connections must be at least --threads, and --threads at least 1")
    if args.think < 0:
        parser.error("--think: 0 or more milliseconds")
    if args.timeout <= 0:
        parser.error("--timeout: a positive number of seconds")

    directory = Path(args.dir) if args.dir else Path(tempfile.gettempdir()) / f"abonent-load-{args.accounts}"
    cluster = cluster_module().Cluster(directory, fast=False)
    timings: dict[str, float] = {}
    if args.reuse and (cluster.dir / STATE_FILE).exists() and _state(cluster).get("users", 0) >= args.users:
        cluster_up(cluster, args.accounts, timings)
        state = _state(cluster)
        if state.get("accounts") != args.accounts:
            raise SystemExit(f"{cluster.dir} holds {state.get('accounts')} accounts, not {args.accounts}")
    else:
        state = setup(cluster, args, timings)
    args.period = state["period"]

    outdir = cluster.dir / "load-runs" / dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    outdir.mkdir(parents=True)
    users_file = cluster.dir / USERS_FILE
    log_in(cluster, args, users_file, timings)
    since = dt.datetime.now(dt.UTC)
    size_before = int(cluster.sql("SELECT pg_database_size(current_database())")[0][0])
    try:
        watch, _wrk_out, _top = run_load(cluster, args, users_file, outdir)
        step = 60 if args.duration >= 300 else 10
        kinds, summary, timeline = analyse(outdir, args.mix, args.timeout, step)
        size_after = int(cluster.sql("SELECT pg_database_size(current_database())")[0][0])
        check = shell(cluster, CHECK, {"since": since.isoformat(), "prefix": PHONE_PREFIX})
        result = report(
            args=args,
            kinds=kinds,
            summary=summary,
            watch=watch,
            database={"before": size_before, "after": size_after},
            check=check,
            timings=timings,
            timeline=timeline,
            outdir=outdir,
        )
        (outdir / "result.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
        if args.json:
            print(json.dumps(result, indent=2, ensure_ascii=False))
        else:
            print_table(result)
    finally:
        if args.stop:
            log("stopping the cluster")
            with contextlib.suppress(Exception):
                cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
