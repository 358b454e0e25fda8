"""A second supplier, in Kaliningrad (МСК−1), for the pages that show suppliers' time zones."""

from __future__ import annotations

from typing import Any

from tests.conftest import SUPPLIER_MOSCOW

SUPPLIER_KALININGRAD: dict[str, Any] = {
    **SUPPLIER_MOSCOW,
    "code": "gaz-kld",
    "short_name": "Калининградская газовая компания",
    "legal_name": 'ООО "Калининградская газовая компания"',
    "inn": "3906214945",
    "kpp": "390601001",
    "ogrn": "1103925008330",
    "legal_address": "236022, г. Калининград, ул. Гостиная, д. 3",
    "hotline_phone": "+7 (4012) 60-60-60",
    "email": "abonent@gaz-kld.example",
    "site": "https://www.gaz-kld.example/",
    "feedback_url": "https://gaz-kld.example/obrashcheniya",
    "office_hours": "пн–пт 9:00–18:00, сб 9:00–14:00",
    "time_zone": "Europe/Kaliningrad",
    "bank_name": "Калининградское отделение № 8626 ПАО Сбербанк",
    "bic": "042748634",
    "settlement_account": "40702810720050000001",
    "correspondent_account": "30101810100000000634",
}
