"""How many queries one HL7v2 message costs over HTTP (docs/performance.md: where the time goes).

Unmatched (an NHS number nobody has): the gate (client, rate count), the raw row and its history,
the read message saved (in a savepoint; no history row: nobody changed anything), whether the
same report was placed already (a resend under a new control id), the patient lookup, the unmatched
status saved with its history, the audit row, the client's last use (written at most once a
minute). Matched adds the lock on the test or item (still open?) and what the clinical service does
to record the result (its checks, the test's history, the restaging refresh, and the patient's flags
worked out again and stored under its lock: followup/flags.py, a savepoint, the dates of birth, on
PostgreSQL only the foreign keys checked (two statements), the advisory lock and the dates of birth read
again, the possible duplicates, the row worked out, the open items due worked out, the upsert, the open
items due replaced (a DELETE, and an INSERT when there are any), the release).
Inside the test's own transaction each of receive()'s transactions is a SAVEPOINT and its RELEASE,
counted here; outside it they are a BEGIN and a COMMIT, which are not: three commits a message
(the raw row with its history; what it says and where it went; the audit row).
"""

import pytest
from django.db import connection

from .test_hl7 import oru, post

pytestmark = pytest.mark.django_db


def test_an_unmatched_message_costs_17_queries(client, sender_and_token, patient_with_ct, django_assert_num_queries):
    _, token = sender_and_token
    patient, _ = patient_with_ct
    with django_assert_num_queries(17):
        post(client, token, oru(patient, nhs_number="9999999980"))


def test_a_matched_message_costs_82_queries_78_on_sqlite(
    client, sender_and_token, patient_with_ct, django_assert_num_queries
):
    _, token = sender_and_token
    patient, _ = patient_with_ct
    with django_assert_num_queries(82 if connection.vendor == "postgresql" else 78):
        post(client, token, oru(patient))
