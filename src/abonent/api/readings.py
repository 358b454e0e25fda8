"""Meter readings through the API: the reading window and what each meter of an account
takes now, readings of several meters at once with a result per meter, a reading of one
meter (a second one in the same period corrects the first), each meter's history.

A user reaches only the accounts linked to them (any other id is 404 ``account_not_found``)
and only those accounts' meters (404 ``meter_not_found``). Each handler parses its input,
makes one call into ``abonent.metering`` and maps the result; errors become problems in
``api/errors.py``. A submission may carry an ``Idempotency-Key``: sent again with the same
key it stores nothing new and answers with the reading it made.
Mounted by ``api/urls.py``: ``api.add_router("/accounts", readings.router)``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Header, Path, Router, Status

from abonent.api.accounts import NOT_FOUND, AccountId
from abonent.api.auth import bearer, client_ip, principal
from abonent.api.pagination import DEFAULT_LIMIT, Cursor, Limit, page_after
from abonent.api.readings_schemas import (
    KEY_MAX_LENGTH,
    MeterReadingOut,
    ReadingIn,
    ReadingsCurrentOut,
    ReadingsIn,
    ReadingsPageOut,
    ReadingsResultOut,
)
from abonent.api.schemas import INVALID, UNAUTHORIZED, Problem
from abonent.core import clock
from abonent.core.errors import ValidationFailed
from abonent.core.money import VOLUME, quantize
from abonent.customers import selectors as customers_selectors
from abonent.metering import selectors as metering_selectors
from abonent.metering import services as metering
from abonent.metering.enums import ReadingChannel, ReadingStatus
from abonent.metering.models import Reading
from abonent.metering.selectors import HistoryRow, MeterEntry, ReadingWindow
from abonent.metering.services import MeterOutcome

router = Router(tags=["readings"], auth=bearer)

MeterId = Annotated[int, Path(ge=1, le=2**63 - 1, description="id счётчика из /accounts/{account_id}/readings/current")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=KEY_MAX_LENGTH,
        description="Ключ передачи, новый для каждой передачи (например, UUID). Повтор запроса с тем же ключом "
        "ничего не записывает заново и отвечает тем же показанием",
    ),
]
# A submission may also be refused as a whole: 409 meter_not_in_service, readings_not_accepted
SUBMIT_ERRORS: dict[int, Any] = {**UNAUTHORIZED, 404: Problem, 409: Problem, **INVALID}


# --- Mapping --------------------------------------------------------------------------


def _m3(value: Decimal | None) -> str | None:
    return None if value is None else str(quantize(value, VOLUME))


def _reading(reading: Reading, *, consumption: Decimal | None = None) -> dict[str, Any]:
    """A reading with its consumption as recorded, or as its meter's history computes it."""
    return {
        "id": reading.pk,
        "period": str(reading.period),
        "read_on": reading.read_on,
        "submitted_at": reading.submitted_at.astimezone(dt.UTC),
        "value": _m3(reading.value),
        "consumption": _m3(consumption if consumption is not None else reading.consumption),
        "channel": reading.channel,
        "channel_label": str(ReadingChannel(reading.channel).label),
        "operator_name": reading.operator_name or None,
        "status": reading.status,
        "status_label": str(ReadingStatus(reading.status).label),
        "rejection_reason": reading.rejection_reason or None,
        "replaces_id": reading.replaces_id,
    }


def _window(window: ReadingWindow) -> dict[str, Any]:
    return {
        "period": str(window.period),
        "period_label": window.period.label(),
        "today": window.today,
        "opens_on": window.opens_on,
        "closes_on": window.closes_on,
        "opens_at": window.opens_at,
        "closes_at": window.closes_at,
        "state": window.state,
        "is_open": window.is_open,
        "readings_allowed": window.readings_allowed,
        "time_zone": window.supplier.time_zone,
        "message": window.message,
    }


def _entry(entry: MeterEntry) -> dict[str, Any]:
    meter, previous = entry.meter, entry.previous
    return {
        "id": meter.pk,
        "serial": meter.serial,
        "model": meter.model,
        "digits": meter.digits,
        "decimals": meter.decimals,
        "status": meter.status,
        "accepts": entry.accepts,
        "refusal": entry.refusal,
        "verification_due_on": meter.verification_due_on,
        "verification_passed": entry.verification_passed,
        "base_value": _m3(entry.base_value),
        "previous": None
        if previous is None
        else {"value": _m3(previous.value), "period": str(previous.period), "read_on": previous.read_on},
        "current": None if entry.current is None else _reading(entry.current),
    }


