"""PIFU (issue 16): the period (from the protocol or set by the nurse), the banner, the failsafe list "PIFU ending",
and ending PIFU (discharge to the GP with both discharge letters, all or nothing); scope and role on every new URL."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from followup import choices as c
from followup import services
from followup.display import show_date
from followup.models import FollowUpItem, Patient
from followup.worklists import WORKLISTS
from letters.choices import LetterKind
from letters.models import Letter, Letterhead
from letters.services import PIFU_END_REASON

from ..factories import (
    FollowUpItemFactory,
    FollowUpProtocolFactory,
    PatientFactory,
    ProtocolStepFactory,
    UserFactory,
)
from ..letters.factories import LetterheadFactory, letter_patient
from ..letters.test_letters import one_line, text_of

TODAY = timezone.localdate()
SLUG = "pifu-ending"


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


def pifu_patient(nurse, *, ends_in: int | None = 20, **fields) -> Patient:
    """A patient of ``nurse`` on PIFU, the period ending ``ends_in`` days from today (None: no period)."""
    period = {} if ends_in is None else {"pifu_starts_on": days(ends_in - 1800), "pifu_ends_on": days(ends_in)}
    fields = {"team": nurse.team, "named_nurse": nurse, "follow_up_model": c.FollowUpModel.PIFU, **period, **fields}
    return PatientFactory(**fields)


def on_list(user) -> list[Patient]:
    return list(WORKLISTS[SLUG].for_user(user, today=TODAY))


def page_text(response) -> str:
    return response.content.decode()


@pytest.fixture
def clinician(team):
    return UserFactory(username="sam", team=team, role=c.Role.CLINICIAN)


@pytest.fixture
def zoe(nurse):
    """On PIFU, the period ended yesterday; address, GP practice and the team's letterhead: letters can go."""
    return letter_patient(
        team=nurse.team,
        named_nurse=nurse,
        follow_up_model=c.FollowUpModel.PIFU,
        pifu_starts_on=date(2021, 12, 1),
        pifu_ends_on=days(-1),
    )


# The period --------------------------------------------------------------------------------------------------------


def test_protocol_assign_sets_the_pifu_period_from_the_protocols_pifu_months(nurse):
    patient = pifu_patient(nurse, ends_in=None)
    protocol = FollowUpProtocolFactory(pifu_months=60)
    ProtocolStepFactory(protocol=protocol)
    services.protocol_assign(patient=patient, protocol=protocol, start_on=date(2024, 1, 31), by=nurse)
    patient.refresh_from_db()
    assert (patient.pifu_starts_on, patient.pifu_ends_on) == (date(2024, 1, 31), date(2029, 1, 31))


def test_starting_the_schedule_of_a_pifu_patient_says_until_when(nurse_client, nurse):
    patient = pifu_patient(nurse, ends_in=None)
    protocol = FollowUpProtocolFactory(name="PIFU five years", pifu_months=60)
    ProtocolStepFactory(protocol=protocol, occurrences=1, interval_months=None)
    response = nurse_client.post(
        reverse("followup:protocol_assign", args=[patient.pk]),
        {"protocol": protocol.pk, "protocol_start_on": "2026-01-05"},
        follow=True,
    )
    assert "1 follow-up item scheduled from PIFU five years. PIFU until 5 Jan 2031." in page_text(response)
    assert "PIFU until 5 Jan 2031" in banner(response)


def test_protocol_assign_sets_no_pifu_period_for_another_model_or_a_protocol_without_pifu_months(nurse):
    clinic = PatientFactory(team=nurse.team, named_nurse=nurse, follow_up_model=c.FollowUpModel.CLINIC)
    services.protocol_assign(
        patient=clinic, protocol=FollowUpProtocolFactory(pifu_months=60), start_on=date(2024, 1, 31), by=nurse
    )
    pifu = pifu_patient(nurse, ends_in=None)
    services.protocol_assign(patient=pifu, protocol=FollowUpProtocolFactory(), start_on=date(2024, 1, 31), by=nurse)
    assert list(Patient.objects.filter(pifu_ends_on__isnull=False)) == []


def period_url(patient) -> str:
    return reverse("followup:patient_pifu_period", args=[patient.pk])


