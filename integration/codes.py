"""The code map's first rows, loaded by migration 0001 (admins keep the map from then on).

Imaging: examples of a hospital's local RIS codes (each RIS has its own; NICIP codes are added
the same way, system "NICIP"). Pathology: LOINC codes. Check every row against your own systems
before go-live (docs/integration.md): a code that means something else here would match wrongly.
"""

SEED_CODES = [
    # (system, code, display, staging modality, follow-up kind)
    ("LOCAL", "CTCAP", "CT chest, abdomen and pelvis with contrast", "ct_cap", ""),
    ("LOCAL", "PETCT", "FDG PET-CT skull base to thigh", "pet_ct", ""),
    ("LOCAL", "NMBONE", "Nuclear medicine bone scan, whole body", "bone_scan", ""),
    ("LOCAL", "MRBRAIN", "MRI head with contrast", "mri_brain", ""),
    ("LOCAL", "MRSPINE", "MRI whole spine", "mri_spine", ""),
    ("LOCAL", "USLIVER", "Ultrasound liver", "liver_us", ""),
    ("LOCAL", "XRCHEST", "Chest X-ray", "chest_xray", ""),
    ("LOCAL", "MAMMOB", "Mammogram, both breasts", "", "mammogram"),
    ("LOCAL", "MAMMOL", "Mammogram, left breast", "", "mammogram"),
    ("LOCAL", "MAMMOR", "Mammogram, right breast", "", "mammogram"),
    ("LN", "58410-2", "CBC panel - Blood by Automated count", "bloods", "bloods"),
    ("LN", "24325-3", "Hepatic function 2000 panel - Serum or Plasma", "bloods", "bloods"),
    ("LN", "6768-6", "Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma", "bloods", "bloods"),
    ("LN", "2000-8", "Calcium [Moles/volume] in Serum or Plasma", "bloods", "bloods"),
    ("LN", "6875-9", "Cancer Ag 15-3 [Units/volume] in Serum or Plasma", "tumour_markers", ""),
    ("LN", "2039-6", "Carcinoembryonic Ag [Mass/volume] in Serum or Plasma", "tumour_markers", ""),
]