def _result(outcome: MeterOutcome) -> dict[str, Any]:
    recorded, error = outcome.recorded, outcome.error
    if recorded is None:
        assert error is not None
        return {
            "meter_id": outcome.meter_id,
            "outcome": "rejected",
            "reading": None,
            "error": {"code": error.code, "message": error.text},
            "created": False,
            "corrected_reading_id": None,
        }
    reading = recorded.reading
    # by the reading's status, not Recorded.used_for_billing: a repeated submission answers
    # with its reading even when that has been corrected since, which was accepted all the same
    kept_only = reading.status == ReadingStatus.NOT_FOR_BILLING
    return {
        "meter_id": outcome.meter_id,
        "outcome": "not_for_billing" if kept_only else "accepted",
        "reading": _reading(reading),
        "error": None,
        "created": recorded.created,
        "corrected_reading_id": recorded.replaced.pk if recorded.replaced is not None else None,
    }


def _values(payload: ReadingsIn) -> dict[int, str]:
    """The values by meter, in the order sent. Raises ValidationFailed for a meter listed twice."""
    values: dict[int, str] = {}
    for index, item in enumerate(payload.readings):
        if item.meter_id in values:
            message = gettext("Счётчик %(meter)s уже есть в списке: оставьте одно показание на счётчик") % {
                "meter": item.meter_id
            }
            raise ValidationFailed({f"readings.{index}.meter_id": [message]})
        values[item.meter_id] = item.value
    return values


# --- Operations -----------------------------------------------------------------------


@router.get(
    "/{account_id}/readings/current",
    response={200: ReadingsCurrentOut, **UNAUTHORIZED, **NOT_FOUND},
    summary="Приём показаний сейчас: окно и счётчики",
)
def readings_current(request: HttpRequest, account_id: AccountId) -> dict[str, Any]:
    """What the app needs to take readings now: the supplier's window (dates are the
    supplier's local days, ``opens_at``/``closes_at`` carry its offset) with the period a
    reading sent now counts for, and each meter of the account with what the new reading's
    consumption is measured from and the reading already sent for that period (a new one
    corrects it). Working meters first; a removed or faulty one says why it takes none.

    Errors: 404 ``account_not_found`` (not linked to the user, or no such account).
    """
    user, _session = principal(request)
    link = customers_selectors.account_link_get(user=user, account_id=account_id)
    form = metering_selectors.reading_form(link=link, now=clock.now())
    return {"window": _window(form.window), "meters": [_entry(entry) for entry in form.entries]}


