"""The API v1 object, mounted at /api/v1/ by the project's urls."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema
from ninja.renderers import JSONRenderer

from abonent.api import accounts, appeals, bills, errors, esia, identity, money, notifications, payments, readings
from abonent.api.schemas import Problem, SupplierOut
from abonent.core.models import Supplier
from abonent.core.selectors import supplier_by_code, suppliers_active


class Utf8JSONRenderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}  # Russian text as it is, not as \u escapes


class AbonentAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        """The spec as ninja builds it, with problems served as application/problem+json."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        problem_ref = "#/components/schemas/Problem"
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for response in operation.get("responses", {}).values():
                    content = response.get("content", {})
                    body = content.get(self.renderer.media_type)
                    if body is not None and body.get("schema", {}).get("$ref") == problem_ref:
                        content[errors.PROBLEM_CONTENT_TYPE] = content.pop(self.renderer.media_type)
        return schema


api = AbonentAPI(
    renderer=Utf8JSONRenderer(),
    title="abonent API",
    version="1",
    description="API личного кабинета абонента для мобильных приложений. Ошибки — RFC 9457 (application/problem+json).",
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
errors.install(api)
# One router per area, each a line here.
api.add_router("/auth", identity.auth_router)
api.add_router("/profile", identity.profile_router)
api.add_router("/profile", appeals.deletion_router)
api.add_router("/profile", notifications.preferences_router)
api.add_router("/auth/esia", esia.router)
api.add_router("/accounts", accounts.router)
api.add_router("/accounts", readings.router)
api.add_router("/accounts", money.router)
api.add_router("/accounts", payments.account_router)
api.add_router("/accounts", bills.router)
api.add_router("/payments", payments.router)
api.add_router("/appeals", appeals.router)
api.add_router("/connection-applications", appeals.connection_router)
api.add_router("/feedback", appeals.feedback_router)
api.add_router("/push-devices", notifications.devices_router)
api.add_router("/notifications", notifications.centre_router)


@api.get("/suppliers", response={200: list[SupplierOut]}, tags=["suppliers"], summary="Поставщики и их контакты")
def suppliers_list(request: HttpRequest) -> list[Supplier]:
    return list(suppliers_active())


@api.get(
    "/suppliers/{code}", response={200: SupplierOut, 404: Problem}, tags=["suppliers"], summary="Поставщик по коду"
)
def supplier_get(request: HttpRequest, code: str) -> Supplier:
    return supplier_by_code(code=code)
