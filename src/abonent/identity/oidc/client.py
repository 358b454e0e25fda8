"""The relying party: the authorization request and the callback of the authorization code
flow (OpenID Connect Core 1.0 §3.1, PKCE RFC 7636 with S256, RFC 9207 ``iss``).

:meth:`OidcClient.authorization_request` makes the address to send the person to and a
:class:`LoginFlow` — state, nonce and PKCE verifier, made with :mod:`secrets` — that the
caller keeps on the server until the person returns. :meth:`OidcClient.callback` takes the
code from the return, redeems it at the token endpoint with the verifier and the client
secret, validates the ID token and reads the userinfo; it gives the person's claims.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import secrets
import urllib.parse
import uuid
from dataclasses import dataclass
from typing import Any

from abonent.identity.oidc import http
from abonent.identity.oidc.config import ProviderConfig
from abonent.identity.oidc.discovery import Jwks, metadata_get, well_known_url
from abonent.identity.oidc.errors import IdTokenInvalid, NotConfigured, ProviderErrorResponse
from abonent.identity.oidc.esia import esia_person_claims
from abonent.identity.oidc.idtoken import id_token_validate
from abonent.identity.oidc.signers import SecretRequest, esia_timestamp

logger = logging.getLogger(__name__)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE verifier (RFC 7636 §4.2)."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


@dataclass(frozen=True)
class LoginFlow:
    """What is kept on the server between sending the person to the provider and their
    return. Never sent to the browser or the app: only ``state`` travels (in the URL)."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    started_at: dt.datetime

    def as_dict(self) -> dict[str, str]:
        return {
            "state": self.state,
            "nonce": self.nonce,
            "code_verifier": self.code_verifier,
            "redirect_uri": self.redirect_uri,
            "started_at": self.started_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Any) -> LoginFlow | None:
        """The flow kept as :meth:`as_dict`, or None when ``data`` is not one."""
        try:
            started = dt.datetime.fromisoformat(data["started_at"])
            values = {name: data[name] for name in ("state", "nonce", "code_verifier", "redirect_uri")}
        except (TypeError, KeyError, ValueError):
            return None
        if started.tzinfo is None or not all(isinstance(v, str) and v for v in values.values()):
            return None
        return cls(started_at=started, **values)


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    flow: LoginFlow


@dataclass(frozen=True)
class Endpoints:
    issuer: str
    authorization: str
    token: str
    jwks: str
    userinfo: str
    iss_parameter: bool  # the provider adds ``iss`` to its answers (RFC 9207)


@dataclass(frozen=True)
class TokenResponse:
    id_token: str
    access_token: str
    raw: dict[str, Any]


