"""The Prometheus metrics of jobs, payments and deliveries: counted where the outcome is
recorded, exported at /metrics, summed over processes, served by a worker."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Callable
from contextlib import AbstractContextManager
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from celery import Celery
from celery.exceptions import Retry
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from prometheus_client import REGISTRY
from pytest_django.fixtures import Settings as SettingsWrapper

from abonent.core import metrics
from abonent.core.models import Supplier
from abonent.notifications import tasks as notification_tasks
from abonent.notifications.enums import Channel, DeliveryStatus
from abonent.notifications.services import delivery_attempt, message_send
from abonent.payments.enums import PaymentStatus
from abonent.payments.services import PaymentRefusedByGateway, payment_settle, sandbox_payment_decide
from tests.conftest import free_port, wait_for_port
from tests.payments.payments_data import NOW, pay, payer_make
from tests.payments.yookassa_server import YooKassaServer

Capture = Callable[..., AbstractContextManager[Any]]
PROJECT = Path(__file__).resolve().parents[2]


def sample(name: str, **labels: str) -> float:
    """The metric's value in this process now (0 when it has not been counted yet)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Counts:
    """The values of some samples when made, and how much they have grown since."""

    def __init__(self, *samples: tuple[str, dict[str, str]]) -> None:
        self.samples = samples
        self.before = [sample(name, **labels) for name, labels in samples]

    def grown(self) -> list[float]:
        return [
            sample(name, **labels) - before for (name, labels), before in zip(self.samples, self.before, strict=True)
        ]


def payments_of(gateway: str) -> Counts:
    return Counts(
        *(("abonent_payments_total", {"gateway": gateway, "outcome": o}) for o in metrics.PAYMENT_OUTCOMES),
        ("abonent_payments_amount_rubles_total", {"gateway": gateway}),
    )


# --- payments -------------------------------------------------------------------------------


def test_a_payment_that_succeeds_through_the_sandbox_is_counted_once_with_its_amount(
    supplier: Supplier, django_capture_on_commit_callbacks: Capture, client: Client
) -> None:
    user, (account,) = payer_make(supplier)
    counts = payments_of("sandbox")

    payment = pay(user, account, "1250.50")
    assert counts.grown() == [0, 0, 0, 0]  # pending: no outcome yet

    with django_capture_on_commit_callbacks(execute=True):
        sandbox_payment_decide(gateway_payment_id=str(payment.gateway_payment_id), approve=True, now=NOW)
    assert counts.grown() == [1, 0, 0, 1250.5]

    with django_capture_on_commit_callbacks(execute=True):  # asked again: settled already, not counted again
        payment_settle(payment_id=payment.pk, now=NOW)
    assert counts.grown() == [1, 0, 0, 1250.5]

    text = client.get("/metrics").content.decode()
    assert "# TYPE abonent_payments_total counter" in text
    assert 'abonent_payments_total{gateway="sandbox",outcome="succeeded"}' in text
    assert 'abonent_payments_amount_rubles_total{gateway="sandbox"}' in text
    for name in ("abonent_jobs_total", "abonent_job_seconds", "abonent_deliveries_total"):
        assert f"# TYPE {name} " in text


def test_a_declined_payment_is_counted_canceled_without_an_amount(
    supplier: Supplier, django_capture_on_commit_callbacks: Capture
) -> None:
    user, (account,) = payer_make(supplier)
    counts = payments_of("sandbox")
    payment = pay(user, account, "300.00")

    with django_capture_on_commit_callbacks(execute=True):
        sandbox_payment_decide(gateway_payment_id=str(payment.gateway_payment_id), approve=False, now=NOW)

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELED
    assert counts.grown() == [0, 1, 0, 0]


def test_an_outcome_whose_transaction_rolls_back_is_not_counted(
    supplier: Supplier, django_capture_on_commit_callbacks: Capture
) -> None:
    user, (account,) = payer_make(supplier)
    counts = payments_of("sandbox")
    payment = pay(user, account, "300.00")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:  # the commit never comes
        sandbox_payment_decide(gateway_payment_id=str(payment.gateway_payment_id), approve=True, now=NOW)

    assert callbacks  # the count waits for the commit
    assert counts.grown() == [0, 0, 0, 0]