def set_period(client, patient, starts_on, ends_on, version=None):
    return client.post(
        period_url(patient),
        {
            "pifu_starts_on": starts_on.isoformat() if starts_on else "",
            "pifu_ends_on": ends_on.isoformat() if ends_on else "",
            "version": patient.version if version is None else version,
        },
    )


def test_nurse_sets_the_pifu_period_and_the_history_keeps_each_change(nurse_client, nurse):
    patient = pifu_patient(nurse, ends_in=None)
    response = set_period(nurse_client, patient, date(2026, 1, 5), date(2031, 1, 5))
    assert response.status_code == 302
    assert response.url == reverse("followup:patient_detail", args=[patient.pk])
    patient.refresh_from_db()
    assert (patient.pifu_starts_on, patient.pifu_ends_on, patient.version) == (date(2026, 1, 5), date(2031, 1, 5), 2)
    set_period(nurse_client, patient, date(2026, 1, 5), date(2030, 6, 30))
    patient.refresh_from_db()
    assert patient.pifu_ends_on == date(2030, 6, 30)
    history = [(h.pifu_ends_on, h.history_user) for h in patient.history.order_by("history_id")]
    assert history == [(None, nurse), (date(2031, 1, 5), nurse), (date(2030, 6, 30), nurse)]
    page = page_text(nurse_client.get(reverse("followup:patient_detail", args=[patient.pk])))
    assert "PIFU period saved: 5 Jan 2026 to 30 Jun 2030." in page


def test_pifu_period_page_offers_the_dates_saved(nurse_client, nurse):
    patient = pifu_patient(nurse, ends_in=20)
    form = nurse_client.get(period_url(patient)).context["form"]
    assert (form.initial["pifu_starts_on"], form.initial["pifu_ends_on"]) == (days(-1780), days(20))


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "errors"),
    [
        (date(2026, 1, 5), date(2026, 1, 5), {"pifu_ends_on": ["The end of the PIFU period must be after its start."]}),
        (date(2026, 1, 5), date(2025, 1, 5), {"pifu_ends_on": ["The end of the PIFU period must be after its start."]}),
        (date(2026, 1, 5), None, {"pifu_ends_on": ["Enter the date PIFU ends"]}),
        (None, date(2031, 1, 5), {"pifu_starts_on": ["Enter the date PIFU starts"]}),
        (
            date(1950, 1, 5),
            date(2031, 1, 5),
            {"pifu_starts_on": ["The PIFU start date cannot be before the date of birth (17 May 1960)."]},
        ),
    ],
)
def test_pifu_period_bad_input_is_refused_beside_its_field(nurse_client, nurse, starts_on, ends_on, errors):
    patient = pifu_patient(nurse, ends_in=None)
    response = set_period(nurse_client, patient, starts_on, ends_on)
    assert response.status_code == 200
    assert response.context["form"].errors == errors
    patient.refresh_from_db()
    assert (patient.pifu_ends_on, patient.version) == (None, 1)


def test_pifu_period_saved_by_someone_else_meanwhile_is_a_conflict_and_nothing_is_overwritten(client, nurse, priya):
    patient = pifu_patient(nurse, ends_in=None)
    opened = patient.version
    services.patient_set_pifu_period(
        patient=patient, starts_on=date(2026, 1, 5), ends_on=date(2031, 1, 5), by=priya, expected_version=opened
    )
    client.force_login(nurse)
    response = set_period(client, patient, date(2026, 2, 1), date(2029, 2, 1), version=opened)
    assert response.status_code == 409
    assert "Priya Shah changed this record" in page_text(response)
    patient.refresh_from_db()
    assert (patient.pifu_starts_on, patient.pifu_ends_on, patient.updated_by) == (
        date(2026, 1, 5),
        date(2031, 1, 5),
        priya,
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"follow_up_model": c.FollowUpModel.CLINIC},
            "This patient's follow-up is clinic-led, not patient-initiated: change the follow-up "
            "model first (Change details).",
        ),
        (
            {"status": c.PatientStatus.DISCHARGED, "discharged_on": date(2026, 1, 1), "discharge_reason": "Done."},
            "Setting a PIFU period is not possible for a discharged patient.",
        ),
    ],
)
def test_pifu_period_is_refused_for_a_patient_not_on_pifu_or_not_active(nurse_client, nurse, fields, message):
    patient = pifu_patient(nurse, ends_in=None, **fields)
    response = set_period(nurse_client, patient, date(2026, 1, 5), date(2031, 1, 5))
    assert response.context["form"].errors == {"__all__": [message]}
    patient.refresh_from_db()
    assert patient.pifu_ends_on is None


