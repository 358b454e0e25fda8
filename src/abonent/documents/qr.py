"""The payment QR code of ГОСТ Р 56042-2014: build, parse and check its payload, and draw it.

The payload is ``ST0001`` + the encoding (``2``: UTF-8) + a separator, then ``Key=Value``
pairs joined by that separator: first the mandatory block (``Name``, ``PersonalAcc``,
``BankName``, ``BIC``, ``CorrespAcc``; at most 300 bytes), then any additional fields. The
separator is ``|`` unless a value contains it; then the first of the standard's other
candidates that no value contains.

Values are one line: line breaks become spaces. Free-text additional fields (the payer's
name and address, ...) have no length in the standard; a long one is cut to
``FREE_TEXT_MAX`` characters with «…», so the code stays readable when printed (the bank
shows them for information; the payment is routed by the account and the bank details).
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import zxingcpp

HEADER = "ST0001"
ENCODINGS = {"1": "cp1251", "2": "utf-8", "3": "koi8-r"}
SEPARATORS = "|#;:^_~{}!$%&()*+,/@"
MANDATORY = ("Name", "PersonalAcc", "BankName", "BIC", "CorrespAcc")
MANDATORY_MAX_BYTES = 300
FREE_TEXT_MAX = 160
TECH_CODE_UTILITIES = "02"  # «Коммунальные услуги (ЖКХ)»

_ACCOUNT = r"[1-9]\d{4}[0-9ABCEHKMPTX]\d{14}"
# Field: (pattern of the whole value or None, the longest value in characters or None)
FIELDS: dict[str, tuple[str | None, int | None]] = {
    "Name": (None, 160),
    "PersonalAcc": (_ACCOUNT, 20),
    "BankName": (None, 45),
    "BIC": (r"\d{9}", 9),
    "CorrespAcc": (r"0|" + _ACCOUNT, 20),
    "Sum": (r"\d{1,18}", 18),
    "Purpose": (None, 160),
    "PayeeINN": (r"\d{10}|\d{12}|0", 12),
    "PayerINN": (r"\d{10}|\d{12}|0", 12),
    "DrawerStatus": (None, 2),
    "KPP": (r"\d{4}[0-9A-Z]{2}\d{3}|0", 9),
    "CBC": (None, 20),
    "OKTMO": (None, 11),
    "PaytReason": (None, 2),
    "TaxPeriod": (None, 10),
    "DocNo": (None, 15),
    "DocDate": (r"\d{2}\.\d{2}\.\d{4}", 10),
    "TaxPaytKind": (None, 2),
    "LastName": (None, None),
    "FirstName": (None, None),
    "MiddleName": (None, None),
    "PayerAddress": (None, None),
    "PersonalAccount": (None, None),
    "DocIdx": (None, None),
    "PensAcc": (None, None),
    "Contract": (None, None),
    "PersAcc": (None, None),
    "Flat": (None, None),
    "Phone": (None, None),
    "PayerIdType": (None, None),
    "PayerIdNum": (None, None),
    "ChildFio": (None, None),
    "BirthDate": (None, None),
    "PaymTerm": (None, None),
    "PaymPeriod": (r"(0[1-9]|1[0-2])\d{4}", 6),
    "Category": (None, None),
    "ServiceName": (None, None),
    "CounterId": (None, None),
    "CounterVal": (None, None),
    "QuittId": (None, None),
    "QuittDate": (None, None),
    "InstNum": (None, None),
    "ClassNum": (None, None),
    "SpecFio": (None, None),
    "AddAmount": (r"\d{1,18}", 18),
    "RuleId": (None, None),
    "ExecId": (None, None),
    "RegType": (None, None),
    "UIN": (None, None),
    "TechCode": (r"0[1-9]|1[0-5]", 2),
}
_CANONICAL = {key.lower(): key for key in FIELDS}
_PATTERNS = {key: re.compile(pattern) for key, (pattern, _limit) in FIELDS.items() if pattern}
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\u2028\u2029]+")


class QrPayloadInvalid(ValueError):
    """A payload that breaks the standard: ``problems`` says what, one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class PaymentOrder:
    """A parsed payload: the fields by their standard spelling, in the order they came."""

    fields: dict[str, str]
    separator: str
    encoding: str

    def __getitem__(self, key: str) -> str:
        return self.fields[key]

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.fields.get(key, default)


def _clean(key: str, value: str) -> str:
    value = _LINE_BREAKS.sub(" ", value).strip()
    if FIELDS[key][1] is None and len(value) > FREE_TEXT_MAX:
        value = value[: FREE_TEXT_MAX - 1].rstrip() + "…"
    return value


def _problems(fields: Mapping[str, str]) -> list[str]:
    problems = []
    for key in MANDATORY:
        if not fields.get(key):
            problems.append(f"нет обязательного поля {key}")
    for key, value in fields.items():
        pattern = _PATTERNS.get(key)
        limit = FIELDS[key][1]
        if limit is not None and len(value) > limit:
            problems.append(f"{key}: длиннее {limit} символов")
        elif pattern is not None and value and not pattern.fullmatch(value):
            problems.append(f"{key}: значение «{value}» не по формату")
    return problems


