"""Proofs of owning a personal account, by kind: how the value a person types is read, and
who checks it against the account.

The PIN from the bill is checked here. The other proofs a supplier may accept need data of
the apps above this one (a meter's readings, the last charge), so those apps register their
checks when Django starts (``AppConfig.ready``); this app never imports them. A kind with no
registered check is not offered, whatever the supplier's terms say.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from abonent.core.errors import ValidationFailed
from abonent.core.models import LinkProof, Supplier, SupplierTerms
from abonent.core.selectors import TermsNotSet, supplier_local_date, supplier_terms_on
from abonent.customers.models import PersonalAccount
from abonent.customers.pins import pin_matches

# (account, the parsed value, now) → whether the value proves the account
ProofCheck = Callable[[PersonalAccount, str | Decimal, dt.datetime], bool]

_CHECKS: dict[str, ProofCheck] = {}

_PIN = re.compile(r"^\d{4,10}$")
_DECIMAL = re.compile(r"^\d{1,9}([.,]\d{1,3})?$")


def proof_check_register(kind: LinkProof, check: ProofCheck) -> None:
    """Make ``kind`` a proof that can be offered, checked by ``check``."""
    _CHECKS[str(kind)] = check


def proofs_offered(*, terms: SupplierTerms) -> list[str]:
    """The kinds of proof the supplier accepts (in its order) that can be checked."""
    return [kind for kind in terms.link_proofs if kind in _CHECKS]


def proofs_accepted(*, supplier: Supplier, now: dt.datetime) -> list[str]:
    """``proofs_offered`` by the supplier's terms in force today at its place; none when
    it has no terms yet."""
    try:
        terms = supplier_terms_on(supplier=supplier, day=supplier_local_date(supplier=supplier, now=now))
    except TermsNotSet:
        return []
    return proofs_offered(terms=terms)


def proof_parse(*, kind: str, value: str) -> str | Decimal:
    """The value as typed, read for its kind. Raises ValidationFailed (field ``value``)
    saying what the value should look like; ``kind`` must be a LinkProof."""
    text = value.strip().replace(" ", "").replace("\u00a0", "")
    if kind == LinkProof.PIN:
        if not _PIN.match(text):
            raise ValidationFailed({"value": [str(_("PIN-код — от 4 до 10 цифр, как в квитанции"))]})
        return text
    if kind == LinkProof.METER_VALUE:
        if not _DECIMAL.match(text):
            raise ValidationFailed({"value": [str(_("Показание — число кубометров, например 01234 или 1234,567"))]})
        return Decimal(text.replace(",", "."))
    if kind == LinkProof.LAST_CHARGE:
        match = re.fullmatch(r"(\d{1,9})(?:[.,](\d{1,2}))?(?:₽|р\.?|руб\.?)?", text.lower())
        if not match:
            raise ValidationFailed({"value": [str(_("Сумма — в рублях и копейках, например 1234,56"))]})
        try:
            return Decimal(f"{match[1]}.{match[2] or '0'}")
        except InvalidOperation:  # pragma: no cover - the pattern admits only digits
            raise ValidationFailed({"value": [str(_("Сумма — в рублях и копейках, например 1234,56"))]}) from None
    raise ValidationFailed(
        {"proof": [str(_("Способ подтверждения: %(choices)s") % {"choices": ", ".join(LinkProof.values)})]}
    )


def proof_matches(*, kind: str, account: PersonalAccount, value: str | Decimal, now: dt.datetime) -> bool:
    """Whether ``value`` (as ``proof_parse`` read it) proves ``account``; False for a kind
    that has no check."""
    check = _CHECKS.get(kind)
    return check is not None and check(account, value, now)


def _pin_check(account: PersonalAccount, value: str | Decimal, now: dt.datetime) -> bool:
    return bool(account.pin_hash) and pin_matches(
        supplier_id=account.supplier_id, number=account.number, pin=str(value), stored=account.pin_hash
    )


proof_check_register(LinkProof.PIN, _pin_check)
