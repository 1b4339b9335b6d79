"""The patient's page: the report it records, the guidance it gives, and nothing it shows about anyone."""

from datetime import date

import pytest
from django.core import mail, signing
from django.urls import reverse

from followup import choices as c
from followup.models import SymptomReport
from letters import content
from letters.choices import LetterKind
from letters.services import letterhead_of
from selfreport import codes
from selfreport.services import SYSTEM_USERNAME

from ..factories import PatientFactory, SymptomReportFactory
from ..letters.factories import letter_patient
from .helpers import answers, issue

URL = reverse("selfreport:report")


def _guidance(client, data) -> str:
    response = client.post(URL, data)
    assert response.status_code == 302
    return client.get(response["Location"]).content.decode()


@pytest.mark.django_db
def test_empty_form_says_it_is_not_for_emergencies_and_when_the_team_replies(client, settings):
    settings.SELF_REPORT_RESPONSE_DAYS = 3
    response = client.get(URL)
    text = response.content.decode()
    assert response.status_code == 200
    assert "This is not for emergencies" in text
    assert "Call 999 if you have a fit, sudden very bad breathlessness or chest pain." in text
    assert "A breast care nurse will reply within 3 working days." in text
    assert text.index("This is not for emergencies") < text.index('<form method="post"')
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_report_is_recorded_as_the_patient_by_the_page_account(reporter, code, client):
    response = client.post(URL, answers(code))
    report = SymptomReport.objects.get()
    assert (report.patient, report.source, report.area, report.red_flag) == (
        reporter, c.ReportSource.PATIENT, c.SymptomArea.BONE, ""
    )  # fmt: skip
    assert (report.lasted, report.worsening, report.reported_on) == (
        c.SymptomDuration.OVER_TWO_WEEKS, c.Worsening.YES, date.today()
    )  # fmt: skip
    assert report.description == (
        "Bones (for example, your back, hips or ribs): Pain in your back, hips or ribs; Pain that is worse at night.\n"
        "In their own words: My lower back has ached for three weeks."
    )
    account = report.created_by
    assert (account.username, account.role, account.is_active, account.get_full_name()) == (
        SYSTEM_USERNAME, c.Role.INTERFACE, False, "The patient (self-report page)"
    )  # fmt: skip
    assert report.history.get().history_user == account
    assert response["Location"].startswith("/report-symptoms/sent/")


@pytest.mark.django_db
def test_confirmation_says_what_happens_next_and_by_when(reporter, code, client, settings):
    settings.SELF_REPORT_RESPONSE_DAYS = 2
    text = _guidance(client, answers(code))
    assert "Your report has been sent" in text
    assert "A breast care nurse will read your report and contact you within 2 working days." in text
    assert "If your symptoms get worse" in text
    assert "Get help now" not in text


URGENT = {
    c.RedFlag.CORD_COMPRESSION: ("Call the acute oncology team now", "01632 960999"),
    c.RedFlag.HYPERCALCAEMIA: ("Call the acute oncology team now", "01632 960999"),
    c.RedFlag.SEIZURE: ("Call 999 now", "You told us you have had a new fit (seizure)."),
    c.RedFlag.BREATHLESSNESS: ("Call 999 now", "You told us you have sudden, very bad breathlessness."),
}


@pytest.mark.django_db
@pytest.mark.parametrize("flag", list(URGENT))
def test_each_red_flag_tells_the_patient_what_to_do_now(flag, reporter, code, client):
    text = _guidance(client, answers(code, urgent=[flag]))
    heading, words = URGENT[flag]
    assert "Get help now" in text and heading in text and words in text
    assert "Your report has been sent" not in text
    assert SymptomReport.objects.get().red_flag == flag


@pytest.mark.django_db
def test_acute_oncology_wording_without_a_letterhead(nurse, client):
    patient = PatientFactory(team=nurse.team, named_nurse=nurse, date_of_birth=date(1958, 4, 23))
    code = issue(patient, nurse)  # this team has no letterhead
    text = _guidance(client, answers(code, urgent=[c.RedFlag.CORD_COMPRESSION]))
    assert "Call the acute oncology number on your care plan letter now." in text


