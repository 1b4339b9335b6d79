"""The clinical vocabulary: every status and code list the tracker uses.

Facts and codes come from ../shared/DOMAIN.md (COSD v10 where it names a code).
Each clinical mapping (which site belongs to which recurrence type, which COSD
site code a sub-site exports as) lives here and nowhere else.
"""

from typing import NamedTuple

from django.db import models


class Role(models.TextChoices):
    NURSE = "nurse", "Clinical nurse specialist"
    CLINICIAN = "clinician", "Clinician (read only)"
    ADMIN = "admin", "Admin"
    # The account an API client's results are recorded by (integration/): never signs in.
    INTERFACE = "interface", "Interface (system account)"


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"
    INDETERMINATE = "I", "Indeterminate"
    NOT_KNOWN = "U", "Not known"


class PatientStatus(models.TextChoices):
    SURVEILLANCE = "surveillance", "Under surveillance"
    ON_TREATMENT = "on_treatment", "On treatment"
    SECONDARY = "secondary", "Living with secondary breast cancer"
    DISCHARGED = "discharged", "Discharged"
    DECEASED = "deceased", "Deceased"


# Patients the unit is still responsible for: every failsafe list is about them.
ACTIVE_PATIENT_STATUSES = (
    PatientStatus.SURVEILLANCE,
    PatientStatus.ON_TREATMENT,
    PatientStatus.SECONDARY,
)


class ContactPreference(models.TextChoices):
    MOBILE = "mobile", "Mobile phone"
    HOME = "home", "Home phone"
    EMAIL = "email", "Email"
    LETTER = "letter", "Letter"


class FollowUpModel(models.TextChoices):
    CLINIC = "clinic", "Clinic-led"
    PSFU = "psfu", "Personalised stratified follow-up (remote monitoring)"
    PIFU = "pifu", "Patient-initiated follow-up"


class Laterality(models.TextChoices):
    LEFT = "L", "Left"
    RIGHT = "R", "Right"
    BILATERAL = "B", "Bilateral"


class Histology(models.TextChoices):
    NST = "nst", "Invasive carcinoma of no special type (ductal)"
    LOBULAR = "lobular", "Invasive lobular carcinoma"
    MIXED = "mixed", "Mixed ductal and lobular"
    OTHER_INVASIVE = "other_invasive", "Other invasive carcinoma"
    DCIS = "dcis", "Ductal carcinoma in situ"


class Grade(models.TextChoices):
    G1 = "1", "Grade 1"
    G2 = "2", "Grade 2"
    G3 = "3", "Grade 3"


class ReceptorStatus(models.TextChoices):
    POSITIVE = "pos", "Positive"
    NEGATIVE = "neg", "Negative"
    EQUIVOCAL = "equivocal", "Borderline / equivocal"
    NOT_TESTED = "not_tested", "Not tested"


class BreastSurgery(models.TextChoices):
    WLE = "wle", "Wide local excision"
    MASTECTOMY = "mastectomy", "Mastectomy"
    MASTECTOMY_RECONSTRUCTION = "mastectomy_recon", "Mastectomy with reconstruction"
    NONE = "none", "No breast surgery"


class AxillarySurgery(models.TextChoices):
    SLNB = "slnb", "Sentinel lymph node biopsy"
    ANC = "anc", "Axillary node clearance"
    NONE = "none", "No axillary surgery"


class Radiotherapy(models.TextChoices):
    BREAST = "breast", "Breast"
    CHEST_WALL = "chest_wall", "Chest wall"
    WITH_NODES = "with_nodes", "Breast or chest wall with nodes"
    NONE = "none", "No radiotherapy"


class SystemicTherapy(models.TextChoices):
    NEOADJUVANT = "neoadjuvant", "Neoadjuvant chemotherapy"
    ADJUVANT = "adjuvant", "Adjuvant chemotherapy"
    ANTI_HER2 = "anti_her2", "Chemotherapy with anti-HER2 therapy"
    NONE = "none", "No chemotherapy"


class EndocrineTherapy(models.TextChoices):
    TAMOXIFEN = "tamoxifen", "Tamoxifen"
    AROMATASE_INHIBITOR = "ai", "Aromatase inhibitor"
    OVARIAN_SUPPRESSION = "ofs", "Ovarian suppression with endocrine therapy"
    NONE = "none", "No endocrine therapy"


class FollowUpKind(models.TextChoices):
    MAMMOGRAM = "mammogram", "Mammogram"
    CLINIC_REVIEW = "clinic_review", "Clinic review"
    TELEPHONE_REVIEW = "telephone_review", "Telephone review"
    BLOODS = "bloods", "Bloods"
    ENDOCRINE_REVIEW = "endocrine_review", "Endocrine therapy review"
    OTHER = "other", "Other"


