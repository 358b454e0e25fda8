"""The template filters of the account pages: numbers, addresses and phones the Russian way."""

from __future__ import annotations

from decimal import Decimal

import pytest

from abonent.core.money import MoneyFormatError
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.web.templatetags.portal import account_number, address_short, link_title, nbsp_abbreviations
from abonent.web.templatetags.ru_format import phone_list, ru_number

NBSP = "\u00a0"
NNBSP = "\u202f"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("770000000001", f"77{NBSP}0000{NBSP}000001"),
        ("12345", "12345"),  # not a 12-digit number: as it is
        ("", ""),
        (None, ""),
    ],
)
def test_account_number(value: str | None, shown: str) -> None:
    assert account_number(value) == shown


def _account(**fields: str) -> PersonalAccount:
    values = {"locality": "г. Подольск", "street": "ул. Садовая", "house": "12", "apartment": "34", **fields}
    return PersonalAccount(**values)


def test_address_short_keeps_abbreviations_with_their_words() -> None:
    assert address_short(_account()) == f"г.{NBSP}Подольск, ул.{NBSP}Садовая, д.{NBSP}12, кв.{NBSP}34"
    assert address_short(_account(street="", apartment="")) == f"г.{NBSP}Подольск, д.{NBSP}12"


def test_nbsp_abbreviations() -> None:
    assert nbsp_abbreviations("142100, Московская область, с. Ивановское, пр-т Мира, д. 5 корп. 2") == (
        f"142100, Московская область, с.{NBSP}Ивановское, пр-т Мира, д.{NBSP}5 корп.{NBSP}2"
    )
    assert nbsp_abbreviations("Газ. Свет.") == "Газ. Свет."  # not abbreviations of an address
    assert nbsp_abbreviations(None) == ""


def test_link_title_is_the_name_else_the_address() -> None:
    account = _account()
    assert link_title(AccountLink(account=account, name="Дача")) == "Дача"
    assert link_title(AccountLink(account=account, name="")) == address_short(account)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1234.567"), f"1{NNBSP}234,567"),
        (Decimal("1234.500"), f"1{NNBSP}234,5"),
        (Decimal("45.50"), "45,5"),
        (Decimal("100"), "100"),
        (Decimal("0.000"), "0"),
        (3, "3"),
        ("-12345.1", f"\u221212{NNBSP}345,1"),
        (None, ""),
        ("", ""),
    ],
)
def test_ru_number(value: Decimal | int | str | None, shown: str) -> None:
    assert ru_number(value) == shown


def test_ru_number_refuses_a_float() -> None:
    with pytest.raises(MoneyFormatError):
        ru_number(1.5)  # type: ignore[arg-type]


def test_phone_list() -> None:
    assert phone_list("+7 (495) 123-45-67, 8 800 100-00-02;  ") == ["+7 (495) 123-45-67", "8 800 100-00-02"]
    assert phone_list("") == []
    assert phone_list(None) == []
