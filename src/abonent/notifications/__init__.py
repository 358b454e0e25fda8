"""E-mail, SMS and push senders (each with a fake), the outbox and the delivery log."""
