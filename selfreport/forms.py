"""The patient's form: who they are (code and date of birth), the urgent questions, what and how long.

Written for patients (NHS content style): short words, "you", one idea a sentence. Every answer
is kept when the page comes back with an error (Django binds them; nothing is cleared)."""

from django import forms

from followup import choices as c
from followup.fields import DateField, NHSMessagesMixin, Radios

from . import codes

NONE = "none"
# The most serious first: a report's red_flag is the first of those its answers raise. This order is
# the only place that decides it (form.red_flags() sorts by it; the service takes the first).
RED_FLAG_ORDER = [
    c.RedFlag.CORD_COMPRESSION,
    c.RedFlag.SEIZURE,
    c.RedFlag.NEUROLOGICAL,
    c.RedFlag.BREATHLESSNESS,
    c.RedFlag.HYPERCALCAEMIA,
]
# What the patient must do now for each red flag (DOMAIN.md "What patients are told to do now").
CALL_999 = frozenset({c.RedFlag.SEIZURE, c.RedFlag.NEUROLOGICAL, c.RedFlag.BREATHLESSNESS})
CALL_ACUTE_ONCOLOGY = frozenset({c.RedFlag.CORD_COMPRESSION, c.RedFlag.HYPERCALCAEMIA})


def what_to_do(flags) -> dict[str, list[str]]:
    """The one rule for which action each red flag needs: {"call_999": the flags that need 999,
    "acute_oncology": those that need the acute oncology line now}. The patient is told 999 if any
    flag needs it, and the acute oncology line as well when cord compression or high calcium is
    among them: never one instead of the other."""
    return {
        "call_999": [flag for flag in flags if flag in CALL_999],
        "acute_oncology": [flag for flag in flags if flag in CALL_ACUTE_ONCOLOGY],
    }


# The urgent questions: each answer raises the red flag beside it. Two answers share a flag: a sudden
# severe headache with being sick is a new neurological symptom, and new chest pain is a 999
# heart-and-lung emergency like sudden breathlessness (both are 999 in DOMAIN.md).
HEADACHE = "headache_sickness"
CHEST_PAIN = "chest_pain"
URGENT_CHOICES = [
    (
        c.RedFlag.CORD_COMPRESSION,
        "Back pain with weak legs, numbness, or not being able to control your bladder or bowels",
    ),
    (c.RedFlag.SEIZURE, "A new fit (seizure)"),
    (HEADACHE, "A sudden, severe headache with being sick"),
    (c.RedFlag.BREATHLESSNESS, "Sudden, very bad breathlessness"),
    (CHEST_PAIN, "New chest pain"),
    (c.RedFlag.HYPERCALCAEMIA, "Feeling very sick, very thirsty or confused"),
    (NONE, "None of these"),
]
URGENT_FLAG = {
    c.RedFlag.CORD_COMPRESSION: c.RedFlag.CORD_COMPRESSION,
    c.RedFlag.SEIZURE: c.RedFlag.SEIZURE,
    HEADACHE: c.RedFlag.NEUROLOGICAL,
    c.RedFlag.BREATHLESSNESS: c.RedFlag.BREATHLESSNESS,
    CHEST_PAIN: c.RedFlag.BREATHLESSNESS,
    c.RedFlag.HYPERCALCAEMIA: c.RedFlag.HYPERCALCAEMIA,
}
URGENT_ORDER = [key for key, _ in URGENT_CHOICES if key != NONE]


def flags_of(answers) -> list[str]:
    """The red flags these urgent answers raise, the most serious first, each once."""
    return sorted({URGENT_FLAG[answer] for answer in answers}, key=RED_FLAG_ORDER.index)


