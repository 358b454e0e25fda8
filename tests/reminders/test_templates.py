"""The texts of reminders: a supplier's own template over the one for all suppliers over the
built-in text, in the recipient's language; a template's placeholders checked when it is
saved; the text of an SMS cut to what one can carry."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from abonent.core.models import Supplier
from abonent.notifications.enums import Channel, Kind
from abonent.notifications.models import Delivery, Notification, Template
from abonent.notifications.services import Occasion, Recipient, notify_many, preferences_set
from abonent.notifications.templates import fill, render
from abonent.reminders.services import reminders_run
from tests.reminders.conftest import KALININGRAD, local, subscriber_make

pytestmark = pytest.mark.django_db

OPENS = dt.date(2026, 11, 15)
E, S, P, W = Channel.EMAIL, Channel.SMS, Channel.PUSH, Channel.PORTAL
UPDATED = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


def template(kind: str, channel: str, body: str, subject: str = "", **fields: Any) -> Template:
    row = Template(kind=kind, channel=channel, body=body, subject=subject, updated_at=UPDATED, **fields)
    row.full_clean()
    row.save()
    return row


def texts(user_id: int) -> dict[str, tuple[str, str]]:
    """What the user got: channel → (title, text); the portal's is the notification's."""
    notification = Notification.objects.get(user_id=user_id)
    got: dict[str, tuple[str, str]] = {W: (notification.title, notification.body)}
    for channel, subject, body in Delivery.objects.filter(user_id=user_id).values_list("channel", "subject", "body"):
        got[channel] = (subject, body)
    return got


def test_a_supplier_s_template_over_the_one_for_all_over_the_built_in_text(
    supplier: Supplier, kaliningrad: Supplier
) -> None:
    moscow = subscriber_make(supplier, 1, device=True)
    there = subscriber_make(kaliningrad, 2, device=True)
    template(Kind.READINGS_OPEN, P, "Все поставщики: показания по л/с {account} до {closes}", "Показания")
    template(Kind.READINGS_OPEN, P, "{supplier}: показания по л/с {account} с {opens}", "Пора!", supplier=supplier)
    template(Kind.READINGS_OPEN, W, "Кабинет: {period}, {address}", "Показания за {period}", supplier=kaliningrad)

    reminders_run(supplier=supplier, now=local(OPENS, 11))
    reminders_run(supplier=kaliningrad, now=local(OPENS, 11, zone=KALININGRAD))

    assert texts(moscow.user.pk) == {
        W: (
            "Приём показаний за ноябрь 2026 открыт",  # built in: no template for the portal here
            "Здравствуйте!\n\nПо лицевому счёту 770000000001 (г. Подольск, ул. Садовая, д. 12, кв. 34) "
            "принимаются показания счётчика газа за ноябрь 2026: с 15.11.2026 по 25.11.2026 включительно. "
            "Передать их можно в личном кабинете: https://lk.gaz-msk.example/\n\n"
            "Газпром межрегионгаз Москва, горячая линия 8 800 100-00-01",
        ),
        P: ("Пора!", "Газпром межрегионгаз Москва: показания по л/с 770000000001 с 15.11.2026"),
    }
    assert texts(there.user.pk) == {
        W: ("Показания за ноябрь 2026", "Кабинет: ноябрь 2026, г. Подольск, ул. Садовая, д. 12, кв. 34"),
        P: ("Показания", "Все поставщики: показания по л/с 390000000002 до 25.11.2026"),
    }


def test_a_user_who_reads_english_gets_the_english_template_and_the_others_the_russian(supplier: Supplier) -> None:
    english = subscriber_make(supplier, 1, device=True, language="en")
    russian = subscriber_make(supplier, 2, device=True)
    template(
        Kind.READINGS_OPEN,
        P,
        "Send your gas meter reading for account {account} by {closes}.",
        "Readings",
        language="en",
    )
    template(Kind.READINGS_OPEN, P, "Передайте показания по л/с {account} до {closes}.", "Показания")

    reminders_run(supplier=supplier, now=local(OPENS, 11))

    assert texts(english.user.pk)[P] == (
        "Readings",
        "Send your gas meter reading for account 770000000001 by 25.11.2026.",
    )
    assert texts(russian.user.pk)[P] == ("Показания", "Передайте показания по л/с 770000000002 до 25.11.2026.")


def test_a_supplier_s_russian_template_is_not_used_for_an_english_reader(supplier: Supplier) -> None:
    english = subscriber_make(supplier, 1, device=True, language="en")
    template(Kind.READINGS_OPEN, P, "Свой текст {account}", "Свой", supplier=supplier)
    template(Kind.READINGS_OPEN, P, "For all suppliers: {account}", "All", language="en")

    reminders_run(supplier=supplier, now=local(OPENS, 11))

    assert texts(english.user.pk)[P] == ("All", "For all suppliers: 770000000001")


def test_a_template_with_an_unknown_placeholder_is_refused() -> None:
    row = Template(
        kind=Kind.READINGS_OPEN,
        channel=S,
        subject="",
        body="К оплате {amount} по л/с {account}",
        updated_at=UPDATED,
    )

    with pytest.raises(ValidationError) as error:
        row.full_clean()

    assert error.value.message_dict == {
        "body": [
            "Подстановка {amount} не известна; можно: {supplier}, {hotline}, {account}, {address}, {portal}, "
            "{period}, {opens}, {closes}"
        ]
    }


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"subject": "Долг {amount!r}", "body": "{amount:>10}"},
            {
                "subject": [
                    "Подстановка {amount!r} не известна; можно: {supplier}, {hotline}, {account}, {address}, "
                    "{portal}, {amount}, {due_date}"
                ],
                "body": [
                    "Подстановка {amount:>10} не известна; можно: {supplier}, {hotline}, {account}, {address}, "
                    "{portal}, {amount}, {due_date}"
                ],
            },
        ),
        (
            {"body": "Долг {amount"},
            {"body": ["Фигурные скобки не парные: подстановка пишется в фигурных скобках, например {amount}"]},
        ),
        ({"body": "   "}, {"body": ["Текст сообщения не может быть пустым"]}),
        ({"channel": S, "body": "д" * 336}, {"body": ["Для канала «SMS» текст — не длиннее 335 символов"]}),
    ],
)
def test_a_bad_template_is_refused_with_what_to_fix(fields: dict[str, str], errors: dict[str, list[str]]) -> None:
    values = {"kind": Kind.DEBT, "channel": E, "subject": "Долг", "updated_at": UPDATED, **fields}

    with pytest.raises(ValidationError) as error:
        Template(**values).clean()

    assert error.value.message_dict == errors


def test_a_template_may_use_every_placeholder_of_its_kind_and_doubled_braces() -> None:
    Template(
        kind=Kind.METER_VERIFICATION,
        channel=E,
        subject="{{важно}} Поверка {meter_serial}",
        body="{supplier} {hotline} {account} {address} {portal} {meter_serial} {verification_due} {days_left}",
        updated_at=UPDATED,
    ).clean()


def test_an_sms_longer_than_five_parts_is_cut_with_an_ellipsis(supplier: Supplier) -> None:
    person = subscriber_make(supplier, 1)
    preferences_set(user=person.user, choices={(Kind.READINGS_OPEN, S): True}, now=local(OPENS, 9))
    template(Kind.READINGS_OPEN, S, "Показания по адресу {address}: " + "очень длинный текст " * 15)
    assert len(Template.objects.get().body) <= 335

    reminders_run(supplier=supplier, now=local(OPENS, 11))

    sms = Delivery.objects.get(channel=S).body
    assert len(sms) == 335
    assert sms.startswith("Показания по адресу г. Подольск, ул. Садовая, д. 12, кв. 34: очень длинный текст")
    assert sms.endswith("…")
    assert "очень длинный текст очень длинный" in sms


def test_filling_a_text() -> None:
    assert fill("{account} {unknown} {{literal}}", {"account": "770000000001"}) == "770000000001  {literal}"
    rendered = render(title="Т" * 250, body="  текст  ", channel=P, values={})
    assert (len(rendered.title), rendered.body) == (200, "текст")
    long = render(title="", body="ж" * 1200, channel=P, values={})
    assert (len(long.body), long.body[-1]) == (1000, "…")
    assert render(title="", body="ж" * 1200, channel=E, values={}).body == "ж" * 1200


def test_the_supplier_s_name_and_hotline_and_the_portal_come_with_every_message(supplier: Supplier) -> None:
    person = subscriber_make(supplier, 1)
    template(Kind.APPEAL_UPDATE, W, "{text} — {supplier}, {hotline}, {portal}", "{title}")
    occasion = Occasion(
        recipient=Recipient(user_id=person.user.pk),
        key="appeal:1:answer",
        values={"title": "Обращение № 1: дан ответ", "text": "Ответ готов"},
    )

    notify_many(kind=Kind.APPEAL_UPDATE, occasions=[occasion], supplier=supplier, now=local(OPENS, 11))

    assert texts(person.user.pk) == {
        W: (
            "Обращение № 1: дан ответ",
            "Ответ готов — Газпром межрегионгаз Москва, 8 800 100-00-01, https://lk.gaz-msk.example/",
        )
    }
