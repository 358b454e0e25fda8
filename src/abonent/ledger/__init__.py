"""Ledger entries and balances per account and service."""
