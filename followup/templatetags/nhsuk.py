"""Render Django form fields with NHS.UK design-system classes and error wiring."""

from datetime import date

from django import forms, template

from followup import display
from followup.fields import ChosenValue, DateInputWidget
from followup.nhs import format_nhs_number
from followup.uk import tel_digits

register = template.Library()

_WIDGET_CLASSES = {
    forms.Select: "nhsuk-select",
    forms.CheckboxInput: "nhsuk-checkboxes__input",
    forms.Textarea: "nhsuk-textarea",
}


@register.filter
def nhsuk_widget(field):
    """The field's widget with the design system's class, marked invalid and described by its error."""
    widget = field.field.widget
    css = next((cls for kind, cls in _WIDGET_CLASSES.items() if isinstance(widget, kind)), "nhsuk-input")
    attrs = {
        "class": " ".join(
            filter(None, [widget.attrs.get("class", css), f"{css.split()[0]}--error" if field.errors else ""])
        )
    }
    described = [f"{field.auto_id}-hint" if field.help_text else "", f"{field.auto_id}-error" if field.errors else ""]
    if any(described):
        attrs["aria-describedby"] = " ".join(filter(None, described))
    return field.as_widget(attrs=attrs)


@register.filter
def widget_kind(field) -> str:
    widget = field.field.widget
    if isinstance(widget, DateInputWidget):
        return "date"
    if isinstance(widget, forms.MultiWidget):
        return "range"
    if isinstance(widget, ChosenValue):
        return "chosen"
    if isinstance(widget, forms.CheckboxSelectMultiple):  # before RadioSelect: it is one
        return "checkboxes"
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    return "single"


@register.filter
def error_target(field) -> str:
    """The id the error summary links to: the field's first input ("" for none a user can reach).

    A group of radios or checkboxes has no input of its own id: its first choice (id_<name>_0). A
    date input: its first box marked wrong (followup/fields.py)."""
    if field.is_hidden or isinstance(field.field.widget, ChosenValue):
        return ""
    if hasattr(field, "error_target"):
        return field.error_target
    if widget_kind(field) in ("radios", "checkboxes"):
        return f"{field.auto_id}_0"
    return field.id_for_label


@register.filter
def choice_hint(field, value) -> str:
    """The hint under one radio (followup.fields.Radios)."""
    return getattr(field.field.widget, "hints", {}).get(str(value), "")


@register.filter
def tel(phone) -> str:
    """A phone number for a ``tel:`` link: its digits (followup/uk.py)."""
    return tel_digits(phone)


@register.filter
def revealed_field(field, value):
    """The form field a radio reveals when chosen (followup.fields.Radios ``reveals``), or None."""
    name = getattr(field.field.widget, "reveals", {}).get(str(value))
    return field.form[name] if name else None


@register.filter
def is_revealed(field) -> bool:
    """A field shown under a radio of its form (rendered there, not on its own)."""
    return any(field.name in getattr(other.widget, "reveals", {}).values() for other in field.form.fields.values())


@register.filter
def chosen_label(field) -> str:
    """The words of a choice made on an earlier step (followup.fields.ChosenValue)."""
    value = field.value()
    return str(dict(field.field.choices).get(value, value or ""))


@register.filter
def nhs_number(value: str) -> str:
    return format_nhs_number(value or "")


@register.filter
def show_date(value) -> str:
    """The one date format of every page: "1 Dec 2026" (followup/display.py)."""
    return display.show_date(value)


@register.filter
def show_datetime(value) -> str:
    """ "1 Dec 2026 at 10:42", local time."""
    return display.show_datetime(value)


@register.simple_tag
def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@register.filter
def may_act(user) -> bool:
    from followup.permissions import can_act

    return can_act(user)


@register.filter
def may_administer(user) -> bool:
    from followup.permissions import can_administer

    return can_administer(user)
