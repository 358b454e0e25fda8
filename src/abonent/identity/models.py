from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who logs in: a subscriber (by phone or e-mail) or a member of staff."""

    email = models.EmailField(_("e-mail"), null=True, blank=True)  # type: ignore[assignment]
    phone = models.CharField(
        _("телефон"), max_length=16, null=True, blank=True, help_text=_("В формате E.164: +79161234567")
    )
    middle_name = models.CharField(_("отчество"), max_length=150, blank=True)

    class Meta(AbstractUser.Meta):
        verbose_name = _("пользователь")  # type: ignore[assignment]
        verbose_name_plural = _("пользователи")  # type: ignore[assignment]
        constraints = [
            models.UniqueConstraint(fields=["phone"], name="user_phone_unique", condition=Q(phone__isnull=False)),
            models.UniqueConstraint(fields=["email"], name="user_email_unique", condition=Q(email__isnull=False)),
            models.CheckConstraint(
                condition=Q(phone__regex=r"^\+[1-9]\d{7,14}$") | Q(phone__isnull=True), name="user_phone_e164"
            ),
        ]
