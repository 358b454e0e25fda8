"""What a bill says: every field of October 2026's bills against the ledger the runs left
(see conftest: by hand, cooking gas at 13,52 ₽/m³), the payment QR code's fields, and the
bad cases: no charges in the period, an overpayment, a separator inside a value, very long
names and addresses, and the fingerprint that changes exactly when the bill does."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pikepdf
import pytest

from abonent.core.periods import Period
from abonent.core.services import supplier_create
from abonent.customers.models import PersonalAccount
from abonent.documents.content import BillBook
from abonent.documents.qr import FREE_TEXT_MAX, qr_payload_parse
from abonent.documents.render import bill_pdf
from abonent.documents.services import BillNotAvailable, bill_content
from abonent.ledger.selectors import balances_get
from tests.conftest import SUPPLIER_MOSCOW
from tests.documents.conftest import CORRECTION_REASON, NOVEMBER, OCTOBER, SEPTEMBER, Billed, pay

D = Decimal
PAYEE_QR = {
    "Name": 'ООО "Газпром межрегионгаз Москва"',
    "PersonalAcc": "40702810938000000001",
    "BankName": "ПАО Сбербанк",
    "BIC": "044525225",
    "CorrespAcc": "30101810400000000225",
    "PayeeINN": "7707083893",
    "KPP": "773601001",
}
ADDRESS = "142100, Московская область, г. Подольск, ул. Садовая, д. 12, кв. 34"
TARIFFS = [
    {"name": "пищеприготовление и подогрев воды газовой плитой", "price": "13,52", "since": "01.01.2020",
     "basis": "", "own": True},
    {"name": "пищеприготовление и подогрев воды плитой и водонагревателем", "price": "12,42",
     "since": "01.01.2020", "basis": "", "own": False},
    {"name": "отопление, в том числе с другими направлениями", "price": "9,624", "since": "01.01.2020",
     "basis": "", "own": False},
]  # fmt: skip
COOKING_NORM = [
    {
        "name": "пищеприготовление и подогрев воды газовой плитой без горячего водоснабжения",
        "value": "15",
        "unit": "м³ на человека в месяц",
    }
]


def test_a_billed_account_field_by_field(billed: Billed) -> None:
    """September: 1000 − 900 = 100 m³ × 13,52 = 1 352,00, unpaid. The September reading was
    corrected to 990 after September's run: 90 m³ = 1 216,80, so −135,20 on October's bill.
    October: 1 031,5 − 990 = 41,5 m³ × 13,52 = 561,08; an operator's −50,00; paid 1 000,00.
    Due: 1 352,00 + 561,08 − 135,20 − 50,00 − 1 000,00 = 727,88 by 15.11.2026."""
    account = billed.by_reading

    content = bill_content(account=account, period=OCTOBER)

    data = content.data
    assert (content.account_id, content.period, content.amount_due) == (account.pk, OCTOBER, D("727.88"))
    assert content.due_on == dt.date(2026, 11, 15)  # the 15th of the month after, from 01.03.2026
    assert balances_get(account=account)["gas"] == D("727.88")  # the ledger agrees
    assert (data["period"], data["period_code"], data["issued"], data["due"], data["window"]) == (
        "октябрь 2026", "2026-10", "05.11.2026", "15.11.2026", "с 15 по 25 число"
    )  # fmt: skip
    assert data["payer"] == {
        "name": "Иванова Мария Петровна",
        "address": ADDRESS,
        "number": "770000000001",
        "residents": "3",
        "area": "",
        "direction": "пищеприготовление и подогрев воды газовой плитой",
    }
    assert data["services"] == [
        {
            "code": "gas",
            "name": "газоснабжение",
            "opening": "1\u202f352,00",
            "charged": "561,08",
            "benefit": "0,00",
            "recalculated": "\u2212185,20",
            "paid": "1\u202f000,00",
            "closing": "727,88",
            "volume": "41,5",
            "price": "13,52",
            "method": "по показаниям прибора учёта",
        }
    ]
    assert data["totals"] == {
        "opening": "1\u202f352,00",
        "charged": "561,08",
        "benefit": "0,00",
        "recalculated": "\u2212185,20",
        "paid": "1\u202f000,00",
        "closing": "727,88",
    }
    assert (data["due_amount"], data["overpaid"], data["norm_volume"]) == ("727,88", "", "")
    assert data["notes"] == [
        {"period": "октябрь 2026", "service": "газоснабжение", "kind": "корректировка", "amount": "\u221250,00",
         "reason": CORRECTION_REASON},
        {"period": "сентябрь 2026", "service": "газоснабжение", "kind": "перерасчёт", "amount": "\u2212135,20",
         "reason": "Перерасчёт за сентябрь 2026"},
    ]  # fmt: skip
    assert data["payments"] == [{"date": "20.10.2026", "kind": "оплачено", "amount": "1\u202f000,00"}]
    assert data["meters"] == [
        {
            "name": "СГМН-1 G6 № 0412345",
            "previous": "990",
            "current": "1\u202f031,5",
            "volume": "41,5",
            "method": "по показаниям прибора учёта",
            "verification": "01.06.2029",
            "expired": False,
        }
    ]
    assert data["tariffs"] == TARIFFS
    assert data["norms"] == COOKING_NORM
    assert data["benefits"] == []
    assert data["payee"] == {
        "name": 'ООО "Газпром межрегионгаз Москва"',
        "short_name": "Газпром межрегионгаз Москва",
        "inn": "7707083893",
        "kpp": "773601001",
        "ogrn": "1027700132195",
        "address": "117393, г. Москва, ул. Профсоюзная, д. 3",
        "legal_address": "117393, г. Москва, ул. Профсоюзная, д. 3",
        "hotline": "8 800 100-00-01",
        "phones": "",
        "email": "info@gaz-msk.example",
        "site": "https://gaz-msk.example",
        "hours": "пн–пт 8:00–20:00",
        "bank": "ПАО Сбербанк",
        "bic": "044525225",
        "account": "40702810938000000001",
        "corr": "30101810400000000225",
    }


def test_the_qr_code_of_a_billed_account(billed: Billed) -> None:
    content = bill_content(account=billed.by_reading, period=OCTOBER)

    order = qr_payload_parse(content.qr_payload)

    assert order.fields == {
        **PAYEE_QR,
        "PersAcc": "770000000001",
        "LastName": "Иванова",
        "FirstName": "Мария",
        "MiddleName": "Петровна",
        "PayerAddress": ADDRESS,
        "PaymPeriod": "102026",
        "Sum": "72788",
        "Purpose": "Оплата за газ за октябрь 2026, л/с 770000000001",
        "TechCode": "02",
    }
    assert content.qr_payload == (
        'ST00012|Name=ООО "Газпром межрегионгаз Москва"|PersonalAcc=40702810938000000001|BankName=ПАО Сбербанк'
        "|BIC=044525225|CorrespAcc=30101810400000000225|PayeeINN=7707083893|KPP=773601001|PersAcc=770000000001"
        f"|LastName=Иванова|FirstName=Мария|MiddleName=Петровна|PayerAddress={ADDRESS}|PaymPeriod=102026"
        "|Sum=72788|Purpose=Оплата за газ за октябрь 2026, л/с 770000000001|TechCode=02"
    )


def test_a_benefit_and_a_payment_of_the_previous_bill(billed: Billed) -> None:
    """3 residents × 15 m³ = 45 m³ × 13,52 = 608,40, half of it the veteran's discount: 304,20
    a month; September's 304,20 paid on 12.10."""
    content = bill_content(account=billed.by_norm, period=OCTOBER)

    data = content.data
    assert content.amount_due == D("304.20")
    assert data["services"] == [
        {"code": "gas", "name": "газоснабжение", "opening": "304,20", "charged": "608,40", "benefit": "304,20",
         "recalculated": "0,00", "paid": "304,20", "closing": "304,20", "volume": "45", "price": "13,52",
         "method": "по нормативу: нет прибора учёта"},
    ]  # fmt: skip
    assert data["totals"] == {"opening": "304,20", "charged": "608,40", "benefit": "304,20",
                              "recalculated": "0,00", "paid": "304,20", "closing": "304,20"}  # fmt: skip
    assert (data["due_amount"], data["overpaid"], data["norm_volume"]) == ("304,20", "", "45")
    assert data["payments"] == [{"date": "12.10.2026", "kind": "оплачено", "amount": "304,20"}]
    assert (data["notes"], data["meters"]) == ([], [])
    assert data["benefits"] == [
        {"name": "ветеран труда", "share": "50", "mode": "скидка в квитанции", "persons": "все"}
    ]
    assert data["norms"] == COOKING_NORM
    order = qr_payload_parse(content.qr_payload)
    assert (order["PersAcc"], order["Sum"], order["PaymPeriod"]) == ("770000000002", "30420", "102026")


