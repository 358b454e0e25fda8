"""Russian requisites and their control digits: INN, KPP, OGRN, BIC, bank accounts.

Each ``check_*`` function returns None for a valid value and otherwise a sentence in
Russian that says what to fix. The Django validators below wrap them for forms and models.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

_DIGITS = re.compile(r"^\d+$")
_KPP = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")

_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_ACCOUNT_WEIGHTS = (7, 1, 3) * 8  # 23 positions: 3 digits of the BIC + 20 of the account


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False))


def check_inn(value: str) -> str | None:
    """ИНН: 10 digits for an organisation, 12 for a person, with control digits."""
    if not _DIGITS.match(value or ""):
        return gettext("ИНН состоит только из цифр")
    if len(value) == 10:
        if _weighted(value, _INN10) % 11 % 10 != int(value[9]):
            return gettext("Неверное контрольное число ИНН: проверьте цифры")
        return None
    if len(value) == 12:
        n11 = _weighted(value, _INN12_1) % 11 % 10
        n12 = _weighted(value, _INN12_2) % 11 % 10
        if n11 != int(value[10]) or n12 != int(value[11]):
            return gettext("Неверное контрольное число ИНН: проверьте цифры")
        return None
    return gettext("ИНН организации — 10 цифр, ИНН физического лица — 12 цифр")


def check_kpp(value: str) -> str | None:
    """КПП: 9 characters, 4 digits, 2 digits or capital Latin letters, 3 digits."""
    if not _KPP.match(value or ""):
        return gettext("КПП — 9 символов: 4 цифры, 2 цифры или заглавные латинские буквы, 3 цифры")
    return None


def check_ogrn(value: str) -> str | None:
    """ОГРН (13 digits) or ОГРНИП (15 digits) with its control digit."""
    if not _DIGITS.match(value or ""):
        return gettext("ОГРН состоит только из цифр")
    if len(value) == 13:
        if int(value[:12]) % 11 % 10 != int(value[12]):
            return gettext("Неверное контрольное число ОГРН: проверьте цифры")
        return None
    if len(value) == 15:
        if int(value[:14]) % 13 % 10 != int(value[14]):
            return gettext("Неверное контрольное число ОГРНИП: проверьте цифры")
        return None
    return gettext("ОГРН — 13 цифр, ОГРНИП — 15 цифр")


def check_bic(value: str) -> str | None:
    """БИК of a Russian bank: 9 digits starting with 04."""
    if not _DIGITS.match(value or "") or len(value) != 9:
        return gettext("БИК — 9 цифр")
    if not value.startswith("04"):
        return gettext("БИК банка в России начинается с 04")
    return None


def _account_control_ok(prefix3: str, account: str) -> bool:
    return _weighted(prefix3 + account, _ACCOUNT_WEIGHTS) % 10 == 0


def check_settlement_account(account: str, bic: str) -> str | None:
    """Расчётный счёт: 20 digits whose control digit matches the bank's BIC."""
    if not _DIGITS.match(account or "") or len(account) != 20:
        return gettext("Расчётный счёт — 20 цифр")
    if check_bic(bic) is not None:
        return gettext("Сначала укажите верный БИК банка: по нему проверяется счёт")
    if not _account_control_ok(bic[-3:], account):
        return gettext("Расчётный счёт не соответствует БИК банка: проверьте цифры счёта и БИК")
    return None


def check_correspondent_account(account: str, bic: str) -> str | None:
    """Корреспондентский счёт: 20 digits, 30101…, whose control digit matches the BIC."""
    if not _DIGITS.match(account or "") or len(account) != 20:
        return gettext("Корреспондентский счёт — 20 цифр")
    if not account.startswith("30101"):
        return gettext("Корреспондентский счёт банка начинается с 30101")
    if check_bic(bic) is not None:
        return gettext("Сначала укажите верный БИК банка: по нему проверяется счёт")
    if not _account_control_ok("0" + bic[4:6], account):
        return gettext("Корреспондентский счёт не соответствует БИК банка: проверьте цифры счёта и БИК")
    if account[-3:] != bic[-3:]:
        return gettext("Последние три цифры корреспондентского счёта должны совпадать с последними цифрами БИК")
    return None


def _raise_if(error: str | None) -> None:
    if error is not None:
        raise ValidationError(error, code="invalid")


def validate_inn(value: str) -> None:
    _raise_if(check_inn(value))


def validate_kpp(value: str) -> None:
    _raise_if(check_kpp(value))


def validate_ogrn(value: str) -> None:
    _raise_if(check_ogrn(value))


def validate_bic(value: str) -> None:
    _raise_if(check_bic(value))
