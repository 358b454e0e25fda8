"""The API v1 object, mounted at /api/v1/ by the project's urls."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.renderers import JSONRenderer

from abonent.api import errors
from abonent.api.schemas import Problem, SupplierOut
from abonent.core.models import Supplier
from abonent.core.selectors import supplier_by_code, suppliers_active


class Utf8JSONRenderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}  # Russian text as it is, not as \u escapes


api = NinjaAPI(
    renderer=Utf8JSONRenderer(),
    title="abonent API",
    version="1",
    description="API личного кабинета абонента для мобильных приложений. Ошибки — RFC 9457 (application/problem+json).",
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
errors.install(api)


@api.get("/suppliers", response={200: list[SupplierOut]}, tags=["suppliers"], summary="Поставщики и их контакты")
def suppliers_list(request: HttpRequest) -> list[Supplier]:
    return list(suppliers_active())


@api.get(
    "/suppliers/{code}", response={200: SupplierOut, 404: Problem}, tags=["suppliers"], summary="Поставщик по коду"
)
def supplier_get(request: HttpRequest, code: str) -> Supplier:
    return supplier_by_code(code=code)
