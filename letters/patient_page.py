"""The patient page's Letters section, from one query (none of the PDFs' bytes)."""

from .models import Letter


def patient_section(page) -> list[Letter]:
    """Every letter issued for the patient, newest first, those entered in error too (struck through).
    Sets ``page.all_letters`` for the timeline (letters/timeline.py). One query."""
    letters = list(Letter.all_objects.filter(patient=page).for_patient_page())
    page.all_letters = letters
    return letters
