"""Bills (ЕПД) through the API: the PDF of a month, its summary, the same PDF sent to the
profile's confirmed e-mail; the stored file served again until a payment changes the bill;
other people's accounts, months that are not months or have no bill, a profile without a
confirmed e-mail — each a problem with its code, nothing drawn or sent. The OpenAPI document
describes the PDF as binary.

June–October 2026 are billed (tests/web/money_data.py); NOW is 22.11.2026."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.test import Client

from abonent.core.models import AuditRecord, Supplier
from abonent.core.periods import Period
from abonent.customers.models import AccountLink, PersonalAccount
from abonent.documents.models import Bill
from abonent.identity.models import User
from abonent.identity.services import app_session_start
from abonent.ledger.enums import EntryKind, Service
from abonent.ledger.services import NewEntry, entries_post
from abonent.notifications.models import Delivery
from tests.api.conftest import NOW, Api, FakeClock, Subscriber, problem
from tests.web.money_data import billed_accounts_make

pytestmark = pytest.mark.django_db

FILENAME = "kvitanciya-770000000001-2026-10.pdf"
PERIOD_MESSAGE = "Период — год и месяц ГГГГ-ММ, например 2026-10"
PDF_PATH = "/api/v1/accounts/{account_id}/bills/{period}"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    """Bills are stored in a directory of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def token_for(user: User) -> str:
    return app_session_start(user=user, device_name="Pixel 8", user_agent="", ip=None, now=NOW).access_token


def link(user: User, account: PersonalAccount) -> None:
    AccountLink.objects.create(user=user, account=account, proof="pin", channel="web", linked_at=NOW)


@pytest.fixture
def metered(supplier: Supplier) -> PersonalAccount:
    return billed_accounts_make(supplier).metered


@pytest.fixture
def mail_token(mail_subscriber: Subscriber, metered: PersonalAccount) -> str:
    """Registered by e-mail ivanova@mail.ru (confirmed), the billed account linked."""
    link(mail_subscriber.user, metered)
    return token_for(mail_subscriber.user)


@pytest.fixture
def phone_token(subscriber: Subscriber, metered: PersonalAccount) -> str:
    """Registered by phone, no e-mail in the profile, the billed account linked."""
    link(subscriber.user, metered)
    return token_for(subscriber.user)


def bills(account: PersonalAccount, period: str = "2026-10", tail: str = "") -> str:
    return f"/accounts/{account.pk}/bills/{period}{tail}"


def pay_october(account: PersonalAccount, amount: str) -> None:
    entries_post(
        entries=[
            NewEntry(
                account_id=account.pk,
                service=Service.GAS,
                kind=EntryKind.PAYMENT,
                period=Period(2026, 10),
                billed_in=Period(2026, 10),
                amount=-Decimal(amount),
                posted_on=dt.date(2026, 11, 20),
                source_key=f"test-payment:{account.pk}:2026-10:{amount}",
            )
        ],
        now=dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC),
    )


def nothing_sent() -> None:
    assert not Delivery.objects.filter(kind="bill").exists()  # (registration left its code's delivery)
    assert mail.outbox == []


# --- The PDF and its summary ----------------------------------------------------------------


def test_the_pdf_of_a_month(api: Api, phone_token: str, metered: PersonalAccount, media: Path) -> None:
    response = api.get(bills(metered), token=phone_token)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{FILENAME}"'
    assert response["Cache-Control"] == "private, no-store"
    pdf = response.content
    assert pdf.startswith(b"%PDF-")
    bill = Bill.objects.get()
    assert (bill.account_id, bill.period, bill.sha256, bill.size) == (
        metered.pk,
        Period(2026, 10),
        hashlib.sha256(pdf).hexdigest(),
        len(pdf),
    )
    assert (media / bill.file).read_bytes() == pdf


def test_the_summary_of_a_month(api: Api, phone_token: str, metered: PersonalAccount) -> None:
    response = api.get(bills(metered, tail="/info"), token=phone_token)

    assert response.status_code == 200
    bill = Bill.objects.get()
    assert response.json() == {
        "period": "2026-10",
        "amount_due": "429.96",
        "due_on": "2026-11-15",
        "sha256": bill.sha256,
        "size": bill.size,
        "rendered_at": "2026-11-22T10:00:00Z",
    }