def test_a_debt_with_a_penalty_is_its_own_line(billed: Billed) -> None:
    """1 000,00 of June due 15.07.2026, unpaid; 1 resident × 15 m³ × 13,52 = 202,80 a month.
    Penalty at 9,5 %: September, days 31–77: 47 × 1 000 × 0,095 / 300 = 14,88; October, days
    78–90 at 1/300 and 91–108 at 1/130: 32,15 in all, 17,27 more."""
    content = bill_content(account=billed.in_debt, period=OCTOBER)

    data = content.data
    assert content.amount_due == D("1437.75")
    assert [(s["code"], s["opening"], s["charged"], s["closing"]) for s in data["services"]] == [
        ("gas", "1\u202f202,80", "202,80", "1\u202f405,60"),
        ("penalty", "14,88", "17,27", "32,15"),
    ]
    assert data["services"][1] | {"code": ""} == {
        "code": "", "name": "пени", "opening": "14,88", "charged": "17,27", "benefit": "0,00", "recalculated": "0,00",
        "paid": "0,00", "closing": "32,15", "volume": "", "price": "", "method": "",
    }  # fmt: skip
    assert data["totals"]["opening"] == "1\u202f217,68"
    assert data["totals"]["charged"] == "220,07"
    assert data["totals"]["closing"] == data["due_amount"] == "1\u202f437,75"
    assert sum(balances_get(account=billed.in_debt).values(), D(0)) == D("1437.75")
    assert qr_payload_parse(content.qr_payload)["Sum"] == "143775"


