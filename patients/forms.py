from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from .clinical import inputs
from .clinical.ranges import PLAUSIBLE
from .identifiers import bidi_controls_in, normalise_mrn
from .models import Exposure, Intervention, Patient, choices

# Clocks on ward PCs drift: allow a minute before calling a time "future".
CLOCK_SKEW = timedelta(minutes=1)
# Late entries are normal on a busy shift, a month late is a typing error.
MAX_BACKDATE = timedelta(days=30)
NOT_RECORDED = [("", "Not recorded")]
TRI_STATE = [("", "Not recorded"), ("yes", "Yes"), ("no", "No")]


def tri_state(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def measure(name: str, label: str, whole: bool = False, step: str = "any") -> forms.Field:
    low, high = PLAUSIBLE[name]
    # Django %-formats error messages: a literal "%" in a label must double.
    text = label.replace("%", "%%")
    messages = {
        "min_value": f"{text} below {low:g} is not plausible: check the value and unit.",
        "max_value": f"{text} above {high:g} is not plausible: check the value and unit.",
        "invalid": f"Enter {text.lower()} as a number.",
    }
    cls = forms.IntegerField if whole else forms.FloatField
    return cls(
        label=label,
        required=False,
        min_value=low,
        max_value=high,
        error_messages=messages,
        widget=forms.NumberInput(attrs={"step": "1" if whole else step, "inputmode": "decimal"}),
    )


def local_now_input() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


class ClinicalTimeField(forms.DateTimeField):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def check_clinical_time(value, field_label: str = "Time") -> None:
    now = timezone.now()
    if value > now + CLOCK_SKEW:
        raise forms.ValidationError(f"{field_label} cannot be in the future.")
    if value < now - MAX_BACKDATE:
        raise forms.ValidationError(f"{field_label} is more than 30 days ago: check the date.")


class RoundForm(forms.Form):
    """One observation round, grouped by organ system on the page."""

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
        choices=choices(inputs.VASOPRESSORS),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    respiratory_rate = measure("respiratory_rate", "Respiratory rate (/min)", whole=True)
    spo2 = measure("spo2", "SpO2 (%)", whole=True)
    oxygen_device = forms.ChoiceField(
        label="Oxygen", choices=NOT_RECORDED + choices(inputs.OXYGEN_DEVICES), required=False
    )
    oxygen_flow_l_min = measure("oxygen_flow_l_min", "Oxygen flow (L/min)", step="0.5")
    acvpu = forms.ChoiceField(
        label="ACVPU",
        choices=NOT_RECORDED
        + [
            ("A", "A: alert"),
            ("C", "C: new confusion"),
            ("V", "V: voice"),
            ("P", "P: pain"),
            ("U", "U: unresponsive"),
        ],
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
        label="ICE not assessable (patient cannot perform it)", required=False
    )
    consciousness = forms.ChoiceField(
        label="Level of consciousness (ICANS)",
        choices=NOT_RECORDED + choices(inputs.CONSCIOUSNESS),
        required=False,
    )
    global_aphasia = forms.ChoiceField(
        label="Awake with global aphasia", choices=TRI_STATE, required=False
    )
    seizure = forms.ChoiceField(
        label="Seizure", choices=NOT_RECORDED + choices(inputs.SEIZURE), required=False
    )
    motor_findings = forms.ChoiceField(
        label="Motor findings",
        choices=NOT_RECORDED + choices(inputs.MOTOR_FINDINGS),
        required=False,
    )
    cerebral_edema = forms.ChoiceField(
        label="Raised ICP / cerebral oedema",
        choices=NOT_RECORDED + choices(inputs.CEREBRAL_EDEMA),
        required=False,
    )
    crp_mg_l = measure("crp_mg_l", "CRP (mg/L)")
    ferritin_ug_l = measure("ferritin_ug_l", "Ferritin (µg/L)")
    il6_pg_ml = measure("il6_pg_ml", "IL-6 (pg/mL)")
    creatinine_umol_l = measure("creatinine_umol_l", "Creatinine (µmol/L)")
    alt_u_l = measure("alt_u_l", "ALT (U/L)")
    ast_u_l = measure("ast_u_l", "AST (U/L)")
    bilirubin_umol_l = measure("bilirubin_umol_l", "Bilirubin (µmol/L)")
    note = forms.CharField(
        label="Note", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )

    SYMPTOM_CHOICES = NOT_RECORDED + [(str(i), s) for i, s in enumerate(inputs.SYMPTOM_SEVERITY)]
    GROUPS = {
        "general": ("General", ["temperature_c"]),
        "cardiovascular": (
            "Heart and circulation",
            ["heart_rate", "systolic_bp", "diastolic_bp", "hypotension", "vasopressors"],
        ),
        "respiratory": (
            "Lungs and breathing",
            ["respiratory_rate", "spo2", "oxygen_device", "oxygen_flow_l_min"],
        ),
        "neurological": (
            "Brain and nerves (ACVPU, ICE, ICANS)",
            [
                "acvpu",
                "ice_orientation",
                "ice_naming",
                "ice_commands",
                "ice_writing",
                "ice_attention",
                "ice_not_assessable",
                "consciousness",
                "global_aphasia",
                "seizure",
                "motor_findings",
                "cerebral_edema",
            ],
        ),
        "renal": ("Kidneys", ["creatinine_umol_l"]),
        "hepatic": ("Liver", ["alt_u_l", "ast_u_l", "bilirubin_umol_l"]),
        "labs": ("Inflammation labs", ["crp_mg_l", "ferritin_ug_l", "il6_pg_ml"]),
    }
    ICE_FIELDS = [f"ice_{name}" for name in inputs.ICE_ITEMS]

    def __init__(self, *args: Any, patient: Patient | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.patient = patient
        for name, (_system, label) in inputs.SYMPTOMS.items():
            self.fields[f"symptom_{name}"] = forms.TypedChoiceField(
                label=label,
                choices=self.SYMPTOM_CHOICES,
                coerce=int,
                empty_value=None,
                required=False,
            )
        if not self.is_bound:
            self.initial.setdefault("client_key", uuid.uuid4())
            self.initial.setdefault("clinical_time", local_now_input())

    def groups(self) -> list[tuple[str, str, list]]:
        """Return (id, title, bound fields) per organ system, symptoms included."""
        out = []
        for key, (title, names) in self.GROUPS.items():
            symptoms = [f"symptom_{n}" for n, (s, _) in inputs.SYMPTOMS.items() if s == key]
            out.append((key, title, [self[n] for n in names + symptoms]))
        return out

    def clean_clinical_time(self):
        value = self.cleaned_data["clinical_time"]
        check_clinical_time(value, "Time of observations")
        return value

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
        if data.get("oxygen_flow_l_min") and data.get("oxygen_device") == "room_air":
            self.add_error(
                "oxygen_flow_l_min", "Oxygen flow given but the patient is on room air."
            )
        sbp, dbp = data.get("systolic_bp"), data.get("diastolic_bp")
        if sbp is not None and dbp is not None and dbp >= sbp:
            self.add_error("diastolic_bp", "Diastolic BP must be lower than systolic BP.")
        measured = [
            n
            for n, v in data.items()
            if n not in {"client_key", "clinical_time", "confirm_early", "note"}
            and v not in (None, "", [], False)
        ]
        if not measured and not self.errors:
            raise forms.ValidationError(
                "Record at least one observation (a vital sign, ICE, a symptom or a lab)."
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
        if self.patient.created_at and when < self.patient.created_at:
            registered = timezone.localtime(self.patient.created_at)
            reasons.append(f"before the patient was registered ({registered:%d %b %Y %H:%M})")
        exposure = self.patient.exposures.order_by("-day0", "-pk").first()
        if exposure and when < exposure.day0_start():
            reasons.append(f"before day 0 ({exposure.day0:%d %b %Y})")
        if reasons:
            self.add_error(
                "confirm_early",
                f"This time is {' and '.join(reasons)}. Check the date; if it is right, "
                "tick the box to record it.",
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
        values["hypotension"] = tri_state(d.get("hypotension", ""))
        values["global_aphasia"] = tri_state(d.get("global_aphasia", ""))
        values["vasopressors"] = sorted(d.get("vasopressors") or [])
        values["ice_not_assessable"] = bool(d.get("ice_not_assessable"))
        values["symptoms"] = {
            name: d[f"symptom_{name}"]
            for name in inputs.SYMPTOMS
            if d.get(f"symptom_{name}") is not None
        }
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
    dose_dates = forms.CharField(
        label="Further dose dates",
        required=False,
        help_text="Step-up or later doses, as YYYY-MM-DD separated by commas",
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
        return data

    def clean_dose_dates(self) -> list[str]:
        raw = self.cleaned_data.get("dose_dates", "")
        out = []
        for part in [p.strip() for p in raw.split(",") if p.strip()]:
            try:
                out.append(date.fromisoformat(part).isoformat())
            except ValueError:
                raise forms.ValidationError(f"{part!r} is not a date (use YYYY-MM-DD).") from None
        return out

    def exposure_values(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "kind": d["exposure_kind"],
            "agent": d["exposure_agent"],
            "day0": d["day0"],
            "dose_dates": d["dose_dates"],
        }


class InterventionForm(forms.ModelForm):
    client_key = forms.UUIDField(widget=forms.HiddenInput)
    given_at = ClinicalTimeField(label="Given at")
    confirm_over_limit = forms.BooleanField(
        label="I have reviewed the tocilizumab dose limit and record this dose anyway",
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

    def __init__(self, *args: Any, dose_counts: tuple[int, int] = (0, 0), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dose_counts = dose_counts
        self.limit_warning: str | None = None
        if not self.is_bound:
            self.initial.setdefault("client_key", uuid.uuid4())
            self.initial.setdefault("given_at", local_now_input())

    def clean_given_at(self):
        value = self.cleaned_data["given_at"]
        check_clinical_time(value, "Given at")
        return value

    def clean(self) -> dict[str, Any]:
        from .clinical.treatments import tocilizumab_limit_warning

        data = super().clean()
        if data.get("kind") == "tocilizumab":
            self.limit_warning = tocilizumab_limit_warning(*self.dose_counts)
            if self.limit_warning and not data.get("confirm_over_limit"):
                self.add_error("confirm_over_limit", self.limit_warning)
        return data

    def intervention_values(self) -> dict[str, Any]:
        d = self.cleaned_data
        keys = ["kind", "drug", "dose", "route", "indication", "given_at", "note"]
        return {k: d[k] for k in keys}


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason", max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class AcknowledgeForm(forms.Form):
    note = forms.CharField(label="Note", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


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

    def __init__(self, *args: Any, wards: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ward"].choices = [("", "All wards")] + [(w, w) for w in wards]
