from __future__ import annotations

import uuid
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.urls import reverse
from django.utils import timezone

from .clinical import inputs, products
from .clinical.episodes import INDICATION_LABELS
from .clinical.flags import SEVERITY_RANK, FlagEvent
from .clinical.history import INTERVENTION_KINDS, Given
from .clinical.lifecycle import OpenFlag
from .clinical.parse import capd_points
from .clinical.sources import compact
from .identifiers import normalise_mrn


def choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(v, v.replace("_", " ").capitalize()) for v in values]


CAPD_CHOICES = choices(inputs.CAPD_SCALE)


class UndeletableQuerySet(models.QuerySet):
    def delete(self):
        raise PermissionDenied("Clinical records are never deleted; mark them entered in error.")


class Undeletable(models.Model):
    """Clinical rows: never deleted, through the ORM, the admin or the UI."""

    objects = UndeletableQuerySet.as_manager()

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Clinical records are never deleted; mark them entered in error.")


def product_choices() -> list[tuple[str, str]]:
    return [(p.id, p.label) for p in products.catalogue().values()]


class Jurisdiction(models.TextChoices):
    """Whose label applies (REFERENCE k8: a patient-level setting)."""

    US = "US", "United States (FDA label)"
    EU = "EU", "European Union (EU SmPC)"
    GB = "GB", "Great Britain (MHRA SmPC)"


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class Patient(Undeletable):
    mrn = models.CharField("MRN", max_length=32, unique=True)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    birth_date = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    height_cm = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    ward = models.CharField(max_length=50, db_index=True)
    bed = models.CharField(max_length=20, blank=True)
    # Source article: risk factors for CRS (age and BMI are derived).
    nursing_home = models.BooleanField("Lives in a nursing home or care facility", default=False)
    heart_disease = models.BooleanField(default=False)
    diabetes = models.BooleanField(default=False)
    kidney_disease = models.BooleanField(default=False)
    # NEWS2: scale 2 only when a clinician prescribes an 88-92 % target.
    spo2_scale = models.PositiveSmallIntegerField(
        "NEWS2 SpO2 scale",
        choices=[(1, "Scale 1"), (2, "Scale 2 (target 88-92 %, hypercapnic failure)")],
        default=1,
    )
    label_jurisdiction = models.CharField(
        "Label jurisdiction",
        max_length=2,
        choices=Jurisdiction.choices,
        blank=True,
        help_text="Whose product label sets the monitoring plan; blank: the hospital default",
    )
    baseline_creatinine_umol_l = models.FloatField(
        "Baseline creatinine (µmol/L)", null=True, blank=True
    )
    baseline_alt_u_l = models.FloatField("Baseline ALT (U/L)", null=True, blank=True)
    baseline_ast_u_l = models.FloatField("Baseline AST (U/L)", null=True, blank=True)
    baseline_bilirubin_umol_l = models.FloatField(
        "Baseline bilirubin (µmol/L)", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["family_name", "given_name"]
        indexes = [
            models.Index(fields=["family_name", "given_name"]),
            # Look-alikes (same surname or bed) are searched within a ward.
            models.Index(fields=["ward", "family_name"]),
        ]
        permissions = [("correct_record", "Can mark clinical records entered in error")]

    def __str__(self) -> str:
        return f"{self.family_name.upper()}, {self.given_name} ({self.mrn})"

    def save(self, *args, **kwargs) -> None:
        # One spelling per MRN whatever the write path (form, FHIR, demo):
        # the unique index then refuses look-alikes too.
        self.mrn = normalise_mrn(self.mrn)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("patient", args=[self.pk])

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, day: date) -> int:
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday

    @property
    def bmi(self) -> float | None:
        if not (self.weight_kg and self.height_cm):
            return None
        metres = float(self.height_cm) / 100
        return round(float(self.weight_kg) / (metres * metres), 1)

    def risk_factors(self, today: date, exposure: Exposure | None) -> list[str]:
        """Return the source article's risk factors that apply."""
        found = []
        if exposure and exposure.kind != Exposure.Kind.INFECTION:
            found.append("On immunotherapy")
        if self.age_on(today) > 65:
            found.append(f"Age over 65 ({self.age_on(today)})")
        if self.nursing_home:
            found.append("Nursing home or care facility")
        found += [
            label
            for flag, label in (
                (self.heart_disease, "Heart disease"),
                (self.diabetes, "Diabetes"),
                (self.kidney_disease, "Kidney disease"),
            )
            if flag
        ]
        if self.bmi is not None and self.bmi >= 40:
            found.append(f"BMI 40 or more ({self.bmi})")
        return found

    def jurisdiction(self) -> str:
        return self.label_jurisdiction or settings.CRS_WATCH["LABEL_JURISDICTION"]

    def baseline_labs(self) -> dict[str, float]:
        return {
            name: getattr(self, f"baseline_{name}")
            for name in inputs.BASELINE_LABS
            if getattr(self, f"baseline_{name}") is not None
        }