@router.post(
    "/{account_id}/readings",
    response={200: ReadingsResultOut, **UNAUTHORIZED, 404: Problem, **INVALID},
    summary="Передать показания нескольких счётчиков",
)
def readings_submit(
    request: HttpRequest, account_id: AccountId, payload: ReadingsIn, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    """Readings of several meters of the account at once, for the period they count for now
    (``/readings/current``). Each meter is decided on its own and gets a result:
    ``accepted``; ``not_for_billing`` (kept, but the meter is past its verification date, so
    the account is billed by the norm); or ``rejected`` with ``error.code`` and a message
    saying what to fix — ``reading_below_previous``, ``reading_too_high``,
    ``reading_zero_consumption``, ``submission_key_reused``, ``meter_not_in_service``,
    ``readings_not_accepted``. A second reading of a meter in the same period corrects the
    first (``corrected_reading_id``); the same value again, or the same request with the same
    ``Idempotency-Key``, stores nothing new (``created`` false).

    Errors (nothing is stored):
    - 422 ``readings_invalid``: a value that cannot be a reading of its meter; ``errors`` has
      one entry per such meter, ``field`` = ``readings.<meter_id>.value``, with ``message``
      and ``code`` (``reading_not_a_number``, ``reading_negative``,
      ``reading_too_many_digits``, ``reading_too_many_decimals``);
    - 422 ``validation_failed``: an empty list (``field`` ``readings``); a meter listed twice,
      a value that is not a string or a number (null, a list, …), a wrong type, a missing or
      unknown field — these name the item by its position: ``readings.<index>.meter_id``,
      ``readings.<index>.value``;
    - 404 ``account_not_found``; 404 ``meter_not_found``: a meter that is not the account's
      (``field`` ``readings.<meter_id>.meter_id``);
    - 400 ``invalid_json``: the body is not JSON.
    """
    user, _session = principal(request)
    link = customers_selectors.account_link_get(user=user, account_id=account_id)
    outcomes = metering.readings_submit(
        link=link,
        values=_values(payload),
        channel=ReadingChannel.APP,
        submission_key=idempotency_key,
        now=clock.now(),
        ip=client_ip(request),
    )
    return {"results": [_result(outcome) for outcome in outcomes]}


@router.post(
    "/{account_id}/meters/{meter_id}/readings",
    response={201: MeterReadingOut, 200: MeterReadingOut, **SUBMIT_ERRORS},
    summary="Передать или исправить показание счётчика",
)
def reading_submit(
    request: HttpRequest,
    account_id: AccountId,
    meter_id: MeterId,
    payload: ReadingIn,
    idempotency_key: IdempotencyKey = None,
) -> Status[dict[str, Any]]:
    """A reading of one meter for the period it counts for now (``/readings/current``):
    in the window of month M it is M's reading, after the window the next month's. A second
    reading in the same period corrects the first (the new one's ``replaces_id``; the
    history keeps both). ``status`` ``not_for_billing``: kept, but the meter is past its
    verification date.

    201 — recorded now; 200 — nothing new stored: the same request with the same
    ``Idempotency-Key`` was recorded before (its reading, even if corrected since), or the
    value equals the one already sent for the period.

    Errors (nothing is stored):
    - 422 with the rule that is broken, ``errors`` naming ``value``:
      ``reading_not_a_number``, ``reading_negative``, ``reading_too_many_digits``,
      ``reading_too_many_decimals``, ``reading_below_previous``, ``reading_too_high``,
      ``reading_zero_consumption``, ``submission_key_reused`` (this ``Idempotency-Key`` was
      used for another value: a new submission needs a new key);
    - 422 ``validation_failed``: a value that is not a string or a number, a wrong type, a
      missing or unknown field;
    - 409 ``meter_not_in_service``: the meter is removed or faulty;
    - 409 ``readings_not_accepted``: the supplier takes no readings through the app;
    - 404 ``account_not_found``, ``meter_not_found``;
    - 400 ``invalid_json``: the body is not JSON.
    """
    user, _session = principal(request)
    link = customers_selectors.account_link_get(user=user, account_id=account_id)
    recorded = metering.reading_submit(
        link=link,
        meter_id=meter_id,
        value=payload.value,
        channel=ReadingChannel.APP,
        submission_key=idempotency_key,
        now=clock.now(),
        ip=client_ip(request),
    )
    return Status(201 if recorded.created else 200, _reading(recorded.reading))


@router.get(
    "/{account_id}/meters/{meter_id}/readings",
    response={200: ReadingsPageOut, **UNAUTHORIZED, **NOT_FOUND},
    summary="История показаний счётчика",
)
def readings_history(
    request: HttpRequest,
    account_id: AccountId,
    meter_id: MeterId,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """Every reading of the meter over its life, newest first (by period, then by when it
    was sent): corrected and rejected ones too, each with its consumption since the reading
    that stood for the period before. Pages of ``limit``; the next one with
    ``?cursor=<next_cursor>``, until ``next_cursor`` is null.

    Errors: 404 ``account_not_found``, ``meter_not_found``; 422 ``cursor_invalid`` (a
    cursor not from this list), ``validation_failed`` (``limit`` not from 1 to 100).
    """
    user, _session = principal(request)
    link = customers_selectors.account_link_get(user=user, account_id=account_id)
    history = metering_selectors.readings_history(link=link, meter_id=meter_id)
    page = page_after(history.rows, key=_row_id, cursor=cursor, limit=limit)
    return {
        "items": [_reading(row.reading, consumption=row.consumption) for row in page.items],
        "next_cursor": page.next_cursor,
    }


def _row_id(row: HistoryRow) -> int:
    return row.reading.pk