# The banner and the patient page -------------------------------------------------------------------------------------


def banner(response) -> str:
    text = page_text(response)
    start = text.index('<section class="app-banner"')
    return text[start : text.index("</section>", start)]


def test_banner_says_until_when_pifu_lasts_on_the_patient_page_and_the_action_pages(nurse_client, nurse):
    patient = pifu_patient(nurse, ends_in=None, pifu_starts_on=date(2026, 12, 7), pifu_ends_on=date(2031, 12, 7))
    for url in (
        reverse("followup:patient_detail", args=[patient.pk]),
        reverse("followup:patient_discharge", args=[patient.pk]),
        reverse("contacts:contact_add", args=[patient.pk]),
    ):
        assert "PIFU until 7 Dec 2031" in banner(nurse_client.get(url)), url


def test_banner_says_when_pifu_ended(nurse_client, nurse):
    patient = pifu_patient(nurse, ends_in=None, pifu_starts_on=date(2021, 12, 1), pifu_ends_on=days(-6))
    shown = banner(nurse_client.get(reverse("followup:patient_detail", args=[patient.pk])))
    assert f'<strong class="nhsuk-tag nhsuk-tag--red">PIFU ended {show_date(days(-6))}</strong>' in shown


def test_banner_says_nothing_of_pifu_for_a_patient_on_another_model(nurse_client, nurse, patient):
    services.patient_set_pifu_period  # noqa: B018 - the period belongs to PIFU patients only
    assert "PIFU" not in banner(nurse_client.get(reverse("followup:patient_detail", args=[patient.pk])))


def test_patient_on_pifu_without_a_period_the_page_prompts_to_set_one(nurse_client, nurse):
    patient = pifu_patient(nurse, ends_in=None)
    response = nurse_client.get(reverse("followup:patient_detail", args=[patient.pk]))
    text = page_text(response)
    assert "PIFU, no period set" in banner(response)
    assert (
        "This patient is on patient-initiated follow-up with no PIFU period set: set one, so that the end of PIFU "
        "is not missed." in text
    )
    assert f'href="{period_url(patient)}">Set the PIFU period</a>' in text
    assert "Nothing needs doing for this patient now." not in text


# The list "PIFU ending" --------------------------------------------------------------------------------------------


def test_pifu_ending_lists_active_pifu_patients_ending_within_30_days_or_ended_most_overdue_first(nurse, priya):
    in_30 = pifu_patient(nurse, ends_in=30)
    today = pifu_patient(nurse, ends_in=0)
    ended = pifu_patient(nurse, ends_in=-200)
    on_treatment = pifu_patient(nurse, ends_in=-3, status=c.PatientStatus.ON_TREATMENT)
    pifu_patient(nurse, ends_in=31)  # not yet
    pifu_patient(
        nurse,
        ends_in=-5,
        status=c.PatientStatus.DISCHARGED,
        discharged_on=days(-5),
        discharge_reason=PIFU_END_REASON,
    )
    pifu_patient(nurse, ends_in=-5, status=c.PatientStatus.DECEASED, date_of_death=days(-7))
    pifu_patient(nurse, ends_in=5, follow_up_model=c.FollowUpModel.CLINIC)  # moved off PIFU
    no_period = pifu_patient(nurse, ends_in=None)  # it would never end: first on the list
    wrong = pifu_patient(nurse, ends_in=3)
    services.record_mark_entered_in_error(record=wrong, reason="Duplicate registration", by=priya)
    assert on_list(nurse) == [no_period, ended, on_treatment, today, in_30]


