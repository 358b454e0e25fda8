"""Prometheus metrics of the work besides the requests (django_prometheus counts those):
background jobs, payments, message deliveries.

The domain services call the small functions here at the point where an outcome is recorded
(``payment_settled``, ``delivery_attempted``); the jobs are counted from Celery's signals
(``signals_connect``, called by the Celery app's module). Label values are few and known in
advance (task names, queues, gateways, channels, outcomes): never ids or amounts.

With PROMETHEUS_MULTIPROC_DIR set (gunicorn's several workers, a Celery worker's pool) every
process writes its samples to files there and /metrics sums them; the variable must be set
before the process starts. A Celery worker has no HTTP server: with WORKER_METRICS_PORT its
main process serves the sums of its pool on that port (``[address:]port``).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from decimal import Decimal
from typing import Any
from wsgiref.simple_server import WSGIServer

from celery import signals
from celery.exceptions import Retry
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, multiprocess, start_http_server

log = logging.getLogger(__name__)

JOBS = Counter(
    "abonent_jobs_total",
    "Background jobs run, by task, queue and outcome (succeeded, failed, retried)",
    ["task", "queue", "outcome"],
)
JOB_SECONDS = Histogram(
    "abonent_job_seconds",
    "How long background jobs ran, by task and queue",
    ["task", "queue"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
PAYMENTS = Counter(
    "abonent_payments_total",
    "Online payments that reached their outcome (succeeded, canceled, refused by the gateway)",
    ["gateway", "outcome"],
)
PAYMENTS_AMOUNT = Counter(
    "abonent_payments_amount_rubles_total",
    "Rubles of the online payments that succeeded",
    ["gateway"],
)
DELIVERIES = Counter(
    "abonent_deliveries_total",
    "Attempts to deliver a message, by channel and how they ended (sent, retry, failed, deferred)",
    ["channel", "outcome"],
)

PAYMENT_OUTCOMES = ("succeeded", "canceled", "refused")
DELIVERY_OUTCOMES = ("sent", "retry", "failed", "deferred")
_DELIVERY_STATUSES = {"retrying": "retry"}  # the delivery log's status that means "retry"
_JOB_STATES = {"SUCCESS": "succeeded", "FAILURE": "failed", "RETRY": "retried"}


def payment_settled(*, gateway: str, outcome: str, amount: Decimal) -> None:
    """A payment reached its outcome: succeeded (its amount is added), canceled, or refused
    by the gateway when it was sent. Raises ValueError for another outcome."""
    outcome = str(outcome)
    if outcome not in PAYMENT_OUTCOMES:
        raise ValueError(f"payment outcome {outcome!r}: expected one of {', '.join(PAYMENT_OUTCOMES)}")
    PAYMENTS.labels(gateway=str(gateway), outcome=outcome).inc()
    if outcome == "succeeded":
        # Prometheus keeps floats: the sum is for graphs, the ledger holds the money
        PAYMENTS_AMOUNT.labels(gateway=str(gateway)).inc(float(amount))


def delivery_attempted(*, channel: str, outcome: str) -> None:
    """An attempt to deliver a message ended: sent, retry (it will be tried again; the delivery
    log's "retrying"), failed for good, or deferred (the recipient's limit: not attempted).
    Raises ValueError for another outcome."""
    outcome = _DELIVERY_STATUSES.get(str(outcome), str(outcome))
    if outcome not in DELIVERY_OUTCOMES:
        raise ValueError(f"delivery outcome {outcome!r}: expected one of {', '.join(DELIVERY_OUTCOMES)}")
    DELIVERIES.labels(channel=str(channel), outcome=outcome).inc()


# --- jobs, from Celery's signals ------------------------------------------------------------

_started: dict[str, list[float]] = {}  # task id → when it started (a stack: an eager retry runs inside)
_queues: dict[str, str] = {}  # task name → its queue by the routes, for jobs run in-process


def _queue(task: Any) -> str:
    """The queue the job came from; for a job run in-process (eager), the queue its route
    names, as a worker would have taken it from."""
    delivery_info = getattr(task.request, "delivery_info", None) or {}
    queue = delivery_info.get("routing_key")
    if queue:
        return str(queue)
    name = str(task.name)
    if name not in _queues:
        route = task.app.amqp.router.route({}, name)
        routed = route.get("queue")
        _queues[name] = str(getattr(routed, "name", routed) or task.app.conf.task_default_queue)
    return _queues[name]


def on_task_prerun(task_id: str | None = None, **_kwargs: Any) -> None:
    if task_id:
        _started.setdefault(task_id, []).append(time.perf_counter())


def on_task_postrun(task_id: str | None = None, task: Any = None, state: str | None = None, **_kwargs: Any) -> None:
    stack = _started.get(task_id or "")
    if not stack or task is None:
        return
    seconds = time.perf_counter() - stack.pop()
    if not stack:
        del _started[task_id or ""]
    name, queue = str(task.name), _queue(task)
    if state is None:  # run in-process with its errors propagated: it is raising now
        state = "RETRY" if isinstance(sys.exc_info()[1], Retry) else "FAILURE"
    outcome = _JOB_STATES.get(state, state.lower())
    JOBS.labels(task=name, queue=queue, outcome=outcome).inc()
    JOB_SECONDS.labels(task=name, queue=queue).observe(seconds)


# --- exporting from a worker ----------------------------------------------------------------


def registry_for_export() -> CollectorRegistry:
    """What an exporter should serve: the sums over PROMETHEUS_MULTIPROC_DIR when it is set,
    otherwise this process's own metrics."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def worker_metrics_serve(address: str) -> WSGIServer | None:
    """Serve the metrics over HTTP from this process at ``[host:]port`` (all interfaces when
    no host is given), from a thread; returns the server. An empty address serves nothing.
    Raises ValueError for an address that is not one, OSError when the port cannot be had."""
    address = address.strip()
    if not address:
        return None
    host, _colon, port_text = address.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"  # scraped from the monitoring network
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"WORKER_METRICS_PORT={address!r}: expected a port (9101) or an address and a port")
    server, _thread = start_http_server(int(port_text), addr=host, registry=registry_for_export())
    return server


