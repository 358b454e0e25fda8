"""What a bill (ЕПД) of an account for a period says, read for many accounts at once.

A bill for period P shows the month as the ledger has it for P (entries billed in P): the
debt at the start, what was charged, the benefits, recalculations (with their reason),
penalties and corrections, what was paid; the balance at the end is what is due, by the due
date of P. With it: how the gas was counted (volume, method, price, norm), the meters with
their readings and verification dates, the prices, norms and benefits in force, the payee's
bank details, and the payment QR code of ГОСТ Р 56042-2014.

``BillBook`` reads everything for a supplier's period and a set of accounts in a few
statements (the bulk run's chunk or one download take the same path) and gives each account's
``BillContent``: plain values, already written the Russian way, that the template lays out.
The bill is a legal document in Russian; its text does not follow the reader's language.
Its ``fingerprint`` changes exactly when what the bill says changes: a stored file with the
same fingerprint is current.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.utils import translation

from abonent.billing.enums import BenefitCategory, BenefitMode, Direction, NormKind, VolumeMethod
from abonent.billing.models import Benefit, Charge, MeterVolume, Norm, Tariff
from abonent.billing.selectors import account_facts
from abonent.core.models import Supplier
from abonent.core.money import format_number, format_rubles, to_kopecks
from abonent.core.periods import Period
from abonent.core.selectors import bill_delivery_date, payment_due_date, supplier_terms_on
from abonent.customers.models import PersonalAccount
from abonent.documents.qr import FIELDS, TECH_CODE_UTILITIES, qr_payload_build
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.models import LedgerEntry
from abonent.metering.models import Meter

ZERO = Decimal("0.00")
LAYOUT_VERSION = 1  # raise when the template changes what a bill looks like: every stored bill is then redrawn
QR_NAME_MAX = FIELDS["Name"][1] or 160
CREDIT_KINDS = (EntryKind.PAYMENT, EntryKind.REFUND)


def _rub(value: Decimal) -> str:
    return format_rubles(value, sign=False)


def _day(value: dt.date | None) -> str:
    return f"{value:%d.%m.%Y}" if value else ""


_LONG_WORD = re.compile(r"\S{25,}")


def _breakable(text: str) -> str:
    """``text`` with a zero-width space every 20 characters of a very long word, so the
    line can break there rather than run over the next column."""
    return _LONG_WORD.sub(lambda m: "\u200b".join(m[0][i : i + 20] for i in range(0, len(m[0]), 20)), text)


@dataclass(frozen=True)
class BillContent:
    """One bill: ``data`` for the template (JSON values), the QR payload, the money."""

    account_id: int
    period: Period
    amount_due: Decimal  # what the QR code asks; 0 when nothing is owed
    due_on: dt.date
    data: dict[str, Any]
    qr_payload: str

    @property
    def fingerprint(self) -> str:
        text = json.dumps([LAYOUT_VERSION, self.data, self.qr_payload], ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def data_json(self) -> str:
        return json.dumps(self.data, ensure_ascii=False)


@dataclass
class _Month:
    """A service's month on the account, from the ledger."""

    opening: Decimal = ZERO
    charged: Decimal = ZERO
    volume: Decimal = ZERO
    benefit: Decimal = ZERO
    recalculated: Decimal = ZERO
    corrected: Decimal = ZERO
    paid: Decimal = ZERO  # ≥ 0: payments less refunds
    entries: int = 0

    @property
    def closing(self) -> Decimal:
        return self.opening + self.charged + self.benefit + self.recalculated + self.corrected - self.paid


