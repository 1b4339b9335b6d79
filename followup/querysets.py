"""The query vocabulary: one QuerySet method per question a screen asks.

The failsafe lists of DOMAIN.md are defined here, once; worklists, dashboard
counts and the demo-data check all call these methods. Default managers already
leave out rows entered in error; the methods below also leave out rows whose
*parent* (patient, recurrence, episode) was entered in error.
"""

from datetime import date, timedelta

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Case, Exists, ExpressionWrapper, F, OuterRef, Prefetch, Q, Subquery, Value, When
from django.db.models.functions import Cast, Coalesce, Lower, Mod, NullIf, Substr
from django.utils import timezone

from . import choices as c
from . import dates
from .scope import TeamScopedQuerySet


def _model(name: str):
    return apps.get_model("followup", name)


def with_last_contact(queryset, patient: str = "patient_id"):
    """The contacts app's annotation of a row's last contact (imported late: contacts builds on followup)."""
    from contacts.models import with_last_contact as annotate

    return annotate(queryset, patient)


def kept_data_quality(prefix: str, today: date) -> Q:
    """On the data-quality list, as the kept flags say (``prefix``: the path to a PatientFlags row)."""
    return Q(**{f"{prefix}problem": True}) | dates.implausible_from_stored(prefix, today=today)


def kept_without_next_follow_up(prefix: str) -> Q:
    """On "No next follow-up", as the kept flags say (``prefix``: the path to a PatientFlags row)."""
    return Q(**{f"{prefix}no_next_follow_up": True})


def _nhs_digit(position: int) -> models.Expression:
    # NULL, not a cast error, for a missing number: PostgreSQL may evaluate this
    # before any "nhs_number <> ''" test in the same WHERE clause.
    return Cast(NullIf(Substr("nhs_number", position, 1), Value("")), models.IntegerField())


def nhs_number_check_digit() -> models.Expression:
    """The modulus 11 check digit computed in SQL from the first nine digits (10 = invalid)."""
    weighted = Value(0)
    for position in range(1, 10):
        weighted = weighted + _nhs_digit(position) * (11 - position)
    return Mod(11 - Mod(weighted, 11), 11)


REPEATED_DIGIT_NUMBERS = [str(d) * 10 for d in range(10)]

# A filter over the aliases added by PatientQuerySet._with_nhs_digits().
NHS_NUMBER_INVALID = ~Q(nhs_number="") & (
    ~Q(nhs_check_digit=F("nhs_last_digit")) | Q(nhs_number__in=REPEATED_DIGIT_NUMBERS)
)

# An open follow-up item, and a result recorded but not acknowledged: the FollowUpItem
# querysets below filter with these, and the model's partial indexes are built on
# them, so the two cannot drift apart (PostgreSQL uses a partial index only when
# the query's WHERE implies the index's condition).
OPEN_ITEM = Q(status__in=c.OPEN_FOLLOWUP_STATUSES, entered_in_error=False)
# The due date of an open item, NULL for any other. Overdue and due soon filter on it as well: an index on
# the expression (followup_item_open_due_on) gives PostgreSQL statistics of the open items' due dates alone.
# From the due dates of every item (mostly done, in the past) it expected 107,000 overdue open items where
# there were 2,100, and counted them by reading every open item (docs/performance.md, issue 17).
OPEN_DUE_ON = Case(When(OPEN_ITEM, then=F("due_on")), output_field=models.DateField())
UNACKNOWLEDGED_RESULT = Q(
    status=c.FollowUpStatus.DONE, result_acknowledged_at__isnull=True, entered_in_error=False
) & ~Q(result="")
# True for a result waiting for acknowledgement (UNACKNOWLEDGED_RESULT), NULL for any other row. The results
# list filters on it beside UNACKNOWLEDGED_RESULT: an index on it (followup_item_unack_flag) gives PostgreSQL
# the statistics of waiting results alone. From those of the columns it expected 137,785 where 1,886 were
# waiting, and counted them by hashing every patient of the team (docs/performance.md, issue 17).
WAITING_RESULT = Case(When(UNACKNOWLEDGED_RESULT, then=Value(True)), output_field=models.BooleanField())
# A follow-up result the results list puts first.
ABNORMAL_RESULT = Q(result=c.ImagingOutcome.ABNORMAL)


