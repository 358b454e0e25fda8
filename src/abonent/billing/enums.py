from django.db import models
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    """What the gas is used for, as the regional tariff body sets the retail price."""

    COOKING = "cooking", _("пищеприготовление и подогрев воды газовой плитой")
    COOKING_WATER_HEATER = "cooking_wh", _("пищеприготовление и подогрев воды плитой и водонагревателем")
    HEATING = "heating", _("отопление, в том числе с другими направлениями")


class NormKind(models.TextChoices):
    """A consumption norm: per resident per month, or per m² of heated area per month."""

    COOKING_CENTRAL_HW = "cooking_hw", _("пищеприготовление при центральном горячем водоснабжении")
    COOKING = "cooking", _("пищеприготовление и подогрев воды газовой плитой без горячего водоснабжения")
    WATER_HEATER = "water_heater", _("подогрев воды газовым водонагревателем")
    HEATING = "heating", _("отопление, на 1 м² отапливаемой площади")


class VolumeMethod(models.TextChoices):
    """How the volume of a period was found (ПП РФ №549 пп.25, 30–32)."""

    READING = "reading", _("по показаниям прибора учёта")
    AVERAGE = "average", _("по среднемесячному объёму: показания не переданы")
    AVERAGE_CHECK = "average_check", _("по среднемесячному объёму: прибор учёта на поверке или ремонте")
    MIXED = "mixed", _("по показаниям и по среднемесячному объёму")
    NORM = "norm", _("по нормативу: нет прибора учёта")
    NORM_NO_READINGS = "norm_no_readings", _("по нормативу: показаний нет больше трёх месяцев")
    NORM_VERIFICATION = "norm_verification", _("по нормативу: истёк срок поверки прибора учёта")
    NORM_CHECK = "norm_check", _("по нормативу: прибор учёта на поверке больше трёх месяцев")
    NORM_FAULTY = "norm_faulty", _("по нормативу: прибор учёта неисправен")


NORM_METHODS = frozenset(
    {
        VolumeMethod.NORM,
        VolumeMethod.NORM_NO_READINGS,
        VolumeMethod.NORM_VERIFICATION,
        VolumeMethod.NORM_CHECK,
        VolumeMethod.NORM_FAULTY,
    }
)


class BenefitCategory(models.TextChoices):
    VETERAN = "veteran", _("ветеран труда")
    WAR_VETERAN = "war_veteran", _("ветеран боевых действий")
    DISABLED = "disabled", _("инвалид или семья с ребёнком-инвалидом")
    LARGE_FAMILY = "large_family", _("многодетная семья")
    CHERNOBYL = "chernobyl", _("пострадавший от радиации")
    RURAL_SPECIALIST = "rural", _("специалист, работающий в сельской местности")
    OTHER = "other", _("другая категория")


class BenefitMode(models.TextChoices):
    DISCOUNT = "discount", _("скидка в квитанции")
    COMPENSATION = "compensation", _("компенсация от органов соцзащиты")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("идёт")
    DONE = "done", _("завершён")
    FAILED = "failed", _("прерван ошибкой")
