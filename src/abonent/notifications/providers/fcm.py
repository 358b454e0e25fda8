"""Push notifications through Firebase Cloud Messaging, HTTP v1 API.

One message to one device token a request::

    POST {FCM_API_URL}/v1/projects/{project_id}/messages:send
    Authorization: Bearer <OAuth 2.0 access token>
    {"message": {"token": "…", "notification": {"title": "…", "body": "…"},
                 "data": {"kind": "…", …}, "android": {"priority": "high"},
                 "apns": {"payload": {"aps": {"sound": "default"}}}}}

answered ``{"name": "projects/{project_id}/messages/{id}"}``. The access token comes from the
service account's key (the JSON file Firebase gives, ``FCM_CREDENTIALS``): a JWT signed with
its private key (RS256; ``iss`` the account's e-mail, ``scope`` firebase.messaging, ``aud``
its ``token_uri``) exchanged at ``token_uri`` for a token that lives an hour; it is kept
and reused until a minute before it expires.

Errors come as ``{"error": {"code": 404, "status": "NOT_FOUND", "message": "…", "details":
[{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode":
"UNREGISTERED"}]}}``. Final: ``UNREGISTERED`` and ``SENDER_ID_MISMATCH`` (the token is no
longer this app's: the device is forgotten), ``INVALID_ARGUMENT`` (the same request is
refused again). Everything else is retried: ``QUOTA_EXCEEDED``, ``UNAVAILABLE``,
``INTERNAL``, ``THIRD_PARTY_AUTH_ERROR`` (the APNs key in the Firebase project needs an
operator), a refused access token (it is dropped and fetched anew), no connection, a timeout.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from django.core.exceptions import ImproperlyConfigured

from abonent.notifications.enums import Provider
from abonent.notifications.providers.base import Attachment, PermanentFailure, RecipientGone, TemporaryFailure

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GONE = frozenset({"UNREGISTERED", "SENDER_ID_MISMATCH"})
REFUSED = frozenset({"INVALID_ARGUMENT"})
#: A token is renewed this many seconds before it expires.
TOKEN_MARGIN = 60


@dataclass(frozen=True)
class ServiceAccount:
    project_id: str
    client_email: str
    private_key: str
    token_uri: str

    @classmethod
    def from_file(cls, path: str) -> ServiceAccount:
        """Read a service account key file. Raises ImproperlyConfigured saying what is wrong."""
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ImproperlyConfigured(f"FCM_CREDENTIALS={path!r}: the file cannot be read: {exc}") from None
        except ValueError as exc:
            raise ImproperlyConfigured(f"FCM_CREDENTIALS={path!r}: not JSON: {exc}") from None
        missing = [k for k in ("project_id", "client_email", "private_key", "token_uri") if not raw.get(k)]
        if missing:
            raise ImproperlyConfigured(
                f"FCM_CREDENTIALS={path!r}: a service account key needs {', '.join(missing)} "
                "(Firebase console → Project settings → Service accounts → Generate new private key)"
            )
        return cls(raw["project_id"], raw["client_email"], raw["private_key"], raw["token_uri"])


_tokens: dict[str, tuple[str, float]] = {}
_lock = threading.Lock()


class FcmSender:
    name = Provider.FCM.value

    def __init__(self, *, account: ServiceAccount, api_url: str, timeout: float = 10) -> None:
        self.account = account
        self.endpoint = f"{api_url.rstrip('/')}/v1/projects/{urllib.parse.quote(account.project_id)}/messages:send"
        self.timeout = timeout

    def send(
        self,
        *,
        recipient: str,
        subject: str,
        body: str,
        attachment: Attachment | None = None,
        data: dict[str, str] | None = None,
    ) -> str:
        if attachment is not None:
            raise PermanentFailure("к push-уведомлению нельзя приложить файл")
        message: dict[str, Any] = {
            "token": recipient,
            "notification": {"title": subject, "body": body},
            "android": {"priority": "high"},
            "apns": {"payload": {"aps": {"sound": "default"}}},
        }
        if data:
            message["data"] = {str(k): str(v) for k, v in data.items()}
        status, answer = self._post(json.dumps({"message": message}, ensure_ascii=False).encode("utf-8"))
        if status == 200:
            name = answer.get("name") if isinstance(answer, dict) else None
            if not isinstance(name, str) or not name:
                raise TemporaryFailure(f"FCM не вернул имя сообщения: {json.dumps(answer)[:200]}")
            return name
        raise self._refusal(status, answer)

    # --- the access token ---------------------------------------------------------------

    def access_token(self) -> str:
        """A valid OAuth token for the account, fetched when there is none or it is expiring."""
        key = f"{self.account.token_uri}|{self.account.client_email}"
        with _lock:
            kept = _tokens.get(key)
            if kept and kept[1] - TOKEN_MARGIN > time.time():
                return kept[0]
        token, expires_in = self._token_fetch()
        with _lock:
            _tokens[key] = (token, time.time() + expires_in)
        return token

    def access_token_drop(self) -> None:
        with _lock:
            _tokens.pop(f"{self.account.token_uri}|{self.account.client_email}", None)

    def _token_fetch(self) -> tuple[str, float]:
        now = int(time.time())
        try:
            assertion = jwt.encode(
                {"iss": self.account.client_email, "scope": SCOPE, "aud": self.account.token_uri,
                 "iat": now, "exp": now + 3600},
                self.account.private_key,
                algorithm="RS256",
            )  # fmt: skip
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise TemporaryFailure(f"ключ сервисного аккаунта FCM не подходит для подписи: {exc}") from None
        form = urllib.parse.urlencode(
            {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}
        ).encode("ascii")
        request = urllib.request.Request(
            self.account.token_uri,
            data=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        status, answer = self._open(request, what="сервер токенов Google")
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if status != 200 or not isinstance(token, str) or not token:
            raise TemporaryFailure(
                f"сервер токенов Google не выдал токен (HTTP {status}): {json.dumps(answer, ensure_ascii=False)[:200]}"
            )
        expires_in = answer.get("expires_in", 3600)
        return token, float(expires_in) if isinstance(expires_in, int | float) else 3600.0

    # --- HTTP ---------------------------------------------------------------------------

    def _post(self, payload: bytes) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.endpoint,
            data=payload,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Authorization": f"Bearer {self.access_token()}",
            },
            method="POST",
        )
        return self._open(request, what="FCM")

    def _open(self, request: urllib.request.Request, *, what: str) -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise TemporaryFailure(f"{what} не ответил за {self.timeout} с") from None
            raise TemporaryFailure(f"нет связи с {what} ({request.full_url}): {exc.reason}") from None
        except TimeoutError:
            raise TemporaryFailure(f"{what} не ответил за {self.timeout} с") from None
        except OSError as exc:
            raise TemporaryFailure(f"связь с {what} прервалась: {exc}") from None
        try:
            answer = json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            if status == 200:
                raise TemporaryFailure(f"{what} ответил не JSON: {raw[:200]!r}") from None
            answer = {"raw": raw[:200].decode("utf-8", "replace")}
        return status, answer

    def _refusal(self, status: int, answer: Any) -> TemporaryFailure | PermanentFailure:
        error = answer.get("error") if isinstance(answer, dict) else None
        error = error if isinstance(error, dict) else {}
        codes = [
            d.get("errorCode")
            for d in error.get("details") or []
            if isinstance(d, dict) and isinstance(d.get("errorCode"), str)
        ]
        code = codes[0] if codes else str(error.get("status") or "")
        text = f"FCM отклонил сообщение: HTTP {status} {code} {error.get('message') or ''}".strip()
        if code in GONE:
            return RecipientGone(text)
        if code in REFUSED:
            return PermanentFailure(text)
        if status == 401 and code != "THIRD_PARTY_AUTH_ERROR":
            self.access_token_drop()
        return TemporaryFailure(text)