def waits_for_classification(record) -> bool:
    """A report that arrived by itself ("reported, not yet classified") or an amended report not yet
    read again (acknowledging clears the mark): acknowledged only through its classification
    (services.staging_test_classify, services.followup_item_classify). Reads the row's own fields."""
    return record.result in c.UNCLASSIFIED_RESULTS or (record.report_amended and bool(record.result))


# The day a follow-up item that happened (c.HAPPENED_FOLLOWUP_STATUSES) happened: the date done;
# for a did-not-attend, the appointment it was booked for, else the date it was due.
HAPPENED_ON = Coalesce("done_on", "booked_for", "due_on")

# Done with the result not yet available (the database holds that such an item has no result).
RESULT_AWAITED = Q(status=c.FollowUpStatus.DONE, result_awaited=True, entered_in_error=False)

# The data-quality problems of DOMAIN.md, as annotated by with_data_quality_flags().
DATA_QUALITY_FLAGS = (
    "missing_nhs_number",
    "invalid_nhs_number",
    "possible_duplicate",
    "recurrence_without_site",
    "missing_laterality",
    "missing_receptors",
    "missing_primary",
    "implausible_date",
)


def _flag(condition) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=models.BooleanField())


def routine_result(flagged: Q) -> ExpressionWrapper:
    """False for a flagged result (abnormal, distant disease): what urgent_first() sorts on first."""
    return _flag(~flagged)


def urgent_first(queryset: models.QuerySet, *, flagged: Q, waiting_since: str) -> models.QuerySet:
    """The order of the results lists (failsafe 3), written once: flagged results
    (abnormal, distant disease) first, then the longest waiting, so that those waiting
    past RESULT_ESCALATE_DAYS (escalated) come before the newer ones."""
    return queryset.alias(routine=routine_result(flagged)).order_by("routine", waiting_since, "pk")


def result_escalation_cutoff(today: date) -> date:
    """A result waiting since before this day has waited over RESULT_ESCALATE_DAYS: escalated (the
    results lists' "Escalated" mark, and the alert to the team lead, alerts/)."""
    return today - timedelta(days=settings.RESULT_ESCALATE_DAYS)


