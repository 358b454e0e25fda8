"""Pages of the portal for guests: the landing page, the demo outbox; the health probe."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from abonent.core.health import health_checks
from abonent.core.selectors import suppliers_active
from abonent.notifications.selectors import outbox_latest

OUTBOX_LIMIT = 50
_PHONE_LIKE = re.compile(r"^\+?[\d\s()\-]{10,20}$")


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "web/landing.html", {"suppliers": suppliers_active()})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = health_checks()
    ok = all(c.ok for c in checks)
    body = {
        "status": "ok" if ok else "unavailable",
        "checks": {c.name: {"ok": c.ok, "detail": c.detail, "ms": c.ms} for c in checks},
    }
    return JsonResponse(body, status=200 if ok else 503)


def outbox_recipient(text: str) -> str | None:
    """The recipient to look for as the outbox stores it: a phone written any usual Russian
    way («8 (916) 123-45-67», «+7 916 123 45 67») becomes E.164 (+79161234567); an e-mail
    address is kept as typed. None for an empty field."""
    value = text.strip()
    if not value:
        return None
    if _PHONE_LIKE.match(value):
        digits = re.sub(r"\D", "", value)
        if len(digits) == 11 and digits[0] in "78" and not value.startswith("+"):
            return "+7" + digits[1:]
        if len(digits) == 10 and not value.startswith("+"):
            return "+7" + digits
        return "+" + digits
    return value


@never_cache
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    """The messages the demo "sent" (SMS, e-mail), newest first; 404 unless DEMO_OUTBOX_PAGE."""
    if not settings.DEMO_OUTBOX_PAGE:
        raise Http404
    recipient = outbox_recipient(request.GET.get("to", ""))
    messages_sent = outbox_latest(limit=OUTBOX_LIMIT, recipient=recipient)
    return render(
        request, "web/outbox.html", {"messages_sent": messages_sent, "recipient": recipient, "limit": OUTBOX_LIMIT}
    )
