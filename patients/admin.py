"""Django admin: users are managed here; clinical rows are read-only.

Nothing clinical can be deleted or edited from the admin: corrections go
through the product's own "entered in error" path, which is audited.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin

from .escalation import trigger_error
from .models import (
    AuditEvent,
    EscalationContact,
    EscalationTier,
    EscalationTrigger,
    Exposure,
    Flag,
    Intervention,
    ObservationRound,
    Patient,
)


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


# -- escalation policy: edited by the admin role, every change audited -------


class PolicyAdmin(admin.ModelAdmin):
    """Policy rows are switched off, never deleted: past escalations name them."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        changed = [name for name in form.changed_data if name != "secret"]
        if "secret" in form.changed_data:
            changed.append("secret (changed)")
        AuditEvent.objects.create(
            user=request.user,
            action="escalation_policy_changed",
            object_type=type(obj).__name__,
            object_id=str(obj.pk),
            address=request.META.get("REMOTE_ADDR"),
            detail={"object": str(obj), "added": not change, "changed": changed},
        )


@admin.register(EscalationTier)
class EscalationTierAdmin(PolicyAdmin):
    list_display = ["position", "name", "label", "minutes", "minutes_confirmed", "active"]
    list_display_links = ["name"]
    ordering = ["position"]


class TriggerForm(forms.ModelForm):
    class Meta:
        model = EscalationTrigger
        fields = ["on", "tier", "minutes", "record_required", "basis", "active"]

    def clean_on(self) -> str:
        on = self.cleaned_data["on"].strip()
        error = trigger_error(on)
        if error:
            raise forms.ValidationError(error)
        return on


@admin.register(EscalationTrigger)
class EscalationTriggerAdmin(PolicyAdmin):
    form = TriggerForm
    list_display = ["on", "tier", "minutes", "record_required", "active"]
    list_filter = ["active", "tier"]


class ContactForm(forms.ModelForm):
    webhook = forms.URLField(required=False, max_length=500, assume_scheme="https")
    # Write-only: a saved secret is never shown back.
    secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave blank to keep the current secret.",
    )

    class Meta:
        model = EscalationContact
        fields = [
            "ward",
            "tier",
            "name",
            "email",
            "webhook",
            "secret",
            "include_identity",
            "active",
        ]

    def clean_secret(self) -> str:
        return self.cleaned_data["secret"] or (self.instance.secret if self.instance.pk else "")

    def clean(self):
        data = super().clean()
        if not data.get("email") and not data.get("webhook"):
            raise forms.ValidationError("A contact needs an e-mail address or a webhook.")
        if data.get("webhook") and not data.get("secret"):
            self.add_error("secret", "A webhook needs a secret to sign its posts.")
        return data


@admin.register(EscalationContact)
class EscalationContactAdmin(PolicyAdmin):
    form = ContactForm
    list_display = ["ward", "tier", "name", "email", "webhook", "include_identity", "active"]
    list_filter = ["active", "tier", "ward"]