class BillBook:
    """The shared part of a supplier's bills for ``period`` (payee, dates, prices, norms)."""

    def __init__(self, *, supplier: Supplier, period: Period) -> None:
        self.supplier = supplier
        self.period = period
        self.due_on = payment_due_date(supplier=supplier, period=period)
        self.issued_on = bill_delivery_date(supplier=supplier, period=period)
        terms = supplier_terms_on(supplier=supplier, day=period.next().first_day)
        self.window = (terms.reading_window_start_day, terms.reading_window_end_day)
        with translation.override("ru"):
            self.payee = self._payee()
            self.tariffs = self._tariffs()
            self.norms = self._norms()
            self.method_labels = {m.value: str(m.label) for m in VolumeMethod}
            self.direction_labels = {d.value: str(d.label) for d in Direction}
            self.service_labels = {s.value: str(s.label) for s in Service}
            self.kind_labels = {k.value: str(k.label) for k in EntryKind}
            self.benefit_labels = {c.value: str(c.label) for c in BenefitCategory}
            self.benefit_modes = {m.value: str(m.label) for m in BenefitMode}

    def _payee(self) -> dict[str, str]:
        s = self.supplier
        return {
            "name": s.legal_name,
            "short_name": s.short_name,
            "inn": s.inn,
            "kpp": s.kpp,
            "ogrn": s.ogrn,
            "address": s.postal_address or s.legal_address,
            "legal_address": s.legal_address,
            "hotline": s.hotline_phone,
            "phones": s.phones,
            "email": s.email,
            "site": s.site,
            "hours": s.office_hours,
            "bank": s.bank_name,
            "bic": s.bic,
            "account": s.settlement_account,
            "corr": s.correspondent_account,
        }

    def _tariffs(self) -> list[tuple[str, dict[str, str]]]:
        """The price of each direction in force on the period's last day."""
        on = self.period.last_day
        lines: dict[str, dict[str, str]] = {}
        for tariff in Tariff.objects.filter(supplier=self.supplier, valid_from__lte=on).order_by("-valid_from"):
            if tariff.direction in lines or (tariff.valid_to is not None and tariff.valid_to < on):
                continue
            lines[tariff.direction] = {
                "name": str(tariff.get_direction_display()),
                "price": format_number(tariff.price),
                "since": _day(tariff.valid_from),
                "basis": tariff.basis,
            }
        return sorted(lines.items())

    def _norms(self) -> dict[str, dict[str, str]]:
        """The norm of each kind in force on the period's last day (heating: its month's)."""
        on = self.period.last_day
        lines: dict[str, dict[str, str]] = {}
        rows = Norm.objects.filter(supplier=self.supplier, valid_from__lte=on).order_by("kind", "-month", "-valid_from")
        for norm in rows:
            if norm.kind in lines or norm.month not in (0, on.month):
                continue
            if norm.valid_to is not None and norm.valid_to < on:
                continue
            heating = norm.kind == NormKind.HEATING
            lines[norm.kind] = {
                "name": str(norm.get_kind_display()),
                "value": format_number(norm.value),
                "unit": "м³ на 1 м² в месяц" if heating else "м³ на человека в месяц",
            }
        return lines

    # --- the accounts ------------------------------------------------------------------

    def contents(self, accounts: Iterable[PersonalAccount]) -> dict[int, BillContent]:
        """The bill of each of ``accounts`` (of this supplier) that has one for the period:
        an account with neither a charge nor an entry billed in the period has none."""
        accounts = [a for a in accounts if a.supplier_id == self.supplier.pk]
        if not accounts:
            return {}
        ids = [a.pk for a in accounts]
        p = self.period.to_int()

        months: dict[int, dict[str, _Month]] = defaultdict(dict)
        sums = (
            LedgerEntry.objects.filter(account_id__in=ids, billed_in__lte=p)
            .values_list("account_id", "service", "kind", "billed_in")
            .order_by()
        )
        for account_id, service, kind, billed_in, total, volume, count in sums.annotate(
            total=Sum("amount"), vol=Sum("volume"), n=Count("id")
        ):
            month = months[account_id].setdefault(service, _Month())
            total = Decimal(str(total)).quantize(ZERO)
            if billed_in.to_int() < p:
                month.opening += total
                continue
            month.entries += count
            if kind == EntryKind.CHARGE:
                month.charged += total
                month.volume += Decimal(str(volume or 0)).quantize(Decimal("0.001"))
            elif kind == EntryKind.BENEFIT:
                month.benefit += total
            elif kind == EntryKind.RECALCULATION:
                month.recalculated += total
            elif kind == EntryKind.CORRECTION:
                month.corrected += total
            else:
                month.paid -= total

        notes: dict[int, list[dict[str, str]]] = defaultdict(list)
        payments: dict[int, list[dict[str, str]]] = defaultdict(list)
        for account_id, service, kind, period, amount, posted_on, note in (
            LedgerEntry.objects.filter(
                account_id__in=ids,
                billed_in=p,
                kind__in=[EntryKind.RECALCULATION, EntryKind.CORRECTION, EntryKind.PAYMENT, EntryKind.REFUND],
            )
            .order_by("account_id", "posted_on", "id")
            .values_list("account_id", "service", "kind", "period", "amount", "posted_on", "note")
        ):
            if kind in CREDIT_KINDS:
                payments[account_id].append(
                    {"date": _day(posted_on), "kind": self.kind_labels[kind], "amount": _rub(-amount)}
                )
            else:
                notes[account_id].append(
                    {
                        "period": period.label(),
                        "service": self.service_labels.get(service, service),
                        "kind": self.kind_labels[kind],
                        "amount": _rub(amount),
                        "reason": note,
                    }
                )

        charges = {
            c.account_id: c for c in Charge.objects.filter(account_id__in=ids, period=p, service=Service.GAS).order_by()
        }
        meters: dict[int, list[Meter]] = defaultdict(list)
        for meter in Meter.objects.filter(account_id__in=ids, installed_on__lte=self.period.last_day).order_by(
            "account_id", "serial"
        ):
            if meter.removed_on is None or meter.removed_on >= self.period.first_day:
                meters[meter.account_id].append(meter)
        volumes = {
            mv.meter_id: mv
            for mv in MeterVolume.objects.filter(meter__account_id__in=ids, period=p)
            .select_related("reading")
            .order_by()
        }
        benefits: dict[int, list[Benefit]] = defaultdict(list)
        for benefit in Benefit.objects.filter(account_id__in=ids, valid_from__lte=self.period.last_day).exclude(
            valid_to__lt=self.period.first_day
        ):
            benefits[benefit.account_id].append(benefit)

        result = {}
        with translation.override("ru"):
            for account in accounts:
                account_months = months.get(account.pk, {})
                charge = charges.get(account.pk)
                if charge is None and not any(m.entries for m in account_months.values()):
                    continue
                result[account.pk] = self._content(
                    account,
                    account_months,
                    charge,
                    notes.get(account.pk, []),
                    payments.get(account.pk, []),
                    meters.get(account.pk, []),
                    volumes,
                    benefits.get(account.pk, []),
                )
        return result

    def _content(
        self,
        account: PersonalAccount,
        months: dict[str, _Month],
        charge: Charge | None,
        notes: list[dict[str, str]],
        payments: list[dict[str, str]],
        meters: list[Meter],
        volumes: dict[int, MeterVolume],
        benefits: list[Benefit],
    ) -> BillContent:
        services = []
        for service in Service.values:
            month = months.get(service)
            if month is None or (not month.entries and not month.opening):
                continue
            row = {
                "code": service,
                "name": self.service_labels[service],
                "opening": _rub(month.opening),
                "charged": _rub(month.charged),
                "benefit": _rub(-month.benefit),
                "recalculated": _rub(month.recalculated + month.corrected),
                "paid": _rub(month.paid),
                "closing": _rub(month.closing),
                "volume": "",
                "price": "",
                "method": "",
            }
            if service == Service.GAS and charge is not None:
                row["volume"] = format_number(charge.volume)
                row["price"] = format_number(charge.price) if charge.price is not None else ""
                row["method"] = self.method_labels.get(charge.method, "")
            services.append(row)
        totals = _Month()
        for month in months.values():
            totals.opening += month.opening
            totals.charged += month.charged
            totals.benefit += month.benefit
            totals.recalculated += month.recalculated + month.corrected
            totals.paid += month.paid
        closing = totals.closing
        due = sum((m.closing for m in months.values() if m.closing > 0), ZERO)
        overpaid = -sum((m.closing for m in months.values() if m.closing < 0), ZERO)

        facts = account_facts(account)
        details = (charge.details or {}) if charge is not None else {}
        direction = details.get("direction") or facts.direction
        used_norms = [
            self.norms[kind]
            for kind in self._norm_kinds(account)
            if kind in self.norms
        ]  # fmt: skip
        raw_by_meter = {m.get("meter"): m.get("raw") for m in details.get("meters", [])}
        meter_rows = []
        for meter in meters:
            mv = volumes.get(meter.pk)
            current = mv.reading.value if mv is not None and mv.reading is not None else None
            raw = raw_by_meter.get(meter.pk)
            # the reading the volume was counted from: this period's reading less what it counted
            previous = current - Decimal(raw) if current is not None and raw is not None else None
            meter_rows.append(
                {
                    "name": f"{meter.model} № {meter.serial}",
                    "previous": format_number(previous) if previous is not None else "",
                    "current": format_number(current) if current is not None else "не передано",
                    "volume": format_number(mv.volume) if mv is not None else "",
                    "method": self.method_labels.get(mv.method, "") if mv is not None else "",
                    "verification": _day(meter.verification_due_on),
                    "expired": meter.verification_due_on <= self.period.last_day,
                }
            )
        benefit_rows = [
            {
                "name": self.benefit_labels.get(b.category, b.category),
                "share": format_number(b.share),
                "mode": self.benefit_modes.get(b.mode, b.mode),
                "persons": str(b.persons) if b.persons else "все",
            }
            for b in benefits
        ]
        data: dict[str, Any] = {
            "period": self.period.label(),
            "period_code": str(self.period),
            "issued": _day(self.issued_on),
            "due": _day(self.due_on),
            "window": f"с {self.window[0]} по {self.window[1]} число",
            "payee": self.payee,
            "payer": {
                "name": _breakable(account.holder_name),
                "address": _breakable(account.address),
                "number": account.number,
                "residents": str(account.residents),
                "area": format_number(account.heated_area) if account.uses_heating else "",
                "direction": self.direction_labels.get(direction, ""),
            },
            "services": services,
            "totals": {
                "opening": _rub(totals.opening),
                "charged": _rub(totals.charged),
                "benefit": _rub(-totals.benefit),
                "recalculated": _rub(totals.recalculated),
                "paid": _rub(totals.paid),
                "closing": _rub(closing),
            },
            "due_amount": _rub(due),
            "overpaid": _rub(overpaid) if overpaid else "",
            "norm_volume": format_number(Decimal(details["norm_volume"])) if "norm_volume" in details else "",
            "notes": notes,
            "payments": payments,
            "meters": meter_rows,
            "tariffs": [dict(line, own=code == direction) for code, line in self.tariffs],
            "norms": used_norms,
            "benefits": benefit_rows,
        }
        payload = qr_payload_build(
            [
                ("Name", self.payee["name"] if len(self.payee["name"]) <= QR_NAME_MAX else self.payee["short_name"]),
                ("PersonalAcc", self.payee["account"]),
                ("BankName", self.payee["bank"]),
                ("BIC", self.payee["bic"]),
                ("CorrespAcc", self.payee["corr"]),
                ("PayeeINN", self.payee["inn"]),
                ("KPP", self.payee["kpp"]),
                ("PersAcc", account.number),
                ("LastName", account.holder_last_name),
                ("FirstName", account.holder_first_name),
                ("MiddleName", account.holder_middle_name),
                ("PayerAddress", account.address),
                ("PaymPeriod", f"{self.period.month:02d}{self.period.year:04d}"),
                ("Sum", str(to_kopecks(due)) if due > 0 else None),
                ("Purpose", f"Оплата за газ за {self.period.label()}, л/с {account.number}"),
                ("TechCode", TECH_CODE_UTILITIES),
            ]
        )
        return BillContent(
            account_id=account.pk, period=self.period, amount_due=due, due_on=self.due_on, data=data, qr_payload=payload
        )

    @staticmethod
    def _norm_kinds(account: PersonalAccount) -> list[str]:
        kinds: list[str] = []
        if account.uses_cooking:
            kinds.append(NormKind.COOKING_CENTRAL_HW if account.central_hot_water else NormKind.COOKING)
        if account.uses_water_heating:
            kinds.append(NormKind.WATER_HEATER)
        if account.uses_heating:
            kinds.append(NormKind.HEATING)
        return kinds
