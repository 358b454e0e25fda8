from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from abonent.core.health import health_checks
from abonent.core.selectors import suppliers_active
from abonent.notifications.selectors import outbox_latest


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


@never_cache
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    if not settings.DEMO_OUTBOX_PAGE:
        raise Http404
    recipient = request.GET.get("to", "").strip() or None
    return render(
        request,
        "web/outbox.html",
        {"messages_sent": outbox_latest(limit=50, recipient=recipient), "recipient": recipient},
    )
