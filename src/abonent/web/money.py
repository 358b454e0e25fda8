"""An account's money on the portal: the charges month by month with how each was
calculated, the penalties by debt, the prices, norms and benefits that apply, and the gas
used over two years next to the year before.

Every view reads the user's link to the account first (``link_or_404``): an account that is
not linked to this user is "not found". Each page makes one billing read; what it shows is
worked out by the billing domain, the page only says it in words.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from abonent.billing import selectors as billing
from abonent.core import clock
from abonent.core.selectors import supplier_local_date
from abonent.customers.models import AccountLink
from abonent.web.accounts import link_or_404
from abonent.web.bills import bill_email_masked
from abonent.web.charts import consumption_bars


def _today(link: AccountLink) -> dt.date:
    """The calendar day at the supplier's place: the day prices, norms and penalties are on."""
    return supplier_local_date(supplier=link.account.supplier, now=clock.now())


def _context(link: AccountLink, today: dt.date) -> dict[str, Any]:
    account = link.account
    return {"link": link, "account": account, "supplier": account.supplier, "today": today}


@never_cache
@login_required
@require_GET
def charges(request: HttpRequest, account_id: int) -> HttpResponse:
    link = link_or_404(request, account_id)
    context = _context(link, _today(link))
    context["charges"] = billing.charges_list(account=link.account)
    context["bill_email"] = bill_email_masked(request)
    return render(request, "web/money/charges.html", context)


@never_cache
@login_required
@require_GET
def penalties(request: HttpRequest, account_id: int) -> HttpResponse:
    link = link_or_404(request, account_id)
    today = _today(link)
    context = _context(link, today)
    result = billing.penalty_breakdown(account=link.account, as_of=today)
    context["result"] = result
    # the debts that have or may yet have a penalty, newest first; those paid off on time
    # are history with nothing to explain
    context["items"] = [item for item in reversed(result.items) if item.penalty or item.unpaid]
    return render(request, "web/money/penalties.html", context)


@never_cache
@login_required
@require_GET
def tariffs(request: HttpRequest, account_id: int) -> HttpResponse:
    """The prices, the norms with the account's residents and area, and the benefits, on
    the supplier's today (three reads of the same section)."""
    link = link_or_404(request, account_id)
    today = _today(link)
    context = _context(link, today)
    context["prices"] = billing.tariffs_for_account(account=link.account, on=today)
    context["norms"] = billing.norms_for_account(account=link.account, on=today)
    context["benefits"] = billing.benefits_for_account(account=link.account, on=today)
    return render(request, "web/money/tariffs.html", context)


@never_cache
@login_required
@require_GET
def consumption(request: HttpRequest, account_id: int) -> HttpResponse:
    link = link_or_404(request, account_id)
    context = _context(link, _today(link))
    months = billing.consumption_chart(account=link.account)
    context["months"] = months
    context["chart"] = consumption_bars(months) if months else None
    return render(request, "web/money/consumption.html", context)
