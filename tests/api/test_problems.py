"""Every error of the API is RFC 9457 problem+json with a stable code."""

import json

import pytest
from django.test import Client

from abonent.core.models import Supplier

pytestmark = pytest.mark.django_db

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "code"}


def problem(response) -> dict:  # type: ignore[no-untyped-def]
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == response.status_code
    assert body["type"] == "urn:abonent:problem:" + body["code"]
    return body


class TestProblemShape:
    def test_unknown_path_is_a_404_problem(self, client: Client) -> None:
        response = client.get("/api/v1/no-such-thing")

        assert response.status_code == 404
        assert problem(response) == {
            "type": "urn:abonent:problem:not_found",
            "title": "Страница не найдена",
            "status": 404,
            "detail": "Такой страницы нет. Проверьте адрес или вернитесь на главную.",
            "instance": "/api/v1/no-such-thing",
            "code": "not_found",
        }

    def test_domain_not_found_keeps_its_code(self, client: Client, supplier: Supplier) -> None:
        response = client.get("/api/v1/suppliers/no-such-supplier")

        assert response.status_code == 404
        body = problem(response)
        assert body["code"] == "supplier_not_found"
        assert body["detail"] == "Поставщик «no-such-supplier» не найден"

    def test_wrong_method_is_a_405_problem_with_allow(self, client: Client) -> None:
        response = client.delete("/api/v1/suppliers")

        assert response.status_code == 405
        assert response["Allow"] == "GET"
        body = problem(response)
        assert body["code"] == "http_405"
        assert body["title"] == "Method Not Allowed"

    def test_openapi_documents_the_problem_schema(self, client: Client) -> None:
        response = client.get("/api/v1/openapi.json")

        assert response.status_code == 200
        spec = json.loads(response.content)
        assert spec["openapi"].startswith("3.")
        assert spec["info"]["title"] == "abonent API"
        assert set(spec["components"]["schemas"]["Problem"]["properties"]) == PROBLEM_KEYS | {"errors"}
        assert "/api/v1/suppliers/{code}" in spec["paths"]


class TestDocs:
    def test_docs_use_self_hosted_assets(self, client: Client) -> None:
        response = client.get("/api/v1/docs")

        html = response.content.decode()
        assert response.status_code == 200
        assert '/static/ninja/swagger-ui-bundle.js"' in html
        assert "cdn" not in html.lower()

    def test_docs_assets_are_served(self, client: Client) -> None:
        response = client.get("/static/ninja/swagger-ui-bundle.js")

        assert response.status_code == 200


class TestSuppliers:
    def test_list_shows_contacts(self, client: Client, supplier: Supplier) -> None:
        response = client.get("/api/v1/suppliers")

        assert response.status_code == 200
        assert response.json() == [
            {
                "id": supplier.pk,
                "code": "gaz-msk",
                "short_name": "Газпром межрегионгаз Москва",
                "legal_name": 'ООО "Газпром межрегионгаз Москва"',
                "hotline_phone": "8 800 100-00-01",
                "phones": "",
                "email": "info@gaz-msk.example",
                "site": "https://gaz-msk.example",
                "feedback_url": "https://gaz-msk.example/feedback",
                "office_hours": "пн–пт 8:00–20:00",
                "time_zone": "Europe/Moscow",
            }
        ]
