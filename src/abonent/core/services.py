"""Writes of the kernel: creating suppliers and changing their terms on a date."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.core.errors import DomainError, ValidationFailed
from abonent.core.models import LinkProof, Supplier, SupplierTerms

# The law's dates (ЖК РФ ст.155): payment by the 10th and bills by the 1st of the month
# after the period; from 01.03.2026 payment by the 15th and bills by the 5th.
STATUTORY_TERMS: tuple[tuple[dt.date, dict[str, Any]], ...] = (
    (dt.date(2005, 3, 1), {"due_day": 10, "bill_delivery_day": 1}),
    (dt.date(2026, 3, 1), {"due_day": 15, "bill_delivery_day": 5}),
)

_TERMS_FIELDS = [
    f.name
    for f in SupplierTerms._meta.concrete_fields
    if f.name not in {"id", "supplier", "effective_from", "created_at"}
]


class TermsAlreadyExist(DomainError):
    code = "supplier_terms_exist"
    message = _("Условия поставщика с {day} уже заданы: измените их, а не добавляйте новые")


def _errors_of(exc: ValidationError) -> dict[str, list[str]]:
    return {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}


@transaction.atomic
def supplier_create(*, terms: dict[str, Any] | None = None, **fields: Any) -> Supplier:
    """Create a supplier with the statutory terms history, adjusted by ``terms``.

    Raises ValidationFailed when a requisite (INN, KPP, OGRN, BIC, accounts) or a term is wrong.
    """
    supplier = Supplier(**fields)
    try:
        supplier.full_clean()
    except ValidationError as exc:
        raise ValidationFailed(_errors_of(exc)) from None
    supplier.save()
    supplier_terms_add_statutory(supplier=supplier, terms=terms)
    return supplier


@transaction.atomic
def supplier_terms_add_statutory(*, supplier: Supplier, terms: dict[str, Any] | None = None) -> list[SupplierTerms]:
    """Add the versions of the statutory terms history that the supplier does not have yet
    (a supplier made in the back office without terms gets them here).

    Raises ValidationFailed when ``terms`` holds a bad value.
    """
    base = {"link_proofs": [LinkProof.PIN.value], **(terms or {})}
    existing = set(supplier.terms.values_list("effective_from", flat=True))
    return [
        _terms_save(SupplierTerms(supplier=supplier, effective_from=effective_from, **{**base, **statutory}))
        for effective_from, statutory in STATUTORY_TERMS
        if effective_from not in existing
    ]


def _terms_save(terms: SupplierTerms) -> SupplierTerms:
    try:
        terms.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise ValidationFailed(_errors_of(exc)) from None
    try:
        with transaction.atomic():
            terms.save()
    except IntegrityError:
        raise TermsAlreadyExist(day=f"{terms.effective_from:%d.%m.%Y}") from None
    return terms


@transaction.atomic
def supplier_terms_change(*, supplier: Supplier, effective_from: dt.date, **changes: Any) -> SupplierTerms:
    """A new version of the supplier's terms from ``effective_from``: the version in force
    that day with ``changes`` applied. Versions already set for later dates stay as they are.

    Raises ValidationFailed for a bad value or an unknown term, TermsAlreadyExist when a
    version with that date exists.
    """
    unknown = sorted(set(changes) - set(_TERMS_FIELDS))
    if unknown:
        raise ValidationFailed({name: [gettext("Такого условия нет")] for name in unknown})
    current = supplier.terms.filter(effective_from__lte=effective_from).order_by("-effective_from").first()
    values = {name: getattr(current, name) for name in _TERMS_FIELDS} if current else {}
    values.update(changes)
    return _terms_save(SupplierTerms(supplier=supplier, effective_from=effective_from, **values))