def test_a_payment_the_gateway_refuses_is_counted_refused(supplier: Supplier, settings: SettingsWrapper) -> None:
    server = YooKassaServer({"100500": "test_secret_key"})
    server.start()
    settings.PAYMENT_GATEWAY = "yookassa"
    settings.YOOKASSA_API_URL = server.api_url
    settings.YOOKASSA_SHOPS = ["gaz-msk=100500:test_secret_key"]
    settings.PAYMENT_HTTP_TIMEOUT = 1
    settings.PAYMENT_RECEIPT_VAT_CODE = 13  # not a code YooKassa knows: the payment is refused
    user, (account,) = payer_make(supplier)
    counts = payments_of("yookassa")
    try:
        with pytest.raises(PaymentRefusedByGateway):
            pay(user, account)
    finally:
        server.stop()

    assert counts.grown() == [0, 0, 1, 0]


@pytest.mark.parametrize("outcome", ["pending", "created", "SUCCEEDED", ""])
def test_an_outcome_that_is_not_one_is_refused(outcome: str) -> None:
    counts = payments_of("sandbox")

    with pytest.raises(ValueError, match="payment outcome"):
        metrics.payment_settled(gateway="sandbox", outcome=outcome, amount=Decimal("1.00"))

    assert counts.grown() == [0, 0, 0, 0]


# --- deliveries -----------------------------------------------------------------------------


def deliveries_of(channel: str) -> Counts:
    return Counts(
        *(("abonent_deliveries_total", {"channel": channel, "outcome": o}) for o in metrics.DELIVERY_OUTCOMES)
    )


def send(channel: str, recipient: str, **kw: Any) -> int:
    """A message logged and not yet attempted (its first attempt waits for a commit that the
    test's transaction does not make)."""
    return message_send(channel=channel, recipient=recipient, body="Текст", now=NOW, **kw).pk


@pytest.mark.django_db
def test_a_delivery_sent_is_counted_sent() -> None:
    counts = deliveries_of("sms")

    assert delivery_attempt(delivery_id=send(Channel.SMS, "+79161230001"), now=NOW) == DeliveryStatus.SENT

    assert counts.grown() == [1, 0, 0, 0]


@pytest.mark.django_db
def test_a_delivery_the_provider_did_not_take_is_counted_retry(settings: SettingsWrapper) -> None:
    settings.SMS_PROVIDER = "smsru"
    settings.SMSRU_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings.SMSRU_API_ID = "test-api-id"
    settings.SMS_TIMEOUT = 1
    counts = deliveries_of("sms")

    assert delivery_attempt(delivery_id=send(Channel.SMS, "+79161230002"), now=NOW) == DeliveryStatus.RETRYING

    assert counts.grown() == [0, 1, 0, 0]


@pytest.mark.django_db
def test_a_delivery_that_cannot_go_is_counted_failed() -> None:
    counts = deliveries_of("email")
    name = default_storage.save("metrics-test/bill.pdf", ContentFile(b"%PDF-1.7"))
    delivery_id = send(
        Channel.EMAIL, "maria@example.org", subject="Квитанция", attachment=name, attachment_name="b.pdf"
    )
    default_storage.delete(name)  # gone before it was sent

    assert delivery_attempt(delivery_id=delivery_id, now=NOW) == DeliveryStatus.FAILED

    assert counts.grown() == [0, 0, 1, 0]


@pytest.mark.django_db
def test_a_delivery_over_the_recipients_limit_is_counted_deferred() -> None:
    counts = deliveries_of("sms")
    ids = [send(Channel.SMS, "+79161230003", limited=True) for _ in range(4)]  # 3 a day

    assert [delivery_attempt(delivery_id=i, now=NOW) for i in ids] == [DeliveryStatus.SENT] * 3 + [
        DeliveryStatus.PENDING
    ]

    assert counts.grown() == [3, 0, 0, 1]


