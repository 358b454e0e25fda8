"""What the appeals API tests share: small real files (a JPEG, a PNG, a PDF made by the
libraries that read them), a client that sends multipart forms with a bearer token, and a
snapshot of everything a refused request must not leave behind."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pikepdf
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from pytest_django import DjangoCaptureOnCommitCallbacks

from abonent.appeals.models import Appeal, Attachment, ConnectionDetails, Event, Message
from abonent.core.models import AuditRecord
from abonent.notifications.models import Delivery, OutboxMessage
from tests.api.conftest import IP

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response


def jpeg(color: str = "red", size: tuple[int, int] = (16, 12)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", quality=80)
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(out, "PNG")
    return out.getvalue()


def pdf(pages: int = 1) -> bytes:
    out = io.BytesIO()
    with pikepdf.new() as document:
        for _ in range(pages):
            document.add_blank_page(page_size=(595, 842))
        document.save(out)
    return out.getvalue()


# A Windows program's first bytes, named like a photo.
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 240
# A PDF header over nothing a reader can open.
BROKEN_PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nthis is not a PDF body\n"


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


class Forms:
    """multipart/form-data calls to /api/v1 with a bearer token, commit callbacks run."""

    def __init__(self, client: Client, capture: DjangoCaptureOnCommitCallbacks) -> None:
        self.client = client
        self.capture = capture

    def post(self, path: str, data: dict[str, Any], *, token: str | None = None, ip: str = IP) -> Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        with self.capture(execute=True):
            response: Response = self.client.post("/api/v1" + path, data, headers=headers, REMOTE_ADDR=ip)
        return response


def stored_files(media: Path) -> list[str]:
    """Every file under the media root, as paths relative to it."""
    if not media.exists():
        return []
    return sorted(str(path.relative_to(media)) for path in media.rglob("*") if path.is_file())


@dataclass(frozen=True)
class Traces:
    """What a request could have written: rows of the appeals, audit records, messages
    to people, stored files."""

    appeals: int
    details: int
    messages: int
    attachments: int
    events: int
    audit: int
    deliveries: int
    outbox: int
    files: tuple[str, ...]
    statuses: tuple[tuple[int, str], ...]


def traces(media: Path) -> Traces:
    return Traces(
        appeals=Appeal.objects.count(),
        details=ConnectionDetails.objects.count(),
        messages=Message.objects.count(),
        attachments=Attachment.objects.count(),
        events=Event.objects.count(),
        audit=AuditRecord.objects.count(),
        deliveries=Delivery.objects.count(),
        outbox=OutboxMessage.objects.count(),
        files=tuple(stored_files(media)),
        statuses=tuple(Appeal.objects.order_by("pk").values_list("pk", "status")),
    )
