"""Django admin: users are managed here; clinical rows are read-only.

Nothing clinical can be deleted or edited from the admin: corrections go
through the product's own "entered in error" path, which is audited.
"""

from __future__ import annotations

from django.contrib import admin

from .models import AuditEvent, Exposure, Flag, Intervention, ObservationRound, Patient


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Patient)
class PatientAdmin(ReadOnlyAdmin):
    list_display = ["mrn", "family_name", "given_name", "ward", "bed"]
    search_fields = ["mrn", "family_name", "given_name"]
    list_filter = ["ward"]


@admin.register(Exposure)
class ExposureAdmin(ReadOnlyAdmin):
    list_display = ["patient", "kind", "agent", "day0"]


@admin.register(ObservationRound)
class RoundAdmin(ReadOnlyAdmin):
    list_display = [
        "patient",
        "clinical_time",
        "entered_by",
        "crs_grade",
        "icans_grade",
        "news2_total",
        "status",
    ]
    list_filter = ["status"]
    list_select_related = ["patient", "entered_by"]


@admin.register(Intervention)
class InterventionAdmin(ReadOnlyAdmin):
    list_display = ["patient", "kind", "drug", "dose", "given_at", "recorded_by", "status"]
    list_select_related = ["patient", "recorded_by"]


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ["patient", "kind", "severity", "title", "state", "opened_at"]
    list_filter = ["state", "kind", "severity"]
    list_select_related = ["patient"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "action", "object_type", "object_id", "patient", "address"]
    list_filter = ["action", "object_type"]
    search_fields = ["user__username", "object_id"]
    list_select_related = ["user", "patient"]
