"""The scaled set-up under work and under faults, end to end through nginx.

The runs go in this order on the cluster of conftest.py (3 000 demo accounts, money history to
August 2026): September of one supplier undisturbed, split over both workers; September of the
other with a worker killed (kill -9) in the middle; September's bills drawn in bulk with a
worker killed; October of one supplier with PostgreSQL restarted under load; October of the
other with Redis restarted. After each, the ledger is compared with the undisturbed reference.
Last, a subscriber's journey in a real browser: log in, submit a reading, pay through the
sandbox (its notification is sent by a worker over HTTP to the app servers), download the bill.
"""

from __future__ import annotations

import http.cookiejar
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.cluster.conftest import CHUNK, VISIBILITY, ledger_digest

pytestmark = [pytest.mark.cluster]

PHONE = "+79990000001"  # the demo subscriber (abonent seed)
PASSWORD = "abonent-demo-2026"
RUN_TABLES = {
    "billing": ("billing_billingrun", "billing_billingchunk"),
    "bills": ("documents_billrun", "documents_billchunk"),
}
# how long a run whose chunk's job was lost waits before it is taken over: its lease (billing
# 2 minutes, bills 5), the sweep's minute, the rest of the run
LEASE_OUT = {"billing": 300, "bills": 520}
TASKS = {
    "billing": "from abonent.billing.tasks import billing_run_task as task",
    "bills": "from abonent.documents.tasks import bills_run_task as task",
}


# --- helpers ------------------------------------------------------------------------------


def run_send(cluster: Any, kind: str, supplier: str, period: str) -> None:
    """Send a run to the workers, as the back office's button does."""
    code = f"{TASKS[kind]}; task.delay({supplier!r}, {period!r}, None, channel='cli', chunk_size={CHUNK})"
    cluster.abonent("shell", "-c", code)


def run_state(cluster: Any, kind: str, supplier: str, period: str) -> tuple[str | None, int, int]:
    """(status of the latest run, chunks done, chunks), or (None, 0, 0) before it opens."""
    runs, chunks = RUN_TABLES[kind]
    year, month = period.split("-")
    rows = cluster.sql(
        f"""
        SELECT r.status, count(c.id) FILTER (WHERE c.done_at IS NOT NULL), count(c.id)
        FROM {runs} r JOIN core_supplier s ON s.id = r.supplier_id LEFT JOIN {chunks} c ON c.run_id = r.id
        WHERE s.code = %s AND r.period = %s GROUP BY r.id, r.status ORDER BY r.id DESC LIMIT 1
        """,
        supplier,
        int(year) * 100 + int(month),
    )
    return (rows[0][0], rows[0][1], rows[0][2]) if rows else (None, 0, 0)


def wait_for(what: str, check: Any, timeout: float, every: float = 0.3) -> Any:
    """Poll ``check`` until it gives a true value; database errors (a restart) are waited out."""
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except psycopg.OperationalError:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s")
        time.sleep(every)


def wait_done(cluster: Any, kind: str, supplier: str, period: str, timeout: float = 240) -> None:
    def ended() -> bool:
        status, _, _ = run_state(cluster, kind, supplier, period)
        return status not in (None, "running")

    wait_for(f"the {kind} run of {supplier} {period} ends", ended, timeout)
    status, done, total = run_state(cluster, kind, supplier, period)
    assert (status, done) == ("done", total), f"{kind} {supplier} {period}: {status}, {done} of {total} chunks"


def wait_part_done(cluster: Any, kind: str, supplier: str, period: str, share: float) -> None:
    """Until ``share`` of the run's chunks are done (and it is still running)."""

    def far_enough() -> bool:
        status, done, total = run_state(cluster, kind, supplier, period)
        assert status in (None, "running"), f"the run ended before the fault: {status}"
        return bool(total) and done >= total * share

    wait_for(f"{share:.0%} of the {kind} run of {supplier} {period}", far_enough, 120, every=0.1)


