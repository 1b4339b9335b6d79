"""Every form of followup/forms.py, posted empty through its page: the service manual's own message
for each field (never one of Django's defaults), each error-summary link going to an input that is on
the page, no "---------" placeholder, and labels in sentence case."""

import inspect
import re
from datetime import timedelta

import pytest
from django import forms as django_forms
from django.core import validators
from django.db import models
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup import forms as f
from followup import services
from followup.services import SiteEntry

from .factories import FollowUpItemFactory, PatientFactory, PrimaryDiagnosisFactory, SymptomReportFactory

TODAY = timezone.localdate()


def days(n):
    return TODAY + timedelta(days=n)


def url(name, *args):
    return reverse(f"followup:{name}", args=args)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def django_default_messages() -> set[str]:
    """Every error message Django's form and model fields and validators give by default, cut at the
    first placeholder ("Select a valid choice. %(value)s is ..." becomes "Select a valid choice. ")."""
    messages = set()
    classes = [django_forms.Field, *_subclasses(django_forms.Field), models.Field, *_subclasses(models.Field)]
    for cls in classes:
        for klass in cls.__mro__:
            messages.update(str(m) for m in getattr(klass, "default_error_messages", {}).values())
    for _name, validator in inspect.getmembers(validators, inspect.isclass):
        if isinstance(getattr(validator, "message", None), str):
            messages.add(validator.message)
    cut = {message.split("%(")[0] for message in messages}
    return {message for message in cut if len(message) > 8}


DEFAULTS = django_default_messages()


def concrete_forms() -> set[type]:
    """The forms of followup/forms.py that a page shows (not the bases they share)."""
    bases = {f.ActionForm, f.VersionedForm}
    return {
        cls
        for _name, cls in inspect.getmembers(f, inspect.isclass)
        if issubclass(cls, django_forms.BaseForm) and cls.__module__ == f.__name__ and cls not in bases
    }


@pytest.fixture
def records(patient, nurse):
    item = FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.MAMMOGRAM, due_on=days(-60))
    result = FollowUpItemFactory(
        patient=patient, kind=c.FollowUpKind.MAMMOGRAM, status=c.FollowUpStatus.DONE, done_on=days(-2), result="02"
    )
    awaited = FollowUpItemFactory(
        patient=patient,
        kind=c.FollowUpKind.MAMMOGRAM,
        status=c.FollowUpStatus.DONE,
        done_on=days(-2),
        result_awaited=True,
    )
    recurrence = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.REGIONAL,
        sites=[SiteEntry(c.Site.AXILLARY_NODES)],
        diagnosed_on=days(-20),
        restaging_tests=[c.StagingModality.CT_CAP],
        by=nurse,
    )
    return {
        "patient": patient,
        "primary": PrimaryDiagnosisFactory(patient=patient),
        "item": item,
        "result": result,
        "awaited": awaited,
        "recurrence": recurrence,
        "episode": recurrence.restaging,
        "test": recurrence.restaging.tests.get(),
        "symptom": SymptomReportFactory(patient=patient),
        "pifu": PatientFactory(team=patient.team, named_nurse=nurse, follow_up_model=c.FollowUpModel.PIFU),
    }


