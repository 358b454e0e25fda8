"""PINs from the bill, stored as a keyed hash.

A PIN is short, so a slow password hash would not protect it from someone holding the
database either, and would make loading a million accounts take hours. Instead the hash
is an HMAC-SHA256 under a server key (settings.PIN_HASH_KEY) over the supplier, the
account number and the PIN: without the key, a copy of the table reveals nothing, and
the same PIN on two accounts gives two different hashes. Guessing online is stopped by
the attempt limits of linking.
"""

from __future__ import annotations

import functools
import hashlib
import hmac

from django.conf import settings


@functools.lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    return hashlib.sha256(b"abonent.pin:" + secret.encode()).digest()


def pin_hash(*, supplier_id: int, number: str, pin: str) -> str:
    key = _key(settings.PIN_HASH_KEY)
    message = f"{supplier_id}:{number}:{pin}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def pin_matches(*, supplier_id: int, number: str, pin: str, stored: str) -> bool:
    return hmac.compare_digest(pin_hash(supplier_id=supplier_id, number=number, pin=pin), stored)
