"""Payments, gateways, webhook inbox, bank registries."""
