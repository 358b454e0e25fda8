"""Bills (ЕПД) on the portal: each month of the charges page with «Квитанция (PDF)» and
«Отправить на e‑mail»; the PDF drawn once and served from storage until what it says
changes; the bill sent to the confirmed e-mail; other people's accounts, months that are
not months or have no bill, a profile without a confirmed e-mail, a form without its CSRF
token — each refused with nothing drawn or sent.

NOW is 22.11.2026; June–October 2026 are billed (tests/web/money_data.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.test import Client
from pytest_django.asserts import assertRedirects

from abonent.core.models import AuditRecord, Supplier
from abonent.core.periods import Period
from abonent.documents.models import Bill
from abonent.identity.models import User
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.services import NewEntry, entries_post
from abonent.notifications.models import Delivery
from tests.web.identity import EMAIL, NOW, PHONE, Browser, Clock, user_make
from tests.web.money_data import Billed, billed_accounts_make
from tests.web.test_money import link_make, log_in, text

pytestmark = pytest.mark.django_db

OCTOBER = "2026-10"
FILENAME = "kvitanciya-770000000001-2026-10.pdf"
NOT_A_MONTH = "Месяц в адресе квитанции записывается как ГГГГ-ММ, например 2026-10."


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    """Bills are stored in a directory of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def maria_mail(db: None) -> User:
    """Мария with a confirmed e-mail as well as her phone."""
    return user_make(phone=PHONE, email=EMAIL)


@pytest.fixture
def billed(supplier: Supplier, maria_mail: User) -> Billed:
    billed = billed_accounts_make(supplier)
    link_make(maria_mail, billed.metered)
    link_make(maria_mail, billed.by_norm)
    return billed


@pytest.fixture
def me(browser: Browser, maria_mail: User) -> Browser:
    return log_in(browser)


def pdf_url(billed: Billed, period: str = OCTOBER) -> str:
    return f"/accounts/{billed.metered.pk}/bills/{period}.pdf"


def email_url(billed: Billed, period: str = OCTOBER) -> str:
    return f"/accounts/{billed.metered.pk}/bills/{period}/email/"


def charges_url(billed: Billed) -> str:
    return f"/accounts/{billed.metered.pk}/charges/"


def flashes(response: HttpResponse) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]


def pay_october(billed: Billed, amount: str) -> None:
    """A payment that names October, posted to the ledger on 20.11.2026."""
    entries_post(
        entries=[
            NewEntry(
                account_id=billed.metered.pk,
                service=Service.GAS,
                kind=EntryKind.PAYMENT,
                period=Period(2026, 10),
                billed_in=Period(2026, 10),
                amount=-Decimal(amount),
                posted_on=dt.date(2026, 11, 20),
                source_key=f"test-payment:{billed.metered.pk}:2026-10:{amount}",
            )
        ],
        now=dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC),
    )


def nothing_sent() -> None:
    assert Delivery.objects.count() == 0
    assert mail.outbox == []


# --- The charges page ---------------------------------------------------------------------


def test_each_month_offers_its_pdf_and_sending_it_to_the_confirmed_email(me: Browser, billed: Billed) -> None:
    response = me.get(charges_url(billed))

    html = response.content.decode()
    account = billed.metered.pk
    for period in ("2026-10", "2026-09", "2026-08", "2026-07", "2026-06"):
        assert f'href="/accounts/{account}/bills/{period}.pdf" type="application/pdf"' in html
        form = re.search(rf'<form[^>]*action="/accounts/{account}/bills/{period}/email/".*?</form>', html, re.S)
        assert form is not None
        assert 'method="post"' in form.group(0)
        assert 'name="csrfmiddlewaretoken"' in form.group(0)
        assert "disabled" not in form.group(0)
    shown = text(response)
    assert "Квитанцию за месяц можно скачать в PDF или получить на e\u2011mail ma***@example.org." in shown
    assert "Квитанция (PDF) — октябрь 2026" in shown
    assert "Отправить на e\u2011mail — квитанцию за октябрь 2026" in shown
    assert Bill.objects.count() == 0  # the page draws no bill: only a download does


