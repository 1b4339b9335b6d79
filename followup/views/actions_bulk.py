"""Actions on several rows of a list at once: acknowledge normal results, hand over patients.

The list's checkboxes send the selection here by GET: a confirmation page that lists each record
and writes nothing. Its button POSTs the selection with the version of each record shown, and
the service does each one through the one-record service, all or none. Every record comes through
the user's team scope (one not visible is a 404, never a hint); then the role (403).
"""

from urllib.parse import urlencode, urlsplit, urlunsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from .. import forms as f
from .. import services, tables
from ..audit import RecordNotVisible
from ..display import plural
from ..models import FollowUpItem, Patient, StagingTest, patient_of
from ..navigation import came_from, patient_trail
from ..permissions import can_act, can_administer
from ..services.bulk import acknowledged_at, acknowledged_by, result_day, result_described, result_words
from ..worklists import WORKLISTS

# The lists whose rows may be acknowledged together, and what their confirmation page reads.
BULK_ACKNOWLEDGE = {
    "results": (FollowUpItem, ("patient", "result_acknowledged_by")),
    "staging-results": (StagingTest, ("episode__recurrence__patient", "acknowledged_by")),
}


def fetch_selected(rows: QuerySet, pks: list[int]) -> list:
    """The selected records of ``rows`` (the user's scope), in the order selected, in one query;
    a pk the scope does not hold is a 404 (RecordNotVisible: logged, and never a hint)."""
    found = {row.pk: row for row in rows.filter(pk__in=pks)}
    for pk in pks:
        if pk not in found:
            raise RecordNotVisible(rows.model, pk)
    return [found[pk] for pk in pks]


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def with_selection(url: str, pks) -> str:
    """The list at ``url`` with these rows ticked again (tables.selection.selected_on_page)."""
    parts = urlsplit(url)
    query = QueryDict(parts.query, mutable=True)
    query.setlist("selected", [str(pk) for pk in pks])
    return urlunsplit(parts._replace(query=query.urlencode()))


def without_selection(url: str) -> str:
    parts = urlsplit(url)
    query = QueryDict(parts.query, mutable=True)
    query.pop("selected", None)
    return urlunsplit(parts._replace(query=query.urlencode()))


def bulk_form(request, *, worklist=None) -> dict | None:
    """What a list page's selection form (followup/includes/bulk_select.html) needs, or None where
    this user has no action on several rows of this list: the results lists (nurses and admins),
    the patient list (admins, who reassign named nurses)."""
    here = without_selection(request.get_full_path())
    if worklist is not None:
        if worklist.slug not in BULK_ACKNOWLEDGE or not can_act(request.user):
            return None
        return {
            "action": reverse("followup:worklist_acknowledge", args=[worklist.slug]),
            "label": "Acknowledge selected",
            "hint": "Select normal results to acknowledge them together. Abnormal, equivocal and distant "
            "disease results, reports not yet classified and amended reports have no checkbox: acknowledge "
            "each one on its own.",
            "next": here,
        }
    if not can_administer(request.user):
        return None
    return {
        "action": reverse("followup:patients_hand_over"),
        "label": "Hand over selected",
        "hint": "Select patients to give them another named nurse of their team.",
        "next": here,
    }


class SelectionView(View):
    """The selection (form ``selected``, with versions on POST), fetched through the scope, then the role."""

    template_name = ""
    missing = ""  # the message when nothing is selected

    def rows(self) -> QuerySet:
        raise NotImplementedError

    def may(self, user) -> bool:
        raise NotImplementedError

    def list_url(self) -> str:
        raise NotImplementedError

    def dispatch(self, request, *args, **kwargs):
        data = request.POST if request.method == "POST" else request.GET
        self.form = f.SelectionForm(data, missing=self.missing, versions=request.method == "POST")
        self.form.is_valid()
        self.records = fetch_selected(self.rows(), self.form.cleaned_data.get("selected", []))
        if not self.may(request.user):
            raise PermissionDenied("Your role cannot make this change.")
        self.next_url = _safe_next(request, self.list_url())
        return super().dispatch(request, *args, **kwargs)

    def trail(self):
        return came_from(self.request) or patient_trail(None)


