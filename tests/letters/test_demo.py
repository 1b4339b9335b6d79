"""The demo's letterheads and letters: fictitious details, a handful of real PDFs, idempotent."""

import io

from pypdf import PdfReader

from followup import demo
from letters import demo as letters_demo
from letters.models import Letter, Letterhead, LetterPDF


def test_demo_letterheads_use_drama_numbers_only(db):
    demo.ensure_reference_data()
    letterheads = letters_demo.ensure_letterheads()
    assert sorted(lh.team.code for lh in letterheads.values()) == ["north", "south"]
    for letterhead in Letterhead.objects.all():
        for number in (letterhead.phone, letterhead.acute_oncology_phone):
            assert number.startswith("01632 960")
        assert letterhead.postcode.startswith("ZZ99")


def test_demo_issues_letters_to_the_first_patients_with_an_address_once(db):
    demo.seed(patients=24)  # the demo's patients have addresses and GP practices (followup/demo.py)
    issued = Letter.objects.count()
    assert issued > 0
    numbers = set(Letter.objects.values_list("patient__hospital_number", flat=True))
    assert numbers <= {f"DEMO{i:07d}" for i in range(letters_demo.DEMO_LETTER_PATIENTS)}
    for letter in Letter.objects.select_related("document", "contact", "patient"):
        pdf = bytes(letter.document.pdf)
        assert len(pdf) == letter.size and pdf.startswith(b"%PDF-")
        assert letter.patient.given_name in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
        assert (letter.contact.kind, letter.contact.patient_id) == ("letter", letter.patient_id)
    assert letters_demo.seed() == 0  # a re-run adds nothing
    demo.seed(patients=30)
    assert Letter.objects.count() == issued
    assert LetterPDF.objects.count() == issued
