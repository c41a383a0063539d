"""Programme figures: per product and period, CRS and ICANS incidence and
highest grade, onset to tocilizumab, corticosteroids, intensive care and
observation compliance; the page, its patient lists and its CSV."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from patients import recording
from patients.clinical.compliance import Due
from patients.clinical.registry import EpisodeSummary
from patients.models import AuditEvent, Exposure
from patients.programme import (
    ALL_PRODUCTS,
    BAR_WIDTH,
    CRS,
    ICANS,
    Treated,
    by_product,
    figures,
    hour_scale,
    hours_to_tocilizumab,
    icu_transfers,
    incidence,
    max_grades,
    steroid_exposure,
)

from .conftest import NORMAL, make_patient, make_user
from .test_queue import start_of_a_minute

T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)


def episode(kind: str, onset: datetime, grade: int, **extra) -> EpisodeSummary:
    """An episode as the registry summary gives it (only what the figures read set)."""
    values = {
        "onset_reference": "day 0",
        "onset_reference_step": None,
        "onset_reference_at": None,
        "onset_day": 0,
        "onset_hours": None,
        "max_grade_at": onset,
        "resolved_at": None,
        "duration_hours": None,
        "end_rule": "",
    }
    return EpisodeSummary(kind, onset, max_grade=grade, **{**values, **extra})


def crs(grade, toci_hours=None, steroid_days=None, icu=False) -> EpisodeSummary:
    return episode(
        CRS,
        T0,
        grade,
        tocilizumab_at=() if toci_hours is None else (T0 + toci_hours * H, T0 + 40 * H),
        steroid_days=steroid_days,
        icu_at=T0 + 30 * H if icu else None,
    )


def icans(grade, steroid_days=None) -> EpisodeSummary:
    return episode(ICANS, T0 + 48 * H, grade, steroid_days=steroid_days)


def treated(pk: int, *episodes, product="Axicabtagene ciloleucel (Yescarta)", dues=()):
    return Treated(pk, product, date(2026, 10, 1), "axi-cel", tuple(episodes), tuple(dues))


def test_incidence_counts_patients_with_an_episode_of_the_kind_out_of_the_whole_cohort() -> None:
    cohort = [treated(1, crs(1), crs(2)), treated(2, icans(3)), treated(3)]
    assert incidence(cohort, CRS).count == 1
    assert incidence(cohort, CRS).n == 3
    assert incidence(cohort, CRS).percent == 33
    assert incidence(cohort, ICANS).patient_ids == (2,)


def test_highest_grade_is_per_patient_across_episodes_with_none_kept() -> None:
    cohort = [treated(1, crs(1), crs(3)), treated(2, crs(1)), treated(3)]
    grades = {g.grade: (g.count, g.patient_ids) for g in max_grades(cohort, CRS)}
    assert grades == {"none": (1, (3,)), 1: (1, (2,)), 2: (0, ()), 3: (1, (1,)), 4: (0, ())}


def test_onset_to_first_tocilizumab_is_median_and_range_over_crs_episodes_given_it() -> None:
    cohort = [
        treated(1, crs(2, toci_hours=2), crs(1)),
        treated(2, crs(3, toci_hours=10)),
        treated(3, crs(2, toci_hours=4.5), icans(2)),
    ]
    spread = hours_to_tocilizumab(cohort)
    assert (spread.n, spread.of) == (3, 4)
    assert (spread.median, spread.low, spread.high) == (4.5, 2, 10)
    assert spread.patient_ids == (1, 2, 3)


def test_steroid_exposure_counts_patients_and_days_per_episode_for_crs_or_icans() -> None:
    cohort = [
        treated(1, crs(2, steroid_days=3), icans(3, steroid_days=5)),
        treated(2, crs(1)),
        treated(3, icans(2, steroid_days=1)),
    ]
    patients, days = steroid_exposure(cohort)
    assert (patients.count, patients.n, patients.patient_ids) == (2, 3, (1, 3))
    assert (days.n, days.of, days.median, days.low, days.high) == (3, 4, 3, 1, 5)


def test_icu_transfers_count_patients_moved_during_an_episode() -> None:
    cohort = [treated(1, crs(3, icu=True), crs(4, icu=True)), treated(2, crs(1))]
    assert (icu_transfers(cohort).count, icu_transfers(cohort).n) == (1, 2)


def test_zero_is_shown_as_zero_and_an_empty_row_has_no_percentage() -> None:
    [row] = by_product([treated(1), treated(2)])
    assert (row.crs.count, row.crs.percent) == (0, 0)
    assert row.tocilizumab_hours.median is None
    assert row.rounds.percent is None


def test_open_episodes_are_counted_so_the_figures_read_as_provisional() -> None:
    closed = episode(CRS, T0, 2, resolved_at=T0 + 50 * H)
    cohort = [treated(1, closed, icans(1)), treated(2, crs(1))]
    assert figures(cohort).open_episodes == 2


def test_rows_are_per_product_by_name_then_all_products() -> None:
    cohort = [
        treated(1, crs(1), product="Tisagenlecleucel (Kymriah)"),
        treated(2, product="Axicabtagene ciloleucel (Yescarta)"),
        treated(3, crs(2), product="Axicabtagene ciloleucel (Yescarta)"),
    ]
    rows = by_product(cohort)
    assert [(r.product, r.n, r.crs.count) for r in rows] == [
        ("Axicabtagene ciloleucel (Yescarta)", 2, 1),
        ("Tisagenlecleucel (Kymriah)", 1, 1),
        (ALL_PRODUCTS, 3, 2),
    ]
    assert rows[-1].is_total


def test_one_product_has_no_separate_all_products_row() -> None:
    assert [r.product for r in by_product([treated(1), treated(2)])] == [
        "Axicabtagene ciloleucel (Yescarta)"
    ]


def test_compliance_adds_up_the_due_times_of_every_patient_of_the_row() -> None:
    late = Due("round", T0, T0 + 12 * H, T0 + 13 * H)
    kept = Due("round", T0, T0 + 12 * H, T0 + 11 * H)
    ice = Due("ice", T0, T0 + 12 * H, None)
    [row] = by_product([treated(1, dues=[late, kept]), treated(2, dues=[kept, ice])])
    assert (row.rounds.on_time, row.rounds.due, row.rounds.percent) == (2, 3, 67)
    assert (row.ice.on_time, row.ice.due) == (0, 1)


def test_grade_bars_fill_each_product_bar_in_proportion_to_its_patients() -> None:
    cohort = [treated(1, crs(1)), treated(2, crs(3)), treated(3), treated(4)]
    chart = figures(cohort).grade_charts[0]
    [bar] = chart.rows
    widths = {s.label: s.width for s in bar.segments}
    assert widths["No CRS"] == BAR_WIDTH / 2
    assert widths["Grade 1"] == widths["Grade 3"] == BAR_WIDTH / 4
    assert widths["Grade 2"] == 0
    assert bar.summary.endswith("no crs 2, grade 1 1, grade 3 1")


def test_compliance_bars_split_due_times_into_on_time_late_and_never_recorded() -> None:
    dues = [
        Due("round", T0, T0 + 12 * H, T0 + 11 * H),
        Due("round", T0, T0 + 12 * H, T0 + 14 * H),
        Due("round", T0, T0 + 12 * H, None),
        Due("round", T0, T0 + 12 * H, T0 + 12 * H),
    ]
    [rounds, _ice] = figures([treated(1, dues=dues)]).compliance_charts
    [bar] = rounds.rows
    assert [(s.label, s.count, s.width) for s in bar.segments] == [
        ("On time", 2, BAR_WIDTH / 2),
        ("Late", 1, BAR_WIDTH / 4),
        ("Never recorded", 1, BAR_WIDTH / 4),
    ]
    assert bar.summary.endswith("(n = 4 due): on time 2, late 1, never recorded 1")


def test_hour_axis_starts_at_zero_and_covers_every_value() -> None:
    assert hour_scale([2, 11, 4.5]) == (0, 12, 2)
    assert hour_scale([]) == (0, 1, 1)
    start, end, step = hour_scale([30, 100])
    assert start == 0 and end >= 100 and (end - start) / step <= 6


def test_the_tocilizumab_dots_sit_on_the_hour_axis() -> None:
    chart = figures([treated(1, crs(2, toci_hours=6)), treated(2, crs(2, toci_hours=12))])
    dots = chart.tocilizumab
    [row] = dots.rows
    first, last = dots.ticks[0], dots.ticks[-1]
    assert [d.x for d in row.dots] == [(first.x + last.x) / 2, last.x]
    assert row.median == 9


# -- the page ---------------------------------------------------------------------


def day_start(day: date) -> datetime:
    return Exposure(day0=day).day0_start()


def with_rounds(mrn: str, day0: date, hours: list[float], user, **extra):
    """A patient on CAR-T with NEWS2-0 rounds at these hours after day 0."""
    patient = make_patient(mrn=mrn, day0=day0, **extra)
    start = day_start(day0)
    for h in hours:
        recording.record_round(
            patient, {"clinical_time": start + h * H, **NORMAL}, user, uuid.uuid4()
        )
    return patient


@pytest.fixture
def carla(db):
    return make_user("carla", "clinician")


def get(client, **params):
    return client.get(reverse("programme"), params)


def test_it_shows_rounds_recorded_by_their_due_time_per_product(client, carla) -> None:
    # Day 0 was 20 days ago: the US CAR-T plan (to Day +14) has ended.
    day0 = timezone.localdate() - timedelta(days=20)
    # 31 h is an hour late; the round due at 55 h, on Day +2 of the plan's
    # 14 days of monitoring, never came.
    with_rounds("MRN1", day0, [6, 18, 31, 43], carla)
    client.force_login(carla)
    response = get(client)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Axicabtagene ciloleucel (Yescarta)" in page
    assert "2 of 4 rounds (50 %); 1 late, 1 never recorded" in page
    assert "12 hours after the last one" in page
    # The CSV carries the page's late and never-recorded counts too.
    [line] = csv.DictReader(io.StringIO(client.get(reverse("programme_csv")).content.decode()))
    assert (line["rounds_due"], line["rounds_late"], line["rounds_never_recorded"]) == (
        "4",
        "1",
        "1",
    )
    assert "ice_checks_late" in line and "ice_checks_never_recorded" in line


def test_a_lab_result_entered_on_its_own_is_not_an_observation_round(client, carla) -> None:
    # Same rounds as above, plus a CRP-only lab entry at 29 h (before the
    # round due at 30 h came at 31 h): it is neither a round due nor the
    # round that was due.
    day0 = timezone.localdate() - timedelta(days=20)
    patient = with_rounds("MRN1", day0, [6, 18, 31, 43], carla)
    recording.record_round(
        patient, {"clinical_time": day_start(day0) + 29 * H, "crp_mg_l": 40.0}, carla, uuid.uuid4()
    )
    client.force_login(carla)
    page = get(client).content.decode()
    assert "2 of 4 rounds (50 %); 1 late, 1 never recorded" in page


def test_the_cohort_is_treatments_with_day_0_in_the_period(client, carla) -> None:
    today = timezone.localdate()
    with_rounds("IN", today - timedelta(days=30), [6, 18], carla)
    with_rounds("OUT", today - timedelta(days=400), [6, 18], carla)
    client.force_login(carla)
    page = get(client).content.decode()
    assert "1 treatment</strong>" in page
    start = (today - timedelta(days=500)).isoformat()
    page = get(client, start=start, end=today.isoformat()).content.decode()
    assert "2 treatments</strong>" in page


def test_a_period_without_treatments_says_so(client, carla) -> None:
    client.force_login(carla)
    page = get(client, start="2020-01-01", end="2020-12-31").content.decode()
    assert "No CAR-T or bispecific treatment has its day 0 in this period." in page
    assert "0 treatments</strong>" in page


def test_the_default_period_is_the_last_12_months(client, carla) -> None:
    client.force_login(carla)
    form = get(client).context["form"]
    today = timezone.localdate()
    assert form.cleaned_data["end"] == today
    assert (today - form.cleaned_data["start"]).days in (364, 365)


def give(patient, user, kind: str, at: datetime, **extra) -> None:
    values = {"kind": kind, "given_at": at, "indication": "crs", **extra}
    recording.record_intervention(patient, values, user, uuid.uuid4())


def test_crs_treatment_and_intensive_care_come_from_the_episode_summaries(client, carla) -> None:
    day0 = timezone.localdate() - timedelta(days=20)
    onset = day_start(day0) + 48 * H
    ill = with_rounds("CRS1", day0, [6, 18, 30], carla, family_name="Curie")
    for h in (0, 4, 8):  # fever: ASTCT grade 1 CRS from 48 h
        recording.record_round(
            ill,
            {"clinical_time": onset + h * H, **NORMAL, "temperature_c": 38.8},
            carla,
            uuid.uuid4(),
        )
    give(ill, carla, "tocilizumab", onset + 3 * H, drug="tocilizumab", dose="8 mg/kg")
    give(ill, carla, "corticosteroid", onset + 5 * H, drug="dexamethasone", dose="10 mg")
    give(ill, carla, "corticosteroid", onset + 29 * H, drug="dexamethasone", dose="10 mg")
    give(ill, carla, "icu_transfer", onset + 6 * H)
    with_rounds("WELL", day0, [6, 18, 30], carla, family_name="Well")
    client.force_login(carla)
    [row] = get(client).context["rows"]
    assert (row.crs.count, row.crs.n) == (1, 2)
    assert [(g.label, g.count) for g in row.crs_grades][:2] == [("No CRS", 1), ("Grade 1", 1)]
    assert (row.tocilizumab_hours.median, row.tocilizumab_hours.of) == (3, 1)
    # Doses on Day +2 and Day +3: 2 calendar days of exposure.
    assert (row.steroids.count, row.steroid_days.median) == (1, 2)
    assert row.icu.count == 1
    page = get(client, who="crs").content.decode()
    assert "1</a> of 2 (50 %)" in page
    assert "3.0 h (3.0 to 3.0)" in page
    assert "CURIE, Ada" in page and "WELL, Ada" not in page
    assert "1 CRS or ICANS episode is still open" in page
    line = next(csv.DictReader(io.StringIO(client.get(reverse("programme_csv")).content.decode())))
    assert (line["crs_patients"], line["crs_highest_grade_1"], line["icu_patients"]) == (
        "1",
        "1",
        "1",
    )
    assert line["onset_to_first_tocilizumab_hours_median"] == "3.0"

    # The registry's episode lines for the same period are one link away.
    link = re.search(r'href="(/programme/episodes\.csv\?[^"]+)"', page).group(1)
    episodes = client.get(link.replace("&amp;", "&"))
    assert episodes.status_code == 200
    assert len(list(csv.DictReader(io.StringIO(b"".join(episodes).decode())))) == 1
    # With a product chosen, the link keeps it: that product's episodes only.
    for product, lines in (("axi-cel", 1), ("tisa-cel", 0)):
        page = get(client, product=product).content.decode()
        link = re.search(r'href="(/programme/episodes\.csv\?[^"]+)"', page).group(1)
        assert f"product={product}" in link
        episodes = client.get(link.replace("&amp;", "&"))
        assert len(list(csv.DictReader(io.StringIO(b"".join(episodes).decode())))) == lines
    bad = client.get(reverse("episodes_csv"), {"product": "<script>"})
    assert bad.status_code == 400 and b"product:" in bad.content


ICE_10 = {
    "ice_orientation": 4,
    "ice_naming": 3,
    "ice_commands": 3,
    "ice_writing": 1,
    "ice_attention": 1,
}


def test_ice_checks_follow_the_window_after_a_bispecific_step_up_dose(client, carla) -> None:
    # Teclistamab US label: 48 h in hospital after each step-up dose
    # (REFERENCE k8); the ICE schedule follows that window (local policy).
    day0 = timezone.localdate() - timedelta(days=20)
    patient = make_patient(mrn="TEC1", kind="bispecific", day0=day0)
    Exposure.objects.filter(patient=patient).update(agent="teclistamab")
    start = day_start(day0)
    recording.record_dose(
        patient, {"step": "SUD1", "given_at": start + 8 * H}, carla, uuid.uuid4()
    )
    for h, ice in ((10, ICE_10), (22, {}), (34, ICE_10)):
        values = {"clinical_time": start + h * H, **NORMAL, **ice}
        recording.record_round(patient, values, carla, uuid.uuid4())
    client.force_login(carla)
    [row] = get(client).context["rows"]
    assert row.product == "Teclistamab (Tecvayli)"
    # Due at 22 h, checked at 34 h (late); due at 46 h, inside the window
    # that ends at 56 h, never checked.
    assert (row.ice.on_time, row.ice.due) == (0, 2)
    # 10 -> 22 -> 34 on time; the round due at 46 h never came.
    assert (row.rounds.on_time, row.rounds.due) == (2, 3)


def test_a_product_filter_keeps_only_that_products_treatments(client, carla) -> None:
    day0 = timezone.localdate() - timedelta(days=20)
    with_rounds("A1", day0, [6, 18], carla)
    other = with_rounds("T1", day0, [6, 18], carla)
    Exposure.objects.filter(patient=other).update(agent="tisagenlecleucel")
    client.force_login(carla)
    rows = get(client).context["rows"]
    assert [r.product for r in rows] == [
        "Axicabtagene ciloleucel (Yescarta)",
        "Tisagenlecleucel (Kymriah)",
        ALL_PRODUCTS,
    ]
    rows = get(client, product="tisa-cel").context["rows"]
    assert [(r.product, r.n) for r in rows] == [("Tisagenlecleucel (Kymriah)", 1)]


def test_products_not_in_the_catalogue_share_one_row_and_filter(client, carla) -> None:
    day0 = timezone.localdate() - timedelta(days=20)
    with_rounds("A1", day0, [6, 18], carla)
    novel = with_rounds("N1", day0, [6, 18], carla, family_name="Noether")
    Exposure.objects.filter(patient=novel).update(agent="an investigational CAR-T")
    client.force_login(carla)
    assert [r.product for r in get(client).context["rows"]][1] == "Products not in the catalogue"
    page = get(client, product="other", who="crs-none").content.decode()
    assert "Patients with no CRS" in page and "NOETHER, Ada" in page
    assert "LOVELACE" not in page


def test_each_treatment_is_followed_from_its_day_0_to_the_next(client, carla) -> None:
    # CAR-T on day 0, teclistamab ten days later: two treatments, each with
    # its own rounds; the rounds before the first day 0 belong to neither.
    first = timezone.localdate() - timedelta(days=30)
    patient = with_rounds("TWO", first, [-30, -18, 6, 18, 240 + 6, 240 + 18], carla)
    Exposure.objects.create(
        patient=patient, kind="bispecific", agent="teclistamab", day0=first + timedelta(days=10)
    )
    client.force_login(carla)
    rows = {r.product: r for r in get(client).context["rows"]}
    car_t, tec = rows["Axicabtagene ciloleucel (Yescarta)"], rows["Teclistamab (Tecvayli)"]
    assert (car_t.n, tec.n, rows[ALL_PRODUCTS].n) == (1, 1, 2)
    # CAR-T: 6 -> 18 on time; 18 -> the next due at 30 h, inside the plan's
    # 14 days, never came (the next round is the bispecific's).
    assert (car_t.rounds.on_time, car_t.rounds.due, car_t.rounds.missed) == (1, 2, 1)
    # Teclistamab, no doses recorded: no plan window, so only 246 -> 258 h.
    assert (tec.rounds.on_time, tec.rounds.due) == (1, 1)


def test_rounds_entered_in_error_are_not_counted(client, carla) -> None:
    day0 = timezone.localdate() - timedelta(days=20)
    patient = with_rounds("E1", day0, [6, 18, 30], carla)
    wrong = patient.rounds.order_by("clinical_time")[1]
    recording.mark_round_in_error(wrong, carla, "wrong patient")
    client.force_login(carla)
    page = get(client).content.decode()
    # Without the round at 18 h, the one at 30 h came 12 h after its due
    # time, and the one due at 42 h (inside the plan) never came.
    assert "0 of 2 rounds (0 %)" in page


def test_the_patients_behind_a_count_are_listed_and_the_viewing_is_audited(client, carla) -> None:
    day0 = timezone.localdate() - timedelta(days=20)
    patient = with_rounds("L1", day0, [6, 18], carla, family_name="Hopper", given_name="Grace")
    client.force_login(carla)
    page = get(client, who="patients").content.decode()
    assert "HOPPER, Grace" in page
    assert reverse("patient", args=[patient.pk]) in page
    event = AuditEvent.objects.filter(action="programme_viewed").latest("at")
    assert event.detail["shown"] == [patient.pk]
    assert event.user == carla


def test_an_end_before_the_start_is_a_field_error_keeping_the_dates(client, carla) -> None:
    client.force_login(carla)
    response = get(client, start="2026-05-01", end="2026-04-01")
    assert response.status_code == 200
    page = response.content.decode()
    assert "The end date is before the start date." in page
    assert 'value="2026-05-01"' in page


def test_nonsense_filters_are_field_errors_not_failures(client, carla) -> None:
    client.force_login(carla)
    response = get(client, start="yesterday", product="no-such", who="<script>")
    assert response.status_code == 200
    assert "Enter a valid date." in response.content.decode()
    response = client.get(reverse("programme_csv"), {"start": "yesterday"})
    assert response.status_code == 400
    # A count link tampered with still shows the figures, listing nobody.
    response = get(client, who="<script>")
    assert response.context["rows"] is not None and "listed" not in response.context


def test_nurses_do_not_see_the_programme_link(client, carla) -> None:
    nurse = make_user("nina", "nurse")
    client.force_login(nurse)
    assert reverse("programme") not in client.get(reverse("about")).content.decode()
    client.force_login(carla)
    assert reverse("programme") in client.get(reverse("about")).content.decode()


def test_the_csv_has_one_line_per_table_row_and_is_audited(client, carla) -> None:
    day0 = timezone.localdate() - timedelta(days=20)
    with_rounds("C1", day0, [6, 18, 31, 43], carla)
    client.force_login(carla)
    response = client.get(reverse("programme_csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(response.content.decode())))
    [line] = lines
    assert line["product"] == "Axicabtagene ciloleucel (Yescarta)"
    assert (line["patients"], line["rounds_due"], line["rounds_on_time"]) == ("1", "4", "2")
    assert line["rounds_on_time_percent"] == "50"
    assert AuditEvent.objects.filter(action="programme_exported", user=carla).exists()


@pytest.mark.parametrize("patients", [2, 6])
def test_the_page_reads_a_fixed_number_of_queries_whatever_the_cohort(
    client, carla, django_assert_num_queries, patients
) -> None:
    day0 = timezone.localdate() - timedelta(days=20)
    for i in range(patients):
        with_rounds(f"Q{i}", day0, [6, 18], carla)
    # A bispecific with a dose: its window is read with the rest.
    tec = with_rounds("TEC", day0, [6, 18], carla, kind="bispecific")
    Exposure.objects.filter(patient=tec).update(agent="teclistamab")
    recording.record_dose(tec, {"step": "SUD1", "given_at": day_start(day0)}, carla, uuid.uuid4())
    client.force_login(carla)
    # The cached figures are keyed on the minute: both views in one.
    start_of_a_minute()
    # The patients listed behind a count come with the cohort.
    with django_assert_num_queries(QUERIES):
        response = get(client, who="patients")
    assert len(response.context["listed"]) == patients + 1
    # Within the minute and with nothing changed, the figures come from
    # the cache: the cohort's rounds are not read again.
    with django_assert_num_queries(CACHED):
        again = get(client, who="patients")
    assert again.context["rows"] == response.context["rows"]


# Session, user, permissions (4); the change stamps (2: status rows,
# treatments); cohort, later treatments, doses, rounds (4); episode
# summaries (4: exposures, rounds, interventions, doses); the patients
# listed (1); the audit event and the session's idle clock (4).
QUERIES = 19
# A cached period: session, user (2; the permissions come from the cache);
# the change stamps (2); the patients listed (1); the audit event (1; the
# idle clock was written by the first view).
CACHED = 6


def test_a_new_round_shows_in_the_figures_at_once(client, carla) -> None:
    # The figures are cached, but never across a change: a round recorded
    # (which rewrites the patient's status row) is counted on the next view.
    day0 = timezone.localdate() - timedelta(days=20)
    patient = with_rounds("NEW", day0, [6], carla)
    client.force_login(carla)
    before = get(client).context["rows"][-1].rounds.on_time
    recording.record_round(
        patient, {"clinical_time": day_start(day0) + 18 * H, **NORMAL}, carla, uuid.uuid4()
    )
    after = get(client).context["rows"][-1].rounds.on_time
    assert after == before + 1
