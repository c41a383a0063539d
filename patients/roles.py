"""The three roles and what each may do; created by a data migration."""

from __future__ import annotations

# Roles that open patient records; never self-granted (see admin.py).
CLINICAL_ROLES = {"nurse", "clinician"}

ROLES = {
    "nurse": [
        "patients.view_patient",
        "patients.add_patient",
        "patients.add_observationround",
        "patients.view_flag",
    ],
    "clinician": [
        "patients.view_patient",
        "patients.add_patient",
        "patients.add_observationround",
        "patients.view_flag",
        "patients.change_flag",
        "patients.add_intervention",
        "patients.correct_record",
    ],
    "admin": [
        "patients.view_auditevent",
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.view_group",
    ],
}


def ensure_roles(group_model, permission_model) -> None:
    """Create the role groups with their permissions (idempotent)."""
    for role, perms in ROLES.items():
        group, _ = group_model.objects.get_or_create(name=role)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                permission_model.objects.get(content_type__app_label=app_label, codename=codename)
            )
