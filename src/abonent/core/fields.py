"""Model fields for the kernel's value objects."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.expressions import Combinable

from abonent.core.periods import Period


class PeriodField(models.IntegerField):
    """A billing period stored as the integer YYYYMM (202611), read back as a Period."""

    description = "Billing period (YYYYMM)"
    # what the type checker's Django plugin reads as the field's set and get types
    _pyi_private_set_type: Period | int | str | Combinable  # type: ignore[assignment]
    _pyi_private_get_type: Period  # type: ignore[assignment]
    _pyi_lookup_exact_type: Period | int | str  # type: ignore[assignment]

    def from_db_value(self, value: int | None, expression: Any, connection: Any) -> Period | None:
        return None if value is None else Period.from_int(value)

    def to_python(self, value: Any) -> Period | None:
        if value is None or isinstance(value, Period):
            return value
        if isinstance(value, str):
            return Period.parse(value) if "-" in value or "." in value else Period.from_int(int(value))
        return Period.from_int(int(value))

    def get_prep_value(self, value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, Period):
            return value.to_int()
        period = self.to_python(value)
        return None if period is None else period.to_int()

    def value_to_string(self, obj: models.Model) -> str:
        value = self.value_from_object(obj)
        return "" if value is None else str(value)
