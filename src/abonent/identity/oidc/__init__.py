"""A small OpenID Connect relying party for "Войти через Госуслуги" (ЕСИА), and for any
standards-compliant OpenID provider.

The flow is the authorization code flow with PKCE (S256), ``state`` and ``nonce``:

1. :meth:`OidcClient.authorization_request` gives the provider's address with
   ``response_type=code``, ``client_id``, ``redirect_uri``, ``scope``, ``state``, ``nonce``
   and ``code_challenge``, and a :class:`LoginFlow` (state, nonce, PKCE verifier, all from
   :mod:`secrets`) that the caller keeps on the server.
2. :meth:`OidcClient.callback` redeems the code at the token endpoint with the verifier and
   the client secret (``client_secret_post`` or ``client_secret_basic``), validates the ID
   token (signature by the provider's JWKS, issuer, audience, expiry and issue time with a
   small leeway, nonce) and reads the userinfo.

Endpoints come from the discovery document (``/.well-known/openid-configuration``, kept an
hour) unless they are set explicitly. HTTP is urllib with timeouts; JWTs are PyJWT.

The client secret is made by a :class:`~abonent.identity.oidc.signers.ClientSecretSigner`:
:class:`StaticSecretSigner` for a provider that issued a secret,
:class:`ExternalServiceSigner` for ЕСИА, whose "secret" is a signature.

How ЕСИА differs from plain OpenID Connect (``ESIA_PROTOCOL=esia``):

- No discovery document: the endpoints are set explicitly — authorization
  ``https://esia.gosuslugi.ru/aas/oauth2/v3/ac`` (older: ``/aas/oauth2/ac``), token
  ``https://esia.gosuslugi.ru/aas/oauth2/v3/te`` (older: ``/aas/oauth2/te``), the person's
  data at the REST API ``https://esia.gosuslugi.ru/rs/prns`` instead of userinfo
  (:mod:`abonent.identity.oidc.esia`). The test environment is ``esia-portal1.test.gosuslugi.ru``.
- ``client_secret`` is not a secret but a detached CMS signature under ГОСТ Р 34.10-2012,
  base64url, of ``scope + timestamp + client_id + state`` (no separators), made with the
  key of the operator's information system registered in ЕСИА. It is sent with the
  authorization request *and* with the token request, each time over that request's own
  timestamp and state (the token request carries a new state). Newer editions of ЕСИА's
  methodology for the v3 endpoints sign ``client_id + scope + timestamp + state +
  redirect_uri`` and add ``client_certificate_hash``: both are settings
  (``ESIA_SIGNED_FIELDS``, ``ESIA_CERTIFICATE_HASH``).
- ``timestamp`` is the request's time as ``YYYY.MM.DD HH:MM:SS +0300`` (Moscow time),
  see :func:`~abonent.identity.oidc.signers.esia_timestamp`.
- ``state`` must be a UUID; the authorization request also carries ``access_type=online``;
  the token request carries ``scope``, ``timestamp``, ``state`` and ``token_type=Bearer``.
- Scopes are ЕСИА's (``openid fullname mobile email``), not ``profile phone email``.
- ЕСИА signs its tokens with ГОСТ Р 34.10-2012 (``GOST3410_2012_256``), which PyJWT cannot
  verify; the ID token validator here accepts RSA and ECDSA algorithms only. Checking a
  ГОСТ signature needs an outside verifying service like the signing one, which is not
  built yet: until then ЕСИА works only where it signs its tokens with RS256.
"""

from abonent.identity.oidc.client import AuthorizationRequest, LoginFlow, OidcClient, pkce_challenge
from abonent.identity.oidc.config import ESIA, ProviderConfig, provider_config
from abonent.identity.oidc.errors import (
    IdTokenInvalid,
    NotConfigured,
    OidcError,
    ProviderErrorResponse,
    ProviderUnavailable,
    SignerUnavailable,
)
from abonent.identity.oidc.idtoken import id_token_validate
from abonent.identity.oidc.signers import (
    ClientSecretSigner,
    ExternalServiceSigner,
    SecretRequest,
    StaticSecretSigner,
    esia_timestamp,
)

__all__ = [
    "ESIA",
    "AuthorizationRequest",
    "ClientSecretSigner",
    "ExternalServiceSigner",
    "IdTokenInvalid",
    "LoginFlow",
    "NotConfigured",
    "OidcClient",
    "OidcError",
    "ProviderConfig",
    "ProviderErrorResponse",
    "ProviderUnavailable",
    "SecretRequest",
    "SignerUnavailable",
    "StaticSecretSigner",
    "esia_timestamp",
    "id_token_validate",
    "pkce_challenge",
    "provider_config",
]
