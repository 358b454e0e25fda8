"""Phones and e-mail addresses as people type them, and as they are stored."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from abonent.core.errors import DomainError
from abonent.identity.enums import ContactKind

_NOT_DIGITS = re.compile(r"[\s()\-.\u00a0\u2011\u2012\u2013]")


class InvalidPhone(DomainError):
    code = "invalid_phone"
    message = _("Введите номер мобильного телефона России: +7 912 345-67-89 или 8 912 345-67-89")


class InvalidEmail(DomainError):
    code = "invalid_email"
    message = _("Введите адрес электронной почты полностью, например ivanova@mail.ru")


class InvalidLogin(DomainError):
    code = "invalid_login"
    message = _("Введите номер мобильного телефона (+7 912 345-67-89) или адрес электронной почты")


def phone_normalize(text: str, *, field: str = "phone") -> str:
    """A Russian mobile number written any common way, in E.164: ``+79123456789``.

    Accepts +7 912 345-67-89, 8 (912) 345-67-89, 89123456789, 79123456789, 9123456789.
    Raises InvalidPhone.
    """
    raw = _NOT_DIGITS.sub("", text or "")
    if raw.startswith("+"):
        digits = raw[1:]
        if not (digits.isdigit() and len(digits) == 11 and digits[0] == "7"):
            raise InvalidPhone(field=field)
    else:
        digits = raw
        if not digits.isdigit():
            raise InvalidPhone(field=field)
        if len(digits) == 11 and digits[0] in "78":
            digits = "7" + digits[1:]
        elif len(digits) == 10:
            digits = "7" + digits
        else:
            raise InvalidPhone(field=field)
    if digits[1] != "9":
        raise InvalidPhone(field=field)
    return "+" + digits


def email_normalize(text: str, *, field: str = "email") -> str:
    """An e-mail address trimmed, with the domain in lower case. Raises InvalidEmail."""
    value = (text or "").strip()
    try:
        validate_email(value)
    except ValidationError:
        raise InvalidEmail(field=field) from None
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def login_parse(text: str, *, field: str = "login") -> tuple[ContactKind, str]:
    """A login is a phone or an e-mail: which it is, and its stored form. Raises InvalidLogin."""
    value = (text or "").strip()
    if "@" in value:
        try:
            return ContactKind.EMAIL, email_normalize(value, field=field)
        except InvalidEmail:
            raise InvalidLogin(field=field) from None
    try:
        return ContactKind.PHONE, phone_normalize(value, field=field)
    except InvalidPhone:
        raise InvalidLogin(field=field) from None


def contact_mask(kind: str, value: str) -> str:
    """For messages on screen: +7 912 ***-**-89, iv***@mail.ru."""
    if kind == ContactKind.PHONE:
        return f"{value[:2]} {value[2:5]} ***-**-{value[-2:]}"
    local, _, domain = value.partition("@")
    return f"{local[:2]}***@{domain}"