# Kinds that produce a result a clinician must read and acknowledge.
RESULT_KINDS = (FollowUpKind.MAMMOGRAM, FollowUpKind.BLOODS, FollowUpKind.OTHER)


class FollowUpStatus(models.TextChoices):
    DUE = "due", "Due"
    BOOKED = "booked", "Booked"
    DONE = "done", "Done"
    DID_NOT_ATTEND = "dna", "Did not attend"
    CANCELLED = "cancelled", "Cancelled"


OPEN_FOLLOWUP_STATUSES = (FollowUpStatus.DUE, FollowUpStatus.BOOKED)
# Items that happened: the patient was seen (or tested), or did not attend.
HAPPENED_FOLLOWUP_STATUSES = (FollowUpStatus.DONE, FollowUpStatus.DID_NOT_ATTEND)


class ImagingOutcome(models.TextChoices):
    """COSD imaging outcome."""

    ABNORMAL = "01", "Abnormal"
    NORMAL = "02", "Normal"
    BENIGN = "03", "Benign"
    NON_DIAGNOSTIC = "04", "Non-diagnostic"
    INADEQUATE = "05", "Inadequate"
    NOT_KNOWN = "09", "Not known"
    # Not a COSD code: a report that arrived by itself (integration/) and waits for a clinician
    # to classify it; acknowledging it needs a classification (services: result_acknowledge).
    REPORTED = "RP", "Reported, not yet classified"


class MetastaticType(models.TextChoices):
    """COSD metastatic type."""

    LOCAL = "01", "Local"
    REGIONAL = "02", "Regional"
    DISTANT = "03", "Distant (secondary breast cancer)"


# Local and regional recurrences open a restaging episode; distant ones do not.
RESTAGED_TYPES = (MetastaticType.LOCAL, MetastaticType.REGIONAL)


class CosdSite(models.TextChoices):
    """COSD metastatic site."""

    BRAIN = "02", "Brain"
    LIVER = "03", "Liver"
    LUNG = "04", "Lung"
    UNKNOWN = "07", "Unknown metastatic site"
    SKIN = "08", "Skin"
    DISTANT_NODES = "09", "Distant lymph nodes"
    BONE = "10", "Bone (excluding bone marrow)"
    BONE_MARROW = "11", "Bone marrow"
    REGIONAL_NODES = "12", "Regional lymph nodes"
    NOT_APPLICABLE = "97", "Not applicable"
    OTHER = "98", "Other metastatic site"


class Site(models.TextChoices):
    """Our finer sub-site, kept beside the COSD code (see SITE_INFO)."""

    BREAST = "breast", "Breast (treated breast)"
    BREAST_SKIN = "breast_skin", "Skin of the breast"
    CHEST_WALL = "chest_wall", "Chest wall"
    SCAR = "scar", "Operation scar"
    AXILLARY_NODES = "axillary_nodes", "Axillary lymph nodes"
    INTERNAL_MAMMARY_NODES = "internal_mammary_nodes", "Internal mammary lymph nodes"
    SUPRACLAVICULAR_NODES = "supraclavicular_nodes", "Supraclavicular lymph nodes"
    INFRACLAVICULAR_NODES = "infraclavicular_nodes", "Infraclavicular lymph nodes"
    BONE = "bone", "Bone"
    BONE_MARROW = "bone_marrow", "Bone marrow"
    LUNG = "lung", "Lung"
    LIVER = "liver", "Liver"
    BRAIN = "brain", "Brain"
    DISTANT_NODES = "distant_nodes", "Distant lymph nodes"
    SKIN = "skin", "Skin (distant)"
    OVARY = "ovary", "Ovary"
    PLEURA = "pleura", "Pleura"
    PERITONEUM = "peritoneum", "Peritoneum"
    OTHER = "other", "Other site (describe)"
    UNKNOWN = "unknown", "Unknown site"


class SiteInfo(NamedTuple):
    metastatic_type: MetastaticType
    cosd: CosdSite


_L, _R, _D = MetastaticType.LOCAL, MetastaticType.REGIONAL, MetastaticType.DISTANT