def test_the_stored_file_is_served_again_until_a_payment_changes_the_bill(
    api: Api, phone_token: str, metered: PersonalAccount, clock: FakeClock
) -> None:
    first = api.get(bills(metered), token=phone_token)
    clock.advance(minutes=5)

    second = api.get(bills(metered), token=phone_token)
    info = api.get(bills(metered, tail="/info"), token=phone_token).json()

    assert second.content == first.content
    assert info["sha256"] == hashlib.sha256(first.content).hexdigest()
    assert info["rendered_at"] == "2026-11-22T10:00:00Z"  # drawn once

    old_file = Bill.objects.get().file
    pay_october(metered, "100.00")
    third = api.get(bills(metered), token=phone_token)
    info = api.get(bills(metered, tail="/info"), token=phone_token).json()

    assert third.content.startswith(b"%PDF-")
    assert third.content != first.content
    assert (info["sha256"], info["amount_due"], info["rendered_at"]) == (
        hashlib.sha256(third.content).hexdigest(),
        "329.96",
        "2026-11-22T10:05:00Z",
    )
    assert info["sha256"] != hashlib.sha256(first.content).hexdigest()
    assert Bill.objects.count() == 1
    assert not default_storage.exists(old_file)


# --- Sending to e-mail --------------------------------------------------------------------


def test_the_bill_is_sent_to_the_confirmed_email(
    api: Api, mail_token: str, mail_subscriber: Subscriber, metered: PersonalAccount
) -> None:
    response = api.post(bills(metered, tail="/email"), token=mail_token)

    assert response.status_code == 202
    assert response.json() == {"sent_to": "iv***@mail.ru"}
    bill = Bill.objects.get()
    [message] = mail.outbox
    assert (message.to, message.subject) == (
        ["ivanova@mail.ru"],
        "Квитанция за газ за октябрь 2026, лицевой счёт 770000000001",
    )
    [(name, content, mimetype)] = message.attachments
    assert (name, mimetype, hashlib.sha256(content).hexdigest()) == (FILENAME, "application/pdf", bill.sha256)
    delivery = Delivery.objects.get(kind="bill")
    assert (delivery.kind, delivery.status, delivery.attachment, delivery.attachment_name) == (
        "bill",
        "sent",
        bill.file,
        FILENAME,
    )
    audit = AuditRecord.objects.get(action="bill_email")
    assert (audit.actor_id, audit.channel, audit.after) == (
        mail_subscriber.user.pk,
        "app",
        {"period": "2026-10", "to": "ivanova@mail.ru"},
    )


@pytest.mark.parametrize("email", [None, "petrova@example.org"], ids=["no-email", "email-not-confirmed"])
def test_without_a_confirmed_email_nothing_is_sent(
    api: Api, phone_token: str, subscriber: Subscriber, metered: PersonalAccount, email: str | None
) -> None:
    User.objects.filter(pk=subscriber.user.pk).update(email=email, email_confirmed_at=None)

    response = api.post(bills(metered, tail="/email"), token=phone_token)

    assert response.status_code == 422
    body = problem(response)
    assert (body["code"], body["detail"], body["errors"]) == (
        "no_email",
        "Нет подтверждённого e-mail",
        [{"field": "email", "message": "Укажите и подтвердите e-mail в профиле — квитанция придёт на него"}],
    )
    nothing_sent()
    assert Bill.objects.count() == 0
    assert not AuditRecord.objects.filter(action="bill_email").exists()


# --- Bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "tail"), [("GET", ""), ("GET", "/info"), ("POST", "/email")])
@pytest.mark.parametrize("period", ["2026-13", "2026-00", "abc", "2026-1", "10.2026", "202610"])
def test_a_month_that_is_not_one_is_refused_with_what_to_write(
    api: Api, mail_token: str, metered: PersonalAccount, method: str, tail: str, period: str
) -> None:
    response = api.call(method, bills(metered, period, tail), token=mail_token)

    assert response.status_code == 422
    body = problem(response)
    assert (body["code"], body["errors"]) == ("validation_failed", [{"field": "period", "message": PERIOD_MESSAGE}])
    nothing_sent()
    assert Bill.objects.count() == 0


