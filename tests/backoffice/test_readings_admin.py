"""The back office for readings: the read-only list with its filters, the review of flagged
readings (accepting, rejecting with a reason), a reading entered on a subscriber's behalf,
and the import of a CSV file with a dry run; who may do what."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext

from abonent.core.models import AuditRecord, Supplier, SupplierTerms
from abonent.core.periods import Period
from abonent.core.services import supplier_create
from abonent.customers.models import PersonalAccount
from abonent.identity.models import User
from abonent.identity.roles import ADMINISTRATOR, OPERATOR, SENIOR_OPERATOR
from abonent.metering import services
from abonent.metering.enums import MeterStatus, ReadingChannel, ReadingStatus, ReviewReason
from abonent.metering.models import Meter, Reading
from tests.conftest import SUPPLIER_MOSCOW
from tests.factories import account_make, meter_make
from tests.factories import reading_make as standing

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)  # 12:00 in Moscow
OPERATOR_IP = "198.51.100.4"
READINGS = "/backoffice/metering/reading/"
REVIEW = f"{READINGS}review/"
IMPORT = f"{READINGS}import/"
METERS = "/backoffice/metering/meter/"
NUMBER = "770000000001"
SERIAL = "0412345"
REASON = "Контролёр 19.11.2026 снял показание 1041 м³"
REASON_REQUIRED = "Напишите причину, по которой показание отклонено: её увидит абонент"
NNBSP = "\u202f"  # the thin space between thousands


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> dt.datetime:
    monkeypatch.setattr("abonent.core.clock.now", lambda: NOW)
    return NOW


def staff(role: str | None, username: str = "op", *, permissions: tuple[str, ...] = (), **options: Any) -> Client:
    """A logged-in browser of a member of staff in the group of ``role`` (None: in no group)."""
    member = User.objects.create(username=username, is_staff=True, first_name="Ольга", last_name="Смирнова")
    if role is not None:
        member.groups.add(Group.objects.get(name=role))
    member.user_permissions.add(*Permission.objects.filter(codename__in=permissions))
    client = Client(REMOTE_ADDR=OPERATOR_IP, **options)
    client.force_login(member)
    return client


def flagged_high(meter: Meter, operator: User) -> Reading:
    """Five months of 10 m³, then 60 m³ in November: far above the meter's average."""
    for month, value in enumerate(["1000", "1010", "1020", "1030", "1040"], start=6):
        standing(meter, Period(2026, month), value, "10")
    reading = services.reading_enter_by_operator(
        operator=operator, meter_id=meter.pk, value="1100", read_on=dt.date(2026, 11, 18), now=NOW
    ).reading
    assert reading.review == ReviewReason.HIGH
    return reading


def texts(client: Client, response: HttpResponse) -> list[str]:
    """The messages an action left, as the page it leads to shows them (and so uses them up)."""
    assert response.status_code == 302
    page = client.get(response["Location"])
    return [str(m) for m in get_messages(page.wsgi_request)]


def member(username: str = "op") -> User:
    return User.objects.get(username=username)


@pytest.fixture
def account(supplier: Supplier) -> PersonalAccount:
    return account_make(supplier=supplier)


@pytest.fixture
def meter(account: PersonalAccount) -> Meter:
    meter = meter_make(account=account, serial=SERIAL, initial_value=Decimal("3.2"))
    standing(meter, Period(2026, 10), "1234.5", "31.5")
    return meter


@pytest.fixture
def yantar() -> Supplier:
    return supplier_create(
        **{**SUPPLIER_MOSCOW, "code": "yantar", "short_name": "Янтарьгаз", "time_zone": "Europe/Kaliningrad"}
    )


@pytest.fixture
def operator() -> Client:
    return staff(OPERATOR)


@pytest.fixture
def robot() -> User:
    """Someone who entered the readings the tests start from."""
    return User.objects.create(username="robot", is_staff=True)


# --- The list -------------------------------------------------------------------------


def listed(client: Client, **query: str) -> list[str]:
    response = client.get(READINGS, query)
    assert response.status_code == 200
    return [f"{r.meter.serial} {r.period} {r.value}" for r in response.context["cl"].result_list]


def test_the_list_shows_each_reading_with_its_account_supplier_and_review(
    operator: Client, meter: Meter, robot: User
) -> None:
    flagged_high(meter_make(account=meter.account, serial="5"), robot)

    html = operator.get(READINGS).content.decode()

    row = html[html.index("№ 5") : html.index("</tr>", html.index("№ 5"))]
    for cell in (
        NUMBER,
        "Газпром межрегионгаз Москва",
        "ноябрь 2026",
        f"1{NNBSP}100",
        ">60<",
        "оператор",
        "принято",
        "расход намного выше среднего — ждёт решения",
        "20.11.2026 12:00",
    ):
        assert cell in row, cell
    assert f"/backoffice/customers/personalaccount/{meter.account_id}/change/" in row


