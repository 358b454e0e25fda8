from django.db import models
from django.utils.translation import gettext_lazy as _


class RunStatus(models.TextChoices):
    RUNNING = "running", _("идёт")
    DONE = "done", _("выполнен")
    FAILED = "failed", _("ошибка")


class AnnouncementStatus(models.TextChoices):
    DRAFT = "draft", _("черновик")
    SENDING = "sending", _("рассылается")
    SENT = "sent", _("разослано")