@pytest.mark.django_db
def test_nothing_is_counted_when_there_was_nothing_to_attempt() -> None:
    delivery_id = send(Channel.SMS, "+79161230004")
    delivery_attempt(delivery_id=delivery_id, now=NOW)
    counts = deliveries_of("sms")

    assert delivery_attempt(delivery_id=delivery_id, now=NOW) is None  # sent already

    assert counts.grown() == [0, 0, 0, 0]


@pytest.mark.parametrize("outcome", ["pending", "retrying ", "SENT", "ok", ""])
def test_a_delivery_outcome_that_is_not_one_is_refused(outcome: str) -> None:
    with pytest.raises(ValueError, match="delivery outcome"):
        metrics.delivery_attempted(channel="sms", outcome=outcome)


# --- jobs -----------------------------------------------------------------------------------


def jobs_of(task: str, queue: str) -> Counts:
    return Counts(
        *(
            ("abonent_jobs_total", {"task": task, "queue": queue, "outcome": o})
            for o in ("succeeded", "failed", "retried")
        ),
        ("abonent_job_seconds_count", {"task": task, "queue": queue}),
    )


@pytest.mark.django_db
def test_a_job_run_in_process_is_counted_under_its_queue_by_the_routes() -> None:
    name = "abonent.notifications.tasks.delivery_attempt"
    counts = jobs_of(name, "notifications")
    delivery_id = send(Channel.SMS, "+79161230005")

    notification_tasks.delivery_attempt.delay(delivery_id=delivery_id)

    assert counts.grown() == [1, 0, 0, 1]
    assert sample("abonent_job_seconds_sum", task=name, queue="notifications") > 0


def eager_app() -> Celery:
    app = Celery("metrics", set_as_current=False)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    app.conf.task_default_queue = "default"
    app.conf.task_routes = {"tests.metrics.routed": {"queue": "bills"}}
    return app


def test_jobs_that_fail_or_retry_in_process_are_counted_so() -> None:
    app = eager_app()

    @app.task(name="tests.metrics.failing")
    def failing() -> None:
        raise KeyError("broken")

    @app.task(bind=True, name="tests.metrics.retrying", max_retries=3)
    def retrying(self: Any) -> None:
        raise self.retry(countdown=5)

    @app.task(name="tests.metrics.routed")
    def routed() -> str:
        return "done"

    counts = [jobs_of("tests.metrics.failing", "default"), jobs_of("tests.metrics.retrying", "default")]
    routed_counts = jobs_of("tests.metrics.routed", "bills")

    with pytest.raises(KeyError):
        failing.delay()
    with pytest.raises(Retry):
        retrying.delay()
    assert routed.delay().get() == "done"

    assert [c.grown() for c in counts] == [[0, 1, 0, 1], [0, 0, 1, 1]]
    assert routed_counts.grown() == [1, 0, 0, 1]
    assert metrics._started == {}


def test_a_job_from_a_worker_is_counted_under_the_queue_it_came_from() -> None:
    task = SimpleNamespace(
        name="abonent.billing.tasks.run", request=SimpleNamespace(delivery_info={"routing_key": "billing"})
    )
    counts = jobs_of("abonent.billing.tasks.run", "billing")

    for state in ("SUCCESS", "FAILURE", "RETRY"):
        metrics.on_task_prerun(task_id=f"job-{state}")
        metrics.on_task_postrun(task_id=f"job-{state}", task=task, state=state)
    metrics.on_task_postrun(task_id="never-started", task=task, state="SUCCESS")  # not counted

    assert counts.grown() == [1, 1, 1, 3]


# --- several processes ----------------------------------------------------------------------


