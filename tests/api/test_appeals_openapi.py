"""The OpenAPI document tells the truth about the appeals endpoints: each with the problems it
can answer and their codes, behind a bearer token (all but a guest's message), multipart
forms with their file fields, the file of a thread as binary, a cursor-paged list."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

CATEGORIES = ("get", "/api/v1/appeals/categories")
LIST = ("get", "/api/v1/appeals")
CREATE = ("post", "/api/v1/appeals")
DETAIL = ("get", "/api/v1/appeals/{appeal_id}")
REPLY = ("post", "/api/v1/appeals/{appeal_id}/messages")
RATE = ("post", "/api/v1/appeals/{appeal_id}/rating")
WITHDRAW = ("post", "/api/v1/appeals/{appeal_id}/withdraw")
FILE = ("get", "/api/v1/appeals/{appeal_id}/files/{attachment_id}")
CONNECTION = ("post", "/api/v1/connection-applications")
FEEDBACK = ("post", "/api/v1/feedback")
DELETIONS = ("get", "/api/v1/profile/deletion-requests")

ENDPOINTS: dict[tuple[str, str], set[str]] = {
    CATEGORIES: {"200", "401"},
    LIST: {"200", "401", "422"},
    CREATE: {"201", "400", "401", "404", "422"},
    DETAIL: {"200", "401", "404", "422"},
    REPLY: {"201", "400", "401", "404", "409", "422"},
    RATE: {"200", "400", "401", "404", "409", "422"},
    WITHDRAW: {"200", "401", "404", "409", "422"},
    FILE: {"200", "401", "404", "422"},
    CONNECTION: {"201", "400", "401", "422"},
    FEEDBACK: {"202", "400", "422", "429"},
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
        if "appeals" in operation["tags"]
    }


def test_every_endpoint_with_its_responses(spec: dict[str, Any]) -> None:
    found = {key: set(operation["responses"]) for key, operation in operations(spec).items()}

    assert found == ENDPOINTS


def test_behind_a_bearer_token_but_a_guests_message(spec: dict[str, Any]) -> None:
    for key, operation in operations(spec).items():
        assert operation["tags"] == ["appeals"], key
        assert operation["summary"], key
        assert operation["description"], key
        if key == FEEDBACK:
            assert "security" not in operation
        else:
            assert operation["security"] == [{"BearerAuth": []}], key


def test_errors_are_problem_json(spec: dict[str, Any]) -> None:
    for key, operation in operations(spec).items():
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert response["content"] == {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }, key
            elif key != FILE:
                assert list(response["content"]) == ["application/json"], key


@pytest.mark.parametrize(
    ("operation", "codes"),
    [
        (
            CREATE,
            [
                "validation_failed",
                "account_not_found",
                "category",
                "account",
                "supplier",
                "notify_channel",
                "files",
                "10 MB",
                "JPEG, PNG, WebP or PDF",
                "invalid_multipart",
            ],
        ),
        (DETAIL, ["appeal_not_found", "validation_failed", "actions"]),
        (REPLY, ["transition_not_allowed", "appeal_not_found", "validation_failed", "waiting", "invalid_multipart"]),
        (RATE, ["transition_not_allowed", "appeal_not_found", "validation_failed", "invalid_json"]),
        (WITHDRAW, ["transition_not_allowed", "appeal_not_found"]),
        (FILE, ["attachment_not_found"]),
        (
            CONNECTION,
            [
                "validation_failed",
                "files_land_title",
                "files_house_title",
                "files_passport",
                "files_site_plan",
                "files_other",
                "land_cadastral_number",
                "house_cadastral_number",
                "max_hourly_m3",
                "usages",
                "invalid_multipart",
            ],
        ),
        (FEEDBACK, ["too_many_messages", "Retry-After", "website", "validation_failed", "invalid_json"]),
        (LIST, ["cursor_invalid", "next_cursor"]),
    ],
)
def test_the_problem_codes_are_documented(spec: dict[str, Any], operation: tuple[str, str], codes: list[str]) -> None:
    description = operations(spec)[operation]["description"]

    assert [code for code in codes if code not in description] == []


def _form(operation: dict[str, Any]) -> dict[str, Any]:
    content = operation["requestBody"]["content"]
    assert list(content) == ["multipart/form-data"]
    schema: dict[str, Any] = content["multipart/form-data"]["schema"]
    return schema


def test_appeals_and_messages_are_multipart_with_files(spec: dict[str, Any]) -> None:
    ops = operations(spec)
    create, reply = _form(ops[CREATE]), _form(ops[REPLY])

    assert set(create["properties"]) == {"category", "account_id", "supplier_id", "text", "notify_channel", "files"}
    assert set(create["required"]) == {"category", "text"}
    assert create["properties"]["files"]["anyOf"][0] == {
        "items": {"format": "binary", "type": "string"},
        "type": "array",
    }
    assert set(reply["properties"]) == {"text", "files"}
    assert "required" not in reply


def test_an_application_has_a_file_field_per_document(spec: dict[str, Any]) -> None:
    form = _form(operations(spec)[CONNECTION])
    files = {name for name in form["properties"] if name.startswith("files_")}

    assert files == {"files_land_title", "files_house_title", "files_passport", "files_site_plan", "files_other"}
    for name in files:
        assert form["properties"][name]["anyOf"][0]["items"] == {"format": "binary", "type": "string"}
    assert set(form["required"]) == {
        "supplier_id",
        "program",
        "applicant_name",
        "applicant_phone",
        "object_address",
        "land_cadastral_number",
        "house_cadastral_number",
        "max_hourly_m3",
        "usages",
    }
    assert form["properties"]["usages"]["type"] == "array"


def test_json_bodies_are_strict(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    rating, feedback = schemas["RatingIn"], schemas["FeedbackIn"]

    assert (rating["additionalProperties"], feedback["additionalProperties"]) == (False, False)
    assert (rating["properties"]["rating"]["minimum"], rating["properties"]["rating"]["maximum"]) == (1, 5)
    assert set(feedback["required"]) == {"supplier_id", "name", "contact", "text"}
    assert "website" in feedback["properties"]


def test_the_file_is_binary(spec: dict[str, Any]) -> None:
    content = operations(spec)[FILE]["responses"]["200"]["content"]

    assert set(content) == {"image/jpeg", "image/png", "image/webp", "application/pdf"}
    assert content["application/pdf"]["schema"]["format"] == "binary"


def test_the_list_is_cursor_paged(spec: dict[str, Any]) -> None:
    parameters = {p["name"]: p for p in operations(spec)[LIST]["parameters"]}
    page = spec["components"]["schemas"]["AppealsPageOut"]

    assert {name: (p["in"], p["required"]) for name, p in parameters.items()} == {
        "cursor": ("query", False),
        "limit": ("query", False),
    }
    assert set(page["properties"]) == {"items", "next_cursor"}


def test_the_case_shows_dates_iso_and_volumes_as_strings(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    detail, connection, stage = schemas["AppealDetailOut"], schemas["ConnectionOut"], schemas["StageOut"]

    assert set(detail["required"]) == set(detail["properties"])
    assert detail["properties"]["created_at"]["format"] == "date-time"
    assert detail["properties"]["due_on"]["anyOf"][0]["format"] == "date"
    assert connection["properties"]["max_hourly_m3"]["type"] == "string"
    assert stage["properties"]["reached_at"]["anyOf"][0]["format"] == "date-time"


def test_the_deletion_requests_are_a_profile_endpoint(spec: dict[str, Any]) -> None:
    method, path = DELETIONS
    operation = spec["paths"][path][method]
    item = spec["components"]["schemas"]["DeletionRequestItemOut"]

    assert (operation["tags"], set(operation["responses"]), operation["security"]) == (
        ["profile"],
        {"200", "401"},
        [{"BearerAuth": []}],
    )
    assert set(item["required"]) == {
        "id",
        "status",
        "status_label",
        "requested_at",
        "due_by",
        "taken_at",
        "processed_at",
        "outcome",
    }
