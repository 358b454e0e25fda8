"""The OpenAPI document tells the truth about the money endpoints: each with the problems it
can answer and their codes, all behind a bearer token, money and volumes as strings, dates
ISO 8601, a cursor-paged list of charges, bounded query parameters."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

BALANCE = ("get", "/api/v1/accounts/{account_id}/balance")
CHARGES = ("get", "/api/v1/accounts/{account_id}/charges")
PENALTIES = ("get", "/api/v1/accounts/{account_id}/penalties")
TARIFFS = ("get", "/api/v1/accounts/{account_id}/tariffs")
CONSUMPTION = ("get", "/api/v1/accounts/{account_id}/consumption")


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
        if "money" in operation["tags"]
    }


def parameters(spec: dict[str, Any], key: tuple[str, str]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in operations(spec)[key]["parameters"]}


def test_every_endpoint_with_its_responses(spec: dict[str, Any]) -> None:
    found = {key: set(operation["responses"]) for key, operation in operations(spec).items()}

    assert found == {key: {"200", "401", "404", "422"} for key in (BALANCE, CHARGES, PENALTIES, TARIFFS, CONSUMPTION)}


def test_all_behind_a_bearer_token_with_one_tag(spec: dict[str, Any]) -> None:
    for key, operation in operations(spec).items():
        assert operation["security"] == [{"BearerAuth": []}], key
        assert operation["tags"] == ["money"], key
        assert operation["summary"], key
        assert "account_not_found" in operation["description"], key


def test_errors_are_problem_json(spec: dict[str, Any]) -> None:
    for key, operation in operations(spec).items():
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                assert response["content"] == {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }, key
            else:
                assert list(response["content"]) == ["application/json"], key


@pytest.mark.parametrize(
    ("operation", "codes"),
    [
        (CHARGES, ["cursor_invalid", "validation_failed", "next_cursor", "limit"]),
        (PENALTIES, ["validation_failed", "as_of", "ГГГГ-ММ-ДД", "1/300", "1/130"]),
        (CONSUMPTION, ["validation_failed", "months", "36"]),
    ],
)
def test_the_problem_codes_are_documented(spec: dict[str, Any], operation: tuple[str, str], codes: list[str]) -> None:
    description = operations(spec)[operation]["description"]

    assert [code for code in codes if code not in description] == []


def test_the_query_is_bounded_and_optional(spec: dict[str, Any]) -> None:
    charges, penalties, consumption = (parameters(spec, key) for key in (CHARGES, PENALTIES, CONSUMPTION))

    assert {k: charges["limit"]["schema"][k] for k in ("minimum", "maximum", "default")} == {
        "minimum": 1,
        "maximum": 100,
        "default": 50,
    }
    assert (charges["cursor"]["required"], penalties["as_of"]["required"], consumption["months"]["required"]) == (
        False,
        False,
        False,
    )
    assert penalties["as_of"]["schema"]["anyOf"][0] == {"type": "string", "format": "date"}
    assert {k: consumption["months"]["schema"][k] for k in ("minimum", "maximum", "default")} == {
        "minimum": 1,
        "maximum": 36,
        "default": 24,
    }


def test_money_and_volumes_are_strings_and_dates_iso(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    balance, line, charge, part = (
        schemas["BalanceOut"],
        schemas["ServiceBalanceOut"],
        schemas["ChargeOut"],
        schemas["PenaltyPartOut"],
    )

    assert (balance["properties"]["amount_due"]["type"], line["properties"]["balance"]["type"]) == ("string", "string")
    assert line["properties"]["balance"]["pattern"] == r"^-?\d+(\.\d+)?$"
    assert balance["properties"]["due_on"]["anyOf"][0] == {"type": "string", "format": "date"}
    assert balance["properties"]["last_period"]["anyOf"][0]["pattern"] == r"^\d{4}-\d{2}$"
    for name in ("volume", "amount", "benefit_volume", "benefit_amount"):
        assert charge["properties"][name]["type"] == "string", name
    assert charge["properties"]["price"]["anyOf"][0]["type"] == "string"
    assert (part["properties"]["rate"]["type"], part["properties"]["until"]["format"]) == ("string", "date")
    assert schemas["ServiceBalanceOut"]["properties"]["service"]["$ref"] == "#/components/schemas/Service"
    assert schemas["Service"]["enum"] == ["gas", "penalty", "vdgo"]
    assert schemas["ChargesPageOut"]["required"] == ["items", "next_cursor"]
    for name in ("BalanceOut", "ChargeOut", "PenaltiesOut", "TariffsOut", "ConsumptionMonthOut"):
        assert set(schemas[name]["required"]) == set(schemas[name]["properties"]), name
