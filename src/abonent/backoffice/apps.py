from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    name = "abonent.backoffice"
    label = "backoffice"
    verbose_name = _("Бэк-офис")

    def ready(self) -> None:
        from abonent.backoffice import roles

        post_migrate.connect(roles.sync_after_migrate, dispatch_uid="abonent.backoffice.roles")
