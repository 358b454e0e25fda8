"""Bills as PDFs, read back the way people and bank apps read them: the page rasterised at
150 dpi and its QR code scanned, the text extracted, the pages counted."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pikepdf

from abonent.customers.models import PersonalAccount
from abonent.documents.content import BillContent
from abonent.documents.qr import qr_payload_parse
from abonent.documents.render import bill_pdf, bills_pdf
from abonent.documents.services import bill_content
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.services import NewEntry, entries_post
from tests.conftest import need_binary
from tests.documents.conftest import OCTOBER, SEPTEMBER, UTC, Billed, pay

A4 = (Decimal("595.276"), Decimal("841.89"))  # points


def run(tool: str, *args: str) -> bytes:
    result = subprocess.run([need_binary(tool), *args], capture_output=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout


def scan(pdf: bytes, tmp_path: Path, *, dpi: int = 150) -> str:
    """Page 1 rasterised at ``dpi`` and its QR code read: the text the bank app gets."""
    source = tmp_path / "bill.pdf"
    source.write_bytes(pdf)
    run("pdftoppm", "-r", str(dpi), "-f", "1", "-l", "1", "-png", "-singlefile", str(source), str(tmp_path / "page"))
    codes = run("zbarimg", "-q", "--raw", str(tmp_path / "page.png")).decode("utf-8").removesuffix("\n")
    assert "\n" not in codes  # exactly one code on the page
    return codes


def text_of(pdf: bytes, tmp_path: Path, *, layout: bool = True) -> str:
    """The PDF's text laid out as on the page (or in the order it was written), every run of
    spaces one space."""
    source = tmp_path / "text.pdf"
    source.write_bytes(pdf)
    text = run("pdftotext", *(["-layout"] if layout else []), str(source), "-").decode("utf-8")
    return re.sub(r"[ \u00a0\u202f]+", " ", text)


def pages_of(pdf: bytes) -> list[tuple[Decimal, Decimal]]:
    """Each page's size in points."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return [
            (Decimal(str(float(page.mediabox[2]))).quantize(Decimal("0.001")),
             Decimal(str(float(page.mediabox[3]))).quantize(Decimal("0.01")))
            for page in document.pages
        ]  # fmt: skip


def title_of(pdf: bytes) -> str:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return str(document.docinfo["/Title"])


def test_the_qr_code_on_the_page_reads_back_to_the_accounts_data(billed: Billed, tmp_path: Path) -> None:
    account, supplier = billed.by_reading, billed.supplier
    content = bill_content(account=account, period=OCTOBER)

    scanned = scan(bill_pdf(content), tmp_path)

    assert scanned == content.qr_payload
    order = qr_payload_parse(scanned)
    assert order.fields == {
        "Name": supplier.legal_name,
        "PersonalAcc": supplier.settlement_account,
        "BankName": supplier.bank_name,
        "BIC": supplier.bic,
        "CorrespAcc": supplier.correspondent_account,
        "PayeeINN": supplier.inn,
        "KPP": supplier.kpp,
        "PersAcc": account.number,
        "LastName": account.holder_last_name,
        "FirstName": account.holder_first_name,
        "MiddleName": account.holder_middle_name,
        "PayerAddress": account.address,
        "PaymPeriod": "102026",
        "Sum": "72788",  # 727,88 ₽
        "Purpose": "Оплата за газ за октябрь 2026, л/с 770000000001",
        "TechCode": "02",
    }


def test_the_page_shows_the_amounts_the_account_the_period_and_the_due_date(billed: Billed, tmp_path: Path) -> None:
    content = bill_content(account=billed.by_reading, period=OCTOBER)

    pdf = bill_pdf(content)

    assert pages_of(pdf) == [A4]
    assert title_of(pdf) == "Квитанция за газ, октябрь 2026, л/с 770000000001"
    text = text_of(pdf, tmp_path)
    for line in [
        "Единый платёжный документ за газ",
        "за октябрь 2026",
        "770000000001",
        "Иванова Мария Петровна",
        "Итого к оплате: 727,88 ₽",
        "Оплатить до 15.11.2026",
        # the service, opening, volume, price, charged, benefit, recalculated, paid
        "газоснабжение 1 352,00 41,5 13,52 561,08 0,00 −185,20 1 000,00",
        "Долг на конец периода: 727,88 ₽",
        "СГМН-1 G6 № 0412345 990 1 031,5 41,5 01.06.2029",
        "октябрь 2026 газоснабжение −50,00 Возврат за перерыв в подаче газа 14.10.2026",
        "сентябрь 2026 газоснабжение −135,20 Перерасчёт за сентябрь 2026",
        "20.10.2026 оплачено 1 000,00",
        "Расчётный счёт: 40702810938000000001",
        "БИК: 044525225",
        "Срок оплаты — до 15.11.2026",
        "Дата документа: 05.11.2026",
    ]:
        assert line in text, line


def test_an_overpaid_bill_says_there_is_nothing_to_pay(billed: Billed, tmp_path: Path) -> None:
    pay(billed.by_reading, "2000.00", dt.date(2026, 10, 25))
    content = bill_content(account=billed.by_reading, period=OCTOBER)

    pdf = bill_pdf(content)

    text = text_of(pdf, tmp_path)
    assert "К оплате ничего нет" in text
    assert "Переплата 1 272,12 ₽ будет зачтена в следующих периодах." in text
    assert "Итого к оплате" not in text
    assert "Sum" not in qr_payload_parse(scan(pdf, tmp_path)).fields


