"""SMS through the SMS.ru HTTP API (https://sms.ru/api/send).

One message to one number a request: ``POST {SMSRU_URL}/sms/send`` with the form fields
``api_id``, ``to`` (digits, 79161234567), ``msg`` (UTF-8), ``json=1`` and, when set, ``from``.
The answer::

    {"status": "OK", "status_code": 100, "balance": 4122.56,
     "sms": {"79161234567": {"status": "OK", "status_code": 100, "sms_id": "000000-10000000"}}}

or, for the whole request, ``{"status": "ERROR", "status_code": 200, "status_text": "…"}``;
a number may also fail alone (``"status": "ERROR"`` inside ``sms``).

Which codes are final (:data:`PERMANENT_CODES`) and which are worth a retry: a code is final
when the refusal is about this message — its number or its text — or about our request
itself, so the very same request is refused again on every try (202 wrong number or no
route, 203 no text, 205 too long, 207 the number may not receive messages, 209 and 215 stop
lists, 214 a foreign number, 216 a forbidden word; 208, 210–213 a request our adapter should
never build); and the per-number limits that do not lift within the retry schedule (~30 min)
or that forbid exactly a repeat (230 daily limit for the number, 232 the same text to the
number today, 233 too many codes in a short time). Every other code is temporary: it is
about the service (220 temporarily unavailable, 500 server error) or about our account and
configuration — 200/300/301 a wrong api_id, 201 no money, 204 sender name not approved, 206
the account's daily limit, 231 the per-minute limit, 501–508 sender IP limits — which go
away when the service recovers or an operator fixes the account, while the delivery is still
being retried; an unknown code is also retried, bounded by the attempts. Transport failures
(no connection, a timeout, HTTP 5xx or any other HTTP error, an answer that is not the JSON
above) are temporary too. A retry after a timeout may send the SMS twice: SMS.ru has no
idempotency key, and a duplicate code is better than none.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from abonent.notifications.enums import Provider
from abonent.notifications.providers.base import Attachment, PermanentFailure, TemporaryFailure

PERMANENT_CODES = frozenset({202, 203, 205, 207, 208, 209, 210, 211, 212, 213, 214, 215, 216, 230, 232, 233})

_NON_DIGITS = re.compile(r"\D")


class SmsRuSender:
    name = Provider.SMSRU.value

    def __init__(self, *, url: str, api_id: str, sender: str = "", timeout: float = 10) -> None:
        self.endpoint = url.rstrip("/") + "/sms/send"
        self.api_id = api_id
        self.sender = sender
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
            raise PermanentFailure("к SMS нельзя приложить файл")
        number = _NON_DIGITS.sub("", recipient)
        if not number:
            raise PermanentFailure(f"в номере {recipient!r} нет цифр")
        form = {"api_id": self.api_id, "to": number, "msg": body, "json": "1"}
        if self.sender:
            form["from"] = self.sender
        answer = self._post(form)
        return self._sms_id(answer, number)

    def _post(self, form: dict[str, str]) -> dict[str, Any]:
        request = urllib.request.Request(
            self.endpoint,
            data=urllib.parse.urlencode(form, encoding="utf-8").encode("ascii"),
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Accept": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise TemporaryFailure(f"SMS.ru ответил HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise self._timeout() from None
            raise TemporaryFailure(f"нет связи с SMS.ru ({self.endpoint}): {exc.reason}") from None
        except TimeoutError:
            raise self._timeout() from None
        except OSError as exc:  # the connection dropped while reading the answer
            raise TemporaryFailure(f"связь с SMS.ru прервалась: {exc}") from None
        try:
            answer = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise TemporaryFailure(f"SMS.ru ответил не JSON: {raw[:200]!r}") from None
        if not isinstance(answer, dict):
            raise TemporaryFailure(f"SMS.ru ответил не объектом JSON: {raw[:200]!r}")
        return answer

    def _timeout(self) -> TemporaryFailure:
        return TemporaryFailure(f"SMS.ru не ответил за {self.timeout} с")

    def _sms_id(self, answer: dict[str, Any], number: str) -> str:
        if answer.get("status") != "OK":
            raise _refusal(answer, "запрос")
        item = (answer.get("sms") or {}).get(number) if isinstance(answer.get("sms"), dict) else None
        if not isinstance(item, dict):
            raise TemporaryFailure(
                f"в ответе SMS.ru нет номера {number}: {json.dumps(answer, ensure_ascii=False)[:200]}"
            )
        if item.get("status") != "OK":
            raise _refusal(item, f"номер {number}")
        sms_id = item.get("sms_id")
        if not isinstance(sms_id, str) or not sms_id:
            raise TemporaryFailure(f"SMS.ru не вернул sms_id для номера {number}")
        return sms_id


def _refusal(part: dict[str, Any], what: str) -> TemporaryFailure | PermanentFailure:
    code = part.get("status_code")
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    text = f"SMS.ru отклонил {what}: {code} {part.get('status_text') or ''}".strip()
    if isinstance(code, int) and code in PERMANENT_CODES:
        return PermanentFailure(text)
    return TemporaryFailure(text)