def day_start(day: date) -> datetime:
    """Return midnight at the start of ``day``, in the hospital's time zone."""
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


class Exposure(Undeletable):
    """What puts the patient at risk of CRS, and its day 0."""

    class Kind(models.TextChoices):
        CAR_T = "car_t", "CAR-T cell therapy"
        BISPECIFIC = "bispecific", "Bispecific antibody"
        MONOCLONAL = "monoclonal", "Monoclonal antibody"
        INFECTION = "infection", "Infection"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="exposures")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    agent = models.CharField(
        max_length=100, help_text="Product, antibody, or infection (e.g. COVID-19)"
    )
    day0 = models.DateField(
        "Day 0", help_text="Infusion date, first dose date, or infection onset"
    )
    dose_dates = models.JSONField(
        default=list, blank=True, help_text="Further (step-up) dose dates, ISO format"
    )
    # The catalogue id (products.toml); blank: matched from the agent's name.
    product = models.CharField(max_length=40, blank=True, choices=product_choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day0", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.agent} (day 0 {self.day0})"

    def catalogue_product(self) -> products.Product | None:
        return products.find_product(self.product, self.agent)

    def day_number(self, today: date) -> int:
        return (today - self.day0).days

    def day0_start(self) -> datetime:
        """Return midnight at the start of day 0, in the hospital's time zone."""
        return day_start(self.day0)


class RoundStatus(models.TextChoices):
    FINAL = "final", "Final"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


class Correctable(models.Model):
    """A clinical record that is never deleted: when wrong, it is marked
    entered in error with who, when and why, and stays in view."""

    status = models.CharField(
        max_length=20, choices=RoundStatus.choices, default=RoundStatus.FINAL
    )
    error_reason = models.TextField(blank=True)
    error_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Who marked it, by the name they had then (renames never rewrite history).
    error_by_name = models.CharField(max_length=150, blank=True)
    error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def in_error(self) -> bool:
        return self.status == RoundStatus.ENTERED_IN_ERROR

    def mark_entered_in_error(self, user, reason: str) -> None:
        self.status = RoundStatus.ENTERED_IN_ERROR
        self.error_reason = reason
        self.error_by = user
        self.error_by_name = user.get_username()
        self.error_at = timezone.now()
        self.save(
            update_fields=["status", "error_reason", "error_by", "error_by_name", "error_at"]
        )


class RoundSource(models.TextChoices):
    """Who produced a round's values: typed at the bedside or sent by a system."""

    NURSE = "nurse", "Nurse"
    MONITOR = "monitor", "Monitor"
    EHR = "ehr", "EHR"


class ObservationRound(Correctable, Undeletable):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="rounds")
    clinical_time = models.DateTimeField()
    source = models.CharField(
        max_length=10, choices=RoundSource.choices, default=RoundSource.NURSE
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The author's user name as it was then: a later rename never rewrites
    # who entered a record.
    entered_by_name = models.CharField(max_length=150, blank=True)
    entered_at = models.DateTimeField(auto_now_add=True)
    # The form's one-time key: a double or replayed submit stores one round.
    # Unique per patient, so a key reused on another patient is never taken
    # for that patient's round.
    client_key = models.UUIDField(default=uuid.uuid4)

    temperature_c = models.FloatField("Temperature (°C)", null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField("Heart rate (/min)", null=True, blank=True)
    systolic_bp = models.PositiveSmallIntegerField("Systolic BP (mmHg)", null=True, blank=True)
    diastolic_bp = models.PositiveSmallIntegerField("Diastolic BP (mmHg)", null=True, blank=True)
    respiratory_rate = models.PositiveSmallIntegerField(
        "Respiratory rate (/min)", null=True, blank=True
    )
    spo2 = models.PositiveSmallIntegerField("SpO2 (%)", null=True, blank=True)
    oxygen_device = models.CharField(
        max_length=40, choices=choices(inputs.OXYGEN_DEVICES), blank=True
    )
    oxygen_flow_l_min = models.FloatField("Oxygen flow (L/min)", null=True, blank=True)
    vasopressors = models.JSONField(default=list, blank=True)
    hypotension = models.BooleanField(null=True, blank=True)
    acvpu = models.CharField("ACVPU", max_length=1, choices=choices(inputs.ACVPU), blank=True)

    ice_orientation = models.PositiveSmallIntegerField(null=True, blank=True)
    ice_naming = models.PositiveSmallIntegerField(null=True, blank=True)
    ice_commands = models.PositiveSmallIntegerField(null=True, blank=True)
    ice_writing = models.PositiveSmallIntegerField(null=True, blank=True)
    ice_attention = models.PositiveSmallIntegerField(null=True, blank=True)
    ice_not_assessable = models.BooleanField(default=False)
    # Sedating medication running: ICE and consciousness are not graded.
    sedated = models.BooleanField(null=True, blank=True)
    # CAPD (children): each item's answer, Never ... Always.
    capd_eye_contact = models.CharField(max_length=10, choices=CAPD_CHOICES, blank=True)
    capd_purposeful_actions = models.CharField(max_length=10, choices=CAPD_CHOICES, blank=True)
    capd_aware_of_surroundings = models.CharField(max_length=10, choices=CAPD_CHOICES, blank=True)
    capd_communicates_needs = models.CharField(max_length=10, choices=CAPD_CHOICES, blank=True)
    capd_restless = models.CharField(max_length=10, choices=CAPD_CHOICES, blank=True)
    capd_inconsolable = models.CharField(max_length=10, choices=CAPD_CHOICES, blank=True)
    capd_underactive = models.CharField(max_length=10, choices=CAPD_CHOICES, blank=True)
    capd_slow_to_respond = models.CharField(max_length=10, choices=CAPD_CHOICES, blank=True)
    capd_not_assessable = models.BooleanField(default=False)
    consciousness = models.CharField(
        max_length=60, choices=choices(inputs.CONSCIOUSNESS), blank=True
    )
    global_aphasia = models.BooleanField(null=True, blank=True)
    seizure = models.CharField(max_length=50, choices=choices(inputs.SEIZURE), blank=True)
    motor_findings = models.CharField(
        max_length=30, choices=choices(inputs.MOTOR_FINDINGS), blank=True
    )
    cerebral_edema = models.CharField(
        max_length=50, choices=choices(inputs.CEREBRAL_EDEMA), blank=True
    )
    symptoms = models.JSONField(default=dict, blank=True)

    crp_mg_l = models.FloatField("CRP (mg/L)", null=True, blank=True)
    ferritin_ug_l = models.FloatField("Ferritin (µg/L)", null=True, blank=True)
    il6_pg_ml = models.FloatField("IL-6 (pg/mL)", null=True, blank=True)
    creatinine_umol_l = models.FloatField("Creatinine (µmol/L)", null=True, blank=True)
    alt_u_l = models.FloatField("ALT (U/L)", null=True, blank=True)
    ast_u_l = models.FloatField("AST (U/L)", null=True, blank=True)
    bilirubin_umol_l = models.FloatField("Bilirubin (µmol/L)", null=True, blank=True)
    anc_10e9_l = models.FloatField("ANC (×10⁹/L)", null=True, blank=True)
    platelets_10e9_l = models.FloatField("Platelets (×10⁹/L)", null=True, blank=True)
    haemoglobin_g_l = models.FloatField("Haemoglobin (g/L)", null=True, blank=True)
    fibrinogen_g_l = models.FloatField("Fibrinogen (g/L)", null=True, blank=True)
    triglycerides_mmol_l = models.FloatField("Triglycerides (mmol/L)", null=True, blank=True)
    # Answers to the product's late-neurotoxicity questions, by question id
    # (products.toml): true, false; a question not asked is absent.
    late_neuro = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True, max_length=4000)

    # The stored assessment: pages read these, never recompute.
    crs_treated = models.BooleanField(default=False)
    crs_grade = models.PositiveSmallIntegerField(null=True, blank=True)
    icans_grade = models.PositiveSmallIntegerField(null=True, blank=True)
    news2_total = models.PositiveSmallIntegerField(null=True, blank=True)
    news2_band = models.CharField(max_length=20, blank=True)
    news2_monitoring = models.CharField(max_length=20, blank=True)
    organ_severity = models.JSONField(default=dict, blank=True)
    assessment = models.JSONField(default=dict, blank=True)
    treatment_options = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-clinical_time", "-pk"]
        indexes = [models.Index(fields=["patient", "-clinical_time"])]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "client_key"], name="round_client_key_per_patient"
            )
        ]

    def __str__(self) -> str:
        return f"Round {self.pk} for {self.patient_id} at {self.clinical_time:%Y-%m-%d %H:%M}"

    @property
    def ice_score(self) -> int | None:
        items = [getattr(self, f"ice_{name}") for name in inputs.ICE_ITEMS]
        if any(v is None for v in items):
            return None
        return sum(items)

    @property
    def capd_score(self) -> int | None:
        answers = {name: getattr(self, f"capd_{name}") for name in inputs.CAPD_ITEMS}
        if any(not v for v in answers.values()):
            return None
        return sum(capd_points(name, answer) for name, answer in answers.items())

    # What ``to_observation`` reads: re-assessment loads only these.
    OBSERVATION_FIELDS = (
        "id",
        "patient",
        "clinical_time",
        "temperature_c",
        "heart_rate",
        "systolic_bp",
        "diastolic_bp",
        "respiratory_rate",
        "spo2",
        "oxygen_device",
        "oxygen_flow_l_min",
        "hypotension",
        "vasopressors",
        "acvpu",
        *(f"ice_{name}" for name in inputs.ICE_ITEMS),
        "ice_not_assessable",
        "sedated",
        *(f"capd_{name}" for name in inputs.CAPD_ITEMS),
        "capd_not_assessable",
        "consciousness",
        "global_aphasia",
        "seizure",
        "motor_findings",
        "cerebral_edema",
        "symptoms",
        *inputs.LABS,
        "late_neuro",
    )

    # What a bedside observation records (``inputs.holds_labs_only``).
    BEDSIDE_FIELDS = tuple(
        name
        for name in OBSERVATION_FIELDS
        if name not in ("id", "patient", "clinical_time", *inputs.LABS)
    )

    def to_observation(self) -> inputs.Observation:
        """Return this round as the clinical rules read it (``OBSERVATION_FIELDS``)."""
        return inputs.Observation(
            time=self.clinical_time,
            temperature_c=self.temperature_c,
            heart_rate=self.heart_rate,
            systolic_bp=self.systolic_bp,
            diastolic_bp=self.diastolic_bp,
            respiratory_rate=self.respiratory_rate,
            spo2=self.spo2,
            spo2_scale=self.patient.spo2_scale,
            oxygen_device=self.oxygen_device or None,
            oxygen_flow_l_min=self.oxygen_flow_l_min,
            hypotension=self.hypotension,
            vasopressors=tuple(self.vasopressors),
            acvpu=self.acvpu or None,
            ice_score=self.ice_score,
            ice_not_assessable=self.ice_not_assessable,
            sedated=self.sedated,
            capd_score=self.capd_score,
            capd_not_assessable=self.capd_not_assessable,
            age_years=self.patient.age_on(self.clinical_time.date()),
            consciousness=self.consciousness or None,
            global_aphasia=self.global_aphasia,
            seizure=self.seizure or None,
            motor_findings=self.motor_findings or None,
            cerebral_edema=self.cerebral_edema or None,
            symptoms={k: int(v) for k, v in self.symptoms.items()},
            labs={n: getattr(self, n) for n in inputs.LABS if getattr(self, n) is not None},
            late_neuro=dict(self.late_neuro),
        )


