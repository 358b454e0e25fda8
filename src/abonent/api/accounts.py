"""Personal accounts through the API: the user's list, linking one with a proof from the
bill, its page (parameters, equipment, meters, contracts, how the bill is delivered),
naming it, the default one, unlinking, giving up the paper bill.

A user reaches only the accounts linked to them: any other id is 404 ``account_not_found``,
whether such an account exists or not. Each handler parses its input, makes one call into
``abonent.customers`` (the page reads its parts through the selectors) and maps the result;
errors become problems in ``api/errors.py``.
Mounted by ``api/urls.py``: ``api.add_router("/accounts", accounts.router)``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Router, Status

from abonent.api.accounts_schemas import (
    AccountDetailOut,
    AccountOut,
    LinkIn,
    LinkOptionOut,
    LinkUpdateIn,
    PaperBillIn,
    PaperBillOut,
)
from abonent.api.auth import bearer, client_ip, principal
from abonent.api.schemas import INVALID, TOO_MANY, UNAUTHORIZED, Problem
from abonent.core import clock
from abonent.core.errors import ValidationFailed
from abonent.core.models import LinkProof, Supplier
from abonent.core.money import VOLUME, quantize
from abonent.core.selectors import (
    SupplierNotFound,
    paperless_allowed,
)
from abonent.customers import selectors as customers_selectors
from abonent.customers import services as customers
from abonent.customers.models import AccountLink, GasEquipment, PersonalAccount
from abonent.customers.selectors import ContractView
from abonent.identity.enums import AuthChannel
from abonent.identity.models import User
from abonent.metering import selectors as metering_selectors
from abonent.metering.selectors import MeterView

router = Router(tags=["accounts"], auth=bearer)

# 404 account_not_found; 422 an id that is not a positive whole number
NOT_FOUND: dict[int, Any] = {404: Problem, 422: Problem}
AREA = Decimal("0.01")  # m², as stored

AccountId = Annotated[int, Path(ge=1, le=2**63 - 1, description="id из списка /accounts")]


# --- Mapping --------------------------------------------------------------------------


def _supplier_brief(supplier: Supplier) -> dict[str, Any]:
    return {"code": supplier.code, "short_name": supplier.short_name}


def _account(link: AccountLink) -> dict[str, Any]:
    account = link.account
    return {
        "id": account.pk,
        "number": account.number,
        "name": link.name,
        "is_default": link.is_default,
        "supplier": _supplier_brief(account.supplier),
        "address": account.address,
        "status": account.status,
    }


def _paper_bill(account: PersonalAccount, *, user: User, now: dt.datetime) -> dict[str, Any]:
    allowed = paperless_allowed(supplier=account.supplier, now=now)
    since = account.paperless_since
    return {
        "paper_bill": account.paperless_user_id is None,
        "bill_email_to_me": account.paperless_user_id == user.pk,
        "paperless_since": None if since is None else since.astimezone(dt.UTC),
        "paperless_allowed": allowed,
    }


def _parameters(account: PersonalAccount) -> dict[str, Any]:
    return {
        "residents": account.residents,
        "heated_area": str(quantize(account.heated_area, AREA)),
        "central_hot_water": account.central_hot_water,
        "usage": [code for code, _name in account.usage_directions],
    }


def _equipment(item: GasEquipment) -> dict[str, Any]:
    return {"id": item.pk, "kind": item.kind, "model": item.model, "installed_on": item.installed_on}


def _meter(view: MeterView) -> dict[str, Any]:
    meter, reading = view.meter, view.last_reading
    return {
        "id": meter.pk,
        "serial": meter.serial,
        "model": meter.model,
        "digits": meter.digits,
        "installed_on": meter.installed_on,
        "verification_due_on": meter.verification_due_on,
        "status": meter.status,
        "last_reading": None
        if reading is None
        else {
            "period": str(reading.period),
            "value": str(quantize(reading.value, VOLUME)),
            "submitted_at": reading.submitted_at,
            "status": reading.status,
        },
        "verification": {"state": view.verification, "days_left": view.days_left, "warning": view.warning},
    }


def _contract(view: ContractView) -> dict[str, Any]:
    contract = view.contract
    return {
        "id": contract.pk,
        "kind": contract.kind,
        "number": contract.number,
        "contractor": contract.contractor,
        "signed_on": contract.signed_on,
        "valid_from": contract.valid_from,
        "valid_to": contract.valid_to,
        "status": contract.status,
        "state": view.state,
        "days_left": view.days_left,
        "warning": view.warning,
    }


# --- Operations -----------------------------------------------------------------------
# /link-options is declared before /{account_id}, so that it is not read as an id.


@router.get("", response={200: list[AccountOut], **UNAUTHORIZED}, summary="Мои лицевые счета")
def accounts_list(request: HttpRequest) -> list[dict[str, Any]]:
    """The default account first, then in the order they were linked."""
    user, _session = principal(request)
    return [_account(link) for link in customers_selectors.account_links_list(user=user)]


@router.get(
    "/link-options",
    response={200: list[LinkOptionOut], **UNAUTHORIZED},
    summary="Поставщики и способы подтверждения для привязки счёта",
)
def link_options(request: HttpRequest) -> list[dict[str, Any]]:
    """The suppliers an account can be linked with today, each with the proofs it accepts
    (in its order): what the app asks for in its assistant before ``POST /accounts``."""
    return [
        {
            "supplier": _supplier_brief(option.supplier),
            "proofs": [{"kind": kind, "title": str(LinkProof(kind).label)} for kind in option.proofs],
        }
        for option in customers_selectors.link_options(now=clock.now())
    ]


@router.post(
    "",
    response={201: AccountOut, **UNAUTHORIZED, 409: Problem, **INVALID, **TOO_MANY},
    summary="Привязать лицевой счёт",
)
def account_link(request: HttpRequest, payload: LinkIn) -> Status[dict[str, Any]]:
    """Links the account with the number and the proof printed on the bill (the PIN by
    default). Without ``supplier`` the supplier is found from the number and the proof.

    Errors:
    - 422 ``validation_failed``: a malformed number, value or proof kind, a wrong type or a
      missing field; also an unknown ``supplier`` code (the input is wrong, the address is
      not) — ``errors`` names the field (``number``, ``value``, ``proof``, ``supplier``);
    - 422 ``link_proof_mismatch``: the number or the proof is wrong. The answer is the
      same whether an account with that number exists or not;
    - 422 ``link_proof_not_accepted``: the supplier does not accept this kind of proof
      (``errors`` names ``proof``);
    - 422 ``supplier_choice_required``: several suppliers have an account with this number
      and this proof; ask again with ``supplier`` (``errors`` names ``supplier``);
    - 409 ``account_closed``: the account is closed;
    - 409 ``account_already_linked``: the account is already in the user's list;
    - 429 ``link_attempts_exhausted`` with ``Retry-After`` (seconds): 5 failed tries an
      hour per user and per number; until then even a right proof is refused.
    """
    user, _session = principal(request)
    try:
        link = customers.account_link(
            user=user,
            number=payload.number,
            proof=payload.proof,
            value=payload.value,
            supplier_code=payload.supplier or None,
            channel=AuthChannel.APP,
            ip=client_ip(request),
            now=clock.now(),
        )
    except SupplierNotFound as exc:
        raise ValidationFailed({"supplier": [exc.text]}) from None
    return Status(201, _account(link))


@router.get("/{account_id}", response={200: AccountDetailOut, **UNAUTHORIZED, **NOT_FOUND}, summary="Лицевой счёт")
def account_get(request: HttpRequest, account_id: AccountId) -> dict[str, Any]:
    """The account page: the supplier with its contacts, the address, the holder (masked),
    the parameters billing uses, gas equipment, meters with the last reading and the
    verification date, contracts with their end.

    Errors: 404 ``account_not_found`` (not linked to the user, or no such account).
    """
    user, _session = principal(request)
    link = customers_selectors.account_link_get(user=user, account_id=account_id)
    now = clock.now()
    account = link.account
    return {
        **_account(link),
        "supplier": account.supplier,
        "holder_masked": account.holder_masked,
        "opened_on": account.opened_on,
        "closed_on": account.closed_on,
        "linked_at": link.linked_at,
        "parameters": _parameters(account),
        "equipment": [_equipment(item) for item in customers_selectors.equipment_list(link=link)],
        "meters": [_meter(view) for view in metering_selectors.meters_list(link=link, now=now)],
        "contracts": [_contract(view) for view in customers_selectors.contracts_list(link=link, now=now)],
        **_paper_bill(account, user=user, now=now),
    }


@router.patch(
    "/{account_id}",
    response={200: AccountOut, **UNAUTHORIZED, **INVALID, 404: Problem},
    summary="Назвать счёт, сделать основным",
)
def account_update(request: HttpRequest, account_id: AccountId, payload: LinkUpdateIn) -> dict[str, Any]:
    """Changes only the fields sent. The name is the user's own (other users who linked
    the same account do not see it).

    Errors: 404 ``account_not_found``; 422 ``validation_failed`` (``name`` longer than 40
    characters, wrong types).
    """
    user, _session = principal(request)
    link = customers.account_link_update(
        user=user,
        account_id=account_id,
        name=payload.name,
        make_default=payload.is_default,
        channel=AuthChannel.APP,
        ip=client_ip(request),
        now=clock.now(),
    )
    return _account(link)


@router.delete("/{account_id}", response={204: None, **UNAUTHORIZED, **NOT_FOUND}, summary="Отвязать лицевой счёт")
def account_unlink(request: HttpRequest, account_id: AccountId) -> Status[None]:
    """Removes the account from the user's list; the account itself stays, and so do other
    users' links to it. Errors: 404 ``account_not_found``."""
    user, _session = principal(request)
    customers.account_unlink(
        user=user, account_id=account_id, channel=AuthChannel.APP, ip=client_ip(request), now=clock.now()
    )
    return Status(204, None)


