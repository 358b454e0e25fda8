"""The relying party against a real OpenID provider (oidc-provider, started by node):
discovery, the authorization request, the code redeemed with PKCE and the client secret
(post and basic), the ID token (RS256 and ES256) and the userinfo."""

from __future__ import annotations

import dataclasses
import datetime as dt
import urllib.parse

import pytest

from abonent.identity.oidc import (
    IdTokenInvalid,
    LoginFlow,
    NotConfigured,
    OidcClient,
    ProviderConfig,
    ProviderErrorResponse,
    ProviderUnavailable,
    StaticSecretSigner,
    pkce_challenge,
)
from abonent.identity.oidc.discovery import caches_clear
from tests.identity.oidc.conftest import APP_REDIRECT_URI, REDIRECT_URI
from tests.identity.oidc.oidc_provider import (
    BASIC_CLIENT_ID,
    BASIC_CLIENT_SECRET,
    Browser,
    Provider,
    provider_login,
    provider_refuse,
    query_of,
)


def now() -> dt.datetime:
    """The provider stamps its tokens with the real time; so does the test."""
    return dt.datetime.now(dt.UTC)


def login_at_provider(client: OidcClient, account: str, redirect_uri: str = REDIRECT_URI) -> tuple[LoginFlow, dict]:
    request = client.authorization_request(now=now(), redirect_uri=redirect_uri)
    back = provider_login(Browser(), request.url, account=account, until=redirect_uri)
    return request.flow, query_of(back)


class TestDiscovery:
    def test_endpoints_come_from_the_discovery_document(
        self, provider_config: ProviderConfig, oidc_provider: Provider
    ) -> None:
        caches_clear()

        endpoints = OidcClient(provider_config).endpoints()

        base = oidc_provider.issuer
        assert endpoints.issuer == base
        assert endpoints.authorization == f"{base}/auth"
        assert endpoints.token == f"{base}/token"
        assert endpoints.jwks == f"{base}/jwks"
        assert endpoints.userinfo == f"{base}/me"
        assert endpoints.iss_parameter is True

    def test_explicit_endpoints_win_and_discovery_is_kept(self, provider_config: ProviderConfig) -> None:
        client = OidcClient(dataclasses.replace(provider_config, userinfo_endpoint="https://elsewhere.example/me"))

        assert client.endpoints().userinfo == "https://elsewhere.example/me"
        assert client.endpoints().token == provider_config.issuer + "/token"

    def test_a_document_naming_another_issuer_is_refused(self, provider_config: ProviderConfig) -> None:
        caches_clear()
        config = dataclasses.replace(
            provider_config,
            issuer="https://esia.gosuslugi.ru/",
            discovery_url=provider_config.issuer + "/.well-known/openid-configuration",
        )

        with pytest.raises(ProviderUnavailable) as caught:
            OidcClient(config).endpoints()
        assert "names issuer" in caught.value.reason


class TestAuthorizationRequest:
    def test_the_address_carries_code_flow_pkce_state_and_nonce(self, provider_config: ProviderConfig) -> None:
        request = OidcClient(provider_config).authorization_request(now=now())

        url = urllib.parse.urlsplit(request.url)
        params = query_of(request.url)
        assert f"{url.scheme}://{url.netloc}{url.path}" == provider_config.issuer + "/auth"
        assert params == {
            "response_type": "code",
            "client_id": "abonent-portal",
            "redirect_uri": REDIRECT_URI,
            "scope": "openid profile email phone",
            "state": request.flow.state,
            "nonce": request.flow.nonce,
            "code_challenge": pkce_challenge(request.flow.code_verifier),
            "code_challenge_method": "S256",
        }
        assert len(request.flow.state) >= 43
        assert len(request.flow.nonce) >= 43
        assert 43 <= len(request.flow.code_verifier) <= 128

    def test_every_request_has_its_own_secrets(self, provider_config: ProviderConfig) -> None:
        client = OidcClient(provider_config)
        one, two = client.authorization_request(now=now()), client.authorization_request(now=now())

        assert one.flow.state != two.flow.state
        assert one.flow.nonce != two.flow.nonce
        assert one.flow.code_verifier != two.flow.code_verifier

    def test_pkce_challenge_is_rfc_7636_s256(self) -> None:
        # RFC 7636, Appendix B
        assert (
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
            == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        )

    def test_only_registered_return_addresses(self, provider_config: ProviderConfig) -> None:
        client = OidcClient(provider_config)

        assert (
            client.authorization_request(now=now(), redirect_uri=APP_REDIRECT_URI).flow.redirect_uri == APP_REDIRECT_URI
        )
        with pytest.raises(NotConfigured):
            client.authorization_request(now=now(), redirect_uri="https://attacker.example/cb")

    def test_the_flow_survives_a_session_round_trip(self, provider_config: ProviderConfig) -> None:
        flow = OidcClient(provider_config).authorization_request(now=now()).flow

        assert LoginFlow.from_dict(flow.as_dict()) == flow
        assert LoginFlow.from_dict({"state": "x"}) is None
        assert LoginFlow.from_dict(None) is None