class AcknowledgeSelectedView(SelectionView):
    """Several normal results of a results list, acknowledged at once after a confirmation page."""

    template_name = "followup/bulk_acknowledge.html"
    missing = "Select the results to acknowledge"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        if kwargs["slug"] not in BULK_ACKNOWLEDGE:
            raise Http404("This list has no results to acknowledge.")
        self.worklist = WORKLISTS[kwargs["slug"]]
        self.model, self.related = BULK_ACKNOWLEDGE[kwargs["slug"]]

    def rows(self):
        rows = self.model.objects.visible_to(self.request.user).live()
        return rows.select_related(*self.related)

    def may(self, user):
        return can_act(user)

    def list_url(self):
        return reverse("followup:worklist", args=[self.worklist.slug])

    def sorted_out(self):
        """(to acknowledge, refused with their reason, already acknowledged) of the selection, as it stands now."""
        to_do, refused, already = [], [], []
        for record in self.records:
            reason = services.bulk_acknowledge_refusal(record)
            if acknowledged_at(record) is not None:
                already.append(record)
            elif reason:
                refused.append((record, reason))
            else:
                to_do.append(record)
        return to_do, refused, already

    def get(self, request, *args, **kwargs):
        return self.render()

    def problems(self, refused) -> list[tuple[str, str]]:
        """(each refused result by name with its reason, the id of its row on the page)."""
        return [
            (f"{result_described(record)} cannot be acknowledged with others: {reason}.", f"result-{record.pk}")
            for record, reason in refused
        ]

    def post(self, request, *args, **kwargs):
        if not self.form.is_valid() or self.sorted_out()[1]:
            return self.render()  # refused as the page would refuse it, naming each
        versions = self.form.versions()
        try:
            outcome = services.results_acknowledge(
                results=[(record, versions[record.pk]) for record in self.records], by=request.user
            )
        except ValidationError as exc:
            # Changed since the page was read: the page again, as saved now (each refusal said once).
            self.records = fetch_selected(self.rows(), self.form.cleaned_data["selected"])
            said = {problem for problem, _ in self.problems(self.sorted_out()[1])}
            unsaid = [message for message in exc.messages if message not in said]
            if unsaid:
                self.form.add_error(None, unsaid)
            return self.render()
        text = f"{plural(len(outcome.done), 'result')} acknowledged."
        for record, current in outcome.already:
            who = acknowledged_by(current)
            text += f" {result_described(record)} was already acknowledged by {who.get_full_name() or who}."
        messages.success(request, text)
        return redirect(self.next_url)

    def render(self):
        to_do, refused, already = self.sorted_out()
        problems = self.problems(refused)
        if not self.records and "selected" in self.form.errors:
            problems = []  # the form's own message says so
        rows = [
            {
                "record": record,
                "patient": patient_of(record),
                "test": record.get_kind_display()
                if isinstance(record, FollowUpItem)
                else record.get_modality_display(),
                "single_url": f"{tables.acknowledge_url(record)}?{urlencode({'next': self.next_url})}",
                "day": result_day(record),
                "result": result_words(record),
                "refusal": dict(refused).get(record),
                "acknowledged_by": acknowledged_by(record),
                "acknowledged_at": acknowledged_at(record),
            }
            for record in self.records
        ]
        context = {
            "title": f"Acknowledge {plural(len(to_do), 'result')}" if to_do and not refused else "Acknowledge results",
            "worklist": self.worklist,
            "form": self.form,
            "problems": problems,
            "rows": rows,
            "to_do": to_do,
            # After a refusal by the service (a result changed meanwhile) the page shows what is saved
            # now, with its versions: confirming again acknowledges what the page shows.
            "may_confirm": bool(to_do) and not refused,
            "confirm_label": f"Acknowledge {'this result' if len(to_do) == 1 else f'these {len(to_do)} results'}",
            "next_url": self.next_url,
            "change_url": with_selection(self.next_url, [record.pk for record in to_do]),
            "trail": self.trail(),
        }
        return render(self.request, self.template_name, context)


