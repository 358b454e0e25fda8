"""``{% appeals_work as work %}``: the back office index's counts of open cases by kind,
each a link to the queue of that kind, for those who may see the queue."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django import template
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from abonent.appeals.enums import AppealKind
from abonent.appeals.selectors import queue_counts
from abonent.backoffice.admin_appeals import VIEW_PERMISSION

register = template.Library()

_TITLES = {
    AppealKind.APPEAL: _("Обращения"),
    AppealKind.CONNECTION: _("Заявки на подключение к газу"),
    AppealKind.FEEDBACK: _("Сообщения с сайта"),
}


@dataclass(frozen=True)
class QueueLine:
    title: str
    count: int
    url: str


@dataclass(frozen=True)
class AppealsWork:
    queue_url: str
    lines: list[QueueLine]


@register.simple_tag(takes_context=True)
def appeals_work(context: template.Context) -> AppealsWork | None:
    request: HttpRequest | None = context.get("request")
    if request is None or not request.user.has_perm(VIEW_PERMISSION):
        return None
    queue = reverse("admin:appeals_appeal_changelist")
    counts = queue_counts()
    lines = [
        QueueLine(
            title=str(_TITLES[kind]),
            count=counts.get(kind.value, 0),
            url=f"{queue}?{urlencode({'kind__exact': kind.value})}",
        )
        for kind in AppealKind
    ]
    return AppealsWork(queue_url=queue, lines=lines)
