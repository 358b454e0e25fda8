"""Bills (ЕПД) on the portal: an account's bill for a month as a PDF to download, and the same
bill sent to the subscriber's confirmed e-mail.

Every view reads the user's link to the account first (``link_or_404``): an account that is
not linked to this user is "not found". The month is in the address as ГГГГ-ММ. What a bill
says, whether it is drawn anew or served from storage, is the documents domain's business;
the views only hand out the file or say what happened.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from abonent.core import clock
from abonent.core.errors import DomainError, ValidationFailed
from abonent.core.periods import Period, PeriodFormatError
from abonent.customers.models import AccountLink
from abonent.documents import services as documents
from abonent.documents.selectors import bill_email_address
from abonent.identity.contacts import contact_mask
from abonent.identity.enums import AuthChannel, ContactKind
from abonent.identity.models import User
from abonent.web.accounts import link_or_404

_PERIOD = re.compile(r"\d{4}-\d{2}")


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # the views are behind login_required
    return user


def bill_email_masked(request: HttpRequest) -> str | None:
    """The address the user's bills are sent to as the page shows it (ma***@example.org),
    or None when they have no confirmed e-mail."""
    email = bill_email_address(user=_user(request))
    return contact_mask(ContactKind.EMAIL, email) if email else None


def _period(text: str) -> Period | None:
    """The month written ГГГГ-ММ, a real one; None for anything else."""
    if not _PERIOD.fullmatch(text):
        return None
    try:
        return Period.parse(text)
    except PeriodFormatError:
        return None


def _missing(request: HttpRequest, link: AccountLink, detail: str) -> HttpResponse:
    """The "no such bill" page: what is wrong, and the way back to the charges."""
    context = {"link": link, "account": link.account, "detail": detail}
    return render(request, "web/money/bill_missing.html", context, status=404)


def _bad_period(request: HttpRequest, link: AccountLink) -> HttpResponse:
    return _missing(request, link, _("Месяц в адресе квитанции записывается как ГГГГ-ММ, например 2026-10."))


def _error_text(exc: DomainError) -> str:
    """The message of an error; for invalid input, what to fix."""
    if isinstance(exc, ValidationFailed) and exc.errors:
        return " ".join(message for texts in exc.errors.values() for message in texts)
    return exc.text


@login_required
@require_GET
def bill_pdf(request: HttpRequest, account_id: int, period: str) -> HttpResponse:
    """The account's bill for the month as a PDF file to save."""
    link = link_or_404(request, account_id)
    month = _period(period)
    if month is None:
        return _bad_period(request, link)
    try:
        bill = documents.bill_get(account=link.account, period=month, now=clock.now())
    except documents.BillNotAvailable as exc:
        return _missing(request, link, exc.text)
    response = HttpResponse(bill.pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=bill.filename)
    response["Content-Length"] = str(len(bill.pdf))
    response["Cache-Control"] = "private, no-store"  # a personal document: no shared or disk cache keeps it
    return response


@login_required
@require_POST
def bill_email(request: HttpRequest, account_id: int, period: str) -> HttpResponse:
    """Send the account's bill for the month to the user's confirmed e-mail; back to the
    charges with what happened."""
    link = link_or_404(request, account_id)
    month = _period(period)
    if month is None:
        return _bad_period(request, link)
    try:
        email = documents.bill_email(
            account=link.account, period=month, user=_user(request), now=clock.now(), channel=AuthChannel.WEB
        )
    except DomainError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(
            request,
            _("Квитанция за %(period)s отправлена на %(email)s.")
            % {"period": month.label(), "email": contact_mask(ContactKind.EMAIL, email)},
        )
    return redirect("web:charges", account_id=link.account_id)