@pytest.mark.parametrize(("method", "tail"), [("GET", ""), ("GET", "/info"), ("POST", "/email")])
@pytest.mark.parametrize(("period", "label"), [("2026-11", "ноябрь 2026"), ("2024-01", "январь 2024")])
def test_a_month_without_charges_has_no_bill(
    api: Api, mail_token: str, metered: PersonalAccount, method: str, tail: str, period: str, label: str
) -> None:
    response = api.call(method, bills(metered, period, tail), token=mail_token)

    assert response.status_code == 404
    body = problem(response)
    assert (body["code"], body["detail"]) == (
        "bill_not_available",
        f"Квитанции за {label} нет: в этом периоде по счёту не было начислений",
    )
    nothing_sent()
    assert Bill.objects.count() == 0


@pytest.mark.parametrize(("method", "tail"), [("GET", ""), ("GET", "/info"), ("POST", "/email")])
def test_another_persons_account_is_not_found_and_nothing_is_drawn_or_sent(
    api: Api, register: Any, metered: PersonalAccount, method: str, tail: str
) -> None:
    stranger = register("petrov@example.org")  # a confirmed e-mail of his own

    response = api.call(method, bills(metered, tail=tail), token=token_for(stranger.user))

    assert response.status_code == 404
    assert problem(response)["code"] == "account_not_found"
    nothing_sent()
    assert Bill.objects.count() == 0


@pytest.mark.parametrize(("method", "tail"), [("GET", ""), ("GET", "/info"), ("POST", "/email")])
def test_an_account_id_that_is_no_id_is_refused(api: Api, mail_token: str, method: str, tail: str) -> None:
    for account_id, status in (("999999", 404), ("0", 422), ("abc", 422)):
        response = api.call(method, f"/accounts/{account_id}/bills/2026-10{tail}", token=mail_token)
        assert response.status_code == status, account_id
        problem(response)
    nothing_sent()
    assert Bill.objects.count() == 0


@pytest.mark.parametrize(("method", "tail"), [("GET", ""), ("GET", "/info"), ("POST", "/email")])
def test_without_a_token_nothing_is_drawn_or_sent(api: Api, metered: PersonalAccount, method: str, tail: str) -> None:
    response = api.call(method, bills(metered, tail=tail))

    assert response.status_code == 401
    assert problem(response)["code"] == "not_authenticated"
    nothing_sent()
    assert Bill.objects.count() == 0


# --- The OpenAPI document -------------------------------------------------------------------


@pytest.fixture
def spec(client: Client) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(client.get("/api/v1/openapi.json").content)
    return document


def test_the_openapi_document_describes_the_pdf_as_binary_and_every_problem(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    pdf = paths[PDF_PATH]["get"]
    info = paths[PDF_PATH + "/info"]["get"]
    send = paths[PDF_PATH + "/email"]["post"]

    assert pdf["responses"]["200"]["content"] == {
        "application/pdf": {"schema": {"type": "string", "format": "binary", "contentMediaType": "application/pdf"}}
    }
    assert set(pdf["responses"]) == set(info["responses"]) == {"200", "401", "404", "422"}
    assert set(send["responses"]) == {"202", "401", "404", "422"}
    assert list(info["responses"]["200"]["content"]) == ["application/json"]
    assert list(send["responses"]["202"]["content"]) == ["application/json"]
    for operation in (pdf, info, send):
        assert operation["tags"] == ["bills"]
        assert operation["security"] == [{"BearerAuth": []}]
        for status in ("401", "404", "422"):
            assert list(operation["responses"][status]["content"]) == ["application/problem+json"]
        assert "bill_not_available" in operation["description"]
        assert "account_not_found" in operation["description"]
        period = next(p for p in operation["parameters"] if p["name"] == "period")
        assert (period["in"], period["required"], period["schema"]["pattern"]) == ("path", True, r"^\d{4}-\d{2}$")
    assert "no_email" in send["description"]
