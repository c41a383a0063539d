from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from .clinical import inputs
from .clinical.contradictions import Contradiction, contradictions
from .clinical.dose_order import OFF_SCHEDULE, next_step, odd_dose
from .clinical.products import KIND_WORDS, LateNeuro, find_product
from .clinical.ranges import PLAUSIBLE
from .identifiers import bidi_controls_in, normalise_mrn
from .models import DoseEvent, Exposure, Intervention, Patient, product_choices
from .plans import current_exposure
from .words import ACVPU_WORDS, WORDS, plain, plain_choices

# Clocks on ward PCs drift: allow a minute before calling a time "future".
CLOCK_SKEW = timedelta(minutes=1)
# Late entries are normal on a busy shift, a month late is a typing error.
MAX_BACKDATE = timedelta(days=30)
NOT_RECORDED = [("", "Not recorded")]
TRI_STATE = [("", "Not recorded"), ("yes", "Yes"), ("no", "No")]


def tri_state(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class DecimalCommaMixin:
    """Accept "37,5" as 37.5: ward PCs and tablets set to many locales."""

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().replace(",", ".")
        return super().to_python(value)


class MeasureField(DecimalCommaMixin, forms.FloatField):
    pass


class WholeMeasureField(DecimalCommaMixin, forms.IntegerField):
    pass


# What each measurement is called in messages, and its unit.
UNITS = {
    "temperature_c": ("temperature", "°C", "37.5"),
    "heart_rate": ("heart rate", "beats per minute", "88"),
    "systolic_bp": ("systolic blood pressure", "mmHg", "120"),
    "diastolic_bp": ("diastolic blood pressure", "mmHg", "70"),
    "respiratory_rate": ("respiration rate", "breaths per minute", "16"),
    "spo2": ("SpO2", "%", "96"),
    "oxygen_flow_l_min": ("oxygen flow", "L/min", "2"),
}


def measure(name: str, label: str, whole: bool = False, step: str = "any") -> forms.Field:
    low, high = PLAUSIBLE[name]
    words, unit, example = UNITS.get(name, (label, "", "12"))
    unit_text = f" {unit}" if unit and unit != "%" else unit
    # Django %-formats the range messages (they carry parameters): a
    # literal "%" there must double; the "invalid" message is not formatted.
    range_unit = unit_text.replace("%", "%%")
    title = words[:1].upper() + words[1:]
    messages = {
        "min_value": f"{title} %(show_value)s{range_unit} is below {low:g}{range_unit} "
        "and not plausible: check the value and the unit.",
        "max_value": f"{title} %(show_value)s{range_unit} is above {high:g}{range_unit} "
        "and not plausible: check the value and the unit.",
        "invalid": f"{title} must be a number{' in ' + unit if unit else ''}, "
        f"for example {example}.",
    }
    cls = WholeMeasureField if whole else MeasureField
    # A text box, not type=number: a number box silently drops "37,5" in
    # some locales and turns it into 375 in others.
    return cls(
        label=label,
        required=False,
        min_value=low,
        max_value=high,
        error_messages=messages,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric" if whole else "decimal",
                "autocomplete": "off",
                "size": "6",
            }
        ),
    )


def lab_fields() -> dict[str, forms.Field]:
    """Return one field per laboratory value, from the one list of labs."""
    return {name: measure(name, WORDS.get(name, name)) for name in inputs.LABS}


def local_now_input() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


class ClinicalTimeField(forms.DateTimeField):
    """A wall-clock time in the hospital's zone, the DST fall-back hour included.

    When the clocks go back, 01:30 happens twice; ``fold`` (0 the first, 1
    the second, set by the form from the nurse's choice) says which.
    """

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    fold: int | None = None

    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError as error:
            if error.code != "ambiguous_timezone":
                raise
        naive = datetime.fromisoformat(str(value).strip())
        zone = timezone.get_current_timezone()
        real = [f for f in (0, 1) if wall_clock_exists(naive, zone, f)]
        when = f"{naive:%H:%M} on {naive.day} {naive:%b %Y}"
        if not real:
            raise forms.ValidationError(
                f"{when} did not happen: the clocks went forward. Check the time.",
                code="nonexistent",
            )
        if self.fold not in (0, 1):
            raise forms.ValidationError(
                f"{when} happened twice (the clocks went back): choose which one below.",
                code="ambiguous",
            )
        return naive.replace(tzinfo=zone, fold=self.fold)


