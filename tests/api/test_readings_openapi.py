"""The OpenAPI document tells the truth about the readings endpoints: each with the problems
it can answer and their codes, all behind a bearer token, strict inputs that take a value as
a string or a number, volumes as strings, a cursor-paged history."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

CURRENT = ("get", "/api/v1/accounts/{account_id}/readings/current")
SEVERAL = ("post", "/api/v1/accounts/{account_id}/readings")
ONE = ("post", "/api/v1/accounts/{account_id}/meters/{meter_id}/readings")
HISTORY = ("get", "/api/v1/accounts/{account_id}/meters/{meter_id}/readings")

ENDPOINTS: dict[tuple[str, str], set[str]] = {
    CURRENT: {"200", "401", "404", "422"},
    SEVERAL: {"200", "400", "401", "404", "422"},
    ONE: {"200", "201", "400", "401", "404", "409", "422"},
    HISTORY: {"200", "401", "404", "422"},
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
        if "readings" in operation["tags"]
    }


def test_every_endpoint_with_its_responses(spec: dict[str, Any]) -> None:
    found = {key: set(operation["responses"]) for key, operation in operations(spec).items()}

    assert found == ENDPOINTS


def test_all_behind_a_bearer_token_with_one_tag(spec: dict[str, Any]) -> None:
    for key, operation in operations(spec).items():
        assert operation["security"] == [{"BearerAuth": []}], key
        assert operation["tags"] == ["readings"], key
        assert operation["summary"], key
        assert "account_not_found" in operation["description"], key


def test_errors_are_problem_json(spec: dict[str, Any]) -> None:
    for key, operation in operations(spec).items():
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert response["content"] == {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }, key
            else:
                assert list(response["content"]) == ["application/json"], key


@pytest.mark.parametrize(
    ("operation", "codes"),
    [
        (
            ONE,
            [
                "reading_not_a_number",
                "reading_negative",
                "reading_too_many_digits",
                "reading_too_many_decimals",
                "reading_below_previous",
                "reading_too_high",
                "reading_zero_consumption",
                "submission_key_reused",
                "meter_not_in_service",
                "readings_not_accepted",
                "meter_not_found",
                "validation_failed",
                "invalid_json",
                "Idempotency-Key",
            ],
        ),
        (
            SEVERAL,
            [
                "readings_invalid",
                "reading_not_a_number",
                "reading_below_previous",
                "meter_not_in_service",
                "meter_not_found",
                "validation_failed",
                "invalid_json",
                "Idempotency-Key",
                "not_for_billing",
            ],
        ),
        (HISTORY, ["meter_not_found", "cursor_invalid", "validation_failed", "next_cursor"]),
    ],
)
def test_the_problem_codes_are_documented(spec: dict[str, Any], operation: tuple[str, str], codes: list[str]) -> None:
    description = operations(spec)[operation]["description"]

    assert [code for code in codes if code not in description] == []


def test_inputs_are_strict_and_take_strings_or_numbers(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    one, several, item = schemas["ReadingIn"], schemas["ReadingsIn"], schemas["MeterReadingIn"]

    assert (one["additionalProperties"], several["additionalProperties"], item["additionalProperties"]) == (
        False,
        False,
        False,
    )
    assert (one["required"], several["required"], item["required"]) == (["value"], ["readings"], ["meter_id", "value"])
    assert one["properties"]["value"]["anyOf"] == [{"type": "string"}, {"type": "number"}]
    assert several["properties"]["readings"]["maxItems"] == 50
    assert (item["properties"]["meter_id"]["type"], item["properties"]["meter_id"]["minimum"]) == ("integer", 1)
    key = next(p for p in operations(spec)[ONE]["parameters"] if p["in"] == "header")
    assert (key["name"], key["required"], key["schema"]["anyOf"][0]["maxLength"]) == ("Idempotency-Key", False, 200)


def test_the_history_is_cursor_paged(spec: dict[str, Any]) -> None:
    parameters = {p["name"]: p for p in operations(spec)[HISTORY]["parameters"]}
    page = spec["components"]["schemas"]["ReadingsPageOut"]

    assert (parameters["limit"]["in"], parameters["limit"]["required"]) == ("query", False)
    assert {k: parameters["limit"]["schema"][k] for k in ("minimum", "maximum", "default")} == {
        "minimum": 1,
        "maximum": 100,
        "default": 50,
    }
    assert (parameters["cursor"]["in"], parameters["cursor"]["required"]) == ("query", False)
    assert set(page["properties"]) == {"items", "next_cursor"}


def test_volumes_are_strings_and_dates_iso(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    reading, window, meter = schemas["MeterReadingOut"], schemas["ReadingWindowOut"], schemas["MeterEntryOut"]

    assert reading["properties"]["value"]["type"] == "string"
    assert reading["properties"]["consumption"]["anyOf"][0]["type"] == "string"
    assert reading["properties"]["period"]["pattern"] == r"^\d{4}-\d{2}$"
    assert reading["properties"]["submitted_at"]["format"] == "date-time"
    assert meter["properties"]["base_value"]["type"] == "string"
    assert (window["properties"]["opens_at"]["format"], window["properties"]["opens_on"]["format"]) == (
        "date-time",
        "date",
    )
    assert schemas["WindowState"]["enum"] == ["before", "open", "after"]
    assert schemas["ReadingChannel"]["enum"][:2] == ["web", "app"]
    assert set(reading["required"]) == set(reading["properties"])
