from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from abonent.core import money


class TestRounding:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("0.005", "0.01"),  # half up, not the banker's 0.00
            ("0.015", "0.02"),
            ("0.025", "0.03"),  # banker's rounding would give 0.02
            ("2.675", "2.68"),  # the float 2.675 is 2.67499…; as a string it rounds up
            ("-0.005", "-0.01"),  # half away from zero for refunds too
            ("1234.5649", "1234.56"),
            ("10", "10.00"),
        ],
    )
    def test_round_rubles_is_half_up(self, value: str, expected: str) -> None:
        assert money.round_rubles(value) == Decimal(expected)
        assert str(money.round_rubles(value)) == expected

    def test_round_tariff_keeps_four_places(self) -> None:
        assert money.round_tariff("7.32845") == Decimal("7.3285")

    def test_round_volume_keeps_three_places(self) -> None:
        assert money.round_volume("12.3455") == Decimal("12.346")

    def test_kopecks_round_trip(self) -> None:
        assert money.to_kopecks("1234.565") == 123457
        assert money.from_kopecks(123457) == Decimal("1234.57")

    @given(st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False, allow_infinity=False))
    def test_kopecks_of_rounded_amount_round_trip(self, value: Decimal) -> None:
        assert money.from_kopecks(money.to_kopecks(value)) == money.round_rubles(value)


class TestToDecimal:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("1 234,56", "1234.56"),
            ("1\u00a0234,56", "1234.56"),
            (" 12.5 ", "12.5"),
            ("\u2212150,00", "-150.00"),  # the minus sign format_rubles prints
            ("\u2013150,00", "-150.00"),  # an en dash typed for one
            ("\u22121\u202f500,50", "-1500.50"),
            (7, "7"),
            (Decimal("3.10"), "3.10"),
        ],
    )
    def test_reads_the_usual_ways_of_writing_amounts(self, value: object, expected: str) -> None:
        assert money.to_decimal(value) == Decimal(expected)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (0.1, "0.1: amounts are never floats; pass a string or a Decimal"),
            (True, "True: amounts are never floats; pass a string or a Decimal"),
            ("", "an empty string is not an amount"),
            ("12 руб", "'12 руб' is not a number"),
            ("1.2.3", "'1.2.3' is not a number"),
            ("NaN", "'NaN' is not a finite number"),
            ("Infinity", "'Infinity' is not a finite number"),
            (None, "NoneType is not an amount"),
        ],
    )
    def test_refuses_what_is_not_an_amount(self, value: object, message: str) -> None:
        with pytest.raises(money.MoneyFormatError) as exc:
            money.to_decimal(value)  # type: ignore[arg-type]
        assert str(exc.value) == message


class TestFormatRubles:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("1234.56", "1\u202f234,56\u00a0₽"),
            ("0", "0,00\u00a0₽"),
            ("999", "999,00\u00a0₽"),
            ("1000000", "1\u202f000\u202f000,00\u00a0₽"),
            ("-1500.5", "\u22121\u202f500,50\u00a0₽"),
            ("0.005", "0,01\u00a0₽"),
            ("-0.004", "0,00\u00a0₽"),
        ],
    )
    def test_formats_the_russian_way(self, value: str, expected: str) -> None:
        assert money.format_rubles(value) == expected

    def test_without_sign(self) -> None:
        assert money.format_rubles("12.3", sign=False) == "12,30"


class TestFormatNumber:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("1234.500", "1\u202f234,5"),
            ("0.000", "0"),
            ("-0", "0"),
            (12, "12"),
            ("1E+3", "1\u202f000"),
            ("-98765.4321", "\u221298\u202f765,4321"),
        ],
    )
    def test_formats_the_russian_way_without_trailing_zeros(self, value: str | int, expected: str) -> None:
        assert money.format_number(value) == expected

    def test_floats_are_refused(self) -> None:
        with pytest.raises(money.MoneyFormatError):
            money.format_number(1.5)  # type: ignore[arg-type]
