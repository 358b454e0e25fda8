"""The base of every domain error: a stable code and a human message in Russian."""

from __future__ import annotations

from typing import Any, ClassVar

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """An anticipated failure of a use case.

    Subclasses set ``code`` (stable, snake_case, part of the API contract) and ``message``
    (shown to people). ``field`` names the input the error is about, when there is one.
    Interfaces map the class to an HTTP status in one place (``api/errors.py``).
    """

    code: ClassVar[str] = "domain_error"
    message: ClassVar[str | Promise] = _("Операция не выполнена")

    def __init__(self, message: str | Promise | None = None, *, field: str | None = None, **params: Any) -> None:
        self.field = field
        self.params = params
        text = str(message if message is not None else self.message)
        self.text = text.format(**params) if params else text
        super().__init__(self.text)


class NotFound(DomainError):
    code = "not_found"
    message = _("Не найдено")


class ValidationFailed(DomainError):
    """Input that breaks a rule; ``errors`` maps each field to what is wrong with it."""

    code = "validation_failed"
    message = _("Проверьте введённые данные")

    def __init__(self, errors: dict[str, list[str]], message: str | Promise | None = None) -> None:
        super().__init__(message)
        self.errors = errors