def test_the_list_is_filtered_and_searched(
    operator: Client, meter: Meter, robot: User, yantar: Supplier, supplier: Supplier
) -> None:
    high = flagged_high(meter_make(account=meter.account, serial="5"), robot)
    other = meter_make(account=account_make(supplier=yantar, number="390000000001"), serial="K-1")
    standing(other, Period(2026, 11), "77")
    assert listed(operator, review_state="pending") == ["5 2026-11 1100.000"]
    services.reading_reject(operator=robot, reading_id=high.pk, reason=REASON, now=NOW)
    services.reading_enter_by_operator(
        operator=robot, meter_id=meter.pk, value="1250", read_on=dt.date(2026, 11, 19), now=NOW
    )

    assert listed(operator, meter__account__supplier__id__exact=str(yantar.pk)) == ["K-1 2026-11 77.000"]
    assert listed(operator, status__exact=ReadingStatus.REJECTED) == ["5 2026-11 1100.000"]
    assert listed(operator, channel__exact=ReadingChannel.OPERATOR) == [
        f"{SERIAL} 2026-11 1250.000",
        "5 2026-11 1100.000",
    ]
    assert listed(operator, review_state="pending") == []
    assert listed(operator, review_state="decided") == ["5 2026-11 1100.000"]
    assert listed(operator, review_state=ReviewReason.HIGH) == ["5 2026-11 1100.000"]
    assert listed(operator, period="2026-10") == ["5 2026-10 1040.000", f"{SERIAL} 2026-10 1234.500"]
    assert listed(operator, q="77 0000 000001", period="2026-11") == [
        f"{SERIAL} 2026-11 1250.000",
        "5 2026-11 1100.000",
    ]
    assert listed(operator, q="K-1") == ["K-1 2026-11 77.000"]
    assert listed(operator, q="nothing") == []
    assert listed(operator, meter__id__exact=str(other.pk)) == ["K-1 2026-11 77.000"]
    # an unknown value of a filter is refused, not ignored
    assert operator.get(READINGS, {"period": "когда-то"})["Location"] == f"{READINGS}?e=1"
    page = operator.get(READINGS).content.decode()
    assert "ноябрь 2026" in page
    assert "декабрь 2026" in page  # a reading sent after the window counts for the next month


def test_the_list_reads_the_same_number_of_times_for_one_reading_or_many(
    operator: Client, meter: Meter, yantar: Supplier, django_assert_max_num_queries: Any
) -> None:
    operator.get(READINGS)  # sessions, permissions and content types are read once per worker
    with CaptureQueriesContext(connection) as one:
        assert operator.get(READINGS).status_code == 200
    for n in range(20):
        account = account_make(supplier=yantar if n % 2 else meter.account.supplier, number=f"7700000001{n:02d}")
        standing(meter_make(account=account, serial=f"S{n}"), Period(2026, 11), str(100 + n))

    with django_assert_max_num_queries(len(one)), CaptureQueriesContext(connection) as many:
        response = operator.get(READINGS)

    assert len(response.context["cl"].result_list) == 21
    assert len(many) == len(one)


def test_a_reading_is_read_only_in_the_generic_forms(meter: Meter) -> None:
    reading = Reading.objects.get(meter=meter)
    for client in (staff(SENIOR_OPERATOR, "senior"), staff(ADMINISTRATOR, "admin")):
        page = client.get(f"{READINGS}{reading.pk}/change/")
        changed = client.post(
            f"{READINGS}{reading.pk}/change/",
            {"meter": meter.pk, "period": "2026-10", "value": "1", "status": "accepted", "channel": "web"},
        )

        assert page.status_code == 200
        assert page.context["has_change_permission"] is False
        assert 'name="_save"' not in page.content.decode()
        assert changed.status_code == 403
        assert client.get(f"{READINGS}add/").status_code == 403
        assert client.post(f"{READINGS}{reading.pk}/delete/", {"post": "yes"}).status_code == 403
        assert client.get(READINGS).context["action_form"] is None  # no «delete selected» either
        client.post(READINGS, {"action": "delete_selected", "_selected_action": [reading.pk], "post": "yes"})
    reading.refresh_from_db()
    assert (reading.value, reading.status) == (Decimal("1234.5"), ReadingStatus.ACCEPTED)
    assert Reading.objects.count() == 1
    assert not AuditRecord.objects.exists()


