"""The clock, read by interfaces only: domain code takes ``now`` or ``as_of`` as arguments."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def now() -> dt.datetime:
    """The current moment, aware, in UTC."""
    return timezone.now()
