"""The patient's form: who they are (code and date of birth), the urgent questions, what and how long.

Written for patients (NHS content style): short words, "you", one idea a sentence. Every answer
is kept when the page comes back with an error (Django binds them; nothing is cleared)."""

from django import forms

from followup import choices as c
from followup.fields import DateField, NHSMessagesMixin, Radios

from . import codes

NONE = "none"
# The most serious first: a report's red_flag is the first of those its answers raise.
RED_FLAG_ORDER = [
    c.RedFlag.CORD_COMPRESSION,
    c.RedFlag.SEIZURE,
    c.RedFlag.BREATHLESSNESS,
    c.RedFlag.HYPERCALCAEMIA,
]

# The urgent questions: each answer is the red flag it raises.
URGENT_CHOICES = [
    (
        c.RedFlag.CORD_COMPRESSION,
        "Back pain with weak legs, numbness, or not being able to control your bladder or bowels",
    ),
    (c.RedFlag.SEIZURE, "A new fit (seizure)"),
    (c.RedFlag.BREATHLESSNESS, "Sudden, very bad breathlessness"),
    (c.RedFlag.HYPERCALCAEMIA, "Feeling very sick, very thirsty or confused"),
    (NONE, "None of these"),
]

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
                "class": "nhsuk-input--width-10 app-code-input",
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

    def red_flags(self) -> list[str]:
        """Every red flag the answers raise, the most serious first: those ticked, and cord compression
        when bone symptoms include weak legs, numbness or bladder or bowel problems."""
        flags = sorted(self.cleaned_data.get("urgent", []), key=RED_FLAG_ORDER.index)
        area = self.cleaned_data.get("area")
        bone = set(self.cleaned_data.get(symptoms_field("bone"), [])) if area == "bone" else set()
        if {LEG_WEAKNESS, BLADDER} & bone and c.RedFlag.CORD_COMPRESSION not in flags:
            flags.insert(0, c.RedFlag.CORD_COMPRESSION)  # the most serious: first
        return flags

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
        flags = self.red_flags()
        if flags:
            lines.append("Urgent symptoms now: " + "; ".join(urgent_words[flag] for flag in flags) + ".")
        area_label = AREAS[self.cleaned_data["area"]][0]
        ticked = self.ticked()
        lines.append(f"{area_label}: " + ("; ".join(ticked) if ticked else "no symptom ticked") + ".")
        lines.append(f"In their own words: {self.cleaned_data['description'].strip()}")
        return "\n".join(lines)
