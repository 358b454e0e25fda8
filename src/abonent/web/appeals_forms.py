"""Forms of appeals, applications for connection and the contacts page.

They collect what was sent and check nothing the appeals domain checks itself: every field
is optional here, so one call to the service reports every wrong field at once, each next
to its input (``form_error``). What the forms decide is only what to offer: the user's
accounts, the suppliers, the ways of being told of an answer that the user can receive.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.appeals import policy
from abonent.appeals.enums import APPEAL_CATEGORIES, ConnectionProgram, DocumentKind, NotifyChannel, Usage
from abonent.appeals.services import NewFile, notify_channels_for
from abonent.core.models import Supplier
from abonent.customers.models import AccountLink
from abonent.identity.models import User
from abonent.web.forms import ChoiceRadios, PortalForm
from abonent.web.templatetags.portal import account_number, link_title, phone_ru

#: The account choice "the appeal is not about an account": a supplier is chosen instead.
NO_ACCOUNT = "none"
#: What the file inputs offer to choose (the domain reads the type from the content).
ACCEPT = "image/jpeg,image/png,image/webp,application/pdf"
TEXT_MAX = policy.TEXT_LIMIT


class MultipleFileInput(forms.FileInput):
    """``<input type=file multiple>``: the value is the list of the files chosen."""

    allow_multiple_selected = True

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"class": "field__input", "multiple": True, "accept": ACCEPT, **(attrs or {})})


class FilesField(forms.Field):
    """The files of one input, as they were sent; their names, sizes, types and number are
    the domain's to check."""

    widget = MultipleFileInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list[UploadedFile]:
        if not value:
            return []
        return [item for item in (value if isinstance(value, list) else [value]) if item]


class NoInput(forms.Widget):
    """A field with no input of its own: it only carries errors that are about several
    inputs at once (the documents of an application), shown at the top of their group."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        return SafeString("")

    def value_from_datadict(self, data: Any, files: Any, name: str) -> None:
        return None


class ChoiceCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes whose group is named by its first box (the error summary links there)."""

    def id_for_label(self, id_: str, index: str | None = None) -> str:
        return super().id_for_label(id_, "0" if index is None else index)


def _radios(attrs: dict[str, Any] | None = None) -> ChoiceRadios:
    return ChoiceRadios(attrs={"class": "choice__input", **(attrs or {})})


def new_files(uploads: Iterable[UploadedFile], document_kind: str = DocumentKind.OTHER) -> list[NewFile]:
    """The files as the appeals services take them."""
    return [
        NewFile(name=upload.name or "", content=upload, size=upload.size or 0, document_kind=document_kind)
        for upload in uploads
    ]


def files_hint() -> str:
    limit_mb = policy.FILE_SIZE_LIMIT // (1024 * 1024)
    return gettext(
        "Фото или сканы: JPEG, PNG, WebP или PDF. Не больше %(count)s файлов за раз, каждый до %(size)s МБ."
    ) % {"count": policy.FILES_PER_MESSAGE, "size": limit_mb}


