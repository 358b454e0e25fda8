from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import timezone

from abonent.core.money import MoneyFormatError
from abonent.web.templatetags.ru_format import ru_date, ru_datetime, rubles, site_host, tel_href, time_zone_ru

NNBSP = "\u202f"
NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1234.56"), f"1{NNBSP}234,56{NBSP}₽"),
        (Decimal("1234567.005"), f"1{NNBSP}234{NNBSP}567,01{NBSP}₽"),
        (0, f"0,00{NBSP}₽"),
        ("-15.5", f"\u221215,50{NBSP}₽"),
        (None, ""),
        ("", ""),
    ],
)
def test_rubles(value: Decimal | int | str | None, shown: str) -> None:
    assert rubles(value) == shown


def test_rubles_refuses_a_float() -> None:
    with pytest.raises(MoneyFormatError):
        rubles(1.5)  # type: ignore[arg-type]


def test_ru_date() -> None:
    assert ru_date(dt.date(2026, 11, 5)) == "05.11.2026"
    assert ru_date(None) == ""


def test_ru_date_and_datetime_of_an_aware_moment_are_in_the_current_time_zone() -> None:
    moment = dt.datetime(2026, 11, 22, 21, 30, tzinfo=dt.UTC)

    with timezone.override(zoneinfo.ZoneInfo("Europe/Moscow")):
        assert ru_date(moment) == "23.11.2026"
        assert ru_datetime(moment) == "23.11.2026 00:30"
    with timezone.override(zoneinfo.ZoneInfo("Europe/Kaliningrad")):
        assert ru_datetime(moment) == "22.11.2026 23:30"
    assert ru_datetime(dt.datetime(2026, 1, 2, 3, 4)) == "02.01.2026 03:04"  # noqa: DTZ001 - a naive value is shown as is


@pytest.mark.parametrize(
    ("phone", "href"),
    [
        ("8 800 100-00-01", "tel:88001000001"),
        ("+7 (4012) 60-60-60", "tel:+74012606060"),
        (" +7 916 123 45 67 ", "tel:+79161234567"),
        ("", ""),
        (None, ""),
    ],
)
def test_tel_href(phone: str | None, href: str) -> None:
    assert tel_href(phone) == href


@pytest.mark.parametrize(
    ("zone", "words"),
    [
        ("Europe/Moscow", "московское время"),
        ("Europe/Simferopol", "московское время"),
        ("Europe/Kaliningrad", "калининградское время (МСК−1)"),
        ("Europe/Samara", "самарское время (МСК+1)"),
        ("Asia/Yekaterinburg", "екатеринбургское время (МСК+2)"),
        ("Asia/Omsk", "омское время (МСК+3)"),
        ("Asia/Novosibirsk", "новосибирское время (МСК+4)"),
        ("Asia/Krasnoyarsk", "красноярское время (МСК+4)"),
        ("Asia/Irkutsk", "иркутское время (МСК+5)"),
        ("Asia/Yakutsk", "якутское время (МСК+6)"),
        ("Asia/Vladivostok", "владивостокское время (МСК+7)"),
        ("Asia/Magadan", "магаданское время (МСК+8)"),
        ("Asia/Kamchatka", "камчатское время (МСК+9)"),
        ("Europe/Berlin", "время UTC+1 (Europe/Berlin)"),
        ("Asia/Kolkata", "время UTC+5,5 (Asia/Kolkata)"),
        ("Not/AZone", "Not/AZone"),
        ("", ""),
    ],
)
def test_time_zone_ru(zone: str, words: str) -> None:
    assert time_zone_ru(zone, dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)) == words


def test_site_host() -> None:
    assert site_host("https://www.gaz-kld.example/") == "gaz-kld.example"
    assert site_host("https://gaz-msk.example/path") == "gaz-msk.example"
    assert site_host("") == ""


def test_filters_in_a_template() -> None:
    template = Template(
        "{% load ru_format %}{{ amount|rubles }} до {{ day|ru_date }}, {{ phone|tel_href }}, {{ zone|time_zone_ru }}"
    )

    shown = template.render(
        Context(
            {
                "amount": Decimal("1500"),
                "day": dt.date(2026, 12, 15),
                "phone": "8 800 100-00-01",
                "zone": "Europe/Kaliningrad",
            }
        )
    )

    assert shown == f"1{NNBSP}500,00{NBSP}₽ до 15.12.2026, tel:88001000001, калининградское время (МСК−1)"
