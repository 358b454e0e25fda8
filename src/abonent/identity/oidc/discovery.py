"""The provider's metadata (OpenID Connect Discovery 1.0) and keys (its JWKS), fetched
when first needed and kept for an hour in the process.

The cache is only a cache: every process fetches its own copy, nothing depends on it
being shared. Keys are fetched again, at most once a minute, when a token names a key
we do not have (the provider rotated its keys).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from abonent.identity.oidc import http
from abonent.identity.oidc.errors import ProviderUnavailable
from abonent.identity.oidc.idtoken import key_from_jwk

METADATA_TTL = 3600.0
JWKS_TTL = 3600.0
JWKS_REFETCH_INTERVAL = 60.0

_lock = threading.Lock()
_metadata: dict[str, tuple[float, dict[str, Any]]] = {}
_jwks: dict[str, tuple[float, list[dict[str, Any]]]] = {}


def well_known_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def metadata_get(url: str, *, issuer: str, timeout: float, ca_file: str = "") -> dict[str, Any]:
    """The provider's metadata from its discovery document at ``url``.

    When ``issuer`` is given the document must name exactly that issuer (Discovery §4.3).
    Raises ProviderUnavailable.
    """
    with _lock:
        cached = _metadata.get(url)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    document = http.get_json(url, timeout=timeout, ca_file=ca_file)
    if issuer and document.get("issuer") != issuer:
        raise ProviderUnavailable(f"discovery at {url} names issuer {document.get('issuer')!r}, not {issuer!r}")
    for required in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(document.get(required), str):
            raise ProviderUnavailable(f"discovery at {url} has no {required}")
    with _lock:
        _metadata[url] = (time.monotonic() + METADATA_TTL, document)
    return document


@dataclass
class Jwks:
    """The keys published at ``url``, looked up by ``kid`` and algorithm."""

    url: str
    timeout: float
    ca_file: str = ""

    def _keys(self, *, refresh: bool) -> list[dict[str, Any]]:
        with _lock:
            cached = _jwks.get(self.url)
        now = time.monotonic()
        if cached and not refresh and cached[0] > now:
            return cached[1]
        if cached and refresh and cached[0] - JWKS_TTL + JWKS_REFETCH_INTERVAL > now:
            return cached[1]  # fetched less than a minute ago: do not let tokens make us hammer the provider
        document = http.get_json(self.url, timeout=self.timeout, ca_file=self.ca_file)
        keys = [k for k in document.get("keys", []) if isinstance(k, dict)]
        with _lock:
            _jwks[self.url] = (now + JWKS_TTL, keys)
        return keys

    def _find(self, keys: list[dict[str, Any]], kid: str | None, alg: str) -> Any:
        candidates = [k for k in keys if kid is None or k.get("kid") == kid]
        found = [key for key in (key_from_jwk(k, alg) for k in candidates) if key is not None]
        if kid is None and len(found) != 1:
            return None  # without a kid only an unambiguous key will do
        return found[0] if found else None

    def key_for(self, kid: str | None, alg: str) -> Any:
        key = self._find(self._keys(refresh=False), kid, alg)
        if key is None:
            key = self._find(self._keys(refresh=True), kid, alg)
        return key


def caches_clear() -> None:
    """Forget every fetched document (for tests, and after changing providers)."""
    with _lock:
        _metadata.clear()
        _jwks.clear()
