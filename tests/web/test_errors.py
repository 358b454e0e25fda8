from __future__ import annotations

import json

import pytest
from django.test import Client, RequestFactory
from pytest_django.asserts import assertContains

from abonent.config import handlers

pytestmark = pytest.mark.django_db


def test_unknown_page_is_a_friendly_html_404(client: Client) -> None:
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assertContains(response, "<title>Страница не найдена — Абонент</title>", status_code=404, html=True)
    assertContains(response, '<p class="error-page__code">Ошибка 404</p>', status_code=404, html=True)
    assertContains(response, '<h1 id="error-title">Страница не найдена</h1>', status_code=404, html=True)
    assertContains(
        response,
        '<p class="lead">Такой страницы нет. Проверьте адрес или вернитесь на главную.</p>',
        status_code=404,
        html=True,
    )
    assertContains(response, '<a class="button" href="/">На главную</a>', status_code=404, html=True)
    assertContains(response, '<meta name="robots" content="noindex">', status_code=404)


def test_unknown_api_address_is_problem_json(client: Client) -> None:
    response = client.get("/api/v1/unknown")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert body["status"] == 404
    assert body["code"] == "not_found"
    assert body["title"] == "Страница не найдена"
    assert body["instance"] == "/api/v1/unknown"


@pytest.mark.parametrize(
    ("status", "title", "detail"),
    [
        (400, "Неверный запрос", "Запрос не удалось разобрать. Проверьте адрес и данные и повторите."),
        (403, "Доступ запрещён", "У вас нет прав на это действие."),
        (500, "Внутренняя ошибка сервера", "Мы уже знаем об ошибке и исправляем её. Повторите попытку позже."),
    ],
)
def test_other_error_pages(rf: RequestFactory, status: int, title: str, detail: str) -> None:
    request = rf.get("/some/page/")
    handler = {400: handlers.bad_request, 403: handlers.permission_denied, 500: handlers.server_error}[status]

    response = handler(request)

    assert response.status_code == status
    assertContains(response, f'<h1 id="error-title">{title}</h1>', status_code=status, html=True)
    assertContains(response, f'<p class="lead">{detail}</p>', status_code=status, html=True)
    assertContains(response, '<a class="button" href="/">На главную</a>', status_code=status, html=True)
