"""Issue 13, the patient page and the pages around it: what needs doing leads, upcoming is cut to
two, status changes stand apart as warnings, every action page's h1 names its task, a back link
on every page below the top level, and the header marks the section a page belongs to."""

from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from followup import choices as c
from followup import services
from followup.services import SiteEntry

from . import pages
from .factories import (
    FollowUpItemFactory,
    PatientFactory,
    PrimaryDiagnosisFactory,
    StagingTestFactory,
    SymptomReportFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def days(n):
    return TODAY + timedelta(days=n)


def day(value) -> str:
    return f"{value:%-d %b %Y}"


def url(name, *args):
    return reverse(f"followup:{name}", args=args)


def page_of(client, patient, **headers):
    response = client.get(url("patient_detail", patient.pk), **headers)
    assert response.status_code == 200
    return pages.parse(response.content.decode())


def panel_buttons(root) -> list[tuple[str, str]]:
    panel = pages.by_id(root, "what-needs-doing")
    return [
        (pages.text(a), a[1]["href"])
        for a in pages.find(panel, lambda n: n[0] == "a" and pages.has_class(n, "nhsuk-button"))
    ]


# 1. What needs doing ------------------------------------------------------------------


def test_what_needs_doing_offers_one_button_per_open_follow_up_task(nurse_client, nurse, patient):
    PrimaryDiagnosisFactory(patient=patient)
    overdue = FollowUpItemFactory(patient=patient, due_on=days(-60))
    booked_past = FollowUpItemFactory(
        patient=patient,
        kind=c.FollowUpKind.CLINIC_REVIEW,
        due_on=days(-2),
        status=c.FollowUpStatus.BOOKED,
        booked_for=days(-1),
    )
    due_soon = FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.BLOODS, due_on=days(5))
    FollowUpItemFactory(  # booked for next week: nothing to do yet
        patient=patient,
        kind=c.FollowUpKind.TELEPHONE_REVIEW,
        due_on=days(8),
        status=c.FollowUpStatus.BOOKED,
        booked_for=days(8),
    )
    result = FollowUpItemFactory(
        patient=patient, status=c.FollowUpStatus.DONE, done_on=days(-3), result=c.ImagingOutcome.ABNORMAL
    )
    awaited = FollowUpItemFactory(
        patient=patient,
        kind=c.FollowUpKind.BLOODS,
        status=c.FollowUpStatus.DONE,
        done_on=days(-4),
        result_awaited=True,
    )
    root = page_of(nurse_client, patient)
    assert panel_buttons(root) == [
        (f"Book the mammogram , due {day(overdue.due_on)}", url("item_book", overdue.pk)),
        (f"Record the clinic review as done , booked for {day(days(-1))}", url("item_done", booked_past.pk)),
        (f"Book the bloods , due {day(due_soon.due_on)}", url("item_book", due_soon.pk)),
        (f"Acknowledge the mammogram result , done {day(result.done_on)}", url("item_acknowledge", result.pk)),
        (f"Record the bloods result , done {day(awaited.done_on)}", url("item_result", awaited.pk)),
    ]
    # Each group names the list it comes from, linked to that list.
    assert pages.headings(pages.by_id(root, "what-needs-doing"), 3) == [
        "Overdue follow-up",
        "Due soon",
        "Results to acknowledge",
        "Results awaited",
    ]


