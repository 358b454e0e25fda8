"""The back office for messages: the delivery log found by a phone however written, an
e-mail or a user number and narrowed by its filters, read-only and without the texts; the
notifications with their deliveries; devices and preferences; the message templates with
their placeholders, the built-in text and a preview, and what their check refuses with
nothing saved; who may see and do what."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client

from abonent.backoffice.admin_notifications import token_short
from abonent.core.models import Supplier
from abonent.identity.models import User
from abonent.identity.roles import ADMINISTRATOR, OPERATOR, SENIOR_OPERATOR
from abonent.identity.selectors import recipient_of
from abonent.notifications.enums import Channel, DeliveryStatus, Kind, PushPlatform
from abonent.notifications.models import Delivery, Notification, Preference, PushDevice, Template
from abonent.notifications.services import (
    Occasion,
    notify_many,
    preferences_set,
    push_device_register,
    sms_send,
)
from abonent.notifications.templates import Rendered
from tests.backoffice.staff import staff, subscriber_make

pytestmark = pytest.mark.django_db

#: Monday 23.11.2026, 10:00 in Moscow.
NOW = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)
TOKEN = "fcm:" + "dGVzdC1kZXZpY2UtdG9rZW4" * 6 + "-end42"
LOG = "/backoffice/notifications/delivery/"
CENTRE = "/backoffice/notifications/notification/"
DEVICES = "/backoffice/notifications/pushdevice/"
PREFERENCES = "/backoffice/notifications/preference/"
TEMPLATES = "/backoffice/notifications/template/"
UNKNOWN_FOO = (
    "Подстановка {foo} не известна; можно: {supplier}, {hotline}, {account}, {address}, {portal}, "
    "{period}, {amount}, {due_date}"
)
UNPAIRED = "Фигурные скобки не парные: подстановка пишется в фигурных скобках, например {amount}"


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> dt.datetime:
    monkeypatch.setattr("abonent.core.clock.now", lambda: NOW)
    return NOW


@pytest.fixture
def maria() -> User:
    return subscriber_make("maria", phone="+79123456789", email="Maria@Example.org", now=NOW)


@pytest.fixture
def petr() -> User:
    return subscriber_make("petr", phone="+79261112233", email="petr@example.org", now=NOW, last_name="Петров")


@pytest.fixture
def told(supplier: Supplier, maria: User, petr: User) -> None:
    """A debt notice to both (e-mail, SMS, push to Maria's phone, the portal) and, the day
    before, a code by SMS to Maria's phone (no user: a code goes to a number)."""
    push_device_register(user=maria, platform=PushPlatform.FCM, token=TOKEN, name="Pixel 7", now=NOW)
    occasions = [
        Occasion(
            recipient=recipient_of(user),
            key=f"debt_notice:{user.pk}:2026-10",
            values={"account": "770000000001", "address": "г. Подольск", "amount": "2 345,67 ₽", "periods": "2"},
            account_id=None,
        )
        for user in (maria, petr)
    ]
    notify_many(kind=Kind.DEBT_NOTICE, occasions=occasions, supplier=supplier, now=NOW)
    sms_send(phone="+79123456789", text="Код подтверждения: 4321", now=NOW - dt.timedelta(days=1))


def rows(response: HttpResponse) -> list[tuple[str, str, str]]:
    assert response.status_code == 200
    return [(d.channel, d.kind, d.recipient) for d in response.context["cl"].result_list]  # type: ignore[attr-defined]


@pytest.fixture
def operator() -> Client:
    return staff(OPERATOR)


@pytest.fixture
def senior() -> Client:
    return staff(SENIOR_OPERATOR, "senior")


# --- Who may see what ----------------------------------------------------------------------


def test_operators_see_the_log_the_notifications_and_the_templates(
    told: None, operator: Client, senior: Client
) -> None:
    delivery = Delivery.objects.filter(channel=Channel.SMS).first()
    notification = Notification.objects.first()
    assert delivery is not None
    assert notification is not None
    for client in (operator, senior):
        for url in (LOG, f"{LOG}{delivery.pk}/change/", CENTRE, f"{CENTRE}{notification.pk}/change/", TEMPLATES):
            assert client.get(url).status_code == 200, url
        # devices and preferences are the administrators'
        assert client.get(DEVICES).status_code == 403
        assert client.get(PREFERENCES).status_code == 403
    assert operator.get(f"{TEMPLATES}add/").status_code == 403
    assert senior.get(f"{TEMPLATES}add/").status_code == 200


def test_staff_without_a_role_see_none_of_it(told: None) -> None:
    nobody = staff(None, "nobody")

    for url in (LOG, CENTRE, DEVICES, PREFERENCES, TEMPLATES):
        assert nobody.get(url).status_code == 403, url


def test_the_log_is_read_only_even_for_an_administrator(told: None) -> None:
    admin = staff(ADMINISTRATOR, "adm")
    delivery = Delivery.objects.get(channel=Channel.SMS, user__username="maria")
    notification = Notification.objects.get(user__username="maria")
    before = list(Delivery.objects.values_list("pk", "status", "recipient", "attempts").order_by("pk"))

    assert admin.get(f"{LOG}add/").status_code == 403
    assert admin.post(f"{LOG}{delivery.pk}/change/", {"recipient": "+70000000000"}).status_code == 403
    assert admin.post(f"{LOG}{delivery.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin.post(f"{CENTRE}{notification.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin.post(LOG, {"action": "delete_selected", "_selected_action": [delivery.pk]}).status_code == 200
    assert list(Delivery.objects.values_list("pk", "status", "recipient", "attempts").order_by("pk")) == before
    assert Notification.objects.count() == 2


# --- The delivery log ----------------------------------------------------------------------


MARIA_SMS = [
    (Channel.SMS, Kind.DEBT_NOTICE, "+79123456789"),
    (Channel.SMS, "message", "+79123456789"),
]


@pytest.mark.parametrize(
    "query", ["8 912 345-67-89", "+7 (912) 345 67 89", "89123456789", "+79123456789", "912 345 67 89"]
)
def test_a_phone_however_written_finds_its_messages(told: None, operator: Client, query: str) -> None:
    assert rows(operator.get(LOG, {"q": query})) == MARIA_SMS


def test_an_email_is_found_whatever_its_case(told: None, operator: Client) -> None:
    assert rows(operator.get(LOG, {"q": "maria@EXAMPLE.org"})) == [
        (Channel.EMAIL, Kind.DEBT_NOTICE, "Maria@Example.org")
    ]


def test_a_user_number_finds_the_messages_to_that_user(told: None, operator: Client, maria: User) -> None:
    expected = {
        (Channel.EMAIL, Kind.DEBT_NOTICE, "Maria@Example.org"),
        (Channel.SMS, Kind.DEBT_NOTICE, "+79123456789"),
        (Channel.PUSH, Kind.DEBT_NOTICE, TOKEN),
    }

    assert set(rows(operator.get(LOG, {"q": str(maria.pk)}))) == expected
    assert set(rows(operator.get(LOG, {"q": f"№ {maria.pk}"}))) == expected


def test_a_search_that_names_nobody_finds_nothing(told: None, operator: Client) -> None:
    assert rows(operator.get(LOG, {"q": "+7 999 000-00-00"})) == []
    assert rows(operator.get(LOG, {"q": "nobody@example.org"})) == []


def test_filters_by_channel_state_kind_supplier_and_days(
    told: None, operator: Client, supplier: Supplier, petr: User
) -> None:
    assert rows(operator.get(LOG, {"channel__exact": "push"})) == [(Channel.PUSH, Kind.DEBT_NOTICE, TOKEN)]
    assert rows(operator.get(LOG, {"kind": "message"})) == [(Channel.SMS, "message", "+79123456789")]
    assert rows(operator.get(LOG, {"q": str(petr.pk), "channel__exact": "sms"})) == [
        (Channel.SMS, Kind.DEBT_NOTICE, "+79261112233")
    ]
    assert len(rows(operator.get(LOG, {"supplier__id__exact": supplier.pk}))) == 5
    assert rows(operator.get(LOG, {"status__exact": DeliveryStatus.SENT})) == []
    # the code was sent the day before (22.11 in Moscow), the notice on the 23rd
    assert rows(operator.get(LOG, {"since": "2026-11-22", "until": "2026-11-22"})) == [
        (Channel.SMS, "message", "+79123456789")
    ]
    assert len(rows(operator.get(LOG, {"since": "23.11.2026"}))) == 5
    assert rows(operator.get(LOG, {"until": "2026-11-21"})) == []


def test_a_day_that_is_not_a_date_is_refused(told: None, operator: Client) -> None:
    response = operator.get(LOG, {"since": "вчера"})

    assert response.status_code == 302
    assert response["Location"] == f"{LOG}?e=1"


def test_the_log_shows_its_columns_with_push_tokens_shortened(told: None, operator: Client) -> None:
    html = operator.get(LOG, {"q": "maria@example.org"}).content.decode()

    assert "Maria@Example.org" in html
    assert "уведомление о задолженности за два периода" in html
    assert "Газпром межрегионгаз Москва" in html
    assert "Иванова Мария, №\u00a0" in html
    assert "23.11.2026 10:00" in html  # created and next attempt, in the back office's time zone

    html = operator.get(LOG, {"channel__exact": "push"}).content.decode()
    assert token_short(TOKEN) in html
    assert TOKEN not in html
    assert token_short(TOKEN) == "fcm:dGVzdC1k…-end42"


def test_a_delivery_page_shows_what_happened_but_not_the_text(told: None, operator: Client) -> None:
    delivery = Delivery.objects.get(channel=Channel.SMS, user__username="maria")
    assert delivery.body  # still waiting to be sent: the text is in the row

    html = operator.get(f"{LOG}{delivery.pk}/change/").content.decode()

    assert delivery.body not in html
    assert "Текст не показывается: после отправки он удаляется из журнала (в нём бывают коды)" in html
    assert "+7 912 345-67-89" in html
    assert f'href="/backoffice/notifications/notification/{delivery.notification_id}/change/"' in html
    assert "Сохранить" not in html


def test_sent_and_failed_messages_show_the_provider_and_the_error(
    told: None, operator: Client, django_capture_on_commit_callbacks: Any
) -> None:
    failed = Delivery.objects.get(channel=Channel.EMAIL, user__username="petr")
    Delivery.objects.filter(pk=failed.pk).update(
        status=DeliveryStatus.FAILED, body="", body_purged=True, next_attempt_at=None, attempts=6,
        provider="smtp", last_error="550 5.1.1 mailbox unavailable",
    )  # fmt: skip

    response = operator.get(LOG, {"status__exact": DeliveryStatus.FAILED})

    assert rows(response) == [(Channel.EMAIL, Kind.DEBT_NOTICE, "petr@example.org")]
    html = response.content.decode()
    assert "550 5.1.1 mailbox unavailable" in html
    assert "SMTP" in html


# --- Notifications, devices, preferences ----------------------------------------------------


def test_notifications_are_found_by_the_subscribers_phone_and_show_their_deliveries(
    told: None, operator: Client, maria: User
) -> None:
    response = operator.get(CENTRE, {"q": "8 (912) 345-67-89"})

    found = list(response.context["cl"].result_list)
    assert [(n.user_id, n.kind, n.occasion) for n in found] == [
        (maria.pk, Kind.DEBT_NOTICE, f"debt_notice:{maria.pk}:2026-10")
    ]
    html = operator.get(f"{CENTRE}{found[0].pk}/change/").content.decode()
    assert found[0].title in html
    assert "+7 912 345-67-89" in html
    assert token_short(TOKEN) in html
    assert f"/backoffice/notifications/delivery/?notification__id__exact={found[0].pk}" in html
    assert rows(operator.get(LOG, {"notification__id__exact": found[0].pk})) == [  # the newest first
        (Channel.PUSH, Kind.DEBT_NOTICE, TOKEN),
        (Channel.SMS, Kind.DEBT_NOTICE, "+79123456789"),
        (Channel.EMAIL, Kind.DEBT_NOTICE, "Maria@Example.org"),
    ]


def test_notifications_filter_unread(told: None, operator: Client, maria: User) -> None:
    Notification.objects.filter(user=maria).update(read_at=NOW)

    unread = operator.get(CENTRE, {"read": "no"}).context["cl"].result_list
    read = operator.get(CENTRE, {"read": "yes"}).context["cl"].result_list

    assert [n.user.username for n in unread] == ["petr"]
    assert [n.user.username for n in read] == ["maria"]


def test_an_administrator_sees_devices_with_tokens_shortened_and_preferences(told: None, maria: User) -> None:
    preferences_set(user=maria, choices={(Kind.READINGS_OPEN, Channel.SMS): True}, now=NOW)
    admin = staff(ADMINISTRATOR, "adm")

    html = admin.get(DEVICES, {"q": "maria@example.org"}).content.decode()
    assert token_short(TOKEN) in html
    assert TOKEN not in html
    assert "Pixel 7" in html
    device = PushDevice.objects.get()
    assert TOKEN not in admin.get(f"{DEVICES}{device.pk}/change/").content.decode()
    assert admin.get(DEVICES, {"q": "+79261112233"}).context["cl"].result_list.count() == 0

    response = admin.get(PREFERENCES, {"q": "8 912 345 67 89"})
    assert [(p.kind, p.channel, p.enabled) for p in response.context["cl"].result_list] == [
        (Kind.READINGS_OPEN, Channel.SMS, True)
    ]
    assert admin.post(f"{PREFERENCES}{Preference.objects.get().pk}/change/", {"enabled": ""}).status_code == 403
    assert Preference.objects.get().enabled is True


# --- Message templates -------------------------------------------------------------------------


def template_data(**values: Any) -> dict[str, Any]:
    return {
        "supplier": "",
        "kind": Kind.BILL_READY,
        "channel": Channel.SMS,
        "language": "ru",
        "subject": "",
        "body": "Квитанция за {period}: {amount} до {due_date}. {supplier}",
        "_save": "Сохранить",
        **values,
    }


def test_a_senior_operator_adds_a_template(senior: Client, supplier: Supplier) -> None:
    response = senior.post(f"{TEMPLATES}add/", template_data(supplier=supplier.pk))

    assert response.status_code == 302
    template = Template.objects.get()
    assert (template.supplier_id, template.kind, template.channel, template.language, template.subject) == (
        supplier.pk, Kind.BILL_READY, Channel.SMS, "ru", "",
    )  # fmt: skip
    assert template.body == "Квитанция за {period}: {amount} до {due_date}. {supplier}"
    assert template.updated_at == NOW


@pytest.mark.parametrize(
    ("field", "text", "error"),
    [
        ("body", "Оплатите {foo} до {due_date}", UNKNOWN_FOO),
        ("body", "Оплатите {amount до {due_date}", UNPAIRED),
        ("subject", "Квитанция {foo}", UNKNOWN_FOO),
        ("body", "Оплатите {amount:.2f}", UNKNOWN_FOO.replace("{foo}", "{amount:.2f}")),
    ],
)
def test_a_template_with_a_wrong_placeholder_is_refused_and_not_saved(
    senior: Client, field: str, text: str, error: str
) -> None:
    response = senior.post(f"{TEMPLATES}add/", template_data(channel=Channel.EMAIL, **{field: text}))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {field: [error]}
    assert Template.objects.count() == 0


def test_a_second_template_for_the_same_kind_channel_and_language_is_refused(
    senior: Client, supplier: Supplier
) -> None:
    assert senior.post(f"{TEMPLATES}add/", template_data()).status_code == 302

    response = senior.post(f"{TEMPLATES}add/", template_data(body="Другой текст {amount}"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "__all__": ["Общий шаблон этого вида для этого канала и языка уже есть: измените его"]
    }
    # one of a supplier's own is another template; a second of the same supplier is refused
    assert senior.post(f"{TEMPLATES}add/", template_data(supplier=supplier.pk)).status_code == 302
    response = senior.post(f"{TEMPLATES}add/", template_data(supplier=supplier.pk, body="{amount}"))
    assert response.context["adminform"].form.errors == {
        "__all__": [
            "У поставщика «Газпром межрегионгаз Москва» уже есть шаблон этого вида для этого канала и языка: "
            "измените его"
        ]
    }
    assert list(Template.objects.order_by("pk").values_list("supplier", "body")) == [
        (None, "Квитанция за {period}: {amount} до {due_date}. {supplier}"),
        (supplier.pk, "Квитанция за {period}: {amount} до {due_date}. {supplier}"),
    ]


def test_the_preview_fills_the_text_with_sample_values_and_saves_nothing(senior: Client, supplier: Supplier) -> None:
    data = template_data(supplier=supplier.pk, _preview="Предпросмотр")
    del data["_save"]

    response = senior.post(f"{TEMPLATES}add/", data)

    assert response.status_code == 200
    assert response.context["preview"] == Rendered(
        title="", body="Квитанция за ноябрь 2026: 1\u202f234,56\u00a0₽ до 15.12.2026. Газпром межрегионгаз Москва"
    )
    assert not response.context["adminform"].form.errors
    assert "Символов: 79 из 335; длиннее обрезается." in response.content.decode()
    assert Template.objects.count() == 0


def test_the_preview_of_a_wrong_text_shows_the_error(senior: Client) -> None:
    response = senior.post(f"{TEMPLATES}add/", template_data(body="{foo}", _preview="Предпросмотр"))

    assert response.context["adminform"].form.errors == {"body": [UNKNOWN_FOO]}
    assert response.context["preview"] is None
    assert Template.objects.count() == 0


def test_the_form_names_the_placeholders_of_the_kind_and_its_built_in_text(senior: Client) -> None:
    response = senior.get(f"{TEMPLATES}add/", {"kind": Kind.METER_VERIFICATION, "channel": Channel.PUSH})
    html = response.content.decode()

    assert response.context["kind_chosen"] == Kind.METER_VERIFICATION
    hint = next(h for h in response.context["kind_hints"] if h.kind == Kind.METER_VERIFICATION)
    assert [name for name, _description in hint.placeholders] == [
        "{supplier}", "{hotline}", "{account}", "{address}", "{portal}",
        "{meter_serial}", "{verification_due}", "{days_left}",
    ]  # fmt: skip
    assert hint.title == "Поверка счётчика до {verification_due}"
    assert hint.short == "Поверка счётчика газа № {meter_serial} (л/с {account}) — до {verification_due}."
    assert f'<div class="message-hint" data-kind="{Kind.METER_VERIFICATION}">' in html
    assert f'<div class="message-hint" data-kind="{Kind.BILL_READY}" hidden>' in html
    assert "/backoffice/notifications/template/add/?kind=meter_verification&amp;channel=push" in html
    assert 'name="_preview"' in html


def test_an_operator_sees_a_template_with_its_preview_but_cannot_change_it(
    operator: Client, supplier: Supplier
) -> None:
    template = Template.objects.create(
        supplier=supplier, kind=Kind.PAYMENT_DUE, channel=Channel.SMS, language="ru",
        body="Оплатите {amount} до {due_date}", updated_at=NOW,
    )  # fmt: skip

    response = operator.get(f"{TEMPLATES}{template.pk}/change/")

    assert response.status_code == 200
    assert response.context["preview"] == Rendered(title="", body="Оплатите 1\u202f234,56\u00a0₽ до 15.12.2026")
    assert 'name="_preview"' not in response.content.decode()
    assert operator.post(f"{TEMPLATES}{template.pk}/change/", template_data()).status_code == 403
    assert operator.post(f"{TEMPLATES}add/", template_data()).status_code == 403
    assert list(Template.objects.values_list("body", flat=True)) == ["Оплатите {amount} до {due_date}"]
