"""Review (issue 8): the action cells written in Python escape what the templates escaped."""

import html
import re
from datetime import date, timedelta
from urllib.parse import unquote

import pytest
from django.urls import reverse

from followup import choices as c

from .factories import FollowUpItemFactory, PatientFactory, SymptomReportFactory, UserFactory

pytestmark = pytest.mark.django_db

EVIL = '<b>O"Brien</b>&amp;'


def _get(client, slug, query):
    path = reverse("followup:worklist", args=[slug]) + query
    response = client.get(path)
    assert response.status_code == 200
    return response.wsgi_request.get_full_path(), response.content.decode()


def test_links_form_and_triage_escape_names_and_next(client, nurse):
    client.force_login(nurse)
    today = date.today()
    patient = PatientFactory(team=nurse.team, named_nurse=nurse, family_name=EVIL, given_name="<i>x</i>")
    FollowUpItemFactory(patient=patient, due_on=today - timedelta(days=200))
    SymptomReportFactory(patient=patient, red_flag=c.RedFlag.CORD_COMPRESSION)
    query = "?nurse=all&q=\"a&b=<c>'d"
    path, page = _get(client, "overdue", query)
    assert "<b>" not in page and "<i>x</i>" not in page
    hrefs = re.findall(r'href="([^"]*\?next=[^"]*)"', page)
    assert hrefs
    for href in hrefs:
        assert unquote(html.unescape(href).split("?next=", 1)[1]) == path
    path, page = _get(client, "symptoms", query)
    assert "<b>" not in page
    values = re.findall(r'name="next" value="([^"]*)"', page)
    assert values and all(html.unescape(v) == path for v in values)
    assert re.search(r'<option value="urgent" selected>', page)
    assert 'name="csrfmiddlewaretoken"' in page and 'name="version" value="1"' in page


def test_clinician_sees_no_actions(client, nurse):
    clinician = UserFactory(team=nurse.team, role=c.Role.CLINICIAN)
    client.force_login(clinician)
    patient = PatientFactory(team=nurse.team, named_nurse=nurse)
    SymptomReportFactory(patient=patient)
    _, page = _get(client, "symptoms", "?nurse=all")
    assert "symptom_triage" not in page and '<form class="app-row-form"' not in page
