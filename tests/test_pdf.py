"""followup/pdf.py: real PDFs, read back with pypdf; nothing but the app's static files is loaded."""

import io
import logging

from pypdf import PdfReader

from followup.pdf import STATIC_BASE, html_to_pdf


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_html_becomes_a_pdf_whose_text_reads_back_unicode_included(caplog):
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = html_to_pdf(
            f'<html><head><link rel="stylesheet" href="{STATIC_BASE}css/pdf.css"></head>'
            "<body><h1>Result letter</h1><p>Dear Zoë O’Brien, your mammogram on 3 Dec 2026 was normal.</p>"
            "</body></html>"
        )
    assert [r.getMessage() for r in caplog.records] == []  # the app's stylesheet loaded, nothing refused
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    assert "Result letter" in text
    assert "Dear Zoë O’Brien, your mammogram on 3 Dec 2026 was normal." in text


def test_a_document_cannot_load_anything_but_the_apps_static_files(caplog):
    with caplog.at_level(logging.ERROR, logger="weasyprint"):
        pdf = html_to_pdf(
            '<html><body><p>Letter</p><img src="http://169.254.169.254/latest/meta-data/">'
            '<img src="file:///etc/passwd"><link rel="stylesheet" href="app-static:/../../settings.py"></body></html>'
        )
    assert "Letter" in text_of(pdf)
    refused = [r.getMessage() for r in caplog.records]
    assert any("169.254.169.254" in m for m in refused)
    assert any("/etc/passwd" in m for m in refused)
    assert any("settings.py" in m for m in refused)