def test_a_meter_cannot_be_deleted_with_its_readings(meter: Meter) -> None:
    client = staff(ADMINISTRATOR, "admin")

    assert client.post(f"{METERS}{meter.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Reading.objects.filter(meter=meter).count() == 1


# --- The review -----------------------------------------------------------------------


def test_the_review_lists_the_flagged_readings_with_the_readings_before_them(
    operator: Client, meter: Meter, robot: User
) -> None:
    high = flagged_high(meter_make(account=meter.account, serial="5"), robot)
    services.reading_enter_by_operator(
        operator=robot, meter_id=meter.pk, value="1250", read_on=dt.date(2026, 11, 19), now=NOW
    )  # not flagged

    response = operator.get(REVIEW)

    html = response.content.decode()
    assert response.status_code == 200
    assert [row.reading for row in response.context["rows"]] == [high]
    row = html[html.index(f'id="reading-{high.pk}"') :]
    for cell in (
        NUMBER,
        "№ 5",
        "ноябрь 2026",
        f"1{NNBSP}100",
        ">60<",
        "расход намного выше среднего",
        f"октябрь 2026: 1{NNBSP}040 (расход 10)",
        f"сентябрь 2026: 1{NNBSP}030 (расход 10)",
        f"август 2026: 1{NNBSP}020 (расход 10)",
        f"июль 2026: 1{NNBSP}010 (расход 10)",
        "20.11.2026 12:00",
        "оператор (robot)",
        f'action="{READINGS}{high.pk}/confirm/"',
        f"{READINGS}{high.pk}/reject/?next=%2Fbackoffice%2Fmetering%2Freading%2Freview%2F",
        'name="csrfmiddlewaretoken"',
    ):
        assert cell in row, cell
    assert "июнь 2026" not in row  # four readings before it are shown
    assert "1250" not in html


def test_the_review_reads_the_same_number_of_times_for_one_reading_or_many(
    operator: Client, account: PersonalAccount, robot: User, django_assert_max_num_queries: Any
) -> None:
    flagged_high(meter_make(account=account, serial="M0"), robot)
    operator.get(REVIEW)
    with CaptureQueriesContext(connection) as one:
        operator.get(REVIEW)
    for n in range(1, 8):
        flagged_high(
            meter_make(account=account_make(supplier=account.supplier, number=f"77000000010{n}"), serial=f"M{n}"), robot
        )

    with django_assert_max_num_queries(len(one)):
        response = operator.get(REVIEW)

    assert len(response.context["rows"]) == 8
    assert all(len(row.previous) == 4 for row in response.context["rows"])


def test_the_review_of_one_supplier(operator: Client, meter: Meter, robot: User, yantar: Supplier) -> None:
    high = flagged_high(meter_make(account=meter.account, serial="5"), robot)
    theirs = flagged_high(meter_make(account=account_make(supplier=yantar, number="390000000001"), serial="K"), robot)

    assert [r.reading for r in operator.get(REVIEW).context["rows"]] == [high, theirs]
    assert [r.reading for r in operator.get(REVIEW, {"supplier": yantar.pk}).context["rows"]] == [theirs]


def test_accepting_a_flagged_reading(operator: Client, meter: Meter, robot: User) -> None:
    high = flagged_high(meter_make(account=meter.account, serial="5"), robot)

    response = operator.post(f"{READINGS}{high.pk}/confirm/", {"next": REVIEW})

    assert response.status_code == 302
    assert response["Location"] == REVIEW
    high.refresh_from_db()
    assert (high.status, high.reviewed_by, high.reviewed_at) == (ReadingStatus.ACCEPTED, member(), NOW)
    audit = AuditRecord.objects.get(action="reading_review_confirm")
    assert (audit.actor_id, audit.channel, audit.ip, audit.object_id, audit.after) == (
        member().pk,
        "backoffice",
        OPERATOR_IP,
        str(high.pk),
        {"review": "high"},
    )
    assert texts(operator, response) == ["Показание № 5, ноябрь 2026: 1\u202f100 м³ принято после проверки."]
    assert operator.get(REVIEW).context["rows"] == []


def test_accepting_needs_a_post_and_the_csrf_token(meter: Meter, robot: User) -> None:
    high = flagged_high(meter_make(account=meter.account, serial="5"), robot)
    client = staff(OPERATOR, enforce_csrf_checks=True)

    assert client.get(f"{READINGS}{high.pk}/confirm/").status_code == 405
    assert client.post(f"{READINGS}{high.pk}/confirm/").status_code == 403
    high.refresh_from_db()
    assert high.reviewed_at is None
    assert not AuditRecord.objects.filter(action="reading_review_confirm").exists()


def test_rejecting_with_a_reason_the_subscriber_sees(operator: Client, meter: Meter, robot: User) -> None:
    high = flagged_high(meter_make(account=meter.account, serial="5"), robot)
    url = f"{READINGS}{high.pk}/reject/"

    page = operator.get(url, {"next": REVIEW}).content.decode()
    response = operator.post(url, {"reason": f"  {REASON}\n", "next": REVIEW})

    assert 'name="reason"' in page
    assert 'minlength="5"' in page
    assert "Иванова Мария Петровна" in page
    assert f"октябрь 2026: 1{NNBSP}040 м³ (расход 10)" in page
    assert response.status_code == 302
    assert response["Location"] == REVIEW
    high.refresh_from_db()
    assert (high.status, high.rejection_reason, high.reviewed_by, high.reviewed_at) == (
        ReadingStatus.REJECTED,
        REASON,
        member(),
        NOW,
    )
    audit = AuditRecord.objects.get(action="reading_reject")
    assert (audit.actor_id, audit.channel, audit.ip, audit.before, audit.after) == (
        member().pk,
        "backoffice",
        OPERATOR_IP,
        {"status": "accepted"},
        {"status": "rejected", "reason": REASON},
    )
    assert texts(operator, response) == [
        "Показание № 5, ноябрь 2026: 1\u202f100 м³ по лицевому счёту 770000000001 отклонено. "
        "Абонент увидит причину в истории показаний."
    ]
    assert operator.get(REVIEW).context["rows"] == []


@pytest.mark.parametrize("reason", ["", "   ", "ошиб", "  о  ш  "])
def test_a_reason_too_short_is_refused_next_to_the_field(
    operator: Client, meter: Meter, robot: User, reason: str
) -> None:
    high = flagged_high(meter_make(account=meter.account, serial="5"), robot)

    response = operator.post(f"{READINGS}{high.pk}/reject/", {"reason": reason})

    assert response.status_code == 200
    assert response.context["form"].errors == {"reason": [REASON_REQUIRED]}
    assert REASON_REQUIRED in response.content.decode()
    high.refresh_from_db()
    assert (high.status, high.rejection_reason, high.reviewed_at) == (ReadingStatus.ACCEPTED, "", None)
    assert not AuditRecord.objects.filter(action="reading_reject").exists()


def test_a_reading_rejected_already_is_not_rejected_again(operator: Client, meter: Meter, robot: User) -> None:
    high = flagged_high(meter_make(account=meter.account, serial="5"), robot)
    services.reading_reject(operator=robot, reading_id=high.pk, reason=REASON, now=NOW)

    page = operator.get(f"{READINGS}{high.pk}/reject/").content.decode()
    rejected = texts(operator, operator.post(f"{READINGS}{high.pk}/reject/", {"reason": "Другая причина"}))
    confirmed = texts(operator, operator.post(f"{READINGS}{high.pk}/confirm/"))

    assert 'name="reason"' not in page
    assert "Показание уже не действует (отклонено)" in page
    assert rejected == ["Показание уже заменено исправленным или отклонено: решение по нему не требуется"]
    assert confirmed == ["Показание уже заменено исправленным или отклонено: решение по нему не требуется"]
    high.refresh_from_db()
    assert high.rejection_reason == REASON
    assert AuditRecord.objects.filter(action="reading_reject").count() == 1
    assert not AuditRecord.objects.filter(action="reading_review_confirm").exists()


def test_a_reading_that_does_not_exist_is_404_and_next_goes_nowhere_else(operator: Client, meter: Meter) -> None:
    reading = Reading.objects.get(meter=meter)

    assert operator.get(f"{READINGS}999999/reject/").status_code == 404
    assert operator.post(f"{READINGS}999999/reject/", {"reason": REASON}).status_code == 404
    assert texts(operator, operator.post(f"{READINGS}999999/confirm/")) == ["Показание не найдено"]
    elsewhere = operator.post(f"{READINGS}{reading.pk}/reject/", {"reason": REASON, "next": "https://evil.example/"})

    assert elsewhere["Location"] == REVIEW


def test_the_readings_page_offers_the_review_actions(operator: Client, meter: Meter, robot: User) -> None:
    high = flagged_high(meter_make(account=meter.account, serial="5"), robot)
    plain = Reading.objects.get(meter=meter)

    flagged_page = operator.get(f"{READINGS}{high.pk}/change/").content.decode()
    plain_page = operator.get(f"{READINGS}{plain.pk}/change/").content.decode()
    viewer_page = staff(None, "viewer", permissions=("view_reading",)).get(f"{READINGS}{high.pk}/change/")

    assert f'action="{READINGS}{high.pk}/confirm/"' in flagged_page
    assert f"{READINGS}{high.pk}/reject/?next=" in flagged_page
    assert "/confirm/" not in plain_page
    assert f"{READINGS}{plain.pk}/reject/?next=" in plain_page
    assert viewer_page.status_code == 200
    assert "/reject/" not in viewer_page.content.decode()


# --- Entering a reading ---------------------------------------------------------------


def enter_url(meter: Meter) -> str:
    return f"{METERS}{meter.pk}/reading/"


def test_an_operator_enters_a_reading_for_a_subscriber(operator: Client, meter: Meter) -> None:
    page = operator.get(enter_url(meter))
    response = operator.post(enter_url(meter), {"value": " 1 300,5 ", "date": "18.11.2026"})

    assert page.status_code == 200
    assert page.context["form"]["date"].value() == dt.date(2026, 11, 20)
    assert 'value="20.11.2026"' in page.content.decode()
    assert response.status_code == 302
    assert response["Location"] == f"{METERS}{meter.pk}/change/"
    reading = Reading.objects.get(meter=meter, period=Period(2026, 11))
    assert (
        reading.value,
        reading.consumption,
        reading.read_on,
        reading.channel,
        reading.submitted_by,
        reading.operator_name,
        reading.submitted_at,
    ) == (
        Decimal("1300.5"),
        Decimal("66"),
        dt.date(2026, 11, 18),
        ReadingChannel.OPERATOR,
        member(),
        "Ольга Смирнова",
        NOW,
    )
    audit = AuditRecord.objects.get(action="reading_submit")
    assert (audit.actor_id, audit.channel, audit.ip) == (member().pk, "operator", OPERATOR_IP)
    assert texts(operator, response) == [
        f"Показание 1{NNBSP}300,5 м³ по счётчику № {SERIAL} записано за ноябрь 2026, расход 66 м³."
    ]


def test_the_message_names_the_period_the_reading_counted_for_and_a_correction(operator: Client, meter: Meter) -> None:
    # taken after October's window closed (the 25th): it counts for November
    late = texts(operator, operator.post(enter_url(meter), {"value": "1300", "date": "26.10.2026"}))
    again = texts(operator, operator.post(enter_url(meter), {"value": "1300", "date": "19.11.2026"}))
    corrected = texts(operator, operator.post(enter_url(meter), {"value": "1290", "date": "19.11.2026"}))

    assert late == [f"Показание 1{NNBSP}300 м³ по счётчику № {SERIAL} записано за ноябрь 2026, расход 65,5 м³."]
    assert again == [
        f"Показание 1{NNBSP}300 м³ по счётчику № {SERIAL} за ноябрь 2026 уже записано: ничего не изменено."
    ]
    assert corrected == [
        f"Показание 1{NNBSP}290 м³ по счётчику № {SERIAL} записано за ноябрь 2026, расход 55,5 м³. "
        f"Оно заменило показание 1{NNBSP}300 м³, переданное за этот период раньше."
    ]
    assert list(Reading.objects.filter(period=Period(2026, 11)).values_list("value", "status").order_by("pk")) == [
        (Decimal("1300"), ReadingStatus.SUPERSEDED),
        (Decimal("1290"), ReadingStatus.ACCEPTED),
    ]


def test_the_default_date_is_today_at_the_supplier(
    operator: Client, yantar: Supplier, monkeypatch: pytest.MonkeyPatch
) -> None:
    late = dt.datetime(
        2026, 11, 20, 21, 30, tzinfo=dt.UTC
    )  # 00:30 on the 21st in Moscow, 23:30 on the 20th in Kaliningrad
    monkeypatch.setattr("abonent.core.clock.now", lambda: late)
    meter = meter_make(account=account_make(supplier=yantar, number="390000000001"), serial="K")

    page = operator.get(enter_url(meter))

    assert page.context["form"]["date"].value() == dt.date(2026, 11, 20)


def test_a_reading_flagged_or_past_verification_is_recorded_with_a_warning(
    operator: Client, robot: User, meter: Meter
) -> None:
    other = meter_make(account=meter.account, serial="5", verification_due_on=dt.date(2026, 11, 1))
    for month, value in enumerate(["1000", "1010", "1020", "1030", "1040"], start=6):
        standing(other, Period(2026, month), value, "10")

    response = operator.post(enter_url(other), {"value": "1100", "date": "18.11.2026"})

    assert texts(operator, response) == [
        "Показание 1\u202f100 м³ по счётчику № 5 записано за ноябрь 2026, расход 60 м³.",
        "Срок поверки счётчика истёк: показание сохранено, но к расчёту не принимается.",
        "Показание отмечено для проверки: расход намного выше среднего.",
    ]
    assert Reading.objects.get(meter=other, period=Period(2026, 11)).status == ReadingStatus.NOT_FOR_BILLING


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"value": "1200", "date": "18.11.2026"}, "value", "Показание меньше предыдущего (1\u202f234,5 м³ за октябрь 2026). Проверьте цифры до запятой; если счётчик заменён или обнулился, сообщите поставщику"),
        ({"value": "20000", "date": "18.11.2026"}, "value", "Расход 18\u202f765,5 м³ больше допустимого: не более 10\u202f000 м³ с предыдущего показания. Проверьте, нет ли лишней цифры"),
        ({"value": "1234,5", "date": "18.11.2026"}, "value", "Показание равно предыдущему (1\u202f234,5 м³), а поставщик не принимает нулевой расход. Если газом не пользовались, сообщите об этом поставщику"),
        ({"value": "много", "date": "18.11.2026"}, "value", "Введите показание цифрами, например 1234 или 1234,567"),
        ({"value": "", "date": "18.11.2026"}, "value", "Введите показание цифрами, например 1234 или 1234,567"),
        ({"value": "-1300", "date": "18.11.2026"}, "value", "Показание не может быть отрицательным: введите число со счётчика без знака «минус»"),
        ({"value": "1300,1234", "date": "18.11.2026"}, "value", "Для этого счётчика укажите не больше 3 знаков после запятой"),
        ({"value": "1300", "date": "21.11.2026"}, "date", "Дата показания не может быть позже сегодняшней и раньше установки счётчика (01.06.2019)"),
        ({"value": "1300", "date": "31.05.2019"}, "date", "Дата показания не может быть позже сегодняшней и раньше установки счётчика (01.06.2019)"),
        ({"value": "1300", "date": "32.11.2026"}, "date", "Введите правильную дату."),
        ({"value": "1300", "date": ""}, "date", "Обязательное поле."),
    ],
)  # fmt: skip
def test_a_bad_reading_is_refused_next_to_its_field_and_nothing_is_stored(
    operator: Client, meter: Meter, supplier: Supplier, data: dict[str, str], field: str, error: str
) -> None:
    SupplierTerms.objects.filter(supplier=supplier).update(zero_consumption_allowed=False)

    response = operator.post(enter_url(meter), data)

    assert response.status_code == 200
    assert response.context["form"].errors == {field: [error]}
    assert error in response.content.decode()
    assert Reading.objects.count() == 1
    assert not AuditRecord.objects.exists()


