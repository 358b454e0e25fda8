"""Use cases of personal accounts: linking one to a user with a proof from the bill, naming
it, choosing the default one, unlinking (by the user, or by an operator with a reason).

Every try to link is logged (``LinkAttempt``) and failed tries are limited per user and per
account number: a try is counted before it is checked, so parallel requests cannot slip
under the limit, and taken back when it succeeds. The counting and the log are written
outside the transaction of the link itself, so a failed try still counts.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from abonent.core.audit import audit_record
from abonent.core.errors import DomainError, NotFound, ValidationFailed
from abonent.core.models import LinkProof
from abonent.core.ratelimit import Limit, rate_hit, rate_unhit
from abonent.core.selectors import (
    paperless_allowed,
    supplier_by_code,
    suppliers_active,
)
from abonent.customers.enums import AccountStatus, LinkOutcome
from abonent.customers.models import AccountLink, LinkAttempt, PersonalAccount
from abonent.customers.proofs import proof_matches, proof_parse, proofs_accepted
from abonent.identity.models import User
from abonent.identity.selectors import recipient_of
from abonent.identity.services import TooManyAttempts

LINK_FAILS_PER_USER = Limit("link.user", 5, 3600)
LINK_FAILS_PER_ACCOUNT = Limit("link.account", 5, 3600)
NAME_MAX_LENGTH = 40
UNLINK_REASON_MIN_LENGTH = 5

_NUMBER_SEPARATORS = re.compile(r"[\s\-\u00a0]")


# --- Errors ---------------------------------------------------------------------------


class AccountNotFound(NotFound):
    code = "account_not_found"
    message = _("Лицевой счёт не найден среди ваших")


class LinkProofMismatch(DomainError):
    """Said the same way whether the number, the proof or both are wrong, and whether an
    account with that number exists at all."""

    code = "link_proof_mismatch"
    message = _(
        "Не удалось привязать счёт: проверьте номер лицевого счёта и PIN-код (или другое подтверждение) по квитанции"
    )


class LinkAttemptsExhausted(TooManyAttempts):
    code = "link_attempts_exhausted"
    message = _(
        "Слишком много неудачных попыток привязать счёт. Повторите через {minutes} мин. "
        "или обратитесь к поставщику газа"
    )


class AccountClosed(DomainError):
    code = "account_closed"
    message = _("Лицевой счёт {number} закрыт: его нельзя привязать. Если это ошибка, обратитесь к поставщику газа")


class AccountAlreadyLinked(DomainError):
    code = "account_already_linked"
    message = _("Лицевой счёт {number} уже привязан к вашему профилю")


class ProofNotAccepted(DomainError):
    code = "link_proof_not_accepted"
    message = _("{supplier} не принимает этот способ подтверждения. Подойдёт: {choices}")


class SupplierChoiceRequired(DomainError):
    code = "supplier_choice_required"
    message = _("Номер {number} есть у нескольких поставщиков: выберите своего поставщика из списка")


# --- Linking --------------------------------------------------------------------------


def account_number_normalize(text: str) -> str:
    """The 12-digit number as printed («77 0000 000001» or with dashes is fine). Raises
    ValidationFailed (field ``number``)."""
    number = _NUMBER_SEPARATORS.sub("", text or "")
    if not re.fullmatch(r"\d{12}", number):
        raise ValidationFailed({"number": [str(_("Номер лицевого счёта — 12 цифр, как в квитанции"))]})
    return number


def _proof_label(kind: str) -> str:
    return str(LinkProof(kind).label)


def _cool_off(tries: Q, now: dt.datetime) -> int:
    """Seconds until fewer than the limit of failed ``tries`` fall within the last hour."""
    limit, window = LINK_FAILS_PER_USER.limit, dt.timedelta(seconds=LINK_FAILS_PER_USER.window)
    failures = list(
        LinkAttempt.objects.filter(tries, outcome=LinkOutcome.MISMATCH, at__gt=now - window, at__lte=now)
        .order_by("-at")
        .values_list("at", flat=True)[:limit]
    )
    if len(failures) < limit:
        return 0
    return max(1, int((failures[-1] + window - now).total_seconds()))


def account_link(
    *,
    user: User,
    number: str,
    proof: str,
    value: str,
    supplier_code: str | None = None,
    channel: str,
    ip: str | None,
    now: dt.datetime,
) -> AccountLink:
    """Link the personal account ``number`` to ``user``, proven by ``value`` of kind
    ``proof`` (a LinkProof the supplier accepts). Without ``supplier_code`` the supplier is
    found from the number: the account whose proof matches is the one.

    Raises ValidationFailed (a malformed number or value), SupplierNotFound,
    ProofNotAccepted, AccountAlreadyLinked, LinkAttemptsExhausted (5 failed tries per user
    and per number an hour), LinkProofMismatch (one message for every kind of miss),
    SupplierChoiceRequired, AccountClosed.
    """
    if proof not in LinkProof.values:
        raise ValidationFailed(
            {"proof": [str(_("Способ подтверждения: %(choices)s") % {"choices": ", ".join(LinkProof.values)})]}
        )
    errors: dict[str, list[str]] = {}
    try:
        number = account_number_normalize(number)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    try:
        parsed = proof_parse(kind=proof, value=value)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)

    supplier = supplier_by_code(code=supplier_code) if supplier_code else None
    if supplier is not None and proof not in (offered := proofs_accepted(supplier=supplier, now=now)):
        choices = ", ".join(_proof_label(kind) for kind in offered) or "—"
        raise ProofNotAccepted(field="proof", supplier=supplier.short_name, choices=choices)

    candidates = PersonalAccount.objects.select_related("supplier").filter(number=number, supplier__is_active=True)
    if supplier is not None:
        candidates = candidates.filter(supplier=supplier)
    # Already linked: the supplier's account, or (supplier not given) every account with the number
    mine = AccountLink.objects.filter(user=user, account__in=candidates).count()
    if mine and (supplier is not None or mine == candidates.count()):
        raise AccountAlreadyLinked(number=number)

    def log(outcome: LinkOutcome, account: PersonalAccount | None = None) -> None:
        LinkAttempt.objects.create(
            at=now,
            user=user,
            supplier=supplier or (account.supplier if account else None),
            number=number,
            account=account,
            proof=proof,
            outcome=outcome,
            channel=channel,
            ip=ip,
        )

    # The log says whether the user or the number is cooling off (5 failures in the last
    # hour); the counters, counted before the check and taken back on success, stop
    # parallel tries from slipping past the log.
    subjects = ((LINK_FAILS_PER_USER, str(user.pk)), (LINK_FAILS_PER_ACCOUNT, number))
    verdicts = [rate_hit(limit=limit, subject=subject, now=now) for limit, subject in subjects]
    wait = max([_cool_off(Q(user=user), now), _cool_off(Q(number=number), now)] + [v.retry_after for v in verdicts])
    if wait:
        for (limit, subject), verdict in zip(subjects, verdicts, strict=True):
            if verdict.allowed:
                rate_unhit(limit=limit, subject=subject, now=now)
        log(LinkOutcome.BLOCKED)
        raise LinkAttemptsExhausted(retry_after=wait)

    # The same work whether or not an account with the number exists: the suppliers'
    # terms are read up front, not per account found.
    accepting = (
        {supplier.pk}
        if supplier
        else {s.pk for s in suppliers_active() if proof in proofs_accepted(supplier=s, now=now)}
    )
    matched = [
        account
        for account in candidates
        if account.supplier_id in accepting and proof_matches(kind=proof, account=account, value=parsed, now=now)
    ]
    if not matched:
        log(LinkOutcome.MISMATCH)
        raise LinkProofMismatch()
    for limit, subject in subjects:
        rate_unhit(limit=limit, subject=subject, now=now)
    if len(matched) > 1:
        raise SupplierChoiceRequired(field="supplier", number=number)
    account = matched[0]
    if account.status == AccountStatus.CLOSED:
        log(LinkOutcome.CLOSED, account)
        raise AccountClosed(number=number)

    try:
        with transaction.atomic():
            link = AccountLink.objects.create(user=user, account=account, proof=proof, channel=channel, linked_at=now)
            log(LinkOutcome.LINKED, account)
            audit_record(
                at=now,
                actor_id=user.pk,
                channel=channel,
                action="account.link",
                object_type="customers.accountlink",
                object_id=link.pk,
                after={"user": user.pk, "account": account.pk, "number": number, "proof": proof},
                ip=ip,
            )
    except IntegrityError:  # the same link made by a parallel request
        raise AccountAlreadyLinked(number=number) from None
    return link


# --- The user's own links -------------------------------------------------------------


def _link_of(user: User, account_id: int, *, lock: bool = False) -> AccountLink:
    links = AccountLink.objects.select_related("account")
    if lock:
        links = links.select_for_update()
    link = links.filter(user=user, account_id=account_id).first()
    if link is None:
        raise AccountNotFound()
    return link


def account_link_update(
    *,
    user: User,
    account_id: int,
    name: str | None = None,
    make_default: bool | None = None,
    channel: str,
    ip: str | None,
    now: dt.datetime,
) -> AccountLink:
    """Rename the user's link to the account (``name``; empty clears it) and/or make it the
    default account (``make_default`` True) or not (False). None leaves a value as it is.

    Raises AccountNotFound, ValidationFailed (a name longer than 40 characters).
    """
    if name is not None:
        name = " ".join(name.split())
        if len(name) > NAME_MAX_LENGTH:
            raise ValidationFailed(
                {"name": [str(_("Название — не длиннее %(max)d символов") % {"max": NAME_MAX_LENGTH})]}
            )
    with transaction.atomic():
        link = _link_of(user, account_id, lock=True)
        before = {"name": link.name, "is_default": link.is_default}
        if name is not None:
            link.name = name
        if make_default is True and not link.is_default:
            AccountLink.objects.filter(user=user, is_default=True).update(is_default=False)
            link.is_default = True
        elif make_default is False:
            link.is_default = False
        after = {"name": link.name, "is_default": link.is_default}
        if after != before:
            link.save(update_fields=["name", "is_default"])
            audit_record(
                at=now,
                actor_id=user.pk,
                channel=channel,
                action="account.link_update",
                object_type="customers.accountlink",
                object_id=link.pk,
                before=before,
                after=after,
                ip=ip,
            )
    return link


def _unlink(link: AccountLink, *, actor: User, channel: str, ip: str | None, now: dt.datetime, reason: str) -> None:
    audit_record(
        at=now,
        actor_id=actor.pk,
        channel=channel,
        action="account.unlink",
        object_type="customers.accountlink",
        object_id=link.pk,
        before={"user": link.user_id, "account": link.account_id, "number": link.account.number, "name": link.name},
        after={"reason": reason} if reason else None,
        ip=ip,
    )
    link.delete()


def account_unlink(*, user: User, account_id: int, channel: str, ip: str | None, now: dt.datetime) -> None:
    """Remove the account from the user's profile (the account itself stays, and other
    users' links to it). Raises AccountNotFound."""
    with transaction.atomic():
        link = _link_of(user, account_id, lock=True)
        _unlink(link, actor=user, channel=channel, ip=ip, now=now, reason="")


