from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    return {"site_name": "Абонент", "demo_outbox_page": settings.DEMO_OUTBOX_PAGE}
