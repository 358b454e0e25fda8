"""Every error of the API as RFC 9457 problem+json, mapped from domain errors in one place.

A problem has ``type``, ``title``, ``status``, ``detail`` and ``instance`` as in the RFC,
plus ``code`` (stable, for programs) and, for invalid input, ``errors``: a list of
``{"field": …, "message": …}`` saying what to fix (readings of several meters add each
meter's ``code``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from abonent.appeals import services as appeals
from abonent.core.errors import DomainError, NotFound, ValidationFailed
from abonent.customers import services as customers
from abonent.documents import services as documents
from abonent.identity import codes as identity_codes
from abonent.identity import contacts as identity_contacts
from abonent.identity import external as identity_external
from abonent.identity import selectors as identity_selectors
from abonent.identity import services as identity
from abonent.metering import services as metering
from abonent.notifications import services as notifications
from abonent.payments import services as payments

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "urn:abonent:problem:"

# Domain errors by class → HTTP status. Subclasses inherit their base's status.
STATUS_BY_ERROR: dict[type[DomainError], int] = {
    NotFound: 404,
    ValidationFailed: 422,
    # identity
    identity_contacts.InvalidLogin: 422,
    identity_contacts.InvalidPhone: 422,
    identity_contacts.InvalidEmail: 422,
    identity.ConsentRequired: 422,
    identity.InvalidCredentials: 401,
    identity.ProfileNotConfirmed: 403,
    identity.TooManyAttempts: 429,
    identity_codes.CodeResendTooSoon: 429,
    identity_codes.CodeInvalid: 422,
    identity_codes.CodeExpired: 422,
    identity_codes.CodeAttemptsExhausted: 429,
    identity.InvalidToken: 401,
    identity.RefreshTokenReused: 401,
    identity.ResetLinkInvalid: 422,
    identity.WrongPassword: 422,
    identity.ContactTaken: 409,
    identity.ContactUnchanged: 422,
    identity.SessionNotFound: 404,
    identity.DeletionAlreadyRequested: 409,
    identity.DeletionRequestClosed: 409,
    identity.DeletionRequestTaken: 409,
    identity_selectors.ConsentTextMissing: 503,
    identity_external.ExternalLoginDisabled: 404,
    identity_external.ExternalLoginUnavailable: 503,
    identity_external.ExternalLoginCancelled: 403,
    identity_external.ExternalLoginRefused: 502,
    identity_external.ExternalStateInvalid: 422,
    identity_external.ExternalResponseInvalid: 502,
    identity_external.ExternalStepExpired: 422,
    identity_external.ExternalProfileInactive: 403,
    identity_external.ExternalAlreadyLinked: 409,
    identity_external.RedirectUriNotAllowed: 422,
    # customers
    customers.AccountNotFound: 404,
    customers.LinkProofMismatch: 422,
    customers.LinkAttemptsExhausted: 429,
    customers.AccountClosed: 409,
    customers.AccountAlreadyLinked: 409,
    customers.ProofNotAccepted: 422,
    customers.SupplierChoiceRequired: 422,
    customers.PaperlessNotAllowed: 409,  # the supplier's terms, not the input: why, in api/accounts.py
    customers.PaperlessNeedsEmail: 422,  # no confirmed e-mail in the profile to send the bill to
    # notifications
    notifications.PreferenceNotAllowed: 422,  # errors name each refused pair as kind.channel
    notifications.PushDeviceNotFound: 404,
    notifications.NotificationNotFound: 404,
    # metering
    metering.MeterNotFound: 404,
    metering.ReadingNotFound: 404,
    metering.ReadingInvalid: 422,  # every rule of a value, and a submission key used for another value
    metering.MeterNotInService: 409,
    metering.ReadingsNotAccepted: 409,
    # payments (PaymentNotFound is a NotFound)
    payments.PaymentGatewayUnavailable: 503,
    payments.PaymentRefusedByGateway: 409,  # not 402: why, in api/payments.py
    payments.PaymentMismatch: 502,  # the gateway answered with another payment's data
    payments.NotificationMalformed: 400,
    payments.NotificationForbidden: 403,
    # documents
    documents.BillNotAvailable: 404,
    documents.NoEmailForBill: 422,  # no confirmed e-mail to send the bill to
    documents.BillRunInProgress: 409,
    documents.BillRunNotRunning: 409,
    # appeals
    appeals.AppealNotFound: 404,
    appeals.AttachmentNotFound: 404,
    appeals.TransitionNotAllowed: 409,  # not from the case's status now: nothing is changed
    appeals.FeedbackRateLimited: 429,  # with Retry-After
    appeals.FeedbackTooFast: 422,
    DomainError: 409,
}


def problem_response(
    request: HttpRequest,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    response = JsonResponse(
        body, status=status, content_type=PROBLEM_CONTENT_TYPE, json_dumps_params={"ensure_ascii": False}
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def status_for(error: DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 409


def _field_of(loc: list[Any] | tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie", "form", "payload")]
    return ".".join(parts) or "body"


def _message_of(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    messages = {
        "missing": "Обязательное поле: заполните его",
        "json_invalid": "Тело запроса — не JSON: проверьте синтаксис",
        "string_too_short": f"Слишком коротко: не меньше {ctx.get('min_length')} символов",
        "string_too_long": f"Слишком длинно: не больше {ctx.get('max_length')} символов",
        "int_parsing": "Ожидается целое число",
        "decimal_parsing": "Ожидается число, например 123.45",
        "date_from_datetime_parsing": "Ожидается дата в формате ГГГГ-ММ-ДД",
        "date_parsing": "Ожидается дата в формате ГГГГ-ММ-ДД",
        "string_type": "Ожидается строка",
        "extra_forbidden": "Неизвестное поле: уберите его",
        "bool_type": "Ожидается true или false",
        "bool_parsing": "Ожидается true или false",
        "int_type": "Ожидается целое число",
        "greater_than_equal": f"Ожидается число не меньше {ctx.get('ge')}",
        "less_than_equal": f"Ожидается число не больше {ctx.get('le')}",
        "model_type": "Ожидается объект JSON с полями",
        "model_attributes_type": "Ожидается объект JSON с полями",
        "dict_type": "Ожидается объект JSON с полями",
        "list_type": "Ожидается список JSON",
        "too_long": f"Слишком много элементов: не больше {ctx.get('max_length')}",
    }
    if kind in ("literal_error", "enum"):
        return "Допустимые значения: " + str(ctx.get("expected", "")).replace(" or ", ", ")
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "Обязательное поле: заполните его"
    return messages.get(kind) or str(error.get("msg", "Неверное значение"))


def _auth_headers(exc: DomainError, status: int) -> dict[str, str]:
    """Retry-After on 429 (RFC 9110 §10.2.3), WWW-Authenticate on 401 (RFC 6750 §3)."""
    headers: dict[str, str] = {}
    retry_after = getattr(exc, "retry_after", None)
    if status == 429 and isinstance(retry_after, int):
        headers["Retry-After"] = str(retry_after)
    if status == 401:
        bad_token = isinstance(exc, identity.InvalidToken | identity.RefreshTokenReused)
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"' if bad_token else "Bearer"
    return headers


def install(api: NinjaAPI) -> None:
    """Register the handlers that turn every exception into a problem."""

    @api.exception_handler(NinjaValidationError)
    def on_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [{"field": _field_of(e.get("loc", ())), "message": _message_of(e)} for e in exc.errors]
        return problem_response(
            request,
            status=422,
            code="validation_failed",
            title="Неверные данные",
            detail="Исправьте поля, указанные в errors",
            errors=errors,
        )

    @api.exception_handler(ValidationFailed)
    def on_validation_failed(request: HttpRequest, exc: ValidationFailed) -> HttpResponse:
        errors = [{"field": field, "message": m} for field, messages in exc.errors.items() for m in messages]
        return problem_response(
            request, status=422, code=exc.code, title="Неверные данные", detail=exc.text, errors=errors
        )

    @api.exception_handler(metering.ReadingsInvalid)
    def on_readings_invalid(request: HttpRequest, exc: metering.ReadingsInvalid) -> HttpResponse:
        # each meter's error with its own code, so that an app can tell a misplaced comma from a slip of a digit
        errors = [
            {"field": f"readings.{meter_id}.value", "message": error.text, "code": error.code}
            for meter_id, error in exc.by_meter.items()
        ]
        return problem_response(
            request, status=422, code=exc.code, title="Неверные данные", detail=exc.text, errors=errors
        )

    @api.exception_handler(DomainError)
    def on_domain(request: HttpRequest, exc: DomainError) -> HttpResponse:
        errors = [{"field": exc.field, "message": exc.text}] if exc.field else None
        status = status_for(exc)
        return problem_response(
            request,
            status=status,
            code=exc.code,
            title=exc.text,
            detail=exc.text,
            errors=errors,
            headers=_auth_headers(exc, status),
        )

    @api.exception_handler(AuthenticationError)
    def on_auth(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem_response(
            request,
            status=401,
            code="not_authenticated",
            title="Требуется вход",
            detail="Передайте действующий токен доступа в заголовке Authorization: Bearer …",
            headers={"WWW-Authenticate": "Bearer"},
        )

    @api.exception_handler(Http404)
    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem_response(
            request, status=404, code="not_found", title="Не найдено", detail="Запрошенный объект не найден"
        )

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
            return problem_response(
                request,
                status=400,
                code="invalid_json",
                title="Тело запроса — не JSON",
                detail="Тело запроса не удалось разобрать как JSON: проверьте синтаксис и заголовок Content-Type",
            )
        return problem_response(
            request, status=exc.status_code, code=f"http_{exc.status_code}", title=str(exc), detail=str(exc)
        )

    @api.exception_handler(MultiPartParserError)
    def on_bad_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
        return problem_response(
            request,
            status=400,
            code="invalid_multipart",
            title="Тело запроса — не multipart/form-data",
            detail="Тело запроса не удалось разобрать как multipart/form-data: проверьте заголовок Content-Type "
            "(с boundary) и разделители частей",
        )

    @api.exception_handler(RequestDataTooBig)
    @api.exception_handler(TooManyFieldsSent)
    @api.exception_handler(TooManyFilesSent)
    def on_too_large(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem_response(
            request,
            status=413,
            code="payload_too_large",
            title="Запрос слишком большой",
            detail="В запросе слишком много полей или файлов, или он слишком велик",
        )

    @api.exception_handler(Exception)
    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.error("Unable to handle API request %s %s", request.method, request.path)
        return problem_response(
            request,
            status=500,
            code="server_error",
            title="Внутренняя ошибка сервера",
            detail="Мы уже знаем об ошибке и исправляем её. Повторите попытку позже.",
        )