class PatientQuerySet(TeamScopedQuerySet):
    team_path = "team"

    def active(self):
        return self.filter(status__in=c.ACTIVE_PATIENT_STATUSES)

    def search(self, term: str):
        """NHS number (with or without spaces), hospital number, or name."""
        term = (term or "").strip()
        if not term:
            return self
        compact = term.replace(" ", "").replace("-", "")
        if compact.isdigit():
            return self.filter(Q(nhs_number=compact) | Q(hospital_number__iexact=term))
        query = Q(hospital_number__iexact=term)
        words = term.split()
        name_query = Q()
        for word in words:
            name_query &= Q(family_name__icontains=word) | Q(given_name__icontains=word)
        return self.filter(query | name_query)

    def without_next_follow_up(self):
        """Failsafe 7: active patients with no open follow-up item at all."""
        # OPEN_ITEM, not open(): open() also checks that the item's patient is not entered
        # in error, which here is the outer row itself (the default manager already
        # leaves those out): a join per patient that doubled the list's time.
        open_items = _model("FollowUpItem").objects.filter(OPEN_ITEM, patient=OuterRef("pk"))
        return self.active().filter(~Exists(open_items))

    def pifu_ending(self, *, today: date):
        """Failsafe "PIFU ending": active patients on patient-initiated follow-up whose PIFU period ends
        within PIFU_ENDING_DAYS, or has ended with the patient still active (neither followed up nor
        discharged: the way a PIFU patient is lost), or who have no period at all (it would never end);
        those without a period first, then the most overdue, then the soonest to end."""
        until = today + timedelta(days=settings.PIFU_ENDING_DAYS)
        return (
            self.active()
            .filter(Q(pifu_ends_on__lte=until) | Q(pifu_ends_on__isnull=True), follow_up_model=c.FollowUpModel.PIFU)
            .order_by(F("pifu_ends_on").asc(nulls_first=True), "pk")
        )

    def for_worklist(self):
        """Patient rows as the tables render them: with named nurse and team, and the patient's
        most recent contact (contacts.models.with_last_contact())."""
        return with_last_contact(self.select_related("named_nurse", "team"), "pk")

    def for_patient_page(self):
        """One patient's whole record for the patient page: primaries, follow-up items,
        recurrences with sites, restaging tests with sites, symptom reports, and the
        users named on them. A fixed number of queries however long the history.

        The clinical rows are read through ``all_objects``, so those entered in error come
        too, in the same queries, under names that say so: ``all_primaries``,
        ``all_followup_items``, ``all_recurrences`` (each episode's ``all_tests``) and
        ``all_symptom_reports``, ``all_tasks`` (tasks/). The timeline shows them struck through; anything that
        counts must skip them (``entered_in_error``). The related managers
        (``patient.primaries.all()``...) still mean live rows only, and are not loaded here.
        """
        items = _model("FollowUpItem").all_objects.select_related("result_acknowledged_by", "error_marked_by")
        tests = (
            _model("StagingTest")
            .all_objects.select_related("acknowledged_by", "distant_recurrence", "error_marked_by")
            .prefetch_related("sites")
        )
        recurrences = _model("Recurrence").all_objects.select_related(
            "restaging", "restaging__error_marked_by", "error_marked_by"
        )
        return self.select_related("named_nurse", "team", "protocol", "gp_practice").prefetch_related(
            Prefetch(
                "primaries",
                queryset=_model("PrimaryDiagnosis").all_objects.select_related("error_marked_by"),
                to_attr="all_primaries",
            ),
            Prefetch("followup_items", queryset=items, to_attr="all_followup_items"),
            Prefetch("recurrences", queryset=recurrences, to_attr="all_recurrences"),
            "all_recurrences__sites",
            Prefetch("all_recurrences__restaging__tests", queryset=tests, to_attr="all_tests"),
            Prefetch(
                "symptom_reports",
                queryset=_model("SymptomReport").all_objects.select_related("triaged_by", "error_marked_by"),
                to_attr="all_symptom_reports",
            ),
            Prefetch(
                "tasks", queryset=apps.get_model("tasks", "Task").all_objects.for_patient_page(), to_attr="all_tasks"
            ),
            # The contact log (contacts app), newest first: its section and the timeline read it.
            Prefetch(
                "contacts",
                queryset=apps.get_model("contacts", "Contact").all_objects.select_related("by", "error_marked_by"),
                to_attr="all_contacts",
            ),
        )

    def missing_nhs_number(self):
        return self.filter(nhs_number="")

    def _with_nhs_digits(self):
        return self.alias(nhs_check_digit=nhs_number_check_digit(), nhs_last_digit=_nhs_digit(10))

    def invalid_nhs_number(self):
        """Stored NHS numbers that fail the modulus 11 check or are one repeated digit."""
        return self._with_nhs_digits().filter(NHS_NUMBER_INVALID)

    def _duplicate_exists(self) -> Exists:
        """Another patient with the same surname, date of birth and sex, first name starting alike."""
        others = (
            self.model.objects.filter(date_of_birth=OuterRef("date_of_birth"), sex=OuterRef("sex"))
            .exclude(pk=OuterRef("pk"))
            .alias(family=Lower("family_name"), initial=Lower(Substr("given_name", 1, 1)))
            .filter(family=OuterRef("family_lower"), initial=OuterRef("initial_lower"))
        )
        return Exists(others)

    def _with_name_keys(self):
        return self.alias(family_lower=Lower("family_name"), initial_lower=Lower(Substr("given_name", 1, 1)))

    def possible_duplicates(self):
        """For a person to review: see _duplicate_exists()."""
        return self._with_name_keys().filter(self._duplicate_exists())

    def _data_quality_flags(self, *, per_row: bool, today: date | None = None, fixed_dates: bool = False) -> dict:
        """Each data-quality problem of DOMAIN.md as a boolean expression over a patient row.

        ``per_row``: correlated EXISTS probes, cheap for a few rows (one patient, or the
        25 rows of a page). Otherwise "id IN (subquery)": PostgreSQL computes each
        subquery once into a hash, cheap for a whole list (correlated probes of every
        patient took seconds at 100,000 patients; docs/performance.md).
        ``fixed_dates``: "implausible_date" is only the part of the date rules that does not
        change with the day (what followup.flags stores beside its window).
        """
        primaries = _model("PrimaryDiagnosis").objects
        recurrences = _model("Recurrence").objects.without_site()

        def among(queryset, field="patient_id"):
            if per_row:
                return Exists(queryset.filter(**{field: OuterRef("pk")}))
            return _flag(Q(pk__in=queryset.values(field)))

        return {
            "missing_nhs_number": _flag(Q(nhs_number="")),
            "invalid_nhs_number": _flag(NHS_NUMBER_INVALID),
            "possible_duplicate": (
                self._duplicate_exists() if per_row else among(self.model.objects.possible_duplicates(), "pk")
            ),
            "recurrence_without_site": among(recurrences),
            "missing_laterality": among(primaries.missing_laterality()),
            "missing_receptors": among(primaries.missing_receptors()),
            "missing_primary": ~among(primaries.all()),
            "implausible_date": self._implausible_date(
                among, today=None if fixed_dates else (today or timezone.localdate())
            ),
        }

    @staticmethod
    def _dated_rows() -> list[tuple[str, models.QuerySet, str]]:
        """Each kind of row holding clinical dates (live), and the path from it to its patient."""
        return [
            ("primarydiagnosis", _model("PrimaryDiagnosis").objects.all(), "patient"),
            ("followupitem", _model("FollowUpItem").objects.all(), "patient"),
            ("recurrence", _model("Recurrence").objects.all(), "patient"),
            ("symptomreport", _model("SymptomReport").objects.all(), "patient"),
            (
                "restagingepisode",
                _model("RestagingEpisode").objects.filter(recurrence__entered_in_error=False),
                "recurrence__patient",
            ),
            (
                "stagingtest",
                _model("StagingTest").objects.filter(
                    episode__entered_in_error=False, episode__recurrence__entered_in_error=False
                ),
                "episode__recurrence__patient",
            ),
        ]

    def _implausible_date(self, among, *, today: date | None) -> ExpressionWrapper:
        """Any date of the patient's that the rules of followup/dates.py refuse, as stored (``today`` None:
        only the rules that do not change with the date)."""
        implausible = dates.implausible_birth(today=today) | dates.implausible(
            "patient", born="date_of_birth", today=today
        )
        for name, rows, patient in self._dated_rows():
            broken = dates.implausible(name, born=f"{patient}__date_of_birth", today=today)
            if name == "recurrence":
                broken |= dates.implausible_recurrence()
            implausible |= Q(among(rows.filter(broken), f"{patient}_id"))
        return _flag(implausible)

    def with_flags_to_store(self):
        """What followup.flags keeps for each patient, worked out from scratch by the rules of this module
        in their per-row form (cheap for the few patients a change touches): the data-quality flags (the
        date rules' fixed part as ``implausible_date``), the latest date of each kind that happened
        (``latest_happened_<model>_<field>``, for dates.implausible_window()), and ``no_next_follow_up``."""
        flags = self._data_quality_flags(per_row=True, fixed_dates=True)
        latest = {}
        for name, rows, patient in self._dated_rows():
            for field in dates.happened_fields(name):
                newest = rows.filter(**{patient: OuterRef("pk"), f"{field}__isnull": False}).order_by(f"-{field}")
                latest[f"latest_happened_{name}_{field}"] = Subquery(newest.values(field)[:1])
        lost = self.model.objects.without_next_follow_up().filter(pk=OuterRef("pk"))
        return self._with_nhs_digits()._with_name_keys().annotate(**flags, **latest, no_next_follow_up=Exists(lost))

    def flagged_data_quality(self, *, today: date | None = None):
        """Failsafe 8 as the lists and counts read it: data_quality_problems() from the flags that
        followup.flags keeps (table followup_patientflags, maintained with every change and proved equal
        to the rule by ``manage.py check_patient_flags``). Each flag is annotated under its own name for
        the table, and as ``<flag>_in_list`` for having_problem()."""
        today = today or timezone.localdate()
        implausible = dates.implausible_from_stored("flags__", today=today)
        shown = {flag: F(f"flags__{flag}") for flag in DATA_QUALITY_FLAGS if flag != "implausible_date"}
        shown["implausible_date"] = _flag(implausible)
        chosen = {f"{flag}_in_list": F(flag) for flag in DATA_QUALITY_FLAGS}
        return self.annotate(**shown).alias(**chosen).filter(kept_data_quality("flags__", today)).for_worklist()

    def flagged_without_next_follow_up(self):
        """Failsafe 7 as the lists and counts read it: without_next_follow_up() from the kept flags."""
        return self.filter(kept_without_next_follow_up("flags__"))

    def with_data_quality_flags(self, *, today: date | None = None):
        """The flags as annotations, for the rows shown: evaluated for those rows only."""
        flags = self._data_quality_flags(per_row=True, today=today)
        return self._with_nhs_digits()._with_name_keys().annotate(**flags)

    def data_quality_problems(self, *, per_row: bool = False, today: date | None = None):
        """Failsafe 8: patients with any data-quality problem, flags annotated for the table.

        The list is chosen with the whole-list form of each flag (aliases named
        ``<flag>_in_list``, see having_problem()); the flags shown are annotated in the
        per-row form, which PostgreSQL evaluates only for the page's rows, after the
        sort. ``per_row`` chooses with the per-row form too: for one patient's page.
        """
        chosen = {
            f"{flag}_in_list": expression
            for flag, expression in self._data_quality_flags(per_row=per_row, today=today).items()
        }
        any_problem = Q()
        for name in chosen:
            any_problem |= Q(**{name: True})
        return self.with_data_quality_flags(today=today).alias(**chosen).filter(any_problem).for_worklist()

    def having_problem(self, flag: str):
        """Narrow data_quality_problems() to one problem."""
        return self.filter(**{f"{flag}_in_list": True})

    def with_last_follow_up(self):
        """The last follow-up item that happened (done, or did not attend; a cancelled or open one did not):
        ``last_follow_up`` its date (HAPPENED_ON), ``last_follow_up_kind`` and ``last_follow_up_status``;
        None when nothing has happened yet.

        Correlated subqueries on the item's patient index: the list sorts on the date, and
        PostgreSQL works out the kind and status only for the rows of the page.
        """
        happened = (
            _model("FollowUpItem")
            .objects.filter(patient=OuterRef("pk"), status__in=c.HAPPENED_FOLLOWUP_STATUSES)
            .annotate(happened_on=HAPPENED_ON)
            .order_by("-happened_on", "-pk")
        )
        return self.annotate(
            last_follow_up=Subquery(happened.values("happened_on")[:1]),
            last_follow_up_kind=Subquery(happened.values("kind")[:1]),
            last_follow_up_status=Subquery(happened.values("status")[:1]),
        )


