"""The letters a team writes (DOMAIN.md "Contacts, the GP and letters")."""

from django.db import models


class Recipient(models.TextChoices):
    PATIENT = "patient", "Patient"
    GP = "gp", "GP practice"


class LetterKind(models.TextChoices):
    RESULT_PATIENT = "result_patient", "Result letter to the patient"
    RESULT_GP = "result_gp", "Result letter to the GP"
    CARE_PLAN = "care_plan", "Care plan"
    DISCHARGE_PATIENT = "discharge_patient", "Discharge from follow-up, to the patient"
    DISCHARGE_GP = "discharge_gp", "Discharge from follow-up, to the GP"
    PIFU = "pifu", "Patient-initiated follow-up (PIFU) letter"


# Whom each kind of letter is written to; the other is copied in (the cc line).
RECIPIENT_OF = {
    LetterKind.RESULT_PATIENT: Recipient.PATIENT,
    LetterKind.RESULT_GP: Recipient.GP,
    LetterKind.CARE_PLAN: Recipient.PATIENT,
    LetterKind.DISCHARGE_PATIENT: Recipient.PATIENT,
    LetterKind.DISCHARGE_GP: Recipient.GP,
    LetterKind.PIFU: Recipient.PATIENT,
}
GP_KINDS = [kind for kind, recipient in RECIPIENT_OF.items() if recipient == Recipient.GP]
# Kinds about one result: a follow-up item's or a restaging test's.
RESULT_KINDS = (LetterKind.RESULT_PATIENT, LetterKind.RESULT_GP)
