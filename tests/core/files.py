"""Files as people upload them, made for real: pictures drawn by Pillow, PDFs written by
pikepdf, and the bad ones (a program, a web page, a file cut short, a PDF with a password,
a picture that would unpack to gigabytes)."""

from __future__ import annotations

import io
import struct
import zlib

import pikepdf
from PIL import Image


def picture(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    """A small picture of ``fmt`` ("JPEG", "PNG", "WEBP") with some detail in it."""
    buffer = io.BytesIO()
    image = Image.new("RGB", size, (200, 120, 40))
    for x in range(0, size[0], 4):
        image.putpixel((x, x * size[1] // size[0]), (10, 20, 250))
    image.save(buffer, fmt)
    return buffer.getvalue()


def jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    return picture("JPEG", size)


def png(size: tuple[int, int] = (64, 48)) -> bytes:
    return picture("PNG", size)


def webp(size: tuple[int, int] = (64, 48)) -> bytes:
    return picture("WEBP", size)


def photo_jpeg() -> bytes:
    """A JPEG the size of a scan (noise does not compress: about 300 KB)."""
    buffer = io.BytesIO()
    Image.effect_noise((640, 480), 64).convert("RGB").save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def pdf(pages: int = 1, *, owner: str = "", user: str = "") -> bytes:
    """A PDF of blank pages; with a ``user`` password it does not open without it."""
    document = pikepdf.new()
    for _ in range(pages):
        document.add_blank_page()
    buffer = io.BytesIO()
    if owner or user:
        document.save(buffer, encryption=pikepdf.Encryption(owner=owner, user=user))
    else:
        document.save(buffer)
    return buffer.getvalue()


def pdf_broken() -> bytes:
    """A PDF header and trailer with garbage where its objects were."""
    good = pdf()
    return good[:15] + b"garbage " * 60 + good[-40:]


def jpeg_truncated() -> bytes:
    """A scan cut short in its image data (an upload that broke off): the header is whole."""
    data = photo_jpeg()
    return data[: len(data) // 2]


EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + b"This program cannot be run in DOS mode."
)
HTML = b"<!DOCTYPE html><html><head><title>x</title></head><body><script>alert(1)</script></body></html>"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_huge(width: int, height: int) -> bytes:
    """A valid black-and-white PNG of ``width`` × ``height`` pixels that is a few kilobytes
    on disk (rows of zeros compress about a thousand times): a decompression bomb."""
    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    parts = [packer.compress(row * 1000) for _ in range(height // 1000)]
    parts.append(packer.compress(row * (height % 1000)))
    parts.append(packer.flush())
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, grayscale
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")
