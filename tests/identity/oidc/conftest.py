"""The OpenID provider these tests log in at, started once per test process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from abonent.identity.oidc import ProviderConfig, StaticSecretSigner
from tests.identity.oidc.oidc_provider import CLIENT_ID, CLIENT_SECRET, SCOPES, Provider, provider_running

#: The portal's callback as the test client sees it (the provider only redirects the
#: browser there; it never calls it).
REDIRECT_URI = "http://testserver/auth/esia/callback/"
APP_REDIRECT_URI = "https://app.abonent.example/esia/return"  # an App Link / Universal Link of the app


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[Provider]:
    with provider_running(redirect_uris=[REDIRECT_URI, APP_REDIRECT_URI]) as provider:
        yield provider


@pytest.fixture
def provider_config(oidc_provider: Provider) -> ProviderConfig:
    """The portal's registration at the provider: discovery, client_secret_post, RS256."""
    return ProviderConfig(
        name="esia",
        client_id=CLIENT_ID,
        redirect_uri=REDIRECT_URI,
        signer=StaticSecretSigner(CLIENT_SECRET),
        issuer=oidc_provider.issuer,
        scopes=SCOPES,
        app_redirect_uris=(APP_REDIRECT_URI,),
    )
