"""The read side, through real requests: what each page lists and who may see it."""

import re
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from followup import choices as c
from followup import services
from followup.patient_tasks import TASKS
from followup.services import SiteEntry
from followup.worklists import WORKLISTS

from .factories import (
    ContactFactory,
    FollowUpItemFactory,
    GPPracticeFactory,
    PatientFactory,
    PrimaryDiagnosisFactory,
    RecurrenceFactory,
    RecurrenceSiteFactory,
    RestagingEpisodeFactory,
    StagingTestFactory,
    SymptomReportFactory,
    UserFactory,
)
from .integration.factories import unmatched_message
from .tasks.factories import TaskFactory

TODAY = timezone.localdate()


def days(n):
    return TODAY + timedelta(days=n)


def listed(response):
    """The records on the page's table, in order."""
    return [row.record for row in response.context["table"].paginated_rows]


def total(response):
    return response.context["table"].paginator.count


def worklist(client, slug, **params):
    return client.get(reverse("followup:worklist", args=[slug]), params)


@pytest.fixture
def colleague(nurse):
    """Another nurse in the same team."""
    return UserFactory(username="priya", team=nurse.team, role=c.Role.NURSE)


# Each worklist lists exactly the right rows -------------------------------------


def test_overdue_lists_my_overdue_items_most_overdue_first(nurse_client, nurse, colleague, other_nurse, patient):
    late = FollowUpItemFactory(patient=patient, due_on=days(-60))
    later = FollowUpItemFactory(patient=patient, due_on=days(-20))
    FollowUpItemFactory(patient=patient, due_on=TODAY)  # due today: not overdue
    FollowUpItemFactory(patient=patient, due_on=days(-10))  # inside the grace window
    wrong = FollowUpItemFactory(patient=patient, due_on=days(-90))
    services.record_mark_entered_in_error(record=wrong, reason="Wrong patient", by=nurse)
    colleagues = FollowUpItemFactory(patient=PatientFactory(team=nurse.team, named_nurse=colleague), due_on=days(-30))
    FollowUpItemFactory(patient=PatientFactory(team=other_nurse.team, named_nurse=other_nurse), due_on=days(-30))

    mine = worklist(nurse_client, "overdue")
    assert listed(mine) == [late, later]
    assert total(mine) == 2
    team = worklist(nurse_client, "overdue", nurse="all")
    assert listed(team) == [late, colleagues, later]
    assert "Escalated" in team.content.decode()


def test_due_soon_includes_due_today_and_the_grace_window(nurse_client, patient):
    grace = FollowUpItemFactory(patient=patient, due_on=days(-3))
    today = FollowUpItemFactory(patient=patient, due_on=TODAY)
    soon = FollowUpItemFactory(patient=patient, due_on=days(20))
    FollowUpItemFactory(patient=patient, due_on=days(200))
    assert listed(worklist(nurse_client, "due-soon")) == [grace, today, soon]


def test_results_and_staging_results_to_acknowledge(nurse_client, nurse, patient):
    unread = FollowUpItemFactory(
        patient=patient, status=c.FollowUpStatus.DONE, done_on=days(-2), result=c.ImagingOutcome.ABNORMAL
    )
    FollowUpItemFactory(
        patient=patient,
        status=c.FollowUpStatus.DONE,
        done_on=days(-2),
        result=c.ImagingOutcome.NORMAL,
        result_acknowledged_by=nurse,
        result_acknowledged_at=timezone.now(),
    )
    staging = StagingTestFactory(
        episode__recurrence__patient=patient,
        performed_on=days(-3),
        reported_on=days(-2),
        result=c.StagingResult.EQUIVOCAL,
    )
    assert listed(worklist(nurse_client, "results")) == [unread]
    assert listed(worklist(nurse_client, "staging-results")) == [staging]


