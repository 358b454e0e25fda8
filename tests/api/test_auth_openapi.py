"""The OpenAPI document tells the truth about the identity endpoints: every one is listed
with the problems it can answer, which of them need a bearer token, and strict inputs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ENDPOINTS: dict[tuple[str, str], set[str]] = {
    ("get", "/api/v1/auth/consent-documents"): {"200"},
    ("post", "/api/v1/auth/register"): {"202", "400", "422", "429"},
    ("post", "/api/v1/auth/register/resend"): {"202", "400", "422", "429"},
    ("post", "/api/v1/auth/register/confirm"): {"201", "400", "422", "429"},
    ("post", "/api/v1/auth/login"): {"200", "400", "401", "403", "422", "429"},
    ("post", "/api/v1/auth/token/refresh"): {"200", "400", "401", "422"},
    ("post", "/api/v1/auth/logout"): {"204", "401"},
    ("post", "/api/v1/auth/password/forgot"): {"202", "400", "422", "429"},
    ("post", "/api/v1/auth/password/reset"): {"204", "400", "422", "429"},
    ("post", "/api/v1/auth/password/reset-link"): {"204", "400", "422"},
    ("get", "/api/v1/profile"): {"200", "401"},
    ("post", "/api/v1/profile/password"): {"204", "400", "401", "422", "429"},
    ("post", "/api/v1/profile/phone"): {"202", "400", "401", "422", "429"},
    ("post", "/api/v1/profile/phone/confirm"): {"200", "400", "401", "409", "422", "429"},
    ("post", "/api/v1/profile/email"): {"202", "400", "401", "422", "429"},
    ("post", "/api/v1/profile/email/confirm"): {"200", "400", "401", "409", "422", "429"},
    ("put", "/api/v1/profile/consents/marketing"): {"200", "400", "401", "422"},
    ("put", "/api/v1/profile/language"): {"200", "400", "401", "422"},
    ("get", "/api/v1/profile/notification-preferences"): {"200", "401"},
    ("patch", "/api/v1/profile/notification-preferences"): {"200", "400", "401", "422"},
    ("get", "/api/v1/profile/sessions"): {"200", "401"},
    ("delete", "/api/v1/profile/sessions"): {"200", "401"},
    ("delete", "/api/v1/profile/sessions/{session_id}"): {"204", "401", "404", "422"},
    ("post", "/api/v1/profile/deletion-request"): {"201", "400", "401", "409", "422"},
    ("get", "/api/v1/profile/deletion-requests"): {"200", "401"},
}


@pytest.fixture
def spec(client: Client) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = json.loads(response.content)
    return document


def operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
        if path.startswith(("/api/v1/auth/", "/api/v1/profile"))
        and not path.startswith("/api/v1/auth/esia/")  # documented and tested with the Госуслуги login
    }


def test_every_endpoint_with_its_responses(spec: dict[str, Any]) -> None:
    found = {key: set(operation["responses"]) for key, operation in operations(spec).items()}

    assert found == ENDPOINTS


def test_errors_are_problem_json(spec: dict[str, Any]) -> None:
    for key, operation in operations(spec).items():
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert response["content"] == {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }, key
            elif status != "204":
                assert list(response["content"]) == ["application/json"], key


def test_bearer_token_where_needed_and_only_there(spec: dict[str, Any]) -> None:
    secured = {key for key, operation in operations(spec).items() if operation.get("security")}

    assert secured == {key for key in ENDPOINTS if key[1].startswith("/api/v1/profile")} | {
        ("post", "/api/v1/auth/logout")
    }
    assert spec["components"]["securitySchemes"] == {"BearerAuth": {"type": "http", "scheme": "bearer"}}
    for key in secured:
        assert operations(spec)[key]["security"] == [{"BearerAuth": []}]


def test_tags(spec: dict[str, Any]) -> None:
    tags = {key: operation["tags"] for key, operation in operations(spec).items()}

    assert {key for key, value in tags.items() if value == ["auth"]} == {
        key for key in ENDPOINTS if key[1].startswith("/api/v1/auth/")
    }
    assert {key for key, value in tags.items() if value == ["profile"]} == {
        key for key in ENDPOINTS if key[1].startswith("/api/v1/profile")
    }


def test_inputs_are_strict_and_limited(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    bodies = [
        operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        for operation in operations(spec).values()
        if "requestBody" in operation
    ]

    assert len(bodies) == 17
    for name in bodies:
        assert schemas[name]["additionalProperties"] is False, name
    login = schemas["LoginIn"]["properties"]
    assert (login["login"]["maxLength"], login["password"]["maxLength"], login["device_name"]["maxLength"]) == (
        254,
        128,
        120,
    )
    assert schemas["LoginIn"]["required"] == ["login", "password"]


def test_token_pair_documents_its_fields(spec: dict[str, Any]) -> None:
    pair = spec["components"]["schemas"]["TokenPairOut"]

    assert set(pair["properties"]) == {
        "access_token",
        "refresh_token",
        "token_type",
        "expires_in",
        "refresh_expires_at",
        "session_id",
    }
    assert pair["properties"]["refresh_expires_at"]["format"] == "date-time"
    assert pair["properties"]["token_type"]["const"] == "Bearer"
