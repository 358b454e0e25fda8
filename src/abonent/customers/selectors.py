"""Reads of personal accounts, always through the user's links: an account that is not
linked to the user is "not found", whether it exists or not."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext

from abonent.core.models import Supplier
from abonent.core.selectors import TermsNotSet, supplier_local_date, supplier_terms_on, suppliers_active
from abonent.customers.enums import ContractKind, ContractStatus
from abonent.customers.models import AccountLink, Contract, GasEquipment, LinkAttempt
from abonent.customers.proofs import proofs_accepted
from abonent.customers.services import AccountNotFound
from abonent.identity.models import User

DEFAULT_WARNING_DAYS = 60


def account_links_list(*, user: User) -> list[AccountLink]:
    """The user's accounts: the default one first, then in the order they were linked."""
    return list(
        AccountLink.objects.filter(user=user)
        .select_related("account", "account__supplier")
        .order_by("-is_default", "linked_at", "pk")
    )


def account_link_get(*, user: User, account_id: int) -> AccountLink:
    """The user's link to the account with its supplier. Raises AccountNotFound."""
    link = (
        AccountLink.objects.select_related("account", "account__supplier")
        .filter(user=user, account_id=account_id)
        .first()
    )
    if link is None:
        raise AccountNotFound()
    return link


def account_link_start(*, user: User) -> AccountLink | None:
    """The account a user lands on after logging in: the only one, or the one chosen as
    default; None when there are none or several with no default (show the list)."""
    links = list(AccountLink.objects.filter(user=user).select_related("account").order_by("-is_default", "pk")[:2])
    if len(links) == 1 or (links and links[0].is_default):
        return links[0]
    return None


@dataclass(frozen=True)
class LinkOption:
    """A supplier as the link assistant offers it, with the proofs it accepts today."""

    supplier: Supplier
    proofs: list[str]


def link_options(*, now: dt.datetime) -> list[LinkOption]:
    """Active suppliers that accept at least one proof that can be checked."""
    options = []
    for supplier in suppliers_active():
        if proofs := proofs_accepted(supplier=supplier, now=now):
            options.append(LinkOption(supplier=supplier, proofs=proofs))
    return options


class Horizon(enum.StrEnum):
    """Where a date with consequences stands: far off, coming within the warning horizon,
    or passed."""

    OK = "ok"
    SOON = "soon"
    PASSED = "passed"


def horizon(*, until: dt.date | None, today: dt.date, warning_days: int) -> tuple[Horizon, int | None]:
    """The state of a deadline ``until`` (the last valid day) and the days left to it
    (0 on the day itself); (OK, None) when there is no deadline."""
    if until is None:
        return Horizon.OK, None
    left = (until - today).days
    if left < 0:
        return Horizon.PASSED, left
    if left <= warning_days:
        return Horizon.SOON, left
    return Horizon.OK, left


@dataclass(frozen=True)
class ContractView:
    contract: Contract
    state: Horizon
    days_left: int | None

    @property
    def warning(self) -> str | None:
        """What the subscriber should know and do, in the active language; None when all is well."""
        if self.state == Horizon.OK or self.contract.valid_to is None:
            return None
        end = f"{self.contract.valid_to:%d.%m.%Y}"
        vdgo = self.contract.kind == ContractKind.VDGO
        if self.state == Horizon.SOON:
            if vdgo:
                return gettext(
                    "Договор о техническом обслуживании газового оборудования действует до %(end)s. "
                    "Заключите новый заранее: без действующего договора ТО ВДГО поставку газа могут приостановить."
                ) % {"end": end}
            return gettext(
                "Договор поставки газа действует до %(end)s. Обратитесь к поставщику, чтобы продлить его."
            ) % {"end": end}
        if vdgo:
            return gettext(
                "Срок договора о техническом обслуживании газового оборудования истёк %(end)s. "
                "Заключите новый договор со специализированной организацией: без него поставку газа могут приостановить."
            ) % {"end": end}
        return gettext("Срок договора поставки газа истёк %(end)s. Обратитесь к поставщику.") % {"end": end}


def warning_days(*, supplier: Supplier, today: dt.date) -> tuple[int, int]:
    """The supplier's warning horizons in days: (meter verification, contract end)."""
    try:
        terms = supplier_terms_on(supplier=supplier, day=today)
    except TermsNotSet:
        return DEFAULT_WARNING_DAYS, DEFAULT_WARNING_DAYS
    return terms.verification_warning_days, terms.contract_warning_days


def contracts_list(*, link: AccountLink, now: dt.datetime) -> list[ContractView]:
    """The account's contracts, current ones first, each with how near its end is. A
    contract that is no longer in force (expired, terminated) is shown as it is, with no
    warning."""
    account = link.account
    today = supplier_local_date(supplier=account.supplier, now=now)
    _, days = warning_days(supplier=account.supplier, today=today)
    views = []
    for contract in account.contracts.order_by("kind", "-valid_from", "pk"):
        if contract.status == ContractStatus.ACTIVE:
            state, left = horizon(until=contract.valid_to, today=today, warning_days=days)
        else:
            state, left = Horizon.OK, None
        views.append(ContractView(contract=contract, state=state, days_left=left))
    views.sort(key=lambda v: v.contract.status != ContractStatus.ACTIVE)
    return views


def equipment_list(*, link: AccountLink) -> QuerySet[GasEquipment]:
    return link.account.equipment.order_by("kind", "pk")


def link_attempts_recent(*, number: str, limit: int = 50) -> QuerySet[LinkAttempt]:
    """The latest tries to link ``number``, for operators."""
    return LinkAttempt.objects.filter(number=number).select_related("user").order_by("-at")[:limit]