# The areas as the page asks about them, each with its symptoms (DOMAIN.md) and where it lands
# (c.SymptomArea). "Lumps and skin changes" lands on regional when a lump near the nodes is ticked.
LEG_WEAKNESS = "legs"
BLADDER = "bladder"
NODE_LUMPS = ("armpit_lump", "collarbone_lump")
AREAS = {
    "bone": (
        "Bones (for example, your back, hips or ribs)",
        [
            ("pain", "Pain in your back, hips or ribs"),
            ("painkillers", "Pain that painkillers do not help"),
            ("night", "Pain that is worse at night"),
            ("break", "A bone that may be broken"),
            (LEG_WEAKNESS, "Weak legs or numbness"),
            (BLADDER, "Not being able to control your bladder or bowels"),
        ],
    ),
    "lung": (
        "Chest and breathing",
        [
            ("breathless", "Feeling short of breath"),
            ("cough", "A cough that will not go away"),
            ("chest_pain", "Pain or tightness in your chest"),
        ],
    ),
    "liver": (
        "Tummy, appetite or yellow skin",
        [
            ("right_side", "Pain on the right side of your tummy, under your ribs"),
            ("shoulder", "Pain in your right shoulder"),
            ("sick", "Feeling sick"),
            ("appetite", "Not feeling hungry"),
            ("weight", "Losing weight without trying"),
            ("swelling", "Swelling under your ribs"),
            ("yellow", "Yellow skin, or the whites of your eyes turning yellow"),
        ],
    ),
    "brain": (
        "Head, eyesight, speech or behaviour",
        [
            ("headache", "Headaches"),
            ("vomiting", "Being sick"),
            ("weakness", "Weakness in your arms or legs"),
            ("vision", "Changes in your eyesight"),
            ("speech", "Changes in your speech"),
            ("behaviour", "Changes in how you behave"),
        ],
    ),
    "lumps": (
        "Lumps or skin changes",
        [
            ("breast_lump", "A new lump in your breast, chest or scar"),
            ("skin", "A change in the skin of your breast, chest or scar"),
            ("armpit_lump", "A lump under your arm"),
            ("collarbone_lump", "A lump above your collarbone or near your breastbone"),
        ],
    ),
    "arm": (
        "Arm swelling",
        [
            ("arm_swelling", "Swelling in your arm or hand"),
            ("arm_pain", "Pain in your arm or shoulder"),
            ("arm_numb", "Numbness in your arm or hand"),
        ],
    ),
    "general": (
        "Feeling generally unwell",
        [
            ("tired", "Feeling very tired"),
            ("unwell", "Feeling unwell"),
            ("weight_loss", "Losing weight without trying"),
        ],
    ),
}
AREA_LANDS_ON = {
    "bone": c.SymptomArea.BONE,
    "lung": c.SymptomArea.LUNG,
    "liver": c.SymptomArea.LIVER,
    "brain": c.SymptomArea.BRAIN,
    "lumps": c.SymptomArea.LOCAL,
    "arm": c.SymptomArea.LYMPHOEDEMA,
    "general": c.SymptomArea.GENERAL,
}
DESCRIPTION_MAX = 1000


def symptoms_field(area: str) -> str:
    return f"symptoms_{area}"


