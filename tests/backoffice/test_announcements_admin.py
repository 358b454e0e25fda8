"""Announcements in the back office: a draft written through the service and its page with
the audience, what the service refuses shown next to the field with nothing written, the
draft changed, «Разослать» asked again and sent once however many times it is pressed, a
sent one read-only, the safety notice explained; who may do what."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.test import Client

from abonent.core.models import AuditRecord, Supplier
from abonent.customers.models import AccountLink
from abonent.identity.models import User
from abonent.identity.roles import OPERATOR, SENIOR_OPERATOR
from abonent.notifications.enums import Channel, Kind
from abonent.notifications.models import Delivery, Notification
from abonent.reminders.enums import AnnouncementStatus
from abonent.reminders.models import Announcement
from abonent.reminders.services import announcement_create
from tests.backoffice.staff import staff, subscriber_make
from tests.factories import account_make

pytestmark = pytest.mark.django_db

#: Monday 23.11.2026, 10:00 in Moscow.
NOW = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)
LIST = "/backoffice/reminders/announcement/"
ADD = f"{LIST}add/"
TITLE = "Плановые работы 25.11"
TEXT = "25.11.2026 с 9:00 до 17:00 подача газа на ул. Садовая будет приостановлена."


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> dt.datetime:
    monkeypatch.setattr("abonent.core.clock.now", lambda: NOW)
    return NOW


def link(user: User, supplier: Supplier, number: str, **address: Any) -> None:
    account = account_make(supplier=supplier, number=number, **address)
    AccountLink.objects.create(user=user, account=account, proof="pin", channel="web", linked_at=NOW)


@pytest.fixture
def audience(supplier: Supplier) -> dict[str, User]:
    """Two subscribers in Podolsk (Садовая and Лесная) and one in Tula."""
    people = {
        "maria": subscriber_make("maria", phone="+79123456789", email="maria@example.org", now=NOW),
        "petr": subscriber_make("petr", phone="+79261112233", email="petr@example.org", now=NOW),
        "olga": subscriber_make("olga", phone="+79035554433", email=None, now=NOW),
    }
    link(people["maria"], supplier, "770000000001", street="ул. Садовая")
    link(people["petr"], supplier, "770000000002", street="ул. Лесная")
    link(people["olga"], supplier, "770000000003", locality="г. Тула", street="ул. Ленина")
    return people


@pytest.fixture
def operator() -> Client:
    return staff(OPERATOR)


@pytest.fixture
def senior() -> Client:
    return staff(SENIOR_OPERATOR, "senior")


def draft(supplier: Supplier, **fields: Any) -> Announcement:
    values = {"title": TITLE, "text": TEXT, "locality": "г. Подольск", **fields}
    return announcement_create(supplier=supplier, actor=User.objects.get(username="senior"), now=NOW, **values)


def page(announcement: Announcement) -> str:
    return f"{LIST}{announcement.pk}/change/"


def send_url(announcement: Announcement) -> str:
    return f"{LIST}{announcement.pk}/send/"


def said(response: HttpResponse) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]


def form_data(supplier: Supplier, /, **values: Any) -> dict[str, Any]:
    return {"supplier": supplier.pk, "locality": "г. Подольск", "street": "", "title": TITLE, "text": TEXT, **values}


# --- Who may do what --------------------------------------------------------------------


def test_an_operator_sees_announcements_but_neither_writes_nor_sends_them(
    operator: Client, senior: Client, supplier: Supplier, audience: dict[str, User]
) -> None:
    announcement = draft(supplier)

    assert operator.get(LIST).status_code == 200
    html = operator.get(page(announcement)).content.decode()
    assert TEXT in html
    assert 'id="announcement_form"' not in html
    assert send_url(announcement) not in html
    assert operator.get(ADD).status_code == 403
    assert operator.post(ADD, form_data(supplier)).status_code == 403
    assert operator.get(send_url(announcement)).status_code == 403
    assert operator.post(send_url(announcement)).status_code == 403
    assert operator.post(page(announcement), {"title": "Другое", "text": TEXT}).status_code == 403
    announcement.refresh_from_db()
    assert (announcement.status, announcement.title, Announcement.objects.count()) == (
        AnnouncementStatus.DRAFT, TITLE, 1,
    )  # fmt: skip
    assert Notification.objects.count() == 0


def test_staff_without_a_role_see_nothing(supplier: Supplier, senior: Client) -> None:
    announcement = draft(supplier)
    nobody = staff(None, "nobody")

    for url in (LIST, ADD, page(announcement), send_url(announcement)):
        assert nobody.get(url).status_code == 403, url


def test_the_generic_delete_is_closed(supplier: Supplier, senior: Client) -> None:
    admin = staff(None, "adm", superuser=True)
    announcement = draft(supplier)

    assert admin.post(f"{LIST}{announcement.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Announcement.objects.count() == 1


# --- A draft ----------------------------------------------------------------------------


def test_a_senior_operator_writes_a_draft_and_sees_whom_it_reaches(
    senior: Client, supplier: Supplier, audience: dict[str, User]
) -> None:
    response = senior.post(ADD, form_data(supplier, title="  Плановые   работы 25.11 ", safety=""))

    announcement = Announcement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == page(announcement)
    assert said(response) == ["Черновик сохранён. Проверьте, кому он придёт, и нажмите «Разослать»."]
    assert (announcement.supplier_id, announcement.locality, announcement.street, announcement.title) == (
        supplier.pk, "г. Подольск", "", TITLE,
    )  # fmt: skip
    assert (announcement.text, announcement.safety, announcement.status) == (TEXT, False, AnnouncementStatus.DRAFT)
    assert (announcement.created_by.username, announcement.created_at, announcement.sent_at) == ("senior", NOW, None)

    response = senior.get(page(announcement))
    assert response.context["audience"] == 2
    html = response.content.decode()
    assert '<td id="announcement-audience">2</td>' in html
    assert "г. Подольск" in html
    assert f'href="{send_url(announcement)}"' in html
    assert "Обычное объявление: учитывает настройки абонентов, SMS и push ждут утра" in html
    assert Notification.objects.count() == 0


def test_the_audience_narrows_to_a_street_or_widens_to_the_supplier(
    senior: Client, supplier: Supplier, audience: dict[str, User]
) -> None:
    street = draft(supplier, street="ул. Садовая")
    everyone = draft(supplier, locality="")

    assert senior.get(page(street)).context["audience"] == 1
    assert senior.get(page(everyone)).context["audience"] == 3
    assert senior.get(page(everyone)).context["area"] == "все абоненты поставщика"
    assert senior.get(page(street)).context["area"] == "г. Подольск, ул. Садовая"


@pytest.mark.parametrize(
    ("values", "field", "error"),
    [
        ({"title": "   "}, "title", "Напишите заголовок: его видно в push-уведомлении и в списке"),
        ({"title": "Т" * 121}, "title", "Заголовок — до 120 символов"),
        ({"text": ""}, "text", "Напишите текст объявления"),
        ({"text": "Т" * 2001}, "text", "Текст — до 2000 символов"),
        ({"locality": "", "street": "ул. Садовая"}, "street", "Улица указывается вместе с населённым пунктом"),
        ({"locality": "г" * 151}, "locality", "Не длиннее 150 символов"),
        ({"supplier": ""}, "supplier", "Выберите поставщика"),
    ],
)
def test_a_wrong_draft_is_refused_next_to_the_field_and_nothing_is_written(
    senior: Client, supplier: Supplier, values: dict[str, Any], field: str, error: str
) -> None:
    response = senior.post(ADD, form_data(supplier, **values))

    assert response.status_code == 200
    assert response.context["form"].errors == {field: [error]}
    assert "Ничего не сохранено — исправьте отмеченное ниже." in response.content.decode()
    assert Announcement.objects.count() == 0
    assert AuditRecord.objects.filter(action="announcement.send").count() == 0


def test_a_draft_is_changed_through_the_service_and_a_wrong_change_is_not_saved(
    senior: Client, supplier: Supplier, audience: dict[str, User]
) -> None:
    announcement = draft(supplier)

    response = senior.post(page(announcement), {"locality": "г. Подольск", "street": "ул. Садовая",
                                                "title": "Работы перенесены", "text": TEXT, "safety": "on"})  # fmt: skip
    assert response.status_code == 302
    assert said(response) == ["Черновик сохранён."]
    announcement.refresh_from_db()
    assert (announcement.street, announcement.title, announcement.safety) == ("ул. Садовая", "Работы перенесены", True)

    response = senior.post(page(announcement), {"locality": "", "street": "ул. Садовая", "title": "", "text": TEXT})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "title": ["Напишите заголовок: его видно в push-уведомлении и в списке"],
        "street": ["Улица указывается вместе с населённым пунктом"],
    }
    announcement.refresh_from_db()
    assert (announcement.locality, announcement.title, announcement.status) == (
        "г. Подольск", "Работы перенесены", AnnouncementStatus.DRAFT,
    )  # fmt: skip


# --- «Разослать» -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # the job runs when the sending commits, as on a server
def test_sending_asks_again_with_the_audience_then_sends_once(
    senior: Client, supplier: Supplier, audience: dict[str, User]
) -> None:
    announcement = draft(supplier)

    response = senior.get(send_url(announcement))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<strong id="announcement-audience">2</strong>' in html
    assert "Объявление придёт по каналам, которые абонент выбрал в настройках" in html
    assert Announcement.objects.get().status == AnnouncementStatus.DRAFT  # a GET sends nothing

    response = senior.post(send_url(announcement))

    assert response.status_code == 302
    assert response["Location"] == page(announcement)
    assert said(response) == ["Объявление разослано: уведомлено 2; e-mail 2."]
    announcement.refresh_from_db()
    assert (announcement.status, announcement.sent_at, announcement.sent_by.username) == (
        AnnouncementStatus.SENT, NOW, "senior",
    )  # fmt: skip
    assert announcement.summary == {"notified": 2, "repeated": 0, "email": 2}
    assert sorted(Notification.objects.values_list("user__username", "kind", "title")) == [
        ("maria", Kind.ANNOUNCEMENT, TITLE),
        ("petr", Kind.ANNOUNCEMENT, TITLE),
    ]
    assert sorted(Delivery.objects.values_list("channel", "recipient")) == [
        (Channel.EMAIL, "maria@example.org"),
        (Channel.EMAIL, "petr@example.org"),
    ]
    record = AuditRecord.objects.get(action="announcement.send")
    assert (record.object_id, record.channel, record.before, record.after) == (
        str(announcement.pk), "backoffice", {"status": "draft"}, {"status": "sending", "safety": False},
    )  # fmt: skip

    html = senior.get(page(announcement)).content.decode()
    assert '<td id="announcement-told">уведомлено 2; e-mail 2</td>' in html
    assert 'id="announcement_form"' not in html
    assert send_url(announcement) not in html

    # pressed again: nothing more is sent
    again = senior.post(send_url(announcement))
    assert said(again) == ["Объявление уже разослано"]
    assert Notification.objects.count() == 2
    assert Delivery.objects.count() == 2
    assert AuditRecord.objects.filter(action="announcement.send").count() == 1


def test_a_second_press_while_the_job_has_not_run_sends_nothing(
    senior: Client, supplier: Supplier, audience: dict[str, User]
) -> None:
    announcement = draft(supplier)

    first = senior.post(send_url(announcement))
    assert said(first) == ["Объявление отправлено в рассылку: итоги появятся на этой странице."]
    senior.get(page(announcement))  # the message is shown
    second = senior.post(send_url(announcement))

    assert said(second) == ["Объявление уже разослано"]
    announcement.refresh_from_db()
    assert announcement.status == AnnouncementStatus.SENDING
    assert AuditRecord.objects.filter(action="announcement.send").count() == 1
    assert "рассылка идёт; итоги появятся, когда она закончится" in senior.get(page(announcement)).content.decode()


def test_a_sent_announcement_is_not_changed(senior: Client, supplier: Supplier, audience: dict[str, User]) -> None:
    announcement = draft(supplier)
    senior.post(send_url(announcement))
    senior.get(page(announcement))  # the message is shown

    response = senior.post(page(announcement), {"locality": "", "title": "Другое", "text": "Другой текст"})

    assert response.status_code == 302
    assert said(response) == ["Объявление уже разослано: разосланное не меняется"]
    announcement.refresh_from_db()
    assert (announcement.title, announcement.locality, announcement.text) == (TITLE, "г. Подольск", TEXT)


def test_a_safety_notice_is_explained_and_reaches_every_channel(
    senior: Client, supplier: Supplier, audience: dict[str, User], django_capture_on_commit_callbacks: Any
) -> None:
    announcement = draft(supplier, locality="г. Тула", title="Утечка газа на ул. Ленина", safety=True)

    html = senior.get(send_url(announcement)).content.decode()
    assert "Это сообщение о безопасности: оно придёт всем по всем каналам" in html
    assert '<strong id="announcement-audience">1</strong>' in html
    with django_capture_on_commit_callbacks(execute=True):
        response = senior.post(send_url(announcement))

    assert said(response) == ["Объявление отправлено в рассылку: итоги появятся на этой странице."]
    announcement.refresh_from_db()
    assert (announcement.status, announcement.summary) == (
        AnnouncementStatus.SENT, {"notified": 1, "repeated": 0, "sms": 1},
    )  # fmt: skip
    assert list(Notification.objects.values_list("user__username", "kind")) == [("olga", Kind.SAFETY_NOTICE)]
    assert list(Delivery.objects.values_list("channel", "recipient")) == [(Channel.SMS, "+79035554433")]


def test_an_unknown_announcement_is_not_found(senior: Client) -> None:
    assert senior.get(f"{LIST}999/change/").status_code == 404
    assert senior.post(f"{LIST}999/send/").status_code == 404