def test_restaging_incomplete_leaves_out_refuted_and_shows_days_against_target(nurse_client, nurse, patient):
    old = RestagingEpisodeFactory(recurrence__patient=patient, recurrence__diagnosed_on=days(-40))
    new = RestagingEpisodeFactory(recurrence__patient=patient, recurrence__diagnosed_on=days(-5))
    RestagingEpisodeFactory(
        recurrence__patient=patient, recurrence__diagnosed_on=days(-20), recurrence__status=c.RecurrenceStatus.REFUTED
    )
    response = worklist(nurse_client, "restaging")
    assert listed(response) == [old, new]
    assert "Past target" in response.content.decode()


def test_distant_disease_not_recorded_until_secondary_cancer_is_recorded(nurse_client, nurse, patient):
    recurrence = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.REGIONAL,
        sites=[SiteEntry(c.Site.AXILLARY_NODES)],
        diagnosed_on=days(-20),
        by=nurse,
    )
    ct = services.staging_test_request(
        episode=recurrence.restaging, modality=c.StagingModality.CT_CAP, requested_on=days(-19), by=nurse
    )
    services.staging_test_record_result(
        test=ct,
        performed_on=days(-10),
        reported_on=days(-9),
        result=c.StagingResult.DISTANT,
        sites=[SiteEntry(c.Site.LIVER)],
        by=nurse,
    )
    response = worklist(nurse_client, "distant-not-recorded")
    assert listed(response) == [ct]
    assert "Liver" in response.content.decode()

    services.distant_recurrence_record_from_test(test=ct, by=nurse)
    assert listed(worklist(nurse_client, "distant-not-recorded")) == []


def test_symptoms_red_flags_first_and_marked_in_words(nurse_client, patient):
    waiting = SymptomReportFactory(patient=patient, reported_on=days(-5), area=c.SymptomArea.LUNG)
    urgent = SymptomReportFactory(patient=patient, reported_on=days(-1), red_flag=c.RedFlag.CORD_COMPRESSION)
    response = worklist(nurse_client, "symptoms")
    assert listed(response) == [urgent, waiting]
    assert "Red flag" in response.content.decode()
    assert listed(worklist(nurse_client, "symptoms", red_flag="on")) == [urgent]


def test_no_next_follow_up_lists_active_patients_with_nothing_open(nurse_client, nurse, patient):
    FollowUpItemFactory(
        patient=patient, due_on=days(-400), status=c.FollowUpStatus.DONE, done_on=days(-400), result="02"
    )
    followed = PatientFactory(team=nurse.team, named_nurse=nurse)
    FollowUpItemFactory(patient=followed, due_on=days(100))
    PatientFactory(
        team=nurse.team,
        named_nurse=nurse,
        status=c.PatientStatus.DECEASED,
        date_of_death=days(-3),
    )
    response = worklist(nurse_client, "no-follow-up")
    assert listed(response) == [patient]
    assert response.context["table"].paginated_rows[0].record.last_follow_up == days(-400)


def test_data_quality_lists_each_problem(nurse_client, nurse):
    def mine(**kwargs):
        return PatientFactory(team=nurse.team, named_nurse=nurse, **kwargs)

    fine = mine()
    PrimaryDiagnosisFactory(patient=fine)
    no_nhs = mine(nhs_number="")
    bad_nhs = mine(nhs_number="9434765918")
    no_site = mine()
    RecurrenceFactory(patient=no_site)
    no_side = mine()
    PrimaryDiagnosisFactory(patient=no_side, laterality="")

    response = worklist(nurse_client, "data-quality")
    assert sorted(listed(response), key=lambda p: p.pk) == [no_nhs, bad_nhs, no_site, no_side]
    body = response.content.decode()
    for label in (
        "Missing NHS number",
        "Invalid NHS number",
        "Recurrence without a site",
        "Primary without laterality",
    ):
        assert label in body
    assert listed(worklist(nurse_client, "data-quality", problem="invalid_nhs_number")) == [bad_nhs]


def test_unknown_worklist_is_404(nurse_client):
    assert worklist(nurse_client, "not-a-list").status_code == 404


def test_bad_filter_input_is_explained_beside_the_field(nurse_client, patient):
    FollowUpItemFactory(patient=patient, due_on=days(-60))
    response = worklist(nurse_client, "overdue", due_after="31/02/2026")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_due-error"' in body and "From date must be a real date" in body
    assert "There is a problem" in body


