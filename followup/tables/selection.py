"""A checkbox per row, to act on several rows at once (views/actions_bulk.py).

The checkboxes belong to one form outside the table (their ``form`` attribute), so a row keeps its
own forms (acknowledge, triage) and no form holds another. The column shows only to those who may
take the action, and only on rows the action may take: the others get a word of why instead.
"""

from collections.abc import Callable

import django_tables2 as tables
from django.utils.html import format_html

from .. import forms
from .cells import row_patient_name

SELECT_FORM = "bulk-select"  # the id of the form on the page that the checkboxes post with


def selected_on_page(request) -> set[int]:
    """What was ticked before (the confirmation page sends its list back with it): ticked again."""
    form = forms.SelectionForm(request.GET, missing="")
    return set(form.cleaned_data["selected"]) if form.is_valid() else set()


class SelectColumn(tables.Column):
    """``may(user)``: may this user take the action (else no column); ``refusal(record)``: why a
    row may not be taken with others ("" when it may); ``label(record)``: the row as the checkbox's
    label says it, after the patient's name."""

    def __init__(
        self,
        *,
        may: Callable,
        label: Callable[[object], str],
        refusal: Callable[[object], str] = lambda record: "",
        **kwargs,
    ):
        self.may, self.label, self.refusal = may, label, refusal
        super().__init__(
            verbose_name="Select",
            accessor="pk",
            orderable=False,
            empty_values=(),
            exclude_from_export=True,
            attrs={"th": {"class": "app-visually-hidden-header"}},
            **kwargs,
        )

    def render(self, record, table):
        ticked = getattr(table, "_ticked", None)
        if ticked is None:
            ticked = table._ticked = selected_on_page(table.request)
        if self.refusal(record):
            # No checkbox: said to a screen reader, which would otherwise find the cell empty.
            return format_html(
                '<span class="nhsuk-u-visually-hidden">{}: {}, not to be selected with others</span>',
                row_patient_name(record),
                self.label(record),
            )
        return format_html(
            '<div class="nhsuk-checkboxes nhsuk-checkboxes--small app-select"><div class="nhsuk-checkboxes__item">'
            '<input class="nhsuk-checkboxes__input" id="select-{pk}" name="selected" type="checkbox" value="{pk}" '
            'form="{form}"{checked}><label class="nhsuk-label nhsuk-checkboxes__label" for="select-{pk}">'
            '<span class="nhsuk-u-visually-hidden">Select {name}: {what}</span></label></div></div>',
            pk=record.pk,
            form=SELECT_FORM,
            checked=" checked" if record.pk in ticked else "",
            name=row_patient_name(record),
            what=self.label(record),
        )


class SelectableTable:
    """Mixed into a table with a SelectColumn named ``select``: hidden from those who may not take its action."""

    def before_render(self, request):
        super().before_render(request)
        if "select" in self.columns and not self.columns["select"].column.may(request.user):
            self.columns.hide("select")
