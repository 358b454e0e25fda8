"""Forms of the portal: they check the shape of input (present, not too long, the password
typed the same twice); the rules live in the domain services, whose errors are put next to
the field they name (:func:`form_error`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from abonent.core.errors import DomainError, ValidationFailed
from abonent.identity.codes import CodeResendTooSoon
from abonent.identity.services import TooManyAttempts

LOGIN_MAX = 254
PASSWORD_MAX = 128
CODE_MAX = 12  # six digits, with room for spaces someone types between them
REASON_MAX = 2000

PASSWORD_HINT = _("Не короче 10 символов. Пароль только из цифр или очень простой (например, qwerty12345) не подойдёт.")


def _login_field(label: Any = None) -> forms.CharField:
    return forms.CharField(
        label=label or _("Телефон или e‑mail"),
        max_length=LOGIN_MAX,
        help_text=_("Например, +7 912 345‑67‑89 или ivanova@mail.ru"),
        error_messages={"required": _("Введите номер телефона или адрес e‑mail")},
        widget=forms.TextInput(attrs={"autocomplete": "username", "spellcheck": "false", "autocapitalize": "none"}),
    )


def _password_field(
    label: Any, *, autocomplete: str, help_text: Any = "", required_message: Any = None
) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=PASSWORD_MAX,
        strip=False,
        help_text=help_text,
        error_messages={"required": required_message or _("Введите пароль")},
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


def _code_field() -> forms.CharField:
    return forms.CharField(
        label=_("Код из сообщения"),
        max_length=CODE_MAX,
        help_text=_("6 цифр. Код действует 10 минут."),
        error_messages={"required": _("Введите код из сообщения")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false", "size": "8"}
        ),
    )


class PortalForm(forms.Form):
    """A form styled by site.css: inputs are ``field__input``, checkboxes ``checkbox__input``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if not widget.is_hidden:
                css = "checkbox__input" if isinstance(widget, forms.CheckboxInput) else "field__input"
                widget.attrs.setdefault("class", css)


class _PasswordTwice(PortalForm):
    """A new password typed twice; the fields are ``new_password`` and ``new_password2``
    unless a subclass renames them with ``password_fields``."""

    password_fields = ("new_password", "new_password2")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = self.password_fields
        if data.get(first) and data.get(second) and data[first] != data[second]:
            self.add_error(second, _("Пароли не совпадают. Введите один и тот же пароль дважды"))
        return data


class RegistrationForm(_PasswordTwice):
    password_fields = ("password", "password2")

    login = _login_field()
    password = _password_field(_("Придумайте пароль"), autocomplete="new-password", help_text=PASSWORD_HINT)
    password2 = _password_field(
        _("Повторите пароль"), autocomplete="new-password", required_message=_("Введите пароль ещё раз")
    )
    # Required by the rules (identity.services.ConsentRequired says so); the form marks it
    # required for assistive technology without deciding it.
    personal_data_consent = forms.BooleanField(
        label=_("Я даю согласие на обработку моих персональных данных"),
        help_text=_("Обязательно: без этого согласия кабинет не может работать."),
        required=False,
        widget=forms.CheckboxInput(attrs={"required": True}),
    )
    marketing_consent = forms.BooleanField(
        label=_("Я согласен(на) получать новости и предложения поставщика газа"),
        help_text=_("Не обязательно. Отказаться можно в любой момент в профиле."),
        required=False,
    )


class CodeForm(PortalForm):
    code = _code_field()


class ResendForm(PortalForm):
    """Where to send a code again; without ``login`` the one kept in the session."""

    login = forms.CharField(max_length=LOGIN_MAX, required=False, widget=forms.HiddenInput)


class LoginForm(PortalForm):
    login = _login_field()
    password = _password_field(_("Пароль"), autocomplete="current-password")
    remember = forms.BooleanField(
        label=_("Запомнить меня"),
        help_text=_("Не выходить из кабинета 12 часов, даже если закрыть браузер. Не отмечайте на чужом устройстве."),
        required=False,
    )


class PasswordForgotForm(PortalForm):
    login = _login_field(_("Телефон или e‑mail, с которым вы входите"))


class NewPasswordForm(_PasswordTwice):
    new_password = _password_field(
        _("Новый пароль"),
        autocomplete="new-password",
        help_text=PASSWORD_HINT,
        required_message=_("Введите новый пароль"),
    )
    new_password2 = _password_field(
        _("Повторите новый пароль"), autocomplete="new-password", required_message=_("Введите новый пароль ещё раз")
    )


class PasswordResetCodeForm(NewPasswordForm):
    code = _code_field()

    field_order = ["code", "new_password", "new_password2"]


class PasswordChangeForm(NewPasswordForm):
    old_password = _password_field(
        _("Текущий пароль"), autocomplete="current-password", required_message=_("Введите текущий пароль")
    )

    field_order = ["old_password", "new_password", "new_password2"]


class PhoneForm(PortalForm):
    phone = forms.CharField(
        label=_("Новый номер мобильного телефона"),
        max_length=40,
        help_text=_("Например, +7 912 345‑67‑89. На него придёт SMS с кодом."),
        error_messages={"required": _("Введите номер телефона")},
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "spellcheck": "false"}),
    )


class EmailForm(PortalForm):
    email = forms.CharField(
        label=_("Новый адрес e‑mail"),
        max_length=LOGIN_MAX,
        help_text=_("Например, ivanova@mail.ru. На него придёт письмо с кодом."),
        error_messages={"required": _("Введите адрес e‑mail")},
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"}),
    )


class MarketingConsentForm(PortalForm):
    given = forms.TypedChoiceField(
        choices=[("1", "1"), ("0", "0")], coerce=lambda value: value == "1", widget=forms.HiddenInput
    )


class DeletionForm(PortalForm):
    reason = forms.CharField(
        label=_("Почему вы хотите удалить профиль (по желанию)"),
        max_length=REASON_MAX,
        required=False,
        help_text=_("Это поможет нам сделать кабинет удобнее."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    confirm = forms.BooleanField(
        label=_("Да, я хочу удалить профиль в личном кабинете"),
        error_messages={"required": _("Отметьте, что вы хотите удалить профиль")},
    )


def form_error(form: forms.Form, exc: DomainError, *, field: str | None = "") -> int:
    """Put a domain error on ``form``: next to the field it names, else above the form.

    ``field=None`` puts it above the form whatever it names. Returns the HTTP status of the
    page that shows it: 429 when the person has to wait, else 200.
    """
    if isinstance(exc, ValidationFailed):
        for name, texts in exc.errors.items():
            for text in texts:
                form.add_error(name if name in form.fields else None, text)
        if not exc.errors:
            form.add_error(None, exc.text)
    else:
        target = exc.field if field == "" else field
        form.add_error(target if target in form.fields else None, error_text(exc))
    return 429 if isinstance(exc, TooManyAttempts | CodeResendTooSoon) else 200


def error_text(exc: DomainError) -> str:
    """What to tell the person: the error's message, the wait in plain words where it is one."""
    if isinstance(exc, CodeResendTooSoon):
        return _("Новый код можно запросить через %(seconds)s сек.") % {"seconds": exc.retry_after}
    return exc.text


def retry_after(exc: DomainError) -> int | None:
    """Seconds to wait, for the Retry-After header, when the error says so."""
    value = getattr(exc, "retry_after", None)
    return value if isinstance(value, int) else None