def wall_clock_exists(naive: datetime, zone, fold: int) -> bool:
    aware = naive.replace(tzinfo=zone, fold=fold)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive


def fold_choices(naive: datetime | None) -> list[tuple[str, str]]:
    """Return the two readings of a repeated wall-clock time, named by zone."""
    zone = timezone.get_current_timezone()
    first, second = (
        (naive.replace(tzinfo=zone, fold=f).tzname() for f in (0, 1))
        if naive
        else ("summer time", "winter time")
    )
    at = f"{naive:%H:%M}" if naive else "The time"
    return [
        ("", "Choose which"),
        ("0", f"The first {at} ({first}, before the clocks went back)"),
        ("1", f"The second {at} ({second}, after the clocks went back)"),
    ]


def check_clinical_time(value, field_label: str = "Time") -> None:
    now = timezone.now()
    if value > now + CLOCK_SKEW:
        raise forms.ValidationError(f"{field_label} cannot be in the future.")
    if value < now - MAX_BACKDATE:
        raise forms.ValidationError(f"{field_label} is more than 30 days ago: check the date.")


class ClinicalTimeForm(forms.Form):
    """A form with a clinical time, which may fall in the repeated DST hour."""

    time_field = "clinical_time"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prepare_fold()
        if not self.is_bound:
            self.initial.setdefault("client_key", uuid.uuid4())
            self.initial.setdefault(self.time_field, local_now_input())

    def clean_clinical_time(self):
        value = self.cleaned_data["clinical_time"]
        check_clinical_time(value, self.fields["clinical_time"].label)
        return value

    def prepare_fold(self) -> None:
        name = f"{self.time_field}_fold"
        raw = self.data.get(self.time_field) if self.is_bound else None
        try:
            naive = datetime.fromisoformat(str(raw).strip()) if raw else None
        except ValueError:
            naive = None
        self.fields[name] = forms.ChoiceField(
            label="Which one?", choices=fold_choices(naive), required=False
        )
        if self.is_bound and self.data.get(name) in ("0", "1"):
            self.fields[self.time_field].fold = int(self.data[name])

    @property
    def needs_fold(self) -> bool:
        """Return whether to ask which of two identical wall-clock times is meant."""
        if not self.is_bound:
            return False
        asked = self.data.get(f"{self.time_field}_fold") in ("0", "1")
        return asked or self.has_error(self.time_field, "ambiguous")