def test_pifu_ending_a_patient_with_no_period_is_listed_first_asking_to_set_one(nurse_client, nurse):
    pifu_patient(nurse, ends_in=10, given_name="Ada", family_name="Soon")
    never = pifu_patient(nurse, ends_in=None, given_name="Nell", family_name="Never")
    response = worklist(nurse_client)
    assert listed(response) == [never, *listed(response)[1:]]
    text = page_text(response)
    assert (
        '<br><span class="app-row-secondary"><strong class="nhsuk-tag nhsuk-tag--red">No period set</strong></span>'
        in text
    )
    assert 'Set the PIFU period<span class="nhsuk-u-visually-hidden"> for NEVER, Nell</span>' in text
    assert 'End PIFU<span class="nhsuk-u-visually-hidden"> for NEVER, Nell</span>' not in text
    page = page_text(nurse_client.get(reverse("followup:patient_detail", args=[never.pk])))
    assert "Patient-initiated follow-up with no period set: it would never end. Set the PIFU period." in page


def test_pifu_on_its_last_day_ends_today_everywhere_and_has_ended_the_day_after(nurse_client, nurse):
    """One rule (Patient.pifu_ended): on the end day PIFU still runs (banner, list, letter); the day after it
    has ended (banner, list, and the PIFU letter is refused)."""
    from letters.content import refusal

    letterhead = LetterheadFactory(team=nurse.team)
    last_day = pifu_patient(nurse, ends_in=0, address_line_1="1 Test Road", postcode="ZZ99 1AA")
    over = pifu_patient(nurse, ends_in=-1, address_line_1="2 Test Road", postcode="ZZ99 1AA")
    assert (last_day.pifu_ended(TODAY), over.pifu_ended(TODAY)) == (False, True)
    assert f"PIFU until {show_date(TODAY)}" in banner(
        nurse_client.get(reverse("followup:patient_detail", args=[last_day.pk]))
    )
    assert f"PIFU ended {show_date(days(-1))}" in banner(
        nurse_client.get(reverse("followup:patient_detail", args=[over.pk]))
    )
    text = page_text(worklist(nurse_client))
    assert "Ends today" in text and "Ended 1 day ago" in text
    assert refusal(patient=last_day, kind=LetterKind.PIFU, letterhead=letterhead, today=TODAY) == ""
    assert refusal(patient=over, kind=LetterKind.PIFU, letterhead=letterhead, today=TODAY).startswith(
        "Patient-initiated follow-up ended on "
    )


def test_pifu_ending_the_setting_says_how_far_ahead(nurse, settings):
    settings.PIFU_ENDING_DAYS = 7
    soon = pifu_patient(nurse, ends_in=7)
    pifu_patient(nurse, ends_in=8)
    assert on_list(nurse) == [soon]


def test_pifu_ending_another_teams_patients_are_not_listed(nurse, other_nurse):
    theirs = pifu_patient(other_nurse, ends_in=3)
    assert on_list(nurse) == []
    assert on_list(other_nurse) == [theirs]


def worklist(client, **params):
    return client.get(reverse("followup:worklist", args=[SLUG]), params)


def listed(response) -> list:
    return [row.record for row in response.context["table"].paginated_rows]


def test_pifu_ending_page_my_caseload_first_then_the_team(nurse_client, nurse, priya):
    mine = pifu_patient(nurse, ends_in=10)
    hers = pifu_patient(priya, ends_in=-2)
    assert listed(worklist(nurse_client)) == [mine]
    assert listed(worklist(nurse_client, nurse="all")) == [hers, mine]


def test_pifu_ending_page_shows_the_end_the_days_and_the_end_pifu_link(nurse_client, nurse):
    soon = pifu_patient(nurse, ends_in=10, given_name="Ada", family_name="Soon")
    late = pifu_patient(nurse, ends_in=-4, given_name="Bea", family_name="Late")
    text = page_text(worklist(nurse_client))
    assert f'{show_date(days(10))}<br><span class="app-row-secondary">10 days left</span>' in text
    assert (
        f'{show_date(days(-4))}<br><span class="app-row-secondary">'
        '<strong class="nhsuk-tag nhsuk-tag--red">Ended 4 days ago</strong></span>'
    ) in text
    for patient in (soon, late):
        assert f'href="{reverse("letters:pifu_end", args=[patient.pk])}?next=' in text
        assert f'href="{period_url(patient)}?next=' in text
    assert 'End PIFU<span class="nhsuk-u-visually-hidden"> for LATE, Bea</span>' in text


