"""Recording a recurrence in two steps that work without JavaScript: first the type, then only that
type's sites, and the restaging tests only for a local or regional recurrence (issue 13)."""

import html
import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup.models import Recurrence, StagingTest

TODAY = timezone.localdate()


def url(name, *args):
    return reverse(f"followup:{name}", args=args)


def body(response) -> str:
    return response.content.decode()


def checkboxes(page: str, name: str) -> dict[str, bool]:
    """The checkboxes of one group as the page shows them: label -> ticked."""
    shown = {}
    for tag, label in re.findall(
        rf'(<input class="nhsuk-checkboxes__input"[^>]*name="{name}"[^>]*>)\s*<label[^>]*>(.*?)</label>', page, re.S
    ):
        shown[html.unescape(label.strip())] = " checked" in tag
    return shown


def radios(page: str, name: str) -> list[str]:
    return [
        html.unescape(label.strip())
        for label in re.findall(
            rf'<input class="nhsuk-radios__input"[^>]*name="{name}"[^>]*>\s*<label[^>]*>(.*?)</label>', page, re.S
        )
    ]


def error_beside(response, field) -> str:
    match = re.search(
        rf'<span class="nhsuk-error-message" id="id_{field}-error">(.*?)</span>\s*(?=<|$)', body(response)
    )
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1)).replace("Error: ", "", 1)).strip() if match else ""


def test_recording_a_recurrence_first_asks_only_its_type(nurse_client, patient):
    page = body(nurse_client.get(url("recurrence_add", patient.pk)))
    assert radios(page, "metastatic_type") == ["Local", "Regional", "Distant (secondary breast cancer)"]
    # A plain GET form: choosing the type works without JavaScript and saves nothing.
    assert re.search(r'<form method="get" novalidate>', page)
    assert ">Continue</button>" in page
    assert checkboxes(page, "sites") == {}
    assert checkboxes(page, "restaging_tests") == {}
    assert 'name="diagnosed_on_0"' not in page


def test_a_local_recurrence_shows_only_local_sites_and_the_standard_restaging_tests(nurse_client, patient):
    response = nurse_client.get(url("recurrence_add", patient.pk), {"metastatic_type": c.MetastaticType.LOCAL})
    page = body(response)
    assert re.search(r'<form method="post" novalidate>', page)
    assert re.search(r'<input type="hidden" name="metastatic_type" value="01"', page)
    assert re.search(
        r'<dt class="nhsuk-summary-list__key">\s*Type of recurrence\s*</dt>\s*'
        r'<dd class="nhsuk-summary-list__value">\s*Local\s*</dd>',
        page,
    )
    change = f'href="{url("recurrence_add", patient.pk)}?change=01"'
    assert change in page
    assert checkboxes(page, "sites") == {
        "Breast (treated breast)": False,
        "Skin of the breast": False,
        "Chest wall": False,
        "Operation scar": False,
    }
    assert checkboxes(page, "restaging_tests") == {
        label: value in c.STANDARD_RESTAGING_TESTS for value, label in c.StagingModality.choices
    }
    assert "Neurological symptoms" in page


def test_a_regional_recurrence_shows_only_regional_sites(nurse_client, patient):
    page = body(nurse_client.get(url("recurrence_add", patient.pk), {"metastatic_type": c.MetastaticType.REGIONAL}))
    assert list(checkboxes(page, "sites")) == [
        "Axillary lymph nodes",
        "Internal mammary lymph nodes",
        "Supraclavicular lymph nodes",
        "Infraclavicular lymph nodes",
    ]


def test_a_distant_recurrence_shows_distant_sites_and_no_restaging(nurse_client, patient):
    page = body(nurse_client.get(url("recurrence_add", patient.pk), {"metastatic_type": c.MetastaticType.DISTANT}))
    assert list(checkboxes(page, "sites")) == [c.Site(site).label for site in c.DISTANT_SITES]
    assert checkboxes(page, "restaging_tests") == {}
    assert "Neurological symptoms" not in page


def test_change_goes_back_to_the_type_with_it_chosen(nurse_client, patient):
    page = body(nurse_client.get(url("recurrence_add", patient.pk), {"change": c.MetastaticType.REGIONAL}))
    assert re.search(r'<input class="nhsuk-radios__input" id="id_metastatic_type_1" [^>]*value="02" checked', page)
    assert checkboxes(page, "sites") == {}