@pytest.mark.django_db
def test_bone_pain_with_weak_legs_counts_as_cord_compression(reporter, code, client):
    text = _guidance(client, answers(code, symptoms_bone=["pain", "legs"]))
    assert "Call the acute oncology team now" in text
    report = SymptomReport.objects.get()
    assert report.red_flag == c.RedFlag.CORD_COMPRESSION
    assert report.description.startswith(
        "Urgent symptoms now: Back pain with weak legs, numbness, or not being able to control your bladder or "
        "bowels.\n"
    )


@pytest.mark.django_db
def test_several_red_flags_record_the_most_serious_and_list_them_all(reporter, code, client):
    flags = [c.RedFlag.HYPERCALCAEMIA, c.RedFlag.BREATHLESSNESS, c.RedFlag.SEIZURE]
    text = _guidance(client, answers(code, urgent=flags))
    report = SymptomReport.objects.get()
    assert report.red_flag == c.RedFlag.SEIZURE
    assert report.description.splitlines()[0] == (
        "Urgent symptoms now: A new fit (seizure); Sudden, very bad breathlessness; "
        "Feeling very sick, very thirsty or confused."
    )
    assert "Call 999 now" in text


@pytest.mark.django_db
def test_cord_compression_and_a_fit_say_call_999_and_call_acute_oncology(reporter, code, client):
    text = _guidance(client, answers(code, urgent=[c.RedFlag.CORD_COMPRESSION, c.RedFlag.SEIZURE]))
    assert "Call 999 now" in text
    assert "You told us you have had a new fit (seizure)." in text
    assert "Also call the acute oncology team" in text
    assert "Call the acute oncology team now on" in text and "01632 960999" in text
    assert text.index("Call 999 now") < text.index("Also call the acute oncology team")
    assert SymptomReport.objects.get().red_flag == c.RedFlag.CORD_COMPRESSION


@pytest.mark.django_db
def test_cord_compression_and_breathlessness_say_call_999_and_call_acute_oncology(reporter, code, client):
    text = _guidance(client, answers(code, urgent=[c.RedFlag.BREATHLESSNESS], symptoms_bone=["pain", "legs"]))
    assert "Call 999 now" in text and "You told us you have sudden, very bad breathlessness." in text
    assert "Also call the acute oncology team" in text and "01632 960999" in text


@pytest.mark.django_db
def test_high_calcium_alone_does_not_say_call_999_now(reporter, code, client):
    text = _guidance(client, answers(code, urgent=[c.RedFlag.HYPERCALCAEMIA]))
    assert "Call 999 now" not in text and "Call the acute oncology team now on" in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("answer", "flag", "words", "said"),
    [
        (
            "headache_sickness",
            c.RedFlag.NEUROLOGICAL,
            "A sudden, severe headache with being sick",
            "You told us you have a sudden, severe headache with being sick.",
        ),
        ("chest_pain", c.RedFlag.BREATHLESSNESS, "New chest pain", "You told us you have new chest pain."),
    ],
)
def test_headache_with_sickness_and_chest_pain_say_call_999(answer, flag, words, said, reporter, code, client):
    assert words in client.get(URL).content.decode()
    text = _guidance(client, answers(code, urgent=[answer]))
    assert "Call 999 now" in text and said in text
    assert "acute oncology team" not in text
    report = SymptomReport.objects.get()
    assert report.red_flag == flag
    assert report.description.splitlines()[0] == f"Urgent symptoms now: {words}."


@pytest.mark.django_db
def test_weak_legs_under_bones_count_whatever_area_is_chosen(reporter, code, client):
    text = _guidance(client, answers(code, area="lung", symptoms_lung=["cough"], symptoms_bone=["legs", "bladder"]))
    assert "Call the acute oncology team now" in text
    report = SymptomReport.objects.get()
    assert (report.area, report.red_flag) == (c.SymptomArea.LUNG, c.RedFlag.CORD_COMPRESSION)
    assert report.description.splitlines()[:3] == [
        "Urgent symptoms now: Back pain with weak legs, numbness, or not being able to control your bladder or bowels.",
        "Chest and breathing: A cough that will not go away.",
        "Bones (for example, your back, hips or ribs): Weak legs or numbness; "
        "Not being able to control your bladder or bowels.",
    ]


@pytest.mark.django_db
def test_a_refused_form_with_an_urgent_symptom_still_says_what_to_do_now(reporter, code, client):
    response = client.post(URL, answers(code, urgent=[c.RedFlag.SEIZURE], description=""))
    text = response.content.decode()
    assert response.status_code == 200 and SymptomReport.objects.count() == 0
    assert "Call 999 now" in text and "You told us you have had a new fit (seizure)." in text
    assert text.index('id="what-to-do-now"') < text.index("There is a problem")