class PrimaryDiagnosisQuerySet(TeamScopedQuerySet):
    def live(self):
        return self.filter(patient__entered_in_error=False)

    def missing_laterality(self):
        return self.live().filter(laterality="")

    def missing_receptors(self):
        """Invasive primaries with ER, PR or HER2 status not recorded (DCIS has no HER2 testing)."""
        missing = Q(er_status="") | Q(pr_status="") | (Q(her2_status="") & ~Q(histology=c.Histology.DCIS))
        return self.live().filter(missing)


class FollowUpItemQuerySet(TeamScopedQuerySet):
    def live(self):
        return self.filter(patient__entered_in_error=False)

    def open(self):
        return self.live().filter(OPEN_ITEM)

    def for_active_patients(self):
        return self.filter(patient__status__in=c.ACTIVE_PATIENT_STATUSES)

    def open_due(self):
        """Open items of active patients, with ``open_due_on`` (OPEN_DUE_ON) to filter on: an item has one
        only while it is open (OPEN_ITEM), so the filter on it is the filter on open items, and PostgreSQL
        estimates it from the expression's own statistics (with OPEN_ITEM said again beside it, it
        multiplied the two, expected a few hundred rows and read every open item instead)."""
        return self.live().for_active_patients().alias(open_due_on=OPEN_DUE_ON)

    @staticmethod
    def overdue_when(today: date) -> Q:
        """Failsafe 1 over open_due_on (open_due()): the due date passed more than the grace window ago."""
        return Q(open_due_on__lt=today - timedelta(days=settings.FOLLOWUP_GRACE_DAYS))

    @staticmethod
    def due_soon_when(today: date) -> Q:
        """Failsafe 2 over open_due_on (open_due()): due within the look-ahead, or past due but still inside
        the grace window."""
        start = today - timedelta(days=settings.FOLLOWUP_GRACE_DAYS)
        return Q(open_due_on__gte=start, open_due_on__lte=FollowUpItemQuerySet.look_ahead_ends(today))

    @staticmethod
    def look_ahead_ends(today: date) -> date:
        """The last due date on either list (overdue_when(), due_soon_when()): the look-ahead's end."""
        return today + timedelta(days=settings.FOLLOWUP_DUE_SOON_DAYS)

    def overdue(self, *, today: date):
        """Failsafe 1: open items whose due date passed more than the grace window ago."""
        return self.open_due().filter(self.overdue_when(today))

    def escalated(self, *, today: date):
        cutoff = today - timedelta(days=settings.FOLLOWUP_ESCALATE_DAYS)
        return self.overdue(today=today).filter(due_on__lt=cutoff)

    def due_soon(self, *, today: date):
        """Failsafe 2: open items due within the look-ahead, or past due but still inside the grace window.

        Together with overdue() this leaves no gap: every open item of an active
        patient due before today + look-ahead is on exactly one of the two lists.
        """
        return self.open_due().filter(self.due_soon_when(today))

    def awaiting_acknowledgement(self):
        """Failsafe 3 (follow-up half): results recorded and not yet acknowledged, abnormal first."""
        return urgent_first(
            self.live().filter(UNACKNOWLEDGED_RESULT).alias(waiting=WAITING_RESULT).filter(waiting=True),
            flagged=ABNORMAL_RESULT,
            waiting_since="result_recorded_on",
        )

    def escalated_results(self, *, today: date):
        """Failsafe 3, escalated: results waiting for acknowledgement for over RESULT_ESCALATE_DAYS."""
        return self.awaiting_acknowledgement().filter(result_recorded_on__lt=result_escalation_cutoff(today))

    def results_awaited(self):
        """Failsafe 3 before the result: done with "Result not yet available", oldest first."""
        return self.live().filter(RESULT_AWAITED).order_by("done_on", "pk")

    def for_worklist(self):
        """Item rows with the patient and named nurse the tables show, and the patient's most recent
        contact (contacts.models.with_last_contact())."""
        return with_last_contact(self.select_related("patient", "patient__named_nurse"))


