from django.db import models
from django.utils.translation import gettext_lazy as _


class CodePurpose(models.TextChoices):
    REGISTER = "register", _("регистрация")
    PASSWORD_RESET = "password_reset", _("восстановление пароля")
    CHANGE_PHONE = "change_phone", _("смена телефона")
    CHANGE_EMAIL = "change_email", _("смена e-mail")
    LINK_EXTERNAL = "link_external", _("привязка входа через Госуслуги")


class ContactKind(models.TextChoices):
    PHONE = "phone", _("телефон")
    EMAIL = "email", _("e-mail")


class ConsentKind(models.TextChoices):
    PERSONAL_DATA = "personal_data", _("обработка персональных данных")
    MARKETING = "marketing", _("рекламные и информационные рассылки")


class AuthChannel(models.TextChoices):
    WEB = "web", _("портал")
    APP = "app", _("мобильное приложение")
    ESIA = "esia", _("Госуслуги")
    OPERATOR = "operator", _("оператор")


class SessionKind(models.TextChoices):
    WEB = "web", _("браузер")
    APP = "app", _("мобильное приложение")


class TokenKind(models.TextChoices):
    ACCESS = "access", _("доступ")
    REFRESH = "refresh", _("обновление")


class DeletionStatus(models.TextChoices):
    NEW = "new", _("принята")
    IN_PROGRESS = "in_progress", _("в работе")
    DONE = "done", _("профиль удалён")
    REFUSED = "refused", _("отказано")
