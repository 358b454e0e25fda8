"""Money, tariffs and volumes as Decimal, rounded in one place with a named mode.

Rubles have 2 places, tariffs 4, volumes (m³) 3. Rounding is ROUND_HALF_UP, as in Russian
accounting practice and on payment documents, not the banker's rounding of Python's
``round``. Floats are refused everywhere: a float has already lost the kopeck.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

RUBLE = Decimal("0.01")
TARIFF = Decimal("0.0001")
VOLUME = Decimal("0.001")
ROUNDING = ROUND_HALF_UP


class MoneyFormatError(ValueError):
    """A value that is not an amount written with digits."""


def to_decimal(value: Decimal | int | str) -> Decimal:
    """A Decimal from a Decimal, an int or a string written the usual ways ("1 234,56").

    Raises MoneyFormatError for floats, empty strings and anything that is not a finite number.
    """
    if isinstance(value, (bool, float)):
        raise MoneyFormatError(f"{value!r}: amounts are never floats; pass a string or a Decimal")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        # as people write it, and as ``format_rubles`` prints it: spaces between thousands,
        # a comma, a real minus sign (or the en dash that stands for one)
        text = value.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace(",", ".")
        text = text.replace("\u2212", "-").replace("\u2013", "-")
        if not text:
            raise MoneyFormatError("an empty string is not an amount")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise MoneyFormatError(f"{value!r} is not a number") from None
    else:
        raise MoneyFormatError(f"{type(value).__name__} is not an amount")
    if not result.is_finite():
        raise MoneyFormatError(f"{value!r} is not a finite number")
    return result


def quantize(value: Decimal | int | str, step: Decimal, *, rounding: str = ROUNDING) -> Decimal:
    """Round ``value`` to ``step`` (e.g. RUBLE) with ``rounding`` (half up unless named)."""
    if type(value) is Decimal and value.is_finite():  # the common case, called per row of a billing run
        return value.quantize(step, rounding=rounding)
    return to_decimal(value).quantize(step, rounding=rounding)


def round_rubles(value: Decimal | int | str) -> Decimal:
    return quantize(value, RUBLE)


def round_tariff(value: Decimal | int | str) -> Decimal:
    return quantize(value, TARIFF)


def round_volume(value: Decimal | int | str) -> Decimal:
    return quantize(value, VOLUME)


def to_kopecks(value: Decimal | int | str) -> int:
    """Whole kopecks of an amount in rubles, rounded half up."""
    return int(round_rubles(value) * 100)


def from_kopecks(kopecks: int) -> Decimal:
    return (Decimal(kopecks) / 100).quantize(RUBLE)


def format_rubles(value: Decimal | int | str, *, sign: bool = True) -> str:
    """The Russian way: «1 234,56 ₽» with narrow no-break spaces between thousands."""
    amount = round_rubles(value)
    text = _russian(f"{amount:.2f}" if amount else "0.00")  # no «−0,00»
    return text + "\u00a0₽" if sign else text


def format_number(value: Decimal | int | str) -> str:
    """A number the Russian way, without trailing zeros: «1 234,5», «0», «−12» (volumes,
    readings). Floats are refused (MoneyFormatError), as everywhere."""
    number = to_decimal(value)
    return _russian(f"{number.normalize():f}" if number != 0 else "0")


def _russian(text: str) -> str:
    """«-1234.5» → «−1 234,5»: narrow no-break spaces between thousands, a comma, a real minus."""
    negative = text.startswith("-")
    whole, _, frac = text.lstrip("-").partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return ("\u2212" if negative else "") + "\u202f".join(groups) + ("," + frac if frac else "")
