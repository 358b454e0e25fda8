"""Who makes the client secret: a fixed one, or a signing service asked over HTTP (a local
server here stands in for КриптоПро DSS or a signing module and records what it is asked
to sign). ЕСИА's parameters in both requests, and its person data mapped to claims."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from abonent.identity.oidc import (
    ExternalServiceSigner,
    OidcClient,
    ProviderConfig,
    ProviderErrorResponse,
    SecretRequest,
    SignerUnavailable,
    StaticSecretSigner,
    esia_timestamp,
)
from abonent.identity.oidc.client import LoginFlow
from abonent.identity.oidc.esia import esia_person_claims
from tests.conftest import free_port

NOW = dt.datetime(2026, 11, 22, 12, 4, 5, tzinfo=dt.UTC)
FAKE_CMS = b"0\x82\x05\xf1\x06\t*\x86H\x86\xf7\r\x01\x07\x02\xa0\xff\xfe\xfd"  # DER-looking, with + and / in base64


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeServer:
    """A local HTTP server answering with ``reply(recorded) -> (status, json body)``."""

    reply: Any
    requests: list[Recorded] = field(default_factory=list)
    url: str = ""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                recorded = Recorded(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
                server.requests.append(recorded)
                status, body = server.reply(recorded)
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def fake_server() -> Iterator[Any]:
    servers: list[ThreadingHTTPServer] = []

    def start(reply: Any) -> FakeServer:
        fake = FakeServer(reply=reply)
        httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), fake.handler())
        fake.url = f"http://127.0.0.1:{httpd.server_address[1]}"
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(httpd)
        return fake

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def signing_service(recorded: Recorded) -> tuple[int, dict[str, Any]]:
    """Signs by returning a fixed "CMS" followed by what it was asked to sign."""
    data = base64.b64decode(json.loads(recorded.body)["data"])
    return 200, {"signature": base64.b64encode(FAKE_CMS + data).decode()}


REQUEST = SecretRequest(
    client_id="ABONENT01",
    scope="openid fullname mobile email",
    state="0b4b8f1a-3f5e-4d2c-9a7e-1c2d3e4f5a6b",
    timestamp="2026.11.22 15:04:05 +0300",
    redirect_uri="https://lk.example.ru/auth/esia/callback/",
)


def unsign(secret: str) -> bytes:
    """What the fake service signed, from the base64url secret it made."""
    raw = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
    assert raw.startswith(FAKE_CMS)
    return raw[len(FAKE_CMS) :]


class TestTimestamp:
    def test_esia_format_in_moscow_time(self) -> None:
        assert esia_timestamp(NOW) == "2026.11.22 15:04:05 +0300"
        assert esia_timestamp(dt.datetime(2026, 1, 1, 21, 0, tzinfo=dt.UTC)) == "2026.01.02 00:00:00 +0300"


class TestStaticSigner:
    def test_the_same_secret_for_every_request(self) -> None:
        signer = StaticSecretSigner("s3cret")

        assert signer.client_secret(REQUEST) == "s3cret"
        assert "s3cret" not in repr(signer)

    def test_an_empty_secret_is_a_mistake(self) -> None:
        with pytest.raises(ValueError, match="required"):
            StaticSecretSigner("")


class TestExternalSigner:
    def test_asks_the_service_to_sign_scope_timestamp_client_id_state(self, fake_server: Any) -> None:
        service = fake_server(signing_service)
        signer = ExternalServiceSigner(service.url + "/sign", authorization="Bearer dss-token")

        secret = signer.client_secret(REQUEST)

        assert len(service.requests) == 1
        asked = service.requests[0]
        assert (asked.method, asked.path) == ("POST", "/sign")
        assert asked.headers["Content-Type"] == "application/json"
        assert asked.headers["Authorization"] == "Bearer dss-token"
        assert base64.b64decode(json.loads(asked.body)["data"]).decode() == (
            "openid fullname mobile email2026.11.22 15:04:05 +0300ABONENT010b4b8f1a-3f5e-4d2c-9a7e-1c2d3e4f5a6b"
        )
        assert "+" not in secret
        assert "/" not in secret
        assert unsign(secret) == (
            b"openid fullname mobile email2026.11.22 15:04:05 +0300ABONENT010b4b8f1a-3f5e-4d2c-9a7e-1c2d3e4f5a6b"
        )

    def test_the_fields_and_their_order_are_settable(self, fake_server: Any) -> None:
        service = fake_server(signing_service)
        signer = ExternalServiceSigner(service.url, fields=("client_id", "scope", "timestamp", "state", "redirect_uri"))

        assert unsign(signer.client_secret(REQUEST)).decode() == (
            "ABONENT01openid fullname mobile email2026.11.22 15:04:05 +0300"
            "0b4b8f1a-3f5e-4d2c-9a7e-1c2d3e4f5a6bhttps://lk.example.ru/auth/esia/callback/"
        )

    def test_a_base64url_answer_is_taken_as_well(self, fake_server: Any) -> None:
        service = fake_server(lambda r: (200, {"signature": base64.urlsafe_b64encode(FAKE_CMS + b"x").decode()}))

        assert unsign(ExternalServiceSigner(service.url).client_secret(REQUEST)) == b"x"

    @pytest.mark.parametrize(
        ("status", "body", "reason"),
        [
            (500, {"error": "hsm offline"}, "HTTP 500"),
            (403, {"error": "forbidden"}, "HTTP 403 without a signature"),
            (200, {"sig": "abc"}, "HTTP 200 without a signature"),
            (200, {"signature": "not base64 at all!"}, "not base64"),
        ],
    )
    def test_no_signature_no_login(self, fake_server: Any, status: int, body: dict[str, Any], reason: str) -> None:
        service = fake_server(lambda r: (status, body))

        with pytest.raises(SignerUnavailable) as caught:
            ExternalServiceSigner(service.url).client_secret(REQUEST)
        assert reason in caught.value.reason

    def test_a_service_that_is_not_there(self) -> None:
        signer = ExternalServiceSigner(f"http://127.0.0.1:{free_port()}/sign", timeout=2)

        with pytest.raises(SignerUnavailable, match="signing service"):
            signer.client_secret(REQUEST)

    def test_unknown_fields_are_a_mistake(self) -> None:
        with pytest.raises(ValueError, match="unknown"):
            ExternalServiceSigner("http://signer", fields=("scope", "password"))


class TestEsiaRequests:
    """ЕСИА's parameters in the authorization and token requests, with explicit endpoints."""

    @pytest.fixture
    def esia(self, fake_server: Any) -> tuple[ProviderConfig, FakeServer, FakeServer]:
        service = fake_server(signing_service)
        token_endpoint = fake_server(lambda r: (400, {"error": "invalid_grant", "error_description": "test"}))
        config = ProviderConfig(
            name="esia",
            client_id="ABONENT01",
            redirect_uri="https://lk.example.ru/auth/esia/callback/",
            signer=ExternalServiceSigner(service.url + "/sign"),
            issuer="http://esia-portal1.test.gosuslugi.ru/",
            authorization_endpoint="https://esia-portal1.test.gosuslugi.ru/aas/oauth2/v3/ac",
            token_endpoint=token_endpoint.url + "/aas/oauth2/v3/te",
            jwks_uri="https://esia-portal1.test.gosuslugi.ru/jwks",
            scopes=("openid", "fullname", "mobile", "email"),
            protocol="esia",
            certificate_hash="A1B2C3",
        )
        return config, service, token_endpoint

    def test_authorization_request(self, esia: tuple[ProviderConfig, FakeServer, FakeServer]) -> None:
        config, service, _token = esia

        request = OidcClient(config).authorization_request(now=NOW)

        assert request.url.startswith("https://esia-portal1.test.gosuslugi.ru/aas/oauth2/v3/ac?")
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request.url).query))
        assert uuid.UUID(params["state"]).version == 4
        assert params["timestamp"] == "2026.11.22 15:04:05 +0300"
        assert params["access_type"] == "online"
        assert params["client_certificate_hash"] == "A1B2C3"
        assert params["scope"] == "openid fullname mobile email"
        assert params["code_challenge_method"] == "S256"
        assert unsign(params["client_secret"]).decode() == (
            f"openid fullname mobile email2026.11.22 15:04:05 +0300ABONENT01{params['state']}"
        )
        assert len(service.requests) == 1

    def test_token_request_is_signed_over_its_own_state(
        self, esia: tuple[ProviderConfig, FakeServer, FakeServer]
    ) -> None:
        config, _service, token_endpoint = esia
        flow = LoginFlow(
            state="0b4b8f1a-3f5e-4d2c-9a7e-1c2d3e4f5a6b",
            nonce="n",
            code_verifier="v" * 64,
            redirect_uri=config.redirect_uri,
            started_at=NOW,
        )
        client = OidcClient(config)

        with pytest.raises(ProviderErrorResponse) as caught:
            client.token_request(client.endpoints(), flow=flow, code="the-code", now=NOW + dt.timedelta(seconds=30))

        assert caught.value.error == "invalid_grant"
        form = dict(urllib.parse.parse_qsl(token_endpoint.requests[0].body.decode()))
        assert form["grant_type"] == "authorization_code"
        assert form["code"] == "the-code"
        assert form["code_verifier"] == "v" * 64
        assert form["client_id"] == "ABONENT01"
        assert form["token_type"] == "Bearer"
        assert form["timestamp"] == "2026.11.22 15:04:35 +0300"
        assert form["state"] != flow.state
        assert uuid.UUID(form["state"]).version == 4
        assert form["redirect_uri"] == "https://lk.example.ru/auth/esia/callback/"
        assert form["client_certificate_hash"] == "A1B2C3"
        assert unsign(form["client_secret"]).decode() == (
            f"openid fullname mobile email2026.11.22 15:04:35 +0300ABONENT01{form['state']}"
        )


