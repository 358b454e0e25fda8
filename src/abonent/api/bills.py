"""Bills (ЕПД) of an account through the API: the PDF of a month, what it says in short
(sum, due date, the file's SHA-256), and the same PDF sent to the profile's confirmed e-mail.

A user reaches only the accounts linked to them: any other id is 404 ``account_not_found``,
whether such an account exists or not. Each handler parses its input, makes one call into
``abonent.documents`` and maps the result; errors become problems in ``api/errors.py``.
Mounted by ``api/urls.py``: ``api.add_router("/accounts", bills.router)``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from ninja import Router, Status

from abonent.api.accounts import NOT_FOUND, AccountId
from abonent.api.auth import bearer, principal
from abonent.api.bills_schemas import PDF_RESPONSE, BillInfoOut, BillPeriod, BillSentOut
from abonent.api.schemas import UNAUTHORIZED, Problem
from abonent.core import clock
from abonent.core.money import RUBLE, quantize
from abonent.core.periods import Period
from abonent.customers import selectors as customers_selectors
from abonent.customers.models import PersonalAccount
from abonent.documents import services as documents
from abonent.identity.contacts import contact_mask
from abonent.identity.enums import AuthChannel, ContactKind

router = Router(tags=["bills"], auth=bearer)


def _account(request: HttpRequest, account_id: int) -> PersonalAccount:
    """The account, if it is linked to the user. Raises AccountNotFound."""
    user, _session = principal(request)
    return customers_selectors.account_link_get(user=user, account_id=account_id).account


@router.get(
    "/{account_id}/bills/{period}",
    response={200: None, **UNAUTHORIZED, **NOT_FOUND},
    summary="Квитанция за месяц (PDF)",
    openapi_extra=PDF_RESPONSE,
)
def bill_pdf(request: HttpRequest, account_id: AccountId, period: BillPeriod) -> HttpResponse:
    """The bill (ЕПД) of the account for ``period`` as a PDF file, with the payment QR code
    (ГОСТ Р 56042-2014). The same file is served until what the bill says changes (a
    payment, a recalculation): then it is drawn anew, and ``/info`` shows its new ``sha256``.

    Errors: 404 ``account_not_found`` (not linked to the user, or no such account),
    ``bill_not_available`` (no charges and no payments on the account in that month);
    422 ``validation_failed`` (``period`` not a month written ГГГГ-ММ, e.g. 2026-10;
    ``account_id`` not a positive whole number).
    """
    bill = documents.bill_get(account=_account(request, account_id), period=Period.parse(period), now=clock.now())
    response = HttpResponse(bill.pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=bill.filename)
    response["Content-Length"] = str(len(bill.pdf))
    response["Cache-Control"] = "private, no-store"
    return response


@router.get(
    "/{account_id}/bills/{period}/info",
    response={200: BillInfoOut, **UNAUTHORIZED, **NOT_FOUND},
    summary="Квитанция за месяц: сумма, срок, файл",
)
def bill_info(request: HttpRequest, account_id: AccountId, period: BillPeriod) -> dict[str, Any]:
    """What the bill of the account for ``period`` asks and the file it is in: the sum due
    and its date, the PDF's SHA-256 and size, when it was drawn. An app may keep the PDF it
    downloaded while ``sha256`` stays the same.

    Errors: 404 ``account_not_found``, ``bill_not_available``; 422 ``validation_failed``
    (``period`` not ГГГГ-ММ).
    """
    bill = documents.bill_get(account=_account(request, account_id), period=Period.parse(period), now=clock.now()).bill
    return {
        "period": str(bill.period),
        "amount_due": str(quantize(bill.amount_due, RUBLE)),
        "due_on": bill.due_on,
        "sha256": bill.sha256,
        "size": bill.size,
        "rendered_at": bill.rendered_at,
    }


@router.post(
    "/{account_id}/bills/{period}/email",
    response={202: BillSentOut, **UNAUTHORIZED, 404: Problem, 422: Problem},
    summary="Отправить квитанцию на e-mail",
)
def bill_email(request: HttpRequest, account_id: AccountId, period: BillPeriod) -> Status[dict[str, Any]]:
    """Send the bill of the account for ``period`` as a PDF attachment to the profile's
    confirmed e-mail. 202: the message is queued (delivered within minutes, retried if the
    mail server is down); ``sent_to`` is the address, partly hidden.

    Errors: 404 ``account_not_found``, ``bill_not_available``; 422 ``no_email`` (the profile
    has no confirmed e-mail: set and confirm one in the profile first; nothing is sent),
    ``validation_failed`` (``period`` not ГГГГ-ММ).
    """
    user, _session = principal(request)
    account = _account(request, account_id)
    email = documents.bill_email(
        account=account, period=Period.parse(period), user=user, now=clock.now(), channel=AuthChannel.APP
    )
    return Status(202, {"sent_to": contact_mask(ContactKind.EMAIL, email)})
