"""Files people upload: the type told by the content, never by the name, and a name safe to
store and to send back.

A file is accepted when its first bytes carry the signature of an allowed type *and* it
opens as that type: a picture is decoded by Pillow (its header and size; a "decompression
bomb" of more than :data:`MAX_IMAGE_PIXELS` is refused), a PDF is parsed by pikepdf. A
program renamed ``photo.jpg`` or a PDF with a broken body is refused with a message that
says what is accepted.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from dataclasses import dataclass
from typing import IO

import pikepdf
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

#: Pictures larger than this (50 megapixels: a 12 MP phone photo is far below) are refused.
MAX_IMAGE_PIXELS = 50_000_000
#: The longest file name kept (the extension included).
NAME_LIMIT = 100


@dataclass(frozen=True)
class FileType:
    mime: str
    extension: str
    label: str


JPEG = FileType("image/jpeg", "jpg", "JPEG")
PNG = FileType("image/png", "png", "PNG")
WEBP = FileType("image/webp", "webp", "WebP")
PDF = FileType("application/pdf", "pdf", "PDF")
#: What can be uploaded as a photo or a scan of a document.
DOCUMENT_TYPES: tuple[FileType, ...] = (JPEG, PNG, WEBP, PDF)


class FileRejected(Exception):
    """The file is not of an allowed type, or is damaged; ``message`` says which, for people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _signature(head: bytes) -> FileType | None:
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    # A PDF may have a few bytes of junk before its header; readers look within the first 1 KiB.
    if b"%PDF-" in head[:1024]:
        return PDF
    return None


def _accepted(allowed: tuple[FileType, ...]) -> str:
    labels = [kind.label for kind in allowed]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + str(_(" или ")) + labels[-1]


def file_type_detect(file: IO[bytes], *, allowed: tuple[FileType, ...] = DOCUMENT_TYPES) -> FileType:
    """The type of ``file`` read from its content, checked by opening it. The file is read
    from its start and left at its start.

    Raises FileRejected with a message for people.
    """
    file.seek(0)
    head = file.read(1024)
    file.seek(0)
    kind = _signature(head)
    if kind is None or kind not in allowed:
        raise FileRejected(
            str(_("такой тип файла не принимается, загрузите {accepted}")).format(accepted=_accepted(allowed))
        )
    try:
        if kind is PDF:
            with pikepdf.open(file) as pdf:  # type: ignore[arg-type]
                if len(pdf.pages) == 0:
                    raise FileRejected(str(_("в PDF нет ни одной страницы")))
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(file) as image:
                    width, height = image.size
                    if width * height > MAX_IMAGE_PIXELS:
                        raise FileRejected(str(_("изображение слишком большое, уменьшите его до 50 мегапикселей")))
                    image.verify()
                if kind is JPEG:
                    # verify() does not read a JPEG's image data, so a file cut short passes it:
                    # decode it, at 1/8 of its size (cheap, yet every byte is read).
                    file.seek(0)
                    with Image.open(file) as image:
                        image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
                        image.load()
    except pikepdf.PasswordError:
        raise FileRejected(str(_("PDF защищён паролем, загрузите файл без пароля"))) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Far past the limit, Pillow refuses the picture itself: what to do is the same.
        raise FileRejected(str(_("изображение слишком большое, уменьшите его до 50 мегапикселей"))) from None
    except (pikepdf.PdfError, UnidentifiedImageError):
        raise FileRejected(str(_("файл повреждён или не открывается"))) from None
    except (OSError, SyntaxError, ValueError):  # Pillow's verify() reports a broken body so
        raise FileRejected(str(_("файл повреждён или не открывается"))) from None
    finally:
        file.seek(0)
    return kind


#: Control characters (C0 and C1), the reserved ones of Windows, and the invisible marks that
#: turn text around or hide in it ("фото\u202egpj.exe" shows as "фотоexe.jpg").
_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f<>:"/\\|?*\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]+')
_SPACES = re.compile(r"\s+")


def filename_clean(name: str, *, kind: FileType | None) -> str:
    """A name to show and to send back in Content-Disposition: the last part of any path,
    no control or reserved characters, no leading dots, at most :data:`NAME_LIMIT`
    characters, and the extension of the type the content has (``kind`` None: the name as
    it is, cleaned, for a message about a file that was refused)."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _SPACES.sub(" ", _UNSAFE.sub("_", name)).strip(" ._")
    if kind is None:
        return name[:NAME_LIMIT] or "file"
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = stem.strip(" ._") or "file"
    suffix = f".{kind.extension}"
    return stem[: NAME_LIMIT - len(suffix)].rstrip(" ._") + suffix