class HandOverSelectedView(SelectionView):
    """Patients chosen on the patient list, handed over to another nurse of their team: choose the
    nurse, confirm, then each through patient_reassign_nurse. Admins only, as changing one
    patient's named nurse is (ReassignNurseView)."""

    template_name = "followup/bulk_hand_over.html"
    missing = "Select the patients to hand over"

    def rows(self):
        return Patient.objects.visible_to(self.request.user).for_worklist()

    def may(self, user):
        return can_administer(user)

    def list_url(self):
        return reverse("followup:patient_list")

    def nurse_form(self, team_id) -> f.HandOverToForm:
        """Bound on the confirming POST, and on a GET once the user pressed Continue (to_nurse sent)."""
        if self.request.method == "POST":
            return f.HandOverToForm(self.request.POST, team_id=team_id)
        data = self.request.GET
        return f.HandOverToForm(data if "to_nurse" in data else None, team_id=team_id)

    def get(self, request, *args, **kwargs):
        return self.render()

    def post(self, request, *args, **kwargs):
        teams = {patient.team_id for patient in self.records}
        nurse_form = self.nurse_form(next(iter(teams)) if len(teams) == 1 else None)
        if not (self.form.is_valid() and nurse_form.is_valid()):
            return self.render(nurse_form)
        to_nurse = nurse_form.cleaned_data["to_nurse"]
        versions = self.form.versions()
        try:
            outcome = services.patients_hand_over(
                patients=[(patient, versions[patient.pk]) for patient in self.records],
                to_nurse=to_nurse,
                by=request.user,
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    nurse_form.add_error(field if field in nurse_form.fields else None, errors)
            else:
                self.form.add_error(None, exc.messages)
            self.records = fetch_selected(self.rows(), self.form.cleaned_data["selected"])
            return self.render(nurse_form)
        text = f"{plural(len(outcome.moved), 'patient')} handed over to {to_nurse}."
        if outcome.unchanged:
            names = "; ".join(patient.display_name for patient in outcome.unchanged)
            text += f" Already {to_nurse}'s: {names}."
        messages.success(request, text)
        return redirect(self.next_url)

    def render(self, nurse_form=None):
        teams = {patient.team_id: patient.team for patient in self.records}
        problems = []
        if len(teams) > 1:
            names = ", ".join(sorted(str(team) for team in teams.values()))
            problems.append(
                (f"These patients are in {len(teams)} teams ({names}): hand over one team's at a time.", "")
            )
        team_id = next(iter(teams)) if len(teams) == 1 else None
        nurse_form = nurse_form or self.nurse_form(team_id)
        to_nurse = nurse_form.cleaned_data["to_nurse"] if nurse_form.is_bound and nurse_form.is_valid() else None
        confirming = to_nurse is not None and not problems and bool(self.records)
        n = len(self.records)
        context = {
            "title": f"Hand over {plural(n, 'patient')}" if n else "Hand over patients",
            # The page's form: the nurse chosen, once there is a selection to hand over.
            "form": nurse_form if self.records and not problems else self.form,
            "selection_form": self.form,
            "nurse_form": nurse_form,
            "problems": problems,
            "patients": self.records,
            "choosing": bool(self.records) and not problems and not confirming,
            "to_nurse": to_nurse if confirming else None,
            "confirm_label": f"Hand over {'this patient' if n == 1 else f'these {n} patients'} to {to_nurse}",
            "next_url": self.next_url,
            "change_url": with_selection(self.next_url, [patient.pk for patient in self.records]),
            "change_nurse_url": "?"
            + urlencode([("selected", patient.pk) for patient in self.records] + [("next", self.next_url)]),
            "trail": self.trail(),
        }
        return render(self.request, self.template_name, context)
