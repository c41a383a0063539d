from django.urls import path

from . import views

urlpatterns = [
    path("", views.bundle_post, name="fhir_bundle"),
    path("Patient", views.patient_search, name="fhir_patient_search"),
    path("Patient/<str:pk>/$everything", views.patient_everything, name="fhir_everything"),
]
