"""Who makes the ``client_secret`` of a request to the provider.

A standard provider has a fixed client secret (:class:`StaticSecretSigner`). ЕСИА has
none: its ``client_secret`` is a detached CMS signature under ГОСТ Р 34.10-2012 of the
request's own parameters — ``scope + timestamp + client_id + state`` concatenated without
separators — made with the key of the operator's information system and encoded
base64url. Python cannot make that signature by itself; an outside signing service does
(КриптоПро DSS behind a small adapter, a local signing module with a ГОСТ engine, an
HSM), and :class:`ExternalServiceSigner` asks it over HTTP.

The contract with the signing service (one call a signature)::

    POST <url>
    Content-Type: application/json
    Authorization: <the configured header value, if any>

    {"data": "<standard base64 of the UTF-8 bytes to sign>"}

    200 OK
    {"signature": "<base64 or base64url of the DER detached CMS (PKCS#7) signature>"}
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from abonent.identity.oidc import http
from abonent.identity.oidc.errors import ProviderUnavailable, SignerUnavailable

#: The order ЕСИА concatenates the signed parameters in (Методические рекомендации по
#: использованию ЕСИА, v2 endpoints). Newer editions for the v3 endpoints list
#: ``client_id, scope, timestamp, state, redirect_uri``: settable, see ESIA_SIGNED_FIELDS.
ESIA_SIGNED_FIELDS: tuple[str, ...] = ("scope", "timestamp", "client_id", "state")
SIGNED_FIELD_NAMES = frozenset({"client_id", "scope", "timestamp", "state", "redirect_uri"})
_MOSCOW = ZoneInfo("Europe/Moscow")


def esia_timestamp(now: dt.datetime) -> str:
    """The time of a request as ЕСИА wants it: ``2026.11.22 15:04:05 +0300`` (Moscow time)."""
    return now.astimezone(_MOSCOW).strftime("%Y.%m.%d %H:%M:%S %z")


@dataclass(frozen=True)
class SecretRequest:
    """The parameters of one request to the provider that its client secret may cover."""

    client_id: str
    scope: str
    state: str
    timestamp: str
    redirect_uri: str

    def message(self, fields: Sequence[str]) -> str:
        """The string to sign: the named parameters concatenated without separators."""
        return "".join(getattr(self, name) for name in fields)


class ClientSecretSigner(Protocol):
    """Makes the ``client_secret`` sent with a request."""

    #: Whether the secret differs from request to request (a signature) rather than fixed.
    per_request: bool

    def client_secret(self, request: SecretRequest) -> str: ...


class StaticSecretSigner:
    """The client secret the provider issued at registration, the same every time."""

    per_request = False

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("a client secret is required")
        self._secret = secret

    def client_secret(self, request: SecretRequest) -> str:
        return self._secret

    def __repr__(self) -> str:
        return "StaticSecretSigner(<secret>)"


class ExternalServiceSigner:
    """A detached signature of the request's parameters, made by a signing service over
    HTTP (see the module's docstring for the contract), encoded base64url."""

    per_request = True

    def __init__(
        self,
        url: str,
        *,
        fields: Sequence[str] = ESIA_SIGNED_FIELDS,
        authorization: str = "",
        timeout: float = 10,
        ca_file: str = "",
    ) -> None:
        unknown = set(fields) - SIGNED_FIELD_NAMES
        if not url or not fields or unknown:
            raise ValueError(f"a signing service address and known fields are required (unknown: {sorted(unknown)})")
        self.url = url
        self.fields = tuple(fields)
        self._authorization = authorization
        self.timeout = timeout
        self.ca_file = ca_file

    def client_secret(self, request: SecretRequest) -> str:
        message = request.message(self.fields).encode("utf-8")
        headers = {"Authorization": self._authorization} if self._authorization else {}
        try:
            answer = http.request(
                "POST",
                self.url,
                json_body={"data": base64.b64encode(message).decode("ascii")},
                headers=headers,
                timeout=self.timeout,
                ca_file=self.ca_file,
            )
        except ProviderUnavailable as exc:
            raise SignerUnavailable(f"signing service: {exc.reason}") from None
        signature = answer.body.get("signature") if isinstance(answer.body, dict) else None
        if answer.status != 200 or not isinstance(signature, str) or not signature:
            raise SignerUnavailable(f"signing service: HTTP {answer.status} without a signature")
        text = "".join(signature.split())  # some services wrap base64 in lines
        try:
            raw = base64.b64decode((text + "=" * (-len(text) % 4)).replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            raise SignerUnavailable("signing service: the signature is not base64") from None
        if not raw:
            raise SignerUnavailable("signing service: an empty signature")
        return base64.urlsafe_b64encode(raw).decode("ascii")

    def __repr__(self) -> str:
        return f"ExternalServiceSigner({self.url!r}, fields={self.fields!r})"
