"""The NHS.UK design system's form pieces, written once for every form and filter.

- ``DateField``: the date input (day, month and year as three boxes, `nhsuk-date-input`) with the
  service manual's messages ("Date done must include a year", "... must be a real date"), each
  marking only the box that is wrong.
- ``DateRangeField``: "From" and "To", each a date input, for the worklist and report filters.
- ``Radios``: radios with a hint under a choice, or an "or" line before one.
- ``ChosenValue``: an answer given on an earlier step, shown with a "Change" link and posted again.
- ``NHSMessagesMixin``: the messages a form gives for what a page cannot offer (a choice no longer
  listed, text too long), in the service manual's words rather than Django's.

templates/includes/field.html renders every one of them (templates/includes/date_input.html for the
three boxes); static/js/today.mjs adds the "Today" button to a date that says ``data-today``.
"""

import calendar
import re
from datetime import date, timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField
from django.utils import timezone

DAY, MONTH, YEAR = 0, 1, 2
PART_LABELS = ("Day", "Month", "Year")
PART_WIDTHS = (2, 2, 4)
WHOLE = (DAY, MONTH, YEAR)

MONTH_NAMES = {
    **{calendar.month_name[number].lower(): number for number in range(1, 13)},
    **{calendar.month_abbr[number].lower(): number for number in range(1, 13)},
    "sept": 9,
}


class DateParts(list):
    """[day, month, year] as typed; ``unreadable`` when one plain value could not be split into them."""

    unreadable = False


def split_plain_date(text: str) -> DateParts:
    """One value posted under the plain field name (done_on=2026-12-01, or 1/12/2026) as its parts.

    The three boxes are the page's way; this keeps links, bookmarks and scripts that send one ISO
    date working."""
    try:
        when = date.fromisoformat(text.strip())
    except ValueError:
        pass
    else:
        return DateParts([str(when.day), str(when.month), f"{when.year:04d}"])
    pieces = [piece for piece in re.split(r"[-/. ]+", text.strip()) if piece]
    if len(pieces) == 3:
        if len(pieces[0]) == 4 and pieces[0].isdigit():  # ISO: year first
            return DateParts([pieces[2], pieces[1], pieces[0]])
        return DateParts(pieces)
    parts = DateParts(["", "", ""])
    parts.unreadable = bool(text.strip())
    return parts


class DateInputWidget(forms.MultiWidget):
    """Three text boxes with a numeric keypad (the design system's choice over type="number")."""

    def __init__(self, attrs=None):
        boxes = [
            forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"})
            for _ in PART_LABELS
        ]
        super().__init__(boxes, attrs)

    def decompress(self, value):
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                return split_plain_date(value)
        if isinstance(value, date):
            return [str(value.day), str(value.month), f"{value.year:04d}"]
        return [None, None, None]

    def value_from_datadict(self, data, files, name):
        typed = [data.get(f"{name}_{index}") for index in WHOLE]
        if any(part is not None for part in typed) or name not in data:
            return DateParts(typed)
        return split_plain_date(data.get(name) or "")

    def value_omitted_from_data(self, data, files, name):
        return name not in data and super().value_omitted_from_data(data, files, name)


def _typed(parts) -> tuple[str, str, str]:
    """(day, month, year) as typed, stripped; "" for a box left empty or not sent."""
    parts = [*(parts or []), None, None, None][:3]
    return tuple(str(part if part is not None else "").strip() for part in parts)


def _join(words: list[str]) -> str:
    return " and ".join(words) if len(words) < 3 else f"{', '.join(words[:-1])} and {words[-1]}"


