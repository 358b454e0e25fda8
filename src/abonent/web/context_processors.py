from __future__ import annotations

from functools import partial
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from abonent.appeals.selectors import appeals_unread_count
from abonent.identity.models import User
from abonent.notifications.selectors import notifications_unread_count


def site(request: HttpRequest) -> dict[str, Any]:
    context: dict[str, Any] = {"site_name": "Абонент", "demo_outbox_page": settings.DEMO_OUTBOX_PAGE}
    user = getattr(request, "user", None)
    if isinstance(user, User) and user.is_authenticated:
        # a callable: counted (one indexed query) only when a page draws the menu
        context["appeals_unread"] = partial(appeals_unread_count, user=user)
        context["notifications_unread"] = partial(notifications_unread_count, user=user)
    return context
