from django.db import models
from django.utils.translation import gettext_lazy as _


class MeterStatus(models.TextChoices):
    ACTIVE = "active", _("работает")
    FAULTY = "faulty", _("неисправен")
    REMOVED = "removed", _("снят")


class ReadingChannel(models.TextChoices):
    WEB = "web", _("личный кабинет")
    APP = "app", _("мобильное приложение")
    OPERATOR = "operator", _("оператор")
    CONTROLLER = "controller", _("контролёр")
    IMPORT = "import", _("загрузка из учётной системы")
    PHONE = "phone", _("по телефону")


class ReadingStatus(models.TextChoices):
    ACCEPTED = "accepted", _("принято")
    NOT_FOR_BILLING = "not_for_billing", _("не принято к расчёту: истёк срок поверки")
    CANCELLED = "cancelled", _("отменено")