class DateField(forms.MultiValueField):
    """A date typed as day, month and year (the NHS.UK date input).

    ``label`` is the legend and begins every message ("Date done must include a year") unless
    ``name`` says otherwise (a "From" legend, "From date must ..."); ``missing`` is the message when
    nothing is entered ("Enter the date it was done"). ``today_button``: a date something happened
    on, which the "Today" button fills in (static/js/today.mjs); nothing is ever filled in with today
    by default. ``example`` picks the hint's example date: "past", "future", "birth", or "" for none.
    Whether the date is plausible (not in the future, not before birth...) is the model's rule
    (followup/dates.py); its message comes back beside this field through the service.
    """

    widget = DateInputWidget

    def __init__(
        self,
        label: str,
        *,
        missing: str = "",
        required: bool = True,
        today_button: bool = False,
        example: str = "past",
        help_text: str = "",
        name: str = "",
        **kwargs,
    ):
        self.today_button = today_button
        self.example = example
        self.name = name or label
        boxes = [forms.CharField(required=False) for _ in PART_LABELS]
        super().__init__(
            boxes,
            label=label,
            required=required,
            require_all_fields=False,
            help_text=help_text,
            error_messages={
                "required": missing or f"Enter the {label[0].lower()}{label[1:]}",
                "invalid": f"{self.name} must be a real date",
                "incomplete": f"{self.name} must be a real date",
            },
            **kwargs,
        )

    def get_bound_field(self, form, field_name):
        return DateBoundField(form, self, field_name)

    def compress(self, data_list):  # clean() reads the parts itself
        raise NotImplementedError

    def error(self, message: str, code: str, parts=WHOLE) -> ValidationError:
        return ValidationError(message, code=code, params={"parts": tuple(parts)})

    def clean(self, value):
        if getattr(value, "unreadable", False):
            raise self.error(f"{self.name} must be a real date", "invalid")
        day, month, year = _typed(value)
        if not (day or month or year):
            if self.required:
                raise self.error(self.error_messages["required"], "required")
            return None
        missing = [index for index, part in zip(WHOLE, (day, month, year), strict=True) if not part]
        if missing:
            words = _join([PART_LABELS[index].lower() for index in missing])
            raise self.error(f"{self.name} must include a {words}", "incomplete", missing)
        numbers = {
            DAY: int(day) if day.isdigit() and 1 <= int(day) <= 31 else None,
            MONTH: MONTH_NAMES.get(month.lower())
            or (int(month) if month.isdigit() and 1 <= int(month) <= 12 else None),
            YEAR: int(year) if year.isdigit() else None,
        }
        wrong = [index for index, number in numbers.items() if number is None]
        if wrong:
            raise self.error(f"{self.name} must be a real date", "invalid", wrong)
        if len(year) != 4:
            raise self.error(f"{self.name} must include a year with 4 numbers", "year", [YEAR])
        try:
            return date(numbers[YEAR], numbers[MONTH], numbers[DAY])
        except ValueError:  # 31 February
            raise self.error(f"{self.name} must be a real date", "invalid", [DAY]) from None

    def has_changed(self, initial, data):
        return _typed(self.widget.decompress(initial)) != _typed(data)


def parts_in_error(errors, prefix: str = "") -> set:
    """The boxes an ErrorList marks: {(prefix, part index)}. An error that names no part (nothing
    entered, or a rule about the whole date from the service) marks all three."""
    marked = set()
    for error in errors.as_data() if errors else []:
        params = error.params or {}
        if "range_part" in params and params["range_part"] != prefix:
            continue
        marked.update((prefix, index) for index in params.get("parts", WHOLE))
    return marked


def _boxes(html_name: str, auto_id: str, values, marked: set, prefix: str) -> list[dict]:
    values = list(values or []) + [None, None, None]
    return [
        {
            "name": f"{html_name}_{index}",
            "id": f"{auto_id}_{index}",
            "label": PART_LABELS[index],
            "width": PART_WIDTHS[index],
            "value": "" if values[index] is None else str(values[index]),
            "error": (prefix, index) in marked,
        }
        for index in WHOLE
    ]


def _values(widget: DateInputWidget, value):
    return value if isinstance(value, list) else widget.decompress(value)


class DateBoundField(BoundField):
    @property
    def boxes(self) -> list[dict]:
        """The three boxes as field.html draws them: name, id, label, width, value, marked wrong."""
        marked = parts_in_error(self.errors) if self.errors else set()
        return _boxes(self.html_name, self.auto_id, _values(self.field.widget, self.value()), marked, "")

    @property
    def hint(self) -> str:
        if not self.field.example:  # a filter's date: no example needed
            return self.help_text
        today = timezone.localdate()
        example = {
            "past": today - timedelta(days=30),
            "future": today + timedelta(days=30),
            "birth": date(today.year - 60, 3, 31),
        }[self.field.example]
        words = f"For example, {example.day} {example.month} {example.year}"
        return f"{self.help_text} {words}" if self.help_text else words

    @property
    def error_target(self) -> str:
        """The box the error summary links to: the first one marked wrong."""
        for box in self.boxes:
            if box["error"]:
                return box["id"]
        return f"{self.auto_id}_0"


# Filters: a date range ------------------------------------------------------------------------


class DateRangeWidget(forms.MultiWidget):
    """Two date inputs, "From" (name_after_0..2) and "To" (name_before_0..2)."""

    suffixes = ("after", "before")

    def __init__(self, attrs=None):
        super().__init__({suffix: DateInputWidget() for suffix in self.suffixes}, attrs)

    def decompress(self, value):
        if value:
            return [value.start, value.stop]
        return [None, None]


