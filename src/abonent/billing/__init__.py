"""Tariffs, norms, billing periods and runs, charges, penalties."""
