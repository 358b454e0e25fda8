"""What the portal's tests of appeals share: small real files (pictures drawn by Pillow, PDFs
written by pikepdf) and the bad ones, uploads as a browser sends them, an operator, cases
made through the domain services, and the check that a refused request left nothing behind
(no case, message, file, history or delivery)."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from html import unescape
from pathlib import Path
from typing import Any

import pikepdf
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from PIL import Image

from abonent.appeals import services
from abonent.appeals.models import Appeal, Attachment, ConnectionDetails, Event, Message
from abonent.core.models import Supplier
from abonent.customers.models import PersonalAccount
from abonent.identity.models import User
from abonent.notifications.models import Delivery, OutboxMessage
from tests.web.identity import NOW, user_make

OPERATOR_PHONE = "+79990000001"


# --- Files -----------------------------------------------------------------------------------


def jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, "JPEG", quality=85)
    return out.getvalue()


def photo_jpeg() -> bytes:
    """A photo with detail in it (noise does not compress), so cutting it short cuts its image data."""
    out = io.BytesIO()
    Image.effect_noise((320, 240), 64).convert("RGB").save(out, "JPEG", quality=95)
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(out, "PNG")
    return out.getvalue()


def pdf(*, user_password: str = "") -> bytes:
    out = io.BytesIO()
    with pikepdf.new() as document:
        document.add_blank_page(page_size=(595, 842))
        if user_password:
            document.save(out, encryption=pikepdf.Encryption(owner="owner", user=user_password))
        else:
            document.save(out)
    return out.getvalue()


#: A Windows program's first bytes.
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run."
#: A PDF header over nothing a reader can open.
BROKEN_PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nthis is not a PDF body\n"


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def big_jpeg(megabytes: int = 11) -> SimpleUploadedFile:
    """A JPEG's first bytes followed by ``megabytes`` MB of padding: over the size limit."""
    return upload("big.jpg", jpeg() + b"\x00" * (megabytes * 1024 * 1024), "image/jpeg")


# --- People and cases ------------------------------------------------------------------------


def operator_make() -> User:
    return user_make(phone=OPERATOR_PHONE, is_staff=True, first_name="Ольга")


def appeal_make(
    user: User,
    *,
    account: PersonalAccount | None = None,
    supplier: Supplier | None = None,
    category: str = "charge",
    text: str = "Почему в октябре начислено больше обычного?",
    files: Sequence[tuple[str, bytes]] = (),
    now: dt.datetime = NOW,
) -> Appeal:
    return services.appeal_create(
        user=user,
        category=category,
        text=text,
        account_id=account.pk if account else None,
        supplier_id=supplier.pk if supplier else None,
        files=[services.NewFile(name, io.BytesIO(data), len(data)) for name, data in files],
        channel="web",
        now=now,
    )


def operator_act(appeal: Appeal, action: str, text: str = "", *, at: dt.datetime | None = None) -> Appeal:
    operator = User.objects.filter(phone=OPERATOR_PHONE).first() or operator_make()
    return services.appeal_operator_act(
        operator=operator, appeal_id=appeal.pk, action=action, text=text, now=at or NOW + dt.timedelta(hours=2)
    )


# --- What a page says ------------------------------------------------------------------------


def text(response: HttpResponse) -> str:
    """The page's main content as a reader sees it: no tags, one space between words."""
    html = response.content.decode()
    main = html[html.index('<main id="main"') : html.index("</main>")]
    main = main.replace("</dt>", ":</dt>")
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", main))).strip()


def field_error(response: HttpResponse, name: str) -> str:
    """The errors shown next to the input ``name`` (its id is id_<name>), as they are seen
    (without the «Ошибка:» for screen readers), several joined by « | »."""
    html = response.content.decode()
    match = re.search(rf'<p class="field__error" id="id_{name}_error">(.*?)</p>', html, re.S)
    assert match is not None, f"no error next to {name}"
    shown = re.sub(r'<span class="visually-hidden">.*?</span>', "", match.group(1)).replace("<br>", " | ")
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", shown))).strip()


def input_tag(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert match is not None, name
    return match.group(0)


# --- Nothing left behind ----------------------------------------------------------------------


def counts() -> dict[str, int]:
    return {
        "appeals": Appeal.objects.count(),
        "messages": Message.objects.count(),
        "attachments": Attachment.objects.count(),
        "events": Event.objects.count(),
        "connections": ConnectionDetails.objects.count(),
        "deliveries": Delivery.objects.count(),
        "outbox": OutboxMessage.objects.count(),
    }


def stored_files(media: Path) -> list[str]:
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()) if media.exists() else []


def snapshot(media: Path) -> dict[str, Any]:
    """Everything a refused request must leave as it was: the rows and the stored files."""
    return {**counts(), "files": stored_files(media)}


def nothing_written(media: Path, before: dict[str, Any] | None = None) -> None:
    """Nothing changed since ``before``; without it, nothing at all was written."""
    if before is None:
        before = {**dict.fromkeys(counts(), 0), "files": []}
    assert snapshot(media) == before
