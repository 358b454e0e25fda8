from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeteringConfig(AppConfig):
    name = "abonent.metering"
    label = "metering"
    verbose_name = _("Приборы учёта и показания")

    def ready(self) -> None:
        from abonent.core.models import LinkProof
        from abonent.customers.proofs import proof_check_register
        from abonent.metering.proofs import meter_value_matches

        proof_check_register(LinkProof.METER_VALUE, meter_value_matches)