@pytest.mark.parametrize("confirmed", [False, None], ids=["email-not-confirmed", "no-email"])
def test_without_a_confirmed_email_the_button_is_off_and_the_page_says_where_to_confirm_it(
    browser: Browser, supplier: Supplier, confirmed: bool | None
) -> None:
    user = user_make(phone=PHONE, email=EMAIL if confirmed is not None else None)
    User.objects.filter(pk=user.pk).update(email_confirmed_at=None)
    billed = billed_accounts_make(supplier)
    link_make(user, billed.metered)
    log_in(browser)

    response = browser.get(charges_url(billed))

    html = response.content.decode()
    assert html.count('disabled aria-describedby="bill-email-hint"') == 5
    assert 'id="bill-email-hint"' in html
    assert 'href="/profile/email/"' in html
    assert (
        "Квитанцию за месяц можно скачать в PDF. Чтобы получать её на e\u2011mail, укажите и подтвердите "
        "адрес в профиле ." in text(response)
    )
    assert f'href="/accounts/{billed.metered.pk}/bills/2026-10.pdf"' in html  # the download still works


# --- Downloading ----------------------------------------------------------------------------


def test_the_pdf_is_downloaded_as_a_private_file_and_stored(me: Browser, billed: Billed, media: Path) -> None:
    response = me.get(pdf_url(billed))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{FILENAME}"'
    assert response["Cache-Control"] == "private, no-store"
    pdf = response.content
    assert pdf.startswith(b"%PDF-")
    assert response["Content-Length"] == str(len(pdf))
    bill = Bill.objects.get()
    assert (bill.account_id, bill.period, bill.amount_due, bill.due_on) == (
        billed.metered.pk,
        Period(2026, 10),
        Decimal("429.96"),
        dt.date(2026, 11, 15),
    )
    assert (bill.sha256, bill.size, bill.rendered_at) == (hashlib.sha256(pdf).hexdigest(), len(pdf), NOW)
    assert (media / bill.file).read_bytes() == pdf


def test_a_second_download_serves_the_stored_file(me: Browser, billed: Billed, clock: Clock) -> None:
    first = me.get(pdf_url(billed))
    stored = Bill.objects.get()
    clock.advance(minutes=5)

    second = me.get(pdf_url(billed))

    assert second.status_code == 200
    assert second.content == first.content
    again = Bill.objects.get()
    assert (again.sha256, again.file, again.rendered_at) == (stored.sha256, stored.file, stored.rendered_at)


def test_a_payment_to_the_month_draws_the_bill_again_and_the_old_file_goes(
    me: Browser, billed: Billed, clock: Clock, media: Path
) -> None:
    first = me.get(pdf_url(billed))
    old = Bill.objects.get()
    clock.advance(minutes=5)
    pay_october(billed, "100.00")

    second = me.get(pdf_url(billed))

    assert second.status_code == 200
    assert second.content.startswith(b"%PDF-")
    new = Bill.objects.get()
    assert new.sha256 == hashlib.sha256(second.content).hexdigest() != old.sha256
    assert second.content != first.content
    assert (new.amount_due, new.rendered_at) == (Decimal("329.96"), clock.at)
    assert new.file != old.file
    assert not default_storage.exists(old.file)
    assert (media / new.file).read_bytes() == second.content


@pytest.mark.parametrize("period", ["2026-13", "2026-00", "abc", "2026-1", "10.2026", "202610", "2026-10-01"])
def test_a_month_that_is_not_one_is_not_found_with_what_to_write(me: Browser, billed: Billed, period: str) -> None:
    response = me.get(pdf_url(billed, period))

    assert response.status_code == 404
    assert "Квитанция не найдена" in text(response)
    assert NOT_A_MONTH in text(response)
    assert f'href="{charges_url(billed)}"' in response.content.decode()
    assert Bill.objects.count() == 0


@pytest.mark.parametrize(("period", "label"), [("2026-11", "ноябрь 2026"), ("2024-01", "январь 2024")])
def test_a_month_without_charges_has_no_bill(me: Browser, billed: Billed, period: str, label: str) -> None:
    response = me.get(pdf_url(billed, period))

    assert response.status_code == 404
    assert f"Квитанции за {label} нет: в этом периоде по счёту не было начислений" in text(response)
    assert Bill.objects.count() == 0


def test_another_persons_account_is_not_found_and_nothing_is_drawn(
    other_browser: Browser, billed: Billed, supplier: Supplier
) -> None:
    user_make(phone="+79160000002", email="petr@example.org")
    stranger = log_in(other_browser, "+79160000002")

    response = stranger.get(pdf_url(billed))

    assert response.status_code == 404
    assert b"%PDF" not in response.content
    assert "Страница не найдена" in text(response)
    assert Bill.objects.count() == 0


def test_an_account_that_does_not_exist_is_not_found_either(me: Browser, billed: Billed) -> None:
    assert me.get(f"/accounts/999999/bills/{OCTOBER}.pdf").status_code == 404
    assert Bill.objects.count() == 0