@dataclass(frozen=True)
class Unlinked:
    user_id: int
    number: str


def account_unlink_by_operator(
    *, operator: User, link_id: int, reason: str, ip: str | None, now: dt.datetime
) -> Unlinked:
    """An operator removes a user's link to an account, saying why (kept in the audit log).

    Raises ValidationFailed (no reason), NotFound (the link is already gone).
    """
    reason = " ".join((reason or "").split())
    if len(reason) < UNLINK_REASON_MIN_LENGTH:
        raise ValidationFailed({"reason": [str(_("Укажите причину отвязки: её увидят в журнале изменений"))]})
    with transaction.atomic():
        link = AccountLink.objects.select_for_update().select_related("account").filter(pk=link_id).first()
        if link is None:
            raise NotFound(_("Привязка уже удалена"))
        unlinked = Unlinked(user_id=link.user_id, number=link.account.number)
        _unlink(link, actor=operator, channel="backoffice", ip=ip, now=now, reason=reason)
    return unlinked


class PaperlessNotAllowed(DomainError):
    code = "paperless_not_allowed"
    message = _("Поставщик «{supplier}» не принимает отказ от бумажной квитанции")


class PaperlessNeedsEmail(ValidationFailed):
    code = "paperless_needs_email"


def paper_bill_set(
    *, user: User, account_id: int, paper: bool, channel: str, ip: str | None, now: dt.datetime
) -> PersonalAccount:
    """Give up the paper bill of the account (``paper`` False: the bill comes by e-mail to
    ``user``'s confirmed address) or take it back (True). Any user linked to the account may
    do either; the one who gives it up is the one who receives the e-mails.

    Raises AccountNotFound, PaperlessNotAllowed (the supplier's terms do not allow it),
    PaperlessNeedsEmail (no confirmed e-mail).
    """
    with transaction.atomic():
        link = _link_of(user, account_id, lock=True)
        account = PersonalAccount.objects.select_for_update().get(pk=link.account_id)
        before = {"paperless_user": account.paperless_user_id}
        if not paper:
            if not paperless_allowed(supplier=account.supplier, now=now):
                raise PaperlessNotAllowed(supplier=account.supplier.short_name)
            if recipient_of(user).email is None:
                raise PaperlessNeedsEmail(
                    {"paper": [str(_("Укажите и подтвердите e-mail в профиле — квитанция будет приходить на него"))]},
                    _("Нет подтверждённого e-mail"),
                )
            if account.paperless_user_id != user.pk:  # the same choice again keeps its date
                account.paperless_user = user
                account.paperless_since = now
        else:
            account.paperless_user = None
            account.paperless_since = None
        after = {"paperless_user": account.paperless_user_id}
        if after != before:
            account.save(update_fields=["paperless_user", "paperless_since"])
            audit_record(
                at=now,
                actor_id=user.pk,
                channel=channel,
                action="account.paper_bill",
                object_type="customers.personalaccount",
                object_id=account.pk,
                before=before,
                after=after,
                ip=ip,
            )
    return account
