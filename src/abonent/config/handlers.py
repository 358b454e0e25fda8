"""Error pages: problem+json under /api/, HTML pages elsewhere."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.api.errors import problem_response

_TITLES = {
    400: _("Неверный запрос"),
    403: _("Доступ запрещён"),
    404: _("Страница не найдена"),
    500: _("Внутренняя ошибка сервера"),
}
_DETAILS = {
    400: _("Запрос не удалось разобрать. Проверьте адрес и данные и повторите."),
    403: _("У вас нет прав на это действие."),
    404: _("Такой страницы нет. Проверьте адрес или вернитесь на главную."),
    500: _("Мы уже знаем об ошибке и исправляем её. Повторите попытку позже."),
}
_CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 500: "server_error"}


def _respond(request: HttpRequest, status: int) -> HttpResponse:
    if request.path.startswith("/api/"):
        return problem_response(
            request, status=status, code=_CODES[status], title=str(_TITLES[status]), detail=str(_DETAILS[status])
        )
    return render(
        request,
        "web/error.html",
        {"status": status, "title": str(_TITLES[status]), "detail": str(_DETAILS[status])},
        status=status,
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _respond(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _respond(request, 403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without a valid CSRF token: most often a page left open too long."""
    if request.path.startswith("/api/"):
        return _respond(request, 403)
    return render(
        request,
        "web/error.html",
        {
            "status": 403,
            "title": gettext("Форма устарела"),
            "detail": gettext(
                "Страница была открыта слишком долго или cookies выключены. Обновите страницу и отправьте форму ещё раз."
            ),
        },
        status=403,
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _respond(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return _respond(request, 500)