class DateRangeField(django_filters.fields.DateRangeField):
    """A worklist's or report's date range: "From" and "To", each an NHS.UK date input, either may be empty."""

    widget = DateRangeWidget
    ends = (("after", "From"), ("before", "To"))

    def __init__(self, *args, **kwargs):
        forms.MultiValueField.__init__(
            self,
            tuple(DateField(name, name=f"{name} date", required=False, example="") for _suffix, name in self.ends),
            *args,
            require_all_fields=False,
            **kwargs,
        )
        self.error_messages.update(invalid="Enter real dates", incomplete="Enter real dates")

    def get_bound_field(self, form, field_name):
        return DateRangeBoundField(form, self, field_name)

    def clean(self, value):
        value = value or [None, None]
        dates, errors = [], []
        for (suffix, _name), field, typed in zip(self.ends, self.fields, value, strict=True):
            try:
                dates.append(field.clean(typed))
            except ValidationError as exc:
                dates.append(None)
                for error in exc.error_list:
                    params = {**(error.params or {}), "range_part": suffix}
                    errors.append(ValidationError(error.message, code=error.code, params=params))
        if not errors and dates[0] and dates[1] and dates[1] < dates[0]:
            errors.append(
                ValidationError(
                    "To date must be the same as or after the from date",
                    code="order",
                    params={"parts": WHOLE, "range_part": "before"},
                )
            )
        if errors:
            raise ValidationError(errors)
        return self.compress(dates) if any(dates) else None


class DateRangeBoundField(BoundField):
    @property
    def ends(self) -> list[dict]:
        """From and To, each with its three boxes, as field.html draws them."""
        value = self.value() or [None, None]
        if not isinstance(value, list):
            value = self.field.widget.decompress(value)
        shown = []
        for (suffix, name), widget, typed in zip(self.field.ends, self.field.widget.widgets, value, strict=True):
            marked = parts_in_error(self.errors, suffix) if self.errors else set()
            values = _values(widget, typed)
            boxes = _boxes(f"{self.html_name}_{suffix}", f"{self.auto_id}_{suffix}", values, marked, suffix)
            shown.append({"name": name, "id": f"{self.auto_id}_{suffix}", "boxes": boxes})
        return shown

    @property
    def error_target(self) -> str:
        for end in self.ends:
            for box in end["boxes"]:
                if box["error"]:
                    return box["id"]
        return f"{self.auto_id}_after_0"


class DateFromToRangeFilter(django_filters.DateFromToRangeFilter):
    field_class = DateRangeField


# Radios and chosen values ---------------------------------------------------------------------------


class Radios(forms.RadioSelect):
    """NHS.UK radios: ``hints`` {value: text} under a choice; ``divider_before`` a value with "or" above it;
    ``reveals`` {value: field name}: another field of the form shown under that choice only while it is
    chosen (the design system's conditional reveal; the other field is not rendered on its own)."""

    def __init__(self, *, hints: dict | None = None, divider_before: str = "", reveals: dict | None = None, **kwargs):
        self.hints = {str(key): text for key, text in (hints or {}).items()}
        self.divider_before = divider_before
        self.reveals = {str(key): name for key, name in (reveals or {}).items()}
        super().__init__(**kwargs)


class ChosenValue(forms.HiddenInput):
    """An answer given on an earlier step: shown as a summary row with a "Change" link, posted again hidden."""

    is_hidden = False

    def __init__(self, *, change_url: str = "", attrs=None):
        self.change_url = change_url
        super().__init__(attrs)


# Messages -------------------------------------------------------------------------------------------


class NHSMessagesMixin:
    """Fills in, for every field, the messages Django would give in its own words: a choice that is not
    offered says what to select (the field's own "required" message), text too long says how long it
    may be. A required field's "required" message is written with the field, in the form."""

    def full_clean(self):
        for field in self.fields.values():
            label = str(field.label or "")
            required = field.error_messages.get("required")
            django_required = str(forms.Field.default_error_messages["required"])
            specific = required if required and str(required) != django_required else ""
            if isinstance(field, forms.ChoiceField | forms.ModelChoiceField):
                choose = specific or f"Choose {label[:1].lower() + label[1:]} from the options shown"
                for key in ("invalid_choice", "invalid_list", "invalid_pk_value", "list"):
                    field.error_messages[key] = choose
            if getattr(field, "max_length", None):
                field.error_messages["max_length"] = f"{label} must be {field.max_length} characters or fewer"
        super().full_clean()
