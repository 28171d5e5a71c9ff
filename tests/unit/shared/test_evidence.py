"""佐证材料 (shared/evidence.py): each accepted kind is recognised by its bytes (tiny real samples made here), and
every refusal names the file and says why, whatever the file is called."""
from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from docx import Document
from PIL import Image

from shared.errors import InvalidInput
from shared.evidence import (MAX_FILE_BYTES, MAX_FILES_PER_STEP, OLE_MAGIC, EvidenceRefused, check_count, clean_name,
                             is_image, sniff, thumbnail_png)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def image(kind: str, size=(64, 48), **options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, kind, **options)
    return buffer.getvalue()


def docx() -> bytes:
    document = Document()
    document.add_paragraph("整改报告")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def xlsx() -> bytes:
    book = openpyxl.Workbook()
    book.active["A1"] = "整改台账"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def package(*members: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member in members:
            archive.writestr(member, "<x/>")
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
OLE = OLE_MAGIC + b"\x00" * 504  # a compound file's header: .doc/.xls/.ppt, WPS .wps/.et/.dps
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


class TestAcceptedKinds:
    @pytest.mark.parametrize("kind, mime", [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"),
                                            ("WEBP", "image/webp"), ("BMP", "image/bmp"), ("TIFF", "image/tiff")])
    def test_an_image_is_known_by_its_bytes_whatever_its_name(self, kind, mime):
        assert sniff(image(kind), "扫描件.pdf") == mime
        assert is_image(mime)

    def test_a_pdf_is_a_pdf(self):
        assert sniff(PDF, "验收单") == "application/pdf"

    def test_a_word_document_and_a_workbook_are_told_by_the_folders_inside_the_zip(self):
        assert sniff(docx(), "报告.bin") == DOCX
        assert sniff(xlsx(), "台账.zip") == XLSX
        assert sniff(package("[Content_Types].xml", "ppt/presentation.xml"), "汇报.pptx") == PPTX

    def test_a_legacy_office_or_wps_file_is_a_compound_file(self):
        assert sniff(OLE, "通知.wps") in ("application/x-ole-storage", "application/msword",
                                        "application/vnd.ms-excel", "application/vnd.ms-powerpoint")

    def test_an_ofd_is_a_zip_with_its_root_document(self):
        assert sniff(package("OFD.xml", "Doc_0/Document.xml"), "公文.ofd") == "application/ofd"


class TestRefusals:
    @pytest.mark.parametrize("content, name", [
        (b"", "空.png"),
        (EXE, "照片.jpg"),  # a program renamed as a photo
        (package("readme.txt", "tool.exe"), "材料.docx"),  # a plain zip
        (b"just some text\n" * 10, "说明.pdf"),
        (b"PK\x03\x04broken", "损坏.xlsx"),
    ])
    def test_the_refusal_names_the_file_in_both_languages(self, content, name):
        with pytest.raises(EvidenceRefused) as refused:
            sniff(content, name)
        error = refused.value
        assert error.status == 422 and error.details["file"] == name
        assert name in error.message_en and name in error.message_zh and error.details["reason"]

    def test_a_file_over_twenty_megabytes_is_refused(self):
        with pytest.raises(EvidenceRefused, match="扫描件.pdf"):
            sniff(PDF + b"0" * MAX_FILE_BYTES, "扫描件.pdf")

    def test_a_step_carries_at_most_twenty_files(self):
        check_count(MAX_FILES_PER_STEP)
        with pytest.raises(InvalidInput):
            check_count(MAX_FILES_PER_STEP + 1)


class TestNamesAndThumbnails:
    def test_a_name_keeps_only_the_files_own_name_without_control_characters(self):
        assert clean_name("C:\\照片\\整改后.png") == "整改后.png"
        assert clean_name("a/b\x07c.pdf") == "bc.pdf"

    def test_a_thumbnail_is_a_png_at_most_240_px_long_turned_as_the_camera_says(self):
        photo = Image.new("RGB", (1200, 600), "blue")
        exif = photo.getexif()
        exif[0x0112] = 6  # Orientation: rotate 90° clockwise to show
        buffer = io.BytesIO()
        photo.save(buffer, "JPEG", exif=exif)
        small = Image.open(io.BytesIO(thumbnail_png(buffer.getvalue())))
        assert small.format == "PNG" and small.size == (120, 240)

    def test_a_file_that_is_no_image_has_no_thumbnail(self):
        assert thumbnail_png(PDF) is None
