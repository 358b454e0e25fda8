"""The payment page of the built-in sandbox gateway (the embedded default): what a real
gateway shows the payer, here two buttons. It takes no card and no money, and says so.

It is the gateway's page, not the portal's: it needs no login (the payer arrives by the
unguessable id in the address, as on a real gateway), and it exists only while the install
pays through the sandbox (``PAYMENT_GATEWAY=sandbox``); otherwise every address of it is
"not found". The decision is a POST (with the CSRF token of the page); the payer is then
sent back to the address the payment was created with.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from abonent.core import clock
from abonent.payments import selectors as payments
from abonent.payments import services as paying
from abonent.payments.enums import Method

DECISIONS = {"approve": True, "decline": False}


@never_cache
@require_http_methods(["GET", "POST"])
def sandbox_pay(request: HttpRequest, gateway_payment_id: str) -> HttpResponse:
    if settings.PAYMENT_GATEWAY != "sandbox":
        raise Http404
    row = payments.sandbox_payment_get(gateway_payment_id=gateway_payment_id)
    if row is None:
        raise Http404
    status = 200
    if request.method == "POST":
        decision = request.POST.get("decision", "")
        if decision in DECISIONS:
            try:
                back = paying.sandbox_payment_decide(
                    gateway_payment_id=row.id, approve=DECISIONS[decision], now=clock.now()
                )
            except paying.PaymentNotFound:
                raise Http404 from None
            return redirect(back)
        status = 400
    method = Method(row.method).label if row.method in Method.values else ""
    return render(
        request, "web/sandbox/pay.html", {"row": row, "method": method, "bad_request": status == 400}, status=status
    )
