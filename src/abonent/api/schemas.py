from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import Field


class Problem(Schema):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    code: str
    errors: list[dict[str, str]] | None = None


# Problems to list in an operation's ``response={...}``: 400 is a body that is not JSON,
# 422 input that is not valid, 401 no or a bad access token, 429 too many tries.
INVALID: dict[int, Any] = {400: Problem, 422: Problem}
TOO_MANY: dict[int, Any] = {429: Problem}
UNAUTHORIZED: dict[int, Any] = {401: Problem}


class SupplierOut(Schema):
    id: int = Field(description="id поставщика: для supplier_id обращений, заявок на подключение и сообщений")
    code: str
    short_name: str
    legal_name: str
    hotline_phone: str
    phones: str
    email: str
    site: str
    feedback_url: str
    office_hours: str
    time_zone: str