@pytest.mark.parametrize(("status", "state"), [(MeterStatus.REMOVED, "снят"), (MeterStatus.FAULTY, "неисправен")])
def test_a_meter_out_of_service_takes_no_reading(operator: Client, meter: Meter, status: str, state: str) -> None:
    Meter.objects.filter(pk=meter.pk).update(status=status)

    response = operator.post(enter_url(meter), {"value": "1300", "date": "18.11.2026"})

    error = f"Счётчик № {SERIAL} {state}: показания по нему не принимаются. Обратитесь к поставщику"
    assert response.status_code == 200
    assert response.context["form"].errors == {"__all__": [error]}
    assert error in response.content.decode()
    assert Reading.objects.count() == 1


def test_the_entry_is_reached_from_the_meter_and_the_account(operator: Client, meter: Meter) -> None:
    meter_page = operator.get(f"{METERS}{meter.pk}/change/").content.decode()
    account_page = operator.get(f"/backoffice/customers/personalaccount/{meter.account_id}/change/").content.decode()
    back = f"/backoffice/customers/personalaccount/{meter.account_id}/change/"
    from_account = operator.post(
        f"{enter_url(meter)}?next={back}", {"value": "1300", "date": "18.11.2026", "next": back}
    )

    assert f'href="{enter_url(meter)}"' in meter_page
    assert "Последние показания" in meter_page
    assert "октябрь 2026" in meter_page
    assert f"{READINGS}?meter__id__exact={meter.pk}" in meter_page
    assert (
        f"{enter_url(meter)}?next=%2Fbackoffice%2Fcustomers%2Fpersonalaccount%2F{meter.account_id}%2Fchange%2F"
        in account_page
    )
    assert f"{READINGS}?meter__id__exact={meter.pk}" in account_page
    assert from_account["Location"] == back


