"""What can go wrong talking to an OpenID provider. These are library errors with a
``reason`` for the log; :mod:`abonent.identity.external` turns them into domain errors
with a message for people."""

from __future__ import annotations


class OidcError(Exception):
    """The provider's answer cannot be used. ``reason`` says why, for the log (never shown)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ProviderUnavailable(OidcError):
    """The provider (or the signing service) did not answer, or answered with a server error."""


class SignerUnavailable(ProviderUnavailable):
    """The signing service did not give a signature."""


class ProviderErrorResponse(OidcError):
    """The provider answered with an OAuth error (``error``, ``error_description``)."""

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description


class IdTokenInvalid(OidcError):
    """The ID token failed validation: signature, issuer, audience, times or nonce."""


class NotConfigured(OidcError):
    """The provider is not switched on or its settings are incomplete."""