# (URL name, the record it names, what is posted, who posts it)
EMPTY_POSTS = [
    ("patient_create", None, {}, "nurse"),
    ("patient_create", None, {}, "admin"),
    ("patient_edit", "patient", {}, "nurse"),
    ("patient_contact_details", "patient", {}, "nurse"),
    ("primary_add", "patient", {}, "nurse"),
    ("protocol_assign", "patient", {}, "nurse"),
    ("patient_reassign", "patient", {}, "admin"),
    ("caseload_hand_over", None, {}, "admin"),
    ("patient_discharge", "patient", {}, "nurse"),
    ("patient_death", "patient", {}, "nurse"),
    ("patient_pifu_period", "pifu", {}, "nurse"),
    ("item_add", "patient", {}, "nurse"),
    ("recurrence_add", "patient", {}, "nurse"),
    ("recurrence_add", "patient", {"metastatic_type": c.MetastaticType.LOCAL}, "nurse"),
    ("recurrence_add", "patient", {"metastatic_type": c.MetastaticType.DISTANT}, "nurse"),
    ("symptom_add", "patient", {}, "nurse"),
    ("item_book", "item", {}, "nurse"),
    ("item_done", "item", {}, "nurse"),
    ("item_result", "awaited", {}, "nurse"),
    ("item_dna", "item", {}, "nurse"),
    ("item_cancel", "item", {}, "nurse"),
    ("item_acknowledge", "result", {}, "nurse"),
    ("item_classify", "result", {}, "nurse"),
    ("recurrence_status", "recurrence", {}, "nurse"),
    ("recurrence_status", "recurrence", {"status": c.RecurrenceStatus.REFUTED}, "nurse"),
    ("staging_request", "episode", {}, "nurse"),
    ("staging_result", "test", {}, "nurse"),
    ("staging_classify", "test", {}, "nurse"),
    ("staging_cancel", "test", {}, "nurse"),
    ("secondary_from_test", "test", {}, "nurse"),
    ("symptom_triage", "symptom", {}, "nurse"),
    ("entered_in_error", "item", {}, "nurse"),
    ("worklist_acknowledge", None, {}, "nurse"),
    ("patients_hand_over", "patient", {}, "admin"),
]


def post_empty(client, records, name, record, data):
    if name == "entered_in_error":
        return client.post(url(name, "item", records["item"].pk), data)
    if name == "worklist_acknowledge":
        return client.post(url(name, "results"), data)
    if name == "patients_hand_over":  # the patients chosen, no nurse
        patient = records[record]
        return client.post(url(name), {"selected": patient.pk, f"version_{patient.pk}": patient.version, **data})
    args = [records[record].pk] if record else []
    return client.post(url(name, *args), data)


def error_texts(page: str) -> list[str]:
    beside = re.findall(r'<span class="nhsuk-error-message"[^>]*>(.*?)</span>\s*(?=<|$)', page, re.S)
    summary = re.search(r'<ul class="nhsuk-list nhsuk-error-summary__list">(.*?)</ul>', page, re.S)
    listed = re.findall(r"<li>(.*?)</li>", summary.group(1), re.S) if summary else []
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).replace("Error: ", "").strip() for text in beside + listed
    ]


def focusable_ids(page: str) -> set[str]:
    """The ids of the page's visible inputs, selects and text areas."""
    ids = set()
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", page):
        if 'type="hidden"' in tag:
            continue
        found = re.search(r'\bid="([^"]+)"', tag)
        if found:
            ids.add(found.group(1))
    return ids


def test_every_form_posted_empty_speaks_the_service_manual(client, nurse, admin_user, records):
    shown = set()
    for name, record, data, who in EMPTY_POSTS:
        client.force_login(nurse if who == "nurse" else admin_user)
        response = post_empty(client, records, name, record, data)
        assert response.status_code == 200, name
        form = response.context["form"]
        shown.add(type(form))
        page = response.content.decode()
        texts = error_texts(page)
        assert texts, f"{name}: nothing was refused"
        for text in texts:
            assert not any(default in text for default in DEFAULTS), f"{name}: Django's default message: {text}"
        summary = re.search(r'<div class="nhsuk-error-summary".*?</ul>', page, re.S).group(0)
        targets = re.findall(r'<a href="([^"]*)"', summary)
        # Each field a user can reach has its link; an error on the hidden version alone has none.
        visible_errors = [name for name in form.errors if name in form.fields and not form[name].is_hidden]
        assert len(targets) >= len(visible_errors), name
        for target in targets:
            assert target.startswith("#") and target[1:] in focusable_ids(page), f"{name}: link to {target!r}"
        assert "---------" not in page, name
    assert shown == concrete_forms()