@pytest.mark.django_db
def test_a_wrong_code_with_weak_legs_still_says_call_acute_oncology(reporter, code, client):
    response = client.post(URL, answers("ABCD-EFGH-JKM2", symptoms_bone=["legs"]))
    text = response.content.decode()
    assert "Call the acute oncology number on your care plan letter now." in text
    assert "The personal code or date of birth is not right" in text


@pytest.mark.django_db
def test_a_refused_form_without_an_urgent_symptom_has_no_urgent_card(reporter, code, client):
    text = client.post(URL, answers("ABCD-EFGH-JKM2")).content.decode()
    assert 'id="what-to-do-now"' not in text


@pytest.mark.django_db
def test_a_lump_under_the_arm_lands_on_regional(reporter, code, client):
    client.post(URL, answers(code, area="lumps", symptoms_bone=None, symptoms_lumps=["armpit_lump"]))
    assert SymptomReport.objects.get().area == c.SymptomArea.REGIONAL


@pytest.mark.django_db
def test_errors_are_beside_each_field_and_in_the_summary_and_keep_what_was_typed(reporter, code, client):
    data = answers(code, urgent=["none", c.RedFlag.SEIZURE], lasted=None, description="x" * 1001)
    response = client.post(URL, data)
    form = response.context["form"]
    assert response.status_code == 200
    assert form.errors == {
        "urgent": ["Select the symptoms you have now, or select 'None of these', not both"],
        "lasted": ["Select how long you have had these symptoms"],
        "description": ["Tell us about your symptoms must be 1000 characters or fewer"],
    }
    text = response.content.decode()
    assert text.count('class="nhsuk-error-message"') == 3
    assert '<a href="#id_lasted_0">Select how long you have had these symptoms</a>' in text
    assert f'value="{code}"' in text and 'value="23"' in text and 'value="1958"' in text
    assert 'value="pain" checked' in text and "x" * 1001 in text
    assert SymptomReport.objects.count() == 0


@pytest.mark.django_db
def test_nothing_entered_asks_for_every_answer(client):
    response = client.post(URL, {})
    assert list(response.context["form"].errors) == [
        "code", "born", "urgent", "area", "lasted", "worsening", "description"
    ]  # fmt: skip


@pytest.mark.django_db
def test_result_token_carries_only_the_guidance(reporter, code, client):
    response = client.post(URL, answers(code, urgent=[c.RedFlag.CORD_COMPRESSION]))
    token = response["Location"].split("/")[-2]
    payload = signing.loads(token, salt="selfreport.result")
    assert payload == {"k": ["cord_compression"], "p": "01632 960999"}


@pytest.mark.django_db
def test_a_forged_or_expired_result_token_is_not_found(client):
    forged = signing.dumps({"k": "confirmed", "p": ""}, salt="another")
    assert client.get(reverse("selfreport:sent", args=[forged])).status_code == 404
    assert client.get(reverse("selfreport:sent", args=["nonsense"])).status_code == 404


# The triage list -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_report_is_first_on_the_triage_list_flagged_and_marked_as_the_patients(
    reporter, code, client, nurse_client
):
    SymptomReportFactory(patient=reporter, reported_on=date(2026, 1, 5))  # older, by staff, no flag
    client.post(URL, answers(code, urgent=[c.RedFlag.CORD_COMPRESSION]))
    response = nurse_client.get(reverse("followup:worklist", args=["symptoms"]))
    rows = list(response.context["table"].page.object_list)
    assert [(row.record.source, row.record.red_flag) for row in rows] == [
        (c.ReportSource.PATIENT, c.RedFlag.CORD_COMPRESSION),
        (c.ReportSource.STAFF, ""),
    ]
    text = response.content.decode()
    assert text.count("Reported by the patient</strong>") == 1
    # In the first row, with its red flag.
    first_row = text[text.index("app-row--red-flag") :]
    first_row = first_row[: first_row.index("</tr>")]
    assert "Red flag</strong>" in first_row and "Reported by the patient</strong>" in first_row