def test_continuing_without_a_type_asks_for_it(nurse_client, patient):
    # What a browser sends when no radio is chosen: the form's hidden step, and no metastatic_type.
    first = body(nurse_client.get(url("recurrence_add", patient.pk)))
    assert '<input type="hidden" name="step" value="type"' in first
    response = nurse_client.get(url("recurrence_add", patient.pk), {"step": "type"})
    assert error_beside(response, "metastatic_type") == "Select the type of recurrence"
    assert checkboxes(body(response), "sites") == {}
    unknown = nurse_client.get(url("recurrence_add", patient.pk), {"step": "type", "metastatic_type": "99"})
    assert error_beside(unknown, "metastatic_type") == "Select the type of recurrence"


def test_posting_without_a_type_saves_nothing_and_asks_for_it(nurse_client, patient):
    response = nurse_client.post(url("recurrence_add", patient.pk), {"diagnosed_on": TODAY.isoformat()})
    assert response.status_code == 200
    assert error_beside(response, "metastatic_type") == "Select the type of recurrence"
    assert error_beside(response, "diagnosed_on") == ""
    assert Recurrence.all_objects.count() == 0


def test_a_failed_post_keeps_the_type_and_shows_only_its_sites(nurse_client, patient):
    data = {"metastatic_type": c.MetastaticType.REGIONAL, "status": c.RecurrenceStatus.SUSPECTED}
    response = nurse_client.post(url("recurrence_add", patient.pk), data)
    page = body(response)
    assert error_beside(response, "sites") == "Select where the recurrence is"
    assert error_beside(response, "diagnosed_on") == "Enter the date the recurrence was clinically agreed"
    assert list(checkboxes(page, "sites")) == [
        "Axillary lymph nodes",
        "Internal mammary lymph nodes",
        "Supraclavicular lymph nodes",
        "Infraclavicular lymph nodes",
    ]
    # What the nurse left unticked stays unticked.
    assert not any(checkboxes(page, "restaging_tests").values())
    assert Recurrence.all_objects.count() == 0


def test_a_local_recurrence_recorded_in_two_steps_opens_restaging(nurse_client, patient):
    step_two = nurse_client.get(url("recurrence_add", patient.pk), {"metastatic_type": c.MetastaticType.LOCAL})
    ticked = [label for label, on in checkboxes(body(step_two), "restaging_tests").items() if on]
    modalities = {label: value for value, label in c.StagingModality.choices}
    day = TODAY - timedelta(days=2)
    response = nurse_client.post(
        url("recurrence_add", patient.pk),
        {
            "metastatic_type": c.MetastaticType.LOCAL,
            "sites": [c.Site.CHEST_WALL],
            "status": c.RecurrenceStatus.CONFIRMED,
            "diagnosed_on_0": day.day,
            "diagnosed_on_1": day.month,
            "diagnosed_on_2": day.year,
            "restaging_tests": [modalities[label] for label in ticked],
        },
    )
    assert response.status_code == 302
    recurrence = Recurrence.objects.get(patient=patient)
    assert (recurrence.metastatic_type, recurrence.diagnosed_on, [s.site for s in recurrence.sites.all()]) == (
        c.MetastaticType.LOCAL,
        day,
        [c.Site.CHEST_WALL],
    )
    assert sorted(StagingTest.objects.values_list("modality", flat=True)) == sorted(c.STANDARD_RESTAGING_TESTS)


def test_a_distant_recurrence_ignores_restaging_tests_posted_with_it(nurse_client, patient):
    data = {
        "metastatic_type": c.MetastaticType.DISTANT,
        "sites": [c.Site.LIVER],
        "status": c.RecurrenceStatus.CONFIRMED,
        "diagnosed_on": TODAY.isoformat(),
        "restaging_tests": [c.StagingModality.CT_CAP],
    }
    assert nurse_client.post(url("recurrence_add", patient.pk), data).status_code == 302
    assert Recurrence.objects.get().metastatic_type == c.MetastaticType.DISTANT
    assert StagingTest.objects.count() == 0
