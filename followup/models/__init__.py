"""The clinical data model. Code lists live in choices.py, QuerySets in querysets.py.

Rules the database can hold are constraints here; multi-step rules live in
services.py. Clinical rows are never deleted: they are marked "entered in
error", and the default manager leaves those out (``all_objects`` keeps them).
Split by aggregate behind this one import path: base (teams, users, the clinical record),
patients, schedule (protocols and follow-up items), recurrences (with restaging and staging
tests), symptoms, audit (access and export logs).
"""

from .audit import AccessLog, ExportLog
from .base import ClinicalRecord, RecordManager, Team, User, date_errors, history_actor
from .flags import KEPT_COUNTS, OpenItemDue, PatientFlags
from .patients import GPPractice, Patient, PrimaryDiagnosis
from .recurrences import Recurrence, RecurrenceSite, RestagingEpisode, StagingTest, StagingTestSite
from .schedule import FollowUpItem, FollowUpProtocol, ProtocolStep
from .symptoms import SymptomReport

__all__ = [
    "AccessLog",
    "ClinicalRecord",
    "ExportLog",
    "FollowUpItem",
    "FollowUpProtocol",
    "GPPractice",
    "Patient",
    "KEPT_COUNTS",
    "OpenItemDue",
    "PatientFlags",
    "PrimaryDiagnosis",
    "ProtocolStep",
    "RecordManager",
    "Recurrence",
    "RecurrenceSite",
    "RestagingEpisode",
    "StagingTest",
    "StagingTestSite",
    "SymptomReport",
    "Team",
    "User",
    "date_errors",
    "history_actor",
    "patient_of",
]


def patient_of(record) -> Patient:
    """The patient a clinical row belongs to, whatever the row."""
    if isinstance(record, Patient):
        return record
    if isinstance(record, StagingTestSite):
        return record.test.episode.recurrence.patient
    if isinstance(record, StagingTest):
        return record.episode.recurrence.patient
    if isinstance(record, RecurrenceSite):
        return record.recurrence.patient
    if isinstance(record, RestagingEpisode):
        return record.recurrence.patient
    return record.patient