def test_sorting_by_a_column_and_ignoring_unknown_ones(nurse_client, nurse):
    zed = FollowUpItemFactory(
        patient=PatientFactory(team=nurse.team, named_nurse=nurse, family_name="Zed"), due_on=days(-60)
    )
    abe = FollowUpItemFactory(
        patient=PatientFactory(team=nurse.team, named_nurse=nurse, family_name="Abe"), due_on=days(-30)
    )
    assert listed(worklist(nurse_client, "overdue", sort="patient")) == [abe, zed]
    assert listed(worklist(nurse_client, "overdue", sort="-patient")) == [zed, abe]
    assert listed(worklist(nurse_client, "overdue", sort="password")) == [zed, abe]


def test_admin_sees_every_team_and_can_filter_by_team(client, admin_user, patient, other_nurse):
    theirs = PatientFactory(team=other_nurse.team, named_nurse=other_nurse)
    mine = FollowUpItemFactory(patient=patient, due_on=days(-60))
    other = FollowUpItemFactory(patient=theirs, due_on=days(-30))
    client.force_login(admin_user)
    assert listed(worklist(client, "overdue")) == [mine, other]
    assert listed(worklist(client, "overdue", team=theirs.team.pk)) == [other]


# Dashboard --------------------------------------------------------------------


@pytest.fixture
def busy_team(nurse, colleague, other_nurse):
    """At least one row on every list for the nurse, her colleague and the other team."""
    for owner in (nurse, colleague, other_nurse):
        patient = PatientFactory(team=owner.team, named_nurse=owner, nhs_number="")
        FollowUpItemFactory(patient=patient, due_on=days(-60))
        FollowUpItemFactory(patient=patient, due_on=days(5))
        FollowUpItemFactory(patient=patient, status=c.FollowUpStatus.DONE, done_on=days(-1), result="01")
        StagingTestFactory(
            episode__recurrence__patient=patient, performed_on=days(-3), reported_on=days(-2), result="distant"
        )
        SymptomReportFactory(patient=patient)
        lost = PatientFactory(team=owner.team, named_nurse=owner)
        RecurrenceFactory(patient=lost)


def test_dashboard_counts_equal_the_worklist_totals(nurse_client, busy_team):
    response = nurse_client.get(reverse("followup:dashboard"))
    counts = {worklist.slug: count for worklist, count in response.context["counts"]}
    assert set(counts) == set(WORKLISTS)
    for slug in WORKLISTS:
        assert counts[slug]["mine"] == total(worklist(nurse_client, slug)), slug
        assert counts[slug]["team"] == total(worklist(nurse_client, slug, nurse="all")), slug
    assert counts["overdue"] == {"mine": 1, "team": 2}
    assert counts["distant-not-recorded"] == {"mine": 1, "team": 2}
    body = response.content.decode()
    assert 'aria-label="Overdue follow-up, my caseload: 1"' in body


def test_dashboard_charts_have_a_table_alternative(nurse_client, nurse, colleague, busy_team):
    response = nurse_client.get(reverse("followup:dashboard_charts"))
    charts = {chart.id: chart for chart in response.context["charts"]}
    assert sorted(charts) == ["overdue-by-nurse", "recurrences-by-quarter", "restaging-turnaround"]
    # The other team's overdue item is not counted.
    assert sorted(charts["overdue-by-nurse"].rows) == sorted(
        [[nurse.get_full_name(), 1], [colleague.get_full_name(), 1]]
    )
    body = response.content.decode()
    assert "<h1>Dashboard charts</h1>" in body  # a page of its own, without JavaScript
    assert 'id="overdue-by-nurse-data"' in body and "the data as a table" in body
    assert '<h2 id="overdue-by-nurse-title"' in body
    assert "<script>" not in body  # no inline script: data travels as JSON


