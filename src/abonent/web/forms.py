"""Forms of the portal: they check the shape of input (present, not too long, the password
typed the same twice); the rules live in the domain services, whose errors are put next to
the field they name (:func:`form_error`)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms
from django.forms.boundfield import BoundField, BoundWidget
from django.utils.translation import gettext_lazy as _

from abonent.core.errors import DomainError, ValidationFailed
from abonent.core.models import LinkProof
from abonent.customers.selectors import LinkOption
from abonent.identity.codes import CodeResendTooSoon
from abonent.identity.services import TooManyAttempts
from abonent.metering.selectors import MeterEntry
from abonent.metering.services import ReadingsInvalid

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


# --- Personal accounts ----------------------------------------------------------------

#: The supplier choice "I do not know": the number alone finds the account.
SUPPLIER_UNKNOWN = "unknown"
ACCOUNT_NUMBER_MAX = 24  # 12 digits with the spaces or dashes of the bill
PROOF_VALUE_MAX = 24
ACCOUNT_NAME_MAX = 40  # customers.services.NAME_MAX_LENGTH, checked there


class ChoiceRadios(forms.RadioSelect):
    """Radio buttons whose group is named by its first button (the error summary links there)."""

    def id_for_label(self, id_: str, index: str | None = None) -> str:
        return super().id_for_label(id_, "0" if index is None else index)


class ProofInput(forms.TextInput):
    """The value that proves an account (a PIN) is never typed into the page again: after an
    error it is asked for anew, everything else stays as typed."""

    def format_value(self, value: Any) -> str | None:
        return None


_PROOF_FIELDS: dict[str, dict[str, Any]] = {
    LinkProof.PIN: {
        "label": _("PIN-код"),
        "help_text": _("От 4 до 10 цифр. Он напечатан в квитанции рядом с номером лицевого счёта."),
        "required": _("Введите PIN-код из квитанции"),
        "attrs": {"inputmode": "numeric", "size": "12"},
    },
    LinkProof.METER_VALUE: {
        "label": _("Показание счётчика сегодня, м³"),
        "help_text": _("Цифры, которые сейчас видны на счётчике газа, например 01234. Дробную часть можно не вводить."),
        "required": _("Введите показание счётчика"),
        "attrs": {"inputmode": "decimal", "size": "12"},
    },
    LinkProof.LAST_CHARGE: {
        "label": _("Сумма последнего начисления, ₽"),
        "help_text": _("Сумма «Начислено» из последней квитанции, в рублях и копейках, например 1234,56."),
        "required": _("Введите сумму последнего начисления"),
        "attrs": {"inputmode": "decimal", "size": "12"},
    },
}


def _proof_field(kind: str) -> forms.CharField:
    spec = _PROOF_FIELDS[kind]
    return forms.CharField(
        label=spec["label"],
        help_text=spec["help_text"],
        max_length=PROOF_VALUE_MAX,
        required=False,  # required only for the chosen kind (clean)
        widget=ProofInput(attrs={"autocomplete": "off", "spellcheck": "false", **spec["attrs"]}),
    )


class AccountLinkForm(PortalForm):
    """The link assistant: the supplier (or "I do not know"), the account number, the kind of
    proof and its value. A value field per kind; the one of the chosen kind counts."""

    supplier = forms.ChoiceField(
        label=_("Поставщик газа"),
        widget=ChoiceRadios,
        error_messages={
            "required": _("Выберите своего поставщика газа или «Не знаю — определить по номеру»"),
            "invalid_choice": _("Выберите поставщика газа из списка"),
        },
    )
    number = forms.CharField(
        label=_("Номер лицевого счёта"),
        max_length=ACCOUNT_NUMBER_MAX,
        help_text=_("12 цифр. Пробелы между цифрами можно ставить, как в квитанции, можно не ставить."),
        error_messages={"required": _("Введите номер лицевого счёта из квитанции")},
        widget=forms.TextInput(
            attrs={
                "class": "field__input field__input--digits",
                "inputmode": "numeric",
                "autocomplete": "off",
                "spellcheck": "false",
            }
        ),
    )
    proof = forms.ChoiceField(
        label=_("Чем подтвердить, что счёт ваш"),
        widget=ChoiceRadios,
        error_messages={
            "required": _("Выберите, чем подтвердить, что счёт ваш"),
            "invalid_choice": _("Выберите способ подтверждения из списка"),
        },
    )

    def __init__(self, *args: Any, options: list[LinkOption], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.options = options
        kinds = [kind for kind in LinkProof.values if any(kind in option.proofs for option in options)]
        self.kinds = kinds
        for kind in kinds:
            self.fields[kind] = _proof_field(kind)
            self.fields[kind].widget.attrs["class"] = "field__input field__input--digits"

        supplier = self.fields["supplier"]
        assert isinstance(supplier, forms.ChoiceField)
        supplier.choices = [(option.supplier.code, option.supplier.short_name) for option in options]
        if len(options) == 1:
            supplier.initial = options[0].supplier.code
            supplier.widget = forms.HiddenInput()
        else:
            supplier.choices = [*supplier.choices, (SUPPLIER_UNKNOWN, _("Не знаю — определить по номеру"))]
            supplier.widget.attrs["class"] = "choice__input"

        proof = self.fields["proof"]
        assert isinstance(proof, forms.ChoiceField)
        proof.choices = [(kind, LinkProof(kind).label) for kind in kinds]
        proof.initial = LinkProof.PIN if LinkProof.PIN in kinds else (kinds[0] if kinds else None)
        if len(kinds) == 1:
            proof.widget = forms.HiddenInput()
        else:
            proof.widget.attrs["class"] = "choice__input"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("proof")
        if kind in self.kinds and not (data.get(kind) or "").strip() and kind not in self.errors:
            self.add_error(kind, _PROOF_FIELDS[kind]["required"])
        return data

    @property
    def supplier_code(self) -> str | None:
        code = self.cleaned_data["supplier"]
        return None if code == SUPPLIER_UNKNOWN else str(code)

    @property
    def proof_value(self) -> str:
        return str(self.cleaned_data[self.cleaned_data["proof"]])

    @property
    def only_proof(self) -> BoundField | None:
        """The field of the one kind of proof when there is no choice."""
        return self[self.kinds[0]] if len(self.kinds) == 1 else None

    def supplier_choices(self) -> list[tuple[BoundWidget, str]]:
        """Each supplier's radio button with the proofs it accepts, said only when the
        suppliers do not all accept the same."""
        proofs = {option.supplier.code: option.proofs for option in self.options}
        differ = len({tuple(p) for p in proofs.values()}) > 1
        choices = []
        for radio in self["supplier"]:
            kinds = proofs.get(str(radio.data["value"]), [])
            hint = ", ".join(str(LinkProof(kind).label) for kind in kinds) if differ and kinds else ""
            choices.append((radio, hint))
        return choices

    def proof_choices(self) -> list[tuple[BoundWidget, BoundField]]:
        """Each kind's radio button with the field for its value."""
        return [(radio, self[str(radio.data["value"])]) for radio in self["proof"]]


