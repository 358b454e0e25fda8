"""The OpenAPI document tells the truth about the account endpoints: each with the problems it
can answer, all behind a bearer token, strict inputs, decimals as strings."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ENDPOINTS: dict[tuple[str, str], set[str]] = {
    ("get", "/api/v1/accounts"): {"200", "401"},
    ("post", "/api/v1/accounts"): {"201", "400", "401", "409", "422", "429"},
    ("get", "/api/v1/accounts/link-options"): {"200", "401"},
    ("get", "/api/v1/accounts/{account_id}"): {"200", "401", "404", "422"},
    ("patch", "/api/v1/accounts/{account_id}"): {"200", "400", "401", "404", "422"},
    ("delete", "/api/v1/accounts/{account_id}"): {"204", "401", "404", "422"},
    ("put", "/api/v1/accounts/{account_id}/paper-bill"): {"200", "400", "401", "404", "409", "422"},
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
        if path.startswith("/api/v1/accounts")
        and not {"readings", "money", "payments", "bills"} & set(operation["tags"])
    }


def test_every_endpoint_with_its_responses(spec: dict[str, Any]) -> None:
    found = {key: set(operation["responses"]) for key, operation in operations(spec).items()}

    assert found == ENDPOINTS


def test_all_behind_a_bearer_token_with_one_tag(spec: dict[str, Any]) -> None:
    for key, operation in operations(spec).items():
        assert operation["security"] == [{"BearerAuth": []}], key
        assert operation["tags"] == ["accounts"], key
        assert operation["summary"], key


def test_errors_are_problem_json(spec: dict[str, Any]) -> None:
    for key, operation in operations(spec).items():
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert response["content"] == {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }, key
            elif status != "204":
                assert list(response["content"]) == ["application/json"], key


def test_linking_documents_its_problem_codes(spec: dict[str, Any]) -> None:
    description = operations(spec)[("post", "/api/v1/accounts")]["description"]

    for code in (
        "validation_failed",
        "link_proof_mismatch",
        "link_proof_not_accepted",
        "supplier_choice_required",
        "account_closed",
        "account_already_linked",
        "link_attempts_exhausted",
        "Retry-After",
    ):
        assert code in description, code
    for method in ("get", "patch", "delete"):
        assert "account_not_found" in operations(spec)[(method, "/api/v1/accounts/{account_id}")]["description"]


def test_inputs_are_strict_and_limited(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    link, update = schemas["LinkIn"], schemas["LinkUpdateIn"]

    assert (link["additionalProperties"], update["additionalProperties"]) == (False, False)
    assert link["required"] == ["number", "value"]
    assert link["properties"]["proof"]["enum"] == ["pin", "last_charge", "meter_value"]
    assert link["properties"]["proof"]["default"] == "pin"
    assert (link["properties"]["number"]["maxLength"], link["properties"]["value"]["maxLength"]) == (32, 32)
    assert "required" not in update
    assert update["properties"]["name"]["anyOf"][0]["maxLength"] == 40
    path_id = operations(spec)[("get", "/api/v1/accounts/{account_id}")]["parameters"][0]
    assert (path_id["name"], path_id["in"], path_id["schema"]["type"], path_id["schema"]["minimum"]) == (
        "account_id",
        "path",
        "integer",
        1,
    )


def test_decimals_are_strings_and_dates_iso(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]

    assert schemas["ParametersOut"]["properties"]["heated_area"]["type"] == "string"
    assert schemas["ReadingOut"]["properties"]["value"]["type"] == "string"
    assert schemas["ReadingOut"]["properties"]["period"]["pattern"] == r"^\d{4}-\d{2}$"
    assert schemas["MeterOut"]["properties"]["verification_due_on"]["format"] == "date"
    assert schemas["ReadingOut"]["properties"]["submitted_at"]["format"] == "date-time"
    assert schemas["AccountStatus"]["enum"] == ["active", "suspended", "closed"]
    assert set(schemas["AccountDetailOut"]["required"]) >= {"supplier", "meters", "contracts", "parameters"}