def test_the_account_pages_with_their_meters_open_for_every_role(meter: Meter) -> None:
    account_page = f"/backoffice/customers/personalaccount/{meter.account_id}/change/"
    for role in (OPERATOR, SENIOR_OPERATOR, ADMINISTRATOR):
        client = staff(role, role)

        page = client.get(account_page)

        assert page.status_code == 200, role
        assert f'href="{enter_url(meter)}?next=' in page.content.decode(), role
    assert staff(ADMINISTRATOR, "adder").get("/backoffice/customers/personalaccount/add/").status_code == 200


def test_a_viewer_sees_no_entry_links(meter: Meter) -> None:
    viewer = staff(None, "viewer", permissions=("view_meter", "view_personalaccount", "view_reading"))

    meter_page = viewer.get(f"{METERS}{meter.pk}/change/").content.decode()
    account_page = viewer.get(f"/backoffice/customers/personalaccount/{meter.account_id}/change/").content.decode()

    assert "/reading/" not in meter_page.replace("/metering/reading/", "")
    assert "Ввести показание" not in meter_page
    assert "Ввести показание" not in account_page
    assert f"{READINGS}?meter__id__exact={meter.pk}" in account_page


# --- Import ---------------------------------------------------------------------------

HEADER = "supplier;account;serial;value;date\n"
GOOD = f"gaz-msk;{NUMBER};{SERIAL};1300,5;18.11.2026\n"
SECOND = f"gaz-msk;{NUMBER};S2;500;18.11.2026\n"
BAD = f"gaz-msk;{NUMBER};нет-такого;1300;18.11.2026\n"


