"""Personal codes: their format, how they are typed, stored and voided, and the lock-out."""

import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup import services
from followup.models import SymptomReport
from selfreport import codes
from selfreport.models import CodeAttempt, PersonalCode, VoidReason
from selfreport.services import personal_code_issue, personal_code_verify

from ..factories import PatientFactory
from .helpers import BORN, answers

URL = reverse("selfreport:report")
WRONG = "The personal code or date of birth is not right. Check them against your letter and try again"


def test_code_has_twelve_unambiguous_characters():
    for _ in range(200):
        code = codes.new_code()
        assert re.fullmatch(r"[2-9ABCDEFGHJKMNPQRSTWXYZ]{12}", code)
    assert not set("01OILUV") & set(codes.ALPHABET)


def test_code_is_shown_in_three_groups_of_four():
    assert codes.shown("ABCDEFGHJKMN") == "ABCD-EFGH-JKMN"


@pytest.mark.parametrize("typed", ["abcd-efgh-jkmn", "ABCD EFGH JKMN", " abcdefghjkmn ", "Abcd – efgh – jkmn"])
def test_code_is_read_in_any_case_with_or_without_spaces_or_hyphens(typed):
    assert codes.normalise(typed) == "ABCDEFGHJKMN"
    assert codes.digest(typed) == codes.digest("ABCDEFGHJKMN")


@pytest.mark.django_db
def test_code_is_stored_only_as_its_sha256(reporter, nurse):
    row, plaintext = personal_code_issue(patient=reporter, by=nurse)
    import hashlib

    assert row.code_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    stored = [str(value) for value in PersonalCode.objects.values_list(flat=True)]
    history = [str(value) for value in PersonalCode.history.values_list(flat=True)]
    assert not [value for value in stored + history if plaintext in value]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM selfreport_personalcode")
        assert plaintext not in repr(cursor.fetchall())


@pytest.mark.django_db
def test_reissuing_voids_the_old_code(reporter, nurse, client):
    old, old_plain = personal_code_issue(patient=reporter, by=nurse)
    new, new_plain = personal_code_issue(patient=reporter, by=nurse)
    old.refresh_from_db()
    assert (old.void_reason, old.voided_by, new.voided_at) == (VoidReason.REISSUED, nurse, None)
    assert list(PersonalCode.objects.live().filter(patient=reporter)) == [new]
    assert client.post(URL, answers(old_plain)).context["form"].errors["code"] == [WRONG]
    assert client.post(URL, answers(new_plain)).status_code == 302


@pytest.mark.django_db
def test_code_is_issued_only_to_an_active_patient(nurse):
    patient = PatientFactory(
        team=nurse.team, named_nurse=nurse, status=c.PatientStatus.DISCHARGED, discharged_on=date(2026, 1, 5),
        discharge_reason="Completed follow-up",
    )  # fmt: skip
    with pytest.raises(ValidationError) as excinfo:
        personal_code_issue(patient=patient, by=nurse)
    assert excinfo.value.messages == ["Only a patient under active follow-up can be given a personal code."]
    assert PersonalCode.objects.count() == 0


@pytest.mark.django_db
def test_discharge_voids_the_code(reporter, code, nurse, client):
    services.patient_discharge(
        patient=reporter, discharged_on=timezone.localdate(), reason="Completed follow-up", by=nurse,
        expected_version=None,
    )  # fmt: skip
    row = PersonalCode.objects.get(patient=reporter)
    assert (row.void_reason, row.voided_by) == (VoidReason.DISCHARGED, nurse)
    assert client.post(URL, answers(code)).context["form"].errors["code"] == [WRONG]


@pytest.mark.django_db
def test_death_voids_the_code(reporter, code, nurse, client):
    services.patient_record_death(patient=reporter, date_of_death=timezone.localdate(), by=nurse, expected_version=None)
    row = PersonalCode.objects.get(patient=reporter)
    assert (row.void_reason, row.voided_by) == (VoidReason.DIED, nurse)
    assert client.post(URL, answers(code)).context["form"].errors["code"] == [WRONG]


@pytest.mark.django_db
def test_a_live_code_of_a_patient_no_longer_active_is_refused(reporter, code, nurse, client):
    # However the status changed (an import, the admin): verification itself checks the patient.
    type(reporter).all_objects.filter(pk=reporter.pk).update(
        status=c.PatientStatus.DISCHARGED, discharged_on=timezone.localdate(), discharge_reason="Moved away"
    )
    assert client.post(URL, answers(code)).context["form"].errors["code"] == [WRONG]


@pytest.mark.django_db
def test_a_code_of_a_patient_entered_in_error_is_refused(reporter, code, priya, client):
    services.record_mark_entered_in_error(record=reporter, reason="Wrong patient", by=priya)
    assert client.post(URL, answers(code)).context["form"].errors["code"] == [WRONG]
    assert SymptomReport.all_objects.count() == 0


def _page_without(response, typed: str) -> str:
    """The page as text without what differs by design: the code typed and the form's CSRF token."""
    text = response.content.decode().replace(typed, "TYPED")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)


@pytest.mark.django_db
def test_wrong_date_of_birth_and_wrong_code_get_the_same_answer(reporter, code, client):
    other_day = date(1958, 4, 24)
    wrong_born = client.post(URL, answers(code, born=other_day))
    wrong_code = client.post(URL, answers("WXYZ-WXYZ-WXYZ", born=other_day))
    assert wrong_born.status_code == wrong_code.status_code == 200
    assert wrong_born.context["form"].errors == wrong_code.context["form"].errors == {"code": [WRONG]}
    assert _page_without(wrong_born, code) == _page_without(wrong_code, "WXYZ-WXYZ-WXYZ")
    assert sorted(wrong_born.headers) == sorted(wrong_code.headers)
    assert list(CodeAttempt.objects.values_list("succeeded", flat=True)) == [False, False]
    assert SymptomReport.objects.count() == 0


