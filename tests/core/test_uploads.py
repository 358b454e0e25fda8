"""Uploaded files: the type read from the content and checked by opening the file, each
refusal with what to do, and the name kept safe."""

from __future__ import annotations

import io

import pytest

from abonent.core.uploads import JPEG, PDF, PNG, WEBP, FileRejected, FileType, file_type_detect, filename_clean
from tests.core import files

ACCEPTED = "такой тип файла не принимается, загрузите JPEG, PNG, WebP или PDF"
DAMAGED = "файл повреждён или не открывается"
TOO_LARGE = "изображение слишком большое, уменьшите его до 50 мегапикселей"


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        pytest.param(files.jpeg, JPEG, id="JPEG"),
        pytest.param(files.photo_jpeg, JPEG, id="JPEG photo"),
        pytest.param(files.png, PNG, id="PNG"),
        pytest.param(files.webp, WEBP, id="WebP"),
        pytest.param(files.pdf, PDF, id="PDF"),
        pytest.param(lambda: files.pdf(3), PDF, id="PDF of 3 pages"),
        pytest.param(lambda: b"\r\n%junk\r\n" + files.pdf(), PDF, id="PDF with bytes before its header"),
        pytest.param(lambda: files.pdf(owner="owner-only"), PDF, id="PDF locked against editing only"),
        pytest.param(lambda: files.png_huge(100, 50), PNG, id="PNG in black and white"),
        pytest.param(lambda: files.png_huge(10_000, 5_000), PNG, id="50 megapixels exactly"),
    ],
)
def test_an_accepted_file(content: object, kind: FileType) -> None:
    stream = io.BytesIO(content())  # type: ignore[operator]
    stream.seek(5)

    assert file_type_detect(stream) == kind
    assert stream.tell() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(lambda: files.EXE, ACCEPTED, id="a program"),
        pytest.param(lambda: files.HTML, ACCEPTED, id="a web page"),
        pytest.param(lambda: b"", ACCEPTED, id="empty"),
        pytest.param(lambda: b"GIF89a" + b"\0" * 100, ACCEPTED, id="a GIF"),
        pytest.param(lambda: b"PK\x03\x04" + b"\0" * 100, ACCEPTED, id="a zip"),
        pytest.param(lambda: b"x" * 1024 + files.pdf(), ACCEPTED, id="a PDF header past the first KiB"),
        pytest.param(files.jpeg_truncated, DAMAGED, id="a JPEG cut short"),
        pytest.param(lambda: files.photo_jpeg()[:-10], DAMAGED, id="a JPEG without its last bytes"),
        pytest.param(lambda: b"\xff\xd8\xff" + b"x" * 100, DAMAGED, id="a JPEG signature and garbage"),
        pytest.param(lambda: files.png()[: len(files.png()) // 2], DAMAGED, id="a PNG cut short"),
        pytest.param(lambda: files.webp()[:40], DAMAGED, id="a WebP cut short"),
        pytest.param(files.pdf_broken, DAMAGED, id="a PDF with a broken body"),
        pytest.param(lambda: b"%PDF-1.7\n", DAMAGED, id="a PDF header alone"),
        pytest.param(lambda: files.pdf(0), "в PDF нет ни одной страницы", id="a PDF without pages"),
        pytest.param(
            lambda: files.pdf(owner="o", user="1234"),
            "PDF защищён паролем, загрузите файл без пароля",
            id="a PDF with a password",
        ),
        pytest.param(lambda: files.png_huge(10_000, 5_001), TOO_LARGE, id="50 megapixels and a row"),
        pytest.param(lambda: files.png_huge(8000, 8000), TOO_LARGE, id="64 megapixels"),
        pytest.param(lambda: files.png_huge(20_000, 20_000), TOO_LARGE, id="a decompression bomb"),
    ],
)
def test_a_refused_file(content: object, message: str) -> None:
    stream = io.BytesIO(content())  # type: ignore[operator]

    with pytest.raises(FileRejected) as refused:
        file_type_detect(stream)

    assert refused.value.message == message
    assert stream.tell() == 0


def test_the_bomb_is_a_few_kilobytes() -> None:
    assert len(files.png_huge(20_000, 20_000)) < 64 * 1024


@pytest.mark.parametrize(
    ("allowed", "message"),
    [
        ((PDF,), "такой тип файла не принимается, загрузите PDF"),
        ((JPEG, PDF), "такой тип файла не принимается, загрузите JPEG или PDF"),
    ],
)
def test_the_refusal_names_what_is_allowed(allowed: tuple[FileType, ...], message: str) -> None:
    with pytest.raises(FileRejected) as refused:
        file_type_detect(io.BytesIO(files.png()), allowed=allowed)

    assert refused.value.message == message


@pytest.mark.parametrize(
    ("name", "kind", "clean"),
    [
        ("../../x.PNG", JPEG, "x.jpg"),
        ("C:\\Users\\Мария\\Скан паспорта.jpeg", JPEG, "Скан паспорта.jpg"),
        ("Договор № 15 от 01.02.2026.pdf", PDF, "Договор № 15 от 01.02.2026.pdf"),
        ("Ёлка и йод.png", PNG, "Ёлка и йод.png"),
        ('a<b>c:d"e|f?g*h.pdf', PDF, "a_b_c_d_e_f_g_h.pdf"),
        ("a\x00b\nc\td\x7f.png", PNG, "a_b_c_d.png"),
        ("a\x9bb\x85c.png", PNG, "a_b_c.png"),  # C1 control characters
        ("фото\u202egpj.exe", JPEG, "фото_gpj.jpg"),  # a right-to-left override hiding ".exe"
        ("zero\u200bwidth.png", PNG, "zero_width.png"),
        ("  пробелы   в   имени  .jpg", JPEG, "пробелы в имени.jpg"),
        ("Cafe\u0301.jpg", JPEG, "Café.jpg"),  # composed (NFC)
        (".htaccess", PDF, "htaccess.pdf"),
        ("photo.tar.gz", JPEG, "photo.tar.jpg"),
        ("IMG_2031.HEIC", WEBP, "IMG_2031.webp"),
        ("", JPEG, "file.jpg"),
        ("...", PDF, "file.pdf"),
        ("file.", PNG, "file.png"),
        ("/", PNG, "file.png"),
        ("x" * 150 + ".jpg", JPEG, "x" * 96 + ".jpg"),
        ("я" * 200 + ".pdf", PDF, "я" * 96 + ".pdf"),
        ("a" * 95 + " . . .b.jpg", JPEG, "a" * 95 + ".jpg"),  # no dots or spaces left before the extension
    ],
)
def test_filename_clean(name: str, kind: FileType, clean: str) -> None:
    assert filename_clean(name, kind=kind) == clean
    assert len(clean) <= 100


@pytest.mark.parametrize(
    ("name", "clean"),
    [
        ("../../x.PNG", "x.PNG"),
        ("setup.exe", "setup.exe"),
        ("", "file"),
        ("я" * 200, "я" * 100),
    ],
)
def test_filename_clean_of_a_refused_file_keeps_its_extension(name: str, clean: str) -> None:
    assert filename_clean(name, kind=None) == clean
