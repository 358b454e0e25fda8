from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from abonent.identity.enums import (
    AuthChannel,
    CodePurpose,
    ConsentKind,
    ContactKind,
    DeletionStatus,
    SessionKind,
    TokenKind,
)


class User(AbstractUser):
    """A person who logs in: a subscriber (by phone or e-mail) or a member of staff.

    A subscriber's profile is inactive (``is_active=False``) until the confirmation code
    sent at registration is entered.
    """

    email = models.EmailField(_("e-mail"), null=True, blank=True)  # type: ignore[assignment]
    phone = models.CharField(
        _("телефон"), max_length=16, null=True, blank=True, help_text=_("В формате E.164: +79161234567")
    )
    middle_name = models.CharField(_("отчество"), max_length=150, blank=True)
    phone_confirmed_at = models.DateTimeField(_("телефон подтверждён"), null=True, blank=True)
    email_confirmed_at = models.DateTimeField(_("e-mail подтверждён"), null=True, blank=True)
    language = models.CharField(
        _("язык сообщений"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

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


class ConfirmationCode(models.Model):
    """A 6-digit code sent by SMS or e-mail; stored as a keyed hash, single use, 10 minutes."""

    purpose = models.CharField(_("назначение"), max_length=16, choices=CodePurpose.choices)
    contact_kind = models.CharField(_("канал"), max_length=8, choices=ContactKind.choices)
    recipient = models.CharField(_("получатель"), max_length=254)
    user = models.ForeignKey(User, on_delete=models.CASCADE, null=True, blank=True, related_name="codes")
    code_hash = models.CharField(max_length=64)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("отправлен"))
    expires_at = models.DateTimeField(_("действует до"))
    attempts = models.PositiveSmallIntegerField(_("неверных попыток"), default=0)
    consumed_at = models.DateTimeField(_("использован"), null=True, blank=True)

    class Meta:
        verbose_name = _("код подтверждения")
        verbose_name_plural = _("коды подтверждения")
        indexes = [models.Index(fields=["recipient", "created_at"], name="code_recipient_time")]
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=F("created_at")), name="code_expires_after_creation")
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} → {self.recipient}"


class ConsentDocument(models.Model):
    """A version of a consent text. The version a person agreed to is kept with their consent."""

    kind = models.CharField(_("вид"), max_length=16, choices=ConsentKind.choices)
    version = models.CharField(_("версия"), max_length=20)
    purpose = models.CharField(_("цель обработки"), max_length=300)
    text = models.TextField(_("текст"))
    effective_from = models.DateTimeField(_("действует с"))

    class Meta:
        verbose_name = _("текст согласия")
        verbose_name_plural = _("тексты согласий")
        constraints = [models.UniqueConstraint(fields=["kind", "version"], name="consent_document_version_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version}"


class Consent(models.Model):
    """A person's consent of one kind to one version of its text (152-ФЗ: a separate record)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="consents")
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="consents")
    kind = models.CharField(_("вид"), max_length=16, choices=ConsentKind.choices)
    granted_at = models.DateTimeField(_("дано"))
    channel = models.CharField(_("канал"), max_length=8, choices=AuthChannel.choices)
    ip = models.GenericIPAddressField(_("IP-адрес"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("отозвано"), null=True, blank=True)
    withdrawn_channel = models.CharField(_("канал отзыва"), max_length=8, choices=AuthChannel.choices, blank=True)

    class Meta:
        verbose_name = _("согласие")
        verbose_name_plural = _("согласия")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind"], condition=Q(withdrawn_at__isnull=True), name="consent_one_active_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.granted_at:%d.%m.%Y})"


class AuthSession(models.Model):
    """A logged-in device: a browser session or a mobile app with its tokens."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_sessions")
    kind = models.CharField(_("вид"), max_length=8, choices=SessionKind.choices)
    session_key = models.CharField(max_length=40, null=True, blank=True, unique=True)
    device_name = models.CharField(_("устройство"), max_length=120, blank=True)
    user_agent = models.CharField(_("браузер"), max_length=300, blank=True)
    ip = models.GenericIPAddressField(_("IP-адрес"), null=True, blank=True)
    remember = models.BooleanField(_("запомнить меня"), default=False)
    created_at = models.DateTimeField(_("вход"))
    last_seen_at = models.DateTimeField(_("последняя активность"))
    expires_at = models.DateTimeField(_("истекает"))
    ended_at = models.DateTimeField(_("завершён"), null=True, blank=True)
    end_reason = models.CharField(_("причина завершения"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("сеанс")
        verbose_name_plural = _("сеансы")
        indexes = [models.Index(fields=["user", "ended_at"], name="auth_session_user_active")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.device_name}".strip()


class ApiToken(models.Model):
    """An access or refresh token of an app session, stored as its SHA-256."""

    session = models.ForeignKey(AuthSession, on_delete=models.CASCADE, related_name="tokens")
    kind = models.CharField(max_length=8, choices=TokenKind.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)  # a refresh token is used once

    class Meta:
        indexes = [models.Index(fields=["session", "kind"], name="api_token_session_kind")]

    def __str__(self) -> str:
        return f"{self.kind} token of session {self.session_id}"


class ExternalIdentity(models.Model):
    """A login at an outside identity provider (Госуслуги) tied to a profile."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="external_identities")
    provider = models.CharField(_("провайдер"), max_length=32)
    subject = models.CharField(_("идентификатор у провайдера"), max_length=255)
    created_at = models.DateTimeField(_("привязан"))
    last_login_at = models.DateTimeField(_("последний вход"), null=True, blank=True)

    class Meta:
        verbose_name = _("внешний вход")
        verbose_name_plural = _("внешние входы")
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject"], name="external_identity_unique"),
            models.UniqueConstraint(fields=["user", "provider"], name="external_identity_one_per_provider"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.subject}"


class DeletionRequest(models.Model):
    """A subscriber's request to delete their profile, processed by operators within 30 days."""

    user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="deletion_requests")
    contact = models.CharField(_("куда сообщить результат"), max_length=254)
    contact_kind = models.CharField(_("канал"), max_length=8, choices=ContactKind.choices)
    requested_at = models.DateTimeField(_("подана"))
    due_by = models.DateField(_("срок"))
    status = models.CharField(_("состояние"), max_length=12, choices=DeletionStatus.choices, default=DeletionStatus.NEW)
    reason = models.TextField(_("причина (со слов абонента)"), blank=True)
    outcome = models.TextField(_("результат"), blank=True)
    taken_at = models.DateTimeField(_("взята в работу"), null=True, blank=True)
    processed_at = models.DateTimeField(_("обработана"), null=True, blank=True)
    processed_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("заявка на удаление профиля")
        verbose_name_plural = _("заявки на удаление профиля")
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status__in=[DeletionStatus.NEW, DeletionStatus.IN_PROGRESS]),
                name="deletion_request_one_open_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"Заявка на удаление от {self.requested_at:%d.%m.%Y}"