def test_the_dashboard_loads_its_charts_as_they_come_into_view(nurse_client, busy_team):
    """The counts come first: the charts are asked for by htmx when they scroll into view, and the link
    opens them without JavaScript."""
    url = reverse("followup:dashboard_charts")
    body = nurse_client.get(reverse("followup:dashboard")).content.decode()
    assert f'hx-get="{url}" hx-trigger="revealed" hx-swap="innerHTML"' in body
    assert f'<a class="nhsuk-link app-page-link" href="{url}">Open the charts on a page of their own</a>' in body
    assert "overdue-by-nurse-data" not in body
    fragment = nurse_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and '<h3 id="overdue-by-nurse-title"' in fragment
    assert 'id="recurrences-by-quarter-data"' in fragment


def test_the_charts_refuse_a_write(nurse_client):
    assert nurse_client.post(reverse("followup:dashboard_charts")).status_code == 405


def test_restaging_turnaround_median_and_within_target(nurse_client, nurse, patient, settings):
    settings.RESTAGING_TARGET_DAYS = 28
    for opened, closed in [(-60, -40), (-50, -10), (-45, -25)]:
        RestagingEpisodeFactory(
            recurrence__patient=patient,
            recurrence__diagnosed_on=days(opened),
            outcome=c.RestagingOutcome.NO_DISTANT,
            closed_on=days(closed),
        )
    charts = nurse_client.get(reverse("followup:dashboard_charts")).context["charts"]
    chart = next(ch for ch in charts if ch.id == "restaging-turnaround")
    rows = [row for row in chart.rows if row[1]]
    assert sum(row[1] for row in rows) == 3
    assert sum(row[3] for row in rows) == 2  # 20 and 20 days within 28; 40 days not


# Patients -----------------------------------------------------------------------


@pytest.mark.parametrize("term", ["943 476 5919", "9434765919", "RX1234", "rx1234", "Doe", "jane doe"])
def test_patient_search_by_nhs_number_hospital_number_and_name(nurse_client, nurse, term):
    jane = PatientFactory(
        team=nurse.team,
        named_nurse=nurse,
        nhs_number="9434765919",
        hospital_number="RX1234",
        given_name="Jane",
        family_name="Doe",
    )
    PatientFactory(team=nurse.team, named_nurse=nurse, nhs_number="4010232137", family_name="Other")
    response = nurse_client.get(reverse("followup:patient_list"), {"q": term})
    assert listed(response) == [jane]


def test_patient_search_never_shows_another_team(nurse_client, other_nurse):
    PatientFactory(team=other_nurse.team, named_nurse=other_nurse, nhs_number="9434765919")
    response = nurse_client.get(reverse("followup:patient_list"), {"q": "9434765919"})
    assert listed(response) == []


def test_patient_page_shows_banner_actions_and_timeline(nurse_client, nurse, patient):
    PrimaryDiagnosisFactory(patient=patient, laterality=c.Laterality.RIGHT)
    FollowUpItemFactory(patient=patient, due_on=days(-60))
    services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.REGIONAL,
        sites=[SiteEntry(c.Site.SUPRACLAVICULAR_NODES)],
        diagnosed_on=days(-7),
        by=nurse,
    )
    SymptomReportFactory(patient=patient, red_flag=c.RedFlag.CORD_COMPRESSION)
    response = nurse_client.get(reverse("followup:patient_detail", args=[patient.pk]))
    body = response.content.decode()
    assert patient.family_name.upper() in body
    assert patient.nhs_number_display in body
    assert "Under surveillance" in body and "Right" in body
    assert [w.slug for w, rows in response.context["actions"]] == [
        "overdue",
        "restaging",
        "symptoms",
        "mdt-not-discussed",
    ]
    timeline = response.context["timeline"]
    assert [event.title for event in timeline.upcoming] == ["Mammogram due"]
    history = [event.title for event in timeline.history]
    assert history[:2] == ["Bone symptoms reported", "Regional recurrence"]
    assert history[-1] == "Primary breast cancer diagnosed (Right)"


# Access ---------------------------------------------------------------------------


