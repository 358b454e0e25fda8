from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RemindersConfig(AppConfig):
    name = "abonent.reminders"
    label = "reminders"
    verbose_name = _("Напоминания и объявления")