def test_pifu_ending_the_read_only_role_sees_the_list_without_actions(client, clinician, nurse):
    pifu_patient(nurse, ends_in=10)
    client.force_login(clinician)
    response = worklist(client)
    assert len(listed(response)) == 1
    assert "End PIFU" not in page_text(response)


def test_pifu_ending_dashboard_counts_mine_and_the_team(nurse_client, nurse, priya):
    pifu_patient(nurse, ends_in=10)
    pifu_patient(nurse, ends_in=-1)
    pifu_patient(priya, ends_in=0)
    pifu_patient(nurse, ends_in=40)
    response = nurse_client.get(reverse("followup:dashboard"))
    counts = {worklist.slug: n for worklist, n in response.context["counts"]}
    assert counts[SLUG] == {"team": 3, "mine": 2}
    assert reverse("followup:worklist", args=[SLUG]) in page_text(response)


def test_pifu_ending_download_has_the_patient_nurse_end_and_days(nurse_client, nurse):
    patient = pifu_patient(nurse, ends_in=-4, given_name="Bea", family_name="Late")
    response = worklist(nurse_client, export="csv")
    content = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))
    assert rows[0] == ["Patient", "NHS number", "Named nurse", "PIFU ends", "Days left (negative: ended)"]
    assert rows[1] == [
        "LATE, Bea",
        patient.nhs_number,
        nurse.get_full_name(),
        days(-4).isoformat(),
        "-4",
    ]


def _pifu_rows(client, patient) -> list:
    response = client.get(reverse("followup:patient_detail", args=[patient.pk]))
    return {worklist.slug: rows for worklist, rows in response.context["actions"]}.get(SLUG, [])


def test_pifu_ending_the_patient_page_asks_to_end_pifu(nurse_client, nurse):
    ended = pifu_patient(nurse, ends_in=-3)
    [row] = _pifu_rows(nurse_client, ended)
    assert row.text == (
        f"Patient-initiated follow-up ended {show_date(days(-3))} (ended 3 days ago), and the patient is still "
        "under follow-up."
    )
    assert [task.url for task in row.tasks] == [reverse("letters:pifu_end", args=[ended.pk]), period_url(ended)]
    [row] = _pifu_rows(nurse_client, pifu_patient(nurse, ends_in=1))
    assert row.text == f"Patient-initiated follow-up ends {show_date(days(1))} (1 day left)."
    assert _pifu_rows(nurse_client, pifu_patient(nurse, ends_in=31)) == []


@pytest.mark.parametrize("rows", [1, 3])
def test_pifu_ending_worklist_query_count_is_constant(rows, nurse_client, nurse, django_assert_num_queries):
    for n in range(rows):
        pifu_patient(nurse, ends_in=n - 1)
    # session, user, nurse choices for the filter, COUNT for the total, the page of rows (with named nurse,
    # team and the last contact).
    with django_assert_num_queries(5):
        response = worklist(nurse_client)
    assert response.context["table"].paginator.count == rows


@pytest.mark.parametrize("rows", [1, 3])
def test_pifu_ending_download_query_count_is_constant(rows, nurse_client, nurse, django_assert_num_queries):
    for n in range(rows):
        pifu_patient(nurse, ends_in=n - 1)
    # session, user, nurse choices for the filter, COUNT of the rows, the export log row (INSERT), then in a
    # savepoint (SAVEPOINT, RELEASE) the rows (with named nurse, team and the last contact) and the log's count
    # and end (UPDATE); on PostgreSQL the download's query runs with JIT off (SET LOCAL jit = off) too.
    with django_assert_num_queries(10 if connection.vendor == "postgresql" else 9):
        response = worklist(nurse_client, export="csv")
        content = b"".join(response.streaming_content) if response.streaming else response.content
    assert len(content.decode().strip().splitlines()) == rows + 1


# Ending PIFU --------------------------------------------------------------------------------------------------------


def end_url(patient) -> str:
    return reverse("letters:pifu_end", args=[patient.pk])


def end_pifu(client, patient, on=None, version=None):
    return client.post(
        end_url(patient),
        {"discharged_on": (on or TODAY).isoformat(), "version": patient.version if version is None else version},
    )


