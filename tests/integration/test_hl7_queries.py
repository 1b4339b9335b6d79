"""How many queries one HL7v2 message costs over HTTP (docs/performance.md: where the time goes).

Unmatched (an NHS number nobody has): the gate (client, rate count), the raw row and its history,
the read message saved with its history (in a savepoint), the patient lookup, the unmatched
status saved with its history, the audit row, the client's last use. Matched adds what the
clinical service does to record the result (its checks, the test's history, the restaging refresh).
"""

import pytest

from .test_hl7 import oru, post

pytestmark = pytest.mark.django_db


def test_an_unmatched_message_costs_15_queries(client, sender_and_token, patient_with_ct, django_assert_num_queries):
    _, token = sender_and_token
    patient, _ = patient_with_ct
    with django_assert_num_queries(15):
        post(client, token, oru(patient, nhs_number="9999999980"))


def test_a_matched_message_costs_66_queries(client, sender_and_token, patient_with_ct, django_assert_num_queries):
    _, token = sender_and_token
    patient, _ = patient_with_ct
    with django_assert_num_queries(66):
        post(client, token, oru(patient))
