"""The interface every sender has, and the two ways a send can fail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class SendFailed(Exception):
    """A provider did not take the message; the text says why, for the delivery log."""


class TemporaryFailure(SendFailed):
    """Worth another try later: the provider or the network is down, our account there needs
    attention (balance, key), a rate limit. The delivery is retried with a growing pause."""


class PermanentFailure(SendFailed):
    """Will fail the same way on every try: the recipient or the text is refused.
    The delivery is marked failed at once."""


class RecipientGone(PermanentFailure):
    """The push service no longer knows the device token (the app was removed, the token
    replaced): the delivery fails and the device is forgotten."""


@dataclass(frozen=True)
class Attachment:
    """A file sent with an e-mail: the name the recipient sees, the bytes, their MIME type."""

    filename: str
    content: bytes
    mimetype: str


class Sender(Protocol):
    #: The provider code recorded in the delivery log (``enums.Provider``).
    name: str

    def send(
        self,
        *,
        recipient: str,
        subject: str,
        body: str,
        attachment: Attachment | None = None,
        data: dict[str, str] | None = None,
    ) -> str:
        """Hand the message over; return the provider's id of it. Only e-mail carries an
        ``attachment`` (the delivery log lets no other message have one), only push ``data``
        for the app (what the message is about, to open the right screen).

        Raises TemporaryFailure or PermanentFailure.
        """
        ...