class SelfReportForm(NHSMessagesMixin, forms.Form):
    code = forms.CharField(
        label="Your personal code",
        help_text="It is 12 letters and numbers, printed on the slip that came with your care plan or "
        "follow-up letter. For example, ABCD-EFGH-JKMN",
        max_length=codes.MAX_ENTRY,
        error_messages={"required": "Enter your personal code"},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "class": "nhsuk-input nhsuk-input--width-10 app-code-input",
            }
        ),
    )
    born = DateField("Your date of birth", missing="Enter your date of birth", example="birth")
    urgent = forms.MultipleChoiceField(
        label="Do you have any of these now?",
        help_text="Select all that apply.",
        choices=URGENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select if you have any of these now, or select 'None of these'"},
    )
    area = forms.ChoiceField(
        label="Where are your symptoms?",
        help_text="If you have symptoms in more than one place, choose the one that worries you most. "
        "Tell us about the others below.",
        choices=[(key, label) for key, (label, _) in AREAS.items()],
        widget=Radios(reveals={key: symptoms_field(key) for key in AREAS}),
        error_messages={"required": "Select where your symptoms are"},
    )
    lasted = forms.ChoiceField(
        label="How long have you had these symptoms?",
        choices=c.SymptomDuration.choices,
        widget=Radios(),
        error_messages={"required": "Select how long you have had these symptoms"},
    )
    worsening = forms.ChoiceField(
        label="Are your symptoms getting worse?",
        choices=[(c.Worsening.YES, "Yes"), (c.Worsening.NO, "No"), (c.Worsening.NOT_SURE, "I'm not sure")],
        widget=Radios(),
        error_messages={"required": "Select if your symptoms are getting worse"},
    )
    description = forms.CharField(
        label="Tell us about your symptoms",
        help_text=f"For example, when they started and what makes them better or worse. "
        f"Use {DESCRIPTION_MAX} characters or fewer.",
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Tell us about your symptoms"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for area, (_label, symptoms) in AREAS.items():
            self.fields[symptoms_field(area)] = forms.MultipleChoiceField(
                label="Which of these do you have?",
                help_text="Select all that apply.",
                choices=symptoms,
                required=False,
                widget=forms.CheckboxSelectMultiple,
            )

    def clean_code(self):
        entered = codes.normalise(self.cleaned_data["code"])
        if not codes.is_well_formed(entered):
            raise forms.ValidationError(
                "Enter your personal code as it is printed on your letter: 12 letters and numbers"
            )
        return entered

    def clean_urgent(self):
        chosen = self.cleaned_data["urgent"]
        if NONE in chosen and len(chosen) > 1:
            raise forms.ValidationError("Select the symptoms you have now, or select 'None of these', not both")
        return [flag for flag in chosen if flag != NONE]

    def ticked(self) -> list[str]:
        """The symptoms ticked under the chosen area, as the page words them."""
        area = self.cleaned_data.get("area")
        if not area:
            return []
        labels = dict(AREAS[area][1])
        return [labels[key] for key in self.cleaned_data.get(symptoms_field(area), [])]

    def _answers(self, name: str, choices) -> list[str]:
        """The answers to a checkbox question as cleaned, or, when the form is refused before that,
        as sent (only the known ones): the urgent guidance must not depend on the rest being right."""
        if name in self.cleaned_data:
            return list(self.cleaned_data[name])
        known = {key for key, _ in choices}
        sent = self.data.getlist(self.add_prefix(name)) if hasattr(self.data, "getlist") else []
        return [value for value in sent if value in known]

    def cord_symptoms(self) -> list[str]:
        """The bone symptoms that are signs of cord compression (weak legs, numbness, bladder or bowels),
        ticked under Bones whatever area was chosen: the page keeps them when another area is picked."""
        ticked = self._answers(symptoms_field("bone"), AREAS["bone"][1])
        return [key for key in (LEG_WEAKNESS, BLADDER) if key in ticked]

    def urgent_now(self) -> list[str]:
        """Every urgent answer, in the page's order, with cord compression when the bone symptoms show it
        though the urgent question was not ticked. Works on a refused form too (fail safe)."""
        answers = [key for key in self._answers("urgent", URGENT_CHOICES) if key != NONE]
        if self.cord_symptoms() and c.RedFlag.CORD_COMPRESSION not in answers:
            answers.append(c.RedFlag.CORD_COMPRESSION)
        return sorted(answers, key=URGENT_ORDER.index)

    def red_flags(self) -> list[str]:
        """Every red flag the answers raise, the most serious first (RED_FLAG_ORDER)."""
        return flags_of(self.urgent_now())

    def symptom_area(self) -> str:
        area = self.cleaned_data["area"]
        if area == "lumps" and set(NODE_LUMPS) & set(self.cleaned_data.get(symptoms_field(area), [])):
            return c.SymptomArea.REGIONAL
        return AREA_LANDS_ON[area]

    def report_text(self) -> str:
        """The description the nurse reads on the triage list: urgent answers first, then the
        area and symptoms ticked, then the patient's own words."""
        urgent_words = dict(URGENT_CHOICES)
        lines = []
        urgent = self.urgent_now()
        if urgent:
            lines.append("Urgent symptoms now: " + "; ".join(urgent_words[answer] for answer in urgent) + ".")
        area = self.cleaned_data["area"]
        area_label = AREAS[area][0]
        ticked = self.ticked()
        lines.append(f"{area_label}: " + ("; ".join(ticked) if ticked else "no symptom ticked") + ".")
        cord = self.cord_symptoms()
        if cord and area != "bone":
            bone_words = dict(AREAS["bone"][1])
            lines.append(f"{AREAS['bone'][0]}: " + "; ".join(bone_words[key] for key in cord) + ".")
        lines.append(f"In their own words: {self.cleaned_data['description'].strip()}")
        return "\n".join(lines)