@pytest.fixture
def second(meter: Meter) -> Meter:
    return meter_make(account=meter.account, serial="S2", initial_value=Decimal("400"))


def upload(
    client: Client, content: bytes | str, *, mode: str = "whole", apply: bool = False, name: str = "november.csv"
) -> HttpResponse:
    data = content.encode() if isinstance(content, str) else content
    fields: dict[str, Any] = {"mode": mode, "file": SimpleUploadedFile(name, data, content_type="text/csv")}
    fields["apply" if apply else "check"] = "1"
    return client.post(IMPORT, fields)


def report_rows(response: HttpResponse) -> list[tuple[int, str, str]]:
    return [(row.number, row.outcome, row.text) for row in response.context["report"].rows]


def test_the_import_page_and_its_sample(operator: Client) -> None:
    page = operator.get(IMPORT).content.decode()
    sample = operator.get(f"{IMPORT}sample.csv")

    assert 'enctype="multipart/form-data"' in page
    assert 'name="file"' in page
    assert 'value="whole"' in page
    assert 'value="valid_lines"' in page
    assert 'name="check"' in page
    assert 'name="apply"' in page
    assert f'href="{IMPORT}sample.csv"' in page
    assert sample["Content-Type"] == "text/csv; charset=utf-8"
    assert sample["Content-Disposition"] == 'attachment; filename="readings-sample.csv"'
    assert sample.content.decode("utf-8-sig") == (
        "supplier;account;serial;value;date\r\ngaz-msk;770000000001;0412345;1300,5;20.11.2026\r\n"
    )


