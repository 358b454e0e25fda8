from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("действует")
    SUSPENDED = "suspended", _("поставка приостановлена")
    CLOSED = "closed", _("закрыт")


class EquipmentKind(models.TextChoices):
    STOVE = "stove", _("газовая плита")
    WATER_HEATER = "water_heater", _("газовый водонагреватель (колонка)")
    BOILER = "boiler", _("отопительный котёл")
    CONVECTOR = "convector", _("газовый конвектор")
    OTHER = "other", _("другое")


class ContractKind(models.TextChoices):
    SUPPLY = "supply", _("договор поставки газа")
    VDGO = "vdgo", _("договор о техническом обслуживании ВДГО")


class ContractStatus(models.TextChoices):
    ACTIVE = "active", _("действует")
    EXPIRED = "expired", _("истёк")
    TERMINATED = "terminated", _("расторгнут")


class LinkOutcome(models.TextChoices):
    """How an attempt to link a personal account ended (the log operators read)."""

    LINKED = "linked", _("счёт привязан")
    MISMATCH = "mismatch", _("номер или подтверждение не подошли")
    CLOSED = "closed", _("счёт закрыт")
    BLOCKED = "blocked", _("отклонено: превышен лимит попыток")