def test_what_needs_doing_offers_the_restaging_symptom_and_distant_disease_tasks(nurse_client, nurse, patient):
    PrimaryDiagnosisFactory(patient=patient)
    FollowUpItemFactory(patient=patient, due_on=days(200))  # a next follow-up: not on "No next follow-up"

    def recurrence(kind, site, on, tests=()):
        return services.recurrence_record(
            patient=patient,
            metastatic_type=kind,
            sites=[SiteEntry(site)],
            diagnosed_on=on,
            restaging_tests=tests,
            by=nurse,
        )

    def result(test, outcome, reported, **kwargs):
        services.staging_test_record_result(
            test=test, performed_on=reported, reported_on=reported, result=outcome, by=nurse, **kwargs
        )

    # Distant disease found: its restaging is complete, the secondary breast cancer not yet recorded.
    nodal = recurrence(c.MetastaticType.REGIONAL, c.Site.AXILLARY_NODES, days(-40), [c.StagingModality.PET_CT])
    pet = nodal.restaging.tests.get()
    result(pet, c.StagingResult.DISTANT, days(-30), sites=[SiteEntry(c.Site.LIVER)])
    # Restaging under way: a CT clear but not read, an equivocal ultrasound read, a bone scan awaited.
    local = recurrence(
        c.MetastaticType.LOCAL,
        c.Site.SCAR,
        days(-20),
        [c.StagingModality.CT_CAP, c.StagingModality.BONE_SCAN, c.StagingModality.LIVER_ULTRASOUND],
    )
    ct, bone, liver = (local.restaging.tests.get(modality=m) for m in ("ct_cap", "bone_scan", "liver_us"))
    result(ct, c.StagingResult.CLEAR, days(-9))
    result(liver, c.StagingResult.EQUIVOCAL, days(-8))
    services.staging_test_acknowledge(test=liver, by=nurse)
    # No CT or PET-CT requested yet.
    regional = recurrence(c.MetastaticType.REGIONAL, c.Site.SUPRACLAVICULAR_NODES, days(-2))
    report = SymptomReportFactory(patient=patient, reported_on=days(-1), red_flag=c.RedFlag.CORD_COMPRESSION)
    root = page_of(nurse_client, patient)
    further = f"{url('staging_request', local.restaging.pk)}?follow_up_of={liver.pk}"
    assert panel_buttons(root) == [
        (f"Acknowledge the FDG PET-CT result , reported {day(days(-30))}", url("staging_acknowledge", pet.pk)),
        (
            f"Acknowledge the CT chest, abdomen and pelvis result , reported {day(days(-9))}",
            url("staging_acknowledge", ct.pk),
        ),
        # The CT to acknowledge also holds this restaging open: one button for it, above.
        (f"Request a further test after the liver ultrasound , reported {day(days(-8))}", further),
        (f"Record the bone scan result , requested {day(days(-20))}", url("staging_result", bone.pk)),
        (
            f"Request a CT or PET-CT for the regional recurrence of {day(days(-2))}",
            url("staging_request", regional.restaging.pk),
        ),
        (
            f"Record the secondary breast cancer found by the FDG PET-CT of {day(days(-30))}",
            url("secondary_from_test", pet.pk),
        ),
        (f"Triage the symptom report of {day(days(-1))}", url("symptom_triage", report.pk)),
        # No recurrence has been discussed at MDT yet (mdt/worklist.py), oldest first.
        *(
            (f"Record the MDT discussion of the {noun} of {day(on)}", reverse("mdt:discussion_record", args=[r.pk]))
            for noun, on, r in (
                ("regional recurrence", days(-40), nodal),
                ("local recurrence", days(-20), local),
                ("regional recurrence", days(-2), regional),
            )
        ),
    ]
    panel = pages.by_id(root, "what-needs-doing")
    assert pages.headings(panel, 3) == [
        "Staging results to acknowledge",
        "Restaging incomplete",
        "Distant disease not recorded",
        "Symptoms to triage",
        "Recurrence not yet discussed at MDT",
    ]
    assert [pages.text(t) for t in pages.by_class(panel, "nhsuk-tag")] == [
        "Distant disease found",
        "Distant disease found",
        "Red flag",
    ]


def test_what_needs_doing_offers_the_next_follow_up_and_data_quality_tasks(nurse_client, nurse):
    patient = PatientFactory(team=nurse.team, named_nurse=nurse, nhs_number="")
    root = page_of(nurse_client, patient)
    assert panel_buttons(root) == [
        ("Add the next follow-up item", url("item_add", patient.pk)),
        ("Add the NHS number", url("patient_edit", patient.pk)),
        ("Record the primary diagnosis", url("primary_add", patient.pk)),
    ]
    panel = pages.text(pages.by_id(root, "what-needs-doing"))
    assert "Missing NHS number; No primary diagnosis recorded" in panel


def test_what_needs_doing_says_so_when_nothing_is_open(nurse_client, patient):
    PrimaryDiagnosisFactory(patient=patient)
    FollowUpItemFactory(patient=patient, due_on=days(200))
    root = page_of(nurse_client, patient)
    panel = pages.by_id(root, "what-needs-doing")
    assert pages.headings(panel, 2) == ["What needs doing"]
    assert panel_buttons(root) == []
    assert pages.text(pages.by_id(root, "open-actions")) == "Nothing needs doing for this patient now."