class TestCallback:
    def test_post_auth_and_rs256_give_the_persons_claims(self, provider_config: ProviderConfig) -> None:
        client = OidcClient(provider_config)
        flow, back = login_at_provider(client, "new-person")

        assert back["state"] == flow.state
        claims = client.callback(flow=flow, code=back["code"], iss=back["iss"], now=now())

        assert claims["sub"] == "new-person"
        assert claims["iss"] == provider_config.issuer
        assert claims["aud"] == "abonent-portal"
        assert claims["nonce"] == flow.nonce
        assert {k: claims[k] for k in ("family_name", "given_name", "middle_name")} == {
            "family_name": "Соколова",
            "given_name": "Анна",
            "middle_name": "Сергеевна",
        }
        assert (claims["phone_number"], claims["phone_number_verified"]) == ("+7 916 111-22-33", True)
        assert (claims["email"], claims["email_verified"]) == ("sokolova@example.ru", True)

    def test_basic_auth_and_es256(self, provider_config: ProviderConfig) -> None:
        config = dataclasses.replace(
            provider_config,
            client_id=BASIC_CLIENT_ID,
            signer=StaticSecretSigner(BASIC_CLIENT_SECRET),
            token_auth_method="client_secret_basic",
        )
        client = OidcClient(config)
        flow, back = login_at_provider(client, "email-match")

        claims = client.callback(flow=flow, code=back["code"], iss=back["iss"], now=now())

        assert claims["sub"] == "email-match"
        assert claims["aud"] == BASIC_CLIENT_ID
        assert claims["email"] == "Orlova@Example.ru"

    def test_an_es256_token_is_refused_when_only_rs256_is_allowed(self, provider_config: ProviderConfig) -> None:
        config = dataclasses.replace(
            provider_config,
            client_id=BASIC_CLIENT_ID,
            signer=StaticSecretSigner(BASIC_CLIENT_SECRET),
            token_auth_method="client_secret_basic",
            id_token_algorithms=("RS256",),
        )
        client = OidcClient(config)
        flow, back = login_at_provider(client, "email-match")

        with pytest.raises(IdTokenInvalid, match="algorithm 'ES256' is not allowed"):
            client.callback(flow=flow, code=back["code"], iss=back["iss"], now=now())

    def test_a_wrong_client_secret_is_refused_by_the_provider(self, provider_config: ProviderConfig) -> None:
        flow, back = login_at_provider(OidcClient(provider_config), "new-person")
        client = OidcClient(dataclasses.replace(provider_config, signer=StaticSecretSigner("not-the-secret")))

        with pytest.raises(ProviderErrorResponse) as caught:
            client.callback(flow=flow, code=back["code"], iss=back["iss"], now=now())
        assert caught.value.error == "invalid_client"

    def test_a_code_works_once(self, provider_config: ProviderConfig) -> None:
        client = OidcClient(provider_config)
        flow, back = login_at_provider(client, "new-person")
        client.callback(flow=flow, code=back["code"], iss=back["iss"], now=now())

        with pytest.raises(ProviderErrorResponse) as caught:
            client.callback(flow=flow, code=back["code"], iss=back["iss"], now=now())
        assert caught.value.error == "invalid_grant"

    def test_a_code_is_useless_without_its_pkce_verifier(self, provider_config: ProviderConfig) -> None:
        client = OidcClient(provider_config)
        flow, back = login_at_provider(client, "new-person")
        other = dataclasses.replace(flow, code_verifier="x" * 64)

        with pytest.raises(ProviderErrorResponse) as caught:
            client.callback(flow=other, code=back["code"], iss=back["iss"], now=now())
        assert caught.value.error == "invalid_grant"

    def test_a_token_with_another_nonce_is_refused(self, provider_config: ProviderConfig) -> None:
        client = OidcClient(provider_config)
        flow, back = login_at_provider(client, "new-person")

        with pytest.raises(IdTokenInvalid, match="nonce"):
            client.callback(
                flow=dataclasses.replace(flow, nonce="another"), code=back["code"], iss=back["iss"], now=now()
            )

    def test_an_answer_from_another_issuer_is_refused_before_the_code_is_used(
        self, provider_config: ProviderConfig
    ) -> None:
        client = OidcClient(provider_config)
        flow, back = login_at_provider(client, "new-person")

        with pytest.raises(IdTokenInvalid, match="names issuer"):
            client.callback(flow=flow, code=back["code"], iss="https://attacker.example", now=now())
        with pytest.raises(IdTokenInvalid, match="the answer has none"):
            client.callback(flow=flow, code=back["code"], iss=None, now=now())
        # the code was never sent anywhere: it still works
        assert client.callback(flow=flow, code=back["code"], iss=back["iss"], now=now())["sub"] == "new-person"

    def test_a_token_checked_an_hour_late_is_expired(self, provider_config: ProviderConfig) -> None:
        client = OidcClient(provider_config)
        flow, back = login_at_provider(client, "new-person")

        with pytest.raises(IdTokenInvalid, match="expired"):
            client.callback(flow=flow, code=back["code"], iss=back["iss"], now=now() + dt.timedelta(hours=1))

    def test_the_person_refusing_at_the_provider_comes_back_with_access_denied(
        self, provider_config: ProviderConfig
    ) -> None:
        request = OidcClient(provider_config).authorization_request(now=now())

        back = query_of(provider_refuse(Browser(), request.url, until=REDIRECT_URI))

        assert back["error"] == "access_denied"
        assert back["state"] == request.flow.state
        assert "code" not in back
