"""ЕСИА's person data in the claims of OpenID Connect.

ЕСИА has no userinfo endpoint: a person's name is at ``<rest>/prns/{oid}`` and their
contacts at ``<rest>/prns/{oid}/ctts?embed=(elements)`` of its REST API, read with the
access token (``ESIA_USERINFO_URL`` is ``https://esia.gosuslugi.ru/rs/prns``). Contacts
are elements with a ``type`` (``MBT`` mobile phone, ``EML`` e-mail; others are not used)
and ``vrfStu`` (``VERIFIED`` when ЕСИА confirmed it). This maps them to the standard
claims the rest of the code reads: ``family_name``, ``given_name``, ``middle_name``,
``phone_number`` (+ ``_verified``), ``email`` (+ ``_verified``), and ``esia_trusted`` (the
account is confirmed, «подтверждённая учётная запись»).

Written from ЕСИА's published methodology; check against its test environment
(esia-portal1.test.gosuslugi.ru) when the operator's registration is ready.
"""

from __future__ import annotations

from typing import Any

from abonent.identity.oidc import http
from abonent.identity.oidc.errors import ProviderErrorResponse


def _get(url: str, *, access_token: str, timeout: float, ca_file: str) -> dict[str, Any]:
    answer = http.request(
        "GET", url, headers={"Authorization": f"Bearer {access_token}"}, timeout=timeout, ca_file=ca_file
    )
    if answer.status != 200 or not isinstance(answer.body, dict):
        raise ProviderErrorResponse(f"esia_rest_http_{answer.status}")
    return answer.body


def esia_person_claims(base: str, *, oid: str, access_token: str, timeout: float, ca_file: str = "") -> dict[str, Any]:
    """The person ``oid`` and their mobile phone and e-mail, as standard claims.

    Raises ProviderUnavailable, ProviderErrorResponse.
    """
    root = f"{base.rstrip('/')}/{oid}"
    person = _get(root, access_token=access_token, timeout=timeout, ca_file=ca_file)
    contacts = _get(f"{root}/ctts?embed=(elements)", access_token=access_token, timeout=timeout, ca_file=ca_file)
    claims: dict[str, Any] = {
        "sub": oid,
        "family_name": str(person.get("lastName") or ""),
        "given_name": str(person.get("firstName") or ""),
        "middle_name": str(person.get("middleName") or ""),
        "esia_trusted": person.get("trusted") is True,
    }
    for element in contacts.get("elements") or []:
        if not isinstance(element, dict) or not isinstance(element.get("value"), str):
            continue
        verified = element.get("vrfStu") == "VERIFIED"
        if element.get("type") == "MBT" and "phone_number" not in claims:
            claims["phone_number"], claims["phone_number_verified"] = element["value"], verified
        elif element.get("type") == "EML" and "email" not in claims:
            claims["email"], claims["email_verified"] = element["value"], verified
    return claims
