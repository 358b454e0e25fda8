"""Text files people and partner systems send: which encoding they are in."""

from __future__ import annotations

import codecs


class NotText(ValueError):
    """The bytes are not text in any encoding these files come in (e.g. an Excel workbook)."""


def text_decode(content: bytes, *, encodings: tuple[str, ...] = ("utf-8-sig", "cp1251")) -> str:
    """UTF-16 with a BOM (Excel's «Юникод-текст»), else the first of ``encodings`` that
    decodes the bytes (UTF-8 with or without a BOM, then Windows-1251). Windows-1251 decodes
    almost any bytes, so it goes last. Raises NotText, also for bytes with NUL in them."""
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in content:
        for encoding in encodings:
            try:
                return content.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise NotText()