def task_ids(text: str, task: str, event: str) -> set[str]:
    return set(re.findall(rf"{re.escape(task)}\[([0-9a-f-]{{36}})\] {event}", text))


def log_text(cluster: Any, name: str) -> str:
    return (cluster.logs / f"{name}.log").read_text(errors="replace")


def chunks_redone(cluster: Any, kind: str, supplier: str, period: str, held: set[str]) -> None:
    """The jobs the killed worker held were given out again and done, or, when one was lost
    on its way to the worker (the Redis broker's window between handing a job over and the
    worker recording it), the run was taken over by a new one when its lease ran out."""
    runs, _ = RUN_TABLES[kind]
    year, month = period.split("-")
    channels = [row[0] for row in cluster.sql(
        f"SELECT r.channel FROM {runs} r JOIN core_supplier s ON s.id = r.supplier_id "
        "WHERE s.code = %s AND r.period = %s ORDER BY r.id", supplier, int(year) * 100 + int(month)
    )]  # fmt: skip
    if channels[-1] == "resume":
        print(f"{kind} {supplier} {period}: a chunk's job was lost with the worker; a new run took over")
        return
    task = "billing_chunk_task" if kind == "billing" else "bills_chunk_task"

    def not_redone() -> set[str]:
        return held - task_ids(log_text(cluster, "worker1") + log_text(cluster, "worker2"), task, "succeeded")

    # A chunk the worker had committed when it was killed, not yet acknowledged, lets the run
    # end before its job is given out again (after the visibility timeout): that job comes
    # later and finds its chunk done.
    wait_for(f"the killed worker's jobs done again ({held})", lambda: not not_redone(), VISIBILITY + 60)


def sampled(exposition: str, name: str, **labels: str) -> bool:
    """Whether the Prometheus text has a sample of ``name`` with these labels above zero."""
    for line in exposition.splitlines():
        match = re.fullmatch(r"(\w+)\{(.*)\} (\S+)", line)
        if match and match[1] == name and float(match[3]) > 0:
            found = dict(re.findall(r'(\w+)="([^"]*)"', match[2]))
            if all(found.get(k) == v for k, v in labels.items()):
                return True
    return False


def in_hand(cluster: Any, worker: str, task: str) -> set[str]:
    """The jobs of ``task`` the worker has received and that are not finished, by the logs (a
    job an earlier fault took from it may have been finished by the other worker)."""
    received = task_ids(log_text(cluster, worker), task, "received")
    text = log_text(cluster, "worker1") + log_text(cluster, "worker2")
    return received - task_ids(text, task, "succeeded") - task_ids(text, task, "retry")


@dataclass
class Visitor:
    """A browser's worth of HTTP: cookies, the CSRF token, no JavaScript."""

    base: str
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def _cookie(self, name: str) -> str:
        return next((c.value or "" for c in self.jar if c.name == name), "")

    def request(self, path: str, data: dict[str, str] | None = None, timeout: float = 15) -> tuple[int, str, str]:
        """(status, final URL, body) of a GET, or a POST of the form ``data``."""
        body = None
        headers = {"Accept-Language": "ru"}
        if data is not None:
            body = urllib.parse.urlencode({"csrfmiddlewaretoken": self._cookie("csrftoken"), **data}).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.base + path, data=body, headers=headers)
        try:
            with self.opener.open(request, timeout=timeout) as answer:
                return answer.status, answer.url, answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.url, exc.read().decode("utf-8", "replace")

    def log_in(self) -> None:
        self.request("/login/")
        status, url, body = self.request("/login/", {"login": PHONE, "password": PASSWORD})
        assert (status, "/login/" in url) == (200, False), f"login failed: {status} {url}\n{body[:500]}"


