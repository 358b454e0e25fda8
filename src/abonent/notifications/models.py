from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from abonent.notifications.enums import Channel


class OutboxMessage(models.Model):
    """A message "sent" by the embedded default: kept here instead of leaving the machine,
    so that a demo user can read the code that was sent to them."""

    channel = models.CharField(_("канал"), max_length=8, choices=Channel.choices)
    recipient = models.CharField(_("получатель"), max_length=320)
    subject = models.CharField(_("тема"), max_length=300, blank=True)
    body = models.TextField(_("текст"))
    created_at = models.DateTimeField(_("создано"), db_index=True)

    class Meta:
        verbose_name = _("сообщение в исходящих")
        verbose_name_plural = _("исходящие сообщения (демо)")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.recipient}"