def test_end_pifu_page_offers_the_periods_end_once_it_has_come(nurse_client, nurse, zoe):
    response = nurse_client.get(end_url(zoe))
    assert response.context["form"].initial["discharged_on"] == days(-1)
    text = page_text(response)
    assert "Ending PIFU discharges this patient to their GP" in text
    assert "Fictional Lane Surgery (Y90001)" in text
    future = pifu_patient(nurse, ends_in=12)
    assert nurse_client.get(end_url(future)).context["form"].initial["discharged_on"] is None


def test_end_pifu_discharges_to_the_gp_issues_both_letters_logs_the_contacts_and_cancels_open_items(
    nurse_client, nurse, zoe
):
    item = FollowUpItemFactory(patient=zoe, kind=c.FollowUpKind.MAMMOGRAM, due_on=days(40))
    response = end_pifu(nurse_client, zoe, on=days(-1))
    assert response.status_code == 302
    zoe.refresh_from_db()
    assert (zoe.status, zoe.discharged_on, zoe.discharge_reason) == (
        c.PatientStatus.DISCHARGED,
        days(-1),
        "End of patient-initiated follow-up",
    )
    item.refresh_from_db()
    assert (item.status, item.cancel_reason) == (
        c.FollowUpStatus.CANCELLED,
        "Patient discharged: End of patient-initiated follow-up",
    )
    letters = list(Letter.objects.filter(patient=zoe).order_by("pk"))
    assert [(letter.kind, letter.addressee, letter.issued_by) for letter in letters] == [
        (LetterKind.DISCHARGE_PATIENT, "Zoë O’Brien", nurse),
        (LetterKind.DISCHARGE_GP, "Fictional Lane Surgery", nurse),
    ]
    to_patient = one_line(text_of(bytes(letters[0].document.pdf)))
    assert f"From {days(-1).day} {days(-1):%B %Y} your GP looks after your care." in to_patient
    to_gp = one_line(text_of(bytes(letters[1].document.pdf)))
    assert "is discharged to your care from" in to_gp
    assert "Reason for discharge: End of patient-initiated follow-up" in to_gp
    contacts = list(Contact.objects.filter(patient=zoe).order_by("pk"))
    assert [(contact.kind, contact.with_whom, contact.by) for contact in contacts] == [
        ("letter", "patient", nurse),
        ("letter", "gp", nurse),
    ]
    assert [letter.contact for letter in letters] == contacts
    assert on_list(nurse) == []
    page = page_text(nurse_client.get(response.url))
    assert (
        f"PIFU ended: discharged to the GP from {show_date(days(-1))}. Discharge letters issued to Zoë O’Brien and "
        "Fictional Lane Surgery (listed under Letters); open follow-up items were cancelled."
    ) in page.replace("&#x27;", "'").replace("&rsquo;", "’")


def test_end_pifu_from_the_list_comes_back_to_the_list_without_the_patient(nurse_client, nurse, zoe):
    assert on_list(nurse) == [zoe]
    back = reverse("followup:worklist", args=[SLUG])
    response = nurse_client.post(
        end_url(zoe), {"discharged_on": TODAY.isoformat(), "version": zoe.version, "next": back}
    )
    assert response.url == back
    assert listed(nurse_client.get(back)) == []


def _refused_and_nothing_done(response, zoe, message):
    assert response.status_code == 200
    assert response.context["form"].errors == {"__all__": [message]}
    zoe.refresh_from_db()
    assert (zoe.status, zoe.discharged_on, zoe.version) == (c.PatientStatus.SURVEILLANCE, None, 1)
    assert list(Letter.all_objects.filter(patient=zoe)) == []
    assert list(Contact.all_objects.filter(patient=zoe)) == []
    assert FollowUpItem.objects.open().filter(patient=zoe).count() == 1


def test_end_pifu_refused_while_restaging_is_incomplete_and_nothing_is_done(nurse_client, nurse, zoe):
    FollowUpItemFactory(patient=zoe, due_on=days(40))
    services.recurrence_record(
        patient=zoe,
        metastatic_type=c.MetastaticType.LOCAL,
        sites=[services.SiteEntry(c.Site.SCAR)],
        diagnosed_on=days(-5),
        restaging_tests=[c.StagingModality.CT_CAP],
        by=nurse,
    )
    zoe.refresh_from_db()
    response = end_pifu(nurse_client, zoe)
    _refused_and_nothing_done(
        response, zoe, "Restaging is still incomplete for this patient: complete it before discharge."
    )


