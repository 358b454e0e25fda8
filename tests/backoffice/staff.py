"""Members of staff and subscribers for the back office's pages of messages and reminders."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import Group
from django.test import Client

from abonent.identity.models import User


def staff(role: str | None, username: str = "op", *, superuser: bool = False) -> Client:
    """A logged-in browser of a member of staff in the group of ``role`` (None: in no group)."""
    member = User.objects.create(
        username=username, is_staff=True, is_superuser=superuser, first_name="Ольга", last_name="Морозова"
    )
    if role is not None:
        member.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(member)
    return client


def subscriber_make(
    username: str, *, phone: str | None, email: str | None, now: dt.datetime, last_name: str = "Иванова"
) -> User:
    """A subscriber whose contacts are confirmed."""
    return User.objects.create(
        username=username,
        phone=phone,
        email=email,
        first_name="Мария",
        last_name=last_name,
        phone_confirmed_at=now if phone else None,
        email_confirmed_at=now if email else None,
    )
