"""The kinds, categories and statuses of appeals and applications, and what can be done to them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AppealKind(models.TextChoices):
    APPEAL = "appeal", _("обращение")
    CONNECTION = "connection", _("заявка на подключение к газу")
    FEEDBACK = "feedback", _("сообщение с сайта")


class Category(models.TextChoices):
    CHARGE = "charge", _("Вопрос по начислению")
    READINGS = "readings", _("Показания счётчика")
    PAYMENT = "payment", _("Оплата не поступила")
    METER = "meter", _("Замена или поверка счётчика")
    EQUIPMENT = "equipment", _("Обслуживание газового оборудования")
    COMPLAINT = "complaint", _("Жалоба")
    OTHER = "other", _("Другое")
    CONNECTION = "connection", _("Подключение к газовой сети")
    FEEDBACK = "feedback", _("Сообщение с сайта")


#: The categories a subscriber chooses for an appeal (the last two belong to the other kinds).
APPEAL_CATEGORIES = [
    Category.CHARGE,
    Category.READINGS,
    Category.PAYMENT,
    Category.METER,
    Category.EQUIPMENT,
    Category.COMPLAINT,
    Category.OTHER,
]
#: Categories about one account: an appeal in them names the account.
ACCOUNT_CATEGORIES = frozenset({Category.CHARGE, Category.READINGS, Category.PAYMENT, Category.METER})


class Status(models.TextChoices):
    """One list for every kind, so the queue filters by it; which statuses a kind passes
    through and in what order is the transition table in ``workflow.py``."""

    NEW = "new", _("принято")
    IN_PROGRESS = "in_progress", _("в работе")
    WAITING = "waiting", _("ждёт ответа заявителя")
    ANSWERED = "answered", _("дан ответ")
    CLOSED = "closed", _("закрыто")
    CHECKED = "checked", _("заявка проверена")
    CONTRACT_SENT = "contract_sent", _("договор направлен")
    WORKS = "works", _("выполняются работы")
    GAS_STARTED = "gas_started", _("газ пущен")
    REFUSED = "refused", _("отказано")
    WITHDRAWN = "withdrawn", pgettext_lazy("appeal status", "отозвано")


#: Statuses in which nothing more happens.
FINAL_STATUSES = frozenset({Status.CLOSED, Status.GAS_STARTED, Status.REFUSED, Status.WITHDRAWN})
#: Statuses in which the supplier owes the next step (the deadline runs).
SUPPLIER_OWES = frozenset({Status.NEW, Status.IN_PROGRESS, Status.CHECKED})


class Action(models.TextChoices):
    TAKE = "take", _("взять в работу")
    ASK = "ask", _("задать вопрос заявителю")
    ANSWER = "answer", _("ответить")
    SUBSCRIBER_REPLY = "subscriber_reply", _("ответ заявителя")
    RATE = "rate", _("оценить ответ")
    CLOSE = "close", _("закрыть")
    REOPEN = "reopen", _("вернуть в работу")
    CHECK = "check", _("отметить: заявка проверена")
    SEND_CONTRACT = "send_contract", _("отметить: договор направлен")
    START_WORKS = "start_works", _("отметить: начаты работы")
    START_GAS = "start_gas", _("отметить: газ пущен")
    REFUSE = "refuse", _("отказать")
    WITHDRAW = "withdraw", _("отозвать")


class Role(models.TextChoices):
    SUBSCRIBER = "subscriber", _("заявитель")
    OPERATOR = "operator", _("оператор")
    SYSTEM = "system", _("система")


class NotifyChannel(models.TextChoices):
    EMAIL = "email", _("по e-mail")
    SMS = "sms", _("по SMS")
    PORTAL = "portal", _("только в личном кабинете")


class Usage(models.TextChoices):
    """The directions of use of gas an applicant plans (Правила подключения)."""

    COOKING = "cooking", _("приготовление пищи")
    WATER_HEATING = "water_heating", _("подогрев воды")
    HEATING = "heating", _("отопление")
    OTHER = "other", _("другое")


class ConnectionProgram(models.TextChoices):
    DOGAZIFICATION = "dogazification", _("догазификация (бесплатно до границы участка)")
    PAID = "paid", _("технологическое присоединение (платно)")


class DocumentKind(models.TextChoices):
    """What an attached file is; a connection application needs the first four."""

    LAND_TITLE = "land_title", _("документ о праве на земельный участок")
    HOUSE_TITLE = "house_title", _("документ о праве на дом")
    PASSPORT = "passport", _("паспорт заявителя")
    SITE_PLAN = "site_plan", _("ситуационный план")
    OTHER = "other", _("другой документ или фото")
