"""Template filters that show values the Russian way (DESIGN.md §4.9).

``{% load ru_format %}`` then ``{{ amount|rubles }}`` → «1 234,56 ₽», ``{{ day|ru_date }}`` →
«05.11.2026», ``{{ moment|ru_datetime }}`` → «05.11.2026 14:30» in the current time zone,
``{{ supplier.hotline_phone|tel_href }}`` → «tel:+74012606060», ``{{ supplier.time_zone|time_zone_ru }}``
→ «калининградское время (МСК−1)», ``{{ reading.value|ru_number }}`` → «1 234,5»,
``{{ supplier.phones|phone_list }}`` → the phones of a free-text field, one by one.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from decimal import Decimal
from urllib.parse import urlsplit

from django import template
from django.utils import timezone

from abonent.core.money import format_number, format_rubles

register = template.Library()

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")

# The zones of the law «Об исчислении времени» (107-ФЗ), by their offset from Moscow time in
# hours; Russia keeps no summer time, so the offset is the same all year.
_RUSSIAN_ZONE_NAMES: dict[int, str] = {
    -1: "калининградское время",
    0: "московское время",
    1: "самарское время",
    2: "екатеринбургское время",
    3: "омское время",
    4: "красноярское время",
    5: "иркутское время",
    6: "якутское время",
    7: "владивостокское время",
    8: "магаданское время",
    9: "камчатское время",
}
_RUSSIAN_ZONES = frozenset(
    {
        "Europe/Kaliningrad",
        "Europe/Moscow",
        "Europe/Simferopol",
        "Europe/Kirov",
        "Europe/Volgograd",
        "Europe/Samara",
        "Europe/Astrakhan",
        "Europe/Saratov",
        "Europe/Ulyanovsk",
        "Asia/Yekaterinburg",
        "Asia/Omsk",
        "Asia/Novosibirsk",
        "Asia/Barnaul",
        "Asia/Tomsk",
        "Asia/Novokuznetsk",
        "Asia/Krasnoyarsk",
        "Asia/Irkutsk",
        "Asia/Chita",
        "Asia/Yakutsk",
        "Asia/Khandyga",
        "Asia/Vladivostok",
        "Asia/Ust-Nera",
        "Asia/Magadan",
        "Asia/Sakhalin",
        "Asia/Srednekolymsk",
        "Asia/Kamchatka",
        "Asia/Anadyr",
    }
)
# Where the people of a zone call its time after their own city.
_ZONE_NAME_OVERRIDES: dict[str, str] = {"Asia/Novosibirsk": "новосибирское время"}
_MINUS = "\u2212"


@register.filter(is_safe=True)
def rubles(value: Decimal | int | str | None) -> str:
    """«1 234,56 ₽». Empty for None; a float is a programming error and raises MoneyFormatError."""
    if value is None or value == "":
        return ""
    return format_rubles(value)


@register.filter(is_safe=True)
def ru_number(value: Decimal | int | str | None) -> str:
    """A number the Russian way, without trailing zeros: «1 234,5», «0», «12». Floats are
    refused (MoneyFormatError), as everywhere."""
    if value is None or value == "":
        return ""
    return format_number(value)


@register.filter
def phone_list(value: str | None) -> list[str]:
    """The phones of a free-text field («+7 (495) 123-45-67, 8 800 100-00-02»), split at commas
    and semicolons."""
    return [part.strip() for part in re.split(r"[,;]", value or "") if part.strip()]


@register.filter(is_safe=True)
def ru_date(value: dt.date | dt.datetime | None) -> str:
    """dd.mm.yyyy; an aware datetime is first moved to the current time zone."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{value:%d.%m.%Y}"


@register.filter(is_safe=True)
def ru_datetime(value: dt.datetime | None) -> str:
    """dd.mm.yyyy HH:MM in the current time zone (set it with ``{% timezone %}``)."""
    if value is None or value == "":
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{value:%d.%m.%Y %H:%M}"


@register.filter(is_safe=True)
def tel_href(phone: str | None) -> str:
    """A ``tel:`` address of a phone written any usual way: only digits and a leading +."""
    text = (phone or "").strip()
    digits = re.sub(r"\D", "", text)
    if not digits:
        return ""
    return "tel:" + ("+" if text.startswith("+") else "") + digits


def _moscow_offset_hours(zone: zoneinfo.ZoneInfo, at: dt.datetime) -> float:
    return (_utc_offset(zone, at) - _utc_offset(MOSCOW, at)).total_seconds() / 3600


def _utc_offset(zone: zoneinfo.ZoneInfo, at: dt.datetime) -> dt.timedelta:
    return at.astimezone(zone).utcoffset() or dt.timedelta(0)


def _signed(hours: float) -> str:
    number = f"{abs(hours):g}".replace(".", ",")
    return ("+" if hours >= 0 else _MINUS) + number


@register.filter
def time_zone_ru(name: str | None, at: dt.datetime | None = None) -> str:
    """A time zone in words: «московское время», «калининградское время (МСК−1)»;
    outside Russia «время UTC+1 (Europe/Berlin)»."""
    if not name:
        return ""
    try:
        zone = zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return name
    moment = at or timezone.now()
    offset = _moscow_offset_hours(zone, moment)
    if name in _RUSSIAN_ZONES and offset.is_integer() and int(offset) in _RUSSIAN_ZONE_NAMES:
        words = _ZONE_NAME_OVERRIDES.get(name) or _RUSSIAN_ZONE_NAMES[int(offset)]
        return words if offset == 0 else f"{words} (МСК{_signed(offset)})"
    return f"время UTC{_signed(_utc_offset(zone, moment).total_seconds() / 3600)} ({name})"


@register.filter
def site_host(url: str | None) -> str:
    """The host of a site address without «www.», for a link text: gaz-msk.example."""
    host = urlsplit(url or "").hostname or ""
    return host.removeprefix("www.")