SITE_INFO: dict[str, SiteInfo] = {
    Site.BREAST: SiteInfo(_L, CosdSite.NOT_APPLICABLE),
    Site.BREAST_SKIN: SiteInfo(_L, CosdSite.NOT_APPLICABLE),
    Site.CHEST_WALL: SiteInfo(_L, CosdSite.NOT_APPLICABLE),
    Site.SCAR: SiteInfo(_L, CosdSite.NOT_APPLICABLE),
    Site.AXILLARY_NODES: SiteInfo(_R, CosdSite.REGIONAL_NODES),
    Site.INTERNAL_MAMMARY_NODES: SiteInfo(_R, CosdSite.REGIONAL_NODES),
    Site.SUPRACLAVICULAR_NODES: SiteInfo(_R, CosdSite.REGIONAL_NODES),
    Site.INFRACLAVICULAR_NODES: SiteInfo(_R, CosdSite.REGIONAL_NODES),
    Site.BONE: SiteInfo(_D, CosdSite.BONE),
    Site.BONE_MARROW: SiteInfo(_D, CosdSite.BONE_MARROW),
    Site.LUNG: SiteInfo(_D, CosdSite.LUNG),
    Site.LIVER: SiteInfo(_D, CosdSite.LIVER),
    Site.BRAIN: SiteInfo(_D, CosdSite.BRAIN),
    Site.DISTANT_NODES: SiteInfo(_D, CosdSite.DISTANT_NODES),
    Site.SKIN: SiteInfo(_D, CosdSite.SKIN),
    Site.OVARY: SiteInfo(_D, CosdSite.OTHER),
    Site.PLEURA: SiteInfo(_D, CosdSite.OTHER),
    Site.PERITONEUM: SiteInfo(_D, CosdSite.OTHER),
    Site.OTHER: SiteInfo(_D, CosdSite.OTHER),
    Site.UNKNOWN: SiteInfo(_D, CosdSite.UNKNOWN),
}


def sites_for_type(metastatic_type: str) -> list[str]:
    """The sub-sites that fit a recurrence type, in display order."""
    return [site for site, info in SITE_INFO.items() if info.metastatic_type == metastatic_type]


DISTANT_SITES = sites_for_type(MetastaticType.DISTANT)


class RecurrenceStatus(models.TextChoices):
    SUSPECTED = "suspected", "Suspected"
    CONFIRMED = "confirmed", "Confirmed"
    REFUTED = "refuted", "Refuted"


class DetectionMethod(models.TextChoices):
    SYMPTOMS = "symptoms", "Patient-reported symptoms"
    SURVEILLANCE_IMAGING = "surveillance_imaging", "Routine surveillance imaging"
    CLINICAL_EXAMINATION = "clinical_exam", "Clinical examination at follow-up"
    RESTAGING = "restaging", "Restaging for another recurrence"
    INCIDENTAL = "incidental", "Incidental finding"
    OTHER = "other", "Other"


class BasisOfDiagnosis(models.TextChoices):
    """Basis of diagnosis, cancer-registration codes."""

    CLINICAL = "1", "Clinical"
    CLINICAL_INVESTIGATION = "2", "Clinical investigation (imaging)"
    TUMOUR_MARKERS = "4", "Specific tumour markers"
    CYTOLOGY = "5", "Cytology"
    HISTOLOGY_METASTASIS = "6", "Histology of a metastasis"
    HISTOLOGY_PRIMARY = "7", "Histology of a primary tumour"
    UNKNOWN = "9", "Unknown"


class RestagingOutcome(models.TextChoices):
    OPEN = "open", "Open: tests outstanding"
    EQUIVOCAL = "equivocal", "Equivocal: further tests needed"
    NO_DISTANT = "no_distant", "No distant disease"
    DISTANT = "distant", "Distant disease found"
    # The recurrence was refuted before restaging was complete: nothing more to look for.
    REFUTED = "refuted", "Closed: recurrence refuted"


# Outcomes that leave the episode on the "restaging incomplete" list.
OPEN_RESTAGING_OUTCOMES = (RestagingOutcome.OPEN, RestagingOutcome.EQUIVOCAL)


class RestagingNeed(models.TextChoices):
    """What an open restaging episode still needs before it can close (services.restaging_needs)."""

    IMAGING = "imaging", "CT or PET-CT needed"
    FURTHER_TEST = "further_test", "Equivocal: further test needed"
    ACKNOWLEDGE = "acknowledge", "Results to acknowledge"
    RESULTS = "results", "Results awaited"


class StagingModality(models.TextChoices):
    CT_CAP = "ct_cap", "CT chest, abdomen and pelvis"
    PET_CT = "pet_ct", "FDG PET-CT"
    BONE_SCAN = "bone_scan", "Bone scan"
    MRI_BRAIN = "mri_brain", "MRI brain"
    MRI_SPINE = "mri_spine", "MRI spine"
    LIVER_ULTRASOUND = "liver_us", "Liver ultrasound"
    CHEST_XRAY = "chest_xray", "Chest X-ray"
    BLOODS = "bloods", "Bloods (FBC, liver function, ALP, calcium)"
    TUMOUR_MARKERS = "tumour_markers", "Tumour markers"
    BIOPSY = "biopsy", "Biopsy of the recurrence (ER, PR, HER2)"


