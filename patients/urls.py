from django.urls import path

from . import escalation_views, programme_views, views
from .episode_views import episodes_csv
from .fhir import pages as fhir_pages

urlpatterns = [
    path("", views.queue, name="queue"),
    path("healthz", views.healthz, name="healthz"),
    path("session/keepalive/", views.session_keepalive, name="session_keepalive"),
    path("session/status/", views.session_status, name="session_status"),
    path("about/", views.about, name="about"),
    path("audit/", views.audit_log, name="audit_log"),
    path("audit.csv", views.audit_csv, name="audit_csv"),
    path("service-tokens/", fhir_pages.service_tokens, name="service_tokens"),
    path("service-tokens/revoke/", fhir_pages.service_token_revoke, name="service_token_revoke"),
    path("patients/", views.patient_list, name="patient_list"),
    path("patients/new/", views.patient_create, name="patient_create"),
    path("patients/<int:pk>/", views.patient_detail, name="patient"),
    path("handover/", views.handover, name="handover"),
    path("programme/", programme_views.programme, name="programme"),
    path("programme.csv", programme_views.programme_csv, name="programme_csv"),
    path("patients/<int:pk>/handover/", views.patient_handover, name="patient_handover"),
    path("patients/<int:pk>/rounds.csv", views.rounds_csv, name="rounds_csv"),
    path("patients/<int:pk>/rounds/new/", views.round_create, name="round_create"),
    path("patients/<int:pk>/rounds/draft/", views.round_draft, name="round_draft"),
    path(
        "patients/<int:pk>/rounds/draft/discard/",
        views.round_draft_discard,
        name="round_draft_discard",
    ),
    path("patients/<int:pk>/labs/new/", views.lab_create, name="lab_create"),
    path("patients/<int:pk>/rounds/<int:round_pk>/", views.round_detail, name="round_detail"),
    path(
        "patients/<int:pk>/rounds/<int:round_pk>/result/",
        views.round_result,
        name="round_result",
    ),
    path(
        "patients/<int:pk>/rounds/<int:round_pk>/entered-in-error/",
        views.round_correct,
        name="round_correct",
    ),
    path(
        "patients/<int:pk>/interventions/new/",
        views.intervention_create,
        name="intervention_create",
    ),
    path(
        "patients/<int:pk>/interventions/<int:item_pk>/entered-in-error/",
        views.intervention_correct,
        name="intervention_correct",
    ),
    path("patients/<int:pk>/doses/new/", views.dose_create, name="dose_create"),
    path(
        "patients/<int:pk>/doses/<int:dose_pk>/entered-in-error/",
        views.dose_correct,
        name="dose_correct",
    ),
    path("patients/<int:pk>/flags/", views.flag_history, name="flag_history"),
    path(
        "patients/<int:pk>/flags/acknowledge/",
        views.flags_acknowledge,
        name="flags_acknowledge",
    ),
    path(
        "patients/<int:pk>/flags/<int:flag_pk>/acknowledge/",
        views.flag_acknowledge,
        name="flag_acknowledge",
    ),
    path(
        "patients/<int:pk>/flags/<int:flag_pk>/resolve/", views.flag_resolve, name="flag_resolve"
    ),
    path(
        "patients/<int:pk>/escalations/<int:esc_pk>/record/",
        escalation_views.bedside_record,
        name="escalation_bedside",
    ),
    path("patients/<int:pk>/concern/", escalation_views.raise_concern, name="raise_concern"),
    path("escalations/figures/", escalation_views.response_figures, name="response_figures"),
    path(
        "escalations/figures.csv",
        escalation_views.response_figures_csv,
        name="response_figures_csv",
    ),
    path("programme/episodes.csv", episodes_csv, name="episodes_csv"),
]
