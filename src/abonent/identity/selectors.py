"""Reads of identity: consent texts in force, a profile's consents, devices and its open
deletion request."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from abonent.core.errors import DomainError
from abonent.identity import policy
from abonent.identity.enums import ConsentKind, DeletionStatus, SessionKind
from abonent.identity.models import AuthSession, Consent, ConsentDocument, DeletionRequest, User
from abonent.notifications.services import Recipient


class ConsentTextMissing(DomainError):
    code = "consent_text_missing"
    message = _("Не опубликован текст согласия «{kind}»: обратитесь к администратору портала")


def consent_document_get(*, kind: ConsentKind, now: dt.datetime) -> ConsentDocument:
    """The version of the consent text of ``kind`` in force at ``now``. Raises ConsentTextMissing."""
    document = ConsentDocument.objects.filter(kind=kind, effective_from__lte=now).order_by("-effective_from").first()
    if document is None:
        raise ConsentTextMissing(kind=kind.label)
    return document


def consent_documents_get(*, now: dt.datetime) -> dict[str, ConsentDocument]:
    """The consent texts in force, by kind, to show before registration. Raises ConsentTextMissing."""
    return {kind.value: consent_document_get(kind=kind, now=now) for kind in ConsentKind}


def consents_list(*, user: User) -> list[Consent]:
    """Every consent the user gave, withdrawn ones included, the newest first."""
    return list(user.consents.select_related("document").order_by("-granted_at"))


def sessions_list(*, user: User, now: dt.datetime) -> list[AuthSession]:
    """The user's devices that are logged in at ``now``, the most recently active first: not
    ended, not expired, and (a browser without "remember me") not idle for 30 minutes."""
    idle = Q(kind=SessionKind.WEB, remember=False, last_seen_at__lte=now - policy.SESSION_IDLE)
    return list(
        AuthSession.objects.filter(user=user, ended_at__isnull=True, expires_at__gt=now)
        .exclude(idle)
        .order_by("-last_seen_at", "-id")
    )


def deletion_request_open_get(*, user: User) -> DeletionRequest | None:
    """The user's deletion request that is still being considered, if there is one."""
    return DeletionRequest.objects.filter(
        user=user, status__in=[DeletionStatus.NEW, DeletionStatus.IN_PROGRESS]
    ).first()


def deletion_requests_list(*, user: User) -> list[DeletionRequest]:
    """The user's deletion requests, the newest first, decided ones included."""
    return list(DeletionRequest.objects.filter(user=user).order_by("-requested_at", "-pk"))


#: The user fields a message needs, for reads of many recipients at once.
RECIPIENT_FIELDS = ("id", "email", "email_confirmed_at", "phone", "phone_confirmed_at", "language")


def recipient_from_values(
    user_id: int,
    email: str | None,
    email_confirmed_at: dt.datetime | None,
    phone: str | None,
    phone_confirmed_at: dt.datetime | None,
    language: str,
) -> Recipient:
    """A subscriber as a message needs them (the fields of ``RECIPIENT_FIELDS``): only a
    confirmed e-mail or phone is written to."""
    return Recipient(
        user_id=user_id,
        email=email if email and email_confirmed_at else None,
        phone=phone if phone and phone_confirmed_at else None,
        language=language or "ru",
    )


def recipient_of(user: User) -> Recipient:
    return recipient_from_values(*(getattr(user, name) for name in RECIPIENT_FIELDS))
