"""The Django admin: every model registered, searchable, constant queries, no hard deletes."""

import pytest
from django.contrib import admin
from django.urls import reverse

from followup import choices as c
from followup import models as m
from followup.services import record_mark_entered_in_error

from . import factories as f

ROW_FACTORIES = {
    m.Team: lambda: f.TeamFactory(),
    m.User: lambda: f.UserFactory(),
    m.Patient: lambda: f.PatientFactory(),
    m.PrimaryDiagnosis: lambda: f.PrimaryDiagnosisFactory(),
    m.FollowUpProtocol: lambda: f.FollowUpProtocolFactory(),
    m.ProtocolStep: lambda: f.ProtocolStepFactory(),
    m.GPPractice: lambda: f.GPPracticeFactory(),
    m.FollowUpItem: lambda: f.FollowUpItemFactory(),
    m.Recurrence: lambda: f.RecurrenceFactory(),
    m.RecurrenceSite: lambda: f.RecurrenceSiteFactory(),
    m.RestagingEpisode: lambda: f.RestagingEpisodeFactory(),
    m.StagingTest: lambda: f.StagingTestFactory(),
    m.StagingTestSite: lambda: m.StagingTestSite.objects.create(test=f.StagingTestFactory(), site=c.Site.LIVER),
    m.SymptomReport: lambda: f.SymptomReportFactory(),
    # Kept by followup/flags.py: a patient brings their row.
    m.PatientFlags: lambda: m.PatientFlags.objects.get(patient=f.PatientFactory()),
    m.OpenItemDue: lambda: m.OpenItemDue.objects.get(patient=f.FollowUpItemFactory().patient),  # an open item
    m.ExportLog: lambda: m.ExportLog.objects.create(user=f.UserFactory(), report="follow-up-items", format="csv"),
    m.AccessLog: lambda: m.AccessLog.objects.create(
        user=f.UserFactory(), patient=f.PatientFactory(), action="view_patient"
    ),
}

# Every changelist: session, user, filtered COUNT, total COUNT, the page of rows
# (joins planned by list_select_related) = 5. Then one query per list filter
# that lists related rows, and two for a date hierarchy (MIN/MAX, then the dates).
EXPECTED_QUERIES = {
    m.Team: 5,
    m.User: 6,  # + teams for the team filter
    m.Patient: 7,  # + teams and nurses for their filters
    m.PrimaryDiagnosis: 5,
    m.FollowUpProtocol: 5,
    m.ProtocolStep: 6,  # + protocols for the protocol filter
    m.GPPractice: 5,
    m.FollowUpItem: 7,  # + due-date hierarchy (MIN/MAX, dates)
    m.Recurrence: 5,
    m.RecurrenceSite: 5,
    m.RestagingEpisode: 5,
    m.StagingTest: 5,
    m.StagingTestSite: 5,
    m.SymptomReport: 5,
    m.PatientFlags: 5,
    m.OpenItemDue: 5,
    m.AccessLog: 7,  # + at date hierarchy (MIN/MAX, dates)
    m.ExportLog: 8,  # + distinct report names for its filter, started-at date hierarchy (MIN/MAX, dates)
}


def changelist_url(model):
    return reverse(f"admin:followup_{model._meta.model_name}_changelist")


def test_every_model_is_in_the_admin():
    # History tables are read on the patient's History page, never edited.
    app_models = {
        model
        for model in m.Team._meta.apps.get_app_config("followup").get_models()
        if not model.__name__.startswith("Historical")
    }
    assert {model for model in app_models if admin.site.is_registered(model)} == app_models
    assert set(ROW_FACTORIES) == app_models


@pytest.mark.django_db
@pytest.mark.parametrize("model", list(ROW_FACTORIES), ids=lambda model: model.__name__)
@pytest.mark.parametrize("rows", [1, 3])
def test_changelist_query_count_is_constant(model, rows, client, admin_user, django_assert_num_queries):
    for _ in range(rows):
        ROW_FACTORIES[model]()
    client.force_login(admin_user)
    with django_assert_num_queries(EXPECTED_QUERIES[model]):
        response = client.get(changelist_url(model))
    assert response.context["cl"].result_count == model._default_manager.count()


@pytest.mark.django_db
@pytest.mark.parametrize("term", ["943 476 5919", "9434765919", "Doe", "RX1234"])
def test_patient_search_finds_by_nhs_number_with_or_without_spaces_and_name(term, client, admin_user):
    jane = f.PatientFactory(nhs_number="9434765919", hospital_number="RX1234", family_name="Doe")
    f.PatientFactory(nhs_number="4010232137", family_name="Other")
    client.force_login(admin_user)
    response = client.get(changelist_url(m.Patient), {"q": term})
    assert list(response.context["cl"].result_list) == [jane]


@pytest.mark.django_db
def test_follow_up_search_by_patient_nhs_number_with_spaces(client, admin_user):
    item = f.FollowUpItemFactory(patient__nhs_number="9434765919")
    f.FollowUpItemFactory(patient__nhs_number="4010232137")
    client.force_login(admin_user)
    response = client.get(changelist_url(m.FollowUpItem), {"q": "943 476 5919"})
    assert list(response.context["cl"].result_list) == [item]


@pytest.mark.django_db
def test_admin_shows_entered_in_error_rows_and_cannot_delete_clinical_records(client, admin_user):
    item = f.FollowUpItemFactory()
    wrong = f.FollowUpItemFactory()
    record_mark_entered_in_error(record=wrong, reason="Wrong patient", by=admin_user)
    client.force_login(admin_user)
    response = client.get(changelist_url(m.FollowUpItem), {"entered_in_error__exact": "1"})
    assert list(response.context["cl"].result_list) == [wrong]
    delete = client.post(reverse("admin:followup_followupitem_delete", args=[item.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert m.FollowUpItem.objects.filter(pk=item.pk).exists()


@pytest.mark.django_db
def test_admin_edit_stamps_who_and_when(client, admin_user):
    patient = f.PatientFactory()
    client.force_login(admin_user)
    url = reverse("admin:followup_patient_change", args=[patient.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data["given_name"] = "Janet"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    patient.refresh_from_db()
    assert (patient.given_name, patient.updated_by, patient.version) == ("Janet", admin_user, 2)
