"""What the client knows about a provider, built from the settings (``ESIA_*``, see the
Госуслуги section of ``config/settings.py``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from django.conf import settings

from abonent.identity.oidc.errors import NotConfigured
from abonent.identity.oidc.signers import (
    ESIA_SIGNED_FIELDS,
    ClientSecretSigner,
    ExternalServiceSigner,
    StaticSecretSigner,
)

ProtocolName = Literal["oidc", "esia"]
TokenAuthMethod = Literal["client_secret_post", "client_secret_basic"]

#: The one provider configured by the settings.
ESIA = "esia"

_PROTOCOLS: dict[str, ProtocolName] = {"oidc": "oidc", "esia": "esia"}
_AUTH_METHODS: dict[str, TokenAuthMethod] = {
    "client_secret_post": "client_secret_post",
    "client_secret_basic": "client_secret_basic",
}


@dataclass(frozen=True)
class ProviderConfig:
    """One OpenID provider and our registration with it.

    Endpoints come from the discovery document of ``issuer`` (or ``discovery_url``); any
    endpoint given here wins over the discovered one, and when the authorization, token
    and JWKS endpoints are all given discovery is not used at all (ЕСИА has no discovery
    document). ``protocol="esia"`` adds ЕСИА's parameters to both requests (see the
    package's docstring).
    """

    name: str
    client_id: str
    redirect_uri: str
    signer: ClientSecretSigner = field(repr=False)
    issuer: str = ""
    discovery_url: str = ""
    authorization_endpoint: str = ""
    token_endpoint: str = ""
    jwks_uri: str = ""
    userinfo_endpoint: str = ""
    use_userinfo: bool = True
    scopes: tuple[str, ...] = ("openid",)
    token_auth_method: TokenAuthMethod = "client_secret_post"
    protocol: ProtocolName = "oidc"
    certificate_hash: str = ""
    id_token_algorithms: tuple[str, ...] = ("RS256", "ES256")
    leeway: dt.timedelta = dt.timedelta(seconds=60)
    timeout: float = 10.0
    ca_file: str = ""
    app_redirect_uris: tuple[str, ...] = ()

    @property
    def scope(self) -> str:
        return " ".join(self.scopes)

    @property
    def redirect_uris(self) -> tuple[str, ...]:
        """Every address the provider may send the person back to: the portal's callback
        and the mobile apps' addresses."""
        return (self.redirect_uri, *self.app_redirect_uris)


def _signer() -> ClientSecretSigner:
    kind = settings.ESIA_SIGNER
    if kind == "static":
        return StaticSecretSigner(settings.ESIA_CLIENT_SECRET)
    if kind == "external":
        return ExternalServiceSigner(
            settings.ESIA_SIGNER_URL,
            fields=tuple(settings.ESIA_SIGNED_FIELDS) or ESIA_SIGNED_FIELDS,
            authorization=settings.ESIA_SIGNER_AUTHORIZATION,
            timeout=settings.ESIA_HTTP_TIMEOUT,
            ca_file=settings.ESIA_CA_FILE,
        )
    raise NotConfigured(f"ESIA_SIGNER={kind!r}: expected static or external")


def provider_config(name: str) -> ProviderConfig:
    """The configuration of provider ``name`` from the settings. Raises NotConfigured when
    it is switched off or unknown."""
    if name != ESIA or not getattr(settings, "ESIA_ENABLED", False):
        raise NotConfigured(f"provider {name!r} is not enabled")
    try:
        signer = _signer()
    except ValueError as exc:
        raise NotConfigured(f"ESIA signer: {exc}") from None
    protocol = _PROTOCOLS.get(settings.ESIA_PROTOCOL)
    auth_method = _AUTH_METHODS.get(settings.ESIA_TOKEN_AUTH_METHOD)
    if protocol is None or auth_method is None:
        raise NotConfigured("ESIA_PROTOCOL or ESIA_TOKEN_AUTH_METHOD has an unknown value")
    return ProviderConfig(
        name=ESIA,
        client_id=settings.ESIA_CLIENT_ID,
        redirect_uri=settings.ESIA_REDIRECT_URI,
        signer=signer,
        issuer=settings.ESIA_ISSUER,
        discovery_url=settings.ESIA_DISCOVERY_URL,
        authorization_endpoint=settings.ESIA_AUTHORIZATION_URL,
        token_endpoint=settings.ESIA_TOKEN_URL,
        jwks_uri=settings.ESIA_JWKS_URL,
        userinfo_endpoint=settings.ESIA_USERINFO_URL,
        use_userinfo=settings.ESIA_USE_USERINFO,
        scopes=tuple(settings.ESIA_SCOPES),
        token_auth_method=auth_method,
        protocol=protocol,
        certificate_hash=settings.ESIA_CERTIFICATE_HASH,
        id_token_algorithms=tuple(settings.ESIA_ID_TOKEN_ALGORITHMS),
        leeway=dt.timedelta(seconds=settings.ESIA_CLOCK_LEEWAY),
        timeout=float(settings.ESIA_HTTP_TIMEOUT),
        ca_file=settings.ESIA_CA_FILE,
        app_redirect_uris=tuple(settings.ESIA_APP_REDIRECT_URIS),
    )
