"""The programme page: per product and period, CRS and ICANS, treatment,
ICU and observation compliance, for the CAR-T team and its quality lead.

The cohort is every CAR-T or bispecific treatment whose day 0 falls in the
period (hospital dates). Its figures come from ``programme.py``; this
module reads the facts in a fixed number of queries and renders them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import permission_required
from django.core.cache import cache
from django.db.models import Count, Max, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from .clinical import compliance, inputs, products
from .episode_data import ICE_FIELDS, episode_summaries
from .episode_export import OTHER_PRODUCTS, product_key
from .export import filter_errors, table_download
from .models import DoseEvent, Exposure, ObservationRound, Patient, RoundStatus, day_start
from .programme import (
    ALL_PRODUCTS,
    CRS,
    GRADES,
    ICANS,
    NONE,
    Figures,
    ProductRow,
    Treated,
    figures,
    grade_slug,
)
from .queue_rows import change_stamp
from .recording import audit, ice_interval
from .security import client_address

# The CAR-T team's figures: clinicians (the role that records treatment)
# read them, and the patient list behind each count names patients.
PERMISSIONS = ("patients.view_patient", "patients.add_intervention")
PROGRAMME_KINDS = (Exposure.Kind.CAR_T, Exposure.Kind.BISPECIFIC)
MAX_DAYS = 366 * 10
# The queue's change stamp turns with the minute: a minute is the most a
# cached period's figures can lag the clock.
CACHE_SECONDS = 60
OTHER = OTHER_PRODUCTS  # products not in the catalogue
OTHER_LABEL = "Products not in the catalogue"


def product_choices() -> list[tuple[str, str]]:
    catalogue = products.catalogue().values()
    return [
        ("", ALL_PRODUCTS),
        *((p.id, p.label) for p in sorted(catalogue, key=lambda p: p.name)),
        (OTHER, OTHER_LABEL),
    ]


# Which patients a count stands for: the figure, and for grades the grade.
WHO = {
    "patients": "All patients",
    "crs": "Patients with CRS",
    "icans": "Patients with ICANS",
    "tocilizumab": "Patients given tocilizumab for CRS",
    "steroids": "Patients given corticosteroids for CRS or ICANS",
    "icu": "Patients transferred to intensive care during CRS or ICANS",
    **{f"{kind}-{NONE}": f"Patients with no {kind.upper()}" for kind in (CRS, ICANS)},
    **{
        f"{kind}-{grade_slug(grade)}": f"Patients whose highest {kind.upper()} grade was {grade}"
        for kind in (CRS, ICANS)
        for grade in GRADES
    },
}


def date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProgrammeForm(forms.Form):
    start = forms.DateField(label="Day 0 from", widget=date_input())
    end = forms.DateField(label="Day 0 to (inclusive)", widget=date_input())
    product = forms.ChoiceField(label="Product", required=False)
    # Set by the links on the counts, never typed: an unknown value lists nobody.
    who = forms.CharField(required=False, max_length=40)

    def __init__(self, data=None):
        today = timezone.localdate()
        initial = {"start": default_start(today).isoformat(), "end": today.isoformat()}
        values = {**initial, **{k: v for k, v in (data or {}).items() if v != ""}}
        super().__init__(values)
        self.fields["product"].choices = product_choices()

    def clean_who(self) -> str:
        return self.cleaned_data["who"] if self.cleaned_data["who"] in WHO else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The end date is before the start date.")
            elif (end - start).days >= MAX_DAYS:
                self.add_error("end", "Choose at most ten years.")
        return data


def default_start(today: date) -> date:
    """Return the first day of the last 12 months ending ``today``."""
    try:
        return today.replace(year=today.year - 1) + timedelta(days=1)
    except ValueError:  # 29 February
        return today.replace(year=today.year - 1, day=28) + timedelta(days=1)


def cohort_for(start: date, end: date, product: str, now) -> list[Treated]:
    """Return the treatments with day 0 in [start, end]."""
    exposures = [
        e
        for e in Exposure.objects.filter(
            kind__in=PROGRAMME_KINDS, day0__gte=start, day0__lte=end
        ).select_related("patient")
        if product_key(e) == product or not product
    ]
    patients = {e.patient_id: e.patient for e in exposures}
    ids = Subquery(Exposure.objects.filter(pk__in=[e.pk for e in exposures]).values("patient_id"))
    # A later treatment starts its own follow-up: each course ends there.
    later = {}
    for patient_id, day0 in Exposure.objects.filter(
        patient_id__in=ids, kind__in=PROGRAMME_KINDS
    ).values_list("patient_id", "day0"):
        later.setdefault(patient_id, []).append(day0)
    doses: dict[int, list[products.DoseClock]] = {}
    for dose in DoseEvent.objects.filter(
        exposure__in=[e.pk for e in exposures], status=RoundStatus.FINAL
    ).order_by("given_at", "pk"):
        doses.setdefault(dose.exposure_id, []).append(dose.clock())
    rounds: dict[int, list[compliance.StoredRound]] = {}
    recorded = (*ObservationRound.BEDSIDE_FIELDS, *inputs.LABS)
    for patient_id, time, total, monitoring, icans, not_assessable, *rest in (
        ObservationRound.objects.filter(patient_id__in=ids, status=RoundStatus.FINAL)
        .order_by("patient_id", "clinical_time", "pk")
        .values_list(
            "patient_id",
            "clinical_time",
            "news2_total",
            "news2_monitoring",
            "icans_grade",
            "ice_not_assessable",
            *ICE_FIELDS,
            *recorded,
        )
    ):
        ice, values = (
            rest[: len(ICE_FIELDS)],
            dict(zip(recorded, rest[len(ICE_FIELDS) :], strict=True)),
        )
        # An ICE check: every item scored (the round's ICE score), or
        # recorded as not assessable.
        checked = not_assessable or all(v is not None for v in ice)
        rounds.setdefault(patient_id, []).append(
            compliance.StoredRound(
                time, total, monitoring, icans, checked, inputs.holds_labs_only(values)
            )
        )
    episodes = episode_summaries(list(patients.values()), now)
    interval = ice_interval()
    treated = []
    for e in exposures:
        begins = e.day0_start()
        next_day0 = min((d for d in later.get(e.patient_id, []) if d > e.day0), default=None)
        ends = day_start(next_day0) if next_day0 else None

        def within(time, begins=begins, ends=ends) -> bool:
            return time >= begins and (ends is None or time < ends)

        stored = [r for r in rounds.get(e.patient_id, []) if within(r.time)]
        windows = products.ice_windows(_plan_windows(e, doses.get(e.pk, [])))
        treated.append(
            Treated(
                patient_id=e.patient_id,
                product=_product_label(e),
                product_id=product_key(e),
                day0=e.day0,
                episodes=tuple(
                    ep for ep in episodes.get(e.patient_id, []) if ep.exposure_id == e.pk
                ),
                dues=tuple(compliance.dues(stored, now, begins, e.kind, interval, windows)),
            )
        )
    return treated


def _product_label(exposure: Exposure) -> str:
    product = exposure.catalogue_product()
    return product.label if product else OTHER_LABEL


def _plan_windows(exposure: Exposure, doses: list[products.DoseClock]) -> list[products.Window]:
    product = exposure.catalogue_product()
    plan = product.plan_for(exposure.patient.jurisdiction()) if product else None
    if plan is None:
        return []
    return products.windows_of(plan, exposure.day0_start(), doses)


def behind(row: ProductRow, who: str) -> tuple[int, ...]:
    """Return the ids of the patients a count of ``row`` stands for."""
    if who == "patients":
        return row.patients
    if who in (CRS, ICANS):
        return getattr(row, who).patient_ids
    if who == "tocilizumab":
        return row.tocilizumab_hours.patient_ids
    if who in ("steroids", "icu"):
        return getattr(row, who).patient_ids
    kind, _, grade = who.partition("-")
    for g in getattr(row, f"{kind}_grades"):
        if g.slug == grade:
            return g.patient_ids
    return ()


def programme_context(form: ProgrammeForm) -> dict[str, Any]:
    if not form.is_valid():
        return {"form": form}
    data = form.cleaned_data
    cohort, result, as_of = cohort_figures(data["start"], data["end"], data["product"])
    context: dict[str, Any] = {
        "form": form,
        "figures": result,
        "as_of": as_of,
        "rows": result.rows,
        "ice_hours": f"{ice_interval().total_seconds() / 3600:g}",
        "start": data["start"],
        "end": data["end"],
        # Links to the patients behind a count keep the period.
        "base_query": urlencode({"start": data["start"], "end": data["end"]}),
        # The registry episode download for the same dates and product.
        "episodes_query": urlencode(
            {"from": data["start"], "to": data["end"], "product": data["product"] or ""}
        ),
        "product_label": dict(product_choices()).get(data["product"] or "", ""),
    }
    who = data["who"]
    if who and result.rows:
        # With a product chosen its row is the only one; else the total.
        row = result.rows[-1]
        ids = set(behind(row, who))
        context["who"] = WHO[who]
        patients = Patient.objects.in_bulk(ids)
        context["listed"] = sorted(
            ((patients[t.patient_id], t) for t in cohort if t.patient_id in patients),
            key=lambda pair: (_name(pair[0]), pair[1].day0),
        )
    return context


def cohort_figures(start: date, end: date, product: str) -> tuple[list[Treated], Figures, Any]:
    """Return the cohort, its figures and the minute they were computed at.

    A period's figures read every round of every course in it (about 3 ms
    a treatment), so they are kept in Django's cache until any patient's
    status changes (every write path rewrites one), a treatment is
    registered, or the minute turns (rounds fall due with the clock).
    """
    now = timezone.now().replace(second=0, microsecond=0)
    treatments = Exposure.objects.aggregate(n=Count("pk"), last=Max("pk"))
    key = (
        f"programme:{start}:{end}:{product}:{change_stamp()}:"
        f"{treatments['n']}:{treatments['last']}"
    )
    found = cache.get(key)
    if found is None:
        cohort = cohort_for(start, end, product, now)
        found = (cohort, figures(cohort), now)
        cache.set(key, found, CACHE_SECONDS)
    return found


def _name(patient: Patient) -> tuple[str, str]:
    return (patient.family_name.lower(), patient.given_name.lower())


@permission_required(PERMISSIONS, raise_exception=True)
@require_safe
def programme(request: HttpRequest) -> HttpResponse:
    form = ProgrammeForm(request.GET)
    context = programme_context(form)
    listed = context.get("listed", [])
    audit(
        request.user,
        "programme_viewed",
        request.user,
        None,
        client_address(request),
        start=str(request.GET.get("start", ""))[:20],
        end=str(request.GET.get("end", ""))[:20],
        product=str(request.GET.get("product", ""))[:40],
        who=str(request.GET.get("who", ""))[:40],
        shown=[p.pk for p, _ in listed],
    )
    query = request.GET.copy()
    query.pop("who", None)
    context["query"] = query.urlencode()
    return render(request, "patients/programme.html", context)


CSV_HEADER = [
    "product",
    "day0_from",
    "day0_to",
    "patients",
    "crs_patients",
    "crs_percent",
    *(f"crs_highest_grade_{g}" for g in (NONE, *GRADES)),
    "icans_patients",
    "icans_percent",
    *(f"icans_highest_grade_{g}" for g in (NONE, *GRADES)),
    "crs_episodes",
    "crs_episodes_given_tocilizumab",
    "onset_to_first_tocilizumab_hours_median",
    "onset_to_first_tocilizumab_hours_min",
    "onset_to_first_tocilizumab_hours_max",
    "steroid_patients",
    "steroid_percent",
    "episodes_with_steroids",
    "steroid_days_per_episode_median",
    "steroid_days_per_episode_min",
    "steroid_days_per_episode_max",
    "icu_patients",
    "icu_percent",
    "rounds_due",
    "rounds_on_time",
    "rounds_on_time_percent",
    "ice_checks_due",
    "ice_checks_on_time",
    "ice_checks_on_time_percent",
    # Added after the columns above (never renamed or moved): the page's
    # split of due times that were not on time.
    "rounds_late",
    "rounds_never_recorded",
    "ice_checks_late",
    "ice_checks_never_recorded",
]


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _grade_counts(grades) -> list[Any]:
    counts = {g.grade: g.count for g in grades}
    return [counts.get(g, 0) for g in (NONE, *GRADES)]


def csv_row(row: ProductRow, start: date, end: date) -> list[Any]:
    toci, days = row.tocilizumab_hours, row.steroid_days
    return [
        row.product,
        start.isoformat(),
        end.isoformat(),
        row.n,
        row.crs.count,
        _percent(row.crs.percent),
        *_grade_counts(row.crs_grades),
        row.icans.count,
        _percent(row.icans.percent),
        *_grade_counts(row.icans_grades),
        toci.of,
        toci.n,
        _number(toci.median),
        _number(toci.low),
        _number(toci.high),
        row.steroids.count,
        _percent(row.steroids.percent),
        days.n,
        _number(days.median),
        _number(days.low),
        _number(days.high),
        row.icu.count,
        _percent(row.icu.percent),
        row.rounds.due,
        row.rounds.on_time,
        _percent(row.rounds.percent),
        row.ice.due,
        row.ice.on_time,
        _percent(row.ice.percent),
        row.rounds.late,
        row.rounds.missed,
        row.ice.late,
        row.ice.missed,
    ]


def _percent(value: int | None) -> Any:
    return "" if value is None else value


@permission_required(PERMISSIONS, raise_exception=True)
@require_safe
def programme_csv(request: HttpRequest) -> HttpResponse:
    form = ProgrammeForm(request.GET)
    context = programme_context(form)
    if "rows" not in context:
        return filter_errors(form)
    response = table_download(
        "programme-figures.csv",
        CSV_HEADER,
        (csv_row(row, context["start"], context["end"]) for row in context["rows"]),
    )
    audit(
        request.user,
        "programme_exported",
        request.user,
        None,
        client_address(request),
        start=context["start"].isoformat(),
        end=context["end"].isoformat(),
        product=form.cleaned_data["product"],
    )
    return response