# NICE CG81 1.3.1: restaging cannot be "no distant disease" without one of these.
RESTAGING_IMAGING = (StagingModality.CT_CAP, StagingModality.PET_CT)

# The standard test set proposed for a new restaging episode (DOMAIN.md); the
# nurse chooses CT or PET-CT, and adds MRI brain when there are neurological symptoms.
STANDARD_RESTAGING_TESTS = (
    StagingModality.CT_CAP,
    StagingModality.BONE_SCAN,
    StagingModality.BLOODS,
    StagingModality.BIOPSY,
)


class StagingResult(models.TextChoices):
    CLEAR = "clear", "No evidence of distant disease"
    EQUIVOCAL = "equivocal", "Indeterminate / equivocal"
    DISTANT = "distant", "Distant disease found"
    # A report that arrived by itself (integration/), waiting for a clinician to classify it.
    REPORTED = "reported", "Reported, not yet classified"


# The results a person records or classifies: every result but "reported, not yet classified",
# which only a report arriving by itself sets and only a classification clears.
CLASSIFIED_IMAGING_OUTCOMES = [(v, label) for v, label in ImagingOutcome.choices if v != ImagingOutcome.REPORTED]
CLASSIFIED_STAGING_RESULTS = [(v, label) for v, label in StagingResult.choices if v != StagingResult.REPORTED]
UNCLASSIFIED_RESULTS = (ImagingOutcome.REPORTED, StagingResult.REPORTED)


class SymptomArea(models.TextChoices):
    BONE = "bone", "Bone"
    LUNG = "lung", "Lung"
    LIVER = "liver", "Liver"
    BRAIN = "brain", "Brain"
    REGIONAL = "regional", "Regional nodes (armpit, collarbone, breast bone)"
    LOCAL = "local", "Breast, chest wall or scar"
    LYMPHOEDEMA = "lymphoedema", "Lymphoedema (arm swelling)"
    GENERAL = "general", "General (tiredness, weight loss)"


class RedFlag(models.TextChoices):
    CORD_COMPRESSION = (
        "cord_compression",
        "Possible spinal cord compression (back pain with weak legs, numbness, or loss of bladder or bowel control)",
    )
    HYPERCALCAEMIA = "hypercalcaemia", "Possible high calcium (sickness, thirst, confusion)"
    NEUROLOGICAL = "neurological", "New neurological symptoms (weakness, change in vision, speech or behaviour)"
    SEIZURE = "seizure", "New fit (seizure)"
    BREATHLESSNESS = "breathlessness", "Sudden severe breathlessness"


class ReportSource(models.TextChoices):
    STAFF = "staff", "Recorded by staff"
    PATIENT = "patient", "Reported by the patient"


class SymptomDuration(models.TextChoices):
    UNDER_A_WEEK = "under_week", "Less than a week"
    ONE_TO_TWO_WEEKS = "one_two_weeks", "1 to 2 weeks"
    OVER_TWO_WEEKS = "over_two_weeks", "More than 2 weeks"


class Worsening(models.TextChoices):
    YES = "yes", "Getting worse"
    NO = "no", "Not getting worse"
    NOT_SURE = "not_sure", "Not sure"


class TriageOutcome(models.TextChoices):
    REASSURE = "reassure", "Reassure"
    CLINIC_REVIEW = "clinic_review", "Clinic review"
    INVESTIGATE = "investigate", "Investigate"
    URGENT = "urgent", "Urgent (same day)"


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"


class ExportVia(models.TextChoices):
    WEB = "web", "Web page"
    COMMAND = "command", "Management command"


class AccessAction(models.TextChoices):
    VIEW_PATIENT = "view_patient", "Opened the patient page"
    VIEW_HISTORY = "view_history", "Opened the patient's history"
    VIEW_IN_ADMIN = "view_in_admin", "Opened in the admin site"
    REQUEST_RECORD = "request_record", "Asked for a record"
    CHECK_NHS_NUMBER = "check_nhs_number", "Entered an NHS number to register"


class AccessOutcome(models.TextChoices):
    VIEWED = "viewed", "Viewed"
    # Another team's record or none at all: the log cannot tell either (the 404 looks nothing up).
    NOT_FOUND = "not_found", "Refused: not found"
    REGISTERED_ELSEWHERE = "registered_elsewhere", "Refused: registered by another team"
    CHECK_PAUSED = "check_paused", "Refused: check paused (too many)"
