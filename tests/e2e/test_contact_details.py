"""Browser journey: on a phone (390 pixels), a nurse changes a patient's contact details; a mistyped
postcode is refused beside its field first; the interpreter's language is revealed under "Yes"; the
patient page then says how to reach her, and what to know before phoning."""

import pytest
from playwright.sync_api import expect

from followup.models import Patient

from ..factories import GPPracticeFactory, PatientFactory
from .helpers import log_in, message, path_is

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_nurse_changes_contact_details_on_a_phone_after_one_error(page, alex):
    practice = GPPracticeFactory(ods_code="Y90042", name="Imaginary Road Surgery")
    mary = PatientFactory(given_name="Mary", family_name="Brown", team=alex.team, named_nurse=alex)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "alex")
    page.goto(f"/patients/{mary.pk}/")
    expect(page.locator("#contact-gp")).to_contain_text("No GP practice recorded")
    page.get_by_role("link", name="Change contact details").click()
    expect(page).to_have_url(path_is(f"/patients/{mary.pk}/contact-details/"))

    page.get_by_label("Address line 1").fill("12 Imaginary Road")
    page.get_by_label("Town or city").fill("Testville")
    page.get_by_label("Postcode").fill("ZZ99")  # not a whole postcode
    page.locator("#id_phone_mobile").fill("+44 7700 900123")
    page.locator("#id_messages_may_be_left_1").check()  # No
    language = page.get_by_label("Language")
    expect(language).to_be_hidden()  # revealed only under "Yes"
    page.locator("#id_interpreter_needed_0").check()
    expect(language).to_be_visible()
    language.fill("Polish")
    page.get_by_label("GP practice ODS code").fill("y90042")
    page.get_by_role("button", name="Save").click()

    # Refused: the message beside the postcode and in the summary, which takes the focus; nothing saved.
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter a full UK postcode, like LS1 4AB")
    expect(page.locator("#id_postcode-error")).to_contain_text("Enter a full UK postcode, like LS1 4AB")
    expect(page.locator(".nhsuk-error-message")).to_have_count(1)
    expect(page.locator("#id_phone_mobile")).to_have_value("+44 7700 900123")  # kept as typed
    expect(language).to_be_visible()
    expect(language).to_have_value("Polish")
    assert Patient.objects.get(pk=mary.pk).version == mary.version
    summary.get_by_role("link", name="Enter a full UK postcode, like LS1 4AB").click()
    expect(page.get_by_label("Postcode")).to_be_focused()
    page.get_by_label("Postcode").fill("zz99 3vz")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(path_is(f"/patients/{mary.pk}/"))
    expect(message(page)).to_contain_text("Contact details saved. GP practice: Imaginary Road Surgery (Y90042).")
    banner = page.locator(".app-banner")
    expect(banner).to_contain_text("Interpreter needed: Polish")
    expect(banner).to_contain_text("Messages may be left: No")
    expect(page.locator("#contact-mobile a")).to_have_attribute("href", "tel:07700900123")
    expect(page.locator("#contact-mobile")).to_contain_text("07700 900123")
    expect(page.locator("#contact-address")).to_contain_text("ZZ99 3VZ")
    expect(page.locator("#contact-gp")).to_contain_text("Imaginary Road Surgery")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    saved = Patient.objects.get(pk=mary.pk)
    assert (saved.postcode, saved.phone_mobile, saved.interpreter_language, saved.gp_practice) == (
        "ZZ99 3VZ",
        "07700 900123",
        "Polish",
        practice,
    )
    assert saved.messages_may_be_left is False