def test_what_needs_doing_comes_first_and_a_clinician_sees_it_without_buttons(client, nurse, patient):
    overdue = FollowUpItemFactory(patient=patient, due_on=days(-60))
    clinician = UserFactory(team=nurse.team, role=c.Role.CLINICIAN)
    client.force_login(clinician)
    root = page_of(client, patient)
    assert pages.headings(root, 2)[0] == "What needs doing"
    assert panel_buttons(root) == []
    assert f"Mammogram due {day(overdue.due_on)}" in pages.text(pages.by_id(root, "what-needs-doing"))


# Upcoming: the next two, then Show all -----------------------------------------------------


def test_upcoming_shows_the_next_two_and_the_rest_behind_show_all(nurse_client, patient):
    dues = [days(30 * n) for n in range(1, 6)]
    for due in reversed(dues):
        FollowUpItemFactory(patient=patient, due_on=due)
    root = page_of(nurse_client, patient)
    upcoming = pages.by_id(root, "upcoming")
    first = pages.by_id(upcoming, "upcoming-next")
    assert [pages.text(t) for t in pages.find(first, lambda n: n[0] == "time")] == [day(d) for d in dues[:2]]
    more = pages.find(upcoming, lambda n: n[0] == "details")
    assert len(more) == 1
    summary = pages.find(more[0], lambda n: n[0] == "summary")[0]
    assert pages.text(summary) == "Show all 5 upcoming items"
    later = pages.by_id(upcoming, "upcoming-later")
    assert [pages.text(t) for t in pages.find(later, lambda n: n[0] == "time")] == [day(d) for d in dues[2:]]


def test_upcoming_of_two_items_has_no_show_all(nurse_client, patient):
    FollowUpItemFactory(patient=patient, due_on=days(30))
    FollowUpItemFactory(patient=patient, due_on=days(60))
    root = page_of(nurse_client, patient)
    upcoming = pages.by_id(root, "upcoming")
    assert pages.find(upcoming, lambda n: n[0] == "details") == []
    assert len(pages.find(upcoming, lambda n: n[0] == "time")) == 2


# Status changes apart from everyday actions ------------------------------------------------


def test_status_changes_stand_apart_as_warnings(nurse_client, patient):
    root = page_of(nurse_client, patient)
    status = pages.by_id(root, "status-changes")
    assert pages.has_class(status, "nhsuk-warning-callout")
    assert pages.links(status) == [
        ("Discharge from follow-up", url("patient_discharge", patient.pk)),
        ("Record a death", url("patient_death", patient.pk)),
        ("Mark the patient as entered in error", url("entered_in_error", "patient", patient.pk)),
    ]
    everyday = pages.by_id(root, "record-actions")
    assert pages.links(everyday) == [
        ("Add a follow-up item", url("item_add", patient.pk)),
        ("Record a recurrence", url("recurrence_add", patient.pk)),
        ("Record symptoms", url("symptom_add", patient.pk)),
        ("Start a follow-up schedule", url("protocol_assign", patient.pk)),
        ("Record a primary diagnosis", url("primary_add", patient.pk)),
    ]
    details = pages.by_id(root, "patient-details-actions")
    assert pages.links(details) == [("Change details", url("patient_edit", patient.pk))]


def test_status_changes_of_a_deceased_patient_offer_only_entered_in_error(nurse_client, nurse, patient):
    services.patient_record_death(patient=patient, date_of_death=days(-1), by=nurse, expected_version=None)
    root = page_of(nurse_client, patient)
    assert pages.links(pages.by_id(root, "status-changes")) == [
        ("Mark the patient as entered in error", url("entered_in_error", "patient", patient.pk)),
    ]
    assert pages.by_id(root, "record-actions") is not None  # a primary may still be recorded
    assert pages.links(pages.by_id(root, "record-actions")) == [
        ("Record a primary diagnosis", url("primary_add", patient.pk))
    ]