def test_end_pifu_refused_without_a_letterhead_and_nothing_is_done(nurse_client, nurse, zoe):
    FollowUpItemFactory(patient=zoe, due_on=days(40))
    Letterhead.objects.filter(team=zoe.team).delete()
    _refused_and_nothing_done(
        end_pifu(nurse_client, zoe),
        zoe,
        "North Breast Unit has no letterhead yet: an admin sets it up in the admin site (Letterheads).",
    )


def test_end_pifu_refused_without_a_gp_practice_and_nothing_is_done(nurse_client, nurse, zoe):
    FollowUpItemFactory(patient=zoe, due_on=days(40))
    Patient.objects.filter(pk=zoe.pk).update(gp_practice=None)
    _refused_and_nothing_done(
        end_pifu(nurse_client, zoe),
        zoe,
        "No GP practice is recorded for this patient, so a letter to the GP cannot be written.",
    )


def test_end_pifu_refused_for_a_patient_not_on_pifu(nurse_client, nurse, zoe):
    FollowUpItemFactory(patient=zoe, due_on=days(40))
    Patient.objects.filter(pk=zoe.pk).update(follow_up_model=c.FollowUpModel.CLINIC)
    _refused_and_nothing_done(
        end_pifu(nurse_client, zoe),
        zoe,
        "This patient's follow-up is clinic-led, not patient-initiated: discharge them from follow-up instead "
        "(Discharge).",
    )


def test_end_pifu_after_someone_elses_change_is_a_conflict_and_nothing_is_done(client, nurse, priya, zoe):
    opened = zoe.version
    services.patient_set_pifu_period(
        patient=zoe, starts_on=date(2021, 12, 1), ends_on=days(20), by=priya, expected_version=opened
    )
    client.force_login(nurse)
    response = end_pifu(client, zoe, version=opened)
    assert response.status_code == 409
    zoe.refresh_from_db()
    assert (zoe.status, zoe.pifu_ends_on) == (c.PatientStatus.SURVEILLANCE, days(20))
    assert list(Letter.all_objects.filter(patient=zoe)) == []


def test_patient_page_offers_end_pifu_and_the_pifu_period(nurse_client, nurse, zoe):
    text = page_text(nurse_client.get(reverse("followup:patient_detail", args=[zoe.pk])))
    assert f'href="{end_url(zoe)}">End PIFU and discharge</a>' in text
    assert f'href="{period_url(zoe)}">Change the PIFU period</a>' in text


# Scope and role on every new URL ------------------------------------------------------------------------------------

NEW_URLS = ["followup:patient_pifu_period", "letters:pifu_end"]


@pytest.mark.parametrize("url_name", NEW_URLS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_pifu_urls_another_teams_nurse_gets_404(client, other_nurse, nurse, zoe, url_name, method):
    client.force_login(other_nurse)
    data = {"discharged_on": TODAY.isoformat(), "pifu_starts_on": "2026-01-01", "pifu_ends_on": "2031-01-01"}
    response = getattr(client, method)(reverse(url_name, args=[zoe.pk]), {**data, "version": zoe.version})
    assert response.status_code == 404
    zoe.refresh_from_db()
    assert (zoe.status, zoe.version) == (c.PatientStatus.SURVEILLANCE, 1)


@pytest.mark.parametrize("url_name", NEW_URLS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_pifu_urls_the_read_only_role_is_refused(client, clinician, zoe, url_name, method):
    client.force_login(clinician)
    data = {"discharged_on": TODAY.isoformat(), "pifu_starts_on": "2026-01-01", "pifu_ends_on": "2031-01-01"}
    response = getattr(client, method)(reverse(url_name, args=[zoe.pk]), {**data, "version": zoe.version})
    assert response.status_code == 403
    zoe.refresh_from_db()
    assert (zoe.status, zoe.version) == (c.PatientStatus.SURVEILLANCE, 1)
    assert list(Letter.all_objects.filter(patient=zoe)) == []
