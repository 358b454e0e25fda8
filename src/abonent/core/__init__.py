"""Shared kernel: money, periods, tenancy (Supplier), clock, jobs, errors."""
