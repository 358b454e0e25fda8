"""A subscriber's meter readings: the form that sends the readings of an account's meters,
the page that says what became of each one, and a meter's history.

Every view reads the user's link to the account first (``account_link_get``): an account that
is not linked to this user is "not found", and so is a meter that is not that account's.

The form is post/redirect/get: what became of the values sent is kept in the session as
plain data and shown by the page the POST redirects to, so reloading that page sends nothing
again. The form carries a submission key made when it is shown: the same form sent twice
stores one reading (the domain keeps the key).
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, replace
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from abonent.core import clock
from abonent.core.errors import DomainError
from abonent.core.periods import Period
from abonent.core.selectors import TermsNotSet
from abonent.metering import selectors as metering
from abonent.metering import services as readings_services
from abonent.metering.enums import ReadingChannel, ReadingStatus
from abonent.metering.models import Meter
from abonent.web.accounts import link_or_404
from abonent.web.forms import ReadingsForm
from abonent.web.sessions import client_ip

#: Where the page after sending finds what became of the values (post/redirect/get).
SENT_KEY = "abonent.readings_sent"


class SentState(enum.StrEnum):
    ACCEPTED = "accepted"
    NOT_FOR_BILLING = "not_for_billing"
    CORRECTED_SINCE = "corrected_since"  # a form sent again after its reading was corrected
    REFUSED = "refused"


@dataclass(frozen=True)
class SentReading:
    """What became of one meter's value, as the page after sending shows it; kept in the
    session as JSON between the POST and that page."""

    meter_id: int
    model: str
    serial: str
    typed: str  # the value as the person typed it
    state: str  # a SentState
    value: str = ""  # the reading recorded, a decimal string
    consumption: str = ""
    period: str = ""  # YYYY-MM
    replaced: str = ""  # the value of the reading it corrected
    error: str = ""  # why it was not accepted

    @property
    def period_label(self) -> str:
        return Period.parse(self.period).label() if self.period else ""

    @property
    def accepted(self) -> bool:
        return self.state in (SentState.ACCEPTED, SentState.NOT_FOR_BILLING, SentState.CORRECTED_SINCE)


def _sent_reading(outcome: readings_services.MeterOutcome, meter: Meter, typed: str) -> SentReading:
    sent = SentReading(meter_id=meter.pk, model=meter.model, serial=meter.serial, typed=typed, state=SentState.REFUSED)
    recorded = outcome.recorded
    if recorded is None:
        return replace(sent, error=outcome.error.text if outcome.error is not None else "")
    reading = recorded.reading
    # a form sent again answers with the reading it made, which may since have been
    # corrected or rejected by an operator
    if reading.status == ReadingStatus.REJECTED:
        return replace(sent, error=reading.rejection_reason)
    state = {
        ReadingStatus.ACCEPTED: SentState.ACCEPTED,
        ReadingStatus.NOT_FOR_BILLING: SentState.NOT_FOR_BILLING,
    }.get(ReadingStatus(reading.status), SentState.CORRECTED_SINCE)
    return replace(
        sent,
        state=state,
        value=f"{reading.value:f}",
        consumption=f"{reading.consumption:f}" if reading.consumption is not None else "",
        period=str(reading.period),
        replaced=f"{recorded.replaced.value:f}" if recorded.replaced is not None else "",
    )


# --- The form -----------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def readings(request: HttpRequest, account_id: int) -> HttpResponse:
    link = link_or_404(request, account_id)
    account = link.account
    context: dict[str, Any] = {"link": link, "account": account, "supplier": account.supplier}
    now = clock.now()
    try:
        sheet = metering.reading_form(link=link, now=now)
    except TermsNotSet:
        return render(request, "web/readings/form.html", {**context, "unavailable": True})
    form = ReadingsForm(request.POST if request.method == "POST" else None, entries=sheet.entries)
    context.update(sheet=sheet, window=sheet.window, form=form)
    if request.method == "POST" and form.is_valid():
        values = form.values
        try:
            outcomes = readings_services.readings_submit(
                link=link,
                values=values,
                channel=ReadingChannel.WEB,
                submission_key=form.cleaned_data["submission_key"] or None,
                now=now,
                ip=client_ip(request),
            )
        except readings_services.MeterNotFound:
            raise Http404 from None
        except DomainError as exc:
            form.readings_error(exc)
        else:
            meters = {entry.meter.pk: entry.meter for entry in sheet.entries}
            sent = [_sent_reading(o, meters[o.meter_id], values[o.meter_id]) for o in outcomes]
            request.session[SENT_KEY] = {"account": account.pk, "readings": [asdict(s) for s in sent]}
            return redirect("web:readings_sent", account_id=account.pk)
    return render(request, "web/readings/form.html", context)


@never_cache
@login_required
@require_GET
def readings_sent(request: HttpRequest, account_id: int) -> HttpResponse:
    """What became of the values sent last from this account's form; the form itself when
    nothing was sent (the page was opened again later, or in another browser)."""
    link = link_or_404(request, account_id)
    stored = request.session.get(SENT_KEY)
    if not isinstance(stored, dict) or stored.get("account") != link.account_id:
        return redirect("web:readings", account_id=link.account_id)
    sent = [SentReading(**item) for item in stored["readings"]]
    return render(
        request,
        "web/readings/sent.html",
        {
            "link": link,
            "account": link.account,
            "sent": sent,
            "accepted": sum(1 for s in sent if s.accepted),
            "refused": sum(1 for s in sent if not s.accepted),
        },
    )


# --- A meter's history ----------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def meter_history(request: HttpRequest, account_id: int, meter_id: int) -> HttpResponse:
    link = link_or_404(request, account_id)
    try:
        history = metering.readings_history(link=link, meter_id=meter_id)
    except readings_services.MeterNotFound:
        raise Http404 from None
    account = link.account
    return render(
        request,
        "web/readings/history.html",
        {"link": link, "account": account, "supplier": account.supplier, "history": history, "meter": history.meter},
    )