def test_the_follow_up_model_is_called_follow_up_model(nurse_client, patient):
    root = page_of(nurse_client, patient)
    facts = pages.by_id(root, "follow-up-facts")
    assert [pages.text(dt) for dt in pages.find(facts, lambda n: n[0] == "dt")] == [
        "Follow-up model",
        "Protocol",
        "Team",
    ]


# 2. Action pages: the h1 names the task, the banner is kept ---------------------------------


def action_records(patient, nurse):
    item = FollowUpItemFactory(patient=patient, due_on=days(-60))
    result = FollowUpItemFactory(
        patient=patient, status=c.FollowUpStatus.DONE, done_on=days(-2), result=c.ImagingOutcome.ABNORMAL
    )
    awaited = FollowUpItemFactory(
        patient=patient,
        kind=c.FollowUpKind.BLOODS,
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
    test = recurrence.restaging.tests.get()
    distant = StagingTestFactory(
        episode=recurrence.restaging,
        modality=c.StagingModality.BONE_SCAN,
        performed_on=days(-3),
        reported_on=days(-2),
        result=c.StagingResult.DISTANT,
    )
    return {
        "patient": patient,
        "item": item,
        "result": result,
        "awaited": awaited,
        "recurrence": recurrence,
        "episode": recurrence.restaging,
        "test": test,
        "distant": distant,
        "symptom": SymptomReportFactory(patient=patient),
        "primary": PrimaryDiagnosisFactory(patient=patient),
    }


ACTION_H1 = [
    ("patient_edit", "patient", "Change patient details"),
    ("primary_add", "patient", "Record the primary diagnosis"),
    ("protocol_assign", "patient", "Start a follow-up schedule"),
    ("patient_discharge", "patient", "Discharge from follow-up"),
    ("patient_death", "patient", "Record a death"),
    ("item_add", "patient", "Add a follow-up item"),
    ("recurrence_add", "patient", "Record a recurrence"),
    ("symptom_add", "patient", "Record a symptom report"),
    ("item_book", "item", "Book the mammogram"),
    ("item_done", "item", "Record the mammogram as done"),
    ("item_dna", "item", "Record that the patient did not attend the mammogram"),
    ("item_cancel", "item", "Cancel the mammogram"),
    ("item_result", "awaited", "Record the bloods result"),
    ("item_acknowledge", "result", "Acknowledge the mammogram result"),
    ("item_next_step", "result", "Abnormal mammogram result: choose the next step"),
    ("recurrence_status", "recurrence", "Confirm or refute the regional recurrence"),
    ("staging_request", "episode", "Request a restaging test"),
    ("staging_result", "test", "Record the CT chest, abdomen and pelvis result"),
    ("staging_acknowledge", "distant", "Acknowledge the bone scan result"),
    ("staging_cancel", "test", "Cancel the CT chest, abdomen and pelvis"),
    ("secondary_from_test", "distant", "Record the secondary breast cancer found by the bone scan"),
    ("symptom_triage", "symptom", "Triage the symptom report"),
]
ERROR_H1 = [
    ("patient", "Mark the patient as entered in error"),
    ("primary", "Mark the primary diagnosis as entered in error"),
    ("item", "Mark the mammogram as entered in error"),
    ("recurrence", "Mark the regional recurrence as entered in error"),
    ("test", "Mark the CT chest, abdomen and pelvis as entered in error"),
    ("symptom", "Mark the symptom report as entered in error"),
]


def test_every_action_page_h1_names_its_task_under_the_patient_banner(nurse_client, nurse, patient):
    records = action_records(patient, nurse)
    targets = [(url(name, records[key].pk), h1) for name, key, h1 in ACTION_H1]
    targets += [(url("entered_in_error", kind, records[kind].pk), h1) for kind, h1 in ERROR_H1]
    for target, h1 in targets:
        response = nurse_client.get(target)
        assert response.status_code == 200, target
        root = pages.parse(response.content.decode())
        assert pages.headings(root, 1) == [h1], target
        banner = pages.find(root, lambda n: pages.has_class(n, "app-banner"))
        assert len(banner) == 1, target
        assert patient.family_name.upper() in pages.text(banner[0]), target
        assert pages.text(pages.find(root, lambda n: n[0] == "title")[0]).startswith(h1), target


def test_register_a_patient_and_hand_over_have_their_h1(client, nurse_client, admin_user):
    root = pages.parse(nurse_client.get(url("patient_create")).content.decode())
    assert pages.headings(root, 1) == ["Register a patient"]
    client.force_login(admin_user)
    root = pages.parse(client.get(url("caseload_hand_over")).content.decode())
    assert pages.headings(root, 1) == ["Hand over a caseload"]


def test_status_change_pages_are_styled_as_warnings(nurse_client, patient):
    for target, button in [
        (url("patient_discharge", patient.pk), "Discharge"),
        (url("patient_death", patient.pk), "Record the death"),
        (url("entered_in_error", "patient", patient.pk), "Mark as entered in error"),
    ]:
        root = pages.parse(nurse_client.get(target).content.decode())
        main = pages.by_id(root, "maincontent")
        submit = pages.find(main, lambda n: n[0] == "button" and n[1].get("type") == "submit")
        assert [(pages.text(b), pages.has_class(b, "nhsuk-button--warning")) for b in submit] == [(button, True)]
        assert pages.by_id(root, "action-warning") is not None, target


def test_the_patient_page_h1_is_the_patients_name(nurse_client, patient):
    root = page_of(nurse_client, patient)
    assert pages.headings(root, 1) == [patient.display_name]


# 3. Back links ------------------------------------------------------------------------------


def back_link(root) -> tuple[str, str]:
    """The back link (shown on narrow screens) and the breadcrumb trail (on wide screens)."""
    nav = pages.find(root, lambda n: n[0] == "nav" and n[1].get("aria-label") == "Breadcrumb")
    assert len(nav) == 1
    back = pages.find(nav[0], lambda n: n[0] == "a" and pages.has_class(n, "nhsuk-back-link"))
    assert len(back) == 1
    return pages.text(back[0]), back[0][1]["href"]


def breadcrumb(root) -> list[tuple[str, str]]:
    nav = pages.find(root, lambda n: n[0] == "nav" and n[1].get("aria-label") == "Breadcrumb")[0]
    return pages.links(pages.find(nav, lambda n: n[0] == "ol")[0])


def test_patient_page_from_a_worklist_goes_back_to_that_list_as_filtered(nurse_client, patient):
    came_from = "/worklists/overdue/?nurse=all&sort=due_on"
    root = page_of(nurse_client, patient, HTTP_REFERER=f"http://testserver{came_from}")
    assert back_link(root) == ("Back to Overdue follow-up", came_from)
    assert breadcrumb(root) == [("Worklists", url("worklists")), ("Overdue follow-up", came_from)]


def test_patient_page_from_a_patient_search_goes_back_to_the_search(nurse_client, patient):
    came_from = "/patients/?q=smith"
    root = page_of(nurse_client, patient, HTTP_REFERER=f"http://testserver{came_from}")
    assert back_link(root) == ("Back to Patients", came_from)


@pytest.mark.parametrize(
    "referer",
    [
        "https://elsewhere.example/worklists/overdue/",  # another site
        "http://testserver/items/1/book/",  # a page one does not go back to (an action)
        "http://testserver/no-such-page/",
        "",
    ],
)
def test_patient_page_from_anywhere_else_goes_back_to_patients(nurse_client, patient, referer):
    root = page_of(nurse_client, patient, HTTP_REFERER=referer)
    assert back_link(root) == ("Back to Patients", url("patient_list"))
    assert breadcrumb(root) == [("Patients", url("patient_list"))]


def test_patient_page_next_parameter_wins_when_it_is_a_safe_local_list(nurse_client, patient):
    response = nurse_client.get(url("patient_detail", patient.pk), {"next": "/worklists/results/"})
    assert back_link(pages.parse(response.content.decode())) == (
        "Back to Results to acknowledge",
        "/worklists/results/",
    )
    response = nurse_client.get(url("patient_detail", patient.pk), {"next": "//elsewhere.example/worklists/results/"})
    assert back_link(pages.parse(response.content.decode())) == ("Back to Patients", url("patient_list"))


def test_action_page_goes_back_to_the_patient_or_to_the_list_it_came_from(nurse_client, patient):
    item = FollowUpItemFactory(patient=patient, due_on=days(-60))
    root = pages.parse(nurse_client.get(url("item_book", item.pk)).content.decode())
    assert back_link(root) == (f"Back to {patient.display_name}", url("patient_detail", patient.pk))
    assert breadcrumb(root) == [
        ("Patients", url("patient_list")),
        (patient.display_name, url("patient_detail", patient.pk)),
    ]
    came_from = "/worklists/overdue/?page=2"
    root = pages.parse(nurse_client.get(url("item_book", item.pk), {"next": came_from}).content.decode())
    assert back_link(root) == ("Back to Overdue follow-up", came_from)
    root = pages.parse(
        nurse_client.get(url("item_book", item.pk), {"next": "https://elsewhere.example/"}).content.decode()
    )
    assert back_link(root) == (f"Back to {patient.display_name}", url("patient_detail", patient.pk))


def test_history_next_step_and_register_pages_have_a_back_link(nurse_client, nurse, patient):
    result = FollowUpItemFactory(
        patient=patient, status=c.FollowUpStatus.DONE, done_on=days(-2), result=c.ImagingOutcome.ABNORMAL
    )
    to_patient = (f"Back to {patient.display_name}", url("patient_detail", patient.pk))
    for target in (url("patient_history", patient.pk), url("item_next_step", result.pk)):
        root = pages.parse(nurse_client.get(target).content.decode())
        assert back_link(root) == to_patient, target
    root = pages.parse(nurse_client.get(url("patient_create")).content.decode())
    assert back_link(root) == ("Back to Patients", url("patient_list"))


def test_history_page_h1(nurse_client, patient):
    root = pages.parse(nurse_client.get(url("patient_history", patient.pk)).content.decode())
    assert pages.headings(root, 1) == ["Who changed what, and when"]


def test_top_level_pages_have_no_back_link(nurse_client):
    for target in (url("dashboard"), url("worklists"), url("patient_list"), url("reports")):
        root = pages.parse(nurse_client.get(target).content.decode())
        assert pages.find(root, lambda n: pages.has_class(n, "nhsuk-back-link")) == [], target


# The header marks the section each page belongs to ---------------------------------------


def current_section(client, target) -> list[str]:
    root = pages.parse(client.get(target).content.decode())
    menu = pages.find(root, lambda n: n[0] == "nav" and n[1].get("aria-label") == "Menu")[0]
    return [pages.text(a) for a in pages.find(menu, lambda n: n[0] == "a" and n[1].get("aria-current"))]


def test_the_header_marks_the_section_of_every_page(client, nurse, admin_user, patient):
    records = action_records(patient, nurse)
    client.force_login(admin_user)
    expected = {
        url("dashboard"): ["Dashboard"],
        url("dashboard_charts"): ["Dashboard"],
        url("worklists"): ["Worklists"],
        url("worklist", "overdue"): ["Worklists"],
        url("patient_list"): ["Patients"],
        url("patient_create"): ["Patients"],
        url("patient_detail", patient.pk): ["Patients"],
        url("patient_history", patient.pk): ["Patients"],
        url("caseload_hand_over"): ["Patients"],
        url("import_upload"): ["Patients"],
        url("reports"): ["Reports"],
        url("report_line_list", "recurrence-register"): ["Reports"],
    }
    for name, key, _ in ACTION_H1:
        expected[url(name, records[key].pk)] = ["Patients"]
    for kind, _ in ERROR_H1:
        expected[url("entered_in_error", kind, records[kind].pk)] = ["Patients"]
    found = {target: current_section(client, target) for target in expected}
    assert found == expected


def _followup_url_names():
    names = set()
    for pattern in get_resolver().url_patterns:
        if isinstance(pattern, URLResolver) and pattern.namespace == "followup":
            for inner in pattern.url_patterns:
                if isinstance(inner, URLPattern):
                    names.add(inner.name)
                else:
                    names |= {p.name for p in inner.url_patterns}
    return names


def test_every_page_of_the_app_belongs_to_a_section():
    from followup.context_processors import section_of

    sections = {name: section_of("followup", name) for name in _followup_url_names()}
    assert {name for name, section in sections.items() if section is None} == set()
    assert {name for name, section in sections.items() if section != "Patients"} == {
        "dashboard",
        "dashboard_charts",
        "worklists",
        "worklist",
        "worklist_acknowledge",
        "reports",
        "report_line_list",
        "report_summary",
    }