def test_one_book_reads_the_bills_of_many_accounts(billed: Billed) -> None:
    accounts = [billed.by_reading, billed.by_norm, billed.in_debt, billed.quiet]

    contents = BillBook(supplier=billed.supplier, period=OCTOBER).contents(accounts)

    assert {pk: c.amount_due for pk, c in contents.items()} == {
        billed.by_reading.pk: D("727.88"),
        billed.by_norm.pk: D("304.20"),
        billed.in_debt.pk: D("1437.75"),
    }  # the quiet account has no bill
    assert contents[billed.by_norm.pk] == bill_content(account=billed.by_norm, period=OCTOBER)


def test_another_suppliers_account_is_left_out(billed: Billed) -> None:
    other = supplier_create(**{**SUPPLIER_MOSCOW, "code": "gaz-other"})

    assert BillBook(supplier=other, period=OCTOBER).contents([billed.by_norm]) == {}


def test_the_september_bill_shows_the_september_month(billed: Billed) -> None:
    content = bill_content(account=billed.by_reading, period=SEPTEMBER)

    assert (content.amount_due, content.due_on) == (D("1352.00"), dt.date(2026, 10, 15))
    assert (content.data["period"], content.data["issued"], content.data["due"]) == (
        "сентябрь 2026", "05.10.2026", "15.10.2026"
    )  # fmt: skip
    assert content.data["totals"]["opening"] == "0,00"
    assert (content.data["notes"], content.data["payments"]) == ([], [])  # later entries are not on it
    assert content.data["meters"][0]["current"] == "990"  # the corrected reading
    assert qr_payload_parse(content.qr_payload)["PaymPeriod"] == "092026"


# --- the bad cases -------------------------------------------------------------------------


def test_a_period_with_no_charges_has_no_bill(billed: Billed) -> None:
    for account, period in [(billed.quiet, OCTOBER), (billed.by_reading, NOVEMBER)]:
        with pytest.raises(BillNotAvailable) as raised:
            bill_content(account=account, period=period)
        assert raised.value.code == "bill_not_available"
    assert str(raised.value) == "Квитанции за ноябрь 2026 нет: в этом периоде по счёту не было начислений"
    assert BillBook(supplier=billed.supplier, period=NOVEMBER).contents([billed.by_reading, billed.by_norm]) == {}


def test_a_period_before_the_suppliers_terms_has_no_bill(billed: Billed) -> None:
    with pytest.raises(BillNotAvailable) as raised:
        bill_content(account=billed.by_reading, period=Period(2004, 12))

    assert str(raised.value) == "Квитанции за декабрь 2004 нет: в этом периоде по счёту не было начислений"


def test_an_overpaid_account_owes_nothing_and_its_code_asks_no_sum(billed: Billed) -> None:
    pay(billed.by_reading, "2000.00", dt.date(2026, 10, 25))  # 727,88 due before: 1 272,12 paid ahead

    content = bill_content(account=billed.by_reading, period=OCTOBER)

    assert content.amount_due == D("0.00")
    assert (content.data["due_amount"], content.data["overpaid"]) == ("0,00", "1\u202f272,12")
    assert content.data["totals"]["paid"] == "3\u202f000,00"
    assert content.data["totals"]["closing"] == "\u22121\u202f272,12"
    assert content.data["payments"] == [
        {"date": "20.10.2026", "kind": "оплачено", "amount": "1\u202f000,00"},
        {"date": "25.10.2026", "kind": "оплачено", "amount": "2\u202f000,00"},
    ]
    order = qr_payload_parse(content.qr_payload)
    assert "Sum" not in order.fields
    assert (order["PersAcc"], order["PaymPeriod"], order["TechCode"]) == ("770000000001", "102026", "02")
    assert "Sum=" not in content.qr_payload