class Intervention(Correctable, Undeletable):
    KIND_CHOICES = choices(INTERVENTION_KINDS)
    INDICATION_CHOICES = list(INDICATION_LABELS.items())

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="interventions")
    kind = models.CharField(max_length=30, choices=KIND_CHOICES)
    drug = models.CharField(max_length=100, blank=True, help_text="e.g. dexamethasone")
    dose = models.CharField(max_length=50, blank=True, help_text="e.g. 8 mg/kg, 640 mg")
    route = models.CharField(max_length=30, blank=True, help_text="e.g. IV, PO")
    # Why it was given. Premedication, prophylaxis and ICANS treatment never
    # count as treatment of a CRS episode (they do not lift the fever
    # requirement); blank means not stated.
    indication = models.CharField(
        max_length=20, choices=INDICATION_CHOICES, blank=True, help_text="Given for"
    )
    given_at = models.DateTimeField()
    note = models.TextField(blank=True, max_length=2000)
    # Tocilizumab: the label-dose mismatch the recorder confirmed (shown in
    # the ledger); blank when the dose matched or was not checked.
    dose_check = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by_name = models.CharField(max_length=150, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    client_key = models.UUIDField(default=uuid.uuid4)

    class Meta:
        ordering = ["-given_at", "-pk"]
        indexes = [models.Index(fields=["patient", "-given_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "client_key"], name="intervention_client_key_per_patient"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.given_at:%Y-%m-%d %H:%M}"

    # What ``to_given`` reads (re-assessment loads only these).
    GIVEN_FIELDS = ("id", "given_at", "kind", "drug", "dose", "route", "indication")

    def to_given(self) -> Given:
        """Return this intervention as the clinical rules read it."""
        detail = {"drug": self.drug, "dose": self.dose, "route": self.route}
        return Given(self.given_at, self.kind, detail, self.indication)


class DoseEvent(Correctable, Undeletable):
    """One dose of a bispecific schedule (or a CAR-T infusion): its own clock."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="doses")
    exposure = models.ForeignKey(Exposure, on_delete=models.PROTECT, related_name="doses")
    step = models.CharField(max_length=20, help_text="Schedule step, e.g. SUD1 or C1D15")
    dose = models.CharField(max_length=50, blank=True, help_text="e.g. 0.06 mg/kg, 48 mg")
    given_at = models.DateTimeField()
    note = models.TextField(blank=True, max_length=2000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    client_key = models.UUIDField(default=uuid.uuid4, unique=True)

    class Meta:
        ordering = ["given_at", "pk"]
        indexes = [models.Index(fields=["patient", "given_at"])]

    def __str__(self) -> str:
        return f"{self.step} at {self.given_at:%Y-%m-%d %H:%M}"

    def step_label(self) -> str:
        """Return the schedule step in words ("step-up dose 1"), from the label plan."""
        product = self.exposure.catalogue_product()
        for plan in product.plans if product else ():
            step = plan.step(self.step)
            if step:
                return step.label
        return "dose outside the schedule" if self.step == "other" else self.step

    def clock(self) -> products.DoseClock:
        return products.DoseClock(self.step, self.given_at)


class FlagState(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class Flag(Undeletable):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="flags")
    kind = models.CharField(max_length=20)
    key = models.CharField(max_length=80)
    organ_system = models.CharField(max_length=20, blank=True)
    severity = models.CharField(max_length=10)
    severity_rank = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=300)
    source = models.TextField()
    basis = models.JSONField(default=dict)
    metric = models.CharField(max_length=60, blank=True)
    above = models.FloatField(default=0)
    opened_at = models.DateTimeField()
    opened_by_round = models.ForeignKey(
        ObservationRound,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opened_flags",
    )
    last_active_at = models.DateTimeField()
    state = models.CharField(max_length=15, choices=FlagState.choices, default=FlagState.OPEN)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_by_name = models.CharField(max_length=150, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledge_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_by_name = models.CharField(max_length=150, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolve_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-severity_rank", "-opened_at"]
        indexes = [models.Index(fields=["patient", "state"])]

    def __str__(self) -> str:
        return f"{self.severity} {self.kind}: {self.title}"

    @classmethod
    def raised(
        cls, patient: Patient, event: FlagEvent, at: datetime, rnd: ObservationRound | None
    ) -> Flag:
        """Return an unsaved open flag for ``event``, raised at ``at`` by ``rnd``."""
        return cls(
            patient=patient,
            kind=event.kind,
            key=event.key,
            organ_system=event.organ_system or "",
            severity=event.severity,
            severity_rank=SEVERITY_RANK[event.severity],
            title=event.title[:300],
            source=event.source,
            basis=compact(event.basis),
            metric=event.metric or "",
            above=event.above,
            opened_at=at,
            opened_by_round=rnd,
            last_active_at=at,
        )

    def as_open_flag(self) -> OpenFlag:
        """Return this flag as the pure lifecycle rules see it."""
        return OpenFlag(
            key=self.key,
            kind=self.kind,
            severity=self.severity,
            opened_at=self.opened_at,
            last_active_at=self.last_active_at,
            acknowledged=self.state == FlagState.ACKNOWLEDGED,
            metric=self.metric or None,
            above=self.above,
            ref=self,
        )

    def refresh(self, last_active_at: datetime, event: FlagEvent | None = None) -> None:
        """Record that the condition is still present (and its latest basis)."""
        self.save(update_fields=self.mark_active(last_active_at, event))

    def mark_active(self, last_active_at: datetime, event: FlagEvent | None = None) -> list[str]:
        """Set, unsaved, that the condition is still present (and its latest
        basis); return the fields changed, for one write after several rounds."""
        fields = ["last_active_at"]
        self.last_active_at = last_active_at
        if event is not None:
            self.basis = {**self.basis, "latest": event.basis}
            fields.append("basis")
        return fields

    def acknowledge(self, user, note: str, at: datetime) -> bool:
        """Acknowledge the flag if still open; return False if someone already had.

        The conditional UPDATE makes two simultaneous acknowledgements record
        one, and neither clinician sees an error.
        """
        values = {
            "state": FlagState.ACKNOWLEDGED,
            "acknowledged_by": user,
            "acknowledged_by_name": user.get_username(),
            "acknowledged_at": at,
            "acknowledge_note": note,
        }
        done = Flag.objects.filter(pk=self.pk, state=FlagState.OPEN).update(**values)
        if done:
            for name, value in values.items():
                setattr(self, name, value)
        return bool(done)

    def resolve(self, at: datetime, reason: str, user=None) -> bool:
        """Resolve the flag (``user`` None: by a rule); False if already resolved."""
        values = {
            "state": FlagState.RESOLVED,
            "resolved_by": user,
            "resolved_by_name": user.get_username() if user else "",
            "resolved_at": at,
            "resolve_reason": reason,
        }
        done = Flag.objects.filter(pk=self.pk).exclude(state=FlagState.RESOLVED).update(**values)
        if done:
            for name, value in values.items():
                setattr(self, name, value)
        return bool(done)


# Worst first: flag severity, unacknowledged before acknowledged, the worse
# of CRS and ICANS, NEWS2, then the most overdue (the earliest due time).
QUEUE_ORDER = [
    "-worst_flag_rank",
    "-worst_flag_unacknowledged",
    "-worst_grade",
    "-news2_rank",
    "next_round_due_at",
    "sort_name",
]


class PatientStatus(models.Model):
    """One denormalised row per patient: what the review queue reads."""

    patient = models.OneToOneField(
        Patient, on_delete=models.CASCADE, primary_key=True, related_name="status"
    )
    ward = models.CharField(max_length=50)
    sort_name = models.CharField(max_length=210)
    crs_grade = models.PositiveSmallIntegerField(null=True)
    icans_grade = models.PositiveSmallIntegerField(null=True)
    ice_score = models.PositiveSmallIntegerField(null=True)
    news2_total = models.PositiveSmallIntegerField(null=True)
    news2_band = models.CharField(max_length=20, blank=True)
    day0 = models.DateField(null=True)
    band_rank = models.SmallIntegerField(default=-1)
    # When (and in which round) each grade above was last recorded.
    grades_at = models.JSONField(default=dict)
    worst_flag_rank = models.PositiveSmallIntegerField(default=0)
    # The queue's order after flag severity: an unanswered flag at that
    # severity, then the worse of CRS and ICANS, then NEWS2 (-1: none known).
    worst_flag_unacknowledged = models.BooleanField(default=False)
    worst_grade = models.SmallIntegerField(default=-1)
    news2_rank = models.SmallIntegerField(default=-1)
    open_flag_count = models.PositiveIntegerField(default=0)
    open_flags = models.JSONField(default=list)
    # The queue's view of the open flags: one entry per organ system.
    flag_groups = models.JSONField(default=list)
    organ_severity = models.JSONField(default=dict)
    latest_round = models.ForeignKey(
        ObservationRound, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    last_round_at = models.DateTimeField(null=True)
    next_round_due_at = models.DateTimeField(null=True)
    next_ice_due_at = models.DateTimeField(null=True)
    # The label plan's windows (products.Window.as_dict), for the queue's
    # "where in the plan" line without reading the catalogue per row.
    plan_windows = models.JSONField(default=list)
    # The latest lab entry's ICAHT grades and IEC-HS prompt, with its time.
    followup = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["-worst_flag_rank", "-band_rank", "sort_name"]),
            models.Index(fields=["ward", "-worst_flag_rank", "-band_rank", "sort_name"]),
            models.Index(fields=QUEUE_ORDER, name="status_queue_order"),
            models.Index(fields=["ward", *QUEUE_ORDER], name="status_ward_queue_order"),
            models.Index(fields=["-updated_at"]),
        ]

    def __str__(self) -> str:
        return f"Status of {self.patient_id}"

    def overdue(self, now: datetime) -> bool:
        return bool(
            (self.next_round_due_at and now > self.next_round_due_at)
            or (self.next_ice_due_at and now > self.next_ice_due_at)
        )


class AuditEvent(models.Model):
    """Append-only record of who did what to which record, from where."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    # Who it was, by the name they had then (renames never rewrite history).
    user_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=30, db_index=True)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    objects = UndeletableQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id} {self.action} {self.object_type}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionDenied("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Audit events are append-only.")


# -- Escalation: policy (data the hospital edits) and what happened ---------


class EscalationTier(models.Model):
    """Who responds, in cascade order, and within how many minutes."""

    name = models.SlugField(max_length=40, unique=True)
    label = models.CharField(max_length=100, blank=True, help_text="e.g. Critical-care outreach")
    position = models.PositiveSmallIntegerField(help_text="Cascade order, lowest first")
    minutes = models.PositiveIntegerField("Respond within (minutes)")
    # Shipped defaults are local policy nobody has confirmed yet: shown so.
    minutes_confirmed = models.BooleanField(default=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.label or self.name

    @property
    def display(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


class EscalationTrigger(models.Model):
    """What calls for escalation (``on``) and which tier responds."""

    on = models.CharField(max_length=80, unique=True)
    tier = models.ForeignKey(EscalationTier, on_delete=models.PROTECT, related_name="triggers")
    minutes = models.PositiveIntegerField(
        "Respond within (minutes)", null=True, blank=True, help_text="Blank: the tier's minutes"
    )
    record_required = models.BooleanField(
        default=True, help_text="The nurse must record who was informed, or why not"
    )
    basis = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["on"]

    def __str__(self) -> str:
        return f"{self.on} -> {self.tier.name}"


class EscalationContact(models.Model):
    """Where a tier is reached, per ward (``*``: every ward)."""

    ward = models.CharField(max_length=50, help_text="A ward, or * for every ward")
    tier = models.ForeignKey(EscalationTier, on_delete=models.PROTECT, related_name="contacts")
    name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    webhook = models.URLField(blank=True, max_length=500)
    secret = models.CharField(
        max_length=200, blank=True, help_text="Shared secret that signs webhook posts"
    )
    include_identity = models.BooleanField(
        default=False, help_text="Send the patient's name and MRN (only to a trusted channel)"
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["tier__position", "ward", "pk"]

    def __str__(self) -> str:
        return f"{self.ward} {self.tier.name}: {self.email or self.webhook}"


class EscalationState(models.TextChoices):
    OPEN = "open", "Awaiting acknowledgement"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    STOOD_DOWN = "stood_down", "Stood down (flags resolved)"
    UNANSWERED = "unanswered", "Unanswered at the last tier"


class Escalation(models.Model):
    """One call for a response, opened by the flags one round (or scan) raised."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="escalations")
    round = models.ForeignKey(
        ObservationRound, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    flags = models.ManyToManyField(Flag, related_name="escalations")
    ward = models.CharField(max_length=50)
    bed = models.CharField(max_length=20, blank=True)
    # The triggers matched, as they read when the escalation opened.
    triggers = models.JSONField(default=list)
    trigger_kind = models.CharField(max_length=20)
    trigger_severity = models.CharField(max_length=10)
    trigger_title = models.CharField(max_length=300)
    record_required = models.BooleanField(default=True)
    opened_at = models.DateTimeField(db_index=True)
    state = models.CharField(
        max_length=15, choices=EscalationState.choices, default=EscalationState.OPEN
    )
    tier_position = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField(db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-opened_at", "-pk"]
        indexes = [
            models.Index(fields=["patient", "state"]),
            models.Index(fields=["ward", "opened_at"]),
        ]

    def __str__(self) -> str:
        return f"Escalation {self.pk} for {self.patient_id}: {self.trigger_title}"

    @property
    def is_open(self) -> bool:
        return self.state == EscalationState.OPEN


class EscalationStep(models.Model):
    """One tier called: the unique constraint makes each step happen once."""

    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, related_name="steps")
    position = models.PositiveSmallIntegerField()
    tier = models.ForeignKey(EscalationTier, on_delete=models.PROTECT, related_name="+")
    tier_name = models.CharField(max_length=40)
    tier_label = models.CharField(max_length=100)
    minutes = models.PositiveIntegerField()
    minutes_confirmed = models.BooleanField(default=False)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["escalation", "position"]
        constraints = [
            models.UniqueConstraint(fields=["escalation", "position"], name="one_step_per_tier")
        ]

    def __str__(self) -> str:
        return f"{self.tier_name} for escalation {self.escalation_id}"


class NotificationState(models.TextChoices):
    PENDING = "pending", "Waiting to send"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (gave up)"


class Notification(models.Model):
    """One message to one contact for one step; attempts are kept."""

    step = models.ForeignKey(
        EscalationStep, on_delete=models.PROTECT, related_name="notifications"
    )
    contact = models.ForeignKey(EscalationContact, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(
        max_length=10, choices=[("email", "E-mail"), ("webhook", "Webhook")]
    )
    address = models.CharField(max_length=500)
    state = models.CharField(
        max_length=10, choices=NotificationState.choices, default=NotificationState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["step", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["step", "contact", "channel"], name="one_notification_per_contact_step"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.address} ({self.state})"


class NotificationAttempt(models.Model):
    notification = models.ForeignKey(
        Notification, on_delete=models.PROTECT, related_name="attempt_log"
    )
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    ok = models.BooleanField()
    outcome = models.CharField(max_length=500)
    worker = models.CharField(max_length=100)

    class Meta:
        ordering = ["notification", "number"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "number"], name="one_attempt_number")
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number}: {self.outcome}"


BEDSIDE_HOW = {
    "phone": "Phone",
    "bleep": "Bleep / pager",
    "in_person": "In person",
    "message": "Message",
}


class BedsideRecord(Undeletable):
    """What the nurse did about an escalation: who was informed, or why not."""

    escalation = models.ForeignKey(
        Escalation, on_delete=models.PROTECT, related_name="bedside_records"
    )
    informed = models.CharField("Who was informed", max_length=200, blank=True)
    how = models.CharField(max_length=20, blank=True)
    informed_at = models.DateTimeField(null=True, blank=True)
    not_escalated_reason = models.TextField("Reason for not escalating", blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at", "-pk"]

    def __str__(self) -> str:
        return f"Bedside record for escalation {self.escalation_id}"

    @property
    def how_label(self) -> str:
        return BEDSIDE_HOW.get(self.how, self.how)


class RoundDraft(models.Model):
    """A round being typed, kept on the server so a timed-out session loses nothing.

    Kept here rather than in the browser so that no patient data stays on a
    shared ward PC; deleted when the round is saved or discarded.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    data = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "patient"], name="one_draft_per_user_patient")
        ]

    def __str__(self) -> str:
        return f"Draft round for {self.patient_id} by {self.user_id}"


class ServiceToken(models.Model):
    """A bearer token of a service account (monitor gateway, EHR interface).

    Only a SHA-256 of the token is kept: it is shown once, when created.
    Tokens are long random strings, so a fast hash is enough to make a
    stolen table useless, and lets every FHIR request check it cheaply.
    """

    class Source(models.TextChoices):
        MONITOR = RoundSource.MONITOR.value, RoundSource.MONITOR.label
        EHR = RoundSource.EHR.value, RoundSource.EHR.label

    name = models.CharField(max_length=60)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="service_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    can_read = models.BooleanField(default=True)
    can_write = models.BooleanField(default=True)
    # The source that rounds written with this token show on the timeline.
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.EHR)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["name", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_active_service_token_per_name",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def revoke(self, by) -> None:
        self.revoked_at = timezone.now()
        self.revoked_by = by
        self.save(update_fields=["revoked_at", "revoked_by"])

    @property
    def scopes(self) -> str:
        return " ".join(s for s, ok in (("read", self.can_read), ("write", self.can_write)) if ok)


class IngestedObservation(models.Model):
    """The identifier of a FHIR Observation already stored, and its round.

    Makes ingest idempotent: a Bundle sent twice stores nothing new.
    """

    system = models.CharField(max_length=255, blank=True)
    value = models.CharField(max_length=255)
    round = models.ForeignKey(
        ObservationRound, on_delete=models.PROTECT, related_name="fhir_identifiers"
    )
    element = models.CharField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["system", "value"], name="unique_observation_identifier"
            )
        ]

    def __str__(self) -> str:
        return f"{self.system}|{self.value}"


class PermissionsChange(models.Model):
    """The latest change to who may do what (roles, their permissions).

    Users' permission sets are kept in the cache under this stamp, read with
    the user on every request (``access.py``): any change starts new sets
    on the next request, on every app server. A random stamp, not a count,
    so a restored database or another copy sharing the cache never brings
    back an old one. One row (``ROW``), made by the migration.
    """

    ROW = 1

    stamp = models.CharField(max_length=32)

    def __str__(self) -> str:
        return f"Permissions changed ({self.stamp})"

    @classmethod
    def record(cls, using: str | None = None) -> None:
        """Record a change: every user's permissions are read again."""
        cls.objects.db_manager(using).update_or_create(
            pk=cls.ROW, defaults={"stamp": uuid.uuid4().hex}
        )
