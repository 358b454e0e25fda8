"""Which messages a subscriber may switch off, where each goes by default, and the limits
that keep messages from becoming a nuisance.

A preference is a (kind, channel) pair; only the pairs a subscriber changed are stored, the
rest are these defaults. A channel in ``mandatory`` cannot be switched off: the debt notice
that must precede a suspension of the gas supply (Правила поставки газа, ПП РФ №549,
п.45–46: two periods unpaid, notice at least 40 days before) and the safety notices, and
the bill by e-mail of a subscriber who gave up the paper one (it is their bill).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from abonent.core.ratelimit import Limit
from abonent.notifications.enums import Channel, Kind

E, S, P, W = Channel.EMAIL, Channel.SMS, Channel.PUSH, Channel.PORTAL
ALL = frozenset({E, S, P, W})


@dataclass(frozen=True)
class KindRule:
    #: the channels the message can go out on at all
    channels: frozenset[Channel]
    #: on unless the subscriber switched them off
    defaults: frozenset[Channel]
    #: cannot be switched off
    mandatory: frozenset[Channel] = frozenset()
    #: SMS and push wait for the daytime at the supplier's place (``QUIET_*``)
    daytime_only: bool = True
    #: counted against the per-recipient limits (``RECIPIENT_LIMITS``)
    limited: bool = True
    #: shown on the settings page (the others are not the subscriber's to choose)
    configurable: bool = True

    def __post_init__(self) -> None:
        assert self.defaults <= self.channels
        assert self.mandatory <= self.channels


KINDS: dict[str, KindRule] = {
    Kind.READINGS_OPEN: KindRule(channels=ALL, defaults=frozenset({P, W})),
    Kind.READINGS_LAST_DAY: KindRule(channels=ALL, defaults=frozenset({E, P, W})),
    Kind.BILL_READY: KindRule(channels=ALL, defaults=frozenset({E, P, W})),
    Kind.PAYMENT_DUE: KindRule(channels=ALL, defaults=frozenset({P, W})),
    Kind.DEBT: KindRule(channels=ALL, defaults=frozenset({E, P, W})),
    Kind.DEBT_NOTICE: KindRule(channels=ALL, defaults=ALL, mandatory=frozenset({E, S, W}), limited=False),
    Kind.METER_VERIFICATION: KindRule(channels=ALL, defaults=frozenset({E, P, W})),
    Kind.CONTRACT_ENDING: KindRule(channels=ALL, defaults=frozenset({E, P, W})),
    # Answers to the subscriber's own request and the confirmation of their own payment:
    # expected at once, at any hour, and never held back by a limit.
    Kind.APPEAL_UPDATE: KindRule(channels=ALL, defaults=frozenset({P, W}), limited=False, daytime_only=False),
    Kind.PAYMENT_CONFIRMED: KindRule(
        channels=frozenset({E, P, W}), defaults=frozenset({E, P, W}), limited=False, daytime_only=False
    ),
    Kind.ANNOUNCEMENT: KindRule(channels=ALL, defaults=frozenset({E, P, W})),
    Kind.SAFETY_NOTICE: KindRule(channels=ALL, defaults=ALL, mandatory=ALL, daytime_only=False, limited=False),
    Kind.BILL_BY_EMAIL: KindRule(
        channels=frozenset({E, W}), defaults=frozenset({E, W}), mandatory=frozenset({E}), configurable=False
    ),
}

#: The order of channels on the settings page and in the API.
CHANNEL_ORDER = (W, P, E, S)

#: SMS and push of ``daytime_only`` kinds go out from 09:00 to 21:00 at the supplier's
#: place; one asked for at night waits for the morning. E-mail goes at any time.
QUIET_UNTIL = dt.time(9, 0)
QUIET_FROM = dt.time(21, 0)
QUIET_CHANNELS = frozenset({S, P})

#: At most this many ``limited`` messages a recipient gets on a channel in a window; the
#: next waits for the window to end (it is not dropped).
RECIPIENT_LIMITS: dict[str, Limit] = {
    S: Limit("notify-sms", 3, 24 * 60 * 60),
    P: Limit("notify-push", 6, 60 * 60),
    E: Limit("notify-email", 10, 24 * 60 * 60),
}

#: A subscriber's devices for push: the oldest unused goes when one more registers.
DEVICES_PER_USER = 10

#: Reminder rules, in days of the supplier's calendar.
PAYMENT_DUE_DAYS_BEFORE = 3
#: Payments through a bank reach us in its registry a few days later: the debt reminder
#: waits this long after the due date so it does not go to someone who paid on time.
DEBT_DAYS_AFTER = 5

#: The notification centre shows the latest this many messages.
CENTRE_LIMIT = 100
