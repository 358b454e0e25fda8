"""Makes sure no error leaves /api/ as anything but problem+json.

Most errors become problems in the API's exception handlers (errors.install) or in the
project's 404/500 handlers; what is answered before either runs (a 405 from the router,
a 403 from CSRF, a 413 from the request parser) is rewritten here.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse

from abonent.api.errors import PROBLEM_CONTENT_TYPE, problem_response

_DETAILS = {
    405: "Этот метод не поддерживается по этому адресу; допустимые методы — в заголовке Allow",
    403: "Запрос отклонён: нет прав или не пройдена проверка CSRF",
    413: "Запрос слишком большой",
}


class ProblemJsonMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith(PROBLEM_CONTENT_TYPE)
            and not response.streaming
        ):
            status = response.status_code
            try:
                title = HTTPStatus(status).phrase
            except ValueError:
                title = "Error"
            headers = {
                name: response[name] for name in ("Allow", "WWW-Authenticate", "Retry-After") if name in response
            }
            return problem_response(
                request,
                status=status,
                code=f"http_{status}",
                title=title,
                detail=_DETAILS.get(status, title),
                headers=headers,
            )
        return response
