"""The little HTTP an OpenID client needs, with the standard library only: GET a JSON
document, POST a form or JSON and read a JSON answer. Timeouts always; answers larger than
1 MB refused; only http(s) addresses (urllib would also open file:// and ftp://), and no
redirects followed."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from abonent.identity.oidc.errors import ProviderUnavailable

MAX_BODY = 1024 * 1024
USER_AGENT = "abonent-oidc/1"


@dataclass(frozen=True)
class Response:
    status: int
    body: Any  # the decoded JSON, or None when the answer was not JSON
    content_type: str


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects are not followed: a provider's endpoints answer themselves."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _opener(ca_file: str) -> urllib.request.OpenerDirector:
    context = ssl.create_default_context(cafile=ca_file or None)
    return urllib.request.build_opener(_NoRedirects(), urllib.request.HTTPSHandler(context=context))


def request(
    method: str,
    url: str,
    *,
    form: dict[str, str] | None = None,
    json_body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float,
    ca_file: str = "",
) -> Response:
    """Send a request and read the answer.

    A 4xx answer is returned (the caller reads the OAuth error in it); no answer, a 5xx,
    or an answer too large raise ProviderUnavailable.
    """
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("https", "http"):
        raise ProviderUnavailable(f"not an http(s) address: {url!r}")
    data: bytes | None = None
    all_headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
    if form is not None:
        data = urllib.parse.urlencode(form).encode("ascii")
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif json_body is not None:
        data = json.dumps(json_body).encode("utf-8")
        all_headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=all_headers, method=method)
    try:
        with _opener(ca_file).open(req, timeout=timeout) as answer:
            status, content_type, raw = answer.status, answer.headers.get("Content-Type", ""), answer.read(MAX_BODY + 1)
    except urllib.error.HTTPError as exc:
        status, content_type = exc.code, exc.headers.get("Content-Type", "") if exc.headers else ""
        raw = exc.read(MAX_BODY + 1) if exc.fp is not None else b""
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ProviderUnavailable(f"{method} {url}: {exc}") from None
    if len(raw) > MAX_BODY:
        raise ProviderUnavailable(f"{method} {url}: answer larger than {MAX_BODY} bytes")
    if status >= 500 or 300 <= status < 400:
        raise ProviderUnavailable(f"{method} {url}: HTTP {status}")
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    return Response(status=status, body=body, content_type=content_type)


def get_json(url: str, *, timeout: float, headers: dict[str, str] | None = None, ca_file: str = "") -> dict[str, Any]:
    """A JSON object from ``url``; anything else (an error status, not an object) raises
    ProviderUnavailable."""
    answer = request("GET", url, headers=headers, timeout=timeout, ca_file=ca_file)
    if answer.status != 200 or not isinstance(answer.body, dict):
        raise ProviderUnavailable(f"GET {url}: HTTP {answer.status}, not a JSON object")
    return answer.body
