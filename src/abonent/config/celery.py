"""The Celery application. Without CELERY_BROKER_URL jobs run in-process (eager)."""

import os

from celery import Celery

from abonent.core import metrics, observability

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "abonent.config.settings")

app = Celery("abonent")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Every process that loads the settings imports this module (abonent.config's __init__), so
# the handlers are connected in the app servers (jobs sent, jobs run eagerly) and the workers.
observability.signals_connect()  # the request id into the jobs and their log lines
metrics.signals_connect()  # jobs counted and timed; a worker's metrics served (WORKER_METRICS_PORT)
