"""Rate limits kept in the database, so they hold across processes and app servers with
nothing but the database (SQLite for the embedded default, PostgreSQL at scale).

A limit is "at most ``limit`` hits of ``key`` in a fixed window of ``window`` seconds".
A hit is counted with one atomic UPDATE (or an INSERT for the first hit of a window), so
concurrent requests cannot both slip under the limit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F

from abonent.core.models import RateCounter


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int
    window: int  # seconds


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    hits: int
    retry_after: int  # seconds until the window ends (0 when allowed)


def _window_start(now: dt.datetime, window: int) -> dt.datetime:
    epoch = int(now.timestamp())
    return dt.datetime.fromtimestamp(epoch - epoch % window, tz=dt.UTC)


def _key(limit: Limit, subject: str) -> str:
    return f"{limit.name}:{subject}"[:200]


def rate_hit(*, limit: Limit, subject: str, now: dt.datetime) -> Verdict:
    """Count a hit of ``subject`` against ``limit`` and say whether it is within it."""
    start = _window_start(now, limit.window)
    key = _key(limit, subject)
    with transaction.atomic():
        updated = RateCounter.objects.filter(key=key, window_start=start).update(hits=F("hits") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    RateCounter.objects.create(
                        key=key, window_start=start, hits=1, expires_at=start + dt.timedelta(seconds=limit.window)
                    )
            except IntegrityError:  # another request created it first
                RateCounter.objects.filter(key=key, window_start=start).update(hits=F("hits") + 1)
        hits = RateCounter.objects.values_list("hits", flat=True).get(key=key, window_start=start)
    return _verdict(limit, hits, start, now)


def rate_peek(*, limit: Limit, subject: str, now: dt.datetime) -> Verdict:
    """Whether one more hit would be within ``limit``, without counting it."""
    start = _window_start(now, limit.window)
    hits = (
        RateCounter.objects.filter(key=_key(limit, subject), window_start=start).values_list("hits", flat=True).first()
        or 0
    )
    return _verdict(limit, hits + 1, start, now, counted=hits)


def rate_unhit(*, limit: Limit, subject: str, now: dt.datetime) -> None:
    """Take back one hit of ``subject`` in the current window: for limits that count only
    failures, a try is counted before it is checked (so concurrent tries cannot slip under
    the limit) and taken back when it succeeds."""
    start = _window_start(now, limit.window)
    RateCounter.objects.filter(key=_key(limit, subject), window_start=start, hits__gt=0).update(hits=F("hits") - 1)


def rate_reset(*, limit: Limit, subject: str) -> None:
    """Forget the hits of ``subject`` (after a successful login, say)."""
    RateCounter.objects.filter(key=_key(limit, subject)).delete()


def _verdict(limit: Limit, hits: int, start: dt.datetime, now: dt.datetime, counted: int | None = None) -> Verdict:
    allowed = hits <= limit.limit
    end = start + dt.timedelta(seconds=limit.window)
    retry = 0 if allowed else max(1, int((end - now).total_seconds()))
    return Verdict(allowed=allowed, hits=hits if counted is None else counted, retry_after=retry)


def rate_counters_purge(*, now: dt.datetime) -> int:
    """Delete counters of windows that have ended; returns how many."""
    deleted, _ = RateCounter.objects.filter(expires_at__lt=now).delete()
    return deleted