class RoundForm(ClinicalTimeForm):
    """One observation round: NEWS2 chart order, then ICE/ICANS, then symptoms."""

    client_key = forms.UUIDField(widget=forms.HiddenInput)
    clinical_time = ClinicalTimeField(label="Time of observations")
    # Asked for only when the time is before registration or day 0.
    confirm_early = forms.BooleanField(
        label="The time is right: record this round anyway", required=False
    )

    temperature_c = measure("temperature_c", "Temperature (°C)", step="0.1")
    heart_rate = measure("heart_rate", "Heart rate (/min)", whole=True)
    systolic_bp = measure("systolic_bp", "Systolic BP (mmHg)", whole=True)
    diastolic_bp = measure("diastolic_bp", "Diastolic BP (mmHg)", whole=True)
    hypotension = forms.ChoiceField(
        label="Hypotension (clinician judgement)", choices=TRI_STATE, required=False
    )
    vasopressors = forms.MultipleChoiceField(
        label="Vasopressors running",
        choices=plain_choices(inputs.VASOPRESSORS),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    respiratory_rate = measure("respiratory_rate", "Respiration rate (/min)", whole=True)
    spo2 = measure("spo2", "SpO2 (%)", whole=True)
    oxygen_device = forms.ChoiceField(
        label="Air or oxygen",
        choices=NOT_RECORDED + plain_choices(inputs.OXYGEN_DEVICES),
        required=False,
    )
    oxygen_flow_l_min = measure("oxygen_flow_l_min", "Oxygen flow (L/min)", step="0.5")
    acvpu = forms.ChoiceField(
        label="ACVPU",
        choices=NOT_RECORDED + list(ACVPU_WORDS.items()),
        required=False,
    )
    ice_orientation = forms.TypedChoiceField(
        label="ICE orientation (year, month, city, hospital)",
        choices=NOT_RECORDED + [(str(i), str(i)) for i in range(5)],
        coerce=int,
        empty_value=None,
        required=False,
    )
    ice_naming = forms.TypedChoiceField(
        label="ICE naming (3 objects)",
        choices=NOT_RECORDED + [(str(i), str(i)) for i in range(4)],
        coerce=int,
        empty_value=None,
        required=False,
    )
    ice_commands = forms.TypedChoiceField(
        label="ICE follows commands",
        choices=NOT_RECORDED + [("0", "0"), ("1", "1")],
        coerce=int,
        empty_value=None,
        required=False,
    )
    ice_writing = forms.TypedChoiceField(
        label="ICE writes a sentence",
        choices=NOT_RECORDED + [("0", "0"), ("1", "1")],
        coerce=int,
        empty_value=None,
        required=False,
    )
    ice_attention = forms.TypedChoiceField(
        label="ICE counts back from 100 by 10",
        choices=NOT_RECORDED + [("0", "0"), ("1", "1")],
        coerce=int,
        empty_value=None,
        required=False,
    )
    ice_not_assessable = forms.BooleanField(
        label="ICE not assessable (patient cannot perform it)",
        required=False,
        help_text="Say why: global aphasia, sedation, or the level of consciousness below.",
    )
    sedated = forms.ChoiceField(
        label="Sedating medication running",
        choices=TRI_STATE,
        required=False,
        help_text="While sedated, ICE and level of consciousness are not graded (ASTCT).",
    )
    consciousness = forms.ChoiceField(
        label="Level of consciousness (ICANS)",
        choices=NOT_RECORDED + plain_choices(inputs.CONSCIOUSNESS),
        required=False,
    )
    confirm_consciousness = forms.BooleanField(
        label="ACVPU and the ICANS level of consciousness differ: both are correct as recorded",
        required=False,
    )
    global_aphasia = forms.ChoiceField(
        label="Awake with global aphasia", choices=TRI_STATE, required=False
    )
    capd_not_assessable = forms.BooleanField(
        label="Unable to perform CAPD (child)", required=False
    )
    seizure = forms.ChoiceField(
        label="Seizure", choices=NOT_RECORDED + plain_choices(inputs.SEIZURE), required=False
    )
    motor_findings = forms.ChoiceField(
        label="Motor findings",
        choices=NOT_RECORDED + plain_choices(inputs.MOTOR_FINDINGS),
        required=False,
    )
    cerebral_edema = forms.ChoiceField(
        label="Raised ICP / cerebral oedema",
        choices=NOT_RECORDED + plain_choices(inputs.CEREBRAL_EDEMA),
        required=False,
    )
    note = forms.CharField(
        label="Note", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
    confirm_contradictions = forms.BooleanField(
        label="I have checked: these entries are right, save them as they are", required=False
    )

    SYMPTOM_CHOICES = NOT_RECORDED + [(str(i), s) for i, s in enumerate(inputs.SYMPTOM_SEVERITY)]
    ICE_FIELDS = [f"ice_{name}" for name in inputs.ICE_ITEMS]
    CAPD_FIELDS = [f"capd_{name}" for name in inputs.CAPD_ITEMS]
    # Shown only when the answers disagree (the form asks once).
    CONFIRMATIONS = {"confirm_consciousness", "confirm_contradictions", "confirm_early"}
    # The bedside screen: RCP NEWS2 chart 1 row order, then ICE/ICANS.
    BEDSIDE_ORDER = [
        (
            "news2",
            "NEWS2 observations",
            [
                "respiratory_rate",
                "spo2",
                "oxygen_device",
                "oxygen_flow_l_min",
                "systolic_bp",
                "diastolic_bp",
                "hypotension",
                "vasopressors",
                "heart_rate",
                "acvpu",
                "temperature_c",
            ],
        ),
        (
            "icans",
            "ICE and ICANS",
            [
                *ICE_FIELDS,
                "ice_not_assessable",
                "sedated",
                "consciousness",
                "confirm_consciousness",
                "global_aphasia",
                *CAPD_FIELDS,
                "capd_not_assessable",
                "seizure",
                "motor_findings",
                "cerebral_edema",
            ],
        ),
    ]
    # What the nurse writes that is not itself an observation.
    NOT_MEASURED = {"client_key", "clinical_time", "clinical_time_fold", "note", *CONFIRMATIONS}
    NOT_BEDSIDE = {*NOT_MEASURED, *inputs.LABS}

    def __init__(
        self,
        *args: Any,
        patient: Patient | None = None,
        late_neuro: LateNeuro | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.patient = patient
        self.contradictions: list[Contradiction] = []
        # Fields that do not apply to this patient (CAPD for an adult): not shown.
        self.not_applicable: set[str] = set()
        self.fields.update(lab_fields())
        for name in inputs.CAPD_ITEMS:
            self.fields[f"capd_{name}"] = forms.ChoiceField(
                label=f"CAPD (children 12 and under): {inputs.CAPD_ITEM_LABELS[name].lower()}",
                choices=NOT_RECORDED + plain_choices(inputs.CAPD_SCALE),
                required=False,
            )
        # The product's late-neurotoxicity questions, asked in their window.
        self.late_neuro = late_neuro
        for q in late_neuro.questions if late_neuro else ():
            label = q.text if q.status == "confirmed" else f"{q.text} ({q.status})"
            self.fields[f"late_neuro_{q.id}"] = forms.ChoiceField(
                label=f"Late neurotoxicity: {label}", choices=TRI_STATE, required=False
            )
        for name, (_system, label) in inputs.SYMPTOMS.items():
            self.fields[f"symptom_{name}"] = forms.TypedChoiceField(
                label=label,
                choices=self.SYMPTOM_CHOICES,
                coerce=int,
                empty_value=None,
                required=False,
            )

    def bedside_sections(self) -> list[tuple[str, str, list]]:
        """Return (id, title, bound fields) in bedside order, labs left out.

        Built from the form's own fields: a field added to the form and not
        placed here still shows, under "More observations". A confirmation
        shows only when its question was asked.
        """
        placed = set(self.NOT_BEDSIDE)
        sections = []
        for key, title, names in self.BEDSIDE_ORDER:
            placed.update(names)
            shown = [
                n
                for n in names
                if n in self.fields and n not in self.not_applicable and self.shows(n)
            ]
            sections.append((key, title, [self[n] for n in shown]))
        symptoms = []
        for system in inputs.ORGAN_SYSTEMS:
            names = [f"symptom_{n}" for n, (s, _) in inputs.SYMPTOMS.items() if s == system]
            placed.update(names)
            if names:
                symptoms.append(
                    (f"symptoms-{system}", f"Symptoms: {plain(system).lower()}", names)
                )
        rest = [n for n in self.fields if n not in placed]
        if rest:
            sections.append(("more", "More observations", [self[n] for n in rest]))
        sections += [(key, title, [self[n] for n in names]) for key, title, names in symptoms]
        return sections

    def shows(self, name: str) -> bool:
        if name not in self.CONFIRMATIONS:
            return True
        return bool(self[name].errors) or bool(self.data.get(name))

    @property
    def asks_to_confirm(self) -> bool:
        return bool(self.contradictions) or bool(self.data.get("confirm_contradictions"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        ice = [data.get(n) for n in self.ICE_FIELDS]
        if any(v is not None for v in ice) and any(v is None for v in ice):
            self.add_error(
                "ice_orientation", "Record all five ICE items, or none (the score needs all five)."
            )
        if data.get("ice_not_assessable") and any(v is not None for v in ice):
            self.add_error(
                "ice_not_assessable", "ICE items are recorded: untick 'not assessable'."
            )
        capd = [data.get(n) for n in self.CAPD_FIELDS]
        if any(capd) and not all(capd):
            self.add_error(
                "capd_eye_contact", "Record all eight CAPD items, or none (the score needs all)."
            )
        self.ask_hypotension(data)
        self.ask_consciousness(data)
        if data.get("oxygen_flow_l_min") and data.get("oxygen_device") == "room_air":
            self.add_error(
                "oxygen_flow_l_min", "Oxygen flow given but the patient is on room air."
            )
        sbp, dbp = data.get("systolic_bp"), data.get("diastolic_bp")
        if sbp is not None and dbp is not None and dbp >= sbp:
            self.add_error("diastolic_bp", "Diastolic BP must be lower than systolic BP.")
        # A recorded 0 (ICE 0/10, flow 0, CRP 0, a symptom "none") is an
        # observation; only an empty field is not.
        measured = [
            n
            for n, v in data.items()
            if n not in self.NOT_MEASURED
            and v is not None
            and v is not False
            and v != ""
            and v != []
        ]
        if not measured and not self.errors:
            raise forms.ValidationError(
                "Record at least one observation (a vital sign, ICE, a symptom or a lab)."
            )
        # Asked alongside the hypotension and consciousness questions (and any
        # typing error), never held back for the next save: one round, one ask.
        if measured:
            self.contradictions = contradictions(self.round_values())
            if self.contradictions and not data.get("confirm_contradictions"):
                for item in self.contradictions:
                    self.add_error(
                        item.field if item.field in self.fields else None, item.question
                    )
        self.check_early(data)
        return data

    def check_early(self, data: dict[str, Any]) -> None:
        """Ask for confirmation of a time before registration or day 0.

        Usually a mistyped date, which would slot the round into the wrong
        place in the course; a pre-infusion baseline is confirmed once.
        """
        when = data.get("clinical_time")
        if self.patient is None or when is None or data.get("confirm_early"):
            return
        reasons = []
        # The form takes whole minutes: a round in the minute of
        # registration is not before it.
        registered_minute = self.patient.created_at.replace(second=0, microsecond=0)
        if when < registered_minute:
            registered = timezone.localtime(self.patient.created_at)
            reasons.append(f"before the patient was registered ({registered:%d %b %Y %H:%M})")
        exposure = current_exposure(self.patient)  # read once per request
        if exposure and when < exposure.day0_start():
            reasons.append(f"before day 0 ({exposure.day0:%d %b %Y})")
        if reasons:
            self.add_error(
                "confirm_early",
                f"This time is {' and '.join(reasons)}. Check the date; if it is right, "
                "tick the box to record it.",
            )

    def ask_hypotension(self, data: dict[str, Any]) -> None:
        """Ask for the hypotension judgement when the systolic is low.

        ASTCT sets no number (REFERENCE k3); NEWS2 scores <= 90 red, so a
        low systolic with no judgement would grade CRS without it.
        """
        from .clinical.crs import LOW_SYSTOLIC_MMHG

        sbp = data.get("systolic_bp")
        if (
            sbp is not None
            and sbp <= LOW_SYSTOLIC_MMHG
            and not data.get("hypotension")
            and not data.get("vasopressors")
        ):
            self.add_error(
                "hypotension",
                f"Systolic BP {sbp:g} is {LOW_SYSTOLIC_MMHG} or below: judge whether the patient "
                "is hypotensive (yes or no). The CRS grade needs this judgement.",
            )

    def ask_consciousness(self, data: dict[str, Any]) -> None:
        """Ask once when ACVPU and the ICANS level of consciousness disagree."""
        from .clinical.news2 import NOT_ALERT_LEVELS

        acvpu, level = data.get("acvpu"), data.get("consciousness")
        if not acvpu or not level or data.get("confirm_consciousness"):
            return
        if (acvpu == "A" and level in NOT_ALERT_LEVELS) or (acvpu in "VPU" and level == "alert"):
            self.add_error(
                "confirm_consciousness",
                f"ACVPU {ACVPU_WORDS[acvpu]!r} and the ICANS level {plain(level).lower()!r} "
                "disagree: check both, then tick to confirm.",
            )

    def round_values(self) -> dict[str, Any]:
        """Return the cleaned data as ObservationRound field values."""
        d = self.cleaned_data
        values = {
            name: d.get(name)
            for name in ["clinical_time", *inputs.MEASUREMENTS, *inputs.LABS, *self.ICE_FIELDS]
        }
        for name in [
            "oxygen_device",
            "acvpu",
            "consciousness",
            "seizure",
            "motor_findings",
            "cerebral_edema",
            "note",
        ]:
            values[name] = d.get(name) or ""
        for name in self.CAPD_FIELDS:
            values[name] = d.get(name) or ""
        values["capd_not_assessable"] = bool(d.get("capd_not_assessable"))
        values["sedated"] = tri_state(d.get("sedated", ""))
        values["hypotension"] = tri_state(d.get("hypotension", ""))
        values["global_aphasia"] = tri_state(d.get("global_aphasia", ""))
        values["vasopressors"] = sorted(d.get("vasopressors") or [])
        values["ice_not_assessable"] = bool(d.get("ice_not_assessable"))
        values["late_neuro"] = {
            q.id: tri_state(d.get(f"late_neuro_{q.id}", ""))
            for q in (self.late_neuro.questions if self.late_neuro else ())
            if tri_state(d.get(f"late_neuro_{q.id}", "")) is not None
        }
        values["symptoms"] = {
            name: d[f"symptom_{name}"]
            for name in inputs.SYMPTOMS
            if d.get(f"symptom_{name}") is not None
        }
        return values


class LabForm(ClinicalTimeForm):
    """Laboratory results, entered apart from the bedside round."""

    client_key = forms.UUIDField(widget=forms.HiddenInput)
    clinical_time = ClinicalTimeField(label="Time the sample was taken")
    note = forms.CharField(
        label="Note", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(lab_fields())

    def lab_fields(self) -> list:
        return [self[name] for name in inputs.LABS if name in self.fields]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors and all(data.get(n) is None for n in inputs.LABS):
            raise forms.ValidationError("Enter at least one result.")
        return data

    def round_values(self) -> dict[str, Any]:
        d = self.cleaned_data
        values = {name: d.get(name) for name in inputs.LABS}
        values.update(clinical_time=d["clinical_time"], note=d.get("note") or "")
        return values


class PatientForm(forms.ModelForm):
    exposure_kind = forms.ChoiceField(label="Exposure", choices=Exposure.Kind.choices)
    exposure_agent = forms.CharField(
        label="Product, antibody or infection",
        max_length=100,
        help_text="e.g. axicabtagene ciloleucel, teclistamab, COVID-19",
    )
    day0 = forms.DateField(
        label="Day 0",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Infusion date, first dose date, or infection onset",
    )
    product = forms.ChoiceField(
        label="Product (catalogue)",
        required=False,
        help_text="Sets the label's monitoring plan; left blank, it is matched from the name",
    )

    class Meta:
        model = Patient
        fields = [
            "mrn",
            "given_name",
            "family_name",
            "birth_date",
            "sex",
            "weight_kg",
            "height_cm",
            "ward",
            "bed",
            "nursing_home",
            "heart_disease",
            "diabetes",
            "kidney_disease",
            "spo2_scale",
            "label_jurisdiction",
            "baseline_creatinine_umol_l",
            "baseline_alt_u_l",
            "baseline_ast_u_l",
            "baseline_bilirubin_umol_l",
        ]
        widgets = {"birth_date": forms.DateInput(attrs={"type": "date"})}

    # Free text shown to other users: no hidden direction controls.
    TEXT_FIELDS = ("mrn", "given_name", "family_name", "ward", "bed", "exposure_agent")

    def __init__(self, *args: Any, viewer=None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [("", "Match from the name")] + product_choices()
        # Who is registering: told which patient an MRN belongs to only if
        # they may see patients.
        self.viewer = viewer

    def clean_mrn(self) -> str:
        typed = self.cleaned_data["mrn"]
        self.refuse_bidi("mrn", typed)
        mrn = normalise_mrn(typed)
        if not mrn:
            raise forms.ValidationError("Enter the MRN (letters and digits).")
        holder = Patient.objects.filter(mrn=mrn).exclude(pk=self.instance.pk).first()
        if holder:
            raise forms.ValidationError(self.collision_message(mrn, holder))
        return mrn

    def collision_message(self, mrn: str, holder: Patient) -> str:
        if self.viewer is not None and self.viewer.has_perm("patients.view_patient"):
            return (
                f"MRN {mrn} is already registered to {holder.family_name.upper()}, "
                f"{holder.given_name}, born {holder.birth_date:%d %b %Y} "
                f"(record {holder.get_absolute_url()}). MRNs are compared ignoring case, "
                f"spacing, invisible characters and full-width forms."
            )
        return f"MRN {mrn} is already registered."

    def refuse_bidi(self, name: str, value: str) -> None:
        found = bidi_controls_in(value or "")
        if found:
            raise forms.ValidationError(
                f"Remove the invisible text-direction character ({', '.join(found)}): it "
                f"makes the text display differently from what is stored."
            )

    def _clean_fields(self) -> None:
        super()._clean_fields()
        for name in self.TEXT_FIELDS:
            if name == "mrn" or name not in self.cleaned_data:
                continue
            try:
                self.refuse_bidi(name, self.cleaned_data[name])
            except forms.ValidationError as error:
                self.add_error(name, error)

    RANGES = {
        "weight_kg": (1, 400, "Weight"),
        "height_cm": (30, 250, "Height"),
        "baseline_creatinine_umol_l": (*PLAUSIBLE["creatinine_umol_l"], "Creatinine"),
        "baseline_alt_u_l": (*PLAUSIBLE["alt_u_l"], "ALT"),
        "baseline_ast_u_l": (*PLAUSIBLE["ast_u_l"], "AST"),
        "baseline_bilirubin_umol_l": (*PLAUSIBLE["bilirubin_umol_l"], "Bilirubin"),
    }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name, (low, high, label) in self.RANGES.items():
            value = data.get(name)
            if value is not None and not low <= float(value) <= high:
                self.add_error(name, f"{label} must be between {low:g} and {high:g}.")
        today = timezone.localdate()
        birth = data.get("birth_date")
        if birth and (birth > today or birth < date(today.year - 120, 1, 1)):
            self.add_error("birth_date", "Enter a birth date in the past 120 years.")
        day0 = data.get("day0")
        if day0 and abs((day0 - today).days) > 365:
            self.add_error("day0", "Day 0 must be within a year of today.")
        kind = data.get("exposure_kind")
        product = find_product(data.get("product") or "", data.get("exposure_agent") or "")
        if product and kind and product.kind != kind:
            # The label's plan (windows, ICE schedule, onsets) follows the
            # product: a product of another kind would time them all wrongly.
            self.add_error(
                "product" if data.get("product") else "exposure_agent",
                f"{product.label} is a {KIND_WORDS[product.kind]}, not {KIND_WORDS[kind]}: "
                "choose the matching kind or product.",
            )
        return data

    def exposure_values(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "kind": d["exposure_kind"],
            "agent": d["exposure_agent"],
            "day0": d["day0"],
            "product": d.get("product") or "",
        }


class GivenAtForm(forms.Form):
    """Fields of a record of something given: a key against double submission,
    and when it was given (now by default, checked as a clinical time)."""

    client_key = forms.UUIDField(widget=forms.HiddenInput)
    given_at = ClinicalTimeField(label="Given at")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("client_key", uuid.uuid4())
            self.initial.setdefault("given_at", local_now_input())

    def clean_given_at(self):
        value = self.cleaned_data["given_at"]
        check_clinical_time(value, "Given at")
        return value


class InterventionForm(GivenAtForm, forms.ModelForm):
    confirm_over_limit = forms.BooleanField(
        label="I have reviewed the tocilizumab dose limit and record this dose anyway",
        required=False,
    )
    confirm_dose = forms.BooleanField(
        label="The dose differs from the label dose check: I confirm it as given",
        required=False,
    )

    class Meta:
        model = Intervention
        fields = ["kind", "drug", "dose", "route", "indication", "given_at", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}
        help_texts = {
            "indication": (
                "Premedication, prophylaxis and ICANS treatment never count as treatment of "
                "CRS: fever stays required to grade CRS."
            )
        }

    def __init__(
        self,
        *args: Any,
        dose_counts: tuple[int, int] = (0, 0),
        weight_kg: float | None = None,
        dose_times: tuple = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.dose_counts = dose_counts
        self.weight_kg = weight_kg
        self.dose_times = dose_times
        self.limit_warning: str | None = None
        self.dose_warnings: tuple[str, ...] = ()

    def clean(self) -> dict[str, Any]:
        from .clinical.treatments import tocilizumab_limit_warning

        data = super().clean()
        if data.get("kind") == "tocilizumab":
            self.limit_warning = tocilizumab_limit_warning(*self.dose_counts)
            if self.limit_warning and not data.get("confirm_over_limit"):
                self.add_error("confirm_over_limit", self.limit_warning)
            self.check_dose(data)
        return data

    def check_dose(self, data: dict[str, Any]) -> None:
        """Check the dose against the label; a mismatch needs confirming."""
        from .clinical.dosing import check_tocilizumab_dose

        if not data.get("given_at"):
            return
        check = check_tocilizumab_dose(
            data.get("dose", ""), self.weight_kg, data["given_at"], self.dose_times
        )
        self.dose_warnings = check.warnings
        if check.warnings and not data.get("confirm_dose"):
            self.add_error("confirm_dose", " ".join(check.warnings))

    def intervention_values(self) -> dict[str, Any]:
        d = self.cleaned_data
        keys = ["kind", "drug", "dose", "route", "indication", "given_at", "note"]
        values = {k: d[k] for k in keys}
        values["dose_check"] = " ".join(self.dose_warnings)
        return values


class DoseForm(GivenAtForm, forms.ModelForm):
    """One dose of the therapy's schedule: its time starts the window's clock."""

    step = forms.ChoiceField(label="Schedule step")
    given_at = ClinicalTimeField(
        label="Given at", help_text="The time the label counts from (see the plan)"
    )

    premed_kind = forms.ChoiceField(
        label="Premedication given",
        required=False,
        choices=[
            ("", "None recorded"),
            ("corticosteroid", "Corticosteroid"),
            ("antipyretic", "Antipyretic"),
        ],
        help_text="Recorded as premedication: it never counts as treatment of CRS",
    )
    premed_drug = forms.CharField(label="Premedication drug", required=False, max_length=100)
    premed_dose = forms.CharField(label="Premedication dose", required=False, max_length=50)
    premed_given_at = ClinicalTimeField(label="Premedication given at", required=False)
    confirm_order = forms.BooleanField(
        label="I have checked: this step and time are right, record the dose as it is",
        required=False,
    )

    class Meta:
        model = DoseEvent
        fields = ["step", "dose", "given_at", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("premed_kind"):
            at = data.get("premed_given_at")
            if at is None:
                self.add_error("premed_given_at", "Enter when the premedication was given.")
            else:
                check_premed = data.get("given_at")
                if check_premed and at > check_premed:
                    self.add_error(
                        "premed_given_at", "Premedication is given before the dose it covers."
                    )
        elif data.get("premed_drug") or data.get("premed_dose"):
            self.add_error("premed_kind", "Choose what kind of premedication was given.")
        self.ask_order(data)
        return data

    def ask_order(self, data: dict[str, Any]) -> None:
        """Ask once about a dose out of the schedule's order (dose_order.odd_dose)."""
        step, given_at = data.get("step"), data.get("given_at")
        if not step or given_at is None:
            return
        self.order_questions = odd = odd_dose(
            step,
            given_at,
            self.schedule,
            self.recorded,
            self.day0_start,
            timezone.get_current_timezone(),
        )
        if odd and not data.get("confirm_order"):
            self.add_error(
                "confirm_order",
                f"Check this dose: {'; '.join(odd)}. If the step and time are right, "
                "tick the box to record it.",
            )

    def premedication_values(self) -> dict[str, Any] | None:
        d = self.cleaned_data
        if not d.get("premed_kind"):
            return None
        return {
            "kind": d["premed_kind"],
            "drug": d.get("premed_drug", ""),
            "dose": d.get("premed_dose", ""),
            "route": "",
            "indication": "premedication",
            "given_at": d["premed_given_at"],
            "note": f"Premedication before {dict(self.fields['step'].choices)[d['step']]}",
        }

    def __init__(
        self,
        *args: Any,
        steps: list[tuple[str, str]],
        recorded: Sequence[tuple[str, datetime]] = (),
        day0_start: datetime | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.schedule, self.recorded, self.day0_start = steps, recorded, day0_start
        # What was odd about the dose, confirmed by the recorder (audited).
        self.order_questions: list[str] = []
        self.fields["step"].choices = steps + [(OFF_SCHEDULE, "Other dose (not in the schedule)")]
        # The next step of the schedule not yet recorded is the likely one.
        self.fields["step"].initial = next_step(steps, {s for s, _ in recorded})

    def dose_values(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {k: d[k] for k in ["step", "dose", "given_at", "note"]}


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason", max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class AcknowledgeForm(forms.Form):
    note = forms.CharField(label="Note", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class AcknowledgeSeveralForm(AcknowledgeForm):
    """One note that acknowledges several of a patient's open flags."""

    flags = forms.TypedMultipleChoiceField(
        label="Flags", coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, open_flags: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["flags"].choices = [(f.pk, f.title) for f in open_flags]
        self.fields["flags"].error_messages["required"] = "Choose at least one flag."


class ResolveForm(ReasonForm):
    """Closing a flag is not acknowledging it: it asks to confirm."""

    confirm = forms.BooleanField(
        label="Yes: the condition has resolved, close this flag",
        error_messages={"required": "Tick to confirm that the flag should be closed."},
    )


class SearchForm(forms.Form):
    q = forms.CharField(label="Name or MRN", required=False, max_length=100)


class QueueFilterForm(forms.Form):
    ward = forms.ChoiceField(label="Ward", required=False)
    severity = forms.ChoiceField(
        label="Flag severity",
        required=False,
        choices=[
            ("", "All patients"),
            ("urgent", "Urgent flags"),
            ("high", "High or worse"),
            ("medium", "Any open flag"),
        ],
    )
    sort = forms.ChoiceField(
        label="Order",
        required=False,
        choices=[("", "Worst first"), ("due", "Next due first")],
    )

    def __init__(self, *args: Any, wards: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ward"].choices = [("", "All wards")] + [(w, w) for w in wards]


class AuditRangeForm(forms.Form):
    """The dates (inclusive, hospital time) of an audit-trail CSV export."""

    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", "The end date is before the start date.")
        return data
