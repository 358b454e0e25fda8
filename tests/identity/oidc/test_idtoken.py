"""The ID token validator with keys made here: every claim it checks, and the ways a token
is forged (another key, ``alg: none``, an HMAC over the public key)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from abonent.identity.oidc import IdTokenInvalid, id_token_validate
from abonent.identity.oidc.idtoken import key_from_jwk

ISSUER = "https://idp.example"
CLIENT = "abonent-portal"
NONCE = "n-0S6_WzA2Mj"
NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)
T = int(NOW.timestamp())

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(public: Any, algorithm: Any, kid: str, alg: str) -> dict[str, Any]:
    return {**json.loads(algorithm.to_jwk(public)), "kid": kid, "alg": alg, "use": "sig"}


JWKS = [
    _jwk(RSA_KEY.public_key(), RSAAlgorithm, "rsa-1", "RS256"),
    _jwk(EC_KEY.public_key(), ECAlgorithm, "ec-1", "ES256"),
]


def key_for(kid: str | None, alg: str) -> Any:
    for jwk in JWKS:
        if jwk["kid"] == kid:
            return key_from_jwk(jwk, alg)
    return None


def claims(**changes: Any) -> dict[str, Any]:
    base = {"iss": ISSUER, "aud": CLIENT, "sub": "person-1", "iat": T - 5, "exp": T + 600, "nonce": NONCE}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def token(payload: dict[str, Any], *, key: Any = RSA_KEY, alg: str = "RS256", kid: str | None = "rsa-1") -> str:
    headers = {"kid": kid} if kid else {}
    return jwt.encode(payload, key, algorithm=alg, headers=headers)


def validate(raw: str, **kwargs: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "key_for": key_for,
        "issuer": ISSUER,
        "client_id": CLIENT,
        "nonce": NONCE,
        "now": NOW,
    }
    options.update(kwargs)
    return id_token_validate(raw, **options)


class TestValid:
    def test_rs256(self) -> None:
        assert validate(token(claims())) == claims()

    def test_es256(self) -> None:
        assert validate(token(claims(), key=EC_KEY, alg="ES256", kid="ec-1"))["sub"] == "person-1"

    def test_several_audiences_with_azp_of_the_client(self) -> None:
        assert validate(token(claims(aud=[CLIENT, "other"], azp=CLIENT)))["azp"] == CLIENT

    def test_clock_difference_within_the_leeway(self) -> None:
        assert validate(token(claims(exp=T - 59)))["sub"] == "person-1"
        assert validate(token(claims(iat=T + 59)))["sub"] == "person-1"


class TestRefused:
    @pytest.mark.parametrize(
        ("changes", "reason"),
        [
            ({"nonce": "someone-elses-nonce"}, "nonce does not match"),
            ({"nonce": None}, "nonce does not match"),
            ({"iss": "https://attacker.example"}, "issuer 'https://attacker.example' is not 'https://idp.example'"),
            ({"iss": None}, "issuer None is not"),
            ({"aud": "another-client"}, "audience 'another-client' does not include the client"),
            ({"aud": [CLIENT, "other"]}, "several audiences and azp is not the client"),
            ({"aud": [CLIENT, "other"], "azp": "other"}, "several audiences and azp is not the client"),
            ({"exp": T - 61}, "expired"),
            ({"exp": None}, "claim exp is missing or not a number"),
            ({"iat": T + 61}, "issued in the future"),
            ({"iat": T - 10 * 60 - 61, "exp": T + 600}, "issued too long ago"),
            ({"iat": "yesterday"}, "claim iat is missing or not a number"),
            ({"nbf": T + 120}, "not valid yet"),
            ({"sub": None}, "claim sub is missing"),
            ({"sub": ""}, "claim sub is missing"),
        ],
    )
    def test_claims(self, changes: dict[str, Any], reason: str) -> None:
        with pytest.raises(IdTokenInvalid) as caught:
            validate(token(claims(**changes)))
        assert caught.value.reason.startswith(reason)

    def test_signed_by_another_key_with_our_kid(self) -> None:
        with pytest.raises(IdTokenInvalid, match="signature"):
            validate(token(claims(), key=OTHER_RSA_KEY))

    def test_a_kid_the_provider_does_not_have(self) -> None:
        with pytest.raises(IdTokenInvalid, match="no key 'rsa-9' for RS256"):
            validate(token(claims(), kid="rsa-9"))

    def test_an_rsa_kid_with_an_ec_algorithm(self) -> None:
        with pytest.raises(IdTokenInvalid, match="no key 'rsa-1' for ES256"):
            validate(token(claims(), key=EC_KEY, alg="ES256", kid="rsa-1"))

    def test_alg_none(self) -> None:
        unsigned = jwt.encode(claims(), "", algorithm="none", headers={"kid": "rsa-1"})

        with pytest.raises(IdTokenInvalid, match="algorithm 'none' is not allowed"):
            validate(unsigned)

    def test_hmac_over_the_public_key(self) -> None:
        """The classic forgery: HS256 "signed" with the provider's public key as the secret."""
        public_pem = RSA_KEY.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "kid": "rsa-1", "typ": "JWT"}).encode())
        body = jwt.utils.base64url_encode(json.dumps(claims()).encode())
        signature = hmac.new(public_pem, header + b"." + body, hashlib.sha256).digest()
        forged = b".".join([header, body, jwt.utils.base64url_encode(signature)]).decode()

        with pytest.raises(IdTokenInvalid, match="algorithm 'HS256' is not allowed"):
            validate(forged, algorithms=("RS256", "HS256"))

    def test_an_algorithm_the_client_does_not_accept(self) -> None:
        with pytest.raises(IdTokenInvalid, match="algorithm 'ES256' is not allowed"):
            validate(token(claims(), key=EC_KEY, alg="ES256", kid="ec-1"), algorithms=("RS256",))

    def test_not_a_jwt(self) -> None:
        with pytest.raises(IdTokenInvalid, match="not a JWS"):
            validate("not-a-token")

    def test_a_tampered_payload(self) -> None:
        header, _body, signature = token(claims()).split(".")
        body = jwt.utils.base64url_encode(json.dumps(claims(sub="someone-else")).encode()).decode()

        with pytest.raises(IdTokenInvalid, match="signature"):
            validate(f"{header}.{body}.{signature}")


class TestKeys:
    def test_a_jwk_for_encryption_is_not_a_signing_key(self) -> None:
        assert key_from_jwk({**JWKS[0], "use": "enc"}, "RS256") is None

    def test_a_jwk_bound_to_another_algorithm(self) -> None:
        assert key_from_jwk(JWKS[0], "RS512") is None
        assert key_from_jwk({k: v for k, v in JWKS[0].items() if k != "alg"}, "RS512") is not None
