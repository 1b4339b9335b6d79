"""The patient page's "Contacts" section: the latest contacts, read from what the page loaded."""

LATEST = 5  # contacts shown on the patient page; the rest on the patient's contacts page


def contact_section(patient) -> dict:
    """From ``all_contacts`` (PatientQuerySet.for_patient_page(), newest first): no query of its own."""
    live = [contact for contact in patient.all_contacts if not contact.entered_in_error]
    return {"latest": live[:LATEST], "count": len(live), "more": len(live) > LATEST}
