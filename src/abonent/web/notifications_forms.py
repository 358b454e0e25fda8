"""Forms of the notification settings: what comes where (a checkbox for each kind of message
and channel), and the language of the messages.

The forms only collect what was sent; which pairs exist, which cannot be switched off and
which languages there are is the domain's to say (``preferences_set``,
``user_language_set``), and its errors are put next to the checkbox they name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.forms.boundfield import BoundField
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.notifications.enums import Channel
from abonent.notifications.policy import CHANNEL_ORDER
from abonent.notifications.selectors import ChannelChoice, KindChoices
from abonent.web.forms import ChoiceRadios, PortalForm


def preference_field(kind: str, channel: str) -> str:
    """The checkbox of a (kind, channel) pair: ``bill_ready.email``, as the domain names its errors."""
    return f"{kind}.{channel}"


@dataclass(frozen=True)
class ChannelColumn:
    channel: str
    label: str
    available: bool  # the subscriber has where to receive it


@dataclass(frozen=True)
class PreferenceCell:
    channel: ChannelColumn
    choice: ChannelChoice | None  # None: this kind does not go out on this channel
    field: BoundField | None


@dataclass(frozen=True)
class PreferenceRow:
    kind: str
    label: str
    cells: list[PreferenceCell]
    mandatory: list[str]  # the labels of the channels that cannot be switched off

    @property
    def all_mandatory(self) -> bool:
        return all(cell.choice is None or cell.choice.mandatory for cell in self.cells)


class PreferencesForm(PortalForm):
    """A checkbox ``<kind>.<channel>`` for each pair of the subscriber's matrix. The
    checkbox of a notice that cannot be switched off is shown ticked and disabled; a hidden
    input beside it sends it on (a disabled input is not sent), so switching it off takes a
    crafted request, which the domain refuses."""

    def __init__(self, *args: Any, matrix: list[KindChoices], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.matrix = matrix
        for kinds in matrix:
            for choice in kinds.channels:
                attrs: dict[str, Any] = {"class": "checkbox__input prefs__input"}
                if choice.mandatory:
                    attrs.update(disabled=True, checked=True)
                self.fields[preference_field(kinds.kind, choice.channel)] = forms.BooleanField(
                    label=f"{kinds.label}: {Channel(choice.channel).label}",
                    required=False,
                    initial=choice.enabled,
                    widget=forms.CheckboxInput(attrs=attrs),
                )

    @property
    def columns(self) -> list[ChannelColumn]:
        """The channels in the order of the settings page, each with whether it reaches the
        subscriber (the same for every kind)."""
        reach: dict[str, bool] = {}
        for kinds in self.matrix:
            for choice in kinds.channels:
                reach[choice.channel] = reach.get(choice.channel, False) or choice.available
        return [
            ChannelColumn(channel=channel, label=str(Channel(channel).label), available=reach[channel])
            for channel in CHANNEL_ORDER
            if channel in reach
        ]

    @property
    def rows(self) -> list[PreferenceRow]:
        columns = self.columns
        rows = []
        for kinds in self.matrix:
            by_channel = {choice.channel: choice for choice in kinds.channels}
            cells = []
            for column in columns:
                choice = by_channel.get(column.channel)
                field = self[preference_field(kinds.kind, column.channel)] if choice else None
                cells.append(PreferenceCell(channel=column, choice=choice, field=field))
            mandatory = [column.label for column in columns if (c := by_channel.get(column.channel)) and c.mandatory]
            rows.append(PreferenceRow(kind=kinds.kind, label=kinds.label, cells=cells, mandatory=mandatory))
        return rows

    @property
    def choices(self) -> dict[tuple[str, str], bool]:
        """The whole choice, every pair of the page ticked or not; a pair the page does not
        have but the request names is passed on as well, for the domain to refuse."""
        choices = {}
        for name in self.fields:
            kind, _dot, channel = name.partition(".")
            choices[(kind, channel)] = bool(self.cleaned_data.get(name))
        probe = forms.CheckboxInput()
        for name in self.data:
            if "." in name and name not in self.fields:
                kind, _dot, channel = name.partition(".")
                choices[(kind, channel)] = probe.value_from_datadict(self.data, MultiValueDict(), name)
        return choices


def language_choices() -> list[tuple[str, str]]:
    return [(code, name) for code, name in settings.LANGUAGES]


class LanguageForm(PortalForm):
    """The language of the messages; whether the code is one of ours is the domain's to say."""

    language = forms.CharField(
        label=_("Язык сообщений"),
        max_length=8,
        error_messages={"required": _("Выберите язык сообщений")},
        widget=ChoiceRadios(attrs={"class": "choice__input"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["language"]
        field.widget.choices = language_choices()
        field.help_text = gettext(
            "На этом языке приходят письма, SMS, push-уведомления и сообщения в кабинете. "
            "Язык страниц сайта выбирается вверху страницы."
        )