def test_a_separator_inside_a_value_makes_another_separator(billed: Billed) -> None:
    account = billed.by_norm
    account.street = "ул. Садовая | Линия 2"
    account.save(update_fields=["street"])

    content = bill_content(account=account, period=OCTOBER)

    assert content.qr_payload.startswith('ST00012#Name=ООО "Газпром межрегионгаз Москва"#PersonalAcc=')
    order = qr_payload_parse(content.qr_payload)
    assert order.separator == "#"
    assert order["PayerAddress"] == "142100, Московская область, г. Подольск, ул. Садовая | Линия 2, д. 12, кв. 34"
    assert order.fields == {**PAYEE_QR, "PersAcc": "770000000002", "LastName": "Иванова", "FirstName": "Мария",
                            "MiddleName": "Петровна", "PayerAddress": order["PayerAddress"], "PaymPeriod": "102026",
                            "Sum": "30420", "Purpose": "Оплата за газ за октябрь 2026, л/с 770000000002",
                            "TechCode": "02"}  # fmt: skip
    assert content.data["payer"]["address"] == order["PayerAddress"]  # the bill shows it whole


def test_very_long_names_and_addresses_still_make_a_valid_code_and_a_bill(long_named: PersonalAccount) -> None:
    account = long_named
    for field in ("holder_last_name", "holder_first_name", "holder_middle_name", "region"):
        assert len(getattr(account, field)) == 100  # the model's max lengths
    assert (len(account.locality), len(account.street), len(account.house), len(account.apartment)) == (
        150, 150, 20, 10
    )  # fmt: skip

    content = bill_content(account=account, period=OCTOBER)

    order = qr_payload_parse(content.qr_payload)  # strict: every format and length
    assert (order["LastName"], order["FirstName"], order["MiddleName"]) == (
        account.holder_last_name, account.holder_first_name, account.holder_middle_name
    )  # fmt: skip
    assert len(account.address) == 453  # 6 + 100 + 150 + 150 + «д. » 20 + «кв. » 10 and the commas
    assert order["PayerAddress"] == account.address[: FREE_TEXT_MAX - 1] + "…"
    assert len(order["PayerAddress"]) == 160
    assert (order["PersAcc"], order["Sum"]) == ("770000000077", "60840")
    assert content.data["payer"]["address"] == account.address  # the bill itself shows the whole address
    assert content.data["payer"]["name"] == account.holder_name
    with pikepdf.open(io.BytesIO(bill_pdf(content))) as pdf:
        assert len(pdf.pages) >= 1


# --- the fingerprint -----------------------------------------------------------------------


def test_the_fingerprint_stays_while_nothing_changes_and_moves_with_a_payment(billed: Billed) -> None:
    first = bill_content(account=billed.by_norm, period=OCTOBER)
    again = bill_content(account=billed.by_norm, period=OCTOBER)
    assert again.fingerprint == first.fingerprint
    assert len(first.fingerprint) == 64

    pay(billed.by_norm, "100.00", dt.date(2026, 11, 3))  # on November's bill: October's is the same
    assert bill_content(account=billed.by_norm, period=OCTOBER).fingerprint == first.fingerprint

    pay(billed.by_norm, "100.00", dt.date(2026, 10, 28))  # on October's bill
    after = bill_content(account=billed.by_norm, period=OCTOBER)
    assert after.fingerprint != first.fingerprint
    assert (after.amount_due, qr_payload_parse(after.qr_payload)["Sum"]) == (D("204.20"), "20420")
    assert after.data["payments"][-1] == {"date": "28.10.2026", "kind": "оплачено", "amount": "100,00"}


def test_the_fingerprint_moves_with_the_payees_details(billed: Billed) -> None:
    before = bill_content(account=billed.by_norm, period=OCTOBER)
    billed.supplier.hotline_phone = "8 800 100-00-02"
    billed.supplier.save(update_fields=["hotline_phone"])
    account = PersonalAccount.objects.select_related("supplier").get(pk=billed.by_norm.pk)

    after = bill_content(account=account, period=OCTOBER)

    assert after.fingerprint != before.fingerprint
    assert after.qr_payload == before.qr_payload
    assert after.amount_due == before.amount_due == D("304.20")
    assert after.data["payee"]["hotline"] == "8 800 100-00-02"
