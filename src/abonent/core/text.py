"""Text files people and partner systems send: which encoding they are in."""

from __future__ import annotations

import codecs

_PIECE = 1 << 20


class NotText(ValueError):
    """The bytes are not text in any encoding these files come in (e.g. an Excel workbook)."""


def text_encoding(content: bytes, *, encodings: tuple[str, ...] = ("utf-8-sig", "cp1251")) -> str:
    """The encoding ``content`` is in: UTF-16 with a BOM (Excel's «Юникод-текст»), else the
    first of ``encodings`` that decodes all of it (UTF-8 with or without a BOM, then
    Windows-1251, which decodes almost any bytes, so it goes last). Checked piece by piece,
    without making the whole text. Raises NotText, also for bytes with NUL in them."""
    candidates: tuple[str, ...] = encodings
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ("utf-16",)
    elif b"\x00" in content:
        raise NotText()
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for at in range(0, len(content), _PIECE):
                decoder.decode(content[at : at + _PIECE])
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise NotText()


def text_decode(content: bytes, *, encodings: tuple[str, ...] = ("utf-8-sig", "cp1251")) -> str:
    """``content`` as text, in the encoding ``text_encoding`` finds. Raises NotText."""
    return content.decode(text_encoding(content, encodings=encodings))
