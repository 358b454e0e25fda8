"""Validating an ID token (OpenID Connect Core 1.0, §3.1.3.7).

The signature is checked with the provider's key named by the token's ``kid`` (from its
JWKS), with one of the algorithms we allow (RS256, ES256 by default; never ``none`` nor an
HMAC, which a public key would turn into a forgery). Then: ``iss`` is the provider,
``aud`` contains our client id (and ``azp`` is ours when there are several audiences),
``exp`` has not passed and ``iat`` is not in the future nor too old (with a small leeway
for clocks), and ``nonce`` is the one we sent. The time is given (``now``), not read from
the clock, so tests and the caller decide it.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Callable, Collection
from typing import Any

import jwt
from jwt.algorithms import get_default_algorithms

from abonent.identity.oidc.errors import IdTokenInvalid

#: A function that gives the public key for a ``kid`` and algorithm (``kid`` may be None),
#: or None when the provider has no such key.
KeyLookup = Callable[[str | None, str], Any]

ALLOWED_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})
MAX_AGE = dt.timedelta(minutes=10)  # an ID token older than this at the callback is not accepted


def _number(claims: dict[str, Any], name: str) -> int:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise IdTokenInvalid(f"claim {name} is missing or not a number")
    return int(value)


def id_token_validate(
    token: str,
    *,
    key_for: KeyLookup,
    issuer: str,
    client_id: str,
    nonce: str,
    now: dt.datetime,
    algorithms: Collection[str] = ("RS256", "ES256"),
    leeway: dt.timedelta = dt.timedelta(seconds=60),
    max_age: dt.timedelta = MAX_AGE,
) -> dict[str, Any]:
    """The claims of a valid ID token. Raises IdTokenInvalid with the reason."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise IdTokenInvalid("not a JWS compact token") from None
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in set(algorithms) & ALLOWED_ALGORITHMS:
        raise IdTokenInvalid(f"algorithm {alg!r} is not allowed")
    kid = header.get("kid")
    key = key_for(kid if isinstance(kid, str) else None, alg)
    if key is None:
        raise IdTokenInvalid(f"no key {kid!r} for {alg} at the provider")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key,
            algorithms=[alg],
            options={
                "verify_signature": True,
                "verify_exp": False,  # checked below against the given time
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
            },
        )
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise IdTokenInvalid(f"signature: {exc}") from None

    if claims.get("iss") != issuer:
        raise IdTokenInvalid(f"issuer {claims.get('iss')!r} is not {issuer!r}")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or client_id not in audiences:
        raise IdTokenInvalid(f"audience {audience!r} does not include the client")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise IdTokenInvalid("several audiences and azp is not the client")
    if not isinstance(claims.get("sub"), str | int) or not str(claims.get("sub")):
        raise IdTokenInvalid("claim sub is missing")

    moment = now.timestamp()
    slack = leeway.total_seconds()
    expires = _number(claims, "exp")
    issued = _number(claims, "iat")
    if moment > expires + slack:
        raise IdTokenInvalid("expired")
    if issued > moment + slack:
        raise IdTokenInvalid("issued in the future")
    if issued < moment - max_age.total_seconds() - slack:
        raise IdTokenInvalid("issued too long ago")
    if "nbf" in claims and _number(claims, "nbf") > moment + slack:
        raise IdTokenInvalid("not valid yet")

    sent = claims.get("nonce")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
        raise IdTokenInvalid("nonce does not match")
    return claims


def key_from_jwk(jwk: dict[str, Any], alg: str) -> Any:
    """The public key of a JWK for ``alg``, or None when the JWK is not for it."""
    if jwk.get("use", "sig") != "sig" or jwk.get("alg", alg) != alg:
        return None
    algorithm = get_default_algorithms().get(alg)
    if algorithm is None:
        return None
    try:
        return algorithm.from_jwk(jwk)
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None