def test_a_dry_run_stores_nothing(operator: Client, meter: Meter, second: Meter) -> None:
    response = upload(operator, HEADER + GOOD + SECOND)

    report = response.context["report"]
    assert (report.dry_run, report.applied, report.recorded, report.unchanged, report.errors) == (True, False, 2, 0, 0)
    assert report.verdict == (
        "Проверка: ошибок нет, ничего не записано. Нажмите «Загрузить», чтобы записать показания: новых — 2, уже есть — 0."
    )
    assert report_rows(response) == [
        (
            2,
            "будет записано",
            f"Лицевой счёт {NUMBER}, счётчик № {SERIAL}, ноябрь 2026: 1{NNBSP}300,5 м³, расход 66 м³",
        ),
        (3, "будет записано", f"Лицевой счёт {NUMBER}, счётчик № S2, ноябрь 2026: 500 м³, расход 100 м³"),
    ]
    assert "Проверка, ничего не записано." in response.content.decode()
    assert Reading.objects.count() == 1
    assert not AuditRecord.objects.exists()


def test_the_whole_file_with_a_bad_line_stores_nothing(operator: Client, meter: Meter, second: Meter) -> None:
    response = upload(operator, HEADER + GOOD + BAD + SECOND, apply=True)

    report = response.context["report"]
    assert (report.dry_run, report.applied, report.recorded, report.errors) == (False, False, 2, 1)
    assert report.verdict == (
        "Файл не загружен, ничего не записано: строк с ошибками — 1. Исправьте их или загрузите в режиме «верные строки»."
    )
    assert report.level == "error"
    assert report_rows(response)[0] == (3, "ошибка", f"На счёте {NUMBER} нет счётчика № нет-такого")
    assert [row[:2] for row in report_rows(response)[1:]] == [(2, "не записано"), (4, "не записано")]
    assert "/change/" not in "".join(row.url or "" for row in report.rows)
    assert Reading.objects.count() == 1
    assert not AuditRecord.objects.exists()


def test_valid_lines_store_the_good_lines_and_report_the_rest(operator: Client, meter: Meter, second: Meter) -> None:
    dry = upload(operator, HEADER + GOOD + BAD + SECOND, mode="valid_lines")
    response = upload(operator, HEADER + GOOD + BAD + SECOND, mode="valid_lines", apply=True)
    again = upload(operator, HEADER + GOOD + BAD + SECOND, mode="valid_lines", apply=True)

    assert dry.context["report"].verdict == (
        "Проверка: ничего не записано. При загрузке будут записаны новые показания — 2; строки с ошибками (1) будут пропущены."
    )
    report = response.context["report"]
    assert (report.applied, report.recorded, report.unchanged, report.errors) == (True, 2, 0, 1)
    assert report.verdict == (
        "Загружены верные строки: записано показаний — 2, уже были — 0. "
        "Строки с ошибками (1) не загружены: исправьте их и загрузите ещё раз."
    )
    stored = list(Reading.objects.filter(period=Period(2026, 11)).order_by("pk"))
    assert [(r.meter.serial, r.value, r.channel, r.operator_name, r.submitted_by) for r in stored] == [
        (SERIAL, Decimal("1300.5"), ReadingChannel.IMPORT, "Ольга Смирнова", member()),
        ("S2", Decimal("500"), ReadingChannel.IMPORT, "Ольга Смирнова", member()),
    ]
    assert [row.url for row in report.rows] == [
        None,
        f"{READINGS}{stored[0].pk}/change/",
        f"{READINGS}{stored[1].pk}/change/",
    ]
    audit = AuditRecord.objects.get(action="readings_import", actor_id=member().pk, after__recorded=2)
    assert audit.after == {"file": "november.csv", "mode": "valid_lines", "recorded": 2, "unchanged": 0, "errors": 1}
    assert [row[:2] for row in report_rows(again)] == [(3, "ошибка"), (2, "уже есть"), (4, "уже есть")]
    assert Reading.objects.count() == 3


def test_a_clean_file_is_loaded_whole(operator: Client, meter: Meter, second: Meter) -> None:
    response = upload(operator, HEADER + GOOD + SECOND, apply=True)

    report = response.context["report"]
    assert report.verdict == "Файл загружен: записано показаний — 2, уже были — 0."
    assert "Загрузка выполнена." in response.content.decode()
    assert Reading.objects.filter(period=Period(2026, 11)).count() == 2