def qr_payload_build(fields: Iterable[tuple[str, str | None]]) -> str:
    """The payload of ``fields`` (standard keys; empty and None values left out), the
    mandatory block first in the standard's order, then the rest in the order given.

    Raises QrPayloadInvalid: an unknown or repeated key, a mandatory field missing, a value
    too long or not in its format, a mandatory block over 300 bytes, no separator left.
    """
    given: dict[str, str] = {}
    problems: list[str] = []
    for key, raw in fields:
        if key not in FIELDS:
            problems.append(f"неизвестное поле {key}")
            continue
        if key in given:
            problems.append(f"поле {key} дважды")
            continue
        value = _clean(key, raw or "")
        if value:
            given[key] = value
    problems += _problems(given)
    if problems:
        raise QrPayloadInvalid(problems)
    ordered = [(key, given[key]) for key in MANDATORY] + [(k, v) for k, v in given.items() if k not in MANDATORY]
    separator = next((s for s in SEPARATORS if not any(s in value for _key, value in ordered)), None)
    if separator is None:
        raise QrPayloadInvalid(["значения содержат все допустимые разделители"])
    mandatory = separator.join(f"{key}={value}" for key, value in ordered[: len(MANDATORY)])
    if len(mandatory.encode()) > MANDATORY_MAX_BYTES:
        raise QrPayloadInvalid([f"обязательный блок длиннее {MANDATORY_MAX_BYTES} байт"])
    return HEADER + "2" + separator + separator.join(f"{key}={value}" for key, value in ordered)


def qr_payload_parse(payload: str | bytes, *, strict: bool = True) -> PaymentOrder:
    """Read a payload (text, or the bytes a scanner gives, decoded by its header).

    Keys are matched regardless of case (some bills write ``lastName``). ``strict`` also
    checks what the builder checks (formats, lengths, the mandatory block in order and
    within 300 bytes); without it only the header and the ``Key=Value`` structure are
    required, and unknown keys are kept as they are.

    Raises QrPayloadInvalid.
    """
    if isinstance(payload, bytes):
        if len(payload) < 8 or payload[:6].decode("ascii", "replace") != HEADER:
            raise QrPayloadInvalid(["нет заголовка ST0001"])
        encoding = ENCODINGS.get(chr(payload[6]))
        if encoding is None:
            raise QrPayloadInvalid([f"неизвестная кодировка «{chr(payload[6])}»: ожидается 1, 2 или 3"])
        try:
            payload = payload.decode(encoding)
        except UnicodeDecodeError:
            raise QrPayloadInvalid([f"текст не в кодировке {encoding}"]) from None
    if len(payload) < 8 or not payload.startswith(HEADER):
        raise QrPayloadInvalid(["нет заголовка ST0001"])
    code, separator = payload[6], payload[7]
    if code not in ENCODINGS:
        raise QrPayloadInvalid([f"неизвестная кодировка «{code}»: ожидается 1, 2 или 3"])
    if separator not in SEPARATORS:
        raise QrPayloadInvalid([f"недопустимый разделитель «{separator}»"])
    fields: dict[str, str] = {}
    problems: list[str] = []
    order: list[str] = []
    body = payload[8:].rstrip(separator)  # some generators end with a separator
    for number, part in enumerate(body.split(separator) if body else [], start=1):
        key, equals, value = part.partition("=")
        if not equals or not key:
            problems.append(f"часть {number} «{part[:40]}» не вида Поле=Значение")
            continue
        canonical = _CANONICAL.get(key.strip().lower())
        if canonical is None:
            if strict:
                problems.append(f"неизвестное поле {key}")
                continue
            canonical = key.strip()
        if canonical in fields:
            problems.append(f"поле {canonical} дважды")
            continue
        fields[canonical] = value
        order.append(canonical)
    if strict and not problems:
        problems += _problems(fields)
        if not problems:
            if tuple(order[: len(MANDATORY)]) != MANDATORY:
                problems.append("обязательные поля не в начале или не по порядку: " + ", ".join(MANDATORY))
            else:
                block = separator.join(f"{key}={fields[key]}" for key in MANDATORY)
                if len(block.encode()) > MANDATORY_MAX_BYTES:
                    problems.append(f"обязательный блок длиннее {MANDATORY_MAX_BYTES} байт")
    elif not strict:
        problems += [f"нет обязательного поля {key}" for key in MANDATORY if key not in fields]
    if problems:
        raise QrPayloadInvalid(problems)
    return PaymentOrder(fields=fields, separator=separator, encoding=ENCODINGS[code])


_SCALE = 4  # pixels a module
_ROW_BITS = str.maketrans({"\x00": "0" * _SCALE, "\xff": "1" * _SCALE})  # dark → black bits, light → white


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def qr_png(payload: str) -> bytes:
    """The QR code of ``payload`` as a black-and-white PNG, four pixels a module (so a viewer
    that smooths images when it scales them still shows sharp modules): error correction M
    (a printed bill gets creased and smudged), the text as UTF-8 bytes in byte mode with no
    ECI marker, as the header ``ST00012`` announces and bank apps read it, and the quiet zone
    of four modules."""
    code = zxingcpp.create_barcode(payload.encode(), zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = code.to_image(scale=1, add_quiet_zones=True)
    size = image.shape[1]
    pixels = bytes(memoryview(image)).decode("latin-1")  # type: ignore[arg-type]  # a module a byte: 0 dark, 255 light
    width = size * _SCALE
    row_bytes = (width + 7) // 8
    padding = row_bytes * 8 - width
    rows = []
    for y in range(size):
        bits = int(pixels[y * size : (y + 1) * size].translate(_ROW_BITS), 2) << padding
        rows.append((b"\x00" + bits.to_bytes(row_bytes, "big")) * _SCALE)  # filter byte 0, the row four times
    header = struct.pack(">IIBBBBB", width, width, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + _png_chunk(b"IEND", b"")
    )
