"""Bills' PDFs from their content: Typst with its bundled fonts, the QR code as a PNG.

Bills are typeset in batches, one page each, in one Typst document (fonts are subset and
written once for the batch, and Typst lays the pages out in parallel), then the document is
cut into one PDF a bill. A batch whose page count is not its bill count (a bill ran over a
page) is typeset again bill by bill. Each thread keeps a warm compiler (loading Typst's fonts
costs about 100 ms) in a directory of its own, where the batch's QR codes are written.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import tempfile
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path

import pikepdf
import typst

from abonent.documents.content import BillContent
from abonent.documents.qr import qr_png

TEMPLATE = Path(__file__).parent / "typst" / "bill.typ"
# The PDF's creation date is fixed: the same content in the same batch makes the same bytes.
CREATED = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

_local = threading.local()


class _Typesetter:
    """A warm compiler and its directory (the template and the batch's QR codes)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="bills-"))
        weakref.finalize(self, shutil.rmtree, self.root, ignore_errors=True)
        shutil.copyfile(TEMPLATE, self.root / "bill.typ")
        self.compiler = typst.Compiler(str(self.root / "bill.typ"), root=str(self.root), ignore_system_fonts=True)

    def compile(self, contents: Sequence[BillContent], *, title: str, tags: bool) -> bytes:
        items = []
        for i, content in enumerate(contents):
            name = f"qr-{i}.png"
            (self.root / name).write_bytes(qr_png(content.qr_payload))
            items.append({"d": content.data, "qr": name})
        pdf = self.compiler.compile(
            format="pdf",
            sys_inputs={"data": json.dumps(items, ensure_ascii=False), "title": title},
            timestamp=CREATED,
            pdf_tags=tags,
        )
        assert isinstance(pdf, bytes)
        return pdf


def _typesetter() -> _Typesetter:
    typesetter: _Typesetter | None = getattr(_local, "typesetter", None)
    if typesetter is None:
        typesetter = _local.typesetter = _Typesetter()
    return typesetter


def _title(content: BillContent) -> str:
    return f"Квитанция за газ, {content.data['period']}, л/с {content.data['payer']['number']}"


def bill_pdf(content: BillContent) -> bytes:
    """One bill as an A4 PDF (one page; more only for very long tables), tagged for
    screen readers."""
    return _typesetter().compile([content], title=_title(content), tags=True)


def bills_pdf(contents: Sequence[BillContent]) -> list[bytes]:
    """The PDF of each of ``contents``, in order (see the module's note)."""
    if len(contents) <= 1:
        return [bill_pdf(content) for content in contents]
    document = _typesetter().compile(contents, title="Квитанции за газ", tags=False)
    with pikepdf.open(io.BytesIO(document)) as source:
        if len(source.pages) != len(contents):
            return [bill_pdf(content) for content in contents]
        result = []
        for page, content in zip(source.pages, contents, strict=True):
            single = pikepdf.new()
            single.pages.append(page)
            single.docinfo["/Title"] = _title(content)
            single.docinfo["/Producer"] = source.docinfo.get("/Producer", "")
            out = io.BytesIO()
            single.save(out, deterministic_id=True)
            result.append(out.getvalue())
    return result
