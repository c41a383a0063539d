"""Django admin: users are managed here; clinical rows are read-only.

Nothing clinical can be deleted or edited from the admin: corrections go
through the product's own "entered in error" path, which is audited. Every
admin change, and every admin view of a clinical row, is in the product's
audit trail. The ``admin`` role manages other users' accounts and unlocks
them, but can never raise its own rights, touch a superuser, or grant
superuser status.
"""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from axes.utils import reset as reset_lockout
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

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
from .recording import audit
from .roles import CLINICAL_ROLES
from .security import client_address


def admin_audit(request, action: str, obj, patient=None, **detail) -> None:
    audit(request.user, action, obj, patient, client_address(request), **detail)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Clinical rows: readable by superusers, each view audited."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if getattr(response, "status_code", None) == 200:
            admin_audit(
                request,
                "admin_list_viewed",
                self.model(pk="list"),
                query=request.GET.urlencode()[:500],
            )
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = self.get_object(request, object_id)
        if obj is not None and getattr(response, "status_code", None) == 200:
            patient = obj if isinstance(obj, Patient) else getattr(obj, "patient", None)
            admin_audit(request, "admin_record_viewed", obj, patient)
        return response


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
        "entered_by_name",
        "crs_grade",
        "icans_grade",
        "news2_total",
        "status",
    ]
    list_filter = ["status"]
    list_select_related = ["patient"]


@admin.register(Intervention)
class InterventionAdmin(ReadOnlyAdmin):
    list_display = ["patient", "kind", "drug", "dose", "given_at", "recorded_by_name", "status"]
    list_select_related = ["patient"]


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ["patient", "kind", "severity", "title", "state", "opened_at"]
    list_filter = ["state", "kind", "severity"]
    list_select_related = ["patient"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "user_name", "action", "object_type", "object_id", "patient", "address"]
    list_filter = ["action", "object_type"]
    search_fields = ["user_name", "user__username", "object_id"]
    list_select_related = ["patient"]


def account_state(user: User) -> dict:
    return {
        "username": user.get_username(),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "roles": sorted(user.groups.values_list("name", flat=True)),
    }


ROLE_FIELDS = ("is_staff", "is_superuser", "roles")


admin.site.unregister(User)


@admin.register(User)
class AuditedUserAdmin(UserAdmin):
    """User accounts, managed by the ``admin`` role within fixed limits."""

    actions = ["unlock_accounts"]

    def get_readonly_fields(self, request, obj=None):
        fixed = list(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return fixed
        # Superuser status and raw permissions are for superusers only; and
        # nobody but a superuser changes their own roles or active state.
        fixed += ["is_superuser", "user_permissions", "last_login", "date_joined"]
        if obj is not None and obj.pk == request.user.pk:
            fixed += ["groups", "is_staff", "is_active"]
        return fixed

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False  # else its password could be reset and taken over
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Accounts author clinical records: deactivate, never delete.
        return False

    def save_model(self, request, obj, form, change) -> None:
        if change:
            request._account_before = account_state(User.objects.get(pk=obj.pk))
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        user = form.instance
        after = account_state(user)
        if not change:
            admin_audit(request, "user_created", user, **after)
            return
        before = getattr(request, "_account_before", after)
        changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if "username" in changed:
            admin_audit(
                request,
                "user_renamed",
                user,
                **{"from": before["username"], "to": after["username"]},
            )
        roles = {k: v for k, v in changed.items() if k in ROLE_FIELDS}
        if roles:
            granted = sorted(set(after["roles"]) - set(before["roles"]))
            admin_audit(
                request,
                "user_roles_changed",
                user,
                username=after["username"],
                granted=granted,
                removed=sorted(set(before["roles"]) - set(after["roles"])),
                clinical_role_granted=bool(set(granted) & CLINICAL_ROLES),
                changes=roles,
            )
        if "is_active" in changed:
            action = "user_reactivated" if after["is_active"] else "user_deactivated"
            admin_audit(request, action, user, username=after["username"])
        rest = {
            k: v for k, v in changed.items() if k not in {*ROLE_FIELDS, "username", "is_active"}
        }
        if rest:
            admin_audit(request, "user_changed", user, username=after["username"], changes=rest)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = User.objects.get(pk=id)
            admin_audit(
                request,
                "user_password_reset",
                user,
                username=user.get_username(),
                usable=user.has_usable_password(),
            )
        return response

    @admin.action(
        description="Unlock the selected accounts (failed logins)", permissions=["change"]
    )
    def unlock_accounts(self, request, queryset) -> None:
        for user in queryset:
            cleared = reset_lockout(username=user.get_username())
            admin_audit(
                request,
                "account_unlocked",
                user,
                username=user.get_username(),
                failed_attempts_cleared=cleared,
            )
        messages.success(request, f"Unlocked {len(queryset)} account(s).")


admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AuditedAccessAttemptAdmin(AccessAttemptAdmin):
    """Failed-login records: deleting one unlocks; that is audited too."""

    def delete_model(self, request, obj) -> None:
        admin_audit(request, "account_unlocked", obj, username=obj.username, client=obj.ip_address)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            admin_audit(
                request, "account_unlocked", obj, username=obj.username, client=obj.ip_address
            )
        super().delete_queryset(request, queryset)


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
        admin_audit(
            request,
            "escalation_policy_changed",
            obj,
            object=str(obj),
            added=not change,
            changed=changed,
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