class RecurrenceQuerySet(TeamScopedQuerySet):
    def live(self):
        return self.filter(patient__entered_in_error=False)

    def not_refuted(self):
        return self.live().exclude(status=c.RecurrenceStatus.REFUTED)

    def distant(self):
        return self.not_refuted().filter(metastatic_type=c.MetastaticType.DISTANT)

    def without_site(self):
        """Data quality: recurrences (not refuted) with no site recorded."""
        sites = _model("RecurrenceSite").objects.filter(recurrence=OuterRef("pk"))
        return self.not_refuted().filter(~Exists(sites))

    def for_worklist(self):
        """Recurrence rows with their patient, named nurse and sites (the MDT list, mdt/tables.py)."""
        return self.select_related("patient", "patient__named_nurse").prefetch_related("sites")


class RecurrenceSiteQuerySet(TeamScopedQuerySet):
    team_path = "recurrence__patient__team"


class RestagingEpisodeQuerySet(TeamScopedQuerySet):
    team_path = "recurrence__patient__team"

    def live(self):
        return self.filter(recurrence__entered_in_error=False, recurrence__patient__entered_in_error=False)

    def incomplete(self):
        """Failsafe 4: episodes still open (or equivocal), oldest first; refuted recurrences need none."""
        return (
            self.live()
            .filter(outcome__in=c.OPEN_RESTAGING_OUTCOMES)
            .exclude(recurrence__status=c.RecurrenceStatus.REFUTED)
            .filter(recurrence__patient__status__in=c.ACTIVE_PATIENT_STATUSES)
            .order_by("opened_on", "pk")
        )

    def completed(self):
        """Episodes whose restaging was completed (no distant disease, or distant disease found);
        those closed because their recurrence was refuted were not: turnaround leaves them out."""
        return self.live().filter(closed_on__isnull=False).exclude(outcome=c.RestagingOutcome.REFUTED)

    def with_tests(self):
        """Episodes with their recurrence and all their tests, cancelled ones too: what
        services.restaging_needs() reads to say what an episode still needs."""
        return self.select_related("recurrence").prefetch_related("tests")

    def for_worklist(self):
        """Episodes with recurrence, patient, nurse, the recurrence's sites, and their tests; the
        patient's most recent contact (contacts.models.with_last_contact())."""
        return with_last_contact(
            self.with_tests()
            .select_related("recurrence__patient", "recurrence__patient__named_nurse")
            .prefetch_related("recurrence__sites"),
            "recurrence__patient_id",
        )


