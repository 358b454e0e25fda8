"""The OpenAPI document tells the truth about the endpoints of messages to the subscriber (push
devices, notification preferences, the notification centre) and the paper bill: each with the
problems it can answer and their codes, behind a bearer token, strict bounded inputs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

DEVICES = ("get", "/api/v1/push-devices")
REGISTER = ("post", "/api/v1/push-devices")
UNREGISTER = ("post", "/api/v1/push-devices/unregister")
DEVICE_DELETE = ("delete", "/api/v1/push-devices/{device_id}")
CENTRE = ("get", "/api/v1/notifications")
UNREAD = ("get", "/api/v1/notifications/unread-count")
READ = ("post", "/api/v1/notifications/read")
ONE = ("get", "/api/v1/notifications/{notification_id}")
PREFERENCES = ("get", "/api/v1/profile/notification-preferences")
PREFERENCES_PATCH = ("patch", "/api/v1/profile/notification-preferences")
LANGUAGE = ("put", "/api/v1/profile/language")
PAPER_BILL = ("put", "/api/v1/accounts/{account_id}/paper-bill")

ENDPOINTS: dict[tuple[str, str], set[str]] = {
    DEVICES: {"200", "401"},
    REGISTER: {"200", "201", "400", "401", "422"},
    UNREGISTER: {"204", "400", "401", "404", "422"},
    DEVICE_DELETE: {"204", "401", "404", "422"},
    CENTRE: {"200", "401", "422"},
    UNREAD: {"200", "401"},
    READ: {"200", "400", "401", "404", "422"},
    ONE: {"200", "401", "404", "422"},
    PREFERENCES: {"200", "401"},
    PREFERENCES_PATCH: {"200", "400", "401", "422"},
    LANGUAGE: {"200", "400", "401", "422"},
    PAPER_BILL: {"200", "400", "401", "404", "409", "422"},
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
        if (method, path) in ENDPOINTS or "notifications" in operation["tags"]
    }


def test_every_endpoint_with_its_responses(spec: dict[str, Any]) -> None:
    found = {key: set(operation["responses"]) for key, operation in operations(spec).items()}

    assert found == ENDPOINTS


def test_all_behind_a_bearer_token_with_their_tag(spec: dict[str, Any]) -> None:
    tags = {key: operation["tags"] for key, operation in operations(spec).items()}

    assert {key for key, value in tags.items() if value == ["notifications"]} == {
        DEVICES,
        REGISTER,
        UNREGISTER,
        DEVICE_DELETE,
        CENTRE,
        UNREAD,
        READ,
        ONE,
    }
    assert (tags[PREFERENCES], tags[PREFERENCES_PATCH], tags[LANGUAGE], tags[PAPER_BILL]) == (
        ["profile"],
        ["profile"],
        ["profile"],
        ["accounts"],
    )
    for key, operation in operations(spec).items():
        assert operation["security"] == [{"BearerAuth": []}], key
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


def test_descriptions_name_their_problem_codes(spec: dict[str, Any]) -> None:
    described = {key: operation["description"] for key, operation in operations(spec).items() if key != DEVICES}
    codes = {
        REGISTER: ("validation_failed", "platform", "token", "name", "201", "200"),
        UNREGISTER: ("push_device_not_found", "validation_failed"),
        DEVICE_DELETE: ("push_device_not_found",),
        CENTRE: ("cursor_invalid", "validation_failed", "unread_only"),
        READ: ("notification_not_found", "validation_failed"),
        ONE: ("notification_not_found",),
        PREFERENCES_PATCH: ("preference_not_allowed", "validation_failed", "debt_notice.email"),
        LANGUAGE: ("validation_failed",),
        PAPER_BILL: ("paperless_not_allowed", "paperless_needs_email", "account_not_found", "validation_failed"),
    }
    for key, expected in codes.items():
        for code in expected:
            assert code in described[key], (key, code)


def test_inputs_are_strict_and_limited(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    device, unregister = schemas["PushDeviceIn"], schemas["PushDeviceTokenIn"]
    preferences, choice = schemas["PreferencesIn"], schemas["PreferenceChoiceIn"]
    read, paper, language = schemas["NotificationsReadIn"], schemas["PaperBillIn"], schemas["LanguageIn"]

    for schema in (device, unregister, preferences, choice, read, paper, language):
        assert schema["additionalProperties"] is False
    assert device["required"] == ["platform", "token"]
    assert device["properties"]["platform"]["enum"] == ["fcm", "apns"]
    assert (device["properties"]["token"]["maxLength"], device["properties"]["name"]["maxLength"]) == (500, 120)
    assert unregister["properties"]["token"]["maxLength"] == 500
    assert preferences["properties"]["choices"]["maxItems"] == 100
    assert choice["required"] == ["kind", "channel", "enabled"]
    assert "required" not in read
    ids = read["properties"]["ids"]["anyOf"][0]
    assert (ids["type"], ids["maxItems"], ids["items"]["minimum"]) == ("array", 100, 1)
    assert paper["required"] == ["paper"]
    assert paper["properties"]["paper"]["type"] == "boolean"
    assert language["properties"]["language"]["maxLength"] == 8
    for key, name in ((DEVICE_DELETE, "device_id"), (ONE, "notification_id"), (PAPER_BILL, "account_id")):
        path_id = operations(spec)[key]["parameters"][0]
        assert (path_id["name"], path_id["in"], path_id["schema"]["type"], path_id["schema"]["minimum"]) == (
            name,
            "path",
            "integer",
            1,
        )


def test_outputs_document_their_fields(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]

    assert set(schemas["PushDeviceOut"]["properties"]) == {
        "id",
        "platform",
        "name",
        "token_suffix",
        "created_at",
        "last_seen_at",
    }
    assert set(schemas["NotificationItemOut"]["properties"]) == {
        "id",
        "kind",
        "title",
        "body",
        "created_at",
        "read",
        "read_at",
        "account_id",
    }
    assert schemas["NotificationItemOut"]["properties"]["created_at"]["format"] == "date-time"
    assert "status" in schemas["NotificationOut"]["properties"]  # the payment gateway's, a schema of its own
    assert set(schemas["NotificationsPageOut"]["properties"]) == {"items", "next_cursor", "unread_count"}
    assert set(schemas["ChannelChoiceOut"]["properties"]) == {"channel", "label", "enabled", "mandatory", "available"}
    assert schemas["ChannelChoiceOut"]["properties"]["channel"]["enum"] == ["portal", "push", "email", "sms"]
    kinds = schemas["KindPreferencesOut"]["properties"]["kind"]["enum"]
    assert kinds == schemas["NotificationItemOut"]["properties"]["kind"]["enum"]
    assert {"readings_open", "debt_notice", "safety_notice", "bill_by_email"} <= set(kinds)
    assert set(schemas["PaperBillOut"]["properties"]) == {
        "paper_bill",
        "bill_email_to_me",
        "paperless_since",
        "paperless_allowed",
    }
    assert set(schemas["AccountDetailOut"]["required"]) >= {"paper_bill", "paperless_allowed"}
    assert "language" in schemas["ProfileOut"]["required"]
    centre = {p["name"]: p for p in operations(spec)[CENTRE]["parameters"]}
    assert set(centre) == {"cursor", "limit", "unread_only"}
    assert centre["unread_only"]["schema"] == {"default": False, "title": "Unread Only", "type": "boolean"}