def on_worker_init(**_kwargs: Any) -> None:
    """A worker's main process serves its metrics (the pool's children are summed through
    PROMETHEUS_MULTIPROC_DIR) when WORKER_METRICS_PORT is set. A port that cannot be had is
    logged; the worker runs its jobs anyway."""
    from django.conf import settings

    address = str(getattr(settings, "WORKER_METRICS_PORT", "") or "")
    try:
        server = worker_metrics_serve(address)
    except (OSError, ValueError) as exc:
        log.error("the worker's metrics are not served: %s", exc, extra={"address": address})
        return
    if server is not None:
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            log.warning("PROMETHEUS_MULTIPROC_DIR is not set: the metrics of the pool's processes are not counted")
        log.info("the worker's metrics are served on %s:%s", *server.server_address[:2])


def on_worker_process_shutdown(pid: int | None = None, **_kwargs: Any) -> None:
    """A pool process that ended: its samples stay in the sums, its live gauges go."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR") and pid:
        multiprocess.mark_process_dead(pid)


def signals_connect() -> None:
    """Connect the handlers above to Celery's signals (once; the Celery app's module calls this)."""
    signals.task_prerun.connect(on_task_prerun, weak=False, dispatch_uid="abonent.metrics.prerun")
    signals.task_postrun.connect(on_task_postrun, weak=False, dispatch_uid="abonent.metrics.postrun")
    signals.worker_init.connect(on_worker_init, weak=False, dispatch_uid="abonent.metrics.worker_init")
    signals.worker_process_shutdown.connect(
        on_worker_process_shutdown, weak=False, dispatch_uid="abonent.metrics.process_shutdown"
    )