def run(code: str, env: dict[str, str], tmp_path: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, "ABONENT_VAR_DIR": str(tmp_path / "var"), **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


COUNT = """
    from decimal import Decimal
    from abonent.core import metrics
    for _ in range({n}):
        metrics.payment_settled(gateway="sandbox", outcome="succeeded", amount=Decimal("100.25"))
    metrics.delivery_attempted(channel="push", outcome="sent")
"""


@pytest.fixture
def multiproc(tmp_path: Path) -> dict[str, str]:
    """The environment of processes that keep their metrics in one directory."""
    directory = tmp_path / "prometheus"
    directory.mkdir()
    return {"PROMETHEUS_MULTIPROC_DIR": str(directory), "DJANGO_SETTINGS_MODULE": "abonent.config.settings"}


def test_the_metrics_page_sums_the_processes_of_the_multiprocess_directory(
    tmp_path: Path, multiproc: dict[str, str]
) -> None:
    run(COUNT.format(n=2), multiproc, tmp_path)
    run(COUNT.format(n=3), multiproc, tmp_path)

    page = run(
        """
        import django; django.setup()
        from django.test import Client
        print(Client().get("/metrics").content.decode())
        """,
        multiproc,
        tmp_path,
    )

    assert 'abonent_payments_total{gateway="sandbox",outcome="succeeded"} 5.0' in page
    assert 'abonent_payments_amount_rubles_total{gateway="sandbox"} 501.25' in page
    assert 'abonent_deliveries_total{channel="push",outcome="sent"} 2.0' in page


def test_a_worker_serves_the_sums_of_its_pool_on_its_port(tmp_path: Path, multiproc: dict[str, str]) -> None:
    """A real worker (the prefork pool, the in-memory broker: no job comes) with
    WORKER_METRICS_PORT: its main process serves what the processes wrote."""
    run(COUNT.format(n=4), multiproc, tmp_path)  # as a child of the pool would have
    port = free_port()
    env = {**os.environ, **multiproc, "ABONENT_VAR_DIR": str(tmp_path / "var"), "CELERY_BROKER_URL": "memory://"}
    env["WORKER_METRICS_PORT"] = f"127.0.0.1:{port}"
    command = [sys.executable, "-m", "celery", "-A", "abonent.config.celery", "worker", "--pool", "prefork"]
    command += ["--concurrency", "1", "--without-mingle", "--without-gossip", "--loglevel", "WARNING"]
    worker = subprocess.Popen(
        command,
        env=env,
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for_port(port, seconds=60), "the worker did not serve its metrics"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            page = answer.read().decode()
    finally:
        worker.terminate()
        _out, err = worker.communicate(timeout=60)

    assert 'abonent_payments_total{gateway="sandbox",outcome="succeeded"} 4.0' in page
    assert 'abonent_deliveries_total{channel="push",outcome="sent"} 1.0' in page
    assert "the worker's metrics are not served" not in err


def test_a_port_that_cannot_be_had_is_logged_and_the_worker_goes_on(
    settings: SettingsWrapper, caplog: pytest.LogCaptureFixture
) -> None:
    for bad in ("ninety", "127.0.0.1:70000", "127.0.0.1:", "0"):
        settings.WORKER_METRICS_PORT = bad
        metrics.on_worker_init()
    [*errors] = [r for r in caplog.records if r.name == "abonent.core.metrics"]

    assert [r.getMessage() for r in errors] == [
        "the worker's metrics are not served: WORKER_METRICS_PORT='ninety': expected a port (9101) or an address and a port",
        "the worker's metrics are not served: WORKER_METRICS_PORT='127.0.0.1:70000': expected a port (9101) or an address and a port",
        "the worker's metrics are not served: WORKER_METRICS_PORT='127.0.0.1:': expected a port (9101) or an address and a port",
        "the worker's metrics are not served: WORKER_METRICS_PORT='0': expected a port (9101) or an address and a port",
    ]


def test_no_port_no_server() -> None:
    assert metrics.worker_metrics_serve("") is None
    assert metrics.worker_metrics_serve("  ") is None


def test_a_server_on_a_port_serves_this_processs_metrics_without_a_multiprocess_directory() -> None:
    metrics.delivery_attempted(channel="email", outcome="deferred")
    server = metrics.worker_metrics_serve(f"127.0.0.1:{free_port()}")
    assert server is not None
    try:
        host, port = server.server_address[:2]
        with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=10) as answer:
            page = answer.read().decode()
    finally:
        server.shutdown()
        server.server_close()

    assert 'abonent_deliveries_total{channel="email",outcome="deferred"}' in page