class StagingTestQuerySet(TeamScopedQuerySet):
    team_path = "episode__recurrence__patient__team"

    def live(self):
        return self.filter(
            episode__entered_in_error=False,
            episode__recurrence__entered_in_error=False,
            episode__recurrence__patient__entered_in_error=False,
        )

    def not_cancelled(self):
        return self.live().filter(cancelled_on__isnull=True)

    def outstanding(self):
        """Requested and still waiting for a result (neither resulted nor cancelled)."""
        return self.filter(cancelled_on__isnull=True, result="")

    def awaiting_acknowledgement(self):
        """Failsafe 3 (staging half): results recorded and not yet acknowledged, distant disease first."""
        return urgent_first(
            self.not_cancelled().exclude(result="").filter(acknowledged_at__isnull=True),
            flagged=Q(result=c.StagingResult.DISTANT),
            waiting_since="reported_on",
        )

    def escalated_results(self, *, today: date):
        """Failsafe 3 (staging half), escalated: waiting for acknowledgement for over RESULT_ESCALATE_DAYS."""
        return self.awaiting_acknowledgement().filter(reported_on__lt=result_escalation_cutoff(today))

    def distant_not_recorded(self):
        """Failsafe 5: a result showing distant disease with no distant recurrence recorded from it."""
        # A link to a recurrence later marked entered in error counts as no record at all.
        not_recorded = Q(distant_recurrence__isnull=True) | Q(distant_recurrence__entered_in_error=True)
        return self.not_cancelled().filter(not_recorded, result=c.StagingResult.DISTANT)

    def for_worklist(self):
        """Test rows with their patient, named nurse and the sites they found."""
        return self.select_related(
            "episode__recurrence__patient", "episode__recurrence__patient__named_nurse"
        ).prefetch_related(Prefetch("sites"))


class SymptomReportQuerySet(TeamScopedQuerySet):
    def live(self):
        return self.filter(patient__entered_in_error=False)

    def awaiting_triage(self):
        """Failsafe 6: untriaged reports, red flags first, then oldest first."""
        return (
            self.live()
            .filter(triaged_at__isnull=True)
            .alias(no_red_flag=ExpressionWrapper(Q(red_flag=""), output_field=models.BooleanField()))
            .order_by("no_red_flag", "reported_on", "pk")
        )

    def for_worklist(self):
        return self.select_related("patient", "patient__named_nurse")
