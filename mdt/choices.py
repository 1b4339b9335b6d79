"""The MDT's coded outcomes (DOMAIN.md, "MDT")."""

from django.db import models


class MDTOutcome(models.TextChoices):
    FURTHER_INVESTIGATION = "investigation", "Further investigation"
    SURGERY = "surgery", "Surgery"
    RADIOTHERAPY = "radiotherapy", "Radiotherapy"
    SYSTEMIC_THERAPY = "systemic", "Systemic therapy"
    BEST_SUPPORTIVE_CARE = "supportive", "Best supportive care"
    OTHER = "other", "Other"
