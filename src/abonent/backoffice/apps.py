from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    name = "abonent.backoffice"
    label = "backoffice"
    verbose_name = _("Бэк-офис")

    def ready(self) -> None:
        from abonent.backoffice import (  # noqa: F401 - registers their admin classes
            admin_accounts,
            admin_appeals,
            admin_billing,
            admin_documents,
            admin_identity,
            admin_notifications,
            admin_payments,
            admin_readings,
            admin_reminders,
        )
