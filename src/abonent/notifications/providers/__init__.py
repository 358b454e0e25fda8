"""Senders of messages. ``outbox`` keeps them in the database (the embedded default)."""