def test_a_batch_is_cut_into_one_pdf_a_bill_each_with_its_own_code(billed: Billed, tmp_path: Path) -> None:
    accounts = [billed.by_reading, billed.by_norm, billed.in_debt]
    contents = [bill_content(account=account, period=OCTOBER) for account in accounts]

    pdfs = bills_pdf(contents)

    assert len(pdfs) == 3
    due = {"770000000001": "727,88", "770000000002": "304,20", "770000000003": "1 437,75"}
    for pdf, content, account in zip(pdfs, contents, accounts, strict=True):
        assert pages_of(pdf) == [A4]
        assert title_of(pdf) == f"Квитанция за газ, октябрь 2026, л/с {account.number}"
        text = text_of(pdf, tmp_path)
        assert account.number in text
        assert f"Итого к оплате: {due[account.number]} ₽" in text
        assert [n for n in due if n in text] == [account.number]  # no other bill's number
        scanned = scan(pdf, tmp_path)
        assert scanned == content.qr_payload
        assert qr_payload_parse(scanned)["PersAcc"] == account.number


def test_a_batch_of_one_and_of_none(billed: Billed, tmp_path: Path) -> None:
    content = bill_content(account=billed.by_norm, period=OCTOBER)

    (single,) = bills_pdf([content])

    assert bills_pdf([]) == []
    assert pages_of(single) == [A4]
    assert scan(single, tmp_path) == content.qr_payload


def test_the_same_content_makes_the_same_bytes(billed: Billed) -> None:
    content = bill_content(account=billed.by_norm, period=OCTOBER)

    assert bill_pdf(content) == bill_pdf(content)


def _many_recalculations(account: PersonalAccount, count: int) -> None:
    entries_post(
        entries=[
            NewEntry(account_id=account.pk, service=Service.GAS, kind=EntryKind.RECALCULATION, period=SEPTEMBER,
                     billed_in=OCTOBER, amount=Decimal("-1.00"), posted_on=dt.date(2026, 10, 31),
                     source_key=f"recalc-many:{account.pk}:{i}", note=f"Перерасчёт по обращению № {i + 1}")
            for i in range(count)
        ],
        now=dt.datetime(2026, 11, 2, 3, tzinfo=UTC),
    )  # fmt: skip


def test_a_bill_over_a_page_in_a_batch_is_typeset_on_its_own(billed: Billed, tmp_path: Path) -> None:
    _many_recalculations(billed.by_norm, 80)  # 80 lines of recalculations: more than one page
    contents = [bill_content(account=a, period=OCTOBER) for a in (billed.by_reading, billed.by_norm, billed.in_debt)]
    assert contents[1].amount_due == Decimal("224.20")  # 304,20 − 80 × 1,00

    pdfs = bills_pdf(contents)

    assert [len(pages_of(pdf)) for pdf in pdfs] == [1, 2, 1]
    for pdf, content in zip(pdfs, contents, strict=True):
        assert scan(pdf, tmp_path) == content.qr_payload
    text = text_of(pdfs[1], tmp_path)
    assert "Перерасчёт по обращению № 1\n" in text
    assert "Перерасчёт по обращению № 80" in text
    assert "Итого к оплате: 224,20 ₽" in text


def test_very_long_names_and_addresses_still_render(long_named: PersonalAccount, tmp_path: Path) -> None:
    account = long_named
    assert [len(account.holder_last_name), len(account.locality), len(account.street)] == [100, 150, 150]
    content: BillContent = bill_content(account=account, period=OCTOBER)

    pdf = bill_pdf(content)

    assert len(pages_of(pdf)) >= 1
    assert set(pages_of(pdf)) == {A4}
    text = text_of(pdf, tmp_path)
    assert "770000000077" in text
    assert "Итого к оплате: 608,40 ₽" in text
    assert "Салтыкова-" in text
    assert "Героев Советского Союза" in text
    scanned = scan(pdf, tmp_path)
    assert scanned == content.qr_payload
    order = qr_payload_parse(scanned)
    assert order["LastName"] == account.holder_last_name
    assert order["PayerAddress"] == account.address[:159] + "…"
    assert order["Sum"] == "60840"


def test_markup_in_a_value_is_printed_as_it_is(billed: Billed, tmp_path: Path) -> None:
    account = billed.by_norm
    account.holder_last_name = "#set text(size: 40pt) Иванова"
    account.street = 'ул. *Садовая* _1_ #pagebreak() $x^2$ <a> @a \\ `код` "б" // в /* г */ ~ | #'
    account.save(update_fields=["holder_last_name", "street"])
    content = bill_content(account=account, period=OCTOBER)

    pdf = bill_pdf(content)

    assert pages_of(pdf) == [A4]
    text = text_of(pdf, tmp_path)
    assert "#set text(size: 40pt) Иванова Мария Петровна" in text
    written = " ".join(text_of(pdf, tmp_path, layout=False).split())  # the payer's column as written
    assert account.address in written
    order = qr_payload_parse(scan(pdf, tmp_path))
    assert order.separator == ";"  # «|» and «#» are in the address
    assert order["LastName"] == "#set text(size: 40pt) Иванова"
    assert order["PayerAddress"] == account.address