def test_pressing_enter_checks_the_file_and_writes_nothing(operator: Client, meter: Meter) -> None:
    response = operator.post(IMPORT, {"mode": "whole", "file": SimpleUploadedFile("f.csv", (HEADER + GOOD).encode())})

    assert response.context["report"].dry_run is True
    assert Reading.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "name", "error"),
    [
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x98\x98",
            "photo.csv",
            "Файл не читается как текст CSV в кодировке UTF-8, UTF-16 или Windows-1251: сохраните его из таблицы как CSV",
        ),
        (
            b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\x98\xff",
            "readings.xlsx",
            "Файл не читается как текст CSV в кодировке UTF-8, UTF-16 или Windows-1251: сохраните его из таблицы как CSV. Похоже, это файл Excel: сохраните его как CSV (разделители — точки с запятой)",
        ),
        (
            b"supplier;account;serial;value\ngaz-msk;770000000001;0412345;1300\n",
            "f.csv",
            "В первой строке нет столбцов: date. Нужны столбцы supplier, account, serial, value, date "
            "(или поставщик, лицевой счёт, заводской номер, показание, дата)",
        ),
        (b"", "empty.csv", "Отправленный файл пуст."),
        (b"\n\n", "blank.csv", "Файл пуст"),
        (
            (HEADER + '"' + "x" * 200_000 + "\n").encode(),
            "f.csv",
            "Строка 2 не читается как CSV (field larger than field limit (131072)): проверьте кавычки",
        ),
    ],
)
def test_a_file_that_cannot_be_read_gets_a_clear_error(
    operator: Client, meter: Meter, content: bytes, name: str, error: str
) -> None:
    response = upload(operator, content, name=name, apply=True)

    assert response.status_code == 200
    assert response.context["report"] is None
    assert response.context["form"].errors == {"file": [error]}
    assert error in response.content.decode()
    assert Reading.objects.count() == 1
    assert not AuditRecord.objects.exists()


def test_a_file_with_the_header_only_says_nothing_was_written(operator: Client, meter: Meter) -> None:
    response = upload(operator, HEADER, apply=True)

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == ["В файле нет строк с показаниями: только заголовок"]
    assert Reading.objects.count() == 1


def test_a_file_of_windows_1251_with_russian_columns(operator: Client, meter: Meter) -> None:
    text = f"Поставщик;Лицевой счёт;Заводской номер;Показание;Дата\ngaz-msk;{NUMBER};{SERIAL};1300;18.11.2026\n"

    response = upload(operator, text.encode("cp1251"), apply=True)

    assert response.context["report"].recorded == 1
    assert Reading.objects.get(period=Period(2026, 11)).value == Decimal("1300")


def test_a_file_too_large_is_dropped_before_it_is_read(operator: Client, meter: Meter) -> None:
    content = (HEADER + GOOD).encode() + b" " * (10 * 2**20)

    response = upload(operator, content, apply=True)

    assert response.status_code == 200
    assert response.context["form"].errors == {"file": ["Файл больше 10 МБ: разделите его на части"]}
    assert response.context["report"] is None
    assert not response.wsgi_request.FILES  # dropped as it arrived, not kept and then measured
    assert Reading.objects.count() == 1


def test_the_import_checks_the_csrf_token(meter: Meter) -> None:
    client = staff(OPERATOR, enforce_csrf_checks=True)

    response = upload(client, HEADER + GOOD, apply=True)

    assert response.status_code == 403
    assert Reading.objects.count() == 1


# --- Who may do what ------------------------------------------------------------------


def test_staff_without_the_permissions_get_403(meter: Meter, robot: User) -> None:
    high = flagged_high(meter_make(account=meter.account, serial="5"), robot)
    client = staff(None, permissions=("view_reading", "view_meter"))

    assert client.get(READINGS).status_code == 200
    for url in (REVIEW, f"{READINGS}{high.pk}/reject/", IMPORT, f"{IMPORT}sample.csv", enter_url(meter)):
        assert client.get(url).status_code == 403, url
    assert client.post(f"{READINGS}{high.pk}/confirm/").status_code == 403
    assert client.post(f"{READINGS}{high.pk}/reject/", {"reason": REASON}).status_code == 403
    assert client.post(enter_url(meter), {"value": "1300", "date": "18.11.2026"}).status_code == 403
    assert upload(client, HEADER + GOOD, apply=True).status_code == 403
    high.refresh_from_db()
    assert (high.status, high.reviewed_at) == (ReadingStatus.ACCEPTED, None)
    assert Reading.objects.count() == 7
    assert not AuditRecord.objects.filter(actor_id=member().pk).exists()
    index = client.get("/backoffice/").content.decode()
    assert "Показания на проверку" not in index
    assert "Загрузить показания из файла" not in index


def test_a_subscriber_is_sent_to_the_back_office_login(meter: Meter) -> None:
    subscriber = User.objects.create(username="maria", phone="+79161234567")
    client = Client()
    client.force_login(subscriber)

    response = client.get(REVIEW)

    assert response.status_code == 302
    assert response["Location"].startswith("/backoffice/login/?next=")


@pytest.mark.parametrize("role", [OPERATOR, SENIOR_OPERATOR, ADMINISTRATOR])
def test_every_operator_role_works_with_readings(meter: Meter, robot: User, role: str) -> None:
    flagged_high(meter_make(account=meter.account, serial="5"), robot)
    client = staff(role)

    index = client.get("/backoffice/").content.decode()

    for url in (REVIEW, IMPORT, enter_url(meter)):
        assert client.get(url).status_code == 200, url
    assert f'<a href="{REVIEW}">Показания на проверку</a>' in index
    assert "ждут решения: 1" in index
    assert f'<a href="{IMPORT}">Загрузить показания из файла</a>' in index
    granted = set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
    assert {"view_reading", "add_reading", "change_reading"} <= granted
    assert "delete_reading" not in granted or role == ADMINISTRATOR
