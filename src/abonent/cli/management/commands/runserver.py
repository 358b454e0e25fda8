"""``abonent runserver``: Django's development server, and in the embedded default (jobs in
process, no beat) the periodic jobs in a thread of the same process: the retry of
deliveries, the reconciliation of payments, the day's reminders."""

from __future__ import annotations

from typing import Any

from celery import current_app
from django.conf import settings
from whitenoise.runserver_nostatic.management.commands.runserver import Command as BaseCommand

from abonent.core.scheduler import scheduler_start


class Command(BaseCommand):
    def inner_run(self, *args: Any, **options: Any) -> None:
        if settings.CELERY_TASK_ALWAYS_EAGER and settings.EMBEDDED_SCHEDULER:
            scheduler_start(app=current_app, entries=settings.CELERY_BEAT_SCHEDULE)
        super().inner_run(*args, **options)
