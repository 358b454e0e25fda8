"""The back office for bills: the runs and the bills, read-only; «Скачать» gives the stored
file to those who may see bills; «Сформировать квитанции» starts a run through the job
helper (in process here, no broker) for those who may start one, and bad input or a refusal
of the service is shown next to the field with no run started."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core.files.storage import default_storage
from django.test import Client

from abonent.billing.enums import RunStatus
from abonent.billing.services import billing_run
from abonent.core.models import AuditRecord, Supplier
from abonent.core.periods import Period
from abonent.documents.models import Bill, BillRun
from abonent.documents.services import bills_generate, bills_run_start
from abonent.identity.models import User
from abonent.identity.roles import OPERATOR, SENIOR_OPERATOR
from tests.billing.billing_data import October, october_make

pytestmark = pytest.mark.django_db

OCTOBER = Period(2026, 10)
RUN_AT = dt.datetime(2026, 11, 2, 3, 0, tzinfo=dt.UTC)  # October's billing run
NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)
BO = "/backoffice"
RUNS = f"{BO}/documents/billrun/"
BILLS = f"{BO}/documents/bill/"
GENERATE = f"{RUNS}generate/"


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("abonent.core.clock.now", lambda: NOW)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def staff(role: str | None, username: str = "op") -> Client:
    member = User.objects.create(username=username, is_staff=True, first_name="Ольга", last_name="Смирнова")
    if role is not None:
        member.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(member)
    return client


def superuser() -> Client:
    client = Client()
    client.force_login(User.objects.create(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def october(supplier: Supplier) -> October:
    accounts = october_make(supplier)
    billing_run(supplier=supplier, period=OCTOBER, now=lambda: RUN_AT, today=RUN_AT.date())
    return accounts


@pytest.fixture
def drawn(october: October, supplier: Supplier) -> BillRun:
    return bills_generate(supplier=supplier, period=OCTOBER, now=lambda: NOW)


def text(response: Any) -> str:
    return re.sub(r"[ \t\r\n]+", " ", response.content.decode())


def messages_of(client: Client, response: Any) -> list[str]:
    assert response.status_code == 302, response.content.decode()[:2000]
    page = client.get(response["Location"])
    return [str(m) for m in get_messages(page.wsgi_request)]


# --- Lists and pages --------------------------------------------------------------------


def test_an_operator_sees_the_runs_and_the_bills(drawn: BillRun) -> None:
    operator = staff(OPERATOR)
    bill = Bill.objects.get(account__number="770000000001")

    runs = operator.get(RUNS)
    bills = operator.get(BILLS)

    assert runs.status_code == 200
    assert "октябрь 2026" in text(runs)
    assert bills.status_code == 200
    page = text(bills)
    assert "770000000001" in page
    assert "425,88\u00a0₽" in page
    assert "15.11.2026" in page
    assert f'href="{BILLS}{bill.pk}/download/"' in page
    assert operator.get(f"{RUNS}{drawn.pk}/change/").status_code == 200
    assert operator.get(f"{BILLS}{bill.pk}/change/").status_code == 200


def test_a_run_shows_its_results(drawn: BillRun) -> None:
    page = text(staff(OPERATOR).get(f"{RUNS}{drawn.pk}/change/"))

    assert "<th scope='row'>Лицевых счетов с квитанцией</th><td>3</td>" in page
    assert "<th scope='row'>Сформировано</th><td>3</td>" in page
    assert "<th scope='row'>Уже были актуальны</th><td>0</td>" in page
    assert "1 из 1" in page  # parts done


def test_bills_are_found_by_the_account_number_however_written_and_filtered_by_period(drawn: BillRun) -> None:
    operator = staff(OPERATOR)

    found = text(operator.get(BILLS, {"q": "77 0000 000002"}))
    assert "770000000002" in found
    assert "770000000001" not in found
    assert "770000000003" not in found
    assert "770000000001" not in text(operator.get(BILLS, {"q": "не номер"}))
    assert "770000000001" not in text(operator.get(BILLS, {"period": "2026-09"}))
    assert "770000000001" in text(operator.get(BILLS, {"period": "2026-10"}))


def test_runs_and_bills_are_never_added_or_changed_here(drawn: BillRun) -> None:
    bill = Bill.objects.first()
    assert bill is not None
    for client in (staff(SENIOR_OPERATOR), superuser()):
        assert client.get(f"{RUNS}add/").status_code == 403
        assert client.get(f"{BILLS}add/").status_code == 403
        assert client.post(f"{BILLS}{bill.pk}/delete/", {"post": "yes"}).status_code == 403
    assert staff(SENIOR_OPERATOR, "senior2").post(f"{RUNS}{drawn.pk}/delete/", {"post": "yes"}).status_code == 403
    assert BillRun.objects.filter(pk=drawn.pk).exists()


def test_a_superuser_deletes_a_run_that_has_ended_but_not_one_that_goes_on(drawn: BillRun, supplier: Supplier) -> None:
    running = bills_run_start(supplier=supplier, period=Period(2026, 9), now=NOW, actor_id=None, channel="cli")
    root = superuser()

    assert root.get(f"{RUNS}{running.pk}/delete/").status_code == 403
    assert root.post(f"{RUNS}{drawn.pk}/delete/", {"post": "yes"}).status_code == 302

    assert list(BillRun.objects.values_list("pk", flat=True)) == [running.pk]
    assert Bill.objects.count() == 3  # the bills stay; they no longer name the run
    assert set(Bill.objects.values_list("run_id", flat=True)) == {None}


# --- Download ---------------------------------------------------------------------------


def test_the_download_gives_the_stored_file(drawn: BillRun) -> None:
    bill = Bill.objects.get(account__number="770000000001")
    with default_storage.open(bill.file, "rb") as handle:
        stored = handle.read()

    response = staff(OPERATOR).get(f"{BILLS}{bill.pk}/download/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="kvitanciya-770000000001-2026-10.pdf"'
    assert b"".join(response.streaming_content) == stored  # type: ignore[attr-defined]


def test_staff_without_the_permission_get_403_and_others_the_login(drawn: BillRun) -> None:
    bill = Bill.objects.get(account__number="770000000001")
    url = f"{BILLS}{bill.pk}/download/"

    assert staff(None).get(url).status_code == 403
    subscriber = Client()
    subscriber.force_login(User.objects.create(username="maria", phone="+79161234567"))
    response = subscriber.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{BO}/login/?next=")
    assert Client().get(url).status_code == 302


def test_a_bill_that_is_not_there_or_whose_file_is_gone_is_404(drawn: BillRun) -> None:
    operator = staff(OPERATOR)
    bill = Bill.objects.get(account__number="770000000001")
    default_storage.delete(bill.file)

    assert operator.get(f"{BILLS}{bill.pk}/download/").status_code == 404
    assert operator.get(f"{BILLS}999999/download/").status_code == 404


# --- «Сформировать квитанции» -----------------------------------------------------------


def test_only_who_may_start_a_run_sees_the_button_and_the_form(october: October, supplier: Supplier) -> None:
    operator = staff(OPERATOR)
    senior = staff(SENIOR_OPERATOR, "senior")

    assert "Сформировать квитанции" not in text(operator.get(RUNS))
    assert operator.get(GENERATE).status_code == 403
    assert operator.post(GENERATE, {"supplier": supplier.pk, "period": "2026-10"}).status_code == 403
    assert f'href="{GENERATE}"' in text(senior.get(RUNS))
    form = senior.get(GENERATE)
    assert form.status_code == 200
    assert 'value="2026-10"' in text(form)  # last month, offered
    assert BillRun.objects.count() == 0


@pytest.mark.django_db(transaction=True)  # the job is sent on commit: as in a request, with no test transaction
def test_the_form_starts_the_run_in_process_without_a_broker(october: October, supplier: Supplier) -> None:
    senior = staff(SENIOR_OPERATOR, "senior")

    response = senior.post(GENERATE, {"supplier": supplier.pk, "period": "10.2026"})

    assert messages_of(senior, response) == [
        "Квитанции за октябрь 2026 (Газпром межрегионгаз Москва) сформированы: итоги — в списке."
    ]
    run = BillRun.objects.get()
    member = User.objects.get(username="senior")
    assert (run.status, run.channel, run.started_by_id, run.period) == (
        RunStatus.DONE,
        "backoffice",
        member.pk,
        OCTOBER,
    )
    assert (run.summary["accounts"], run.summary["drawn"]) == (3, 3)
    assert Bill.objects.filter(run=run).count() == 3
    assert AuditRecord.objects.filter(action="bill_run_start", actor_id=member.pk, channel="backoffice").exists()


@pytest.mark.parametrize(
    ("period", "error"),
    [
        ("2026-13", "Период — месяц и год: 2026-10 или 10.2026"),
        ("октябрь", "Период — месяц и год: 2026-10 или 10.2026"),
        ("", "Укажите период, например 2026-10"),
    ],
)
def test_a_bad_period_is_shown_next_to_it_and_starts_nothing(
    october: October, supplier: Supplier, period: str, error: str
) -> None:
    response = staff(SENIOR_OPERATOR, "senior").post(GENERATE, {"supplier": supplier.pk, "period": period})

    assert response.status_code == 200
    page = text(response)
    assert "Ничего не запущено — причина отмечена ниже." in page
    assert error in page
    assert BillRun.objects.count() == 0
    assert Bill.objects.count() == 0


def test_a_supplier_that_is_not_there_is_refused(october: October, supplier: Supplier) -> None:
    senior = staff(SENIOR_OPERATOR, "senior")

    assert "Выберите поставщика" in text(senior.post(GENERATE, {"period": "2026-10"}))
    unknown = text(senior.post(GENERATE, {"supplier": "999999", "period": "2026-10"}))
    assert "Ничего не запущено — причина отмечена ниже." in unknown
    assert BillRun.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_refusal_of_the_service_is_shown_next_to_the_period(october: October, supplier: Supplier) -> None:
    running = bills_run_start(supplier=supplier, period=OCTOBER, now=NOW, actor_id=None, channel="cli")
    senior = staff(SENIOR_OPERATOR, "senior")

    in_progress = text(senior.post(GENERATE, {"supplier": supplier.pk, "period": "2026-10"}))
    not_covered = text(senior.post(GENERATE, {"supplier": supplier.pk, "period": "2004-01"}))

    assert "Квитанции за октябрь 2026 уже формируются (запуск 22.11.2026 09:00 UTC): дождитесь окончания" in in_progress
    assert "Квитанции за январь 2004 нет" in not_covered
    assert list(BillRun.objects.values_list("pk", flat=True)) == [running.pk]
    assert Bill.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_run_that_fails_says_so_and_is_marked_failed(
    october: October, supplier: Supplier, settings: Any, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    settings.MEDIA_ROOT = blocked  # the storage cannot write a file
    senior = staff(SENIOR_OPERATOR, "senior")

    response = senior.post(GENERATE, {"supplier": supplier.pk, "period": "2026-10"})

    (message,) = messages_of(senior, response)
    assert message.startswith("Квитанции за октябрь 2026 (Газпром межрегионгаз Москва) не сформированы: ")
    run = BillRun.objects.get()
    assert (run.status, run.finished_at) == (RunStatus.FAILED, NOW)
    assert run.error in message
    assert Bill.objects.count() == 0