def _number(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def _unbroken(phone: str) -> str:
    """A phone number that never breaks across lines."""
    return phone.replace(" ", "\u00a0").replace("-", "\u2011")


# --- How to tell the applicant ----------------------------------------------------------


def notify_choices(user: User) -> list[tuple[str, str]]:
    """The ways the user can be told of an answer: SMS and e-mail only to a confirmed contact."""
    labels = {
        NotifyChannel.SMS: lambda: gettext("По SMS на %(phone)s") % {"phone": _unbroken(phone_ru(user.phone or ""))},
        NotifyChannel.EMAIL: lambda: gettext("На e‑mail %(email)s") % {"email": user.email},
        NotifyChannel.PORTAL: lambda: gettext("Только в личном кабинете"),
    }
    return [(channel.value, labels[channel]()) for channel in notify_channels_for(user)]


class _Notified(PortalForm):
    """A form whose sender chooses how to be told of the answer."""

    notify_channel = forms.CharField(label=_("Как сообщить об ответе"), required=False, widget=_radios())

    def _notify_offer(self, user: User) -> None:
        choices = notify_choices(user)
        field = self.fields["notify_channel"]
        field.widget.choices = choices
        field.initial = choices[0][0]  # SMS, else e-mail, else the portal only
        field.help_text = gettext(
            "О каждом ответе и новом состоянии мы сообщим выбранным способом, а в кабинете будет отметка «новое»."
        )


# --- An appeal ---------------------------------------------------------------------------


class AppealForm(_Notified):
    category = forms.CharField(label=_("Тема обращения"), required=False, widget=_radios())
    account = forms.CharField(label=_("О каком лицевом счёте"), required=False, widget=_radios())
    supplier = forms.CharField(label=_("Поставщик газа"), required=False, widget=forms.Select())
    text = forms.CharField(
        label=_("Текст обращения"),
        required=False,
        strip=False,
        help_text=_("Опишите вопрос: что случилось, когда, что вы уже сделали. Номер счёта писать не нужно."),
        widget=forms.Textarea(attrs={"rows": 7, "maxlength": TEXT_MAX}),
    )

    field_order = ["category", "account", "supplier", "text", "files", "notify_channel"]

    def __init__(
        self,
        *args: Any,
        user: User,
        links: Sequence[AccountLink],
        suppliers: Sequence[Supplier],
        account: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.links = list(links)
        self.fields["category"].widget.choices = [(c.value, c.label) for c in APPEAL_CATEGORIES]
        # the domain calls the files "files"; a field declared so would hide the form's own ``files``
        self.fields["files"] = FilesField(label=_("Приложить файлы (по желанию)"), help_text=files_hint())
        accounts = self.fields["account"]
        accounts.widget.choices = [
            (str(link.account_id), f"{link_title(link)} — {account_number(link.account.number)}") for link in self.links
        ] + [(NO_ACCOUNT, gettext("Не о лицевом счёте"))]
        linked = {str(link.account_id) for link in self.links}
        accounts.initial = account if account in linked else (str(self.links[0].account_id) if self.links else None)
        supplier = self.fields["supplier"]
        supplier.widget.choices = [("", gettext("— выберите —"))] + [(str(s.pk), s.short_name) for s in suppliers]
        if len(suppliers) == 1:
            supplier.initial = str(suppliers[0].pk)
        supplier.help_text = gettext("Кому адресовано обращение, когда оно не о лицевом счёте.")
        self._notify_offer(user)
        self.order_fields(self.field_order)

    @property
    def account_id(self) -> int | None:
        value = self.cleaned_data.get("account") if self.links else NO_ACCOUNT
        return None if value == NO_ACCOUNT else _number(value)

    @property
    def supplier_id(self) -> int | None:
        return _number(self.cleaned_data.get("supplier"))

    @property
    def new_files(self) -> list[NewFile]:
        return new_files(self.cleaned_data.get("files") or [])


# --- An application for connection to the gas network -----------------------------------

#: The documents of an application, each with its own input, in the order they are asked.
DOCUMENT_INPUTS: tuple[DocumentKind, ...] = (
    DocumentKind.LAND_TITLE,
    DocumentKind.HOUSE_TITLE,
    DocumentKind.PASSPORT,
    DocumentKind.SITE_PLAN,
    DocumentKind.OTHER,
)
_DOCUMENT_HINTS = {
    DocumentKind.LAND_TITLE: _("Выписка из ЕГРН или свидетельство о праве собственности на участок."),
    DocumentKind.HOUSE_TITLE: _("Выписка из ЕГРН на жилой дом."),
    DocumentKind.PASSPORT: _("Разворот с фотографией и страница с регистрацией."),
    DocumentKind.SITE_PLAN: _("Схема: где участок и дом, подъезды к ним. Можно нарисовать от руки и сфотографировать."),
    DocumentKind.OTHER: _("Например, доверенность, если заявку подаёт представитель. Не обязательно."),
}


def document_field(kind: DocumentKind) -> str:
    return f"document_{kind.value}"


class ConnectionForm(_Notified):
    supplier_id = forms.CharField(label=_("Поставщик газа"), required=False, widget=forms.Select())
    program = forms.CharField(label=_("Программа"), required=False, widget=_radios())
    applicant_name = forms.CharField(
        label=_("Фамилия, имя и отчество"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name", "maxlength": 200}),
    )
    applicant_phone = forms.CharField(
        label=_("Телефон для связи"),
        required=False,
        help_text=_("Например, +7 912 345‑67‑89."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "maxlength": 40}),
    )
    object_address = forms.CharField(
        label=_("Адрес дома, который нужно подключить"),
        required=False,
        help_text=_("Населённый пункт, улица, номер дома или участка."),
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 300}),
    )
    land_cadastral_number = forms.CharField(
        label=_("Кадастровый номер земельного участка"),
        required=False,
        help_text=_("Из выписки ЕГРН, например 50:21:0110501:123."),
        widget=forms.TextInput(attrs={"class": "field__input field__input--digits", "spellcheck": "false"}),
    )
    house_cadastral_number = forms.CharField(
        label=_("Кадастровый номер дома"),
        required=False,
        help_text=_("Из выписки ЕГРН на дом, например 50:21:0110501:456."),
        widget=forms.TextInput(attrs={"class": "field__input field__input--digits", "spellcheck": "false"}),
    )
    max_hourly_m3 = forms.CharField(
        label=_("Максимальный часовой расход газа, м³/ч"),
        required=False,
        help_text=_(
            "Сумма расходов всех газовых приборов из их паспортов. До 7 м³/ч — упрощённый порядок: "
            "расчёт расхода не нужен. Обычный дом с котлом и плитой — 3–5 м³/ч."
        ),
        widget=forms.TextInput(
            attrs={"class": "field__input field__input--digits", "inputmode": "decimal", "autocomplete": "off"}
        ),
    )
    usages = forms.MultipleChoiceField(
        label=_("Для чего нужен газ"),
        required=False,
        choices=Usage.choices,
        widget=ChoiceCheckboxes(attrs={"class": "checkbox__input"}),
        error_messages={"invalid_choice": _("Отметьте, для чего будет использоваться газ")},
    )
    comment = forms.CharField(
        label=_("Комментарий (по желанию)"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": TEXT_MAX}),
    )

    def __init__(self, *args: Any, user: User, suppliers: Sequence[Supplier], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        supplier = self.fields["supplier_id"]
        supplier.widget.choices = [("", gettext("— выберите —"))] + [(str(s.pk), s.short_name) for s in suppliers]
        if len(suppliers) == 1:
            supplier.initial = str(suppliers[0].pk)
        self.fields["program"].widget.choices = ConnectionProgram.choices
        self.fields["program"].initial = ConnectionProgram.DOGAZIFICATION.value
        if not self.is_bound:
            self.initial.setdefault(
                "applicant_name", " ".join(p for p in (user.last_name, user.first_name, user.middle_name) if p)
            )
            self.initial.setdefault("applicant_phone", user.phone or "")
        # errors about the documents as a whole (one missing, too many files) go on "files"
        self.fields["files"] = forms.Field(label=_("Документы"), required=False, widget=NoInput)
        for kind in DOCUMENT_INPUTS:
            label = capfirst(DocumentKind(kind).label) if kind != DocumentKind.OTHER else gettext("Другие документы")
            self.fields[document_field(kind)] = FilesField(
                label=label,
                help_text=_DOCUMENT_HINTS[kind],
            )
        self._notify_offer(user)

    @property
    def documents_hint(self) -> str:
        limit_mb = policy.FILE_SIZE_LIMIT // (1024 * 1024)
        return gettext(
            "Сфотографируйте или отсканируйте каждый документ: JPEG, PNG, WebP или PDF, каждый файл до %(size)s МБ. "
            "В одно поле можно выбрать несколько файлов, например страницы паспорта; всего не больше %(count)s."
        ) % {"size": limit_mb, "count": policy.FILES_PER_MESSAGE}

    @property
    def document_fields(self) -> list[forms.BoundField]:
        return [self[document_field(kind)] for kind in DOCUMENT_INPUTS]

    @property
    def new_files(self) -> list[NewFile]:
        files: list[NewFile] = []
        for kind in DOCUMENT_INPUTS:
            files += new_files(self.cleaned_data.get(document_field(kind)) or [], document_kind=kind)
        return files

    @property
    def supplier(self) -> int | None:
        return _number(self.cleaned_data.get("supplier_id"))


# --- In a case's thread ------------------------------------------------------------------


class ReplyForm(PortalForm):
    text = forms.CharField(
        label=_("Ваш ответ"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": TEXT_MAX}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["files"] = FilesField(label=_("Приложить файлы (по желанию)"), help_text=files_hint())

    @property
    def new_files(self) -> list[NewFile]:
        return new_files(self.cleaned_data.get("files") or [])


RATINGS = [
    ("5", _("5 — отлично")),
    ("4", _("4 — хорошо")),
    ("3", _("3 — удовлетворительно")),
    ("2", _("2 — плохо")),
    ("1", _("1 — очень плохо")),
]


class RateForm(PortalForm):
    rating = forms.CharField(label=_("Оценка ответа"), required=False, widget=_radios())
    comment = forms.CharField(
        label=_("Отзыв (по желанию)"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": TEXT_MAX}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rating"].widget.choices = RATINGS

    @property
    def mark(self) -> int:
        """The mark sent; 0 for none or not a number (the domain says what is wrong)."""
        value = _number(self.cleaned_data.get("rating"))
        return value if value is not None and value < 100 else 0


# --- The contacts page ---------------------------------------------------------------------


class FeedbackForm(PortalForm):
    """A guest's message. ``website`` is a trap: people do not see it, robots fill it in.
    ``issued`` is when the form was shown, signed."""

    supplier_id = forms.CharField(label=_("Кому написать"), required=False, widget=forms.Select())
    name = forms.CharField(
        label=_("Как к вам обращаться"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name", "maxlength": 150}),
    )
    contact = forms.CharField(
        label=_("E‑mail или телефон для ответа"),
        required=False,
        help_text=_("Например, ivanova@mail.ru или +7 912 345‑67‑89. Ответим туда."),
        widget=forms.TextInput(attrs={"autocomplete": "email", "spellcheck": "false", "maxlength": 254}),
    )
    text = forms.CharField(
        label=_("Сообщение"),
        required=False,
        strip=False,
        help_text=_("Не пишите здесь паспортные данные и PIN-код: это открытая форма."),
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": TEXT_MAX}),
    )
    website = forms.CharField(
        label=_("Сайт"),
        required=False,
        widget=forms.TextInput(attrs={"class": "field__input", "autocomplete": "off", "tabindex": "-1"}),
    )
    issued = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, suppliers: Sequence[Supplier], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        supplier = self.fields["supplier_id"]
        supplier.widget.choices = [("", gettext("— выберите —"))] + [(str(s.pk), s.short_name) for s in suppliers]
        if len(suppliers) == 1:
            supplier.initial = str(suppliers[0].pk)

    @property
    def supplier(self) -> int | None:
        return _number(self.cleaned_data.get("supplier_id"))
