"""The audit trail: one call records a change with its actor, channel and values."""

from __future__ import annotations

import datetime as dt
from typing import Any

from abonent.core.models import AuditRecord


def audit_record(
    *,
    at: dt.datetime,
    actor_id: int | None,
    channel: str,
    action: str,
    object_type: str,
    object_id: Any,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditRecord:
    return AuditRecord.objects.create(
        at=at,
        actor_id=actor_id,
        channel=channel,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=before,
        after=after,
        ip=ip,
    )