# PaperlessNotAllowed is 409, not 422: the request is well formed and the user may ask it,
# but the supplier's terms in force today do not allow it (as a closed account or readings
# out of their window are 409); the same request succeeds once the supplier allows it.
# A missing confirmed e-mail is the user's to fix in the profile, so it is 422 naming the field.


@router.put(
    "/{account_id}/paper-bill",
    response={200: PaperBillOut, **UNAUTHORIZED, 404: Problem, 409: Problem, **INVALID},
    summary="Отказаться от бумажной квитанции или вернуть её",
)
def paper_bill_set(request: HttpRequest, account_id: AccountId, payload: PaperBillIn) -> dict[str, Any]:
    """``paper`` false: the supplier stops delivering the paper bill, and the bill comes by
    e-mail to the profile's confirmed address instead; true: the paper bill comes again.
    Any user linked to the account may do either; the one who gives up the paper bill is
    the one who receives the e-mails. Repeating the same choice changes nothing. Answers
    how the bill is delivered now.

    Errors (nothing changes):
    - 409 ``paperless_not_allowed``: the supplier does not let subscribers give up the paper
      bill (``paperless_allowed`` false on the account page);
    - 422 ``paperless_needs_email``: no confirmed e-mail in the profile (``errors`` names
      ``paper``): add and confirm one with ``POST /profile/email`` first;
    - 422 ``validation_failed``: ``paper`` missing or not true or false, an unknown field;
    - 404 ``account_not_found``: not linked to the user, or no such account; 400 ``invalid_json``.
    """
    user, _session = principal(request)
    now = clock.now()
    account = customers.paper_bill_set(
        user=user, account_id=account_id, paper=payload.paper, channel=AuthChannel.APP, ip=client_ip(request), now=now
    )
    return _paper_bill(account, user=user, now=now)
