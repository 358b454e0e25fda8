"""Reads of the kernel: suppliers and the terms in force on a day."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from abonent.core.errors import DomainError, NotFound
from abonent.core.models import Supplier, SupplierTerms
from abonent.core.periods import Period


class TermsNotSet(DomainError):
    code = "supplier_terms_not_set"
    message = _("У поставщика «{supplier}» не заданы условия на {day}")


def suppliers_active() -> QuerySet[Supplier]:
    return Supplier.objects.filter(is_active=True).order_by("short_name")


def supplier_terms_on(*, supplier: Supplier, day: dt.date) -> SupplierTerms:
    """The supplier's terms in force on ``day``.

    Raises TermsNotSet when no version had taken effect by then.
    """
    terms = supplier.terms.filter(effective_from__lte=day).order_by("-effective_from").first()
    if terms is None:
        raise TermsNotSet(supplier=supplier.short_name, day=f"{day:%d.%m.%Y}")
    return terms


def payment_due_date(*, supplier: Supplier, period: Period) -> dt.date:
    """The day the charge for ``period`` is due (ЖК РФ ст.155 ч.1).

    It is day D of the month after the period, where D is the due day in force on the first
    day of that month: January 2026 is due 10.02.2026, February 2026 is due 15.03.2026.
    """
    month_after = period.next()
    terms = supplier_terms_on(supplier=supplier, day=month_after.first_day)
    return month_after.day(terms.due_day)


def bill_delivery_date(*, supplier: Supplier, period: Period) -> dt.date:
    """The day by which the bill for ``period`` is delivered (the 1st, from 01.03.2026 the 5th)."""
    month_after = period.next()
    terms = supplier_terms_on(supplier=supplier, day=month_after.first_day)
    return month_after.day(terms.bill_delivery_day)


def supplier_local_date(*, supplier: Supplier, now: dt.datetime) -> dt.date:
    """The calendar day at the supplier's place at the moment ``now`` (an aware datetime)."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(zoneinfo.ZoneInfo(supplier.time_zone)).date()


class SupplierNotFound(NotFound):
    code = "supplier_not_found"
    message = _("Поставщик «{code}» не найден")


def supplier_by_code(*, code: str) -> Supplier:
    """An active supplier by its code. Raises SupplierNotFound."""
    supplier = suppliers_active().filter(code=code).first()
    if supplier is None:
        raise SupplierNotFound(code=code)
    return supplier


def paperless_allowed(*, supplier: Supplier, now: dt.datetime) -> bool:
    """Whether the supplier's terms in force today (at its place) let a subscriber give up the
    paper bill; not while it has no terms."""
    try:
        terms = supplier_terms_on(supplier=supplier, day=supplier_local_date(supplier=supplier, now=now))
    except TermsNotSet:
        return False
    return terms.paperless_allowed