def test_every_required_field_has_its_own_message(nurse, patient, records):
    """Written once per field: no required field of any form falls back to Django's words."""
    kwargs = {
        f.PatientForm: {"user": nurse},
        f.ReassignNurseForm: {"patient": patient},
        f.RecordDoneForm: {"item": records["item"]},
        f.RecordResultForm: {"item": records["awaited"]},
        f.RecurrenceForm: {"patient": patient, "initial": {"metastatic_type": c.MetastaticType.LOCAL}},
        f.RecurrenceStatusForm: {"recurrence": records["recurrence"]},
        f.StagingRequestForm: {"episode": records["episode"]},
        f.DistantFromTestForm: {"patient": patient},
    }
    for form_class in concrete_forms():
        form = form_class(**kwargs.get(form_class, {}))
        form.full_clean()  # where NHSMessagesMixin words what Django would (followup/fields.py)
        for field_name, field in form.fields.items():
            for key, message in field.error_messages.items():
                if key == "required" and not field.required:
                    continue
                assert not any(default in str(message) for default in DEFAULTS), (form_class, field_name, key, message)


ACRONYMS = {"NHS", "ER", "PR", "HER2", "CT", "PET-CT", "MRI", "GP", "ODS", "I"}


def test_every_label_is_in_sentence_case(nurse, patient, records):
    kwargs = {
        f.PatientForm: {"user": nurse},
        f.ReassignNurseForm: {"patient": patient},
        f.RecordDoneForm: {"item": records["item"]},
        f.RecordResultForm: {"item": records["awaited"]},
        f.RecurrenceForm: {"patient": patient, "initial": {"metastatic_type": c.MetastaticType.LOCAL}},
        f.RecurrenceStatusForm: {"recurrence": records["recurrence"]},
        f.StagingRequestForm: {"episode": records["episode"]},
        f.DistantFromTestForm: {"patient": patient},
    }
    for form_class in concrete_forms():
        form = form_class(**kwargs.get(form_class, {}))
        for bound in form.visible_fields():
            words = re.findall(r"[\w'-]+", str(bound.label))
            assert words and words[0][0].isupper(), (form_class, bound.label)
            capitals = [word for word in words[1:] if word[0].isupper() and word not in ACRONYMS]
            assert capitals == [], (form_class, bound.label)


def test_follow_up_model_is_spelled_with_a_hyphen_everywhere(nurse_client, patient):
    for page_url in (url("patient_create"), url("patient_edit", patient.pk), url("worklist", "no-follow-up")):
        page = nurse_client.get(page_url).content.decode()
        assert "Follow up model" not in page and "Follow-up model" in page, page_url


def test_select_boxes_offer_a_named_empty_choice(nurse_client, client, admin_user, patient):
    create = nurse_client.get(url("patient_create")).content.decode()
    assert '<option value="" selected>Choose a named nurse</option>' in create
    primary = nurse_client.get(url("primary_add", patient.pk)).content.decode()
    assert '<option value="" selected>Not recorded</option>' in primary
    # Laterality is asked, not preselected: "Not known" is an answer of its own.
    assert re.findall(r'<input class="nhsuk-radios__input" id="id_laterality_\d+"[^>]*value="(\w+)"', primary) == [
        "L",
        "R",
        "B",
        "unknown",
    ]
    assert re.search(r'for="id_laterality_3">\s*Not known\s*</label>', primary)
    assert not re.search(r'name="laterality"[^>]* checked', primary)
    client.force_login(admin_user)
    hand_over = client.get(url("caseload_hand_over")).content.decode()
    assert hand_over.count('<option value="" selected>Choose a nurse</option>') == 2
    reassign = client.get(url("patient_reassign", patient.pk)).content.decode()
    assert '<option value="" selected>Choose a named nurse</option>' in reassign


def test_primary_diagnosis_saves_the_laterality_chosen_or_none_when_not_known(nurse_client, patient):
    from followup.models import PrimaryDiagnosis

    day = TODAY - timedelta(days=400)
    data = {"diagnosed_on_0": day.day, "diagnosed_on_1": day.month, "diagnosed_on_2": day.year}
    refused = nurse_client.post(url("primary_add", patient.pk), data)
    assert "Select the laterality, or &#x27;Not known&#x27;" in refused.content.decode()
    assert nurse_client.post(url("primary_add", patient.pk), data | {"laterality": "unknown"}).status_code == 302
    assert nurse_client.post(url("primary_add", patient.pk), data | {"laterality": "L"}).status_code == 302
    assert sorted(PrimaryDiagnosis.objects.filter(patient=patient).values_list("laterality", flat=True)) == ["", "L"]