class OidcClient:
    def __init__(self, config: ProviderConfig) -> None:
        self.config = config

    # --- Endpoints ---------------------------------------------------------------------

    def endpoints(self) -> Endpoints:
        """The provider's endpoints: the ones set in the configuration, the rest discovered.

        Raises NotConfigured, ProviderUnavailable.
        """
        c = self.config
        metadata: dict[str, Any] = {}
        if not (c.authorization_endpoint and c.token_endpoint and c.jwks_uri):
            url = c.discovery_url or (well_known_url(c.issuer) if c.issuer else "")
            if not url:
                raise NotConfigured("neither the issuer nor the endpoints are set")
            metadata = metadata_get(url, issuer=c.issuer, timeout=c.timeout, ca_file=c.ca_file)
        issuer = c.issuer or metadata.get("issuer", "")
        if not issuer:
            raise NotConfigured("the issuer is not set")
        return Endpoints(
            issuer=issuer,
            authorization=c.authorization_endpoint or metadata["authorization_endpoint"],
            token=c.token_endpoint or metadata["token_endpoint"],
            jwks=c.jwks_uri or metadata["jwks_uri"],
            userinfo=c.userinfo_endpoint or str(metadata.get("userinfo_endpoint") or ""),
            iss_parameter=metadata.get("authorization_response_iss_parameter_supported") is True,
        )

    # --- The authorization request -----------------------------------------------------

    def _new_state(self) -> str:
        # ЕСИА wants the state as a UUID; uuid4 takes its 122 bits from os.urandom.
        return str(uuid.uuid4()) if self.config.protocol == "esia" else secrets.token_urlsafe(32)

    def _secret_request(self, *, state: str, timestamp: str, redirect_uri: str) -> SecretRequest:
        c = self.config
        return SecretRequest(
            client_id=c.client_id, scope=c.scope, state=state, timestamp=timestamp, redirect_uri=redirect_uri
        )

    def authorization_request(self, *, now: dt.datetime, redirect_uri: str | None = None) -> AuthorizationRequest:
        """The address to send the person to, and the flow to keep until they return.

        ``redirect_uri`` must be one of the configured ones (the portal's by default).
        Raises NotConfigured, ProviderUnavailable (discovery, the signing service).
        """
        c = self.config
        redirect = redirect_uri or c.redirect_uri
        if redirect not in c.redirect_uris:
            raise NotConfigured(f"redirect_uri {redirect!r} is not registered")
        endpoints = self.endpoints()
        flow = LoginFlow(
            state=self._new_state(),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64),
            redirect_uri=redirect,
            started_at=now,
        )
        params = {
            "response_type": "code",
            "client_id": c.client_id,
            "redirect_uri": redirect,
            "scope": c.scope,
            "state": flow.state,
            "nonce": flow.nonce,
            "code_challenge": pkce_challenge(flow.code_verifier),
            "code_challenge_method": "S256",
        }
        if c.protocol == "esia":
            timestamp = esia_timestamp(now)
            params["timestamp"] = timestamp
            params["access_type"] = "online"
            params["client_secret"] = c.signer.client_secret(
                self._secret_request(state=flow.state, timestamp=timestamp, redirect_uri=redirect)
            )
            if c.certificate_hash:
                params["client_certificate_hash"] = c.certificate_hash
        separator = "&" if urllib.parse.urlsplit(endpoints.authorization).query else "?"
        return AuthorizationRequest(url=endpoints.authorization + separator + urllib.parse.urlencode(params), flow=flow)

    # --- The callback ------------------------------------------------------------------

    def callback(self, *, flow: LoginFlow, code: str, iss: str | None, now: dt.datetime) -> dict[str, Any]:
        """The person's claims, once the code is redeemed and the ID token is valid.

        ``iss`` is the issuer the provider named in its answer, if it did (RFC 9207).
        Raises ProviderUnavailable, ProviderErrorResponse, IdTokenInvalid, NotConfigured.
        """
        endpoints = self.endpoints()
        if iss is not None and iss != endpoints.issuer:
            raise IdTokenInvalid(f"the answer names issuer {iss!r}, not {endpoints.issuer!r}")
        if iss is None and endpoints.iss_parameter:
            raise IdTokenInvalid("the provider promises an iss parameter and the answer has none")
        tokens = self.token_request(endpoints, flow=flow, code=code, now=now)
        jwks = Jwks(endpoints.jwks, timeout=self.config.timeout, ca_file=self.config.ca_file)
        claims = id_token_validate(
            tokens.id_token,
            key_for=jwks.key_for,
            issuer=endpoints.issuer,
            client_id=self.config.client_id,
            nonce=flow.nonce,
            now=now,
            algorithms=self.config.id_token_algorithms,
            leeway=self.config.leeway,
        )
        if self.config.use_userinfo and endpoints.userinfo and tokens.access_token:
            extra = self.userinfo(endpoints, access_token=tokens.access_token, subject=str(claims["sub"]))
            claims = {**extra, **claims}
        return claims

    def token_request(self, endpoints: Endpoints, *, flow: LoginFlow, code: str, now: dt.datetime) -> TokenResponse:
        """Redeem the authorization code. Raises ProviderUnavailable, ProviderErrorResponse."""
        c = self.config
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": flow.redirect_uri,
            "code_verifier": flow.code_verifier,
        }
        headers: dict[str, str] = {}
        if c.protocol == "esia":
            # ЕСИА signs the token request too, over a new state and the time of this request.
            timestamp, state = esia_timestamp(now), self._new_state()
            secret = c.signer.client_secret(
                self._secret_request(state=state, timestamp=timestamp, redirect_uri=flow.redirect_uri)
            )
            form.update(state=state, scope=c.scope, timestamp=timestamp, token_type="Bearer")
            if c.certificate_hash:
                form["client_certificate_hash"] = c.certificate_hash
        else:
            secret = c.signer.client_secret(
                self._secret_request(state="", timestamp="", redirect_uri=flow.redirect_uri)
            )
        if c.token_auth_method == "client_secret_basic":
            pair = f"{urllib.parse.quote(c.client_id, safe='')}:{urllib.parse.quote(secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        else:
            form.update(client_id=c.client_id, client_secret=secret)
        answer = http.request("POST", endpoints.token, form=form, headers=headers, timeout=c.timeout, ca_file=c.ca_file)
        body = answer.body if isinstance(answer.body, dict) else {}
        if answer.status != 200:
            raise ProviderErrorResponse(
                str(body.get("error") or f"http_{answer.status}"), str(body.get("error_description") or "")
            )
        id_token, access_token = body.get("id_token"), body.get("access_token")
        if not isinstance(id_token, str) or not id_token:
            raise IdTokenInvalid("the token response has no id_token")
        if str(body.get("token_type", "")).lower() != "bearer":
            raise IdTokenInvalid(f"token_type {body.get('token_type')!r} is not Bearer")
        return TokenResponse(
            id_token=id_token, access_token=access_token if isinstance(access_token, str) else "", raw=body
        )

    def userinfo(self, endpoints: Endpoints, *, access_token: str, subject: str) -> dict[str, Any]:
        """The person's claims from the userinfo endpoint (ЕСИА: its REST API), which must be
        about the same subject as the ID token. Raises ProviderUnavailable,
        ProviderErrorResponse, IdTokenInvalid."""
        c = self.config
        if c.protocol == "esia":
            return esia_person_claims(
                endpoints.userinfo, oid=subject, access_token=access_token, timeout=c.timeout, ca_file=c.ca_file
            )
        answer = http.request(
            "GET",
            endpoints.userinfo,
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=c.timeout,
            ca_file=c.ca_file,
        )
        if answer.status != 200 or not isinstance(answer.body, dict):
            body = answer.body if isinstance(answer.body, dict) else {}
            raise ProviderErrorResponse(str(body.get("error") or f"userinfo_http_{answer.status}"))
        if str(answer.body.get("sub", "")) != subject:
            raise IdTokenInvalid("userinfo is about another subject")
        return answer.body
