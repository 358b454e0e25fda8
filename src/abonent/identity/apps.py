from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "abonent.identity"
    label = "identity"
    verbose_name = _("Пользователи")

    def ready(self) -> None:
        from abonent.identity import roles

        post_migrate.connect(roles.sync_after_migrate, dispatch_uid="abonent.identity.roles")