@dataclass
class Load:
    """Requests through the front, a few at a time, each recorded with its time and outcome."""

    visitor: Visitor
    paths: list[str]
    threads: int = 3
    results: list[tuple[float, float, int | str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._workers = [threading.Thread(target=self._loop, args=(n,), daemon=True) for n in range(self.threads)]

    def _loop(self, n: int) -> None:
        i = n
        while not self._stop.is_set():
            path = self.paths[i % len(self.paths)]
            i += 1
            started = time.monotonic()
            try:
                outcome: int | str = self.visitor.request(path, timeout=10)[0]
            except Exception as exc:  # noqa: BLE001 - every failure is an outcome here
                outcome = type(exc).__name__
            self.results.append((started, time.monotonic(), outcome))

    def __enter__(self) -> Load:
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=20)

    def failures(self, after: float = 0.0) -> list[tuple[float, float, int | str]]:
        return [r for r in self.results if r[0] >= after and r[2] != 200]


def demo_account(cluster: Any) -> int:
    rows = cluster.sql(
        "SELECT l.account_id FROM customers_accountlink l JOIN identity_user u ON u.id = l.user_id "
        "WHERE u.phone = %s ORDER BY l.id LIMIT 1",
        PHONE,
    )
    return int(rows[0][0])


# --- the runs -----------------------------------------------------------------------------


def test_a_billing_run_is_split_across_both_workers(cluster: Any, reference: dict[Any, Any]) -> None:
    done = cluster.abonent(
        "billing", "run", "--supplier", "stolgaz", "--period", "2026-09", "--workers", "--chunk-size", str(CHUNK)
    )
    assert "отправлен исполнителям" in done.stdout
    assert run_state(cluster, "billing", "stolgaz", "2026-09")[0] == "done"
    for worker in ("worker1", "worker2"):
        assert task_ids(log_text(cluster, worker), "billing_chunk_task", "succeeded"), f"{worker} billed nothing"
    assert ledger_digest(cluster, "stolgaz", "2026-09") == reference[("stolgaz", "2026-09")]


def kill_a_worker_in_a_run(cluster: Any, kind: str, supplier: str, period: str, worker: int) -> None:
    """Send a run, kill -9 the worker while it holds one of its chunks, start the worker again
    (as its service manager would) and wait for the run to end."""
    task = "billing_chunk_task" if kind == "billing" else "bills_chunk_task"
    name = f"worker{worker}"
    run_send(cluster, kind, supplier, period)
    wait_part_done(cluster, kind, supplier, period, 0.2)
    held: set[str] = set()
    for _ in range(3):  # a kill that fell between two chunks is tried again on a later one
        wait_for(f"{name} holds a chunk", lambda: in_hand(cluster, name, task), 60, every=0.02)
        cluster.worker_kill(worker)
        held = in_hand(cluster, name, task)
        time.sleep(2)
        cluster.worker_start(worker)
        if held or run_state(cluster, kind, supplier, period)[0] != "running":
            break
    assert held, "the worker held no chunk when it was killed"
    wait_done(cluster, kind, supplier, period, timeout=LEASE_OUT[kind])
    chunks_redone(cluster, kind, supplier, period, held)


def test_a_worker_killed_in_the_middle_of_a_billing_run(cluster: Any, reference: dict[Any, Any]) -> None:
    kill_a_worker_in_a_run(cluster, "billing", "yantargaz", "2026-09", worker=1)
    assert ledger_digest(cluster, "yantargaz", "2026-09") == reference[("yantargaz", "2026-09")]


def test_a_worker_killed_in_the_middle_of_a_bill_run(cluster: Any, reference: dict[Any, Any]) -> None:
    kill_a_worker_in_a_run(cluster, "bills", "stolgaz", "2026-09", worker=2)
    # one bill per billed account, each a whole PDF on the shared volume
    bills = cluster.sql(
        "SELECT b.file, b.size FROM documents_bill b JOIN customers_personalaccount a ON a.id = b.account_id "
        "JOIN core_supplier s ON s.id = a.supplier_id WHERE s.code = 'stolgaz' AND b.period = 202609"
    )
    billed = cluster.sql(
        "SELECT count(DISTINCT e.account_id) FROM ledger_ledgerentry e JOIN customers_personalaccount a "
        "ON a.id = e.account_id JOIN core_supplier s ON s.id = a.supplier_id "
        "WHERE s.code = 'stolgaz' AND e.billed_in = 202609"
    )[0][0]
    assert len(bills) >= billed > 0
    for name, size in bills:
        content = (Path(cluster.env()["MEDIA_ROOT"]) / str(name)).read_bytes()
        assert (content[:5], b"%%EOF" in content[-64:], len(content)) == (b"%PDF-", True, size), name
    assert ledger_digest(cluster, "stolgaz", "2026-09") == reference[("stolgaz", "2026-09")]


def test_postgresql_restarted_under_load(cluster: Any, reference: dict[Any, Any]) -> None:
    visitor = Visitor(cluster.url)
    visitor.log_in()
    account = demo_account(cluster)
    with Load(visitor, [f"/accounts/{account}/", "/healthz", f"/accounts/{account}/charges/", "/"]) as load:
        time.sleep(2)
        run_send(cluster, "billing", "stolgaz", "2026-10")
        wait_part_done(cluster, "billing", "stolgaz", "2026-10", 0.25)
        down = time.monotonic()
        cluster.postgres_restart()
        up = time.monotonic()
        wait_done(cluster, "billing", "stolgaz", "2026-10")
        time.sleep(3)
        settled = time.monotonic()
        time.sleep(5)
    before = [r for r in load.results if r[1] < down]
    assert before, "no requests before the restart"
    assert all(r[2] == 200 for r in before), load.failures()[:5]
    # answers fail while the database is away, and not for long after it is back
    lasting = load.failures(after=up + 5)
    assert lasting == [], f"still failing after the restart: {lasting[:5]}"
    assert [r for r in load.results if r[0] >= settled], "no requests after the restart"
    assert ledger_digest(cluster, "stolgaz", "2026-10") == reference[("stolgaz", "2026-10")]
    # the session outlived the restart
    assert visitor.request(f"/accounts/{account}/")[1].endswith(f"/accounts/{account}/")


def test_redis_restarted_in_a_billing_run_with_subscribers_online(cluster: Any, reference: dict[Any, Any]) -> None:
    visitor = Visitor(cluster.url)
    visitor.log_in()
    account = demo_account(cluster)
    meter_id, last = cluster.sql(
        "SELECT m.id, max(r.value) FROM metering_meter m JOIN metering_reading r ON r.meter_id = m.id "
        "WHERE m.account_id = %s GROUP BY m.id ORDER BY m.id LIMIT 1",
        account,
    )[0]
    run_send(cluster, "billing", "yantargaz", "2026-10")
    wait_part_done(cluster, "billing", "yantargaz", "2026-10", 0.25)
    cluster.redis_stop()
    try:
        # Redis away: the session is read from the database, a reading is taken and kept
        status, url, _ = visitor.request(f"/accounts/{account}/")
        assert (status, url.endswith(f"/accounts/{account}/")) == (200, True)
        status, url, body = visitor.request(f"/accounts/{account}/readings/")
        assert status == 200, body[:300]
        value = (Decimal(str(last)) + 7).quantize(Decimal(1))
        status, url, body = visitor.request(f"/accounts/{account}/readings/", {f"meter_{meter_id}": str(value)})
        assert (status, "/readings/sent/" in url) == (200, True), f"{status} {url}\n{body[:800]}"
    finally:
        cluster.redis_start()
    kept = cluster.sql("SELECT count(*) FROM metering_reading WHERE meter_id = %s AND value = %s", meter_id, value)
    assert kept == [(1,)]
    wait_done(cluster, "billing", "yantargaz", "2026-10")
    assert ledger_digest(cluster, "yantargaz", "2026-10") == reference[("yantargaz", "2026-10")]
    status, url, _ = visitor.request(f"/accounts/{account}/")
    assert (status, url.endswith(f"/accounts/{account}/")) == (200, True)


# --- the subscriber's journey -------------------------------------------------------------


def test_a_subscriber_reads_pays_and_downloads_the_bill(cluster: Any, browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    account = demo_account(cluster)
    context = browser.new_context(locale="ru-RU", viewport={"width": 360, "height": 740}, java_script_enabled=False)
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        page.goto(cluster.url + "/login/")
        page.get_by_label("Телефон или e\u2011mail").fill(PHONE)
        page.get_by_label("Пароль", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Войти", exact=True).click()
        page.wait_for_url(lambda url: "/login/" not in url)

        # a reading
        page.goto(f"{cluster.url}/accounts/{account}/readings/")
        field = page.locator("input[name^=meter_]").first
        meter_id = int((field.get_attribute("name") or "").removeprefix("meter_"))
        last = cluster.sql("SELECT max(value) FROM metering_reading WHERE meter_id = %s", meter_id)[0][0]
        value = (Decimal(str(last)) + 11).quantize(Decimal(1))
        field.fill(str(value))
        page.get_by_role("button", name="Отправить показания").click()
        page.wait_for_url(re.compile(r"/readings/sent/"))
        assert cluster.sql("SELECT count(*) FROM metering_reading WHERE meter_id = %s AND value = %s", meter_id, value)

        # a payment through the sandbox: its notification goes from a worker to an app server
        page.goto(f"{cluster.url}/payments/new/?account={account}")
        page.get_by_role("button", name="Перейти к оплате").click()  # what is due, as offered
        page.get_by_role("button", name="Подтвердить оплату").click()
        for _ in range(40):
            if page.get_by_role("heading", name="Платёж оплачен").count():
                break
            time.sleep(0.5)
            page.reload()
        expect(page.get_by_role("heading", level=1)).to_have_text("Платёж оплачен")
        # credited once: the entries of its parts (gas, penalties) add up to it
        status, amount, credited = cluster.sql(
            "SELECT p.status, p.amount, sum(e.amount) FROM payments_payment p "
            "LEFT JOIN ledger_ledgerentry e ON e.source_key LIKE 'payment:' || p.public_id || ':%%' "
            "GROUP BY p.id ORDER BY p.id DESC LIMIT 1"
        )[0]
        assert (status, credited) == ("succeeded", -amount)
        assert amount > 0
        notified = log_text(cluster, "worker1") + log_text(cluster, "worker2")
        assert task_ids(notified, "sandbox_notify_task", "succeeded")

        # the metrics: the app servers counted the payment, the workers the jobs
        def metrics(url: str) -> str:
            with urllib.request.urlopen(url, timeout=10) as answer:
                return str(answer.read().decode())

        apps = "".join(metrics(f"http://127.0.0.1:{port}/metrics") for port in cluster.state.apps)
        assert sampled(apps, "abonent_payments_total", gateway="sandbox", outcome="succeeded")
        assert sampled(apps, "django_http_requests_total_by_method_total", method="GET")
        workers = "".join(metrics(f"http://127.0.0.1:{port}/") for port in cluster.state.worker_metrics)
        notify = "abonent.payments.tasks.sandbox_notify_task"
        assert sampled(workers, "abonent_jobs_total", task=notify, queue="default", outcome="succeeded")
        chunk = "abonent.billing.tasks.billing_chunk_task"
        assert sampled(workers, "abonent_jobs_total", task=chunk, queue="billing", outcome="succeeded")

        # the bill of October, drawn on the app server, on the shared volume
        answer = page.request.get(f"{cluster.url}/accounts/{account}/bills/2026-10.pdf")
        assert answer.status == 200
        assert answer.headers["content-type"] == "application/pdf"
        assert answer.body().startswith(b"%PDF-")
        page.screenshot(path=tmp_path / "paid.png")
    finally:
        context.close()
