"""The gateway a payment goes through: the sandbox of the embedded default, or YooKassa with
a shop per supplier (the payee differs from supplier to supplier)."""

from __future__ import annotations

from django.conf import settings

from abonent.payments.gateways.base import Gateway, address_in


def gateway_for(*, name: str, supplier_code: str) -> Gateway:
    if name == "sandbox":
        from abonent.payments.gateways.sandbox import SandboxGateway

        return SandboxGateway()
    if name == "yookassa":
        from abonent.payments.gateways.yookassa import YooKassaGateway

        return YooKassaGateway.for_supplier(supplier_code)
    raise ValueError(f"no payment gateway {name!r}")


def notification_source_allowed(*, gateway: str, remote_addr: str | None) -> bool:
    """Whether a notification from ``remote_addr`` may be the gateway's."""
    networks = settings.SANDBOX_NOTIFY_NETWORKS if gateway == "sandbox" else settings.YOOKASSA_NOTIFY_NETWORKS
    return address_in(remote_addr, networks)