@pytest.mark.django_db
def test_triage_page_shows_who_reported_how_long_and_whether_worse(reporter, code, client, nurse_client):
    client.post(URL, answers(code))
    report = SymptomReport.objects.get()
    response = nurse_client.get(reverse("followup:symptom_triage", args=[report.pk]))
    summary = dict(response.context["summary"])
    assert summary["Reported"].endswith(", reported by the patient")
    assert (summary["How long"], summary["Getting worse"]) == ("More than 2 weeks", "Getting worse")


@pytest.mark.django_db
def test_the_patient_page_timeline_says_the_patient_reported_it(reporter, code, client, nurse_client):
    client.post(URL, answers(code))
    response = nurse_client.get(reverse("followup:patient_detail", args=[reporter.pk]))
    [event] = [e for e in response.context["timeline"].history if e.category == "symptoms"]
    assert ("Reported by the patient", "blue") in event.tags
    assert "Lasted: more than 2 weeks. Getting worse." in event.detail


@pytest.mark.django_db
def test_a_red_flag_report_from_the_page_emails_the_shared_inbox_and_the_named_nurse(reporter, code, client, nurse):
    from alerts.models import Alert
    from alerts.services import alert_deliver

    nurse.team.shared_inbox = "north.breast.unit@followup-test.invalid"
    nurse.team.save()
    nurse.email = "named.nurse@followup-test.invalid"
    nurse.save()
    client.post(URL, answers(code))  # no red flag: no alert
    assert Alert.objects.count() == 0
    client.post(URL, answers(code, urgent=[c.RedFlag.BREATHLESSNESS]))
    alerts = list(Alert.objects.order_by("address"))
    assert [(a.kind, a.address, a.status) for a in alerts] == [
        ("red_flag", "named.nurse@followup-test.invalid", "queued"),
        ("red_flag", "north.breast.unit@followup-test.invalid", "queued"),
    ]
    for alert in alerts:  # what the worker does with each
        alert_deliver(alert=alert)
    assert sorted(m.to[0] for m in mail.outbox) == [a.address for a in alerts]
    email = mail.outbox[0]
    assert email.subject == f"Red flag: Sudden severe breathlessness ({nurse.team.name})"
    assert "The patient reported symptoms with a red flag" in email.body
    for identifier in (reporter.family_name, reporter.given_name, reporter.nhs_number, "1958"):
        assert identifier not in email.subject + email.body


@pytest.mark.django_db
def test_a_red_flag_report_is_saved_when_the_shared_inbox_is_not_an_email_address(reporter, code, client, nurse):
    """A bad address on the team is a failed alert on the Alerts page, never a lost report."""
    from alerts.models import Alert

    nurse.team.shared_inbox = "north.breast.unit at followup-test.invalid"  # stored before validation
    nurse.team.save()
    nurse.email = "named.nurse@followup-test.invalid"
    nurse.save()
    response = client.post(URL, answers(code, urgent=[c.RedFlag.BREATHLESSNESS]))
    assert response.status_code == 302
    report = SymptomReport.objects.get()
    assert (report.patient, report.red_flag) == (reporter, c.RedFlag.BREATHLESSNESS)
    alerts = list(Alert.objects.order_by("pk"))
    assert [(a.address, a.status, a.attempts, a.last_error) for a in alerts] == [
        ("north.breast.unit at followup-test.invalid", "failed", 1,
         "Not a valid email address: 'north.breast.unit at followup-test.invalid'. Correct it in the admin site"),
        ("named.nurse@followup-test.invalid", "queued", 0, ""),
    ]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [LetterKind.CARE_PLAN, LetterKind.PIFU])
def test_care_plan_and_pifu_letters_say_how_to_report_online_without_the_code(kind, nurse, settings):
    # The wording holds whether or not a code was sent with this letter: it never says "on the slip".
    settings.SITE_URL = "https://followup.example.nhs.uk"
    patient = letter_patient(team=nurse.team, named_nurse=nurse, follow_up_model=c.FollowUpModel.PIFU)
    code = issue(patient, nurse)
    text = content.letter_text(patient=patient, kind=kind, letterhead=letterhead_of(patient), on=date.today())
    [section] = [s for s in text.sections if s.heading == "Report symptoms online"]
    assert section.paragraphs[0].startswith(
        "You can also tell us about new symptoms online at https://followup.example.nhs.uk/report-symptoms/. "
        "You need your date of birth and your personal code. Your breast care nurse gives you the code; "
        "ask us if you do not have one."
    )
    assert "slip" not in section.paragraphs[0]
    assert code not in repr(text) and codes.shown(code) not in repr(text)