@pytest.mark.django_db
def test_a_malformed_code_is_told_its_format_and_not_counted(reporter, client):
    response = client.post(URL, answers("ABC-123"))
    assert response.context["form"].errors["code"] == [
        "Enter your personal code as it is printed on your letter: 12 letters and numbers"
    ]
    assert CodeAttempt.objects.count() == 0


@pytest.mark.django_db
def test_code_is_locked_after_the_failures_allowed(reporter, code, client, settings):
    settings.SELF_REPORT_CODE_ATTEMPTS = 5
    for n in range(5):  # five wrong dates of birth, each from a different address
        response = client.post(URL, answers(code, born=date(1950, 1, n + 1)), REMOTE_ADDR=f"10.0.0.{n}")
        assert response.status_code == 200
    locked = client.post(URL, answers(code), REMOTE_ADDR="10.0.9.9")
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "Try again in 30 minutes (after " in text
    assert SymptomReport.objects.count() == 0
    # Everything typed is still there.
    assert locked.context["form"].data["description"] == "My lower back has ached for three weeks."


@pytest.mark.django_db
def test_locked_with_an_urgent_symptom_still_says_call_999_and_acute_oncology(reporter, code, client, settings):
    settings.SELF_REPORT_CODE_ATTEMPTS = 1
    client.post(URL, answers(code, born=date(1950, 1, 1)), REMOTE_ADDR="10.0.0.1")
    urgent = [c.RedFlag.CORD_COMPRESSION, c.RedFlag.SEIZURE]
    locked = client.post(URL, answers(code, urgent=urgent), REMOTE_ADDR="10.0.0.2")
    text = locked.content.decode()
    assert locked.status_code == 429
    assert "Call 999 now" in text and "Call the acute oncology number on your care plan letter now." in text
    assert text.index('id="what-to-do-now"') < text.index('id="locked"')
    assert "01632 960999" not in text  # no patient is known: the letter's number, not the team's


@pytest.mark.django_db
def test_a_code_that_does_not_exist_is_locked_the_same_way(client, settings):
    settings.SELF_REPORT_CODE_ATTEMPTS = 3
    statuses = [client.post(URL, answers("ZZZZ-ZZZZ-ZZZZ"), REMOTE_ADDR=f"10.0.0.{n}").status_code for n in range(4)]
    assert statuses == [200, 200, 200, 429]


@pytest.mark.django_db
def test_address_is_locked_after_the_failures_allowed(reporter, code, client, settings):
    settings.SELF_REPORT_ADDRESS_ATTEMPTS = 4
    guesses = ["ABCD-EFGH-JKM2", "ABCD-EFGH-JKM3", "ABCD-EFGH-JKM4", "ABCD-EFGH-JKM5"]
    assert [client.post(URL, answers(guess)).status_code for guess in guesses] == [200, 200, 200, 200]
    locked = client.post(URL, answers(code))  # the right code and date of birth, from that address
    assert locked.status_code == 429
    assert SymptomReport.objects.count() == 0
    # Another address is not locked out.
    assert client.post(URL, answers(code), REMOTE_ADDR="192.0.2.7").status_code == 302


@pytest.mark.django_db
def test_address_is_the_one_the_login_lockout_uses(reporter, code, client, settings):
    settings.LOCKOUT_PROXY_COUNT = 1
    client.post(URL, answers("ABCD-EFGH-JKM2"), HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.4")
    assert CodeAttempt.objects.get().address == "198.51.100.4"


@pytest.mark.django_db
@pytest.mark.parametrize(("minutes_ago", "status"), [(29, 429), (31, 302)])
def test_lock_lifts_after_the_window(minutes_ago, status, reporter, code, client, settings):
    settings.SELF_REPORT_CODE_ATTEMPTS = 2
    # The log is append-only (its rows cannot be moved back in time): write the old failures as such.
    for n in range(2):
        CodeAttempt.objects.create(
            at=timezone.now() - timedelta(minutes=minutes_ago), code_key=codes.digest(code), address=f"10.0.0.{n}"
        )
    assert client.post(URL, answers(code), REMOTE_ADDR="10.0.1.1").status_code == status
    assert SymptomReport.objects.count() == (1 if status == 302 else 0)


@pytest.mark.django_db
def test_verify_locks_both_the_code_and_the_address_until_commit(reporter, code):
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    with transaction.atomic():
        personal_code_verify(entered=code, born=BORN, address="10.0.0.1")
        with connection.cursor() as cursor:
            cursor.execute(
                # objsubid 1: keys of one bigint, as these are (the patient flags' locks take two integers).
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted "
                "AND objsubid = 1"
            )
            assert cursor.fetchone()[0] == 2


@pytest.mark.django_db
def test_verify_runs_the_same_queries_whether_the_code_exists_or_not(reporter, code, django_assert_num_queries):
    # savepoint, advisory locks on the code and on the address (PostgreSQL only), failures per code,
    # per address, the code with its patient, the log row, release
    expected = 8 if connection.vendor == "postgresql" else 6
    with django_assert_num_queries(expected):
        assert personal_code_verify(entered="ABCD-EFGH-JKMN", born=BORN, address="10.0.0.1").patient is None
    with django_assert_num_queries(expected):
        assert personal_code_verify(entered=code, born=date(1950, 1, 1), address="10.0.0.2").patient is None
    with django_assert_num_queries(expected):
        assert personal_code_verify(entered=code, born=BORN, address="10.0.0.3").patient == reporter
