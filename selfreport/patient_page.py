"""The patient page's personal-code card, read with the patient (no query of its own)."""

from django.db.models import OuterRef, QuerySet, Subquery

from .models import PersonalCode, VoidReason


def with_personal_code(patients: QuerySet) -> QuerySet:
    """Patients with their newest personal code's ``code_issued_at``, ``code_voided_at`` and
    ``code_void_reason`` (None when none was issued): three subqueries in the patient's query."""
    newest = PersonalCode.objects.filter(patient=OuterRef("pk")).order_by("-issued_at", "-pk")
    return patients.annotate(
        code_issued_at=Subquery(newest.values("issued_at")[:1]),
        code_voided_at=Subquery(newest.values("voided_at")[:1]),
        code_void_reason=Subquery(newest.values("void_reason")[:1]),
    )


def code_section(page) -> None:
    """Words for the card: why the newest code was voided."""
    reason = getattr(page, "code_void_reason", "") or ""
    page.code_void_reason_display = VoidReason(reason).label if reason else ""