def test_another_teams_patient_is_404_with_no_patient_data(client, other_nurse, patient):
    client.force_login(other_nurse)
    response = client.get(reverse("followup:patient_detail", args=[patient.pk]))
    assert response.status_code == 404
    body = response.content.decode()
    assert patient.family_name not in body and patient.nhs_number not in body


def test_clinician_sees_the_team_and_admin_sees_all(client, patient, other_nurse, admin_user):
    clinician = UserFactory(team=patient.team, role=c.Role.CLINICIAN)
    theirs = PatientFactory(team=other_nurse.team, named_nurse=other_nurse)
    client.force_login(clinician)
    assert client.get(reverse("followup:patient_detail", args=[patient.pk])).status_code == 200
    assert client.get(reverse("followup:patient_detail", args=[theirs.pk])).status_code == 404
    client.force_login(admin_user)
    assert client.get(reverse("followup:patient_detail", args=[theirs.pk])).status_code == 200


def _all_url_names(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _all_url_names(entry, f"{namespace}{entry.namespace}:" if entry.namespace else namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry.pattern.regex.groupindex


SAMPLE_ARGS = {"pk": 1, "slug": "overdue", "kind": "item"}


def test_anonymous_users_are_sent_to_login_from_every_followup_url(client, patient):
    names = [(name, groups) for name, groups in _all_url_names() if name.startswith("followup:")]
    assert len(names) == len([name for name, _ in _all_url_names(get_resolver("followup.urls"))])
    for name, groups in names:
        url = reverse(name, kwargs={group: SAMPLE_ARGS[group] for group in groups})
        response = client.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("login") + "?next="), name


def test_login_page_logs_in_and_does_not_say_whether_the_user_exists(client, nurse):
    wrong_user = client.post(reverse("login"), {"username": "nobody", "password": "x"})
    wrong_password = client.post(reverse("login"), {"username": nurse.username, "password": "x"})
    assert wrong_user.context["form"].errors == wrong_password.context["form"].errors
    ok = client.post(reverse("login"), {"username": nurse.username, "password": "correct-horse-battery"})
    assert ok.status_code == 302 and ok["Location"] == reverse("followup:dashboard")


# Query counts ---------------------------------------------------------------------


def _rows_for(slug, nurse):
    """One more row on the given list, for this nurse."""
    patient = PatientFactory(team=nurse.team, named_nurse=nurse)
    match slug:
        case "overdue":
            FollowUpItemFactory(patient=patient, due_on=days(-60))
        case "due-soon":
            FollowUpItemFactory(patient=patient, due_on=days(3))
        case "results":
            FollowUpItemFactory(patient=patient, status=c.FollowUpStatus.DONE, done_on=days(-1), result="01")
        case "results-awaited":
            FollowUpItemFactory(patient=patient, status=c.FollowUpStatus.DONE, done_on=days(-1), result_awaited=True)
        case "staging-results" | "distant-not-recorded":
            test = StagingTestFactory(
                episode__recurrence__patient=patient, performed_on=days(-3), reported_on=days(-2), result="distant"
            )
            test.sites.create(site=c.Site.LIVER)
        case "restaging":
            episode = RestagingEpisodeFactory(recurrence__patient=patient)
            episode.recurrence.sites.create(
                metastatic_type="02", site=c.Site.AXILLARY_NODES, created_by=nurse, updated_by=nurse
            )
            StagingTestFactory(episode=episode)
        case "symptoms":
            SymptomReportFactory(patient=patient)
        case "no-follow-up":
            pass
        case "data-quality":
            patient.nhs_number = ""
            patient.save()
        case "pifu-ending":
            patient.follow_up_model = c.FollowUpModel.PIFU
            patient.pifu_starts_on, patient.pifu_ends_on = days(-1800), days(10)
            patient.save()
        case "mdt-not-discussed":
            recurrence = RecurrenceFactory(patient=patient)
            RecurrenceSiteFactory(recurrence=recurrence)
        case "my-tasks" | "team-tasks":
            TaskFactory(patient=patient, assigned_to=nurse)
        case "unmatched-results":
            unmatched_message(nurse.team)


# session, user, nurse choices for the filter, COUNT for the total, the page of rows;
# lists showing sites add one prefetch of them; restaging adds one prefetch of the
# page's tests, which its status (what each episode still needs) is read from.
WORKLIST_QUERIES = dict.fromkeys(WORKLISTS, 5) | {
    "staging-results": 6,
    "distant-not-recorded": 6,
    "restaging": 7,
    "mdt-not-discussed": 6,
}


@pytest.mark.parametrize("slug", list(WORKLISTS))
@pytest.mark.parametrize("rows", [1, 3])
def test_worklist_query_count_is_constant(slug, rows, nurse_client, nurse, django_assert_num_queries):
    for _ in range(rows):
        _rows_for(slug, nurse)
    with django_assert_num_queries(WORKLIST_QUERIES[slug]):
        response = worklist(nurse_client, slug)
    assert total(response) == rows


@pytest.mark.parametrize("rows", [1, 3])
def test_dashboard_query_count_is_constant(rows, nurse_client, nurse, django_assert_num_queries):
    for _ in range(rows):
        for slug in WORKLISTS:
            _rows_for(slug, nurse)
    # session, user; the kept counts of the patient flags (7 lists, data quality, no next follow-up); the open
    # items (overdue, due soon); PIFU ending; unmatched results; team tasks (my tasks too). The charts load
    # after (test_charts_query_count_is_constant).
    with django_assert_num_queries(7):
        response = nurse_client.get(reverse("followup:dashboard"))
    assert {w.slug: n["mine"] for w, n in response.context["counts"]}["overdue"] == rows


@pytest.mark.parametrize("rows", [1, 3])
def test_charts_query_count_is_constant(rows, nurse_client, nurse, django_assert_num_queries):
    for _ in range(rows):
        for slug in ("overdue", "restaging", "mdt-not-discussed"):
            _rows_for(slug, nurse)
    # session, user; the open items by nurse (the overdue chart); recurrences per quarter; restaging turnaround
    with django_assert_num_queries(5):
        response = nurse_client.get(reverse("followup:dashboard_charts"))
    assert response.context["charts"][0].rows == [[nurse.get_full_name(), rows]]


@pytest.mark.parametrize("rows", [1, 3])
def test_patient_list_query_count_is_constant(rows, nurse_client, nurse, django_assert_num_queries):
    PatientFactory.create_batch(rows, team=nurse.team, named_nurse=nurse)
    # session, user, nurse choices, COUNT, the page of patients (with nurse and team)
    with django_assert_num_queries(5):
        response = nurse_client.get(reverse("followup:patient_list"))
    assert total(response) == rows


@pytest.mark.parametrize("rows", [1, 3])
def test_patient_page_query_count_is_constant(rows, nurse_client, nurse, patient, django_assert_num_queries):
    practice = GPPracticeFactory()
    services.patient_update_contact_details(
        patient=patient, by=nurse, expected_version=None, gp_ods_code=practice.ods_code, phone_mobile="07700 900123"
    )
    # On PIFU with a period: the page asks the "PIFU ending" list too.
    services.patient_update(patient=patient, by=nurse, expected_version=None, follow_up_model=c.FollowUpModel.PIFU)
    services.patient_set_pifu_period(
        patient=patient, starts_on=days(-1800), ends_on=days(10), by=nurse, expected_version=None
    )
    for _ in range(rows):
        PrimaryDiagnosisFactory(patient=patient)
        FollowUpItemFactory(patient=patient, due_on=days(-60))
        recurrence = services.recurrence_record(
            patient=patient,
            metastatic_type=c.MetastaticType.LOCAL,
            sites=[SiteEntry(c.Site.SCAR)],
            diagnosed_on=days(-5),
            by=nurse,
        )
        services.staging_test_request(
            episode=recurrence.restaging, modality=c.StagingModality.CT_CAP, requested_on=days(-4), by=nurse
        )
        SymptomReportFactory(patient=patient)
        TaskFactory(patient=patient, assigned_to=nurse, due_on=days(-2))
        TaskFactory(
            patient=patient,
            status="done",
            done_at=timezone.now(),
            done_by=nurse,
            contact=ContactFactory(patient=patient),
        )
    # session, user, access check, the access-log row, the patient with nurse/team/protocol/GP practice,
    # 9 prefetches (primaries, items, recurrences+episode, sites, tests, test sites, symptoms, tasks,
    # contacts), one query per list of "What needs doing" for the open actions (patient_tasks.TASKS: the
    # task lists have their own section, from the tasks prefetch), the tests of the open restaging
    # episodes, which say what each still needs, the MDT discussions (mdt.patient_page) and the
    # letters (letters.patient_page).
    with django_assert_num_queries(5 + 9 + len(TASKS) + 1 + 1 + 1):
        response = nurse_client.get(reverse("followup:patient_detail", args=[patient.pk]))
    assert len([e for e in response.context["timeline"].history if e.category == "recurrence"]) == rows
    assert len(response.context["tasks"].open) == len(response.context["tasks"].closed) == rows
    assert practice.name in response.content.decode()


def test_patient_page_skips_the_lists_a_patient_has_no_rows_for(
    nurse_client, nurse, patient, django_assert_num_queries
):
    """No recurrence and no symptom report: the four lists of those rows cannot hold the patient,
    so their queries are not run; the open actions are still found."""
    PrimaryDiagnosisFactory(patient=patient)
    overdue = FollowUpItemFactory(patient=patient, due_on=days(-60))
    skipped = [
        w
        for w in WORKLISTS.values()
        if w.slug
        in {
            "staging-results",
            "restaging",
            "distant-not-recorded",
            "symptoms",
            "mdt-not-discussed",
            "my-tasks",
            "team-tasks",
            # Unmatched results: never on the patient page (most have no patient found).
            "unmatched-results",
            # Not on PIFU with a period.
            "pifu-ending",
        }
    ]
    # 6 prefetches (primaries, items, recurrences, symptoms, tasks, contacts): with no recurrence, Django
    # has no sites, tests or test sites to fetch (nor MDT discussions); then the letters.
    with django_assert_num_queries(5 + 6 + len(WORKLISTS) - len(skipped) + 1):
        response = nurse_client.get(reverse("followup:patient_detail", args=[patient.pk]))
    actions = dict(response.context["actions"])
    assert [w.slug for w in actions] == ["overdue"]
    assert [row.text for row in actions[WORKLISTS["overdue"]]] == [str(overdue)]


def test_date_range_filter_keeps_what_was_typed(nurse_client, patient):
    early = FollowUpItemFactory(patient=patient, due_on=days(-90))
    FollowUpItemFactory(patient=patient, due_on=days(-30))
    start, end = days(-100).isoformat(), days(-60).isoformat()
    response = worklist(nurse_client, "overdue", due_after=start, due_before=end)
    assert listed(response) == [early]
    # Typed as one ISO value each, shown back in the date inputs' boxes (day, month, year).
    body = response.content.decode()
    shown = dict(re.findall(r'name="(due_(?:after|before)_\d)"[^>]*value="([^"]*)"', body))
    assert shown == {
        "due_after_0": str(days(-100).day),
        "due_after_1": str(days(-100).month),
        "due_after_2": str(days(-100).year),
        "due_before_0": str(days(-60).day),
        "due_before_1": str(days(-60).month),
        "due_before_2": str(days(-60).year),
    }


def test_patients_page_offers_registration_to_nurses_and_hand_over_to_admins(client, nurse, admin_user):
    clinician = UserFactory(team=nurse.team, role=c.Role.CLINICIAN)
    pages = {}
    for user in (nurse, clinician, admin_user):
        client.force_login(user)
        pages[user.role] = client.get(reverse("followup:patient_list")).content.decode()
    register, hand_over = reverse("followup:patient_create"), reverse("followup:caseload_hand_over")
    assert register in pages["nurse"] and hand_over not in pages["nurse"]
    assert register not in pages["clinician"] and hand_over not in pages["clinician"]
    assert register in pages["admin"] and hand_over in pages["admin"]
