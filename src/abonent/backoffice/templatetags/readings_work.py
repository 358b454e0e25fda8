"""``{% readings_work as work %}``: the back office index's links to the work on readings
(the review with how many readings wait, the import), as far as the user may use them."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.http import HttpRequest
from django.urls import reverse

from abonent.backoffice.admin_readings import IMPORT_PERMISSION, REVIEW_PERMISSION
from abonent.metering.selectors import readings_to_review

register = template.Library()


@dataclass(frozen=True)
class ReadingsWork:
    review_url: str | None
    waiting: int
    import_url: str | None


@register.simple_tag(takes_context=True)
def readings_work(context: template.Context) -> ReadingsWork | None:
    request: HttpRequest | None = context.get("request")
    if request is None:
        return None
    user = request.user
    can_review, can_import = user.has_perm(REVIEW_PERMISSION), user.has_perm(IMPORT_PERMISSION)
    if not (can_review or can_import):
        return None
    return ReadingsWork(
        review_url=reverse("admin:metering_reading_review") if can_review else None,
        waiting=readings_to_review().count() if can_review else 0,
        import_url=reverse("admin:metering_reading_import") if can_import else None,
    )
