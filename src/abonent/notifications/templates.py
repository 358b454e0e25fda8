"""The texts of messages to subscribers: the built-in ones, the operators' templates that
replace them (per supplier and language), and filling them with an account's data.

A text has ``{name}`` placeholders and nothing else: no attributes, no formatting, no
logic, so a template an operator writes can neither break a send nor reach anything it was
not given. The values are prepared strings (money the Russian way, dates as 05.11.2026).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from abonent.notifications.enums import Channel, Kind

#: Every message may use these.
COMMON = ("supplier", "hotline", "account", "address", "portal")

#: What else each kind's data has.
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    Kind.READINGS_OPEN: ("period", "opens", "closes"),
    Kind.READINGS_LAST_DAY: ("period", "opens", "closes"),
    Kind.BILL_READY: ("period", "amount", "due_date"),
    Kind.PAYMENT_DUE: ("period", "amount", "due_date"),
    Kind.DEBT: ("amount", "due_date"),
    Kind.DEBT_NOTICE: ("amount", "periods"),
    Kind.METER_VERIFICATION: ("meter_serial", "verification_due", "days_left"),
    Kind.CONTRACT_ENDING: ("contract_number", "contract_ends", "days_left"),
    Kind.APPEAL_UPDATE: ("title", "text"),
    Kind.PAYMENT_CONFIRMED: ("amount", "paid_on"),
    Kind.ANNOUNCEMENT: ("title", "text"),
    Kind.SAFETY_NOTICE: ("title", "text"),
    Kind.BILL_BY_EMAIL: ("period", "amount", "due_date"),
}


@dataclass(frozen=True)
class Text:
    """A built-in text: the title, the full text (e-mail, the portal) and the short one
    (SMS, push)."""

    title: Promise
    body: Promise
    short: Promise


BUILT_IN: dict[str, Text] = {
    Kind.READINGS_OPEN: Text(
        _("Приём показаний за {period} открыт"),
        _(
            "Здравствуйте!\n\nПо лицевому счёту {account} ({address}) принимаются показания счётчика газа "
            "за {period}: с {opens} по {closes} включительно. Передать их можно в личном кабинете: {portal}\n\n"
            "{supplier}, горячая линия {hotline}"
        ),
        _("Передайте показания газа за {period} по л/с {account} до {closes} включительно."),
    ),
    Kind.READINGS_LAST_DAY: Text(
        _("Сегодня последний день приёма показаний"),
        _(
            "Здравствуйте!\n\nПо лицевому счёту {account} ({address}) ещё нет показаний за {period}. "
            "Сегодня, {closes}, последний день приёма. Показания, переданные позже, будут учтены в следующем "
            "месяце, а за {period} расход начислят по среднему или по нормативу.\n\n"
            "Передать показания: {portal}\n\n{supplier}, горячая линия {hotline}"
        ),
        _("Сегодня, {closes}, последний день приёма показаний газа по л/с {account}."),
    ),
    Kind.BILL_READY: Text(
        _("Квитанция за {period}"),
        _(
            "Здравствуйте!\n\nГотова квитанция за {period} по лицевому счёту {account} ({address}).\n"
            "К оплате: {amount} до {due_date}.\n\nКвитанция и оплата без комиссии: {portal}\n\n"
            "{supplier}, горячая линия {hotline}"
        ),
        _("Квитанция за {period} по л/с {account}: к оплате {amount} до {due_date}."),
    ),
    Kind.PAYMENT_DUE: Text(
        _("Оплатите газ до {due_date}"),
        _(
            "Здравствуйте!\n\nПо лицевому счёту {account} ({address}) к оплате {amount} до {due_date}.\n"
            "Оплатить без комиссии: {portal}\n\nЕсли вы уже оплатили, не обращайте внимания на это письмо.\n\n"
            "{supplier}, горячая линия {hotline}"
        ),
        _("Оплатите газ по л/с {account}: {amount} до {due_date}."),
    ),
    Kind.DEBT: Text(
        _("Задолженность за газ"),
        _(
            "Здравствуйте!\n\nПо лицевому счёту {account} ({address}) задолженность {amount}: срок оплаты "
            "{due_date} прошёл. На просроченную сумму начисляются пени (ЖК РФ, ст. 155, ч. 14).\n"
            "Оплатить без комиссии: {portal}\n\nЕсли вы уже оплатили, платёж будет учтён, как только банк "
            "передаст его поставщику.\n\n{supplier}, горячая линия {hotline}"
        ),
        _("Задолженность по л/с {account}: {amount}. Срок оплаты {due_date} прошёл."),
    ),
    Kind.DEBT_NOTICE: Text(
        _("Уведомление о задолженности за газ"),
        _(
            "Здравствуйте!\n\nПо лицевому счёту {account} ({address}) не оплачен газ за {periods}: "
            "задолженность {amount}.\n\nПри неоплате двух расчётных периодов подряд поставщик вправе "
            "приостановить подачу газа, уведомив абонента не позднее чем за 40 дней (Правила поставки газа, "
            "утв. постановлением Правительства РФ № 549, п. 45 и 46). Чтобы этого не произошло, оплатите "
            "задолженность или свяжитесь с нами.\n\nОплатить без комиссии: {portal}\n\n"
            "{supplier}, горячая линия {hotline}"
        ),
        _("Не оплачен газ за {periods} по л/с {account}: долг {amount}. Возможно приостановление подачи газа."),
    ),
    Kind.METER_VERIFICATION: Text(
        _("Поверка счётчика до {verification_due}"),
        _(
            "Здравствуйте!\n\nСрок поверки счётчика газа № {meter_serial} по лицевому счёту {account} "
            "({address}) истекает {verification_due} (через {days_left} дн.). После этого его показания не "
            "принимаются к расчёту и газ начисляется по нормативу. Закажите поверку заранее.\n\n"
            "{supplier}, горячая линия {hotline}"
        ),
        _("Поверка счётчика газа № {meter_serial} (л/с {account}) — до {verification_due}."),
    ),
    Kind.CONTRACT_ENDING: Text(
        _("Договор № {contract_number} заканчивается {contract_ends}"),
        _(
            "Здравствуйте!\n\nДоговор № {contract_number} по лицевому счёту {account} ({address}) действует "
            "по {contract_ends} (осталось {days_left} дн.). Продлите его или заключите новый заранее.\n\n"
            "{supplier}, горячая линия {hotline}"
        ),
        _("Договор № {contract_number} (л/с {account}) действует по {contract_ends}."),
    ),
    Kind.APPEAL_UPDATE: Text(_("{title}"), _("{text}"), _("{title}. Подробности в личном кабинете.")),
    Kind.PAYMENT_CONFIRMED: Text(
        _("Оплата {amount} зачислена"),
        _(
            "Здравствуйте!\n\nОплата {amount} от {paid_on} по лицевому счёту {account} ({address}) зачислена. "
            "Спасибо!\n\n{supplier}, горячая линия {hotline}"
        ),
        _("Оплата {amount} по л/с {account} зачислена."),
    ),
    Kind.ANNOUNCEMENT: Text(_("{title}"), _("{text}\n\n{supplier}, горячая линия {hotline}"), _("{title}")),
    Kind.SAFETY_NOTICE: Text(_("{title}"), _("{text}\n\n{supplier}, аварийная служба 104"), _("{title}: {text}")),
    Kind.BILL_BY_EMAIL: Text(
        _("Квитанция за газ за {period}, лицевой счёт {account}"),
        _(
            "Здравствуйте!\n\nКвитанция за {period} по лицевому счёту {account} ({address}) — во вложении: "
            "вы получаете её на e-mail вместо бумажной.\nК оплате: {amount} до {due_date}.\n\n"
            "{supplier}, горячая линия {hotline}"
        ),
        _("Квитанция за {period} по л/с {account} отправлена на e-mail."),
    ),
}

#: The longest texts a channel takes: an SMS of up to 5 parts of 67 Cyrillic characters.
LIMITS = {Channel.SMS: 335, Channel.PUSH: 1000}
TITLE_LIMIT = 200

_FORMATTER = string.Formatter()


def placeholders_of(kind: str) -> tuple[str, ...]:
    return COMMON + PLACEHOLDERS.get(kind, ())


def text_errors(text: str, *, kind: str) -> list[str]:
    """What is wrong with a template's text for ``kind``: unknown placeholders, braces that
    do not pair, anything besides a plain ``{name}``. Empty when it is fine."""
    allowed = placeholders_of(kind)
    try:
        parts = list(_FORMATTER.parse(text))
    except ValueError:
        return [str(_("Фигурные скобки не парные: подстановка пишется в фигурных скобках, например {amount}"))]
    errors = []
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in allowed or spec or conversion:
            errors.append(
                str(_("Подстановка {{{name}}} не известна; можно: {allowed}")).format(
                    name=name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else ""),
                    allowed=", ".join("{" + p + "}" for p in allowed),
                )
            )
    return errors


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with its placeholders replaced; one with no value becomes empty (never an error)."""
    out = []
    for literal, name, _spec, _conversion in _FORMATTER.parse(text):
        out.append(literal)
        if name is not None:
            out.append(str(values.get(name, "")))
    return "".join(out)


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str


def built_in(*, kind: str, channel: str, language: str) -> tuple[str, str]:
    """The built-in (title, body) of ``kind`` on ``channel`` in ``language``."""
    text = BUILT_IN[kind]
    with translation.override(language):
        body = text.short if channel in (Channel.SMS, Channel.PUSH) else text.body
        return str(text.title), str(body)


def render(*, title: str, body: str, channel: str, values: Mapping[str, str]) -> Rendered:
    """Fill a template for ``channel``, cut to what the channel takes."""
    rendered_title = fill(title, values).strip()[:TITLE_LIMIT]
    rendered_body = fill(body, values).strip()
    limit = LIMITS.get(channel)  # type: ignore[call-overload]
    if limit and len(rendered_body) > limit:
        rendered_body = rendered_body[: limit - 1].rstrip() + "…"
    return Rendered(title=rendered_title, body=rendered_body)
