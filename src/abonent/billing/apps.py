from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "abonent.billing"
    label = "billing"
    verbose_name = _("Расчёты: тарифы, нормативы, начисления, пени")

    def ready(self) -> None:
        from abonent.billing.proofs import last_charge_matches
        from abonent.core.models import LinkProof
        from abonent.customers.proofs import proof_check_register

        proof_check_register(LinkProof.LAST_CHARGE, last_charge_matches)
