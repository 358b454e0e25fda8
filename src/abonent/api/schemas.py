from __future__ import annotations

from ninja import Schema


class Problem(Schema):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    code: str
    errors: list[dict[str, str]] | None = None


class SupplierOut(Schema):
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