@pytest.mark.parametrize("url", [pdf_url, email_url])
def test_a_guest_is_sent_to_log_in(browser: Browser, billed: Billed, url: Any) -> None:
    path = url(billed)
    response = browser.get(path) if path.endswith(".pdf") else browser.post(path)

    assertRedirects(response, f"/login/?next={path}", fetch_redirect_response=False)
    assert Bill.objects.count() == 0
    nothing_sent()


# --- Sending to e-mail --------------------------------------------------------------------


def test_the_bill_goes_to_the_confirmed_email_and_the_page_says_where(
    me: Browser, billed: Billed, maria_mail: User
) -> None:
    response = me.post(email_url(billed))

    assertRedirects(response, charges_url(billed), fetch_redirect_response=False)
    assert flashes(response) == [("success", "Квитанция за октябрь 2026 отправлена на ma***@example.org.")]
    bill = Bill.objects.get()
    [message] = mail.outbox
    assert message.to == [EMAIL]
    assert message.subject == "Квитанция за газ за октябрь 2026, лицевой счёт 770000000001"
    [(name, content, mimetype)] = message.attachments
    assert (name, mimetype) == (FILENAME, "application/pdf")
    assert hashlib.sha256(content).hexdigest() == bill.sha256
    delivery = Delivery.objects.get()
    assert (delivery.kind, delivery.recipient, delivery.status, delivery.attachment, delivery.attachment_name) == (
        "bill",
        EMAIL,
        "sent",
        bill.file,
        FILENAME,
    )
    audit = AuditRecord.objects.get(action="bill_email")
    assert (audit.actor_id, audit.channel, audit.after) == (maria_mail.pk, "web", {"period": OCTOBER, "to": EMAIL})
    # and the page the browser lands on shows it
    page = me.get(charges_url(billed))
    assert "Квитанция за октябрь 2026 отправлена на ma***@example.org." in text(page)


@pytest.mark.parametrize("confirmed", [False, None], ids=["email-not-confirmed", "no-email"])
def test_without_a_confirmed_email_nothing_is_sent_and_the_page_says_what_to_do(
    browser: Browser, supplier: Supplier, confirmed: bool | None
) -> None:
    user = user_make(phone=PHONE, email=EMAIL if confirmed is not None else None)
    User.objects.filter(pk=user.pk).update(email_confirmed_at=None)
    billed = billed_accounts_make(supplier)
    link_make(user, billed.metered)
    log_in(browser)

    response = browser.post(email_url(billed))

    assertRedirects(response, charges_url(billed), fetch_redirect_response=False)
    assert flashes(response) == [("error", "Укажите и подтвердите e-mail в профиле — квитанция придёт на него")]
    nothing_sent()
    assert Bill.objects.count() == 0
    assert not AuditRecord.objects.filter(action="bill_email").exists()


def test_a_month_without_a_bill_is_not_sent(me: Browser, billed: Billed) -> None:
    response = me.post(email_url(billed, "2026-11"))

    assertRedirects(response, charges_url(billed), fetch_redirect_response=False)
    assert flashes(response) == [("error", "Квитанции за ноябрь 2026 нет: в этом периоде по счёту не было начислений")]
    nothing_sent()
    assert Bill.objects.count() == 0


@pytest.mark.parametrize("period", ["2026-13", "abc", "2026-1"])
def test_a_month_that_is_not_one_is_not_sent(me: Browser, billed: Billed, period: str) -> None:
    response = me.post(email_url(billed, period))

    assert response.status_code == 404
    assert NOT_A_MONTH in text(response)
    nothing_sent()
    assert Bill.objects.count() == 0


def test_another_persons_account_is_not_sent(other_browser: Browser, billed: Billed) -> None:
    user_make(phone="+79160000002", email="petr@example.org")
    stranger = log_in(other_browser, "+79160000002")

    response = stranger.post(email_url(billed))

    assert response.status_code == 404
    nothing_sent()
    assert Bill.objects.count() == 0


def test_a_form_without_its_csrf_token_is_refused(billed: Billed, clock: Clock) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(phone=PHONE))

    response = client.post(email_url(billed))

    assert response.status_code == 403
    assert "Форма устарела" in response.content.decode()
    nothing_sent()
    assert Bill.objects.count() == 0


def test_sending_takes_a_post_only(me: Browser, billed: Billed) -> None:
    assert me.get(email_url(billed)).status_code == 405
    nothing_sent()
