"""What patients are told to watch for and whom to call: the words of DOMAIN.md, written once.

Letters (letters/content.py: the care plan, the PIFU and discharge letters) and, later, the patient's
own channel read these; nobody re-spells them. Each area is a followup.choices.SymptomArea; arm
swelling (SymptomArea.LYMPHOEDEMA) is told under the armpit and arm, as DOMAIN.md lists it.
"""

from dataclasses import dataclass

from .choices import SymptomArea

REPORT_NEW_SYMPTOMS = "Report new symptoms, especially if they last more than a week or two."


@dataclass(frozen=True)
class AreaAdvice:
    area: SymptomArea
    heading: str  # the area, as a patient reads it
    symptoms: str
    urgent: str = ""  # the area's urgent symptoms (DOMAIN.md, in bold there)


SYMPTOMS_TO_REPORT: tuple[AreaAdvice, ...] = (
    AreaAdvice(
        SymptomArea.BONE,
        "Bones",
        "pain in back, hips or ribs not eased by painkillers or lasting over 1–2 weeks, often worse at night; fracture",
        urgent="back pain with weak legs, numbness, loss of bladder or bowel control (spinal cord compression). "
        "High calcium: sickness, thirst, confusion",
    ),
    AreaAdvice(SymptomArea.LUNG, "Lungs and chest", "breathlessness, cough that won't go, chest pain or tightness"),
    AreaAdvice(
        SymptomArea.LIVER,
        "Liver and tummy",
        "right upper abdominal or right shoulder pain, nausea, loss of appetite, weight loss, swelling under the "
        "ribs, jaundice",
    ),
    AreaAdvice(SymptomArea.BRAIN, "Head", "headaches, sickness, weakness, change in behaviour, vision or speech"),
    AreaAdvice(
        SymptomArea.REGIONAL,
        "Armpit, neck and arm",
        "lump under the arm, above the collarbone or near the breast bone; arm swelling (lymphoedema), arm or "
        "shoulder pain or numbness",
    ),
    AreaAdvice(
        SymptomArea.LOCAL, "Breast, chest wall or scar", "new lump or skin change in the breast, chest wall or scar"
    ),
    AreaAdvice(SymptomArea.GENERAL, "Generally", "tiredness, feeling unwell, weight loss"),
)


@dataclass(frozen=True)
class UrgentAdvice:
    symptoms: str
    action: str  # whom to call and how soon
    call: str  # "acute_oncology", "team" or "999": the number a letter prints beside it


# DOMAIN.md "What patients are told to do now (red flags)".
URGENT: tuple[UrgentAdvice, ...] = (
    UrgentAdvice(
        "Signs of spinal cord compression: back or neck pain, especially new, severe, worse lying down or "
        "band-like around the body, with any weakness or heaviness in the legs, numbness, unsteadiness, or "
        "problems controlling bladder or bowels.",
        "Contact the acute oncology service immediately; do not wait.",
        "acute_oncology",
    ),
    UrgentAdvice(
        "High calcium: very thirsty, passing more urine, constipation, sickness, confusion or drowsiness.",
        "Contact the team or acute oncology the same day.",
        "acute_oncology",
    ),
    UrgentAdvice(
        "New fits, sudden severe headache with vomiting, sudden severe breathlessness or chest pain.",
        "Call 999.",
        "999",
    ),
)

EVERYTHING_ELSE = "Everything else new, especially lasting more than a week or two: report to the breast care nurse."
