from django.db import models
from django.utils.translation import gettext_lazy as _


class MeterStatus(models.TextChoices):
    ACTIVE = "active", _("работает")
    FAULTY = "faulty", _("неисправен")
    REMOVED = "removed", _("снят")
    CHECKING = "checking", _("снят на поверку или ремонт")


class ReadingChannel(models.TextChoices):
    WEB = "web", _("личный кабинет")
    APP = "app", _("мобильное приложение")
    OPERATOR = "operator", _("оператор")
    CONTROLLER = "controller", _("контролёр")
    IMPORT = "import", _("загрузка из учётной системы")
    PHONE = "phone", _("по телефону")
    BANK = "bank", _("банк при оплате")


class ReadingStatus(models.TextChoices):
    ACCEPTED = "accepted", _("принято")
    NOT_FOR_BILLING = "not_for_billing", _("не принято к расчёту: истёк срок поверки")
    SUPERSEDED = "superseded", _("заменено исправленным")
    REJECTED = "rejected", _("отклонено")


class ReviewReason(models.TextChoices):
    """Why a reading that was accepted waits for an operator to look at it."""

    HIGH = "high", _("расход намного выше среднего")
    DROP = "drop", _("показание меньше предыдущего")
    ZERO = "zero", _("нулевой расход несколько месяцев подряд")
