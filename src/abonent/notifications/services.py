"""Sending messages through the configured providers."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail

from abonent.notifications.providers.outbox import OutboxSmsSender


def _sms_sender() -> OutboxSmsSender:
    if settings.SMS_PROVIDER == "outbox":
        return OutboxSmsSender()
    raise RuntimeError(f"unknown SMS_PROVIDER {settings.SMS_PROVIDER!r}")


def sms_send(*, phone: str, text: str) -> None:
    """Send an SMS to ``phone`` (E.164) through the configured provider."""
    _sms_sender().send(phone=phone, text=text)


def email_send(*, to: str, subject: str, body: str) -> None:
    """Send a plain-text e-mail through the configured backend (SMTP or the outbox)."""
    send_mail(subject, body, None, [to], fail_silently=False)
