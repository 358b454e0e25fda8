"""abonent: the personal account for residential customers of natural-gas suppliers."""

__version__ = "0.1.0"
