"""The two demo suppliers, in Moscow and in Kaliningrad (an hour apart).

The organisations, their INN, OGRN and settlement accounts are made up; their banks and
BICs are real ones. The control digits of the INN, the OGRN and both bank accounts are
computed here by the rules that ``abonent.core.requisites`` checks, not typed in (the
correspondent accounts so computed are the banks' real ones).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from abonent.cli.demo import names
from abonent.core import requisites
from abonent.core.models import LinkProof

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_ACCOUNT_WEIGHTS = ((7, 1, 3) * 8)[:23]  # the bank's 3 digits and the 20 of the account


def inn_with_check_digit(first9: str) -> str:
    """A 10-digit INN of an organisation from its first nine digits."""
    digit = sum(int(d) * w for d, w in zip(first9, _INN10_WEIGHTS, strict=True)) % 11 % 10
    return first9 + str(digit)


def ogrn_with_check_digit(first12: str) -> str:
    """A 13-digit OGRN from its first twelve digits."""
    return first12 + str(int(first12) % 11 % 10)


def _account_key(prefix3: str, account: str) -> str:
    """The account with its key (the 9th digit) set so that the weighted sum of the bank's
    three digits and the account is a multiple of 10."""
    if len(account) != 20 or not account.isdigit():
        raise ValueError(f"{account!r}: an account number is 20 digits")
    zeroed = account[:8] + "0" + account[9:]
    total = sum(int(d) * w for d, w in zip(prefix3 + zeroed, _ACCOUNT_WEIGHTS, strict=True))
    # the key stands at position 3 + 8 = 11, whose weight is 3, and 3 * 7 ≡ 1 (mod 10)
    key = (-total * 7) % 10
    return account[:8] + str(key) + account[9:]


def settlement_account_for(bic: str, *, balance: str, branch: str, number: str) -> str:
    """A расчётный счёт: balance account (5), currency 810 (3), key (1), branch (4), number (7)."""
    return _account_key(bic[-3:], f"{balance}810" + "0" + branch + number)


def correspondent_account_for(bic: str) -> str:
    """The bank's корреспондентский счёт in the Bank of Russia: 30101 810 key 0000000 + BIC[-3:]."""
    return _account_key("0" + bic[4:6], "30101810" + "0" + "00000000" + bic[-3:])


@dataclass(frozen=True)
class DemoSupplier:
    """A demo supplier: the fields ``supplier_create`` takes, the terms, and what its accounts
    look like (where they are, who services the gas equipment)."""

    fields: dict[str, Any]
    terms: dict[str, Any]
    number_prefix: str  # first two digits of its personal account numbers
    contract_prefix: str
    regions: tuple[names.Region, ...]
    vdgo_contractors: tuple[str, ...]
    heating_m3_per_m2: int  # gas to heat one m² in the coldest month, in tenths of m³ (55 = 5.5 m³)
    flats_with_boiler: float = 0.05  # flats heated by their own boiler (поквартирное отопление)
    share: int = field(default=60)  # percent of the accounts

    @property
    def code(self) -> str:
        return str(self.fields["code"])


