"""Deterministic, realistic demo data, written with bulk inserts.

Patient ``i`` is always the same person with the same history (its random
generator is seeded from the seed and ``i``), relative to the day the command
runs, so every failsafe list has someone on it whenever the demo starts. The
first patients of the main demo nurse's caseload are built to land on each list;
the rest follow realistic proportions. Patients are keyed on their hospital
number, so a re-run adds only those missing.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from contacts import demo as contacts_demo
from mdt import demo as mdt_demo
from tasks import demo as tasks_demo

from . import choices as c
from . import flags
from .models import (
    FollowUpItem,
    FollowUpProtocol,
    GPPractice,
    Patient,
    PrimaryDiagnosis,
    ProtocolStep,
    Recurrence,
    RecurrenceSite,
    RestagingEpisode,
    StagingTest,
    StagingTestSite,
    SymptomReport,
    Team,
    User,
)
from .nhs import nhs_numbers_in_test_range
from .services import SiteEntry, add_months, protocol_schedule, restaging_outcome

# The printed demo login: demo data only.
DEMO_PASSWORD = "followup-demo-2026"  # noqa: S105 # nosec B105

TEAMS = [("north", "North Breast Unit"), ("south", "South Breast Unit")]

# Test GP practices: ODS codes of the Y9 test range no real practice uses; streets of the test town
# that do not exist, and "ZZ99" postcodes (the NHS pseudo-postcodes, never a real address).
DEMO_TOWN = "Testville"
DEMO_STREETS = [
    "Imaginary Road",
    "Fictional Lane",
    "Nowhere Street",
    "Makebelieve Avenue",
    "Pretend Close",
    "Storybook Crescent",
    "Invented Way",
    "Notional Drive",
    "Placeholder Grove",
    "Specimen Terrace",
]
GP_PRACTICES = [
    (f"Y9{number + 1:04d}", name, street)  # Y90001, Y90002...
    for number, (name, street) in enumerate(
        [
            ("Testville Health Centre", "Imaginary Road"),
            ("Fictional Lane Surgery", "Fictional Lane"),
            ("Nowhere Street Medical Practice", "Nowhere Street"),
            ("Makebelieve Avenue Surgery", "Makebelieve Avenue"),
            ("Pretend Close Family Practice", "Pretend Close"),
            ("Storybook Crescent Surgery", "Storybook Crescent"),
            ("Invented Way Medical Centre", "Invented Way"),
            ("Notional Drive Group Practice", "Notional Drive"),
            ("Placeholder Grove Surgery", "Placeholder Grove"),
            ("Specimen Terrace Health Centre", "Specimen Terrace"),
            ("Testville North Practice", "Imaginary Road"),
            ("Testville South Surgery", "Nowhere Street"),
        ]
    )
]
INTERPRETER_LANGUAGES = ["Polish", "Urdu", "Punjabi", "Bengali", "Romanian", "Arabic", "Portuguese", "Somali"]
ACCESSIBLE_NEEDS = ["Large print", "Large print (font size 16)", "Easy read", "Braille", "British Sign Language"]
RELATIONSHIPS = ["Daughter", "Son", "Husband", "Wife", "Partner", "Sister", "Friend", "Carer"]


def demo_postcode(number: int) -> str:
    """A "ZZ99" pseudo-postcode: the shape of a real one, and no address anywhere."""
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return f"ZZ99 {number % 10}{letters[number // 10 % 20]}{letters[number // 200 % 20]}"


# username, first, last, role, team code
USERS = [
    ("nurse", "Alex", "Morgan", c.Role.NURSE, "north"),
    ("nurse.shah", "Priya", "Shah", c.Role.NURSE, "north"),
    ("nurse.evans", "Jo", "Evans", c.Role.NURSE, "south"),
    ("nurse.okafor", "Ngozi", "Okafor", c.Role.NURSE, "south"),
    ("clinician", "Sam", "Patel", c.Role.CLINICIAN, "north"),
    ("admin", "Chris", "Taylor", c.Role.ADMIN, None),
]

# name, description, follow-up model, steps as (kind, start months, interval, occurrences)
PROTOCOLS = [
    (
        "Standard 5-year surveillance",
        "NICE NG101: annual mammogram for 5 years; clinic reviews; yearly endocrine therapy review.",
        c.FollowUpModel.CLINIC,
        [
            (c.FollowUpKind.CLINIC_REVIEW, 3, None, 1),
            (c.FollowUpKind.MAMMOGRAM, 12, 12, 5),
            (c.FollowUpKind.CLINIC_REVIEW, 12, 12, 2),
            (c.FollowUpKind.ENDOCRINE_REVIEW, 12, 12, 5),
        ],
    ),
    (
        "Supported self-management (PSFU)",
        "Remote monitoring: annual mammogram and a telephone review after each result.",
        c.FollowUpModel.PSFU,
        [
            (c.FollowUpKind.TELEPHONE_REVIEW, 3, None, 1),
            (c.FollowUpKind.MAMMOGRAM, 12, 12, 5),
            (c.FollowUpKind.TELEPHONE_REVIEW, 13, 12, 5),
        ],
    ),
    (
        "Patient-initiated follow-up (PIFU)",
        "Annual mammogram for 5 years; the patient calls in when something changes; review at the end.",
        c.FollowUpModel.PIFU,
        [
            (c.FollowUpKind.MAMMOGRAM, 12, 12, 5),
            (c.FollowUpKind.OTHER, 60, None, 1),
        ],
    ),
]

GIVEN_NAMES = [
    "Susan",
    "Margaret",
    "Linda",
    "Patricia",
    "Elizabeth",
    "Karen",
    "Helen",
    "Sarah",
    "Julie",
    "Jane",
    "Angela",
    "Deborah",
    "Amanda",
    "Claire",
    "Joanne",
    "Nicola",
    "Rachel",
    "Emma",
    "Alison",
    "Tracey",
    "Lisa",
    "Michelle",
    "Fiona",
    "Catherine",
    "Janet",
    "Gillian",
    "Lorraine",
    "Dawn",
    "Anne",
    "Ruth",
    "Carol",
    "Sandra",
    "Pauline",
    "Christine",
    "Wendy",
    "Jacqueline",
    "Marie",
    "Amina",
    "Fatima",
    "Priya",
    "Aisha",
    "Grace",
]
MALE_NAMES = ["David", "John", "Michael", "Peter"]
FAMILY_NAMES = [
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Roberts",
    "Robinson",
    "Thompson",
    "Wright",
    "Walker",
    "White",
    "Edwards",
    "Hughes",
    "Green",
    "Hall",
    "Lewis",
    "Harris",
    "Clarke",
    "Patel",
    "Jackson",
    "Wood",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Morris",
    "Moore",
    "Clark",
    "Lee",
    "King",
    "Baker",
    "Harrison",
    "Morgan",
    "Allen",
    "James",
    "Scott",
    "Phillips",
    "Watson",
    "Davis",
    "Parker",
    "Price",
    "Bennett",
    "Young",
    "Griffiths",
    "Mitchell",
    "Kelly",
    "Cook",
    "Carter",
    "Richardson",
    "Bailey",
    "Collins",
    "Bell",
    "Shaw",
    "Murphy",
    "Miller",
    "Cox",
    "Richards",
    "Khan",
    "Marshall",
    "Anderson",
    "Simpson",
    "Ellis",
    "Adams",
    "Singh",
    "Begum",
    "Wilkinson",
    "Foster",
    "Chapman",
]

# The failsafe lists (and data-quality problems) the first patients are built to show.
SCENARIOS = [
    "overdue",
    "escalated",
    "due_soon",
    "result_unacknowledged",
    "restaging_incomplete",
    "restaging_equivocal",
    "distant_not_recorded",
    "red_flag_symptom",
    "symptom_untriaged",
    "no_next_follow_up",
    "missing_nhs_number",
    "invalid_nhs_number",
    "duplicate",
    "recurrence_without_site",
    "missing_laterality",
    "missing_receptors",
    "result_awaited",
    "implausible_date",
    "pifu_ending",  # PIFU ends in 12 days
    "pifu_ended",  # PIFU ended 9 days ago, the patient still active: neither followed up nor discharged
]
# The PIFU scenarios: the day their PIFU period ends, from today.
PIFU_SCENARIO_ENDS = {"pifu_ending": 12, "pifu_ended": -9}
# How long PIFU lasts from the start of each protocol that has one (FollowUpProtocol.pifu_months).
PIFU_MONTHS = {"Patient-initiated follow-up (PIFU)": 60}


@dataclass
class Rows:
    """Unsaved rows of one batch, in the order they must be inserted."""

    patients: list = field(default_factory=list)
    primaries: list = field(default_factory=list)
    recurrences: list = field(default_factory=list)
    recurrence_sites: list = field(default_factory=list)
    episodes: list = field(default_factory=list)
    tests: list = field(default_factory=list)
    test_sites: list = field(default_factory=list)
    items: list = field(default_factory=list)
    symptoms: list = field(default_factory=list)

    def save(self, batch_size: int = 2000) -> None:
        for model, rows in (
            (Patient, self.patients),
            (PrimaryDiagnosis, self.primaries),
            (Recurrence, self.recurrences),
            (RecurrenceSite, self.recurrence_sites),
            (RestagingEpisode, self.episodes),
            (StagingTest, self.tests),
            (StagingTestSite, self.test_sites),
            (FollowUpItem, self.items),
            (SymptomReport, self.symptoms),
        ):
            model.objects.bulk_create(rows, batch_size=batch_size)


@dataclass
class Reference:
    teams: dict[str, Team]
    nurses: dict[str, list[User]]
    main_nurse: User
    protocols: list[tuple[FollowUpProtocol, str, list[ProtocolStep]]]
    nhs_numbers: list[str] = field(default_factory=list)
    practices: list[GPPractice] = field(default_factory=list)


def ensure_reference_data() -> Reference:
    """Teams, users and protocols: created once, left alone on a re-run."""
    teams = {code: Team.objects.get_or_create(code=code, defaults={"name": name})[0] for code, name in TEAMS}
    users = {}
    for username, first, last, role, team_code in USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "role": role,
                "team": teams.get(team_code),
                "email": f"{username}@example.nhs.uk",
                "is_staff": role == c.Role.ADMIN,
                "is_superuser": role == c.Role.ADMIN,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        users[username] = user
    nurses = {
        code: [u for u in users.values() if u.role == c.Role.NURSE and u.team_id == team.pk]
        for code, team in teams.items()
    }
    protocols = []
    for name, description, model, steps in PROTOCOLS:
        protocol, created = FollowUpProtocol.objects.get_or_create(
            name=name, defaults={"description": description, "pifu_months": PIFU_MONTHS.get(name)}
        )
        if created:
            ProtocolStep.objects.bulk_create(
                ProtocolStep(protocol=protocol, kind=kind, start_months=start, interval_months=interval, occurrences=n)
                for kind, start, interval, n in steps
            )
        protocols.append((protocol, model, list(protocol.steps.order_by("pk"))))
    practices = [
        GPPractice.objects.get_or_create(
            ods_code=code,
            defaults={
                "name": name,
                "address_line_1": f"{number * 7 + 1} {street}",
                "town": DEMO_TOWN,
                "postcode": demo_postcode(900 + number),
                "phone": f"01632 960{900 + number:03d}",
            },
        )[0]
        for number, (code, name, street) in enumerate(GP_PRACTICES)
    ]
    return Reference(teams=teams, nurses=nurses, main_nurse=users["nurse"], protocols=protocols, practices=practices)


def _pifu_months(protocol) -> int | None:
    # A demo database seeded before protocols had a PIFU length: the length the demo gives them now.
    return protocol.pifu_months or PIFU_MONTHS.get(protocol.name)


def hospital_number(index: int) -> str:
    return f"DEMO{index:07d}"


def _days(rng: random.Random, low: int, high: int) -> timedelta:
    return timedelta(days=rng.randint(low, high))


# The seeded generators below make reproducible demo people, nothing secret (bandit B311).


class PatientBuilder:
    """Builds one patient's rows; ``scenario`` forces a failsafe list for the first patients."""

    def __init__(self, *, index: int, seed: int, today: date, ref: Reference, rows: Rows):
        self.index, self.seed, self.today, self.ref, self.rows = index, seed, today, ref, rows
        self.rng = random.Random(f"{seed}-{index}")  # nosec B311
        self.scenario = SCENARIOS[index] if index < len(SCENARIOS) else None
        self.now = timezone.now()

    def _record(self, model, **fields):
        fields.setdefault("created_by", self.nurse)
        fields.setdefault("updated_by", self.nurse)
        fields.setdefault("created_at", self.now)
        fields.setdefault("updated_at", self.now)
        return model(**fields)

    def build(self) -> None:
        rng, today = self.rng, self.today
        if self.scenario:
            team_code, self.nurse = "north", self.ref.main_nurse
        else:
            team_code = "south" if self.index % 3 == 2 else "north"
            self.nurse = rng.choice(self.ref.nurses[team_code])
        protocol, model, steps = rng.choices(self.ref.protocols, weights=[6, 3, 1])[0]

        diagnosed_on = today - _days(rng, 200, 2900)
        if self.scenario == "no_next_follow_up":
            diagnosed_on = today - timedelta(days=2500)  # schedule finished, never discharged
        elif self.scenario in ("overdue", "escalated", "due_soon", "result_unacknowledged", "result_awaited"):
            diagnosed_on = today - _days(rng, 800, 1200)
        start_on = diagnosed_on + timedelta(days=180)
        if self.scenario in PIFU_SCENARIO_ENDS:
            protocol, model, steps = next(p for p in self.ref.protocols if p[1] == c.FollowUpModel.PIFU)
            start_on = add_months(today + timedelta(days=PIFU_SCENARIO_ENDS[self.scenario]), -_pifu_months(protocol))
            diagnosed_on = start_on - timedelta(days=180)

        self.patient = self._patient(team_code, model, protocol, start_on)
        self.primary = self._primary(diagnosed_on)
        self._schedule(steps, start_on)
        self._recurrences(diagnosed_on)
        self._symptoms()
        self._finish()

    # Patient and primary -------------------------------------------------------

    def _patient(self, team_code: str, model: str, protocol, start_on: date) -> Patient:
        given, family, born, sex = self._identity(self.index)
        nhs = self.ref.nhs_numbers[self.index]
        if self.scenario == "missing_nhs_number":
            nhs = ""
        elif self.scenario == "invalid_nhs_number" and nhs:
            nhs = nhs[:9] + str((int(nhs[9]) + 1) % 10)  # wrong check digit
        elif self.scenario == "duplicate":
            # A re-registration of the patient before it: same surname, birth date and sex.
            previous_given, family, born, sex = self._identity(self.index - 1)
            given = previous_given[:3] + "ie"
        patient = self._record(
            Patient,
            nhs_number=nhs,
            hospital_number=hospital_number(self.index),
            given_name=given,
            family_name=family,
            date_of_birth=born,
            sex=sex,
            team=self.ref.teams[team_code],
            named_nurse=self.nurse,
            follow_up_model=model,
            protocol=protocol,
            protocol_start_on=start_on,
            **self._pifu_period(model, protocol, start_on),
            **self._contact_details(given, family),
        )
        self.rows.patients.append(patient)
        return patient

    @staticmethod
    def _pifu_period(model: str, protocol, start_on: date) -> dict:
        """A PIFU patient's period from the protocol, as services.protocol_assign sets it."""
        if model != c.FollowUpModel.PIFU or not _pifu_months(protocol):
            return {}
        return {"pifu_starts_on": start_on, "pifu_ends_on": add_months(start_on, _pifu_months(protocol))}

    def _contact_details(self, given: str, family: str) -> dict:
        """Address, phones (Ofcom's drama ranges only), preferences, next of kin, GP; from a generator of
        its own, so the rest of the demo stays as it was. Every few patients need an interpreter, large
        print, or say no messages: the demo shows each."""
        rng, index = random.Random(f"{self.seed}-{self.index}-contact"), self.index  # nosec B311
        mobile = f"07700 900{rng.randrange(1000):03d}" if rng.random() < 0.85 else ""
        home = f"01632 960{rng.randrange(1000):03d}" if not mobile or rng.random() < 0.4 else ""
        email = f"{given}.{family}{index}@example.com".lower().replace("'", "") if rng.random() < 0.35 else ""
        preferred = rng.choice(
            [choice for choice, there in (("mobile", mobile), ("home", home), ("email", email)) if there]
        )
        fields = {
            "address_line_1": f"{rng.randint(1, 199)} {rng.choice(DEMO_STREETS)}",
            "town": DEMO_TOWN,
            "postcode": demo_postcode(rng.randrange(4000)),
            "phone_mobile": mobile,
            "phone_home": home,
            "email": email,
            "preferred_contact": c.ContactPreference.LETTER if index % 17 == 9 else preferred,
            "messages_may_be_left": False if index % 13 == 4 else (True if rng.random() < 0.8 else None),
            "gp_practice": rng.choice(self.ref.practices) if index % 31 != 6 else None,
        }
        if rng.random() < 0.6:
            fields["next_of_kin_name"] = f"{rng.choice(GIVEN_NAMES)} {rng.choice([family, *FAMILY_NAMES[:5]])}"
            fields["next_of_kin_relationship"] = rng.choice(RELATIONSHIPS)
            fields["next_of_kin_phone"] = f"07700 900{rng.randrange(1000):03d}"
        if index % 29 == 3:
            fields["interpreter_needed"] = True
            fields["interpreter_language"] = INTERPRETER_LANGUAGES[index // 29 % len(INTERPRETER_LANGUAGES)]
        if index % 23 == 7:
            fields["accessible_information"] = ACCESSIBLE_NEEDS[index // 23 % len(ACCESSIBLE_NEEDS)]
        return fields

    def _identity(self, index: int) -> tuple[str, str, date, str]:
        """Name, birth date and sex of patient ``index``, from a generator of its own."""
        rng = random.Random(f"{self.seed}-{index}-identity")  # nosec B311
        sex = c.Sex.MALE if rng.random() < 0.01 else c.Sex.FEMALE
        given = rng.choice(MALE_NAMES if sex == c.Sex.MALE else GIVEN_NAMES)
        born = self.today - timedelta(days=rng.randint(36 * 365, 86 * 365))
        return given, rng.choice(FAMILY_NAMES), born, sex

    def _primary(self, diagnosed_on: date) -> PrimaryDiagnosis:
        rng = self.rng
        histology = rng.choices(c.Histology.values, weights=[70, 12, 5, 3, 10])[0]
        er = rng.choices([c.ReceptorStatus.POSITIVE, c.ReceptorStatus.NEGATIVE], weights=[80, 20])[0]
        pr = rng.choices([c.ReceptorStatus.POSITIVE, c.ReceptorStatus.NEGATIVE], weights=[65, 35])[0]
        her2 = rng.choices([c.ReceptorStatus.POSITIVE, c.ReceptorStatus.NEGATIVE], weights=[15, 85])[0]
        if histology == c.Histology.DCIS:
            her2 = c.ReceptorStatus.NOT_TESTED
        surgery = rng.choices([c.BreastSurgery.WLE, c.BreastSurgery.MASTECTOMY], weights=[65, 35])[0]
        laterality = rng.choice([c.Laterality.LEFT, c.Laterality.RIGHT])
        if self.scenario == "missing_laterality" or (not self.scenario and rng.random() < 0.01):
            laterality = ""
        if self.scenario == "missing_receptors" or (not self.scenario and rng.random() < 0.01):
            pr = ""
        endocrine = c.EndocrineTherapy.NONE
        if er == c.ReceptorStatus.POSITIVE:
            endocrine = rng.choice([c.EndocrineTherapy.TAMOXIFEN, c.EndocrineTherapy.AROMATASE_INHIBITOR])
        primary = self._record(
            PrimaryDiagnosis,
            patient=self.patient,
            laterality=laterality,
            diagnosed_on=diagnosed_on,
            histology=histology,
            grade="" if histology == c.Histology.DCIS else rng.choice(c.Grade.values),
            er_status=er,
            pr_status=pr,
            her2_status=her2,
            surgery=surgery,
            axillary_surgery=rng.choices([c.AxillarySurgery.SLNB, c.AxillarySurgery.ANC], weights=[80, 20])[0],
            radiotherapy=c.Radiotherapy.BREAST if surgery == c.BreastSurgery.WLE else c.Radiotherapy.CHEST_WALL,
            systemic_therapy=rng.choice(c.SystemicTherapy.values),
            endocrine_therapy=endocrine,
            endocrine_started_on=diagnosed_on + timedelta(days=120) if endocrine != c.EndocrineTherapy.NONE else None,
        )
        self.rows.primaries.append(primary)
        return primary

    # Follow-up schedule --------------------------------------------------------

    def _schedule(self, steps, start_on: date) -> None:
        rng, today, scenario = self.rng, self.today, self.scenario
        self.items = []
        forced_open = {"overdue": 30, "escalated": 90, "due_soon": -10}.get(scenario)
        for slot in protocol_schedule(steps, start_on=start_on):
            item = self._record(
                FollowUpItem,
                patient=self.patient,
                kind=slot.step.kind,
                due_on=slot.due_on,
                protocol_step=slot.step,
                sequence=slot.sequence,
            )
            age = (today - slot.due_on).days  # days since due; negative = in the future
            if age < 0:
                if age >= -21 and rng.random() < 0.5:
                    item.status, item.booked_for = c.FollowUpStatus.BOOKED, slot.due_on
            elif age <= 120 and (rng.random() < 0.04 if not scenario else False):
                pass  # left open: overdue or within grace
            elif age > 120 and not scenario and rng.random() < 0.0005:
                pass  # long forgotten: escalated
            elif rng.random() < 0.02:
                item.status = c.FollowUpStatus.DID_NOT_ATTEND
            else:
                self._complete(item, age)
            self.items.append(item)
        if forced_open is not None:
            # The item due nearest to the forced age stays open with that due date.
            target = today - timedelta(days=forced_open)
            item = min(self.items, key=lambda i: abs((i.due_on - target).days))
            item.due_on, item.status, item.booked_for, item.done_on = target, c.FollowUpStatus.DUE, None, None
            item.result, item.result_acknowledged_at, item.result_acknowledged_by = "", None, None
            item.result_recorded_on = None
        if scenario in ("result_unacknowledged", "result_awaited"):
            latest = max(
                (i for i in self.items if i.kind == c.FollowUpKind.MAMMOGRAM and i.due_on <= today),
                key=lambda i: i.due_on,
            )
            self._complete(latest, age=0)
            latest.result_acknowledged_at = latest.result_acknowledged_by = None
            if scenario == "result_awaited":
                latest.result, latest.result_awaited, latest.result_recorded_on = "", True, None
                latest.done_on = max(latest.due_on, today - timedelta(days=6))  # a week's wait, not months
        self.rows.items.extend(self.items)

    def _complete(self, item: FollowUpItem, age: int) -> None:
        rng = self.rng
        item.status = c.FollowUpStatus.DONE
        item.done_on = min(item.due_on + _days(rng, 0, 14), self.today)
        if item.kind in c.RESULT_KINDS:
            item.result = rng.choices([c.ImagingOutcome.NORMAL, c.ImagingOutcome.BENIGN], weights=[92, 8])[0]
            item.result_recorded_on = item.done_on
            if age > 21 or rng.random() < 0.5:
                acknowledged_on = min(item.done_on + _days(rng, 1, 7), self.today)
                item.result_acknowledged_at = self._at(acknowledged_on)
                item.result_acknowledged_by = self.nurse

    def _at(self, day: date) -> datetime:
        return timezone.make_aware(datetime.combine(day, time(10, 30)))

    # Recurrences and restaging -------------------------------------------------

    def _recurrences(self, diagnosed_on: date) -> None:
        rng, scenario = self.rng, self.scenario
        earliest = diagnosed_on + timedelta(days=365)
        if earliest >= self.today:
            return
        roll = rng.random()
        restaging = {
            "restaging_incomplete": 12,
            "restaging_equivocal": 35,
            "distant_not_recorded": 45,
        }
        if scenario in restaging:
            self._local_regional(self.today - timedelta(days=restaging[scenario]))
        elif scenario == "recurrence_without_site":
            self._recurrence(c.MetastaticType.DISTANT, self.today - timedelta(days=60), sites=[])
        elif not scenario and roll < 0.06:
            self._local_regional(earliest + _days(rng, 0, (self.today - earliest).days))
        elif not scenario and roll < 0.09:
            self._recurrence(
                c.MetastaticType.DISTANT,
                earliest + _days(rng, 0, (self.today - earliest).days),
                sites=[
                    SiteEntry(
                        rng.choices([c.Site.BONE, c.Site.LIVER, c.Site.LUNG, c.Site.BRAIN], weights=[50, 20, 20, 10])[0]
                    )
                ],
                status=c.RecurrenceStatus.CONFIRMED,
            )

    def _recurrence(self, metastatic_type: str, on: date, *, sites, status=c.RecurrenceStatus.CONFIRMED):
        recurrence = self._record(
            Recurrence,
            patient=self.patient,
            primary=self.primary,
            metastatic_type=metastatic_type,
            status=status,
            diagnosed_on=on,
            detection_method=self.rng.choice(c.DetectionMethod.values[:3]),
            basis_of_diagnosis=c.BasisOfDiagnosis.HISTOLOGY_METASTASIS
            if metastatic_type != c.MetastaticType.DISTANT
            else c.BasisOfDiagnosis.CLINICAL_INVESTIGATION,
            lymphoedema=metastatic_type == c.MetastaticType.REGIONAL and self.rng.random() < 0.3,
        )
        self.rows.recurrences.append(recurrence)
        for entry in sites:
            self.rows.recurrence_sites.append(
                self._record(
                    RecurrenceSite,
                    recurrence=recurrence,
                    metastatic_type=metastatic_type,
                    site=entry.site,
                    other_site_text=entry.other_text,
                )
            )
        if metastatic_type == c.MetastaticType.DISTANT and status != c.RecurrenceStatus.REFUTED:
            self.patient.status = c.PatientStatus.SECONDARY
        return recurrence

    def _local_regional(self, on: date) -> None:
        rng, scenario = self.rng, self.scenario
        if rng.random() < 0.45:
            metastatic_type = c.MetastaticType.LOCAL
            site = rng.choice([c.Site.BREAST, c.Site.BREAST_SKIN, c.Site.CHEST_WALL, c.Site.SCAR])
        else:
            metastatic_type = c.MetastaticType.REGIONAL
            site = rng.choices(
                [
                    c.Site.AXILLARY_NODES,
                    c.Site.SUPRACLAVICULAR_NODES,
                    c.Site.INTERNAL_MAMMARY_NODES,
                    c.Site.INFRACLAVICULAR_NODES,
                ],
                weights=[70, 15, 10, 5],
            )[0]
        recurrence = self._recurrence(metastatic_type, on, sites=[SiteEntry(site)])
        episode = self._record(RestagingEpisode, recurrence=recurrence, opened_on=on, target_on=on + timedelta(days=28))
        self.rows.episodes.append(episode)

        age = (self.today - on).days
        imaging = c.StagingModality.PET_CT if rng.random() < 0.2 else c.StagingModality.CT_CAP
        distant_found = scenario == "distant_not_recorded" or (not scenario and rng.random() < 0.3)
        tests = []
        for modality in (imaging, c.StagingModality.BONE_SCAN, c.StagingModality.BLOODS, c.StagingModality.BIOPSY):
            test = self._record(StagingTest, episode=episode, modality=modality, requested_on=on + timedelta(days=1))
            # How far along the test is depends on how long ago the recurrence was.
            if age >= 14 and scenario != "restaging_incomplete":
                test.performed_on = on + _days(rng, 3, 10)
                test.reported_on = min(test.performed_on + _days(rng, 1, 4), self.today)
                test.result = c.StagingResult.CLEAR
                if age >= 40 or rng.random() < 0.5:
                    test.acknowledged_at = self._at(min(test.reported_on + timedelta(days=1), self.today))
                    test.acknowledged_by = self.nurse
            tests.append(test)
        if scenario == "restaging_equivocal":
            tests[1].result = c.StagingResult.EQUIVOCAL  # bone scan: indeterminate uptake, not yet read
            tests[1].acknowledged_at = tests[1].acknowledged_by = None
        scan = tests[0]
        if distant_found and scan.result:
            scan.result = c.StagingResult.DISTANT
            found = rng.choices([c.Site.LIVER, c.Site.BONE, c.Site.LUNG], weights=[40, 40, 20])[0]
            self.rows.test_sites.append(StagingTestSite(test=scan, site=found))
            if not scenario and rng.random() < 0.9:
                scan.distant_recurrence = self._recurrence(
                    c.MetastaticType.DISTANT, scan.reported_on, sites=[SiteEntry(found)]
                )
        episode.outcome, episode.closed_on = restaging_outcome(tests, opened_on=on)
        self.rows.tests.extend(tests)
        if self.patient.status == c.PatientStatus.SURVEILLANCE:
            self.patient.status = c.PatientStatus.ON_TREATMENT

    # Symptoms, and the end of the story ---------------------------------------

    def _symptoms(self) -> None:
        rng, scenario = self.rng, self.scenario
        if scenario == "red_flag_symptom":
            self._symptom(c.SymptomArea.BONE, 1, "Back pain for a week, legs feel weak.", c.RedFlag.CORD_COMPRESSION)
        elif scenario == "symptom_untriaged":
            self._symptom(c.SymptomArea.REGIONAL, 3, "New lump under the left arm.", "")
        elif scenario == "implausible_date":
            # Saved before issue 12: "25" typed as the year the symptoms started.
            report = self._symptom(c.SymptomArea.LUNG, 40, "Cough for three weeks.", "")
            report.onset_on = report.reported_on.replace(year=25, day=min(report.reported_on.day, 28))
        elif not scenario and rng.random() < 0.10:
            area = rng.choice(c.SymptomArea.values)
            days_ago = rng.randint(0, 700)
            red_flag = c.RedFlag.CORD_COMPRESSION if area == c.SymptomArea.BONE and rng.random() < 0.1 else ""
            self._symptom(area, days_ago, "Reported by telephone to the CNS line.", red_flag)

    def _symptom(self, area: str, days_ago: int, description: str, red_flag: str) -> SymptomReport:
        reported_on = self.today - timedelta(days=days_ago)
        report = self._record(
            SymptomReport,
            patient=self.patient,
            reported_on=reported_on,
            onset_on=reported_on - _days(self.rng, 0, 14),
            area=area,
            description=description,
            red_flag=red_flag,
        )
        if days_ago > 3:
            report.triage_outcome = c.TriageOutcome.URGENT if red_flag else self.rng.choice(c.TriageOutcome.values)
            report.triaged_by, report.triaged_at = self.nurse, self._at(reported_on)
        self.rows.symptoms.append(report)
        return report

    def _finish(self) -> None:
        """Discharge those whose schedule ended, record some deaths, give secondary patients a review."""
        rng, today, patient = self.rng, self.today, self.patient
        open_items = [i for i in self.items if i.status in c.OPEN_FOLLOWUP_STATUSES]
        if patient.status in (c.PatientStatus.SECONDARY, c.PatientStatus.ON_TREATMENT):
            if patient.status == c.PatientStatus.SECONDARY:
                for item in open_items:
                    item.status, item.booked_for = c.FollowUpStatus.CANCELLED, None
                    item.cancel_reason = "Care continues on the secondary breast cancer pathway."
            self.rows.items.append(
                self._record(
                    FollowUpItem, patient=patient, kind=c.FollowUpKind.CLINIC_REVIEW, due_on=today + _days(rng, 7, 84)
                )
            )
        elif (
            not open_items
            and self.scenario not in ("no_next_follow_up", "pifu_ended")
            and patient.status == c.PatientStatus.SURVEILLANCE
        ):
            if self.scenario or rng.random() < 0.97:
                last_due = max(i.due_on for i in self.items)
                patient.status = c.PatientStatus.DISCHARGED
                patient.discharged_on = min(last_due + timedelta(days=30), today)
                patient.discharge_reason = "Completed follow-up; GP informed."
        elif not self.scenario and rng.random() < 0.01:
            patient.status = c.PatientStatus.DECEASED
            patient.date_of_death = today - _days(rng, 1, 60)
            for item in open_items:
                item.status, item.booked_for = c.FollowUpStatus.CANCELLED, None
                item.cancel_reason = "Patient died."


def seed(
    *,
    patients: int,
    seed: int = 2026,
    today: date | None = None,
    batch_size: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Create demo patients 0..patients-1 that do not exist yet; returns how many were created."""
    today = today or timezone.localdate()
    ref = ensure_reference_data()
    ref.nhs_numbers = nhs_numbers_in_test_range(patients)
    existing = set(
        Patient.all_objects.filter(hospital_number__startswith="DEMO").values_list("hospital_number", flat=True)
    )
    created = 0
    for start in range(0, patients, batch_size):
        indexes = [i for i in range(start, min(start + batch_size, patients)) if hospital_number(i) not in existing]
        rows = Rows()
        for index in indexes:
            PatientBuilder(index=index, seed=seed, today=today, ref=ref, rows=rows).build()
        # Each bulk insert refreshes its patients' flags (scope.KeepsPatientFlags): gathered, once a batch.
        with transaction.atomic(), flags.batched():
            rows.save()
            mdt_demo.seed(recurrences=rows.recurrences, today=today, seed=seed)
            tasks_demo.seed(patients=rows.patients, ref=ref, today=today, seed=seed)
            # The contact log of the batch's patients (the contacts app), from what happened to them.
            contacts_demo.seed(patients=rows.patients, items=rows.items, symptoms=rows.symptoms, today=today, seed=seed)
        created += len(indexes)
        if progress:
            progress(min(start + batch_size, patients), patients)
    from letters.demo import seed as seed_letters  # the letters app builds on followup's rows

    seed_letters(today=today)
    from integration.demo import seed as seed_results  # results arriving by themselves: the integration app

    seed_results(today=today)
    from selfreport.demo import seed as seed_self_reports  # personal codes and reports from the patient's page

    seed_self_reports(today=today)

    from alerts.demo import seed as seed_alerts  # alerts already sent (the alerts app)

    seed_alerts(today=today)
    return created