class TestEsiaPerson:
    def test_name_and_verified_contacts_as_standard_claims(self, fake_server: Any) -> None:
        def rest(recorded: Recorded) -> tuple[int, dict[str, Any]]:
            assert recorded.headers["Authorization"] == "Bearer esia-access"
            if recorded.path == "/rs/prns/1000299353":
                return 200, {"firstName": "Анна", "lastName": "Соколова", "middleName": "Сергеевна", "trusted": True}
            if recorded.path == "/rs/prns/1000299353/ctts?embed=(elements)":
                return 200, {
                    "elements": [
                        {"type": "PHN", "vrfStu": "VERIFIED", "value": "+7(495)1234567"},
                        {"type": "MBT", "vrfStu": "VERIFIED", "value": "+7(916)1112233"},
                        {"type": "EML", "vrfStu": "NOT_VERIFIED", "value": "sokolova@example.ru"},
                    ]
                }
            return 404, {}

        service = fake_server(rest)

        claims = esia_person_claims(service.url + "/rs/prns", oid="1000299353", access_token="esia-access", timeout=5)

        assert claims == {
            "sub": "1000299353",
            "family_name": "Соколова",
            "given_name": "Анна",
            "middle_name": "Сергеевна",
            "esia_trusted": True,
            "phone_number": "+7(916)1112233",
            "phone_number_verified": True,
            "email": "sokolova@example.ru",
            "email_verified": False,
        }
