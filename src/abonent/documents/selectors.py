"""Reads of bills for the interfaces."""

from __future__ import annotations

from abonent.identity.models import User


def bill_email_address(*, user: User) -> str | None:
    """Where the user's bills are sent: their e-mail once it is confirmed, else None."""
    return user.email if user.email and user.email_confirmed_at else None
