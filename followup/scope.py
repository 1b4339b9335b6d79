"""Access scope, and the patient flags kept through bulk writes: what every clinical QuerySet builds on
(followup/querysets.py holds the questions the screens ask; this module, who may see a row and what a
write in bulk must refresh)."""

from django.db import models

# The rows the patient flags (followup/flags.py) are worked out from, and the path from each to its patient.
FLAG_SOURCES = {
    "followup.patient": "pk",
    "followup.primarydiagnosis": "patient_id",
    "followup.followupitem": "patient_id",
    "followup.recurrence": "patient_id",
    "followup.recurrencesite": "recurrence__patient_id",
    "followup.restagingepisode": "recurrence__patient_id",
    "followup.stagingtest": "episode__recurrence__patient_id",
    "followup.symptomreport": "patient_id",
    "mdt.mdtdiscussion": "recurrence__patient_id",  # "Recurrence not yet discussed at MDT", a kept count
}


class KeepsPatientFlags(models.QuerySet):
    """Writes in bulk, which send no model signals (bulk_create, bulk_update, QuerySet.update), refresh the
    patient flags (followup/flags.py) of the patients whose rows they wrote, in the same transaction: for
    the rows of FLAG_SOURCES, through any manager (``objects``, ``all_objects``)."""

    @property
    def _flags_patient(self) -> str | None:
        return FLAG_SOURCES.get(self.model._meta.label_lower)

    def _patients_of(self, rows) -> list:
        keys = [row.pk for row in rows if row.pk is not None]
        return list(self.model._base_manager.filter(pk__in=keys).values_list(self._flags_patient, flat=True))

    def _born(self, keys) -> list:
        """The dates of birth as stored, for a change of patients (their possible duplicates follow)."""
        if self.model._meta.model_name != "patient" or not keys:
            return []
        return list(self.model._base_manager.filter(pk__in=keys).values_list("date_of_birth", flat=True))

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        if self._flags_patient:
            born = [getattr(row, "date_of_birth", None) for row in created]
            _flags().refresh(self._patients_of(created), born=born)
        return created

    def bulk_update(self, objs, fields, *args, **kwargs):
        if not self._flags_patient:
            return super().bulk_update(objs, fields, *args, **kwargs)
        objs = list(objs)
        before = self._patients_of(objs)  # and after: a row may have moved to another patient
        born = self._born([row.pk for row in objs if row.pk is not None])
        updated = super().bulk_update(objs, fields, *args, **kwargs)
        born += [getattr(row, "date_of_birth", None) for row in objs]
        _flags().refresh([*before, *self._patients_of(objs)], born=born)
        return updated

    def update(self, **kwargs):
        if not self._flags_patient:
            return super().update(**kwargs)
        rows = list(self.values_list("pk", flat=True))
        patients = list(self.model._base_manager.filter(pk__in=rows).values_list(self._flags_patient, flat=True))
        born = self._born(patients) + [kwargs.get("date_of_birth")]
        updated = super().update(**kwargs)
        parent = self._flags_patient.split("__")[0].removesuffix("_id")
        if parent in {key.split("__")[0].removesuffix("_id") for key in kwargs}:
            # Moved to another patient: the new one's flags too.
            patients += self.model._base_manager.filter(pk__in=rows).values_list(self._flags_patient, flat=True)
        _flags().refresh(patients, born=born)
        return updated

    update.queryset_only = True


def _flags():
    from . import flags  # flags reads the models, which read this module

    return flags


class TeamScopedQuerySet(KeepsPatientFlags):
    """Access scope: a nurse or clinician sees their team's rows, an admin all.

    ``team_path`` is the lookup from the row to its patient's team.
    """

    team_path = "patient__team"

    def visible_to(self, user):
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_admin_role:
            return self
        if user.team_id is None:
            return self.none()
        return self.filter(**{self.team_path: user.team_id})
