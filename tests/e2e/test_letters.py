"""Browser journey (issue 14): issue a result letter and download it.

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/followup_l .venv/bin/pytest -m browser tests/e2e/test_letters.py
"""

import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from contacts.models import Contact
from followup import choices as c
from letters.models import Letter

from ..factories import FollowUpItemFactory
from ..letters.factories import letter_patient
from .helpers import log_in, message, path_is

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_nurse_issues_a_result_letter_previews_it_and_downloads_the_pdf(page, alex):
    today = timezone.localdate()
    zoe = letter_patient(team=alex.team, named_nurse=alex)
    mammogram = FollowUpItemFactory(
        patient=zoe, kind=c.FollowUpKind.MAMMOGRAM, status=c.FollowUpStatus.DONE,
        due_on=today - timedelta(days=10), done_on=today - timedelta(days=4), result=c.ImagingOutcome.NORMAL,
    )  # fmt: skip
    done_on = f"{mammogram.done_on:%-d %B %Y}"

    log_in(page, "alex")
    page.goto(f"/patients/{zoe.pk}/")
    expect(page.locator("#letters-list")).to_have_text("No letters issued yet.")
    page.get_by_role("link", name="Write a letter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Write a letter")
    page.get_by_label("Result letter to the patient").check()
    page.get_by_label(f"Mammogram, {done_on}: Normal").check()
    page.get_by_role("button", name="Preview the letter").click()

    expect(page).to_have_url(
        path_is(f"/patients/{zoe.pk}/letters/preview/?kind=result_patient&result=item-{mammogram.pk}")
    )
    preview = page.locator("#letter-preview")
    expect(preview).to_contain_text(f"Your mammogram on {done_on} was normal.")
    expect(preview).to_contain_text("943 476 5919")
    expect(preview).to_contain_text("cc: Fictional Lane Surgery, 7 Fictional Lane")
    page.get_by_label("Add a paragraph (optional)").fill("Please bring this letter to your next appointment.")
    page.get_by_role("button", name="Show the preview with this paragraph").click()
    expect(page.locator("#letter-extra")).to_have_text("Please bring this letter to your next appointment.")
    assert Letter.all_objects.count() == 0  # previews write nothing

    page.get_by_role("button", name="Issue the letter").click()
    expect(page).to_have_url(path_is(f"/patients/{zoe.pk}/#letters"))
    expect(message(page)).to_contain_text("Result letter to the patient issued to Zoë O’Brien.")
    letter = Letter.objects.get()
    listed = page.locator(f"#letter-{letter.pk}")
    expect(listed).to_contain_text("Result letter to the patient")
    expect(listed).to_contain_text("issued by Alex Morgan")

    with page.expect_download() as download_info:
        listed.get_by_role("link", name="Download").click()
    download = download_info.value
    assert download.suggested_filename == f"letter-{letter.pk}-result_patient.pdf"
    pdf = Path(download.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "Zoë O’Brien" in text
    assert "Please bring this letter to your next appointment." in text
    assert hashlib.sha256(pdf).hexdigest() == letter.sha256
    assert bytes(letter.document.pdf) == pdf
    contact = Contact.objects.get(kind="letter")
    assert (contact.patient, contact.by) == (zoe, alex)
