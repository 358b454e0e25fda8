from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "abonent.ledger"
    label = "ledger"
    verbose_name = _("Лицевой счёт: начисления и оплаты")