def _moscow() -> DemoSupplier:
    bic = "044525225"
    fields = {
        "code": "stolgaz",
        "short_name": "Столичная газовая компания",
        "legal_name": "Акционерное общество «Столичная газовая компания»",
        "inn": inn_with_check_digit("773654231"),
        "kpp": "773601001",
        "ogrn": ogrn_with_check_digit("102773941230"),
        "legal_address": "117312, г. Москва, ул. Вавилова, д. 9А, стр. 6",
        "postal_address": "117312, г. Москва, ул. Вавилова, д. 9А, стр. 6, абонентский отдел",
        "hotline_phone": "8 800 555-26-01",
        "phones": "+7 (495) 555-26-02 — абонентский отдел; 104 — аварийная газовая служба",
        "email": "info@stolgaz.example",
        "feedback_url": "https://stolgaz.example/obratnaya-svyaz",
        "site": "https://stolgaz.example",
        "office_hours": "пн–чт 8:30–17:30, пт 8:30–16:15, обед 12:30–13:15",
        "time_zone": "Europe/Moscow",
        "bank_name": "ПАО Сбербанк",
        "bic": bic,
        "settlement_account": settlement_account_for(bic, balance="40702", branch="3800", number="0014527"),
        "correspondent_account": correspondent_account_for(bic),
    }
    terms = {
        "reading_window_start_day": 15,
        "reading_window_end_day": 25,
        "link_proofs": [LinkProof.PIN.value],
    }
    return DemoSupplier(
        fields=fields,
        terms=terms,
        number_prefix="77",
        contract_prefix="СГК",
        regions=names.MOSCOW_REGIONS,
        vdgo_contractors=("АО «Подмосковьегазсервис»", "ООО «ГазТехКонтроль»"),
        heating_m3_per_m2=55,
        share=60,
    )


def _kaliningrad() -> DemoSupplier:
    bic = "042748634"
    fields = {
        "code": "yantargaz",
        "short_name": "Янтарьгазсбыт",
        "legal_name": "Общество с ограниченной ответственностью «Янтарьгазсбыт»",
        "inn": inn_with_check_digit("390612870"),
        "kpp": "390601001",
        "ogrn": ogrn_with_check_digit("105390600718"),
        "legal_address": "236022, Калининградская обл., г. Калининград, Советский пр-т, д. 21А",
        "postal_address": "236022, г. Калининград, а/я 118",
        "hotline_phone": "8 800 555-39-04",
        "phones": "+7 (4012) 55-39-05 — абонентская служба; 104 — аварийная газовая служба",
        "email": "abonent@yantargaz.example",
        "feedback_url": "https://yantargaz.example/feedback",
        "site": "https://yantargaz.example",
        "office_hours": "пн–пт 9:00–18:00, сб 9:00–14:00",
        "time_zone": "Europe/Kaliningrad",
        "bank_name": "Калининградское отделение № 8626 ПАО Сбербанк",
        "bic": bic,
        "settlement_account": settlement_account_for(bic, balance="40702", branch="2002", number="0003318"),
        "correspondent_account": correspondent_account_for(bic),
    }
    terms = {
        "reading_window_start_day": 20,
        "reading_window_end_day": 25,
        "link_proofs": [LinkProof.PIN.value, LinkProof.LAST_CHARGE.value],
        # bills on paper only: the portal explains that this supplier does not send them by e-mail
        "paperless_allowed": False,
    }
    return DemoSupplier(
        fields=fields,
        terms=terms,
        number_prefix="39",
        contract_prefix="ЯГС",
        regions=names.KALININGRAD_REGIONS,
        vdgo_contractors=("АО «Янтарьгазсервис»", "ООО «Балтгазтехобслуживание»"),
        heating_m3_per_m2=45,
        flats_with_boiler=0.25,
        share=40,
    )


DEMO_SUPPLIERS: tuple[DemoSupplier, ...] = (_moscow(), _kaliningrad())


def _check(demo: DemoSupplier) -> None:
    f = demo.fields
    for error in (
        requisites.check_inn(f["inn"]),
        requisites.check_kpp(f["kpp"]),
        requisites.check_ogrn(f["ogrn"]),
        requisites.check_bic(f["bic"]),
        requisites.check_settlement_account(f["settlement_account"], f["bic"]),
        requisites.check_correspondent_account(f["correspondent_account"], f["bic"]),
    ):
        if error is not None:  # a mistake in this module, not in anyone's input
            raise AssertionError(f"{demo.code}: {error}")


for _demo in DEMO_SUPPLIERS:
    _check(_demo)


def accounts_split(total: int) -> list[int]:
    """How many of ``total`` accounts each demo supplier gets (60/40; the first takes the rest)."""
    counts = [total * demo.share // 100 for demo in DEMO_SUPPLIERS]
    counts[0] += total - sum(counts)
    return counts
