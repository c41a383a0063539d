"""Every URL, every role: what each may reach is enforced on the server."""

from __future__ import annotations

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from patients import recording
from patients.models import Escalation, Flag, ObservationRound

from .conftest import NORMAL, ago, make_user

ARGS = {"pk", "round_pk", "flag_pk", "item_pk", "esc_pk", "dose_pk"}


def patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            if str(p.pattern).startswith("admin/"):
                continue  # Django's admin has its own checks (staff only)
            yield from patterns(p, prefix + str(p.pattern))
        elif isinstance(p, URLPattern) and p.name:
            yield p.name, list(p.pattern.converters)


@pytest.fixture
def world(db):
    from .conftest import make_patient

    nurse = make_user("nina", "nurse")
    patient = make_patient()
    recording.record_round(
        patient, {"clinical_time": ago(hours=2), **NORMAL, "acvpu": "C"}, nurse, uuid.uuid4()
    )
    item, _ = recording.record_intervention(
        patient,
        {"kind": "antipyretic", "drug": "paracetamol", "given_at": ago(hours=1)},
        make_user("carla", "clinician"),
        uuid.uuid4(),
    )
    dose, _ = recording.record_dose(
        patient,
        {"step": "other", "dose": "", "given_at": ago(hours=3), "note": ""},
        make_user("cleo", "clinician"),
        uuid.uuid4(),
    )
    return {
        "pk": patient.pk,
        "dose_pk": dose.pk,
        "round_pk": ObservationRound.objects.get().pk,
        "flag_pk": Flag.objects.first().pk,
        "item_pk": item.pk,
        # New confusion is a red flag: the default policy escalates it.
        "esc_pk": Escalation.objects.get().pk,
    }


def url_for(name, converters, world) -> str:
    return reverse(name, kwargs={c: world[c] for c in converters})


ALL = list(patterns())
# name -> roles that may GET it (POST-only views: roles that may POST)
ALLOWED = {
    "queue": {"nurse", "clinician"},
    "about": {"nurse", "clinician"},
    "patient_list": {"nurse", "clinician"},
    "patient_create": {"nurse", "clinician"},
    "patient": {"nurse", "clinician"},
    "round_create": {"nurse", "clinician"},
    "round_detail": {"nurse", "clinician"},
    "round_result": {"nurse", "clinician"},
    "round_draft": {"nurse", "clinician"},
    "round_draft_discard": {"nurse", "clinician"},
    "lab_create": {"nurse", "clinician"},
    "session_keepalive": {"nurse", "clinician", "admin"},
    "session_status": {"nurse", "clinician", "admin"},
    "flag_history": {"nurse", "clinician"},
    "rounds_csv": {"nurse", "clinician"},
    "handover": {"nurse", "clinician"},
    "patient_handover": {"nurse", "clinician"},
    "round_correct": {"clinician"},
    "intervention_create": {"clinician"},
    "intervention_correct": {"clinician"},
    "dose_correct": {"clinician"},
    "dose_create": {"clinician"},
    "flag_acknowledge": {"clinician"},
    "flags_acknowledge": {"clinician"},
    "flag_resolve": {"clinician"},
    "audit_log": {"admin"},
    "escalation_bedside": {"nurse", "clinician"},
    "raise_concern": {"nurse", "clinician"},
    "response_figures": {"nurse", "clinician", "admin"},
    "response_figures_csv": {"nurse", "clinician", "admin"},
    "programme": {"clinician"},
    "programme_csv": {"clinician"},
    "audit_csv": {"admin"},
    "episodes_csv": {"clinician"},
    "service_tokens": {"admin"},
    "service_token_revoke": {"admin"},
    # FHIR endpoints answer 401/403 OperationOutcomes, not login redirects;
    # test_fhir_access covers tokens and sessions.
    "fhir_everything": {"nurse", "clinician"},
    "fhir_patient_search": set(),
    "fhir_bundle": set(),
    "password_change": {"nurse", "clinician", "admin"},
    "login": {"anonymous", "nurse", "clinician", "admin"},
    "healthz": {"anonymous", "nurse", "clinician", "admin"},
    "logout": {"nurse", "clinician", "admin"},
}
POST_ONLY = {
    "flag_acknowledge",
    "flags_acknowledge",
    "flag_resolve",
    "logout",
    "round_draft",
    "round_draft_discard",
    "session_keepalive",
    "escalation_bedside",
    "raise_concern",
    "service_token_revoke",
}
FHIR = {"fhir_everything", "fhir_patient_search", "fhir_bundle"}


def test_every_named_url_has_an_access_rule() -> None:
    assert {name for name, _ in ALL} == set(ALLOWED)


@pytest.mark.parametrize(("name", "converters"), ALL, ids=[n for n, _ in ALL])
def test_anonymous_users_are_sent_to_login(client, world, name, converters) -> None:
    if name in {"login", "healthz"}:
        assert client.get(url_for(name, converters, world)).status_code == 200
        return
    url = url_for(name, converters, world)
    if name in FHIR:
        assert client.get(url).status_code in {401, 405}
        return
    response = client.post(url) if name in POST_ONLY else client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("role", ["nurse", "clinician", "admin"])
@pytest.mark.parametrize(("name", "converters"), ALL, ids=[n for n, _ in ALL])
def test_each_role_gets_only_what_it_may(client, world, role, name, converters) -> None:
    if name in {"login", "logout", "healthz"} | FHIR:
        return  # open to all, ends the session, or FHIR (test_fhir_access)
    user = make_user(f"{role}-x", role)
    client.force_login(user)
    url = url_for(name, converters, world)
    if name in POST_ONLY:
        response = client.post(url, {"note": "seen", "reason": "done"})
        allowed = response.status_code in {200, 302}
    elif name == "queue" and role == "admin":
        # Administrators land on the audit trail instead of clinical pages.
        assert client.get(url)["Location"] == reverse("audit_log")
        return
    else:
        response = client.get(url)
        allowed = response.status_code == 200
    assert allowed == (role in ALLOWED[name]), response.status_code
    if not allowed:
        assert response.status_code == 403


def test_nobody_deletes_clinical_records_in_the_admin(client, world) -> None:
    superuser = make_user("root", None)
    superuser.is_superuser = superuser.is_staff = True
    superuser.save()
    client.force_login(superuser)
    for model in ["patient", "observationround", "flag", "intervention", "auditevent"]:
        any_pk = {
            "patient": world["pk"],
            "observationround": world["round_pk"],
            "flag": world["flag_pk"],
        }.get(model)
        if any_pk:
            response = client.get(f"/admin/patients/{model}/{any_pk}/delete/")
            assert response.status_code == 403
        assert client.get(f"/admin/patients/{model}/add/").status_code == 403