class AccountSettingsForm(PortalForm):
    name = forms.CharField(
        label=_("Название счёта"),
        max_length=ACCOUNT_NAME_MAX,
        required=False,
        help_text=_("Например, «Дом», «Дача» или «Мама». Его видите только вы. Можно оставить пустым."),
        error_messages={"max_length": _("Название — не длиннее %(limit_value)d символов")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    make_default = forms.BooleanField(
        label=_("Основной счёт"),
        help_text=_("Его страница откроется сразу после входа в кабинет."),
        required=False,
    )


#: The ways a bill comes, as the radio buttons send them: the paper one, or by e-mail instead.
PAPER, BY_EMAIL = "paper", "email"


class PaperBillForm(PortalForm):
    """A paper bill or the bill by e-mail instead (the domain's ``paper``: True or False)."""

    paper = forms.TypedChoiceField(
        label=_("Как получать квитанцию"),
        choices=[(PAPER, _("Бумажную квитанцию, как обычно")), (BY_EMAIL, _("На e‑mail вместо бумажной"))],
        coerce=lambda value: value == PAPER,
        error_messages={
            "required": _("Выберите, как получать квитанцию"),
            "invalid_choice": _("Выберите, как получать квитанцию"),
        },
        widget=ChoiceRadios(attrs={"class": "choice__input"}),
    )


# --- Meter readings -------------------------------------------------------------------

#: The field of a meter's value is ``meter_<id>``; a POST may name any id.
_READING_FIELD = re.compile(r"^meter_([0-9]+)$", re.ASCII)


def reading_field(meter_id: int) -> str:
    return f"meter_{meter_id}"


def _reading_hint(decimals: int) -> str:
    if decimals == 0:
        return str(_("Только целые кубометры, например 1234."))
    example = "1234," + "567"[:decimals]
    return str(_("Цифры со счётчика, например %(example)s. Дробную часть можно не вводить.") % {"example": example})


class ReadingsForm(PortalForm):
    """The readings of an account's meters: a field ``meter_<id>`` for each meter that takes
    readings, and the key of this submission, made when the form is shown, so that the same
    form sent twice (a double click, a resent POST) stores one reading.

    The values are read by the domain (``readings_submit``); the form only collects them.
    Each input carries what the page's script needs to show the consumption as the person
    types: the value it is measured from and the meter's digits and decimals."""

    submission_key = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, entries: list[MeterEntry], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entries = entries
        if not self.is_bound:
            self.initial["submission_key"] = uuid.uuid4().hex
        for entry in entries:
            if not entry.accepts:
                continue
            meter = entry.meter
            self.fields[reading_field(meter.pk)] = forms.CharField(
                label=str(meter),
                required=False,
                help_text=_reading_hint(meter.decimals),
                widget=forms.TextInput(
                    attrs={
                        "class": "field__input field__input--digits reading__input",
                        "inputmode": "decimal",
                        "autocomplete": "off",
                        "spellcheck": "false",
                        "data-base": f"{entry.base_value:f}",
                        "data-digits": str(meter.digits),
                        "data-decimals": str(meter.decimals),
                    }
                ),
            )

    @property
    def rows(self) -> list[tuple[MeterEntry, BoundField | None]]:
        """Each meter with the field of its value (None for a meter that takes no readings)."""
        return [(entry, self[reading_field(entry.meter.pk)] if entry.accepts else None) for entry in self.entries]

    @property
    def values(self) -> dict[int, str]:
        """Every meter's value that was sent, empty ones left out. A meter this form does not
        show is passed on too: whether it is the account's is the domain's to say."""
        values: dict[int, str] = {}
        for name in self.data:
            match = _READING_FIELD.match(name)
            text = str(self.data.get(name) or "").strip()
            if match and text:
                values[int(match[1])] = text
        return values

    def readings_error(self, exc: DomainError) -> int:
        """Each meter's error next to its field (above the form for a meter that has none),
        any other error above the form."""
        if not isinstance(exc, ReadingsInvalid):
            return form_error(self, exc)
        for meter_id, error in exc.by_meter.items():
            name = reading_field(meter_id)
            self.add_error(name if name in self.fields else None, error.text)
        return 200


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
